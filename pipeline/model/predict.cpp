// `satiq predict` as a library call (predict.hpp): the equations, the interpretability model and
// the one JSON and text form of a prediction, used by `predict` and `sweep`.
#include "satiq/pipeline/model/predict.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "satiq/kernels/error.hpp"

namespace satiq {

namespace {

using json = nlohmann::json;

// Edge response convention of the sensor model (sensor.hpp).
constexpr const char* convention =
    "edge response from the signed transfer function (physical edge); pyBSM integrates |OTF|, identical for Q >= 1";

json edge_json(const sensor::EdgeFigures& x, const sensor::EdgeFigures& y, double (*pick)(const sensor::EdgeFigures&)) {
    const double a = pick(x);
    const double b = pick(y);
    return json{{"x", a}, {"y", b}, {"geometric_mean", std::sqrt(std::max(0.0, a * b))}};
}

json prediction_json(const giqe::NiirsPrediction& p, json inputs) {
    json j;
    j["value"] = p.value;
    if (p.standard_error)
        j["standard_error"] = *p.standard_error;
    else
        j["standard_error"] = nullptr;
    j["inputs"] = std::move(inputs);
    j["warnings"] = p.warnings;
    return j;
}

json description_json(const sensor::SensorDescription& d) {
    json j;
    j["name"] = d.name;
    j["altitude_m"] = d.altitude_m;
    j["off_nadir_deg"] = d.off_nadir_deg ? json(*d.off_nadir_deg) : json(nullptr);
    j["elevation_deg"] = d.elevation_deg ? json(*d.elevation_deg) : json(nullptr);
    j["aperture_diameter_m"] = d.aperture_diameter_m;
    j["central_obscuration_ratio"] = d.central_obscuration_ratio;
    j["focal_length_m"] = d.focal_length_m;
    j["detector_pitch_m"] = d.detector_pitch_m;
    j["fill_factor"] = d.fill_factor;
    j["wavelength_m"] = d.wavelength_m;
    j["jitter_sigma_px"] = d.jitter_sigma_px;
    j["smear_px"] = d.smear_px;
    j["defocus_blur_diameter_px"] = d.defocus_blur_diameter_px;
    j["wavefront_error_rms_waves"] = d.wavefront_error_rms_waves;
    j["full_well_e"] = d.full_well_e;
    j["read_noise_e"] = d.read_noise_e;
    j["bits"] = d.bits;
    j["snr"] = d.snr ? json(*d.snr) : json(nullptr);
    if (d.radiometry) {
        const sensor::Radiometry& r = *d.radiometry;
        j["radiometry"] = json{{"integration_time_s", r.integration_time_s},
                               {"band_width_um", r.band_width_um},
                               {"optics_transmittance", r.optics_transmittance},
                               {"quantum_efficiency", r.quantum_efficiency},
                               {"solar_zenith_deg", r.solar_zenith_deg},
                               {"solar_irradiance_w_m2_um", r.solar_irradiance_w_m2_um},
                               {"atmospheric_transmittance", r.atmospheric_transmittance},
                               {"path_radiance_w_m2_sr_um", r.path_radiance_w_m2_sr_um}};
    } else {
        j["radiometry"] = nullptr;
    }
    return j;
}

// The figures of a description, by their JSON key (sensors.json and the parameters block).
std::vector<std::pair<std::string, double>> description_figures(const sensor::SensorDescription& d) {
    return {{"altitude_m", d.altitude_m},
            {"aperture_diameter_m", d.aperture_diameter_m},
            {"central_obscuration_ratio", d.central_obscuration_ratio},
            {"focal_length_m", d.focal_length_m},
            {"detector_pitch_m", d.detector_pitch_m},
            {"fill_factor", d.fill_factor},
            {"wavelength_m", d.wavelength_m},
            {"jitter_sigma_px", d.jitter_sigma_px},
            {"smear_px", d.smear_px},
            {"defocus_blur_diameter_px", d.defocus_blur_diameter_px},
            {"wavefront_error_rms_waves", d.wavefront_error_rms_waves},
            {"full_well_e", d.full_well_e},
            {"read_noise_e", d.read_noise_e},
            {"bits", static_cast<double>(d.bits)}};
}

// Light one pixel collects from an extended scene, up to the scene's radiance, the optics'
// transmittance and the integration time: the camera equation E = pi L tau (1 - eps^2) / (4 F#^2)
// (Schott, Remote Sensing: The Image Chain Approach, 2nd ed. 2007, ch. 5; the obscured pupil's
// area) times the pixel's light-collecting area p^2 FF.
double relative_pixel_light(const sensor::SensorDescription& d) {
    const double f_number = d.focal_length_m / d.aperture_diameter_m;
    return (1.0 - d.central_obscuration_ratio * d.central_obscuration_ratio) / (f_number * f_number) *
           d.detector_pitch_m * d.detector_pitch_m * d.fill_factor;
}

// Where the SNR comes from: the radiometric model, else the kind of its provenance (given by an
// option or the simple form, a preset's source or assumed figure, a command's assumed default).
std::string snr_source(const Prediction& p) {
    if (p.model->figures().snr_from_radiometry) return "radiometric model";
    const auto it = p.provenance.find("snr");
    return it != p.provenance.end() ? it->second.kind : "given";
}

}  // namespace

std::optional<std::string> fixed_snr_warning(const sensor::SensorModel& m, const std::string& preset_name) {
    if (m.is_simple() || preset_name.empty() || m.figures().snr_from_radiometry) return std::nullopt;
    const sensor::SensorDescription& d = m.description();
    const sensor::SensorDescription& pd = sensor::find_sensor_preset(preset_name).description;
    if (!d.snr || !pd.snr || *d.snr != *pd.snr) return std::nullopt;  // an SNR set for this run
    const double ratio = relative_pixel_light(d) / relative_pixel_light(pd);
    if (std::abs(ratio - 1.0) < 1e-9) return std::nullopt;
    // Shot-noise-limited: SNR grows as the square root of the signal (Poisson statistics).
    return fmt::format(
        "snr: the preset's SNR {:g} is kept as it is (a preset's SNR is a figure, not modelled from its optics), "
        "although the optics and detector given collect {:.3g}x its light per pixel: a shot-noise-limited SNR "
        "would be {:.3g}x; give --snr, or --integration-time-s for the radiometric model",
        *d.snr, ratio, std::sqrt(ratio));
}

ResolvedFigures model_figures(const sensor::SensorModel& m, const std::string& preset_name) {
    ResolvedFigures out;
    const sensor::SensorFigures& f = m.figures();
    if (m.is_simple()) {
        const auto& s = m.simple_spec();
        out.set("target_gsd_m", s.gsd_m, "given", "the simple form's GSD");
        // The blur given, and its other expression (Gaussian optics x square pixel, sensor.hpp).
        const bool by_mtf = s.mtf_nyquist.has_value();
        out.set("mtf_nyquist", by_mtf ? *s.mtf_nyquist : f.x.mtf_nyquist, by_mtf ? "given" : "derived",
                by_mtf ? "the simple form's blur" : "from the Gaussian sigma (Gaussian optics x square pixel)");
        out.set("sigma_px",
                s.sigma_px            ? json(*s.sigma_px)
                : f.gaussian_sigma_px ? json(*f.gaussian_sigma_px)
                                      : json(nullptr),
                by_mtf ? "derived" : "given",
                by_mtf ? "from the MTF at Nyquist (Gaussian optics x square pixel)" : "the simple form's blur");
        out.set("snr", s.snr, "given", "the simple form's SNR");
        out.set("full_well_e", s.full_well_e, "assumed", "satiq's default for the simple form");
        out.set("read_noise_e", s.read_noise_e, "assumed", "satiq's default for the simple form");
        out.set("bits", s.bits, "assumed", "satiq's default for the simple form");
        return out;
    }
    const sensor::SensorDescription& d = m.description();
    const sensor::SensorPreset* preset = preset_name.empty() ? nullptr : &sensor::find_sensor_preset(preset_name);
    const std::vector<std::pair<std::string, double>> preset_values =
        preset ? description_figures(preset->description) : std::vector<std::pair<std::string, double>>{};
    const std::vector<std::pair<std::string, double>> values = description_figures(d);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const auto& [key, v] = values[i];
        const json value = key == "bits" ? json(d.bits) : json(v);
        if (!preset) {
            out.set(key, value, "assumed", "satiq's default for a custom sensor");
            continue;
        }
        const auto it = preset->provenance.find(key);
        const double pv = preset_values[i].second;
        if (v != pv)
            out.set(key, value, "given", fmt::format("{}; the preset has {:g}", set_for_this_run, pv));
        else if (it != preset->provenance.end())
            out.set(key, value, sensor::to_string(it->second.kind), it->second.text);
    }
    if (preset) {
        if (const auto it = preset->provenance.find("gsd_nadir_m"); it != preset->provenance.end())
            out.set("gsd_nadir_m", preset->gsd_nadir_reported_m, sensor::to_string(it->second.kind), it->second.text);
    }
    if (f.snr_from_radiometry)
        out.set("snr", f.snr, "derived", "radiometric model (integration time, sun, optics and detector)");
    else if (preset && d.snr && preset->description.snr && *d.snr == *preset->description.snr) {
        if (const auto it = preset->provenance.find("snr"); it != preset->provenance.end())
            out.set("snr", f.snr, sensor::to_string(it->second.kind), it->second.text);
    } else
        out.set("snr", f.snr, "given", "set for this run");
    if (d.off_nadir_deg)
        out.set("off_nadir_deg", *d.off_nadir_deg, "given", "set for this run");
    else if (d.elevation_deg)
        out.set("elevation_deg", *d.elevation_deg, "given", "set for this run");
    else
        out.set("off_nadir_deg", 0.0, "assumed", "nadir: a sensor description carries no view geometry");
    if (d.radiometry) {
        out.set("integration_time_s", d.radiometry->integration_time_s, "given", "set for this run");
        out.set("solar_zenith_deg", d.radiometry->solar_zenith_deg, "assumed",
                "satiq's default sun zenith for the radiometric model");
    }
    return out;
}

