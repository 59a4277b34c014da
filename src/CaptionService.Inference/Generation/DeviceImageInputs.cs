using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.Generation;

/// <summary>
/// <see cref="DecoderImageInputs"/> kept on the execution provider's device: the encoder states,
/// or each layer's image keys and values, as device tensors <c>[rows, ...]</c> that every step
/// binds as they are. Selecting and adding rows runs the row graphs (<see cref="DeviceRows"/>).
/// </summary>
/// <remarks>
/// Each row remembers which image it reads, so a selection that keeps the row count and leaves
/// every row reading the image it read (beams reordered within a request) gathers nothing. Any
/// other selection gathers every tensor into new device memory: on a GPU that copy runs at device
/// bandwidth, where the host path's in-place moves were worth their bookkeeping.
/// </remarks>
internal sealed class DeviceImageInputs : IDisposable
{
    private static long s_nextImage;
    private readonly DeviceRows _rows;
    private readonly OrtValue[] _values;
    private long[] _images;

    /// <summary>Takes ownership of <paramref name="values"/>, device tensors of <paramref name="rows"/> rows each.</summary>
    public DeviceImageInputs(DeviceRows rows, OrtValue[] values, int rowCount)
    {
        _rows = rows;
        _values = values;
        Rows = rowCount;
        _images = [.. Enumerable.Range(0, rowCount).Select(_ => Interlocked.Increment(ref s_nextImage))];
    }

    public int Rows { get; private set; }

    /// <summary>The tensors, in the decoder's image input order; valid until the rows change.</summary>
    public IReadOnlyList<OrtValue> Values => _values;

    /// <summary>Row <c>i</c> becomes old row <c>sourceRows[i]</c> in every tensor.</summary>
    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        var images = new long[sourceRows.Length];
        var unchanged = sourceRows.Length == Rows;
        for (var row = 0; row < sourceRows.Length; row++)
        {
            images[row] = _images[sourceRows[row]];
            unchanged = unchanged && images[row] == _images[row];
        }

        if (unchanged)
        {
            _images = images;
            return;
        }

        for (var i = 0; i < _values.Length; i++)
        {
            Replace(i, _rows.Gather(_values[i], sourceRows));
        }

        _images = images;
        Rows = sourceRows.Length;
    }

    /// <summary>Appends <paramref name="other"/>'s rows (same row shapes) after these, taking ownership of it.</summary>
    public void Append(DeviceImageInputs other)
    {
        using (other)
        {
            if (other._values.Length != _values.Length)
            {
                throw new ArgumentException("Only rows of the same inputs can join.", nameof(other));
            }

            for (var i = 0; i < _values.Length; i++)
            {
                Replace(i, _rows.Concat(_values[i], other._values[i]));
            }

            _images = [.. _images, .. other._images];
            Rows += other.Rows;
        }
    }

    public void Dispose()
    {
        foreach (var value in _values)
        {
            value.Dispose();
        }
    }

    private void Replace(int index, OrtValue value)
    {
        _values[index].Dispose();
        _values[index] = value;
    }
}
