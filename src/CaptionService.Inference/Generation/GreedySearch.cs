namespace CaptionService.Inference.Generation;

/// <summary>Greedy decoding: the highest (processed) logit at each step (lowest id on ties), one row.</summary>
internal sealed class GreedySearch(int maxNewTokens, long endToken, LogitsProcessors? processors = null)
    : SingleSequenceSearch(maxNewTokens, endToken, processors)
{
    protected override int ChooseToken(ReadOnlySpan<float> logits) => LogProbabilities.ArgMax(logits);
}