void mark_given(Prediction& p, const std::map<std::string, std::string>& given) {
    mark(p.provenance, "given", given);
}

sensor::SensorModel simple_model(double gsd_m, std::optional<double> mtf_nyquist, std::optional<double> sigma_px,
                                 double snr) {
    sensor::SimpleSensorSpec s;
    s.gsd_m = gsd_m;
    s.mtf_nyquist = mtf_nyquist;
    s.sigma_px = sigma_px;
    s.snr = snr;
    return sensor::SensorModel::simple(s);
}

Prediction predict(const sensor::SensorModel& m, std::string mode, std::string preset_name,
                   const std::vector<interpret::Target>& targets_in, interpret::Rule rule) {
    Prediction p;
    p.model = m;
    p.mode = std::move(mode);
    p.preset_name = std::move(preset_name);
    p.rule = rule;
    const sensor::SensorFigures& f = m.figures();
    // GIQE 5 with the weighted GSD and RER (NGA 2015 eqs. 2, 5, 7); GIQE 4 and 3 with the
    // geometric-mean RER and H, G = 1 (Leachtenauer et al. 1997; GIQE 3 users guide 1994).
    p.rer_geometric_mean = std::sqrt(f.x.rer * f.y.rer);
    p.overshoot_h_geometric_mean = std::sqrt(f.x.overshoot_h * f.y.overshoot_h);
    p.rer_weighted = giqe::rer_weighted(f.x.rer, f.y.rer);
    giqe::Giqe5Inputs g5;
    g5.gsd_weighted_m = f.gsd_weighted_m;
    g5.rer_weighted = p.rer_weighted;
    g5.snr = f.snr;
    g5.rer_x = f.x.rer;  // the range checks name an axis above 1 (giqe.hpp)
    g5.rer_y = f.y.rer;
    if (!m.is_simple()) {
        g5.q = f.q;
        g5.elevation_deg = f.elevation_deg;
    }
    p.giqe5 = giqe::giqe5(g5);
    giqe::Giqe4Inputs g4{f.gsd_ground_m, p.rer_geometric_mean, p.overshoot_h_geometric_mean, 1.0, f.snr, std::nullopt};
    if (!m.is_simple()) g4.elevation_deg = f.elevation_deg;
    p.giqe4 = giqe::giqe4(g4);
    p.giqe3 = giqe::giqe3({f.gsd_normal_m, p.rer_geometric_mean, p.overshoot_h_geometric_mean, 1.0, f.snr});
    p.giqe4.warnings.push_back(
        "giqe4: fed with the UN-sharpened RER and H (G = 1); GIQE 4 was fitted on sharpened imagery, so this "
        "under-predicts what an analyst reaches after sharpening");

    p.warnings = f.warnings;
    for (const giqe::NiirsPrediction* n : {&p.giqe5, &p.giqe4, &p.giqe3})
        for (const auto& w : n->warnings)
            p.warnings.push_back(w);
    if (m.is_simple()) p.warnings.push_back("simple form: nadir view assumed; Q unknown (GIQE 5 assumes 1 <= Q <= 2)");

    p.provenance = model_figures(m, p.preset_name).provenance;
    if (auto w = fixed_snr_warning(m, p.preset_name)) p.warnings.push_back(std::move(*w));

    interpret::ImageQuality quality;
    quality.niirs = p.giqe5.value;
    quality.niirs_sigma = p.giqe5.standard_error.value_or(0.0);
    quality.equation = "GIQE 5";
    quality.basis = "sensor model";
    quality.gsd_m = m.gsd_m();
    quality.rer = p.rer_geometric_mean;
    quality.mtf50_cyc_per_px = std::sqrt(f.x.mtf50_cyc_per_px * f.y.mtf50_cyc_per_px);
    p.interpretation =
        interpret::interpret_image(quality, targets_in.empty() ? interpret::target_catalogue() : targets_in, rule);
    return p;
}

