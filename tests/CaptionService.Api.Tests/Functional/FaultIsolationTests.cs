using System.Diagnostics;
using System.Net;
using CaptionService.Api.Errors;
using CaptionService.Api.Tests.Infrastructure;
using CaptionService.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Faults injected into the real engine's batches (see <see cref="FaultInjectingExecutors"/>): a
/// failing ONNX Runtime run costs only its own batch a 500, and a hung run costs its requests a
/// 503 at the batch timeout instead of a stuck connection; either way the server goes on serving.
/// </summary>
public sealed class FaultIsolationTests
{
    [Fact]
    public async Task AnOnnxRuntimeFailureFailsOnlyItsBatchWith500UnderOneErrorIdLoggedOnceAndTheServerKeepsServing()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var factory = new FaultInjectionFactory(new Dictionary<string, string?>
        {
            // Two concurrent requests fill one batch; the long delay makes sure they meet.
            ["CaptionService:Batching:MaxBatchSize"] = "2",
            ["CaptionService:Batching:MaxQueueDelay"] = "00:00:02",
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);
        var logsBefore = factory.Logs.Entries.Count; // warm-up's readiness polls log errors of their own
        factory.Faults.FailNextBatch("encode");

        var failed = await PostCaptionPairAsync(client, cancellationToken);
        var afterwards = await PostCaptionPairAsync(client, cancellationToken);

        var errorIds = new List<string>();
        foreach (var response in failed)
        {
            var problem = await ProblemAssertions.AssertProblemAsync(response, HttpStatusCode.InternalServerError, "error id");
            Assert.Equal(ProblemTitles.ServerFault, problem.GetProperty("title").GetString());
            // The request's trace (W3C traceparent "00-TRACEID-SPANID-FLAGS", as the server answers it).
            var traceId = response.Headers.GetValues("traceparent").Single().Split('-')[1];
            Assert.Equal(traceId, problem.GetProperty("traceId").GetString());
            errorIds.Add(problem.GetProperty(ServerFaultExceptionHandler.ErrorIdExtension).GetString()!);
        }

        var errorId = Assert.Single(errorIds.Distinct());
        Assert.Matches("^[0-9a-f]{16}$", errorId);
        foreach (var response in afterwards)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Logged once for the batch, with ONNX Runtime's exception, and by nobody else (the
        // exception handler middleware included).
        var logs = factory.Logs.Entries.Skip(logsBefore).ToList();
        var logged = Assert.Single(logs, entry => entry.Exception is not null);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains(errorId, logged.Message, StringComparison.Ordinal);
        Assert.IsType<OnnxRuntimeException>(logged.Exception);
        Assert.DoesNotContain(logs, entry => entry.Level >= LogLevel.Error && entry != logged);

        using var ready = await client.GetAsync("/health/ready", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        DisposeAll(failed, afterwards);
    }

    [Fact]
    public async Task ABatchThatHangsPastTheBatchTimeoutIs503WithRetryAfterAndNotReadyAndTheServerServesOnceTheHangEnds()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        var batchTimeout = TimeSpan.FromMilliseconds(500);
        await using var factory = new FaultInjectionFactory(new Dictionary<string, string?>
        {
            ["CaptionService:Batching:BatchTimeout"] = batchTimeout.ToString(),
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);
        using var hang = factory.Faults.HangNextBatch("caption");

        var started = Stopwatch.GetTimestamp();
        using var abandoned = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        var answeredAfter = Stopwatch.GetElapsedTime(started);

        var problem = await ProblemAssertions.AssertProblemAsync(abandoned, HttpStatusCode.ServiceUnavailable, "batch timeout");
        Assert.Equal(ProblemTitles.InferenceTimedOut, problem.GetProperty("title").GetString());
        ProblemAssertions.AssertRetryAfter(abandoned);
        Assert.InRange(answeredAfter, batchTimeout, TimeSpan.FromSeconds(8));
        Assert.False(hang.Ended.IsCompleted, "the hung batch ended before its request was answered");

        // While the batch stays stuck, readiness is 503 and names the stage, so that a load
        // balancer sends requests elsewhere; liveness stays 200 (a restart would not help more).
        using (var stuck = await client.GetAsync("/health/ready", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stuck.StatusCode);
            var report = await stuck.Content.ReadAsStringAsync(cancellationToken);
            Assert.Contains("Stuck: the caption stage", report, StringComparison.Ordinal);
        }

        // A request that arrives during the hang waits in the queue (within its request timeout)
        // and is served once the hung run returns.
        var queuedBehind = client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        using (var live = await client.GetAsync("/health/live", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        hang.Release();
        await hang.Ended.WaitAsync(cancellationToken);
        using var served = await queuedBehind;
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        using var next = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        using var ready = await client.GetAsync("/health/ready", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static async Task<HttpResponseMessage[]> PostCaptionPairAsync(HttpClient client, CancellationToken cancellationToken) =>
        await Task.WhenAll(
            client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken),
            client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken));

    private static void DisposeAll(params HttpResponseMessage[][] responses)
    {
        foreach (var response in responses.SelectMany(r => r))
        {
            response.Dispose();
        }
    }
}
