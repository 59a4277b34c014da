using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Generation;

/// <summary>
/// <see cref="IDecoderStep"/> over the ONNX decoder with a KV cache. Each step writes the grown
/// cache (present) into fresh pooled buffers that become the next step's past, so nothing is
/// recomputed; selecting rows gathers the cache and image inputs of the surviving rows.
/// </summary>
/// <remarks>
/// Rows may hold different numbers of tokens when the graph merges rows (<see cref="DecoderGraph.MergesRows"/>):
/// a row that joins later (<see cref="AddRows"/>) is left-padded to the cache's length, so every
/// row's latest token sits in the last slot. The attention mask hides each row's padding and the
/// position ids count its own tokens; once the longest rows have left, the padding columns that
/// no row needs are dropped.
/// </remarks>
internal sealed class OnnxDecoderStep : IJoinableDecoderStep
{
    private readonly DecoderGraph _graph;
    private readonly DecoderImageInputs _image;
    private readonly PooledBuffer<float>?[] _pastKeys;
    private readonly PooledBuffer<float>?[] _pastValues;
    private readonly CacheRowPositions _positions;
    private PooledBuffer<float>? _logits;

    /// <summary>Starts one row per encoder state, with an empty cache and room for <paramref name="rowCapacity"/> rows of image inputs.</summary>
    public OnnxDecoderStep(DecoderGraph graph, IReadOnlyList<EncoderState> encoderStates, int rowCapacity = 0)
    {
        _graph = graph;
        _image = graph.PrepareImages(encoderStates, rowCapacity);
        _positions = new CacheRowPositions(encoderStates.Count);
        _pastKeys = new PooledBuffer<float>?[graph.LayerCount];
        _pastValues = new PooledBuffer<float>?[graph.LayerCount];
        for (var layer = 0; layer < graph.LayerCount; layer++)
        {
            _pastKeys[layer] = new PooledBuffer<float>(0);
            _pastValues[layer] = new PooledBuffer<float>(0);
        }
    }

    public int RowCount => _positions.RowCount;

    public int VocabularySize => _graph.VocabularySize;

    /// <summary>Slots in the cache: the longest row's tokens.</summary>
    public int PastLength => _positions.PastLength;

    public ReadOnlySpan<float> Step(ReadOnlySpan<long> tokens)
    {
        using var inputs = new StepTokenInputs(tokens, _positions);
        var presentLength = RowCount * _graph.HeadCount * (PastLength + 1) * _graph.HeadSize;
        _logits?.Dispose();
        _logits = new PooledBuffer<float>(RowCount * _graph.VocabularySize);
        var presentKeys = new PooledBuffer<float>[_graph.LayerCount];
        var presentValues = new PooledBuffer<float>[_graph.LayerCount];
        try
        {
            for (var layer = 0; layer < _graph.LayerCount; layer++)
            {
                presentKeys[layer] = new PooledBuffer<float>(presentLength);
                presentValues[layer] = new PooledBuffer<float>(presentLength);
            }

            _graph.Run(new DecoderStepBuffers(
                RowCount,
                PastLength,
                inputs.InputIds,
                inputs.AttentionMask,
                inputs.PositionIds,
                _image,
                [.. _pastKeys.Select(b => b!.Memory)],
                [.. _pastValues.Select(b => b!.Memory)],
                _logits.Memory,
                [.. presentKeys.Select(b => b.Memory)],
                [.. presentValues.Select(b => b.Memory)]));
        }
        catch
        {
            DisposeAll(presentKeys);
            DisposeAll(presentValues);
            throw;
        }

        // The present becomes the past: ownership moves, nothing is copied.
        for (var layer = 0; layer < _graph.LayerCount; layer++)
        {
            _pastKeys[layer]!.Dispose();
            _pastValues[layer]!.Dispose();
            _pastKeys[layer] = presentKeys[layer];
            _pastValues[layer] = presentValues[layer];
        }

        _positions.Advance();
        return _logits.Span;
    }

    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        _image.SelectRows(sourceRows);
        var slots = _positions.PastLength;
        var kept = _positions.Select(sourceRows);
        for (var layer = 0; layer < _graph.LayerCount; layer++)
        {
            _pastKeys[layer] = PooledRows.GatherLastSlots(_pastKeys[layer]!, _graph.HeadCount, slots, _graph.HeadSize, kept, sourceRows);
            _pastValues[layer] = PooledRows.GatherLastSlots(_pastValues[layer]!, _graph.HeadCount, slots, _graph.HeadSize, kept, sourceRows);
        }
    }

    /// <summary>
    /// Appends one row per encoder state, with no tokens yet: their caches are zero padding, masked.
    /// Only for a graph that <see cref="DecoderGraph.MergesRows"/>.
    /// </summary>
    public void AddRows(IReadOnlyList<EncoderState> encoderStates)
    {
        if (!_graph.MergesRows)
        {
            throw new InvalidOperationException("Rows can join a running batch only when the decoder graph has attention_mask and position_ids inputs.");
        }

        _graph.AppendImages(_image, encoderStates);
        var rowLength = _graph.HeadCount * PastLength * _graph.HeadSize;
        for (var layer = 0; layer < _graph.LayerCount; layer++)
        {
            _pastKeys[layer] = PooledRows.AppendZeroRows(_pastKeys[layer]!, rowLength, encoderStates.Count);
            _pastValues[layer] = PooledRows.AppendZeroRows(_pastValues[layer]!, rowLength, encoderStates.Count);
        }

        _positions.Add(encoderStates.Count);
    }

    public void Dispose()
    {
        _image.Dispose();
        _logits?.Dispose();
        DisposeAll(_pastKeys);
        DisposeAll(_pastValues);
    }

    private static void DisposeAll(IEnumerable<PooledBuffer<float>?> buffers)
    {
        foreach (var buffer in buffers)
        {
            buffer?.Dispose();
        }
    }
}