json parameters_json(const Prediction& p) {
    const sensor::SensorModel& m = *p.model;
    json params;
    if (m.is_simple()) {
        const auto& s = m.simple_spec();
        params["target_gsd_m"] = s.gsd_m;
        params["mtf_nyquist"] = s.mtf_nyquist ? json(*s.mtf_nyquist) : json(nullptr);
        params["sigma_px"] = s.sigma_px ? json(*s.sigma_px) : json(nullptr);
        params["snr"] = s.snr;
        params["full_well_e"] = s.full_well_e;
        params["read_noise_e"] = s.read_noise_e;
        params["bits"] = s.bits;
    } else {
        params = description_json(m.description());
        params["preset"] = p.preset_name.empty() ? json(nullptr) : json(p.preset_name);
    }
    params["resolution_rule"] = interpret::to_string(p.rule);
    return params;
}

json to_json(const Prediction& p) {
    const sensor::SensorModel& m = *p.model;
    const sensor::SensorFigures& f = m.figures();
    const double rer_gm = p.rer_geometric_mean, h_gm = p.overshoot_h_geometric_mean, rer_w = p.rer_weighted;
    const giqe::NiirsPrediction &n5 = p.giqe5, &n4 = p.giqe4, &n3 = p.giqe3;
    json j;
    j["status"] = "ok";
    j["mode"] = p.mode;
    j["parameters"] = parameters_json(p);
    j["geometry"] = json{{"off_nadir_deg", f.off_nadir_deg},
                         {"elevation_deg", f.elevation_deg},
                         {"slant_range_m", f.slant_range_m},
                         {"earth_central_angle_deg", f.earth_central_angle_deg},
                         {"earth_radius_m", sensor::earth_radius_m}};
    j["gsd_normal_m"] = f.gsd_normal_m;
    j["gsd_ground_m"] = f.gsd_ground_m;
    j["gsd_ground_across_m"] = f.gsd_ground_across_m;
    j["gsd_ground_along_look_m"] = f.gsd_ground_along_look_m;
    j["gsd_weighted_m"] = f.gsd_weighted_m;
    j["f_number"] = m.is_simple() ? json(nullptr) : json(f.f_number);
    j["q"] = m.is_simple() ? json(nullptr) : json(f.q);
    j["optical_cutoff_cyc_per_px"] = m.is_simple() ? json(nullptr) : json(f.optical_cutoff_cyc_per_px);
    j["gaussian_sigma_px"] = f.gaussian_sigma_px ? json(*f.gaussian_sigma_px) : json(nullptr);
    j["mtf_nyquist"] = edge_json(f.x, f.y, [](const sensor::EdgeFigures& e) { return e.mtf_nyquist; });
    j["mtf50_cyc_per_px"] = edge_json(f.x, f.y, [](const sensor::EdgeFigures& e) { return e.mtf50_cyc_per_px; });
    json rer = edge_json(f.x, f.y, [](const sensor::EdgeFigures& e) { return e.rer; });
    rer["weighted"] = rer_w;
    j["rer"] = rer;
    j["overshoot_h"] = edge_json(f.x, f.y, [](const sensor::EdgeFigures& e) { return e.overshoot_h; });
    j["fwhm_px"] = edge_json(f.x, f.y, [](const sensor::EdgeFigures& e) { return e.fwhm_px; });
    j["axes"] = "x = cross-scan (columns), y = along-scan (rows; smear acts here)";
    j["edge_response_convention"] = convention;
    j["snr"] = f.snr;
    j["snr_source"] = snr_source(p);
    if (f.snr_from_radiometry || (!m.is_simple() && m.description().radiometry))
        j["radiometry"] =
            json{{"signal_07_e", f.signal_07_e}, {"signal_15_e", f.signal_15_e}, {"noise_15_e", f.noise_15_e}};
    json mtf_table = json::array();
    for (int k = 0; k <= 20; ++k) {
        const double fr = 0.05 * k;
        mtf_table.push_back(json{{"freq_cyc_per_px", fr},
                                 {"x", m.transfer(fr, 0.0)},
                                 {"y", m.transfer(0.0, fr)},
                                 {"x_pre_detector", m.transfer(fr, 0.0, sensor::MtfPart::pre_detector)},
                                 {"y_pre_detector", m.transfer(0.0, fr, sensor::MtfPart::pre_detector)}});
    }
    j["transfer_table_signed"] = mtf_table;
    json niirs;
    niirs["giqe5"] =
        prediction_json(n5, json{{"gsd_weighted_m", f.gsd_weighted_m}, {"rer_weighted", rer_w}, {"snr", f.snr}});
    niirs["giqe5"]["standard_error_fit"] = giqe::giqe5_standard_error_fit(f.snr);
    niirs["giqe4"] = prediction_json(n4, json{{"gsd_ground_m", f.gsd_ground_m},
                                              {"rer_geometric_mean", rer_gm},
                                              {"overshoot_h_geometric_mean", h_gm},
                                              {"noise_gain_g", 1.0},
                                              {"snr", f.snr}});
    niirs["giqe3"] = prediction_json(n3, json{{"gsd_normal_m", f.gsd_normal_m},
                                              {"rer_geometric_mean", rer_gm},
                                              {"overshoot_h_geometric_mean", h_gm},
                                              {"noise_gain_g", 1.0},
                                              {"snr", f.snr}});
    j["niirs"] = niirs;
    j["interpretability"] = interpret::to_json(p.interpretation);
    // As sensors.json and `predict --list`: figure -> {kind: text}, kind source, derived, assumed
    // or given.
    j["provenance"] = provenance_json(p.provenance);
    j["warnings"] = p.warnings;
    return j;
}

