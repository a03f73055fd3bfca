// Slanted-edge analysis, profile stages (ISO 12233:2017 e-SFR in the manner of P. Burns'
// sfrmat and MTF Mapper): plateau levels and noise, the conditioned ESF, its 50 % crossing and
// 10-90 % rise, the LSF and its width, RER and overshoot (Leachtenauer et al., Appl. Opt.
// 36(32), 1997) from local fits of the raw samples, and the MTF. The order of the stages is in
// measure_centred (edge_sfr.cpp).
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <numbers>
#include <vector>

#include "edge_sfr_detail.hpp"
#include "satiq/kernels/optics.hpp"

namespace satiq::detail {
namespace {

// Robust standard deviation: interquartile range / 1.349 (exact for Gaussian noise; unlike the
// MAD it does not collapse to 0 when more than half of the values are equal, e.g. on a
// two-level texture).
double robust_std(std::vector<double> v) {
    if (v.size() < 4) return 0.0;
    // Linearly interpolated quantiles from the order statistics i and i + 1 alone (selection,
    // not a full sort: the values are those of the sorted vector). The upper quartile is selected
    // first, so the lower one is selected within the part below it.
    auto q = [&](double p, std::size_t end) {
        const double pos = p * static_cast<double>(v.size() - 1);
        const auto i = static_cast<std::size_t>(pos);
        const double t = pos - static_cast<double>(i);
        const auto it = v.begin() + static_cast<std::ptrdiff_t>(i);
        std::nth_element(v.begin(), it, v.begin() + static_cast<std::ptrdiff_t>(end));
        if (i + 1 >= v.size()) return *it;
        const double next = *std::min_element(it + 1, v.end());
        return (1 - t) * *it + t * next;
    };
    const double q75 = q(0.75, v.size());
    const auto i75 = static_cast<std::size_t>(0.75 * static_cast<double>(v.size() - 1));
    return (q75 - q(0.25, i75 + 1)) / 1.349;
}

// Local cubic regression of the normalized samples around p: the value at p.
// Unlike a bin average it carries no box-smoothing bias at the evaluation point; for a
// symmetric window the intercept's variance equals that of a quadratic fit, while the cubic
// term absorbs the ESF's skew, so the window can be wider (less noise) for the same bias.
// Samples are grouped by bin (offs[k]..offs[k+1] hold bin k), not sorted within a bin.
double esf_at(const std::vector<double>& ds, const std::vector<double>& vs, const std::vector<std::int64_t>& offs,
              const std::vector<double>& bins, double bin_lo, double h, double p, double r) {
    const auto nbins = static_cast<std::int64_t>(bins.size());
    const std::int64_t k0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor((p - r - bin_lo) / h)));
    const std::int64_t k1 =
        std::min<std::int64_t>(nbins - 1, static_cast<std::int64_t>(std::floor((p + r - bin_lo) / h)));
    std::int64_t n = 0;
    if (k1 >= k0) {
        double a[4][5] = {};
        std::int64_t left = 0;
        for (auto i = offs[static_cast<std::size_t>(k0)]; i < offs[static_cast<std::size_t>(k1 + 1)]; ++i) {
            const double x = (ds[static_cast<std::size_t>(i)] - p) / r;
            if (x < -1.0 || x > 1.0) continue;
            ++n;
            const double y = vs[static_cast<std::size_t>(i)];
            const double x2 = x * x;
            const double pw[4] = {1.0, x, x2, x2 * x};
            for (int ii = 0; ii < 4; ++ii) {
                for (int j = ii; j < 4; ++j)
                    a[ii][j] += pw[ii] * pw[j];
                a[ii][4] += pw[ii] * y;
            }
            left += x < 0 ? 1 : 0;
        }
        for (int ii = 0; ii < 4; ++ii)
            for (int j = 0; j < ii; ++j)
                a[ii][j] = a[j][ii];
        if (n >= 10 && left >= 4 && n - left >= 4) {
            // Gaussian elimination with partial pivoting on the 4x4 normal equations.
            bool singular = false;
            for (int c = 0; c < 4 && !singular; ++c) {
                int piv = c;
                for (int i = c + 1; i < 4; ++i)
                    if (std::abs(a[i][c]) > std::abs(a[piv][c])) piv = i;
                if (std::abs(a[piv][c]) < 1e-12 * static_cast<double>(n)) {
                    singular = true;
                    break;
                }
                for (int j = 0; j < 5; ++j)
                    std::swap(a[c][j], a[piv][j]);
                for (int i = 0; i < 4; ++i) {
                    if (i == c) continue;
                    const double f = a[i][c] / a[c][c];
                    for (int j = c; j < 5; ++j)
                        a[i][j] -= f * a[c][j];
                }
            }
            if (!singular) return a[0][4] / a[0][0];
        }
    }
    // Fallback: linear interpolation of the bins.
    const double kf = (p - bin_lo) / h - 0.5;
    if (kf <= 0) return bins.front();
    if (kf >= static_cast<double>(nbins - 1)) return bins.back();
    const auto kl = static_cast<std::int64_t>(std::floor(kf));
    const double t = kf - static_cast<double>(kl);
    return (1 - t) * bins[static_cast<std::size_t>(kl)] + t * bins[static_cast<std::size_t>(kl + 1)];
}

