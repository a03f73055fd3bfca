// satiq batch INPUTS... -o DIR [--jobs N] [--resume] [--shard K/N] [--degrade-to ...] [assess options]
// satiq report DIR... -o OUT
// Parse flags, call the library (pipeline/ops/batch_*.cpp), print. Nothing else.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/pipeline/io/progress.hpp"
#include "satiq/pipeline/ops/batch_mpi.hpp"
#include "satiq/pipeline/ops/batch_run.hpp"
#include "satiq/version.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

namespace {

// "K/N" (1-based K) -> 0-based index and count.
std::pair<int, int> parse_shard(const std::string& s) {
    const auto slash = s.find('/');
    int k = 0, n = 0;
    try {
        if (slash == std::string::npos) throw std::invalid_argument("");
        std::size_t a = 0, b = 0;
        k = std::stoi(s.substr(0, slash), &a);
        n = std::stoi(s.substr(slash + 1), &b);
        if (a != slash || b != s.size() - slash - 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
        throw UsageError(fmt::format("batch: --shard must be K/N, e.g. 2/8 (got '{}')", s));
    }
    if (n < 1 || k < 1 || k > n) throw UsageError(fmt::format("batch: --shard K/N needs 1 <= K <= N (got '{}')", s));
    return {k - 1, n};
}

std::optional<long> env_int(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    char* end = nullptr;
    const long x = std::strtol(v, &end, 10);
    if (*end != '\0') throw UsageError(fmt::format("batch: {}={} is not an integer", name, v));
    return x;
}

// "8G", "512M", "1048576": bytes.
std::uint64_t parse_bytes(const std::string& s) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    const std::string unit = s.substr(used);
    double mul = unit.empty() || unit == "B"    ? 1
                 : unit == "K" || unit == "KiB" ? 1024.0
                 : unit == "M" || unit == "MiB" ? 1024.0 * 1024
                 : unit == "G" || unit == "GiB" ? 1024.0 * 1024 * 1024
                                                : -1;
    if (used == 0 || mul < 0 || !std::isfinite(v) || v <= 0)
        throw UsageError(fmt::format("batch: --max-memory must be a size such as 4G, 512M or bytes (got '{}')", s));
    return static_cast<std::uint64_t>(v * mul);
}

struct BatchArgs {
    std::vector<std::string> inputs;
    std::string output, manifest, stac, asset, shard, max_memory, gsd_m, degrade_to, format = "text";
    std::optional<int> shard_count;
    std::optional<double> degrade_mtf_nyquist, degrade_snr;
    std::uint64_t degrade_seed = 0;
    int jobs = 0;
    bool resume = false, overwrite = false, full_records = false;
    AssessParams p;
    std::string band;
};

// Inputs, output and how the batch runs: workers, memory, resuming, shards.
void add_batch_run_options(CLI::App* cmd, BatchArgs& a) {
    cmd->add_option("inputs", a.inputs, "Files, folders, globs or GDAL virtual paths (/vsizip/..., /vsicurl/...)");
    cmd->add_option("-o,--output", a.output, "Output folder (created when missing)")->required();
    cmd->add_option("--manifest", a.manifest,
                    "One path per line, or CSV with a path column and optional gsd_m, elevation_deg, snr columns");
    cmd->add_option("--stac", a.stac, "STAC Item, ItemCollection or static catalog on disk");
    cmd->add_option("--asset", a.asset, "STAC asset key (default: the first GeoTIFF/JPEG 2000 or data asset)");
    cmd->add_option("--jobs", a.jobs, "Workers: images in flight and threads in all, as make -j (default: the cores)");
    cmd->add_option("--max-memory", a.max_memory,
                    "Bound on the pixels in flight, e.g. 8G (default: half the physical memory)");
    cmd->add_flag("--resume", a.resume,
                  "Skip images whose last record in DIR/results.jsonl succeeded on the same file with the same "
                  "options; retry the others (changed, failed)");
    cmd->add_flag("--overwrite", a.overwrite, "Start DIR/results.jsonl again");
    cmd->add_option("--shard", a.shard,
                    "Process shard K of N (default: SLURM_ARRAY_TASK_ID/COUNT, or AWS_BATCH_JOB_ARRAY_INDEX with "
                    "--shard-count)");
    cmd->add_option("--shard-count", a.shard_count, "N for AWS Batch array jobs (AWS_BATCH_JOB_ARRAY_INDEX)");
    cmd->add_flag("--full-records", a.full_records, "Keep each image's whole assess result in its record");
}

// What is done to each image: the optional in-memory degradation, then assess's options.
void add_batch_image_options(CLI::App* cmd, BatchArgs& a) {
    cmd->add_option("--degrade-to", a.degrade_to,
                    "Degrade each image first (in memory): a sensor preset name or a target GSD in metres");
    cmd->add_option("--degrade-mtf-nyquist", a.degrade_mtf_nyquist, "With a GSD: MTF at Nyquist (default 0.15)");
    cmd->add_option("--degrade-snr", a.degrade_snr, "SNR of the degraded images (a GSD: default 50)");
    cmd->add_option("--degrade-seed", a.degrade_seed, "Noise seed of the degraded images")->check(seed_validator());
    cmd->add_option("--gsd-m", a.gsd_m, "GSD in metres, V or X,Y, of every input, instead of its georeferencing");
    cmd->add_option("--elevation-deg", a.p.elevation_deg, "Target elevation angle (default: metadata, else nadir)");
    cmd->add_option("--snr", a.p.snr, "GIQE SNR instead of the measured one");
    cmd->add_option("--band", a.band, "Band to measure (default: band 1, or the luminance of an RGB image)");
    cmd->add_option("--sensor", a.p.sensor, "Preset whose RER range applies to images without usable edges");
    cmd->add_option("--max-pixels", a.p.max_pixels,
                    "Largest image assessed, width x height (about 7 bytes of memory per pixel; 0: no limit)")
        ->capture_default_str()
        ->check(non_negative_validator());
    cmd->add_flag("--trust-pixel-size", a.p.trust_pixel_size, "Rate upsampled images on their product GSD");
}

// The shard: --shard, else Slurm's array variables, else AWS Batch's index.
void choose_shard(const BatchArgs& a, BatchRunOptions& o) {
    if (!a.shard.empty()) {
        if (a.shard_count)
            throw UsageError("batch: give --shard K/N, or --shard-count N with AWS_BATCH_JOB_ARRAY_INDEX, not both");
        std::tie(o.shard_index, o.shard_count) = parse_shard(a.shard);
    } else if (const auto id = env_int("SLURM_ARRAY_TASK_ID"); id && env_int("SLURM_ARRAY_TASK_COUNT")) {
        const long count = *env_int("SLURM_ARRAY_TASK_COUNT");
        const long min = env_int("SLURM_ARRAY_TASK_MIN").value_or(0);
        if (count < 1 || *id - min < 0 || *id - min >= count)
            throw UsageError(
                fmt::format("batch: SLURM_ARRAY_TASK_ID {} lies outside {}..{}", *id, min, min + count - 1));
        o.shard_index = static_cast<int>(*id - min);
        o.shard_count = static_cast<int>(count);
    } else if (const auto aws = env_int("AWS_BATCH_JOB_ARRAY_INDEX"); aws && a.shard_count) {
        if (*a.shard_count < 1 || *aws < 0 || *aws >= *a.shard_count)
            throw UsageError(
                fmt::format("batch: AWS_BATCH_JOB_ARRAY_INDEX {} lies outside 0..{}", *aws, *a.shard_count - 1));
        o.shard_index = static_cast<int>(*aws);
        o.shard_count = *a.shard_count;
    } else if (a.shard_count) {
        throw UsageError("batch: --shard-count needs AWS_BATCH_JOB_ARRAY_INDEX (or give --shard K/N)");
    }
}

// Workers, memory, resuming and the shard, checked.
BatchRunOptions run_options(const BatchArgs& a) {
    BatchRunOptions o;
    o.output_dir = a.output;
    o.jobs = a.jobs;
    o.resume = a.resume;
    o.overwrite = a.overwrite;
    o.full_records = a.full_records;
    if (a.resume && a.overwrite) throw UsageError("batch: --resume and --overwrite exclude each other");
    if (a.jobs < 0) throw UsageError(fmt::format("batch: --jobs must be 0 or more (got {})", a.jobs));
    if (!a.max_memory.empty()) o.max_memory_bytes = parse_bytes(a.max_memory);
    choose_shard(a, o);
    return o;
}

// assess's options (a.p), checked and completed in place: band, GSD override, preset name.
void check_assess_options(BatchArgs& a) {
    AssessParams& p = a.p;
    if (p.elevation_deg && !(*p.elevation_deg > 0 && *p.elevation_deg <= 90))
        throw UsageError(fmt::format("batch: --elevation-deg must lie in (0, 90] (got {})", *p.elevation_deg));
    check_snr_option("batch", "--snr", p.snr);
    if (!a.band.empty()) {
        try {
            std::size_t used = 0;
            p.band = std::stoi(a.band, &used);
            if (used != a.band.size() || p.band < 1) throw std::invalid_argument("");
        } catch (const std::exception&) {
            throw UsageError(fmt::format("batch: --band must be a band number from 1 (got '{}')", a.band));
        }
    }
    if (!a.gsd_m.empty()) p.gsd.override_m = as_usage_error([&] { return parse_gsd_pair(a.gsd_m); });
    if (!p.sensor.empty()) p.sensor = find_preset_for_option(p.sensor).name;
}

// --degrade-to (a GSD or a preset) and its companions as degrade's parameters, checked; degrade's
// own checks report batch's option names.
DegradeParams degrade_params(const BatchArgs& a) {
    DegradeParams d;
    d.seed = a.degrade_seed;
    std::size_t used = 0;
    double g = 0;
    try {
        g = std::stod(a.degrade_to, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == a.degrade_to.size() && used > 0) {
        if (!(g > 0 && std::isfinite(g)))
            throw UsageError(fmt::format("batch: --degrade-to GSD must be positive (got {})", g));
        d.target_gsd_m = g;
        d.mtf_nyquist = a.degrade_mtf_nyquist.value_or(0.15);
        d.snr = a.degrade_snr.value_or(50.0);
    } else {
        if (a.degrade_mtf_nyquist)
            throw UsageError("batch: --degrade-mtf-nyquist belongs to a GSD --degrade-to, not a preset");
        d.sensor = find_preset_for_option(a.degrade_to).name;
        d.snr = a.degrade_snr;
    }
    if (d.mtf_nyquist && !(*d.mtf_nyquist > 0 && *d.mtf_nyquist < 0.6366))
        throw UsageError(fmt::format("batch: --degrade-mtf-nyquist must lie in (0, 2/pi) (got {})", *d.mtf_nyquist));
    check_snr_option("batch", "--degrade-snr", d.snr);
    try {  // degrade's own checks, named by batch's options
        check_degrade_options(d);
    } catch (const UsageError& e) {
        std::string m = e.what();
        for (auto [from, to] : {std::pair{"degrade: ", "batch: "},
                                {"--target-gsd-m", "--degrade-to"},
                                {"--mtf-nyquist", "--degrade-mtf-nyquist"},
                                {"--snr", "--degrade-snr"}})
            if (auto at = m.find(from); at != std::string::npos) m.replace(at, std::strlen(from), to);
        throw UsageError(m);
    }
    return d;
}

// Sets o.degrade_to when asked; returns its JSON for the record options (null: no degradation).
nlohmann::json choose_degradation(const BatchArgs& a, BatchRunOptions& o) {
    nlohmann::json degrade_json = nullptr;
    if (!a.degrade_to.empty()) {
        const DegradeParams d = degrade_params(a);
        o.degrade_to = d;
        degrade_json = to_json(d);
        degrade_json.erase("input");
        degrade_json.erase("output");
    } else if (a.degrade_mtf_nyquist || a.degrade_snr) {
        throw UsageError("batch: --degrade-mtf-nyquist and --degrade-snr need --degrade-to");
    }
    return degrade_json;
}

// The options that make a record: a change re-runs the image under --resume.
nlohmann::json record_options(const BatchArgs& a, const nlohmann::json& degrade_json) {
    const AssessParams& p = a.p;
    return {{"satiq_version", SATIQ_VERSION_STRING},
            {"gsd_m", gsd_pair_json(p.gsd.override_m)},
            {"elevation_deg", p.elevation_deg ? nlohmann::json(*p.elevation_deg) : nlohmann::json(nullptr)},
            {"snr", p.snr ? nlohmann::json(*p.snr) : nlohmann::json(nullptr)},
            {"band", band_json(p.band)},
            {"sensor", p.sensor.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.sensor)},
            {"trust_pixel_size", p.trust_pixel_size},
            {"max_pixels", p.max_pixels},
            {"full_records", a.full_records},
            {"degrade_to", degrade_json}};
}

GatheredInputs gather_inputs(const BatchArgs& a) {
    BatchInputOptions io;
    io.arguments = a.inputs;
    if (!a.manifest.empty()) io.manifest = a.manifest;
    if (!a.stac.empty()) io.stac = a.stac;
    io.stac_asset = a.asset;
    if (a.inputs.empty() && !io.manifest && !io.stac)
        throw UsageError("batch: give inputs (files, folders, globs), --manifest or --stac");
    return gather_batch_inputs(io);
}

// The output folder, created (rank 0 owns it), and the notes on duplicates and MPI placement.
void prepare_output(const BatchRunOptions& o, const GatheredInputs& g, const mpi::Context& ctx) {
    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    if (!std::filesystem::is_directory(o.output_dir))
        throw Error(fmt::format("{}: cannot create the output folder: {}", o.output_dir.string(),
                                std::filesystem::exists(o.output_dir) ? "it exists and is not a folder"
                                : ec                                  ? ec.message()
                                                                      : "it does not appear"));
    if (ctx.rank == 0 && std::filesystem::exists(o.output_dir / "results.jsonl") && !o.resume && !o.overwrite)
        throw UsageError(fmt::format("batch: {} exists: --resume continues it, --overwrite starts again",
                                     (o.output_dir / "results.jsonl").string()));
    const bool quiet = global_options().quiet;
    if (!quiet)
        for (const std::string& d : g.duplicates)
            std::cerr << "satiq batch: " << d << ": given more than once, processed once\n";
    // A duplicate that gives other values changes a result: said under -q too, as a failure is.
    if (ctx.rank == 0)
        for (const std::string& c : g.conflicts)
            std::cerr << "satiq batch: " << c << "\n";
    if (ctx.rank == 0 && !quiet && !mpi::cpu_binding_note(ctx).empty())
        std::cerr << "satiq batch: " << mpi::cpu_binding_note(ctx) << "\n";
    if (mpi::launched_by_mpi_launcher() && !mpi::built_with_mpi() && !quiet)
        std::cerr << "satiq batch: started by an MPI launcher, but this satiq was built without MPI: rank 0 "
                     "does the whole batch on its machine, the other ranks stop\n";
}

// run_batch with a progress line (images done, failures) from its first report on.
BatchSummary run_with_progress(const GatheredInputs& g, const BatchRunOptions& o) {
    Progress::Options po;
    po.quiet = global_options().quiet;
    std::optional<Progress> progress;
    BatchSummary s = run_batch(
        g, o,
        [&](std::int64_t done, std::int64_t total, std::int64_t failed) {
            if (!progress) progress.emplace("batch", static_cast<double>(total), "images", po);
            progress->set_detail(fmt::format("{} failed", failed));
            progress->update(static_cast<double>(done));
        },
        [&](const std::string& line) {  // each failure, one line, as it happens (--quiet too, as assess)
            if (progress && !po.quiet)
                progress->note("satiq batch: " + line);
            else
                std::cerr << "satiq batch: " << line << "\n";
        });
    if (progress) progress->finish();
    if (!global_options().quiet)
        for (const std::string& w : s.warnings)
            std::cerr << "satiq batch: " << w << "\n";
    return s;
}

// The summary: the JSON envelope or one text paragraph.
void print_batch_summary(const std::string& format, const BatchRunOptions& o, const GatheredInputs& g,
                         const BatchSummary& s) {
    std::vector<std::string> warnings = g.conflicts;  // conflicting duplicates first, then the run's
    warnings.insert(warnings.end(), s.warnings.begin(), s.warnings.end());
    nlohmann::json res{{"status", s.failed ? "some images failed" : "ok"},
                       {"output_dir", o.output_dir.string()},
                       {"results_jsonl", (o.output_dir / "results.jsonl").string()},
                       {"summary_csv", (o.output_dir / "summary.csv").string()},
                       {"report_html", (o.output_dir / "report.html").string()},
                       {"inputs", s.gathered},
                       {"in_shard", s.in_shard},
                       {"duplicates", g.duplicates},
                       {"skipped_resume", s.skipped_resume},
                       {"processed", s.processed},
                       {"failed", s.failed},
                       {"mode", s.mode},
                       {"seconds", s.seconds},
                       {"warnings", warnings}};
    nlohmann::json params = o.options;
    params["shard"] = fmt::format("{}/{}", o.shard_index + 1, o.shard_count);
    params["jobs"] = o.jobs;
    params["resume"] = o.resume;
    if (format == "json") {
        print_json(envelope("batch", params, nlohmann::json::array({res}), static_cast<int>(s.failed)));
    } else {
        std::cout << fmt::format(
            "satiq batch: {} inputs, {} in shard {}/{}, {} skipped (--resume), {} processed, {} failed, "
            "{:.1f} s ({})\n  {}\n  {}\n  {}\n",
            s.gathered, s.in_shard, o.shard_index + 1, o.shard_count, s.skipped_resume, s.processed, s.failed,
            s.seconds, s.mode, res["results_jsonl"].get<std::string>(), res["summary_csv"].get<std::string>(),
            res["report_html"].get<std::string>());
    }
}

// The command: options checked (all before any work), inputs gathered, the batch run, a summary.
int run_batch_command(BatchArgs& a) {
    BatchRunOptions o = run_options(a);
    check_assess_options(a);
    o.assess = a.p;
    const nlohmann::json degrade_json = choose_degradation(a, o);
    o.options = record_options(a, degrade_json);
    const GatheredInputs g = gather_inputs(a);

    const mpi::Context ctx = mpi::init();  // (idempotent) only rank 0 owns the output folder
    prepare_output(o, g, ctx);
    const BatchSummary s = run_with_progress(g, o);
    mpi::finalize();
    if (s.mode.rfind("idle", 0) == 0) return 0;
    print_batch_summary(a.format, o, g, s);
    return s.failed ? 1 : 0;
}

}  // namespace

