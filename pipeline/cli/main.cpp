// satiq: parse flags, call the library, print. Nothing else lives here.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <tbb/global_control.h>

#include "commands.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/interrupt.hpp"

namespace satiq::cli {

namespace {
GlobalOptions g_options;
}

const GlobalOptions& global_options() {
    return g_options;
}

}  // namespace satiq::cli

int main(int argc, char** argv) {
    using namespace satiq::cli;
    CLI::App app{
        "satiq: what a satellite image is worth for observation (GSD, edge response, MTF, noise, "
        "NIIRS) and what another sensor would record of it"};
    app.set_version_flag("--version", std::string("satiq ") + SATIQ_VERSION);
    GlobalOptions opts;
    app.add_option("--threads", opts.threads, "Worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
    app.add_flag("-q,--quiet", opts.quiet, "No progress or log lines on stderr");
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "satiq: %s (see satiq --help)\n", e.what());
        return 2;
    }
    const_cast<GlobalOptions&>(global_options()) = opts;
    std::optional<tbb::global_control> limit;
    if (opts.threads > 0)
        limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(opts.threads));
    if (!run) return 2;
    // SIGINT, SIGTERM, SIGHUP: registered temporary files are removed, exit 128 + signal.
    satiq::install_interrupt_handlers();
    try {
        const int code = run();
        // A write error on stdout (a full disk, a closed pipe) is a failure, not a success.
        std::cout.flush();
        if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
            std::fprintf(stderr, "satiq: cannot write to standard output\n");
            return 1;
        }
        return code;
    } catch (const satiq::UsageError& e) {
        std::fprintf(stderr, "satiq: %s (see satiq --help)\n", e.what());
        return 2;
    } catch (const satiq::Error& e) {
        std::fprintf(stderr, "satiq: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "satiq: internal error: %s\n", e.what());
        return 1;
    }
}
