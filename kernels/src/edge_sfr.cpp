// Per-edge slanted-edge analysis (ISO 12233 e-SFR in the manner of P. Burns' sfrmat and
// MTF Mapper; ISO 12233:2017), aggregation per axis, and user-given regions.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/kernels/optics.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {
namespace {

constexpr double kPi = std::numbers::pi;

double median_of(std::vector<double> v) {
    if (v.empty()) return 0.0;
    const std::size_t n = v.size();
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
    double m = v[n / 2];
    if (n % 2 == 0) {
        const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2));
        m = 0.5 * (m + lo);
    }
    return m;
}

// Robust standard deviation: interquartile range / 1.349 (exact for Gaussian noise; unlike the
// MAD it does not collapse to 0 when more than half of the values are equal, e.g. on a
// two-level texture).
double robust_std(std::vector<double> v) {
    if (v.size() < 4) return 0.0;
    std::sort(v.begin(), v.end());
    auto q = [&](double p) {
        const double pos = p * static_cast<double>(v.size() - 1);
        const auto i = static_cast<std::size_t>(pos);
        const double t = pos - static_cast<double>(i);
        return i + 1 < v.size() ? (1 - t) * v[i] + t * v[i + 1] : v[i];
    };
    return (q(0.75) - q(0.25)) / 1.349;
}

// Straight-line fit u = a + b s with iterative outlier rejection (3 x 1.4826 MAD, floor
// 0.3 px), then a quadratic fit of the inliers for the bow (sagitta) and its standard error.
struct LineFit {
    bool ok = false;
    double a = 0.0, b = 0.0;
    double rms = 0.0;
    double sagitta = 0.0;
    double sagitta_se = 0.0;
    double inlier_fraction = 0.0;
};

LineFit fit_line(const std::vector<double>& s, const std::vector<double>& u, const std::vector<char>& valid) {
    LineFit f;
    const std::size_t n = s.size();
    std::vector<char> in(valid.begin(), valid.end());
    std::size_t n_valid = 0;
    for (char c : valid)
        n_valid += c ? 1 : 0;
    if (n_valid < 3) return f;
    for (int iter = 0; iter < 4; ++iter) {
        double sw = 0, ss = 0, su = 0, sss = 0, ssu = 0;
        for (std::size_t i = 0; i < n; ++i)
            if (in[i]) {
                sw += 1;
                ss += s[i];
                su += u[i];
            }
        if (sw < 3) return f;
        const double ms = ss / sw, mu = su / sw;
        for (std::size_t i = 0; i < n; ++i)
            if (in[i]) {
                sss += (s[i] - ms) * (s[i] - ms);
                ssu += (s[i] - ms) * (u[i] - mu);
            }
        if (sss <= 0) return f;
        f.b = ssu / sss;
        f.a = mu - f.b * ms;
        std::vector<double> absres;
        for (std::size_t i = 0; i < n; ++i)
            if (in[i]) absres.push_back(std::abs(u[i] - (f.a + f.b * s[i])));
        const double thr = std::max(0.3, 3.0 * 1.4826 * median_of(absres));
        bool changed = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (!valid[i]) continue;
            const char keep = std::abs(u[i] - (f.a + f.b * s[i])) <= thr ? 1 : 0;
            if (keep != in[i]) changed = true;
            in[i] = keep;
        }
        if (!changed) break;
    }
    // Final statistics on the inliers.
    double sw = 0, ss = 0, ssq = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (in[i]) {
            sw += 1;
            ss += s[i];
            const double r = u[i] - (f.a + f.b * s[i]);
            ssq += r * r;
        }
    if (sw < 3) return f;
    f.rms = std::sqrt(ssq / sw);
    f.inlier_fraction = sw / static_cast<double>(n_valid);
    // Quadratic term orthogonal to the line: q(t) = t^2 - mean(t^2) regressed on the residuals.
    const double ms = ss / sw;
    double smin = 1e300, smax = -1e300, mt2 = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (in[i]) {
            smin = std::min(smin, s[i]);
            smax = std::max(smax, s[i]);
            mt2 += (s[i] - ms) * (s[i] - ms);
        }
    mt2 /= sw;
    // Orthogonalize q against 1 and t: q' = q - mean(q) - beta t.
    double st3 = 0, st2 = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (in[i]) {
            const double t = s[i] - ms;
            st3 += t * (t * t - mt2);
            st2 += t * t;
        }
    const double beta = st2 > 0 ? st3 / st2 : 0.0;
    double sqq = 0, sqr = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (in[i]) {
            const double t = s[i] - ms;
            const double q = t * t - mt2 - beta * t;
            const double r = u[i] - (f.a + f.b * s[i]);
            sqq += q * q;
            sqr += q * r;
        }
    const double half = 0.5 * (smax - smin);
    if (sqq > 0) {
        const double c2 = sqr / sqq;
        const double dof = std::max(1.0, sw - 3.0);
        const double resid_var = std::max(0.0, (ssq - c2 * sqr) / dof);
        f.sagitta = std::abs(c2) * half * half;
        f.sagitta_se = std::sqrt(resid_var / sqq) * half * half;
    }
    f.ok = true;
    return f;
}

// Samples of one edge in the (u, s) frame: u runs along the scan line (x for axis x), s across
// scan lines. Value accessor hides the transposition.
struct Frame {
    ConstImageView<float> img;
    bool axis_x = true;
    [[nodiscard]] std::int64_t u_size() const { return axis_x ? img.width : img.height; }
    [[nodiscard]] std::int64_t s_size() const { return axis_x ? img.height : img.width; }
    [[nodiscard]] float at(std::int64_t u, std::int64_t s) const { return axis_x ? img.at(u, s) : img.at(s, u); }
};

// Centroid of the polarity-signed central-difference derivative over [i0, i1] of one scan.
// With flat plateaus inside the window the centroid is unbiased: the first-difference sum
// telescopes to the area balance, and the pixel box kills the aliasing terms at integer
// frequencies (sinc(k) = 0).
bool derivative_centroid(const float* v, std::int64_t i0, std::int64_t i1, double pol, double& pos) {
    double num = 0, den = 0;
    for (std::int64_t i = i0; i <= i1; ++i) {
        const double d = pol * 0.5 * (static_cast<double>(v[i + 1]) - static_cast<double>(v[i - 1]));
        num += static_cast<double>(i) * d;
        den += d;
    }
    if (!(den > 0)) return false;
    pos = num / den;
    return pos >= static_cast<double>(i0) && pos <= static_cast<double>(i1);
}

