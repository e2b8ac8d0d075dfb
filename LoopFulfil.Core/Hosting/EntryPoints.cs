using LoopFulfil.Core.CatchUp;
using LoopFulfil.Core.CommerceSync;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Core.Hosting;

/// <summary>A queue and the Core handler of its messages.</summary>
/// <param name="Function">The Functions app's function name (serve names its dispatcher after the queue).</param>
/// <param name="Queue">The queue (<see cref="QueueNames"/>).</param>
/// <param name="Sessions">Whether the queue has sessions (one return's events in order).</param>
/// <param name="DeadLetterFunction">The Functions app's trigger on the queue's dead-letter subqueue; null: none.</param>
/// <param name="Handle">The entry point, called after claim-check resolution and inside redelivery (<see cref="QueueEntryRunner"/>).</param>
public sealed record QueueEntryPoint(string Function, string Queue, bool Sessions, string? DeadLetterFunction, Func<IServiceProvider, InboundMessage, CancellationToken, Task> Handle);

/// <summary>A timer and its job.</summary>
/// <param name="Function">The Functions app's function name, and serve's job name.</param>
/// <param name="ScheduleSetting">The flat app setting both hosts schedule from (the Functions trigger binds <c>%ScheduleSetting%</c>).</param>
/// <param name="OptionKey">The feature option that must agree with it (validated at start, <see cref="TimerSchedules"/>).</param>
/// <param name="DefaultSchedule">The option's default, used when neither is set (serve only: Azure always sets the flat setting).</param>
/// <param name="Run">The entry point, in a fresh DI scope.</param>
public sealed record TimerEntryPoint(string Function, string ScheduleSetting, string OptionKey, string DefaultSchedule, Func<IServiceProvider, CancellationToken, Task> Run)
{
    /// <summary>Serve also runs it once at start (the Functions host runs a past-due timer on start instead).</summary>
    public bool RunsOnStart { get; init; }
}

/// <summary>Who may call an HTTP entry point: nobody needs a key, a function key, or the master (admin) key.</summary>
public enum HttpAuth
{
    Anonymous,
    Function,
    Admin,
}

/// <summary>An HTTP route (under <c>/api</c>) and who may call it.</summary>
public sealed record HttpEntryPoint(string Function, string Method, string Route, HttpAuth Auth);

/// <summary>
/// Every way into the integration, for both hosts: the Functions app declares one function per entry (its attributes
/// must be constants, so FunctionsMetadataTests and EntryPointParityTests hold them to this list) and
/// <c>loopfulfil serve</c> binds the list itself. A new queue, timer or route is added here first.
/// </summary>
public static class EntryPoints
{
    public static IReadOnlyList<QueueEntryPoint> Queues { get; } =
    [
        new("LoopReturnEvents", QueueNames.LoopReturns, Sessions: true, "LoopReturnsDeadLetters",
            static (sp, m, ct) => sp.GetRequiredService<ReturnEventHandler>().HandleAsync(m, ct)),
        new("ExchangeOrders", QueueNames.LoopExchanges, Sessions: false, "LoopExchangesDeadLetters",
            static (sp, m, ct) => sp.GetRequiredService<ExchangeOrderHandler>().HandleAsync(m, ct)),
        new("ExceptionAlerts", QueueNames.Exceptions, Sessions: false, DeadLetterFunction: null,
            static (sp, m, ct) => sp.GetRequiredService<ExceptionAlertHandler>().HandleAsync(m, ct)),
    ];

