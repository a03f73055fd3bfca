// `satiq assess`: the JSON of a result (docs/schema.md), section by section.
#include <cmath>

#include "assess_detail.hpp"

namespace satiq {

namespace {

using nlohmann::json;

nlohmann::json prediction_json(const giqe::NiirsPrediction& p) {
    return {{"value", p.value},
            {"standard_error", p.standard_error ? nlohmann::json(*p.standard_error) : nlohmann::json(nullptr)},
            {"rer_measurement_error",
             p.rer_measurement_error ? nlohmann::json(*p.rer_measurement_error) : nlohmann::json(nullptr)},
            {"warnings", p.warnings}};
}

nlohmann::json stat_json(const EdgeAxisSummary& s, const EdgeStatistic EdgeAxisSummary::*field) {
    const EdgeStatistic& st = s.*field;
    return {{"median", st.median}, {"q1", st.q1}, {"q3", st.q3}, {"iqr", st.iqr}};
}

// edges.x.mtf_curve / edges.y.mtf_curve in the JSON (docs/schema.md); null without a curve.
nlohmann::json mtf_curve_json(const EdgeAxisSummary& s) {
    if (s.mtf_curve.empty()) return nullptr;
    nlohmann::json c = nlohmann::json::array();
    for (const EdgeMtfCurvePoint& p : s.mtf_curve)
        c.push_back({{"frequency_cyc_per_px", p.frequency_cyc_per_px},
                     {"mtf_median", p.median},
                     {"mtf_q25", p.q1},
                     {"mtf_q75", p.q3},
                     {"edges", p.edges}});
    return c;
}

// rer.robustness in the JSON (docs/schema.md).
nlohmann::json robustness_json(const EdgeRobustness& rb) {
    using nlohmann::json;
    auto half = [](const EdgeSubsetRer& h) {
        const bool have = h.x_count + h.y_count > 0;  // an empty half has no RER (null, not 0)
        return json{{"geometric_mean", have ? json(h.rer_gm) : json(nullptr)},
                    {"standard_error", have ? json(h.standard_error) : json(nullptr)},
                    {"x_edges", h.x_count},
                    {"y_edges", h.y_count}};
    };
    auto diff = [](const EdgeSplit& sp) { return sp.compared ? json(sp.difference) : json(nullptr); };
    auto diff_se = [](const EdgeSplit& sp) { return sp.compared ? json(sp.standard_error) : json(nullptr); };
    auto chance = [](const EdgeSplit& sp) {
        return sp.compared && sp.random_splits > 0 ? json{{"random_splits", sp.random_splits},
                                                          {"median_abs_difference", sp.random_median_abs_difference},
                                                          {"p90_abs_difference", sp.random_p90_abs_difference},
                                                          {"p_value", sp.p_value}}
                                                   : json(nullptr);
    };
    return json{{"max_single_edge_change", rb.max_edge_change},
                {"max_single_object_change", rb.max_object_change},
                {"objects", rb.objects},
                {"largest_object_edges", rb.largest_object_edges},
                {"object_gap_px", rb.object_gap_px},
                {"most_influential_object",
                 rb.max_object_edges > 0
                     ? json{{"x_px", rb.max_object_x_px}, {"y_px", rb.max_object_y_px}, {"edges", rb.max_object_edges}}
                     : json(nullptr)},
                {"halves",
                 {{"top", half(rb.top_bottom.first)},
                  {"bottom", half(rb.top_bottom.second)},
                  {"left", half(rb.left_right.first)},
                  {"right", half(rb.left_right.second)},
                  {"bottom_minus_top", diff(rb.top_bottom)},
                  {"bottom_minus_top_standard_error", diff_se(rb.top_bottom)},
                  {"right_minus_left", diff(rb.left_right)},
                  {"right_minus_left_standard_error", diff_se(rb.left_right)},
                  {"top_bottom_chance", chance(rb.top_bottom)},
                  {"left_right_chance", chance(rb.left_right)}}}};
}
// gsd: the product GSD, its ground, normal and weighted planes, and the effective resolution (the
// sampling the image's content supports, docs/schema.md).
json gsd_json(const AssessResult& r) {
    json gsd = to_json(r.gsd);
    gsd["ground_m"] = r.gsd_ground_m;
    gsd["normal_m"] = r.gsd_normal_m;
    gsd["weighted_m"] = r.gsd_weighted_m;
    auto axis_sampling = [](const SamplingEstimate::Axis& a) {
        return json{{"factor", a.factor},
                    {"upsampled", a.upsampled},
                    {"cutoff_cyc_per_px", a.cutoff_cyc_per_px},
                    {"evidence", a.evidence},
                    {"period_cyc_per_px", a.period_cyc_per_px},
                    {"drop_db", a.drop_db}};
    };
    gsd["effective"] = {{"x_m", r.effective_gsd_x_m},
                        {"y_m", r.effective_gsd_y_m},
                        {"mean_m", std::sqrt(r.effective_gsd_x_m * r.effective_gsd_y_m)},
                        {"upsampled", r.sampling.valid && (r.sampling.x.upsampled || r.sampling.y.upsampled)},
                        {"rated_on_effective_gsd", r.rated_on_effective_gsd},
                        {"valid", r.sampling.valid},
                        {"x", axis_sampling(r.sampling.x)},
                        {"y", axis_sampling(r.sampling.y)},
                        {"message", r.sampling.message},
                        {"method", r.sampling.method}};
    return gsd;
}

// edges.x / edges.y: an axis's statistics; absent values are null, never 0 (an axis without
// usable edges has no statistics).
json axis_json(const EdgeAxisSummary& s) {
    if (s.count == 0)
        return json{
            {"count", 0},         {"rer", nullptr},         {"mtf50_cyc_per_px", nullptr}, {"mtf_nyquist", nullptr},
            {"fwhm_px", nullptr}, {"overshoot_h", nullptr}, {"mtf50_cyc_per_m", nullptr},  {"mtf_curve", nullptr}};
    json rer = stat_json(s, &EdgeAxisSummary::rer);
    rer["standard_error"] = s.rer.standard_error;
    rer["tau"] = s.rer_tau;
    return json{{"count", s.count},
                {"rer", rer},
                {"mtf50_cyc_per_px", stat_json(s, &EdgeAxisSummary::mtf50_cyc_per_px)},
                {"mtf_nyquist", stat_json(s, &EdgeAxisSummary::mtf_nyquist)},
                {"fwhm_px", stat_json(s, &EdgeAxisSummary::fwhm_px)},
                {"overshoot_h", stat_json(s, &EdgeAxisSummary::overshoot_h)},
                {"mtf50_cyc_per_m", s.mtf50_cyc_per_m},
                {"mtf_curve", mtf_curve_json(s)}};
}

// edges.records: one record per analysed edge.
json edge_records_json(const std::vector<EdgeMeasurement>& edges) {
    json recs = json::array();
    for (const auto& e : edges)
        recs.push_back({{"verdict", to_string(e.verdict)},
                        {"reason", e.reason},
                        {"axis", to_string(e.axis)},
                        {"x0_px", e.segment.x0_px},
                        {"y0_px", e.segment.y0_px},
                        {"x1_px", e.segment.x1_px},
                        {"y1_px", e.segment.y1_px},
                        {"angle_deg", e.angle_deg},
                        {"slant_deg", e.slant_deg},
                        {"length_px", e.length_px},
                        {"roi_half_width_px", e.roi_half_width_px},
                        {"rise_10_90_px", e.rise_10_90_px},
                        {"contrast_dn", e.contrast_dn},
                        {"contrast_to_noise", e.contrast_to_noise},
                        {"rer", e.rer},
                        {"rer_standard_error", e.rer_standard_error > 0 ? json(e.rer_standard_error) : json(nullptr)},
                        {"overshoot_h", e.overshoot_h},
                        {"fwhm_px", e.fwhm_px},
                        {"mtf50_cyc_per_px", e.mtf50_cyc_per_px},
                        {"mtf50_cyc_per_m", e.mtf50_cyc_per_m},
                        {"mtf_nyquist", e.mtf_nyquist},
                        {"quality", e.quality}});
    return recs;
}

// edges: the counts, the rejection reasons, the axes and (include_edges) every edge.
json edges_json(const AssessResult& r, bool include_edges) {
    const EdgeAggregate& ag = r.edges.aggregate;
    json reasons = json::object();
    for (std::size_t i = 0; i < kEdgeVerdictCount; ++i)
        if (!is_usable(static_cast<EdgeVerdict>(i)) && ag.verdict_counts[i] > 0)
            reasons[to_string(static_cast<EdgeVerdict>(i))] = ag.verdict_counts[i];
    json edges = {{"candidates", r.edges.candidates},
                  {"analysed", ag.analysed},
                  {"used", ag.usable_count},
                  {"rejected", ag.analysed - ag.usable_count},
                  {"rejection_reasons", reasons},
                  {"message", ag.message},
                  {"x", axis_json(ag.x)},
                  {"y", axis_json(ag.y)}};
    if (include_edges) edges["records"] = edge_records_json(r.edges.edges);
    return edges;
}

json opt(bool have, double v) {
    return have ? json(v) : json(nullptr);
}

// rer: the axes' medians, their means, the rated RER and the robustness.
json rer_json(const AssessResult& r) {
    const EdgeAggregate& ag = r.edges.aggregate;
    const bool hx = ag.x.count > 0, hy = ag.y.count > 0;
    json rob = robustness_json(r.robustness);
    if (!ag.usable)
        for (const char* k : {"max_single_edge_change", "max_single_object_change"})
            rob[k] = nullptr;
    return {{"x", opt(hx, ag.x.rer.median)},
            {"y", opt(hy, ag.y.rer.median)},
            {"x_standard_error", opt(hx, ag.x.rer.standard_error)},
            {"y_standard_error", opt(hy, ag.y.rer.standard_error)},
            {"geometric_mean", opt(ag.usable, ag.rer_gm)},
            {"weighted", opt(ag.usable, ag.rer_weighted)},
            {"single_axis", ag.single_axis},
            {"rated_geometric_mean", opt(r.rated_rer_gm > 0, r.rated_rer_gm)},
            {"rated_weighted", opt(r.rated_rer_weighted > 0, r.rated_rer_weighted)},
            {"robustness", rob}};
}

// noise.curve and noise.immerkaer.curve: a noise-versus-signal curve.
json noise_curve_json(const NoiseEstimate& ne) {
    json c = json::array();
    for (const auto& b : ne.bands)
        c.push_back({{"signal_lo_dn", b.signal_lo_dn},
                     {"signal_hi_dn", b.signal_hi_dn},
                     {"mean_signal_dn", b.mean_signal_dn},
                     {"sigma_dn", b.sigma_dn},
                     {"pixels", b.pixels}});
    return c;
}

// noise: the SNR's noise (PCA or Immerkaer), with Immerkaer's beside it.
json noise_json(const AssessResult& r) {
    return {{"sigma_dn", opt(r.noise_sigma_dn > 0, r.noise_sigma_dn)},
            {"method", r.noise_method == "pca"
                           ? "weak-texture patches and PCA (Liu, Tanaka & Okutomi 2013); sigma_dn is read from its "
                             "noise-versus-signal curve at the 15 % reflectance level, scaled down to the power in the "
                             "spectrum's Nyquist corner (Welch 1967) where that is lower (capped_by_spectrum)"
                           : "Immerkaer (1996) with the top 10 % Sobel gradients masked (Tai & Yang 2008), the PCA "
                             "estimate having failed; sigma_dn is read at the 15 % reflectance level"},
            {"estimator", r.noise_method},
            {"pooled_sigma_dn", opt(r.noise_pca.valid, r.noise_pca.sigma_dn)},
            {"pixels_used", r.noise_pca.pixels_used},
            {"curve", noise_curve_json(r.noise_pca)},
            {"spectral_corner_sigma_dn", r.noise_spectral.valid ? json(r.noise_spectral.sigma_dn) : json(nullptr)},
            {"capped_by_spectrum", r.noise_capped_by_spectrum},
            {"immerkaer",
             {{"sigma_dn", opt(r.noise_immerkaer_sigma_dn > 0, r.noise_immerkaer_sigma_dn)},
              {"pooled_sigma_dn", opt(r.noise.valid, r.noise.sigma_dn)},
              {"sigma_at_median_signal_dn", opt(r.noise.valid, r.noise.sigma_at_median_signal_dn)},
              {"pixels_used", r.noise.pixels_used},
              {"curve", noise_curve_json(r.noise)}}}};
}

// niirs: GIQE 5, 4 and 3 (null when not computed); GIQE 5 says its basis and, estimated from
// GSD alone, its interval.
json niirs_json(const AssessResult& r) {
    json niirs = json::object();
    niirs["giqe5"] = r.giqe5 ? prediction_json(*r.giqe5) : json(nullptr);
    if (r.giqe5) {
        niirs["giqe5"]["basis"] = r.gsd_alone ? "estimated from GSD alone" : "measured edges";
        niirs["giqe5"]["interval"] = json(nullptr);
        if (r.gsd_alone) {
            niirs["giqe5"]["rer_measurement_error"] = nullptr;
            niirs["giqe5"]["interval"] = {{"niirs_low", r.gsd_alone->niirs_low},
                                          {"niirs_high", r.gsd_alone->niirs_high},
                                          {"rer_low", r.gsd_alone->rer_low},
                                          {"rer_high", r.gsd_alone->rer_high},
                                          {"rer_range_source", r.gsd_alone->rer_range_source}};
        }
    }
    niirs["giqe4"] = r.giqe4 ? prediction_json(*r.giqe4) : json(nullptr);
    niirs["giqe3"] = r.giqe3 ? prediction_json(*r.giqe3) : json(nullptr);
    return niirs;
}

// radiometry: the scene response the SNR is measured against (null when unknown).
json radiometry_json(const AssessResult& r) {
    return r.radiometry ? json{{"signal_difference_dn", r.radiometry->signal_difference_dn},
                               {"level_07_dn", r.radiometry->level_07_dn},
                               {"level_15_dn", r.radiometry->level_15_dn},
                               {"assumption", r.radiometry->assumption}}
                        : json(nullptr);
}

}  // namespace

nlohmann::json to_json(const AssessResult& r, bool include_edges) {
    const EdgeAggregate& ag = r.edges.aggregate;
    const bool hx = ag.x.count > 0, hy = ag.y.count > 0;
    auto per_axis = [&](const EdgeStatistic EdgeAxisSummary::*field) {
        return json{{"x", opt(hx, (ag.x.*field).median)}, {"y", opt(hy, (ag.y.*field).median)}};
    };
    json runstats = json::object();
    for (const auto& s : r.runstats)
        runstats[s.stage + "_s"] = s.seconds;
    json overshoot = per_axis(&EdgeAxisSummary::overshoot_h);
    overshoot["geometric_mean"] = opt(ag.usable, ag.overshoot_h_gm);
    return {{"file", r.file.string()},
            {"status", "ok"},
            {"width_px", r.width},
            {"height_px", r.height},
            {"band_used", r.band_used},
            {"gsd", gsd_json(r)},
            {"geometry", {{"elevation_deg", r.elevation_deg}, {"elevation_source", r.elevation_source}}},
            {"rer", rer_json(r)},
            {"mtf50_cyc_per_px", per_axis(&EdgeAxisSummary::mtf50_cyc_per_px)},
            {"mtf50_cyc_per_m", {{"x", opt(hx, ag.x.mtf50_cyc_per_m)}, {"y", opt(hy, ag.y.mtf50_cyc_per_m)}}},
            {"mtf_nyquist", per_axis(&EdgeAxisSummary::mtf_nyquist)},
            {"fwhm_px", per_axis(&EdgeAxisSummary::fwhm_px)},
            {"overshoot_h", overshoot},
            {"noise", noise_json(r)},
            {"snr", r.snr > 0 ? json(r.snr) : json(nullptr)},
            {"snr_source", r.snr_source},
            {"radiometry", radiometry_json(r)},
            {"niirs", niirs_json(r)},
            {"interpretability", r.interpretation ? interpret::to_json(*r.interpretation) : json(nullptr)},
            {"edges", edges_json(r, include_edges)},
            {"bands", detail::bands_json(r)},
            // Floating-point data has no saturation level (the 3e38 stand-in): null.
            {"saturation_dn", r.saturation_dn < 1e38 ? json(r.saturation_dn) : json(nullptr)},
            {"warnings", r.warnings},
            {"runstats", runstats}};
}

}  // namespace satiq
