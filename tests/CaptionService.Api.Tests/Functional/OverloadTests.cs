using System.Net;
using CaptionService.Api.Draining;
using CaptionService.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionService.Api.Tests.Functional;

/// <summary>Overload and shutdown answers with the real engine: 429 and 503 with Retry-After, as problems.</summary>
public sealed class OverloadTests
{
    [Fact]
    public async Task FullQueueIs429WithRetryAfterAndTheRestSucceed()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            ["CaptionService:Batching:MaxBatchSize"] = "1",
            ["CaptionService:Batching:MaxQueueSize"] = "1",
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);

        var responses = await PostSlowCaptionsAsync(client, 24, cancellationToken);

        try
        {
            var tooMany = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            var outcome = await DescribeAsync(responses, cancellationToken);
            Assert.True(tooMany.Count > 0, $"No 429 among {outcome}");
            Assert.True(
                responses.All(r => r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests),
                $"Expected only 200 and 429, got {outcome}");
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
            await ProblemAssertions.AssertProblemAsync(tooMany[0], HttpStatusCode.TooManyRequests);
            ProblemAssertions.AssertRetryAfter(tooMany[0]);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task RequestPastItsDeadlineIs503WithRetryAfter()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            // One request at a time, each a slow beam search: the ones at the back of the queue
            // are not started within a second. (Warm-up runs alone, well within it.) 40 such
            // requests were enough until the image cache made decoding about twice as fast.
            ["CaptionService:Batching:MaxBatchSize"] = "1",
            ["CaptionService:Batching:RequestTimeout"] = "00:00:01",
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);

        var responses = await PostSlowCaptionsAsync(client, 200, cancellationToken);

        try
        {
            var expired = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
            var outcome = await DescribeAsync(responses, cancellationToken);
            Assert.True(expired.Count > 0, $"No 503 among {outcome}");
            Assert.True(
                responses.All(r => r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable),
                $"Expected only 200 and 503, got {outcome}");
            await ProblemAssertions.AssertProblemAsync(expired[0], HttpStatusCode.ServiceUnavailable);
            ProblemAssertions.AssertRetryAfter(expired[0]);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task WhileDrainingReadinessIsFalseAndNewRequestsGet503WithRetryAfter()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var factory = new CaptionServiceFactory();
        using var client = await factory.CreateReadyClientAsync(cancellationToken);

        // What SIGTERM starts; the whole signal path is covered by the process drain test.
        _ = factory.Services.GetRequiredService<RequestDrain>().BeginDrainAsync();

        using var ready = await client.GetAsync("/health/ready", cancellationToken);
        using var live = await client.GetAsync("/health/live", cancellationToken);
        using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
        using var caption = await client.PostAsync("/caption", raw, cancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        await ProblemAssertions.AssertProblemAsync(caption, HttpStatusCode.ServiceUnavailable, "shutting down");
        ProblemAssertions.AssertRetryAfter(caption);
    }

    /// <summary>The statuses with their counts, and the first body of each non-200 status: a failure says what came back.</summary>
    private static async Task<string> DescribeAsync(IReadOnlyList<HttpResponseMessage> responses, CancellationToken cancellationToken)
    {
        var parts = new List<string>();
        foreach (var group in responses.GroupBy(r => (int)r.StatusCode).OrderBy(g => g.Key))
        {
            var body = group.Key == 200 ? string.Empty : $" (first: {await group.First().Content.ReadAsStringAsync(cancellationToken)})";
            parts.Add($"{group.Key} x{group.Count()}{body}");
        }

        return string.Join("; ", parts);
    }

    /// <summary>
    /// Sends <paramref name="count"/> beam-search captions at once: with one request per batch,
    /// each keeps the engine busy while the others pile up in the queue behind it.
    /// </summary>
    private static Task<HttpResponseMessage[]> PostSlowCaptionsAsync(HttpClient client, int count, CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            using var raw = TestRequests.RawImage(TestImages.ShapeWorldPng);
            return await client.PostAsync("/caption?beams=8&alternatives=8", raw, cancellationToken);
        }));
}