    public static IReadOnlyList<TimerEntryPoint> Timers { get; } =
    [
        new("SkuRecheck", "SkuRecheckSchedule", Key(ExceptionOptions.Section, nameof(ExceptionOptions.SkuRecheckSchedule)), new ExceptionOptions().SkuRecheckSchedule,
            ShadowRuns.StopQuietly("SkuRecheck", static (sp, ct) => sp.GetRequiredService<SkuExceptionRechecker>().RunAsync(ct))),
        new("Reconciliation", "ReconciliationSchedule", Key(ReconciliationOptions.Section, nameof(ReconciliationOptions.Schedule)), new ReconciliationOptions().Schedule,
            ShadowRuns.StopQuietly("Reconciliation", static (sp, ct) => sp.GetRequiredService<ReconciliationJob>().RunScheduledAsync(ct))),
        new("RefundsPosting", "RefundsPostingSchedule", Key(RefundsOptions.Section, nameof(RefundsOptions.PostingSchedule)), new RefundsOptions().PostingSchedule,
            ShadowRuns.StopQuietly("RefundsPosting", static (sp, ct) => sp.GetRequiredService<ScheduledPostingJob>().RunAsync(ct))),
        new("CommerceSyncIncremental", "CommerceSyncIncrementalSchedule", Key(CommerceSyncOptions.Section, nameof(CommerceSyncOptions.IncrementalSchedule)), new CommerceSyncOptions().IncrementalSchedule,
            ShadowRuns.StopQuietly("CommerceSyncIncremental", static (sp, ct) => sp.GetRequiredService<CommerceSyncJob>().RunAsync(SyncMode.Incremental, progress: null, ct))),
        new("CommerceSyncFullPass", "CommerceSyncFullPassSchedule", Key(CommerceSyncOptions.Section, nameof(CommerceSyncOptions.FullPassSchedule)), new CommerceSyncOptions().FullPassSchedule,
            ShadowRuns.StopQuietly("CommerceSyncFullPass", static (sp, ct) => sp.GetRequiredService<CommerceSyncJob>().RunAsync(SyncMode.FullPass, progress: null, ct))),
        new("CatchUp", "CatchUpSchedule", Key(CatchUpOptions.Section, nameof(CatchUpOptions.Schedule)), new CatchUpOptions().Schedule,
            ShadowRuns.StopQuietly("CatchUp", static (sp, ct) => sp.GetRequiredService<CatchUpSweep>().RunAsync(ct))) { RunsOnStart = true },
        new("PrivacyRetention", "PrivacyRetentionSchedule", Key(PrivacyOptions.Section, nameof(PrivacyOptions.RetentionSchedule)), new PrivacyOptions().RetentionSchedule,
            ShadowRuns.StopQuietly("PrivacyRetention", static (sp, ct) => sp.GetRequiredService<RetentionJob>().RunAsync(ct))),
    ];

    /// <summary>HTTP routes; the ops ones answer through <see cref="OpsApi"/> on both hosts, so status codes and bodies match.</summary>
    public static IReadOnlyList<HttpEntryPoint> Http { get; } =
    [
        new("Health", "get", "health", HttpAuth.Anonymous),
        new("LoopWebhook", "post", "loop/webhooks", HttpAuth.Anonymous),
        new("ReturnInspection", "post", "returns/{id}/inspection", HttpAuth.Function),
        new("OpsListExceptions", "get", "ops/exceptions", HttpAuth.Admin),
        new("OpsGetException", "get", "ops/exceptions/{id}", HttpAuth.Admin),
        new("OpsReplayException", "post", "ops/exceptions/{id}/replay", HttpAuth.Admin),
        new("OpsResolveException", "post", "ops/exceptions/{id}/resolve", HttpAuth.Admin),
        new("OpsReplayCategory", "post", "ops/exceptions/replay", HttpAuth.Admin),
        new("OpsReconciliationReport", "get", "ops/reconciliation/{name}", HttpAuth.Admin),
        new("OpsPrivacyErase", "post", "ops/privacy/erase", HttpAuth.Admin),
    ];

    public static QueueEntryPoint Queue(string queue) =>
        Queues.FirstOrDefault(q => q.Queue == queue) ?? throw new ArgumentException($"No entry point reads queue '{queue}'.", nameof(queue));

    public static TimerEntryPoint Timer(string function) =>
        Timers.FirstOrDefault(t => t.Function == function) ?? throw new ArgumentException($"No timer entry point is named '{function}'.", nameof(function));

    /// <summary>
    /// The schedule a timer runs on, read the way the Functions host reads <c>%Setting%</c>: the flat setting; serve
    /// falls back to the option's default when it is unset (the Functions app cannot start without it).
    /// </summary>
    public static string Schedule(TimerEntryPoint timer, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(timer);
        ArgumentNullException.ThrowIfNull(configuration);
        var flat = configuration[timer.ScheduleSetting];
        return string.IsNullOrWhiteSpace(flat) ? timer.DefaultSchedule : flat.Trim();
    }

    private static string Key(string section, string property) => section + ":" + property;
}
