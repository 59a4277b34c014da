using System.Text.Json;
using CaptionService.Inference.ModelPackage;
using Microsoft.ML.Tokenizers;

namespace CaptionService.Inference.Tokenization;

/// <summary>
/// A GPT-2 byte-level BPE tokenizer given by <c>tokenizer.json</c> alone: the <c>model</c> section's
/// <c>vocab</c> and <c>merges</c> (what vocab.json and merges.txt hold otherwise), for
/// <see cref="ByteLevelBpeTextTokenizer"/>.
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

    /// <summary>The model's vocabulary and merges (<see cref="BpeOptions.Vocabulary"/> and <see cref="BpeOptions.Merges"/> only).</summary>
    /// <exception cref="ModelPackageException">tokenizer.json has no BPE model with a vocab and merges.</exception>
    public static BpeOptions Read(string packageDirectory)
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

        var vocabulary = vocab.Deserialize<Dictionary<string, int>>()!;

        // "a b" strings (older files) or ["a", "b"] pairs (newer ones), as merges.txt lines.
        var mergeLines = merges.EnumerateArray()
            .Select(merge => merge.ValueKind == JsonValueKind.Array ? $"{merge[0].GetString()} {merge[1].GetString()}" : merge.GetString()!)
            .ToList();
        return new BpeOptions(vocabulary) { Merges = mergeLines };
    }
}
