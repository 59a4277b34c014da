namespace CaptionService.Inference.Batching;

/// <summary>A request's result, with how long it queued and how long its batch took to execute.</summary>
internal readonly record struct Batched<TResult>(TResult Value, TimeSpan QueueTime, TimeSpan ExecutionTime, int BatchSize);
