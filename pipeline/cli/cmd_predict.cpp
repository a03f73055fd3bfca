// satiq predict: image quality and NIIRS predicted from a sensor description (preset, custom or
// the simple GSD + MTF + SNR form). Parses flags, calls the library, prints. Nothing else.
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/giqe.hpp"
#include "satiq/pipeline/model/interpretability.hpp"
#include "satiq/pipeline/model/interpretation.hpp"
#include "satiq/pipeline/model/predict.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

namespace {

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

// --bits is a whole number of bits (degrade and sweep take an integer option).
int whole_bits(const NumOpt& bits) {
    const double b = bits.get();
    if (b != std::round(b)) throw UsageError(fmt::format("predict: --bits must be a whole number of bits (got {})", b));
    return static_cast<int>(b);
}

int list_presets(const PredictOptions& o) {
    const auto& presets = sensor::sensor_presets();
    if (o.format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& p : presets) {
            nlohmann::json e;
            e["name"] = p.name;
            e["display_name"] = p.display_name;
            e["gsd_nadir_reported_m"] = p.gsd_nadir_reported_m;
            e["altitude_m"] = p.description.altitude_m;
            e["aperture_diameter_m"] = p.description.aperture_diameter_m;
            e["notes"] = p.notes;
            nlohmann::json prov;
            for (const auto& [k, n] : p.provenance)
                prov[k] = nlohmann::json{{to_string(n.kind), n.text}};
            e["provenance"] = prov;
            arr.push_back(e);
        }
        print_json(envelope("predict --list", nlohmann::json::object(), arr, 0));
        return 0;
    }
    std::cout << "Built-in sensor presets (every figure is marked source / derived / assumed: see --format json):\n";
    for (const auto& p : presets)
        std::cout << fmt::format("  {:<15} {:<32} nadir GSD {:>5.2f} m, altitude {:>4.0f} km, aperture {:.2f} m\n",
                                 p.name, p.display_name, p.gsd_nadir_reported_m, p.description.altitude_m / 1000.0,
                                 p.description.aperture_diameter_m);
    return 0;
}

// The options the user gave, by the figure each sets: the prediction's provenance says "given"
// with the option and its value.
std::map<std::string, std::string> given_figures(const PredictOptions& o) {
    std::vector<const NumOpt*> options = o.all();
    options.insert(options.end(), {&o.bits, &o.snr, &o.target_gsd_m, &o.mtf_nyquist, &o.sigma_px});
    return given_figure_texts(options);
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
        if (o.bits.given()) s.bits = whole_bits(o.bits);
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
        if (o.bits.given()) d.bits = whole_bits(o.bits);
        if (o.snr.given()) d.snr = o.snr.get();
        model = as_usage_error([&] { return sensor::SensorModel::physical(d); });  // values the model refuses
    }

    // ---- NIIRS and interpretability (pipeline/model/predict.cpp) ----
    std::vector<interpret::Target> targets;
    for (const std::string& t : o.targets)
        targets.push_back(as_usage_error(
            [&] { return t.find(':') != std::string::npos ? interpret::parse_target(t) : interpret::find_target(t); }));
    const interpret::Rule rule = as_usage_error([&] { return interpret::parse_rule(o.resolution_rule); });
    // predict has no input file: every failure from here on comes from the option values.
    Prediction p = as_usage_error([&] { return predict(*model, mode, preset_name, targets, rule); });
    mark_given(p, given_figures(o));
    if (o.format == "json")
        print_json(envelope("predict", parameters_json(p), nlohmann::json::array({to_json(p)}), 0));
    else
        std::cout << to_text(p);
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
