using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Generation;

/// <summary>
/// <see cref="IDecoderStep"/> over the ONNX decoder with a KV cache. Each step writes the grown
/// cache (present) into fresh pooled buffers that become the next step's past, so nothing is
/// recomputed; selecting rows gathers the cache and image inputs of the surviving rows.
/// </summary>
internal sealed class OnnxDecoderStep : IDecoderStep
{
    private readonly DecoderGraph _graph;
    private readonly DecoderImageInputs _image;
    private readonly PooledBuffer<float>?[] _pastKeys;
    private readonly PooledBuffer<float>?[] _pastValues;
    private PooledBuffer<float>? _logits;
    private int _pastLength;

    /// <summary>Starts one row per encoder state, with an empty cache.</summary>
    public OnnxDecoderStep(DecoderGraph graph, IReadOnlyList<EncoderState> encoderStates)
    {
        _graph = graph;
        _image = graph.PrepareImages(encoderStates);
        RowCount = encoderStates.Count;
        _pastKeys = new PooledBuffer<float>?[graph.LayerCount];
        _pastValues = new PooledBuffer<float>?[graph.LayerCount];
        for (var layer = 0; layer < graph.LayerCount; layer++)
        {
            _pastKeys[layer] = new PooledBuffer<float>(0);
            _pastValues[layer] = new PooledBuffer<float>(0);
        }
    }

    public int RowCount { get; private set; }

    public int VocabularySize => _graph.VocabularySize;

    /// <summary>Tokens already in the cache.</summary>
    public int PastLength => _pastLength;

    public ReadOnlySpan<float> Step(ReadOnlySpan<long> tokens)
    {
        if (tokens.Length != RowCount)
        {
            throw new ArgumentException($"Expected {RowCount} tokens, got {tokens.Length}.", nameof(tokens));
        }

        var presentLength = RowCount * _graph.HeadCount * (_pastLength + 1) * _graph.HeadSize;
        using var inputIds = new PooledBuffer<long>(RowCount);
        tokens.CopyTo(inputIds.Span);
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
                _pastLength,
                inputIds.Memory,
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

        _pastLength++;
        return _logits.Span;
    }

    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        _image.SelectRows(sourceRows);
        var cacheRow = _graph.HeadCount * _pastLength * _graph.HeadSize;
        for (var layer = 0; layer < _graph.LayerCount; layer++)
        {
            _pastKeys[layer] = PooledRows.Gather(_pastKeys[layer]!, cacheRow, sourceRows);
            _pastValues[layer] = PooledRows.Gather(_pastValues[layer]!, cacheRow, sourceRows);
        }

        RowCount = sourceRows.Length;
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
