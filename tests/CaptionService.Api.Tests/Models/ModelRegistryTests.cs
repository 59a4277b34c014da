using CaptionService.Api.Models;
using CaptionService.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Tests.Models;

/// <summary>Which models a configuration gives, by name, and their per-model settings.</summary>
public sealed class ModelRegistryTests : IDisposable
{
    private readonly string _repository = Directory.CreateTempSubdirectory("model-repository-").FullName;

    public void Dispose() => Directory.Delete(_repository, recursive: true);

    [Fact]
    public void ARepositoryGivesOneModelPerSubdirectorySkippingHiddenAndUnnamableOnes()
    {
        foreach (var name in new[] { "vit", "clip", "..data", ".cache", "has space" })
        {
            Directory.CreateDirectory(Path.Combine(_repository, name));
        }

        var registry = Discover(new ModelRepositoryOptions { Repository = _repository, Default = "vit" });

        Assert.Equal(["clip", "vit"], registry.Names);
        Assert.Equal("vit", registry.Default.Name);
        Assert.True(registry.IsRepository);
        Assert.Equal(Path.Combine(_repository, "clip"), registry.Models[0].Directory);
        Assert.True(registry.TryGet("clip", out _));
        Assert.False(registry.TryGet("CLIP", out _));
    }

    [Fact]
    public void PerModelOverridesApplyOverTheSharedModelSettings()
    {
        Directory.CreateDirectory(Path.Combine(_repository, "a"));
        Directory.CreateDirectory(Path.Combine(_repository, "b"));
        var factory = new RecordingFactory();
        var registry = Discover(
            new ModelRepositoryOptions { Repository = _repository, Default = "a" },
            new Dictionary<string, string?>
            {
                ["CaptionService:Model:ExecutionProvider"] = "Cpu",
                ["CaptionService:Model:InterOpThreads"] = "2",
                ["CaptionService:Models:Overrides:b:InterOpThreads"] = "3",
            },
            factory);

        foreach (var model in registry.Models)
        {
            model.TryLoad(out _);
        }

        Assert.Equal([2, 3], factory.Options.Select(o => o.InterOpThreads));
        Assert.All(factory.Options, o => Assert.Equal(ExecutionProviderKind.Cpu, o.ExecutionProvider));
        Assert.Equal([Path.Combine(_repository, "a"), Path.Combine(_repository, "b")], factory.Options.Select(o => o.Path));
    }

    [Fact]
    public void AnInvalidOverrideNamesItsSetting()
    {
        Directory.CreateDirectory(Path.Combine(_repository, "a"));

        var e = Assert.Throws<OptionsValidationException>(() => Discover(
            new ModelRepositoryOptions { Repository = _repository },
            new Dictionary<string, string?> { ["CaptionService:Models:Overrides:a:InterOpThreads"] = "0" }));

        Assert.Contains("CaptionService:Models:Overrides:a", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralPackagesNeedADefaultThatIsOneOfThem()
    {
        Directory.CreateDirectory(Path.Combine(_repository, "a"));
        Directory.CreateDirectory(Path.Combine(_repository, "b"));

        var none = Assert.Throws<ModelPackageException>(() => Discover(new ModelRepositoryOptions { Repository = _repository }));
        var unknown = Assert.Throws<ModelPackageException>(() => Discover(new ModelRepositoryOptions { Repository = _repository, Default = "c" }));

        Assert.Contains("CaptionService:Models:Default", none.Message, StringComparison.Ordinal);
        Assert.Contains("'c', which is not a package", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingOrEmptyRepositoryIsRefusedNamingTheSetting()
    {
        var missing = Assert.Throws<ModelPackageException>(() => Discover(new ModelRepositoryOptions { Repository = Path.Combine(_repository, "nope") }));
        var empty = Assert.Throws<ModelPackageException>(() => Discover(new ModelRepositoryOptions { Repository = _repository }));

        Assert.Contains("CaptionService:Models:Repository", missing.Message, StringComparison.Ordinal);
        Assert.Contains("no package subdirectory", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutARepositoryTheOnePackageIsTheDefaultNamedAfterItsDirectory()
    {
        var package = Directory.CreateDirectory(Path.Combine(_repository, "shapeworld-fusion")).FullName;

        var registry = ModelRegistry.Discover(new ModelRepositoryOptions(), new ModelOptions { Path = package + Path.DirectorySeparatorChar },
            new ConfigurationBuilder().Build(), new RecordingFactory(), NullLoggerFactory.Instance);

        Assert.False(registry.IsRepository);
        Assert.Equal("shapeworld-fusion", Assert.Single(registry.Models).Name);
        Assert.Same(registry.Models[0], registry.Default);
    }

    private static ModelRegistry Discover(
        ModelRepositoryOptions repository, Dictionary<string, string?>? settings = null, IModelEngineFactory? factory = null) =>
        ModelRegistry.Discover(
            repository,
            new ModelOptions(),
            new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build(),
            factory ?? new RecordingFactory(),
            NullLoggerFactory.Instance);

    private sealed class RecordingFactory : IModelEngineFactory
    {
        public List<ModelOptions> Options { get; } = [];

        public ICaptionEngine Create(ModelOptions model)
        {
            Options.Add(model);
            return new FakeEngine("1");
        }
    }
}
