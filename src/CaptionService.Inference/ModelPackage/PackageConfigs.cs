using System.Text.Json.Serialization;

namespace CaptionService.Inference.ModelPackage;

/// <summary>The parts of <c>config.json</c> the engine checks: a vision-encoder-decoder with a decoder block.</summary>
internal sealed record ModelConfig(string ModelType, bool IsEncoderDecoder, DecoderConfig Decoder);

/// <summary>The decoder block of <c>config.json</c>. Only the fields the engine uses are read.</summary>
internal sealed record DecoderConfig(
    [property: JsonPropertyName("model_type")] string ModelType,
    [property: JsonPropertyName("vocab_size")] int VocabSize,
    [property: JsonPropertyName("n_positions")] int? NPositions = null);

/// <summary>
/// <c>generation_config.json</c>: the token ids generation starts and stops with, its length limit,
/// and the package's <c>generate</c> defaults (absent ones take transformers' defaults; see
/// <see cref="Generation.GenerationDefaults"/>). Without <c>max_length</c> it is Hugging Face's
/// default, 20 (the published vit-gpt2 has none).
/// </summary>
internal sealed record GenerationConfig(
    long DecoderStartTokenId,
    long EosTokenId,
    int MaxLength = 20,
    long? BosTokenId = null,
    long? PadTokenId = null,
    int? MaxNewTokens = null,
    int? MinLength = null,
    int? MinNewTokens = null,
    int? NumBeams = null,
    int? NumReturnSequences = null,
    double? LengthPenalty = null,
    [property: JsonConverter(typeof(EarlyStoppingJsonConverter))] EarlyStopping? EarlyStopping = null,
    int? NoRepeatNgramSize = null,
    double? RepetitionPenalty = null,
    bool? DoSample = null,
    double? Temperature = null,
    int? TopK = null,
    double? TopP = null);

/// <summary>
/// <c>preprocessor_config.json</c> as a ViTImageProcessor reads it. Its type name is not read: ViT's
/// older <c>ViTFeatureExtractor</c> has the same fields.
/// </summary>
internal sealed record PreprocessorConfig(
    bool DoResize,
    int Resample,
    bool DoRescale,
    double RescaleFactor,
    bool DoNormalize,
    ImageSize? Size = null,
    double[]? ImageMean = null,
    double[]? ImageStd = null);

internal sealed record ImageSize(int Height, int Width);

/// <summary>The fields of <c>tokenizer_config.json</c> that change how ids decode.</summary>
internal sealed record TokenizerConfig(
    [property: JsonPropertyName("clean_up_tokenization_spaces")] bool? CleanUpTokenizationSpaces = null,
    [property: JsonPropertyName("do_lower_case")] bool? DoLowerCase = null);
