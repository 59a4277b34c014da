using System.Runtime.CompilerServices;

namespace CaptionService.Inference.Preprocessing;

/// <summary>
/// The pixels being decoded at once, across requests, bounded by
/// <see cref="PreprocessingOptions.MaxDecodingPixelsInFlight"/>. Upload admission counts the bytes
/// of the bodies in flight, but a small compressed image can decode to a large one (a 40-megapixel
/// PNG of one colour is a few kilobytes and 120 MB of pixels), so memory is bounded here, from the
/// dimensions in the image's header, before its pixels are allocated.
/// </summary>
/// <remarks>
/// One budget per options instance: every engine and the heat-map renderer of one server read the
/// same <c>IOptions&lt;PreprocessingOptions&gt;</c> value, so they share it, as they share the
/// process's memory.
/// </remarks>
internal sealed class DecodeBudget
{
    private static readonly ConditionalWeakTable<PreprocessingOptions, DecodeBudget> s_byOptions = [];

    private readonly Lock _gate = new();
    private readonly long _limit;
    private long _inFlight;

    private DecodeBudget(long limit) => _limit = limit;

    /// <summary>The budget of the server whose settings these are.</summary>
    public static DecodeBudget For(PreprocessingOptions options) =>
        s_byOptions.GetValue(options, o => new DecodeBudget(o.MaxDecodingPixelsInFlight));

    /// <summary>Pixels being decoded now.</summary>
    public long InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="pixels"/> for one decode, until the returned lease is disposed. With
    /// nothing else in flight an image always fits, so that any image within MaxPixels can be decoded.
    /// </summary>
    /// <exception cref="InferenceRejectedException">The image would take the pixels in flight past the limit (<see cref="RejectionReason.DecodingBusy"/>).</exception>
    public Lease Take(long pixels, int width, int height)
    {
        lock (_gate)
        {
            if (_inFlight > 0 && _inFlight + pixels > _limit)
            {
                throw new InferenceRejectedException(RejectionReason.DecodingBusy,
                    $"The server is decoding {_inFlight} pixels of other images; this {width}x{height} image would take it past " +
                    $"MaxDecodingPixelsInFlight ({_limit} pixels). Retry after the Retry-After seconds, or send a smaller image.");
            }

            _inFlight += pixels;
        }

        return new Lease(this, pixels);
    }

    private void Return(long pixels)
    {
        lock (_gate)
        {
            _inFlight -= pixels;
        }
    }

    /// <summary>Gives one decode's pixels back when disposed.</summary>
    public readonly struct Lease(DecodeBudget budget, long pixels) : IDisposable
    {
        public void Dispose() => budget.Return(pixels);
    }
}
