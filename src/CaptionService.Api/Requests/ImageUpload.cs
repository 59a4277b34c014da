namespace CaptionService.Api.Requests;

/// <summary>The encoded image of a request, and the form fields that came with it (none for a raw body).</summary>
internal sealed record ImageUpload(ReadOnlyMemory<byte> Image, IFormCollection Form);
