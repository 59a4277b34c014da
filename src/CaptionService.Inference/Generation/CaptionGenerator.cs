using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Generation;

/// <summary>
/// The caption stage, with iteration-level (continuous) batching: the requests of a batch decode
/// together in one KV-cached decoder batch (a cohort), each with its own strategy, and requests
/// that arrive while it runs join between decoder steps as a cohort of their own when the whole
/// queue fits in the free slots. Cohorts take turns, one decoder step each, so a new request waits
/// for at most one step of each running cohort, not for a whole long beam search. A request is
/// answered the moment its search finishes.
/// </summary>
/// <remarks>
/// Cohorts rather than one merged batch: rows at different positions could share one decoder run
/// only with attention-mask and position inputs, which Optimum's vit-gpt2 merged decoders (and
/// the bundled package's) do not have. A beam search occupies as many batch slots as beams.
/// </remarks>
internal sealed class CaptionGenerator : IJoinableBatchExecutor<CaptionJob, IReadOnlyList<GeneratedSequence>>
{
    private readonly DecoderGraph _graph;
    private readonly long _startToken;

    public CaptionGenerator(DecoderGraph graph, long startToken)
    {
        _graph = graph;
        _startToken = startToken;
    }

    public int SlotsOf(CaptionJob payload) => payload.Plan.Beams;

    public ValueTask ExecuteAsync(
        IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> batch, CancellationToken cancellationToken)
    {
        using var cohort = new Cohort(this, batch);
        while (cohort.Decoding.IsActive)
        {
            cohort.Decoding.Step();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ExecuteAsync(
        IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> batch,
        IBatchJoiner<CaptionJob, IReadOnlyList<GeneratedSequence>> joiner,
        CancellationToken cancellationToken)
    {
        var cohorts = new List<Cohort> { new(this, [.. batch]) };
        try
        {
            while (cohorts.Count > 0)
            {
                foreach (var cohort in cohorts)
                {
                    cohort.Decoding.Step();
                }

                cohorts.RemoveAll(cohort => cohort.DisposeIfDone());
                var joined = joiner.TakeWaiting(cohorts.Sum(cohort => cohort.SlotsInUse));
                if (joined.Count > 0)
                {
                    cohorts.Add(new Cohort(this, joined));
                }
            }
        }
        finally
        {
            foreach (var cohort in cohorts)
            {
                cohort.Dispose();
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Requests that started decoding together, with their decoder batch and searches.</summary>
    private sealed class Cohort : IDisposable
    {
        private readonly IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> _requests;
        private readonly OnnxDecoderStep _decoder;

        public Cohort(CaptionGenerator generator, IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> requests)
        {
            _requests = requests;
            var searches = requests.Select(request => request.Payload.Plan.CreateSearch()).ToArray();
            _decoder = new OnnxDecoderStep(generator._graph, [.. requests.Select(request => request.Payload.EncoderState)]);
            Decoding = new DecodingCohort(
                _decoder,
                searches,
                generator._startToken,
                [.. requests.Select(request => request.CancellationToken)],
                onFinished: index => requests[index].Complete(searches[index].Results),
                onCancelled: index => requests[index].Fail(new OperationCanceledException(requests[index].CancellationToken)));
        }

        public DecodingCohort Decoding { get; }

        /// <summary>The slots of the searches still decoding.</summary>
        public int SlotsInUse => Decoding.ActiveSearches.Sum(index => _requests[index].Payload.Plan.Beams);

        public bool DisposeIfDone()
        {
            if (Decoding.IsActive)
            {
                return false;
            }

            Dispose();
            return true;
        }

        public void Dispose() => _decoder.Dispose();
    }
}
