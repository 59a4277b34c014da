using System.Net;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>Per-client rate limits and the CORS policy, each configured as an operator would.</summary>
public sealed class ClientLimitsTests
{
    [Fact]
    public async Task AClientPastItsLimitGets429WithRetryAfterAndRateLimitHeadersWhileOthersGoOn()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(1));
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            ["CaptionService:RateLimit:PermitsPerWindow"] = "2",
            ["CaptionService:RateLimit:Window"] = "00:01:00",
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 3; i++)
        {
            var response = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        using (refused)
        {
            var problem = await ProblemAssertions.AssertProblemAsync(refused!, HttpStatusCode.TooManyRequests, "2 requests");
            Assert.Equal("Rate limit exceeded", problem.GetProperty("title").GetString());
            ProblemAssertions.AssertRetryAfter(refused!);
            Assert.Equal("2", refused!.Headers.GetValues("RateLimit-Limit").Single());
            Assert.Equal("0", refused.Headers.GetValues("RateLimit-Remaining").Single());
            Assert.True(int.Parse(refused.Headers.GetValues("RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        }

        // Another client (here: one that sends an API key) has its own window; probes are not limited.
        using var other = new HttpRequestMessage(HttpMethod.Post, "/caption") { Content = TestRequests.RawImage(TestImages.ShapeWorldPng) };
        other.Headers.Add("X-API-Key", "another-client");
        using var otherResponse = await client.SendAsync(other, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
        using var ready = await client.GetAsync("/health/ready", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Theory]
    [InlineData(null, "https://app.example.com", false)]
    [InlineData("https://app.example.com", "https://app.example.com", true)]
    [InlineData("https://app.example.com", "https://evil.example.net", false)]
    public async Task OnlyConfiguredOriginsPassAPreflight(string? allowed, string origin, bool passes)
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(1));
        var settings = new Dictionary<string, string?>();
        if (allowed is not null)
        {
            settings["CaptionService:Security:AllowedOrigins:0"] = allowed;
        }

        await using var factory = new CaptionServiceFactory(settings);
        using var client = factory.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/caption");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-api-key");

        using var response = await client.SendAsync(preflight, cancellationToken);

        Assert.Equal(passes, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var origins) && origins.Single() == origin);
    }
}
