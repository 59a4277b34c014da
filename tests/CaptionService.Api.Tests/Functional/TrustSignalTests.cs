using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;
using CaptionService.Inference.Scoring;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// What the answers say about how far to trust them, with the real default model: unknown words
/// in scored texts, verified captions, degenerate captions and images unlike the model's scenes.
/// </summary>
[Collection(RealModelServerGroup.Name)]
public sealed class TrustSignalTests(RealModelServer server)
{
    private readonly HttpClient _client = server.Client;

    [Fact]
    public async Task EveryUnknownWordOfEveryTextIsNamedOnceWithAWarningPerText()
    {
        var cancellationToken = TestTimeout.Default();
        string[] texts =
        [
            "there is a yellow ellipse .",
            "xyzzy plugh",
            "there is a Dog , a dog and a unicorn !",
            "THERE IS A YELLOW ELLIPSE .",
        ];
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, texts);

        using var response = await _client.PostAsync("/score", form, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var unknown = body.GetProperty("scores").EnumerateArray()
            .Select(s => s.GetProperty("unknownWords").EnumerateArray().Select(w => w.GetString()!).ToArray())
            .ToArray();
        Assert.Equal([[], ["xyzzy", "plugh"], ["Dog", ",", "dog", "unicorn", "!"], []], unknown);

        var warnings = Warnings(body);
        Assert.Equal(["unknown-words", "unknown-words"], warnings.Select(w => w.Code));
        Assert.StartsWith("Text 2 of 4:", warnings[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("Text 3 of 4:", warnings[1].Message, StringComparison.Ordinal);
        foreach (var (warning, words) in warnings.Zip([unknown[1], unknown[2]]))
        {
            Assert.All(words, word => Assert.Contains($"'{word}'", warning.Message, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task StrictRefusesUnknownWordsWith422NamingEveryOne()
    {
        var cancellationToken = TestTimeout.Default();
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a yellow ellipse .", "xyzzy is a plugh", "a cat .");

        using var response = await _client.PostAsync("/score?strict=true", form, cancellationToken);

        var problem = await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("Unknown words", problem.GetProperty("title").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        foreach (var word in new[] { "'xyzzy'", "'plugh'", "'cat'", "Text 2 of 3", "Text 3 of 3" })
        {
            Assert.Contains(word, detail, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Text 1", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StrictScoresKnownWordsAsUsualAndOnlyTrueOrFalseIsAnOption()
    {
        var cancellationToken = TestTimeout.Default();
        using var strict = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a yellow ellipse .");
        using var plain = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a yellow ellipse .");
        using var strictResponse = await _client.PostAsync("/score?strict=true", strict, cancellationToken);
        using var plainResponse = await _client.PostAsync("/score", plain, cancellationToken);

        var strictBody = await strictResponse.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var plainBody = await plainResponse.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.Equal(HttpStatusCode.OK, strictResponse.StatusCode);
        Assert.Equal(plainBody.GetProperty("scores").ToString(), strictBody.GetProperty("scores").ToString());
        Assert.Empty(Warnings(strictBody));

        using var bad = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a yellow ellipse .");
        using var badResponse = await _client.PostAsync("/score?strict=yes", bad, cancellationToken);
        await ProblemAssertions.AssertProblemAsync(badResponse, HttpStatusCode.BadRequest, "strict");
    }

    [Fact]
    public async Task VerifiedAlternativesCarryFusionScoresInTheDocumentedOrder()
    {
        var cancellationToken = TestTimeout.Default();
        var body = await CaptionAsync(TestImages.ShapeWorldPng, "?verify=true", cancellationToken);

        var alternatives = body.GetProperty("alternatives").EnumerateArray().ToList();
        Assert.Equal(4, alternatives.Count);
        Assert.Equal(alternatives.Count, alternatives.Select(a => a.GetProperty("caption").GetString()).Distinct().Count());
        var ranks = alternatives.Select(a =>
        {
            var fusion = a.GetProperty("fusionScore").GetDouble();
            Assert.InRange(fusion, 0.0, 1.0);
            // The bundled tokenizer has one token per word, and every caption here ended (end token).
            var tokens = a.GetProperty("caption").GetString()!.Split(' ').Length + 1;
            return CaptionVerification.RankScore(fusion, a.GetProperty("logProb").GetDouble(), tokens);
        }).ToList();
        Assert.Equal(ranks.OrderDescending(), ranks);
        Assert.Equal(alternatives[0].GetProperty("caption").GetString(), body.GetProperty("caption").GetString());
        Assert.Equal(alternatives[0].GetProperty("fusionScore").GetDouble(), body.GetProperty("verification").GetDouble());

        // The chosen caption's fusion score is what /score says about the same text.
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, body.GetProperty("caption").GetString()!);
        using var scored = await _client.PostAsync("/score", form, cancellationToken);
        var score = (await scored.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("scores")[0].GetProperty("score").GetDouble();
        Assert.Equal(score, body.GetProperty("verification").GetDouble(), 5);
    }

    [Fact]
    public async Task VerifyTakesBeamsAndAlternativesAndIsOffByDefault()
    {
        var cancellationToken = TestTimeout.Default();
        var two = await CaptionAsync(TestImages.ShapeWorldPng, "?verify=true&beams=6&alternatives=2", cancellationToken);
        Assert.Equal(2, two.GetProperty("alternatives").GetArrayLength());
        Assert.All(two.GetProperty("alternatives").EnumerateArray(), a => Assert.True(a.TryGetProperty("fusionScore", out _)));

        foreach (var query in new[] { string.Empty, "?verify=false" })
        {
            var plain = await CaptionAsync(TestImages.ShapeWorldPng, query, cancellationToken);
            Assert.False(plain.TryGetProperty("verification", out _));
            Assert.False(plain.GetProperty("alternatives")[0].TryGetProperty("fusionScore", out _));
        }

        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        using var tooMany = await _client.PostAsync("/caption?verify=true&beams=2&alternatives=3", form, cancellationToken);
        await ProblemAssertions.AssertProblemAsync(tooMany, HttpStatusCode.BadRequest, "alternatives");

        using var sampledForm = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        using var sampled = await _client.PostAsync("/caption?verify=true&temperature=0.7", sampledForm, cancellationToken);
        await ProblemAssertions.AssertProblemAsync(sampled, HttpStatusCode.BadRequest, "beams=1");
        var sampledOnce = await CaptionAsync(TestImages.ShapeWorldPng, "?verify=true&beams=1&temperature=0.7&seed=1", cancellationToken);
        Assert.Equal(sampledOnce.GetProperty("alternatives")[0].GetProperty("fusionScore").GetDouble(), sampledOnce.GetProperty("verification").GetDouble());
    }

    [Fact]
    public async Task AScenesAnswerCarriesNoWarningsAndItsDistanceIsUnderTheThreshold()
    {
        var cancellationToken = TestTimeout.Default();
        var body = await CaptionAsync(TestImages.ShapeWorldPng, "?verify=true", cancellationToken);

        Assert.Empty(Warnings(body));
        var distance = body.GetProperty("imageDistance");
        Assert.InRange(distance.GetProperty("distance").GetDouble(), 0, distance.GetProperty("threshold").GetDouble());
    }

    [Fact]
    public async Task AWhitePageIsOutOfDistributionAndItsRepeatedCaptionIsDegenerate()
    {
        var cancellationToken = TestTimeout.Default();
        var white = Png(new Rgb24(255, 255, 255));

        var caption = await CaptionAsync(white, string.Empty, cancellationToken);
        var codes = Warnings(caption).Select(w => w.Code).ToList();
        Assert.Equal(["out-of-distribution", "degenerate-caption"], codes);
        var distance = caption.GetProperty("imageDistance");
        Assert.True(distance.GetProperty("distance").GetDouble() > distance.GetProperty("threshold").GetDouble());
        var words = caption.GetProperty("caption").GetString()!.Split(' ');
        Assert.Contains(words.Zip(words.Skip(1)), pair => pair.First == pair.Second);

        using var form = TestRequests.ScoreForm(white, "there is a red square .");
        using var scored = await _client.PostAsync("/score", form, cancellationToken);
        var scoreBody = await scored.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.Equal(["out-of-distribution"], Warnings(scoreBody).Select(w => w.Code));
    }

    internal static List<(string Code, string Message)> Warnings(JsonElement body) =>
        [.. body.GetProperty("warnings").EnumerateArray().Select(w => (w.GetProperty("code").GetString()!, w.GetProperty("message").GetString()!))];

    private async Task<JsonElement> CaptionAsync(byte[] image, string query, CancellationToken cancellationToken)
    {
        using var form = TestRequests.ImageForm(image);
        using var response = await _client.PostAsync("/caption" + query, form, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    private static byte[] Png(Rgb24 colour)
    {
        using var image = new Image<Rgb24>(100, 100, colour);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
