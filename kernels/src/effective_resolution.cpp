// Effective-resolution (upsampling) detector: periodicity of interpolation traces plus the
// spectral cut-off at the source Nyquist. Sources: Popescu & Farid, IEEE TSP 53(2), 2005;
// Gallagher, CRV 2005; Mahdian & Saic, IEEE TIFS 3(3), 2008 (periodic statistics of interpolated
// signals); Welch, IEEE Trans. Audio Electroacoust. 15(2), 1967 (averaged periodograms).
#include "satiq/kernels/effective_resolution.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "effective_resolution_detail.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {

using namespace detail;

namespace {

// Lines per work block: the block partition is fixed, so sums combine in the same order for any
// thread count.
constexpr std::int64_t kBlockLines = 32;
// Half-width of the window over which the difference magnitude is averaged for the contrast
// normalization (17 px: several periods of any factor searched, and no multiple of 2 or 3).
constexpr int kNormHalf = 8;

struct Line {
    std::vector<float> v;
    std::vector<std::uint8_t> ok;
};

// Number of contiguous groups of lines whose periodicity traces are also kept apart: an
// interpolation period is the same everywhere in the image, a periodic object is local.
constexpr int kGroups = 4;

struct Trace {
    std::vector<double> sum;  // per position: sum of normalized |difference|
    std::vector<double> cnt;
    void init(std::size_t n) {
        sum.assign(n, 0.0);
        cnt.assign(n, 0.0);
    }
    void add(const Trace& o) {
        for (std::size_t i = 0; i < sum.size(); ++i)
            sum[i] += o.sum[i], cnt[i] += o.cnt[i];
    }
};

struct Accum {
    Trace d1, d2;               // first- and second-difference traces
    std::vector<double> power;  // Welch power per bin
    std::int64_t segments = 0;
    std::int64_t lines = 0;
    void init(std::size_t n, std::size_t bins) {
        d1.init(n);
        d2.init(n);
        power.assign(bins, 0.0);
    }
    void add(const Accum& o) {
        d1.add(o.d1);
        d2.add(o.d2);
        for (std::size_t i = 0; i < power.size(); ++i)
            power[i] += o.power[i];
        segments += o.segments;
        lines += o.lines;
    }
};

// Adds a[i] / (mean of the valid a over i-kNormHalf..i+kNormHalf) to the trace at position
// i + offset, for every valid a[i] with enough valid neighbours and a non-zero local mean.
bool add_normalized(const std::vector<double>& a, const std::vector<std::uint8_t>& aok, std::size_t offset, Trace& t) {
    const auto n = static_cast<std::int64_t>(a.size());
    double s = 0.0, c = 0.0;
    for (std::int64_t i = 0; i < std::min<std::int64_t>(kNormHalf, n); ++i)
        if (aok[static_cast<std::size_t>(i)]) s += a[static_cast<std::size_t>(i)], c += 1.0;
    bool used = false;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t add = i + kNormHalf, rem = i - kNormHalf - 1;
        if (add < n && aok[static_cast<std::size_t>(add)]) s += a[static_cast<std::size_t>(add)], c += 1.0;
        if (rem >= 0 && aok[static_cast<std::size_t>(rem)]) s -= a[static_cast<std::size_t>(rem)], c -= 1.0;
        const auto ui = static_cast<std::size_t>(i);
        if (!aok[ui] || c < kNormHalf) continue;
        const double m = s / c;
        if (!(m > 1e-9)) continue;
        t.sum[ui + offset] += a[ui] / m;
        t.cnt[ui + offset] += 1.0;
        used = true;
    }
    return used;
}

