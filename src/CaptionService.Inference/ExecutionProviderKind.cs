namespace CaptionService.Inference;

/// <summary>Where ONNX Runtime runs the graphs.</summary>
public enum ExecutionProviderKind
{
    /// <summary>CUDA when it can be loaded, otherwise CPU (with one warning saying why).</summary>
    Auto,

    /// <summary>CUDA only; start-up fails when CUDA cannot be loaded.</summary>
    Cuda,

    /// <summary>CPU only.</summary>
    Cpu,
}
