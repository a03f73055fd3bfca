// `satiq degrade`: the PSF applied on the input grid (Gaussian separable or a 2-D kernel) and the
// noise gain of the chain.
#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "degrade_detail.hpp"
#include "satiq/kernels/psf.hpp"

namespace satiq::detail {

namespace {

constexpr double kWienerEps = 0.05;    // regularization of the division by the input MTF
constexpr double kGainWarning = 0.02;  // a capped gain above 1.02 is said in a warning
constexpr std::int64_t kMaxKernelRadiusPx = 127;

std::vector<float> gaussian_or_identity(double sigma_px) {
    if (sigma_px <= 1e-6) return {1.0f};
    return gaussian_taps(sigma_px, GaussianRadiusRule::FourSigma);
}

// Weights of one output pixel's area integration along an axis: input pixel j covers [j, j + 1),
// the output pixel [0, r) (phase 0), each weighted by its overlap / r.
std::vector<double> box_weights(double r) {
    std::vector<double> w;
    for (std::int64_t j = 0; static_cast<double>(j) < r; ++j)
        w.push_back((std::min(static_cast<double>(j + 1), r) - static_cast<double>(j)) / r);
    return w;
}
std::vector<double> convolve_1d(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> c(a.size() + b.size() - 1, 0.0);
    for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t j = 0; j < b.size(); ++j)
            c[i + j] += a[i] * b[j];
    return c;
}
double sum_of_squares(const std::vector<double>& v) {
    double s = 0;
    for (double x : v)
        s += x * x;
    return s;
}
// Noise gain of the whole chain on white input noise: an output pixel is sum w_ij x_ij with w
// the PSF convolved with the integration box, so its noise is sigma_in sqrt(sum w_ij^2) (the
// variance of a weighted sum of independent samples). Separable weights multiply per axis.
double separable_noise_gain(const std::vector<double>& kx, const std::vector<double>& ky, double rx, double ry) {
    return std::sqrt(sum_of_squares(convolve_1d(kx, box_weights(rx))) *
                     sum_of_squares(convolve_1d(ky, box_weights(ry))));
}

}  // namespace

