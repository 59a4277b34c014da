using System.Net;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// A request body of a declared length that sends its first bytes, then waits for <see cref="Release"/>
/// before sending the rest: an upload in progress, as a slow or large client makes one.
/// </summary>
internal sealed class HeldBodyContent(long length, string contentType) : HttpContent
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first bytes are on their way.</summary>
    public Task Started => _started.Task;

    public void Release() => _released.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var first = new byte[Math.Min(1024, length)];
        await stream.WriteAsync(first);
        await stream.FlushAsync();
        _started.TrySetResult();
        await _released.Task;
        var rest = new byte[64 * 1024];
        for (var remaining = length - first.Length; remaining > 0;)
        {
            var size = (int)Math.Min(rest.Length, remaining);
            await stream.WriteAsync(rest.AsMemory(0, size));
            remaining -= size;
        }
    }

    protected override bool TryComputeLength(out long computedLength)
    {
        Headers.ContentType ??= new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        computedLength = length;
        return true;
    }
}
