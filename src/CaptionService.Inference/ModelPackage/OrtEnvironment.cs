using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.ModelPackage;

/// <summary>Creates the process-wide ONNX Runtime environment before any other ONNX Runtime call.</summary>
internal static class OrtEnvironment
{
    private static readonly Lock s_gate = new();

    /// <summary>
    /// Creates the environment at FATAL log level. ONNX Runtime otherwise prints an error line on
    /// stderr when probing CUDA on a machine without it, which the fallback already reports once
    /// through the application log.
    /// </summary>
    public static void EnsureCreated()
    {
        lock (s_gate)
        {
            if (OrtEnv.IsCreated)
            {
                return;
            }

            var options = new EnvironmentCreationOptions
            {
                logId = "CaptionService",
                logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
            };
            OrtEnv.CreateInstanceWithOptions(ref options);
        }
    }
}
