namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// Picks the graph files of the variant <see cref="ModelOptions.Dtype"/> names, for every graph of
/// the package, as transformers.js's <c>dtype</c> does: all graphs or none (no silent mix of
/// fp32 and q8). A package without the variant stops start-up, naming the graph files it has.
/// </summary>
internal static class GraphVariants
{
    /// <summary>The variant's files, from each graph's <see cref="GraphFile.Variants"/>; fp32 is the graphs as they are.</summary>
    /// <exception cref="ModelPackageException">A graph has no such variant.</exception>
    public static GraphFiles Select(string directory, GraphFiles graphs, string dtype, bool manifestInferred)
    {
        if (dtype == ModelDtypes.Default)
        {
            return graphs;
        }

        GraphFile Pick(GraphFile file, string role) =>
            file.Variants?.GetValueOrDefault(dtype) ?? throw Missing(directory, file, role, dtype, manifestInferred);

        return new GraphFiles(
            Pick(graphs.Encoder, "encoder"),
            Pick(graphs.Decoder, "decoder"),
            graphs.Fusion is { } fusion ? Pick(fusion, "fusion") : null,
            graphs.ImageCache is { } cache ? Pick(cache, "image_cache") : null,
            graphs.CachedDecoder is { } cached ? Pick(cached, "cached_decoder") : null);
    }

    /// <summary>The variants of <paramref name="file"/> present in the package, with their sha256s (for an inferred manifest).</summary>
    public static IReadOnlyDictionary<string, GraphFile>? Discover(string directory, string file)
    {
        var variants = new SortedDictionary<string, GraphFile>(StringComparer.Ordinal);
        foreach (var dtype in ModelDtypes.All)
        {
            var variant = ModelDtypes.VariantFile(file, dtype);
            if (dtype != ModelDtypes.Default && File.Exists(Path.Combine(directory, variant)))
            {
                variants[dtype] = new GraphFile(variant, PackageFiles.Sha256(PackageFiles.RequireFile(directory, variant)));
            }
        }

        return variants.Count == 0 ? null : variants;
    }

    /// <summary>The error for a missing variant: what was asked, what the package declares, and its graph files.</summary>
    public static ModelPackageException Missing(string directory, GraphFile file, string role, string dtype, bool manifestInferred)
    {
        var declared = string.Join(", ", new[] { ModelDtypes.Default }.Concat(file.Variants?.Keys ?? []));
        var present = string.Join(", ", GraphFilesIn(directory));
        var where = manifestInferred
            ? $"the package has no '{ModelDtypes.VariantFile(file.File, dtype)}' (the {dtype} variant of '{file.File}'; variants found: {declared})"
            : $"{ModelPackageLoader.ManifestFile} declares no '{dtype}' variant of graphs.{role} '{file.File}' (declared: {declared})";
        return new ModelPackageException(
            $"CaptionService:Model:Dtype is '{dtype}', but {where}. Graph files in '{directory}': {(present.Length == 0 ? "none" : present)}.");
    }

    /// <summary>Every .onnx file under the package directory, relative to it.</summary>
    public static IEnumerable<string> GraphFilesIn(string directory) =>
        Directory.EnumerateFiles(directory, "*.onnx", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);
}
