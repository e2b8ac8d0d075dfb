// Source: src/DotNetWorker/Builder/FunctionsApplication.cs, FunctionsApplicationBuilder.cs (Worker 2.52.0)
// and extensions/Worker.Extensions.Http.AspNetCore/src/FunctionsApplicationBuilderAspNetCoreExtensions.cs (2.1.1).
// Compile-only: members throw; the real SDK provides the behaviour.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Azure.Functions.Worker.Builder;

public class FunctionsApplication
{
    public static FunctionsApplicationBuilder CreateBuilder(string[] args) => throw Surface.NotRunnable();
}

public class FunctionsApplicationBuilder
{
    internal FunctionsApplicationBuilder(string[]? args) => _ = args;

    public IDictionary<object, object> Properties => throw Surface.NotRunnable();
    public ConfigurationManager Configuration => throw Surface.NotRunnable();
    public IHostEnvironment Environment => throw Surface.NotRunnable();
    public ILoggingBuilder Logging => throw Surface.NotRunnable();
    public IServiceCollection Services => throw Surface.NotRunnable();
    public IHost Build() => throw Surface.NotRunnable();
}

public static class FunctionsApplicationBuilderAspNetCoreExtensions
{
    public static FunctionsApplicationBuilder ConfigureFunctionsWebApplication(this FunctionsApplicationBuilder builder) => throw Surface.NotRunnable();
}

internal static class Surface
{
    internal static NotSupportedException NotRunnable() =>
        new("eng/FunctionsWorkerSurface is compile-only; build with the real Microsoft.Azure.Functions.Worker packages to run.");
}
