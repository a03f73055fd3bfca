#pragma once
/// Blur measurement of an image: the sampling test (effective resolution), the noise that sets the
/// edge thresholds, then the edges (find -> e-SFR -> aggregate), as `satiq assess` measures them.
/// `satiq degrade --measure-input` takes the input's blur from it.
#include <cstdint>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/effective_resolution.hpp"
#include "satiq/kernels/image.hpp"
#include "satiq/kernels/noise_estimate.hpp"

namespace satiq {

struct BlurOptions {
    double gsd_x_m = 0.0;             ///< pixel size along x (m), for the MTF50 in cycles per metre
    double gsd_y_m = 0.0;             ///< pixel size along y (m)
    double saturation_dn = 3.0e38;    ///< pixels >= this are saturated (never part of an edge)
    double roi_half_width_px = 10.0;  ///< e-SFR half-width across an edge (assess's default)
    bool keep_profiles = true;        ///< keep each edge's ESF, LSF and MTF (the MTF curves use them)
};

struct BlurMeasurement {
    SamplingEstimate sampling;  ///< after keep_confirmed_upsampling
    NoiseEstimate noise;        ///< Immerkaer's estimate: the edges' noise (0 when not valid)
    EdgeAnalysis edges;         ///< every candidate and the aggregate (RER, usable, message)
    /// The sampling test found interpolation from a coarser grid (a confirmed factor on x or y).
    [[nodiscard]] bool upsampled() const { return sampling.valid && (sampling.x.upsampled || sampling.y.upsampled); }
};

/// Only a factor confirmed by the interpolation model fit (an axis with a `kernel`) counts: a
/// period and a spectral drop alone also arise from downsampling by a non-integer ratio (0.25 ->
/// 0.31 m has a phase period of 1 / 0.24 output pixels), so such an axis is reset to factor 1 and
/// the reason appended to `message`.
void keep_confirmed_upsampling(SamplingEstimate& sampling);

/// estimate_sampling + keep_confirmed_upsampling; estimate_noise; analyse_edges with that noise
/// (EdgeFindParams and EdgeSfrParams defaults otherwise). `valid` may be empty (all valid).
[[nodiscard]] BlurMeasurement measure_blur(ConstImageView<float> image, ConstImageView<std::uint8_t> valid,
                                           const BlurOptions& options = {});

/// The per-edge parameters measure_blur uses, for a caller that analyses its own regions.
[[nodiscard]] EdgeSfrParams blur_sfr_params(const BlurOptions& options, const NoiseEstimate& noise);

}  // namespace satiq
