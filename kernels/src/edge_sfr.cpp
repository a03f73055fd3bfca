// Per-edge slanted-edge analysis (ISO 12233 e-SFR in the manner of P. Burns' sfrmat and
// MTF Mapper; ISO 12233:2017), aggregation per axis, and user-given regions. The stages of one
// measurement live in edge_sfr_geometry.cpp and edge_sfr_profile.cpp (edge_sfr_detail.hpp);
// measure_centred runs them in order, then the verdict and quality below.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "edge_sfr_detail.hpp"
#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {

namespace detail {

void set_verdict(EdgeMeasurement& m, EdgeVerdict v, std::string reason) {
    m.verdict = v;
    m.reason = std::move(reason);
}

std::string fmt2(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

}  // namespace detail

using namespace detail;

namespace {

void check_mask(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const char* op) {
    if (!mask.empty() && (mask.width != image.width || mask.height != image.height))
        throw Error(std::string(op) + ": valid_mask is " + std::to_string(mask.width) + "x" +
                    std::to_string(mask.height) + " but the image is " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + "; pass a mask of the image's size or an empty view");
}

// Samples within each RER fit window (the window of the ESF evaluator, from the binned LSF's
// FWHM; 0 when no metrics were measured).
double samples_per_rer_window(const NormalProjection& proj, const EdgeSfrParams& p, double fwhm_window) {
    const double r_rer = std::clamp(0.25 * fwhm_window, 1.2 / p.oversampling, 3.0 / p.oversampling);
    return static_cast<double>(proj.samples.size()) * (2.0 * r_rer) / (2.0 * proj.edge_limit());
}

// What the verdict weighs beyond the measurement itself.
struct EdgeEvidence {
    const LineFit& fit;
    const Plateaus& plateaus;
    double half_width = 0.0;  ///< ROI half-width (px)
    double n_rer = 0.0;       ///< samples per RER fit window
    double excursion = 0.0;   ///< esf_excursion, 0 without a centre
    bool metrics_ok = false;  ///< RER, FWHM and MTF were measured
};

// Line-fit residual expected from noise alone (px) for an edge of this contrast and ROI.
double expected_line_rms(const EdgeMeasurement& m, double noise, double half_width) {
    const double centroid_window = std::max(3.0, 0.6 * half_width);
    return (noise / m.contrast_dn) * std::sqrt(4.0 * centroid_window + 0.5 * centroid_window * centroid_window);
}
bool curved_by_sagitta(const EdgeSfrParams& p, const LineFit& fit) {
    return fit.sagitta > p.max_sagitta_px && fit.sagitta > 3.0 * fit.sagitta_se;
}
bool curved_by_residual(const EdgeSfrParams& p, const LineFit& fit, double expected_rms) {
    return fit.rms > std::max(p.max_line_rms_px, 2.5 * expected_rms) || fit.inlier_fraction < 0.6;
}

// True when judge_edge will reject the edge whatever the ESF and MTF give: one of its tests that
// do not use them fails (contrast, plateau slope, line shape), and then every test before the
// near-axis (sparse_sampling) one, so the verdict is neither usable nor sparse_sampling.
bool rejected_before_metrics(const EdgeSfrParams& p, const LineFit& fit, const Plateaus& plateaus, double half_width,
                             const EdgeMeasurement& m) {
    return m.contrast_to_noise < p.min_contrast_to_noise || plateaus.slope > p.max_plateau_slope ||
           curved_by_sagitta(p, fit) || curved_by_residual(p, fit, expected_line_rms(m, plateaus.noise, half_width));
}

// Verdict: the first failing test in a fixed order.
void judge_edge(const EdgeSfrParams& p, const EdgeEvidence& ev, EdgeMeasurement& m) {
    const LineFit& fit = ev.fit;
    const double noise = ev.plateaus.noise;
    // Plateau texture relative to the contrast, and the standard error it would give the RER:
    // a difference of two ESF values, each a local fit over ~n_rer samples of that spread.
    const double texture_fraction = m.contrast_dn > 0 ? m.plateau_noise_dn / m.contrast_dn : 1e9;
    const double texture_rer_error = ev.n_rer > 0 ? std::numbers::sqrt2 * texture_fraction / std::sqrt(ev.n_rer) : 1e9;
    const double expected_rms = expected_line_rms(m, noise, ev.half_width);
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
    } else if (ev.plateaus.slope > p.max_plateau_slope) {
        set_verdict(m, EdgeVerdict::noisy_plateau,
                    "plateau not flat (slope " + fmt2(ev.plateaus.slope) + " of the contrast)");
    } else if (curved_by_sagitta(p, fit)) {
        set_verdict(m, EdgeVerdict::curved, "sagitta " + fmt2(fit.sagitta) + " px > " + fmt2(p.max_sagitta_px) + " px");
    } else if (curved_by_residual(p, fit, expected_rms)) {
        set_verdict(m, EdgeVerdict::curved,
                    "line fit rms " + fmt2(fit.rms) + " px, inliers " + fmt2(100 * fit.inlier_fraction) + " %");
    } else if (m.rise_10_90_px > p.max_rise_px) {
        set_verdict(m, EdgeVerdict::wide_transition,
                    "10-90 % rise " + fmt2(m.rise_10_90_px) + " px > " + fmt2(p.max_rise_px) + " px");
    } else if (ev.metrics_ok && m.rise_10_90_px > 0 && m.rer * m.rise_10_90_px < p.min_rer_rise_product) {
        // A single blurred step (unimodal LSF) has RER x 10-90 % rise >= ~0.7 (a Gaussian
        // spread gives 0.8-1.0, a box of any width 0.8); far less means a flat shelf around
        // the 50 % level between two sharp steps (a roof edge beside its shadow).
        set_verdict(m, EdgeVerdict::not_a_step,
                    "RER " + fmt2(m.rer) + " x 10-90 % rise " + fmt2(m.rise_10_90_px) + " px < " +
                        fmt2(p.min_rer_rise_product) + ": a double step");
    } else if (ev.excursion > p.max_esf_excursion) {
        set_verdict(m, EdgeVerdict::not_a_step,
                    "ESF leaves its plateaus by " + fmt2(ev.excursion) + " of the contrast near the edge (> " +
                        fmt2(p.max_esf_excursion) + "): a line or a double edge");
    } else if (m.empty_bin_fraction > p.max_empty_bin_fraction) {
        set_verdict(m, EdgeVerdict::sparse_sampling,
                    fmt2(100 * m.empty_bin_fraction) + " % of the ESF bins near the edge are empty (slant " +
                        fmt2(m.slant_deg) + " deg)");
    } else if (!ev.metrics_ok) {
        set_verdict(m, EdgeVerdict::no_edge, "no 50 % crossing near the fitted edge or undefined MTF50");
    } else if (m.slant_deg < p.axis_margin_deg || std::abs(m.slant_deg - 45.0) < p.axis_margin_deg) {
        set_verdict(m, EdgeVerdict::near_axis_angle,
                    "slant " + fmt2(m.slant_deg) + " deg within " + fmt2(p.axis_margin_deg) + " deg of 0 or 45");
    } else {
        set_verdict(m, EdgeVerdict::ok, "");
    }
}

// Quality score and RER standard error of a usable edge.
void score_usable_edge(const EdgeSfrParams& p, const EdgeEvidence& ev, EdgeMeasurement& m) {
    // Quality score (display and ranking): the variance of an edge's RER from noise goes as
    // 1 / (length x (contrast / noise)^2), saturating at 100 px and CNR 100.
    double q = std::min(1.0, m.length_px / 100.0) * std::pow(std::min(1.0, m.contrast_to_noise / 100.0), 2.0);
    q *= 1.0 - m.empty_bin_fraction;
    q *= std::max(0.0, 1.0 - 0.5 * ev.fit.sagitta / p.max_sagitta_px);
    if (m.verdict == EdgeVerdict::near_axis_angle) q *= 0.5;
    m.quality = std::clamp(q, 0.0, 1.0);
    // RER standard error: each ESF value is the centre of a local cubic fit over n samples
    // (variance factor ~2.25 / n for samples spread evenly over the window), the two fits
    // do not overlap (r <= 0.75 px), and the sample scatter is the larger of the image
    // noise and the plateau texture.
    const double sigma = std::max(ev.plateaus.noise, m.plateau_noise_dn);
    double se = std::numbers::sqrt2 * 1.5 * (sigma / m.contrast_dn) / std::sqrt(std::max(1.0, ev.n_rer));
    if (m.verdict == EdgeVerdict::near_axis_angle) se *= std::numbers::sqrt2;
    m.rer_standard_error = std::isfinite(se) ? std::max(se, 1e-6) : 1.0;
}

// One edge, pixel centres at integers: the stages in order. Each stage that can reject the edge
// sets the verdict and the measurement returns with what was measured so far.
// With verdict_only, an edge that rejected_before_metrics() is returned without its ESF and MTF
// (its verdict says only that it is unusable): for the narrower retries of measure_adaptive,
// which keep a measurement only when it is usable or sparse_sampling.
EdgeMeasurement measure_centred(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeSegment& seg,
                                const EdgeSfrParams& p, EdgeMeasurement m, bool verdict_only) {
    ScanLines scans;
    if (!select_scan_lines(image, seg, p, m, scans)) return m;
    // Any nodata or saturated pixel rejects the edge.
    std::vector<float> values;
    if (!gather_scan_values(scans, mask, p, m, values)) return m;
    // Polarity: bright side along +u or -u.
    const double polarity = edge_polarity(scans, values);
    if (polarity == 0.0) {
        set_verdict(m, EdgeVerdict::no_edge, "no brightness difference across the segment");
        return m;
    }
    EdgeLine line;
    if (!fit_edge_line(scans, values, polarity, seg, m, line)) return m;
    const NormalProjection proj = project_onto_edge_normal(scans, values, polarity, line, p.oversampling);
    Plateaus plateaus;
    if (!measure_plateaus(proj, scans.half_width, p, m, plateaus)) return m;
    if (verdict_only && rejected_before_metrics(p, line.fit, plateaus, scans.half_width, m)) {
        set_verdict(m, EdgeVerdict::low_contrast, "rejected before the ESF was measured (narrower retry)");
        return m;
    }
    ConditionedEsf esf;
    if (!condition_esf(proj, m, esf)) return m;

    // Edge centre: the 50 % crossing of the binned ESF nearest to the fitted line.
    EsfCentre centre = find_esf_centre(proj, esf.esf);
    bool metrics_ok = centre.found && std::abs(centre.centre) <= 2.0;
    if (centre.found) m.rise_10_90_px = rise_10_90(proj, esf.esf, centre.centre);
    double fwhm_window = 0.0;
    if (metrics_ok) metrics_ok = measure_transfer(proj, esf, plateaus, p, m, centre.centre, fwhm_window);
    if (!metrics_ok) {
        m.rer = m.overshoot_h = m.fwhm_px = m.mtf50_cyc_per_px = m.mtf_nyquist = m.mtf50_cyc_per_m = 0.0;
    }

    const EdgeEvidence evidence{line.fit,
                                plateaus,
                                scans.half_width,
                                samples_per_rer_window(proj, p, metrics_ok ? fwhm_window : 0.0),
                                centre.found ? esf_excursion(proj, esf.esf, centre.centre) : 0.0,
                                metrics_ok};
    judge_edge(p, evidence, m);
    if (is_usable(m.verdict)) score_usable_edge(p, evidence, m);
    return m;
}

EdgeMeasurement measure_impl(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeSegment& seg,
                             const EdgeSfrParams& p, bool verdict_only = false) {
    EdgeMeasurement m;
    m.segment = seg;
    // Internally pixel centres sit at integers: shift the GDAL-convention input by -0.5.
    const EdgeSegment seg_in = seg;
    const EdgeSegment seg_c{seg_in.x0_px - 0.5, seg_in.y0_px - 0.5, seg_in.x1_px - 0.5, seg_in.y1_px - 0.5,
                            seg_in.score};
    return measure_centred(image, mask, seg_c, p, m, verdict_only);
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
        EdgeMeasurement m = measure_impl(image, mask, seg, q, /*verdict_only=*/true);
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
