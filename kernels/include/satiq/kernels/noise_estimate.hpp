#pragma once
/// Image-based noise estimation: Immerkaer's fast estimator with structure masking.
///
/// Method (J. Immerkaer, "Fast noise variance estimation", CVIU 64(2), 1996): convolve with the Laplacian-difference
/// mask `M = [[1,-2,1],[-2,4,-2],[1,-2,1]]`; for Gaussian noise of standard deviation sigma, `E|I*M| = 6 sigma
/// sqrt(2/pi)`, hence `sigma = sqrt(pi/2) / 6 * mean |I*M|` (J. Immerkaer, "Fast noise variance estimation", CVIU
/// 64(2):300-302, 1996; the paper writes the mean as `sum / ((W-2)(H-2))`). Structure leaks into `I*M` at edges, so
/// pixels whose Sobel gradient `|Gx| + |Gy|` lies in the top `structure_fraction` of the image are excluded first
/// (S.-C. Tai and S.-M. Yang, "A fast method for image noise estimation using Laplacian
/// operator and adaptive edge detection", ISCCSP 2008, who exclude the top 10 %).
///
/// Noise is signal dependent (shot noise), so the estimate is also reported per brightness
/// band: the 3x3 local mean of every retained pixel decides its band; band limits are
/// equal-population quantiles of the local mean, giving a noise-versus-signal curve.
///
/// Which sigma to use for SNR: `NoiseEstimate::sigma_dn` (all retained pixels pooled). It is
/// the figure `satiq assess` divides the signal difference by; the band curve is reported beside
/// it, and `sigma_at_median_signal_dn` gives the noise at the scene's median brightness.
///
/// Pixels used: interior pixels (1 px border excluded: halo 1) whose whole 3x3 neighbourhood
/// is valid (mask non-zero, value finite). Threading: TBB-parallel over fixed blocks of
/// `kNoiseBlockRows` rows; every partial sum is combined in block order, so the result is
/// bit-identical for any thread count. Never throws for degenerate images (empty, 1x1,
/// constant, all nodata): `valid` is false with a message instead; throws satiq::Error only
/// for invalid parameters or a mask whose size differs from the image.
#include <cstdint>
#include <string>
#include <vector>

#include "satiq/kernels/image.hpp"

namespace satiq {

inline constexpr std::int64_t kNoiseBlockRows = 64;

struct NoiseEstimateParams {
    /// Fraction (0..0.9) of the highest-gradient pixels excluded as structure (Tai & Yang: 0.10).
    double structure_fraction = 0.10;
    /// Number of equal-population brightness bands of the noise-versus-signal curve (1..64).
    int brightness_bands = 12;
    /// Bands with fewer retained pixels than this are dropped from the curve.
    std::int64_t min_pixels_per_band = 200;
};

struct NoiseBand {
    double signal_lo_dn = 0.0;    ///< lower limit of the band's local mean (DN)
    double signal_hi_dn = 0.0;    ///< upper limit of the band's local mean (DN)
    double mean_signal_dn = 0.0;  ///< mean local mean of the retained pixels in the band
    double sigma_dn = 0.0;        ///< Immerkaer sigma of the band
    std::int64_t pixels = 0;      ///< retained pixels in the band
};

struct NoiseEstimate {
    bool valid = false;                      ///< false: no retained pixel (see message)
    std::string message;                     ///< why not valid; empty when valid
    double sigma_dn = 0.0;                   ///< pooled Immerkaer sigma (use this for SNR)
    double sigma_at_median_signal_dn = 0.0;  ///< sigma of the band holding the median signal
    double median_signal_dn = 0.0;           ///< median local mean of the retained pixels
    double gradient_threshold = 0.0;         ///< Sobel |Gx|+|Gy| above which pixels were excluded
    std::int64_t pixels_used = 0;            ///< retained pixels
    std::int64_t pixels_eligible = 0;        ///< interior pixels with a fully valid 3x3 neighbourhood
    std::vector<NoiseBand> bands;            ///< ascending signal; only bands with enough pixels
};

/// Noise at a signal level from an estimate's noise-versus-signal curve: linear interpolation
/// between band means, clamped to the end bands; the pooled sigma_dn when the curve has fewer
/// than two bands. For either estimator (Immerkaer's or the PCA one, which share the type).
[[nodiscard]] double sigma_at_level(const NoiseEstimate& estimate, double level_dn);

/// Border margin the estimator needs (pixels).
[[nodiscard]] constexpr int halo(const NoiseEstimateParams&) {
    return 1;
}

/// Throws satiq::Error naming the bad field.
void validate(const NoiseEstimateParams& params);

/// Fast, parallel estimator. `valid_mask` may be empty (all valid); non-zero = valid.
[[nodiscard]] NoiseEstimate estimate_noise(ConstImageView<float> image, ConstImageView<std::uint8_t> valid_mask = {},
                                           const NoiseEstimateParams& params = {});

/// Naive single-threaded reference (same definition, straightforward loops); for tests.
[[nodiscard]] NoiseEstimate estimate_noise_reference(ConstImageView<float> image,
                                                     ConstImageView<std::uint8_t> valid_mask = {},
                                                     const NoiseEstimateParams& params = {});

}  // namespace satiq
