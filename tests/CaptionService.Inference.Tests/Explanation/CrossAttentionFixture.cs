using CaptionService.Inference.Encoding;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tests.Parity;

namespace CaptionService.Inference.Tests.Explanation;

/// <summary>
/// The prompt case of an attention parity fixture: the encoder states and caption ids PyTorch ran,
/// and its cross-attention weights, one <c>[rows, heads, length, image tokens]</c> array per layer.
/// </summary>
internal sealed record CrossAttentionFixture(int Rows, int ImageTokens, int Width, float[] States, long[] Ids, int Length, int Heads, IReadOnlyList<float[]> Layers)
{
    /// <summary>Reads <c>tests/fixtures/parity/<paramref name="name"/></c>.</summary>
    public static CrossAttentionFixture Load(string name)
    {
        var directory = Path.Combine(TestPaths.Fixtures, "parity", name);
        var fixture = ParityFixture.Load(directory);
        var encoder = fixture.Cases.Single(c => c.Name == "encoder").Outputs!["last_hidden_state"];
        var prompt = fixture.Cases.Single(c => c.Name == "cached_decoder_prompt");
        var rows = (int)encoder.Shape[0];
        var ids = TensorFile.ReadInt64s(Path.Combine(directory, prompt.Inputs!["input_ids"].File));
        var layers = prompt.Outputs!.Keys.Where(name => name.StartsWith("cross_attentions.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        return new CrossAttentionFixture(
            rows, (int)encoder.Shape[1], (int)encoder.Shape[2], TensorFile.ReadFloats(Path.Combine(directory, encoder.File)), ids, ids.Length / rows,
            (int)prompt.Outputs[layers[0]].Shape[1], [.. layers.Select(layer => TensorFile.ReadFloats(Path.Combine(directory, prompt.Outputs[layer].File)))]);
    }

    /// <summary>PyTorch's weight of one head of one layer at index <paramref name="i"/> of a row's <c>[length, image tokens]</c> map.</summary>
    public float Weight(int layer, int row, int head, int i) => Layers[layer][(((row * Heads) + head) * Length * ImageTokens) + i];

    /// <summary>The package's replay of one row's caption over that row's encoder states.</summary>
    public float[] Replay(LoadedModelPackage package, int row)
    {
        using var state = new EncoderState(ImageTokens, Width);
        States.AsSpan(row * ImageTokens * Width, ImageTokens * Width).CopyTo(state.WritableValues);
        using var image = package.Decoder.PrepareImages([state]);
        return package.Decoder.ReplayCrossAttention(image, Ids[(row * Length)..((row + 1) * Length)]);
    }
}
