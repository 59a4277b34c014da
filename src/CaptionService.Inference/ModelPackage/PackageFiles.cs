using System.Security.Cryptography;

namespace CaptionService.Inference.ModelPackage;

/// <summary>File checks shared by the package loader: presence inside the package, and sha256.</summary>
internal static class PackageFiles
{
    /// <summary>The absolute path of a package file, which must exist and must not escape the package directory.</summary>
    public static string RequireFile(string packageDirectory, string relativePath)
    {
        var path = Path.GetFullPath(Path.Combine(packageDirectory, relativePath));
        var root = Path.TrimEndingDirectorySeparator(packageDirectory) + Path.DirectorySeparatorChar;
        if (!path.StartsWith(root, StringComparison.Ordinal))
        {
            throw new ModelPackageException($"Model package file '{relativePath}' points outside the package directory '{packageDirectory}'.");
        }

        if (!File.Exists(path))
        {
            throw new ModelPackageException($"Model package file '{path}' is missing.");
        }

        return path;
    }

    /// <summary>A file's sha256 as lower-case hex.</summary>
    public static string Sha256(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (IOException ex)
        {
            throw new ModelPackageException($"Model package file '{path}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>Checks a file against the sha256 the manifest states for it.</summary>
    public static void VerifySha256(string path, string expectedHex)
    {
        if (expectedHex.Length != 64 || !expectedHex.All(Uri.IsHexDigit))
        {
            throw new ModelPackageException($"caption_service.json gives '{expectedHex}' as the sha256 of '{path}'; expected 64 hex digits.");
        }

        var actualHex = Sha256(path);

        if (!string.Equals(actualHex, expectedHex, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelPackageException(
                $"Model package file '{path}' is corrupt: its sha256 is {actualHex}, but caption_service.json says {expectedHex.ToLowerInvariant()}.");
        }
    }
}
