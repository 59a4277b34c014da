using System.Text.Json;

namespace CaptionService.Benchmarks;

/// <summary>The ShapeWorld images of a folder of sets (encoded, in memory) and their published captions.</summary>
internal sealed class SharedWorkload
{
    private SharedWorkload(IReadOnlyList<byte[]> images, IReadOnlyList<string> captions)
    {
        Images = images;
        Captions = captions;
    }

    /// <summary>Every PNG, ordered by set and world number.</summary>
    public IReadOnlyList<byte[]> Images { get; }

    /// <summary>Every published caption, in the same order as the worlds.</summary>
    public IReadOnlyList<string> Captions { get; }

    public static SharedWorkload Load(string shapeworldDirectory)
    {
        var images = new List<byte[]>();
        var captions = new List<string>();
        foreach (var set in Directory.GetDirectories(shapeworldDirectory).Order(StringComparer.Ordinal))
        {
            var worlds = Path.Combine(set, "worlds.jsonl");
            if (!File.Exists(worlds))
            {
                continue;
            }

            foreach (var line in File.ReadLines(worlds).Where(l => l.Length > 0))
            {
                using var doc = JsonDocument.Parse(line);
                images.Add(File.ReadAllBytes(Path.Combine(set, doc.RootElement.GetProperty("image").GetString()!)));
                captions.AddRange(doc.RootElement.GetProperty("captions").EnumerateArray().Select(c => c.GetString()!));
            }
        }

        if (images.Count == 0 || captions.Count < 8)
        {
            throw new InvalidOperationException($"no ShapeWorld worlds under {shapeworldDirectory}");
        }

        return new SharedWorkload(images, captions);
    }

    /// <summary><paramref name="count"/> captions to score against image <paramref name="index"/>, taken in rotation.</summary>
    public string[] TextsFor(int index, int count) =>
        Enumerable.Range(0, count).Select(k => Captions[((index * 5) + k) % Captions.Count]).ToArray();
}
