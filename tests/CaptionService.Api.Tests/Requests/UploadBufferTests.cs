using CaptionService.Api.Requests;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Requests;

/// <summary>The pooled buffer uploads are read into: it holds what arrived, never what was declared.</summary>
public sealed class UploadBufferTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task AClientThatDeclares20MBAndSends500KBHoldsAtMost1MB()
    {
        using var buffer = new UploadBuffer();
        using var body = new ChunkedStream(Patterned(500 * 1024), chunk: 8 * 1024);

        Assert.True(await buffer.ReadFromAsync(body, limit: 20 * MiB, expectedLength: 20 * MiB, TestTimeout.Default()));

        Assert.InRange(buffer.Capacity, 500 * 1024, 1 * MiB);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PastTheFirstMegabyteADeclaredLengthIsReachedInOneStep(bool declared)
    {
        // A declared 20 MB upload: after 1 MB, one array with room for the rest (not 2, 4, 8, 16, 32 MB in turn).
        using var buffer = new UploadBuffer();
        using var body = new ChunkedStream(Patterned(20 * MiB), chunk: 64 * 1024);

        Assert.True(await buffer.ReadFromAsync(body, limit: 21 * MiB, declared ? 20 * MiB : null, TestTimeout.Default()));

        Assert.Equal(20 * MiB, buffer.Length);
        var roomAfterFirstMegabyte = body.Offered[body.Offered.FindIndex(o => o.At >= MiB)].Room;
        if (declared)
        {
            Assert.InRange(roomAfterFirstMegabyte, 19 * MiB, 20 * MiB + 1);
        }
        else
        {
            Assert.Equal(1 * MiB, roomAfterFirstMegabyte);
        }
    }

    [Fact]
    public async Task TheBytesComeBackExactlyWhateverTheChunking()
    {
        var sent = Patterned(300_001);
        using var buffer = new UploadBuffer();
        using var body = new ChunkedStream(sent, chunk: 7_919);

        Assert.True(await buffer.ReadFromAsync(body, limit: 1 * MiB, expectedLength: null, TestTimeout.Default()));

        Assert.Equal(sent, buffer.Memory.ToArray());
    }

    [Theory]
    [InlineData(100_000, true)]
    [InlineData(100_001, false)]
    public async Task ABodyOfTheLimitFitsAndOneByteMoreDoesNotAndNoMoreIsRead(int size, bool fits)
    {
        const int limit = 100_000;
        using var buffer = new UploadBuffer();
        using var body = new ChunkedStream(Patterned(size), chunk: 64 * 1024);
        using var endless = new ChunkedStream(Patterned(5 * MiB), chunk: 64 * 1024);

        Assert.Equal(fits, await buffer.ReadFromAsync(body, limit, expectedLength: null, TestTimeout.Default()));

        using var overflow = new UploadBuffer();
        Assert.False(await overflow.ReadFromAsync(endless, limit, expectedLength: null, TestTimeout.Default()));
        Assert.Equal(limit + 1, endless.Position);
    }

    [Fact]
    public void ADisposedBufferRefusesToBeRead()
    {
        var buffer = new UploadBuffer();
        buffer.Dispose();
        buffer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffer.Memory);
    }

    private static byte[] Patterned(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 % 251)).ToArray();

    /// <summary>A body that arrives at most <c>chunk</c> bytes per read, as a network body does; it notes the room each read offered.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : MemoryStream(bytes, writable: false)
    {
        public List<(long At, int Room)> Offered { get; } = [];

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Offered.Add((Position, buffer.Length));
            return base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
        }
    }
}
