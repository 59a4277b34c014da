using System.Net.Http.Headers;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>Builds the request bodies the API takes.</summary>
internal static class TestRequests
{
    public static MultipartFormDataContent ImageForm(byte[] image, string fileName = "world-0.png", string contentType = "image/png")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "image", fileName);
        return form;
    }

    public static MultipartFormDataContent ScoreForm(byte[] image, params string[] texts)
    {
        var form = ImageForm(image);
        foreach (var text in texts)
        {
            form.Add(new StringContent(text), "text");
        }

        return form;
    }

    public static ByteArrayContent RawImage(byte[] image, string contentType = "image/png")
    {
        var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }
}
