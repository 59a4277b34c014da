using System.Buffers;

namespace CaptionService.Api.Requests;

/// <summary>
/// The bytes of an upload, received into an array rented from <see cref="ArrayPool{T}.Shared"/>
/// that grows only as bytes arrive: doubling from 64 KB (the old array returned) up to 1 MB, then,
/// when the length is declared, straight to it, so that a 20 MB upload costs one 20 MB array and
/// about 2 MB besides, not a chain of halves. A client that declares 20 MB and sends 500 KB holds
/// at most 1 MB. Disposing returns the array; the engine reads <see cref="Memory"/> before the
/// request ends.
/// </summary>
internal sealed class UploadBuffer : IDisposable
{
    /// <summary>Large enough that an ordinary image needs a few growths at most, small enough that an idle client holds little.</summary>
    private const int InitialCapacity = 64 * 1024;

    /// <summary>Once this much has arrived the client is sending for real, and the declared length is the next size.</summary>
    private const int ProvenBytes = 1024 * 1024;

    private byte[]? _array = [];
    private int _length;

    public int Length => _length;

    /// <summary>The bytes the buffer holds on to (its rented array), received or not.</summary>
    public int Capacity => Array.Length;

    public ReadOnlyMemory<byte> Memory => new(Array, 0, _length);

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(UploadBuffer));

    /// <summary>
    /// Appends <paramref name="source"/> to its end. Returns false, having read at most
    /// <paramref name="limit"/> + 1 bytes, when the stream holds more than <paramref name="limit"/>.
    /// </summary>
    /// <param name="source">Read to its end.</param>
    /// <param name="limit">The most bytes the buffer may hold.</param>
    /// <param name="expectedLength">The declared length (or an upper bound of it), if any: past <see cref="ProvenBytes"/> the buffer grows to it in one step, and never past it before bytes beyond it arrive.</param>
    /// <param name="cancellationToken">The request's token.</param>
    public async Task<bool> ReadFromAsync(Stream source, int limit, long? expectedLength, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Up to one byte past the limit, to tell a body of exactly the limit from a larger one.
            var room = (int)Math.Min(Array.Length, limit + 1L) - _length;
            if (room == 0)
            {
                Grow(limit, expectedLength);
                room = (int)Math.Min(Array.Length, limit + 1L) - _length;
            }

            var read = await source.ReadAsync(Array.AsMemory(_length, room), cancellationToken);
            if (read == 0)
            {
                return true;
            }

            _length += read;
            if (_length > limit)
            {
                return false;
            }
        }
    }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>
    /// Doubles; past <see cref="ProvenBytes"/> goes straight to the declared length; never past the
    /// declared length (while the stream keeps it) nor one byte past the limit (to see an overflow).
    /// </summary>
    private void Grow(int limit, long? expectedLength)
    {
        var current = Array;
        long wanted = Math.Max(InitialCapacity, 2L * current.Length);
        if (expectedLength is { } expected && expected > current.Length)
        {
            wanted = current.Length >= ProvenBytes ? expected : Math.Min(wanted, expected);
        }

        wanted = Math.Min(wanted, (long)limit + 1);
        var next = ArrayPool<byte>.Shared.Rent((int)Math.Max(wanted, current.Length + 1L));
        current.AsSpan(0, _length).CopyTo(next);
        _array = next;
        if (current.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(current);
        }
    }
}
