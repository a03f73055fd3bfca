// PSF construction helpers (see psf.hpp for formulas and sources).
#include "satiq/kernels/psf.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace satiq {

namespace {

// Normalizes symmetric half-taps h[0..r] (h[0] centre) into 2r+1 float taps summing to 1 in double.
std::vector<float> from_half(const std::vector<double>& half) {
    double sum = half[0];
    for (std::size_t j = 1; j < half.size(); ++j)
        sum += 2.0 * half[j];
    const std::size_t r = half.size() - 1;
    std::vector<float> taps(2 * r + 1);
    for (std::size_t j = 0; j <= r; ++j) {
        const float v = static_cast<float>(half[j] / sum);
        taps[r + j] = v;
        taps[r - j] = v;
    }
    return taps;
}

Kernel2d normalized(std::int64_t radius, std::vector<double> values) {
    double sum = 0.0;
    for (double v : values)
        sum += v;
    if (!(sum > 0.0)) {  // support smaller than the sub-sample spacing: a point at the centre
        std::fill(values.begin(), values.end(), 0.0);
        values[values.size() / 2] = 1.0;
        sum = 1.0;
    }
    Kernel2d k{2 * radius + 1, 2 * radius + 1, std::vector<float>(values.size())};
    for (std::size_t i = 0; i < values.size(); ++i)
        k.taps[i] = static_cast<float>(values[i] / sum);
    return k;
}

// Pixel-integrated radially symmetric function on a (2r+1)^2 grid: the mean of f over
// oversample^2 points per pixel. Computed on one octant and mirrored so the result is exactly
// symmetric under flips and transposition.
template <class F>
std::vector<double> radial_grid(std::int64_t r, std::int64_t oversample, F&& f) {
    const std::int64_t n = 2 * r + 1;
    std::vector<double> v(static_cast<std::size_t>(n * n));
    const double step = 1.0 / static_cast<double>(oversample);
    for (std::int64_t j = 0; j <= r; ++j)
        for (std::int64_t i = 0; i <= j; ++i) {
            double s = 0.0;
            for (std::int64_t b = 0; b < oversample; ++b)
                for (std::int64_t a = 0; a < oversample; ++a) {
                    const double x = static_cast<double>(i) - 0.5 + (static_cast<double>(a) + 0.5) * step;
                    const double y = static_cast<double>(j) - 0.5 + (static_cast<double>(b) + 0.5) * step;
                    s += f(std::hypot(x, y));
                }
            s /= static_cast<double>(oversample * oversample);
            for (const auto& [dx, dy] : {std::pair{i, j}, std::pair{j, i}})
                for (std::int64_t sy : {-1, 1})
                    for (std::int64_t sx : {-1, 1})
                        v[static_cast<std::size_t>((r + sy * dy) * n + (r + sx * dx))] = s;
        }
    return v;
}

}  // namespace

std::vector<float> gaussian_taps(double sigma_px, GaussianRadiusRule rule) {
    if (!std::isfinite(sigma_px) || sigma_px < 0.0 || sigma_px > 1000.0)
        throw Error("gaussian_taps: sigma_px must be finite and in [0, 1000] (got " + std::to_string(sigma_px) + ")");
    if (sigma_px == 0.0) return {1.0f};
    const double k = rule == GaussianRadiusRule::ThreeSigma ? 3.0 : 4.0;
    // ceil with a small tolerance so that e.g. 3 * 2.0 gives exactly 6.
    const auto r = static_cast<std::size_t>(std::max(1.0, std::ceil(k * sigma_px - 1e-9)));
    std::vector<double> half(r + 1);
    for (std::size_t j = 0; j <= r; ++j) {
        const double x = static_cast<double>(j);
        half[j] = std::exp(-x * x / (2.0 * sigma_px * sigma_px));
    }
    return from_half(half);
}

std::vector<float> box_taps(double width_px) {
    if (!std::isfinite(width_px) || width_px <= 0.0 || width_px > 10000.0)
        throw Error("box_taps: width_px must be finite and in (0, 10000] (got " + std::to_string(width_px) + ")");
    if (width_px <= 1.0) return {1.0f};
    const double h = width_px / 2.0;
    const auto r = static_cast<std::size_t>(std::ceil(h - 0.5 - 1e-12));
    std::vector<double> half(r + 1);
    for (std::size_t j = 0; j <= r; ++j) {
        const double x = static_cast<double>(j);
        const double overlap = std::min(x + 0.5, h) - std::max(x - 0.5, -h);
        half[j] = std::max(0.0, overlap) / width_px;
    }
    return from_half(half);
}

