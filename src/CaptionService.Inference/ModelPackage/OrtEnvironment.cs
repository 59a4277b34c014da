using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// Creates the process-wide ONNX Runtime environment, with the thread pools every session shares,
/// before any other ONNX Runtime call.
/// </summary>
internal static class OrtEnvironment
{
    private static readonly Lock s_gate = new();

    /// <summary>
    /// False when something else created the environment first (a test that opened a session
    /// directly): sessions then need pools of their own.
    /// </summary>
    public static bool HasSharedThreadPools { get; private set; }

    /// <summary>The threads of an intra-op pool configured with <paramref name="intraOpThreads"/> (0: one per CPU the process may use).</summary>
    // Environment.ProcessorCount honours a container's CPU limit; ONNX Runtime's own default counts
    // the host's cores.
    public static int IntraOpPoolSize(int intraOpThreads) => intraOpThreads > 0 ? intraOpThreads : Environment.ProcessorCount;

    /// <summary>
    /// Creates the environment once; later calls (another engine in the same process) share it and
    /// its thread pools, whatever their settings. Logs at FATAL level: ONNX Runtime otherwise prints
    /// an error line on stderr when probing CUDA on a machine without it, which the fallback already
    /// reports once through the application log.
    /// </summary>
    /// <param name="intraOpThreads">Threads inside one operator, shared by all sessions; 0 means one per CPU the process may use.</param>
    /// <param name="interOpThreads">Threads across independent operators, shared by all sessions.</param>
    public static void EnsureCreated(int intraOpThreads, int interOpThreads)
    {
        lock (s_gate)
        {
            if (OrtEnv.IsCreated)
            {
                return;
            }

            using var threading = new OrtThreadingOptions
            {
                GlobalIntraOpNumThreads = IntraOpPoolSize(intraOpThreads),
                GlobalInterOpNumThreads = interOpThreads,
                // Idle workers sleep instead of spinning: several stages share the cores with the
                // request threads, and a spinning pool burns what they need.
                GlobalSpinControl = false,
            };
            var options = new EnvironmentCreationOptions
            {
                logId = "CaptionService",
                logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
                threadOptions = threading,
            };
            OrtEnv.CreateInstanceWithOptions(ref options);
            HasSharedThreadPools = true;
        }
    }
}
