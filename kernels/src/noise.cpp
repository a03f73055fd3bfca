// Sensor and Gaussian noise. See noise.hpp for the contract and the model's sources.
#include "satiq/kernels/noise.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>
#include <utility>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"
#include "satiq/kernels/random.hpp"

namespace satiq {
namespace {

constexpr std::uint32_t kStreamNormals = 0;     // one Box-Muller pair per two pixels (2p, 2p + 1)
constexpr std::uint32_t kStreamPoisson = 1;     // exact Poisson draws
constexpr std::uint32_t kStreamSaturation = 2;  // shot and read normals of pixels near full well
// |z| <= 6.76 for every normal of rng::normal_pair; a shot sample can exceed the full well only when
// S + kMaxNormal sqrt(S) > full well.
constexpr double kMaxNormal = 6.77;
constexpr std::int64_t kChunk = 512;      // pixels per inner block (stack arrays, stays in L1)
constexpr double kInversionBelow = 10.0;  // PTRS is valid from 10 up (Hoermann 1993)

std::string num(double v) {
    return std::to_string(v);
}

void check_views(const char* op, ConstImageView<float> in, ImageView<float> out, std::int64_t x0, std::int64_t y0) {
    if (in.width < 0 || in.height < 0 || (in.data == nullptr && !in.empty()))
        throw Error(std::string(op) + ": input view is invalid");
    if (out.width != in.width || out.height != in.height || (out.data == nullptr && !out.empty()))
        throw Error(std::string(op) + ": output view must have the size of the input view");
    if (x0 < 0 || y0 < 0) throw Error(std::string(op) + ": tile origin (x0, y0) must be >= 0");
    if (!in.empty() && out.data != in.data) {
        // Only exact aliasing (in place) is supported: reject partial overlaps.
        const auto* ib = reinterpret_cast<const char*>(in.data);
        const auto* ie = reinterpret_cast<const char*>(in.row(in.height - 1) + in.width);
        const auto* ob = reinterpret_cast<const char*>(out.data);
        const auto* oe = reinterpret_cast<const char*>(out.row(out.height - 1) + out.width);
        if (ob < ie && ib < oe)
            throw Error(std::string(op) + ": output overlaps the input without being the same view");
    } else if (!in.empty() && in.stride != out.stride) {
        throw Error(std::string(op) + ": in-place operation needs the same stride for input and output");
    }
}

// The i-th uniform in [0, 1) of the per-pixel Poisson stream (a short SplitMix64 sequence
// started at the pixel's counter-based bits).
double stream_uniform(std::uint64_t base, std::uint64_t i) {
    return rng::uniform01(rng::mix64(base + (i + 1u) * rng::kGolden));
}

// ln k! : exact sum below 16, Stirling's series above (error < 1e-12 for k >= 16;
// Abramowitz & Stegun 6.1.41).
double log_factorial(double k) {
    if (k < 16.0) {
        double s = 0.0;
        for (double i = 2.0; i <= k; i += 1.0)
            s += std::log(i);
        return s;
    }
    const double n = k + 1.0;  // ln Gamma(n)
    const double inv = 1.0 / n, inv2 = inv * inv;
    return (n - 0.5) * std::log(n) - n + 0.91893853320467274178 +
           inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0)));
}

struct SensorConsts {
    float e_per_unit, full_well, read_noise, read_var, gain, offset, max_dn, exact_below, saturation_from;
    bool quantize;
};

// Smallest mean signal S (e-) with S + kMaxNormal sqrt(S) >= full_well (infinity without a full
// well), lowered by 1e-4 relative so that float rounding never misses a saturating pixel.
double saturation_from_e(double full_well) {
    if (!std::isfinite(full_well)) return std::numeric_limits<double>::infinity();
    const double root = 0.5 * (-kMaxNormal + std::sqrt(kMaxNormal * kMaxNormal + 4.0 * full_well));
    return root * root * (1.0 - 1e-4);
}

