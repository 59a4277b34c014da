namespace CaptionService.Inference.Generation;

/// <summary>
/// One decoder step's per-row inputs in pooled host memory: the new token of each row, and the
/// attention mask (<c>[rows, past + 1]</c>) and position ids that <see cref="CacheRowPositions"/> writes.
/// </summary>
internal sealed class StepTokenInputs : IDisposable
{
    private readonly PooledBuffer<long> _inputIds;
    private readonly PooledBuffer<long> _attentionMask;
    private readonly PooledBuffer<long> _positionIds;

    public StepTokenInputs(ReadOnlySpan<long> tokens, CacheRowPositions positions)
    {
        if (tokens.Length != positions.RowCount)
        {
            throw new ArgumentException($"Expected {positions.RowCount} tokens, got {tokens.Length}.", nameof(tokens));
        }

        _inputIds = new PooledBuffer<long>(tokens.Length);
        _attentionMask = new PooledBuffer<long>(tokens.Length * (positions.PastLength + 1));
        _positionIds = new PooledBuffer<long>(tokens.Length);
        tokens.CopyTo(_inputIds.Span);
        positions.Write(_attentionMask.Span, _positionIds.Span);
    }

    public Memory<long> InputIds => _inputIds.Memory;

    public Memory<long> AttentionMask => _attentionMask.Memory;

    public Memory<long> PositionIds => _positionIds.Memory;

    public void Dispose()
    {
        _inputIds.Dispose();
        _attentionMask.Dispose();
        _positionIds.Dispose();
    }
}
