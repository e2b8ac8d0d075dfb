namespace LoopFulfil.Core.Shadow;

/// <summary>Whether the integration writes to Fulfil and Loop (configuration section <c>Integration</c>).</summary>
public sealed class IntegrationOptions
{
    public const string Section = "Integration";

    /// <summary>
    /// <see cref="IntegrationMode.Live"/> (default) writes; <see cref="IntegrationMode.Shadow"/> runs webhooks and
    /// sweeps through the whole pipeline but records every Fulfil and Loop write as planned instead of sending it.
    /// </summary>
    public IntegrationMode Mode { get; set; } = IntegrationMode.Live;
}

public enum IntegrationMode
{
    Live,
    Shadow,
}
