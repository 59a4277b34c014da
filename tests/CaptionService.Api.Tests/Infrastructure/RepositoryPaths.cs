using System.Runtime.CompilerServices;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// The repository root, found from this source file so that tests work from any output directory
/// (ArtifactsPath may put it outside the repository), and the ShapeWorld data it carries.
/// </summary>
internal static class RepositoryPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

/// <summary>The repository's copy of the ShapeWorld development sets.</summary>
    public static string ShapeWorldData => Path.Combine(RepositoryRoot, "tests", "data", "shapeworld");

    /// <summary>A ShapeWorld scene with one shape; 100×100 RGB PNG.</summary>
    public static string ShapeWorldImage => Path.Combine(ShapeWorldData, "existential-oneshape", "world-0.png");

    /// <summary>The records of that image's set, one JSON object per line; the first is the image's.</summary>
    public static string ShapeWorldWorlds => Path.Combine(ShapeWorldData, "existential-oneshape", "worlds.jsonl");

    private static string FindRoot([CallerFilePath] string thisFile = "")
    {
        var directory = new DirectoryInfo(Path.GetDirectoryName(thisFile)!);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CaptionService.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"No CaptionService.sln above {thisFile}.");
    }
}
