using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// Decides the execution provider once, then creates one <see cref="InferenceSession"/> per graph
/// with the same settings: full graph optimisation, on the environment's shared thread pool.
/// </summary>
internal sealed class OrtSessionFactory
{
    private readonly ModelOptions _options;

    private OrtSessionFactory(ModelOptions options, ExecutionProviderKind provider)
    {
        _options = options;
        Provider = provider;
        DecoderState = ResolveDecoderState(options.DecoderState, provider);
        DeviceMemory = provider == ExecutionProviderKind.Cuda
            ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, options.CudaDeviceId, OrtMemType.Default)
            : OrtMemoryInfo.DefaultInstance;
    }

    /// <summary>The provider in use: <see cref="ExecutionProviderKind.Cuda"/> or <see cref="ExecutionProviderKind.Cpu"/>.</summary>
    public ExecutionProviderKind Provider { get; }

    /// <summary>Where the decoder's state stays between steps: <see cref="DecoderStateKind.Host"/> or <see cref="DecoderStateKind.Device"/>.</summary>
    public DecoderStateKind DecoderState { get; }

    /// <summary>
    /// Memory on the provider's device (CUDA device memory, or host memory on CPU): where outputs
    /// bound to the device are allocated. The only difference between the device-resident path on
    /// CPU and on CUDA.
    /// </summary>
    public OrtMemoryInfo DeviceMemory { get; }

    /// <summary>The provider as reported by <c>GET /model</c> and metrics.</summary>
    public string ProviderName => Provider == ExecutionProviderKind.Cuda ? "cuda" : "cpu";

    /// <summary>Probes CUDA when asked to (Auto or Cuda) and settles on a provider.</summary>
    /// <param name="options">The model settings.</param>
    /// <param name="logger">Where the CPU fallback is reported.</param>
    /// <param name="probe">How CUDA is tried; <see cref="CudaDeviceProbe.Probe"/> unless a test replaces it.</param>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was required and cannot be used.</exception>
    public static OrtSessionFactory Create(ModelOptions options, ILogger logger, CudaProbe? probe = null)
    {
        OrtEnvironment.EnsureCreated(options.IntraOpThreads, options.InterOpThreads);
        if (options.ExecutionProvider == ExecutionProviderKind.Cpu)
        {
            return new OrtSessionFactory(options, ExecutionProviderKind.Cpu);
        }

        var reason = (probe ?? CudaDeviceProbe.Probe)(options.CudaDeviceId);
        if (reason is null)
        {
            return new OrtSessionFactory(options, ExecutionProviderKind.Cuda);
        }

        if (options.ExecutionProvider == ExecutionProviderKind.Cuda)
        {
            throw new ExecutionProviderUnavailableException(
                $"ExecutionProvider is Cuda, but CUDA device {options.CudaDeviceId} cannot be used: {reason}");
        }

        ModelPackageLog.CudaUnavailable(logger, options.CudaDeviceId, reason);
        return new OrtSessionFactory(options, ExecutionProviderKind.Cpu);
    }

    /// <summary>
    /// Auto keeps the state on the device only with CUDA: on CPU "the device" is host memory, where
    /// the host path's in-place row moves copy less than the device path's gathers.
    /// </summary>
    internal static DecoderStateKind ResolveDecoderState(DecoderStateKind requested, ExecutionProviderKind provider) => requested switch
    {
        DecoderStateKind.Auto => provider == ExecutionProviderKind.Cuda ? DecoderStateKind.Device : DecoderStateKind.Host,
        _ => requested,
    };

    /// <summary>Loads one graph file.</summary>
    /// <exception cref="ModelPackageException">ONNX Runtime rejects the file.</exception>
    public InferenceSession CreateSession(string graphPath) => CreateFileSession(graphPath, ownPoolThreads: null);

    /// <summary>
    /// Loads a graph whose runs yield the CPU to every other graph's (the image encoder): on an
    /// intra-op pool of its own, created by a thread lowered by <paramref name="niceness"/>, whose
    /// nice value the pool's threads inherit. An ordinary session where that is 0, where threads
    /// have no nice values of their own, or where sessions have no shared pool to leave.
    /// </summary>
    /// <returns>The session, and how far the thread that runs it must lower itself to match its pool (0: not at all).</returns>
    /// <exception cref="ModelPackageException">ONNX Runtime rejects the file.</exception>
    public (InferenceSession Session, int Niceness) CreateYieldingSession(string graphPath, int niceness)
    {
        if (niceness == 0 || !ThreadNiceness.IsSupported || !OrtEnvironment.HasSharedThreadPools)
        {
            return (CreateSession(graphPath), 0);
        }

        (InferenceSession Session, int Niceness) created = default;
        ExceptionDispatchInfo? failure = null;
        var loader = new Thread(() =>
        {
            try
            {
                var lowered = ThreadNiceness.LowerCurrentThread(niceness);
                var poolSize = lowered ? OrtEnvironment.IntraOpPoolSize(_options.IntraOpThreads) : (int?)null;
                created = (CreateFileSession(graphPath, poolSize), lowered ? niceness : 0);
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        })
        { IsBackground = true, Name = "CaptionService yielding session loader" };
        loader.Start();
        loader.Join();
        failure?.Throw();
        return created;
    }

    /// <param name="graphPath">The package's graph file.</param>
    /// <param name="ownPoolThreads">As <see cref="CreateSession(string, Func{SessionOptions, InferenceSession}, int?)"/>'s.</param>
    private InferenceSession CreateFileSession(string graphPath, int? ownPoolThreads) =>
        CreateSession($"Model package file '{graphPath}'", options => new InferenceSession(graphPath, options), ownPoolThreads);

    /// <summary>Loads a graph held in memory (the engine's own embedded graphs); <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="ModelPackageException">ONNX Runtime rejects the graph.</exception>
    public InferenceSession CreateSession(byte[] graph, string name) =>
        CreateSession($"The engine's own graph '{name}' (embedded in CaptionService.Inference, not part of the package)", options => new InferenceSession(graph, options));

    /// <param name="described">What the graph is, as errors name it.</param>
    /// <param name="create">Creates the session with the options given.</param>
    /// <param name="ownPoolThreads">Threads of an intra-op pool of the session's own, created now by the calling thread; null: the shared pool where there is one.</param>
    private InferenceSession CreateSession(string described, Func<SessionOptions, InferenceSession> create, int? ownPoolThreads = null)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = _options.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (ownPoolThreads is null && OrtEnvironment.HasSharedThreadPools)
        {
            // Every session (encoder, decoders, fusion) runs on the environment's one thread pool:
            // per-session pools of one thread per core each would oversubscribe the cores as soon
            // as two stages run at once.
            sessionOptions.DisablePerSessionThreads();
        }
        else
        {
            sessionOptions.IntraOpNumThreads = ownPoolThreads ?? _options.IntraOpThreads;
            sessionOptions.InterOpNumThreads = _options.InterOpThreads;
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }
        if (Provider == ExecutionProviderKind.Cuda)
        {
            sessionOptions.AppendExecutionProvider_CUDA(_options.CudaDeviceId);
        }

        try
        {
            return create(sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelPackageException($"{described} cannot be loaded by ONNX Runtime: {CudaDeviceProbe.FirstLine(ex.Message)}", ex);
        }
    }

}
