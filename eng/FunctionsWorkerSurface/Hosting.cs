// Package: Microsoft.Azure.Functions.Worker 2.52.0 (Azure/azure-functions-dotnet-worker, tag 2.52.0, src/DotNetWorker/)
// and Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore 2.1.1 (tag http-aspnetcore-extension-2.1.1).
// Compile-only: every member throws; the real SDK provides the behaviour.
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Azure.Functions.Worker.Builder;

// Source: src/DotNetWorker/Builder/FunctionsApplication.cs
public class FunctionsApplication
{
    public static FunctionsApplicationBuilder CreateBuilder(string[] args) => throw Surface.NotRunnable();
}

// Source: src/DotNetWorker/Builder/FunctionsApplicationBuilder.cs
public class FunctionsApplicationBuilder : IHostApplicationBuilder, IFunctionsWorkerApplicationBuilder
{
    internal FunctionsApplicationBuilder(string[]? args) => throw Surface.NotRunnable();

    public IDictionary<object, object> Properties => throw Surface.NotRunnable();

    IConfigurationManager IHostApplicationBuilder.Configuration => throw Surface.NotRunnable();

    public ConfigurationManager Configuration => throw Surface.NotRunnable();

    public IHostEnvironment Environment => throw Surface.NotRunnable();

    public ILoggingBuilder Logging => throw Surface.NotRunnable();

    public IMetricsBuilder Metrics => throw Surface.NotRunnable();

    public IServiceCollection Services => throw Surface.NotRunnable();

    public IHost Build() => throw Surface.NotRunnable();

    public void ConfigureContainer<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory, Action<TContainerBuilder>? configure = null)
        where TContainerBuilder : notnull => throw Surface.NotRunnable();

    public IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware) => throw Surface.NotRunnable();
}

// Source: extensions/Worker.Extensions.Http.AspNetCore/src/FunctionsApplicationBuilderAspNetCoreExtensions.cs
public static class FunctionsApplicationBuilderAspNetCoreExtensions
{
    public static FunctionsApplicationBuilder ConfigureFunctionsWebApplication(this FunctionsApplicationBuilder builder) => throw Surface.NotRunnable();
}
