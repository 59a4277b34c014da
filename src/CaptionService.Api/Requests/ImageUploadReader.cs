using System.Buffers;
using System.Text;
using CaptionService.Api.Errors;
using CaptionService.Inference;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace CaptionService.Api.Requests;

/// <summary>
/// Reads the image of a request: a multipart/form-data file field <c>image</c> (with any other
/// fields), or a raw body with <c>Content-Type: image/*</c>. The size limit is enforced before and
/// while reading, and the image is streamed into a pooled buffer that grows with the bytes that
/// arrived, so a body costs about what was sent, never its declared length up front.
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

    /// <summary>RFC 2046 allows 70; ASP.NET Core's form reader allows 128.</summary>
    private const int MaxBoundaryLength = 128;

    /// <param name="request">The request whose body is read.</param>
    /// <param name="acceptRawImage">Whether a raw <c>image/*</c> body is allowed besides multipart.</param>
    /// <param name="cancellationToken">The request's token.</param>
    public async Task<ImageUpload> ReadAsync(HttpRequest request, bool acceptRawImage, CancellationToken cancellationToken)
    {
        var mediaType = AcceptedMediaType(request.ContentType, acceptRawImage);
        var multipart = IsMultipart(mediaType);
        var maxImageBytes = preprocessing.Value.MaxImageBytes;
        var bodyLimit = multipart ? maxImageBytes + FormOverheadBytes : maxImageBytes;

        if (request.ContentLength > bodyLimit)
        {
            throw ClientRequestException.TooLarge(
                $"The request body is {request.ContentLength} bytes; this endpoint accepts at most {bodyLimit} bytes (images up to {maxImageBytes} bytes).");
        }

        LimitBody(request, bodyLimit);
        return multipart
            ? await ReadMultipartAsync(request, mediaType, bodyLimit, maxImageBytes, cancellationToken)
            : await ReadRawAsync(request, maxImageBytes, cancellationToken);
    }

    private static bool IsMultipart(MediaTypeHeaderValue mediaType) =>
        mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    /// <summary>The request's multipart/form-data or (where accepted) image/* media type; 415 for anything else.</summary>
    private static MediaTypeHeaderValue AcceptedMediaType(string? contentType, bool acceptRawImage)
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

        if (IsMultipart(mediaType) || (acceptRawImage && mediaType.MediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)))
        {
            return mediaType;
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

    /// <summary>
    /// Streams the parts one by one: the image into a pooled <see cref="UploadBuffer"/>, the other
    /// values (bounded in count and length) into the form, any other file drained and dropped. So a
    /// multipart upload holds its image once, never a buffered copy of the whole body besides.
    /// </summary>
    private static async Task<ImageUpload> ReadMultipartAsync(
        HttpRequest request, MediaTypeHeaderValue mediaType, long bodyLimit, long maxImageBytes, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary);
        if (StringSegment.IsNullOrEmpty(boundary) || boundary.Length > MaxBoundaryLength)
        {
            throw ClientRequestException.BadRequest(
                $"The multipart/form-data body is malformed: its Content-Type needs a boundary of 1 to {MaxBoundaryLength} characters.");
        }

        var reader = new MultipartReader(boundary.ToString(), request.Body) { BodyLengthLimit = bodyLimit };
        var fields = new KeyValueAccumulator();
        var image = new UploadBuffer();
        var imageFiles = 0;
        var fieldCount = 0;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (++fieldCount > MaxFormFields)
                {
                    throw ClientRequestException.BadRequest($"The multipart/form-data body is malformed: it has more than {MaxFormFields} parts.");
                }

                var disposition = section.GetContentDispositionHeader();
                var name = disposition is null ? string.Empty : HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
                if (disposition is null || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    await DrainAsync(section.Body, cancellationToken);
                }
                else if (disposition.IsFileDisposition())
                {
                    if (name == ImageField && ++imageFiles == 1)
                    {
                        // The body's declared length bounds the image's (already counted by admission).
                        if (!await image.ReadFromAsync(section.Body, ClampToArray(maxImageBytes), request.ContentLength, cancellationToken))
                        {
                            throw new ClientRequestException(
                                StatusCodes.Status413PayloadTooLarge,
                                ProblemTitles.ImageTooLarge,
                                $"The image is larger than {maxImageBytes} bytes, the limit.");
                        }
                    }
                    else
                    {
                        await DrainAsync(section.Body, cancellationToken);
                    }
                }
                else
                {
                    fields.Append(name, await ReadFieldValueAsync(section, name, cancellationToken));
                }
            }
        }
        catch (InvalidDataException e)
        {
            image.Dispose();
            // Malformed multipart: bad part headers, a missing end boundary.
            throw ClientRequestException.BadRequest($"The multipart/form-data body is malformed: {e.Message}");
        }
        catch (IOException e) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            image.Dispose();
            throw ClientRequestException.BadRequest($"The multipart/form-data body is truncated: {e.Message}");
        }
        catch
        {
            image.Dispose();
            throw;
        }

        var form = new FormCollection(fields.GetResults());
        var problem = imageFiles switch
        {
            0 when form.ContainsKey(ImageField) => "The 'image' field is a plain form value; send it as a file part (Content-Disposition with a filename).",
            0 => "The form has no file field 'image'. Send the image as multipart/form-data field 'image'.",
            > 1 => $"Send one image per request; the form has {imageFiles} 'image' files.",
            _ when image.Length == 0 => "The 'image' file is empty.",
            _ => null,
        };
        if (problem is not null)
        {
            image.Dispose();
            throw ClientRequestException.BadRequest(problem);
        }

        return new ImageUpload(image, form);
    }

    /// <summary>A text or option value, decoded in the part's charset (UTF-8 when it names none), at most <see cref="MaxFieldValueBytes"/>.</summary>
    private static async Task<string> ReadFieldValueAsync(MultipartSection section, string name, CancellationToken cancellationToken)
    {
        using var value = new UploadBuffer();
        if (!await value.ReadFromAsync(section.Body, MaxFieldValueBytes, expectedLength: null, cancellationToken))
        {
            throw ClientRequestException.BadRequest(
                $"The multipart/form-data body is malformed: the field '{name}' is longer than {MaxFieldValueBytes} bytes.");
        }

        var encoding = MediaTypeHeaderValue.TryParse(section.ContentType, out var type) ? type.Encoding : null;
        return (encoding ?? Encoding.UTF8).GetString(value.Memory.Span);
    }

    private static async Task DrainAsync(Stream body, CancellationToken cancellationToken)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await body.ReadAsync(scratch, cancellationToken) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static int ClampToArray(long bytes) => (int)Math.Min(bytes, Array.MaxLength - 1);

    /// <summary>
    /// Reads the body into a pooled buffer that grows as bytes arrive (never past the declared
    /// length before more arrives), so a client that declares 20 MB and sends little holds little.
    /// </summary>
    private static async Task<ImageUpload> ReadRawAsync(HttpRequest request, long maxImageBytes, CancellationToken cancellationToken)
    {
        var image = new UploadBuffer();
        try
        {
            // LengthLimitedStream refuses a body past the limit with 413 before this does.
            await image.ReadFromAsync(request.Body, ClampToArray(maxImageBytes), request.ContentLength, cancellationToken);
            if (request.ContentLength is { } declared && image.Length < declared)
            {
                throw ClientRequestException.BadRequest($"The body ended before the {declared} bytes its Content-Length announced.");
            }

            if (image.Length == 0)
            {
                throw ClientRequestException.BadRequest("The request body is empty; send the encoded image as the body.");
            }

            return new ImageUpload(image, FormCollection.Empty);
        }
        catch (IOException e) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            image.Dispose();
            throw ClientRequestException.BadRequest($"The body ended before the {request.ContentLength} bytes its Content-Length announced: {e.Message}");
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }
}
