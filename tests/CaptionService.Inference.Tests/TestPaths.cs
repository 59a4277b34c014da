using System.Runtime.CompilerServices;

namespace CaptionService.Inference.Tests;

/// <summary>Paths in the repository, found from this source file so that tests work from any output directory.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string DefaultPackage => Path.Combine(RepositoryRoot, "models", "shapeworld-fusion");

    public static string Fixtures => Path.Combine(RepositoryRoot, "tests", "fixtures");

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
