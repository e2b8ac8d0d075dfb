using System.Diagnostics.CodeAnalysis;

// "Loop" is a Visual Basic keyword, but it is the name of the system this folder talks to, and this library has no
// VB consumers; the folder-per-integration layout wins over CA1716 here.
[assembly: SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Scope = "namespaceanddescendants", Target = "~N:LoopFulfil.Core.Loop", Justification = "Named after the Loop Returns integration; no VB consumers.")]
