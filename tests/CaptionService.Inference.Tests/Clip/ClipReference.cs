using System.Text.Json;

namespace CaptionService.Inference.Tests.Clip;

/// <summary>
/// The clip-tiny fixture (<c>python -m training.clip_synth</c>) and what transformers.js 4.3.1 answers
/// on it (<c>tests/fixtures/parity/clip-tiny/transformersjs.json</c>, written by
/// <c>node tests/peer/clip-reference.mjs</c>; the peer stage checks it is still true).
/// </summary>
internal static class ClipReference
{
    public static string Package => Path.Combine(TestPaths.Fixtures, "clip-tiny");

    public static string ParityDirectory => Path.Combine(TestPaths.Fixtures, "parity", "clip-tiny");

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static TransformersJsAnswers TransformersJs { get; } = JsonSerializer.Deserialize<TransformersJsAnswers>(
        File.ReadAllText(Path.Combine(ParityDirectory, "transformersjs.json")), s_json)!;

    public static ModelOptions Options(string? path = null) => new() { Path = path ?? Package, ExecutionProvider = ExecutionProviderKind.Cpu };
}

internal sealed record TransformersJsAnswers(IReadOnlyList<string> Labels, IReadOnlyList<ZeroShotAnswer> Images, IReadOnlyList<TokenizerAnswer> Tokenizer, TruncationAnswers Truncation);

/// <summary>Texts over 77 tokens as the zero-shot pipeline truncates them: their ids, and one image's probabilities with such a label.</summary>
internal sealed record TruncationAnswers(string Image, IReadOnlyList<string> Labels, IReadOnlyList<double> Scores, IReadOnlyList<TokenizerAnswer> Tokenizer);

/// <summary>zero-shot-image-classification's probability for each label, in label order.</summary>
internal sealed record ZeroShotAnswer(string Image, IReadOnlyList<double> Scores);

internal sealed record TokenizerAnswer(string Text, IReadOnlyList<long> Ids);
