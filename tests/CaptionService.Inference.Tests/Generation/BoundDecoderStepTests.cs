using CaptionService.Inference.Encoding;
using CaptionService.Inference.Generation;
using CaptionService.Inference.ModelPackage;
using CaptionService.Inference.Tests.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.Generation;

/// <summary>
/// The device-resident decoder step (IOBinding, state moved by the row graphs) on CPU, where its
/// device is host memory: the very code it runs on CUDA. It must return the host path's logits
/// through every row move the engine makes (compaction, beam forks, slots trimmed, rows that join
/// a running batch) and give the same captions end to end.
/// </summary>
public sealed class BoundDecoderStepTests(MergedRowsTests.MiniPackageWithImageCache mini)
    : IClassFixture<MergedRowsTests.MiniPackageWithImageCache>, IDisposable
{
    private const float Tolerance = 1e-3f;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(180));
    private readonly TemporaryPackageCopy _withoutImageCache = WithoutImageCache();

    public void Dispose()
    {
        _withoutImageCache.Dispose();
        _timeout.Dispose();
    }

    [Theory]
    [InlineData(ExecutionProviderKind.Cpu, DecoderStateKind.Host)]
    [InlineData(ExecutionProviderKind.Cuda, DecoderStateKind.Device)]
    public void AutoKeepsTheStateOnTheDeviceOnlyWithCuda(ExecutionProviderKind provider, DecoderStateKind expected) =>
        Assert.Equal(expected, OrtSessionFactory.ResolveDecoderState(DecoderStateKind.Auto, provider));

    [Fact]
    public void OnCpuTheDefaultOptionsDecodeInHostMemory()
    {
        using var package = Load(TestPaths.DefaultPackage, DecoderStateKind.Auto);
        var states = MergedRowsTests.Encode(package, 1);
        try
        {
            using var decoder = package.Decoder.CreateStep(states);
            Assert.Equal(DecoderStateKind.Host, package.Decoder.DecoderState);
            Assert.IsType<OnnxDecoderStep>(decoder);
        }
        finally
        {
            Array.ForEach(states, state => state.Dispose());
        }
    }

    [Fact]
    public void DeviceIsHonouredOnCpuAndRowsJoinOnlyADecoderThatMergesThem()
    {
        using var package = Load(TestPaths.DefaultPackage, DecoderStateKind.Device);
        var states = MergedRowsTests.Encode(package, 2);
        try
        {
            using var decoder = package.Decoder.CreateStep(states[..1]);
            Assert.IsType<BoundDecoderStep>(decoder);
            Assert.False(package.Decoder.MergesRows);
            Assert.Throws<InvalidOperationException>(() => decoder.AddRows(states[1..]));
        }
        finally
        {
            Array.ForEach(states, state => state.Dispose());
        }
    }

    /// <summary>The bundled package (image-cache graph, no row merging), and a copy that reads the encoder states at every step.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheBundledPackageGivesTheHostLogitsThroughForksCompactionAndTrimmedSlots(bool imageCache)
    {
        var path = imageCache ? TestPaths.DefaultPackage : _withoutImageCache.Path;
        using var host = Load(path, DecoderStateKind.Host);
        using var device = Load(path, DecoderStateKind.Device);
        Assert.Equal(imageCache, device.Decoder.CachesImageKeysValues);
        var states = MergedRowsTests.Encode(host, 3);
        try
        {
            using var hostStep = host.Decoder.CreateStep(states);
            using var deviceStep = device.Decoder.CreateStep(states);
            Assert.IsType<BoundDecoderStep>(deviceStep);
            var replay = new Replay(hostStep, deviceStep, host.Generation.DecoderStartTokenId);

            replay.Steps(3);
            replay.SelectRows([0, 0, 2, 1]); // row 0 forks, rows 1 and 2 swap: every image moves
            replay.Steps(2);
            replay.SelectRows([1, 0, 2, 3]); // beams of one image swap: the image inputs stay as they are
            replay.Steps(1);
            replay.SelectRows([1, 0, 3]); // beams of one image reordered, one row leaves
            replay.Steps(2);
            replay.SelectRows([2]);
            replay.Steps(1);
            replay.SelectRows([]); // every search done
            Assert.Equal(0, deviceStep.RowCount);
        }
        finally
        {
            Array.ForEach(states, state => state.Dispose());
        }
    }

    /// <summary>A package whose decoder merges rows: rows join a running batch left-padded, and slots that only pad are trimmed when the longer rows leave.</summary>
    [Fact]
    public void RowsThatJoinLaterGetTheHostLogitsAndTheirPaddingIsTrimmed()
    {
        using var host = Load(mini.Path, DecoderStateKind.Host);
        using var device = Load(mini.Path, DecoderStateKind.Device);
        var states = MergedRowsTests.Encode(host, 4);
        try
        {
            using var hostStep = host.Decoder.CreateStep(states[..2]);
            using var deviceStep = device.Decoder.CreateStep(states[..2]);
            var replay = new Replay(hostStep, deviceStep, host.Generation.DecoderStartTokenId);

            replay.Steps(3);
            replay.AddRows(states[2..3]); // joins at position 0 beside rows at 3
            replay.Steps(2);
            replay.SelectRows([2, 1, 2]); // the joined row forks; row 0 leaves
            replay.AddRows(states[3..]);
            replay.Steps(2);
            replay.SelectRows([0, 3, 2]); // the longest row leaves: the slots that only padded the others go
            Assert.Equal(4, deviceStep.PastLength);
            replay.Steps(2);
        }
        finally
        {
            Array.ForEach(states, state => state.Dispose());
        }
    }

    /// <summary>Through the engine: greedy captions and beam searches, sent at staggered times so that requests join the running batch.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheEngineGivesTheSameCaptionsWithTheStateOnTheDevice(bool mergesRows)
    {
        var path = mergesRows ? mini.Path : TestPaths.DefaultPackage;
        await using var host = Engine(path, DecoderStateKind.Host);
        await using var device = Engine(path, DecoderStateKind.Device);
        GenerationOptions[] options =
        [
            new() { MaxTokens = 12 },
            new() { MaxTokens = 12, Beams = 3, Alternatives = 2 },
            new() { MaxTokens = 8, Beams = 4, Alternatives = 4 },
            new() { MaxTokens = 5 },
        ];

        var expected = await Staggered(host, options);
        var actual = await Staggered(device, options);
        for (var i = 0; i < options.Length; i++)
        {
            Assert.Equal(expected[i].Alternatives.Select(a => a.Caption), actual[i].Alternatives.Select(a => a.Caption));
            foreach (var (e, a) in expected[i].Alternatives.Zip(actual[i].Alternatives))
            {
                Assert.Equal(e.LogProb, a.LogProb, tolerance: 1e-4);
            }
        }
    }

    private async Task<CaptionResult[]> Staggered(CaptionEngine engine, GenerationOptions[] options)
    {
        var images = ExampleImages
            .Select(name => File.ReadAllBytes(Path.Combine(TestPaths.DefaultPackage, "examples", name)))
            .ToArray();
        var requests = new List<Task<CaptionResult>>();
        for (var i = 0; i < options.Length; i++)
        {
            requests.Add(engine.CaptionAsync(images[i % images.Length], options[i], _timeout.Token));
            await Task.Delay(15, _timeout.Token); // a few decoder steps apart
        }

        return await Task.WhenAll(requests);
    }

    private static readonly string[] ExampleImages = ["one-shape.png", "two-shapes.png", "four-shapes.png", "seven-shapes.png"];

    private static ModelOptions Options(string path, DecoderStateKind state) =>
        new() { Path = path, ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1, DecoderState = state };

    private static LoadedModelPackage Load(string path, DecoderStateKind state) => ModelPackageLoader.Load(Options(path, state), NullLogger.Instance);

    private static CaptionEngine Engine(string path, DecoderStateKind state) =>
        CaptionEngine.Create(Options(path, state), new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);

    /// <summary>The bundled package with its image-cache graph removed from the manifest, as in <see cref="ImageCacheDecodingTests"/>.</summary>
    private static TemporaryPackageCopy WithoutImageCache()
    {
        var copy = new TemporaryPackageCopy();
        copy.EditManifest(manifest =>
        {
            manifest.Remove("image_cache");
            manifest["graphs"]!.AsObject().Remove("image_cache");
            manifest["graphs"]!.AsObject().Remove("cached_decoder");
            manifest["decoder"]!.AsObject().Remove("cross_attentions");
            manifest["decoder"]!.AsObject().Remove("cross_attention_heads");
        });
        return copy;
    }

    /// <summary>
    /// Drives a host step and a device step through the same moves, feeding both each row's most
    /// likely token by the host's logits, and checks after every step that their logits agree.
    /// </summary>
    private sealed class Replay(IJoinableDecoderStep host, IJoinableDecoderStep device, long startToken)
    {
        private long[] _tokens = [.. Enumerable.Repeat(startToken, host.RowCount)];

        public void Steps(int count)
        {
            for (var step = 0; step < count; step++)
            {
                var expected = host.Step(_tokens).ToArray();
                var actual = device.Step(_tokens).ToArray();
                Assert.Equal(expected.Length, actual.Length);
                var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
                Assert.True(worst <= Tolerance, $"largest logit difference {worst} > {Tolerance}");
                Assert.Equal(host.PastLength, device.PastLength);

                var vocabulary = host.VocabularySize;
                _tokens = [.. Enumerable.Range(0, host.RowCount).Select(row => (long)ArgMax(expected.AsSpan(row * vocabulary, vocabulary)))];
            }
        }

        public void SelectRows(int[] sourceRows)
        {
            host.SelectRows(sourceRows);
            device.SelectRows(sourceRows);
            _tokens = [.. sourceRows.Select(row => _tokens[row])];
            Assert.Equal(host.RowCount, device.RowCount);
            Assert.Equal(host.PastLength, device.PastLength);
        }

        public void AddRows(EncoderState[] states)
        {
            host.AddRows(states);
            device.AddRows(states);
            _tokens = [.. _tokens, .. states.Select(_ => startToken)];
            Assert.Equal(host.RowCount, device.RowCount);
        }

        private static int ArgMax(ReadOnlySpan<float> values)
        {
            var best = 0;
            for (var i = 1; i < values.Length; i++)
            {
                if (values[i] > values[best])
                {
                    best = i;
                }
            }

            return best;
        }
    }
}
