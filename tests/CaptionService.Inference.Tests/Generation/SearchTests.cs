using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Tests.Generation;

/// <summary>Greedy, beam and sampling decoding on a toy model whose answers are worked out by hand.</summary>
public sealed class SearchTests
{
    private const long Start = 0;
    private const long End = 1;
    private const long A = 2;
    private const long B = 3;
    private const long C = 4;
    private const int Vocabulary = 5;

    /// <summary>
    /// After start: A .5, B .4, end .1. After A: B .4, C .3, end .3. After A B or A C: end.
    /// After B: end .9, C .1. Greedy takes A then B (p = .5 × .4 = .2); the best sequence is B end (p = .36).
    /// </summary>
    private static Dictionary<long, double> Table(IReadOnlyList<long> history) => history.Skip(1).ToArray() switch
    {
        [] => new Dictionary<long, double> { [A] = .5, [B] = .4, [End] = .1 },
        [A] => new Dictionary<long, double> { [B] = .4, [C] = .3, [End] = .3 },
        [A, _] => new Dictionary<long, double> { [End] = 1.0 },
        [B] => new Dictionary<long, double> { [End] = .9, [C] = .1 },
        _ => new Dictionary<long, double> { [End] = 1.0 },
    };

    private static void Run(ToyDecoder decoder, params ISearch[] searches) =>
        SearchDriver.Run(decoder, searches, Start, [.. searches.Select(_ => CancellationToken.None)], _ => { }, _ => { });

    [Fact]
    public void GreedyTakesTheMostLikelyTokenEachStep()
    {
        var greedy = new GreedySearch(maxNewTokens: 10, End);

        Run(new ToyDecoder(1, Vocabulary, Table), greedy);

        var result = Assert.Single(greedy.Results);
        Assert.Equal([A, B, End], result.Tokens);
        Assert.Equal(Math.Log(.2), result.LogProb, 4);
        Assert.Equal(Math.Pow(.2, 1.0 / 3), result.Confidence, 4);
    }

    [Fact]
    public void GreedyBreaksTiesTowardsTheLowestId()
    {
        var greedy = new GreedySearch(maxNewTokens: 1, End);

        Run(new ToyDecoder(1, Vocabulary, _ => new Dictionary<long, double> { [C] = .4, [B] = .4, [A] = .2 }), greedy);

        Assert.Equal([B], greedy.Results[0].Tokens);
    }

    [Fact]
    public void MaxTokensCutsTheSequenceCountingEveryGeneratedToken()
    {
        var greedy = new GreedySearch(maxNewTokens: 2, End);

        Run(new ToyDecoder(1, Vocabulary, Table), greedy);

        Assert.Equal([A, B], greedy.Results[0].Tokens);
        Assert.Equal(Math.Log(.2), greedy.Results[0].LogProb, 4);
    }

    [Fact]
    public void BeamSearchFindsTheMoreLikelySequenceGreedyMisses()
    {
        var beam = new BeamSearch(beams: 2, alternatives: 2, maxNewTokens: 10, End);

        Run(new ToyDecoder(1, Vocabulary, Table), beam);

        Assert.Equal(2, beam.Results.Count);
        Assert.Equal([B, End], beam.Results[0].Tokens);
        Assert.Equal(Math.Log(.36), beam.Results[0].LogProb, 4);
        Assert.Equal([A, B, End], beam.Results[1].Tokens);
        Assert.Equal(Math.Log(.2), beam.Results[1].LogProb, 4);
    }

    [Fact]
    public void ALengthPenaltyAboveZeroRanksLongerHypothesesAsTransformersDoes()
    {
        // Scores are log p / tokens ^ 3: B end = ln .36 / 8 = -0.128, A B end = ln .2 / 27 = -0.060,
        // A C end = ln .15 / 27 = -0.070; the two three-token endings push B end out of the 2 kept.
        var beam = new BeamSearch(beams: 2, alternatives: 2, maxNewTokens: 10, End, lengthPenalty: 3);

        Run(new ToyDecoder(1, Vocabulary, Table), beam);

        Assert.Equal([[A, B, End], [A, C, End]], beam.Results.Select(r => r.Tokens));
        Assert.Equal(Math.Log(.2) / 27, beam.Results[0].Score!.Value, 4);
        Assert.Equal(Math.Log(.2), beam.Results[0].LogProb, 4);
    }

    [Fact]
    public void ALengthPenaltyOfZeroRanksBySummedLogProbability()
    {
        var beam = new BeamSearch(beams: 2, alternatives: 2, maxNewTokens: 10, End, lengthPenalty: 0, EarlyStopping.Never);

        Run(new ToyDecoder(1, Vocabulary, Table), beam);

        Assert.Equal([[B, End], [A, B, End]], beam.Results.Select(r => r.Tokens));
        Assert.Equal(Math.Log(.36), beam.Results[0].Score!.Value, 4);
    }

    [Fact]
    public void OneBeamIsGreedy()
    {
        var beam = new BeamSearch(beams: 1, alternatives: 1, maxNewTokens: 10, End);

        Run(new ToyDecoder(1, Vocabulary, Table), beam);

        Assert.Equal([A, B, End], Assert.Single(beam.Results).Tokens);
    }

