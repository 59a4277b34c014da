using CaptionService.Inference.Encoding;
using CaptionService.Inference.Explanation;
using CaptionService.Inference.ModelPackage;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.Generation;

/// <summary>
/// The caption decoder as the engine runs it: the merged decoder session, which reads the encoder
/// states at every step, or, when the package has them, the image-cache graph run once per batch
/// and a decoder that reads its keys and values instead. Layer count, head count, head size and
/// vocabulary size come from the graphs' metadata; the manifest only names the tensors.
/// </summary>
internal sealed class DecoderGraph : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ImageCacheGraph? _imageCache;
    private readonly bool _hasUseCacheBranch;
    private readonly RowPositionInputs _rowPositions;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly CrossAttentionOutputs? _crossAttentions;
    private readonly Lazy<DeviceRows> _deviceRows;

    /// <summary>An Optimum merged decoder's <c>use_cache_branch</c> for a run from an empty cache.</summary>
    private static readonly bool[] s_firstStep = [false];

    private DecoderGraph(
        InferenceSession session,
        DecoderNames names,
        string[] imageInputs,
        ImageCacheGraph? imageCache,
        DecoderShape shape,
        CrossAttentionOutputs? crossAttentions,
        OrtSessionFactory factory)
    {
        _session = session;
        DecoderState = factory.DecoderState;

        // Loaded on first use: a host-resident engine never moves rows on the device.
        _deviceRows = new Lazy<DeviceRows>(() => DeviceRows.Load(factory));
        _crossAttentions = crossAttentions;
        _imageCache = imageCache;
        _hasUseCacheBranch = names.UseCacheBranch is not null;
        _rowPositions = shape.RowPositions;
        LayerCount = shape.Layers;
        HeadCount = shape.Heads;
        HeadSize = shape.HeadSize;
        VocabularySize = shape.VocabularySize;
        HiddenSize = imageCache is null ? shape.HiddenSize : imageCache.HiddenSize;

        // Input order: input_ids, the row-position inputs the graph has, the image inputs, then past
        // key and value per layer (Run binds in this order).
        var inputs = new List<string> { names.InputIds };
        if (_rowPositions.HasFlag(RowPositionInputs.AttentionMask))
        {
            inputs.Add(DecoderShape.AttentionMaskInput);
        }

        if (_rowPositions.HasFlag(RowPositionInputs.PositionIds))
        {
            inputs.Add(DecoderShape.PositionIdsInput);
        }

        inputs.AddRange(imageInputs);
        var outputs = new List<string> { names.Logits };
        for (var layer = 0; layer < LayerCount; layer++)
        {
            inputs.Add(LayerPattern.Name(names.PastKey, layer));
            inputs.Add(LayerPattern.Name(names.PastValue, layer));
            outputs.Add(LayerPattern.Name(names.PresentKey, layer));
            outputs.Add(LayerPattern.Name(names.PresentValue, layer));
        }

        if (names.UseCacheBranch is { } useCacheBranch)
        {
            inputs.Add(useCacheBranch);
        }

        _inputNames = [.. inputs];
        _outputNames = [.. outputs];
    }

    public int LayerCount { get; }

    public int HeadCount { get; }

    public int HeadSize { get; }

    public int VocabularySize { get; }

    /// <summary>The encoder state width the graph expects, when it fixes one.</summary>
    public int? HiddenSize { get; }

    /// <summary>
    /// Whether rows at different positions can share one run: the graph takes an attention mask
    /// and position ids, so a row that joins a running batch gets a left-padded, masked cache.
    /// </summary>
    public bool MergesRows => _rowPositions == RowPositionInputs.Both;

    /// <summary>Whether caption requests join running batches between steps: as configured (<see cref="BatchingOptions.JoinRunningBatches"/>), by default when this decoder merges rows.</summary>
    public bool JoinsRunningBatches(bool? configured) => configured ?? MergesRows;

    /// <summary>Whether the graph has the explanation outputs (the manifest's <c>decoder.cross_attentions</c>).</summary>
    public bool ExplainsCaptions => _crossAttentions is not null;

    /// <summary>The (layer, head) pairs a caption word's map averages (the manifest's <c>decoder.cross_attention_heads</c>); null for every head of every layer.</summary>
    public IReadOnlyList<(int Layer, int Head)>? ExplanationHeads => _crossAttentions?.Heads;

    /// <summary>Where the steps of <see cref="CreateStep"/> keep the KV cache and image inputs (Host or Device).</summary>
    public DecoderStateKind DecoderState { get; }

    /// <summary>The row graphs on this decoder's provider, for state kept on the device.</summary>
    public DeviceRows DeviceRows => _deviceRows.Value;

    /// <summary>Whether the steps read per-layer image keys and values computed once (rather than the encoder states).</summary>
    public bool CachesImageKeysValues => _imageCache is not null;

    /// <summary>
    /// Without <paramref name="imageCache"/>, the merged decoder, which reads the encoder states at
    /// every step; with it (the image-cache graph's file and names), the decoder at
    /// <paramref name="graphPath"/> is the one that reads that graph's outputs.
    /// </summary>
    public static DecoderGraph Load(
        OrtSessionFactory factory, string graphPath, DecoderNames names, int configVocabularySize, (string Path, ImageCacheNames Names)? imageCache)
    {
        var session = factory.CreateSession(graphPath);
        ImageCacheGraph? cacheGraph = null;
        try
        {
            var shape = DecoderShape.Describe(session, graphPath, names, configVocabularySize, imageCache?.Names);
            string[] imageInputs = [names.EncoderHiddenStates];
            if (imageCache is { } cache)
            {
                cacheGraph = ImageCacheGraph.Load(factory, cache.Path, cache.Names, shape);
                imageInputs = cache.Names.LayerNames(shape.Layers);
            }

            if (names.CrossAttentions is null && names.CrossAttentionHeads is not null)
            {
                throw new ModelPackageException("caption_service.json: decoder.cross_attention_heads needs decoder.cross_attentions, the outputs it picks heads of.");
            }

            var crossAttentions = names.CrossAttentions is { } pattern
                ? CrossAttentionOutputs.Require(session, graphPath, pattern, shape.Layers, shape.Heads, names.CrossAttentionHeads)
                : null;
            return new DecoderGraph(session, names, imageInputs, cacheGraph, shape, crossAttentions, factory);
        }
        catch
        {
            cacheGraph?.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A decoder step over one row per encoder state, keeping its state where <see cref="DecoderState"/>
    /// says; in host memory, with room for <paramref name="rowCapacity"/> rows of image inputs
    /// (rows that join and beams that fork within it move no buffer).
    /// </summary>
    public IJoinableDecoderStep CreateStep(IReadOnlyList<EncoderState> encoderStates, int rowCapacity = 0) =>
        DecoderState == DecoderStateKind.Device ? new BoundDecoderStep(this, encoderStates) : new OnnxDecoderStep(this, encoderStates, rowCapacity);

    /// <summary>
    /// Whether the encode stage can make each caption image's keys and values (<see cref="PrepareCaptionImage"/>):
    /// with an image cache and the decoding state in host memory. The engine has it do so when
    /// requests join running batches (a batch that starts afresh projects its images in one run). A request then joins a running
    /// batch by a copy, where the projection would hold up every row of the batch while it ran
    /// (vit-gpt2 shapes on 2 cores: 18 ms an image alone, half a step of 16 rows; 30 to 45 ms beside
    /// the encoder). On a device the projection runs there at join (<see cref="PrepareDeviceImages"/>),
    /// where it is cheap and host copies would cross the bus.
    /// </summary>
    public bool PreparesImagesWhenEncoding => _imageCache is not null && DecoderState == DecoderStateKind.Host;

    /// <summary>Makes the image's row of decoder inputs and keeps it with <paramref name="state"/> (see <see cref="PreparesImagesWhenEncoding"/>).</summary>
    public void PrepareCaptionImage(EncoderState state) => state.KeepCaptionImageInputs(ComputeImages([state]));

    /// <summary>
    /// What the steps read about each row's image, one row per encoder state (all of one shape), with
    /// room for <paramref name="rowCapacity"/> rows in all.
    /// </summary>
    public DecoderImageInputs PrepareImages(IReadOnlyList<EncoderState> encoderStates, int rowCapacity = 0)
    {
        if (encoderStates.Count == 0 || encoderStates.Any(state => state.CaptionImageInputs is null))
        {
            return ComputeImages(encoderStates, rowCapacity);
        }

        var inputs = DecoderImageInputs.Reserve(encoderStates[0].CaptionImageInputs!.RowShapes, Math.Max(rowCapacity, encoderStates.Count));
        try
        {
            AppendImages(inputs, encoderStates);
            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Appends one row per encoder state to <paramref name="inputs"/>: copies of the rows the encode
    /// stage made when every state has one, else computed here.
    /// </summary>
    public void AppendImages(DecoderImageInputs inputs, IReadOnlyList<EncoderState> encoderStates)
    {
        if (encoderStates.All(state => state.CaptionImageInputs is not null))
        {
            foreach (var state in encoderStates)
            {
                inputs.Append(state.CaptionImageInputs!);
            }

            return;
        }

        using var computed = ComputeImages(encoderStates);
        inputs.Append(computed);
    }

    /// <summary>
    /// The image inputs of the encoder states, one row each (the states themselves, or the image
    /// cache's keys and values), with room for <paramref name="rowCapacity"/> rows.
    /// </summary>
    private DecoderImageInputs ComputeImages(IReadOnlyList<EncoderState> encoderStates, int rowCapacity = 0)
    {
        var rows = encoderStates.Count;
        if (_imageCache is null)
        {
            var staged = StageEncoderStates(encoderStates, out var length, out var width, Math.Max(rows, rowCapacity));
            return new DecoderImageInputs([staged], [[length, width]], rows, rowCapacity);
        }

        using var states = StageEncoderStates(encoderStates, out var sequenceLength, out var hiddenSize);
        return _imageCache.Run(states.Memory[..(rows * sequenceLength * hiddenSize)], rows, sequenceLength, hiddenSize, rowCapacity);
    }

    /// <summary>
    /// <see cref="PrepareImages"/> on the device: the encoder states go up once (or the image-cache
    /// graph's keys and values are made there), and stay for every step.
    /// </summary>
    public DeviceImageInputs PrepareDeviceImages(IReadOnlyList<EncoderState> encoderStates)
    {
        using var states = StageEncoderStates(encoderStates, out var sequenceLength, out var hiddenSize);
        var rows = encoderStates.Count;
        return _imageCache is null
            ? new DeviceImageInputs(DeviceRows, [DeviceRows.Upload(states.Memory, [rows, sequenceLength, hiddenSize])], rows)
            : _imageCache.RunOnDevice(states.Memory, rows, sequenceLength, hiddenSize, DeviceRows);
    }

    /// <summary>Runs one step for every row, writing logits and the grown cache into caller-owned buffers.</summary>
    public void Run(DecoderStepBuffers buffers)
    {
        var rows = buffers.Rows;
        var inputs = new List<OrtValue>(_inputNames.Length);
        var outputs = new List<OrtValue>(_outputNames.Length);
        try
        {
            inputs.Add(Tensor(buffers.InputIds, [rows, 1]));
            if (_rowPositions.HasFlag(RowPositionInputs.AttentionMask))
            {
                inputs.Add(Tensor(buffers.AttentionMask, [rows, buffers.PastLength + 1]));
            }

            if (_rowPositions.HasFlag(RowPositionInputs.PositionIds))
            {
                inputs.Add(Tensor(buffers.PositionIds, [rows, 1]));
            }

            for (var i = 0; i < buffers.Image.Count; i++)
            {
                inputs.Add(Tensor(buffers.Image.Memory(i), buffers.Image.Shape(i)));
            }

            long[] pastShape = [rows, HeadCount, buffers.PastLength, HeadSize];
            long[] presentShape = [rows, HeadCount, buffers.PastLength + 1, HeadSize];
            outputs.Add(Tensor(buffers.Logits, [rows, 1, VocabularySize]));
            for (var layer = 0; layer < LayerCount; layer++)
            {
                inputs.Add(Tensor(buffers.PastKeys[layer], pastShape));
                inputs.Add(Tensor(buffers.PastValues[layer], pastShape));
                outputs.Add(Tensor(buffers.PresentKeys[layer], presentShape));
                outputs.Add(Tensor(buffers.PresentValues[layer], presentShape));
            }

            if (_hasUseCacheBranch)
            {
                // Optimum's merged decoders take the no-cache branch on the first step only.
                inputs.Add(OrtValue.CreateTensorValueFromMemory(new[] { buffers.PastLength > 0 }, [1]));
            }

            _session.Run(_runOptions, _inputNames, inputs, _outputNames, outputs);
        }
        finally
        {
            inputs.ForEach(value => value.Dispose());
            outputs.ForEach(value => value.Dispose());
        }
    }

    /// <summary>
    /// Runs one step for every row with IOBinding: the small inputs from host memory, the image
    /// inputs and past as the device tensors they are, the logits into <see cref="BoundStepInputs.Logits"/>
    /// (host memory, the only output that leaves the device), and each layer's present key and
    /// value allocated on the device. Returns the presents (key, value per layer); the caller owns them.
    /// </summary>
    public OrtValue[] RunBound(BoundStepInputs step)
    {
        var rows = step.Rows;
        var hostInputs = new List<OrtValue>(4);
        try
        {
            using var binding = _session.CreateIoBinding();
            var input = 0;
            void BindHost(OrtValue value)
            {
                hostInputs.Add(value);
                binding.BindInput(_inputNames[input++], value);
            }

            BindHost(Tensor(step.InputIds, [rows, 1]));
            if (_rowPositions.HasFlag(RowPositionInputs.AttentionMask))
            {
                BindHost(Tensor(step.AttentionMask, [rows, step.PastLength + 1]));
            }

            if (_rowPositions.HasFlag(RowPositionInputs.PositionIds))
            {
                BindHost(Tensor(step.PositionIds, [rows, 1]));
            }

            foreach (var value in step.Image.Concat(step.Past))
            {
                binding.BindInput(_inputNames[input++], value);
            }

            if (_hasUseCacheBranch)
            {
                BindHost(OrtValue.CreateTensorValueFromMemory(new[] { step.PastLength > 0 }, [1]));
            }

            var logits = Tensor(step.Logits, [rows, 1, VocabularySize]);
            hostInputs.Add(logits);
            binding.BindOutput(_outputNames[0], logits);
            foreach (var name in _outputNames.Skip(1))
            {
                binding.BindOutputToDevice(name, DeviceRows.Device);
            }

            _session.RunWithBinding(_runOptions, binding);
            var outputs = binding.GetOutputValues();
            outputs[0].Dispose(); // the logits' second handle; the values are in step.Logits
            return [.. outputs.Skip(1)];
        }
        finally
        {
            hostInputs.ForEach(value => value.Dispose());
        }
    }

    /// <summary>
    /// Replays one caption for its explanation: <paramref name="tokens"/> (the start token, then the
    /// generated ones) in a single run from an empty cache, fetching only the cross-attention
    /// outputs. Attention is causal, so position t sees what step t of the generation saw, and the
    /// result is each step's map: <c>[tokens, image tokens]</c>, the mean over the package's chosen heads
    /// (<see cref="CrossAttentionOutputs.Mean"/>).
    /// </summary>
    public float[] ReplayCrossAttention(DecoderImageInputs image, long[] tokens)
    {
        if (_crossAttentions is null)
        {
            throw new InvalidOperationException("The decoder has no cross-attention outputs.");
        }

        if (image.Rows != 1)
        {
            throw new ArgumentException("One image row is replayed at a time.", nameof(image));
        }

        var length = tokens.Length;
        var inputs = new List<OrtValue>(_inputNames.Length);
        try
        {
            inputs.Add(Tensor(tokens.AsMemory(), [1, length]));
            if (_rowPositions.HasFlag(RowPositionInputs.AttentionMask))
            {
                inputs.Add(Tensor(Enumerable.Repeat(1L, length).ToArray().AsMemory(), [1, length]));
            }

            if (_rowPositions.HasFlag(RowPositionInputs.PositionIds))
            {
                inputs.Add(Tensor(Enumerable.Range(0, length).Select(position => (long)position).ToArray().AsMemory(), [1, length]));
            }

            for (var i = 0; i < image.Count; i++)
            {
                inputs.Add(Tensor(image.Memory(i), image.Shape(i)));
            }

            for (var layer = 0; layer < 2 * LayerCount; layer++)
            {
                inputs.Add(Tensor(Memory<float>.Empty, [1, HeadCount, 0, HeadSize]));
            }

            if (_hasUseCacheBranch)
            {
                inputs.Add(OrtValue.CreateTensorValueFromMemory(s_firstStep, [1]));
            }

            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, _inputNames, inputs, _crossAttentions.Names);
            return _crossAttentions.Mean(outputs);
        }
        finally
        {
            inputs.ForEach(value => value.Dispose());
        }
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
        _imageCache?.Dispose();
        if (_deviceRows.IsValueCreated)
        {
            _deviceRows.Value.Dispose();
        }
    }

    /// <summary>Copies the encoder states, all of one shape, row after row into one pooled buffer (with room for <paramref name="capacityRows"/> rows).</summary>
    private static PooledBuffer<float> StageEncoderStates(
        IReadOnlyList<EncoderState> encoderStates, out int sequenceLength, out int hiddenSize, int capacityRows = 0)
    {
        if (encoderStates.Count == 0)
        {
            throw new ArgumentException("At least one row is needed.", nameof(encoderStates));
        }

        sequenceLength = encoderStates[0].SequenceLength;
        hiddenSize = encoderStates[0].HiddenSize;
        var rowLength = sequenceLength * hiddenSize;
        var states = new PooledBuffer<float>(rowLength * Math.Max(encoderStates.Count, capacityRows));
        for (var row = 0; row < encoderStates.Count; row++)
        {
            if (encoderStates[row].Length != rowLength)
            {
                states.Dispose();
                throw new ArgumentException("All encoder states in a batch must have the same shape.", nameof(encoderStates));
            }

            encoderStates[row].Values.CopyTo(states.Span.Slice(row * rowLength, rowLength));
        }

        return states;
    }

    private static OrtValue Tensor<T>(Memory<T> memory, long[] shape)
        where T : unmanaged => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, shape);
}
