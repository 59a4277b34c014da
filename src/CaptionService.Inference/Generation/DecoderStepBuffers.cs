namespace CaptionService.Inference.Generation;

/// <summary>The tensors of one decoder step, all over caller-owned (pooled) memory.</summary>
internal sealed record DecoderStepBuffers(
    int Rows,
    int PastLength,
    Memory<long> InputIds,
    DecoderImageInputs Image,
    IReadOnlyList<Memory<float>> PastKeys,
    IReadOnlyList<Memory<float>> PastValues,
    Memory<float> Logits,
    IReadOnlyList<Memory<float>> PresentKeys,
    IReadOnlyList<Memory<float>> PresentValues);
