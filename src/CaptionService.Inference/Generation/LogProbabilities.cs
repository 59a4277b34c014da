namespace CaptionService.Inference.Generation;

/// <summary>Numerically stable softmax arithmetic over one row of logits, in double precision.</summary>
internal static class LogProbabilities
{
    /// <summary>log(sum(exp(logits))), computed around the maximum so that nothing overflows.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        var max = double.NegativeInfinity;
        foreach (var logit in logits)
        {
            max = Math.Max(max, logit);
        }

        var sum = 0.0;
        foreach (var logit in logits)
        {
            sum += Math.Exp(logit - max);
        }

        return max + Math.Log(sum);
    }

    /// <summary>The index of the largest logit; ties go to the lowest index, as argmax does in transformers.js and PyTorch.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }
}
