namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>A per-test deadline passed to every call, so a hung server fails the test instead of the run.</summary>
internal static class TestTimeout
{
    public static CancellationToken After(TimeSpan timeout) => new CancellationTokenSource(timeout).Token;

    public static CancellationToken Default() => After(TimeSpan.FromSeconds(60));
}
