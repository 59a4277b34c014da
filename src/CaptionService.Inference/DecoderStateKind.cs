namespace CaptionService.Inference;

/// <summary>Where a caption batch's decoding state (KV cache, image inputs) lives between decoder steps.</summary>
public enum DecoderStateKind
{
    /// <summary>
    /// On the device when the graphs run on CUDA, in host memory on CPU: there the host path moves
    /// image rows in place instead of gathering them, which copies less.
    /// </summary>
    Auto,

    /// <summary>In host memory: ONNX Runtime reads and writes pooled host buffers at every step.</summary>
    Host,

    /// <summary>
    /// On the execution provider's device, bound with IOBinding: only the logits come back to the
    /// host, and rows are compacted, forked and added by small graphs on the device.
    /// </summary>
    Device,
}
