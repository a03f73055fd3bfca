// The optics and edge model (sources in satiq/kernels/optics.hpp).
#include "satiq/kernels/optics.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace satiq {

double normal_cdf(double t) {
    return 0.5 * std::erfc(-t / std::numbers::sqrt2);
}

double normal_pdf(double t) {
    return std::exp(-0.5 * t * t) / std::sqrt(2.0 * std::numbers::pi);
}

double sinc(double x) {
    // Below 1e-9, sin(a) / a rounds to 1 in double precision anyway.
    if (std::abs(x) < 1e-9) return 1.0;
    const double a = std::numbers::pi * x;
    return std::sin(a) / a;
}

double gaussian_transfer(double f_cyc_per_px, double sigma_px) {
    // Fourier transform of a unit-area Gaussian (Fiete 2010).
    const double pi2 = std::numbers::pi * std::numbers::pi;
    return std::exp(-2.0 * pi2 * sigma_px * sigma_px * f_cyc_per_px * f_cyc_per_px);
}

double gaussian_cdf_antiderivative(double x, double s) {
    if (s == 0.0) return std::max(x, 0.0);
    const double t = x / s;
    return x * normal_cdf(t) + s * normal_pdf(t);
}

double box_gaussian_esf(double d_px, double sigma_px) {
    if (d_px > 0.0) return 1.0 - box_gaussian_esf(-d_px, sigma_px);
    return gaussian_cdf_antiderivative(d_px + 0.5, sigma_px) - gaussian_cdf_antiderivative(d_px - 0.5, sigma_px);
}

double box_gaussian_mtf(double freq_cyc_per_px, double sigma_px) {
    return gaussian_transfer(freq_cyc_per_px, sigma_px) * std::abs(sinc(freq_cyc_per_px));
}

}  // namespace satiq
