using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.Generation;

/// <summary>
/// Row moves over tensors that stay on the execution provider's device (rows first, any rank):
/// each runs one of the engine's row graphs (src/training/row_graphs.py) on the decoder's provider,
/// with its data input and its output bound to device memory, so no row crosses to the host.
/// Only the small index tensors (rows, pads) go up from host memory.
/// </summary>
internal sealed class DeviceRows : IDisposable
{
    private readonly InferenceSession _gather;
    private readonly InferenceSession _pad;
    private readonly InferenceSession _concat;
    private readonly OrtMemoryInfo _device;
    private readonly RunOptions _runOptions = new();

    private DeviceRows(InferenceSession gather, InferenceSession pad, InferenceSession concat, OrtMemoryInfo device)
    {
        _gather = gather;
        _pad = pad;
        _concat = concat;
        _device = device;
    }

    /// <summary>Where the moved tensors live.</summary>
    public OrtMemoryInfo Device => _device;

    /// <summary>Loads the row graphs on <paramref name="factory"/>'s provider.</summary>
    public static DeviceRows Load(OrtSessionFactory factory)
    {
        var sessions = new List<InferenceSession>(3);
        try
        {
            foreach (var name in new[] { "gather_rows", "pad_rows", "concat_rows" })
            {
                sessions.Add(factory.CreateSession(ReadGraph(name), $"{name}.onnx"));
            }

            return new DeviceRows(sessions[0], sessions[1], sessions[2], factory.DeviceMemory);
        }
        catch
        {
            sessions.ForEach(session => session.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Row <c>i</c> of the result is row <c>rows[i]</c> of <paramref name="data"/>, keeping axis 2
    /// from <paramref name="start"/> on (a KV cache's last slots; 0 keeps them all).
    /// </summary>
    public OrtValue Gather(OrtValue data, ReadOnlySpan<int> rows, long start = 0)
    {
        var indices = new long[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            indices[i] = rows[i];
        }

        using var rowsValue = OrtValue.CreateTensorValueFromMemory(indices, [indices.Length]);
        using var startValue = OrtValue.CreateTensorValueFromMemory(new[] { start }, [1]);
        return Run(_gather, ("data", data), ("rows", rowsValue), ("start", startValue));
    }

    /// <summary>Host rows (<paramref name="shape"/>, rows first) copied onto the device, once.</summary>
    public OrtValue Upload(Memory<float> host, long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, host, shape);
        return Gather(value, [.. Enumerable.Range(0, (int)shape[0])]);
    }

    /// <summary><paramref name="data"/> with <paramref name="rows"/> rows of zeros after its own.</summary>
    public OrtValue AppendZeroRows(OrtValue data, int rows)
    {
        var rank = data.GetTensorTypeAndShape().Shape.Length;
        var pads = new long[2 * rank];
        pads[rank] = rows; // ONNX Pad: every axis's begin, then every axis's end
        using var padsValue = OrtValue.CreateTensorValueFromMemory(pads, [pads.Length]);
        return Run(_pad, ("data", data), ("pads", padsValue));
    }

    /// <summary>Zeros of <paramref name="shape"/> (rows first), made on the device: zero rows padded with as many rows of zeros.</summary>
    public OrtValue Zeros(long[] shape)
    {
        long[] empty = [0, .. shape[1..]];
        using var none = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Memory<float>.Empty, empty);
        return AppendZeroRows(none, (int)shape[0]);
    }

    /// <summary>The rows of <paramref name="data"/>, then those of <paramref name="rows"/> (same row shape).</summary>
    public OrtValue Concat(OrtValue data, OrtValue rows) => Run(_concat, ("data", data), ("rows", rows));

    public void Dispose()
    {
        _runOptions.Dispose();
        _gather.Dispose();
        _pad.Dispose();
        _concat.Dispose();
    }

    private OrtValue Run(InferenceSession session, params (string Name, OrtValue Value)[] inputs)
    {
        using var binding = session.CreateIoBinding();
        foreach (var (name, value) in inputs)
        {
            binding.BindInput(name, value);
        }

        binding.BindOutputToDevice("output", _device);
        session.RunWithBinding(_runOptions, binding);
        var outputs = binding.GetOutputValues();
        return outputs[0]; // the only output: the caller owns it now
    }

    private static byte[] ReadGraph(string name)
    {
        using var stream = typeof(DeviceRows).Assembly.GetManifestResourceStream($"RowGraphs/{name}.onnx")
            ?? throw new InvalidOperationException($"The engine's row graph '{name}.onnx' is not embedded in the assembly.");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}
