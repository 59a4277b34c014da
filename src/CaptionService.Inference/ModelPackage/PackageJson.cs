using System.Text.Json;

namespace CaptionService.Inference.ModelPackage;

/// <summary>Reads the package's JSON files strictly, so that a missing or mistyped field stops start-up with the file named.</summary>
internal static class PackageJson
{
    private static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = false,
        // A required constructor parameter or a non-nullable member that is absent or null is an error.
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString,
    };

    public static T Read<T>(string packageDirectory, string relativePath)
    {
        var path = PackageFiles.RequireFile(packageDirectory, relativePath);
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<T>(stream, s_options)
                ?? throw new ModelPackageException($"Model package file '{path}' is empty (JSON null).");
        }
        catch (JsonException ex)
        {
            throw new ModelPackageException($"Model package file '{path}' is not valid: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new ModelPackageException($"Model package file '{path}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>Parses a file as a JSON document, for files read only in parts (tokenizer.json).</summary>
    public static JsonDocument ReadDocument(string packageDirectory, string relativePath)
    {
        var path = PackageFiles.RequireFile(packageDirectory, relativePath);
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ModelPackageException($"Model package file '{path}' is not valid JSON: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new ModelPackageException($"Model package file '{path}' cannot be read: {ex.Message}", ex);
        }
    }
}
