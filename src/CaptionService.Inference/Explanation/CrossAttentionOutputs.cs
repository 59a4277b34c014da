using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Explanation;

/// <summary>
/// A graph's optional explanation outputs, one per layer: the cross-attention weights
/// <c>[batch, heads, tokens, image tokens]</c> that the manifest names with <c>{i}</c>. They are
/// requested only by explanation runs, so other runs fetch nothing more.
/// </summary>
/// <remarks>
/// How heads and layers combine: by default the mean over every head of every layer. Each head's
/// weights over the image tokens sum to 1, so the mean does too; no head or layer is picked by
/// default, because which of them localise objects differs from model to model. A package may
/// name the heads to average instead (the manifest's <c>decoder.cross_attention_heads</c>), chosen
/// for that model by the pointing game on scenes from its training distribution
/// (<c>python3 -m training explanation-heads</c>): heads specialise, and in the bundled model the
/// heads that find the object a colour word names are not those that find a shape word's.
/// </remarks>
internal sealed class CrossAttentionOutputs
{
    private readonly (int Layer, int Head)[]? _heads;

    private CrossAttentionOutputs(string[] names, (int Layer, int Head)[]? heads)
    {
        Names = names;
        _heads = heads;
    }

    /// <summary>Layer 0's name first.</summary>
    public string[] Names { get; }

    /// <summary>The (layer, head) pairs <see cref="Mean"/> averages; null for every head of every layer.</summary>
    public IReadOnlyList<(int Layer, int Head)>? Heads => _heads;

    /// <summary>
    /// Checks that the graph has the named output for every one of its <paramref name="layers"/>
    /// layers, and that <paramref name="selectedHeads"/> (the manifest's <c>[layer, head]</c> pairs,
    /// or null for all) name distinct heads that exist among <paramref name="heads"/> per layer.
    /// </summary>
    /// <exception cref="ModelPackageException">The manifest names outputs the graph does not have, or heads it does not have.</exception>
    public static CrossAttentionOutputs Require(
        InferenceSession session, string graphPath, string pattern, int layers, int heads = 0, IReadOnlyList<int[]>? selectedHeads = null)
    {
        if (!pattern.Contains(LayerPattern.Placeholder, StringComparison.Ordinal))
        {
            throw new ModelPackageException($"caption_service.json: cross_attentions '{pattern}' must contain '{LayerPattern.Placeholder}', the layer index.");
        }

        var names = Enumerable.Range(0, layers).Select(layer => LayerPattern.Name(pattern, layer)).ToArray();
        foreach (var name in names)
        {
            GraphMetadata.RequireOutput(session, graphPath, name, TensorElementType.Float, rank: 4);
        }

        return new CrossAttentionOutputs(names, selectedHeads is null ? null : CheckHeads(selectedHeads, layers, heads));
    }

    private static (int Layer, int Head)[] CheckHeads(IReadOnlyList<int[]> selected, int layers, int heads)
    {
        const string Field = "caption_service.json: decoder.cross_attention_heads";
        if (selected.Count == 0)
        {
            throw new ModelPackageException($"{Field} is empty; leave it out to average every head of every layer.");
        }

        var pairs = new List<(int Layer, int Head)>(selected.Count);
        foreach (var pair in selected)
        {
            if (pair is not [var layer, var head] || layer < 0 || layer >= layers || head < 0 || head >= heads)
            {
                throw new ModelPackageException(
                    $"{Field} has [{string.Join(", ", pair ?? [])}]; each entry must be [layer, head] with layer 0..{layers - 1} and head 0..{heads - 1}.");
            }

            if (pairs.Contains((layer, head)))
            {
                throw new ModelPackageException($"{Field} names [{layer}, {head}] twice.");
            }

            pairs.Add((layer, head));
        }

        return [.. pairs];
    }

    /// <summary>
    /// The mean over the package's chosen heads (<see cref="Heads"/>), or over every head of every
    /// layer when it chose none, of the outputs of one run: <c>[batch, tokens, image tokens]</c>, row-major.
    /// </summary>
    public float[] Mean(IReadOnlyList<OrtValue> outputs) =>
        _heads is null ? MeanOverLayersAndHeads(outputs) : MeanOver(outputs, _heads);

    /// <summary>
    /// The mean over layers and heads of the outputs of one run: <c>[batch, tokens, image tokens]</c>, row-major.
    /// </summary>
    public static float[] MeanOverLayersAndHeads(IReadOnlyList<OrtValue> outputs)
    {
        var heads = (int)outputs[0].GetTensorTypeAndShape().Shape[1];
        return MeanOver(outputs, [.. Enumerable.Range(0, outputs.Count).SelectMany(layer => Enumerable.Range(0, heads).Select(head => (layer, head)))]);
    }

    private static float[] MeanOver(IReadOnlyList<OrtValue> outputs, (int Layer, int Head)[] selected)
    {
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        var (batch, heads, tokens, imageTokens) = ((int)shape[0], (int)shape[1], (int)shape[2], (int)shape[3]);
        var plane = tokens * imageTokens;
        var mean = new float[batch * plane];
        var weight = 1f / selected.Length;
        foreach (var (layer, head) in selected)
        {
            var values = outputs[layer].GetTensorDataAsSpan<float>();
            for (var row = 0; row < batch; row++)
            {
                var target = mean.AsSpan(row * plane, plane);
                var source = values.Slice(((row * heads) + head) * plane, plane);
                for (var i = 0; i < plane; i++)
                {
                    target[i] += weight * source[i];
                }
            }
        }

        return mean;
    }
}
