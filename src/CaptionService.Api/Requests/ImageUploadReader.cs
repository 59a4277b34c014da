using CaptionService.Api.Errors;
using CaptionService.Inference;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CaptionService.Api.Requests;

/// <summary>
/// Reads the image of a request: a multipart/form-data file field <c>image</c> (with any other
/// fields), or a raw body with <c>Content-Type: image/*</c>. The size limit is enforced before and
/// while reading, so an oversized body costs at most the limit in memory.
/// </summary>
internal sealed class ImageUploadReader(IOptions<PreprocessingOptions> preprocessing)
{
    public const string ImageField = "image";

    /// <summary>Room for the multipart boundaries and headers and the text and option fields around the image.</summary>
    private const long FormOverheadBytes = 1024 * 1024;

    /// <summary>64 texts, 7 options and the image, with room for clients that send a few fields more.</summary>
    private const int MaxFormFields = 128;

    /// <summary>Far above any text a caption model accepts; the engine names the real limit.</summary>
    private const int MaxFieldValueBytes = 16 * 1024;

    private enum BodyKind
    {
        Multipart,
        RawImage,
    }

    /// <param name="request">The request whose body is read.</param>
    /// <param name="acceptRawImage">Whether a raw <c>image/*</c> body is allowed besides multipart.</param>
    /// <param name="cancellationToken">The request's token.</param>
    public async Task<ImageUpload> ReadAsync(HttpRequest request, bool acceptRawImage, CancellationToken cancellationToken)
    {
        var kind = BodyKindOf(request.ContentType, acceptRawImage);
        var maxImageBytes = preprocessing.Value.MaxImageBytes;
        var bodyLimit = kind == BodyKind.Multipart ? maxImageBytes + FormOverheadBytes : maxImageBytes;

        if (request.ContentLength > bodyLimit)
        {
            throw ClientRequestException.TooLarge(
                $"The request body is {request.ContentLength} bytes; this endpoint accepts at most {bodyLimit} bytes (images up to {maxImageBytes} bytes).");
        }

        LimitBody(request, bodyLimit);
        return kind == BodyKind.Multipart
            ? await ReadMultipartAsync(request, bodyLimit, maxImageBytes, cancellationToken)
            : new ImageUpload(await ReadRawAsync(request, cancellationToken), FormCollection.Empty);
    }

    private static BodyKind BodyKindOf(string? contentType, bool acceptRawImage)
    {
        var accepted = acceptRawImage
            ? "multipart/form-data with a file field 'image', or a raw image body with Content-Type image/*"
            : "multipart/form-data with a file field 'image' and 'text' fields";

        if (string.IsNullOrWhiteSpace(contentType))
        {
            throw ClientRequestException.UnsupportedMediaType($"The request has no Content-Type. Send {accepted}.");
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            throw ClientRequestException.UnsupportedMediaType($"The Content-Type '{contentType}' cannot be parsed. Send {accepted}.");
        }

        if (mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return BodyKind.Multipart;
        }

        if (acceptRawImage && mediaType.MediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
        {
            return BodyKind.RawImage;
        }

        throw ClientRequestException.UnsupportedMediaType($"The Content-Type '{mediaType.MediaType}' is not accepted here. Send {accepted}.");
    }

    /// <summary>
    /// Counts the bytes as they arrive. Kestrel's own limit (30 MB by default) is set to the same
    /// value, so a configured MaxImageBytes above it still works.
    /// </summary>
    private static void LimitBody(HttpRequest request, long bodyLimit)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } serverLimit)
        {
            serverLimit.MaxRequestBodySize = bodyLimit;
        }

        request.Body = new LengthLimitedStream(request.Body, bodyLimit);
    }

    private static async Task<ImageUpload> ReadMultipartAsync(HttpRequest request, long bodyLimit, long maxImageBytes, CancellationToken cancellationToken)
    {
        var formOptions = new FormOptions
        {
            // The body is bounded above, so it stays in memory: no temp files on a read-only container.
            MemoryBufferThreshold = (int)Math.Min(bodyLimit, int.MaxValue),
            MultipartBodyLengthLimit = bodyLimit,
            ValueCountLimit = MaxFormFields,
            ValueLengthLimit = MaxFieldValueBytes,
        };

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(formOptions, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            // Malformed multipart: no boundary, bad headers, too many fields, a field too long.
            throw ClientRequestException.BadRequest($"The multipart/form-data body is malformed: {e.Message}");
        }
        catch (IOException e) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // The form is buffered in memory, so an I/O error here is the client's body ending early.
            throw ClientRequestException.BadRequest($"The multipart/form-data body is truncated: {e.Message}");
        }

        var image = SingleImageFile(form);
        if (image.Length > maxImageBytes)
        {
            throw new ClientRequestException(
                StatusCodes.Status413PayloadTooLarge,
                ProblemTitles.ImageTooLarge,
                $"The image is {image.Length} bytes; the limit is {maxImageBytes} bytes.");
        }

        var bytes = new byte[image.Length];
        await using (var stream = image.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken);
        }

        return new ImageUpload(bytes, form);
    }

    private static IFormFile SingleImageFile(IFormCollection form)
    {
        var files = form.Files.GetFiles(ImageField);
        if (files.Count == 0)
        {
            throw ClientRequestException.BadRequest(form.ContainsKey(ImageField)
                ? "The 'image' field is a plain form value; send it as a file part (Content-Disposition with a filename)."
                : "The form has no file field 'image'. Send the image as multipart/form-data field 'image'.");
        }

        if (files.Count > 1)
        {
            throw ClientRequestException.BadRequest($"Send one image per request; the form has {files.Count} 'image' files.");
        }

        if (files[0].Length == 0)
        {
            throw ClientRequestException.BadRequest("The 'image' file is empty.");
        }

        return files[0];
    }

    private static async Task<byte[]> ReadRawAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            if (request.ContentLength is { } length)
            {
                // Known length, already checked against the limit: read it straight into place.
                bytes = new byte[length];
                await request.Body.ReadExactlyAsync(bytes, cancellationToken);
            }
            else
            {
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer, cancellationToken);
                bytes = buffer.ToArray();
            }
        }
        catch (EndOfStreamException)
        {
            throw ClientRequestException.BadRequest($"The body ended before the {request.ContentLength} bytes its Content-Length announced.");
        }

        if (bytes.Length == 0)
        {
            throw ClientRequestException.BadRequest("The request body is empty; send the encoded image as the body.");
        }

        return bytes;
    }
}