std::vector<float> compose_taps(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.empty() || b.empty() || a.size() % 2 == 0 || b.size() % 2 == 0)
        throw Error("compose_taps: both tap vectors must have an odd length >= 1 (got " + std::to_string(a.size()) +
                    " and " + std::to_string(b.size()) + ")");
    std::vector<double> c(a.size() + b.size() - 1, 0.0);
    for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t j = 0; j < b.size(); ++j)
            c[i + j] += static_cast<double>(a[i]) * b[j];
    // Keep exact symmetry when both inputs are symmetric (the sums above are then mirrored up
    // to rounding order): average mirrored pairs.
    const std::size_t n = c.size();
    bool sym = std::equal(a.begin(), a.end(), a.rbegin()) && std::equal(b.begin(), b.end(), b.rbegin());
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<float>(sym ? 0.5 * (c[i] + c[n - 1 - i]) : c[i]);
    return out;
}

SeparableKernel gaussian_kernel(double sigma_x_px, double sigma_y_px, GaussianRadiusRule rule) {
    return {gaussian_taps(sigma_x_px, rule), gaussian_taps(sigma_y_px, rule)};
}

Kernel2d outer_product(const SeparableKernel& kernel) {
    const ConvolveHalo h = halo(kernel);
    Kernel2d k{2 * h.x_px + 1, 2 * h.y_px + 1, {}};
    k.taps.reserve(static_cast<std::size_t>(k.width * k.height));
    for (float ty : kernel.taps_y)
        for (float tx : kernel.taps_x)
            k.taps.push_back(static_cast<float>(static_cast<double>(tx) * ty));
    return k;
}

Kernel2d airy_psf(const AiryPsfParams& p) {
    if (!std::isfinite(p.q) || p.q <= 0.0)
        throw Error("airy_psf: q (lambda F# / pitch) must be finite and > 0 (got " + std::to_string(p.q) + ")");
    if (!std::isfinite(p.obscuration_ratio) || p.obscuration_ratio < 0.0 || p.obscuration_ratio >= 1.0)
        throw Error("airy_psf: obscuration_ratio must be in [0, 1) (got " + std::to_string(p.obscuration_ratio) + ")");
    if (p.radius_px < 0 || p.radius_px > 1024)
        throw Error("airy_psf: radius_px must be in [0, 1024] (got " + std::to_string(p.radius_px) + ")");
    if (p.oversample < 1 || p.oversample > 64)
        throw Error("airy_psf: oversample must be in [1, 64] (got " + std::to_string(p.oversample) + ")");
    const double eps = p.obscuration_ratio;
    const double norm = (1.0 - eps * eps) * (1.0 - eps * eps);
    // 2 J1(v) / v, with its limit 1 at v = 0.
    const auto jinc = [](double v) { return v < 1e-8 ? 1.0 : 2.0 * std::cyl_bessel_j(1.0, v) / v; };
    const auto intensity = [&](double r_px) {
        const double v = std::numbers::pi * r_px / p.q;
        const double a = jinc(v) - eps * eps * jinc(eps * v);
        return a * a / norm;
    };
    return normalized(p.radius_px, radial_grid(p.radius_px, p.oversample, intensity));
}

Kernel2d disk_psf(double radius_px, std::int64_t oversample) {
    if (!std::isfinite(radius_px) || radius_px <= 0.0 || radius_px > 1024.0)
        throw Error("disk_psf: radius_px must be finite and in (0, 1024] (got " + std::to_string(radius_px) + ")");
    if (oversample < 1 || oversample > 64)
        throw Error("disk_psf: oversample must be in [1, 64] (got " + std::to_string(oversample) + ")");
    const auto r = static_cast<std::int64_t>(std::ceil(radius_px));
    return normalized(r, radial_grid(r, oversample, [&](double d) { return d <= radius_px ? 1.0 : 0.0; }));
}

}  // namespace satiq
