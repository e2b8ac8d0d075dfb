using BenchmarkDotNet.Running;
using LoopFulfil.Benchmarks.CommerceSync;

// Run: dotnet run -c Release --project LoopFulfil.Benchmarks -- --filter '*'
// Each benchmark class marks a baseline measured in the same run; report ratios, never absolute times.
// Load mode (minutes, against the sandboxes): ... -- commerce-backfill [--variants N] [--orders N] [--limit N]; see CommerceBackfillLoad.
if (args.Length > 0 && args[0] == "commerce-backfill")
{
    return await CommerceBackfillLoad.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