// FWHM of an LSF sampled at the bin centres bin_lo + (k + 1/2) h (defined on bins 1..n-2),
// about its highest value within 1.5 px of `centre`, so that a noise spike on a plateau of a
// short edge cannot stand in for the peak; the half-maximum crossings are found walking
// outwards and interpolated linearly. Returns the peak; `width` is 0 when a crossing is missing.
double lsf_fwhm(const std::vector<double>& l, double bin_lo, double h, double centre, double& width) {
    const auto n = static_cast<std::int64_t>(l.size());
    std::int64_t km = -1;
    for (std::int64_t k = 1; k + 1 < n; ++k) {
        const double x = bin_lo + (static_cast<double>(k) + 0.5) * h - centre;
        if (std::abs(x) > 1.5) continue;
        if (km < 0 || l[static_cast<std::size_t>(k)] > l[static_cast<std::size_t>(km)]) km = k;
    }
    if (km < 0) km = std::max_element(l.begin(), l.end()) - l.begin();
    const double peak = l[static_cast<std::size_t>(km)], half = 0.5 * peak;
    double left = 0, right = 0;
    bool lok = false, rok = false;
    for (auto k = km; k > 0 && !lok; --k)
        if (l[static_cast<std::size_t>(k - 1)] < half) {
            const double l0 = l[static_cast<std::size_t>(k - 1)], l1 = l[static_cast<std::size_t>(k)];
            left = static_cast<double>(k - 1) + (half - l0) / (l1 - l0);
            lok = true;
        }
    for (auto k = km; k + 1 < n && !rok; ++k)
        if (l[static_cast<std::size_t>(k + 1)] < half) {
            const double l0 = l[static_cast<std::size_t>(k)], l1 = l[static_cast<std::size_t>(k + 1)];
            right = static_cast<double>(k) + (l0 - half) / (l0 - l1);
            rok = true;
        }
    width = (lok && rok && half > 0) ? (right - left) * h : 0.0;
    return peak;
}

// Moves each bin value from its samples' mean position to the bin centre with the local slope
// (first order), so that the ESF is on a uniform grid.
void recentre_bins(const NormalProjection& proj, std::vector<double>& esf) {
    const std::int64_t nb = proj.n_bins;
    const double h = proj.bin_width, bin_lo = proj.bin_lo;
    const std::vector<std::int64_t>& bcnt = proj.bin_count;
    std::vector<double> mpos(static_cast<std::size_t>(nb), 0.0), corr(esf);
    for (std::int64_t k = 0; k < nb; ++k)
        if (bcnt[static_cast<std::size_t>(k)] > 0)
            mpos[static_cast<std::size_t>(k)] =
                proj.bin_pos[static_cast<std::size_t>(k)] / static_cast<double>(bcnt[static_cast<std::size_t>(k)]);
    for (std::int64_t k = 1; k + 1 < nb; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        if (bcnt[uk - 1] == 0 || bcnt[uk] == 0 || bcnt[uk + 1] == 0) continue;
        const double span_pos = mpos[uk + 1] - mpos[uk - 1];
        if (!(span_pos > 0.5 * h)) continue;
        const double slope = (esf[uk + 1] - esf[uk - 1]) / span_pos;
        const double centre_k = bin_lo + (static_cast<double>(k) + 0.5) * h;
        corr[uk] = esf[uk] + slope * (centre_k - mpos[uk]);
    }
    esf.swap(corr);
}

