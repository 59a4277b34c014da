using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionService.Inference.Tests.Parity;

/// <summary><c>tests/fixtures/parity/&lt;package&gt;/cases.json</c>, written by the Python exporter from PyTorch.</summary>
internal sealed record ParityFixture(string Package, double Tolerance, IReadOnlyList<ParityCase> Cases)
{
    private static readonly JsonSerializerOptions s_options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static ParityFixture Load(string directory) =>
        JsonSerializer.Deserialize<ParityFixture>(File.ReadAllText(Path.Combine(directory, "cases.json")), s_options)!;
}

internal sealed record ParityCase(
    string Name,
    string Graph,
    IReadOnlyDictionary<string, TensorReference>? Inputs,
    IReadOnlyDictionary<string, TensorReference>? Outputs,
    TensorReference? PixelValues,
    [property: JsonPropertyName("expected_ids")] long[][]? ExpectedIds,
    [property: JsonPropertyName("expected_captions")] string[]? ExpectedCaptions);

internal sealed record TensorReference(string File, string Dtype, long[] Shape);
