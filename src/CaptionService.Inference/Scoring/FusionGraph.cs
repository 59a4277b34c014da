using CaptionService.Inference.Explanation;
using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Scoring;

/// <summary>The image-text matching session: token ids, attention mask and encoder states → one logit per text.</summary>
internal sealed class FusionGraph : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly CrossAttentionOutputs? _crossAttentions;

    private FusionGraph(InferenceSession session, FusionNames names, CrossAttentionOutputs? crossAttentions)
    {
        _session = session;
        _crossAttentions = crossAttentions;
        _inputNames = [names.InputIds, names.AttentionMask, names.EncoderHiddenStates];
        _outputNames = [names.Logits];
    }

    public static FusionGraph Load(OrtSessionFactory factory, string graphPath, FusionNames names)
    {
        if (names.Score != "sigmoid")
        {
            throw new ModelPackageException($"caption_service.json: fusion score '{names.Score}' is not supported; the engine applies 'sigmoid'.");
        }

        var session = factory.CreateSession(graphPath);
        try
        {
            GraphMetadata.RequireInput(session, graphPath, names.InputIds, TensorElementType.Int64, rank: 2);
            GraphMetadata.RequireInput(session, graphPath, names.AttentionMask, TensorElementType.Int64, rank: 2);
            GraphMetadata.RequireInput(session, graphPath, names.EncoderHiddenStates, TensorElementType.Float, rank: 3);
            GraphMetadata.RequireOutput(session, graphPath, names.Logits, TensorElementType.Float, rank: 1);
            if (session.InputMetadata.Count != 3)
            {
                throw new ModelPackageException(
                    $"Model package file '{graphPath}' has inputs caption_service.json does not describe: {string.Join(", ", session.InputMetadata.Keys.Except([names.InputIds, names.AttentionMask, names.EncoderHiddenStates]))}.");
            }

            CrossAttentionOutputs? crossAttentions = null;
            if (names.CrossAttentions is { } pattern)
            {
                var layers = session.OutputMetadata.Keys.Count(name => LayerNames(pattern).Contains(name));
                crossAttentions = CrossAttentionOutputs.Require(session, graphPath, pattern, Math.Max(layers, 1));
            }

            return new FusionGraph(session, names, crossAttentions);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="rows"/> (text, image) pairs padded to <paramref name="sequenceLength"/>; writes one logit per row.</summary>
    public void Run(
        int rows,
        int sequenceLength,
        Memory<long> inputIds,
        Memory<long> attentionMask,
        Memory<float> encoderStates,
        int encoderSequenceLength,
        int encoderHiddenSize,
        Span<float> logits)
    {
        using var ids = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, inputIds, [rows, sequenceLength]);
        using var mask = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, attentionMask, [rows, sequenceLength]);
        using var states = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, encoderStates, [rows, encoderSequenceLength, encoderHiddenSize]);
        using var outputs = _session.Run(_runOptions, _inputNames, [ids, mask, states], _outputNames);
        var output = outputs[0].GetTensorDataAsSpan<float>();
        if (output.Length != rows)
        {
            throw new InvalidOperationException($"The fusion graph returned {output.Length} logits for {rows} texts.");
        }

        output.CopyTo(logits);
    }

    /// <summary>Whether the graph has the explanation outputs (the manifest's <c>fusion.cross_attentions</c>).</summary>
    public bool ExplainsScores => _crossAttentions is not null;

    /// <summary>
    /// The cross-attention of <paramref name="rows"/> texts padded to <paramref name="sequenceLength"/>,
    /// each against its own row of encoder states, fetching only the explanation outputs:
    /// <c>[rows, sequenceLength, image tokens]</c>, the mean over layers and heads.
    /// </summary>
    public float[] CrossAttention(
        int rows, int sequenceLength, Memory<long> inputIds, Memory<long> attentionMask, Memory<float> encoderStates, int encoderSequenceLength, int encoderHiddenSize)
    {
        if (_crossAttentions is null)
        {
            throw new InvalidOperationException("The fusion graph has no cross-attention outputs.");
        }

        using var ids = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, inputIds, [rows, sequenceLength]);
        using var mask = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, attentionMask, [rows, sequenceLength]);
        using var states = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, encoderStates, [rows, encoderSequenceLength, encoderHiddenSize]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, _inputNames, [ids, mask, states], _crossAttentions.Names);
        return CrossAttentionOutputs.MeanOverLayersAndHeads(outputs);
    }

    /// <summary>The names a per-layer pattern gives the first layers (as many as a graph could have).</summary>
    private static HashSet<string> LayerNames(string pattern) =>
        [.. Enumerable.Range(0, 256).Select(layer => LayerPattern.Name(pattern, layer))];

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
