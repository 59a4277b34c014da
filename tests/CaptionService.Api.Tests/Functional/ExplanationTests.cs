using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// <c>explain=true</c> and the heat-map PNGs with the real default model: every caption word gets a
/// map, the maps are distributions over the 13 × 13 grid, a one-shape scene's shape word looks at
/// the shape, and asking for nothing fetches nothing.
/// </summary>
[Collection(RealModelServerGroup.Name)]
public sealed class ExplanationTests(RealModelServer server)
{
    private static readonly string s_oneShape = Path.Combine(RepositoryPaths.RepositoryRoot, "models", "shapeworld-fusion", "examples", "one-shape.png");
    private readonly HttpClient _client = server.Client;

    [Fact]
    public async Task EveryCaptionWordHasAGridMapThatSumsToOne()
    {
        var cancellationToken = TestTimeout.Default();
        using var response = await _client.PostAsync("/caption?explain=true", TestRequests.ImageForm(TestImages.ShapeWorldPng), cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var words = body.GetProperty("explanation").EnumerateArray().ToList();
        Assert.Equal(body.GetProperty("caption").GetString(), string.Join(' ', words.Select(w => w.GetProperty("word").GetString())));
        Assert.Equal(Enumerable.Range(0, words.Count), words.Select(w => w.GetProperty("position").GetInt32()));
        Assert.All(words, word =>
        {
            var map = word.GetProperty("map");
            Assert.Equal(13, map.GetProperty("width").GetInt32());
            Assert.Equal(13, map.GetProperty("height").GetInt32());
            var values = map.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            Assert.Equal(169, values.Count);
            Assert.All(values, v => Assert.True(v >= 0));
            Assert.Equal(1.0, values.Sum(), 2);
        });
    }

    [Fact]
    public async Task TheShapeWordOfAOneShapeSceneLooksAtTheShape()
    {
        var cancellationToken = TestTimeout.Default();
        var image = await File.ReadAllBytesAsync(s_oneShape, cancellationToken);
        using var response = await _client.PostAsync("/caption?explain=true", TestRequests.ImageForm(image), cancellationToken);

        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.Equal("there is a yellow ellipse .", body.GetProperty("caption").GetString());
        var ellipse = body.GetProperty("explanation").EnumerateArray().Single(w => w.GetProperty("word").GetString() == "ellipse").GetProperty("map");
        var values = ellipse.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
        var peak = values.IndexOf(values.Max());
        var (left, top, right, bottom) = ShapeBox(image);
        using var decoded = Image.Load<Rgb24>(image);
        var (x, y) = (peak % 13, peak / 13);
        // The peak cell overlaps the shape's pixels (the pointing game's rule).
        Assert.True(x * decoded.Width / 13.0 < right && left < (x + 1) * decoded.Width / 13.0, $"peak column {x} misses {left}..{right}");
        Assert.True(y * decoded.Height / 13.0 < bottom && top < (y + 1) * decoded.Height / 13.0, $"peak row {y} misses {top}..{bottom}");
    }

    [Fact]
    public async Task WithoutExplainNoExplanationIsReturnedAndTheCaptionIsTheSame()
    {
        var cancellationToken = TestTimeout.Default();
        using var plain = await _client.PostAsync("/caption", TestRequests.ImageForm(TestImages.ShapeWorldPng), cancellationToken);
        using var explained = await _client.PostAsync("/caption?explain=true", TestRequests.ImageForm(TestImages.ShapeWorldPng), cancellationToken);

        var plainBody = await plain.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var explainedBody = await explained.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.False(plainBody.TryGetProperty("explanation", out _));
        Assert.Equal(plainBody.GetProperty("caption").GetString(), explainedBody.GetProperty("caption").GetString());
        Assert.Equal(plainBody.GetProperty("confidence").GetDouble(), explainedBody.GetProperty("confidence").GetDouble());
    }

    [Fact]
    public async Task ScoreExplainGivesEveryTextAnEvidenceMap()
    {
        var cancellationToken = TestTimeout.Default();
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a red square .", "a shape is green .");

        using var response = await _client.PostAsync("/score?explain=true", form, cancellationToken);
        using var plainForm = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a red square .", "a shape is green .");
        using var plain = await _client.PostAsync("/score", plainForm, cancellationToken);

        var scores = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores").EnumerateArray().ToList();
        var plainScores = (await plain.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(2, scores.Count);
        foreach (var (score, plainScore) in scores.Zip(plainScores))
        {
            Assert.Equal(plainScore.GetProperty("score").GetDouble(), score.GetProperty("score").GetDouble());
            Assert.False(plainScore.TryGetProperty("evidence", out _));
            var values = score.GetProperty("evidence").GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            Assert.Equal(169, values.Count);
            Assert.Equal(1.0, values.Sum(), 2);
        }
    }

    [Fact]
    public async Task CaptionHeatMapIsAPngOfTheImageHottestOnTheWordsShape()
    {
        var cancellationToken = TestTimeout.Default();
        var image = await File.ReadAllBytesAsync(s_oneShape, cancellationToken);

        using var response = await _client.PostAsync("/caption/heatmap?word=4", TestRequests.ImageForm(image), cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        using var png = Image.Load<Rgb24>(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        Assert.Equal((320, 320), (png.Width, png.Height));
        // Where the heat is strongest the ramp is yellow over the (yellow) ellipse: find the most red-shifted pixel.
        using var source = Image.Load<Rgb24>(image);
        var (width, height) = (source.Width, source.Height);
        source.Mutate(c => c.Resize(320, 320));
        var (hotX, hotY, hottest) = (0, 0, double.MinValue);
        for (var y = 0; y < 320; y++)
        {
            for (var x = 0; x < 320; x++)
            {
                var (drawn, original) = (png[x, y], source[x, y]);
                var shift = drawn.R - original.R + (original.B - drawn.B);
                if (shift > hottest)
                {
                    (hotX, hotY, hottest) = (x, y, shift);
                }
            }
        }

        var (left, top, right, bottom) = ShapeBox(image);
        var margin = width / 13.0;
        Assert.InRange(hotX * width / 320.0, left - margin, right + margin);
        Assert.InRange(hotY * height / 320.0, top - margin, bottom + margin);
    }

    [Fact]
    public async Task HeatMapWordPastTheCaptionIsAnInvalidOption()
    {
        var cancellationToken = TestTimeout.Default();
        using var response = await _client.PostAsync("/caption/heatmap?word=40", TestRequests.ImageForm(TestImages.ShapeWorldPng), cancellationToken);

        var problem = await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, detailMentions: "'word' must be between 0 and");
        Assert.Equal("Invalid option", problem.GetProperty("title").GetString());
        using var missing = await _client.PostAsync("/caption/heatmap", TestRequests.ImageForm(TestImages.ShapeWorldPng), cancellationToken);
        await ProblemAssertions.AssertProblemAsync(missing, HttpStatusCode.BadRequest, detailMentions: "Give 'word'");
    }

    [Fact]
    public async Task ScoreHeatMapDrawsOneStatementOnly()
    {
        var cancellationToken = TestTimeout.Default();
        using var one = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a red square .");
        using var two = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a red square .", "a shape is green .");

        using var drawn = await _client.PostAsync("/score/heatmap", one, cancellationToken);
        using var refused = await _client.PostAsync("/score/heatmap", two, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, drawn.StatusCode);
        Assert.Equal("image/png", drawn.Content.Headers.ContentType?.MediaType);
        await ProblemAssertions.AssertProblemAsync(refused, HttpStatusCode.BadRequest, detailMentions: "exactly one 'text'");
    }

    [Fact]
    public async Task ModelSaysItExplainsBoth()
    {
        var model = await _client.GetFromJsonAsync<JsonElement>("/model", TestTimeout.Default());

        Assert.True(model.GetProperty("explainsCaptions").GetBoolean());
        Assert.True(model.GetProperty("explainsScores").GetBoolean());
    }

    /// <summary>The bounding box (left, top, right, bottom; pixels) of the image's non-background pixels.</summary>
    private static (int Left, int Top, int Right, int Bottom) ShapeBox(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var (left, top, right, bottom) = (int.MaxValue, int.MaxValue, -1, -1);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var p = image[x, y];
                if (p.R + p.G + p.B > 60)
                {
                    (left, top, right, bottom) = (Math.Min(left, x), Math.Min(top, y), Math.Max(right, x + 1), Math.Max(bottom, y + 1));
                }
            }
        }

        return (left, top, right, bottom);
    }
}
