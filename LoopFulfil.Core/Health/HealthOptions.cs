namespace LoopFulfil.Core.Health;

/// <summary>Settings of the <c>/api/health</c> probe (configuration section <c>Health</c>).</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>
    /// How long the Table Storage probe may take before storage counts as unreachable. Short, because a load
    /// balancer or an operator is waiting on the answer and a slow store is as bad as a missing one.
    /// </summary>
    public TimeSpan StorageProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
