namespace CaptionService.Inference;

/// <summary>
/// When beam search is done, as <c>early_stopping</c> in Hugging Face transformers. Hypotheses are
/// ranked by HF's score, sum of log-probabilities / (generated tokens ^ length penalty).
/// </summary>
public enum EarlyStopping
{
    /// <summary>
    /// <c>false</c>, HF's default: once <c>beams</c> hypotheses have finished, stop when the best
    /// live beam, scored at its current length, cannot beat the worst of them (a heuristic: with a
    /// positive length penalty a longer continuation might still have won).
    /// </summary>
    Heuristic,

    /// <summary><c>true</c>: stop as soon as <c>beams</c> hypotheses have finished.</summary>
    AsSoonAsBeamsFinish,

    /// <summary>
    /// <c>"never"</c>: stop only when no live beam can beat the worst finished hypothesis at any
    /// length it may still reach (the exact bound: the token limit when the length penalty is positive).
    /// </summary>
    Never,
}
