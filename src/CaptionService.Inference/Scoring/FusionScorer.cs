using CaptionService.Inference.Batching;
using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Scoring;

/// <summary>
/// The score stage: every text of every request in the batch goes through the fusion graph
/// together (in chunks of at most <see cref="MaxRowsPerRun"/> rows, to bound memory), each text
/// paired with its own image's encoder state; scores are sigmoid(logit), in the order sent.
/// </summary>
internal sealed class FusionScorer : IBatchExecutor<ScoreJob, double[]>
{
    /// <summary>Rows (texts) per fusion run; 16 requests × 64 texts would otherwise need one very large tensor.</summary>
    internal const int MaxRowsPerRun = 256;

    private readonly FusionGraph _graph;
    private readonly long _paddingId;

    public FusionScorer(FusionGraph graph, long paddingId)
    {
        _graph = graph;
        _paddingId = paddingId;
    }

    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<ScoreJob, double[]>> batch, CancellationToken cancellationToken)
    {
        var rows = new List<(EncoderState State, long[] Ids)>();
        foreach (var request in batch)
        {
            rows.AddRange(request.Payload.TokenizedTexts.Select(ids => (request.Payload.EncoderState, ids)));
        }

        var scores = new double[rows.Count];
        for (var start = 0; start < rows.Count; start += MaxRowsPerRun)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(MaxRowsPerRun, rows.Count - start);
            ScoreChunk(rows.GetRange(start, count), scores.AsSpan(start, count));
        }

        var offset = 0;
        foreach (var request in batch)
        {
            var count = request.Payload.TokenizedTexts.Count;
            request.Complete(scores[offset..(offset + count)]);
            offset += count;
        }

        return ValueTask.CompletedTask;
    }

    private void ScoreChunk(List<(EncoderState State, long[] Ids)> rows, Span<double> scores)
    {
        var sequenceLength = rows.Max(r => r.Ids.Length);
        var encoderSequenceLength = rows[0].State.SequenceLength;
        var encoderHiddenSize = rows[0].State.HiddenSize;
        var encoderRow = encoderSequenceLength * encoderHiddenSize;
        using var ids = new PooledBuffer<long>(rows.Count * sequenceLength);
        using var mask = new PooledBuffer<long>(rows.Count * sequenceLength, clear: true);
        using var states = new PooledBuffer<float>(rows.Count * encoderRow);
        using var logits = new PooledBuffer<float>(rows.Count);
        ids.Span.Fill(_paddingId);
        for (var row = 0; row < rows.Count; row++)
        {
            var (state, tokens) = rows[row];
            tokens.CopyTo(ids.Span.Slice(row * sequenceLength, tokens.Length));
            mask.Span.Slice(row * sequenceLength, tokens.Length).Fill(1);
            state.Values.CopyTo(states.Span.Slice(row * encoderRow, encoderRow));
        }

        _graph.Run(rows.Count, sequenceLength, ids.Memory, mask.Memory, states.Memory, encoderSequenceLength, encoderHiddenSize, logits.Span);
        for (var row = 0; row < rows.Count; row++)
        {
            scores[row] = Sigmoid(logits.Span[row]);
        }
    }

    internal static double Sigmoid(double logit) => 1.0 / (1.0 + Math.Exp(-logit));
}
