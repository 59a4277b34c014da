using CaptionService.Inference.Batching;
using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Encoding;

/// <summary>
/// The encode stage prepares what the caption decoder reads about each image to be captioned (the
/// image-cache graph's keys and values), so that the decoding loop only appends it; images to be
/// scored get none.
/// </summary>
public sealed class ImageEncoderTests : IDisposable
{
    private static readonly bool[] s_forCaption = [true, false, true];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly LoadedModelPackage _package = ModelPackageLoader.Load(
        new ModelOptions { Path = TestPaths.DefaultPackage, ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1 }, NullLogger.Instance);

    public void Dispose()
    {
        _package.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task ImagesToCaptionGetTheDecodersInputsAndImagesToScoreDoNot()
    {
        Assert.True(_package.Decoder.CachesImageKeysValues); // else this test would check the trivial path only
        var encoder = new ImageEncoder(_package.Encoder, _package.ImageTransform.Height, _package.ImageTransform.Width, _package.Decoder);
        await using var batcher = new DynamicBatcher<EncodeJob, EncodedImage>(
            "encode", new BatcherSettings(3, TimeSpan.FromSeconds(5), 10), encoder, NullLogger.Instance);
        var pixels = Enumerable.Range(0, 3).Select(seed => RandomPixels(encoder.ImageLength, seed)).ToArray();
        try
        {
            var answers = await Task.WhenAll(
                s_forCaption.Select((caption, i) => batcher.EnqueueAsync(new EncodeJob(pixels[i], caption), long.MaxValue, _timeout.Token)));
            using var first = answers[0].Value;
            using var scored = answers[1].Value;
            using var third = answers[2].Value;

            Assert.Null(scored.CaptionImage);
            foreach (var image in new[] { first, third })
            {
                using var prepared = image.CaptionImage!.Claim();
                using var expected = _package.Decoder.PrepareImages([image.State]);
                Assert.Equal(1, prepared.Rows);
                Assert.Equal(expected.Count, prepared.Count);
                for (var i = 0; i < expected.Count; i++)
                {
                    Assert.Equal(expected.Shape(i), prepared.Shape(i));
                    Assert.Equal(expected.Memory(i).ToArray(), prepared.Memory(i).ToArray());
                }
            }
        }
        finally
        {
            Array.ForEach(pixels, p => p.Dispose());
        }
    }

    [Fact]
    public void TheDecoderInputsHaveOneOwnerTheCaptionStageOrTheRequestThatGaveUp()
    {
        var encoder = new ImageEncoder(_package.Encoder, _package.ImageTransform.Height, _package.ImageTransform.Width);
        using var pixels = RandomPixels(encoder.ImageLength, seed: 5);
        using var state = encoder.Encode([pixels])[0];
        var claimed = new CaptionImage(_package.Decoder.PrepareImages([state]));
        using (var inputs = claimed.Claim())
        {
            claimed.Dispose(); // the request ends after the caption stage took them: nothing to release
            Assert.Equal(1, inputs.Rows);
            Assert.Throws<InvalidOperationException>(claimed.Claim);
        }

        var released = new CaptionImage(_package.Decoder.PrepareImages([state]));
        released.Dispose(); // the request gave up first
        Assert.Throws<InvalidOperationException>(released.Claim);
    }

    private static PooledBuffer<float> RandomPixels(int length, int seed)
    {
        var random = new Random(seed);
        var buffer = new PooledBuffer<float>(length);
        foreach (ref var value in buffer.Span)
        {
            value = (float)((random.NextDouble() * 2) - 1);
        }

        return buffer;
    }
}
