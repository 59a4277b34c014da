using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Preprocessing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace CaptionService.Inference.Tests.Preprocessing;

/// <summary>MaxDecodingPixelsInFlight: the pixels decoded at once, from the images' headers, before they are allocated.</summary>
public sealed class DecodeBudgetTests
{
    [Fact]
    public void DecodesAreTakenWhileTheirPixelsFitAndAnyOneFitsAlone()
    {
        var budget = DecodeBudget.For(new PreprocessingOptions { MaxDecodingPixelsInFlight = 500 });

        using (budget.Take(800, 40, 20)) // larger than the budget, but nothing else is being decoded
        {
            var refused = Assert.Throws<InferenceRejectedException>(() => budget.Take(1, 1, 1));
            Assert.Equal(RejectionReason.DecodingBusy, refused.Reason);
        }

        var first = budget.Take(300, 30, 10);
        var second = budget.Take(200, 20, 10);
        var busy = Assert.Throws<InferenceRejectedException>(() => budget.Take(1, 1, 1));
        Assert.Equal("The server is decoding 500 pixels of other images; this 1x1 image would take it past MaxDecodingPixelsInFlight (500 pixels). " +
                     "Retry after the Retry-After seconds, or send a smaller image.", busy.Message);
        first.Dispose();
        using (budget.Take(300, 30, 10))
        {
            Assert.Equal(500, budget.InFlight);
        }

        second.Dispose();
        Assert.Equal(0, budget.InFlight);
    }

    [Fact]
    public void OneSetOfOptionsIsOneBudgetAndAnotherIsAnother()
    {
        var options = new PreprocessingOptions { MaxDecodingPixelsInFlight = 10 };

        using var held = DecodeBudget.For(options).Take(10, 5, 2);

        Assert.Same(DecodeBudget.For(options), DecodeBudget.For(options));
        Assert.Equal(10, DecodeBudget.For(options).InFlight);
        Assert.Equal(0, DecodeBudget.For(new PreprocessingOptions { MaxDecodingPixelsInFlight = 10 }).InFlight);
    }

    [Fact]
    public void ThePreprocessorTakesTheImagesPixelsFromItsHeaderOnlyWhileItDecodes()
    {
        var options = new PreprocessingOptions { MaxDecodingPixelsInFlight = 1000 };
        var preprocessor = new ImagePreprocessor(options, ImageTransform.FromConfig(
            new PreprocessorConfig(true, Resample: 2, DoRescale: true, RescaleFactor: 1 / 255.0, DoNormalize: false,
                Size: new ImageSize(8, 8), ImageMean: null, ImageStd: null),
            "preprocessor_config.json", graphHeight: null, graphWidth: null));
        using var image = new Image<Rgb24>(40, 20, new Rgb24(10, 20, 30)); // 800 pixels
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder());
        var png = stream.ToArray();

        using (DecodeBudget.For(options).Take(300, 30, 10)) // another request's decode
        {
            var refused = Assert.Throws<InferenceRejectedException>(() => preprocessor.Preprocess(png));
            Assert.Equal(RejectionReason.DecodingBusy, refused.Reason);
            Assert.Contains("this 40x20 image", refused.Message, StringComparison.Ordinal);
        }

        using var tensor = preprocessor.Preprocess(png);
        Assert.Equal(3 * 64, tensor.Span.Length);
        Assert.Equal(0, DecodeBudget.For(options).InFlight);
    }
}
