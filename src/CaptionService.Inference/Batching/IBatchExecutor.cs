namespace CaptionService.Inference.Batching;

/// <summary>Runs one closed batch of a stage.</summary>
/// <remarks>
/// The executor answers each request through <see cref="BatchRequest{TPayload, TResult}.Complete"/>
/// or <see cref="BatchRequest{TPayload, TResult}.Fail"/>, in any order. A request it leaves
/// unanswered fails with a server error when the executor returns; if the executor throws, every
/// unanswered request fails with that exception. The batch list is valid only during the call.
/// </remarks>
internal interface IBatchExecutor<TPayload, TResult>
{
    ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<TPayload, TResult>> batch, CancellationToken cancellationToken);
}