// Location of the main step of one scan inside [i0, i1]: the derivative (of the edge's
// polarity) splits into lobes, contiguous runs of positive samples; the lobe with the largest
// sum is the largest step, and its derivative centroid is the location. A second, opposite edge
// inside the window (a roof's shadow a few pixels away, the far side of a road) and noise spikes
// on the plateaus stay out of the sum; for an isolated, noise-free edge the lobe is the whole
// response and this equals derivative_centroid.
bool lobe_centroid(const float* v, std::int64_t i0, std::int64_t i1, double pol, double& pos) {
    double best = 0, best_num = 0, num = 0, den = 0;
    for (std::int64_t i = i0; i <= i1 + 1; ++i) {
        const double d = i <= i1 ? pol * 0.5 * (static_cast<double>(v[i + 1]) - static_cast<double>(v[i - 1])) : -1.0;
        if (d > 0) {
            num += static_cast<double>(i) * d;
            den += d;
        } else {
            if (den > best) {
                best = den;
                best_num = num;
            }
            num = den = 0;
        }
    }
    if (!(best > 0)) return false;
    pos = best_num / best;
    return pos >= static_cast<double>(i0) && pos <= static_cast<double>(i1);
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

void set_verdict(EdgeMeasurement& m, EdgeVerdict v, std::string reason) {
    m.verdict = v;
    m.reason = std::move(reason);
}

std::string fmt2(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

void check_mask(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const char* op) {
    if (!mask.empty() && (mask.width != image.width || mask.height != image.height))
        throw Error(std::string(op) + ": valid_mask is " + std::to_string(mask.width) + "x" +
                    std::to_string(mask.height) + " but the image is " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + "; pass a mask of the image's size or an empty view");
}

EdgeMeasurement measure_centred(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeSegment& seg,
                                const EdgeSfrParams& p, EdgeMeasurement m);

EdgeMeasurement measure_impl(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeSegment& seg,
                             const EdgeSfrParams& p) {
    EdgeMeasurement m;
    m.segment = seg;
    // Internally pixel centres sit at integers: shift the GDAL-convention input by -0.5.
    const EdgeSegment seg_in = seg;
    const EdgeSegment seg_c{seg_in.x0_px - 0.5, seg_in.y0_px - 0.5, seg_in.x1_px - 0.5, seg_in.y1_px - 0.5,
                            seg_in.score};
    return measure_centred(image, mask, seg_c, p, m);
}

EdgeMeasurement measure_centred(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeSegment& seg,
                                const EdgeSfrParams& p, EdgeMeasurement m) {
    const double dx = seg.x1_px - seg.x0_px, dy = seg.y1_px - seg.y0_px;
    const double seg_len = std::hypot(dx, dy);
    if (!(seg_len > 1e-9) || !std::isfinite(seg_len)) {
        set_verdict(m, EdgeVerdict::too_short, "degenerate segment (zero length)");
        return m;
    }
    Frame fr{image, std::abs(dy) >= std::abs(dx)};
    m.axis = fr.axis_x ? EdgeAxis::x : EdgeAxis::y;
    const double u0 = fr.axis_x ? seg.x0_px : seg.y0_px, s0 = fr.axis_x ? seg.y0_px : seg.x0_px;
    const double u1 = fr.axis_x ? seg.x1_px : seg.y1_px, s1 = fr.axis_x ? seg.y1_px : seg.x1_px;
    const double b0 = (u1 - u0) / (s1 - s0);
    const double a0 = u0 - b0 * s0;
    const double cos0 = 1.0 / std::sqrt(1.0 + b0 * b0);
    const double trim_s = p.end_trim_px * cos0;
    const double s_min = std::min(s0, s1) + trim_s, s_max = std::max(s0, s1) - trim_s;
    const double w = p.roi_half_width_px;
    m.roi_half_width_px = w;
    const auto W = static_cast<std::int64_t>(std::ceil(w / cos0)) + 2;
    const std::int64_t span = 2 * W + 1;

    // Scans whose whole window lies inside the image.
    std::vector<std::int64_t> scan_s, scan_u0;
    std::int64_t outside = 0;
    // Scan lines outside the image count as outside without being visited (a user segment may
    // be absurdly long).
    const double s_first = std::max(std::ceil(s_min), -1.0),
                 s_last = std::min(std::floor(s_max), static_cast<double>(fr.s_size()));
    if (std::ceil(s_min) < s_first || std::floor(s_max) > s_last) ++outside;
    for (auto s = static_cast<std::int64_t>(s_first); static_cast<double>(s) <= s_last; ++s) {
        const auto ustart = static_cast<std::int64_t>(std::lround(a0 + b0 * static_cast<double>(s))) - W;
        if (s < 0 || s >= fr.s_size() || ustart < 0 || ustart + span > fr.u_size()) {
            ++outside;
            continue;
        }
        scan_s.push_back(s);
        scan_u0.push_back(ustart);
    }
    const auto n_scans = static_cast<std::int64_t>(scan_s.size());
    m.length_px = static_cast<double>(n_scans) / cos0;
    if (n_scans == 0 && outside > 0) {
        set_verdict(m, EdgeVerdict::outside_image, "the region of interest does not fit in the image");
        return m;
    }
    // The length test is on the edge, ends included: end_trim_px only keeps the corners out of
    // the analysis, it does not make a 20 px edge shorter than 20 px.
    const double edge_length = m.length_px + (n_scans > 0 ? 2.0 * p.end_trim_px : 0.0);
    if (edge_length < p.min_length_px || n_scans < 5) {
        set_verdict(m, EdgeVerdict::too_short,
                    "usable length " + fmt2(edge_length) + " px < " + fmt2(p.min_length_px) + " px" +
                        (outside > 0 ? " (part of the region lies outside the image)" : ""));
        return m;
    }

    // Gather values; any nodata or saturated pixel rejects the edge.
    std::vector<float> vals(static_cast<std::size_t>(n_scans * span));
    for (std::int64_t j = 0; j < n_scans; ++j) {
        float* row = vals.data() + j * span;
        for (std::int64_t i = 0; i < span; ++i) {
            const std::int64_t u = scan_u0[static_cast<std::size_t>(j)] + i, s = scan_s[static_cast<std::size_t>(j)];
            const std::int64_t x = fr.axis_x ? u : s, y = fr.axis_x ? s : u;
            const float v = image.at(x, y);
            if (!std::isfinite(v) || (!mask.empty() && mask.at(x, y) == 0)) {
                set_verdict(m, EdgeVerdict::nodata,
                            "nodata pixel at (" + std::to_string(x) + ", " + std::to_string(y) + ") in the region");
                return m;
            }
            if (static_cast<double>(v) >= p.saturation_dn) {
                set_verdict(m, EdgeVerdict::clipped,
                            "saturated pixel at (" + std::to_string(x) + ", " + std::to_string(y) + ") in the region");
                return m;
            }
            row[i] = v;
        }
    }

    // Polarity: bright side along +u or -u.
    double side_sum = 0;
    for (std::int64_t j = 0; j < n_scans; ++j) {
        const float* row = vals.data() + j * span;
        const double uc = a0 + b0 * static_cast<double>(scan_s[static_cast<std::size_t>(j)]) -
                          static_cast<double>(scan_u0[static_cast<std::size_t>(j)]);
        for (std::int64_t i = 0; i < span; ++i) {
            const double di = static_cast<double>(i) - uc;
            if (di > 0.5) side_sum += row[i];
            if (di < -0.5) side_sum -= row[i];
        }
    }
    if (!(side_sum != 0)) {
        set_verdict(m, EdgeVerdict::no_edge, "no brightness difference across the segment");
        return m;
    }
    const double pol = side_sum > 0 ? 1.0 : -1.0;

    // Per-scan edge location: pass 1 over the whole window, pass 2 over a window centred on
    // the first line fit (less noise); straight-line fit with outlier rejection each time.
    std::vector<double> ss(static_cast<std::size_t>(n_scans)), us(static_cast<std::size_t>(n_scans));
    std::vector<char> ok(static_cast<std::size_t>(n_scans));
    for (std::int64_t j = 0; j < n_scans; ++j)
        ss[static_cast<std::size_t>(j)] = static_cast<double>(scan_s[static_cast<std::size_t>(j)]);
    auto locate = [&](bool first, double a, double b) {
        std::int64_t good = 0;
        const auto K = static_cast<std::int64_t>(std::ceil(std::max(3.0, 0.6 * w) / cos0));
        for (std::int64_t j = 0; j < n_scans; ++j) {
            const auto uj = static_cast<std::size_t>(j);
            const float* row = vals.data() + j * span;
            // Window around the current line estimate; 2 px wider on the first pass, where the
            // estimate is the caller's approximate segment. Windowing (rather than the whole
            // ROI) keeps a neighbouring opposite edge (the far side of a road) out of the sum.
            const std::int64_t k_half = first ? K + 2 : K;
            const auto ic = static_cast<std::int64_t>(std::lround(a + b * ss[uj] - static_cast<double>(scan_u0[uj])));
            const std::int64_t i0 = std::max<std::int64_t>(1, ic - k_half);
            const std::int64_t i1 = std::min<std::int64_t>(span - 2, ic + k_half);
            double pos = 0;
            ok[uj] = i1 > i0 && lobe_centroid(row, i0, i1, pol, pos) ? 1 : 0;
            us[uj] = static_cast<double>(scan_u0[uj]) + pos;
            good += ok[uj];
        }
        return good;
    };
    if (locate(true, a0, b0) < std::max<std::int64_t>(5, n_scans / 2)) {
        set_verdict(m, EdgeVerdict::no_edge, "edge not found in most scan lines");
        return m;
    }
    LineFit fit = fit_line(ss, us, ok);
    if (!fit.ok) {
        set_verdict(m, EdgeVerdict::no_edge, "line fit failed");
        return m;
    }
    if (locate(false, fit.a, fit.b) < std::max<std::int64_t>(5, n_scans / 2)) {
        set_verdict(m, EdgeVerdict::no_edge, "edge not found in most scan lines");
        return m;
    }
    fit = fit_line(ss, us, ok);
    if (!fit.ok) {
        set_verdict(m, EdgeVerdict::no_edge, "line fit failed");
        return m;
    }
    const double a = fit.a, b = fit.b;
    const double cosf = 1.0 / std::sqrt(1.0 + b * b);
    m.line_rms_px = fit.rms;
    m.sagitta_px = fit.sagitta;
    m.inlier_fraction = fit.inlier_fraction;
    m.slant_deg = std::atan(std::abs(b)) * 180.0 / kPi;
    {
        const double ex = fr.axis_x ? b : 1.0, ey = fr.axis_x ? 1.0 : b;
        double ang = std::atan2(ey, ex) * 180.0 / kPi;
        if (ang < 0) ang += 180.0;
        if (ang >= 180.0) ang -= 180.0;
        m.angle_deg = ang;
        const double sa = ss.front(), sb = ss.back();
        const double ua = a + b * sa, ub = a + b * sb;
        m.segment = fr.axis_x ? EdgeSegment{ua + 0.5, sa + 0.5, ub + 0.5, sb + 0.5, seg.score}
                              : EdgeSegment{sa + 0.5, ua + 0.5, sb + 0.5, ub + 0.5, seg.score};
    }

    // Project every pixel onto the edge normal (distance along the normal, bright side > 0) and
    // bin at `oversampling` bins per pixel (ISO 12233 / sfrmat; the normal projection equals
    // sfrmat3's row offset times its cos(slant) factor `delfac`).
    const int os = p.oversampling;
    const double h = 1.0 / os;
    const auto half_bins = static_cast<std::int64_t>(std::ceil(w * os));
    const std::int64_t nb = 2 * half_bins;
    const double bin_lo = -static_cast<double>(half_bins) * h;
    std::vector<double> bsum(static_cast<std::size_t>(nb), 0.0), bpos(static_cast<std::size_t>(nb), 0.0);
    std::vector<std::int64_t> bcnt(static_cast<std::size_t>(nb), 0);
    struct Sample {
        double d, v;
        std::int64_t k;
    };
    std::vector<Sample> samples;
    samples.reserve(static_cast<std::size_t>(n_scans * span));
    for (std::int64_t j = 0; j < n_scans; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        const float* row = vals.data() + j * span;
        const double ue = a + b * ss[uj];
        for (std::int64_t i = 0; i < span; ++i) {
            const double d = pol * (static_cast<double>(scan_u0[uj] + i) - ue) * cosf;
            const auto k = static_cast<std::int64_t>(std::floor((d - bin_lo) * os));
            if (k < 0 || k >= nb) continue;
            bsum[static_cast<std::size_t>(k)] += row[i];
            bpos[static_cast<std::size_t>(k)] += d;
            ++bcnt[static_cast<std::size_t>(k)];
            samples.push_back({d, static_cast<double>(row[i]), k});
        }
    }
    // Group the samples by bin (counting sort, O(n)).
    std::vector<std::int64_t> offs(static_cast<std::size_t>(nb + 1), 0);
    for (std::int64_t k = 0; k < nb; ++k)
        offs[static_cast<std::size_t>(k + 1)] = offs[static_cast<std::size_t>(k)] + bcnt[static_cast<std::size_t>(k)];

    // Plateaus: the outer max(2, 0.4 w) px on each side; robust levels (median) and noise (MAD).
    const double pw = std::max(2.0, 0.4 * w);
    std::vector<double> dark, bright;
    double dark_in = 0, dark_out = 0, bright_in = 0, bright_out = 0;
    std::int64_t n_dark_in = 0, n_dark_out = 0, n_bright_in = 0, n_bright_out = 0;
    const double edge_lim = -bin_lo;
    for (const auto& [d, v, kk] : samples) {
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
        return m;
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
        return m;
    }
    const double slope_dark =
        (n_dark_in && n_dark_out)
            ? std::abs(dark_in / static_cast<double>(n_dark_in) - dark_out / static_cast<double>(n_dark_out))
            : 0.0;
    const double slope_bright =
        (n_bright_in && n_bright_out)
            ? std::abs(bright_in / static_cast<double>(n_bright_in) - bright_out / static_cast<double>(n_bright_out))
            : 0.0;
    const double plateau_slope = std::max(slope_dark, slope_bright) / m.contrast_dn;

    // Binned, normalized ESF; empty bins filled by linear interpolation (sfrmat4 does the same).
    std::vector<double> esf(static_cast<std::size_t>(nb), 0.0);
    std::int64_t empty_near = 0, near = 0;
    std::vector<std::int64_t> filled;
    for (std::int64_t k = 0; k < nb; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        const double centre = bin_lo + (static_cast<double>(k) + 0.5) * h;
        if (std::abs(centre) <= 3.0) {
            ++near;
            empty_near += bcnt[uk] == 0 ? 1 : 0;
        }
        if (bcnt[uk] > 0) {
            esf[uk] = (bsum[uk] / static_cast<double>(bcnt[uk]) - m.dark_dn) / m.contrast_dn;
            filled.push_back(k);
        }
    }
    m.empty_bin_fraction = near ? static_cast<double>(empty_near) / static_cast<double>(near) : 0.0;
    // The samples of a bin need not be centred in it (at some slants the row phases cluster,
    // e.g. tan a near 4/11): move each bin value from its samples' mean position to the bin
    // centre with the local slope (first order), so the ESF is on a uniform grid.
    {
        std::vector<double> mpos(static_cast<std::size_t>(nb), 0.0), corr(esf);
        for (std::int64_t k = 0; k < nb; ++k)
            if (bcnt[static_cast<std::size_t>(k)] > 0)
                mpos[static_cast<std::size_t>(k)] =
                    bpos[static_cast<std::size_t>(k)] / static_cast<double>(bcnt[static_cast<std::size_t>(k)]);
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
    if (filled.size() < 4) {
        set_verdict(m, EdgeVerdict::no_edge, "too few filled ESF bins");
        return m;
    }
    for (std::int64_t k = 0, f = 0; k < nb; ++k) {
        const auto uk = static_cast<std::size_t>(k);
        if (bcnt[uk] > 0) continue;
        while (f + 1 < static_cast<std::int64_t>(filled.size()) && filled[static_cast<std::size_t>(f + 1)] < k)
            ++f;
        const std::int64_t kl = filled[static_cast<std::size_t>(f)];
        const std::int64_t kr =
            f + 1 < static_cast<std::int64_t>(filled.size()) ? filled[static_cast<std::size_t>(f + 1)] : kl;
        if (kl > k)
            esf[uk] = esf[static_cast<std::size_t>(kl)];
        else if (kr < k || kr == kl)
            esf[uk] = esf[static_cast<std::size_t>(kl)];
        else {
            const double t = static_cast<double>(k - kl) / static_cast<double>(kr - kl);
            esf[uk] = (1 - t) * esf[static_cast<std::size_t>(kl)] + t * esf[static_cast<std::size_t>(kr)];
        }
    }
    std::vector<double> sd(samples.size()), sv(samples.size());
    {
        std::vector<std::int64_t> fill(offs.begin(), offs.end() - 1);
        for (const auto& smp : samples) {
            const auto i = static_cast<std::size_t>(fill[static_cast<std::size_t>(smp.k)]++);
            sd[i] = smp.d;
            sv[i] = (smp.v - m.dark_dn) / m.contrast_dn;
        }
    }

    // Edge centre: the 50 % crossing of the binned ESF nearest to the fitted line.
    double centre = 0;
    bool found = false;
    for (std::int64_t k = 0; k + 1 < nb; ++k) {
        const double e0 = esf[static_cast<std::size_t>(k)], e1 = esf[static_cast<std::size_t>(k + 1)];
        if (e0 < 0.5 && e1 >= 0.5) {
            const double x = bin_lo + (static_cast<double>(k) + 0.5) * h + h * (0.5 - e0) / (e1 - e0);
            if (!found || std::abs(x) < std::abs(centre)) centre = x;
            found = true;
        }
    }
    bool metrics_ok = found && std::abs(centre) <= 2.0;
    // 10-90 % rise: walk outwards from the 50 % crossing on the binned ESF.
    if (found) {
        const auto kc =
            std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor((centre - bin_lo) / h)), 0, nb - 1);
        auto level_x = [&](double level, int dir) {
            for (std::int64_t k = kc; k >= 0 && k + 1 < nb; k += dir) {
                const double e0 = esf[static_cast<std::size_t>(k)], e1 = esf[static_cast<std::size_t>(k + 1)];
                if ((e0 - level) * (e1 - level) <= 0 && e1 != e0)
                    return bin_lo + (static_cast<double>(k) + 0.5) * h + h * (level - e0) / (e1 - e0);
            }
            return dir < 0 ? bin_lo : -bin_lo;
        };
        m.rise_10_90_px = level_x(0.9, 1) - level_x(0.1, -1);
    }
    std::vector<double> lsf(static_cast<std::size_t>(nb), 0.0);
    // Width that scales the ESF evaluator's window (below): the binned LSF's FWHM.
    double fwhm_window = 0.0;
    if (metrics_ok) {
        // LSF by central difference of the binned ESF (per px).
        for (std::int64_t k = 1; k + 1 < nb; ++k)
            lsf[static_cast<std::size_t>(k)] =
                (esf[static_cast<std::size_t>(k + 1)] - esf[static_cast<std::size_t>(k - 1)]) / (2.0 * h);
        const double peak_bin = lsf_fwhm(lsf, bin_lo, h, centre, m.fwhm_px);
        fwhm_window = m.fwhm_px;
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
        {
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
            const double spread = dof > 0 ? std::sqrt(ssq / static_cast<double>(dof)) : 0.0;
            const double n_bin = nbins_near > 0 ? static_cast<double>(nsum) / static_cast<double>(nbins_near) : 1.0;
            // Standard error of one central-difference LSF value.
            const double se_lsf = spread * std::sqrt(2.0 / n_bin) / (2.0 * h);
            constexpr double kFwhmPerSigma = 2.3548200450309493;  // 2 sqrt(2 ln 2)
            std::vector<double> ls(lsf.size());
            const double var_bins = 5.0 * h * h / 12.0;
            auto unblur = [&](double fw, double var_smooth) {
                const double blur2 = kFwhmPerSigma * kFwhmPerSigma * (var_bins + var_smooth);
                return std::sqrt(std::max(fw * fw - blur2, 0.25 * fw * fw));
            };
            const bool binned_quiet = se_lsf <= 0.05 * peak_bin;
            if (binned_quiet && m.fwhm_px > 0) m.fwhm_px = unblur(m.fwhm_px, 0.0);
            // sigma_s = step x h / 2 up to 0.75 px.
            const auto max_steps = static_cast<int>(std::floor(1.5 / h + 1e-9));
            for (int step = 1; !binned_quiet && step <= max_steps; ++step) {
                const double sigma_s = 0.5 * h * step;
                // Discrete Gaussian over +-3 sigma_s; the smoothed LSF's standard error is
                // se_lsf x sqrt(sum g^2) (the central differences' correlation ignored: safe side).
                const auto half_taps = static_cast<std::int64_t>(std::ceil(3.0 * sigma_s / h));
                std::vector<double> g(static_cast<std::size_t>(2 * half_taps + 1));
                double gs = 0, g2 = 0;
                for (std::int64_t t = -half_taps; t <= half_taps; ++t) {
                    const double u = static_cast<double>(t) * h / sigma_s;
                    g[static_cast<std::size_t>(t + half_taps)] = std::exp(-0.5 * u * u);
                    gs += g[static_cast<std::size_t>(t + half_taps)];
                }
                for (double& v : g) {
                    v /= gs;
                    g2 += v * v;
                }
                for (std::int64_t k = 0; k < nb; ++k) {
                    double acc = 0, wsum = 0;
                    for (std::int64_t t = -half_taps; t <= half_taps; ++t) {
                        const std::int64_t kk = k + t;
                        if (kk < 1 || kk + 1 >= nb) continue;  // the LSF is defined on 1..nb-2
                        acc += g[static_cast<std::size_t>(t + half_taps)] * lsf[static_cast<std::size_t>(kk)];
                        wsum += g[static_cast<std::size_t>(t + half_taps)];
                    }
                    ls[static_cast<std::size_t>(k)] = wsum > 0 ? acc / wsum : 0.0;
                }
                double w_s = 0;
                const double peak = lsf_fwhm(ls, bin_lo, h, centre, w_s);
                const bool quiet = peak > 0 && se_lsf * std::sqrt(g2) <= 0.05 * peak;
                if (quiet || step == max_steps) {
                    if (w_s > 0) m.fwhm_px = unblur(w_s, sigma_s * sigma_s);
                    break;
                }
            }
        }

        // ESF evaluator: local cubic regression over +-r, r scaled with the edge width
        // (0.3 px for sharp edges, up to 0.75 px for blurred ones: same relative resolution,
        // less noise; wider windows bias RER by more than 0.002 for sharp edges).
        // The window follows the binned width, not the smoothed FWHM above: on real edges that
        // keeps it near its 0.3 px floor; the smoothed width would widen it to 0.4-0.75 px,
        // which also lowers the texture test's RER error (below) and admits soft scene
        // transitions (measured on sample_geotiff.tif: 15 -> 20 usable edges, RER 0.465 -> 0.394).
        const double r = std::clamp(0.25 * fwhm_window, 1.2 * h, 3.0 * h);
        auto E = [&](double x) { return esf_at(sd, sv, offs, esf, bin_lo, h, x, r); };
        // Refine the crossing on the raw samples (one secant step).
        const double e_c = E(centre), slope_c = (E(centre + 0.25) - E(centre - 0.25)) / 0.5;
        if (slope_c > 0.05 && std::abs((e_c - 0.5) / slope_c) < 0.25) centre -= (e_c - 0.5) / slope_c;
        // RER (Leachtenauer et al., Appl. Opt. 36(32), 1997): ESF(+0.5) - ESF(-0.5) about the centre.
        m.rer = E(centre + 0.5) - E(centre - 0.5);
        // Overshoot H (Leachtenauer et al., Appl. Opt. 36(32), 1997; GIQE 4): max over +1.0..+3.0 in 0.25 steps, or
        // ESF(+1.25) when the ESF rises monotonically there. "Monotonic" allows dips within
        // 3 standard errors of the ESF estimate, else noise alone would always select the max
        // (a plateau value near 1) instead of ESF(+1.25).
        // Beyond +1 px the ESF is smooth: a wider window (0.5 px) lowers the noise there.
        const double r_h = std::max(r, 0.5);
        auto E_h = [&](double x) { return esf_at(sd, sv, offs, esf, bin_lo, h, x, r_h); };
        const double n_win = static_cast<double>(sd.size()) * (2.0 * r_h) / (2.0 * edge_lim);
        const double tol = 4.0 * std::numbers::sqrt2 * (noise / m.contrast_dn) / std::sqrt(std::max(1.0, n_win));
        double prev = -1e300, hmax = -1e300;
        bool monotonic = true;
        for (int k = 0; k <= 8; ++k) {
            const double e = E_h(centre + 1.0 + 0.25 * k);
            if (e < prev - tol) monotonic = false;
            prev = std::max(prev, e);
            hmax = std::max(hmax, e);
        }
        m.overshoot_h = monotonic ? E_h(centre + 1.25) : hmax;

        // MTF: windowed LSF, DTFT evaluated directly at any frequency (no zero-padding grid).
        // Window: Tukey with a Hamming taper, flat over the inner half of the ROI and centred on
        // the LSF centroid (sfrmat3 centres a full Hamming window there; a full-width Hamming
        // window biases MTF50 by several % for blurred edges at ROI half-widths of 10-16 px,
        // so only the outer half is tapered, like sfrmat4's Tukey window).
        double c_num = 0, c_den = 0;
        for (std::int64_t k = 0; k < nb; ++k) {
            const double x = bin_lo + (static_cast<double>(k) + 0.5) * h;
            c_num += x * lsf[static_cast<std::size_t>(k)];
            c_den += lsf[static_cast<std::size_t>(k)];
        }
        const double c_lsf = c_den > 0 ? std::clamp(c_num / c_den, -2.0, 2.0) : centre;
        const double R = edge_lim, flat = 0.5 * R;
        std::vector<double> xs(static_cast<std::size_t>(nb)), wl(static_cast<std::size_t>(nb));
        double dc = 0;
        for (std::int64_t k = 0; k < nb; ++k) {
            const auto uk = static_cast<std::size_t>(k);
            xs[uk] = bin_lo + (static_cast<double>(k) + 0.5) * h - c_lsf;
            const double t = std::abs(xs[uk]);
            const double win =
                t <= flat ? 1.0 : (t <= R ? 0.54 + 0.46 * std::cos(kPi * (t - flat) / (R - flat)) : 0.08);
            wl[uk] = win * lsf[uk];
            dc += wl[uk];
        }
        if (dc > 0) {
            auto mtf = [&](double f) {
                // Uniform abscissae: the phasor advances by a constant factor per bin.
                std::complex<double> acc(0, 0);
                std::complex<double> ph = std::polar(1.0, -2.0 * kPi * f * xs[0]);
                const std::complex<double> step = std::polar(1.0, -2.0 * kPi * f * h);
                for (std::size_t k = 0; k < xs.size(); ++k) {
                    acc += wl[k] * ph;
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
            if (!got) metrics_ok = false;
            if (p.keep_profiles) {
                for (int k = 0; k <= 64; ++k)
                    m.mtf.push_back(static_cast<float>(mtf(k / 64.0)));
            }
        } else {
            metrics_ok = false;
        }
        const double gsd = m.axis == EdgeAxis::x ? p.gsd_x_m : p.gsd_y_m;
        m.mtf50_cyc_per_m = gsd > 0 ? m.mtf50_cyc_per_px / gsd : 0.0;
        if (p.keep_profiles) {
            for (double e : esf)
                m.esf.push_back(static_cast<float>(e));
            for (double l : lsf)
                m.lsf.push_back(static_cast<float>(l));
        }
        if (!std::isfinite(m.rer) || !std::isfinite(m.overshoot_h) || !std::isfinite(m.mtf_nyquist)) metrics_ok = false;
    }
    if (!metrics_ok) {
        m.rer = m.overshoot_h = m.fwhm_px = m.mtf50_cyc_per_px = m.mtf_nyquist = m.mtf50_cyc_per_m = 0.0;
    }

    // Plateau texture relative to the contrast, and the standard error it would give the RER:
    // a difference of two ESF values, each a local fit over ~n_rer samples of that spread.
    const double texture_fraction = m.contrast_dn > 0 ? m.plateau_noise_dn / m.contrast_dn : 1e9;
    // Samples within each RER fit window (the window of E above, from the final FWHM).
    const double r_rer =
        std::clamp(0.25 * (metrics_ok ? fwhm_window : 0.0), 1.2 / p.oversampling, 3.0 / p.oversampling);
    const double n_rer = static_cast<double>(samples.size()) * (2.0 * r_rer) / (2.0 * edge_lim);
    const double texture_rer_error = n_rer > 0 ? std::numbers::sqrt2 * texture_fraction / std::sqrt(n_rer) : 1e9;
    // Excursion of the binned ESF beyond its plateaus 1..3 px from the centre.
    double excursion = 0;
    if (found)
        for (std::int64_t k = 0; k < nb; ++k) {
            const double x = bin_lo + (static_cast<double>(k) + 0.5) * h - centre;
            const double e = esf[static_cast<std::size_t>(k)];
            if (x >= 1.0 && x <= 3.0) excursion = std::max(excursion, e - 1.0);
            if (x <= -1.0 && x >= -3.0) excursion = std::max(excursion, -e);
        }
    // Verdict: the first failing test in a fixed order.
    const double centroid_window = std::max(3.0, 0.6 * w);
    const double expected_rms =
        (noise / m.contrast_dn) * std::sqrt(4.0 * centroid_window + 0.5 * centroid_window * centroid_window);
    if (m.contrast_to_noise < p.min_contrast_to_noise) {
        set_verdict(m, EdgeVerdict::low_contrast,
                    "contrast " + fmt2(m.contrast_dn) + " DN is " + fmt2(m.contrast_to_noise) + " x noise < " +
                        fmt2(p.min_contrast_to_noise));
    } else if (p.noise_sigma_dn > 0 && m.plateau_noise_dn > p.max_plateau_noise_ratio * p.noise_sigma_dn &&
               (texture_fraction > p.max_plateau_texture_fraction || texture_rer_error > p.max_texture_rer_error)) {
        set_verdict(m, EdgeVerdict::noisy_plateau,
                    "plateau std " + fmt2(m.plateau_noise_dn) + " DN > " + fmt2(p.max_plateau_noise_ratio) +
                        " x noise, " + fmt2(100 * texture_fraction) + " % of the contrast (RER error " +
                        fmt2(texture_rer_error) + ")");
    } else if (plateau_slope > p.max_plateau_slope) {
        set_verdict(m, EdgeVerdict::noisy_plateau,
                    "plateau not flat (slope " + fmt2(plateau_slope) + " of the contrast)");
    } else if (fit.sagitta > p.max_sagitta_px && fit.sagitta > 3.0 * fit.sagitta_se) {
        set_verdict(m, EdgeVerdict::curved, "sagitta " + fmt2(fit.sagitta) + " px > " + fmt2(p.max_sagitta_px) + " px");
    } else if (fit.rms > std::max(p.max_line_rms_px, 2.5 * expected_rms) || fit.inlier_fraction < 0.6) {
        set_verdict(m, EdgeVerdict::curved,
                    "line fit rms " + fmt2(fit.rms) + " px, inliers " + fmt2(100 * fit.inlier_fraction) + " %");
    } else if (m.rise_10_90_px > p.max_rise_px) {
        set_verdict(m, EdgeVerdict::wide_transition,
                    "10-90 % rise " + fmt2(m.rise_10_90_px) + " px > " + fmt2(p.max_rise_px) + " px");
    } else if (metrics_ok && m.rise_10_90_px > 0 && m.rer * m.rise_10_90_px < p.min_rer_rise_product) {
        // A single blurred step (unimodal LSF) has RER x 10-90 % rise >= ~0.7 (a Gaussian
        // spread gives 0.8-1.0, a box of any width 0.8); far less means a flat shelf around
        // the 50 % level between two sharp steps (a roof edge beside its shadow).
        set_verdict(m, EdgeVerdict::not_a_step,
                    "RER " + fmt2(m.rer) + " x 10-90 % rise " + fmt2(m.rise_10_90_px) + " px < " +
                        fmt2(p.min_rer_rise_product) + ": a double step");
    } else if (excursion > p.max_esf_excursion) {
        set_verdict(m, EdgeVerdict::not_a_step,
                    "ESF leaves its plateaus by " + fmt2(excursion) + " of the contrast near the edge (> " +
                        fmt2(p.max_esf_excursion) + "): a line or a double edge");
    } else if (m.empty_bin_fraction > p.max_empty_bin_fraction) {
        set_verdict(m, EdgeVerdict::sparse_sampling,
                    fmt2(100 * m.empty_bin_fraction) + " % of the ESF bins near the edge are empty (slant " +
                        fmt2(m.slant_deg) + " deg)");
    } else if (!metrics_ok) {
        set_verdict(m, EdgeVerdict::no_edge, "no 50 % crossing near the fitted edge or undefined MTF50");
    } else if (m.slant_deg < p.axis_margin_deg || std::abs(m.slant_deg - 45.0) < p.axis_margin_deg) {
        set_verdict(m, EdgeVerdict::near_axis_angle,
                    "slant " + fmt2(m.slant_deg) + " deg within " + fmt2(p.axis_margin_deg) + " deg of 0 or 45");
    } else {
        set_verdict(m, EdgeVerdict::ok, "");
    }
    if (is_usable(m.verdict)) {
        // Quality score (display and ranking): the variance of an edge's RER from noise goes as
        // 1 / (length x (contrast / noise)^2), saturating at 100 px and CNR 100.
        double q = std::min(1.0, m.length_px / 100.0) * std::pow(std::min(1.0, m.contrast_to_noise / 100.0), 2.0);
        q *= 1.0 - m.empty_bin_fraction;
        q *= std::max(0.0, 1.0 - 0.5 * fit.sagitta / p.max_sagitta_px);
        if (m.verdict == EdgeVerdict::near_axis_angle) q *= 0.5;
        m.quality = std::clamp(q, 0.0, 1.0);
        // RER standard error: each ESF value is the centre of a local cubic fit over n samples
        // (variance factor ~2.25 / n for samples spread evenly over the window), the two fits
        // do not overlap (r <= 0.75 px), and the sample scatter is the larger of the image
        // noise and the plateau texture.
        const double sigma = std::max(noise, m.plateau_noise_dn);
        double se = std::numbers::sqrt2 * 1.5 * (sigma / m.contrast_dn) / std::sqrt(std::max(1.0, n_rer));
        if (m.verdict == EdgeVerdict::near_axis_angle) se *= std::numbers::sqrt2;
        m.rer_standard_error = std::isfinite(se) ? std::max(se, 1e-6) : 1.0;
    }
    return m;
}

// Automatic search: the widest half-width (from roi_half_width_px down to
// min_roi_half_width_px, x0.75 per step) at which the edge passes every test; the widest
// attempt's verdict when none does.
EdgeMeasurement measure_adaptive(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeSegment& seg,
                                 const EdgeSfrParams& p) {
    EdgeMeasurement first = measure_impl(image, mask, seg, p);
    if (is_usable(first.verdict) || !(p.min_roi_half_width_px > 0) || p.min_roi_half_width_px >= p.roi_half_width_px)
        return first;
    // Edges that cannot improve with a narrower ROI: too short with every scan line inside the
    // image (the length does not depend on the width), far too little contrast.
    if (first.verdict == EdgeVerdict::too_short && first.reason.find("outside") == std::string::npos) return first;
    if (first.verdict == EdgeVerdict::low_contrast && first.contrast_to_noise < 0.5 * p.min_contrast_to_noise)
        return first;
    EdgeSfrParams q = p;
    double w = p.roi_half_width_px;
    // When no width works, the widest attempt's verdict is reported, unless a narrower one
    // found the edge too close to 0 / 45 degrees (sparse_sampling): that holds at every width,
    // while the widest attempt's reason (a neighbouring edge on a plateau, a reversed polarity)
    // was the one the narrowing removed. Bar targets are the common case: axis-aligned bars a
    // few pixels apart.
    EdgeMeasurement sparse;
    bool have_sparse = false;
    while (w > p.min_roi_half_width_px) {
        w = std::max(p.min_roi_half_width_px, 0.75 * w);
        q.roi_half_width_px = w;
        EdgeMeasurement m = measure_impl(image, mask, seg, q);
        if (is_usable(m.verdict)) return m;
        if (!have_sparse && m.verdict == EdgeVerdict::sparse_sampling) {
            sparse = std::move(m);
            have_sparse = true;
        }
    }
    return have_sparse ? sparse : first;
}

// Rectangle ROI (sfrmat style): find the edge inside the rectangle and turn it into a segment
// plus the half-width the rectangle allows.
bool rect_to_segment(ConstImageView<float> image, const EdgeRoi& roi, EdgeSegment& seg, double& half_width,
                     EdgeMeasurement& fail) {
    if (roi.x_px < 0 || roi.y_px < 0 || roi.width_px <= 0 || roi.height_px <= 0 ||
        roi.x_px + roi.width_px > image.width || roi.y_px + roi.height_px > image.height) {
        set_verdict(fail, EdgeVerdict::outside_image, "rectangle outside the image");
        return false;
    }
    if (roi.width_px < 8 || roi.height_px < 8) {
        set_verdict(fail, EdgeVerdict::too_short, "rectangle smaller than 8x8 px");
        return false;
    }
    const auto sub = image.sub(roi.x_px, roi.y_px, roi.width_px, roi.height_px);
    double gx = 0, gy = 0;
    for (std::int64_t y = 1; y + 1 < sub.height; ++y)
        for (std::int64_t x = 1; x + 1 < sub.width; ++x) {
            const double ddx = static_cast<double>(sub.at(x + 1, y)) - sub.at(x - 1, y);
            const double ddy = static_cast<double>(sub.at(x, y + 1)) - sub.at(x, y - 1);
            if (std::isfinite(ddx)) gx += ddx;
            if (std::isfinite(ddy)) gy += ddy;
        }
    Frame fr{sub, std::abs(gx) >= std::abs(gy)};
    const double pol = (fr.axis_x ? gx : gy) >= 0 ? 1.0 : -1.0;
    const std::int64_t U = fr.u_size(), S = fr.s_size();
    std::vector<double> ss, us;
    std::vector<char> ok;
    std::vector<float> line(static_cast<std::size_t>(U));
    for (std::int64_t s = 0; s < S; ++s) {
        for (std::int64_t u = 0; u < U; ++u)
            line[static_cast<std::size_t>(u)] = fr.at(u, s);
        double pos = 0;
        const bool good = derivative_centroid(line.data(), 1, U - 2, pol, pos) && std::isfinite(pos);
        ss.push_back(static_cast<double>(s));
        us.push_back(pos);
        ok.push_back(good ? 1 : 0);
    }
    const LineFit fit = fit_line(ss, us, ok);
    if (!fit.ok) {
        set_verdict(fail, EdgeVerdict::no_edge, "no edge found in the rectangle");
        return false;
    }
    const double cosf = 1.0 / std::sqrt(1.0 + fit.b * fit.b);
    const double ua = fit.a, ub = fit.a + fit.b * static_cast<double>(S - 1);
    const double room = std::min({ua, ub, static_cast<double>(U - 1) - ua, static_cast<double>(U - 1) - ub});
    half_width = (room - 3.0) * cosf;
    if (half_width < 5.0) {
        set_verdict(fail, EdgeVerdict::too_short,
                    "the edge lies too close to the rectangle's side (half-width " + fmt2(half_width) + " px < 5 px)");
        return false;
    }
    const double ox = static_cast<double>(roi.x_px), oy = static_cast<double>(roi.y_px);
    if (fr.axis_x)
        seg = {ua + ox + 0.5, oy + 0.5, ub + ox + 0.5, static_cast<double>(S - 1) + oy + 0.5, 0.0};
    else
        seg = {ox + 0.5, ua + oy + 0.5, static_cast<double>(S - 1) + ox + 0.5, ub + oy + 0.5, 0.0};
    return true;
}

}  // namespace

const char* to_string(EdgeVerdict v) {
    switch (v) {
        case EdgeVerdict::ok:
            return "ok";
        case EdgeVerdict::near_axis_angle:
            return "near_axis_angle";
        case EdgeVerdict::too_short:
            return "too_short";
        case EdgeVerdict::outside_image:
            return "outside_image";
        case EdgeVerdict::nodata:
            return "nodata";
        case EdgeVerdict::clipped:
            return "clipped";
        case EdgeVerdict::no_edge:
            return "no_edge";
        case EdgeVerdict::low_contrast:
            return "low_contrast";
        case EdgeVerdict::noisy_plateau:
            return "noisy_plateau";
        case EdgeVerdict::curved:
            return "curved";
        case EdgeVerdict::sparse_sampling:
            return "sparse_sampling";
        case EdgeVerdict::wide_transition:
            return "wide_transition";
        case EdgeVerdict::not_a_step:
            return "not_a_step";
    }
    return "unknown";
}

const char* to_string(EdgeAxis a) {
    return a == EdgeAxis::x ? "x" : "y";
}

void validate(const EdgeSfrParams& p) {
    auto bad = [](const std::string& field, const std::string& rule, double got) {
        throw Error("edge analysis: " + field + " " + rule + " (got " + fmt2(got) + ")");
    };
    if (!(p.roi_half_width_px >= 5.0 && p.roi_half_width_px <= 64.0))
        bad("roi_half_width_px", "must be in [5, 64] px; 10-16 suits blur sigmas up to 1.5 px", p.roi_half_width_px);
    if (p.oversampling < 1 || p.oversampling > 16)
        bad("oversampling", "must be in [1, 16]; ISO 12233 uses 4", p.oversampling);
    if (!(p.min_length_px >= 5.0)) bad("min_length_px", "must be >= 5", p.min_length_px);
    if (!(p.end_trim_px >= 0.0)) bad("end_trim_px", "must be >= 0", p.end_trim_px);
    if (!(p.min_contrast_to_noise >= 0.0)) bad("min_contrast_to_noise", "must be >= 0", p.min_contrast_to_noise);
    if (!(p.max_plateau_noise_ratio > 0.0)) bad("max_plateau_noise_ratio", "must be > 0", p.max_plateau_noise_ratio);
    if (!(p.max_plateau_slope > 0.0)) bad("max_plateau_slope", "must be > 0", p.max_plateau_slope);
    if (!(p.max_sagitta_px > 0.0)) bad("max_sagitta_px", "must be > 0", p.max_sagitta_px);
    if (!(p.max_line_rms_px > 0.0)) bad("max_line_rms_px", "must be > 0", p.max_line_rms_px);
    if (!(p.axis_margin_deg >= 0.0 && p.axis_margin_deg < 22.5))
        bad("axis_margin_deg", "must be in [0, 22.5)", p.axis_margin_deg);
    if (!(p.max_rise_px > 0.0)) bad("max_rise_px", "must be > 0", p.max_rise_px);
    if (!(p.max_esf_excursion > 0.0)) bad("max_esf_excursion", "must be > 0", p.max_esf_excursion);
    if (!(p.min_rer_rise_product >= 0.0)) bad("min_rer_rise_product", "must be >= 0", p.min_rer_rise_product);
    if (!(p.max_rise_over_median >= 0.0)) bad("max_rise_over_median", "must be >= 0 (0: off)", p.max_rise_over_median);
    if (!(p.min_roi_half_width_px == 0.0 || (p.min_roi_half_width_px >= 5.0 && p.min_roi_half_width_px <= 64.0)))
        bad("min_roi_half_width_px", "must be 0 (no narrower retry) or in [5, 64] px", p.min_roi_half_width_px);
    if (!(p.max_plateau_texture_fraction >= 0.0))
        bad("max_plateau_texture_fraction", "must be >= 0 (0: no texture tolerance)", p.max_plateau_texture_fraction);
    if (!(p.max_texture_rer_error >= 0.0)) bad("max_texture_rer_error", "must be >= 0", p.max_texture_rer_error);
    if (!(p.max_empty_bin_fraction >= 0.0 && p.max_empty_bin_fraction <= 1.0))
        bad("max_empty_bin_fraction", "must be in [0, 1]", p.max_empty_bin_fraction);
    if (!(p.gsd_x_m >= 0.0) || !std::isfinite(p.gsd_x_m)) bad("gsd_x_m", "must be >= 0 (0 = unknown)", p.gsd_x_m);
    if (!(p.gsd_y_m >= 0.0) || !std::isfinite(p.gsd_y_m)) bad("gsd_y_m", "must be >= 0 (0 = unknown)", p.gsd_y_m);
    if (!(p.noise_sigma_dn >= 0.0) && !(p.noise_sigma_dn <= 0.0))
        bad("noise_sigma_dn", "must be a number", p.noise_sigma_dn);
    if (std::isnan(p.saturation_dn)) bad("saturation_dn", "must be a number", p.saturation_dn);
}

EdgeMeasurement measure_edge(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeSegment& segment,
                             const EdgeSfrParams& params) {
    validate(params);
    check_mask(image, mask, "measure_edge");
    return measure_impl(image, mask, segment, params);
}

EdgeMeasurement measure_edge_adaptive(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                                      const EdgeSegment& segment, const EdgeSfrParams& params) {
    validate(params);
    check_mask(image, mask, "measure_edge_adaptive");
    return measure_adaptive(image, mask, segment, params);
}

EdgeAnalysis analyse_edge_rois(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                               std::span<const EdgeRoi> rois, const EdgeSfrParams& params) {
    validate(params);
    check_mask(image, mask, "analyse_edge_rois");
    for (const auto& r : rois)
        if (r.kind == EdgeRoi::Kind::segment &&
            !(r.half_width_px == 0.0 || (r.half_width_px >= 5.0 && r.half_width_px <= 64.0)))
            throw Error("analyse_edge_rois: a segment's half_width_px must be 0 (default) or in [5, 64] px (got " +
                        fmt2(r.half_width_px) + ")");
    EdgeAnalysis out;
    out.candidates = static_cast<std::int64_t>(rois.size());
    out.noise_sigma_dn = params.noise_sigma_dn;
    out.edges.resize(rois.size());
    parallel_items(static_cast<std::int64_t>(rois.size()), [&](std::int64_t i) {
        const EdgeRoi& roi = rois[static_cast<std::size_t>(i)];
        EdgeSfrParams p = params;
        p.end_trim_px = 0.0;
        EdgeSegment seg;
        if (roi.kind == EdgeRoi::Kind::rectangle) {
            EdgeMeasurement fail;
            double hw = 0;
            if (!rect_to_segment(image, roi, seg, hw, fail)) {
                out.edges[static_cast<std::size_t>(i)] = fail;
                return;
            }
            p.roi_half_width_px = std::min(64.0, hw);
        } else {
            seg = roi.segment;
            if (roi.half_width_px > 0) p.roi_half_width_px = roi.half_width_px;
        }
        out.edges[static_cast<std::size_t>(i)] = measure_impl(image, mask, seg, p);
    });
    out.aggregate = aggregate_edges(out.edges);
    return out;
}

}  // namespace satiq
