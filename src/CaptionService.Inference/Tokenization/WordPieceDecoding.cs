namespace CaptionService.Inference.Tokenization;

/// <summary>How the package's <c>tokenizer.json</c> turns WordPiece tokens back into text.</summary>
internal enum WordPieceDecoding
{
    /// <summary>No decoder: tokens joined by single spaces, as transformers.js does without one.</summary>
    JoinWithSpaces,

    /// <summary>The WordPiece decoder: continuation pieces (<c>##x</c>) glue to the previous token.</summary>
    MergeContinuations,
}
