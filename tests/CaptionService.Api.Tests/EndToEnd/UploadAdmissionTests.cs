using System.Diagnostics;
using System.Net;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.EndToEnd;

/// <summary>
/// Admission before the body, against the real server (Kestrel hands the request to the app before
/// its body has arrived): while uploads in progress hold the byte budget, another large one gets a
/// fast 503 with Retry-After without being read, and the server stays ready and serves the rest.
/// </summary>
[Collection(ServerProcessGroup.Name)]
public sealed class UploadAdmissionTests
{
    [Fact]
    public async Task AnUploadPastTheInFlightByteBudgetIsRefusedFastWhileTheOthersGoOn()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["CaptionService__Admission__MaxBodyBytesInFlight"] = "200000",
        });
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        await server.WaitUntilReadyAsync(client, cancellationToken);

        // An upload of 150,000 bytes in progress holds most of the budget.
        using var held = new HeldBodyContent(150_000, "image/png");
        var holding = client.PostAsync("/caption", held, cancellationToken);
        await held.Started.WaitAsync(cancellationToken);

        // Another 100,000 bytes do not fit beside it: refused before its body is read.
        HttpResponseMessage? refused = null;
        for (var attempt = 0; attempt < 50 && refused is null; attempt++)
        {
            using var large = new LazyBodyContent(100_000, declareLength: true, "image/png");
            var started = Stopwatch.GetTimestamp();
            var response = await client.PostAsync("/caption", large, cancellationToken);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                refused = response;
                Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "the refusal was not fast");
            }
            else
            {
                response.Dispose(); // admitted before the held upload was: try again
                await Task.Delay(100, cancellationToken);
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            var problem = await ProblemAssertions.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "bodies");
            Assert.Equal("Server busy", problem.GetProperty("title").GetString());
            ProblemAssertions.AssertRetryAfter(refused);
        }

        // Small requests still fit, the server stays ready, and the held upload is answered once it ends.
        using (var small = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        }

        using (var ready = await client.GetAsync("/health/ready", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        held.Release();
        using var heldResponse = await holding;
        Assert.True((int)heldResponse.StatusCode is >= 400 and < 500, $"the held upload (zeros, not an image) got {(int)heldResponse.StatusCode}");
    }
}
