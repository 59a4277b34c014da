using System.Text.Json;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tests.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace CaptionService.Inference.Tests.Clip;

/// <summary>
/// The clip-tiny fixture served by <see cref="ClipEngine"/>, against transformers.js. (Each graph against
/// PyTorch: <see cref="Parity.OrtParityTests"/>, which runs every fixture under tests/fixtures/parity.)
/// </summary>
public sealed class ClipEngineTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-4;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));

    public void Dispose() => _timeout.Dispose();

    private static ClipEngine Create(string? path = null) =>
        (ClipEngine)InferenceEngines.Create(ClipReference.Options(path), new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);

    private static byte[] Image(string file) => File.ReadAllBytes(Path.Combine(ClipReference.ParityDirectory, file));

    [Fact]
    public async Task ScoresAreTransformersJsZeroShotProbabilities()
    {
        await using var engine = Create();
        var answers = ClipReference.TransformersJs;
        var worst = 0.0;
        foreach (var expected in answers.Images)
        {
            var result = await engine.ScoreAsync(Image(expected.Image), answers.Labels, _timeout.Token);

            Assert.Equal(answers.Labels, result.Scores.Select(s => s.Text));
            for (var i = 0; i < answers.Labels.Count; i++)
            {
                worst = Math.Max(worst, Math.Abs(result.Scores[i].Score - expected.Scores[i]));
            }

            Assert.Equal(1.0, result.Scores.Sum(s => s.Score), 1e-9);
            Assert.All(result.Scores, s => Assert.InRange(s.Similarity!.Value, -1.0, 1.0));
        }

        output.WriteLine($"largest difference from transformers.js's probabilities: {worst:E2} over {answers.Images.Count} images x {answers.Labels.Count} labels");
        Assert.True(worst <= Tolerance, $"largest difference from transformers.js: {worst:E2}");
    }

    [Fact]
    public async Task ATextOver77TokensIsTruncatedAndScoredAsTransformersJsScoresIt()
    {
        await using var engine = Create();
        var expected = ClipReference.TransformersJs.Truncation;

        var result = await engine.ScoreAsync(Image(expected.Image), expected.Labels, _timeout.Token);

        var worst = result.Scores.Select((s, i) => Math.Abs(s.Score - expected.Scores[i])).Max();
        output.WriteLine($"largest difference from transformers.js's probabilities with a truncated label: {worst:E2}");
        Assert.True(worst <= Tolerance, $"largest difference from transformers.js: {worst:E2}");
        Assert.Equal([true, false, false], result.Scores.Select(s => s.Truncated));
    }

    [Fact]
    public async Task ScoreIsTheSoftmaxOfScaleTimesSimilarity()
    {
        await using var engine = Create();
        var scale = JsonDocument.Parse(File.ReadAllText(Path.Combine(ClipReference.ParityDirectory, "cases.json"))).RootElement.GetProperty("logit_scale").GetDouble();

        var result = await engine.ScoreAsync(Image("image-1.png"), ["a red square", "a blue circle", "nothing at all"], _timeout.Token);

        var logits = result.Scores.Select(s => scale * s.Similarity!.Value).ToArray();
        var total = logits.Sum(l => Math.Exp(l - logits.Max()));
        for (var i = 0; i < logits.Length; i++)
        {
            Assert.Equal(Math.Exp(logits[i] - logits.Max()) / total, result.Scores[i].Score, 1e-6);
        }
    }

    [Fact]
    public async Task CombinedGraphAloneGivesTheSameScores()
    {
        await using var split = Create();
        using var copy = new TemporaryPackageCopy(ClipReference.Package);
        File.Delete(Path.Combine(copy.Path, "onnx", "text_model.onnx"));
        File.Delete(Path.Combine(copy.Path, "onnx", "vision_model.onnx"));
        await using var combined = Create(copy.Path);
        var labels = ClipReference.TransformersJs.Labels;

        var a = await split.ScoreAsync(Image("image-2.png"), labels, _timeout.Token);
        var b = await combined.ScoreAsync(Image("image-2.png"), labels, _timeout.Token);

        Assert.Contains("\"towers\": \"model\"", combined.Model.ManifestJson, StringComparison.Ordinal);
        for (var i = 0; i < labels.Count; i++)
        {
            Assert.Equal(a.Scores[i].Similarity!.Value, b.Scores[i].Similarity!.Value, 1e-5);
            Assert.Equal(a.Scores[i].Score, b.Scores[i].Score, 1e-5);
        }
    }

    [Fact]
    public async Task DescribesItselfAsAScoringModel()
    {
        await using var engine = Create();

        Assert.Equal(ModelKind.Scoring, engine.Model.Kind);
        Assert.True(engine.Model.SupportsScoring);
        Assert.Equal((224, 224, 49408, 77), (engine.Model.ImageHeight, engine.Model.ImageWidth, engine.Model.VocabularySize, engine.Model.MaxTokens));
        Assert.Equal("inferred", engine.Model.ManifestSource);
        using var manifest = JsonDocument.Parse(engine.Model.ManifestJson);
        Assert.Equal(["model", "text_model", "vision_model"], manifest.RootElement.GetProperty("graphs").EnumerateObject().Select(p => p.Name));
        // The fixture keeps HF's initial logit scale, exp(2.6592).
        Assert.Equal(Math.Exp(2.6592), manifest.RootElement.GetProperty("scoring").GetProperty("logit_scale").GetDouble(), 1e-3);
    }

    [Fact]
    public async Task CaptioningIsRefusedAsNotSupported()
    {
        await using var engine = Create();

        var ex = await Assert.ThrowsAsync<InferenceRejectedException>(() =>
            engine.CaptionAsync(Image("image-0.png"), new GenerationOptions(), _timeout.Token));

        Assert.Equal(RejectionReason.NotSupportedByModel, ex.Reason);
        Assert.Contains("CLIP", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImagesOfOtherSizesAreResizedOnTheShortestEdgeAndCentreCropped()
    {
        await using var engine = Create();
        // A 100x100 ShapeWorld scene: resized to 224 by the engine (bicubic), not by the test.
        var scene = File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "tests", "data", "shapeworld", "existential-full", "world-0.png"));

        var result = await engine.ScoreAsync(scene, ["a red square", "a blue circle"], _timeout.Token);

        Assert.Equal(1.0, result.Scores.Sum(s => s.Score), 1e-9);
    }

    [Fact]
    public void ShortestEdgeSizeRoundsTheLongSideDownAsTransformersDoes()
    {
        Assert.Equal((224, 298), CaptionService.Inference.Preprocessing.ImageTransform.ShortestEdgeSize(480, 640, 224));
        Assert.Equal((337, 224), CaptionService.Inference.Preprocessing.ImageTransform.ShortestEdgeSize(301, 200, 224)); // 337.12 rounded down
    }
}
