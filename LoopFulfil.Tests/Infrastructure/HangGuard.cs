namespace LoopFulfil.Tests.Infrastructure;

/// <summary>
/// The tests' one real-time limit. It only turns a hang into a failure: a passing test finishes long before it on any
/// machine, so no outcome depends on the machine's speed. Used where real parts run on real time (Azurite, the
/// in-process CLI host and its dispatcher, sandboxes over HTTP); code on a <c>FakeTimeProvider</c> needs none.
/// </summary>
internal static class HangGuard
{
    /// <summary>Generous on purpose: the machine may be slow and shared. Reaching it means something hung.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    // Polls are bounded by count; the pause between them only keeps a poll loop from spinning a core.
    private const int MaxPolls = 4_500;
    private static readonly TimeSpan PollPause = TimeSpan.FromMilliseconds(20);

    /// <summary><paramref name="task"/>, failing with <see cref="TimeoutException"/> if it hangs.</summary>
    public static Task Guarded(this Task task) => task.WaitAsync(Limit);

    /// <inheritdoc cref="Guarded(Task)"/>
    public static Task<T> Guarded<T>(this Task<T> task) => task.WaitAsync(Limit);

    /// <summary>Polls <paramref name="condition"/> until it holds; a bounded count of polls, then a failure naming <paramref name="what"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    /// <inheritdoc cref="UntilAsync(Func{bool}, string)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var polls = 0; !await condition(); polls++)
        {
            if (polls >= MaxPolls)
            {
                throw new TimeoutException("Timed out waiting for: " + what);
            }

            await Task.Delay(PollPause);
        }
    }
}
