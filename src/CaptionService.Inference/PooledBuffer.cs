using System.Buffers;

namespace CaptionService.Inference;

/// <summary>
/// An exact-length window over an array rented from <see cref="ArrayPool{T}.Shared"/>; disposing
/// returns the array. Tensors handed to ONNX Runtime are created over these, so steady-state
/// inference allocates no large arrays.
/// </summary>
internal sealed class PooledBuffer<T> : IDisposable
    where T : unmanaged
{
    private T[]? _array;

    public PooledBuffer(int length, bool clear = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _array = ArrayPool<T>.Shared.Rent(Math.Max(length, 1));
        if (clear)
        {
            System.Array.Clear(_array, 0, length);
        }
    }

    public int Length { get; }

    public Memory<T> Memory => new(Array, 0, Length);

    public Span<T> Span => new(Array, 0, Length);

    private T[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledBuffer<T>));

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}
