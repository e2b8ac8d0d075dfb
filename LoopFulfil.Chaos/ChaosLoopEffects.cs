using LoopFulfil.Sandbox.Loop;

namespace LoopFulfil.Chaos;

/// <summary>
/// What the integration wrote to Loop, per return, read from the Loop sandbox after the run: Process Return calls
/// Loop accepted, flags, and notes. A duplicate is any effect beyond the first of its kind: a second accepted process,
/// a second flag, the same note text twice, or a second write-back note (<c>LoopFulfil: return order …</c>) even
/// with other text.
/// </summary>
public sealed record ChaosLoopEffects(int Processes, int Flags, int Notes, int Duplicates, IReadOnlyList<string> Problems)
{
    /// <summary>How every write-back note starts (<c>WriteBackStage</c>): one per return.</summary>
    private const string WriteBackNotePrefix = "LoopFulfil: return order ";

    internal static ChaosLoopEffects Of(IReadOnlyList<ChaosReturn> returns, LoopSandbox loop, int maxProblems = 20)
    {
        int processes = 0, flags = 0, notes = 0, duplicates = 0;
        var problems = new List<string>();
        void Duplicate(int extra, string what)
        {
            duplicates += extra;
            if (problems.Count < maxProblems)
            {
                problems.Add(what);
            }
        }

        foreach (var r in returns)
        {
            var processCount = loop.ProcessCount(r.Id);
            var flagCount = loop.FlagCount(r.Id);
            var texts = loop.GetNotes(r.Id);
            (processes, flags, notes) = (processes + processCount, flags + flagCount, notes + texts.Count);
            if (processCount > 1)
            {
                Duplicate(processCount - 1, $"{processCount} × Loop process of return {r.Id}");
            }

            if (flagCount > 1)
            {
                Duplicate(flagCount - 1, $"{flagCount} × Loop flag of return {r.Id}");
            }

            foreach (var same in texts.GroupBy(t => t, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                Duplicate(same.Count() - 1, $"{same.Count()} × Loop note on return {r.Id}: {same.Key}");
            }

            var writeBacks = texts.Where(t => t.StartsWith(WriteBackNotePrefix, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).Count();
            if (writeBacks > 1)
            {
                Duplicate(writeBacks - 1, $"{writeBacks} different write-back notes on return {r.Id}");
            }
        }

        return new ChaosLoopEffects(processes, flags, notes, duplicates, problems);
    }
}
