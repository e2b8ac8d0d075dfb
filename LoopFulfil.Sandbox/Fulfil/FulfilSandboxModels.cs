namespace LoopFulfil.Sandbox.Fulfil;

public sealed partial class FulfilSandboxState
{
    /// <summary>Every model the simulator holds records of (a test compares all records before and after a run).</summary>
    public IReadOnlyList<string> Models
    {
        get
        {
            lock (_gate)
            {
                return [.. _tables.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }
}
