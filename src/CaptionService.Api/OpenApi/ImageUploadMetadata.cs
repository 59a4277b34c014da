using CaptionService.Api.Requests;

namespace CaptionService.Api.OpenApi;

/// <summary>
/// Endpoint metadata describing a request body the handler reads itself (so that it can take
/// multipart and raw bodies alike and answer every malformed body with a problem), for
/// <see cref="ImageUploadOperationFilter"/> to document.
/// </summary>
/// <param name="AcceptsRawImage">A raw <c>image/*</c> body is accepted besides multipart/form-data.</param>
/// <param name="TakesTexts">The form carries 1 to 64 <c>text</c> fields.</param>
/// <param name="Options">The options read from the query string or the form (a catalog's <c>All</c>).</param>
internal sealed record ImageUploadMetadata(bool AcceptsRawImage, bool TakesTexts, IReadOnlyList<RequestOption> Options);

