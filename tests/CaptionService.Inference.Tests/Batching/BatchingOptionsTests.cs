using System.ComponentModel.DataAnnotations;

namespace CaptionService.Inference.Tests.Batching;

/// <summary>How long beam requests yield to greedy captions, resolved and validated.</summary>
public sealed class BatchingOptionsTests
{
    /// <summary>
    /// Unset, half the request timeout, at most 2 s: a long timeout (the real-size benchmark's 15
    /// minutes) must not let greedy traffic hold beam requests back for minutes.
    /// </summary>
    [Theory]
    [InlineData("00:00:10", 2000)]
    [InlineData("00:15:00", 2000)]
    [InlineData("00:00:01", 500)]
    public void UnsetTheBeamSearchDeferralIsHalfTheRequestTimeoutAtMostTwoSeconds(string requestTimeout, double expectedMs)
    {
        var options = new BatchingOptions { RequestTimeout = TimeSpan.Parse(requestTimeout, System.Globalization.CultureInfo.InvariantCulture) };

        Assert.Equal(expectedMs, options.EffectiveBeamSearchDeferral.TotalMilliseconds);
    }

    [Fact]
    public void ASetBeamSearchDeferralIsTakenAsItIs()
    {
        var options = new BatchingOptions { BeamSearchDeferral = TimeSpan.FromSeconds(7) };

        Assert.Equal(TimeSpan.FromSeconds(7), options.EffectiveBeamSearchDeferral);
        Assert.Empty(Validate(options));
    }

    /// <summary>A beam request deferred for its whole timeout would always be answered 503 under greedy load.</summary>
    [Fact]
    public void ABeamSearchDeferralAsLongAsTheRequestTimeoutIsRefused()
    {
        var options = new BatchingOptions { BeamSearchDeferral = TimeSpan.FromSeconds(10), RequestTimeout = TimeSpan.FromSeconds(10) };

        var error = Assert.Single(Validate(options));
        Assert.Contains("BeamSearchDeferral (00:00:10) must be shorter than RequestTimeout (00:00:10)", error.ErrorMessage);
    }

    private static List<ValidationResult> Validate(BatchingOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
