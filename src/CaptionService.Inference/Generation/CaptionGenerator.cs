using System.Diagnostics;
using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Generation;

/// <summary>
/// The caption stage, with iteration-level (continuous) batching: the requests of a batch decode
/// together in one KV-cached decoder batch, each with its own strategy, and requests that arrive
/// while it runs join between decoder steps. A request is answered the moment its search finishes.
/// </summary>
/// <remarks>
/// How requests join depends on the decoder graph. With attention-mask and position inputs
/// (<see cref="DecoderGraph.MergesRows"/>: the packages' own cached decoders), they join the one
/// running batch as new rows whenever slots are free: their caches are left-padded and masked,
/// so every step stays one decoder run however many requests started at different times.
/// Without them (Optimum's vit-gpt2 merged decoders), rows at different positions cannot share a
/// run, so a joining group forms a cohort of its own and cohorts take turns, one decoder step
/// each; as every cohort costs a run of its own, a group joins only when the whole queue fits. A
/// beam search occupies as many batch slots as beams.
/// </remarks>
internal sealed class CaptionGenerator : IJoinableBatchExecutor<CaptionJob, IReadOnlyList<GeneratedSequence>>
{
    private readonly DecoderGraph _graph;
    private readonly long _startToken;
    private readonly int _maxRows;
    private readonly EngineMetrics? _metrics;

    /// <param name="graph">The caption decoder.</param>
    /// <param name="startToken">The decoder start token.</param>
    /// <param name="maxRows">The most rows the stage decodes at once (its batch slots): the room a batch that requests join reserves.</param>
    /// <param name="metrics">Where each decoder step's time is recorded; null: nowhere.</param>
    public CaptionGenerator(DecoderGraph graph, long startToken, int maxRows, EngineMetrics? metrics = null)
    {
        _graph = graph;
        _startToken = startToken;
        _maxRows = maxRows;
        _metrics = metrics;
    }

    /// <summary>Joining costs nothing when rows merge into the running decoder batch, so it is the default then.</summary>
    public bool JoinsByDefault => _graph.MergesRows;

    public int SlotsOf(CaptionJob payload) => payload.Plan.Beams;

    public ValueTask ExecuteAsync(
        IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> batch, CancellationToken cancellationToken)
    {
        using var cohort = new Cohort(this, batch, rowCapacity: SlotsOf(batch));
        while (cohort.Decoding.IsActive)
        {
            Step(cohort);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ExecuteAsync(
        IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> batch,
        IBatchJoiner<CaptionJob, IReadOnlyList<GeneratedSequence>> joiner,
        CancellationToken cancellationToken)
    {
        if (_graph.MergesRows)
        {
            DecodeMerged(batch, joiner);
        }
        else
        {
            DecodeInCohorts(batch, joiner);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>One decoder batch; new requests join it whenever slots are free.</summary>
    private void DecodeMerged(
        IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> batch,
        IBatchJoiner<CaptionJob, IReadOnlyList<GeneratedSequence>> joiner)
    {
        using var cohort = new Cohort(this, batch, rowCapacity: Math.Max(_maxRows, SlotsOf(batch)));
        while (cohort.Decoding.IsActive)
        {
            Step(cohort);
            var joined = joiner.TakeWaiting(cohort.SlotsInUse, wholeQueueOnly: false);
            if (joined.Count > 0)
            {
                cohort.Join(joined);
            }
        }
    }

    /// <summary>Cohorts that take turns, one decoder step each; a new one forms when the whole queue fits.</summary>
    private void DecodeInCohorts(
        IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> batch,
        IBatchJoiner<CaptionJob, IReadOnlyList<GeneratedSequence>> joiner)
    {
        var cohorts = new List<Cohort> { new(this, batch, rowCapacity: SlotsOf(batch)) };
        try
        {
            while (cohorts.Count > 0)
            {
                foreach (var cohort in cohorts)
                {
                    Step(cohort);
                }

                cohorts.RemoveAll(cohort => cohort.DisposeIfDone());
                var joined = joiner.TakeWaiting(cohorts.Sum(cohort => cohort.SlotsInUse), wholeQueueOnly: true);
                if (joined.Count > 0)
                {
                    cohorts.Add(new Cohort(this, joined, rowCapacity: SlotsOf(joined)));
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
    }

    private void Step(Cohort cohort)
    {
        var started = Stopwatch.GetTimestamp();
        cohort.Decoding.Step();
        _metrics?.RecordDecoderStep(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The rows the requests' searches can grow to (a beam search's, its beams).</summary>
    private int SlotsOf(IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> requests) =>
        requests.Sum(request => SlotsOf(request.Payload));

    /// <summary>Requests that decode in one decoder batch, with their searches.</summary>
    private sealed class Cohort : IDisposable
    {
        private readonly List<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> _requests;
        private readonly List<ISearch> _searches;
        private readonly IJoinableDecoderStep _decoder;

        public Cohort(
            CaptionGenerator generator, IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> requests, int rowCapacity)
        {
            _requests = [.. requests];
            _searches = [.. requests.Select(request => request.Payload.Plan.CreateSearch())];
            _decoder = generator._graph.CreateStep([.. requests.Select(request => request.Payload.EncoderState)], rowCapacity);
            ReleaseImageInputs(requests);
            Decoding = new DecodingCohort(
                _decoder,
                _searches,
                generator._startToken,
                [.. requests.Select(request => request.CancellationToken)],
                onFinished: index => _requests[index].Complete(_searches[index].Results),
                onCancelled: index => _requests[index].Fail(new OperationCanceledException(_requests[index].CancellationToken)));
        }

        public DecodingCohort Decoding { get; }

        /// <summary>The slots of the searches still decoding.</summary>
        public int SlotsInUse => Decoding.ActiveSearches.Sum(index => _requests[index].Payload.Plan.Beams);

        /// <summary>Adds requests as new rows of the running decoder batch (see <see cref="IJoinableDecoderStep.AddRows"/>).</summary>
        public void Join(IReadOnlyList<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> requests)
        {
            var searches = requests.Select(request => request.Payload.Plan.CreateSearch()).ToArray();
            _decoder.AddRows([.. requests.Select(request => request.Payload.EncoderState)]);
            ReleaseImageInputs(requests);
            _requests.AddRange(requests);
            _searches.AddRange(searches);
            Decoding.Join(searches, [.. requests.Select(request => request.CancellationToken)]);
        }

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

        /// <summary>The decoder holds its own copy of the rows the encode stage made: the requests' copies go at once.</summary>
        private static void ReleaseImageInputs(IEnumerable<BatchRequest<CaptionJob, IReadOnlyList<GeneratedSequence>>> requests)
        {
            foreach (var request in requests)
            {
                request.Payload.EncoderState.ReleaseCaptionImageInputs();
            }
        }
    }
}