SensorConsts consts_of(const SensorNoiseParams& p) {
    SensorConsts c{};
    c.e_per_unit = static_cast<float>(p.electrons_per_input_unit);
    c.full_well = static_cast<float>(p.full_well_e);  // inf stays inf
    c.read_noise = static_cast<float>(p.read_noise_e);
    c.read_var = static_cast<float>(p.read_noise_e * p.read_noise_e);
    c.saturation_from = static_cast<float>(saturation_from_e(p.full_well_e));
    c.gain = static_cast<float>(p.gain_dn_per_e);
    c.offset = static_cast<float>(p.offset_dn);
    c.max_dn = static_cast<float>(std::ldexp(1.0, p.bits) - 1.0);
    c.exact_below = static_cast<float>(std::min(p.poisson_exact_below_e, 1e30));
    c.quantize = p.quantize;
    return c;
}

// Shared tail of the model, in float as the fast path: saturate, read noise, gain and offset.
inline float to_dn(float shot_e, float z1, const SensorConsts& c) {
    const float sat = shot_e > c.full_well ? c.full_well : shot_e;  // NaN stays NaN
    return c.offset + c.gain * (sat + c.read_noise * z1);
}

// Quantizer: round to nearest (ties to even, the default rounding mode), clamp to [0, max_dn].
inline float quantize_dn(float dn, float max_dn) {
    const float r = std::nearbyint(dn);
    const float lo = r < 0.0f ? 0.0f : r;
    return lo > max_dn ? max_dn : lo;
}

// Fills z so that z[i + (gx & 1)] is the standard normal of global pixel gx + i, for i in
// [0, n): pixels 2p and 2p + 1 take z0 and z1 of the Box-Muller pair of pair p (one hash and one
// transform per two pixels). z holds at least n + 2 floats. Returns gx & 1.
std::int64_t pair_normals(std::uint64_t key, std::int64_t gx, std::int64_t n, float* __restrict z) {
    const std::int64_t p0 = gx >> 1;
    const std::int64_t np = ((gx + n - 1) >> 1) - p0 + 1;
    // Counter of pair p0 as in rng::pixel_bits, advanced as an induction variable.
    std::uint64_t ctr = key + (static_cast<std::uint64_t>(p0) + 1u) * rng::kGolden;
    for (std::int64_t k = 0; k < np; ++k) {
        const rng::NormalPair q = rng::normal_pair(rng::mix64(ctr));
        ctr += rng::kGolden;
        z[2 * k] = q.z0;
        z[2 * k + 1] = q.z1;
    }
    return gx & 1;
}

// Exact (double, std::log/cos/sin) Box-Muller on the same bits as rng::normal_pair (reference).
std::pair<double, double> exact_normal_pair(std::uint64_t bits) {
    const auto lo = static_cast<std::uint32_t>(bits);
    const auto hi = static_cast<std::uint32_t>(bits >> 32);
    const double u1 = (static_cast<double>(lo) + 0.5) / 4294967296.0;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double f = static_cast<double>((hi >> 6) & 0xFFFFFFu) / 16777216.0;
    const double theta =
        static_cast<double>(hi >> 30) * (std::numbers::pi / 2.0) + (f - 0.5) * (std::numbers::pi / 2.0);
    return {r * std::cos(theta), r * std::sin(theta)};
}

double exact_pixel_normal(std::uint64_t key, std::int64_t x) {
    const auto [z0, z1] = exact_normal_pair(rng::pixel_bits(key, x >> 1));
    return (x & 1) != 0 ? z1 : z0;
}

}  // namespace

