using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Generation;

/// <summary>
/// What a decoder graph's metadata says about it, checked against the manifest's names;
/// <see cref="RowPositions"/> says which of the optional per-row inputs it has.
/// </summary>
internal sealed record DecoderShape(int Layers, int Heads, int HeadSize, int VocabularySize, int? HiddenSize, RowPositionInputs RowPositions)
{
    /// <summary>
    /// Optimum's names for a decoder's optional inputs: <c>attention_mask</c> [batch, past + new
    /// tokens] and <c>position_ids</c> [batch, new tokens]. A graph with both can run rows that
    /// sit at different positions in one batch (left-padded caches, masked).
    /// </summary>
    public const string AttentionMaskInput = "attention_mask";

    /// <inheritdoc cref="AttentionMaskInput"/>
    public const string PositionIdsInput = "position_ids";

    /// <summary>
    /// Reads and checks the decoder at <paramref name="graphPath"/>. Without <paramref name="imageCache"/> its
    /// image input is the encoder states; with it, each layer's image key and value under those names.
    /// </summary>
    public static DecoderShape Describe(InferenceSession session, string graphPath, DecoderNames names, int configVocabularySize, ImageCacheNames? imageCache)
    {
        var patterns = new[] { names.PastKey, names.PastValue, names.PresentKey, names.PresentValue };
        if (imageCache is not null)
        {
            patterns = [.. patterns, imageCache.Key, imageCache.Value];
        }

        foreach (var pattern in patterns)
        {
            if (!pattern.Contains(LayerPattern.Placeholder, StringComparison.Ordinal))
            {
                throw new ModelPackageException($"caption_service.json: decoder name '{pattern}' must contain '{LayerPattern.Placeholder}' for the layer index.");
            }
        }

        GraphMetadata.RequireInput(session, graphPath, names.InputIds, TensorElementType.Int64, rank: 2);
        var logits = GraphMetadata.RequireOutput(session, graphPath, names.Logits, TensorElementType.Float, rank: 3);

        var layers = 0;
        while (session.InputMetadata.ContainsKey(LayerPattern.Name(names.PastKey, layers)))
        {
            layers++;
        }

        if (layers == 0)
        {
            throw new ModelPackageException($"Model package file '{graphPath}' has no input named '{LayerPattern.Name(names.PastKey, 0)}'; the engine needs a decoder with a KV cache.");
        }

        var firstPast = GraphMetadata.RequireInput(session, graphPath, LayerPattern.Name(names.PastKey, 0), TensorElementType.Float, rank: 4);
        var heads = GraphMetadata.RequireStatic(firstPast, 1, graphPath, LayerPattern.Name(names.PastKey, 0), "heads");
        var headSize = GraphMetadata.RequireStatic(firstPast, 3, graphPath, LayerPattern.Name(names.PastKey, 0), "head size");
        var known = new HashSet<string>(StringComparer.Ordinal) { names.InputIds };
        for (var layer = 0; layer < layers; layer++)
        {
            known.Add(LayerPattern.Name(names.PastKey, layer));
            known.Add(LayerPattern.Name(names.PastValue, layer));
            GraphMetadata.RequireInput(session, graphPath, LayerPattern.Name(names.PastKey, layer), TensorElementType.Float, rank: 4);
            GraphMetadata.RequireInput(session, graphPath, LayerPattern.Name(names.PastValue, layer), TensorElementType.Float, rank: 4);
            GraphMetadata.RequireOutput(session, graphPath, LayerPattern.Name(names.PresentKey, layer), TensorElementType.Float, rank: 4);
            GraphMetadata.RequireOutput(session, graphPath, LayerPattern.Name(names.PresentValue, layer), TensorElementType.Float, rank: 4);
        }

        int? hiddenSize = null;
        if (imageCache is null)
        {
            var encoderStates = GraphMetadata.RequireInput(session, graphPath, names.EncoderHiddenStates, TensorElementType.Float, rank: 3);
            hiddenSize = encoderStates[2] > 0 ? encoderStates[2] : null;
            known.Add(names.EncoderHiddenStates);
        }
        else
        {
            foreach (var name in imageCache.LayerNames(layers))
            {
                var dimensions = GraphMetadata.RequireInput(session, graphPath, name, TensorElementType.Float, rank: 4);
                if (dimensions[1] != heads || dimensions[3] != headSize)
                {
                    throw new ModelPackageException(
                        $"Model package file '{graphPath}': input '{name}' is [{string.Join(", ", dimensions)}], but the cache has {heads} heads of size {headSize}.");
                }

                known.Add(name);
            }
        }

        if (names.UseCacheBranch is { } useCacheBranch)
        {
            GraphMetadata.RequireInput(session, graphPath, useCacheBranch, TensorElementType.Bool, rank: 1);
            known.Add(useCacheBranch);
        }

        var rowPositions = RowPositionInputs.None;
        if (session.InputMetadata.ContainsKey(AttentionMaskInput))
        {
            GraphMetadata.RequireInput(session, graphPath, AttentionMaskInput, TensorElementType.Int64, rank: 2);
            known.Add(AttentionMaskInput);
            rowPositions |= RowPositionInputs.AttentionMask;
        }

        if (session.InputMetadata.ContainsKey(PositionIdsInput))
        {
            GraphMetadata.RequireInput(session, graphPath, PositionIdsInput, TensorElementType.Int64, rank: 2);
            known.Add(PositionIdsInput);
            rowPositions |= RowPositionInputs.PositionIds;
        }

        var unknown = session.InputMetadata.Keys.Where(name => !known.Contains(name)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ModelPackageException(
                $"Model package file '{graphPath}' has inputs caption_service.json does not describe: {string.Join(", ", unknown)}.");
        }

        if (logits[2] > 0 && logits[2] != configVocabularySize)
        {
            throw new ModelPackageException(
                $"Model package file '{graphPath}' produces {logits[2]} logits per token, but config.json says vocab_size {configVocabularySize}.");
        }

        return new DecoderShape(layers, heads, headSize, logits[2] > 0 ? logits[2] : configVocabularySize, hiddenSize, rowPositions);
    }
}
