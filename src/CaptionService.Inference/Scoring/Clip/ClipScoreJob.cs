namespace CaptionService.Inference.Scoring.Clip;

/// <summary>One CLIP score request in the score stage: its preprocessed image (CHW floats) and its texts, tokenized.</summary>
internal sealed record ClipScoreJob(PooledBuffer<float> Pixels, IReadOnlyList<long[]> TokenizedTexts);

/// <summary>Per text, in request order: the cosine similarity, and the softmax over the request's texts of scale × cosine.</summary>
internal sealed record ClipScores(double[] Similarities, double[] Probabilities);
