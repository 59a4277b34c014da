using System.ComponentModel.DataAnnotations;

namespace CaptionService.Inference;

/// <summary>Which model package to load and how ONNX Runtime runs it. Section <c>CaptionService:Model</c>.</summary>
public sealed class ModelOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "CaptionService:Model";

    /// <summary>The package bundled next to the application, used when <see cref="Path"/> is not set.</summary>
    public static string DefaultPackagePath => System.IO.Path.Combine(AppContext.BaseDirectory, "models", "shapeworld-fusion");

    /// <summary>
    /// The model package directory. A relative path resolves against the current directory; the
    /// default is the package bundled with the application.
    /// </summary>
    [Required]
    public string Path { get; set; } = DefaultPackagePath;

    /// <summary>
    /// Which variant of the package's graphs to load, by transformers.js's <c>dtype</c> names
    /// (<see cref="ModelDtypes.Names"/>): fp32 loads <c>onnx/encoder_model.onnx</c>, q8 loads
    /// <c>onnx/encoder_model_quantized.onnx</c>, fp16 <c>..._fp16.onnx</c>, and so on for every graph.
    /// A package without the variant stops start-up, naming the graph files it has.
    /// </summary>
    [Required]
    public string Dtype { get; set; } = ModelDtypes.Default;

    /// <summary>Auto (CUDA, else CPU), Cuda or Cpu.</summary>
    [EnumDataType(typeof(ExecutionProviderKind))]
    public ExecutionProviderKind ExecutionProvider { get; set; } = ExecutionProviderKind.Auto;

    /// <summary>
    /// Auto (on the device with CUDA, in host memory on CPU), Host or Device: where the decoder's
    /// KV cache and image inputs stay between steps. On the device, only the logits cross to the host.
    /// </summary>
    [EnumDataType(typeof(DecoderStateKind))]
    public DecoderStateKind DecoderState { get; set; } = DecoderStateKind.Auto;

    /// <summary>The CUDA device to run on when CUDA is used.</summary>
    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>
    /// Threads of the one intra-op pool all graphs share (the first engine in a process sets it);
    /// 0 means one per CPU the process may use, which honours a container's CPU limit.
    /// </summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// How far the image encoder yields the CPU to caption decoding: on Linux, a nice increment for
    /// the encoder's threads (the encode stage's and an intra-op pool of its own, as large as the
    /// shared one), 0-19. A request that joins a running batch then waits for a decoder step that
    /// shares the cores with no encoder batch, and the encoder runs at full speed whenever decoding
    /// leaves them idle. 0: the encoder shares the one pool at equal priority. Unset: 4 when caption
    /// requests join running batches, else 0 (a request that cannot join waits for the whole
    /// running batch anyway). Elsewhere than Linux, no effect.
    /// </summary>
    [Range(0, 19)]
    public int? EncoderNiceness { get; set; }

    /// <summary>Threads of the shared pool that runs independent operators in parallel.</summary>
    [Range(1, 1024)]
    public int InterOpThreads { get; set; } = 1;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Dtype is not null && !ModelDtypes.IsKnown(Dtype))
        {
            yield return new ValidationResult($"Dtype '{Dtype}' is not one of {ModelDtypes.Names}.", [nameof(Dtype)]);
        }
    }

    /// <summary>
    /// The unset <see cref="EncoderNiceness"/> when requests join running batches. Chosen by
    /// measurement on 2 cores with the vit-gpt2-base synthetic package, 8 greedy clients beside 2
    /// beam searches: 4 about halved the p99 wait for the first decoder step at no cost in
    /// throughput, where 10 cut the wait further but cost the greedy clients about a tenth of
    /// theirs (the decoder then ran steps of fewer rows while encoding starved). The benchmark's
    /// real-size section measures it against 0 in every run. Without joins it buys nothing and
    /// costs the same starved steps: the bundled package's pipelined ceiling fell by a fifth.
    /// </summary>
    internal const int JoiningEncoderNiceness = 4;

    /// <summary>The encoder's niceness for a package whose caption requests do, or do not, join running batches.</summary>
    internal int ResolveEncoderNiceness(bool joinsRunningBatches) => EncoderNiceness ?? (joinsRunningBatches ? JoiningEncoderNiceness : 0);

    /// <summary>The package directory as an absolute path.</summary>
    internal string ResolvePath() => System.IO.Path.GetFullPath(Path);
}