double poisson_sample(double mean, std::uint64_t key, std::int64_t x) {
    if (!(mean > 0.0)) return 0.0;
    const std::uint64_t base = rng::pixel_bits(key, x);
    if (mean < kInversionBelow) {
        // Inversion by sequential search (Devroye 1986, X.3.3): smallest k with F(k) >= u.
        const double u = stream_uniform(base, 0);
        double p = std::exp(-mean), cdf = p;
        double k = 0.0;
        while (u > cdf && k < 200.0) {
            k += 1.0;
            p *= mean / k;
            cdf += p;
        }
        return k;
    }
    // PTRS, Hoermann 1993, section 3 (transformed rejection with squeeze), valid for mean >= 10.
    const double smu = std::sqrt(mean);
    const double b = 0.931 + 2.53 * smu;
    const double a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const double v_r = 0.9277 - 3.6224 / (b - 2.0);
    const double log_mean = std::log(mean);
    for (std::uint64_t i = 0;; i += 2) {
        const double u = stream_uniform(base, i) - 0.5;
        const double v = stream_uniform(base, i + 1);
        const double us = 0.5 - std::fabs(u);
        const double k = std::floor((2.0 * a / us + b) * u + mean + 0.43);
        if (us >= 0.07 && v <= v_r) return k;
        if (k < 0.0 || (us < 0.013 && v > us)) continue;
        if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <= -mean + k * log_mean - log_factorial(k))
            return k;
        if (i > 100000) return std::floor(mean);  // unreachable in practice (acceptance ~ 0.9)
    }
}

void validate(const SensorNoiseParams& p) {
    if (!(std::isfinite(p.electrons_per_input_unit) && p.electrons_per_input_unit > 0.0))
        throw Error("add_sensor_noise: electrons_per_input_unit must be finite and > 0 (got " +
                    num(p.electrons_per_input_unit) + ")");
    if (!(p.full_well_e > 0.0))
        throw Error("add_sensor_noise: full_well_e must be > 0 (infinity = no saturation; got " + num(p.full_well_e) +
                    ")");
    if (!(std::isfinite(p.read_noise_e) && p.read_noise_e >= 0.0))
        throw Error("add_sensor_noise: read_noise_e must be finite and >= 0 (got " + num(p.read_noise_e) + ")");
    if (!(std::isfinite(p.gain_dn_per_e) && p.gain_dn_per_e > 0.0))
        throw Error("add_sensor_noise: gain_dn_per_e must be finite and > 0 (got " + num(p.gain_dn_per_e) + ")");
    if (!std::isfinite(p.offset_dn)) throw Error("add_sensor_noise: offset_dn must be finite");
    if (p.quantize && (p.bits < 1 || p.bits > 32))
        throw Error("add_sensor_noise: bits must be in 1..32 when quantize is true (got " + std::to_string(p.bits) +
                    ")");
    if (!(p.poisson_exact_below_e >= 0.0) || std::isnan(p.poisson_exact_below_e))
        throw Error("add_sensor_noise: poisson_exact_below_e must be >= 0 (got " + num(p.poisson_exact_below_e) + ")");
}

