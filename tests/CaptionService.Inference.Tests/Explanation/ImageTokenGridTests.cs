using CaptionService.Inference.Explanation;

namespace CaptionService.Inference.Tests.Explanation;

public sealed class ImageTokenGridTests
{
    [Theory]
    [InlineData(169, 13, 0)]
    [InlineData(197, 14, 1)]
    [InlineData(1, 1, 0)]
    public void TokensFormASquareGridOrAClassTokenAndOne(int tokens, int side, int skipped) =>
        Assert.Equal(new ImageTokenGrid(side, side, skipped), ImageTokenGrid.Of(tokens));

    [Theory]
    [InlineData(0)]
    [InlineData(171)]
    [InlineData(51)]
    public void OtherCountsFormNoGrid(int tokens) => Assert.Null(ImageTokenGrid.Of(tokens));

    [Fact]
    public void AMapLeavesTheClassTokenOutAndSumsToOne()
    {
        var grid = ImageTokenGrid.Of(5)!;
        var map = grid.Map([0.5f, 0.1f, 0.1f, 0.1f, 0.2f]);

        Assert.Equal((2, 2), (map.Width, map.Height));
        Assert.Equal([0.2f, 0.2f, 0.2f, 0.4f], map.Values);
        Assert.Equal((1, 1), map.Peak());
    }
}
