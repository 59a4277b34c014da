using System.Net;
using CaptionService.Api.Admission;
using CaptionService.Api.Tests.Infrastructure;
using CaptionService.Inference;
using CaptionService.Inference.Preprocessing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// Admission before the body: the byte budget of request bodies in flight, and the fast 503 with
/// Retry-After for a request that does not fit, while the server stays ready. Then the same for
/// the pixels being decoded at once (MaxDecodingPixelsInFlight), checked from the image's header.
/// </summary>
public sealed class UploadAdmissionTests
{
    private static UploadBudget Budget(long capacity, long maxImageBytes = 1000) => new(
        Options.Create(new AdmissionOptions { MaxBodyBytesInFlight = capacity }),
        Options.Create(new PreprocessingOptions { MaxImageBytes = maxImageBytes }));

    [Fact]
    public void BodiesAreAdmittedWhileTheirBytesFitAndAnyOneFitsAlone()
    {
        var budget = Budget(capacity: 500);

        Assert.True(budget.TryReserve(800, out var alone)); // larger than the budget, but nothing else is in flight
        Assert.False(budget.TryReserve(1, out _));
        budget.Release(alone);

        Assert.True(budget.TryReserve(300, out var first));
        Assert.True(budget.TryReserve(200, out var second));
        Assert.False(budget.TryReserve(1, out _));
        budget.Release(first);
        Assert.True(budget.TryReserve(300, out var third));
        budget.Release(second);
        budget.Release(third);
        Assert.Equal(0, budget.InFlight);
    }

    [Fact]
    public void ABodyWithoutContentLengthCountsAsTheLargestImage()
    {
        var budget = Budget(capacity: 1500, maxImageBytes: 1000);

        Assert.True(budget.TryReserve(null, out var unknown));
        Assert.Equal(1000, unknown);
        Assert.False(budget.TryReserve(600, out _));
    }

    [Fact]
    public async Task ARequestPastTheBudgetIs503ServerBusyWithRetryAfterAndTheServerStaysReady()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(1));
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            ["CaptionService:Admission:MaxBodyBytesInFlight"] = "1000",
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);
        var budget = factory.Services.GetRequiredService<UploadBudget>();

        // Another upload in progress holds the budget.
        Assert.True(budget.TryReserve(1000, out var held));
        using (var refused = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken))
        {
            var problem = await ProblemAssertions.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "bodies");
            Assert.Equal("Server busy", problem.GetProperty("title").GetString());
            ProblemAssertions.AssertRetryAfter(refused);
        }

        using (var ready = await client.GetAsync("/health/ready", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        budget.Release(held);
        using var admitted = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(0, budget.InFlight);
    }

    [Fact]
    public async Task AnImagePastTheDecodingPixelBudgetIs503ServerBusyWithRetryAfterAndTheServerStaysReady()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(1));
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?>
        {
            ["CaptionService:Preprocessing:MaxDecodingPixelsInFlight"] = "1000",
        });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);
        var budget = DecodeBudget.For(factory.Services.GetRequiredService<IOptions<PreprocessingOptions>>().Value);

        // Another request's image is being decoded: a few kilobytes of PNG can be megapixels.
        using (budget.Take(1000, 100, 10))
        {
            foreach (var path in new[] { "/caption", "/score" })
            {
                using HttpContent body = path == "/caption"
                    ? TestRequests.RawImage(TestImages.ShapeWorldPng)
                    : TestRequests.ScoreForm(TestImages.ShapeWorldPng, "there is a square .");
                using var refused = await client.PostAsync(path, body, cancellationToken);
                var problem = await ProblemAssertions.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "MaxDecodingPixelsInFlight");
                Assert.Equal("Server busy", problem.GetProperty("title").GetString());
                ProblemAssertions.AssertRetryAfter(refused);
            }

            using var ready = await client.GetAsync("/health/ready", cancellationToken);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        using var admitted = await client.PostAsync("/caption", TestRequests.RawImage(TestImages.ShapeWorldPng), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(0, budget.InFlight);
    }
}
