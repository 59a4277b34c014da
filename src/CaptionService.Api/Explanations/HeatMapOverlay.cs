using CaptionService.Inference;
using CaptionService.Inference.Explanation;
using CaptionService.Inference.Preprocessing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Explanations;

/// <summary>
/// Draws a heat map over the image it explains, as a PNG: the image (auto-oriented, its longer side
/// scaled to <see cref="LongerSide"/> pixels), blended with a black-red-yellow ramp whose opacity
/// grows with the weight. The grid is upsampled bilinearly and scaled so its peak is fully opaque,
/// so a map shows where the weight is, not how much of it there is.
/// </summary>
internal sealed class HeatMapOverlay(IOptions<PreprocessingOptions> limits)
{
    /// <summary>The longer side of the drawn PNG, in pixels.</summary>
    public const int LongerSide = 320;

    /// <summary>The opacity of the heat at the map's peak.</summary>
    private const float PeakOpacity = 0.7f;

    private readonly Configuration _configuration = ImageDecoding.CreateConfiguration(limits.Value.MaxDecoderMemoryMegabytes);

    private readonly DecodeBudget _budget = DecodeBudget.For(limits.Value);

    /// <summary>The overlay, for an image the engine has already accepted (so it decodes within the limits).</summary>
    /// <exception cref="InferenceRejectedException">Other decodes leave no room for this image's pixels (<see cref="RejectionReason.DecodingBusy"/>).</exception>
    public byte[] RenderPng(ReadOnlyMemory<byte> encodedImage, AttentionMap map)
    {
        using var header = ImageDecoding.AsStream(encodedImage);
        var info = Image.Identify(_configuration, header)
            ?? throw new InvalidOperationException("The engine accepted an image whose header ImageSharp cannot read.");
        using var decoding = _budget.Take((long)info.Width * info.Height, info.Width, info.Height);
        using var image = Image.Load<Rgb24>(_configuration, encodedImage.Span);
        var scale = (double)LongerSide / Math.Max(image.Width, image.Height);
        image.Mutate(context => context.AutoOrient().Resize(
            Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)), KnownResamplers.Bicubic));

        var peak = map.Values.Max();
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var heat = peak > 0 ? Sample(map, (x + 0.5f) / row.Length, (y + 0.5f) / rows.Height) / peak : 0f;
                    row[x] = Blend(row[x], heat);
                }
            }
        });

        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>The map at (u, v) in 0..1 of the image, interpolated bilinearly between cell centres.</summary>
    internal static float Sample(AttentionMap map, float u, float v)
    {
        var gx = Math.Clamp((u * map.Width) - 0.5f, 0, map.Width - 1);
        var gy = Math.Clamp((v * map.Height) - 0.5f, 0, map.Height - 1);
        int x0 = (int)gx, y0 = (int)gy;
        int x1 = Math.Min(x0 + 1, map.Width - 1), y1 = Math.Min(y0 + 1, map.Height - 1);
        float fx = gx - x0, fy = gy - y0;
        float At(int x, int y) => map.Values[(y * map.Width) + x];
        var top = (At(x0, y0) * (1 - fx)) + (At(x1, y0) * fx);
        var bottom = (At(x0, y1) * (1 - fx)) + (At(x1, y1) * fx);
        return (top * (1 - fy)) + (bottom * fy);
    }

    /// <summary>Black-red-yellow at <paramref name="heat"/> (0..1), blended over the pixel with opacity growing with it.</summary>
    internal static Rgb24 Blend(Rgb24 pixel, float heat)
    {
        heat = Math.Clamp(heat, 0f, 1f);
        var alpha = PeakOpacity * heat;
        var red = 255f * Math.Min(1f, 2f * heat);
        var green = 255f * Math.Max(0f, (2f * heat) - 1f);
        return new Rgb24(
            (byte)Math.Round((pixel.R * (1 - alpha)) + (red * alpha)),
            (byte)Math.Round((pixel.G * (1 - alpha)) + (green * alpha)),
            (byte)Math.Round(pixel.B * (1 - alpha)));
    }
}
