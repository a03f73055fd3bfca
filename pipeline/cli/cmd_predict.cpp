// satiq predict: image quality and NIIRS predicted from a sensor description (preset, custom or
// the simple GSD + MTF + SNR form). Parses flags, calls the library, prints. Nothing else.
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/giqe.hpp"
#include "satiq/pipeline/interpretability.hpp"
#include "satiq/pipeline/interpretation.hpp"
#include "satiq/pipeline/sensor.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

namespace {

using json = nlohmann::ordered_json;

struct PredictOptions : SensorOverrides {
    bool list = false;
    std::string sensor;
    std::string format = "text";
    std::vector<std::string> targets;
    std::string resolution_rule = "niirs_model";
    // Beside the shared sensor overrides (sensor_options.hpp): predict's own numbers.
    NumOpt bits{"--bits"}, snr{"--snr"}, target_gsd_m{"--target-gsd-m"}, mtf_nyquist{"--mtf-nyquist"},
        sigma_px{"--sigma-px", Bound::non_negative};
};

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

int list_presets(const PredictOptions& o) {
    const auto& presets = sensor::sensor_presets();
    if (o.format == "json") {
        json j;
        j["satiq_version"] = SATIQ_VERSION;
        j["command"] = "predict --list";
        json arr = json::array();
        for (const auto& p : presets) {
            json e;
            e["name"] = p.name;
            e["display_name"] = p.display_name;
            e["gsd_nadir_reported_m"] = p.gsd_nadir_reported_m;
            e["altitude_m"] = p.description.altitude_m;
            e["aperture_diameter_m"] = p.description.aperture_diameter_m;
            e["notes"] = p.notes;
            json prov;
            for (const auto& [k, n] : p.provenance)
                prov[k] = json{{to_string(n.kind), n.text}};
            e["provenance"] = prov;
            arr.push_back(e);
        }
        j["sensors"] = arr;
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "Built-in sensor presets (every figure is marked source / derived / assumed: see --format json):\n";
    for (const auto& p : presets)
        std::cout << fmt::format("  {:<15} {:<32} nadir GSD {:>5.2f} m, altitude {:>4.0f} km, aperture {:.2f} m\n",
                                 p.name, p.display_name, p.gsd_nadir_reported_m, p.description.altitude_m / 1000.0,
                                 p.description.aperture_diameter_m);
    return 0;
}

int run_predict(PredictOptions& o) {
    if (o.format != "text" && o.format != "json")
        throw UsageError(fmt::format("predict: --format must be text or json (got '{}')", o.format));
    if (o.list) return list_presets(o);
    // Target and rule options are checked here, before any model is built (exit 2).
    for (const std::string& t : o.targets)
        (void)as_usage_error(
            [&] { return t.find(':') != std::string::npos ? interpret::parse_target(t) : interpret::find_target(t); });
    (void)as_usage_error([&] { return interpret::parse_rule(o.resolution_rule); });

    // ---- build the model ----
    std::optional<sensor::SensorModel> model;
    std::string mode;
    std::string preset_name;
    if (o.target_gsd_m.given()) {
        mode = "simple";
        if (!o.sensor.empty())
            throw UsageError("predict: --target-gsd-m (simple form) cannot be combined with --sensor");
        for (NumOpt* n : o.physical())
            if (n->given())
                throw UsageError(
                    fmt::format("predict: {} cannot be combined with --target-gsd-m (simple form)", n->flag));
        if (o.mtf_nyquist.given() == o.sigma_px.given())
            throw UsageError("predict: the simple form needs exactly one of --mtf-nyquist or --sigma-px");
        if (!o.snr.given()) throw UsageError("predict: the simple form needs --snr");
        sensor::SimpleSensorSpec s;
        s.gsd_m = o.target_gsd_m.get();
        if (o.mtf_nyquist.given()) {
            s.mtf_nyquist = o.mtf_nyquist.get();
            if (*s.mtf_nyquist > 2.0 / 3.14159265358979323846)
                throw UsageError(
                    fmt::format("predict: --mtf-nyquist must be at most 2/pi = 0.6366 (a square pixel alone) (got {})",
                                *s.mtf_nyquist));
        }
        if (o.sigma_px.given()) s.sigma_px = o.sigma_px.get();
        s.snr = o.snr.get();
        if (o.full_well_e.given()) s.full_well_e = o.full_well_e.get();
        if (o.read_noise_e.given()) s.read_noise_e = o.read_noise_e.get();
        if (o.bits.given()) s.bits = static_cast<int>(std::lround(o.bits.get()));
        model = as_usage_error([&] { return sensor::SensorModel::simple(s); });  // values the model refuses
    } else {
        if (o.mtf_nyquist.given() || o.sigma_px.given())
            throw UsageError("predict: --mtf-nyquist / --sigma-px belong to the simple form: add --target-gsd-m");
        sensor::SensorDescription d;
        if (!o.sensor.empty()) {
            mode = "preset";
            const sensor::SensorPreset& p = find_preset_for_option(o.sensor);
            d = p.description;
            preset_name = p.name;
        } else {
            mode = "custom";
            for (NumOpt* n : {&o.altitude_m, &o.aperture_m, &o.focal_length_m, &o.pitch_um})
                if (!n->given())
                    throw UsageError(
                        fmt::format("predict: give --sensor NAME (see --list), or --target-gsd-m with --mtf-nyquist or "
                                    "--sigma-px and "
                                    "--snr, or a custom sensor with --altitude-m, --aperture-m, --focal-length-m, "
                                    "--pitch-um and --snr "
                                    "(missing {})",
                                    n->flag));
            d.name = "custom";
            d.wavelength_m = 0.6e-6;  // default: visible pan band centre (assumed; --wavelength-um)
            d.full_well_e = 20000.0;
            d.read_noise_e = 10.0;
            d.bits = 12;
            if (!o.snr.given() && !o.integration_time_s.given())
                throw UsageError("predict: a custom sensor needs --snr or --integration-time-s (radiometric model)");
        }
        o.apply(d);  // the shared overrides (sensor_options.cpp)
        if (o.bits.given()) d.bits = static_cast<int>(std::lround(o.bits.get()));
        if (o.snr.given()) d.snr = o.snr.get();
        model = as_usage_error([&] { return sensor::SensorModel::physical(d); });  // values the model refuses
    }

    const sensor::SensorModel& m = *model;
    const sensor::SensorFigures& f = m.figures();

    // ---- NIIRS ----
    const double rer_gm = std::sqrt(f.x.rer * f.y.rer);
    const double h_gm = std::sqrt(f.x.overshoot_h * f.y.overshoot_h);
    const double rer_w = giqe::rer_weighted(f.x.rer, f.y.rer);
    giqe::Giqe5Inputs g5{f.gsd_weighted_m, rer_w, f.snr, std::nullopt, std::nullopt, std::nullopt};
    if (!m.is_simple()) {
        g5.q = f.q;
        g5.elevation_deg = f.elevation_deg;
    }
    const giqe::NiirsPrediction n5 = giqe::giqe5(g5);
    giqe::Giqe4Inputs g4{f.gsd_ground_m, rer_gm, h_gm, 1.0, f.snr, std::nullopt};
    if (!m.is_simple()) g4.elevation_deg = f.elevation_deg;
    giqe::NiirsPrediction n4 = giqe::giqe4(g4);
    const giqe::NiirsPrediction n3 = giqe::giqe3({f.gsd_normal_m, rer_gm, h_gm, 1.0, f.snr});
    n4.warnings.push_back(
        "giqe4: fed with the UN-sharpened RER and H (G = 1); GIQE 4 was fitted on sharpened imagery, so this "
        "under-predicts what an analyst reaches after sharpening");

    std::vector<std::string> warnings = f.warnings;
    for (const giqe::NiirsPrediction* p : {&n5, static_cast<const giqe::NiirsPrediction*>(&n4), &n3})
        for (const auto& w : p->warnings)
            warnings.push_back(w);
    if (m.is_simple()) warnings.push_back("simple form: nadir view assumed; Q unknown (GIQE 5 assumes 1 <= Q <= 2)");

    // ---- interpretability ----
    std::vector<interpret::Target> targets;
    if (o.targets.empty()) {
        targets = interpret::target_catalogue();
    } else {
        for (const std::string& t : o.targets)
            targets.push_back(t.find(':') != std::string::npos ? interpret::parse_target(t)
                                                               : interpret::find_target(t));
    }
    interpret::ImageQuality quality;
    quality.niirs = n5.value;
    quality.niirs_sigma = n5.standard_error.value_or(0.0);
    quality.equation = "GIQE 5";
    quality.basis = "sensor model";
    quality.gsd_m = m.gsd_m();
    quality.rer = rer_gm;
    quality.mtf50_cyc_per_px = std::sqrt(f.x.mtf50_cyc_per_px * f.y.mtf50_cyc_per_px);
    const interpret::Rule rule = interpret::parse_rule(o.resolution_rule);
    const interpret::Interpretation interpretation = interpret::interpret_image(quality, targets, rule);

    const char* convention =
        "edge response from the signed transfer function (physical edge, domain.md sec. 7); pyBSM integrates |OTF|, "
        "identical for Q >= 1";

    if (o.format == "json") {
        json j;
        j["satiq_version"] = SATIQ_VERSION;
        j["command"] = "predict";
        j["mode"] = mode;
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
            params["preset"] = preset_name.empty() ? json(nullptr) : json(preset_name);
        }
        params["resolution_rule"] = interpret::to_string(rule);
        j["parameters"] = params;
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
        j["snr_source"] = f.snr_from_radiometry ? "radiometric model" : "given";
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
        j["interpretability"] = interpret::to_json(interpretation);
        j["warnings"] = warnings;
        std::cout << j.dump(2) << "\n";
        return 0;
    }

    // ---- text ----
    std::string out;
    if (m.is_simple()) {
        out += fmt::format("satiq predict (simple form): GSD {:.3f} m, Gaussian sigma {:.3f} px, SNR {:.1f}\n",
                           f.gsd_normal_m, *f.gaussian_sigma_px, f.snr);
    } else {
        const auto& d = m.description();
        out += fmt::format("satiq predict: {} ({})\n", d.name, mode);
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
    out += fmt::format("  SNR {:.1f} ({})\n", f.snr, f.snr_from_radiometry ? "radiometric model" : "given");
    out += fmt::format("NIIRS  GIQE 5 {} +/- {:.2f}   GIQE 4 {:.2f} +/- 0.30   GIQE 3 {:.2f}\n",
                       interpret::niirs_text(n5.value, f.gsd_weighted_m), *n5.standard_error, n4.value, n3.value);
    out += "Interpretability (GIQE 5):\n";
    out += interpret::to_text(interpretation);
    if (!warnings.empty()) {
        out += "Warnings:\n";
        for (const auto& w : warnings)
            out += "  ! " + w + "\n";
    }
    std::cout << out;
    return 0;
}

}  // namespace

void add_predict_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<PredictOptions>();
    CLI::App* cmd = app.add_subcommand(
        "predict",
        "Predict GSD, MTF, RER, SNR and NIIRS (GIQE 3/4/5) for a sensor: a preset (--sensor, see --list), a custom "
        "description, or the simple form --target-gsd-m X (--mtf-nyquist M | --sigma-px S) --snr S");
    cmd->add_flag("--list", o->list, "List the built-in sensor presets");
    cmd->add_option("--sensor", o->sensor, "Sensor preset name (case-insensitive), e.g. worldview-3");
    cmd->add_option("--format", o->format, "Output format: text or json")->capture_default_str();
    cmd->add_option(
        "--target", o->targets,
        "Johnson target: a catalogue key (tel, tank, truck, car, fighter, transport, patrol_boat, frigate) or "
        "NAME:LENGTH_M:WIDTH_M; repeatable (default: the whole catalogue)");
    cmd->add_option("--resolution-rule", o->resolution_rule,
                    "Primary rule for the Johnson cycles: niirs_model (the calibrated model), or the raw counts "
                    "gsd_over_rer (2 GSD/RER), gsd_nyquist (2 GSD), mtf50 (GSD/MTF50); every rule is in the JSON")
        ->capture_default_str();
    o->add_options(cmd, "predict");  // the sensor overrides shared with degrade
    struct Spec {
        NumOpt* n;
        const char* help;
    };
    const std::vector<Spec> specs = {
        {&o->bits, "Quantisation bits"},
        {&o->snr, "GIQE SNR (15 % vs 7 % reflectance difference over noise)"},
        {&o->target_gsd_m, "Simple form: target GSD, metres"},
        {&o->mtf_nyquist, "Simple form: system MTF at Nyquist (Gaussian optics x square pixel)"},
        {&o->sigma_px, "Simple form: Gaussian PSF sigma, pixels"},
    };
    for (const Spec& s : specs)
        s.n->opt = cmd->add_option(s.n->flag, s.n->value, s.help);
    cmd->callback([o, &run]() { run = [o]() { return run_predict(*o); }; });
}

}  // namespace satiq::cli
