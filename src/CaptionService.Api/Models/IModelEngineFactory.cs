using CaptionService.Inference;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Models;

/// <summary>Creates the engine of one model package; the registry calls it at start-up and for every reload.</summary>
internal interface IModelEngineFactory
{
    /// <exception cref="ModelPackageException">A package file is missing, corrupt or inconsistent.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was required but cannot be loaded.</exception>
    ICaptionEngine Create(ModelOptions model);
}

/// <summary>The engine the package needs (<see cref="InferenceEngines"/>), with the server's batching and preprocessing settings.</summary>
internal sealed class InferenceEngineFactory(
    IOptions<BatchingOptions> batching,
    IOptions<PreprocessingOptions> preprocessing,
    ILoggerFactory loggerFactory) : IModelEngineFactory
{
    public ICaptionEngine Create(ModelOptions model) =>
        InferenceEngines.Create(model, batching.Value, preprocessing.Value, loggerFactory);
}
