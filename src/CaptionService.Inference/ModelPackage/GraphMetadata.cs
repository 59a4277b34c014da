using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionService.Inference.ModelPackage;

/// <summary>
/// Looks up the tensors the manifest names in a session's metadata, so that a package whose
/// manifest and graph disagree fails at start-up with the graph file named, not at the first request.
/// </summary>
internal static class GraphMetadata
{
    /// <summary>A dimension ONNX Runtime reports as symbolic (for example <c>batch_size</c>).</summary>
    public const int Symbolic = -1;

    public static int[] RequireInput(InferenceSession session, string graphPath, string name, TensorElementType type, int rank) =>
        Require(session.InputMetadata, "input", graphPath, name, type, rank);

    public static int[] RequireOutput(InferenceSession session, string graphPath, string name, TensorElementType type, int rank) =>
        Require(session.OutputMetadata, "output", graphPath, name, type, rank);

    /// <summary>A dimension that must be fixed in the graph (head count, head size, channels).</summary>
    public static int RequireStatic(int[] dimensions, int index, string graphPath, string name, string meaning)
    {
        var value = dimensions[index];
        if (value <= 0)
        {
            throw new ModelPackageException(
                $"Model package file '{graphPath}': dimension {index} ({meaning}) of '{name}' must be static, but the graph leaves it symbolic.");
        }

        return value;
    }

    private static int[] Require(
        IReadOnlyDictionary<string, NodeMetadata> metadata, string kind, string graphPath, string name, TensorElementType type, int rank)
    {
        if (!metadata.TryGetValue(name, out var node))
        {
            throw new ModelPackageException(
                $"Model package file '{graphPath}' has no {kind} named '{name}' (it has: {string.Join(", ", metadata.Keys)}).");
        }

        if (!node.IsTensor || node.ElementDataType != type)
        {
            throw new ModelPackageException(
                $"Model package file '{graphPath}': {kind} '{name}' is {node.ElementDataType}, expected a {type} tensor.");
        }

        if (node.Dimensions.Length != rank)
        {
            throw new ModelPackageException(
                $"Model package file '{graphPath}': {kind} '{name}' has rank {node.Dimensions.Length}, expected {rank}.");
        }

        return node.Dimensions;
    }
}
