using System.Text;
using System.Text.Json;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Inference.Tokenization;

/// <summary>
/// A GPT-2 byte-level BPE tokenizer given by <c>tokenizer.json</c> alone. Microsoft.ML.Tokenizers
/// 2.0.1 reads BPE only as vocab.json + merges.txt, so the <c>model</c> section's <c>vocab</c> and
/// <c>merges</c> (which hold the same) are handed to it in those two formats.
/// </summary>
internal static class TokenizerJsonBpe
{
    public const string File = "tokenizer.json";

    /// <summary>True when the package's tokenizer.json is a byte-level BPE (GPT-2's: ByteLevel pre-tokenizer, no end-of-word suffix).</summary>
    public static bool IsByteLevelBpe(string packageDirectory)
    {
        if (!System.IO.File.Exists(Path.Combine(packageDirectory, File)))
        {
            return false;
        }

        using var document = PackageJson.ReadDocument(packageDirectory, File);
        var root = document.RootElement;
        return root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
            && model.TryGetProperty("type", out var type) && type.GetString() == "BPE"
            && root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object
            && pre.TryGetProperty("type", out var preType) && preType.GetString() == "ByteLevel";
    }

    /// <summary>The model's vocabulary as vocab.json and its merges as merges.txt, in memory.</summary>
    /// <exception cref="ModelPackageException">tokenizer.json has no BPE model with a vocab and merges.</exception>
    public static (Stream Vocab, Stream Merges) Read(string packageDirectory)
    {
        var path = Path.Combine(packageDirectory, File);
        using var document = PackageJson.ReadDocument(packageDirectory, File);
        if (!document.RootElement.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object
            || !model.TryGetProperty("type", out var type) || type.GetString() != "BPE"
            || !model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object
            || !model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
        {
            throw new ModelPackageException($"Model package file '{path}' has no BPE model with a vocab and merges.");
        }

        var lines = new StringBuilder("#version: 0.2\n");
        foreach (var merge in merges.EnumerateArray())
        {
            // "a b" strings (older files) or ["a", "b"] pairs (newer ones).
            lines.Append(merge.ValueKind == JsonValueKind.Array ? $"{merge[0].GetString()} {merge[1].GetString()}" : merge.GetString()).Append('\n');
        }

        return (new MemoryStream(System.Text.Encoding.UTF8.GetBytes(vocab.GetRawText())), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(lines.ToString())));
    }
}
