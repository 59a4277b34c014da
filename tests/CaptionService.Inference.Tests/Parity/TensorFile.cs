using System.Runtime.InteropServices;

namespace CaptionService.Inference.Tests.Parity;

/// <summary>Raw little-endian tensors written by the Python exporter.</summary>
internal static class TensorFile
{
    public static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    public static long[] ReadInt64s(string path) => MemoryMarshal.Cast<byte, long>(File.ReadAllBytes(path)).ToArray();

    public static bool[] ReadBools(string path) => [.. File.ReadAllBytes(path).Select(b => b != 0)];
}
