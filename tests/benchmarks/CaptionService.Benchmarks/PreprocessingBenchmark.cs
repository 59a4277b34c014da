using System.Diagnostics;
using CaptionService.Inference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CaptionService.Benchmarks;

/// <summary>Preprocessing time of one kind of image, as the engine reports it, and the whole request's time.</summary>
internal sealed record PreprocessingPoint(
    string Image,
    int Width,
    int Height,
    int EncodedBytes,
    Statistics PreprocessMs,
    Statistics RequestMs);

/// <summary>
/// Times preprocessing (decode, orient, resize, normalise) of a 100×100 PNG and a 1920×1080 JPEG:
/// sequential caption requests at batch size 1, reading the engine's own per-request
/// <see cref="Timings.PreprocessMs"/>, so nothing else (queue, inference) is counted.
/// </summary>
internal static class PreprocessingBenchmark
{
    public static async Task<PreprocessingPoint> MeasureAsync(ICaptionEngine engine, string name, byte[] encoded, int count)
    {
        var info = Image.Identify(encoded);
        for (var i = 0; i < Math.Max(3, count / 10); i++)
        {
            await engine.CaptionAsync(encoded, GenerationOptions.Greedy).ConfigureAwait(false);
        }

        var preprocess = new List<double>(count);
        var request = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            var result = await engine.CaptionAsync(encoded, GenerationOptions.Greedy).ConfigureAwait(false);
            request.Add(sw.Elapsed.TotalMilliseconds);
            preprocess.Add(result.Timings.PreprocessMs);
        }

        if (preprocess.All(p => p <= 0))
        {
            throw new InvalidOperationException("the engine reports no preprocessing time (Timings.PreprocessMs is 0)");
        }

        return new PreprocessingPoint(name, info.Width, info.Height, encoded.Length, Statistics.Of(preprocess), Statistics.Of(request));
    }

    /// <summary>
    /// A 1920×1080 JPEG (quality 90) made from a shared world scaled up, with seeded noise so that
    /// it compresses like a photograph rather than like flat colour.
    /// </summary>
    public static byte[] MakeFullHdJpeg(byte[] worldPng, string path)
    {
        using var image = Image.Load<Rgb24>(worldPng);
        image.Mutate(c => c.Resize(1920, 1080, KnownResamplers.Bicubic));
        var random = new Random(1234);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                foreach (ref var p in rows.GetRowSpan(y))
                {
                    var n = random.Next(-12, 13);
                    p = new Rgb24(Clamp(p.R + n), Clamp(p.G + n), Clamp(p.B + n));
                }
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90 });
        var bytes = stream.ToArray();
        File.WriteAllBytes(path, bytes);
        return bytes;
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
}
