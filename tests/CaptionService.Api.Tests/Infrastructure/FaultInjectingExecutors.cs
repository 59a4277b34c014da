using System.Collections.Concurrent;
using CaptionService.Inference.Batching;
using Microsoft.ML.OnnxRuntime;

namespace CaptionService.Api.Tests.Infrastructure;

/// <summary>
/// Wraps the real engine's stage executors (through the engine's executor seam) so that a test
/// can make the next batch of a stage fail the way ONNX Runtime fails, or hang the way a native
/// call hangs: blocking its thread, deaf to cancellation. Other batches run the real model.
/// </summary>
internal sealed class FaultInjectingExecutors : IBatchExecutorDecorator
{
    private readonly ConcurrentDictionary<string, Func<Exception?>> _next = new();

    /// <summary>The next batch of <paramref name="stage"/> throws a real <see cref="OnnxRuntimeException"/>.</summary>
    public void FailNextBatch(string stage) => _next[stage] = RealOnnxRuntimeFailure;

    /// <summary>The next batch of <paramref name="stage"/> blocks until the returned hang is released, then runs.</summary>
    public Hang HangNextBatch(string stage)
    {
        var hang = new Hang();
        _next[stage] = () =>
        {
            hang.Block();
            return null;
        };
        return hang;
    }

    public IBatchExecutor<TPayload, TResult> Decorate<TPayload, TResult>(string stage, IBatchExecutor<TPayload, TResult> executor) =>
        new Executor<TPayload, TResult>(stage, executor, this);

    /// <summary>What ONNX Runtime itself throws for a model it cannot run: a session over bytes that are no model.</summary>
    private static OnnxRuntimeException RealOnnxRuntimeFailure()
    {
        try
        {
            using var session = new InferenceSession(new byte[] { 0x08, 0x01, 0xFF, 0xFF });
        }
        catch (OnnxRuntimeException e)
        {
            return e;
        }

        throw new InvalidOperationException("ONNX Runtime accepted bytes that are no model.");
    }

    private sealed class Executor<TPayload, TResult>(string stage, IBatchExecutor<TPayload, TResult> inner, FaultInjectingExecutors faults)
        : IBatchExecutor<TPayload, TResult>
    {
        public ValueTask ExecuteAsync(IReadOnlyList<BatchRequest<TPayload, TResult>> batch, CancellationToken cancellationToken)
        {
            if (faults._next.TryRemove(stage, out var fault) && fault() is { } failure)
            {
                throw failure;
            }

            return inner.ExecuteAsync(batch, cancellationToken);
        }
    }

    /// <summary>A batch held inside its executor until <see cref="Release"/>.</summary>
    public sealed class Hang : IDisposable
    {
        private readonly ManualResetEventSlim _released = new();
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        /// <summary>Completes when the held executor call goes on to run the batch.</summary>
        public Task Ended => _ended.Task;

        public void Release() => _released.Set();

        public void Dispose()
        {
            _released.Set();
            _released.Dispose();
        }

        internal void Block()
        {
            _started.TrySetResult();
            _released.Wait(TimeSpan.FromMinutes(1), CancellationToken.None);
            _ended.TrySetResult();
        }
    }
}
