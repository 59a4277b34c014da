using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;
using CaptionService.Inference.Tests.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Inference.Tests.Clip;

/// <summary>What a CLIP package must contain, and CLIP's resize-then-crop.</summary>
public sealed class ClipPackageTests
{
    [Fact]
    public void TheFixtureIsRecognisedAsClipAndTheVitGpt2OneIsNot()
    {
        Assert.True(ClipPackageLoader.IsClipPackage(ClipReference.Package));
        Assert.False(ClipPackageLoader.IsClipPackage(Path.Combine(TestPaths.Fixtures, "vit-gpt2-tiny")));
    }

    [Fact]
    public void ThePackageNeedsTheCombinedGraphForItsScale()
    {
        using var copy = new TemporaryPackageCopy(ClipReference.Package);
        File.Delete(Path.Combine(copy.Path, "onnx", "model.onnx"));

        var ex = Assert.Throws<ModelPackageException>(() => ClipPackageLoader.Load(ClipReference.Options(copy.Path), NullLogger.Instance));

        Assert.Contains("model.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PreprocessingWithoutTheCentreCropIsRefused()
    {
        using var copy = new TemporaryPackageCopy(ClipReference.Package);
        var path = Path.Combine(copy.Path, "preprocessor_config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"do_center_crop\": true", "\"do_center_crop\": false", StringComparison.Ordinal));

        var ex = Assert.Throws<ModelPackageException>(() => ClipPackageLoader.Load(ClipReference.Options(copy.Path), NullLogger.Instance));

        Assert.Contains("do_center_crop", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWideImageKeepsItsCentre()
    {
        var config = new ClipPreprocessorConfig(
            DoResize: true, Resample: 3, DoRescale: true, RescaleFactor: 1 / 255.0, DoNormalize: false,
            new ShortestEdgeSize(8), DoCenterCrop: true, new ImageSize(8, 8));
        var transform = ImageTransform.FromClipConfig(config, "preprocessor_config.json", 8, 8);
        // 16 x 8: the short side is already 8, so no resampling; columns 0-3 red, 4-11 green, 12-15 blue.
        using var image = new Image<Rgb24>(16, 8);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = x < 4 ? new Rgb24(255, 0, 0) : x < 12 ? new Rgb24(0, 255, 0) : new Rgb24(0, 0, 255);
                }
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);

        using var pixels = new ImagePreprocessor(new PreprocessingOptions { MinImageSide = 1 }, transform).Preprocess(stream.ToArray());

        // The centre 8 x 8 (columns 4-11) is all green: R plane 0, G plane 1, B plane 0.
        Assert.All(pixels.Span[..64].ToArray(), v => Assert.Equal(0f, v));
        Assert.All(pixels.Span[64..128].ToArray(), v => Assert.Equal(1f, v));
        Assert.All(pixels.Span[128..].ToArray(), v => Assert.Equal(0f, v));
    }
}
