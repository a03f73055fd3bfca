// satiq assess FILE... [--format text|json] [--edges-csv PATH] [--edges-geojson PATH] [--plots DIR]
// [--band N|all] [--runstats] ...
#include <cmath>
#include <iostream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/kernels/parallel.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/io/progress.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/report/edges_geojson.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

namespace {

EdgeRoi parse_roi(const std::string& s) {
    std::vector<double> v;
    std::size_t start = 0;
    while (start <= s.size()) {
        const auto comma = s.find(',', start);
        const std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        char* end = nullptr;
        const double x = std::strtod(part.c_str(), &end);
        // Finite only: NaN or an infinity has no pixel position (and no integer can hold one).
        if (part.empty() || *end != '\0' || !std::isfinite(x))
            throw Error(fmt::format("--roi '{}': expected X,Y,W,H (pixels) or X0,Y0,X1,Y1,HALF_WIDTH (a line)", s));
        v.push_back(x);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (v.size() == 4) {
        if (v[2] <= 0 || v[3] <= 0) throw Error(fmt::format("--roi '{}': width and height must be positive", s));
        // Checked before the conversion to int64 (undefined beyond its range); no raster is this big.
        for (const double c : v)
            if (std::abs(c) > 1e15) throw Error(fmt::format("--roi '{}': pixel values must lie within +-1e15", s));
        return EdgeRoi::rectangle(static_cast<std::int64_t>(v[0]), static_cast<std::int64_t>(v[1]),
                                  static_cast<std::int64_t>(v[2]), static_cast<std::int64_t>(v[3]));
    }
    if (v.size() == 5) {
        // The analysis' half-width range (EdgeSfrParams::roi_half_width_px).
        if (!(v[4] >= 5 && v[4] <= 64))
            throw Error(fmt::format("--roi '{}': HALF_WIDTH must lie in [5, 64] px (got {})", s, v[4]));
        return EdgeRoi::line(v[0], v[1], v[2], v[3], v[4]);
    }
    throw Error(fmt::format("--roi '{}': expected X,Y,W,H (pixels) or X0,Y0,X1,Y1,HALF_WIDTH (a line)", s));
}

// --band: a band number (1 or more) or "all"; without it, the default choice (AssessParams::band 0).
void parse_band(const std::string& s, AssessParams& p) {
    if (s.empty()) return;
    if (s == "all") {
        p.all_bands = true;
        return;
    }
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (end == s.c_str() || *end != '\0' || v < 1 || v > 65535)
        throw UsageError(fmt::format("assess: --band must be a band number (1 or more) or all (got '{}')", s));
    p.band = static_cast<int>(v);
}

// Output files must have an existing folder; checked before any file is read.
void check_output_folder(const std::string& path, const char* option) {
    if (path.empty()) return;
    const std::filesystem::path p(path);
    const auto folder = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(folder))
        throw Error(fmt::format("{}: {} folder {} does not exist", path, option, folder.string()));
}

// --edges-geojson: every input must map to longitude/latitude (RFC 7946), checked before any
// work. A file that does not open is left to assess_file, which reports it.
void check_geojson_inputs(const std::vector<std::string>& files) {
    for (const auto& f : files) {
        std::optional<Raster> raster;
        try {
            raster.emplace(Raster::open(f));
        } catch (const Error&) {
            continue;
        }
        const RasterInfo& info = raster->info();
        as_usage_error([&] { return PixelToLonLat(f, info.geo, info.width, info.height); });
    }
}

struct AssessArgs {
    std::vector<std::string> files, rois, targets;
    std::string format = "text", edges_csv, edges_geojson, plots, gsd_m, giqe = "5", roi_lines, band;
    bool runstats = false, no_edge_records = false;
    AssessParams p;
};

void add_assess_options(CLI::App* cmd, AssessArgs& a) {
    cmd->add_option("files", a.files, "Raster files")->required();
    add_format_option(cmd, a.format);
    cmd->add_option("--edges-csv", a.edges_csv, "Write every analysed edge to this CSV file");
    cmd->add_option("--edges-geojson", a.edges_geojson,
                    "Write every analysed edge, its verdict and figures, to this GeoJSON file (WGS 84 "
                    "longitude/latitude; needs a georeferenced input)");
    cmd->add_option("--plots", a.plots, "Write ESF, LSF and MTF per axis as SVG into this folder");
    cmd->add_flag("--runstats", a.runstats, "Report the time per stage");
    cmd->add_option("--gsd-m", a.gsd_m, "GSD in metres, V or X,Y, instead of the georeferencing");
    cmd->add_option("--elevation-deg", a.p.elevation_deg, "Target elevation angle (default: metadata, else nadir)");
    cmd->add_option("--snr", a.p.snr, "GIQE SNR instead of the measured one");
    cmd->add_option("--giqe", a.giqe, "GIQE version: 3, 4, 5 or all")->capture_default_str();
    cmd->add_option("--band", a.band,
                    "Band to measure (default: band 1, or the luminance of an RGB image), or all: the default "
                    "plus every band on its own");
    cmd->add_option("--roi", a.rois,
                    "Region instead of the automatic search: X,Y,W,H or X0,Y0,X1,Y1,HALF_WIDTH (5-64 px); repeatable");
    cmd->add_option("--roi-lines", a.roi_lines, "Vector file of lines (or polygons: their sides) to measure instead");
    cmd->add_option("--target", a.targets, "Extra Johnson target NAME:LENGTH_M:WIDTH_M; repeatable");
    cmd->add_option("--resolution-rule", a.p.resolution_rule,
                    "Primary rule for the Johnson cycles: niirs_model (the calibrated model), or the raw counts "
                    "gsd_over_rer, gsd_nyquist, mtf50 (every rule's result is in the JSON)")
        ->capture_default_str();
    cmd->add_flag("--trust-pixel-size", a.p.trust_pixel_size,
                  "Rate an image found to be upsampled on its product GSD anyway (the finding is still reported)");
    cmd->add_option(
        "--sensor", a.p.sensor,
        "Sensor preset whose RER range is used when an image has no usable edges (see satiq predict --list)");
    cmd->add_option("--max-pixels", a.p.max_pixels,
                    "Largest image assessed, width x height (about 7 bytes of memory per pixel; 0: no limit)")
        ->capture_default_str()
        ->check(non_negative_validator());
    cmd->add_flag("--no-edge-records", a.no_edge_records, "Leave the per-edge records out of the JSON");
}

// Option checks, all before any file is read (UsageError: exit 2). assess_file checks
// --elevation-deg, --snr and --band again; here they fail before the first file.
AssessParams checked_params(const AssessArgs& a) {
    AssessParams p = a.p;
    if (p.elevation_deg && !(*p.elevation_deg > 0 && *p.elevation_deg <= 90))
        throw UsageError(fmt::format("assess: --elevation-deg must lie in (0, 90] (got {})", *p.elevation_deg));
    check_snr_option("assess", "--snr", p.snr);
    parse_band(a.band, p);
    if (!a.gsd_m.empty()) p.gsd.override_m = as_usage_error([&] { return parse_gsd_pair(a.gsd_m); });
    p.giqe = as_usage_error([&] { return parse_giqe_selection(a.giqe); });
    for (const auto& r : a.rois)
        p.rois.push_back(as_usage_error([&] { return parse_roi(r); }));
    if (!a.roi_lines.empty()) p.roi_lines = a.roi_lines;
    for (const auto& t : a.targets)
        p.extra_targets.push_back(as_usage_error([&] { return interpret::parse_target(t); }));
    (void)as_usage_error([&] { return interpret::parse_rule(p.resolution_rule); });
    if (!p.sensor.empty()) (void)find_preset_for_option(p.sensor);
    p.keep_profiles = !a.plots.empty();
    return p;
}

// Plot names: the input's stem, or STEM_K (K its place in the call) when two inputs share a
// stem, so that no input's plots replace another's.
std::vector<std::string> plot_stems(const std::vector<std::string>& files) {
    const std::size_t n = files.size();
    std::vector<std::string> stems(n);
    std::map<std::string, int> count;
    for (const auto& f : files)
        ++count[std::filesystem::path(f).stem().string()];
    for (std::size_t k = 0; k < n; ++k) {
        const std::string st = std::filesystem::path(files[k]).stem().string();
        stems[k] = count[st] > 1 ? fmt::format("{}_{}", st, k + 1) : st;
    }
    return stems;
}

// An output may never be a file an input reads: the input itself, a VRT's sources, its
// sidecars (a symlinked output counts as its target). Only outputs that exist can be, so the
// inputs are opened for their file lists only then.
void refuse_outputs_over_inputs(const AssessArgs& a) {
    std::vector<std::string> outputs;
    for (const std::string& out : {a.edges_csv, a.edges_geojson})
        if (!out.empty()) outputs.push_back(out);
    if (!a.plots.empty())
        for (const std::string& stem : plot_stems(a.files))
            for (const char* kind : {"esf", "lsf", "mtf"})
                outputs.push_back((std::filesystem::path(a.plots) / fmt::format("{}_{}.svg", stem, kind)).string());
    std::vector<std::pair<std::filesystem::path, std::string>> existing;  // (its target, as given)
    for (const std::string& out : outputs) {
        std::error_code ec;
        std::filesystem::path target = resolve_output_target(out).path;
        if (std::filesystem::exists(target, ec)) existing.emplace_back(std::move(target), out);
    }
    if (existing.empty()) return;
    for (const std::string& f : a.files) {
        std::vector<std::string> read = {f};
        try {
            const std::vector<std::string> more = Raster::open(f).file_list();
            read.insert(read.end(), more.begin(), more.end());
        } catch (const Error&) {  // an input that cannot be opened reports its own error later
        }
        for (const auto& [target, out] : existing)
            for (const std::string& r : read) {
                std::error_code ec;
                if (std::filesystem::equivalent(r, target, ec))
                    throw Error(
                        r == f ? fmt::format("{}: output would overwrite the input {}", out, f)
                               : fmt::format("{}: output would overwrite {}, which the input {} reads", out, r, f));
            }
    }
}

// The output files and folders, checked (and --plots created) before any file is read.
void prepare_outputs(const AssessArgs& a) {
    if (!a.plots.empty()) {
        // --plots DIR: created with its parents when missing.
        std::error_code ec;
        std::filesystem::create_directories(a.plots, ec);
        if (!std::filesystem::is_directory(a.plots))
            throw Error(fmt::format("{}: cannot create the --plots folder{}", a.plots,
                                    ec ? ": " + ec.message() : std::string()));
    }
    check_output_folder(a.edges_csv, "--edges-csv");
    check_output_folder(a.edges_geojson, "--edges-geojson");
    refuse_outputs_over_inputs(a);
    if (!a.edges_geojson.empty()) check_geojson_inputs(a.files);
}

// Each file's result, or its error message when it failed.
struct FileOutcomes {
    std::vector<std::optional<AssessResult>> slots;
    std::vector<std::string> errors;
};

// Files are assessed concurrently (each with its own GDAL handle; the kernels inside share the
// same TBB pool), with their plots written as each finishes.
FileOutcomes assess_files(const AssessArgs& a, const AssessParams& p) {
    const std::size_t n = a.files.size();
    FileOutcomes r{std::vector<std::optional<AssessResult>>(n), std::vector<std::string>(n)};
    auto& slots = r.slots;
    auto& errors = r.errors;
    const std::vector<std::string> stems = plot_stems(a.files);
    Progress::Options po;
    po.quiet = global_options().quiet || n < 2;  // files done / total, for a batch
    Progress progress("assess", static_cast<double>(n), "files", po);
    parallel_items(static_cast<std::int64_t>(n), [&](std::int64_t i) {
        const auto k = static_cast<std::size_t>(i);
        try {
            slots[k] = assess_file(a.files[k], p);
            if (!a.plots.empty()) (void)write_plots(a.plots, *slots[k], stems[k]);
        } catch (const Error& e) {
            errors[k] = e.what();
        } catch (const std::bad_alloc&) {  // one file's failure, whatever its cause
            errors[k] = a.files[k] + ": out of memory while assessing it";
        } catch (const std::exception& e) {
            errors[k] = a.files[k] + ": " + e.what();
        }
        progress.advance();
    });
    progress.finish();
    return r;
}

// The run's parameters in the JSON envelope.
nlohmann::json json_params(const AssessArgs& a, const AssessParams& p) {
    return {{"files", a.files},
            {"gsd_m", gsd_pair_json(p.gsd.override_m)},
            {"elevation_deg", p.elevation_deg ? nlohmann::json(*p.elevation_deg) : nlohmann::json(nullptr)},
            {"snr", p.snr ? nlohmann::json(*p.snr) : nlohmann::json(nullptr)},
            {"giqe", a.giqe},
            {"band", p.all_bands ? nlohmann::json("all") : band_json(p.band)},
            {"rois", a.rois},
            {"roi_lines", a.roi_lines.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.roi_lines)},
            {"targets", a.targets},
            {"resolution_rule", p.resolution_rule}};
}

