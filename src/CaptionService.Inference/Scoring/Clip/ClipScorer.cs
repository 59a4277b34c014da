using CaptionService.Inference.Batching;

namespace CaptionService.Inference.Scoring.Clip;

/// <summary>
/// The CLIP score stage: the batch's images are encoded together (once each), then all texts of all
/// requests together, in chunks of at most <see cref="MaxTextsPerRun"/>. Each text's similarity is
/// the cosine between its embedding and its own image's; its score is the softmax over its
/// request's texts of <c>logit_scale × cosine</c>, which is what transformers' and transformers.js's
/// zero-shot-image-classification return.
/// </summary>
internal sealed class ClipScorer : IBatchExecutor<ClipScoreJob, ClipScores>
{
    /// <summary>Text rows per run, to bound memory: 16 requests × 64 texts would otherwise be one large batch.</summary>
    internal const int MaxTextsPerRun = 256;

    private readonly ClipGraphs _graphs;
    private readonly double _logitScale;
    private readonly long _paddingId;
    private readonly int _height;
    private readonly int _width;

    public ClipScorer(ClipGraphs graphs, double logitScale, long paddingId, int height, int width)
    {
        _graphs = graphs;
        _logitScale = logitScale;
        _paddingId = paddingId;
        _height = height;
        _width = width;
    }

    public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<ClipScoreJob, ClipScores>> batch, CancellationToken cancellationToken)
    {
        var imageLength = 3 * _height * _width;
        using var pixels = new PooledBuffer<float>(batch.Count * imageLength);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Payload.Pixels.Span.CopyTo(pixels.Span.Slice(i * imageLength, imageLength));
        }

        var images = _graphs.EncodeImages(pixels.Memory, batch.Count, _height, _width);
        var rows = batch.SelectMany((request, image) => request.Payload.TokenizedTexts.Select(ids => (Image: image, Ids: ids))).ToList();
        var similarities = new double[rows.Count];
        var size = _graphs.EmbeddingSize;
        for (var start = 0; start < rows.Count; start += MaxTextsPerRun)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = rows.GetRange(start, Math.Min(MaxTextsPerRun, rows.Count - start));
            var (ids, mask, length) = ClipGraphs.Pad([.. chunk.Select(r => r.Ids)], _paddingId);
            var texts = _graphs.EncodeTexts(ids, mask, chunk.Count, length, _height, _width);
            for (var row = 0; row < chunk.Count; row++)
            {
                similarities[start + row] = ClipGraphs.Dot(images, chunk[row].Image, texts, row, size);
            }
        }

        var offset = 0;
        foreach (var request in batch)
        {
            var count = request.Payload.TokenizedTexts.Count;
            var own = similarities[offset..(offset + count)];
            request.Complete(new ClipScores(own, Softmax(own, _logitScale)));
            offset += count;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>softmax(scale × cosine), shifted by the largest logit so that it cannot overflow.</summary>
    internal static double[] Softmax(IReadOnlyList<double> cosines, double scale)
    {
        var logits = cosines.Select(c => scale * c).ToArray();
        var max = logits.Max();
        var exps = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exps.Sum();
        return [.. exps.Select(e => e / sum)];
    }
}
