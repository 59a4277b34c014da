namespace CaptionService.Api.OpenApi;

/// <summary>Says when an endpoint answers with a given problem status, for the OpenAPI response description.</summary>
internal sealed record ProblemResponseMetadata(int StatusCode, string Description);