    [Fact]
    public void BeamsCutOffAtTheTokenLimitStillReturnTheBestHypotheses()
    {
        var beam = new BeamSearch(beams: 3, alternatives: 3, maxNewTokens: 1, End);

        Run(new ToyDecoder(1, Vocabulary, Table), beam);

        Assert.Equal([[A], [B], [End]], beam.Results.Select(r => r.Tokens));
    }

    [Fact]
    public void RequestsShareOneBatchAndFinishedOnesAreCompactedOut()
    {
        // Request 0 ends at once; request 1 needs three steps; request 2 (beam 2) forks into two rows.
        var decoder = new ToyDecoder(3, Vocabulary, history => history.Count switch
        {
            1 => new Dictionary<long, double> { [A] = .6, [B] = .3, [End] = .1 },
            _ => new Dictionary<long, double> { [End] = 1.0 },
        });
        var endsAtOnce = new GreedySearch(maxNewTokens: 1, End);
        var greedy = new GreedySearch(maxNewTokens: 10, End);
        var beam = new BeamSearch(beams: 2, alternatives: 2, maxNewTokens: 10, End);
        var finishedOrder = new List<int>();

        SearchDriver.Run(decoder, [endsAtOnce, greedy, beam], Start, [CancellationToken.None, CancellationToken.None, CancellationToken.None], finishedOrder.Add, _ => { });

        Assert.Equal([3, 3], decoder.RowsPerStep); // step 1: 3 rows; step 2: greedy 1 + beam 2, the finished row gone
        Assert.Equal([0, 1, 2], finishedOrder);
        Assert.Equal([A, End], greedy.Results[0].Tokens);
        Assert.Equal([[A, End], [B, End]], beam.Results.Select(r => r.Tokens));
    }

    [Fact]
    public void ACancelledRequestLeavesTheBatchAtTheNextStep()
    {
        using var cancelled = new CancellationTokenSource();
        var decoder = new ToyDecoder(2, Vocabulary, _ => new Dictionary<long, double> { [A] = .9, [End] = .1 });
        var kept = new GreedySearch(maxNewTokens: 4, End);
        var dropped = new GreedySearch(maxNewTokens: 4, End);
        var cancelledIndices = new List<int>();
        var steps = 0;

        SearchDriver.Run(
            new CancellingDecoder(decoder, () => { if (++steps == 2) { cancelled.Cancel(); } }),
            [kept, dropped], Start, [CancellationToken.None, cancelled.Token], _ => { }, cancelledIndices.Add);

        Assert.Equal([1], cancelledIndices);
        Assert.Equal([2, 2, 1, 1], decoder.RowsPerStep);
        Assert.Equal(4, kept.Results[0].Tokens.Length);
        Assert.Empty(dropped.Results);
    }

    [Fact]
    public void SamplingWithTheSameSeedDrawsTheSameSequence()
    {
        Dictionary<long, double> Uniform(IReadOnlyList<long> history) =>
            new Dictionary<long, double> { [A] = .3, [B] = .3, [C] = .3, [End] = .1 };
        var first = new SamplingSearch(8, End, temperature: 1.0, topK: null, topP: null, new Random(42));
        var second = new SamplingSearch(8, End, temperature: 1.0, topK: null, topP: null, new Random(42));

        Run(new ToyDecoder(1, Vocabulary, Uniform), first);
        Run(new ToyDecoder(1, Vocabulary, Uniform), second);

        Assert.Equal(first.Results[0].Tokens, second.Results[0].Tokens);
        Assert.Equal(first.Results[0].LogProb, second.Results[0].LogProb);
    }

    [Fact]
    public void SamplingWithTopKOneIsGreedy()
    {
        var sampled = new SamplingSearch(10, End, temperature: 5.0, topK: 1, topP: null, new Random(1));

        Run(new ToyDecoder(1, Vocabulary, Table), sampled);

        Assert.Equal([A, B, End], sampled.Results[0].Tokens);
        Assert.Equal(Math.Log(.2), sampled.Results[0].LogProb, 4); // log-prob under the model, not the tempered distribution
    }

    [Fact]
    public void TopPKeepsOnlyTheSmallestSetReachingP()
    {
        // A .5 + B .4 reach .85 first, so C and end are never drawn whatever the seed.
        for (var seed = 0; seed < 50; seed++)
        {
            var sampled = new SamplingSearch(1, End, temperature: 1.0, topK: null, topP: .85, new Random(seed));
            Run(new ToyDecoder(1, Vocabulary, _ => new Dictionary<long, double> { [A] = .5, [B] = .4, [C] = .06, [End] = .04 }), sampled);
            Assert.Contains(sampled.Results[0].Tokens[0], new[] { A, B });
        }
    }

    /// <summary>Runs a callback before each step, to cancel a request mid-generation.</summary>
    private sealed class CancellingDecoder(ToyDecoder inner, Action beforeStep) : IDecoderStep
    {
        public int RowCount => inner.RowCount;

        public int VocabularySize => inner.VocabularySize;

        public ReadOnlySpan<float> Step(ReadOnlySpan<long> tokens)
        {
            beforeStep();
            return inner.Step(tokens);
        }

        public void SelectRows(ReadOnlySpan<int> sourceRows) => inner.SelectRows(sourceRows);

        public void Dispose() => inner.Dispose();
    }
}
