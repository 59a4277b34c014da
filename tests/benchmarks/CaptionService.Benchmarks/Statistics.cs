namespace CaptionService.Benchmarks;

/// <summary>Summary of a list of measurements; percentiles by nearest rank.</summary>
internal sealed record Statistics(int N, double Mean, double Median, double Min, double Max, double P95)
{
    public static Statistics Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            throw new InvalidOperationException("no measurements");
        }

        var sorted = values.Order().ToArray();
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        var median = sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return new Statistics(sorted.Length, sorted.Average(), median, sorted[0], sorted[^1], Rank(0.95));
    }
}
