using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>Optional API keys: 401 problem+json with WWW-Authenticate without an accepted key; probes always open.</summary>
public sealed class ApiKeyTests(ApiKeyServer server) : IClassFixture<ApiKeyServer>
{
    private readonly HttpClient _client = server.CreateClient();

    [Theory]
    [InlineData(null, null)]
    [InlineData("X-API-Key", "not-the-key")]
    [InlineData("Authorization", "Bearer not-the-key")]
    [InlineData("Authorization", "Basic dXNlcjpwYXNz")]
    public async Task InferenceWithoutAnAcceptedKeyIs401WithWwwAuthenticate(string? header, string? value)
    {
        var cancellationToken = TestTimeout.Default();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/caption") { Content = TestRequests.RawImage(TestImages.ShapeWorldPng) };
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await _client.SendAsync(request, cancellationToken);

        await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "key");
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("realm=\"CaptionService\"", challenge.Parameter, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-API-Key", ApiKeyServer.Key)]
    [InlineData("Authorization", "Bearer " + ApiKeyServer.Key)]
    public async Task EitherHeaderWithTheKeyIsServed(string header, string value)
    {
        var cancellationToken = TestTimeout.Default();
        using var ready = await server.CreateReadyClientAsync(cancellationToken); // probes need no key; the model must be warm
        using var request = new HttpRequestMessage(HttpMethod.Post, "/caption") { Content = TestRequests.RawImage(TestImages.ShapeWorldPng) };
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await _client.SendAsync(request, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ReferenceCaptions.ForShapeWorldImage, (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("caption").GetString());
    }

    [Fact]
    public async Task AReloadNeedsTheKey()
    {
        var cancellationToken = TestTimeout.Default();
        using var ready = await server.CreateReadyClientAsync(cancellationToken);
        using var withKey = new HttpRequestMessage(HttpMethod.Post, "/v1/models/shapeworld-fusion/reload");
        withKey.Headers.TryAddWithoutValidation("X-API-Key", ApiKeyServer.Key);

        using var without = await _client.PostAsync("/v1/models/shapeworld-fusion/reload", content: null, cancellationToken);
        using var with = await _client.SendAsync(withKey, cancellationToken);

        await ProblemAssertions.AssertProblemAsync(without, HttpStatusCode.Unauthorized, "key");
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    [Theory]
    [InlineData("/health/live", HttpStatusCode.OK)]
    [InlineData("/swagger/v1/swagger.json", HttpStatusCode.OK)]
    [InlineData("/metrics", HttpStatusCode.Unauthorized)]
    [InlineData("/model", HttpStatusCode.Unauthorized)]
    public async Task ProbesAreOpenAndMetricsAndSwaggerFollowTheirSettings(string path, HttpStatusCode expected)
    {
        using var response = await _client.GetAsync(path, TestTimeout.Default());
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task TheDocumentOffersBothSchemesOnProtectedOperations()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", TestTimeout.Default());

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-API-Key", schemes.GetProperty("ApiKey").GetProperty("name").GetString());
        Assert.Equal("bearer", schemes.GetProperty("Bearer").GetProperty("scheme").GetString());
        var caption = document.GetProperty("paths").GetProperty("/caption").GetProperty("post");
        Assert.Equal(["ApiKey", "Bearer"], caption.GetProperty("security").EnumerateArray().Select(r => r.EnumerateObject().Single().Name));
        Assert.True(caption.GetProperty("responses").TryGetProperty("401", out _));
    }
}
