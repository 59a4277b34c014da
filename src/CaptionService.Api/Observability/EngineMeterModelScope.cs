namespace CaptionService.Api.Observability;

/// <summary>
/// Names the model whose engine is being created on this async flow. The engine creates its
/// instruments in its constructor, and <see cref="EngineMeterExporter"/> labels every instrument
/// published inside the scope with <c>model</c>: the label comes from the host, which knows the
/// model's name, without the engine library having to know about it.
/// </summary>
internal static class EngineMeterModelScope
{
    private static readonly AsyncLocal<string?> s_current = new();

    /// <summary>The model being created here; null outside any scope (an engine made by a test directly).</summary>
    public static string? Current => s_current.Value;

    public static IDisposable Enter(string modelName)
    {
        var previous = s_current.Value;
        s_current.Value = modelName;
        return new Scope(previous);
    }

    private sealed class Scope(string? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
