using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionService.Inference.ModelPackage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionService.Inference.Tests.ModelPackage;

/// <summary>
/// <c>CaptionService:Model:Dtype</c> picks a graph variant as transformers.js's <c>dtype</c> does:
/// the vit-gpt2-tiny fixture carries a q8 variant (<c>onnx/*_quantized.onnx</c>, written by
/// <c>training.quantize</c>), which must be the files loaded, give transformers.js's q8 captions, and
/// stay close to the fp32 graphs.
/// </summary>
public sealed class GraphVariantTests : IDisposable
{
    /// <summary>
    /// How far a q8 caption's total log-probability (summed over its 5 to 10 tokens) may lie from the
    /// fp32 graphs' for the same caption (dynamic int8 quantization of every weight MatMul; measured
    /// on the 85 images, 81 with the same caption: mean 0.04, largest 0.30).
    /// </summary>
    private const double LogProbTolerance = 0.5;

    /// <summary>The least share of images whose q8 caption is the fp32 caption (transformers.js: 81 of 85).</summary>
    private const double SameCaptionShare = 0.9;

    private static readonly string s_fixture = Path.Combine(TestPaths.Fixtures, "vit-gpt2-tiny");
    private static readonly string s_reference = Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny", "transformersjs-variants.json");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(120));
    private readonly TemporaryPackageCopy _package = new(s_fixture);

    public void Dispose()
    {
        _package.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task TheQ8VariantGivesTransformersJsQ8CaptionsAndStaysCloseToFp32()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(s_reference));
        var images = reference.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToArray();
        string[] Expected(string dtype) => [.. reference.RootElement.GetProperty("captions").GetProperty(dtype).EnumerateArray().Select(e => e.GetString()!)];
        await using var q8 = Create(s_fixture, "q8");
        await using var fp32 = Create(s_fixture, ModelDtypes.Default);

        var same = 0;
        var worstLogProb = 0.0;
        var sumLogProb = 0.0;
        var q8Captions = new List<string>();
        var fp32Captions = new List<string>();
        foreach (var key in images)
        {
            var image = File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "tests", "data", "shapeworld", key));
            var quantized = await q8.CaptionAsync(image, GenerationOptions.PackageDefaults, _timeout.Token);
            var plain = await fp32.CaptionAsync(image, GenerationOptions.PackageDefaults, _timeout.Token);
            q8Captions.Add(quantized.Caption);
            fp32Captions.Add(plain.Caption);
            if (quantized.Caption == plain.Caption)
            {
                same++;
                var difference = Math.Abs(quantized.Alternatives[0].LogProb - plain.Alternatives[0].LogProb);
                worstLogProb = Math.Max(worstLogProb, difference);
                sumLogProb += difference;
            }
        }

        Assert.Equal(Expected("q8"), q8Captions);
        Assert.Equal(Expected(ModelDtypes.Default), fp32Captions);
        Assert.True(same >= SameCaptionShare * images.Length, $"q8 gives the fp32 caption for {same} of {images.Length} images");
        Assert.True(worstLogProb <= LogProbTolerance, $"q8 log-probabilities differ from fp32's by up to {worstLogProb} (mean {sumLogProb / same}) over {same} same captions");
        Assert.True(worstLogProb > 0, "q8 and fp32 log-probabilities are identical: the variant was not loaded");
        Assert.Equal("q8", q8.Model.Dtype);
    }

    [Fact]
    public async Task TheManifestsVariantIsTheFileLoadedAndTheFp32GraphsAreNotNeeded()
    {
        File.Delete(Path.Combine(_package.Path, "onnx", "encoder_model.onnx"));
        File.Delete(Path.Combine(_package.Path, "onnx", "decoder_model_merged.onnx"));

        await using var engine = Create(_package.Path, "q8");
        var caption = await engine.CaptionAsync(File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "parity", "vit-gpt2-tiny", "image-0.png")), GenerationOptions.PackageDefaults, _timeout.Token);

        Assert.NotEmpty(caption.Caption);
        Assert.Equal("q8", engine.Model.Dtype);
        var ex = Assert.Throws<ModelPackageException>(() => Create(_package.Path, ModelDtypes.Default));
        Assert.Contains("encoder_model.onnx' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AZeroConfigExportFindsItsVariantsOnDiskAndShowsThemWithSha256s()
    {
        File.Delete(_package.ManifestPath);

        await using var engine = Create(_package.Path, "q8");

        Assert.Equal("inferred", engine.Model.ManifestSource);
        Assert.Equal("q8", engine.Model.Dtype);
        var encoder = JsonNode.Parse(engine.Model.ManifestJson)!["graphs"]!["encoder"]!;
        Assert.Equal("onnx/encoder_model_quantized.onnx", encoder["variants"]!["q8"]!["file"]!.GetValue<string>());
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(_package.Path, "onnx", "encoder_model_quantized.onnx")))),
            encoder["variants"]!["q8"]!["sha256"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AVariantThePackageLacksStopsStartUpNamingTheGraphFilesItHas(bool manifestInferred)
    {
        if (manifestInferred)
        {
            File.Delete(_package.ManifestPath);
        }

        var ex = Assert.Throws<ModelPackageException>(() => Create(_package.Path, "fp16"));

        Assert.Contains("CaptionService:Model:Dtype is 'fp16'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(manifestInferred ? "no 'onnx/encoder_model_fp16.onnx'" : "declares no 'fp16' variant of graphs.encoder", ex.Message, StringComparison.Ordinal);
        Assert.Contains("onnx/decoder_model_merged.onnx, onnx/decoder_model_merged_quantized.onnx, onnx/encoder_model.onnx, onnx/encoder_model_quantized.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVariantWhoseFileChangedFailsItsSha256()
    {
        var path = Path.Combine(_package.Path, "onnx", "encoder_model_quantized.onnx");
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<ModelPackageException>(() => Create(_package.Path, "q8"));

        Assert.Contains("encoder_model_quantized.onnx' is corrupt", ex.Message, StringComparison.Ordinal);
        await using var fp32 = Create(_package.Path, ModelDtypes.Default);
    }

    [Theory]
    [InlineData("q8", true)]
    [InlineData("bnb4", true)]
    [InlineData("Q8", false)]
    [InlineData("int4", false)]
    public void DtypeTakesTransformersJsNames(string dtype, bool valid)
    {
        var options = new ModelOptions { Dtype = dtype };
        var results = new List<ValidationResult>();

        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        if (!valid)
        {
            Assert.Contains(ModelDtypes.Names, results.Single().ErrorMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("onnx/encoder_model.onnx", "fp32", "onnx/encoder_model.onnx")]
    [InlineData("onnx/encoder_model.onnx", "q8", "onnx/encoder_model_quantized.onnx")]
    [InlineData("onnx/decoder_model_merged.onnx", "fp16", "onnx/decoder_model_merged_fp16.onnx")]
    [InlineData("onnx/model.onnx", "q4f16", "onnx/model_q4f16.onnx")]
    [InlineData("onnx/vision_model.onnx", "bnb4", "onnx/vision_model_bnb4.onnx")]
    public void VariantFilesAreNamedAsTransformersJsNamesThem(string file, string dtype, string expected) =>
        Assert.Equal(expected, ModelDtypes.VariantFile(file, dtype));

    private static CaptionEngine Create(string path, string dtype) =>
        CaptionEngine.Create(new ModelOptions { Path = path, ExecutionProvider = ExecutionProviderKind.Cpu, Dtype = dtype }, new BatchingOptions(), new PreprocessingOptions(), NullLoggerFactory.Instance);
}
