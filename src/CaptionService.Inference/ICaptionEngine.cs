namespace CaptionService.Inference;

/// <summary>
/// The inference engine as the host sees it: one loaded model package behind dynamic batchers.
/// </summary>
/// <remarks>
/// Every method may throw <see cref="InferenceRejectedException"/> for anything the caller sent or
/// for overload; its <see cref="InferenceRejectedException.Reason"/> says which, and the host maps
/// it to an HTTP status. Any other exception is a server fault.
/// </remarks>
public interface ICaptionEngine
{
    /// <summary>What is loaded and how it runs (name, version, provider, input size, batching).</summary>
    ModelInfo Model { get; }

    /// <summary>True once warm-up has run; readiness depends on it.</summary>
    bool IsWarm { get; }

    /// <summary>
    /// The stages whose running batch has left a request unanswered past <c>BatchTimeout</c> and
    /// has not returned yet; empty when none. Such a stage answers nothing meanwhile, so readiness
    /// is false while this is not empty.
    /// </summary>
    IReadOnlyList<string> StuckStages { get; }

    /// <summary>Runs each graph once on dummy inputs so that the first request pays no set-up cost.</summary>
    Task WarmUpAsync(CancellationToken cancellationToken = default);

    /// <summary>Decodes, preprocesses and captions one encoded image.</summary>
    Task<CaptionResult> CaptionAsync(ReadOnlyMemory<byte> encodedImage, GenerationOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// The words of <paramref name="text"/> the model's tokenizer does not know (it would score
    /// them as its unknown token), each once, as written; empty when it knows them all.
    /// </summary>
    IReadOnlyList<string> UnknownWords(string text);

    /// <summary>Scores each text against one encoded image; scores come back in the order of <paramref name="texts"/>.</summary>
    Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="ScoreAsync(ReadOnlyMemory{byte}, IReadOnlyList{string}, CancellationToken)"/>;
    /// with <paramref name="explain"/>, each score also carries its evidence map. An engine without
    /// explanation outputs refuses <paramref name="explain"/> with <see cref="RejectionReason.InvalidOption"/>.
    /// </summary>
    Task<ScoreResult> ScoreAsync(ReadOnlyMemory<byte> encodedImage, IReadOnlyList<string> texts, bool explain, CancellationToken cancellationToken = default) =>
        explain
            ? throw new InferenceRejectedException(RejectionReason.InvalidOption,
                $"The model package '{Model.Identity.Name}' has no cross-attention outputs, so it cannot explain scores (explain).")
            : ScoreAsync(encodedImage, texts, cancellationToken);
}
