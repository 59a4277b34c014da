using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Generation;

/// <summary>
/// <see cref="IDecoderStep"/> over the ONNX decoder with a KV cache. Each step writes the grown
/// cache (present) into fresh pooled buffers that become the next step's past, so nothing is
/// recomputed; selecting rows gathers the cache and encoder states of the surviving rows.
/// </summary>
internal sealed class OnnxDecoderStep : IDecoderStep
{
    private readonly DecoderGraph _graph;
    private readonly int _encoderSequenceLength;
    private readonly int _encoderHiddenSize;
    private readonly PooledBuffer<float>?[] _pastKeys;
    private readonly PooledBuffer<float>?[] _pastValues;
    private PooledBuffer<float> _encoderStates;
    private PooledBuffer<float>? _logits;
    private int _pastLength;

    /// <summary>Starts one row per encoder state, with an empty cache.</summary>
    public OnnxDecoderStep(DecoderGraph graph, IReadOnlyList<EncoderState> encoderStates)
    {
        if (encoderStates.Count == 0)
        {
            throw new ArgumentException("At least one row is needed.", nameof(encoderStates));
        }

        _graph = graph;
        _encoderSequenceLength = encoderStates[0].SequenceLength;
        _encoderHiddenSize = encoderStates[0].HiddenSize;
        var rowLength = _encoderSequenceLength * _encoderHiddenSize;
        _encoderStates = new PooledBuffer<float>(rowLength * encoderStates.Count);
        for (var row = 0; row < encoderStates.Count; row++)
        {
            if (encoderStates[row].Length != rowLength)
            {
                throw new ArgumentException("All encoder states in a batch must have the same shape.", nameof(encoderStates));
            }

            encoderStates[row].Values.CopyTo(_encoderStates.Span.Slice(row * rowLength, rowLength));
        }

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
                _encoderSequenceLength,
                _encoderHiddenSize,
                inputIds.Memory,
                _encoderStates.Memory,
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
        var encoderRow = _encoderSequenceLength * _encoderHiddenSize;
        _encoderStates = Gather(_encoderStates, encoderRow, sourceRows);
        var cacheRow = _graph.HeadCount * _pastLength * _graph.HeadSize;
        for (var layer = 0; layer < _graph.LayerCount; layer++)
        {
            _pastKeys[layer] = Gather(_pastKeys[layer]!, cacheRow, sourceRows);
            _pastValues[layer] = Gather(_pastValues[layer]!, cacheRow, sourceRows);
        }

        RowCount = sourceRows.Length;
    }

    public void Dispose()
    {
        _encoderStates.Dispose();
        _logits?.Dispose();
        DisposeAll(_pastKeys);
        DisposeAll(_pastValues);
    }

    /// <summary>Copies the chosen rows (each <paramref name="rowLength"/> floats) into a new buffer and releases the old one.</summary>
    private static PooledBuffer<float> Gather(PooledBuffer<float> source, int rowLength, ReadOnlySpan<int> sourceRows)
    {
        var gathered = new PooledBuffer<float>(rowLength * sourceRows.Length);
        var from = source.Span;
        var to = gathered.Span;
        for (var row = 0; row < sourceRows.Length; row++)
        {
            from.Slice(sourceRows[row] * rowLength, rowLength).CopyTo(to.Slice(row * rowLength, rowLength));
        }

        source.Dispose();
        return gathered;
    }

    private static void DisposeAll(IEnumerable<PooledBuffer<float>?> buffers)
    {
        foreach (var buffer in buffers)
        {
            buffer?.Dispose();
        }
    }
}
