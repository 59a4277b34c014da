using CaptionService.Inference;
using Microsoft.Extensions.Options;

namespace CaptionService.Api.Admission;

/// <summary>
/// The bytes of the request bodies the inference endpoints hold at once, against
/// <see cref="AdmissionOptions.MaxBodyBytesInFlight"/>. One request always fits when nothing else
/// is in flight, whatever its size (the body limit refuses it later if it is too large).
/// </summary>
internal sealed class UploadBudget(IOptions<AdmissionOptions> admission, IOptions<PreprocessingOptions> preprocessing)
{
    private readonly long _capacity = admission.Value.MaxBodyBytesInFlight;
    private readonly long _unknownLength = preprocessing.Value.MaxImageBytes;
    private readonly Lock _gate = new();
    private long _inFlight;

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

    /// <summary>Reserves the request's bytes; false when they do not fit now.</summary>
    public bool TryReserve(long? contentLength, out long reserved)
    {
        reserved = Math.Clamp(contentLength ?? _unknownLength, 0, _unknownLength);
        lock (_gate)
        {
            if (_inFlight > 0 && _inFlight + reserved > _capacity)
            {
                return false;
            }

            _inFlight += reserved;
            return true;
        }
    }

    public void Release(long reserved)
    {
        lock (_gate)
        {
            _inFlight -= reserved;
        }
    }
}
