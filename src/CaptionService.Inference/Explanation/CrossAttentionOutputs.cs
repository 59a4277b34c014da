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
/// How heads and layers combine: the mean over every head of every layer. Each head's weights over
/// the image tokens sum to 1, so the mean does too; no head or layer is picked, because which of
/// them localise objects differs from model to model, and the mean is what any package can give.
/// </remarks>
internal sealed class CrossAttentionOutputs
{
    private CrossAttentionOutputs(string[] names) => Names = names;

    /// <summary>Layer 0's name first.</summary>
    public string[] Names { get; }

    /// <summary>Checks that the graph has the named output for every one of its <paramref name="layers"/> layers.</summary>
    /// <exception cref="ModelPackageException">The manifest names outputs the graph does not have.</exception>
    public static CrossAttentionOutputs Require(InferenceSession session, string graphPath, string pattern, int layers)
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

        return new CrossAttentionOutputs(names);
    }

    /// <summary>
    /// The mean over layers and heads of the outputs of one run: <c>[batch, tokens, image tokens]</c>, row-major.
    /// </summary>
    public static float[] MeanOverLayersAndHeads(IReadOnlyList<OrtValue> outputs)
    {
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        var (batch, heads, tokens, imageTokens) = ((int)shape[0], (int)shape[1], (int)shape[2], (int)shape[3]);
        var plane = tokens * imageTokens;
        var mean = new float[batch * plane];
        var weight = 1f / (outputs.Count * heads);
        foreach (var output in outputs)
        {
            var values = output.GetTensorDataAsSpan<float>();
            for (var row = 0; row < batch; row++)
            {
                var target = mean.AsSpan(row * plane, plane);
                for (var head = 0; head < heads; head++)
                {
                    var source = values.Slice(((row * heads) + head) * plane, plane);
                    for (var i = 0; i < plane; i++)
                    {
                        target[i] += weight * source[i];
                    }
                }
            }
        }

        return mean;
    }
}
