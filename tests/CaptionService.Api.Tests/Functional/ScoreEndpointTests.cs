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
