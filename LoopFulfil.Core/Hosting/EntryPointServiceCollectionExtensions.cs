using LoopFulfil.Core.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Hosting;

/// <summary>Options type that only carries the timer schedule check (no settings of its own).</summary>
public sealed class TimerScheduleCheck
{
}

public static class EntryPointServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="QueueEntryRunner"/> and checks at start-up, on both hosts, that each timer's schedule
    /// parses and that its feature option, when set, agrees with the flat setting the timer really runs on (a
    /// <c>Reconciliation__Schedule</c> that silently differs from <c>ReconciliationSchedule</c> would mislead).
    /// </summary>
    public static IServiceCollection AddLoopFulfilEntryPoints(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton<QueueEntryRunner>();
        services.AddOptions<TimerScheduleCheck>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TimerScheduleCheck>>(new TimerScheduleValidator(configuration)));
        return services;
    }

    /// <summary>The problems <see cref="AddLoopFulfilEntryPoints"/> refuses to start with; empty when the schedules are consistent.</summary>
    public static IReadOnlyList<string> TimerScheduleProblems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        foreach (var timer in EntryPoints.Timers)
        {
            var schedule = EntryPoints.Schedule(timer, configuration);
            if (!CronExpression.TryParse(schedule, out _, out _))
            {
                problems.Add($"{timer.ScheduleSetting} must be a six-field NCRONTAB expression; '{schedule}' is not.");
            }

            var option = configuration[timer.OptionKey];
            if (!string.IsNullOrWhiteSpace(option) && !string.Equals(option.Trim(), schedule, StringComparison.Ordinal))
            {
                problems.Add($"{timer.OptionKey.Replace(":", "__", StringComparison.Ordinal)} is '{option.Trim()}' but timer {timer.Function} runs on {timer.ScheduleSetting} = '{schedule}': set both to the same value.");
            }
        }

        return problems;
    }

    private sealed class TimerScheduleValidator(IConfiguration configuration) : IValidateOptions<TimerScheduleCheck>
    {
        public ValidateOptionsResult Validate(string? name, TimerScheduleCheck options)
        {
            var problems = TimerScheduleProblems(configuration);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
