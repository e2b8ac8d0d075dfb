using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using LoopFulfil.Core.Diagnostics;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace LoopFulfil.Functions.Telemetry;

/// <summary>
/// The worker's own telemetry to Application Insights. The Functions host only forwards the worker's logs (sampled,
/// with properties renamed <c>prop__Name</c>) and never its metrics, so the worker exports logs, the
/// <c>LoopFulfil</c> meter and its spans itself, with OpenTelemetry and the Azure Monitor exporter, authenticated
/// with the app's managed identity (the workspace has local authentication disabled).
/// </summary>
public static class FunctionsTelemetry
{
    /// <summary>The app setting the platform and Bicep set; without it (a developer's machine) nothing is exported.</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>The user-assigned identity's client id (set by Bicep, the same one storage and Service Bus use).</summary>
    public const string ClientIdSetting = "AZURE_CLIENT_ID";

    public static IServiceCollection AddLoopFulfilTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddLoopFulfilDiagnostics();

        var otel = services.AddOpenTelemetry()
            .WithMetrics(ConfigureMetrics)
            .WithTracing(ConfigureTracing)
            .WithLogging(configureBuilder: null, configureOptions: ConfigureLogs)
            .UseFunctionsWorkerDefaults();
        services.AddLogging(ConfigureLogFilters);

        var connectionString = configuration[ConnectionStringSetting];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            var credential = CreateCredential(configuration[ClientIdSetting]);
            otel.UseAzureMonitorExporter(o => ConfigureExporter(o, connectionString, credential));
        }

        return services;
    }

    /// <summary>Exports the integration's meters; the alert rules count these (infra/modules/alerts.bicep).</summary>
    public static void ConfigureMetrics(MeterProviderBuilder metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        metrics.AddMeter([.. LoopFulfilTelemetry.Meters]);
    }

    public static void ConfigureTracing(TracerProviderBuilder tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        tracing.AddSource([.. LoopFulfilTelemetry.ActivitySources]);
    }

    /// <summary>
    /// Structured properties become customDimensions under their own names (<c>ExceptionCategory</c>, not
    /// <c>prop__ExceptionCategory</c>). No scopes: their values are not reviewed for personal data the way the
    /// <c>[LoggerMessage]</c> templates are.
    /// </summary>
    public static void ConfigureLogs(OpenTelemetryLoggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.IncludeFormattedMessage = true;
        options.IncludeScopes = false;
    }

    /// <summary>
    /// The integration's categories at Information; framework and SDK categories (request URLs, retries) only from
    /// Warning, so nothing outside the reviewed templates is exported routinely.
    /// </summary>
    public static void ConfigureLogFilters(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddFilter<OpenTelemetryLoggerProvider>(string.Empty, LogLevel.Warning);
        logging.AddFilter<OpenTelemetryLoggerProvider>(LoopFulfilTelemetry.LogCategoryPrefix, LogLevel.Information);
    }

    internal static void ConfigureExporter(AzureMonitorExporterOptions options, string connectionString, TokenCredential credential)
    {
        options.ConnectionString = connectionString;
        options.Credential = credential;

        // Operators read these logs when an alert fires: keep them even when their request's trace is sampled out.
        options.EnableTraceBasedLogsSampler = false;
    }

    /// <summary>
    /// The same choice as storage and Service Bus: the user-assigned identity by its client id in Azure (a missing
    /// role fails at once instead of walking DefaultAzureCredential's chain); a developer's own sign-in otherwise.
    /// </summary>
    internal static TokenCredential CreateCredential(string? clientId) => string.IsNullOrWhiteSpace(clientId)
        ? new DefaultAzureCredential()
        : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
}
