using System.Text.Json;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Inference.Tokenization;

/// <summary>Builds the package's tokenizer from the manifest, <c>tokenizer.json</c> and <c>tokenizer_config.json</c>.</summary>
internal static class TokenizerLoader
{
    public static ITextTokenizer Load(string packageDirectory, TokenizerManifest manifest, GenerationConfig generation)
    {
        if (manifest.MaxLength < 2)
        {
            throw new ModelPackageException($"caption_service.json: tokenizer.max_length must be at least 2; got {manifest.MaxLength}.");
        }

        var config = PackageJson.Read<TokenizerConfig>(packageDirectory, "tokenizer_config.json");
        if (config.DoLowerCase is { } lowerCase && lowerCase != manifest.Lowercase)
        {
            throw new ModelPackageException(
                $"Model package file '{Path.Combine(packageDirectory, "tokenizer_config.json")}' says do_lower_case {lowerCase}, but caption_service.json says lowercase {manifest.Lowercase}.");
        }

        var (specialIds, decoderType, decoderCleanup) = ReadTokenizerJson(packageDirectory);
        specialIds.UnionWith(new[] { generation.DecoderStartTokenId, generation.EosTokenId, generation.BosTokenId, generation.PadTokenId }.OfType<long>());

        // transformers.js cleans up spacing unless the package says not to, plus whatever the decoder itself asks for.
        var cleanUp = (config.CleanUpTokenizationSpaces ?? true) || decoderCleanup;
        switch (manifest.Kind)
        {
            case "wordpiece":
                var vocabPath = PackageFiles.RequireFile(packageDirectory, manifest.Vocab);
                var decoding = decoderType == "WordPiece" ? WordPieceDecoding.MergeContinuations : WordPieceDecoding.JoinWithSpaces;
                return Create(vocabPath, () => new WordPieceTextTokenizer(vocabPath, manifest.Lowercase, manifest.MaxLength, specialIds, decoding, cleanUp));
            case "bpe" when manifest.Vocab == TokenizerJsonBpe.File && manifest.Merges is null:
                var tokenizerJsonPath = PackageFiles.RequireFile(packageDirectory, TokenizerJsonBpe.File);
                return Create(tokenizerJsonPath, () => new ByteLevelBpeTextTokenizer(
                    TokenizerJsonBpe.Read(packageDirectory), manifest.MaxLength, specialIds, generation.BosTokenId, generation.EosTokenId,
                    generation.PadTokenId ?? generation.EosTokenId, cleanUp));
            case "bpe":
                var jsonPath = PackageFiles.RequireFile(packageDirectory, manifest.Vocab);
                var mergesPath = PackageFiles.RequireFile(packageDirectory, manifest.Merges
                    ?? throw new ModelPackageException("caption_service.json: a bpe tokenizer needs 'merges' (merges.txt), or 'vocab': 'tokenizer.json' without 'merges'."));
                return Create(jsonPath, () => new ByteLevelBpeTextTokenizer(
                    jsonPath, mergesPath, manifest.MaxLength, specialIds, generation.BosTokenId, generation.EosTokenId,
                    generation.PadTokenId ?? generation.EosTokenId, cleanUp));
            default:
                throw new ModelPackageException($"caption_service.json: tokenizer.kind '{manifest.Kind}' is not supported (wordpiece or bpe).");
        }
    }

    private static ITextTokenizer Create(string path, Func<ITextTokenizer> create)
    {
        try
        {
            return create();
        }
        catch (Exception ex) when (ex is not ModelPackageException and (ArgumentException or FormatException or InvalidOperationException or IOException or JsonException))
        {
            throw new ModelPackageException($"Model package file '{path}' cannot be loaded as a tokenizer: {ex.Message}", ex);
        }
    }

    /// <summary>The special token ids and the decoder settings from <c>tokenizer.json</c>, which packages may omit.</summary>
    private static (HashSet<long> SpecialIds, string? DecoderType, bool DecoderCleanup) ReadTokenizerJson(string packageDirectory)
    {
        var specialIds = new HashSet<long>();
        if (!File.Exists(Path.Combine(packageDirectory, "tokenizer.json")))
        {
            return (specialIds, null, false);
        }

        using var document = PackageJson.ReadDocument(packageDirectory, "tokenizer.json");
        var root = document.RootElement;
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                if (token.TryGetProperty("special", out var special) && special.ValueKind == JsonValueKind.True
                    && token.TryGetProperty("id", out var id) && id.TryGetInt64(out var value))
                {
                    specialIds.Add(value);
                }
            }
        }

        string? decoderType = null;
        var cleanup = false;
        if (root.TryGetProperty("decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            decoderType = decoder.TryGetProperty("type", out var type) ? type.GetString() : null;
            cleanup = decoder.TryGetProperty("cleanup", out var flag) && flag.ValueKind == JsonValueKind.True;
        }

        return (specialIds, decoderType, cleanup);
    }
}
