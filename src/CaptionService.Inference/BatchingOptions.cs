using System.ComponentModel.DataAnnotations;

namespace CaptionService.Inference;

/// <summary>
/// Dynamic batching, applied to each stage (encode, caption, score) separately.
/// Section <c>CaptionService:Batching</c>.
/// </summary>
public sealed class BatchingOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "CaptionService:Batching";

    /// <summary>
    /// A batch closes as soon as it holds this many requests. In caption decoding with
    /// <see cref="JoinRunningBatches"/> the unit is a slot (a beam search takes one per beam), and
    /// it also bounds what may join a running batch.
    /// </summary>
    [Range(1, 1024)]
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>A batch closes when its oldest request has waited this long, full or not.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan MaxQueueDelay { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Caption decoding only: requests that arrive while captions decode join between decoder
    /// steps, so that a short request need not wait for a long beam search. Unset (the default):
    /// on when the caption decoder has <c>attention_mask</c> and <c>position_ids</c> inputs, so
    /// that joining requests become rows of the running decoder batch (a real-size package's cached
    /// decoder); off otherwise. Forced on for a decoder without those inputs, requests join as a
    /// cohort of their own, and only when the whole queue fits in the free slots: each cohort is a
    /// decoder run of its own, which cost throughput (default package at concurrency 64: 0.80x).
    /// </summary>
    public bool? JoinRunningBatches { get; set; }

    /// <summary>
    /// Caption decoding: the slots (one per greedy or sampled caption, one per beam) that decode
    /// at once. Unset: twice <see cref="MaxBatchSize"/> when requests join as rows of the running
    /// decoder batch (see <see cref="JoinRunningBatches"/>), so that requests still join beside a
    /// full batch (two <c>beams=8</c> searches fill 16 slots); <see cref="MaxBatchSize"/> otherwise.
    /// </summary>
    [Range(1, 4096)]
    public int? MaxDecodingRows { get; set; }

    /// <summary>
    /// Caption decoding, when requests join running batches: of the <see cref="MaxDecodingRows"/>
    /// slots, those that beam searches may not take, so that a greedy (or sampled) caption, one row,
    /// joins at the next decoder step even while beam searches decode. Beam searches also start
    /// after waiting greedy captions, in decoding and in image encoding. Both hold only while a beam
    /// request has waited less than <see cref="BeamSearchDeferral"/>: then it takes its place
    /// in arrival order, reserved rows or not, and one beam search always starts when none decodes,
    /// so beam requests are delayed, never starved. Unset: half the decoding rows (with the
    /// defaults, 16 of 32: beam searches keep the 16 slots of one full batch, two <c>beams=8</c>
    /// searches, and up to 16 greedy captions join beside them at once). 0: rows are not reserved,
    /// though greedy captions still start first.
    /// </summary>
    [Range(0, 4096)]
    public int? GreedyReservedRows { get; set; }

    /// <summary>
    /// How long a beam search's request lets greedy (and sampled) captions that arrive after it
    /// start first, in image encoding and in caption decoding; after that it takes its place in
    /// arrival order. When requests join running batches, its image is meanwhile not encoded in
    /// the same batch as greedy captions' images either: an encoder batch's time grows with its
    /// images on a CPU, and a beam request's would lengthen theirs (probes on the real-size package
    /// on 2 cores, 8 greedy clients beside 2 sending <c>beams=8</c>, 3 rounds of 120 s: the greedy
    /// median went from 1.40x its time without the beam clients to 1.29x, the beam requests' from
    /// 2.8 s to 3.7 s). Unset: half the <see cref="RequestTimeout"/>, at most 2 s (a real-size
    /// encoder batch of 4 images takes about 1 s there), so that a long timeout does not let greedy
    /// traffic hold beam requests back for minutes; 0: plain arrival order. Shorter than the
    /// <see cref="RequestTimeout"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan? BeamSearchDeferral { get; set; }

    /// <summary>The <see cref="BeamSearchDeferral"/> in force.</summary>
    public TimeSpan EffectiveBeamSearchDeferral =>
        BeamSearchDeferral ?? TimeSpan.FromTicks(Math.Min(RequestTimeout.Ticks / 2, DefaultMaxBeamSearchDeferral.Ticks));

    private static readonly TimeSpan DefaultMaxBeamSearchDeferral = TimeSpan.FromSeconds(2);

    /// <summary>Requests a stage holds before it refuses more (429).</summary>
    [Range(1, 100_000)]
    public int MaxQueueSize { get; set; } = 256;

    /// <summary>A request not started within this time of arrival is answered 503 instead.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A request taken into a batch that has not been answered this long after it started running
    /// is answered 503 (<see cref="RejectionReason.ExecutionTimedOut"/>) and abandoned, so that a
    /// hung model run never leaves a client waiting without bound. The stage runs its next batch
    /// only once the hung one returns (its executor's buffers are not shared safely); until then,
    /// queued requests are answered 503 at their <see cref="RequestTimeout"/>. The bound counts
    /// from each request's own start, so a running batch that requests join does not trip it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan BatchTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A deadline no longer than the queue delay would expire requests that merely waited for
    /// their batch to close, warm-up's among them, so the server could never become ready; one no
    /// longer than the beam search deferral, beam requests that greedy ones keep overtaking.
    /// </summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RequestTimeout <= MaxQueueDelay)
        {
            yield return new ValidationResult(
                $"RequestTimeout ({RequestTimeout}) must be longer than MaxQueueDelay ({MaxQueueDelay}).",
                [nameof(RequestTimeout), nameof(MaxQueueDelay)]);
        }

        if (BeamSearchDeferral >= RequestTimeout)
        {
            yield return new ValidationResult(
                $"BeamSearchDeferral ({BeamSearchDeferral}) must be shorter than RequestTimeout ({RequestTimeout}): a beam request deferred that long could never start.",
                [nameof(BeamSearchDeferral), nameof(RequestTimeout)]);
        }
    }
}
