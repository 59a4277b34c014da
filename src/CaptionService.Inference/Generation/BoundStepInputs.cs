using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.Generation;

/// <summary>
/// The tensors of one device-resident decoder step (<see cref="DecoderGraph.RunBound"/>): the small
/// per-row inputs and the logits over caller-owned host memory, the image inputs and the past
/// (key, value per layer) as device tensors. The attention mask ([rows, past + 1]) and position
/// ids ([rows]) are read only by graphs that have those inputs.
/// </summary>
internal sealed record BoundStepInputs(
    int Rows,
    int PastLength,
    Memory<long> InputIds,
    Memory<long> AttentionMask,
    Memory<long> PositionIds,
    IReadOnlyList<OrtValue> Image,
    IReadOnlyList<OrtValue> Past,
    Memory<float> Logits);
