// satiq sweep IN -o DIR [--gsd-m LIST | --gsd-m START:STOP:FACTOR | --sensors A,B,...] [model options]
// Parses flags, calls the library (pipeline/ops/sweep.cpp), prints. Nothing else.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/pipeline/io/progress.hpp"
#include "satiq/pipeline/ops/sweep.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

namespace {

struct SweepArgs {
    SweepParams p;
    std::string input, output, gsd_steps, sensors, input_gsd, format = "text";
    std::optional<std::string> sensor;
    std::optional<double> mtf_nyquist, sigma_px, snr, input_sigma_px, input_mtf_nyquist;
    std::optional<int> bits;
    SensorOverrides overrides;
};

void add_sweep_options(CLI::App* cmd, SweepArgs& a) {
    cmd->add_option("input", a.input, "Input raster (any GDAL-readable image; --input-gsd-m when ungeoreferenced)")
        ->required();
    cmd->add_option("-o,--output", a.output, "Output folder (created when missing)")->required();
    auto* steps = cmd->add_option("--gsd-m", a.gsd_steps,
                                  "Target GSDs in metres: a list 0.5,1,2 or START:STOP:FACTOR (geometric, STOP always "
                                  "the last step); steps finer than the input are skipped with a warning (default: 10 "
                                  "steps from the input's GSD to 10 m or 4 x the input's GSD, whichever is coarser)");
    auto* sensors = cmd->add_option("--sensors", a.sensors,
                                    "Sensor presets simulated as they are, comma-separated (predict --list)");
    steps->excludes(sensors);
    auto* sensor = cmd->add_option("--sensor", a.sensor,
                                   "Preset used as the template of every step (its altitude scaled to each GSD)");
    sensor->excludes(sensors);
    a.overrides.add_options(cmd, "sweep");
    auto* mtf = cmd->add_option(
        "--mtf-nyquist", a.mtf_nyquist,
        fmt::format("Simple form: MTF at Nyquist of every step (default {})", sweep_default_mtf_nyquist));
    auto* sig = cmd->add_option("--sigma-px", a.sigma_px, "Simple form: Gaussian sigma in target pixels");
    mtf->excludes(sig)->excludes(sensor)->excludes(sensors);
    sig->excludes(sensor)->excludes(sensors);
    // --sensors simulates the presets as they are: an SNR for all of them is refused like the
    // other overrides, not silently dropped.
    cmd->add_option(
           "--snr", a.snr,
           fmt::format("Target SNR (simple form default {}; overrides the --sensor template's)", sweep_default_snr))
        ->excludes(sensors);
    cmd->add_option("--bits", a.bits, "Quantization bits (default: the input type's)");
    cmd->add_option("--seed", a.p.seed, "Noise seed (same seed, same results)")->check(seed_validator());
    auto* isig = cmd->add_option("--input-sigma-px", a.input_sigma_px,
                                 "Known Gaussian blur of the input, input pixels (default: measured from its edges)");
    auto* imtf = cmd->add_option("--input-mtf-nyquist", a.input_mtf_nyquist, "Known MTF at Nyquist of the input");
    isig->excludes(imtf);
    cmd->add_option("--input-gsd-m", a.input_gsd, "Input GSD, V or X,Y metres (inputs without georeferencing)");
    cmd->add_option("--band", a.p.band, "Band to measure and show (default: band 1, or the luminance of RGB)");
    cmd->add_flag("--keep-steps", a.p.keep_steps, "Keep each step's degraded GeoTIFF in DIR/steps/");
    cmd->add_option("--chip-px", a.p.chip_px, "Chip size on screen, pixels")->capture_default_str();
    add_format_option(cmd, a.format);
}

// The options as sweep's parameters (a.p, completed in place), checked.
void complete_params(SweepArgs& a) {
    SweepParams& p = a.p;
    p.input = a.input;
    p.output_dir = a.output;
    if (!a.gsd_steps.empty()) p.gsd_m = parse_gsd_steps(a.gsd_steps);
    if (!a.sensors.empty()) {
        std::size_t s = 0;
        for (std::size_t e; s <= a.sensors.size(); s = e + 1) {
            e = a.sensors.find(',', s);
            if (e == std::string::npos) e = a.sensors.size();
            const std::string name = a.sensors.substr(s, e - s);
            p.sensors.push_back(find_preset_for_option(name).name);
        }
    }
    if (!a.input_gsd.empty()) p.gsd.override_m = as_usage_error([&] { return parse_gsd_pair(a.input_gsd); });
    if (p.band < 0) throw UsageError(fmt::format("sweep: --band must be 0 or a band number (got {})", p.band));
    const SensorOverrides& ov = a.overrides;
    if (ov.any_given() && !a.sensor)
        throw UsageError("sweep: the sensor overrides (--aperture-m, ...) need --sensor NAME");
    if (a.sensor) {
        sensor::SensorDescription d = find_preset_for_option(*a.sensor).description;
        ov.apply(d);
        p.sensor = find_preset_for_option(*a.sensor).name;
        if (ov.any_given()) {
            p.sensor_description = d;
            p.sensor_overrides = ov.given_values();
        }
    }
    p.mtf_nyquist = a.mtf_nyquist;
    p.sigma_px = a.sigma_px;
    p.snr = a.snr;
    p.bits = a.bits;
    p.input_sigma_px = a.input_sigma_px;
    p.input_mtf_nyquist = a.input_mtf_nyquist;
    for (const auto& [v, flag] : {std::pair{p.mtf_nyquist, "--mtf-nyquist"},
                                  {p.sigma_px, "--sigma-px"},
                                  {p.snr, "--snr"},
                                  {p.input_sigma_px, "--input-sigma-px"},
                                  {p.input_mtf_nyquist, "--input-mtf-nyquist"}})
        if (v && (!std::isfinite(*v) || *v < 0 ||
                  (*v == 0 && std::string(flag) != "--sigma-px" && std::string(flag) != "--input-sigma-px")))
            throw UsageError(fmt::format("sweep: {} must be a positive number (got {})", flag, *v));
    if (p.mtf_nyquist && *p.mtf_nyquist >= 2.0 / 3.14159265358979323846)
        throw UsageError(fmt::format("sweep: --mtf-nyquist must be below 2/pi = 0.6366 (got {})", *p.mtf_nyquist));
}

void print_sweep_result(const std::string& format, const SweepResult& r) {
    if (format == "json") {
        nlohmann::json res = {
            {"status", "ok"},
            {"output_dir", r.params.output_dir.string()},
            {"results_json", (r.params.output_dir / "results.json").string()},
            {"results_csv", (r.params.output_dir / "results.csv").string()},
            {"report_html", (r.params.output_dir / "report.html").string()},
            {"input_sha256", r.input_sha256},
            {"verdict", r.verdict},
            {"steps", r.steps.size()},
            {"skipped_steps", r.skipped_steps.size()},
            {"unreliable_steps", std::count_if(r.steps.begin(), r.steps.end(),
                                               [](const SweepStep& s) { return !s.measurement_reliable; })}};
        const nlohmann::json doc = to_json(r);
        res["resolved_parameters"] = doc["resolved_parameters"];
        res["provenance"] = doc["provenance"];
        print_json(envelope("sweep", doc["parameters"], nlohmann::json::array({res}), 0));
    } else {
        std::cout << to_text(r);
    }
}

int run_sweep_command(SweepArgs& a) {
    complete_params(a);
    Progress::Options po;
    po.quiet = global_options().quiet;
    std::optional<Progress> progress;  // from the first step on: a failed request prints only its error
    const SweepResult r = run_sweep(
        a.p,
        [&](int done, int total, const std::string& detail) {
            if (!progress) progress.emplace("sweep", total, "steps", po);
            progress->set_detail(detail);
            progress->update(done);
        },
        [](const std::string& warning) {
            if (!global_options().quiet) std::cerr << "satiq sweep: warning: " << warning << "\n";
        });
    write_sweep_outputs(r);
    if (progress) progress->finish();
    print_sweep_result(a.format, r);
    return 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<SweepArgs>();
    CLI::App* cmd = app.add_subcommand(
        "sweep",
        "Resolution against usability: degrade the image to each GSD (or sensor preset), assess the result, predict "
        "the sensor model at that GSD; writes DIR/results.json, results.csv, report.html and chips/*.png");
    add_sweep_options(cmd, *a);
    cmd->callback([a, &run] { run = [a]() -> int { return run_sweep_command(*a); }; });
}

}  // namespace satiq::cli
