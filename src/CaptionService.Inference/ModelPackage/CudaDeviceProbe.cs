using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Inference.ModelPackage;

/// <summary>Says whether a CUDA device can run a graph: null when it can, else the reason it cannot.</summary>
internal delegate string? CudaProbe(int deviceId);

/// <summary>
/// The real <see cref="CudaProbe"/>: creates a session with the CUDA provider over a one-node
/// graph and runs it. Appending the provider alone only proves that its libraries load; on a
/// machine with the CUDA libraries but no usable device, session creation or the first run is
/// where it fails, and <c>Auto</c> must fall back to CPU there rather than later, in a package's graph.
/// </summary>
internal static class CudaDeviceProbe
{
    /// <summary>An ONNX graph with one Identity node, float x[1] to y[1] (opset 13, 90 bytes).</summary>
    private static readonly string[] InputNames = ["x"];
    private static readonly string[] OutputNames = ["y"];
    private static readonly long[] Shape = [1];

    private static readonly byte[] IdentityGraph = Convert.FromBase64String(
        "CAgSDkNhcHRpb25TZXJ2aWNlOkAKEAoBeBIBeSIISWRlbnRpdHkSCmN1ZGFfcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN");

    /// <remarks>Call after <see cref="OrtEnvironment.EnsureCreated"/>: the first session would create a default environment.</remarks>
    public static string? Probe(int deviceId)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            options.AppendExecutionProvider_CUDA(deviceId);
            using var session = new InferenceSession(IdentityGraph, options);
            using var input = OrtValue.CreateTensorValueFromMemory(new float[Shape[0]], Shape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, InputNames, [input], OutputNames);
            return null;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return FirstLine(ex.Message);
        }
    }

    internal static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
