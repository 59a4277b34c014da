namespace CaptionService.Inference.Generation;

/// <summary>Greedy decoding: the most likely token at each step (lowest id on ties), one row.</summary>
internal sealed class GreedySearch(int maxNewTokens, long endToken) : SingleSequenceSearch(maxNewTokens, endToken)
{
    protected override int ChooseToken(ReadOnlySpan<float> logits) => LogProbabilities.ArgMax(logits);
}