// Periodicity traces of one line: magnitudes of the first difference (Gallagher 2005 uses the
// second derivative; for linear interpolation at an integer factor with pixels on the source
// nodes the first difference is constant inside a source interval, whereas for half-pixel
// aligned grids the second difference is symmetric between phases, so both are kept). The
// division by the local mean magnitude keeps high-contrast lines from dominating the average.
void periodic_trace(const Line& L, Accum& acc, std::vector<double>& a, std::vector<std::uint8_t>& aok) {
    const std::size_t n = L.v.size();
    if (n < 4) return;
    a.assign(n, 0.0);
    aok.assign(n, 0);
    for (std::size_t i = 0; i + 1 < n; ++i)
        if (L.ok[i] && L.ok[i + 1]) {
            a[i] = std::abs(static_cast<double>(L.v[i + 1]) - static_cast<double>(L.v[i]));
            aok[i] = 1;
        }
    bool used = add_normalized(a, aok, 0, acc.d1);
    std::fill(aok.begin(), aok.end(), 0);
    for (std::size_t i = 1; i + 1 < n; ++i)
        if (L.ok[i - 1] && L.ok[i] && L.ok[i + 1]) {
            a[i] = std::abs(static_cast<double>(L.v[i - 1]) - 2.0 * static_cast<double>(L.v[i]) +
                            static_cast<double>(L.v[i + 1]));
            aok[i] = 1;
        }
    used = add_normalized(a, aok, 0, acc.d2) || used;
    if (used) acc.lines += 1;
}

// Welch periodogram of the fully valid, non-overlapping segments of one line: each segment has
// its least-squares line removed (so a brightness ramp does not leak) and a Hann window.
void welch_line(const Line& L, int seg, const std::vector<double>& hann, Accum& acc, cv::Mat& buf, cv::Mat& out) {
    const std::size_t n = L.v.size();
    const auto us = static_cast<std::size_t>(seg);
    const double xm = 0.5 * (seg - 1);
    double sxx = 0.0;
    for (int i = 0; i < seg; ++i)
        sxx += (i - xm) * (i - xm);
    buf.create(static_cast<int>(n / us) + 1, seg, CV_64F);
    int rows = 0;
    for (std::size_t s0 = 0; s0 + us <= n; s0 += us) {
        bool ok = true;
        for (std::size_t i = 0; i < us; ++i)
            if (!L.ok[s0 + i]) {
                ok = false;
                break;
            }
        if (!ok) continue;
        double mean = 0.0, sxy = 0.0;
        for (std::size_t i = 0; i < us; ++i)
            mean += L.v[s0 + i];
        mean /= seg;
        for (std::size_t i = 0; i < us; ++i)
            sxy += (static_cast<double>(i) - xm) * (L.v[s0 + i] - mean);
        const double slope = sxy / sxx;
        auto* b = buf.ptr<double>(rows++);
        for (std::size_t i = 0; i < us; ++i)
            b[i] = (L.v[s0 + i] - mean - slope * (static_cast<double>(i) - xm)) * hann[i];
    }
    if (rows == 0) return;
    cv::dft(buf.rowRange(0, rows), out, cv::DFT_ROWS | cv::DFT_COMPLEX_OUTPUT);
    for (int r = 0; r < rows; ++r) {
        const auto* o = out.ptr<cv::Vec2d>(r);
        for (std::size_t j = 0; j < acc.power.size(); ++j)
            acc.power[j] += o[j][0] * o[j][0] + o[j][1] * o[j][1];
    }
    acc.segments += rows;
}

struct Axis1D {
    // Periodicity traces (mean normalized |difference| per position) per group of lines, for
    // the first [0] and second [1] difference.
    std::vector<double> e[2][kGroups];
    std::vector<double> power;  // Welch spectrum, bins 0..seg/2
    std::int64_t lines = 0, segments = 0;
};

std::vector<double> trace_mean(const Trace& t) {
    std::vector<double> e(t.sum.size());
    double m = 0.0, c = 0.0;
    for (std::size_t i = 0; i < t.sum.size(); ++i)
        if (t.cnt[i] > 0) m += t.sum[i] / t.cnt[i], c += 1.0;
    m = c > 0 ? m / c : 0.0;
    for (std::size_t i = 0; i < t.sum.size(); ++i)
        e[i] = t.cnt[i] > 0 ? t.sum[i] / t.cnt[i] : m;
    return e;
}

