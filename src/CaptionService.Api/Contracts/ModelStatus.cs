using CaptionService.Api.Models;

namespace CaptionService.Api.Contracts;

/// <summary>One model of the server: what serves under its name, and its reloads.</summary>
public sealed class ModelStatus
{
    /// <summary>The model's name in routes (<c>/v1/models/{name}/caption</c>): its package's directory name.</summary>
    public required string Name { get; init; }

    /// <summary>Whether <c>/caption</c>, <c>/score</c> and <c>/model</c> serve this model.</summary>
    public required bool Default { get; init; }

    /// <summary><c>loading</c> (warming up: 503 until ready), <c>ready</c>, or <c>failed</c> (no version could be loaded; <c>error</c> says why).</summary>
    /// <example>ready</example>
    public required string State { get; init; }

    /// <summary><c>captioning</c>, <c>scoring</c> or <c>both</c>, as <c>GET /model</c> says; null while no version serves.</summary>
    public string? Kind { get; init; }

    /// <summary>The package name its manifest states; null while no version serves.</summary>
    public string? PackageName { get; init; }

    /// <summary>The serving package version; null while none serves.</summary>
    public string? Version { get; init; }

    /// <summary>The ONNX Runtime execution provider in use; null while no version serves.</summary>
    public string? ExecutionProvider { get; init; }

    /// <summary>Why the model failed (state <c>failed</c>); null otherwise.</summary>
    public string? Error { get; init; }

    /// <summary>Why the latest reload was refused (the previous version kept serving); null when it succeeded or none was tried.</summary>
    public string? LastReloadError { get; init; }

    /// <summary>The latest reload attempt; null before the first.</summary>
    public ReloadDescription? LastReload { get; init; }

    /// <summary>How many new versions were swapped in since start-up.</summary>
    public required int Reloads { get; init; }

    internal static ModelStatus From(HostedModel model, bool isDefault)
    {
        var info = model.Info;
        var lastReload = model.LastReload;
        return new ModelStatus
        {
            Name = model.Name,
            Default = isDefault,
            State = model.State.ToString().ToLowerInvariant(),
            Kind = info?.Kind.ToString().ToLowerInvariant(),
            PackageName = info?.Identity.Name,
            Version = info?.Identity.Version,
            ExecutionProvider = info?.ExecutionProvider,
            Error = model.Failure,
            LastReloadError = lastReload is { Succeeded: false } ? lastReload.Error : null,
            LastReload = lastReload is null ? null : ReloadDescription.From(lastReload),
            Reloads = model.Reloads,
        };
    }
}
