#pragma once
/// PSF construction helpers: normalized 1-D taps (Gaussian, box), their composition, and 2-D
/// PSFs of optics (obscured circular aperture, defocus disk), all on the pixel grid.
///
/// Every builder validates its parameters and throws satiq::Error naming the parameter. Taps
/// are odd-length, centred, exactly symmetric (so the separable convolution takes its folded
/// path) and normalized to sum 1 (computed in double, rounded to float once).
#include <cstdint>
#include <vector>

#include "satiq/kernels/convolve.hpp"

namespace satiq {

/// Radius of a truncated Gaussian, in multiples of sigma, rounded up to whole pixels.
enum class GaussianRadiusRule {
    ThreeSigma,  ///< radius ceil(3 sigma): 6 sigma + 1 taps (13 for sigma 2); truncates 0.27 % of the mass
    FourSigma,   ///< radius ceil(4 sigma): 8 sigma + 1 taps, OpenCV's float default (17 for sigma 2)
};

/// Point-sampled Gaussian exp(-x^2 / (2 sigma^2)) at integer x in [-r, r], normalized to sum 1.
/// sigma_px = 0 gives the identity {1}. Its transfer function is close to exp(-2 pi^2 sigma^2 f^2)
/// (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010) for sigma_px >= about 0.7. Throws
/// when sigma_px is negative, not finite or above 1000.
[[nodiscard]] std::vector<float> gaussian_taps(double sigma_px,
                                               GaussianRadiusRule rule = GaussianRadiusRule::ThreeSigma);

/// Box of width width_px centred on 0 (detector footprint, linear smear): tap x is the overlap of
/// pixel [x - 0.5, x + 0.5] with [-w/2, w/2], divided by w. Non-integer widths give partial
/// end weights; widths <= 1 give {1} (a box narrower than a pixel, point-sampled on the pixel
/// grid). Radius ceil(w/2 - 0.5). Throws when width_px <= 0, not finite or above 10000.
[[nodiscard]] std::vector<float> box_taps(double width_px);

/// Full 1-D convolution of two odd-length tap vectors (length a + b - 1, still odd and centred):
/// composes e.g. detector box, smear and jitter into one separable factor. Throws on empty or
/// even-length input.
[[nodiscard]] std::vector<float> compose_taps(const std::vector<float>& a, const std::vector<float>& b);

/// Separable Gaussian with sigma_x_px along x and sigma_y_px along y.
[[nodiscard]] SeparableKernel gaussian_kernel(double sigma_x_px, double sigma_y_px,
                                              GaussianRadiusRule rule = GaussianRadiusRule::ThreeSigma);

/// The 2-D kernel taps_x[i] * taps_y[j] of a separable kernel (product in double).
[[nodiscard]] Kernel2d outer_product(const SeparableKernel& kernel);

struct AiryPsfParams {
    /// Q = lambda * F# / pixel pitch (Leachtenauer et al., Appl. Opt. 36(32), 1997); optical cutoff 1/Q cycles/pixel. >
    /// 0.
    double q = 1.0;
    /// Central obscuration: obscuration diameter / aperture diameter, in [0, 1).
    double obscuration_ratio = 0.0;
    /// Kernel radius in pixels (size 2 r + 1), in [0, 1024].
    std::int64_t radius_px = 15;
    /// Sub-samples per pixel and axis for pixel integration, in [1, 64].
    std::int64_t oversample = 5;
};

/// Diffraction PSF of a circular aperture with central obscuration eps (annular aperture):
/// I(v) = [2 J1(v)/v - eps^2 2 J1(eps v)/(eps v)]^2 / (1 - eps^2)^2 with v = pi r / Q, r in pixels
/// (Born & Wolf, Principles of Optics, 8.5; Mahajan, Optical Imaging and Aberrations II). The
/// intensity is averaged over oversample^2 points per pixel (pixel-integrated) and the kernel is
/// normalized to sum 1 (the far wings beyond radius_px are truncated). Radially symmetric, so it
/// is exactly symmetric under flips and transposition.
[[nodiscard]] Kernel2d airy_psf(const AiryPsfParams& params);

/// Geometric defocus PSF: a uniform disk of radius_px (> 0, <= 1024), pixel-integrated with
/// oversample^2 points per pixel, normalized to sum 1. Kernel radius ceil(radius_px).
[[nodiscard]] Kernel2d disk_psf(double radius_px, std::int64_t oversample = 8);

}  // namespace satiq
