namespace CaptionService.Api.Requests;

/// <summary>
/// The encoded image of a request, in a pooled buffer, and the form fields that came with it (none
/// for a raw body). Disposing returns the buffer, so the endpoint disposes it once the engine has
/// answered.
/// </summary>
internal sealed class ImageUpload(UploadBuffer image, IFormCollection form) : IDisposable
{
    public ReadOnlyMemory<byte> Image => image.Memory;

    public IFormCollection Form { get; } = form;

    public void Dispose() => image.Dispose();
}
