// Synthetic targets with known truth: the analytic edge model, slanted edges, tri-bars, noise.
#include "satiq/kernels/synth.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"
#include "satiq/kernels/random.hpp"

namespace satiq {
namespace {

constexpr double kMaxSigmaPx = 20.0;
// Phi(-12) = 1.8e-33: beyond 12 sigma a pixel is on its plateau to double precision.
constexpr double kCutSigmas = 12.0;
// Below this the smaller normal component is integrated by the midpoint rule (see header).
constexpr double kSmallComponent = 1e-7;

// G_s(x) = s G(x/s) with G(t) = t Phi(t) + phi(t), the antiderivative of Phi (so G_s' = Phi(x/s)).
double g_sigma(double x, double s) {
    return gaussian_cdf_antiderivative(x, s);
}

// H_s(x) = s^2 H(x/s) with H(t) = ((t^2 + 1) Phi(t) + t phi(t)) / 2, the antiderivative of G
// (H' = G: d/dt [(t^2+1) Phi + t phi] / 2 = [2t Phi + (t^2+1) phi + phi - t^2 phi] / 2 = t Phi + phi).
double h_sigma(double x, double s) {
    if (s == 0.0) {
        const double m = std::max(x, 0.0);
        return 0.5 * m * m;
    }
    const double t = x / s;
    return 0.5 * ((x * x + s * s) * normal_cdf(t) + x * s * normal_pdf(t));
}

// Mean of Phi((p u + q v + c) / s) over [0,1]^2, used where the arguments are mostly negative so
// the terms are small and the second difference does not cancel catastrophically.
double raw_fraction(double c, double p, double q, double s) {
    if (std::abs(q) > std::abs(p)) std::swap(p, q);
    if (std::abs(q) < kSmallComponent) {
        // Integrate u exactly, v by the midpoint rule: the integrand varies by |q| across v.
        const double v = 0.5 * q;
        return (g_sigma(p + v + c, s) - g_sigma(v + c, s)) / p;
    }
    return (h_sigma(p + q + c, s) - h_sigma(q + c, s) - h_sigma(p + c, s) + h_sigma(c, s)) / (p * q);
}

void check_sigma(const char* op, double sigma_px, double max_sigma) {
    if (!std::isfinite(sigma_px) || sigma_px < 0.0 || sigma_px > max_sigma)
        throw Error(std::string(op) + ": sigma_px must be in [0, " + std::to_string(static_cast<int>(max_sigma)) +
                    "] pixels (got " + std::to_string(sigma_px) + ")");
}

void check_finite(const char* op, const char* name, double v) {
    if (!std::isfinite(v)) throw Error(std::string(op) + ": " + name + " must be a finite number");
}

void check_noise(const char* op, double sigma_dn) {
    if (!std::isfinite(sigma_dn) || sigma_dn < 0.0)
        throw Error(std::string(op) + ": noise_sigma_dn must be >= 0 (got " + std::to_string(sigma_dn) + ")");
}

// Fills the truth numbers of a monotonic symmetric edge model from its ESF and MTF.
template <class Esf, class Mtf>
EdgeTruth edge_truth(Esf&& esf, Mtf&& mtf, double mtf_first_zero) {
    EdgeTruth t;
    t.esf_minus_0p5 = esf(-0.5);
    t.esf_plus_0p5 = esf(0.5);
    t.rer = t.esf_plus_0p5 - t.esf_minus_0p5;
    t.mtf_nyquist = mtf(0.5);
    // MTF50 by bisection: the MTF falls monotonically from 1 at f = 0 to 0 at the first zero.
    double lo = 0.0, hi = mtf_first_zero;
    for (int i = 0; i < 200 && hi - lo > 1e-13; ++i) {
        const double mid = 0.5 * (lo + hi);
        (mtf(mid) > 0.5 ? lo : hi) = mid;
    }
    t.mtf50_cyc_per_px = 0.5 * (lo + hi);
    // H (Leachtenauer et al., Appl. Opt. 36(32), 1997): max of the ESF over +1.0..+3.0 px in 0.25 px steps, or
    // ESF(+1.25) when the ESF rises monotonically there.
    bool monotonic = true;
    double prev = esf(1.0), best = prev;
    for (int k = 1; k <= 8; ++k) {
        const double v = esf(1.0 + 0.25 * k);
        if (v < prev) monotonic = false;
        best = std::max(best, v);
        prev = v;
    }
    t.overshoot_h = monotonic ? esf(1.25) : best;
    // FWHM of the LSF (numerical derivative of the ESF; the LSF is symmetric and unimodal).
    const double step = 1e-5;
    auto lsf = [&](double d) { return (esf(d + step) - esf(d - step)) / (2.0 * step); };
    const double half = 0.5 * lsf(0.0);
    lo = 0.0;
    hi = 1.0;
    while (lsf(hi) > half)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-10; ++i) {
        const double mid = 0.5 * (lo + hi);
        (lsf(mid) > half ? lo : hi) = mid;
    }
    t.fwhm_px = lo + hi;  // 2 * midpoint
    return t;
}

// Gauss-Legendre nodes and weights on [0, 1] (Newton on P_n, Golub-Welsch-free textbook method).
struct Quadrature {
    std::vector<double> x, w;
};
Quadrature gauss_legendre01(int n) {
    Quadrature q;
    for (int i = 1; i <= n; ++i) {
        double z = std::cos(std::numbers::pi * (i - 0.25) / (n + 0.5));
        double dp = 1.0;
        for (int it = 0; it < 100; ++it) {
            double p0 = 1.0, p1 = z;
            for (int k = 2; k <= n; ++k) {
                const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = n * (z * p1 - p0) / (z * z - 1.0);
            const double dz = p1 / dp;
            z -= dz;
            if (std::abs(dz) < 1e-16) break;
        }
        q.x.push_back(0.5 * (1.0 - z));
        q.w.push_back(1.0 / ((1.0 - z * z) * dp * dp));  // (2 / ((1-z^2) P'^2)) / 2 for [0, 1]
    }
    return q;
}

void add_noise_row(float* row, std::int64_t width, double sigma_dn, std::uint64_t seed, std::int64_t gx0,
                   std::int64_t gy) {
    if (sigma_dn == 0.0) return;
    const std::uint64_t key = rng::row_key(seed, 0, 7, gy);
    const auto s = static_cast<float>(sigma_dn);
    for (std::int64_t i = 0; i < width; ++i)
        row[i] += s * rng::normal_pair(rng::pixel_bits(key, gx0 + i)).z0;
}

// Mean over the pixel [i, i+1) of the blurred indicator of [a, b): exact, separable building block
// of the tri-bar target (the Gaussian CDF convolved with the unit pixel box).
double interval_fraction(double i, double a, double b, double s) {
    return (g_sigma(i + 1.0 - a, s) - g_sigma(i - a, s)) - (g_sigma(i + 1.0 - b, s) - g_sigma(i - b, s));
}

}  // namespace

double square_pixel_step_fraction(double c_px, double p, double q, double sigma_px) {
    const double lo = c_px + std::min(p, 0.0) + std::min(q, 0.0);
    const double hi = c_px + std::max(p, 0.0) + std::max(q, 0.0);
    const double cut = kCutSigmas * sigma_px;
    if (lo >= cut) return 1.0;
    if (hi <= -cut) return 0.0;
    // Bright side: 1 - mean Phi(-(p u + q v + c)/s), whose terms are small.
    if (c_px + 0.5 * (p + q) > 0.0) return 1.0 - raw_fraction(-c_px, -p, -q, sigma_px);
    return raw_fraction(c_px, p, q, sigma_px);
}

EdgeTruth box_gaussian_edge_truth(double sigma_px) {
    check_sigma("edge truth", sigma_px, kMaxSigmaPx);
    return edge_truth([&](double d) { return box_gaussian_esf(d, sigma_px); },
                      [&](double f) { return box_gaussian_mtf(f, sigma_px); }, 1.0);
}

EdgeTruth square_pixel_edge_truth(double sigma_px, double angle_deg) {
    check_sigma("edge truth", sigma_px, kMaxSigmaPx);
    check_finite("edge truth", "angle_deg", angle_deg);
    const double a = angle_deg * std::numbers::pi / 180.0;
    const double p = std::abs(std::cos(a)), q = std::abs(std::sin(a));
    const double pi2 = std::numbers::pi * std::numbers::pi;
    // The pixel centred at signed distance d has its corner at d - (p + q)/2.
    return edge_truth([&](double d) { return square_pixel_step_fraction(d - 0.5 * (p + q), p, q, sigma_px); },
                      [&](double f) {
                          return std::exp(-2.0 * pi2 * sigma_px * sigma_px * f * f) *
                                 std::abs(sinc(f * p) * sinc(f * q));
                      },
                      1.0 / std::max(p, q));
}

void add_gaussian_noise(ImageView<float> image, double sigma_dn, std::uint64_t seed, std::int64_t x0, std::int64_t y0) {
    check_noise("add_gaussian_noise", sigma_dn);
    if (sigma_dn == 0.0) return;
    parallel_rows(image.height, image.width, [&](std::int64_t ya, std::int64_t yb) {
        for (std::int64_t y = ya; y < yb; ++y)
            add_noise_row(image.row(y), image.width, sigma_dn, seed, x0, y0 + y);
    });
}

void quantize_dn(ImageView<float> image, double min_dn, double max_dn) {
    if (!(min_dn <= max_dn)) throw Error("quantize_dn: min_dn must not exceed max_dn");
    const auto lo = static_cast<float>(min_dn), hi = static_cast<float>(max_dn);
    parallel_rows(image.height, image.width, [&](std::int64_t ya, std::int64_t yb) {
        for (std::int64_t y = ya; y < yb; ++y) {
            float* r = image.row(y);
            for (std::int64_t x = 0; x < image.width; ++x)
                r[x] = std::clamp(std::round(r[x]), lo, hi);
        }
    });
}

namespace {
void validate_edge(const EdgeTargetParams& p) {
    const char* op = "synth edge";
    check_finite(op, "angle_deg", p.angle_deg);
    check_finite(op, "edge_x_px", p.edge_x_px);
    check_finite(op, "edge_y_px", p.edge_y_px);
    check_finite(op, "dark_dn", p.dark_dn);
    check_finite(op, "bright_dn", p.bright_dn);
    check_sigma(op, p.sigma_px, kMaxSigmaPx);
    check_noise(op, p.noise_sigma_dn);
}
}  // namespace

void render_edge(const EdgeTargetParams& params, ImageView<float> out) {
    validate_edge(params);
    const double a = params.angle_deg * std::numbers::pi / 180.0;
    const double p = std::cos(a), q = std::sin(a);
    const double contrast = params.bright_dn - params.dark_dn;
    parallel_rows(out.height, out.width, [&](std::int64_t ya, std::int64_t yb) {
        for (std::int64_t y = ya; y < yb; ++y) {
            float* r = out.row(y);
            const double cy = (static_cast<double>(y) - params.edge_y_px) * q;
            for (std::int64_t x = 0; x < out.width; ++x) {
                const double c = (static_cast<double>(x) - params.edge_x_px) * p + cy;
                r[x] = static_cast<float>(params.dark_dn +
                                          contrast * square_pixel_step_fraction(c, p, q, params.sigma_px));
            }
            add_noise_row(r, out.width, params.noise_sigma_dn, params.seed, 0, y);
        }
    });
}

Image render_edge(const EdgeTargetParams& params, std::int64_t width_px, std::int64_t height_px) {
    if (width_px <= 0 || height_px <= 0) throw Error("synth edge: width and height must be positive");
    Image img(width_px, height_px);
    render_edge(params, img.view());
    return img;
}

double edge_pixel_reference(const EdgeTargetParams& params, std::int64_t x, std::int64_t y, int subdivisions) {
    validate_edge(params);
    static const Quadrature gl = gauss_legendre01(16);
    const double a = params.angle_deg * std::numbers::pi / 180.0;
    const double p = std::cos(a), q = std::sin(a);
    const double h = 1.0 / subdivisions;
    double sum = 0.0;
    for (int sy = 0; sy < subdivisions; ++sy)
        for (int sx = 0; sx < subdivisions; ++sx)
            for (std::size_t j = 0; j < gl.x.size(); ++j)
                for (std::size_t i = 0; i < gl.x.size(); ++i) {
                    const double px = static_cast<double>(x) + (sx + gl.x[i]) * h;
                    const double py = static_cast<double>(y) + (sy + gl.x[j]) * h;
                    const double d = (px - params.edge_x_px) * p + (py - params.edge_y_px) * q;
                    const double v = params.sigma_px > 0.0 ? normal_cdf(d / params.sigma_px) : (d > 0 ? 1.0 : 0.0);
                    sum += gl.w[i] * gl.w[j] * v;
                }
    return params.dark_dn + (params.bright_dn - params.dark_dn) * sum * h * h;
}

std::vector<TribarElement> tribar_layout(const TribarParams& params, std::int64_t width_px, std::int64_t height_px) {
    const char* op = "synth tribar";
    if (!std::isfinite(params.largest_bar_px) || params.largest_bar_px < 0.25 || params.largest_bar_px > 1000)
        throw Error("synth tribar: largest_bar_px must be in [0.25, 1000] pixels");
    if (params.element_count < 1 || params.element_count > 48)
        throw Error("synth tribar: element_count must be in [1, 48]");
    if (!std::isfinite(params.step) || params.step <= 1.0 || params.step > 4.0)
        throw Error("synth tribar: step must be in (1, 4]");
    check_sigma(op, params.sigma_px, kMaxSigmaPx);
    check_noise(op, params.noise_sigma_dn);
    check_finite(op, "background_dn", params.background_dn);
    check_finite(op, "bar_dn", params.bar_dn);
    if (width_px <= 0 || height_px <= 0) throw Error("synth tribar: width and height must be positive");

    const double margin = std::max(8.0, std::ceil(4.0 * params.sigma_px + 4.0));
    std::vector<TribarElement> out;
    double cursor_x = margin, cursor_y = margin, shelf_h = 0.0, shelf_gap = 0.0;
    for (int k = 0; k < params.element_count; ++k) {
        const double w = params.largest_bar_px * std::pow(params.step, -k);
        const double set = 5.0 * w;
        const double gap = std::max(2.0 * w, 4.0);
        const double cell_w = 2.0 * set + gap;
        double ox = std::ceil(cursor_x), oy = std::ceil(cursor_y);
        if (ox + cell_w > static_cast<double>(width_px) - margin && ox > margin) {
            cursor_x = margin;
            cursor_y += shelf_h + shelf_gap;
            shelf_h = 0.0;
            ox = std::ceil(cursor_x);
            oy = std::ceil(cursor_y);
        }
        if (ox + cell_w > static_cast<double>(width_px) - margin || oy + set > static_cast<double>(height_px) - margin)
            throw Error("synth tribar: the " + std::to_string(params.element_count) + " elements (largest bar " +
                        std::to_string(params.largest_bar_px) + " px) do not fit in " + std::to_string(width_px) +
                        " x " + std::to_string(height_px) + " px; increase --size or decrease --largest-bar-px");
        if (shelf_h == 0.0) shelf_gap = std::max(2.0 * w, 6.0);
        shelf_h = std::max(shelf_h, set);
        for (int orient = 0; orient < 2; ++orient) {
            TribarElement e;
            e.index = k;
            e.bar_width_px = w;
            e.bar_length_px = set;
            e.bars_vertical = orient == 0;
            const double x0 = orient == 0 ? ox : ox + set + gap;
            e.bounds = {x0, oy, x0 + set, oy + set};
            for (int b = 0; b < 3; ++b) {
                const double s0 = 2.0 * b * w, s1 = s0 + w;
                e.bars[static_cast<std::size_t>(b)] =
                    e.bars_vertical ? RectPx{x0 + s0, oy, x0 + s1, oy + set} : RectPx{x0, oy + s0, x0 + set, oy + s1};
            }
            out.push_back(e);
        }
        cursor_x = ox + cell_w + gap;
    }
    return out;
}

void render_tribar(const TribarParams& params, const std::vector<TribarElement>& layout, ImageView<float> out) {
    const char* op = "synth tribar";
    check_sigma(op, params.sigma_px, kMaxSigmaPx);
    check_noise(op, params.noise_sigma_dn);
    const double s = params.sigma_px;
    const double reach = kCutSigmas * s + 1.0;
    // Per bar: its x profile over the columns it touches (independent of the row).
    struct BarX {
        RectPx r;
        std::int64_t xa = 0, xb = 0;
        std::vector<double> fx;
    };
    std::vector<BarX> bars;
    for (const auto& e : layout)
        for (const auto& r : e.bars) {
            BarX b;
            b.r = r;
            b.xa = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(r.x0 - reach)));
            b.xb = std::min<std::int64_t>(out.width, static_cast<std::int64_t>(std::ceil(r.x1 + reach)) + 1);
            for (std::int64_t x = b.xa; x < b.xb; ++x)
                b.fx.push_back(interval_fraction(static_cast<double>(x), r.x0, r.x1, s));
            bars.push_back(std::move(b));
        }
    const double contrast = params.bar_dn - params.background_dn;
    parallel_rows(out.height, out.width, [&](std::int64_t ya, std::int64_t yb) {
        std::vector<double> acc(static_cast<std::size_t>(out.width));
        for (std::int64_t y = ya; y < yb; ++y) {
            std::fill(acc.begin(), acc.end(), 0.0);
            const auto yd = static_cast<double>(y);
            for (const auto& b : bars) {
                if (yd + 1.0 < b.r.y0 - reach || yd > b.r.y1 + reach || b.xb <= b.xa) continue;
                const double fy = interval_fraction(yd, b.r.y0, b.r.y1, s);
                if (fy == 0.0) continue;
                for (std::int64_t x = b.xa; x < b.xb; ++x)
                    acc[static_cast<std::size_t>(x)] += fy * b.fx[static_cast<std::size_t>(x - b.xa)];
            }
            float* r = out.row(y);
            for (std::int64_t x = 0; x < out.width; ++x)
                r[x] = static_cast<float>(params.background_dn + contrast * acc[static_cast<std::size_t>(x)]);
            add_noise_row(r, out.width, params.noise_sigma_dn, params.seed, 0, y);
        }
    });
}

}  // namespace satiq
