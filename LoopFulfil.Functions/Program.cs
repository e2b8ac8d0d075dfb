using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Functions.Messaging;
using LoopFulfil.Functions.Telemetry;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();

// Every feature, as in the single-machine host; only the message transport is this host's own.
builder.Services.AddLoopFulfil(builder.Configuration);
builder.Services.AddLoopFulfilServiceBusSender(builder.Configuration);

// Logs, metrics and spans straight to Application Insights with the app's identity (the host forwards none of the metrics).
builder.Services.AddLoopFulfilTelemetry(builder.Configuration);

builder.Build().Run();
