namespace CaptionService.Inference.Generation;

/// <summary>One row of the next step: which of the search's current rows it extends, and with which token.</summary>
internal readonly record struct RowContinuation(int ParentRow, long Token);
