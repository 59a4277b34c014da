using System.Globalization;

namespace CaptionService.Inference.ModelPackage;

/// <summary>Per-layer tensor names in the manifest carry <c>{i}</c> where the layer index goes.</summary>
internal static class LayerPattern
{
    public const string Placeholder = "{i}";

    public static string Name(string pattern, int layer) =>
        pattern.Replace(Placeholder, layer.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
