using System.Diagnostics.CodeAnalysis;

// "Loop" is a Visual Basic keyword, but it is the name of the API this folder simulates; no VB consumers.
[assembly: SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Scope = "namespaceanddescendants", Target = "~N:LoopFulfil.Sandbox.Loop", Justification = "Named after the Loop Returns API; no VB consumers.")]
