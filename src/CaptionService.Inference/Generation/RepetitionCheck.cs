namespace CaptionService.Inference.Generation;

/// <summary>A run of words that a caption repeats back to back, and how many times in a row.</summary>
public sealed record Repetition(string Words, int Times);

/// <summary>
/// Finds degenerate captions: the same run of 1 to <see cref="MaxRunWords"/> words written at
/// least <see cref="MinTimes"/> times back to back ("gray gray gray", "a cross cross", "there is
/// there there is there"). Captions in the model's language repeat words ("a red square is to the
/// left of a blue circle") and phrases ("a yellow ellipse is above a yellow ellipse"), but never
/// back to back: of the 1,700 greedy and verified captions of the ShapeWorld development scenes
/// none is flagged, while every caption of the 300 generated non-scene images is (MODEL_CARD.md).
/// </summary>
public static class RepetitionCheck
{
    /// <summary>The longest repeated run looked for, in words.</summary>
    public const int MaxRunWords = 4;

    /// <summary>Back-to-back occurrences that make a caption degenerate.</summary>
    public const int MinTimes = 2;

    /// <summary>The repetition covering the most words, or null when the caption has none.</summary>
    public static Repetition? Find(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var words = caption.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Repetition? found = null;
        var covered = 0;
        for (var n = 1; n <= MaxRunWords; n++)
        {
            for (var start = 0; start + n * MinTimes <= words.Length; start++)
            {
                var times = 1;
                while (start + (times + 1) * n <= words.Length && SameRun(words, start, start + times * n, n))
                {
                    times++;
                }

                if (times >= MinTimes && times * n > covered)
                {
                    covered = times * n;
                    found = new Repetition(string.Join(' ', words, start, n), times);
                }
            }
        }

        return found;
    }

    private static bool SameRun(string[] words, int first, int second, int length)
    {
        for (var i = 0; i < length; i++)
        {
            if (!string.Equals(words[first + i], words[second + i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
