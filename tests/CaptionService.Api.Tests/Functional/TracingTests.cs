using System.Diagnostics;
using System.Net;
using CaptionService.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry.Trace;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// W3C trace context in and out, and the engine's spans in the request's trace: its queue waits
/// are children of the request's span, and each batch that served it links to it.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task ACaptionRequestsTraceHasItsQueueWaitsAndLinkedBatchesAndComesBackInTraceparent()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(1));
        var spans = new SpanCollection();
        await using var factory = new TracedServer(spans);
        using var client = await factory.CreateReadyClientAsync(cancellationToken);
        var traceId = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/caption") { Content = TestRequests.RawImage(TestImages.ShapeWorldPng) };
        request.Headers.Add("traceparent", $"00-{traceId}-{parent}-01");
        using var response = await client.SendAsync(request, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(traceId.ToString(), response.Headers.GetValues("traceparent").Single(), StringComparison.Ordinal);

        // Spans are exported as they end; the server span ends with the response.
        var inTrace = await WaitForAsync(() => Snapshot(spans).Where(s => s.TraceId == traceId).ToList(), s => s.Any(a => a.Kind == ActivityKind.Server), cancellationToken);
        var server = Assert.Single(inTrace, s => s.Kind == ActivityKind.Server);
        Assert.Equal(parent, server.ParentSpanId);
        Assert.Equal(["queue caption", "queue encode"], inTrace.Where(s => s.DisplayName.StartsWith("queue", StringComparison.Ordinal)).Select(s => s.DisplayName).Order(StringComparer.Ordinal));
        Assert.All(inTrace.Where(s => s.DisplayName.StartsWith("queue", StringComparison.Ordinal)), s => Assert.Equal(server.SpanId, s.ParentSpanId));

        var batches = Snapshot(spans).Where(s => s.DisplayName.StartsWith("batch", StringComparison.Ordinal) && s.Links.Any(l => l.Context.TraceId == traceId)).ToList();
        Assert.Equal(["batch caption", "batch encode"], batches.Select(b => b.DisplayName).Order(StringComparer.Ordinal));
        var captionBatch = batches.Single(b => b.DisplayName == "batch caption");
        Assert.Contains(Snapshot(spans), s => s.DisplayName == "decoder step" && s.ParentSpanId == captionBatch.SpanId);
    }

    private static List<Activity> Snapshot(SpanCollection spans) => spans.Snapshot();

    private static async Task<List<Activity>> WaitForAsync(Func<List<Activity>> read, Func<List<Activity>, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            var found = read();
            if (done(found))
            {
                return found;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The real application with an in-memory span exporter beside its own tracing setup.</summary>
    private sealed class TracedServer(SpanCollection spans) : CaptionServiceFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        }
    }

    /// <summary>Spans end on many threads: the exporter's collection takes them under a lock.</summary>
    private sealed class SpanCollection : ICollection<Activity>
    {
        private readonly List<Activity> _spans = [];

        public int Count => Snapshot().Count;

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_spans)
            {
                return [.. _spans];
            }
        }

        public void Add(Activity item)
        {
            lock (_spans)
            {
                _spans.Add(item);
            }
        }

        public void Clear()
        {
            lock (_spans)
            {
                _spans.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_spans)
            {
                return _spans.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
