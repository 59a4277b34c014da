using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Every client mistake is an application/problem+json 4xx with a title and a detail that says
/// what was wrong, never a 500; and the server keeps answering afterwards.
/// </summary>
[Collection(RealModelServerGroup.Name)]
public sealed class ErrorResponseTests(RealModelServer server)
{
    private const long DefaultMaxImageBytes = 20L * 1024 * 1024;

    private readonly HttpClient _client = server.Client;

    [Theory]
    [InlineData("beams=abc", "beams")]
    [InlineData("maxTokens=1.5", "maxTokens")]
    [InlineData("temperature=warm", "temperature")]
    [InlineData("temperature=NaN", "temperature")]
    [InlineData("seed=99999999999999999999", "seed")]
    [InlineData("beams=2&beams=3", "beams")]
    [InlineData("beams=2&earlyStopping=sometimes", "earlyStopping")]
    [InlineData("repetitionPenalty=strong", "repetitionPenalty")]
    public async Task UnparsableOptionIs400NamingIt(string query, string option)
    {
        using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
        using var response = await _client.PostAsync($"/caption?{query}", raw, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, option);
    }

    [Theory]
    [InlineData("beams=0")]
    [InlineData("beams=99")]
    [InlineData("beams=2&alternatives=3")]
    [InlineData("temperature=-1")]
    [InlineData("topP=1.5")]
    [InlineData("maxTokens=0")]
    [InlineData("lengthPenalty=2")]
    [InlineData("beams=2&lengthPenalty=11")]
    [InlineData("minTokens=-1")]
    [InlineData("noRepeatNgramSize=-1")]
    [InlineData("repetitionPenalty=0")]
    public async Task OutOfRangeOptionIs400(string query)
    {
        using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
        using var response = await _client.PostAsync($"/caption?{query}", raw, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task OptionInAFormFieldIsParsedToo()
    {
        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        form.Add(new StringContent("many"), "beams");
        using var response = await _client.PostAsync("/caption", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "beams");
    }

    [Theory]
    [InlineData("/caption")]
    [InlineData("/score")]
    public async Task FormWithoutImageIs400(string path)
    {
        using var form = new MultipartFormDataContent { { new StringContent("a red square ."), "text" } };
        using var response = await _client.PostAsync(path, form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "image");
    }

    [Fact]
    public async Task ImageSentAsAPlainFormValueIs400()
    {
        using var form = new MultipartFormDataContent { { new StringContent("not a file"), "image" } };
        using var response = await _client.PostAsync("/caption", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "file");
    }

    [Fact]
    public async Task TwoImageFilesAre400NamingTheCount()
    {
        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        form.Add(new ByteArrayContent(TestImages.ShapeWorldPng), "image", "second.png");
        using var response = await _client.PostAsync("/caption", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "2 'image' files");
    }

    [Fact]
    public async Task AFormValueOver16KBIs400NamingTheField()
    {
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, new string('a', (16 * 1024) + 1));
        using var response = await _client.PostAsync("/score", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "'text' is longer than 16384 bytes");
    }

    [Fact]
    public async Task ScoreWithoutTextIs400()
    {
        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        using var response = await _client.PostAsync("/score", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "text");
    }

    [Fact]
    public async Task ScoreWith65TextsIs400NamingTheLimit()
    {
        var texts = Enumerable.Range(0, 65).Select(i => $"there are {i} circles .").ToArray();
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, texts);
        using var response = await _client.PostAsync("/score", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "64");
    }

