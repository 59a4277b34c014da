namespace CaptionService.Inference.Generation;

/// <summary>The optional per-row inputs a decoder graph has (see <see cref="DecoderShape.AttentionMaskInput"/>).</summary>
[Flags]
internal enum RowPositionInputs
{
    None = 0,
    AttentionMask = 1,
    PositionIds = 2,

    /// <summary>Both: rows at different positions can share one decoder run.</summary>
    Both = AttentionMask | PositionIds,
}
