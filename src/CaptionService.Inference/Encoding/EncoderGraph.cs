using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Encoding;

/// <summary>The image encoder session: <c>pixel_values [B,C,H,W]</c> → <c>last_hidden_state [B,S,D]</c>.</summary>
internal sealed class EncoderGraph : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    private EncoderGraph(InferenceSession session, int niceness, EncoderNames names, int channels, int? height, int? width, int? hiddenSize)
    {
        Niceness = niceness;
        HiddenSize = hiddenSize;
        _session = session;
        _inputNames = [names.PixelValues];
        _outputNames = [names.LastHiddenState];
        Channels = channels;
        Height = height;
        Width = width;
    }

    public int Channels { get; }

    /// <summary>
    /// How far the thread that runs this graph lowers itself (0: not at all): the graph yields the
    /// CPU to decoding on a lowered pool of its own (<see cref="ModelOptions.EncoderNiceness"/>),
    /// and the calling thread takes part in every run.
    /// </summary>
    public int Niceness { get; }

    /// <summary>The input height when the graph fixes it; otherwise the preprocessor decides.</summary>
    public int? Height { get; }

    public int? Width { get; }

    /// <summary>The width of each encoder state, when the graph fixes it.</summary>
    public int? HiddenSize { get; }

    /// <summary>Loads and checks the encoder graph.</summary>
    /// <param name="factory">Creates the session.</param>
    /// <param name="graphPath">The graph file.</param>
    /// <param name="names">Its input and output names, from the manifest.</param>
    /// <param name="niceness">How far the graph yields the CPU to the others (see <see cref="ModelOptions.EncoderNiceness"/>).</param>
    public static EncoderGraph Load(OrtSessionFactory factory, string graphPath, EncoderNames names, int niceness)
    {
        // 0 where the platform cannot lower a thread, whatever was asked.
        var (session, yielded) = factory.CreateYieldingSession(graphPath, niceness);
        try
        {
            var input = GraphMetadata.RequireInput(session, graphPath, names.PixelValues, TensorElementType.Float, rank: 4);
            var output = GraphMetadata.RequireOutput(session, graphPath, names.LastHiddenState, TensorElementType.Float, rank: 3);
            var channels = GraphMetadata.RequireStatic(input, 1, graphPath, names.PixelValues, "channels");
            if (channels != 3)
            {
                throw new ModelPackageException($"Model package file '{graphPath}': '{names.PixelValues}' has {channels} channels; the engine feeds RGB (3).");
            }

            return new EncoderGraph(session, yielded, names, channels, StaticOrNull(input[2]), StaticOrNull(input[3]), StaticOrNull(output[2]));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Encodes <paramref name="batchSize"/> images laid out NCHW in <paramref name="pixels"/>, one state per image.</summary>
    public EncoderState[] Run(Memory<float> pixels, int batchSize, int height, int width)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels, [batchSize, Channels, height, width]);
        using var outputs = _session.Run(_runOptions, _inputNames, [input], _outputNames);
        var output = outputs[0];
        var shape = output.GetTensorTypeAndShape().Shape;
        if (shape.Length != 3 || shape[0] != batchSize)
        {
            throw new InvalidOperationException($"The encoder returned shape [{string.Join(',', shape)}] for a batch of {batchSize}.");
        }

        var sequenceLength = checked((int)shape[1]);
        var hiddenSize = checked((int)shape[2]);
        var data = output.GetTensorDataAsSpan<float>();
        var states = new EncoderState[batchSize];
        var rowLength = sequenceLength * hiddenSize;
        for (var row = 0; row < batchSize; row++)
        {
            states[row] = new EncoderState(sequenceLength, hiddenSize);
            data.Slice(row * rowLength, rowLength).CopyTo(states[row].WritableValues);
        }

        return states;
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static int? StaticOrNull(int dimension) => dimension > 0 ? dimension : null;
}