// Empty bins take the linear interpolation of their filled neighbours (sfrmat4 does the same);
// beyond the outermost filled bins, the nearest filled value.
void fill_empty_bins(const NormalProjection& proj, const std::vector<std::int64_t>& filled, std::vector<double>& esf) {
    const std::int64_t nb = proj.n_bins;
    for (std::int64_t k = 0, f = 0; k < nb; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        if (proj.bin_count[uk] > 0) continue;
        while (f + 1 < static_cast<std::int64_t>(filled.size()) && filled[static_cast<std::size_t>(f + 1)] < k)
            ++f;
        const std::int64_t kl = filled[static_cast<std::size_t>(f)];
        const std::int64_t kr =
            f + 1 < static_cast<std::int64_t>(filled.size()) ? filled[static_cast<std::size_t>(f + 1)] : kl;
        if (kl > k || kr < k || kr == kl)
            esf[uk] = esf[static_cast<std::size_t>(kl)];
        else {
            const double t = static_cast<double>(k - kl) / static_cast<double>(kr - kl);
            esf[uk] = (1 - t) * esf[static_cast<std::size_t>(kl)] + t * esf[static_cast<std::size_t>(kr)];
        }
    }
}

// LSF by central difference of the binned ESF (per px), defined on bins 1..nb-2.
std::vector<double> lsf_by_central_difference(const std::vector<double>& esf, double h) {
    const auto nb = static_cast<std::int64_t>(esf.size());
    std::vector<double> lsf(static_cast<std::size_t>(nb), 0.0);
    for (std::int64_t k = 1; k + 1 < nb; ++k)
        lsf[static_cast<std::size_t>(k)] =
            (esf[static_cast<std::size_t>(k + 1)] - esf[static_cast<std::size_t>(k - 1)]) / (2.0 * h);
    return lsf;
}

// The three loops below carry a floating-point sum of products. Inside the single-function
// original GCC judged them cold and left them scalar, so each product is fused into its sum
// (FMA contraction); vectorized, the products would be rounded before the in-order sum and the
// figures would change in the last bits. They are kept scalar so that every result stays
// bit-identical (GCC 12 has no per-loop "novector" pragma). Clang has no optimize attribute.
#if defined(__GNUC__) && !defined(__clang__)
#define SATIQ_SCALAR_LOOPS __attribute__((optimize("no-tree-loop-vectorize")))
#else
#define SATIQ_SCALAR_LOOPS
#endif

// Scatter of the normalized samples about their bin means, pooled over the bins within 2 px of
// the centre, and the mean number of samples per such bin.
struct BinScatter {
    double spread = 0.0;
    double samples_per_bin = 1.0;
};

SATIQ_SCALAR_LOOPS BinScatter scatter_near_centre(const NormalProjection& proj, const ConditionedEsf& esf,
                                                  double centre) {
    const std::int64_t nb = proj.n_bins;
    const double h = proj.bin_width, bin_lo = proj.bin_lo;
    const std::vector<std::int64_t>& offs = proj.bin_offsets;
    const std::vector<double>& sv = esf.sample_v;
    // Pooled within-bin variance of the samples within 2 px of the centre.
    double ssq = 0;
    std::int64_t dof = 0, nsum = 0, nbins_near = 0;
    for (std::int64_t k = 0; k < nb; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        const double x = bin_lo + (static_cast<double>(k) + 0.5) * h - centre;
        const std::int64_t n_k = offs[uk + 1] - offs[uk];
        if (std::abs(x) > 2.0 || n_k < 2) continue;
        double mean = 0;
        for (auto i = offs[uk]; i < offs[uk + 1]; ++i)
            mean += sv[static_cast<std::size_t>(i)];
        mean /= static_cast<double>(n_k);
        for (auto i = offs[uk]; i < offs[uk + 1]; ++i) {
            const double e = sv[static_cast<std::size_t>(i)] - mean;
            ssq += e * e;
        }
        dof += n_k - 1;
        nsum += n_k;
        ++nbins_near;
    }
    BinScatter out;
    out.spread = dof > 0 ? std::sqrt(ssq / static_cast<double>(dof)) : 0.0;
    out.samples_per_bin = nbins_near > 0 ? static_cast<double>(nsum) / static_cast<double>(nbins_near) : 1.0;
    return out;
}

