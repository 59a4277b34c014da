using System.Runtime.InteropServices;
using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Tests.Generation;

/// <summary>
/// Row selection over the image inputs moves as little as it can (beams of one image share
/// content; a request that leaves moves later rows up in place), yet every row must always read
/// its own image, whatever the sequence of selections and joins.
/// </summary>
public sealed class DecoderImageInputsTests
{
    private const int RowLength = 3;

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void EveryRowReadsItsImageThroughForksReordersCompactionsAndJoins(int seed)
    {
        var random = new Random(seed);
        var (inputs, owner) = Images(0, 3);
        try
        {
            var nextImage = 3;
            for (var round = 0; round < 200; round++)
            {
                if (random.Next(4) == 0)
                {
                    var joining = random.Next(1, 3);
                    var (other, images) = Images(nextImage, joining);
                    nextImage += joining;
                    using (other)
                    {
                        inputs.Append(other);
                    }

                    owner.AddRange(images);
                }
                else if (random.Next(8) == 0)
                {
                    // Images in another order: gathered rather than moved.
                    int[] reversed = [.. Enumerable.Range(0, owner.Count).Reverse()];
                    inputs.SelectRows(reversed);
                    owner = [.. reversed.Select(row => owner[row])];
                }
                else if (owner.Count > 0)
                {
                    // Beam-like: each surviving image keeps 0 to 3 rows, parents chosen among its own rows.
                    var sources = new List<int>();
                    foreach (var image in owner.Distinct().ToArray())
                    {
                        var rows = Enumerable.Range(0, owner.Count).Where(row => owner[row] == image).ToArray();
                        var keep = random.Next(0, 4);
                        for (var k = 0; k < keep; k++)
                        {
                            sources.Add(rows[random.Next(rows.Length)]);
                        }
                    }

                    inputs.SelectRows([.. sources]);
                    owner = [.. sources.Select(row => owner[row])];
                }

                Assert.Equal(owner.Count, inputs.Rows);
                var memory = inputs.Memory(0).Span;
                Assert.Equal(owner.Count * RowLength, memory.Length);
                for (var row = 0; row < owner.Count; row++)
                {
                    Assert.Equal(Row(owner[row]), memory.Slice(row * RowLength, RowLength).ToArray());
                }
            }
        }
        finally
        {
            inputs.Dispose();
        }
    }

    /// <summary>
    /// A beam search that forks moves the rows after it down within the same buffer when it has
    /// room (here, left by two requests that finished), instead of gathering every row anew.
    /// </summary>
    [Fact]
    public void AForkWithRoomMovesRowsInPlace()
    {
        var (inputs, _) = Images(0, 6);
        using (inputs)
        {
            inputs.SelectRows([0, 2, 4]);
            var before = BackingArray(inputs);

            inputs.SelectRows([0, 1, 1, 1, 2]);

            Assert.Same(before, BackingArray(inputs));
            Assert.Equal([.. Row(0), .. Row(2), .. Row(2), .. Row(2), .. Row(4)], inputs.Memory(0).ToArray());
        }
    }

    /// <summary>
    /// A batch reserved for its stage's rows takes joins and beam forks within them in the buffers it
    /// started with, and one that had to gather (beams reordered) keeps that room.
    /// </summary>
    [Fact]
    public void ReservedRoomTakesJoinsAndForksWithoutNewBuffers()
    {
        using var inputs = DecoderImageInputs.Reserve([[RowLength]], capacity: 8);
        var first = BackingArray(inputs);
        var (joining, _) = Images(0, 2);
        using (joining)
        {
            inputs.Append(joining);
        }

        inputs.SelectRows([0, 0, 0, 1, 1, 1]);
        var (late, _) = Images(2, 2);
        using (late)
        {
            inputs.Append(late);
        }

        Assert.Same(first, BackingArray(inputs));
        Assert.Equal([.. Row(0), .. Row(0), .. Row(0), .. Row(1), .. Row(1), .. Row(1), .. Row(2), .. Row(3)], inputs.Memory(0).ToArray());

        inputs.SelectRows([7, 6, 0]); // images in another order: gathered into new buffers, with the same room
        var gathered = BackingArray(inputs);
        var (more, _) = Images(4, 5);
        using (more)
        {
            inputs.Append(more);
        }

        Assert.Same(gathered, BackingArray(inputs));
        Assert.Equal([.. Row(3), .. Row(2), .. Row(0), .. Row(4), .. Row(5), .. Row(6), .. Row(7), .. Row(8)], inputs.Memory(0).ToArray());
    }

    private static float[] BackingArray(DecoderImageInputs inputs) =>
        MemoryMarshal.TryGetArray<float>(inputs.Memory(0), out var segment) ? segment.Array! : throw new InvalidOperationException("Not array-backed.");

    private static float[] Row(int image) => [image, image + 0.25f, image + 0.5f];

    private static (DecoderImageInputs Inputs, List<int> Owner) Images(int first, int count)
    {
        var buffer = new PooledBuffer<float>(count * RowLength);
        for (var i = 0; i < count; i++)
        {
            Row(first + i).CopyTo(buffer.Span.Slice(i * RowLength, RowLength));
        }

        return (new DecoderImageInputs([buffer], [[RowLength]], count), [.. Enumerable.Range(first, count)]);
    }
}
