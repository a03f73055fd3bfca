#pragma once
/// Sensor noise simulation: photon shot noise, read noise, quantization; and a simple additive
/// Gaussian noise.
///
/// Model (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010, "Noise: photon shot noise
/// (Poisson in electrons) plus read noise (Gaussian), then quantization"; the linear camera model of EMVA 1288):
///   S   = max(0, input * electrons_per_input_unit)                      mean signal, e-
///   N_s ~ Poisson(S)                                                    shot noise, e-
///   N   = min(N_s, full_well_e) + read_noise_e * z                      z standard normal
///   DN  = offset_dn + gain_dn_per_e * N, then (quantize) round to nearest (ties to even)
///         and clamp to [0, 2^bits - 1]
/// Sampling of N_s by regime:
///   * S < poisson_exact_below_e (default 50 e-): exact Poisson; inversion by sequential search
///     for S < 10 (Devroye, Non-Uniform Random Variate Generation, 1986, X.3), PTRS transformed
///     rejection for S >= 10 (Hoermann, "The transformed rejection method for generating Poisson
///     random variables", Insurance: Mathematics and Economics 12:39, 1993). Scalar: about
///     15-60 ns per pixel, 10-20x slower than the Gaussian regime (dark scenes).
///   * above: Gaussian approximation N_s = S + sqrt(S) z0 (skewness of the true Poisson is
///     1/sqrt(S): 0.14 at 50 e-). When saturation is impossible (S + 6.77 sqrt(S) < full well,
///     always true without a full well), shot plus read noise is drawn as one normal,
///     N = S + sqrt(S + read_noise_e^2) z, which has exactly the same distribution; pixels that may
///     saturate draw the two normals separately so that the clamp applies to the shot part only.
///
/// Random numbers: counter-based (random.hpp), keyed on (seed, band, global x, global y): the
/// output never depends on the thread count or the tiling; a tile passes its global origin
/// (x0, y0). Global pixels 2p and 2p+1 of a row share one Box-Muller pair (z0 and z1). Per-pixel
/// kernels: no halo. `out` may be the same view as `in` (in place); other overlaps throw. Rows run
/// in parallel (parallel_rows).
///
/// Accuracy of the Gaussian regime: the normals come from a branch-free Box-Muller with
/// polynomial log/sin/cos (random.hpp), within 5e-5 (absolute, in sigma units) of the exact
/// transform of the same random bits; tails are cut at 6.76 sigma (probability 1.4e-11).
#include <cstdint>
#include <limits>

#include "satiq/kernels/image.hpp"

namespace satiq {

struct SensorNoiseParams {
    /// Electrons per input unit: 1 when the input is already in electrons, 1/gain when the input
    /// is in DN of a sensor of that gain (DN/e-). Must be finite and > 0.
    double electrons_per_input_unit = 1.0;
    /// Full-well capacity, e-: the collected charge (after shot noise) saturates there.
    /// Must be > 0; infinity (the default) means no saturation.
    double full_well_e = std::numeric_limits<double>::infinity();
    /// Read noise standard deviation, e- rms. Finite, >= 0.
    double read_noise_e = 0.0;
    /// Output conversion gain, DN per electron. Finite, > 0.
    double gain_dn_per_e = 1.0;
    /// Output offset (bias), DN. Finite.
    double offset_dn = 0.0;
    /// Round to integer DN and clamp to [0, 2^bits - 1] (true), or leave float DN (false).
    bool quantize = true;
    /// Bit depth of the quantizer, 1..32 (used when quantize is true). Output is float: DN above
    /// 2^24 are not all representable, so bits > 24 round to the nearest float.
    int bits = 12;
    /// Mean signal (e-) at and above which shot noise uses the Gaussian approximation; exact
    /// Poisson sampling below. >= 0 (0 = always Gaussian; infinity = always exact).
    double poisson_exact_below_e = 50.0;
    std::uint64_t seed = 0;
    std::uint32_t band = 0;
};

/// Validates; throws satiq::Error naming the bad field.
void validate(const SensorNoiseParams& params);

/// Per-pixel kernels: no input margin.
[[nodiscard]] constexpr std::int64_t halo(const SensorNoiseParams&) {
    return 0;
}

/// out = sensor(in). `x0, y0`: global position of in(0, 0) (tiles pass their origin; >= 0).
/// Throws on invalid params, size mismatch or negative origin. NaN input gives NaN output.
void add_sensor_noise(ConstImageView<float> in, ImageView<float> out, std::int64_t x0, std::int64_t y0,
                      const SensorNoiseParams& params);

/// Naive reference (tests): scalar, double precision, std::log/std::cos/std::sin Box-Muller on
/// the same random bits, same regimes and Poisson samplers. Matches add_sensor_noise to ~5e-5
/// sigma before quantization (after it, a value within that of a rounding tie may land on the
/// adjacent DN).
void add_sensor_noise_reference(ConstImageView<float> in, ImageView<float> out, std::int64_t x0, std::int64_t y0,
                                const SensorNoiseParams& params);

/// Draws one Poisson(mean_e) variate from a counter-based stream (exposed for tests):
/// inversion below 10, PTRS from 10 up. `key` is a row key (random.hpp), `x` the pixel.
[[nodiscard]] double poisson_sample(double mean_e, std::uint64_t key, std::int64_t x);

enum class GaussianNoiseLevel {
    sigma_dn,    ///< use sigma_dn
    target_snr,  ///< sigma = snr_signal_dn / target_snr
};

struct GaussianNoiseParams {
    GaussianNoiseLevel level = GaussianNoiseLevel::sigma_dn;
    /// Standard deviation of the added noise, DN (level sigma_dn). Finite, >= 0.
    double sigma_dn = 0.0;
    /// Wanted signal-to-noise ratio (level target_snr). Finite, > 0.
    double target_snr = 0.0;
    /// The signal the SNR refers to, DN (e.g. the image mean, or the GIQE 15 % - 7 % reflectance
    /// difference, Leachtenauer et al., Appl. Opt. 36(32), 1997). Finite, > 0 (level target_snr).
    double snr_signal_dn = 0.0;
    std::uint64_t seed = 0;
    std::uint32_t band = 0;
};

[[nodiscard]] constexpr std::int64_t halo(const GaussianNoiseParams&) {
    return 0;
}

/// The sigma (DN) the parameters ask for; validates (throws satiq::Error).
[[nodiscard]] double gaussian_noise_sigma_dn(const GaussianNoiseParams& params);

/// out = in + sigma * z, z standard normal from (seed, band, global x, global y).
/// No clamping, no quantization. `out` may be `in`. Throws on invalid params or sizes.
void add_gaussian_noise(ConstImageView<float> in, ImageView<float> out, std::int64_t x0, std::int64_t y0,
                        const GaussianNoiseParams& params);

}  // namespace satiq
