using System.Text.Json.Nodes;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tests.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Explanation;

/// <summary>
/// <c>decoder.cross_attention_heads</c>: a caption word's map is the mean over the named
/// <c>[layer, head]</c> pairs only (checked against PyTorch's per-head weights), the bundled package
/// names the heads chosen for it, and pairs the graph does not have stop loading with the field named.
/// </summary>
public sealed class CrossAttentionHeadsTests : IDisposable
{
    private readonly TemporaryPackageCopy _copy = new(Path.Combine(TestPaths.Fixtures, "attention-tiny"));

    public void Dispose() => _copy.Dispose();

    [Fact]
    public void ReplayAveragesOnlyTheNamedHeads()
    {
        (int Layer, int Head)[] chosen = [(0, 1), (1, 0)];
        _copy.EditManifest(manifest => manifest["decoder"]!["cross_attention_heads"] = new JsonArray([.. chosen.Select(h => (JsonNode)new JsonArray(h.Layer, h.Head))]));
        var fixture = CrossAttentionFixture.Load("attention-tiny");
        using var package = Load();

        for (var row = 0; row < fixture.Rows; row++)
        {
            var replayed = fixture.Replay(package, row);

            for (var i = 0; i < replayed.Length; i++)
            {
                var expected = chosen.Average(h => fixture.Weight(h.Layer, row, h.Head, i));
                var everyHead = Enumerable.Range(0, fixture.Layers.Count).Average(layer => Enumerable.Range(0, fixture.Heads).Average(head => fixture.Weight(layer, row, head, i)));
                Assert.Equal(expected, replayed[i], 1e-4);
                if (Math.Abs(expected - everyHead) > 1e-3)
                {
                    Assert.NotEqual(everyHead, replayed[i], 1e-4);
                }
            }
        }
    }

    [Theory]
    [InlineData("[[2, 0]]", "[2, 0]")]
    [InlineData("[[0, 2]]", "[0, 2]")]
    [InlineData("[[-1, 0]]", "[-1, 0]")]
    [InlineData("[[0]]", "[0]")]
    [InlineData("[[0, 1, 1]]", "[0, 1, 1]")]
    [InlineData("[[0, 1], [0, 1]]", "[0, 1] twice")]
    [InlineData("[]", "is empty")]
    public void HeadsTheGraphDoesNotHaveStopLoading(string heads, string named)
    {
        _copy.EditManifest(manifest => manifest["decoder"]!["cross_attention_heads"] = JsonNode.Parse(heads));

        var ex = Assert.Throws<ModelPackageException>(Load);

        Assert.Contains("decoder.cross_attention_heads", ex.Message, StringComparison.Ordinal);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadsWithoutTheOutputsStopLoading()
    {
        _copy.EditManifest(manifest =>
        {
            manifest["decoder"]!.AsObject().Remove("cross_attentions");
            manifest["decoder"]!["cross_attention_heads"] = JsonNode.Parse("[[0, 0]]");
        });

        var ex = Assert.Throws<ModelPackageException>(Load);

        Assert.Contains("decoder.cross_attention_heads needs decoder.cross_attentions", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBundledPackageAveragesTheHeadsChosenForIt()
    {
        // Chosen by `python3 -m training explanation-heads` on generated scenes (models/README.md):
        // layer 0's heads 1 and 2 find a colour word's object, heads 0.3 and 2.3 a shape word's.
        using var package = ModelPackageLoader.Load(
            new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);

        Assert.Equal([(0, 1), (0, 2), (0, 3), (2, 3)], package.Decoder.ExplanationHeads!);
    }

    private LoadedModelPackage Load() =>
        ModelPackageLoader.Load(new ModelOptions { Path = _copy.Path, ExecutionProvider = ExecutionProviderKind.Cpu }, NullLogger.Instance);
}
