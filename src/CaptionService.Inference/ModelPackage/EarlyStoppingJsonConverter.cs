using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionService.Inference.ModelPackage;

/// <summary>Reads generation_config's <c>early_stopping</c>, which transformers writes as <c>true</c>, <c>false</c> or <c>"never"</c>.</summary>
internal sealed class EarlyStoppingJsonConverter : JsonConverter<EarlyStopping?>
{
    public override bool HandleNull => true;

    public override EarlyStopping? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.True => EarlyStopping.AsSoonAsBeamsFinish,
        JsonTokenType.False => EarlyStopping.Heuristic,
        JsonTokenType.String when reader.GetString() == "never" => EarlyStopping.Never,
        _ => throw new JsonException("early_stopping must be true, false or \"never\"."),
    };

    public override void Write(Utf8JsonWriter writer, EarlyStopping? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case EarlyStopping.Never:
                writer.WriteStringValue("never");
                break;
            default:
                writer.WriteBooleanValue(value == EarlyStopping.AsSoonAsBeamsFinish);
                break;
        }
    }
}
