#pragma once
// Output conventions shared by every command: one JSON document on stdout,
// {"satiq_version", "command", "parameters", "results": [...], "failed_count"}; a failed
// item is {"file", "status": "error", "error"}.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace satiq::cli {

inline void add_format_option(CLI::App* cmd, std::string& format) {
    cmd->add_option("--format", format, "Output: text (default) or json (one document on stdout)")
        ->check(CLI::IsMember({"text", "json"}));
}

inline nlohmann::json failed_item(const std::string& file, const std::string& error) {
    return {{"file", file}, {"status", "error"}, {"error", error}};
}

inline nlohmann::json envelope(const std::string& command, const nlohmann::json& parameters,
                               const nlohmann::json& results, int failed_count) {
    return {{"satiq_version", SATIQ_VERSION},
            {"command", command},
            {"parameters", parameters},
            {"results", results},
            {"failed_count", failed_count}};
}

inline void print_json(const nlohmann::json& j) {
    // NaN/inf are not JSON: dump() writes them as null. Bytes that are not UTF-8 (file names,
    // metadata) are replaced by U+FFFD instead of failing the whole document.
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

}  // namespace satiq::cli
