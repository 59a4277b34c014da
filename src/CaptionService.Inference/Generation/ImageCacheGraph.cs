using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Generation;

/// <summary>
/// The optional first caption graph: encoder states in, every decoder layer's cross-attention
/// keys and values out. Run once per caption batch, it spares each decoder step projecting all
/// image tokens again (for the default model that projection was 95% of a step's work).
/// </summary>
internal sealed class ImageCacheGraph : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly int _heads;
    private readonly int _headSize;

    private ImageCacheGraph(InferenceSession session, string inputName, string[] outputNames, int heads, int headSize, int? hiddenSize)
    {
        _session = session;
        _inputName = inputName;
        _outputNames = outputNames;
        _heads = heads;
        _headSize = headSize;
        HiddenSize = hiddenSize;
    }

    /// <summary>The encoder state width the graph expects, when it fixes one.</summary>
    public int? HiddenSize { get; }

    /// <summary>Loads the graph and checks that it makes the keys and values <paramref name="decoder"/> reads.</summary>
    public static ImageCacheGraph Load(OrtSessionFactory factory, string graphPath, ImageCacheNames names, DecoderShape decoder)
    {
        var session = factory.CreateSession(graphPath);
        try
        {
            var encoderStates = GraphMetadata.RequireInput(session, graphPath, names.EncoderHiddenStates, TensorElementType.Float, rank: 3);
            var outputNames = names.LayerNames(decoder.Layers);
            foreach (var name in outputNames)
            {
                var dimensions = GraphMetadata.RequireOutput(session, graphPath, name, TensorElementType.Float, rank: 4);
                if (dimensions[1] != decoder.Heads || dimensions[3] != decoder.HeadSize)
                {
                    throw new ModelPackageException(
                        $"Model package file '{graphPath}': output '{name}' is [{string.Join(", ", dimensions)}], but the decoder reads {decoder.Heads} heads of size {decoder.HeadSize}.");
                }
            }

            if (session.OutputMetadata.Count != outputNames.Length)
            {
                throw new ModelPackageException(
                    $"Model package file '{graphPath}' has {session.OutputMetadata.Count} outputs; the decoder has {decoder.Layers} layers, so {outputNames.Length} (a key and a value each) are expected.");
            }

            var hiddenSize = encoderStates[2] > 0 ? encoderStates[2] : (int?)null;
            return new ImageCacheGraph(session, names.EncoderHiddenStates, outputNames, decoder.Heads, decoder.HeadSize, hiddenSize);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The shape of one row of each output, a key and a value per layer: [heads, image tokens, head size].</summary>
    public long[][] RowShapes(int sequenceLength) => [.. _outputNames.Select(_ => new long[] { _heads, sequenceLength, _headSize })];

    /// <summary>
    /// The keys and values of <paramref name="rows"/> images whose encoder states lie row-major in
    /// <paramref name="encoderStates"/>, in buffers with room for <paramref name="capacity"/> rows.
    /// </summary>
    public DecoderImageInputs Run(Memory<float> encoderStates, int rows, int sequenceLength, int hiddenSize, int capacity = 0)
    {
        var rowShapes = RowShapes(sequenceLength);
        var rowLength = _heads * sequenceLength * _headSize;
        var buffers = new PooledBuffer<float>[_outputNames.Length];
        var outputs = new List<OrtValue>(_outputNames.Length);
        try
        {
            for (var i = 0; i < buffers.Length; i++)
            {
                buffers[i] = new PooledBuffer<float>(Math.Max(rows, capacity) * rowLength);
                outputs.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers[i].Memory[..(rows * rowLength)], [rows, .. rowShapes[i]]));
            }

            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, encoderStates, [rows, sequenceLength, hiddenSize]);
            _session.Run(_runOptions, [_inputName], [input], _outputNames, outputs);
        }
        catch
        {
            Array.ForEach(buffers, buffer => buffer?.Dispose());
            throw;
        }
        finally
        {
            outputs.ForEach(value => value.Dispose());
        }

        return new DecoderImageInputs(buffers, rowShapes, rows, capacity);
    }

    /// <summary>
    /// <see cref="Run"/> with the keys and values left on the device <paramref name="rows"/> are
    /// moved on: ONNX Runtime allocates them there, and the caller owns them.
    /// </summary>
    public DeviceImageInputs RunOnDevice(Memory<float> encoderStates, int rows, int sequenceLength, int hiddenSize, DeviceRows deviceRows)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, encoderStates, [rows, sequenceLength, hiddenSize]);
        using var binding = _session.CreateIoBinding();
        binding.BindInput(_inputName, input);
        foreach (var name in _outputNames)
        {
            binding.BindOutputToDevice(name, deviceRows.Device);
        }

        _session.RunWithBinding(_runOptions, binding);
        return new DeviceImageInputs(deviceRows, [.. binding.GetOutputValues()], rows);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
