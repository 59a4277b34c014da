using System.Globalization;
using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Generation;

/// <summary>
/// The merged decoder session. Layer count, head count, head size and vocabulary size come from
/// the graph's metadata; the manifest only names the tensors.
/// </summary>
internal sealed class DecoderGraph : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly DecoderNames _names;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    private DecoderGraph(InferenceSession session, DecoderNames names, int layers, int heads, int headSize, int vocabularySize, int? hiddenSize)
    {
        _session = session;
        _names = names;
        LayerCount = layers;
        HeadCount = heads;
        HeadSize = headSize;
        VocabularySize = vocabularySize;
        HiddenSize = hiddenSize;

        var inputs = new List<string> { names.InputIds, names.EncoderHiddenStates };
        var outputs = new List<string> { names.Logits };
        for (var layer = 0; layer < layers; layer++)
        {
            inputs.Add(LayerName(names.PastKey, layer));
            inputs.Add(LayerName(names.PastValue, layer));
            outputs.Add(LayerName(names.PresentKey, layer));
            outputs.Add(LayerName(names.PresentValue, layer));
        }

        if (names.UseCacheBranch is { } useCacheBranch)
        {
            inputs.Add(useCacheBranch);
        }

        _inputNames = [.. inputs];
        _outputNames = [.. outputs];
    }

    public int LayerCount { get; }

    public int HeadCount { get; }

    public int HeadSize { get; }

    public int VocabularySize { get; }

    /// <summary>The encoder state width the graph expects, when it fixes one.</summary>
    public int? HiddenSize { get; }

    public static DecoderGraph Load(OrtSessionFactory factory, string graphPath, DecoderNames names, int configVocabularySize)
    {
        var session = factory.CreateSession(graphPath);
        try
        {
            return Describe(session, graphPath, names, configVocabularySize);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs one step for every row, writing logits and the grown cache into caller-owned buffers.</summary>
    public void Run(DecoderStepBuffers buffers)
    {
        var rows = buffers.Rows;
        var inputs = new List<OrtValue>(_inputNames.Length);
        var outputs = new List<OrtValue>(_outputNames.Length);
        try
        {
            inputs.Add(Tensor(buffers.InputIds, [rows, 1]));
            inputs.Add(Tensor(buffers.EncoderHiddenStates, [rows, buffers.EncoderSequenceLength, buffers.EncoderHiddenSize]));
            long[] pastShape = [rows, HeadCount, buffers.PastLength, HeadSize];
            long[] presentShape = [rows, HeadCount, buffers.PastLength + 1, HeadSize];
            outputs.Add(Tensor(buffers.Logits, [rows, 1, VocabularySize]));
            for (var layer = 0; layer < LayerCount; layer++)
            {
                inputs.Add(Tensor(buffers.PastKeys[layer], pastShape));
                inputs.Add(Tensor(buffers.PastValues[layer], pastShape));
                outputs.Add(Tensor(buffers.PresentKeys[layer], presentShape));
                outputs.Add(Tensor(buffers.PresentValues[layer], presentShape));
            }

            if (_names.UseCacheBranch is not null)
            {
                // Optimum's merged decoders take the no-cache branch on the first step only.
                inputs.Add(OrtValue.CreateTensorValueFromMemory(new[] { buffers.PastLength > 0 }, [1]));
            }

            _session.Run(_runOptions, _inputNames, inputs, _outputNames, outputs);
        }
        finally
        {
            inputs.ForEach(value => value.Dispose());
            outputs.ForEach(value => value.Dispose());
        }
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    internal static string LayerName(string pattern, int layer) =>
        pattern.Replace("{i}", layer.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static OrtValue Tensor<T>(Memory<T> memory, long[] shape)
        where T : unmanaged => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, shape);

    private static DecoderGraph Describe(InferenceSession session, string graphPath, DecoderNames names, int configVocabularySize)
    {
        foreach (var pattern in new[] { names.PastKey, names.PastValue, names.PresentKey, names.PresentValue })
        {
            if (!pattern.Contains("{i}", StringComparison.Ordinal))
            {
                throw new ModelPackageException($"caption_service.json: decoder name '{pattern}' must contain '{{i}}' for the layer index.");
            }
        }

        GraphMetadata.RequireInput(session, graphPath, names.InputIds, TensorElementType.Int64, rank: 2);
        var encoderStates = GraphMetadata.RequireInput(session, graphPath, names.EncoderHiddenStates, TensorElementType.Float, rank: 3);
        var logits = GraphMetadata.RequireOutput(session, graphPath, names.Logits, TensorElementType.Float, rank: 3);

        var layers = 0;
        while (session.InputMetadata.ContainsKey(LayerName(names.PastKey, layers)))
        {
            layers++;
        }

        if (layers == 0)
        {
            throw new ModelPackageException($"Model package file '{graphPath}' has no input named '{LayerName(names.PastKey, 0)}'; the engine needs a decoder with a KV cache.");
        }

        var firstPast = GraphMetadata.RequireInput(session, graphPath, LayerName(names.PastKey, 0), TensorElementType.Float, rank: 4);
        var heads = GraphMetadata.RequireStatic(firstPast, 1, graphPath, LayerName(names.PastKey, 0), "heads");
        var headSize = GraphMetadata.RequireStatic(firstPast, 3, graphPath, LayerName(names.PastKey, 0), "head size");
        for (var layer = 0; layer < layers; layer++)
        {
            GraphMetadata.RequireInput(session, graphPath, LayerName(names.PastKey, layer), TensorElementType.Float, rank: 4);
            GraphMetadata.RequireInput(session, graphPath, LayerName(names.PastValue, layer), TensorElementType.Float, rank: 4);
            GraphMetadata.RequireOutput(session, graphPath, LayerName(names.PresentKey, layer), TensorElementType.Float, rank: 4);
            GraphMetadata.RequireOutput(session, graphPath, LayerName(names.PresentValue, layer), TensorElementType.Float, rank: 4);
        }

        if (names.UseCacheBranch is { } useCacheBranch)
        {
            GraphMetadata.RequireInput(session, graphPath, useCacheBranch, TensorElementType.Bool, rank: 1);
        }

        var expected = 2 + (2 * layers) + (names.UseCacheBranch is null ? 0 : 1);
        if (session.InputMetadata.Count != expected)
        {
            var known = new HashSet<string>(StringComparer.Ordinal) { names.InputIds, names.EncoderHiddenStates };
            for (var layer = 0; layer < layers; layer++)
            {
                known.Add(LayerName(names.PastKey, layer));
                known.Add(LayerName(names.PastValue, layer));
            }

            if (names.UseCacheBranch is { } branch)
            {
                known.Add(branch);
            }

            var unknown = session.InputMetadata.Keys.Where(name => !known.Contains(name));
            throw new ModelPackageException(
                $"Model package file '{graphPath}' has inputs caption_service.json does not describe: {string.Join(", ", unknown)}.");
        }

        var vocabularySize = logits[2] > 0 ? logits[2] : configVocabularySize;
        if (logits[2] > 0 && logits[2] != configVocabularySize)
        {
            throw new ModelPackageException(
                $"Model package file '{graphPath}' produces {logits[2]} logits per token, but config.json says vocab_size {configVocabularySize}.");
        }

        return new DecoderGraph(session, names, layers, heads, headSize, vocabularySize, encoderStates[2] > 0 ? encoderStates[2] : null);
    }
}
