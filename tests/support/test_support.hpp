#pragma once
// Shared helpers for the GoogleTest suites.
#include <filesystem>
#include <string>

namespace satiq::test {

/// ../shared/data/real beside the checkout, or an empty path when the folder is absent.
std::filesystem::path real_data_dir();

/// Skips the current test (GTEST_SKIP in the caller) when this returns false.
bool have_real_data();

/// A fresh, empty temporary folder unique to the running test; removed by the caller's fixture
/// or left under the system temp dir.
std::filesystem::path temp_dir(const std::string& tag);

/// Runs a shell command; returns its exit status and captures stdout and stderr.
struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};
CommandResult run_command(const std::string& command);

/// Path of the built satiq executable.
std::string satiq_binary();

/// Runs `satiq ARGS` (ARGS already shell-quoted where needed).
CommandResult run_satiq(const std::string& args);

/// Single-quotes a path for the shell.
std::string shell_quote(const std::filesystem::path& p);

}  // namespace satiq::test
