using SixLabors.ImageSharp.Processing.Processors.Transforms;
using SixLabors.ImageSharp.Processing;

namespace CaptionService.Inference.Preprocessing;

/// <summary>Maps the PIL resample code in <c>preprocessor_config.json</c> to the ImageSharp resampler with the same kernel.</summary>
internal static class PilResamplers
{
    public static IResampler? FromPilCode(int code) => code switch
    {
        0 => KnownResamplers.NearestNeighbor, // PIL.Image.NEAREST
        1 => KnownResamplers.Lanczos3,        // PIL.Image.LANCZOS
        2 => KnownResamplers.Triangle,        // PIL.Image.BILINEAR
        3 => KnownResamplers.Bicubic,         // PIL.Image.BICUBIC
        4 => KnownResamplers.Box,             // PIL.Image.BOX
        _ => null,                            // 5 (HAMMING) has no ImageSharp equivalent
    };
}
