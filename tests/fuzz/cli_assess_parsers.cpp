// The option parsers of `satiq assess` live in the CLI (pipeline/cli/cmd_assess.cpp, anonymous
// namespace). This file compiles that source as it is and hands its parsers to fuzz_parse.cpp;
// nothing of `assess` itself runs (its runner reads files and creates folders).
#include "cmd_assess.cpp"  // NOLINT(bugprone-suspicious-include)

#include "cli_assess_parsers.hpp"

namespace satiq::cli {

// Defined by pipeline/cli/main.cpp in the satiq binary; cmd_assess.cpp reads it.
const GlobalOptions& global_options() {
    static const GlobalOptions options;
    return options;
}

}  // namespace satiq::cli

namespace satiq::fuzz {

EdgeRoi cli_parse_roi(const std::string& s) {
    return cli::parse_roi(s);
}

AssessParams cli_parse_band(const std::string& s) {
    AssessParams p;
    cli::parse_band(s, p);
    return p;
}

std::string cli_check_seed(std::string s) {
    return cli::seed_validator()(s);
}

}  // namespace satiq::fuzz
