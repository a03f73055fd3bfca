#include "test_support.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace satiq::test {

fs::path real_data_dir() {
    if (const char* env = std::getenv("SATIQ_REAL_DATA_DIR"); env && *env) return env;
    return SATIQ_REAL_DATA_DIR;
}

bool have_real_data() { return fs::is_directory(real_data_dir()) && fs::exists(real_data_dir() / "pan1.tif"); }

fs::path temp_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    fs::path p = fs::temp_directory_path() /
                 ("satiq_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

CommandResult run_command(const std::string& command) {
    fs::path dir = temp_dir("cmd");
    const std::string full = command + " >" + (dir / "out").string() + " 2>" + (dir / "err").string() + " </dev/null";
    const int status = std::system(full.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir / "out");
    r.err = slurp(dir / "err");
    fs::remove_all(dir);
    return r;
}

std::string satiq_binary() { return SATIQ_BINARY; }

CommandResult run_satiq(const std::string& args) { return run_command(shell_quote(satiq_binary()) + " " + args); }

std::string shell_quote(const fs::path& p) {
    std::string out = "'";
    for (char c : p.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace satiq::test
