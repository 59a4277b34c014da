using System.Net;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// A request body produced on demand and counted as it is sent, to show that the server refuses an
/// oversized body without reading it all. Content-Length is declared, or left out (chunked).
/// </summary>
internal sealed class LazyBodyContent(long length, bool declareLength, string contentType) : HttpContent
{
    private long _sent;

    public long BytesSent => Interlocked.Read(ref _sent);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        Headers.ContentType ??= new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        var chunk = new byte[64 * 1024];
        for (long remaining = length; remaining > 0;)
        {
            var size = (int)Math.Min(chunk.Length, remaining);
            await stream.WriteAsync(chunk.AsMemory(0, size));
            Interlocked.Add(ref _sent, size);
            remaining -= size;
        }
    }

    protected override bool TryComputeLength(out long computedLength)
    {
        Headers.ContentType ??= new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        computedLength = length;
        return declareLength;
    }
}
