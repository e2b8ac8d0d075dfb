using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project LoopFulfil.Benchmarks -- --filter '*'
// Each benchmark class marks a baseline measured in the same run; report ratios, never absolute times.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
