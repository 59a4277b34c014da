namespace CaptionService.Inference.ModelPackage;

/// <summary><c>config.json</c>'s <c>model_type</c>, read first to tell a CLIP package from an image-to-text one.</summary>
internal sealed record ModelTypeConfig(string? ModelType = null);

/// <summary>The parts of a CLIP <c>config.json</c> the engine checks (Hugging Face CLIPConfig).</summary>
internal sealed record ClipModelConfig(string ModelType, ClipTextConfig TextConfig, ClipVisionConfig VisionConfig, int? ProjectionDim = null);

internal sealed record ClipTextConfig(int VocabSize, int MaxPositionEmbeddings = 77);

internal sealed record ClipVisionConfig(int ImageSize = 224);

/// <summary>
/// <c>preprocessor_config.json</c> as CLIPImageProcessor (or the older CLIPFeatureExtractor) reads
/// it: resize the shortest edge to <c>size.shortest_edge</c> keeping the aspect ratio, crop the
/// centre <c>crop_size</c>, rescale, normalise.
/// </summary>
internal sealed record ClipPreprocessorConfig(
    bool DoResize,
    int Resample,
    bool DoRescale,
    double RescaleFactor,
    bool DoNormalize,
    ShortestEdgeSize Size,
    bool DoCenterCrop,
    ImageSize CropSize,
    double[]? ImageMean = null,
    double[]? ImageStd = null);

internal sealed record ShortestEdgeSize(int ShortestEdge);
