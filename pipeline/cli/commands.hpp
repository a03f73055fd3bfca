#pragma once
// Each satiq command lives in its own cmd_<name>.cpp and registers itself on the CLI11 app.
// A command's callback stores the function that main() runs after parsing; that function
// returns the exit code (0 all good, 1 some item failed; usage errors are 2: CLI11's parse
// errors, and satiq::UsageError thrown by the option checks of a runner).
// Library errors (satiq::Error) thrown out of it are printed by main() as one line on stderr.
#include <functional>

#include <CLI/CLI.hpp>

namespace satiq::cli {

using Runner = std::function<int()>;

/// Options shared by every command (set by main before the runner is called).
struct GlobalOptions {
    int threads = 0;          ///< 0 = all cores
    bool quiet = false;       ///< no progress on stderr
    bool no_clobber = false;  ///< never replace an existing output
};
const GlobalOptions& global_options();

void add_info_command(CLI::App& app, Runner& run);
void add_synth_command(CLI::App& app, Runner& run);
void add_predict_command(CLI::App& app, Runner& run);
void add_degrade_command(CLI::App& app, Runner& run);
void add_assess_command(CLI::App& app, Runner& run);
void add_require_command(CLI::App& app, Runner& run);
void add_sweep_command(CLI::App& app, Runner& run);
void add_batch_command(CLI::App& app, Runner& run);
void add_report_command(CLI::App& app, Runner& run);

}  // namespace satiq::cli
