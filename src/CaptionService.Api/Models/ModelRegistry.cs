using System.ComponentModel.DataAnnotations;
using CaptionService.Inference;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Models;

/// <summary>
/// The models this server serves, by name, and which one is the default. With
/// <c>CaptionService:Models:Repository</c>, one per package subdirectory; without, the one package
/// of <c>CaptionService:Model:Path</c>, named after its directory.
/// </summary>
internal sealed partial class ModelRegistry : IAsyncDisposable
{
    /// <summary>Per-model settings over <c>CaptionService:Model</c>: <c>CaptionService:Models:Overrides:NAME:*</c>.</summary>
    public const string OverridesSection = ModelRepositoryOptions.SectionName + ":Overrides";

    private readonly Dictionary<string, HostedModel> _models;

    private ModelRegistry(IReadOnlyList<HostedModel> models, string defaultName, bool isRepository)
    {
        Models = models;
        _models = models.ToDictionary(m => m.Name, StringComparer.Ordinal);
        Default = _models[defaultName];
        IsRepository = isRepository;
    }

    /// <summary>Every model, by name.</summary>
    public IReadOnlyList<HostedModel> Models { get; }

    /// <summary>What <c>/caption</c>, <c>/score</c> and <c>/model</c> serve.</summary>
    public HostedModel Default { get; }

    /// <summary>True when the models come from <c>CaptionService:Models:Repository</c>.</summary>
    public bool IsRepository { get; }

    public IEnumerable<string> Names => Models.Select(m => m.Name);

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HostedModel? model) =>
        _models.TryGetValue(name, out model);

    /// <summary>Finds the packages and prepares a model for each; nothing is loaded yet.</summary>
    /// <exception cref="ModelPackageException">The repository or the default is missing or empty; the message names the setting.</exception>
    /// <exception cref="OptionsValidationException">A per-model setting is invalid.</exception>
    public static ModelRegistry Discover(
        ModelRepositoryOptions repository, ModelOptions single, IConfiguration configuration, IModelEngineFactory factory, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger<ModelRegistry>();
        var modelLogger = loggerFactory.CreateLogger<HostedModel>();
        if (string.IsNullOrWhiteSpace(repository.Repository))
        {
            var name = SingleModelName(single.Path);
            return new ModelRegistry([new HostedModel(name, single, factory, modelLogger)], name, isRepository: false);
        }

        var root = Path.GetFullPath(repository.Repository);
        if (!System.IO.Directory.Exists(root))
        {
            throw new ModelPackageException($"Model repository '{root}' does not exist ({ModelRepositoryOptions.SectionName}:{nameof(ModelRepositoryOptions.Repository)}).");
        }

        var models = new List<HostedModel>();
        foreach (var directory in System.IO.Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(directory);
            if (name.StartsWith('.'))
            {
                continue; // Kubernetes' ..data links, editors' and tools' hidden folders
            }

            if (!ModelNames.IsValid(name))
            {
                LogSkippedDirectory(logger, directory);
                continue;
            }

            models.Add(new HostedModel(name, OptionsFor(configuration, name, directory), factory, modelLogger));
        }

        if (models.Count == 0)
        {
            throw new ModelPackageException($"Model repository '{root}' has no package subdirectory ({ModelRepositoryOptions.SectionName}:{nameof(ModelRepositoryOptions.Repository)}).");
        }

        var defaultName = repository.Default ?? (models.Count == 1
            ? models[0].Name
            : throw new ModelPackageException(
                $"Model repository '{root}' has {models.Count} packages; name the default one in {ModelRepositoryOptions.SectionName}:{nameof(ModelRepositoryOptions.Default)} ({string.Join(", ", models.Select(m => m.Name))})."));
        if (!models.Exists(m => m.Name == defaultName))
        {
            throw new ModelPackageException(
                $"{ModelRepositoryOptions.SectionName}:{nameof(ModelRepositoryOptions.Default)} is '{defaultName}', which is not a package of '{root}' ({string.Join(", ", models.Select(m => m.Name))}).");
        }

        return new ModelRegistry(models, defaultName, isRepository: true);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var model in Models)
        {
            await model.ShutdownAsync();
            model.Dispose();
        }
    }

    /// <summary>The directory's name, which is what a repository would call the package too.</summary>
    private static string SingleModelName(string path)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        return ModelNames.IsValid(name) ? name : "default";
    }

    /// <summary>
    /// <c>CaptionService:Model</c>, then the model's overrides, then its package directory: each model
    /// gets every engine setting (provider, threads, and any later one) and may change it alone.
    /// </summary>
    private static ModelOptions OptionsFor(IConfiguration configuration, string name, string path)
    {
        var options = new ModelOptions();
        configuration.GetSection(ModelOptions.SectionName).Bind(options);
        configuration.GetSection($"{OverridesSection}:{name}").Bind(options);
        options.Path = path;

        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            var section = $"{OverridesSection}:{name}";
            throw new OptionsValidationException(section, typeof(ModelOptions), errors.Select(e => $"{section}: {e.ErrorMessage}"));
        }

        return options;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping '{Directory}' in the model repository: a model name is letters, digits, '.', '_' and '-' (at most 64)")]
    private static partial void LogSkippedDirectory(ILogger logger, string directory);
}