// Divides the Gaussian taps by their sum; returns the sum of the squared normalized taps.
SATIQ_SCALAR_LOOPS double normalize_taps(std::vector<double>& g, double sum) {
    double g2 = 0;
    for (double& v : g) {
        v /= sum;
        g2 += v * v;
    }
    return g2;
}

// Centroid of the LSF (px along the normal), clamped to +-2 px; `fallback` for a non-positive LSF.
SATIQ_SCALAR_LOOPS double lsf_centroid(const NormalProjection& proj, const std::vector<double>& lsf, double fallback) {
    const std::int64_t nb = proj.n_bins;
    const double h = proj.bin_width, bin_lo = proj.bin_lo;
    double c_num = 0, c_den = 0;
    for (std::int64_t k = 0; k < nb; ++k) {
        const double x = bin_lo + (static_cast<double>(k) + 0.5) * h;
        c_num += x * lsf[static_cast<std::size_t>(k)];
        c_den += lsf[static_cast<std::size_t>(k)];
    }
    return c_den > 0 ? std::clamp(c_num / c_den, -2.0, 2.0) : fallback;
}

#undef SATIQ_SCALAR_LOOPS

// On a short real edge the binned LSF is noisy: the scatter of the samples about the
// ESF near the edge (noise plus the edge's own wiggle, 0.1-0.2 of the contrast per
// sample) leaves the LSF of each bin uncertain by a third of its peak, so the maximum is
// a noise spike and the half-maximum walk stops at the first noise dip: the width
// collapses (0.2-0.6 px measured on 20 px WorldView-2 edges whose RER of 0.45 implies
// about 1.8 px). So the LSF is smoothed with the narrowest Gaussian (sigma_s in steps of
// half a bin, at most 0.75 px) that brings its noise below 5 % of its peak, and the
// smoothing is removed in quadrature: FWHM^2 = FWHM_s^2 - (2 sqrt(2 ln 2) sigma_s)^2,
// exact for a Gaussian LSF. The binning itself smooths too: a bin average is a box of
// width h and the central difference over +-1 bin a box of width 2h, variance
// (h^2 + 4 h^2) / 12, removed the same way (noise-free Gaussian-blurred edges: +0.9 to
// +7.8 % before, +0.3 to +1.4 % after, sigma 1.5 to 0.3 px). The MTF keeps the
// unsmoothed LSF (ISO 12233 e-SFR), whose noise averages out in the transform.
// Returns the FWHM given the binned LSF's peak and FWHM (0 stays 0 when nothing better is found).
double noise_adaptive_fwhm(const NormalProjection& proj, const ConditionedEsf& esf, const std::vector<double>& lsf,
                           double centre, double peak_bin, double fwhm_binned) {
    const std::int64_t nb = proj.n_bins;
    const double h = proj.bin_width, bin_lo = proj.bin_lo;
    double fwhm = fwhm_binned;
    const BinScatter scatter = scatter_near_centre(proj, esf, centre);
    const double spread = scatter.spread, n_bin = scatter.samples_per_bin;
    // Standard error of one central-difference LSF value.
    const double se_lsf = spread * std::sqrt(2.0 / n_bin) / (2.0 * h);
    constexpr double kFwhmPerSigma = 2.3548200450309493;  // 2 sqrt(2 ln 2)
    std::vector<double> smoothed(lsf.size());
    const double var_bins = 5.0 * h * h / 12.0;
    auto unblur = [&](double fw, double var_smooth) {
        const double blur2 = kFwhmPerSigma * kFwhmPerSigma * (var_bins + var_smooth);
        return std::sqrt(std::max(fw * fw - blur2, 0.25 * fw * fw));
    };
    const bool binned_quiet = se_lsf <= 0.05 * peak_bin;
    if (binned_quiet && fwhm > 0) fwhm = unblur(fwhm, 0.0);
    // sigma_s = step x h / 2 up to 0.75 px.
    const auto max_steps = static_cast<int>(std::floor(1.5 / h + 1e-9));
    for (int step = 1; !binned_quiet && step <= max_steps; ++step) {
        const double sigma_s = 0.5 * h * step;
        // Discrete Gaussian over +-3 sigma_s; the smoothed LSF's standard error is
        // se_lsf x sqrt(sum g^2) (the central differences' correlation ignored: safe side).
        const auto half_taps = static_cast<std::int64_t>(std::ceil(3.0 * sigma_s / h));
        std::vector<double> g(static_cast<std::size_t>(2 * half_taps + 1));
        double gs = 0;
        for (std::int64_t t = -half_taps; t <= half_taps; ++t) {
            const double u = static_cast<double>(t) * h / sigma_s;
            g[static_cast<std::size_t>(t + half_taps)] = std::exp(-0.5 * u * u);
            gs += g[static_cast<std::size_t>(t + half_taps)];
        }
        const double g2 = normalize_taps(g, gs);
        for (std::int64_t k = 0; k < nb; ++k) {
            double acc = 0, wsum = 0;
            for (std::int64_t t = -half_taps; t <= half_taps; ++t) {
                const std::int64_t kk = k + t;
                if (kk < 1 || kk + 1 >= nb) continue;  // the LSF is defined on 1..nb-2
                acc += g[static_cast<std::size_t>(t + half_taps)] * lsf[static_cast<std::size_t>(kk)];
                wsum += g[static_cast<std::size_t>(t + half_taps)];
            }
            smoothed[static_cast<std::size_t>(k)] = wsum > 0 ? acc / wsum : 0.0;
        }
        double width_smoothed = 0;
        const double peak = lsf_fwhm(smoothed, bin_lo, h, centre, width_smoothed);
        const bool quiet = peak > 0 && se_lsf * std::sqrt(g2) <= 0.05 * peak;
        if (quiet || step == max_steps) {
            if (width_smoothed > 0) fwhm = unblur(width_smoothed, sigma_s * sigma_s);
            break;
        }
    }
    return fwhm;
}

