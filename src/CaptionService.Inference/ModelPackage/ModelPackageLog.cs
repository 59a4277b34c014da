using Microsoft.Extensions.Logging;

namespace CaptionService.Inference.ModelPackage;

internal static partial class ModelPackageLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning,
        Message = "CUDA device {CudaDeviceId} is unavailable, running on CPU: {Reason}")]
    public static partial void CudaUnavailable(ILogger logger, int cudaDeviceId, string reason);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information,
        Message = "Loaded model package {Name} {Version} ({Dtype} graphs) from {PackagePath} on {Provider} in {ElapsedMs:F0} ms; captions decode with {CaptionDecoder}")]
    public static partial void PackageLoaded(ILogger logger, string name, string version, string packagePath, string provider, double elapsedMs, string captionDecoder, string dtype);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information,
        Message = "Loaded CLIP package {Name} ({Dtype} graphs) from {PackagePath} on {Provider} in {ElapsedMs:F0} ms; texts are scored with {Towers}, similarity scale {LogitScale:F4}")]
    public static partial void ClipPackageLoaded(ILogger logger, string name, string packagePath, string provider, double elapsedMs, string towers, double logitScale, string dtype);
}
