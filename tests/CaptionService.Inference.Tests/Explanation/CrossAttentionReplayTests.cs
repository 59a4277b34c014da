using CaptionService.Inference.ModelPackage;
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
        var fixture = CrossAttentionFixture.Load(packageName);
        using var package = ModelPackageLoader.Load(
            new ModelOptions { Path = Path.Combine(TestPaths.Fixtures, packageName), ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);
        Assert.True(package.Decoder.ExplainsCaptions);
        Assert.True(package.Fusion!.ExplainsScores);

        for (var row = 0; row < fixture.Rows; row++)
        {
            var replayed = fixture.Replay(package, row);

            Assert.Equal(fixture.Length * fixture.ImageTokens, replayed.Length);
            for (var i = 0; i < replayed.Length; i++)
            {
                var expected = 0.0;
                for (var layer = 0; layer < fixture.Layers.Count; layer++)
                {
                    for (var head = 0; head < fixture.Heads; head++)
                    {
                        expected += fixture.Weight(layer, row, head, i);
                    }
                }

                Assert.Equal(expected / (fixture.Layers.Count * fixture.Heads), replayed[i], 1e-4);
            }
        }
    }
}
