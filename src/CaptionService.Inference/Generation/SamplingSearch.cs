namespace CaptionService.Inference.Generation;

/// <summary>
/// Ancestral sampling, one row: logits divided by the temperature, cut to the top K tokens and then
/// to the smallest set whose probability reaches P, renormalised, and sampled with a seeded
/// generator. The reported log-probability is under the model's own (unscaled) distribution.
/// </summary>
internal sealed class SamplingSearch : SingleSequenceSearch
{
    private readonly double _temperature;
    private readonly int? _topK;
    private readonly double? _topP;
    private readonly Random _random;
    private int[] _order = [];
    private double[] _weights = [];

    public SamplingSearch(int maxNewTokens, long endToken, double temperature, int? topK, double? topP, Random random, LogitsProcessors? processors = null)
        : base(maxNewTokens, endToken, processors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(temperature, 0);
        _temperature = temperature;
        _topK = topK;
        _topP = topP;
        _random = random;
    }

    protected override int ChooseToken(ReadOnlySpan<float> logits) => Sample(logits);

    private int Sample(ReadOnlySpan<float> logits)
    {
        if (_order.Length != logits.Length)
        {
            _order = new int[logits.Length];
            _weights = new double[logits.Length];
        }

        for (var i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        // Most likely first; equal logits keep id order so that a seed always gives the same draw.
        var scores = logits.ToArray();
        Array.Sort(_order, (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b));

        var kept = Math.Min(_topK ?? _order.Length, _order.Length);
        var max = scores[_order[0]] / _temperature;
        var total = 0.0;
        for (var i = 0; i < kept; i++)
        {
            _weights[i] = Math.Exp((scores[_order[i]] / _temperature) - max);
            total += _weights[i];
        }

        if (_topP is { } topP)
        {
            var cumulative = 0.0;
            for (var i = 0; i < kept; i++)
            {
                cumulative += _weights[i];
                if (cumulative >= topP * total)
                {
                    kept = i + 1;
                    total = cumulative;
                    break;
                }
            }
        }

        var draw = _random.NextDouble() * total;
        for (var i = 0; i < kept; i++)
        {
            draw -= _weights[i];
            if (draw < 0)
            {
                return _order[i];
            }
        }

        return _order[kept - 1];
    }
}
