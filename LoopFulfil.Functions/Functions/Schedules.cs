namespace LoopFulfil.Functions.Functions;

/// <summary>
/// Timer schedules, as app-setting binding expressions the Functions host resolves (<c>%Name%</c>).
/// </summary>
/// <remarks>
/// The names are flat on purpose. <c>%Exceptions__SkuRecheckSchedule%</c> never resolves (the host looks names up
/// in its configuration, where <c>__</c> has become <c>:</c>; azure-functions-host#10246), and
/// <c>%Exceptions:SkuRecheckSchedule%</c> resolves in a running host but not for the platform's scale controller,
/// which reads app settings by their literal name and cannot find one containing ':' on Linux (#8649): a
/// scaled-to-zero app would then miss its timers. So each schedule has its own flat app setting, set in Bicep from
/// the same parameter as the matching <c>Section__Property</c> option (see docs/configuration.md).
/// Adding a timer: one new function file naming its setting here, plus that setting in local.settings.sample.json
/// and infra/modules/functionApp.bicep (FunctionCatalogTests fails until both exist).
/// </remarks>
public static class Schedules
{
    /// <summary>App setting <c>SkuRecheckSchedule</c>; equals <c>Exceptions__SkuRecheckSchedule</c>.</summary>
    public const string SkuRecheck = "%SkuRecheckSchedule%";

    /// <summary>App setting <c>ReconciliationSchedule</c>; equals <c>Reconciliation__Schedule</c>.</summary>
    public const string Reconciliation = "%ReconciliationSchedule%";

    /// <summary>App setting <c>RefundsPostingSchedule</c>; equals <c>Refunds__PostingSchedule</c>.</summary>
    public const string RefundsPosting = "%RefundsPostingSchedule%";

    /// <summary>App setting <c>CommerceSyncIncrementalSchedule</c>; equals <c>CommerceSync__IncrementalSchedule</c>.</summary>
    public const string CommerceSyncIncremental = "%CommerceSyncIncrementalSchedule%";

    /// <summary>App setting <c>CommerceSyncFullPassSchedule</c>; equals <c>CommerceSync__FullPassSchedule</c>.</summary>
    public const string CommerceSyncFullPass = "%CommerceSyncFullPassSchedule%";

    /// <summary>App setting <c>CatchUpSchedule</c>; equals <c>CatchUp__Schedule</c>.</summary>
    public const string CatchUp = "%CatchUpSchedule%";

    /// <summary>App setting <c>PrivacyRetentionSchedule</c>; equals <c>Privacy__RetentionSchedule</c>.</summary>
    public const string PrivacyRetention = "%PrivacyRetentionSchedule%";
}
