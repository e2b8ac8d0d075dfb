namespace LoopFulfil.Core.Shadow;

/// <summary>
/// The Loop return the current pipeline pass is about, flowing with the async call so the write seam (an HTTP
/// handler, which sees only requests) can record which return a planned write belongs to.
/// </summary>
public static class ShadowScope
{
    private static readonly AsyncLocal<string?> Current = new();

    public static string? ReturnId => Current.Value;

    /// <summary>Sets the return for the rest of this async flow; disposing restores the previous one.</summary>
    public static IDisposable ForReturn(string returnId)
    {
        var previous = Current.Value;
        Current.Value = returnId;
        return new Restore(previous);
    }

    private sealed class Restore(string? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
