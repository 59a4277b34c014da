using CaptionService.Api.Apis;
using CaptionService.Api.Demo;
using CaptionService.Api.Draining;
using CaptionService.Api.Engine;
using CaptionService.Api.Errors;
using CaptionService.Api.Health;
using CaptionService.Api.Hosting;
using CaptionService.Api.Management;
using CaptionService.Api.Observability;
using CaptionService.Api.OpenApi;
using CaptionService.Api.Security;

if (args is [WriteManifestCommand.Name, var packageDirectory])
{
    return WriteManifestCommand.Run(packageDirectory, Console.Out, Console.Error);
}

if (args is [CalibrateScenesCommand.Name, ..])
{
    return CalibrateScenesCommand.Run(args, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddDefaultListenAddress();
builder.AddManagementPort();
builder.AddSerilogLogging();
builder.AddProblemResponses();
builder.AddApiKeys();
builder.AddClientRateLimits();
builder.AddCrossOriginPolicy();
builder.AddCaptionEngine();
builder.AddInferenceApi();
builder.AddGracefulDrain();
builder.AddHealthProbes();
builder.AddPrometheusMetrics();
builder.AddTracing();
builder.AddApiDocumentation();

var app = builder.Build();

if (!app.TryCreateCaptionEngine())
{
    // The reason is already logged, in one line that names the file or setting.
    return 1;
}

app.UseTraceparentResponseHeader();
app.UseRequestLogging();
app.UseProblemResponses();
app.UseManagementPort();
app.UseDemoPage(); // static files with no data: open, like the probes
app.UseCors(); // before the keys: a browser's preflight request carries none
app.UseApiKeys();
app.UseApiDocumentation();
app.UseRouting();
app.UseRateLimiter();
app.UseHttpRequestMetrics();

app.MapInferenceApi();
app.MapHeatMapApi();
app.MapModelApi();
app.MapModelsApi();
app.MapHealthProbes();
app.MapPrometheusMetrics();

app.Run();

// Non-zero when warm-up failed and stopped the host (see EngineWarmUpService).
return Environment.ExitCode;

/// <summary>Entry point, visible to <c>WebApplicationFactory</c> in the functional tests.</summary>
public partial class Program;