// RER and overshoot from the ESF evaluator (esf_at): a local cubic regression over +-r, r
// scaled with the edge width (0.3 px for sharp edges, up to 0.75 px for blurred ones: same
// relative resolution, less noise; wider windows bias RER by more than 0.002 for sharp edges).
// The window follows the binned width, not the smoothed FWHM: on real edges that keeps it near
// its 0.3 px floor; the smoothed width would widen it to 0.4-0.75 px, which also lowers the
// texture test's RER error (edge_sfr.cpp) and admits soft scene transitions (measured on
// sample_geotiff.tif: 15 -> 20 usable edges, RER 0.465 -> 0.394). `centre` is refined.
void measure_rer_and_overshoot(const NormalProjection& proj, const ConditionedEsf& esf, double noise,
                               double fwhm_window, EdgeMeasurement& m, double& centre) {
    const double h = proj.bin_width, bin_lo = proj.bin_lo;
    const std::vector<double>& sd = esf.sample_d;
    const std::vector<double>& sv = esf.sample_v;
    const std::vector<std::int64_t>& offs = proj.bin_offsets;
    const double r = std::clamp(0.25 * fwhm_window, 1.2 * h, 3.0 * h);
    auto esf_near = [&](double x) { return esf_at(sd, sv, offs, esf.esf, bin_lo, h, x, r); };
    // Refine the crossing on the raw samples (one secant step).
    const double e_c = esf_near(centre), slope_c = (esf_near(centre + 0.25) - esf_near(centre - 0.25)) / 0.5;
    if (slope_c > 0.05 && std::abs((e_c - 0.5) / slope_c) < 0.25) centre -= (e_c - 0.5) / slope_c;
    // RER (Leachtenauer et al., Appl. Opt. 36(32), 1997): ESF(+0.5) - ESF(-0.5) about the centre.
    m.rer = esf_near(centre + 0.5) - esf_near(centre - 0.5);
    // Overshoot H (Leachtenauer et al., Appl. Opt. 36(32), 1997; GIQE 4): max over +1.0..+3.0 in 0.25 steps, or
    // ESF(+1.25) when the ESF rises monotonically there. "Monotonic" allows dips within
    // 3 standard errors of the ESF estimate, else noise alone would always select the max
    // (a plateau value near 1) instead of ESF(+1.25).
    // Beyond +1 px the ESF is smooth: a wider window (0.5 px) lowers the noise there.
    const double r_h = std::max(r, 0.5);
    auto esf_far = [&](double x) { return esf_at(sd, sv, offs, esf.esf, bin_lo, h, x, r_h); };
    const double n_win = static_cast<double>(sd.size()) * (2.0 * r_h) / (2.0 * proj.edge_limit());
    const double tol = 4.0 * std::numbers::sqrt2 * (noise / m.contrast_dn) / std::sqrt(std::max(1.0, n_win));
    double prev = -1e300, hmax = -1e300;
    bool monotonic = true;
    for (int k = 0; k <= 8; ++k) {
        const double e = esf_far(centre + 1.0 + 0.25 * k);
        if (e < prev - tol) monotonic = false;
        prev = std::max(prev, e);
        hmax = std::max(hmax, e);
    }
    m.overshoot_h = monotonic ? esf_far(centre + 1.25) : hmax;
}

