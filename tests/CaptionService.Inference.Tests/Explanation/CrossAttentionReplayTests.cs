using CaptionService.Inference.Encoding;
using CaptionService.Inference.Explanation;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tests.Parity;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Explanation;

/// <summary>
/// The replay that explains a caption (one decoder run of the whole caption from an empty cache,
/// only the cross-attention outputs fetched) gives PyTorch's cross-attention, averaged over layers
/// and heads, from the package exported with the outputs and from the one given them by surgery.
/// </summary>
public sealed class CrossAttentionReplayTests
{
    [Theory]
    [InlineData("attention-tiny")]
    [InlineData("attention-tiny-surgery")]
    public void ReplayGivesTheMeanOfPyTorchsCrossAttention(string packageName)
    {
        var fixtureDirectory = Path.Combine(TestPaths.Fixtures, "parity", packageName);
        var fixture = ParityFixture.Load(fixtureDirectory);
        using var package = ModelPackageLoader.Load(
            new ModelOptions { Path = Path.Combine(TestPaths.Fixtures, packageName), ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);
        Assert.True(package.Decoder.ExplainsCaptions);
        Assert.True(package.Fusion!.ExplainsScores);

        var encoder = fixture.Cases.Single(c => c.Name == "encoder").Outputs!["last_hidden_state"];
        var prompt = fixture.Cases.Single(c => c.Name == "cached_decoder_prompt");
        var (rows, imageTokens, width) = ((int)encoder.Shape[0], (int)encoder.Shape[1], (int)encoder.Shape[2]);
        var states = TensorFile.ReadFloats(Path.Combine(fixtureDirectory, encoder.File));
        var ids = TensorFile.ReadInt64s(Path.Combine(fixtureDirectory, prompt.Inputs!["input_ids"].File));
        var length = ids.Length / rows;
        var layers = prompt.Outputs!.Keys.Where(name => name.StartsWith("cross_attentions.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var expectedLayers = layers.Select(name => TensorFile.ReadFloats(Path.Combine(fixtureDirectory, prompt.Outputs[name].File))).ToList();
        var heads = (int)prompt.Outputs[layers[0]].Shape[1];

        for (var row = 0; row < rows; row++)
        {
            using var state = new EncoderState(imageTokens, width);
            states.AsSpan(row * imageTokens * width, imageTokens * width).CopyTo(state.WritableValues);
            using var image = package.Decoder.PrepareImages([state]);

            var replayed = package.Decoder.ReplayCrossAttention(image, ids[(row * length)..((row + 1) * length)]);

            Assert.Equal(length * imageTokens, replayed.Length);
            for (var i = 0; i < replayed.Length; i++)
            {
                var expected = 0.0;
                foreach (var layer in expectedLayers)
                {
                    for (var head = 0; head < heads; head++)
                    {
                        expected += layer[(((row * heads) + head) * length * imageTokens) + i];
                    }
                }

                Assert.Equal(expected / (layers.Count * heads), replayed[i], 1e-4);
            }
        }
    }
}
