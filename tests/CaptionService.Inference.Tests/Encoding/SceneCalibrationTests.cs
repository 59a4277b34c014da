using CaptionService.Inference.Encoding;

namespace CaptionService.Inference.Tests.Encoding;

public sealed class SceneCalibrationTests
{
    // Four points at (±1, ±2): mean 0, sample variances 4/3 and 16/3, no covariance.
    private static readonly double[][] s_corners = [[1, 2], [1, -2], [-1, 2], [-1, -2]];

    [Fact]
    public void TheDistanceIsMahalanobisUnderTheShrunkCovariance()
    {
        var statistics = SceneCalibration.Fit(s_corners, quantile: 1.0);

        var shrink = SceneCalibration.Shrinkage;
        var averageVariance = (4.0 / 3 + 16.0 / 3) / 2;
        var varianceX = (1 - shrink) * 4.0 / 3 + shrink * averageVariance;
        var varianceY = (1 - shrink) * 16.0 / 3 + shrink * averageVariance;
        Assert.Equal([0.0, 0.0], statistics.Mean);
        Assert.Equal(0, statistics.Distance([0, 0]), 9);
        Assert.Equal(Math.Sqrt(9 / varianceX), statistics.Distance([3, 0]), 5);
        Assert.Equal(Math.Sqrt(1 / varianceX + 4 / varianceY), statistics.Distance([1, 2]), 5);
    }

    [Fact]
    public void TheThresholdIsTheMarginOverTheQuantileOfTheCalibrationDistances()
    {
        double[][] points = [.. s_corners, [0.5, 0], [0, 0.5], [0, 0], [2, 0]];
        var provisional = SceneCalibration.Fit(points, quantile: 1.0);
        var distances = points.Select(p => provisional.Distance(p)).Order().ToArray();

        Assert.Equal(SceneCalibration.Margin * distances[^1], provisional.Threshold, 9);
        Assert.Equal(SceneCalibration.Margin * distances[3], SceneCalibration.Fit(points, quantile: 0.5).Threshold, 9);
    }
}
