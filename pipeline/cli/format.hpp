#pragma once
// Output conventions shared by every command: one JSON document on stdout,
// {"satiq_version", "command", "parameters", "results": [...], "failed_count"}; a failed
// item is {"file", "status": "error", "error"}.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "satiq/kernels/error.hpp"
#include "satiq/version.hpp"

namespace satiq::cli {

inline void add_format_option(CLI::App* cmd, std::string& format) {
    cmd->add_option("--format", format, "Output: text (default) or json (one document on stdout)")
        ->check(CLI::IsMember({"text", "json"}));
}

/// A seed: decimal digits only, 0 to 2^64 - 1 (CLI11 would otherwise wrap -1 and clamp 2^64 to
/// 2^64 - 1 without a word). A violation is a usage error (exit 2).
inline CLI::Validator seed_validator() {
    return CLI::Validator(
        [](std::string& s) -> std::string {
            const std::string max = "18446744073709551615";
            const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
            std::string t = s.substr(std::min(s.find_first_not_of('0'), s.size()));
            if (!digits || t.size() > max.size() || (t.size() == max.size() && t > max))
                return "must be a whole number from 0 to 18446744073709551615 (got '" + s + "')";
            return {};
        },
        "SEED");
}

/// A number 0 or more (CLI11's NonNegativeNumber names its bound as a 300-digit number, and an
/// unsigned option would otherwise wrap -5 to 2^64 - 5 without a word). A violation is a usage
/// error (exit 2).
inline CLI::Validator non_negative_validator() {
    return CLI::Validator(
        [](std::string& s) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(s.c_str(), &end);
            if (end == s.c_str() || *end != '\0' || !(v >= 0)) return "must be 0 or more (got '" + s + "')";
            return {};
        },
        "NONNEGATIVE");
}

/// A GSD option as the JSON parameters show it: [x_m, y_m], or null when not given.
inline nlohmann::json gsd_pair_json(const std::optional<std::pair<double, double>>& gsd) {
    return gsd ? nlohmann::json::array({gsd->first, gsd->second}) : nlohmann::json(nullptr);
}

/// --band as the JSON parameters show it: the band number, or null for the default choice (0).
inline nlohmann::json band_json(int band) {
    return band > 0 ? nlohmann::json(band) : nlohmann::json(nullptr);
}

/// --snr as given to assess and batch: 0.1 (noise ten times the signal) to 10^6. A value outside
/// is a usage error (exit 2) naming the command.
inline void check_snr_option(const std::string& command, const std::string& flag, const std::optional<double>& snr) {
    if (snr && !(std::isfinite(*snr) && *snr >= 0.1 && *snr <= 1e6))
        throw UsageError(command + ": " + flag + " must lie in [0.1, 1e6] (got " + fmt::format("{}", *snr) + ")");
}

inline nlohmann::json failed_item(const std::string& file, const std::string& error) {
    return {{"file", file}, {"status", "error"}, {"error", error}};
}

inline nlohmann::json envelope(const std::string& command, const nlohmann::json& parameters,
                               const nlohmann::json& results, int failed_count) {
    return {{"satiq_version", SATIQ_VERSION_STRING},
            {"command", command},
            {"parameters", parameters},
            {"results", results},
            {"failed_count", failed_count}};
}

/// True once a command has printed its JSON document (main then adds none for a failure).
inline bool& json_document_printed() {
    static bool printed = false;
    return printed;
}

inline void print_json(const nlohmann::json& j) {
    json_document_printed() = true;
    // NaN/inf are not JSON: dump() writes them as null. Bytes that are not UTF-8 (file names,
    // metadata) are replaced by U+FFFD instead of failing the whole document.
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

}  // namespace satiq::cli
