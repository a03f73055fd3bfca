// satiq: parse flags, call the library, print. Nothing else lives here.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <tbb/global_control.h>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/version.hpp"

namespace satiq::cli {

namespace {
GlobalOptions g_options;
void set_global_options(const GlobalOptions& o) {
    g_options = o;  // once, after parsing and before any command runs
}
}  // namespace

const GlobalOptions& global_options() {
    return g_options;
}

namespace {

// Every double option must be a finite number: CLI11 accepts "nan" and "inf" as doubles.
void require_finite_numbers(CLI::App* app) {
    for (CLI::Option* opt : app->get_options())
        if (opt->get_type_name() == "FLOAT")
            opt->check(CLI::Validator(
                [](std::string& s) -> std::string {
                    char* end = nullptr;
                    const double v = std::strtod(s.c_str(), &end);
                    return std::isfinite(v) ? std::string() : "must be a finite number (got '" + s + "')";
                },
                "FINITE"));
    for (CLI::App* sub : app->get_subcommands({}))
        require_finite_numbers(sub);
}

// `--format json` anywhere on the command line: a failure of the whole call is then reported as
// a JSON document on stdout too (machine readers always get one document).
bool json_requested(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--format=json" || (a == "--format" && i + 1 < argc && std::string(argv[i + 1]) == "json"))
            return true;
    }
    return false;
}

std::string command_named(const CLI::App& app, int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        for (const CLI::App* sub : app.get_subcommands({}))
            if (sub->get_name() == argv[i]) return argv[i];
    return "";
}

// The envelope of a call that failed as a whole (a usage error, an unreadable input): no
// results, the error and the exit code.
int fail(int code, const std::string& message, bool json, const std::string& command) {
    std::fprintf(stderr, "satiq: %s%s\n", message.c_str(), code == 2 ? " (see satiq --help)" : "");
    if (json && !json_document_printed()) {
        nlohmann::json j = envelope(command, nullptr, nlohmann::json::array(), 0);
        j["status"] = code == 2 ? "usage_error" : "error";
        j["error"] = message;
        j["exit_code"] = code;
        print_json(j);
    }
    return code;
}

// glibc serves every block over its mmap threshold (128 KiB at first, then adapting) with a
// fresh mmap and returns it on free, so each of the many per-tile and per-image work buffers of
// the kernels costs page faults and zeroing by the kernel: about 8% of `assess` CPU on 1024^2
// scenes (bench/README.md). Blocks up to 256 MiB come from the heap instead, and up to 512 MiB of
// freed memory stays for reuse; the peak memory is the same (it is set by the pixels in flight).
// glibc's documented tunables (mallopt(3)); MALLOC_MMAP_THRESHOLD_ in the environment still wins.
void tune_allocator() {
#if defined(__GLIBC__)
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 256 << 20);
    if (std::getenv("MALLOC_TRIM_THRESHOLD_") == nullptr) mallopt(M_TRIM_THRESHOLD, 512 << 20);
    if (std::getenv("MALLOC_TOP_PAD_") == nullptr) mallopt(M_TOP_PAD, 64 << 20);
#endif
}

}  // namespace

}  // namespace satiq::cli

int main(int argc, char** argv) {
    using namespace satiq::cli;
    // A closed pipe on stdout (`satiq ... | head -1`) is a write error like any other: exit 1
    // with a message (below), not death by SIGPIPE (exit 141) part-way through a command.
    std::signal(SIGPIPE, SIG_IGN);
    tune_allocator();
    CLI::App app{
        "satiq: what a satellite image is worth for observation (GSD, edge response, MTF, noise, "
        "NIIRS) and what another sensor would record of it"};
    app.set_version_flag("--version", std::string("satiq ") + SATIQ_VERSION_STRING);
    GlobalOptions opts;
    app.add_option("--threads", opts.threads, "Worker threads (0 = all cores)")->check(non_negative_validator());
    app.add_flag("-q,--quiet", opts.quiet, "No progress or log lines on stderr");
    app.add_flag("--no-clobber", opts.no_clobber, "Never replace an existing output file (refused instead)");
    app.require_subcommand(1);
    app.fallthrough();

    Runner run;
    add_info_command(app, run);
    add_synth_command(app, run);
    add_predict_command(app, run);
    add_degrade_command(app, run);
    add_assess_command(app, run);
    add_require_command(app, run);
    add_sweep_command(app, run);
    add_batch_command(app, run);
    add_report_command(app, run);

    require_finite_numbers(&app);
    const bool json = json_requested(argc, argv);
    const std::string command = command_named(app, argc, argv);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail(2, e.what(), json, command);
    }
    set_global_options(opts);
    satiq::set_no_clobber(opts.no_clobber);
    std::optional<tbb::global_control> limit;
    if (opts.threads > 0)
        limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(opts.threads));
    if (!run) return 2;
    // SIGINT, SIGTERM, SIGHUP: registered temporary files are removed, exit 128 + signal.
    satiq::install_interrupt_handlers();
    int code = 0;
    try {
        code = run();
    } catch (const satiq::UsageError& e) {
        code = fail(2, e.what(), json, command);
    } catch (const satiq::Error& e) {
        code = fail(1, e.what(), json, command);
    } catch (const std::bad_alloc&) {
        code = fail(1, "out of memory", json, command);
    } catch (const std::exception& e) {
        code = fail(1, std::string("internal error: ") + e.what(), json, command);
    }
    // A write error on stdout (a full disk, a closed pipe) is a failure, not a success.
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::fprintf(stderr, "satiq: cannot write to standard output\n");
        return 1;
    }
    return code;
}
