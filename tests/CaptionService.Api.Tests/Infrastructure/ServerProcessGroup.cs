namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// Tests that start the real server process (and a browser) run on their own, after the
/// in-process ones: their timing assertions should not compete with other tests for CPU.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerProcessGroup
{
    public const string Name = "Server processes";
}
