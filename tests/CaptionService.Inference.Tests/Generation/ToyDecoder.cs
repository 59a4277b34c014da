using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Tests.Generation;

/// <summary>
/// A decoder whose next-token distribution is a table keyed by each row's token history, so that
/// searches have known answers. It records the row count of every step, to show compaction.
/// </summary>
internal sealed class ToyDecoder : IDecoderStep
{
    /// <summary>Probability given to every token a table entry does not mention.</summary>
    private const double Floor = 1e-9;

    private readonly Func<IReadOnlyList<long>, Dictionary<long, double>> _next;
    private List<List<long>> _histories;
    private float[] _logits = [];

    public ToyDecoder(int rows, int vocabularySize, Func<IReadOnlyList<long>, Dictionary<long, double>> next)
    {
        VocabularySize = vocabularySize;
        _next = next;
        _histories = [.. Enumerable.Range(0, rows).Select(_ => new List<long>())];
    }

    public int RowCount => _histories.Count;

    public int VocabularySize { get; }

    public List<int> RowsPerStep { get; } = [];

    public ReadOnlySpan<float> Step(ReadOnlySpan<long> tokens)
    {
        Assert.Equal(RowCount, tokens.Length);
        RowsPerStep.Add(RowCount);
        _logits = new float[RowCount * VocabularySize];
        for (var row = 0; row < RowCount; row++)
        {
            _histories[row].Add(tokens[row]);
            var probabilities = _next(_histories[row]);
            for (var token = 0; token < VocabularySize; token++)
            {
                _logits[(row * VocabularySize) + token] = (float)Math.Log(probabilities.GetValueOrDefault(token, Floor));
            }
        }

        return _logits;
    }

    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        var selected = new List<List<long>>(sourceRows.Length);
        foreach (var row in sourceRows)
        {
            selected.Add([.. _histories[row]]);
        }

        _histories = selected;
    }

    public void Dispose()
    {
    }
}
