using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.Tests.Generation;

/// <summary>
/// The row graphs on CPU, whose device memory is host memory, with known tensors: the exact rows,
/// slots and zeros each move must produce, for a KV cache (rank 4) and encoder states (rank 3).
/// </summary>
public sealed class DeviceRowsTests : IDisposable
{
    private readonly DeviceRows _rows = DeviceRows.Load(
        OrtSessionFactory.Create(new ModelOptions { ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1 }, NullLogger.Instance));

    public void Dispose() => _rows.Dispose();

    [Fact]
    public void GatherRepeatsAndReordersRowsAndKeepsTheLastSlots()
    {
        // [rows 3, heads 1, slots 3, head size 2]: row r, slot s holds 10r + s in both places.
        using var cache = Tensor([0, 0, 1, 1, 2, 2, 10, 10, 11, 11, 12, 12, 20, 20, 21, 21, 22, 22], [3, 1, 3, 2]);

        using var gathered = _rows.Gather(cache, [2, 0, 2], start: 1);

        Assert.Equal([3L, 1, 2, 2], gathered.GetTensorTypeAndShape().Shape);
        Assert.Equal([21f, 21, 22, 22, 1, 1, 2, 2, 21, 21, 22, 22], gathered.GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void GatherKeepsEveryTokenOfRankThreeTensorsAndCanLeaveNoRows()
    {
        using var states = Tensor([1, 2, 3, 4, 5, 6], [2, 1, 3]);

        using var second = _rows.Gather(states, [1]);
        using var none = _rows.Gather(states, []);

        Assert.Equal([1L, 1, 3], second.GetTensorTypeAndShape().Shape);
        Assert.Equal([4f, 5, 6], second.GetTensorDataAsSpan<float>().ToArray());
        Assert.Equal([0L, 1, 3], none.GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void AppendZeroRowsAddsRowsOfZerosAfterTheOldOnes()
    {
        using var cache = Tensor([1, 2, 3, 4], [2, 1, 2, 1]);

        using var grown = _rows.AppendZeroRows(cache, 2);

        Assert.Equal([4L, 1, 2, 1], grown.GetTensorTypeAndShape().Shape);
        Assert.Equal([1f, 2, 3, 4, 0, 0, 0, 0], grown.GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void ZerosMakesAnEmptyCacheOrRowsOfZeros()
    {
        using var empty = _rows.Zeros([3, 2, 0, 4]);
        using var zeros = _rows.Zeros([2, 1, 1, 2]);

        Assert.Equal([3L, 2, 0, 4], empty.GetTensorTypeAndShape().Shape);
        Assert.Equal(new float[4], zeros.GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void ConcatAndUploadKeepTheRowsInOrder()
    {
        using var first = _rows.Upload(new float[] { 1, 2, 3 }, [1, 1, 3]);
        using var second = Tensor([4, 5, 6, 7, 8, 9], [2, 1, 3]);

        using var joined = _rows.Concat(first, second);

        Assert.Equal([3L, 1, 3], joined.GetTensorTypeAndShape().Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8, 9], joined.GetTensorDataAsSpan<float>().ToArray());
    }

    private static OrtValue Tensor(float[] values, long[] shape) => OrtValue.CreateTensorValueFromMemory(values, shape);
}
