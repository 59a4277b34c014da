using CaptionService.Inference.Batching;
using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tests.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Generation;

/// <summary>
/// Continuous batching with merged rows: a cached decoder with <c>attention_mask</c> and
/// <c>position_ids</c> (synth's, with --image-cache) runs rows that started at different steps in
/// one decoder batch. A row that joins late, and a row whose longer neighbour left (its padding
/// trimmed), must see exactly what it would see alone.
/// </summary>
public sealed class MergedRowsTests(MergedRowsTests.MiniPackageWithImageCache package) : IClassFixture<MergedRowsTests.MiniPackageWithImageCache>, IDisposable
{
    private const float Tolerance = 1e-3f;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(120));

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public void OnlyADecoderWithMaskAndPositionInputsMergesRows()
    {
        using var cached = Load(package.Path);
        using var bundled = Load(TestPaths.DefaultPackage);

        Assert.True(cached.Decoder.MergesRows);
        Assert.False(bundled.Decoder.MergesRows);
        var states = Encode(bundled, 2);
        try
        {
            using var decoder = new OnnxDecoderStep(bundled.Decoder, [states[0]]);
            Assert.Throws<InvalidOperationException>(() => decoder.AddRows([states[1]]));
        }
        finally
        {
            Array.ForEach(states, state => state.Dispose());
        }
    }

    [Fact]
    public void ARowThatJoinsLateAndARowWhoseNeighbourLeftDecodeAsAlone()
    {
        using var loaded = Load(package.Path);
        var states = Encode(loaded, 2);
        try
        {
            var start = loaded.Generation.DecoderStartTokenId;
            var (firstTokens, firstLogits) = Alone(loaded.Decoder, states[0], start, steps: 7);
            var (secondTokens, secondLogits) = Alone(loaded.Decoder, states[1], start, steps: 6);

            using var merged = new OnnxDecoderStep(loaded.Decoder, [states[0]]);
            for (var step = 0; step < 3; step++)
            {
                AssertClose(firstLogits[step], merged.Step([firstTokens[step]]).ToArray());
            }

            // The second image joins at the first row's fourth step: one run, rows at positions 3 and 0.
            merged.AddRows([states[1]]);
            for (var step = 0; step < 4; step++)
            {
                var logits = merged.Step([firstTokens[step + 3], secondTokens[step]]);
                var vocabulary = merged.VocabularySize;
                AssertClose(firstLogits[step + 3], logits[..vocabulary].ToArray());
                AssertClose(secondLogits[step], logits[vocabulary..].ToArray());
            }

            // The longer row leaves: the three slots that only padded the second row go with it.
            merged.SelectRows([1]);
            Assert.Equal(4, merged.PastLength);
            for (var step = 4; step < 6; step++)
            {
                AssertClose(secondLogits[step], merged.Step([secondTokens[step]]).ToArray());
            }
        }
        finally
        {
            Array.ForEach(states, state => state.Dispose());
        }
    }

    /// <summary>
    /// With an image cache and the state in host memory, the encode stage makes each caption
    /// image's keys and values (and only a caption image's); a batch copies them, and they are
    /// exactly what the batch would compute itself.
    /// </summary>
    [Fact]
    public async Task ImageInputsMadeWhenEncodingAreThoseABatchWouldCompute()
    {
        using var loaded = Load(package.Path);
        Assert.True(loaded.Decoder.PreparesImagesWhenEncoding);
        var encoder = new ImageEncoder(loaded.Encoder, loaded.ImageTransform.Height, loaded.ImageTransform.Width, loaded.Decoder);
        using var captionPixels = new PooledBuffer<float>(encoder.ImageLength, clear: true);
        using var scorePixels = new PooledBuffer<float>(encoder.ImageLength, clear: true);
        BatchRequest<EncodeJob, EncoderState>[] batch =
        [
            new(new EncodeJob(captionPixels, ForCaption: true), 0, long.MaxValue, CancellationToken.None),
            new(new EncodeJob(scorePixels), 0, long.MaxValue, CancellationToken.None),
        ];
        await encoder.ExecuteAsync(batch, CancellationToken.None);
        using var captionState = (await batch[0].Completion).Value;
        using var scoreState = (await batch[1].Completion).Value;
        Assert.NotNull(captionState.CaptionImageInputs);
        Assert.Null(scoreState.CaptionImageInputs);

        var states = Encode(loaded, 2);
        try
        {
            using var computed = loaded.Decoder.PrepareImages(states);
            Array.ForEach(states, loaded.Decoder.PrepareCaptionImage);
            using var copied = loaded.Decoder.PrepareImages(states, rowCapacity: 8);
            Assert.Equal(computed.Count, copied.Count);
            for (var i = 0; i < computed.Count; i++)
            {
                Assert.Equal(computed.Shape(i), copied.Shape(i));
                Assert.True(computed.Memory(i).Span.SequenceEqual(copied.Memory(i).Span), $"tensor {i} differs");
            }
        }
        finally
        {
            Array.ForEach(states, state => state.Dispose());
        }
    }

    /// <summary>Through the engine: requests sent at staggered times join the running batch and get the captions they get alone.</summary>
    [Fact]
    public async Task RequestsThatJoinARunningBatchGetTheCaptionsTheyGetAlone()
    {
        await using var engine = CaptionEngine.Create(
            new ModelOptions { Path = package.Path, ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1 },
            new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);
        var images = Enumerable.Range(0, 6).Select(FixtureImage).ToArray();
        GenerationOptions[] options =
        [
            new() { MaxTokens = 12 },
            new() { MaxTokens = 12, Beams = 3, Alternatives = 2 },
            new() { MaxTokens = 5 },
        ];

        var alone = new List<CaptionResult>();
        for (var i = 0; i < images.Length; i++)
        {
            alone.Add(await engine.CaptionAsync(images[i], options[i % options.Length], _timeout.Token));
        }

        var together = new List<Task<CaptionResult>>();
        for (var i = 0; i < images.Length; i++)
        {
            together.Add(engine.CaptionAsync(images[i], options[i % options.Length], _timeout.Token));
            await Task.Delay(15, _timeout.Token); // a few decoder steps apart
        }

        var results = await Task.WhenAll(together);
        Assert.Equal(2 * new BatchingOptions().MaxBatchSize, engine.Model.Batching.MaxDecodingRows); // room to join beside a full batch
        Assert.Equal(new BatchingOptions().MaxBatchSize, engine.Model.Batching.GreedyReservedRows); // half of them kept for greedy captions
        Assert.Equal(TimeSpan.FromSeconds(2), engine.Model.Batching.BeamSearchDeferral); // half the 10 s timeout, at most 2 s
        for (var i = 0; i < images.Length; i++)
        {
            Assert.Equal(alone[i].Alternatives.Select(a => a.Caption), results[i].Alternatives.Select(a => a.Caption));
        }
    }

    /// <summary>
    /// Yielding the CPU to decoding shortens the step a joining request waits for; where requests
    /// cannot join, they wait for the whole batch anyway, and the starved encoder only costs throughput.
    /// </summary>
    [Fact]
    public void TheEncoderYieldsToDecodingByDefaultOnlyWhenRequestsJoinRunningBatches()
    {
        using var joining = Load(package.Path);
        using var notJoining = ModelPackageLoader.Load(Options(package.Path), NullLogger.Instance, joinRunningBatches: false);
        using var bundled = Load(TestPaths.DefaultPackage);
        using var configured = ModelPackageLoader.Load(Options(TestPaths.DefaultPackage, encoderNiceness: 2), NullLogger.Instance);

        Assert.Equal(ModelOptions.JoiningEncoderNiceness, joining.Encoder.Niceness);
        Assert.Equal(0, notJoining.Encoder.Niceness);
        Assert.Equal(0, bundled.Encoder.Niceness);
        Assert.Equal(2, configured.Encoder.Niceness);
    }

    private static ModelOptions Options(string path, int? encoderNiceness = null) =>
        new() { Path = path, ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1, EncoderNiceness = encoderNiceness };

    private static LoadedModelPackage Load(string path) => ModelPackageLoader.Load(Options(path), NullLogger.Instance);

    private static byte[] FixtureImage(int index) => File.ReadAllBytes(ImagePaths[index]);

    private static readonly string[] ImagePaths =
    [
        .. new[] { "one-shape.png", "two-shapes.png", "four-shapes.png", "seven-shapes.png" }
            .Select(name => Path.Combine(TestPaths.DefaultPackage, "examples", name)),
        Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny", "image-0.png"),
        Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny", "image-1.png"),
    ];

    /// <summary>Random pixels, seeded: the check is about the decoder's arithmetic, not the captions.</summary>
    internal static EncoderState[] Encode(LoadedModelPackage loaded, int count)
    {
        var encoder = new ImageEncoder(loaded.Encoder, loaded.ImageTransform.Height, loaded.ImageTransform.Width);
        var random = new Random(7);
        var images = Enumerable.Range(0, count).Select(_ =>
        {
            var buffer = new PooledBuffer<float>(encoder.ImageLength);
            foreach (ref var value in buffer.Span)
            {
                value = (float)((random.NextDouble() * 2) - 1);
            }

            return buffer;
        }).ToList();
        try
        {
            return encoder.Encode(images);
        }
        finally
        {
            images.ForEach(image => image.Dispose());
        }
    }

    /// <summary>Greedy decoding of one image alone: the tokens fed at each step (start token first) and the logits that came back.</summary>
    private static (long[] Tokens, float[][] Logits) Alone(DecoderGraph graph, EncoderState state, long start, int steps)
    {
        using var decoder = new OnnxDecoderStep(graph, [state]);
        var tokens = new List<long> { start };
        var logits = new List<float[]>();
        for (var step = 0; step < steps; step++)
        {
            var row = decoder.Step([tokens[^1]]).ToArray();
            logits.Add(row);
            tokens.Add(Array.IndexOf(row, row.Max()));
        }

        return ([.. tokens], [.. logits]);
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= Tolerance, $"largest logit difference {worst} > {Tolerance}");
    }

    public sealed class MiniPackageWithImageCache() : SynthesizedPackage("vit-gpt2-mini", "--image-cache");
}