std::string to_text(const Prediction& p) {
    const sensor::SensorModel& m = *p.model;
    const sensor::SensorFigures& f = m.figures();
    const double rer_gm = p.rer_geometric_mean, rer_w = p.rer_weighted;
    const giqe::NiirsPrediction &n5 = p.giqe5, &n4 = p.giqe4, &n3 = p.giqe3;
    // ---- text ----
    std::string out;
    if (m.is_simple()) {
        out += fmt::format("satiq predict (simple form): GSD {:.3f} m, Gaussian sigma {:.3f} px, SNR {:.1f}\n",
                           f.gsd_normal_m, *f.gaussian_sigma_px, f.snr);
    } else {
        const auto& d = m.description();
        out += fmt::format("satiq predict: {} ({})\n", d.name, p.mode);
        out += fmt::format("  altitude {:.0f} km, off-nadir {:.2f} deg, elevation {:.2f} deg, slant range {:.1f} km\n",
                           d.altitude_m / 1000.0, f.off_nadir_deg, f.elevation_deg, f.slant_range_m / 1000.0);
        out += fmt::format(
            "  aperture {:.3f} m (obscuration {:.2f}), focal length {:.3f} m, F/{:.2f}, pitch {:.2f} um, "
            "wavelength {:.3f} um, Q = {:.3f}\n",
            d.aperture_diameter_m, d.central_obscuration_ratio, d.focal_length_m, f.f_number, d.detector_pitch_m * 1e6,
            d.wavelength_m * 1e6, f.q);
        out += fmt::format(
            "  GSD normal {:.3f} m, ground {:.3f} m (across {:.3f}, along look {:.3f}), weighted {:.3f} m\n",
            f.gsd_normal_m, f.gsd_ground_m, f.gsd_ground_across_m, f.gsd_ground_along_look_m, f.gsd_weighted_m);
    }
    out += fmt::format("  MTF at Nyquist x {:.3f} y {:.3f}; MTF50 x {:.3f} y {:.3f} cy/px\n", f.x.mtf_nyquist,
                       f.y.mtf_nyquist, f.x.mtf50_cyc_per_px, f.y.mtf50_cyc_per_px);
    out +=
        fmt::format("  RER x {:.3f} y {:.3f} (geometric mean {:.3f}, weighted {:.3f}); overshoot H x {:.3f} y {:.3f}\n",
                    f.x.rer, f.y.rer, rer_gm, rer_w, f.x.overshoot_h, f.y.overshoot_h);
    out += fmt::format("  ({})\n", convention);
    out += fmt::format("  SNR {:.1f} ({})\n", f.snr, snr_source(p));
    out += fmt::format("NIIRS  GIQE 5 {} +/- {:.2f}   GIQE 4 {:.2f} +/- 0.30   GIQE 3 {:.2f}\n",
                       interpret::niirs_text(n5.value, f.gsd_weighted_m), *n5.standard_error, n4.value, n3.value);
    // One line per kind: which figures are public, derived, assumed or given (the texts are in
    // the JSON's "provenance").
    out += provenance_text(p.provenance);
    out += "Interpretability (GIQE 5):\n";
    out += interpret::to_text(p.interpretation);
    if (!p.warnings.empty()) {
        out += "Warnings:\n";
        for (const auto& w : p.warnings)
            out += "  ! " + w + "\n";
    }
    return out;
}

}  // namespace satiq