// Gathers the lines of one axis (rows when transpose is false) and accumulates both statistics.
Axis1D analyze_axis(ConstImageView<float> img, ConstImageView<std::uint8_t> mask, bool transpose,
                    const SamplingParams& p) {
    const std::int64_t W = transpose ? img.height : img.width;  // along the line
    const std::int64_t H = transpose ? img.width : img.height;  // across lines
    const std::int64_t cw = std::min(W, p.max_crop_px), ch = std::min(H, p.max_crop_px);
    const std::int64_t a0 = (W - cw) / 2, b0 = (H - ch) / 2;
    const std::int64_t nl = std::min(ch, p.max_lines);
    const std::int64_t blocks = (nl + kBlockLines - 1) / kBlockLines;
    const auto bins = static_cast<std::size_t>(p.segment_px) / 2 + 1;  // segment_px > 0
    std::vector<double> hann(static_cast<std::size_t>(p.segment_px));
    for (int i = 0; i < p.segment_px; ++i)  // Hann data window for the Welch segments
        hann[static_cast<std::size_t>(i)] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * (i + 0.5) / p.segment_px);
    std::vector<Accum> part(static_cast<std::size_t>(blocks));
    parallel_items(blocks, [&](std::int64_t bi) {
        Accum& acc = part[static_cast<std::size_t>(bi)];
        acc.init(static_cast<std::size_t>(cw), bins);
        Line L;
        L.v.resize(static_cast<std::size_t>(cw));
        L.ok.resize(static_cast<std::size_t>(cw));
        std::vector<double> a;
        std::vector<std::uint8_t> aok;
        cv::Mat buf, out;
        const std::int64_t l1 = std::min(nl, (bi + 1) * kBlockLines);
        for (std::int64_t li = bi * kBlockLines; li < l1; ++li) {
            const std::int64_t b = b0 + li * ch / nl;  // evenly spaced lines, deterministic
            for (std::int64_t i = 0; i < cw; ++i) {
                const std::int64_t x = transpose ? b : a0 + i, y = transpose ? a0 + i : b;
                const float v = img.at(x, y);
                const auto ui = static_cast<std::size_t>(i);
                L.ok[ui] = static_cast<std::uint8_t>(std::isfinite(v) && (mask.empty() || mask.at(x, y) != 0));
                L.v[ui] = L.ok[ui] ? v : 0.0f;
            }
            periodic_trace(L, acc, a, aok);
            welch_line(L, p.segment_px, hann, acc, buf, out);
        }
    });
    // Combine in block order (deterministic); blocks fall into kGroups contiguous groups.
    std::vector<Accum> group(kGroups);
    for (auto& g : group)
        g.init(static_cast<std::size_t>(cw), bins);
    for (std::int64_t bi = 0; bi < blocks; ++bi)
        group[static_cast<std::size_t>(bi * kGroups / blocks)].add(part[static_cast<std::size_t>(bi)]);
    Axis1D r;
    r.power.assign(bins, 0.0);
    for (int g = 0; g < kGroups; ++g) {
        const Accum& q = group[static_cast<std::size_t>(g)];
        r.lines += q.lines;
        r.segments += q.segments;
        for (std::size_t j = 0; j < bins; ++j)
            r.power[j] += q.power[j];
        r.e[0][g] = trace_mean(q.d1);
        r.e[1][g] = trace_mean(q.d2);
    }
    if (r.segments > 0)
        for (auto& v : r.power)
            v /= static_cast<double>(r.segments);
    return r;
}

// Mean of the spectrum in dB over frequencies [f0, f1] (cycles/px), nearest bin when the band is
// narrower than a bin.
double band_db(const std::vector<double>& power, int seg, double f0, double f1) {
    const int last = seg / 2;
    int j0 = static_cast<int>(std::ceil(f0 * seg - 1e-9)), j1 = static_cast<int>(std::floor(f1 * seg + 1e-9));
    j0 = std::clamp(j0, 1, last);
    j1 = std::clamp(j1, 1, last);
    if (j1 < j0) j0 = j1 = std::clamp(static_cast<int>(std::lround(0.5 * (f0 + f1) * seg)), 1, last);
    double s = 0.0;
    for (int j = j0; j <= j1; ++j)
        s += 10.0 * std::log10(power[static_cast<std::size_t>(j)] + 1e-30);
    return s / (j1 - j0 + 1);
}

// Drop (dB) of the line spectrum across the source Nyquist 0.5/k of candidate factor k: mean
// level just below it minus mean level just above it (the interpolation kernel is a low-pass
// filter that removes the spectral replicas above the source Nyquist: Mahdian & Saic 2008,
// section III).
double spectral_drop_db(const std::vector<double>& power, int seg, double k) {
    const double fc = 0.5 / k;
    return band_db(power, seg, 0.6 * fc, 0.9 * fc) - band_db(power, seg, 1.1 * fc, std::min(1.5 * fc, 0.5));
}