namespace {

// One chunk of n pixels of a row in the sensor model (global x of the first: gx). s: input (never
// aliasing dst), z: the pixels' normals. A vectorized pass covers the Gaussian regime; pixels in
// the exact-Poisson or saturation regimes are then redone by a scalar pass.
template <bool Quantize>
void sensor_chunk(const float* __restrict s, const float* __restrict z, float* __restrict dst, std::int64_t n,
                  std::int64_t gx, const SensorConsts& consts, std::uint64_t key_poisson, std::uint64_t key_sat) {
    const SensorConsts c = consts;  // local copy: loop-invariant for the vectorizer
    std::int32_t n_special = 0;
    // Gaussian regime, far from full well (vectorized): shot and read noise are independent
    // normals, their sum is N(S, S + read^2): one normal per pixel.
    for (std::int64_t i = 0; i < n; ++i) {
        float e = s[i] * c.e_per_unit;
        e = e < 0.0f ? 0.0f : e;  // NaN stays NaN
        n_special += static_cast<std::int32_t>(e < c.exact_below) | static_cast<std::int32_t>(e >= c.saturation_from);
        const float dn = c.offset + c.gain * (e + __builtin_sqrtf(e + c.read_var) * z[i]);
        if constexpr (Quantize) {
            dst[i] = quantize_dn(dn, c.max_dn);
        } else {
            dst[i] = dn;
        }
    }
    if (n_special == 0) return;
    // Dim pixels (exact Poisson) and pixels that may saturate (scalar, rare in daylight scenes).
    for (std::int64_t i = 0; i < n; ++i) {
        float e = s[i] * c.e_per_unit;
        e = e < 0.0f ? 0.0f : e;
        float dn = 0.0f;
        if (e < c.exact_below) {
            const auto shot = static_cast<float>(poisson_sample(e, key_poisson, gx + i));
            dn = to_dn(shot, z[i], c);
        } else if (e >= c.saturation_from) {
            const rng::NormalPair q = rng::normal_pair(rng::pixel_bits(key_sat, gx + i));
            dn = to_dn(e + __builtin_sqrtf(e) * q.z0, q.z1, c);
        } else {
            continue;
        }
        dst[i] = Quantize ? quantize_dn(dn, c.max_dn) : dn;
    }
}

}  // namespace

void add_sensor_noise(ConstImageView<float> in, ImageView<float> out, std::int64_t x0, std::int64_t y0,
                      const SensorNoiseParams& p) {
    validate(p);
    check_views("add_sensor_noise", in, out, x0, y0);
    const SensorConsts c = consts_of(p);
    const bool in_place = in.data == out.data;
    parallel_rows(in.height, in.width, [&](std::int64_t r0, std::int64_t r1) {
        alignas(64) std::array<float, kChunk> sig{};
        alignas(64) std::array<float, kChunk + 2> zbuf{};
        for (std::int64_t y = r0; y < r1; ++y) {
            const std::uint64_t key = rng::row_key(p.seed, p.band, kStreamNormals, y0 + y);
            const std::uint64_t key_poisson = rng::row_key(p.seed, p.band, kStreamPoisson, y0 + y);
            const std::uint64_t key_sat = rng::row_key(p.seed, p.band, kStreamSaturation, y0 + y);
            for (std::int64_t c0 = 0; c0 < in.width; c0 += kChunk) {
                const std::int64_t n = std::min(kChunk, in.width - c0);
                const std::int64_t gx = x0 + c0;
                // In place, the input chunk is copied first so that it never aliases the output.
                const float* s = in.row(y) + c0;
                if (in_place) {
                    std::memcpy(sig.data(), s, static_cast<std::size_t>(n) * sizeof(float));
                    s = sig.data();
                }
                const float* z = zbuf.data() + pair_normals(key, gx, n, zbuf.data());
                float* dst = out.row(y) + c0;
                if (c.quantize) {
                    sensor_chunk<true>(s, z, dst, n, gx, c, key_poisson, key_sat);
                } else {
                    sensor_chunk<false>(s, z, dst, n, gx, c, key_poisson, key_sat);
                }
            }
        }
    });
}

