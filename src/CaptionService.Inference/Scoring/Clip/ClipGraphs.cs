using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Scoring.Clip;

/// <summary>
/// A CLIP package's sessions. With <c>onnx/text_model.onnx</c> and <c>onnx/vision_model.onnx</c>
/// the towers run apart, so each image is encoded once however many texts it is scored against;
/// otherwise the combined <c>onnx/model.onnx</c> runs (texts and images together). Embeddings come
/// back normalised to unit length, so that a dot product is the cosine.
/// </summary>
internal sealed class ClipGraphs : IDisposable
{
    public const string CombinedFile = "onnx/model.onnx";
    public const string TextFile = "onnx/text_model.onnx";
    public const string VisionFile = "onnx/vision_model.onnx";

    private readonly RunOptions _runOptions = new();
    private readonly InferenceSession? _text;
    private readonly InferenceSession? _vision;
    private readonly InferenceSession? _combined;
    private readonly bool _textTakesMask;

    private ClipGraphs(InferenceSession? text, InferenceSession? vision, InferenceSession? combined, int embeddingSize, int? imageHeight, int? imageWidth, IReadOnlyList<string> files)
    {
        Files = files;
        _text = text;
        _vision = vision;
        _combined = combined;
        _textTakesMask = (text ?? combined)!.InputMetadata.ContainsKey("attention_mask");
        EmbeddingSize = embeddingSize;
        ImageHeight = imageHeight;
        ImageWidth = imageWidth;
    }

    /// <summary>True when the text and vision towers run as separate graphs.</summary>
    public bool Split => _combined is null;

    /// <summary>The projection size of text and image embeddings.</summary>
    public int EmbeddingSize { get; }

    public int? ImageHeight { get; }

    public int? ImageWidth { get; }

    /// <summary>The graph files in use, relative to the package (of the variant loaded).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>
    /// The graph files <see cref="Load"/> and <see cref="MeasureLogitScale"/> open for <paramref name="dtype"/>:
    /// the variant's towers when both exist, and its combined graph (for the scale, and for scoring without towers).
    /// </summary>
    public static IReadOnlyList<string> FilesToLoad(string directory, string dtype)
    {
        var towers = new[] { ModelDtypes.VariantFile(TextFile, dtype), ModelDtypes.VariantFile(VisionFile, dtype) };
        var combined = ModelDtypes.VariantFile(CombinedFile, dtype);
        return towers.All(file => File.Exists(Path.Combine(directory, file))) ? [.. towers, combined] : [combined];
    }

