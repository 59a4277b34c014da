using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>POST /score with the real default model.</summary>
[Collection(RealModelServerGroup.Name)]
public sealed class ScoreEndpointTests(RealModelServer server)
{
    private readonly HttpClient _client = server.Client;

    [Fact]
    public async Task ScoresComeBackInTheOrderOfTheTextsAsProbabilities()
    {
        var cancellationToken = TestTimeout.Default();
        string[] texts =
        [
            "a red square is to the left of a blue circle .",
            "there is a green triangle .",
            "a shape is above a circle .",
        ];
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, texts);

        using var response = await _client.PostAsync("/score", form, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        CaptionEndpointTests.AssertProperties(body, "scores", "imageDistance", "warnings", "model", "timings");
        CaptionEndpointTests.AssertProperties(body.GetProperty("model"), "name", "version");
        CaptionEndpointTests.AssertProperties(body.GetProperty("timings"), "queueMs", "preprocessMs", "inferenceMs", "totalMs");

        var scores = body.GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(texts, scores.Select(s => s.GetProperty("text").GetString()));
        foreach (var score in scores)
        {
            CaptionEndpointTests.AssertProperties(score, "text", "score", "unknownWords");
            Assert.InRange(score.GetProperty("score").GetDouble(), 0.0, 1.0);
        }
    }

    [Fact]
    public async Task TheSameTextScoresTheSameAloneAndAmongOthers()
    {
        var cancellationToken = TestTimeout.Default();
        const string Text = "a red square is to the left of a blue circle .";
        using var alone = TestRequests.ScoreForm(TestImages.ShapeWorldPng, Text);
        using var among = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a circle .", Text, "a triangle is below a square .");

        using var aloneResponse = await _client.PostAsync("/score", alone, cancellationToken);
        using var amongResponse = await _client.PostAsync("/score", among, cancellationToken);

        var aloneScore = (await aloneResponse.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores")[0].GetProperty("score").GetDouble();
        var amongScore = (await amongResponse.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores")[1].GetProperty("score").GetDouble();
        Assert.Equal(aloneScore, amongScore, 1e-4);
    }

    /// <summary>
    /// The form is read part by part as it streams in: texts before the image, a file part that is
    /// not the image, and texts after it all count the same as in the usual order.
    /// </summary>
    [Fact]
    public async Task PartsAroundTheImageAreReadInAnyOrder()
    {
        var cancellationToken = TestTimeout.Default();
        using var usual = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a circle .", "a red square .");
        using var shuffled = new MultipartFormDataContent
        {
            { new StringContent("there is a circle ."), "text" },
            { new ByteArrayContent(new byte[1000]), "attachment", "notes.bin" },
            { new ByteArrayContent(TestImages.ShapeWorldPng), "image", "world-0.png" },
            { new StringContent("a red square ."), "text" },
        };

        using var usualResponse = await _client.PostAsync("/score", usual, cancellationToken);
        using var shuffledResponse = await _client.PostAsync("/score", shuffled, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, shuffledResponse.StatusCode);
        var expected = (await usualResponse.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores");
        var actual = (await shuffledResponse.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores");
        Assert.Equal(2, actual.GetArrayLength());
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i].GetProperty("text").GetString(), actual[i].GetProperty("text").GetString());
            Assert.Equal(expected[i].GetProperty("score").GetDouble(), actual[i].GetProperty("score").GetDouble(), 1e-4);
        }
    }

    [Fact]
    public async Task TrueStatementsAboutTheSceneOutscoreTheFalseOnes()
    {
        // The scene's five published statements (ShapeWorld's own labels): three true of its one
        // yellow ellipse, two minimal edits of them that are false.
        var cancellationToken = TestTimeout.Default();
        var world = JsonDocument.Parse(File.ReadLines(RepositoryPaths.ShapeWorldWorlds).First()).RootElement;
        var texts = world.GetProperty("captions").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var truth = world.GetProperty("agreement").EnumerateArray().Select(a => a.GetDouble() == 1.0).ToArray();
        Assert.Contains(true, truth);
        Assert.Contains(false, truth);
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, texts);

        using var response = await _client.PostAsync("/score", form, cancellationToken);

        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var scores = body.GetProperty("scores").EnumerateArray().Select(s => s.GetProperty("score").GetDouble()).ToArray();
        var trueScores = scores.Where((_, i) => truth[i]).ToArray();
        var falseScores = scores.Where((_, i) => !truth[i]).ToArray();
        Assert.True(trueScores.Min() > falseScores.Max(), $"true {string.Join(", ", trueScores)}; false {string.Join(", ", falseScores)}");
        Assert.All(trueScores, score => Assert.True(score >= 0.5, $"a true statement scored {score}"));
        Assert.All(falseScores, score => Assert.True(score < 0.5, $"a false statement scored {score}"));
    }
}
