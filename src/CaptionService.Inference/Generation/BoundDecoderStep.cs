using CaptionService.Inference.Encoding;
using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.Generation;

/// <summary>
/// <see cref="IJoinableDecoderStep"/> whose state stays on the execution provider's device: each
/// step binds the past and the image inputs (<see cref="DeviceImageInputs"/>) as the device tensors
/// they are, lets ONNX Runtime allocate the present there, and takes it as the next step's past
/// without a copy. Only the logits come back to host memory. Selecting and adding rows run the
/// row graphs (<see cref="DeviceRows"/>) on the device.
/// </summary>
/// <remarks>
/// The code is the same on CPU and CUDA; only the memory the device tensors live in differs
/// (<see cref="ModelPackage.OrtSessionFactory.DeviceMemory"/>). Rows are left-padded and masked as in
/// <see cref="OnnxDecoderStep"/>. Every device tensor is owned by exactly one field (the past, the
/// image inputs) and disposed when it is replaced or with the step.
/// </remarks>
internal sealed class BoundDecoderStep : IJoinableDecoderStep
{
    private readonly DecoderGraph _graph;
    private readonly DeviceRows _rows;
    private readonly DeviceImageInputs _image;

    /// <summary>Key then value, per layer: the order <see cref="DecoderGraph.RunBound"/> binds and returns them in.</summary>
    private readonly OrtValue[] _past;
    private readonly CacheRowPositions _positions;
    private PooledBuffer<float>? _logits;

    /// <summary>Starts one row per encoder state, with an empty cache.</summary>
    public BoundDecoderStep(DecoderGraph graph, IReadOnlyList<EncoderState> encoderStates)
    {
        _graph = graph;
        _rows = graph.DeviceRows;
        _positions = new CacheRowPositions(encoderStates.Count);
        _past = new OrtValue[2 * graph.LayerCount];
        _image = graph.PrepareDeviceImages(encoderStates);
        try
        {
            for (var i = 0; i < _past.Length; i++)
            {
                _past[i] = _rows.Zeros(CacheShape(RowCount, 0));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int RowCount => _positions.RowCount;

    public int VocabularySize => _graph.VocabularySize;

    /// <inheritdoc />
    public int PastLength => _positions.PastLength;

    public ReadOnlySpan<float> Step(ReadOnlySpan<long> tokens)
    {
        using var inputs = new StepTokenInputs(tokens, _positions);
        _logits?.Dispose();
        _logits = new PooledBuffer<float>(RowCount * _graph.VocabularySize);
        var present = _graph.RunBound(new BoundStepInputs(
            RowCount, PastLength, inputs.InputIds, inputs.AttentionMask, inputs.PositionIds, _image.Values, _past, _logits.Memory));

        // The present becomes the past: the device tensors change hands, nothing is copied.
        for (var i = 0; i < _past.Length; i++)
        {
            Replace(i, present[i]);
        }

        _positions.Advance();
        return _logits.Span;
    }

    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        _image.SelectRows(sourceRows);
        var slots = _positions.PastLength;
        var kept = _positions.Select(sourceRows);
        for (var i = 0; i < _past.Length; i++)
        {
            Replace(i, _rows.Gather(_past[i], sourceRows, start: slots - kept));
        }
    }

    /// <inheritdoc />
    public void AddRows(IReadOnlyList<EncoderState> encoderStates)
    {
        if (!_graph.MergesRows)
        {
            throw new InvalidOperationException("Rows can join a running batch only when the decoder graph has attention_mask and position_ids inputs.");
        }

        _image.Append(_graph.PrepareDeviceImages(encoderStates));
        for (var i = 0; i < _past.Length; i++)
        {
            Replace(i, _rows.AppendZeroRows(_past[i], encoderStates.Count));
        }

        _positions.Add(encoderStates.Count);
    }

    public void Dispose()
    {
        _image?.Dispose();
        _logits?.Dispose();
        foreach (var value in _past)
        {
            value?.Dispose();
        }
    }

    private long[] CacheShape(int rows, int slots) => [rows, _graph.HeadCount, slots, _graph.HeadSize];

    private void Replace(int index, OrtValue value)
    {
        _past[index].Dispose();
        _past[index] = value;
    }
}