// MTF: windowed LSF, DTFT evaluated directly at any frequency (no zero-padding grid).
// Window: Tukey with a Hamming taper, flat over the inner half of the ROI and centred on
// the LSF centroid (sfrmat3 centres a full Hamming window there; a full-width Hamming
// window biases MTF50 by several % for blurred edges at ROI half-widths of 10-16 px,
// so only the outer half is tapered, like sfrmat4's Tukey window).
// Records MTF at Nyquist, MTF50 (and the profile); false when the MTF is undefined or never
// falls below 0.5 up to 1 cycle per pixel.
bool measure_mtf(const NormalProjection& proj, const std::vector<double>& lsf, double centre, bool keep_profile,
                 EdgeMeasurement& m) {
    const std::int64_t nb = proj.n_bins;
    const double h = proj.bin_width, bin_lo = proj.bin_lo;
    const double c_lsf = lsf_centroid(proj, lsf, centre);
    const double window_radius = proj.edge_limit(), flat = 0.5 * window_radius;
    std::vector<double> xs(static_cast<std::size_t>(nb)), windowed(static_cast<std::size_t>(nb));
    double dc = 0;
    for (std::int64_t k = 0; k < nb; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        xs[uk] = bin_lo + (static_cast<double>(k) + 0.5) * h - c_lsf;
        const double t = std::abs(xs[uk]);
        const double win =
            t <= flat ? 1.0
                      : (t <= window_radius ? 0.54 + 0.46 * std::cos(kPi * (t - flat) / (window_radius - flat)) : 0.08);
        windowed[uk] = win * lsf[uk];
        dc += windowed[uk];
    }
    if (!(dc > 0)) return false;
    // Not inlined, as in the single-function original: inlined at each call site, GCC fuses the
    // other product of the complex multiply-adds below (FMA contraction) and the MTF changes in
    // the last bits; every MTF is to stay bit-identical.
    auto mtf = [&](double f) __attribute__((noinline)) {
        // Uniform abscissae: the phasor advances by a constant factor per bin.
        std::complex<double> acc(0, 0);
        std::complex<double> ph = std::polar(1.0, -2.0 * kPi * f * xs[0]);
        const std::complex<double> step = std::polar(1.0, -2.0 * kPi * f * h);
        for (std::size_t k = 0; k < xs.size(); ++k) {
            acc += windowed[k] * ph;
            ph *= step;
        }
        // Corrections (ISO 12233:2017 Annex D / sfrmat): the central difference over
        // +-1 bin has response sinc(2 f h); the bin average is a box of width h: sinc(f h).
        return std::abs(acc) / dc / (sinc(2.0 * f * h) * sinc(f * h));
    };
    m.mtf_nyquist = mtf(0.5);
    constexpr int kSteps = 256;
    double f_prev = 0;
    bool got = false;
    for (int j = 1; j <= kSteps; ++j) {
        const double f = static_cast<double>(j) / kSteps;
        const double v = mtf(f);
        if (v < 0.5) {
            double lo = f_prev, hi = f;
            for (int it = 0; it < 40; ++it) {
                const double mid = 0.5 * (lo + hi);
                (mtf(mid) >= 0.5 ? lo : hi) = mid;
            }
            m.mtf50_cyc_per_px = 0.5 * (lo + hi);
            got = true;
            break;
        }
        f_prev = f;
    }
    if (keep_profile) {
        for (int k = 0; k <= 64; ++k)
            m.mtf.push_back(static_cast<float>(mtf(k / 64.0)));
    }
    return got;
}

}  // namespace

