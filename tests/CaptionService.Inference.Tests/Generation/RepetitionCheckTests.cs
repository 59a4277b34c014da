using CaptionService.Inference.Generation;

namespace CaptionService.Inference.Tests.Generation;

public sealed class RepetitionCheckTests
{
    [Fact]
    public void FindsAWordRepeatedAllTheWay()
    {
        var caption = string.Join(' ', Enumerable.Repeat("gray", 31));

        Assert.Equal(new Repetition("gray", 31), RepetitionCheck.Find(caption));
    }

    [Theory]
    [InlineData("a gray ellipse is to the left of a cross cross .", "cross", 2)]
    [InlineData("a blue rectangle is above a blue to to to to .", "to", 4)]
    [InlineData("there is a there there is there there is there there .", "there there is", 2)]
    [InlineData("a red square a red square a red square", "a red square", 3)]
    public void FindsTheRunCoveringTheMostWords(string caption, string words, int times)
    {
        Assert.Equal(new Repetition(words, times), RepetitionCheck.Find(caption));
    }

    [Theory]
    [InlineData("there is a yellow ellipse .")]
    [InlineData("a red square is to the left of a blue circle .")]
    [InlineData("a yellow ellipse is above a yellow ellipse .")]
    [InlineData("")]
    public void CaptionsOfTheModelsLanguageAreNotDegenerate(string caption)
    {
        Assert.Null(RepetitionCheck.Find(caption));
    }
}
