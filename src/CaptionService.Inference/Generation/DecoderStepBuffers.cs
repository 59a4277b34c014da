namespace CaptionService.Inference.Generation;

/// <summary>
/// The tensors of one decoder step, all over caller-owned (pooled) memory. The attention mask
/// ([rows, past + 1]) and position ids ([rows]) are read only by graphs that have those inputs.
/// </summary>
internal sealed record DecoderStepBuffers(
    int Rows,
    int PastLength,
    Memory<long> InputIds,
    Memory<long> AttentionMask,
    Memory<long> PositionIds,
    DecoderImageInputs Image,
    IReadOnlyList<Memory<float>> PastKeys,
    IReadOnlyList<Memory<float>> PastValues,
    Memory<float> Logits,
    IReadOnlyList<Memory<float>> PresentKeys,
    IReadOnlyList<Memory<float>> PresentValues);
