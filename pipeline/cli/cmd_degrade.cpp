// satiq degrade IN OUT (--sensor NAME | --target-gsd-m X (--mtf-nyquist M | --sigma-px S) [--snr S])
//                [--bits N] [--seed N] [--input-sigma-px S | --input-mtf-nyquist M] [--gsd-m V|X,Y] ...
#include <unistd.h>
#include <cstdio>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/pipeline/io/progress.hpp"
#include "satiq/pipeline/ops/degrade.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

void add_degrade_command(CLI::App& app, Runner& run) {
    struct Args {
        DegradeParams p;
        std::string input, output, gsd_m, format = "text";
        std::optional<int> bits;
        SensorOverrides overrides;  // --aperture-m, --off-nadir-deg, ... as satiq predict
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd =
        app.add_subcommand("degrade",
                           "Simulate what another (coarser) sensor would record of the same ground: its PSF, area "
                           "integration to its pixel, noise at its SNR, quantization. Writes a tiled GeoTIFF.");
    cmd->add_option("input", a->input, "Input raster")->required();
    cmd->add_option("output,-o,--output", a->output, "Output GeoTIFF (positional or -o)")->required();
    auto* sensor = cmd->add_option("--sensor", a->p.sensor, "Target sensor preset (satiq predict --list)");
    auto* gsd = cmd->add_option("--target-gsd-m", a->p.target_gsd_m, "Simple form: target GSD, metres");
    sensor->excludes(gsd);
    a->overrides.add_options(cmd, "degrade");  // preset overrides, shared with predict (sensor_options.cpp)
    auto* mtf =
        cmd->add_option("--mtf-nyquist", a->p.mtf_nyquist, "Simple form: target MTF at Nyquist (Gaussian x pixel)")
            ->needs(gsd);
    auto* sig =
        cmd->add_option("--sigma-px", a->p.sigma_px, "Simple form: target Gaussian sigma, target pixels")->needs(gsd);
    mtf->excludes(sig);
    cmd->add_option("--snr", a->p.snr, "Target GIQE SNR (simple form: none = no noise; preset: overrides its SNR)");
    cmd->add_option("--bits", a->bits, "Quantization bits (default: the input type's)");
    cmd->add_option("--seed", a->p.seed, "Noise seed (output is identical for the same seed)")->check(seed_validator());
    auto* isig =
        cmd->add_option("--input-sigma-px", a->p.input_sigma_px, "Known Gaussian blur of the input, input pixels");
    auto* imtf = cmd->add_option("--input-mtf-nyquist", a->p.input_mtf_nyquist, "Known MTF at Nyquist of the input");
    isig->excludes(imtf);
    auto* meas = cmd->add_flag("--measure-input", a->p.measure_input,
                               "Measure the input's blur from its own edges (as satiq assess does)");
    meas->excludes(isig)->excludes(imtf);
    cmd->add_option("--gsd-m", a->gsd_m, "Input GSD, V or X,Y metres (inputs without georeferencing)");
    cmd->add_option("--min-coverage", a->p.min_coverage, "Output pixels with less valid input area become nodata")
        ->capture_default_str();
    cmd->add_option("--strip-rows", a->p.strip_rows, "Output rows per streamed strip (0 = automatic)");
    cmd->add_flag("--cog", a->p.cloud_optimized, "Write a Cloud Optimized GeoTIFF");
    cmd->add_option("--compress", a->p.compression, "Lossless compression: DEFLATE, LZW, ZSTD, NONE")
        ->check(CLI::IsMember({"DEFLATE", "LZW", "ZSTD", "NONE"}, CLI::ignore_case))
        ->capture_default_str();
    add_format_option(cmd, a->format);
    cmd->callback([a, &run] {
        run = [a]() -> int {
            a->p.input = a->input;
            a->p.output = a->output;
            a->p.bits = a->bits;
            if (!a->gsd_m.empty()) a->p.gsd.override_m = as_usage_error([&] { return parse_gsd_pair(a->gsd_m); });
            // The output is a GeoTIFF: a name that says otherwise (out.png, out.jp2) would mislead
            // whoever opens it by its extension. A name without an extension is taken as it is.
            {
                std::string ext = std::filesystem::path(a->output).extension().string();
                for (char& c : ext)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (!ext.empty() && ext != ".tif" && ext != ".tiff")
                    throw UsageError(
                        fmt::format("degrade: {}: the output is a GeoTIFF; name it .tif or .tiff", a->output));
            }
            // Option checks before the input is read (exit 2): the simple form's blur (left out, it
            // would silently mean perfect optics), the preset and its overrides.
            if (a->p.target_gsd_m && *a->p.target_gsd_m > 0 && !a->p.mtf_nyquist && !a->p.sigma_px)  // a bad GSD first
                throw UsageError(
                    "degrade: the simple form needs the target's blur: --mtf-nyquist M (0.15 is typical of "
                    "satellite imagers) or --sigma-px S (--sigma-px 0: pixel area integration alone)");
            const SensorOverrides& ov = a->overrides;
            if (ov.any_given() && !a->p.sensor)
                throw UsageError(
                    "degrade: the sensor overrides (--aperture-m, --off-nadir-deg, ...) need --sensor NAME");
            if (a->p.sensor) {
                sensor::SensorDescription d = find_preset_for_option(*a->p.sensor).description;
                ov.apply(d);
                if (ov.off_nadir_deg.given()) a->p.off_nadir_deg = d.off_nadir_deg;  // recorded as before
                if (ov.any_given()) {
                    a->p.sensor_description = d;
                    a->p.sensor_overrides = ov.given_values();
                }
            }
            Progress::Options po;
            po.quiet = global_options().quiet;
            std::optional<Progress> progress;  // from the first strip on: a refused request prints only its error
            DegradeResult r;
            try {
                r = degrade(a->p, [&](double f) {
                    if (!progress) progress.emplace("degrade", 1.0, "", po);
                    progress->update(f);
                });
            } catch (const Error& e) {
                // JSON on stdout for every outcome: the failed item in the envelope, then the
                // one-line error on stderr and the exit code (main).
                if (a->format == "json")
                    print_json(envelope("degrade", to_json(a->p),
                                        nlohmann::json::array({failed_item(a->input, e.what())}), 1));
                throw;
            }
            if (progress) progress->finish();
            nlohmann::json j = to_json(r);
            if (a->format == "json") {
                j["file"] = a->output;
                j["status"] = "ok";
                print_json(envelope("degrade", to_json(a->p), nlohmann::json::array({j}), 0));
            } else {
                std::cout << to_text(r, a->input, a->output);
            }
            return 0;
        };
    });
}

}  // namespace satiq::cli
