// Records of results.jsonl read back (batch --resume, satiq report): what counts as a satiq record,
// the lines that are not, and the latest record of each key among several files (batch_run.hpp). The schema is the one
// docs/schema.md describes and batch_run.cpp writes.
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/pipeline/ops/batch_run.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace satiq {

namespace {

enum class Kind { number, integer, string, array_of_strings };

bool is_kind(const json& v, Kind k) {
    switch (k) {
        case Kind::number:
            return v.is_number();
        case Kind::integer:
            return v.is_number_integer();
        case Kind::string:
            return v.is_string();
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
// and `run` are carried through unread. The summary's figures (RecordRow::figure_names, all
// numbers) are checked with these.
constexpr Field kSummaryFields[] = {{"band_used", Kind::string},        {"gsd_method", Kind::string},
                                    {"elevation_deg", Kind::number},    {"elevation_source", Kind::string},
                                    {"edges_candidates", Kind::number}, {"snr_source", Kind::string},
                                    {"niirs_basis", Kind::string},      {"niirs_low", Kind::number},
                                    {"niirs_high", Kind::number},       {"warnings", Kind::array_of_strings}};
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
    struct Object {
        const char* name;
        std::span<const Field> fields;
    };
    for (const Object& o : {Object{"input", kInputFields}, Object{"source", kSourceFields},
                            Object{"summary", kSummaryFields}, Object{"options", {}}}) {
        const auto it = j.find(o.name);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_object()) return fmt::format("\"{}\" is not an object", o.name);
        auto check = [&](const char* name, Kind kind) {
            const auto v = it->find(name);
            return v != it->end() && !v->is_null() && !is_kind(*v, kind)
                       ? fmt::format("\"{}.{}\" is not {}", o.name, name, kind_name(kind))
                       : std::string();
        };
        for (const Field& f : o.fields)
            if (std::string why = check(f.name, f.kind); !why.empty()) return why;
        if (std::string_view(o.name) == "summary")
            for (const char* name : RecordRow::figure_names)
                if (std::string why = check(name, Kind::number); !why.empty()) return why;
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

std::string record_row_key(const json& r) {
    const json& path = record_field(r, "path");
    const json& key = record_field(r, "options_key");
    return (path.is_string() ? path.get<std::string>() : std::string()) + "\x1f" +
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

namespace {

// One line of a results.jsonl (without its newline): the record, or why it is not one.
std::optional<json> record_of_line(std::string_view line, std::int64_t number, RecordFileCheck& c) {
    json j = json::parse(line.begin(), line.end(), nullptr, false);
    std::string problem = j.is_discarded() ? "not JSON" : record_problem(j);
    if (problem.empty()) return j;
    if (++c.bad_lines == 1) {
        c.first_bad_line = number;
        c.first_problem = std::move(problem);
    }
    return std::nullopt;
}

}  // namespace

std::vector<json> parse_records(std::string_view text, RecordFileCheck* check) {
    std::istringstream in{std::string(text)};
    std::vector<json> out;
    for_each_record(in, check, [&](json& r, std::string_view, std::uint64_t) { out.push_back(std::move(r)); });
    return out;
}

void for_each_record(const fs::path& jsonl, RecordFileCheck* check,
                     const std::function<void(json& record, std::string_view line, std::uint64_t offset)>& each) {
    std::ifstream in(jsonl, std::ios::binary);
    if (!in) {
        if (check) *check = {};
        return;
    }
    for_each_record(in, check, each);
}

void for_each_record(std::istream& in, RecordFileCheck* check,
                     const std::function<void(json& record, std::string_view line, std::uint64_t offset)>& each) {
    RecordFileCheck local;
    RecordFileCheck& c = check ? *check : local;
    c = {};
    std::string line;
    std::uint64_t offset = 0;
    std::int64_t number = 0;
    while (std::getline(in, line)) {
        const std::uint64_t at = offset;
        offset += line.size() + 1;
        ++number;
        if (in.eof()) {  // no newline after it: cut by a kill, not a record
            c.cut_last_line = !line.empty();
            break;
        }
        if (line.empty()) continue;
        if (auto r = record_of_line(line, number, c)) each(*r, line, at);
    }
}

RecordRow record_row(const json& r) {
    auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
    RecordRow row;
    row.path = text(record_field(r, "path"));
    row.status = text(record_field(r, "status"));
    row.error = text(record_field(r, "error"));
    row.options_key = text(record_field(r, "options_key"));
    const json& s = record_field(r, "summary");
    row.has_summary = s.is_object();
    row.band_used = text(record_field(s, "band_used"));
    row.gsd_method = text(record_field(s, "gsd_method"));
    row.elevation_source = text(record_field(s, "elevation_source"));
    row.snr_source = text(record_field(s, "snr_source"));
    row.niirs_basis = text(record_field(s, "niirs_basis"));
    if (const json& w = record_field(s, "warnings"); w.is_array()) row.warning_count = w.size();
    const json& src = record_field(r, "source");
    row.source_kind = text(record_field(src, "kind"));
    row.item_id = text(record_field(src, "item_id"));
    for (std::size_t i = 0; i < RecordRow::figure_count; ++i) {
        const json& v = record_field(s, RecordRow::figure_names[i]);
        row.figures[i] = v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
    }
    return row;
}

namespace {

// A short description of a record's options (the "options" that batch_record stores): what was
// done to the image before it was assessed, and the assess options that differ from the defaults.
std::string options_label(const json& options) {
    if (!options.is_object()) return {};
    std::vector<std::string> parts;
    auto number = [&](const char* key, const char* pattern) {
        if (const json& v = record_field(options, key); v.is_number())
            parts.push_back(fmt::format(fmt::runtime(pattern), v.get<double>()));
    };
    auto string = [&](const char* key, const char* prefix) {
        if (const json& v = record_field(options, key); v.is_string() && !v.get<std::string>().empty())
            parts.push_back(prefix + v.get<std::string>());
    };
    if (const json& d = record_field(options, "degrade_to"); d.is_object()) {
        const json& g = record_field(d, "target_gsd_m");
        const json& sensor = record_field(d, "sensor");
        std::string what = g.is_number() ? fmt::format("degraded to {:g} m", g.get<double>()) : "degraded";
        if (sensor.is_string()) {
            what += " as " + sensor.get<std::string>();
            try {  // the preset's ground GSD, as degrade computes it (a preset of another version: no GSD)
                const double gsd =
                    sensor::SensorModel::physical(sensor::find_sensor_preset(sensor.get<std::string>()).description)
                        .gsd_m();
                what += fmt::format(" ({:.2f} m)", gsd);
            } catch (const std::exception&) {
            }
        }
        parts.push_back(what);
    }
    if (const json& b = record_field(options, "band"); b.is_number_integer() && b.get<std::int64_t>() != 0)
        parts.push_back(fmt::format("band {}", b.get<std::int64_t>()));
    if (const json& g = record_field(options, "gsd_m"); g.is_string() && !g.get<std::string>().empty()) {
        parts.push_back("GSD given " + g.get<std::string>());  // records of earlier versions: the option's text
    } else if (g.is_array() && g.size() == 2 && g[0].is_number() && g[1].is_number()) {
        const double x = g[0].get<double>(), y = g[1].get<double>();
        parts.push_back(x == y ? fmt::format("GSD given {:g} m", x) : fmt::format("GSD given {:g} x {:g} m", x, y));
    }
    number("elevation_deg", "elevation {:g} deg");
    number("snr", "SNR {:g}");
    string("sensor", "sensor ");
    if (record_field(options, "trust_pixel_size") == true) parts.push_back("pixel size trusted");
    if (parts.empty()) return "as read";
    std::string out = parts[0];
    for (std::size_t i = 1; i < parts.size(); ++i)
        out += ", " + parts[i];
    return out;
}

}  // namespace

void note_option_set(OptionSets& sets, const json& record) {
    const json& key = record_field(record, "options_key");
    OptionSet& set = sets[key.is_string() ? key.get<std::string>() : std::string()];
    if (!set.options_json.empty()) return;
    if (const json& o = record_field(record, "options"); o.is_object()) {
        set.options_json = o.dump(-1, ' ', false, json::error_handler_t::replace);
        set.label = options_label(o);
    }
}

std::vector<RecordRow> RecordCollection::take_rows() {
    std::vector<RecordRow> rows;
    rows.reserve(latest.size());
    while (!latest.empty())  // node by node: the map shrinks as the rows grow
        rows.push_back(std::move(latest.extract(latest.begin()).mapped().row));
    return rows;
}

RecordCollection collect_records(std::span<std::istream* const> streams, std::span<const fs::path> names,
                                 const std::string* only_key) {
    RecordCollection c;
    for (std::size_t i = 0; i < streams.size(); ++i) {
        RecordFileCheck check;
        std::size_t read = 0;
        for_each_record(*streams[i], &check, [&](json& r, std::string_view line, std::uint64_t offset) {
            ++read;
            if (only_key && record_field(r, "options_key") != *only_key) {
                ++c.other_options;
                return;
            }
            note_option_set(c.sets, r);
            c.latest[record_row_key(r)] = {record_row(r), i, offset, line.size()};  // a later record replaces
        });
        if (const std::string m = check.message(i < names.size() ? names[i] : fs::path("results.jsonl")); !m.empty())
            c.warnings.push_back(m);
        c.records_read.push_back(read);
        c.checks.push_back(std::move(check));
    }
    return c;
}

}  // namespace satiq
