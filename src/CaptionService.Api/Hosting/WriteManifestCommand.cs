using CaptionService.Inference;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Api.Hosting;

/// <summary>
/// <c>CaptionService.Api write-manifest DIR</c>: writes the manifest the server infers for a
/// Hugging Face export as the package's <c>caption_service.json</c>, sha256s included, so that
/// the package is pinned: from then on a changed graph file stops start-up.
/// </summary>
internal static class WriteManifestCommand
{
    public const string Name = "write-manifest";

    public static int Run(string directory, TextWriter output, TextWriter error)
    {
        var path = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(path, ModelPackageLoader.ManifestFile)))
        {
            error.WriteLine($"{Path.Combine(path, ModelPackageLoader.ManifestFile)} exists already; the server uses it as it is.");
            return 1;
        }

        try
        {
            if (ClipPackageLoader.IsClipPackage(path))
            {
                // The manifest format describes image-to-text packages; a CLIP package is always read from its HF files.
                error.WriteLine($"{path} is a CLIP package: the server reads it from its Hugging Face files and shows the graphs' sha256s in GET /model, but cannot pin it with {ModelPackageLoader.ManifestFile}.");
                return 1;
            }

            output.WriteLine($"Wrote {InferredManifest.Write(path, InferredManifest.Infer(path))}");
            return 0;
        }
        catch (ModelPackageException e)
        {
            error.WriteLine(e.Message);
            return 1;
        }
    }
}