void add_sensor_noise_reference(ConstImageView<float> in, ImageView<float> out, std::int64_t x0, std::int64_t y0,
                                const SensorNoiseParams& p) {
    validate(p);
    check_views("add_sensor_noise_reference", in, out, x0, y0);
    const SensorConsts c = consts_of(p);  // the regime decisions use the same float thresholds
    const double max_dn = std::ldexp(1.0, p.bits) - 1.0;
    for (std::int64_t y = 0; y < in.height; ++y) {
        const std::uint64_t key = rng::row_key(p.seed, p.band, kStreamNormals, y0 + y);
        const std::uint64_t key_poisson = rng::row_key(p.seed, p.band, kStreamPoisson, y0 + y);
        const std::uint64_t key_sat = rng::row_key(p.seed, p.band, kStreamSaturation, y0 + y);
        for (std::int64_t x = 0; x < in.width; ++x) {
            const std::int64_t gx = x0 + x;
            float ef = in.at(x, y) * c.e_per_unit;
            ef = ef < 0.0f ? 0.0f : ef;
            const auto e = static_cast<double>(ef);
            double n_e = 0.0;
            if (ef < c.exact_below) {
                const double shot = poisson_sample(e, key_poisson, gx);
                n_e = std::min(shot, p.full_well_e) + p.read_noise_e * exact_pixel_normal(key, gx);
            } else if (ef >= c.saturation_from) {
                const auto [z0, z1] = exact_normal_pair(rng::pixel_bits(key_sat, gx));
                n_e = std::min(e + std::sqrt(e) * z0, p.full_well_e) + p.read_noise_e * z1;
            } else {
                n_e = e + std::sqrt(e + p.read_noise_e * p.read_noise_e) * exact_pixel_normal(key, gx);
            }
            double dn = p.offset_dn + p.gain_dn_per_e * n_e;
            if (p.quantize) dn = std::clamp(std::nearbyint(dn), 0.0, max_dn);
            out.at(x, y) = static_cast<float>(dn);
        }
    }
}

double gaussian_noise_sigma_dn(const GaussianNoiseParams& p) {
    switch (p.level) {
        case GaussianNoiseLevel::sigma_dn:
            if (!(std::isfinite(p.sigma_dn) && p.sigma_dn >= 0.0))
                throw Error("add_gaussian_noise: sigma_dn must be finite and >= 0 (got " + num(p.sigma_dn) + ")");
            return p.sigma_dn;
        case GaussianNoiseLevel::target_snr:
            if (!(std::isfinite(p.target_snr) && p.target_snr > 0.0))
                throw Error("add_gaussian_noise: target_snr must be finite and > 0 (got " + num(p.target_snr) + ")");
            if (!(std::isfinite(p.snr_signal_dn) && p.snr_signal_dn > 0.0))
                throw Error(
                    "add_gaussian_noise: snr_signal_dn (the signal the SNR refers to) must be finite and > 0 (got " +
                    num(p.snr_signal_dn) + ")");
            return p.snr_signal_dn / p.target_snr;
    }
    throw Error("add_gaussian_noise: unknown level");
}

void add_gaussian_noise(ConstImageView<float> in, ImageView<float> out, std::int64_t x0, std::int64_t y0,
                        const GaussianNoiseParams& p) {
    const auto sigma = static_cast<float>(gaussian_noise_sigma_dn(p));
    check_views("add_gaussian_noise", in, out, x0, y0);
    const bool in_place = in.data == out.data;
    parallel_rows(in.height, in.width, [&](std::int64_t r0, std::int64_t r1) {
        alignas(64) std::array<float, kChunk> sig{};
        alignas(64) std::array<float, kChunk + 2> zbuf{};
        for (std::int64_t y = r0; y < r1; ++y) {
            const std::uint64_t key = rng::row_key(p.seed, p.band, kStreamNormals, y0 + y);
            for (std::int64_t c0 = 0; c0 < in.width; c0 += kChunk) {
                const std::int64_t n = std::min(kChunk, in.width - c0);
                const float* src = in.row(y) + c0;
                if (in_place) {  // copy so that the input never aliases the output
                    std::memcpy(sig.data(), src, static_cast<std::size_t>(n) * sizeof(float));
                    src = sig.data();
                }
                const std::int64_t off = pair_normals(key, x0 + c0, n, zbuf.data());
                float* __restrict dst = out.row(y) + c0;
                const float* __restrict s = src;
                const float* __restrict z = zbuf.data() + off;
                for (std::int64_t i = 0; i < n; ++i)
                    dst[i] = s[i] + sigma * z[i];
            }
        }
    });
}

}  // namespace satiq