    [Fact]
    public async Task ScoreWithAnEmptyTextIs400()
    {
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, "a red square .", "   ");
        using var response = await _client.PostAsync("/score", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest, "empty");
    }

    [Fact]
    public async Task ScoreWithATextLongerThanTheModelTakesIs400()
    {
        var longText = string.Join(' ', Enumerable.Repeat("a red square is to the left of a blue circle", 20));
        using var form = TestRequests.ScoreForm(TestImages.ShapeWorldPng, longText);
        using var response = await _client.PostAsync("/score", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    /// <summary>
    /// TestServer hands the whole body over regardless, so that the server stops reading early is
    /// shown against Kestrel in <c>ServerProcessTests</c>; here, the answer.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyOverTheImageLimitIs413(bool declareLength)
    {
        using var body = new LazyBodyContent(DefaultMaxImageBytes + 1, declareLength, "image/png");
        using var response = await _client.PostAsync("/caption", body, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, DefaultMaxImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task MultipartImageOverTheLimitIs413()
    {
        using var form = TestRequests.ImageForm(new byte[DefaultMaxImageBytes + 1]);
        using var response = await _client.PostAsync("/caption", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/octet-stream")]
    public async Task WrongContentTypeIs415(string contentType)
    {
        using var content = new ByteArrayContent(TestImages.ShapeWorldPng);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _client.PostAsync("/caption", content, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
    }

    [Fact]
    public async Task MissingContentTypeIs415()
    {
        using var content = new ByteArrayContent(TestImages.ShapeWorldPng);
        using var response = await _client.PostAsync("/caption", content, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "Content-Type");
    }

    [Fact]
    public async Task RawImageBodyToScoreIs415()
    {
        using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
        using var response = await _client.PostAsync("/score", raw, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
    }

    [Fact]
    public async Task ImageFormatTheServerDoesNotDecodeIs415()
    {
        using var raw = TestRequests.RawImage(TestImages.TiffHeader(), "image/tiff");
        using var response = await _client.PostAsync("/caption", raw, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task TruncatedImageIs422()
    {
        using var form = TestRequests.ImageForm(TestImages.TruncatedPng());
        using var response = await _client.PostAsync("/caption", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task ImageUnderTheMinimumSideIs422()
    {
        using var raw = TestRequests.RawImage(TestImages.TinyPng());
        using var response = await _client.PostAsync("/caption", raw, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity);
    }

    /// <summary>Bodies a careless or hostile client sends; each must be a 4xx problem.</summary>
    public static TheoryData<string, string, string?, string> MalformedBodies => new()
    {
        // path, content type, body, description
        { "/caption", "image/png", string.Empty, "empty raw body" },
        { "/caption", "multipart/form-data", "--x\r\n", "multipart without boundary" },
        { "/caption", "multipart/form-data; boundary=x", string.Empty, "empty multipart" },
        { "/caption", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n\u0089PNG", "truncated multipart" },
        { "/caption", "multipart/form-data; boundary=x", "garbage that is not multipart at all", "no boundary in body" },
        { "/caption", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n\r\n--x--\r\n", "empty image file" },
        { "/score", "multipart/form-data; boundary=x", "--x\r\nno headers here\r\n--x--\r\n", "part without headers" },
        { "/caption", "image/png; charset", "\u0089PNG", "unparsable content type" },
        { "/caption", "image/png", "not an image at all", "text labelled as PNG" },
        { "/score", "application/json", "{\"image\":\"x\",\"text\":[\"a\"]}", "JSON body" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task MalformedRequestIsA4xxProblemAndTheServerStaysHealthy(string path, string contentType, string? body, string description)
    {
        var cancellationToken = TestTimeout.Default();
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.Latin1.GetBytes(body ?? string.Empty)),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await _client.SendAsync(request, cancellationToken);

        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{description}: got {status}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        await ProblemAssertions.AssertProblemAsync(response, response.StatusCode);

        using var healthy = await _client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Fact]
    public async Task UnknownRouteAndWrongMethodAreProblemsToo()
    {
        var cancellationToken = TestTimeout.Default();
        using var notFound = await _client.GetAsync("/captions", cancellationToken);
        using var wrongMethod = await _client.GetAsync("/caption", cancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("application/problem+json", notFound.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType?.MediaType);
    }
}
