using CaptionService.Inference;
using CaptionService.Inference.ModelPackage;

namespace CaptionService.Api.Hosting;

/// <summary>
/// <c>CaptionService.Api write-manifest DIR</c>: writes the manifest the server infers for a
/// Hugging Face export as the package's <c>caption_service.json</c>, sha256s included, so that
/// the package is pinned: from then on a changed graph file stops start-up. Image-to-text exports
/// get <see cref="PackageManifest"/>, CLIP exports <see cref="ClipManifest"/>; both record every
/// graph variant on disk (<c>*_quantized.onnx</c>, ...) with its sha256.
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
            var written = ClipPackageLoader.IsClipPackage(path)
                ? ClipManifest.Infer(path, PackageJson.Read<ClipModelConfig>(path, "config.json").TextConfig.MaxPositionEmbeddings).Write(path)
                : InferredManifest.Write(path, InferredManifest.Infer(path));
            output.WriteLine($"Wrote {written}");
            return 0;
        }
        catch (ModelPackageException e)
        {
            error.WriteLine(e.Message);
            return 1;
        }
    }
}
