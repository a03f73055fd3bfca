// Records of results.jsonl read back (batch --resume, satiq report): what counts as a satiq record,
// the lines that are not, and the merge of several files (batch_run.hpp). The schema is the one
// docs/schema.md describes and batch_run.cpp writes.
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <tuple>

#include <fmt/format.h>

#include "satiq/pipeline/ops/batch_run.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace satiq {

namespace {

enum class Kind { number, integer, string, object, array_of_strings };

bool is_kind(const json& v, Kind k) {
    switch (k) {
        case Kind::number:
            return v.is_number();
        case Kind::integer:
            return v.is_number_integer();
        case Kind::string:
            return v.is_string();
        case Kind::object:
            return v.is_object();
        case Kind::array_of_strings:
            if (!v.is_array()) return false;
            for (const json& e : v)
                if (!e.is_string()) return false;
            return true;
    }
    return false;
}

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::number:
            return "a number";
        case Kind::integer:
            return "an integer";
        case Kind::string:
            return "a string";
        case Kind::object:
            return "an object";
        case Kind::array_of_strings:
            return "an array of strings";
    }
    return "";
}

struct Field {
    const char* name;
    Kind kind;
};

// Fields a record may carry, each either absent, null or of its kind (the readers treat absent
// and null alike). What the summary, the report and --resume read is here; `degrade`, `assess`
// and `run` are carried through unread.
constexpr Field kSummaryFields[] = {{"width_px", Kind::number},
                                    {"height_px", Kind::number},
                                    {"band_used", Kind::string},
                                    {"gsd_m", Kind::number},
                                    {"gsd_method", Kind::string},
                                    {"effective_gsd_m", Kind::number},
                                    {"elevation_deg", Kind::number},
                                    {"elevation_source", Kind::string},
                                    {"edges_candidates", Kind::number},
                                    {"edges_used", Kind::number},
                                    {"edges_x", Kind::number},
                                    {"edges_y", Kind::number},
                                    {"rer_x", Kind::number},
                                    {"rer_y", Kind::number},
                                    {"rer_gm", Kind::number},
                                    {"mtf50_cyc_per_px", Kind::number},
                                    {"noise_sigma_dn", Kind::number},
                                    {"snr", Kind::number},
                                    {"snr_source", Kind::string},
                                    {"niirs", Kind::number},
                                    {"niirs_standard_error", Kind::number},
                                    {"niirs_basis", Kind::string},
                                    {"niirs_low", Kind::number},
                                    {"niirs_high", Kind::number},
                                    {"warnings", Kind::array_of_strings}};
constexpr Field kSourceFields[] = {{"kind", Kind::string},  {"item_id", Kind::string},
                                   {"gsd_m", Kind::number}, {"elevation_deg", Kind::number},
                                   {"snr", Kind::number},   {"sun_elevation_deg", Kind::number}};
constexpr Field kInputFields[] = {{"size_bytes", Kind::integer}, {"mtime_ns", Kind::integer}};

// What makes `j` not a satiq record; empty when it is one.
std::string record_problem(const json& j) {
    if (!j.is_object()) return "not a JSON object";
    const auto path = j.find("path");
    if (path == j.end() || !path->is_string() || path->get_ref<const std::string&>().empty())
        return "no \"path\" string";
    const auto status = j.find("status");
    if (status == j.end() || !status->is_string() || (*status != "ok" && *status != "error"))
        return "\"status\" is not \"ok\" or \"error\"";
    for (const char* k : {"error", "options_key"})
        if (const auto it = j.find(k); it != j.end() && !it->is_null() && !it->is_string())
            return fmt::format("\"{}\" is not a string", k);
    for (const auto& [k, fields, prefix] : {std::tuple{"input", std::span<const Field>(kInputFields), "input."},
                                            std::tuple{"source", std::span<const Field>(kSourceFields), "source."},
                                            std::tuple{"summary", std::span<const Field>(kSummaryFields), "summary."},
                                            std::tuple{"options", std::span<const Field>(), "options."}}) {
        const auto it = j.find(k);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_object()) return fmt::format("\"{}\" is not an object", k);
        for (const Field& f : fields) {
            const auto v = it->find(f.name);
            if (v != it->end() && !v->is_null() && !is_kind(*v, f.kind))
                return fmt::format("\"{}{}\" is not {}", prefix, f.name, kind_name(f.kind));
        }
    }
    if (*status == "ok" && !j.contains("summary")) return "an \"ok\" record without \"summary\"";
    return {};
}

}  // namespace

const json& record_field(const json& o, const char* key) {
    static const json null_value;
    if (!o.is_object()) return null_value;
    const auto it = o.find(key);
    return it == o.end() ? null_value : *it;
}

std::string record_key(const json& r) {
    const json& path = record_field(r, "path");
    const json& key = record_field(r, "options_key");
    return (path.is_string() ? path.get<std::string>() : std::string()) + "\x1f" +
           record_field(r, "input").dump(-1, ' ', false, json::error_handler_t::replace) + "\x1f" +
           (key.is_string() ? key.get<std::string>() : std::string());
}

std::string RecordFileCheck::message(const fs::path& jsonl) const {
    std::string m;
    if (bad_lines > 0)
        m = fmt::format("{}: {} {}, skipped (the first is line {}: {})", jsonl.string(), bad_lines,
                        bad_lines == 1 ? "line is not a satiq record" : "lines are not satiq records", first_bad_line,
                        first_problem);
    if (cut_last_line)
        m += m.empty() ? fmt::format("{}: the last line is cut (a killed run), skipped", jsonl.string())
                       : "; the last line is cut (a killed run), skipped";
    return m;
}

std::vector<json> parse_records(std::string_view text, RecordFileCheck* check) {
    std::vector<json> out;
    RecordFileCheck local;
    RecordFileCheck& c = check ? *check : local;
    c = {};
    std::size_t at = 0;
    std::int64_t line = 0;
    for (std::size_t nl; (nl = text.find('\n', at)) != std::string_view::npos; at = nl + 1) {
        ++line;
        if (nl == at) continue;
        json j = json::parse(text.begin() + static_cast<std::ptrdiff_t>(at),
                             text.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
        std::string problem = j.is_discarded() ? "not JSON" : record_problem(j);
        if (problem.empty()) {
            out.push_back(std::move(j));
        } else if (++c.bad_lines == 1) {
            c.first_bad_line = line;
            c.first_problem = std::move(problem);
        }
    }
    c.cut_last_line = at < text.size();  // a last line without its newline was cut by a kill: not a record
    return out;
}

std::vector<json> read_records(const fs::path& jsonl, RecordFileCheck* check) {
    std::ifstream in(jsonl, std::ios::binary);
    if (!in) {
        if (check) *check = {};
        return {};
    }
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_records(all, check);
}

std::vector<json> merge_records(const std::vector<json>& records) {
    std::map<std::string, const json*> latest;
    for (const json& r : records)
        latest[record_key(r)] = &r;  // later records (a re-run) replace earlier ones
    std::vector<json> out;
    out.reserve(latest.size());
    for (const auto& [k, r] : latest)
        out.push_back(*r);
    return out;
}

}  // namespace satiq
