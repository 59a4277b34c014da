using System.Diagnostics;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>
/// A package written by `python3 -m training synth --preset PRESET --seed 0 [arguments]` into a
/// temporary directory (about 10 s for the mini preset), deleted with the fixture.
/// </summary>
public abstract class SynthesizedPackage : IDisposable
{
    protected SynthesizedPackage(string preset, params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["-m", "training", "synth", "--preset", preset, "--out", Path, "--seed", "0", .. arguments])
        {
            WorkingDirectory = TestPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PYTHONPATH"] = "src", ["OMP_NUM_THREADS"] = "2" },
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"training synth failed: {stdout}{stderr.Result}");
        }
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "caption-engine-tests", "synth-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
