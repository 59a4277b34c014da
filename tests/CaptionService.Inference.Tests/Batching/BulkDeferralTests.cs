using System.Diagnostics;
using CaptionService.Inference.Batching;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Batching;

/// <summary>
/// Greedy work before beam work: bulk requests (here, those of more than one slot) start after the
/// others and stay out of the reserved slots of a running batch, but are never starved.
/// Payloads of <see cref="CountedStepsExecutor"/>: last digit slots, tens digit steps.
/// </summary>
public sealed class BulkDeferralTests : IDisposable
{
    private static readonly long s_noDeadline = long.MaxValue;

    /// <summary>Every call gets this token, so that a hung batcher fails the test instead of the run.</summary>
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    public void Dispose() => _timeout.Dispose();

    private static DynamicBatcher<int, int> Create(
        IBatchExecutor<int, int> executor, int rows, int reserved, TimeSpan deferral, bool bulkApart = false) =>
        new("test",
            new BatcherSettings(
                rows, MaxQueueDelay: TimeSpan.Zero, MaxQueueSize: 100, BulkDeferral: deferral, ReservedSlots: reserved, BulkApart: bulkApart),
            executor,
            NullLogger.Instance,
            isBulk: CountedStepsExecutor.IsBeamSearch);

    private async Task StepAsync(CountedStepsExecutor executor)
    {
        executor.Steps.Release();
        await executor.StepsDone.WaitAsync(_timeout.Token);
    }

    /// <summary>
    /// A beam search decodes in 4 of 8 rows, 4 reserved: a second one waits rather than fill the
    /// batch, so a greedy caption that arrives later joins at the next step instead of waiting for a
    /// beam search to end. The waiting beam search joins once the first one leaves.
    /// </summary>
    [Fact]
    public async Task AGreedyRequestArrivingBesideBeamSearchesJoinsAtTheNextStep()
    {
        var executor = new CountedStepsExecutor(_timeout.Token);
        await using var batcher = Create(executor, rows: 8, reserved: 4, deferral: TimeSpan.FromSeconds(30));

        var beam = batcher.EnqueueAsync(154, s_noDeadline, _timeout.Token); // 4 slots, 5 steps
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        var secondBeam = batcher.EnqueueAsync(254, s_noDeadline, _timeout.Token);
        await StepAsync(executor);

        var greedy = batcher.EnqueueAsync(311, s_noDeadline, _timeout.Token); // 1 slot, 1 step
        await StepAsync(executor);
        Assert.True(greedy.IsCompletedSuccessfully);
        Assert.False(secondBeam.IsCompleted);

        executor.Steps.Release(8);
        var results = await Task.WhenAll(beam, secondBeam, greedy);

        Assert.Equal([[], [311], [], [], [], [], [], [], [], []], executor.Joined);
        Assert.Equal([[154], [254]], executor.Batches);
        Assert.Equal([1540, 2540, 3110], results.Select(r => r.Value));
    }

    /// <summary>
    /// A beam search that has waited the deferral takes its place in arrival order: greedy captions
    /// that arrive after it no longer join ahead of it, though they would fit, so it starts as soon
    /// as the running captions leave it room.
    /// </summary>
    [Fact]
    public async Task ABeamRequestThatHasWaitedTheDeferralIsNoLongerOvertaken()
    {
        var deferral = TimeSpan.FromSeconds(1.5);
        var executor = new CountedStepsExecutor(_timeout.Token);
        await using var batcher = Create(executor, rows: 4, reserved: 2, deferral);

        var first = batcher.EnqueueAsync(151, s_noDeadline, _timeout.Token); // 1 slot, 5 steps
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        var beamQueued = Stopwatch.GetTimestamp();
        var beam = batcher.EnqueueAsync(234, s_noDeadline, _timeout.Token); // 4 slots, 3 steps
        var second = batcher.EnqueueAsync(351, s_noDeadline, _timeout.Token);

        // Step 1: the beam search is within its deferral, so the greedy caption behind it joins.
        await StepAsync(executor);
        Assert.Equal([351], executor.Joined[0]);

        // Step 2: it has waited the deferral; a greedy caption arriving now waits behind it.
        await Task.Delay(deferral + TimeSpan.FromSeconds(0.5) - Stopwatch.GetElapsedTime(beamQueued), _timeout.Token);
        var late = batcher.EnqueueAsync(411, s_noDeadline, _timeout.Token);
        executor.Steps.Release(20);
        var results = await Task.WhenAll(first, beam, second, late);

        Assert.Equal([], executor.Joined[1]);
        Assert.Equal([[151], [234], [411]], executor.Batches);
        Assert.Equal([1510, 2340, 3510, 4110], results.Select(r => r.Value));
    }

