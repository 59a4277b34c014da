using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CaptionService.Api.Tests.Infrastructure;

namespace CaptionService.Api.Tests.Functional;

/// <summary>
/// The pointing game of <c>python3 -m training pointing</c>, cut down to what the bundled model
/// says ("a COLOUR SHAPE"), on every development scene: the peak cell of a colour word's map and of
/// a shape word's map must overlap the box of an object that fits the phrase for at least 80% of the
/// judged words, the goal of issue 14. With the mean over every head (the default before the package
/// named its heads) colour words scored 77.8%, so dropping or mis-reading
/// <c>decoder.cross_attention_heads</c> fails here.
/// </summary>
[Collection(RealModelServerGroup.Name)]
public sealed class PointingGameTests(RealModelServer server)
{
    private const double Goal = 0.8;
    private const int Grid = 13;

    private static readonly string[] s_colours = ["red", "green", "blue", "yellow", "magenta", "cyan", "gray"];
    private static readonly string[] s_shapes = ["square", "rectangle", "triangle", "pentagon", "cross", "circle", "semicircle", "ellipse"];

    private readonly HttpClient _client = server.Client;

    [Fact]
    public async Task ColourAndShapeWordsPointAtTheObjectTheyName()
    {
        var cancellationToken = TestTimeout.After(TimeSpan.FromMinutes(5));
        var (colourHits, shapeHits, judged) = (0, 0, 0);
        var data = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "data", "shapeworld");
        foreach (var worlds in Directory.EnumerateFiles(data, "worlds.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            foreach (var line in await File.ReadAllLinesAsync(worlds, cancellationToken))
            {
                using var record = JsonDocument.Parse(line);
                var image = await File.ReadAllBytesAsync(Path.Combine(Path.GetDirectoryName(worlds)!, record.RootElement.GetProperty("image").GetString()!), cancellationToken);
                using var response = await _client.PostAsync("/caption?explain=true", TestRequests.ImageForm(image), cancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var words = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("explanation").EnumerateArray().ToList();
                for (var i = 0; i + 1 < words.Count; i++)
                {
                    var (colour, shape) = (words[i].GetProperty("word").GetString()!, words[i + 1].GetProperty("word").GetString()!);
                    if (!s_colours.Contains(colour) || !s_shapes.Contains(shape))
                    {
                        continue;
                    }

                    var boxes = Boxes(record.RootElement.GetProperty("world_model"), colour, shape);
                    if (boxes.Count == 0)
                    {
                        continue;  // a false phrase names no object: not judged
                    }

                    judged++;
                    colourHits += PeakOnABox(words[i].GetProperty("map"), boxes) ? 1 : 0;
                    shapeHits += PeakOnABox(words[i + 1].GetProperty("map"), boxes) ? 1 : 0;
                }
            }
        }

        Assert.True(judged > 1000, $"only {judged} phrases judged");
        Assert.True(colourHits >= Goal * judged, $"colour words: {colourHits} of {judged} peaks on the object");
        Assert.True(shapeHits >= Goal * judged, $"shape words: {shapeHits} of {judged} peaks on the object");
    }

    /// <summary>(left, top, right, bottom) in 0..1 of every object of that colour and shape, clipped to the image.</summary>
    private static List<(double Left, double Top, double Right, double Bottom)> Boxes(JsonElement world, string colour, string shape) =>
        [.. world.GetProperty("entities").EnumerateArray()
            .Where(e => e.GetProperty("color").GetProperty("name").GetString() == colour && e.GetProperty("shape").GetProperty("name").GetString() == shape)
            .Select(e => e.GetProperty("bounding_box"))
            .Select(b => (Math.Max(0, b.GetProperty("topleft").GetProperty("x").GetDouble()), Math.Max(0, b.GetProperty("topleft").GetProperty("y").GetDouble()),
                          Math.Min(1, b.GetProperty("bottomright").GetProperty("x").GetDouble()), Math.Min(1, b.GetProperty("bottomright").GetProperty("y").GetDouble())))];

    /// <summary>Whether the map's peak cell (the first, on ties) overlaps one of the boxes.</summary>
    private static bool PeakOnABox(JsonElement map, List<(double Left, double Top, double Right, double Bottom)> boxes)
    {
        var values = map.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
        var peak = values.IndexOf(values.Max());
        var (left, top) = ((double)(peak % Grid) / Grid, (double)(peak / Grid) / Grid);
        var (right, bottom) = (left + (1.0 / Grid), top + (1.0 / Grid));
        return boxes.Any(b => left < b.Right && b.Left < right && top < b.Bottom && b.Top < bottom);
    }
}
