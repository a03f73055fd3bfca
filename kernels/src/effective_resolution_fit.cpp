// Effective-resolution (upsampling) detector, the interpolation model fit: least-squares
// source samples under each candidate kernel, factor and grid offset, and the residual against
// the re-quantization noise (consistency test after Popescu & Farid, IEEE TSP 53(2), 2005;
// kernels of cv::resize and GDAL, below). The decisions that use it are in
// effective_resolution.cpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "effective_resolution_detail.hpp"

namespace satiq::detail {

// ---------------------------------------------------------------------------------------------
// Model-fit (consistency) test. For a candidate factor k, an interpolation kernel h and a grid
// offset d, an upsampled line is y(g) = sum_j s_j h((g + d)/k - j) for unknown source samples s_j
// (g: output pixel index in the full image). The source is found by least squares on short
// segments; when (k, h, d) is the model that made the image, the residual is only the
// re-quantization noise (1/12 for integer data), whatever the scene. A larger factor has fewer
// unknowns, so the residual variance (per degree of freedom) is compared: the largest factor whose
// model leaves no more than about the noise of the best model is the factor. This is the
// consistency test of Popescu & Farid 2005 (EM-estimated linear predictor) specialised to
// explicit kernels: those of cv::resize and of GDAL (below). The model is linear in s whether or
// not the kernel interpolates, so GDAL's cubic B-spline (a smoothing kernel) fits the same way.
// Keys a = -0.5 at 2x (phases 1/4, 3/4) spans the same space as bilinear at 2x (the two polyphase
// filter pairs differ by a common factor), so the kernel named there can be either.
// ---------------------------------------------------------------------------------------------
namespace {

constexpr int kFitSeg = 120;       // output pixels per fit segment (divisible by 2, 3, 4, 5, 6, 8)
constexpr int kFitSearchSegs = 8;  // most active segments used to choose kernel and offset
constexpr int kFitEvalSegs = 48;   // most active segments used for the residual
// Kernels, each evaluated at u = source coordinate - source index and normalized over its taps
// (both libraries divide by the weight sum). cv::resize: bilinear, Keys cubic convolution with
// a = -0.75, Lanczos-4. GDAL (gdal_translate -outsize / gdalwarp -r, RasterIO resampling, checked
// against GDAL 3.6.2 on an impulse: identical to 1e-4): bilinear (the same), Keys cubic
// convolution with a = -0.5 (R. G. Keys, "Cubic convolution interpolation for digital image
// processing", IEEE TASSP 29(6), 1981: the a for which the kernel is third-order accurate),
// Lanczos-3 ("Lanczos windowed sinc interpolation (6x6 kernel)", sinc(u) sinc(u/3)) and "cubicspline",
// the cubic B-spline used directly as the weights (not interpolating: GDAL applies no prefilter).
// Both libraries put output pixel i at source (i + 0.5) / k - 0.5 (pixel centres), which is an
// offset d of the fit's quarter-pixel grid.
constexpr int kKernels = 6;  // 0 bilinear, 1 cubic a = -0.75, 2 Lanczos-4, 3 cubic a = -0.5, 4 Lanczos-3, 5 B-spline
constexpr int kKernelRadius[kKernels] = {1, 2, 4, 2, 3, 2};

const char* const kKernelName[kKernels] = {"bilinear", "cubic", "lanczos4", "cubic_a-0.5", "lanczos3", "cubicspline"};

double keys_cubic(double a, double A) {
    if (a <= 1.0) return ((A + 2.0) * a - (A + 3.0)) * a * a + 1.0;
    if (a < 2.0) return ((A * a - 5.0 * A) * a + 8.0 * A) * a - 4.0 * A;
    return 0.0;
}

// The piecewise-polynomial kernels (bilinear, the two cubic convolutions, the B-spline); the
// Lanczos kernels (2, 4) are evaluated by kernel_taps, tap by tap from shared sines.
double polynomial_kernel(int kern, double u) {
    const double a = std::abs(u);
    switch (kern) {
        case 0:
            return a < 1.0 ? 1.0 - a : 0.0;
        case 1:
            return keys_cubic(a, -0.75);
        case 3:
            return keys_cubic(a, -0.5);
        default:
            if (a < 1.0) return (4.0 - 6.0 * a * a + 3.0 * a * a * a) / 6.0;
            if (a < 2.0) return (2.0 - a) * (2.0 - a) * (2.0 - a) / 6.0;
            return 0.0;
    }
}

// The 2R normalized weights of one output pixel whose source position is f in [0, 1) past
// source sample j: w[t] = h(f + R - 1 - t) / sum. Lanczos-R is h(u) = sinc(u) sinc(u / R) =
// R sin(pi u) sin(pi u / R) / (pi u)^2 for |u| < R (1 at u = 0, 0 beyond: C. E. Duchon, "Lanczos
// filtering in one and two dimensions", J. Appl. Meteor. 18(8), 1979). Its taps share their sines: with
// m = R - 1 - t an integer, sin(pi (f + m)) = (-1)^m sin(pi f) and sin(pi (f + m) / R) follows
// from sin(pi f / R), cos(pi f / R) by the angle-addition formula, so one pixel costs two sincos
// instead of 4R sines (the fit evaluates these weights millions of times per image).
struct TapRotation {
    double cos_m[8], sin_m[8];  // cos, sin of pi m / R for m = R - 1 - t, t < 2R <= 8
};
const TapRotation& tap_rotation(int R) {
    static const auto table = [] {
        std::array<TapRotation, 5> rows{};
        for (int r = 1; r < 5; ++r)
            for (int t = 0; t < 2 * r; ++t) {
                const double a = std::numbers::pi * static_cast<double>(r - 1 - t) / static_cast<double>(r);
                rows[static_cast<std::size_t>(r)].cos_m[t] = std::cos(a);
                rows[static_cast<std::size_t>(r)].sin_m[t] = std::sin(a);
            }
        return rows;
    }();
    return table[static_cast<std::size_t>(R)];
}

void kernel_taps(int kern, int R, double f, double* w) {
    const int taps = 2 * R;
    double sw = 0.0;
    if (kern == 2 || kern == 4) {
        const double rr = static_cast<double>(R);
        const double pf = std::numbers::pi * f;
        const double s1 = std::sin(pf), s2 = std::sin(pf / rr), c2 = std::cos(pf / rr);
        const TapRotation& rot = tap_rotation(R);
        for (int t = 0; t < taps; ++t) {
            const int m = R - 1 - t;
            const double u = f + static_cast<double>(m);
            double v = 0.0;
            if (std::abs(u) < 1e-9) {
                v = 1.0;
            } else if (std::abs(u) < rr) {
                const double sin_pu = (m % 2 == 0) ? s1 : -s1;
                const double sin_pu_r = s2 * rot.cos_m[t] + c2 * rot.sin_m[t];
                const double pu = std::numbers::pi * u;
                v = rr * sin_pu * sin_pu_r / (pu * pu);
            }
            sw += (w[t] = v);
        }
    } else {
        for (int t = 0; t < taps; ++t)
            sw += (w[t] = polynomial_kernel(kern, f + static_cast<double>(R - 1 - t)));
    }
    for (int t = 0; t < taps; ++t)
        w[t] /= sw;
}

// Residual sum of squares and degrees of freedom of the least-squares source for one segment.
// Normal equations are banded (half-bandwidth 2 * radius); solved by banded Cholesky with a tiny
// ridge so that weakly constrained border unknowns stay finite.
// The radius R is a template parameter so that the tap and band loops have fixed bounds (the
// operations and their order are those of a run-time R).
template <int R>
void fit_segment_r(const FitSegment& s, double k, double d, int kern, std::vector<double>& N, std::vector<double>& b,
                   std::vector<double>& wbuf, std::vector<int>& jbuf, double& rss, double& dof) {
    const int L = static_cast<int>(s.y.size());
    const double x0 = (static_cast<double>(s.g0) + d) / k;
    const double x1 = (static_cast<double>(s.g0 + L - 1) + d) / k;
    const auto jmin = static_cast<std::int64_t>(std::floor(x0)) - R + 1;
    const auto jmax = static_cast<std::int64_t>(std::floor(x1)) + R;
    const int p = static_cast<int>(jmax - jmin + 1);
    constexpr int bw = 2 * R;  // half-bandwidth
    constexpr int ld = bw + 1;
    N.assign(static_cast<std::size_t>(p * ld), 0.0);  // N[i*ld + (j-i)] for j in [i, i+bw]
    b.assign(static_cast<std::size_t>(p), 0.0);
    constexpr int taps = 2 * R;
    wbuf.resize(static_cast<std::size_t>(L * taps));
    jbuf.resize(static_cast<std::size_t>(L));
    for (int i = 0; i < L; ++i) {
        const double x = (static_cast<double>(s.g0 + i) + d) / k;
        const auto jf = static_cast<std::int64_t>(std::floor(x));
        const int j0 = static_cast<int>(jf - R + 1 - jmin);
        double* w = &wbuf[static_cast<std::size_t>(i * taps)];
        kernel_taps(kern, R, x - static_cast<double>(jf), w);
        jbuf[static_cast<std::size_t>(i)] = j0;
        const double yi = s.y[static_cast<std::size_t>(i)];
        // A zero tap adds +-0 to b and N, which leaves them as they are.
        for (int t = 0; t < taps; ++t) {
            b[static_cast<std::size_t>(j0 + t)] += w[t] * yi;
            for (int u = t; u < taps; ++u)
                N[static_cast<std::size_t>((j0 + t) * ld + (u - t))] += w[t] * w[u];
        }
    }
    double tr = 0.0;
    for (int i = 0; i < p; ++i)
        tr += N[static_cast<std::size_t>(i * ld)];
    const double ridge = 1e-9 * tr / p + 1e-12;
    for (int i = 0; i < p; ++i)
        N[static_cast<std::size_t>(i * ld)] += ridge;
    // Banded Cholesky N = U^T U, U stored in place (row i: U[i][i..i+bw]).
    for (int i = 0; i < p; ++i) {
        double* Ui = &N[static_cast<std::size_t>(i * ld)];
        for (int m = std::max(0, i - bw); m < i; ++m) {
            const double* Um = &N[static_cast<std::size_t>(m * ld)];
            const double f = Um[i - m];
            if (f == 0.0) continue;
            for (int j = i; j <= std::min(p - 1, m + bw); ++j)
                Ui[j - i] -= f * Um[j - m];
        }
        const double dg = std::sqrt(std::max(Ui[0], 1e-300));
        Ui[0] = dg;
        for (int j = 1; j <= bw && i + j < p; ++j)
            Ui[j] /= dg;
    }
    // Solve U^T z = b, then U s = z (s overwrites b).
    for (int i = 0; i < p; ++i) {
        double v = b[static_cast<std::size_t>(i)];
        for (int m = std::max(0, i - bw); m < i; ++m)
            v -= N[static_cast<std::size_t>(m * ld + (i - m))] * b[static_cast<std::size_t>(m)];
        b[static_cast<std::size_t>(i)] = v / N[static_cast<std::size_t>(i * ld)];
    }
    for (int i = p - 1; i >= 0; --i) {
        double v = b[static_cast<std::size_t>(i)];
        for (int j = i + 1; j <= std::min(p - 1, i + bw); ++j)
            v -= N[static_cast<std::size_t>(i * ld + (j - i))] * b[static_cast<std::size_t>(j)];
        b[static_cast<std::size_t>(i)] = v / N[static_cast<std::size_t>(i * ld)];
    }
    rss = 0.0;
    for (int i = 0; i < L; ++i) {
        const double* w = &wbuf[static_cast<std::size_t>(i * taps)];
        const int j0 = jbuf[static_cast<std::size_t>(i)];
        double m = 0.0;
        for (int t = 0; t < taps; ++t)
            m += w[t] * b[static_cast<std::size_t>(j0 + t)];
        const double r = s.y[static_cast<std::size_t>(i)] - m;
        rss += r * r;
    }
    dof = std::max(1, L - p);
}

void fit_segment(const FitSegment& s, double k, double d, int kern, std::vector<double>& N, std::vector<double>& b,
                 std::vector<double>& wbuf, std::vector<int>& jbuf, double& rss, double& dof) {
    switch (kKernelRadius[kern]) {
        case 1:
            return fit_segment_r<1>(s, k, d, kern, N, b, wbuf, jbuf, rss, dof);
        case 2:
            return fit_segment_r<2>(s, k, d, kern, N, b, wbuf, jbuf, rss, dof);
        case 3:
            return fit_segment_r<3>(s, k, d, kern, N, b, wbuf, jbuf, rss, dof);
        default:
            return fit_segment_r<4>(s, k, d, kern, N, b, wbuf, jbuf, rss, dof);
    }
}

}  // namespace

double upper_median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

namespace {

// Best factor of `ks` (one or two values of the same factor), kernel and offset (on a
// quarter-pixel grid over one source pixel, which holds the half-pixel and corner conventions,
// then between them), chosen on the most active segments, then the residual variance over more
// segments.
ModelFit fit_factors(const FitData& fd, const std::vector<double>& ks) {
    ModelFit best;
    std::vector<double> N, b, w;
    std::vector<int> jb;
    const std::size_t ns = std::min<std::size_t>(fd.segs.size(), kFitSearchSegs);
    std::vector<double> seg_s2;
    // The upper median of ns values is at most `bound` only when at least ns/2 + 1 of them are:
    // once ns - ns/2 segments exceed it, the model cannot win and its other segments are not
    // fitted (1e300 is returned; the choice is the same as with every segment fitted).
    const std::size_t prune_after = ns - ns / 2;
    const auto score = [&](double k, int kern, double d, double bound) {
        seg_s2.clear();
        std::size_t above = 0;
        for (std::size_t i = 0; i < ns && above < prune_after; ++i) {
            double r, f;
            fit_segment(fd.segs[i], k, d, kern, N, b, w, jb, r, f);
            seg_s2.push_back(r / f);
            if (r / f > bound) ++above;
        }
        return above >= prune_after ? 1e300 : upper_median(seg_s2);
    };
    const auto offsets = [](double k) { return static_cast<int>(std::ceil(4.0 * k - 1e-9)); };
    double bs = 1e300;
    // Each factor's and kernel's best grid offset and residual (1e300 where the search pruned it).
    std::vector<std::array<double, kKernels>> kern_s2(ks.size()), kern_d(ks.size());
    for (std::size_t c = 0; c < ks.size(); ++c) {
        kern_s2[c].fill(1e300);
        for (int kern = 0; kern < kKernels; ++kern)
            for (int di = 0; di < offsets(ks[c]); ++di) {
                const double d = 0.25 * di;
                const double s2 = score(ks[c], kern, d, bs);
                const auto ki = static_cast<std::size_t>(kern);
                if (s2 < kern_s2[c][ki]) kern_s2[c][ki] = s2, kern_d[c][ki] = d;
                if (s2 < bs) bs = s2, best.k = ks[c], best.kernel = kern, best.offset = d;
            }
    }
    // Between the grid's offsets. A warp onto a grid shifted by a fraction of a pixel (gdalwarp -te
    // on another origin) puts the output at any phase. A model whose offset is off by delta output
    // pixels errs by about delta times the local slope, so on the grid (|delta| <= 1/8) the right
    // model leaves at most about (1/8)^2 = 1/64 of the mean squared first difference of the
    // segments, plus the re-quantization noise; there the right kernel can still rank below a
    // wrong one. When the best grid model is within that bound and not already at the noise (as
    // after cv::resize or gdal_translate), every kernel's best grid offset is refined by
    // successive parabolic interpolation (Brent, "Algorithms for Minimization without
    // Derivatives", 1973, ch. 5) within one grid step either side. An original leaves more than
    // the bound at every offset (at least 1/52 of it on the real images and the samples) and costs
    // the grid alone.
    constexpr double kQ = 1.0 / 12.0;  // re-quantization noise of integer data
    constexpr int kRefineSteps = 8;
    double slope2 = 0.0, count = 0.0;
    for (std::size_t i = 0; i < ns; ++i)
        for (std::size_t j = 1; j < fd.segs[i].y.size(); ++j) {
            const double dy = fd.segs[i].y[j] - fd.segs[i].y[j - 1];
            slope2 += dy * dy;
            count += 1.0;
        }
    slope2 /= std::max(count, 1.0);
    if (bs > 2.0 * kQ && bs <= slope2 / 64.0 + kQ)
        for (std::size_t c = 0; c < ks.size(); ++c)
            for (int kern = 0; kern < kKernels; ++kern) {
                const double k = ks[c];
                const auto ki = static_cast<std::size_t>(kern);
                // The kernel's best grid offset, when the search pruned it.
                if (!(kern_s2[c][ki] < 1e300))
                    for (int di = 0; di < offsets(k); ++di)
                        if (const double s2 = score(k, kern, 0.25 * di, 1e300); s2 < kern_s2[c][ki])
                            kern_s2[c][ki] = s2, kern_d[c][ki] = 0.25 * di;
                const double mid = kern_d[c][ki];
                std::array<double, 3> xs = {mid - 0.25, mid, mid + 0.25};
                std::array<double, 3> fs = {score(k, kern, xs[0], 1e300), kern_s2[c][ki], score(k, kern, xs[2], 1e300)};
                for (int step = 0; step < kRefineSteps; ++step) {
                    // Vertex of the parabola through the three points.
                    const double x0 = xs[0], x1 = xs[1], x2 = xs[2], f0 = fs[0], f1 = fs[1], f2 = fs[2];
                    const double num = (x1 - x0) * (x1 - x0) * (f1 - f2) - (x1 - x2) * (x1 - x2) * (f1 - f0);
                    const double den = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0);
                    if (!(std::abs(den) > 1e-300)) break;
                    const double v = std::clamp(x1 - 0.5 * num / den, mid - 0.25, mid + 0.25);
                    if (std::abs(v - x0) < 1e-3 || std::abs(v - x1) < 1e-3 || std::abs(v - x2) < 1e-3) break;
                    const double fv = score(k, kern, v, 1e300);
                    // The new point replaces the worst of the three.
                    const auto worst = static_cast<std::size_t>(std::max_element(fs.begin(), fs.end()) - fs.begin());
                    if (fv >= fs[worst]) break;
                    xs[worst] = v;
                    fs[worst] = fv;
                }
                const auto at = static_cast<std::size_t>(std::min_element(fs.begin(), fs.end()) - fs.begin());
                if (fs[at] < bs) bs = fs[at], best.k = k, best.kernel = kern, best.offset = xs[at];
            }
    // The chosen model's residual variance: the median over more segments of the per-segment
    // variance, so that a few segments with clipped values (overshoot of cubic or Lanczos cut at 0
    // or at the type's maximum) do not count.
    seg_s2.clear();
    const std::size_t ne = std::min<std::size_t>(fd.segs.size(), kFitEvalSegs);
    for (std::size_t i = 0; i < ne; ++i) {
        double r, f;
        fit_segment(fd.segs[i], best.k, best.offset, best.kernel, N, b, w, jb, r, f);
        seg_s2.push_back(r / f);
    }
    best.sigma2 = upper_median(seg_s2);
    return best;
}

}  // namespace

