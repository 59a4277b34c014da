using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Seeded mutation fuzzing of the five decoders through the real app (<see cref="ImageMutations"/>):
/// every answer is 200, 413, 415 or 422, an error is problem+json with a detail, nothing is a 5xx or
/// goes unanswered, and the server is still ready and captioning afterwards. Cases rotate over
/// <c>/caption</c> raw, <c>/caption</c> multipart and <c>/score</c>.
/// <para>
/// The suite runs 2,000 cases of seed 15002 (about 10 s on two busy cores). <c>CAPTIONSERVICE_FUZZ_CASES</c> sets the count (a soak
/// runs 20,000 or more) and <c>CAPTIONSERVICE_FUZZ_SEED</c> the seed, for example
/// <c>CAPTIONSERVICE_FUZZ_CASES=20000 CAPTIONSERVICE_FUZZ_SEED=7 dotnet test tests/CaptionService.Api.Tests --filter FullyQualifiedName~MalformedImageFuzzTests</c>.
/// A failure names the seed and case; <c>ImageMutations.Create(seed, case)</c> gives the bytes back.
/// </para>
/// </summary>
[Collection(RealModelServerGroup.Name)]
public sealed class MalformedImageFuzzTests(RealModelServer server, ITestOutputHelper output)
{
    public const int DefaultSeed = 15002;
    private const int DefaultCases = 2000;
    private const int MaxFailuresShown = 20;

    /// <summary>A decoder that loops would otherwise hang the run; this long is a failure.</summary>
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    private static readonly HashSet<HttpStatusCode> Accepted =
    [
        HttpStatusCode.OK,
        HttpStatusCode.RequestEntityTooLarge,
        HttpStatusCode.UnsupportedMediaType,
        HttpStatusCode.UnprocessableEntity,
    ];

    private readonly HttpClient _client = server.Client;

    [Fact]
    public async Task MutatedImagesAreAnsweredWithA200OrA4xxAndTheServerStaysReady()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(30));
        var seed = Setting("CAPTIONSERVICE_FUZZ_SEED", DefaultSeed);
        var cases = Setting("CAPTIONSERVICE_FUZZ_CASES", DefaultCases);
        var failures = new ConcurrentBag<(int Index, string Message)>();
        var statuses = new ConcurrentDictionary<string, int>();
        var started = Stopwatch.StartNew();

        await Parallel.ForEachAsync(
            Enumerable.Range(0, cases),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var image = ImageMutations.Create(seed, index);
                var endpoint = Endpoints[index % Endpoints.Length];
                var (status, failure) = await SendAsync(image, endpoint, token);
                statuses.AddOrUpdate($"{image.Format} {status}", 1, (_, n) => n + 1);
                if (failure is not null)
                {
                    failures.Add((index, $"{image} on {endpoint.Name}: {failure}"));
                }
            });

        output.WriteLine($"{cases} cases of seed {seed} in {started.Elapsed.TotalSeconds:F1} s: " +
            string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} ×{s.Value}")));

        var shown = failures.OrderBy(f => f.Index).Take(MaxFailuresShown).Select(f => f.Message);
        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases} mutated images (seed {seed}) were not answered with 200, 413, 415 or 422 problem+json:\n{string.Join('\n', shown)}");
        await AssertStillServingAsync(cancellationToken);
    }

    private sealed record Endpoint(string Name, Func<MutatedImage, HttpContent> Body, string Path);

    private static readonly Endpoint[] Endpoints =
    [
        // maxTokens=1 keeps the valid cases cheap: the decoders are under test, not generation.
        new("/caption raw", image => Raw(image), "/caption?maxTokens=1"),
        new("/caption multipart", image => Form(image), "/caption?maxTokens=1"),
        new("/score", image => Form(image, "a red square ."), "/score"),
    ];

    private async Task<(string Status, string? Failure)> SendAsync(MutatedImage image, Endpoint endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CaseTimeout);
        try
        {
            using var body = endpoint.Body(image);
            using var response = await _client.PostAsync(endpoint.Path, body, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            if (!Accepted.Contains(response.StatusCode))
            {
                return (status, $"{status}: {text}");
            }

            return (status, response.IsSuccessStatusCode ? null : ProblemFailure(response, text));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ("no answer", $"no answer within {CaseTimeout.TotalSeconds:F0} s (a decoder that does not return?)");
        }
    }

    /// <summary>Why a 4xx is not a proper problem response, or null when it is.</summary>
    private static string? ProblemFailure(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"{(int)response.StatusCode} is not problem+json: {text}";
        }

        using var problem = JsonDocument.Parse(text);
        var root = problem.RootElement;
        var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
        var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
        return title is not null && ProblemAssertions.KnownTitles.Contains(title) && !string.IsNullOrWhiteSpace(detail)
            ? null
            : $"{(int)response.StatusCode} without a known title and a detail: {text}";
    }

    private async Task AssertStillServingAsync(CancellationToken cancellationToken)
    {
        using var ready = await _client.GetAsync("/health/ready", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        // Every unmutated encoding the cases start from (interlaced PNG and 8-bit BMP among them) is still captioned.
        foreach (var format in ImageMutations.Formats)
        {
            for (var scene = 0; scene < ImageMutations.SceneCount; scene++)
            {
                using var caption = await _client.PostAsync("/caption?maxTokens=1", Raw(ImageMutations.Original(format, scene), format), cancellationToken);
                Assert.True(caption.StatusCode == HttpStatusCode.OK, $"Unmutated {format} scene {scene} after the fuzzing: {(int)caption.StatusCode} {await caption.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }
    }

    private static ByteArrayContent Raw(MutatedImage image) => Raw(image.Bytes, image.Format);

    private static ByteArrayContent Raw(byte[] bytes, string format)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue($"image/{format}");
        return content;
    }

    private static MultipartFormDataContent Form(MutatedImage image, params string[] texts)
    {
        var form = new MultipartFormDataContent { { Raw(image), "image", $"case-{image.Index}.{image.Format}" } };
        foreach (var text in texts)
        {
            form.Add(new StringContent(text), "text");
        }

        return form;
    }

    private static int Setting(string variable, int defaultValue) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : defaultValue;
}
