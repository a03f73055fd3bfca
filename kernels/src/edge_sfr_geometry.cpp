// Slanted-edge analysis, geometry stages (ISO 12233:2017 e-SFR in the manner of P. Burns'
// sfrmat and MTF Mapper): the scan lines across the segment, the polarity, the per-scan edge
// locations and the straight-line fit, and the projection onto the edge normal into
// supersampled bins. The order of the stages is in measure_centred (edge_sfr.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "edge_sfr_detail.hpp"

namespace satiq::detail {

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

namespace {

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

// Per-scan edge location within a window about the line u = line_a + line_b s: edge_u[j] is
// the lobe centroid of scan j and located[j] whether it was found. Returns the number found.
std::int64_t locate_edge_per_scan(const ScanLines& scans, const std::vector<float>& values, double polarity,
                                  bool first_pass, double line_a, double line_b, const std::vector<double>& scan_s,
                                  std::vector<double>& edge_u, std::vector<char>& located) {
    std::int64_t good = 0;
    const std::int64_t span = scans.span;
    const auto centroid_half_window =
        static_cast<std::int64_t>(std::ceil(std::max(3.0, 0.6 * scans.half_width) / scans.guess_cos));
    for (std::int64_t j = 0; j < scans.count(); ++j) {
        const auto uj = static_cast<std::size_t>(j);
        const float* row = values.data() + j * span;
        // Window around the current line estimate; 2 px wider on the first pass, where the
        // estimate is the caller's approximate segment. Windowing (rather than the whole
        // ROI) keeps a neighbouring opposite edge (the far side of a road) out of the sum.
        const std::int64_t k_half = first_pass ? centroid_half_window + 2 : centroid_half_window;
        const auto ic = static_cast<std::int64_t>(
            std::lround(line_a + line_b * scan_s[uj] - static_cast<double>(scans.first_u[uj])));
        const std::int64_t i0 = std::max<std::int64_t>(1, ic - k_half);
        const std::int64_t i1 = std::min<std::int64_t>(span - 2, ic + k_half);
        double pos = 0;
        located[uj] = i1 > i0 && lobe_centroid(row, i0, i1, polarity, pos) ? 1 : 0;
        edge_u[uj] = static_cast<double>(scans.first_u[uj]) + pos;
        good += located[uj];
    }
    return good;
}

// The fitted line's slant, orientation and end points (public pixel-centre convention).
void record_edge_geometry(const LineFit& fit, const Frame& frame, const std::vector<double>& scan_s, double score,
                          EdgeMeasurement& m) {
    const double a = fit.a, b = fit.b;
    m.line_rms_px = fit.rms;
    m.sagitta_px = fit.sagitta;
    m.inlier_fraction = fit.inlier_fraction;
    m.slant_deg = std::atan(std::abs(b)) * 180.0 / kPi;
    const double ex = frame.axis_x ? b : 1.0, ey = frame.axis_x ? 1.0 : b;
    double ang = std::atan2(ey, ex) * 180.0 / kPi;
    if (ang < 0) ang += 180.0;
    if (ang >= 180.0) ang -= 180.0;
    m.angle_deg = ang;
    const double sa = scan_s.front(), sb = scan_s.back();
    const double ua = a + b * sa, ub = a + b * sb;
    m.segment = frame.axis_x ? EdgeSegment{ua + 0.5, sa + 0.5, ub + 0.5, sb + 0.5, score}
                             : EdgeSegment{sa + 0.5, ua + 0.5, sb + 0.5, ub + 0.5, score};
}

}  // namespace

bool select_scan_lines(ConstImageView<float> image, const EdgeSegment& seg, const EdgeSfrParams& p, EdgeMeasurement& m,
                       ScanLines& scans) {
    const double dx = seg.x1_px - seg.x0_px, dy = seg.y1_px - seg.y0_px;
    const double seg_len = std::hypot(dx, dy);
    if (!(seg_len > 1e-9) || !std::isfinite(seg_len)) {
        set_verdict(m, EdgeVerdict::too_short, "degenerate segment (zero length)");
        return false;
    }
    const Frame fr{image, std::abs(dy) >= std::abs(dx)};
    scans.frame = fr;
    m.axis = fr.axis_x ? EdgeAxis::x : EdgeAxis::y;
    const double u0 = fr.axis_x ? seg.x0_px : seg.y0_px, s0 = fr.axis_x ? seg.y0_px : seg.x0_px;
    const double u1 = fr.axis_x ? seg.x1_px : seg.y1_px, s1 = fr.axis_x ? seg.y1_px : seg.x1_px;
    const double b0 = (u1 - u0) / (s1 - s0);
    const double a0 = u0 - b0 * s0;
    const double cos0 = 1.0 / std::sqrt(1.0 + b0 * b0);
    scans.guess_a = a0;
    scans.guess_b = b0;
    scans.guess_cos = cos0;
    const double trim_s = p.end_trim_px * cos0;
    const double s_min = std::min(s0, s1) + trim_s, s_max = std::max(s0, s1) - trim_s;
    const double half_width = p.roi_half_width_px;
    scans.half_width = half_width;
    m.roi_half_width_px = half_width;
    const auto half_span = static_cast<std::int64_t>(std::ceil(half_width / cos0)) + 2;
    const std::int64_t span = 2 * half_span + 1;
    scans.span = span;

    // Scans whose whole window lies inside the image.
    std::int64_t outside = 0;
    // Scan lines outside the image count as outside without being visited (a user segment may
    // be absurdly long).
    const double s_first = std::max(std::ceil(s_min), -1.0),
                 s_last = std::min(std::floor(s_max), static_cast<double>(fr.s_size()));
    if (std::ceil(s_min) < s_first || std::floor(s_max) > s_last) ++outside;
    for (auto s = static_cast<std::int64_t>(s_first); static_cast<double>(s) <= s_last; ++s) {
        const auto ustart = static_cast<std::int64_t>(std::lround(a0 + b0 * static_cast<double>(s))) - half_span;
        if (s < 0 || s >= fr.s_size() || ustart < 0 || ustart + span > fr.u_size()) {
            ++outside;
            continue;
        }
        scans.s.push_back(s);
        scans.first_u.push_back(ustart);
    }
    scans.outside = outside;
    const std::int64_t n_scans = scans.count();
    m.length_px = static_cast<double>(n_scans) / cos0;
    if (n_scans == 0 && outside > 0) {
        set_verdict(m, EdgeVerdict::outside_image, "the region of interest does not fit in the image");
        return false;
    }
    // The length test is on the edge, ends included: end_trim_px only keeps the corners out of
    // the analysis, it does not make a 20 px edge shorter than 20 px.
    const double edge_length = m.length_px + (n_scans > 0 ? 2.0 * p.end_trim_px : 0.0);
    if (edge_length < p.min_length_px || n_scans < 5) {
        set_verdict(m, EdgeVerdict::too_short,
                    "usable length " + fmt2(edge_length) + " px < " + fmt2(p.min_length_px) + " px" +
                        (outside > 0 ? " (part of the region lies outside the image)" : ""));
        return false;
    }
    return true;
}

bool gather_scan_values(const ScanLines& scans, ConstImageView<std::uint8_t> mask, const EdgeSfrParams& p,
                        EdgeMeasurement& m, std::vector<float>& values) {
    const ConstImageView<float>& image = scans.frame.img;
    const std::int64_t n_scans = scans.count(), span = scans.span;
    values.assign(static_cast<std::size_t>(n_scans * span), 0.0f);
    for (std::int64_t j = 0; j < n_scans; ++j) {
        float* row = values.data() + j * span;
        for (std::int64_t i = 0; i < span; ++i) {
            const std::int64_t u = scans.first_u[static_cast<std::size_t>(j)] + i,
                               s = scans.s[static_cast<std::size_t>(j)];
            const std::int64_t x = scans.frame.axis_x ? u : s, y = scans.frame.axis_x ? s : u;
            const float v = image.at(x, y);
            if (!std::isfinite(v) || (!mask.empty() && mask.at(x, y) == 0)) {
                set_verdict(m, EdgeVerdict::nodata,
                            "nodata pixel at (" + std::to_string(x) + ", " + std::to_string(y) + ") in the region");
                return false;
            }
            if (static_cast<double>(v) >= p.saturation_dn) {
                set_verdict(m, EdgeVerdict::clipped,
                            "saturated pixel at (" + std::to_string(x) + ", " + std::to_string(y) + ") in the region");
                return false;
            }
            row[i] = v;
        }
    }
    return true;
}

double edge_polarity(const ScanLines& scans, const std::vector<float>& values) {
    const std::int64_t span = scans.span;
    double side_sum = 0;
    for (std::int64_t j = 0; j < scans.count(); ++j) {
        const float* row = values.data() + j * span;
        const double uc = scans.guess_a + scans.guess_b * static_cast<double>(scans.s[static_cast<std::size_t>(j)]) -
                          static_cast<double>(scans.first_u[static_cast<std::size_t>(j)]);
        for (std::int64_t i = 0; i < span; ++i) {
            const double di = static_cast<double>(i) - uc;
            if (di > 0.5) side_sum += row[i];
            if (di < -0.5) side_sum -= row[i];
        }
    }
    if (!(side_sum != 0)) return 0.0;
    return side_sum > 0 ? 1.0 : -1.0;
}

bool fit_edge_line(const ScanLines& scans, const std::vector<float>& values, double polarity, const EdgeSegment& seg,
                   EdgeMeasurement& m, EdgeLine& line) {
    const std::int64_t n_scans = scans.count();
    std::vector<double>& scan_s = line.scan_s;
    scan_s.assign(static_cast<std::size_t>(n_scans), 0.0);
    std::vector<double> edge_u(static_cast<std::size_t>(n_scans));
    std::vector<char> located(static_cast<std::size_t>(n_scans));
    for (std::int64_t j = 0; j < n_scans; ++j)
        scan_s[static_cast<std::size_t>(j)] = static_cast<double>(scans.s[static_cast<std::size_t>(j)]);
    const std::int64_t min_located = std::max<std::int64_t>(5, n_scans / 2);
    // Pass 1 over a window about the caller's segment, pass 2 over a window centred on the
    // first line fit (less noise); straight-line fit with outlier rejection each time.
    if (locate_edge_per_scan(scans, values, polarity, true, scans.guess_a, scans.guess_b, scan_s, edge_u, located) <
        min_located) {
        set_verdict(m, EdgeVerdict::no_edge, "edge not found in most scan lines");
        return false;
    }
    LineFit fit = fit_line(scan_s, edge_u, located);
    if (!fit.ok) {
        set_verdict(m, EdgeVerdict::no_edge, "line fit failed");
        return false;
    }
    if (locate_edge_per_scan(scans, values, polarity, false, fit.a, fit.b, scan_s, edge_u, located) < min_located) {
        set_verdict(m, EdgeVerdict::no_edge, "edge not found in most scan lines");
        return false;
    }
    fit = fit_line(scan_s, edge_u, located);
    if (!fit.ok) {
        set_verdict(m, EdgeVerdict::no_edge, "line fit failed");
        return false;
    }
    line.fit = fit;
    record_edge_geometry(fit, scans.frame, scan_s, seg.score, m);
    return true;
}

// Projects every pixel onto the edge normal (distance along the normal, bright side > 0) and
// bins at `oversampling` bins per pixel (ISO 12233 / sfrmat; the normal projection equals
// sfrmat3's row offset times its cos(slant) factor `delfac`).
NormalProjection project_onto_edge_normal(const ScanLines& scans, const std::vector<float>& values, double polarity,
                                          const EdgeLine& line, int oversampling) {
    NormalProjection proj;
    const double a = line.fit.a, b = line.fit.b;
    const double cosf = 1.0 / std::sqrt(1.0 + b * b);
    const int os = oversampling;
    const double h = 1.0 / os;
    const auto half_bins = static_cast<std::int64_t>(std::ceil(scans.half_width * os));
    const std::int64_t nb = 2 * half_bins;
    const double bin_lo = -static_cast<double>(half_bins) * h;
    proj.oversampling = os;
    proj.bin_width = h;
    proj.n_bins = nb;
    proj.bin_lo = bin_lo;
    proj.bin_sum.assign(static_cast<std::size_t>(nb), 0.0);
    proj.bin_pos.assign(static_cast<std::size_t>(nb), 0.0);
    proj.bin_count.assign(static_cast<std::size_t>(nb), 0);
    const std::int64_t n_scans = scans.count(), span = scans.span;
    proj.samples.reserve(static_cast<std::size_t>(n_scans * span));
    for (std::int64_t j = 0; j < n_scans; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        const float* row = values.data() + j * span;
        const double ue = a + b * line.scan_s[uj];
        for (std::int64_t i = 0; i < span; ++i) {
            const double d = polarity * (static_cast<double>(scans.first_u[uj] + i) - ue) * cosf;
            const auto k = static_cast<std::int64_t>(std::floor((d - bin_lo) * os));
            if (k < 0 || k >= nb) continue;
            proj.bin_sum[static_cast<std::size_t>(k)] += row[i];
            proj.bin_pos[static_cast<std::size_t>(k)] += d;
            ++proj.bin_count[static_cast<std::size_t>(k)];
            proj.samples.push_back({d, static_cast<double>(row[i]), k});
        }
    }
    // Group the samples by bin (counting sort, O(n)).
    proj.bin_offsets.assign(static_cast<std::size_t>(nb + 1), 0);
    for (std::int64_t k = 0; k < nb; ++k)
        proj.bin_offsets[static_cast<std::size_t>(k + 1)] =
            proj.bin_offsets[static_cast<std::size_t>(k)] + proj.bin_count[static_cast<std::size_t>(k)];
    return proj;
}

}  // namespace satiq::detail
