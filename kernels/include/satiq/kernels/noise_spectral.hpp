#pragma once
/// Noise from the high-frequency corner of the image's power spectrum.
///
/// White noise of variance sigma^2 has a flat power spectral density sigma^2 (cycles per pixel
/// units), while the scene's spectrum is multiplied by the system MTF, which is smallest where
/// both spatial frequencies approach Nyquist. The estimate is the Welch-averaged periodogram
/// (P. D. Welch, IEEE Trans. Audio Electroacoust. 15(2):70-73, 1967) of Hann-windowed,
/// mean-removed square blocks, normalized by the window energy so that white noise gives
/// E[P(f)] = sigma^2, averaged over the corner |fx| >= f0 and |fy| >= f0 (f0 = 0.375 cyc/px).
///
/// Any scene texture left in the corner adds power, so the result is an upper bound of white
/// noise; noise that was itself low-pass filtered after it arose (resampled or compressed
/// products) is under-read. Callers use it to cap a texture-biased estimate, not alone.
///
/// Blocks with any masked or non-finite pixel are skipped. The block grid is fixed by the image
/// size (stride chosen so that at most `max_blocks` are used) and the sum runs in raster order,
/// so the result is identical for any thread count.
#include <cstdint>
#include <string>

#include "satiq/kernels/image.hpp"

namespace satiq {

struct SpectralNoiseParams {
    int block_px = 64;                 ///< block side (power of two)
    double corner_cyc_per_px = 0.375;  ///< f0: both |fx| and |fy| at least this
    std::int64_t max_blocks = 4096;    ///< deterministic subsampling of large images
};

struct SpectralNoiseEstimate {
    bool valid = false;
    std::string message;    ///< why not valid
    double sigma_dn = 0.0;  ///< sqrt of the mean corner power
    std::int64_t blocks = 0;
};

[[nodiscard]] SpectralNoiseEstimate estimate_noise_spectral(ConstImageView<float> image,
                                                            ConstImageView<std::uint8_t> valid_mask = {},
                                                            const SpectralNoiseParams& params = {});

}  // namespace satiq
