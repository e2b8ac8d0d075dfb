using LoopFulfil.Core.Messaging;
using LoopFulfil.LocalHost;
using LoopFulfil.LocalHost.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.LocalHost;

public class LocalHostOptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Defaults_mirror_service_bus_and_the_functions_host()
    {
        var options = new LocalHostOptions();

        Assert.Equal("LocalHost", LocalHostOptions.Section);
        Assert.Equal("http://127.0.0.1:7071", options.Urls);
        Assert.Equal(10, options.MaxDeliveryCount);
        Assert.Equal(60, options.VisibilityTimeoutSeconds);
        Assert.Equal(24, options.DuplicateDetectionWindowHours);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Settings_bind_from_the_local_host_section()
    {
        using var services = new ServiceCollection()
            .AddLogging()
            .AddLoopFulfilLocalHost(Config(
                ("LocalHost:Urls", "http://127.0.0.1:8080"),
                ("LocalHost:Partitions", "8"),
                ("LocalHost:MaxDeliveryCount", "5"),
                ("LocalHost:VisibilityTimeoutSeconds", "30"),
                ("LocalHost:PollIntervalMilliseconds", "250"),
                ("LocalHost:DuplicateDetectionWindowHours", "48"),
                ("LocalHost:ShutdownGraceSeconds", "15"),
                ("LocalHost:MaxRetryBackoffSeconds", "10")))
            .BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<LocalHostOptions>>().Value;

        Assert.Equal("http://127.0.0.1:8080", options.Urls);
        Assert.Equal(8, options.Partitions);
        Assert.Equal(5, options.MaxDeliveryCount);
        Assert.Equal(30, options.VisibilityTimeoutSeconds);
        Assert.Equal(250, options.PollIntervalMilliseconds);
        Assert.Equal(48, options.DuplicateDetectionWindowHours);
        Assert.Equal(15, options.ShutdownGraceSeconds);
        Assert.Equal(10, options.MaxRetryBackoffSeconds);
    }

    [Fact]
    public void Invalid_settings_fail_naming_the_key()
    {
        using var services = new ServiceCollection()
            .AddLogging()
            .AddLoopFulfilLocalHost(Config(("LocalHost:Partitions", "0"), ("LocalHost:VisibilityTimeoutSeconds", "1")))
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LocalHostOptions>>().Value);

        Assert.Contains("LocalHost:Partitions", error.Message, StringComparison.Ordinal);
        Assert.Contains("LocalHost:VisibilityTimeoutSeconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_waits_longer_than_the_dispatchers_shutdown_grace()
    {
        using var services = new ServiceCollection()
            .AddLogging()
            .AddLoopFulfilLocalHost(Config(("LocalHost:ShutdownGraceSeconds", "45")))
            .BuildServiceProvider();

        var host = services.GetRequiredService<IOptions<HostOptions>>().Value;

        Assert.True(host.ShutdownTimeout > TimeSpan.FromSeconds(45));
        Assert.True(host.ServicesStopConcurrently);
    }

    [Fact]
    public void Registration_wires_the_local_sender_and_the_scheduler_with_the_dedupe_prune_job()
    {
        var services = new ServiceCollection().AddLogging().AddLoopFulfilLocalHost(Config());
        services.AddLoopFulfilTimerJob("reconcile", "0 0 2 * * *", (_, _) => Task.CompletedTask, runOnStartup: true);

        Assert.Contains(services, d => d.ServiceType == typeof(IMessageSender));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        var jobs = services.Where(d => d.ServiceType == typeof(TimerJob)).Select(d => (TimerJob)d.ImplementationInstance!).ToList();
        Assert.Contains(jobs, j => j.Name == LocalHostServiceCollectionExtensions.DedupePruneJobName);
        Assert.Contains(jobs, j => j.Name == "reconcile" && j.RunOnStartup && j.Schedule.Expression == "0 0 2 * * *");
    }

    [Fact]
    public void Bad_timer_schedule_fails_at_registration_naming_the_field()
    {
        var error = Assert.Throws<FormatException>(() =>
            new ServiceCollection().AddLoopFulfilTimerJob("bad", "0 0 25 * * *", (_, _) => Task.CompletedTask));

        Assert.Contains("hour", error.Message, StringComparison.OrdinalIgnoreCase); // NCrontab names it "[Hour]"
    }

    [Fact]
    public void Dispatcher_refuses_invalid_options()
    {
        var error = Assert.Throws<ArgumentException>(() => new QueueDispatcher(
            "q-test",
            (_, _) => Task.CompletedTask,
            new UnusedQueueStore(),
            new LocalHostOptions { MaxDeliveryCount = 0 },
            null,
            TimeProvider.System,
            NullLogger<QueueDispatcher>.Instance));

        Assert.Contains("MaxDeliveryCount", error.Message, StringComparison.Ordinal);
    }

    private sealed class UnusedQueueStore : Core.Storage.IQueueStore
    {
        public Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");

        public Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? initialVisibilityDelay, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");

        public Task<IReadOnlyList<Core.Storage.QueueStoreMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");

        public Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");

        public Task<string> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");

        public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");
    }
}