// Plateaus: the outer max(2, 0.4 w) px on each side; robust levels (median) and noise (MAD).
bool measure_plateaus(const NormalProjection& proj, double half_width, const EdgeSfrParams& p, EdgeMeasurement& m,
                      Plateaus& plateaus) {
    const double pw = std::max(2.0, 0.4 * half_width);
    std::vector<double> dark, bright;
    double dark_in = 0, dark_out = 0, bright_in = 0, bright_out = 0;
    std::int64_t n_dark_in = 0, n_dark_out = 0, n_bright_in = 0, n_bright_out = 0;
    const double edge_lim = proj.edge_limit();
    for (const auto& [d, v, kk] : proj.samples) {
        if (d <= -(edge_lim - pw)) {
            dark.push_back(v);
            if (d > -(edge_lim - 0.5 * pw)) {
                dark_in += v;
                ++n_dark_in;
            } else {
                dark_out += v;
                ++n_dark_out;
            }
        } else if (d >= edge_lim - pw) {
            bright.push_back(v);
            if (d < edge_lim - 0.5 * pw) {
                bright_in += v;
                ++n_bright_in;
            } else {
                bright_out += v;
                ++n_bright_out;
            }
        }
    }
    if (dark.size() < 8 || bright.size() < 8) {
        set_verdict(m, EdgeVerdict::no_edge, "too few plateau samples");
        return false;
    }
    m.dark_dn = median_of(dark);
    m.bright_dn = median_of(bright);
    m.contrast_dn = m.bright_dn - m.dark_dn;
    const double sd_dark = robust_std(dark), sd_bright = robust_std(bright);
    m.plateau_noise_dn = std::sqrt(0.5 * (sd_dark * sd_dark + sd_bright * sd_bright));
    const double noise = p.noise_sigma_dn > 0 ? p.noise_sigma_dn : m.plateau_noise_dn;
    const double tiny = 1e-9 * std::max({1.0, std::abs(m.bright_dn), std::abs(m.dark_dn)});
    m.contrast_to_noise = std::min(1e6, std::max(0.0, m.contrast_dn) / std::max(noise, tiny));
    if (!(m.contrast_dn > 0)) {
        set_verdict(m, EdgeVerdict::no_edge, "plateaus do not differ in the edge's direction");
        return false;
    }
    const double slope_dark =
        (n_dark_in && n_dark_out)
            ? std::abs(dark_in / static_cast<double>(n_dark_in) - dark_out / static_cast<double>(n_dark_out))
            : 0.0;
    const double slope_bright =
        (n_bright_in && n_bright_out)
            ? std::abs(bright_in / static_cast<double>(n_bright_in) - bright_out / static_cast<double>(n_bright_out))
            : 0.0;
    plateaus.noise = noise;
    plateaus.slope = std::max(slope_dark, slope_bright) / m.contrast_dn;
    return true;
}

// Binned, normalized ESF; the samples of a bin need not be centred in it (at some slants the row
// phases cluster, e.g. tan a near 4/11): recentre_bins moves each value to its bin centre;
// empty bins are filled by linear interpolation (sfrmat4 does the same).
bool condition_esf(const NormalProjection& proj, EdgeMeasurement& m, ConditionedEsf& out) {
    const std::int64_t nb = proj.n_bins;
    std::vector<double>& esf = out.esf;
    esf.assign(static_cast<std::size_t>(nb), 0.0);
    std::int64_t empty_near = 0, near = 0;
    std::vector<std::int64_t> filled;
    for (std::int64_t k = 0; k < nb; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        const double centre = proj.bin_lo + (static_cast<double>(k) + 0.5) * proj.bin_width;
        if (std::abs(centre) <= 3.0) {
            ++near;
            empty_near += proj.bin_count[uk] == 0 ? 1 : 0;
        }
        if (proj.bin_count[uk] > 0) {
            esf[uk] = (proj.bin_sum[uk] / static_cast<double>(proj.bin_count[uk]) - m.dark_dn) / m.contrast_dn;
            filled.push_back(k);
        }
    }
    m.empty_bin_fraction = near ? static_cast<double>(empty_near) / static_cast<double>(near) : 0.0;
    recentre_bins(proj, esf);
    if (filled.size() < 4) {
        set_verdict(m, EdgeVerdict::no_edge, "too few filled ESF bins");
        return false;
    }
    fill_empty_bins(proj, filled, esf);
    // Normalized samples grouped by bin (the counting sort of project_onto_edge_normal).
    out.sample_d.assign(proj.samples.size(), 0.0);
    out.sample_v.assign(proj.samples.size(), 0.0);
    std::vector<std::int64_t> fill(proj.bin_offsets.begin(), proj.bin_offsets.end() - 1);
    for (const auto& smp : proj.samples) {
        const auto i = static_cast<std::size_t>(fill[static_cast<std::size_t>(smp.k)]++);
        out.sample_d[i] = smp.d;
        out.sample_v[i] = (smp.v - m.dark_dn) / m.contrast_dn;
    }
    return true;
}

