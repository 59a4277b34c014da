using CaptionService.Inference.ModelPackage;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// What <c>preprocessor_config.json</c> asks for: resize to <see cref="Height"/> × <see cref="Width"/>,
/// then per channel <c>(value × rescale − mean) / std</c>, precomputed for each of the 256 byte values.
/// </summary>
internal sealed class ImageTransform
{
    private const int Channels = 3;
    private readonly float[][] _channelTables;

    private ImageTransform(int height, int width, bool resize, IResampler resampler, float[][] channelTables)
    {
        Height = height;
        Width = width;
        Resize = resize;
        Resampler = resampler;
        _channelTables = channelTables;
    }

    public int Height { get; }

    public int Width { get; }

    public bool Resize { get; }

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

        var mean = config.DoNormalize ? RequireThree(config.ImageMean, "image_mean", configPath) : [0, 0, 0];
        var std = config.DoNormalize ? RequireThree(config.ImageStd, "image_std", configPath) : [1, 1, 1];
        if (std.Any(s => s == 0))
        {
            throw new ModelPackageException($"Model package file '{configPath}': image_std must not contain 0.");
        }

        var scale = config.DoRescale ? config.RescaleFactor : 1.0;
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

        return new ImageTransform(height, width, config.DoResize, resampler, tables);
    }

    private static double[] RequireThree(double[]? values, string field, string configPath) =>
        values is { Length: 3 } ? values
        : throw new ModelPackageException($"Model package file '{configPath}': {field} must list 3 values (R, G, B) when do_normalize is true.");
}
