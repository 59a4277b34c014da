using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary><c>CaptionService:Warnings:LowVerificationScore</c> decides when a verified caption is doubted.</summary>
public sealed class LowVerificationWarningTests
{
    [Theory]
    [InlineData("1", true)]
    [InlineData("0", false)]
    public async Task AVerifiedCaptionUnderTheSettingIsWarnedAbout(string lowVerificationScore, bool warned)
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(2));
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?> { ["CaptionService:Warnings:LowVerificationScore"] = lowVerificationScore });
        using var client = await factory.CreateReadyClientAsync(cancellationToken);

        using var form = TestRequests.ImageForm(TestImages.ShapeWorldPng);
        using var response = await client.PostAsync("/caption?verify=true", form, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var warnings = TrustSignalTests.Warnings(body);
        Assert.Equal(warned ? ["low-verification"] : [], warnings.Select(w => w.Code));
        if (warned)
        {
            Assert.Contains(body.GetProperty("verification").GetDouble().ToString("0.###", CultureInfo.InvariantCulture), warnings[0].Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ASettingOutsideZeroToOneStopsStartUp()
    {
        await using var factory = new CaptionServiceFactory(new Dictionary<string, string?> { ["CaptionService:Warnings:LowVerificationScore"] = "1.5" });
        var error = await Assert.ThrowsAnyAsync<Exception>(() => factory.CreateReadyClientAsync(TestTimeout.After(TimeSpan.FromMinutes(2))));
        Assert.Contains("LowVerificationScore", error.ToString(), StringComparison.Ordinal);
    }
}