double sigma_from_rer(double rer) {
    auto rer_of = [](double s) {
        return sensor::gaussian_box_edge_response(s, 0.5) - sensor::gaussian_box_edge_response(s, -0.5);
    };
    if (rer >= rer_of(0.0)) return 0.0;
    double lo = 0, hi = 20;
    for (int i = 0; i < 100; ++i) {
        const double mid = 0.5 * (lo + hi);
        (rer_of(mid) > rer ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

Psf build_psf(const DegradeTarget& t, const DegradePlan& plan, double sigma_in, DegradePlan& out_plan) {
    Psf psf;
    const double rx = plan.ratio_x, ry = plan.ratio_y;
    if (auto sigma_t = t.model->gaussian_sigma_px()) {
        // Gaussian case (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010): variances add,
        // so the applied blur is what is left after the input's own Gaussian and its pixel box (variance 1/12 px^2) are
        // taken out.
        auto applied = [&](double r, const char* axis) {
            const double v = (*sigma_t * r) * (*sigma_t * r) - sigma_in * sigma_in - 1.0 / 12.0;
            if (v < 0 && (*sigma_t * r) * (*sigma_t * r) < sigma_in * sigma_in)
                out_plan.warnings.push_back(fmt::format(
                    "the input is blurrier along {} (sigma {:.3f} px) than the target system's optics ({:.3f} input "
                    "px): no blur applied on that axis, the result is blurrier than the target",
                    axis, sigma_in, *sigma_t * r));
            return std::sqrt(std::max(0.0, v));
        };
        const double sx = applied(rx, "x"), sy = applied(ry, "y");
        out_plan.applied_sigma_x_px = sx;
        out_plan.applied_sigma_y_px = sy;
        if (sx <= 1e-6 && sy <= 1e-6) {
            out_plan.psf_method = "none";
            out_plan.input_noise_gain = separable_noise_gain({1.0}, {1.0}, rx, ry);
            return psf;
        }
        SeparableKernel k{gaussian_or_identity(sx), gaussian_or_identity(sy)};
        out_plan.input_noise_gain = separable_noise_gain(std::vector<double>(k.taps_x.begin(), k.taps_x.end()),
                                                         std::vector<double>(k.taps_y.begin(), k.taps_y.end()), rx, ry);
        psf.halo_y = halo(k).y_px;
        psf.separable = std::move(k);
        out_plan.psf_method = "separable_gaussian";
        out_plan.kernel_size_px =
            static_cast<std::int64_t>(std::max(psf.separable->taps_x.size(), psf.separable->taps_y.size()));
        return psf;
    }

    // General case: H(u, v) = T(u rx, v ry) M_in / (M_in^2 + eps^2) on the input grid, with
    // M_in(u, v) = G(sigma_in, u) G(sigma_in, v) sinc(u) sinc(v): Wiener-regularized division of
    // the target's pre-detector transfer function by the input's own MTF. |H| is capped at 1:
    // where the input is blurrier than the target (M_in < |T|) the input's content is passed as
    // it is, never amplified (a gain above 1 would sharpen, and amplify the input's noise), so the
    // output's transfer is min(M_in, |T|): as the Gaussian case, blurrier than the target there.
    const auto& f = t.model->figures();
    // PSF extent in target pixels: diffraction main lobe and first rings (~2.5 Q), jitter,
    // smear, defocus; then in input pixels.
    const auto& d = t.model->description();
    const double extent_target_px =
        2.5 * std::max(f.q, 0.5) + 3.0 * d.jitter_sigma_px + d.smear_px + d.defocus_blur_diameter_px + 1.0;
    const auto radius = std::min<std::int64_t>(
        kMaxKernelRadiusPx, static_cast<std::int64_t>(std::ceil(extent_target_px * std::max(rx, ry))));
    if (radius == kMaxKernelRadiusPx)
        out_plan.warnings.push_back("the target PSF is wider than 255 input pixels: truncated to 255x255");
    const std::int64_t n = 2 * radius + 1;
    std::vector<double> h(static_cast<std::size_t>(n * n));
    double max_gain = 0;  // the largest |H| before the cap
    for (std::int64_t q = -radius; q <= radius; ++q)
        for (std::int64_t p = -radius; p <= radius; ++p) {
            const double u = static_cast<double>(p) / static_cast<double>(n);
            const double v = static_cast<double>(q) / static_cast<double>(n);
            const double m_in =
                gaussian_transfer(u, sigma_in) * gaussian_transfer(v, sigma_in) * sensor::sinc(u) * sensor::sinc(v);
            const double target = t.model->transfer(u * rx, v * ry, sensor::MtfPart::pre_detector);
            const double raw = target * m_in / (m_in * m_in + kWienerEps * kWienerEps);
            max_gain = std::max(max_gain, std::abs(raw));
            h[static_cast<std::size_t>((q + radius) * n + (p + radius))] = std::clamp(raw, -1.0, 1.0);
        }
    if (max_gain > 1.0 + kGainWarning)
        out_plan.warnings.push_back(fmt::format(
            "the input (sigma {:.3f} px) is blurrier than the target system at some frequencies (it would need a gain "
            "of {:.2f}): those are passed as they are, not sharpened; the result is blurrier than the target there",
            sigma_in, max_gain));
    // Inverse DFT of the even, real H, done separably with cosines: O(n^3).
    std::vector<double> tmp(static_cast<std::size_t>(n * n), 0.0);
    std::vector<double> cosines(static_cast<std::size_t>(n * n));
    for (std::int64_t a = 0; a < n; ++a)
        for (std::int64_t b = 0; b < n; ++b)
            cosines[static_cast<std::size_t>(a * n + b)] = std::cos(
                2.0 * std::numbers::pi * static_cast<double>((a - radius) * (b - radius)) / static_cast<double>(n));
    for (std::int64_t q = 0; q < n; ++q)  // along u for each v
        for (std::int64_t i = 0; i < n; ++i) {
            double s = 0;
            for (std::int64_t p = 0; p < n; ++p)
                s += h[static_cast<std::size_t>(q * n + p)] * cosines[static_cast<std::size_t>(p * n + i)];
            tmp[static_cast<std::size_t>(q * n + i)] = s;
        }
    Kernel2d k;
    k.width = k.height = n;
    k.taps.resize(static_cast<std::size_t>(n * n));
    double sum = 0;
    std::vector<double> kd(static_cast<std::size_t>(n * n));
    for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < n; ++i) {
            double s = 0;
            for (std::int64_t q = 0; q < n; ++q)
                s += tmp[static_cast<std::size_t>(q * n + i)] * cosines[static_cast<std::size_t>(q * n + j)];
            kd[static_cast<std::size_t>(j * n + i)] = s;
            sum += s;
        }
    for (std::size_t i = 0; i < kd.size(); ++i)
        k.taps[i] = static_cast<float>(kd[i] / sum);
    {
        // Noise gain of the 2-D kernel and the integration box (see separable_noise_gain).
        const std::vector<double> bx = box_weights(rx), by = box_weights(ry);
        double ss = 0;
        std::vector<double> col(static_cast<std::size_t>(n));
        std::vector<std::vector<double>> rows;  // each kernel row convolved with the x box
        for (std::int64_t j = 0; j < n; ++j)
            rows.push_back(convolve_1d(std::vector<double>(kd.begin() + j * n, kd.begin() + (j + 1) * n), bx));
        for (std::size_t i = 0; i < rows.front().size(); ++i) {
            for (std::int64_t j = 0; j < n; ++j)
                col[static_cast<std::size_t>(j)] = rows[static_cast<std::size_t>(j)][i] / sum;
            ss += sum_of_squares(convolve_1d(col, by));
        }
        out_plan.input_noise_gain = std::sqrt(ss);
    }
    Convolve2dParams cp;
    cp.border = BorderMode::Reflect101;
    psf.plan.emplace(k, cp);
    psf.halo_y = psf.plan->halo().y_px;
    if (psf.plan->method() == Convolve2dMethod::Fft) psf.fft_block_y = psf.plan->fft_block_y_px();
    static const char* names[] = {"auto", "direct", "low_rank", "fft"};
    out_plan.psf_method = fmt::format("kernel_2d:{}", names[static_cast<int>(psf.plan->method())]);
    out_plan.kernel_size_px = n;
    return psf;
}

}  // namespace satiq::detail