void add_batch_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<BatchArgs>();
    CLI::App* cmd = app.add_subcommand(
        "batch",
        "Rate image sets: every raster among files, folders (recursive), globs, a manifest or a STAC catalog "
        "assessed in parallel; records appended to DIR/results.jsonl as they finish, then DIR/summary.csv and "
        "DIR/report.html. Runs over MPI ranks under mpirun/srun.");
    add_batch_run_options(cmd, *a);
    add_batch_image_options(cmd, *a);
    add_format_option(cmd, a->format);
    cmd->callback([a, &run] { run = [a]() -> int { return run_batch_command(*a); }; });
}

void add_report_command(CLI::App& app, Runner& run) {
    struct Args {
        std::vector<std::string> dirs;
        std::string output, format = "text";
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand(
        "report",
        "Merge the results of batches or shards (DIR/results.jsonl) into OUT: results.jsonl, summary.csv "
        "and report.html; a record merged twice counts once");
    cmd->add_option("dirs", a->dirs, "Batch output folders (or results.jsonl files)")->required();
    cmd->add_option("-o,--output", a->output, "Output folder")->required();
    add_format_option(cmd, a->format);
    cmd->callback([a, &run] {
        run = [a]() -> int {
            std::vector<std::filesystem::path> dirs(a->dirs.begin(), a->dirs.end());
            std::vector<std::string> warnings;
            const std::size_t n = merge_batches(dirs, a->output, &warnings);
            if (!global_options().quiet)
                for (const std::string& w : warnings)
                    std::cerr << "satiq report: " << w << "\n";
            if (a->format == "json")
                print_json(envelope("report", {{"inputs", a->dirs}, {"output", a->output}},
                                    nlohmann::json::array({{{"status", "ok"}, {"records", n}, {"warnings", warnings}}}),
                                    0));
            else
                std::cout << fmt::format("satiq report: {} records from {} folder(s) into {}\n", n, dirs.size(),
                                         a->output);
            return 0;
        };
    });
}

}  // namespace satiq::cli
