using BenchmarkDotNet.Running;
using LoopFulfil.Benchmarks.CommerceSync;

// Run: dotnet run -c Release --project LoopFulfil.Benchmarks -- --filter '*'
// Each benchmark class marks a baseline measured in the same run; report ratios, never absolute times.
// Load mode (minutes, against the sandboxes): ... -- commerce-backfill [--variants N] [--orders N] [--limit N]; see CommerceBackfillLoad.
// Chaos run (issue 13 item 11; docs/benchmarks/chaos.md): ... -- chaos [--returns 1000] [--seed 1]; exits 1 on any duplicate,
// missing document or money difference.
if (args.Length > 0 && args[0] == "chaos")
{
    return await LoopFulfil.Chaos.ChaosCommand.RunAsync(args[1..], Console.Out, CancellationToken.None);
}

if (args.Length > 0 && args[0] == "commerce-backfill")
{
    return await CommerceBackfillLoad.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(LoopFulfil.Benchmarks.LoopReturnParsingBenchmarks).Assembly).Run(args);
return 0;
