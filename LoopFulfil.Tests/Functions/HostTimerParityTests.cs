using System.Reflection;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Functions;
using LoopFulfil.LocalHost.Scheduling;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// One schedule setting means the same timer on both hosts: every flat setting a Functions timer binds
/// (<c>%Name%</c>) is the one <c>loopfulfil serve</c> schedules its matching job from, ahead of the option key.
/// </summary>
public class HostTimerParityTests
{
    [Fact]
    public void Serve_schedules_one_job_from_each_flat_setting_the_functions_timers_bind()
    {
        var flatSettings = typeof(Connections).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .SelectMany(m => m.GetParameters())
            .SelectMany(p => p.GetCustomAttributes<TimerTriggerAttribute>(false))
            .Select(t => t.Schedule.Trim('%'))
            .ToList();

        // A distinct second in each flat setting identifies which setting a job was scheduled from.
        var values = flatSettings.Select((name, i) => (name, schedule: $"{i + 1} 0 4 * * *")).ToDictionary(x => x.name, x => x.schedule);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
        var services = new ServiceCollection().AddLoopFulfilServe(configuration);

        var scheduled = services.Where(d => d.ServiceType == typeof(TimerJob)).Select(d => ((TimerJob)d.ImplementationInstance!).Schedule.Expression).ToHashSet();

        Assert.Equal(7, flatSettings.Count);
        Assert.All(values, v => Assert.True(scheduled.Contains(v.Value), $"serve schedules no job from {v.Key}"));
    }
}