// Power spectrum of a periodicity trace: mean removed, Hann window (Popescu & Farid 2005 detect
// resampling as peaks in the Fourier transform of their probability map; Gallagher 2005 as peaks
// in the DFT of the averaged second-derivative magnitude). Complex coefficients are returned.
std::vector<cv::Vec2d> trace_spectrum(const std::vector<double>& e) {
    const std::size_t n = e.size();
    double mean = 0.0;
    for (double v : e)
        mean += v;
    mean /= static_cast<double>(n);
    cv::Mat buf(1, static_cast<int>(n), CV_64F), out;
    for (std::size_t i = 0; i < n; ++i)
        buf.at<double>(0, static_cast<int>(i)) =
            (e[i] - mean) *
            (0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * (static_cast<double>(i) + 0.5) / static_cast<double>(n)));
    cv::dft(buf, out, cv::DFT_COMPLEX_OUTPUT);
    std::vector<cv::Vec2d> c(n / 2 + 1);
    for (std::size_t j = 0; j <= n / 2; ++j)
        c[j] = out.at<cv::Vec2d>(0, static_cast<int>(j));
    return c;
}

struct LineFound {
    double evidence = 0.0;   // pooled line power / median band power
    double group_min = 0.0;  // smallest per-group evidence
    double coherence = 0.0;  // |sum of group coefficients| / sum of their magnitudes
    double fp = 0.0;         // refined line frequency
};

inline double pw(const cv::Vec2d& c) {
    return c[0] * c[0] + c[1] * c[1];
}

// Strongest periodicity line of one trace type in [f_lo, 0.5], tested for stationarity: it must
// stand out in every group of lines with the same phase (interpolation from one grid is
// cyclostationary over the whole image; Mahdian & Saic 2008 rely on the same global period).
LineFound find_line(const std::vector<double> (&e)[kGroups], double f_lo) {
    LineFound best;
    const std::size_t n = e[0].size();
    std::vector<double> pooled(n, 0.0);
    for (int g = 0; g < kGroups; ++g)
        for (std::size_t i = 0; i < n; ++i)
            pooled[i] += e[g][i];
    const auto cp = trace_spectrum(pooled);
    const std::size_t half = n / 2;
    const auto j_lo = static_cast<std::size_t>(std::ceil(f_lo * static_cast<double>(n)));
    if (j_lo + 4 >= half) return best;
    std::vector<double> band;
    for (std::size_t j = j_lo; j <= half; ++j)
        band.push_back(pw(cp[j]));
    const double med = upper_median(band);
    std::size_t jp = j_lo;
    for (std::size_t j = j_lo; j <= half; ++j)
        if (pw(cp[j]) > pw(cp[jp])) jp = j;
    if (!(med > 0)) return best;
    best.evidence = pw(cp[jp]) / med;
    double fp = static_cast<double>(jp) / static_cast<double>(n);
    if (jp > j_lo && jp < half) {  // parabola through the log powers of the peak and its neighbours
        const double l0 = std::log(pw(cp[jp - 1]) + 1e-300), l1 = std::log(pw(cp[jp]) + 1e-300),
                     l2 = std::log(pw(cp[jp + 1]) + 1e-300);
        const double den = l0 - 2.0 * l1 + l2;
        if (den < 0) fp += std::clamp(0.5 * (l0 - l2) / den, -0.5, 0.5) / static_cast<double>(n);
    }
    best.fp = fp;
    best.group_min = 1e300;
    cv::Vec2d sum(0, 0);
    double mag = 0.0;
    for (int g = 0; g < kGroups; ++g) {
        const auto cg = trace_spectrum(e[g]);
        std::vector<double> bg;
        for (std::size_t j = j_lo; j <= half; ++j)
            bg.push_back(pw(cg[j]));
        const double mg = upper_median(bg);
        best.group_min = std::min(best.group_min, mg > 0 ? pw(cg[jp]) / mg : 0.0);
        sum += cg[jp];
        mag += std::sqrt(pw(cg[jp]));
    }
    best.coherence = mag > 0 ? std::sqrt(pw(sum)) / mag : 0.0;
    return best;
}

