using System.Net;
using System.Net.Http.Headers;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Each image in <c>tests/fixtures/malformed-images/</c> once made the server answer 500 or never
/// answer (its README says which and why); each is now a 422 problem naming what is wrong, on every
/// endpoint that takes an image, and the server keeps captioning.
/// </summary>
[Collection(RealModelServerGroup.Name)]
public sealed class MalformedImageFixtureTests(RealModelServer server)
{
    private static readonly string FixtureDirectory = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "fixtures", "malformed-images");

    private readonly HttpClient _client = server.Client;

    /// <summary>Fixture file and a phrase its problem detail must contain.</summary>
    public static TheoryData<string, string> Fixtures => new()
    {
        { "bmp-header-2pow30-square.bmp", "65535" },
        { "bmp-palette-divide-by-zero.bmp", "decoded" },
        { "bmp-palette-null-reference.bmp", "decoded" },
        { "bmp-pixel-offset-2pow30.bmp", "past the end" },
        { "bmp-pixel-offset-2pow31.bmp", "past the end" },
        { "jpeg-identify-null-reference.jpg", "decoded" },
        { "jpeg-postprocessor-null-reference.jpg", "decoded" },
        { "png-ihdr-too-short.png", "decoded" },
        { "png-phys-too-short.png", "decoded" },
        { "png-corrupt-deflate.png", "compressed data is corrupt" },
        { "png-interlaced-data-ends-early.png", "interlaced" },
        { "png-interlaced-then-plain-header.png", "interlaced" },
        { "webp-dimensions-null-reference.webp", "decoded" },
        { "webp-lossless-copy-block-index.webp", "decoded" },
        { "webp-lossless-image-data-index.webp", "truncated" },
        { "webp-chunk-size-out-of-range.webp", "decoded" },
    };

    [Fact]
    public void EveryFixtureFileIsTestedAndDescribed()
    {
        var files = Directory.GetFiles(FixtureDirectory).Select(Path.GetFileName).Where(name => name != "README.md").Order(StringComparer.Ordinal);
        var tested = Fixtures.Select(row => (string)row[0]).Order(StringComparer.Ordinal);
        Assert.Equal(tested, files);

        var readme = File.ReadAllText(Path.Combine(FixtureDirectory, "README.md"));
        Assert.All(files, file => Assert.Contains($"`{file}`", readme, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task CaptionRawIs422(string file, string detailMentions)
    {
        using var response = await _client.PostAsync("/caption", Raw(file), TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, detailMentions);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task CaptionMultipartIs422(string file, string detailMentions)
    {
        using var form = new MultipartFormDataContent { { Raw(file), "image", file } };
        using var response = await _client.PostAsync("/caption", form, TestTimeout.Default());
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, detailMentions);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task ScoreIs422AndTheServerStillCaptions(string file, string detailMentions)
    {
        var cancellationToken = TestTimeout.Default();
        using var form = new MultipartFormDataContent { { Raw(file), "image", file }, { new StringContent("a red square ."), "text" } };
        using var response = await _client.PostAsync("/score", form, cancellationToken);
        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, detailMentions);

        using var healthy = await _client.PostAsync("/caption?maxTokens=1", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    private static ByteArrayContent Raw(string file)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(Path.Combine(FixtureDirectory, file)));
        var extension = Path.GetExtension(file).TrimStart('.');
        content.Headers.ContentType = new MediaTypeHeaderValue($"image/{(extension == "jpg" ? "jpeg" : extension)}");
        return content;
    }
}
