using System.Collections.Frozen;

namespace CaptionService.Inference;

/// <summary>
/// The graph variants a package may carry, named as transformers.js's <c>dtype</c> option names
/// them, and the file-name suffix each maps to (transformers.js 4.3.1,
/// <c>DEFAULT_DTYPE_SUFFIX_MAPPING</c> in <c>src/utils/dtypes.js</c>): the q8 variant of
/// <c>onnx/encoder_model.onnx</c> is <c>onnx/encoder_model_quantized.onnx</c>.
/// </summary>
public static class ModelDtypes
{
    /// <summary>The plain graphs (no suffix).</summary>
    public const string Default = "fp32";

    /// <summary>Every name <see cref="ModelOptions.Dtype"/> accepts, in transformers.js's order.</summary>
    public const string Names = "fp32, fp16, int8, uint8, q8, q4, q2, q1, q4f16, q2f16, q1f16, bnb4";

    private static readonly FrozenDictionary<string, string> s_suffixes = new Dictionary<string, string>
    {
        ["fp32"] = "",
        ["fp16"] = "_fp16",
        ["int8"] = "_int8",
        ["uint8"] = "_uint8",
        ["q8"] = "_quantized",
        ["q4"] = "_q4",
        ["q2"] = "_q2",
        ["q1"] = "_q1",
        ["q4f16"] = "_q4f16",
        ["q2f16"] = "_q2f16",
        ["q1f16"] = "_q1f16",
        ["bnb4"] = "_bnb4",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The names in transformers.js's order.</summary>
    public static IReadOnlyList<string> All { get; } = Names.Split(", ");

    /// <summary>True for a name transformers.js knows (case-sensitive, as there).</summary>
    public static bool IsKnown(string dtype) => s_suffixes.ContainsKey(dtype);

    /// <summary>The variant's file: <c>onnx/model.onnx</c> with q8 is <c>onnx/model_quantized.onnx</c>.</summary>
    public static string VariantFile(string file, string dtype)
    {
        var suffix = s_suffixes[dtype];
        if (suffix.Length == 0)
        {
            return file;
        }

        var extension = Path.GetExtension(file);
        return string.Concat(file.AsSpan(0, file.Length - extension.Length), suffix, extension);
    }
}