SamplingEstimate::Axis decide_periodic(const Axis1D& a, const FitData& fd, const SamplingParams& p) {
    SamplingEstimate::Axis r;
    r.lines = a.lines;
    r.segments = a.segments;
    const std::size_t n = a.e[0][0].size();
    if (n < 32 || a.lines < 16) return r;
    const double f_lo = std::min(1.0 / p.max_factor, 1.0 - 1.0 / p.deadband_factor) * 0.95;
    LineFound L[2] = {find_line(a.e[0], f_lo), find_line(a.e[1], f_lo)};
    // The trace type whose line is weakest in its weakest group decides (both must be present
    // everywhere for a real interpolation period; the better one is used).
    const LineFound& f = L[0].group_min >= L[1].group_min ? L[0] : L[1];
    r.evidence = f.evidence;
    r.period_cyc_per_px = f.fp;
    const double fp = f.fp;
    if (!(fp > 0)) return r;
    // Candidates: the fundamental 1/k of the interpolation period folds to fp, so 1/k = fp or
    // 1 - fp. Between the two cut-offs 0.5/k_hi < 0.5/k_lo the spectrum is a pass band when the
    // factor is k_lo and already a stop band when it is k_hi.
    const double k_hi = 1.0 / fp, k_lo = 1.0 / (1.0 - fp);
    double k = k_hi;
    const int seg = p.segment_px;
    if (k_hi / k_lo > 1.15) {
        const double fh = 0.5 / k_hi, fl = 0.5 / k_lo;
        const double A = band_db(a.power, seg, 0.5 * fh, 0.9 * fh);
        const double M = band_db(a.power, seg, 1.15 * fh, std::max(1.15 * fh, 0.9 * fl));
        const double S = band_db(a.power, seg, 1.1 * fl, std::min(1.5 * fl, 0.5));
        r.mid_fraction = A > S ? (M - S) / (A - S) : 1.0;
        k = r.mid_fraction > p.mid_fraction_threshold ? k_lo : k_hi;
        // The model fit decides when both candidates have an exact grid: the larger factor has
        // fewer unknowns, so it wins when its residual is no more than about twice the smaller
        // factor's (the smaller factor also fits a larger factor's image, not the reverse).
        const double sh = snap_factor(k_hi), sl = snap_factor(k_lo);
        if (sh > 0 && sl > 0 && !fd.segs.empty()) {
            const ModelFit mh = fit_factor(fd, sh), ml = fit_factor(fd, sl);
            const double q = fd.integer_valued ? 1.0 / 12.0 : 0.0;
            k = mh.sigma2 <= 2.0 * ml.sigma2 + 0.5 * q ? mh.k : ml.k;
            r.fit_noise = (k == mh.k ? mh.sigma2 : ml.sigma2) / (q > 0 ? q : 1.0);
        }
        // Diagnostic: every kernel that reproduces constants (bilinear, cubic convolution, normalized
        // Lanczos) has a zero at the source sampling frequency, i.e. at 1/k_hi = fp on this grid
        // when the factor is k_hi (R. G. Keys, "Cubic convolution interpolation for digital image
        // processing", IEEE TASSP 29(6), 1981, on the kernel's frequency response): a notch at fp
        // with more power above it would mean k_hi.
        if (fp + 0.06 < 0.5) {
            r.notch_db = band_db(a.power, seg, fp - 0.02, fp + 0.02) - band_db(a.power, seg, fp + 0.06, 0.5);
            // Reported only: measured on the samples and real images it does not separate the
            // factors for all three kernels (bilinear's side lobes fill the notch).
        }
    }
    r.candidate_factor = k;
    r.drop_db = spectral_drop_db(a.power, seg, k);
    r.group_min = f.group_min;
    r.coherence = f.coherence;
    if (r.evidence >= p.min_evidence && f.group_min >= p.min_group_evidence && f.coherence >= p.min_coherence &&
        r.drop_db >= p.min_drop_db && k >= p.deadband_factor && k <= p.max_factor * 1.05) {
        r.upsampled = true;
        r.factor = k;
        r.cutoff_cyc_per_px = 0.5 / k;
    }
    return r;
}

