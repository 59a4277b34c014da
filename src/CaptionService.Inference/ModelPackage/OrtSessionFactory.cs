using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// Decides the execution provider once, then creates one <see cref="InferenceSession"/> per graph
/// with the same settings: full graph optimisation and the configured thread counts.
/// </summary>
internal sealed class OrtSessionFactory
{
    private readonly ModelOptions _options;

    private OrtSessionFactory(ModelOptions options, ExecutionProviderKind provider)
    {
        _options = options;
        Provider = provider;
    }

    /// <summary>The provider in use: <see cref="ExecutionProviderKind.Cuda"/> or <see cref="ExecutionProviderKind.Cpu"/>.</summary>
    public ExecutionProviderKind Provider { get; }

    /// <summary>The provider as reported by <c>GET /model</c> and metrics.</summary>
    public string ProviderName => Provider == ExecutionProviderKind.Cuda ? "cuda" : "cpu";

    /// <summary>Probes CUDA when asked to (Auto or Cuda) and settles on a provider.</summary>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was required and cannot be loaded.</exception>
    public static OrtSessionFactory Create(ModelOptions options, ILogger logger)
    {
        OrtEnvironment.EnsureCreated();
        if (options.ExecutionProvider == ExecutionProviderKind.Cpu)
        {
            return new OrtSessionFactory(options, ExecutionProviderKind.Cpu);
        }

        try
        {
            using var probe = new SessionOptions();
            probe.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            return new OrtSessionFactory(options, ExecutionProviderKind.Cuda);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            var reason = FirstLine(ex.Message);
            if (options.ExecutionProvider == ExecutionProviderKind.Cuda)
            {
                throw new ExecutionProviderUnavailableException(
                    $"ExecutionProvider is Cuda, but CUDA device {options.CudaDeviceId} cannot be used: {reason}", ex);
            }

            ModelPackageLog.CudaUnavailable(logger, options.CudaDeviceId, reason);
            return new OrtSessionFactory(options, ExecutionProviderKind.Cpu);
        }
    }

    /// <summary>Loads one graph file.</summary>
    /// <exception cref="ModelPackageException">ONNX Runtime rejects the file.</exception>
    public InferenceSession CreateSession(string graphPath)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = _options.IntraOpThreads,
            InterOpNumThreads = _options.InterOpThreads,
            ExecutionMode = _options.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        // Three sessions (encode, caption, score) run at once from their own batch loops; spinning
        // intra-op threads would burn the cores the other sessions and the request threads need.
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        if (Provider == ExecutionProviderKind.Cuda)
        {
            sessionOptions.AppendExecutionProvider_CUDA(_options.CudaDeviceId);
        }

        try
        {
            return new InferenceSession(graphPath, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelPackageException($"Model package file '{graphPath}' cannot be loaded by ONNX Runtime: {FirstLine(ex.Message)}", ex);
        }
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