EsfCentre find_esf_centre(const NormalProjection& proj, const std::vector<double>& esf) {
    EsfCentre c;
    for (std::int64_t k = 0; k + 1 < proj.n_bins; ++k) {
        const double e0 = esf[static_cast<std::size_t>(k)], e1 = esf[static_cast<std::size_t>(k + 1)];
        if (e0 < 0.5 && e1 >= 0.5) {
            const double x =
                proj.bin_lo + (static_cast<double>(k) + 0.5) * proj.bin_width + proj.bin_width * (0.5 - e0) / (e1 - e0);
            if (!c.found || std::abs(x) < std::abs(c.centre)) c.centre = x;
            c.found = true;
        }
    }
    return c;
}

// 10-90 % rise: walk outwards from the 50 % crossing on the binned ESF.
double rise_10_90(const NormalProjection& proj, const std::vector<double>& esf, double centre) {
    const std::int64_t nb = proj.n_bins;
    const double h = proj.bin_width, bin_lo = proj.bin_lo;
    const auto kc = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor((centre - bin_lo) / h)), 0, nb - 1);
    auto level_x = [&](double level, int dir) {
        for (std::int64_t k = kc; k >= 0 && k + 1 < nb; k += dir) {
            const double e0 = esf[static_cast<std::size_t>(k)], e1 = esf[static_cast<std::size_t>(k + 1)];
            if ((e0 - level) * (e1 - level) <= 0 && e1 != e0)
                return bin_lo + (static_cast<double>(k) + 0.5) * h + h * (level - e0) / (e1 - e0);
        }
        return dir < 0 ? bin_lo : -bin_lo;
    };
    return level_x(0.9, 1) - level_x(0.1, -1);
}

bool measure_transfer(const NormalProjection& proj, const ConditionedEsf& esf, const Plateaus& plateaus,
                      const EdgeSfrParams& p, EdgeMeasurement& m, double& centre, double& fwhm_window) {
    bool ok = true;
    const std::vector<double> lsf = lsf_by_central_difference(esf.esf, proj.bin_width);
    const double peak_bin = lsf_fwhm(lsf, proj.bin_lo, proj.bin_width, centre, m.fwhm_px);
    // Width that scales the ESF evaluator's window: the binned LSF's FWHM.
    fwhm_window = m.fwhm_px;
    m.fwhm_px = noise_adaptive_fwhm(proj, esf, lsf, centre, peak_bin, m.fwhm_px);
    measure_rer_and_overshoot(proj, esf, plateaus.noise, fwhm_window, m, centre);
    if (!measure_mtf(proj, lsf, centre, p.keep_profiles, m)) ok = false;
    const double gsd = m.axis == EdgeAxis::x ? p.gsd_x_m : p.gsd_y_m;
    m.mtf50_cyc_per_m = gsd > 0 ? m.mtf50_cyc_per_px / gsd : 0.0;
    if (p.keep_profiles) {
        for (double e : esf.esf)
            m.esf.push_back(static_cast<float>(e));
        for (double l : lsf)
            m.lsf.push_back(static_cast<float>(l));
    }
    if (!std::isfinite(m.rer) || !std::isfinite(m.overshoot_h) || !std::isfinite(m.mtf_nyquist)) ok = false;
    return ok;
}

double esf_excursion(const NormalProjection& proj, const std::vector<double>& esf, double centre) {
    double excursion = 0;
    for (std::int64_t k = 0; k < proj.n_bins; ++k) {
        const double x = proj.bin_lo + (static_cast<double>(k) + 0.5) * proj.bin_width - centre;
        const double e = esf[static_cast<std::size_t>(k)];
        if (x >= 1.0 && x <= 3.0) excursion = std::max(excursion, e - 1.0);
        if (x <= -1.0 && x >= -3.0) excursion = std::max(excursion, -e);
    }
    return excursion;
}

}  // namespace satiq::detail
