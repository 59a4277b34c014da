using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging;

namespace CaptionService.Inference;

/// <summary>Picks the engine a package needs: <see cref="ClipEngine"/> for a CLIP package, else <see cref="CaptionEngine"/>.</summary>
public static class InferenceEngines
{
    /// <summary>The engine for the package at <see cref="ModelOptions.Path"/>; dispose it asynchronously.</summary>
    /// <exception cref="ModelPackageException">A package file is missing, corrupt or inconsistent; the message names it.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was required but cannot be loaded.</exception>
    public static ICaptionEngine Create(ModelOptions model, BatchingOptions batching, PreprocessingOptions preprocessing, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(model);
        var directory = model.ResolvePath();
        return System.IO.Directory.Exists(directory) && ClipPackageLoader.IsClipPackage(directory)
            ? ClipEngine.Create(model, batching, preprocessing, loggerFactory)
            : CaptionEngine.Create(model, batching, preprocessing, loggerFactory);
    }
}