    /// <summary>
    /// The reservation never keeps beam searches out altogether: with 6 of 8 rows reserved, one
    /// beam search of 4 still joins while none decodes, and the next joins when it has left.
    /// </summary>
    [Fact]
    public async Task OneBeamSearchAlwaysJoinsWhenNoneDecodesWhateverTheReservation()
    {
        var executor = new CountedStepsExecutor(_timeout.Token);
        await using var batcher = Create(executor, rows: 8, reserved: 6, deferral: TimeSpan.FromSeconds(30));

        var greedy = batcher.EnqueueAsync(151, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        int[] waiting = [234, 334];
        var beams = waiting.Select(p => batcher.EnqueueAsync(p, s_noDeadline, _timeout.Token)).ToArray();
        executor.Steps.Release(6);
        await Task.WhenAll([greedy, .. beams]);

        Assert.Equal([[234], [], [], [334], [], []], executor.Joined);
    }

    /// <summary>
    /// In a stage whose batches run to completion (the encode stage), greedy captions' images that
    /// wait start before the beam searches' images that arrived earlier.
    /// </summary>
    [Fact]
    public async Task WithoutJoiningWaitingGreedyRequestsFormTheNextBatchFirst()
    {
        var executor = new RecordingExecutor();
        await using var batcher = Create(executor, rows: 2, reserved: 0, deferral: TimeSpan.FromSeconds(30));

        var first = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        int[] waiting = [12, 22, 31, 41];
        var others = waiting.Select(p => batcher.EnqueueAsync(p, s_noDeadline, _timeout.Token)).ToArray();
        executor.Gate.SetResult();
        await Task.WhenAll([first, .. others]);

        Assert.Equal([[1], [31, 41], [12, 22]], executor.Batches);
    }

    /// <summary>
    /// Kept apart, a beam search's image that waits beside greedy captions' images is not encoded in
    /// their batch, though it has room: it would lengthen it. It gets a batch of its own once no
    /// greedy image waits. Without <see cref="BatcherSettings.BulkApart"/> it rides along.
    /// </summary>
    [Theory]
    [InlineData(true, new[] { 31, 41 }, new[] { 12 })]
    [InlineData(false, new[] { 31, 41, 12 }, null)]
    public async Task KeptApartADeferredBeamImageWaitsForABatchWithoutGreedyImages(bool bulkApart, int[] second, int[]? third)
    {
        var executor = new RecordingExecutor();
        await using var batcher = Create(executor, rows: 4, reserved: 0, deferral: TimeSpan.FromSeconds(30), bulkApart);

        var first = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        int[] waiting = [12, 31, 41];
        var others = waiting.Select(p => batcher.EnqueueAsync(p, s_noDeadline, _timeout.Token)).ToArray();
        executor.Gate.SetResult();
        await Task.WhenAll([first, .. others]);

        int[][] expected = third is null ? [[1], second] : [[1], second, third];
        Assert.Equal(expected, executor.Batches);
    }

    /// <summary>Kept apart only for the deferral: a beam image that has waited it is encoded in arrival order, beside greedy images.</summary>
    [Fact]
    public async Task KeptApartABeamImageThatHasWaitedTheDeferralSharesTheNextBatch()
    {
        var deferral = TimeSpan.FromSeconds(0.5);
        var executor = new RecordingExecutor();
        await using var batcher = Create(executor, rows: 4, reserved: 0, deferral, bulkApart: true);

        var first = batcher.EnqueueAsync(1, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        var beam = batcher.EnqueueAsync(12, s_noDeadline, _timeout.Token);
        await Task.Delay(deferral + TimeSpan.FromSeconds(0.3), _timeout.Token);
        var greedy = batcher.EnqueueAsync(31, s_noDeadline, _timeout.Token);
        executor.Gate.SetResult();
        await Task.WhenAll(first, beam, greedy);

        Assert.Equal([[1], [12, 31]], executor.Batches);
    }

    /// <summary>Deferral is no shelter from the deadline: a beam request kept waiting past it is answered 503.</summary>
    [Fact]
    public async Task ADeferredBeamRequestStillMeetsItsDeadline()
    {
        var executor = new CountedStepsExecutor(_timeout.Token);
        await using var batcher = Create(executor, rows: 8, reserved: 4, deferral: TimeSpan.FromSeconds(30));

        var beam = batcher.EnqueueAsync(154, s_noDeadline, _timeout.Token);
        await executor.FirstBatchStarted.WaitAsync(_timeout.Token);
        var deferred = batcher.EnqueueAsync(254, Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10, _timeout.Token);

        var refused = await Assert.ThrowsAsync<InferenceRejectedException>(() => deferred.WaitAsync(_timeout.Token));
        Assert.Equal(RejectionReason.DeadlineExceeded, refused.Reason);
        executor.Steps.Release(5);
        await beam;
        Assert.All(executor.Joined, joined => Assert.Empty(joined));
    }
}
