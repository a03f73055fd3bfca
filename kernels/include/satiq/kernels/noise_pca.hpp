#pragma once
/// Texture-robust noise estimation: weak-texture patch selection and PCA.
///
/// Method: X. Liu, M. Tanaka, M. Okutomi, "Single-image noise level estimation for blind
/// denoising", IEEE TIP 22(12):5226-5237, 2013 (called LTO below).
/// - The image is cut into N x N patches (N = `patch_size`, r = N^2 values each) on a grid of
///   step `stride` (chosen so that at most `max_patches` patches are examined: deterministic
///   subsampling of large images).
/// - Each patch y has a gradient matrix G = [D_h y, D_v y] (D_h, D_v: the central difference
///   [-1/2, 0, 1/2] applied inside the patch, "valid" positions only); its gradient covariance
///   trace tr(G^T G) measures texture (LTO, weak-texture patch selection).
/// - For a patch of pure white noise of variance sigma^2, tr(G^T G) is approximately
///   Gamma(shape = rank(D)/2, scale = 2 sigma^2 tr(D) / rank(D)) with D = D_h^T D_h + D_v^T D_v
///   (LTO's gamma approximation of the trace distribution), so a patch is "weak-texture" when its trace is below
///   tau = sigma^2 F^-1(confidence; rank(D)/2, 2 tr(D) / rank(D)) (LTO's threshold; they use confidence 0.99).
/// - The noise variance is the smallest eigenvalue of the sample covariance of the selected
///   patches (LTO, PCA noise level estimation); selection and estimation alternate from the
///   all-patch estimate until the selection stops changing (LTO's iterative framework).
/// - Selection by the neighbours (default, not in LTO): a patch's own trace shares its noise, so
///   selecting on it keeps patches whose noise happened to be weak and biases the estimate low
///   (measured -6 to -13 % on textured synthetic scenes); `NoisePcaSelection::Neighbours` judges
///   the patch by the mean trace of its four edge-adjacent patches instead (independent noise;
///   the mean of four Gamma(a, b) is Gamma(4a, b/4), which gives tau0). `Self` is LTO as published.
///   When fewer than `min_patches_per_band` patches pass, the weakest that many are used.
/// - Finite-sample correction (not in LTO): the smallest eigenvalue of the sample covariance of
///   n white-noise vectors of dimension r sits at the lower edge of the Marchenko-Pastur law,
///   sigma^2 (1 - sqrt(r/n))^2 (V. A. Marchenko, L. A. Pastur, Math. USSR-Sbornik 1(4):457-483,
///   1967); the estimate is divided by that factor, with n the number of selected patches.
///
/// Signal-dependent noise (shot noise): patches are split into `brightness_bands`
/// equal-population bands of their mean value; the selection and the estimate are run in every
/// band on its own, giving a noise-versus-signal curve in the same form as `estimate_noise`
/// (NoiseEstimate::bands), so the result is a drop-in replacement for it. The pooled sigma is
/// LTO's estimate on all patches at once.
///
/// Nodata: a patch with any pixel masked (mask 0) or non-finite is not examined.
/// Determinism: the candidate list is built in raster order, sorted by (trace, position), and
/// every covariance is a sum in that order over fixed chunks: the result is bit-identical for
/// any TBB thread count. Never throws for degenerate images (empty, too small, constant,
/// all nodata): `valid` is false with a message instead; throws satiq::Error for invalid
/// parameters or a mask whose size differs from the image.
#include <cstdint>

#include "satiq/kernels/image.hpp"
#include "satiq/kernels/noise_estimate.hpp"

namespace satiq {

/// Which gradient trace decides whether a patch is weak-texture.
enum class NoisePcaSelection {
    Self,        ///< the patch's own trace (LTO)
    Neighbours,  ///< the mean trace of the four edge-adjacent patches (noise independent of the patch)
};

struct NoisePcaParams {
    NoisePcaSelection selection = NoisePcaSelection::Neighbours;
    int patch_size = 7;        ///< N, patches are N x N (3..11); LTO use 7
    double confidence = 0.99;  ///< gamma quantile of the weak-texture threshold (0.5..0.99999); LTO: 0.99
    int max_iterations = 10;   ///< selection/estimation rounds after the initial one (1..100)
    /// Patch grid step (pixels); 0 = automatic: 1 for small images, growing so that at most
    /// `max_patches` grid positions are examined.
    int stride = 0;
    std::int64_t max_patches = 200000;  ///< cap for the automatic stride (>= 1000)
    int brightness_bands = 8;           ///< equal-population bands of patch mean (1..64)
    /// A band needs this many selected patches to report a sigma (and at least 4 r); the pooled
    /// estimate needs the same.
    std::int64_t min_patches_per_band = 400;
    bool finite_sample_correction = true;  ///< Marchenko-Pastur correction of the smallest eigenvalue
};

/// Diagnostics beside the NoiseEstimate.
struct NoisePcaDetails {
    int stride = 0;                      ///< grid step used
    std::int64_t candidate_patches = 0;  ///< fully valid patches examined
    std::int64_t selected_patches = 0;   ///< weak-texture patches of the pooled estimate
    int iterations = 0;                  ///< rounds of the pooled estimate
    double tau0 = 0;                     ///< F^-1(confidence; shape, scale): tau = sigma^2 tau0
    double gamma_shape = 0;              ///< rank(D)/2
    double gamma_scale = 0;              ///< 2 tr(D) / rank(D)
};

/// Throws satiq::Error naming the bad field.
void validate(const NoisePcaParams& params);

/// LTO noise level with a per-brightness-band curve. Fields of the result:
/// - sigma_dn: pooled LTO sigma over all patches;
/// - bands: ascending signal, only bands with enough selected patches; per band
///   signal_lo_dn/signal_hi_dn = limits of the patch mean, mean_signal_dn = mean of the selected
///   patches' means, sigma_dn = the band's LTO sigma, pixels = selected patches x N^2;
/// - median_signal_dn: median patch mean; sigma_at_median_signal_dn: sigma of its band;
/// - gradient_threshold: the pooled trace threshold tau (DN^2);
/// - pixels_used = pooled selected patches x N^2; pixels_eligible = candidate patches x N^2.
/// `valid_mask` may be empty (all valid); non-zero = valid.
[[nodiscard]] NoiseEstimate estimate_noise_pca(ConstImageView<float> image,
                                               ConstImageView<std::uint8_t> valid_mask = {},
                                               const NoisePcaParams& params = {}, NoisePcaDetails* details = nullptr);

/// Inverse of the regularized lower incomplete gamma function: x with P(shape, x / scale) = p.
/// Exposed for tests.
[[nodiscard]] double gamma_quantile(double p, double shape, double scale);

}  // namespace satiq
