using System.Net;
using System.Reflection;
using CaptionService.Api.Errors;
using System.Text.Json;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>Checks that an error is RFC 7807 application/problem+json with the expected status, a title and a useful detail.</summary>
internal static class ProblemAssertions
{
    /// <summary>Every title the server may send (<see cref="ProblemTitles"/>), which the OpenAPI examples use too.</summary>
    public static IReadOnlySet<string> KnownTitles { get; } = typeof(ProblemTitles)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet();

    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string? detailMentions = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.Contains(problem.GetProperty("title").GetString()!, KnownTitles);
        var detail = problem.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail));
        if (detailMentions is not null)
        {
            Assert.Contains(detailMentions, detail, StringComparison.OrdinalIgnoreCase);
        }

        return problem;
    }

    /// <summary>429 and 503 tell the client when to come back, in whole seconds.</summary>
    public static void AssertRetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        Assert.NotNull(retryAfter);
        Assert.NotNull(retryAfter.Delta);
        Assert.True(retryAfter.Delta >= TimeSpan.FromSeconds(1), $"Retry-After {retryAfter.Delta} is under a second.");
    }
}
