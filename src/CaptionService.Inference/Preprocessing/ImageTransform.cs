using CaptionService.Inference.ModelPackage;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// What <c>preprocessor_config.json</c> asks for: resize to <see cref="Height"/> × <see cref="Width"/>
/// (or, for CLIP, resize the shortest edge to <see cref="ShortestEdge"/> and crop the centre
/// <see cref="Height"/> × <see cref="Width"/>), then per channel <c>(value × rescale − mean) / std</c>,
/// precomputed for each of the 256 byte values.
/// </summary>
internal sealed class ImageTransform
{
    private const int Channels = 3;
    private readonly float[][] _channelTables;

    private ImageTransform(int height, int width, bool resize, IResampler resampler, float[][] channelTables, int? shortestEdge = null)
    {
        ShortestEdge = shortestEdge;
        Height = height;
        Width = width;
        Resize = resize;
        Resampler = resampler;
        _channelTables = channelTables;
    }

    public int Height { get; }

    public int Width { get; }

    public bool Resize { get; }

    /// <summary>When set, images are resized (aspect kept) so that their shorter side is this long, then centre-cropped to Height × Width.</summary>
    public int? ShortestEdge { get; }

    public IResampler Resampler { get; }

    /// <summary>Floats in one preprocessed image: 3 × H × W.</summary>
    public int TensorLength => Channels * Height * Width;

    /// <summary>The normalised value of byte <paramref name="value"/> in channel <paramref name="channel"/> (0 = R).</summary>
    public float Normalise(int channel, byte value) => _channelTables[channel][value];

    internal ReadOnlySpan<float> ChannelTable(int channel) => _channelTables[channel];

    /// <summary>Builds the transform, taking the input size from the encoder graph when it fixes one.</summary>
    public static ImageTransform FromConfig(PreprocessorConfig config, string configPath, int? graphHeight, int? graphWidth)
    {
        var height = config.Size?.Height ?? graphHeight
            ?? throw new ModelPackageException($"Model package file '{configPath}' has no size, and the encoder graph does not fix one.");
        var width = config.Size?.Width ?? graphWidth
            ?? throw new ModelPackageException($"Model package file '{configPath}' has no size, and the encoder graph does not fix one.");
        if ((graphHeight is { } gh && gh != height) || (graphWidth is { } gw && gw != width))
        {
            throw new ModelPackageException(
                $"Model package file '{configPath}' resizes to {height}x{width}, but the encoder graph takes {graphHeight}x{graphWidth}.");
        }

        if (height <= 0 || width <= 0)
        {
            throw new ModelPackageException($"Model package file '{configPath}': size {height}x{width} is not positive.");
        }

        if (!config.DoResize && config.Size is null)
        {
            throw new ModelPackageException($"Model package file '{configPath}': do_resize is false, so size must say what input size images must already have.");
        }

        var resampler = PilResamplers.FromPilCode(config.Resample)
            ?? throw new ModelPackageException($"Model package file '{configPath}': resample {config.Resample} is not supported (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box).");

        var tables = ChannelTables(config.DoNormalize, config.ImageMean, config.ImageStd, config.DoRescale ? config.RescaleFactor : 1.0, configPath);
        return new ImageTransform(height, width, config.DoResize, resampler, tables);
    }

    /// <summary>
    /// CLIP's transform: shortest edge to <c>size.shortest_edge</c> (aspect kept, sides rounded down
    /// as transformers does), then the centre <c>crop_size</c>, which the vision graph must take.
    /// </summary>
    public static ImageTransform FromClipConfig(ClipPreprocessorConfig config, string configPath, int? graphHeight, int? graphWidth)
    {
        if (!config.DoResize || !config.DoCenterCrop)
        {
            throw new ModelPackageException($"Model package file '{configPath}': the server supports CLIP preprocessing with do_resize and do_center_crop both true.");
        }

        var (height, width, edge) = (config.CropSize.Height, config.CropSize.Width, config.Size.ShortestEdge);
        if (height <= 0 || width <= 0 || edge < Math.Max(height, width))
        {
            throw new ModelPackageException(
                $"Model package file '{configPath}': crop_size {height}x{width} must be positive and fit in the shortest_edge {edge} resize.");
        }

        if ((graphHeight is { } gh && gh != height) || (graphWidth is { } gw && gw != width))
        {
            throw new ModelPackageException(
                $"Model package file '{configPath}' crops to {height}x{width}, but the vision graph takes {graphHeight}x{graphWidth}.");
        }

        var resampler = PilResamplers.FromPilCode(config.Resample)
            ?? throw new ModelPackageException($"Model package file '{configPath}': resample {config.Resample} is not supported (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box).");
        var tables = ChannelTables(config.DoNormalize, config.ImageMean, config.ImageStd, config.DoRescale ? config.RescaleFactor : 1.0, configPath);
        return new ImageTransform(height, width, resize: true, resampler, tables, edge);
    }

    /// <summary>
    /// The width and height an image of <paramref name="width"/> × <paramref name="height"/> is resized
    /// to so that its shorter side is <paramref name="edge"/>: transformers' <c>int(edge × long / short)</c>.
    /// </summary>
    public static (int Width, int Height) ShortestEdgeSize(int width, int height, int edge) =>
        width <= height ? (edge, (int)((long)edge * height / width)) : ((int)((long)edge * width / height), edge);

    private static float[][] ChannelTables(bool normalize, double[]? imageMean, double[]? imageStd, double scale, string configPath)
    {
        var mean = normalize ? RequireThree(imageMean, "image_mean", configPath) : [0, 0, 0];
        var std = normalize ? RequireThree(imageStd, "image_std", configPath) : [1, 1, 1];
        if (std.Any(s => s == 0))
        {
            throw new ModelPackageException($"Model package file '{configPath}': image_std must not contain 0.");
        }

        var tables = new float[Channels][];
        for (var channel = 0; channel < Channels; channel++)
        {
            tables[channel] = new float[256];
            var channelMean = (float)mean[channel];
            var channelStd = (float)std[channel];
            for (var value = 0; value < 256; value++)
            {
                // transformers rescales in float64 and stores float32, then normalises in float32.
                var rescaled = (float)(value * scale);
                tables[channel][value] = (rescaled - channelMean) / channelStd;
            }
        }

        return tables;
    }

    private static double[] RequireThree(double[]? values, string field, string configPath) =>
        values is { Length: 3 } ? values
        : throw new ModelPackageException($"Model package file '{configPath}': {field} must list 3 values (R, G, B) when do_normalize is true.");
}
