using System.Diagnostics.CodeAnalysis;

// Test folders mirror Core's Loop/ folder; "Loop" being a VB keyword does not matter to a test assembly.
[assembly: SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Scope = "namespaceanddescendants", Target = "~N:LoopFulfil.Tests.Loop", Justification = "Mirrors LoopFulfil.Core.Loop.")]