// Per-axis decision. The model fit is the primary test when the data are integers (the residual
// of the right model is then the known re-quantization noise 1/12): the largest factor of
// kFitFactors whose model leaves at most kFitAcceptRatio x the best residual + kFitAcceptAdd x 1/12
// is taken when the best residual is below fit_max_noise x 1/12. Measured on the samples and real
// images with the cv::resize and GDAL copies (264 cases): on axes with >= kFitMinSegs active
// segments the true model leaves at most 1.21 x the best residual, the nearest wrong larger
// factor at least 1.3 x the best + 0.42 x 1/12 (a GDAL cubicspline copy of the noisy 8-bit edge:
// the B-spline smooths the source so much that a coarser grid nearly reproduces it); every
// original leaves at least 57 x 1/12. With fewer active segments (an edge crossed by few lines,
// whose profile along that axis is smooth, so larger factors fit it too) the period line must
// also sit at the fitted factor's frequency, or the other axis's factor must fit this axis too.
// Otherwise (float data, another kernel, another factor) the periodicity + spectral cut-off
// decision stands.
constexpr double kFitFactors[] = {1.5, 2.0, 2.5, 3.0, 4.0};
constexpr std::size_t kFitMinSegs = 24;
constexpr double kFitAcceptRatio = 1.3;
constexpr double kFitAcceptAdd = 0.2;

struct FitOutcome {
    double k = 0.0;      // factor of the fitted model (0: no model reproduces the axis)
    double noise = 0.0;  // its residual / (1/12)
    int kernel = -1;
    bool strong = false;                    // enough active segments to decide on its own
    std::size_t index = 0;                  // index of k in kFitFactors
    ModelFit fits[std::size(kFitFactors)];  // every factor's best model (sigma2 1e300 when skipped)
    double smin = 1e300;
    // True when factor index i reproduces this axis as well as the best model does.
    [[nodiscard]] bool accepts(std::size_t i) const {
        constexpr double q = 1.0 / 12.0;
        return fits[i].kernel >= 0 && fits[i].sigma2 <= kFitAcceptRatio * smin + kFitAcceptAdd * q;
    }
};

SamplingEstimate::Axis decide(const Axis1D& a, const FitData& fd, const SamplingParams& p, FitOutcome& out) {
    SamplingEstimate::Axis r = decide_periodic(a, fd, p);
    r.fit_segments = static_cast<std::int64_t>(fd.segs.size());
    if (!fd.integer_valued || fd.segs.size() < 4) return r;
    constexpr double q = 1.0 / 12.0;
    // Factors are fitted in parallel; each result is independent, so the outcome does not depend
    // on the thread count.
    parallel_items(static_cast<std::int64_t>(std::size(kFitFactors)), [&](std::int64_t i) {
        const double k = kFitFactors[static_cast<std::size_t>(i)];
        if (k >= p.deadband_factor && k <= p.max_factor * 1.05)
            out.fits[static_cast<std::size_t>(i)] = fit_factor(fd, k);
    });
    for (const ModelFit& f : out.fits)
        out.smin = std::min(out.smin, f.sigma2);
    if (!(out.smin <= p.fit_max_noise * q)) return r;
    std::size_t best = 0;
    for (std::size_t i = 0; i < std::size(kFitFactors); ++i)
        if (out.accepts(i)) best = i;
    const ModelFit& m = out.fits[best];
    out.k = m.k;
    out.noise = m.sigma2 / q;
    out.kernel = m.kernel;
    out.index = best;
    out.strong = fd.segs.size() >= kFitMinSegs;
    if (!out.strong) {
        double f0 = std::fmod(1.0 / m.k, 1.0);
        f0 = std::min(f0, 1.0 - f0);
        if (!(std::abs(r.period_cyc_per_px - f0) <= 0.01 && r.evidence >= p.min_group_evidence)) return r;
    }
    r.upsampled = true;
    r.factor = m.k;
    r.candidate_factor = m.k;
    r.cutoff_cyc_per_px = 0.5 / m.k;
    r.fit_noise = m.sigma2 / q;
    r.kernel = kernel_name(m.kernel);
    r.drop_db = spectral_drop_db(a.power, p.segment_px, m.k);
    return r;
}

std::string fmt2(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

}  // namespace