// Reported in the order given: errors on stderr, results as text (now) or JSON (at the end),
// then the edge files. Returns the exit code.
int report_outcomes(const AssessArgs& a, const AssessParams& p, FileOutcomes& outcomes) {
    const std::size_t n = a.files.size();
    int failures = 0;
    nlohmann::json results = nlohmann::json::array();
    std::vector<AssessResult> done;
    for (std::size_t k = 0; k < n; ++k) {
        std::optional<AssessResult>& slot = outcomes.slots[k];
        if (!slot) {
            ++failures;
            std::cerr << "satiq assess: " << outcomes.errors[k] << "\n";
            results.push_back(failed_item(a.files[k], outcomes.errors[k]));
            continue;
        }
        if (!a.plots.empty() && !global_options().quiet)
            std::cerr << "assess: wrote ESF, LSF and MTF plots for " << a.files[k] << " into " << a.plots << "\n";
        if (a.format == "json")
            results.push_back(to_json(*slot, !a.no_edge_records));
        else
            std::cout << to_text(*slot, a.runstats);
        done.push_back(std::move(*slot));
    }
    if (!a.edges_csv.empty()) write_edges_csv(a.edges_csv, done);
    if (!a.edges_geojson.empty()) write_edges_geojson(a.edges_geojson, done);
    if (a.format == "json") print_json(envelope("assess", json_params(a, p), results, failures));
    return failures ? 1 : 0;
}

int run_assess_command(const AssessArgs& a) {
    const AssessParams p = checked_params(a);
    prepare_outputs(a);
    FileOutcomes outcomes = assess_files(a, p);
    return report_outcomes(a, p, outcomes);
}

}  // namespace

void add_assess_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<AssessArgs>();
    CLI::App* cmd = app.add_subcommand(
        "assess",
        "Measure what images really resolve: automatic slanted-edge RER and MTF per axis, noise and SNR, NIIRS "
        "(GIQE 5; 4 and 3 on request) and the observation tasks that follow");
    add_assess_options(cmd, *a);
    cmd->callback([a, &run] { run = [a]() -> int { return run_assess_command(*a); }; });
}

}  // namespace satiq::cli
