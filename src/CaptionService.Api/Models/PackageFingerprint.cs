using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CaptionService.Api.Models;

/// <summary>
/// A cheap summary of a package directory (every file's relative path, size and last write time,
/// symbolic links followed): a reload is due when it differs from the loaded version's. Contents
/// are not hashed here; the loader checks the manifest's sha256s.
/// </summary>
internal sealed record PackageFingerprint(string Value)
{
    public static PackageFingerprint Missing { get; } = new("missing");

    public static PackageFingerprint Of(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return Missing;
        }

        var lines = new List<string>();
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
            foreach (var path in Directory.EnumerateFiles(directory, "*", options))
            {
                var file = new FileInfo(path);
                var target = file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{Path.GetRelativePath(directory, path)}|{(target.Exists ? target.Length : -1)}|{(target.Exists ? target.LastWriteTimeUtc.Ticks : 0)}|{file.LinkTarget}"));
            }
        }
        catch (IOException)
        {
            // Files vanished while listed: a change is under way, and a later look will settle it.
            lines.Add("in-flux:" + Guid.NewGuid());
        }

        lines.Sort(StringComparer.Ordinal);
        return new PackageFingerprint(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines)))));
    }
}