void validate(const SamplingParams& p) {
    if (!(p.deadband_factor > 1.0 && p.deadband_factor < 4.0))
        throw Error("SamplingParams.deadband_factor must be in (1, 4), got " + std::to_string(p.deadband_factor));
    if (!(p.max_factor >= 2.0 && p.max_factor <= 16.0))
        throw Error("SamplingParams.max_factor must be in [2, 16], got " + std::to_string(p.max_factor));
    if (!(p.min_evidence > 1.0)) throw Error("SamplingParams.min_evidence must be > 1");
    if (!(p.min_drop_db >= 0.0)) throw Error("SamplingParams.min_drop_db must be >= 0");
    if (!(p.fit_max_noise > 0.0)) throw Error("SamplingParams.fit_max_noise must be > 0");
    if (p.segment_px < 32 || p.segment_px > 1024 || (p.segment_px & (p.segment_px - 1)) != 0)
        throw Error("SamplingParams.segment_px must be a power of two in [32, 1024], got " +
                    std::to_string(p.segment_px));
    if (p.max_crop_px < 64) throw Error("SamplingParams.max_crop_px must be >= 64");
    if (p.max_lines < 16) throw Error("SamplingParams.max_lines must be >= 16");
}

SamplingEstimate estimate_sampling(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                                   const SamplingParams& params) {
    validate(params);
    if (!mask.empty() && (mask.width != image.width || mask.height != image.height))
        throw Error("estimate_sampling: mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                    " but the image is " + std::to_string(image.width) + "x" + std::to_string(image.height));
    SamplingEstimate r;
    r.method =
        "interpolation model fit (cv::resize and GDAL kernels: bilinear, Keys cubic a=-0.75 and -0.5, Lanczos-4 and "
        "-3, cubic B-spline at 1.5-4x, residual vs re-quantization noise) + "
        "interpolation periodicity (Popescu-Farid 2005, Gallagher 2005, Mahdian-Saic 2008) + Welch spectral "
        "cut-off; deadband " +
        fmt2(params.deadband_factor);
    if (image.width < 2 * params.segment_px || image.height < 2 * params.segment_px) {
        r.message =
            "image too small for the sampling test (needs " + std::to_string(2 * params.segment_px) + " px per side)";
        return r;
    }
    const Axis1D ax = analyze_axis(image, mask, false, params);
    const Axis1D ay = analyze_axis(image, mask, true, params);
    if (ax.segments < 8 || ay.segments < 8) {
        r.message = "too few fully valid lines for the sampling test";
        return r;
    }
    r.valid = true;
    FitOutcome fx, fy;
    r.x = decide(ax, gather_fit(image, mask, false, params), params, fx);
    r.y = decide(ay, gather_fit(image, mask, true, params), params, fy);
    // An axis crossed by too few active segments (a near-vertical edge seen along columns: its
    // profile there is stretched and smooth, so a smooth original would fit too, and so do larger
    // factors) takes the other axis's factor, decided on enough segments, when that factor's
    // model reproduces this axis as well as its best model does. Limitation: such an axis of an image upsampled on the
    // other axis only would be reported upsampled as well.
    const auto adopt = [](SamplingEstimate::Axis& a, const FitOutcome& own, const FitOutcome& other) {
        if (a.kernel.empty() && own.k > 0 && !own.strong && other.strong && other.k > 0 && own.accepts(other.index)) {
            const ModelFit& m = own.fits[other.index];
            a.upsampled = true;
            a.factor = a.candidate_factor = m.k;
            a.cutoff_cyc_per_px = 0.5 / m.k;
            a.fit_noise = m.sigma2 * 12.0;
            a.kernel = kernel_name(m.kernel);
        }
    };
    adopt(r.x, fx, fy);
    adopt(r.y, fy, fx);
    if (r.x.upsampled || r.y.upsampled) {
        r.message = upsampled_message(r);
    } else {
        r.message = "properly sampled: no interpolation trace (factors below " + fmt2(params.deadband_factor) +
                    " are reported as 1)";
    }
    return r;
}

std::string upsampled_message(const SamplingEstimate& s) {
    return "upsampled: effective pixel " + fmt2(s.x.factor) + " x " + fmt2(s.y.factor) + " times the file's pixel" +
           (s.x.kernel.empty() && s.y.kernel.empty()
                ? " (interpolation period and spectral cut-off agree)"
                : " (an interpolation model reproduces the image to the re-quantization noise)");
}

}  // namespace satiq