    /// <summary>
    /// Opens the split towers when the package has both in the variant <paramref name="dtype"/>
    /// names (<see cref="ModelDtypes"/>), else the combined graph of that variant.
    /// </summary>
    public static ClipGraphs Load(OrtSessionFactory factory, string directory, string dtype = ModelDtypes.Default)
    {
        var textFile = ModelDtypes.VariantFile(TextFile, dtype);
        var visionFile = ModelDtypes.VariantFile(VisionFile, dtype);
        var textPath = Path.Combine(directory, textFile);
        var visionPath = Path.Combine(directory, visionFile);
        if (File.Exists(textPath) && File.Exists(visionPath))
        {
            InferenceSession? text = null;
            InferenceSession? vision = null;
            try
            {
                text = factory.CreateSession(PackageFiles.RequireFile(directory, textFile));
                vision = factory.CreateSession(PackageFiles.RequireFile(directory, visionFile));
                var textSize = CheckText(text, textPath, "text_embeds");
                var (imageSize, height, width) = CheckVision(vision, visionPath, "image_embeds");
                RequireSameSize(textPath, textSize, visionPath, imageSize);
                return new ClipGraphs(text, vision, null, textSize, height, width, [textFile, visionFile]);
            }
            catch
            {
                text?.Dispose();
                vision?.Dispose();
                throw;
            }
        }

        var combinedFile = CombinedVariant(directory, dtype);
        var combinedPath = PackageFiles.RequireFile(directory, combinedFile);
        var combined = factory.CreateSession(combinedPath);
        try
        {
            var textSize = CheckText(combined, combinedPath, "text_embeds");
            var (imageSize, height, width) = CheckVision(combined, combinedPath, "image_embeds");
            RequireSameSize(combinedPath, textSize, combinedPath, imageSize);
            return new ClipGraphs(null, null, combined, textSize, height, width, [combinedFile]);
        }
        catch
        {
            combined.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The similarity scale <c>exp(logit_scale)</c>, which only the combined graph holds (its
    /// <c>logits_per_image</c> are scale × cosine; config.json has only the scale's initial value).
    /// Found by running the combined graph once on a grey image and two texts, and fitting
    /// logits = scale × cosine by least squares.
    /// </summary>
    public static double MeasureLogitScale(OrtSessionFactory factory, string directory, int imageHeight, int imageWidth, long[][] texts, string dtype = ModelDtypes.Default)
    {
        var path = PackageFiles.RequireFile(directory, CombinedVariant(directory, dtype));
        using var session = factory.CreateSession(path);
        GraphMetadata.RequireOutput(session, path, "logits_per_image", TensorElementType.Float, rank: 2);
        using var graphs = new ClipGraphs(null, null, session, CheckText(session, path, "text_embeds"), imageHeight, imageWidth, [path]);
        var pixels = new float[3 * imageHeight * imageWidth];
        var (ids, mask, length) = Pad(texts, texts[0][^1]);
        var (textEmbeds, imageEmbeds, logits) = graphs.RunCombined(pixels, 1, imageHeight, imageWidth, ids, mask, texts.Length, length, "logits_per_image");
        double numerator = 0, denominator = 0;
        for (var t = 0; t < texts.Length; t++)
        {
            var cosine = Dot(imageEmbeds, 0, textEmbeds, t, graphs.EmbeddingSize);
            numerator += logits![t] * cosine;
            denominator += cosine * cosine;
        }

        if (denominator < 1e-6)
        {
            throw new ModelPackageException($"Model package file '{path}': its logit scale cannot be measured (the probe texts' cosines are all 0).");
        }

        var scale = numerator / denominator;
        return scale > 0 && double.IsFinite(scale) ? scale
            : throw new ModelPackageException($"Model package file '{path}': its logits give a similarity scale of {scale}; expected a positive number.");
    }

    /// <summary>The combined graph of the variant, which the package must have (the scale is measured on it).</summary>
    private static string CombinedVariant(string directory, string dtype)
    {
        var file = ModelDtypes.VariantFile(CombinedFile, dtype);
        if (File.Exists(Path.Combine(directory, file)))
        {
            return file;
        }

        if (dtype != ModelDtypes.Default)
        {
            throw GraphVariants.Missing(directory, new GraphFile(CombinedFile, "", GraphVariants.Discover(directory, CombinedFile)), "model", dtype, manifestInferred: true);
        }

        throw new ModelPackageException(
            $"Model package '{directory}' has no {CombinedFile}: the server needs it to measure the similarity scale (exp(logit_scale)), which the tower graphs do not hold.");
    }

    /// <summary>Unit-length image embeddings, <paramref name="count"/> × <see cref="EmbeddingSize"/>.</summary>
    public float[] EncodeImages(Memory<float> pixels, int count, int height, int width)
    {
        if (_vision is not null)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels, [count, 3, height, width]);
            using var outputs = _vision.Run(_runOptions, ["pixel_values"], [input], ["image_embeds"]);
            return Normalised(outputs[0].GetTensorDataAsSpan<float>(), count);
        }

        return RunCombined(pixels, count, height, width, new long[] { 0 }, new long[] { 1 }, 1, 1, null).Images;
    }

    /// <summary>Unit-length text embeddings for <paramref name="rows"/> padded rows of <paramref name="length"/> ids.</summary>
    public float[] EncodeTexts(Memory<long> ids, Memory<long> mask, int rows, int length, int height, int width)
    {
        if (_text is not null)
        {
            using var idValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids, [rows, length]);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask, [rows, length]);
            string[] names = _textTakesMask ? ["input_ids", "attention_mask"] : ["input_ids"];
            OrtValue[] values = _textTakesMask ? [idValue, maskValue] : [idValue];
            using var outputs = _text.Run(_runOptions, names, values, ["text_embeds"]);
            return Normalised(outputs[0].GetTensorDataAsSpan<float>(), rows);
        }

