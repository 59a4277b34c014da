namespace CaptionService.Api.OpenApi;

/// <summary>
/// Says when an endpoint answers with a given problem status, and with which titles (from
/// <see cref="Errors.ProblemTitles"/>), for the OpenAPI response description and example.
/// </summary>
internal sealed record ProblemResponseMetadata(int StatusCode, string Description, params string[] Titles);