ModelFit fit_factor(const FitData& fd, double k) {
    if (fd.segs.empty() || !(k > 1.0)) return {};
    // A whole-image upsampling maps n source pixels to extent output pixels: the factor is then
    // extent / n (e.g. 1502 / 1001 for 1.5x of an odd size), which matters over long lines. A warp
    // or a crop need not span whole source pixels (1159 output pixels at exactly 2x), so when the
    // two differ both are searched, together (a model of one prunes the other's worse ones).
    const double n = std::round(static_cast<double>(fd.extent) / k);
    const double ke = n > 0 ? static_cast<double>(fd.extent) / n : k;
    if (ke == k || !(std::abs(ke / k - 1.0) < 0.01)) return fit_factors(fd, {k});
    return fit_factors(fd, {ke, k});
}

// Fully valid segments of kFitSeg pixels on evenly spaced lines of the central crop, ranked by
// activity (sum of |first difference|; flat segments carry no information), most active first.
FitData gather_fit(ConstImageView<float> img, ConstImageView<std::uint8_t> mask, bool transpose,
                   const SamplingParams& p) {
    FitData fd;
    const std::int64_t W = transpose ? img.height : img.width;
    const std::int64_t H = transpose ? img.width : img.height;
    fd.extent = W;
    const std::int64_t cw = std::min(W, p.max_crop_px), ch = std::min(H, p.max_crop_px);
    const std::int64_t a0 = (W - cw) / 2, b0 = (H - ch) / 2;
    const std::int64_t nl = std::min<std::int64_t>(ch, 96);
    const std::int64_t per_line = cw / kFitSeg;
    struct Cand {
        double act;
        std::int64_t idx;
        FitSegment s;
    };
    std::vector<Cand> c;
    for (std::int64_t li = 0; li < nl; ++li) {
        const std::int64_t bb = b0 + li * ch / nl;
        for (std::int64_t si = 0; si < per_line; ++si) {
            FitSegment s;
            s.g0 = a0 + si * kFitSeg;
            s.y.resize(kFitSeg);
            bool ok = true, integer = true;
            double mean = 0.0;
            for (int i = 0; i < kFitSeg && ok; ++i) {
                const std::int64_t g = s.g0 + i;
                const std::int64_t x = transpose ? bb : g, y = transpose ? g : bb;
                const float v = img.at(x, y);
                ok = std::isfinite(v) && (mask.empty() || mask.at(x, y) != 0);
                s.y[static_cast<std::size_t>(i)] = v;
                mean += v;
                integer = integer && v == std::nearbyint(v);
            }
            if (!ok) continue;
            mean /= kFitSeg;
            double act = 0.0;
            for (int i = 0; i < kFitSeg; ++i)
                s.y[static_cast<std::size_t>(i)] -= mean;
            for (int i = 1; i < kFitSeg; ++i)
                act += std::abs(s.y[static_cast<std::size_t>(i)] - s.y[static_cast<std::size_t>(i - 1)]);
            if (!(act > 0)) continue;
            fd.integer_valued = fd.integer_valued && integer;
            c.push_back({act, li * per_line + si, std::move(s)});
        }
    }
    std::sort(c.begin(), c.end(),
              [](const Cand& a, const Cand& b) { return a.act != b.act ? a.act > b.act : a.idx < b.idx; });
    const std::size_t keep = std::min<std::size_t>(c.size(), kFitEvalSegs);
    for (std::size_t i = 0; i < keep; ++i)
        fd.segs.push_back(std::move(c[i].s));
    return fd;
}

// Factor with a simple numerator and denominator (up to 4) within 1 % of k, else 0: the fit test
// needs the exact grid.
double snap_factor(double k) {
    for (int q = 1; q <= 4; ++q) {
        const double m = std::round(k * q);
        if (m > q && std::abs(m / q / k - 1.0) < 0.01) return m / q;
    }
    return 0.0;
}

const char* kernel_name(int kernel) {
    return kKernelName[kernel];
}

}  // namespace satiq::detail