        return RunCombined(new float[3 * height * width], 1, height, width, ids, mask, rows, length, null).Texts;
    }

    /// <summary>Pads token rows on the right with <paramref name="paddingId"/>; the mask is 1 on tokens.</summary>
    public static (long[] Ids, long[] Mask, int Length) Pad(IReadOnlyList<long[]> rows, long paddingId)
    {
        var length = rows.Max(r => r.Length);
        var ids = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        Array.Fill(ids, paddingId);
        for (var row = 0; row < rows.Count; row++)
        {
            rows[row].CopyTo(ids, row * length);
            mask.AsSpan(row * length, rows[row].Length).Fill(1);
        }

        return (ids, mask, length);
    }

    public static double Dot(float[] a, int rowA, float[] b, int rowB, int size)
    {
        double sum = 0;
        for (var i = 0; i < size; i++)
        {
            sum += (double)a[(rowA * size) + i] * b[(rowB * size) + i];
        }

        return sum;
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _text?.Dispose();
        _vision?.Dispose();
        _combined?.Dispose();
    }

    private (float[] Texts, float[] Images, float[]? Extra) RunCombined(
        Memory<float> pixels, int images, int height, int width, Memory<long> ids, Memory<long> mask, int rows, int length, string? extraOutput)
    {
        using var pixelValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels, [images, 3, height, width]);
        using var idValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids, [rows, length]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask, [rows, length]);
        string[] names = _textTakesMask ? ["input_ids", "pixel_values", "attention_mask"] : ["input_ids", "pixel_values"];
        OrtValue[] values = _textTakesMask ? [idValue, pixelValue, maskValue] : [idValue, pixelValue];
        string[] outputNames = extraOutput is null ? ["text_embeds", "image_embeds"] : ["text_embeds", "image_embeds", extraOutput];
        using var outputs = _combined!.Run(_runOptions, names, values, outputNames);
        var texts = Normalised(outputs[0].GetTensorDataAsSpan<float>(), rows);
        var imageEmbeds = Normalised(outputs[1].GetTensorDataAsSpan<float>(), images);
        return (texts, imageEmbeds, extraOutput is null ? null : outputs[2].GetTensorDataAsSpan<float>().ToArray());
    }

    private float[] Normalised(ReadOnlySpan<float> embeddings, int rows)
    {
        if (embeddings.Length != rows * EmbeddingSize)
        {
            throw new InvalidOperationException($"A CLIP graph returned {embeddings.Length} values for {rows} embeddings of {EmbeddingSize}.");
        }

        var result = embeddings.ToArray();
        for (var row = 0; row < rows; row++)
        {
            var span = result.AsSpan(row * EmbeddingSize, EmbeddingSize);
            double norm = 0;
            foreach (var value in span)
            {
                norm += (double)value * value;
            }

            var inverse = (float)(1.0 / Math.Sqrt(Math.Max(norm, 1e-24)));
            for (var i = 0; i < span.Length; i++)
            {
                span[i] *= inverse;
            }
        }

        return result;
    }

    private static int CheckText(InferenceSession session, string path, string output)
    {
        GraphMetadata.RequireInput(session, path, "input_ids", TensorElementType.Int64, rank: 2);
        var dims = GraphMetadata.RequireOutput(session, path, output, TensorElementType.Float, rank: 2);
        return GraphMetadata.RequireStatic(dims, 1, path, output, "projection size");
    }

    private static (int Size, int? Height, int? Width) CheckVision(InferenceSession session, string path, string output)
    {
        var pixels = GraphMetadata.RequireInput(session, path, "pixel_values", TensorElementType.Float, rank: 4);
        var dims = GraphMetadata.RequireOutput(session, path, output, TensorElementType.Float, rank: 2);
        int? Fixed(int value) => value > 0 ? value : null;
        return (GraphMetadata.RequireStatic(dims, 1, path, output, "projection size"), Fixed(pixels[2]), Fixed(pixels[3]));
    }

    private static void RequireSameSize(string textPath, int textSize, string visionPath, int imageSize)
    {
        if (textSize != imageSize)
        {
            throw new ModelPackageException($"Model package file '{textPath}' gives text embeddings of {textSize}, but '{visionPath}' gives image embeddings of {imageSize}.");
        }
    }
}
