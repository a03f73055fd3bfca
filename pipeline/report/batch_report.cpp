// summary.csv and report.html of a batch (batch_run.hpp): every image sorted by NIIRS, the
// distributions of GSD, RER, SNR and NIIRS, and the failures with their reasons.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "satiq/pipeline/ops/batch_run.hpp"
#include "satiq/pipeline/report/html.hpp"
#include "satiq/version.hpp"

using nlohmann::json;

namespace satiq {

namespace {

// A string member's text; empty for null or another type.
std::string text(const json& v) {
    return v.is_string() ? v.get<std::string>() : std::string();
}

// The images' order in the summary and report: NIIRS, best first; no NIIRS, then failures, last;
// ties by path.
std::vector<const json*> ordered(const std::vector<json>& records) {
    std::vector<const json*> v;
    v.reserve(records.size());
    for (const json& r : records)
        v.push_back(&r);
    auto niirs = [](const json* r) {
        const json& s = record_field(*r, "summary");
        return s.is_object() && record_field(s, "niirs").is_number() ? record_field(s, "niirs").get<double>() : -1e9;
    };
    auto ok = [](const json* r) { return text(record_field(*r, "status")) == "ok"; };
    std::stable_sort(v.begin(), v.end(), [&](const json* a, const json* b) {
        if (ok(a) != ok(b)) return ok(a);
        if (niirs(a) != niirs(b)) return niirs(a) > niirs(b);
        return text(record_field(*a, "path")) < text(record_field(*b, "path"));
    });
    return v;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s)
        o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
}

std::string num(const json& v, int prec) {
    return v.is_number() ? fmt::format("{:.{}f}", v.get<double>(), prec) : std::string();
}

constexpr const char* kColumns[] = {"gsd_m",  "effective_gsd_m",     "rer_x",          "rer_y",
                                    "rer_gm", "mtf50_cyc_per_px",    "noise_sigma_dn", "snr",
                                    "niirs",  "niirs_standard_error"};

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
        if (sensor.is_string()) what += " as " + sensor.get<std::string>();
        parts.push_back(what);
    }
    if (const json& b = record_field(options, "band"); b.is_number_integer() && b.get<std::int64_t>() != 0)
        parts.push_back(fmt::format("band {}", b.get<std::int64_t>()));
    string("gsd_m", "GSD given ");
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

// The sets of options among the records, by key: how to name each, and how many records had it.
struct OptionSet {
    std::string label;  // options_label, or empty when the records do not carry their options
    const json* options = nullptr;
    std::size_t records = 0;
};

std::map<std::string, OptionSet> option_sets(const std::vector<json>& records) {
    std::map<std::string, OptionSet> sets;
    for (const json& r : records) {
        OptionSet& set = sets[text(record_field(r, "options_key"))];
        ++set.records;
        if (!set.options && record_field(r, "options").is_object()) {
            set.options = &record_field(r, "options");
            set.label = options_label(*set.options);
        }
    }
    return sets;
}

// What a table cell says of a record's options: its set's label, else its key.
std::string options_cell(const std::map<std::string, OptionSet>& sets, const json& r) {
    const std::string key = text(record_field(r, "options_key"));
    const auto it = sets.find(key);
    return it != sets.end() && !it->second.label.empty() ? it->second.label : key;
}

// Histogram as a filled step outline (a Band from 0 to the count).
html::Chart histogram(const std::vector<double>& values, bool log_x, const std::string& id, const std::string& title,
                      const std::string& x_label) {
    html::Chart c;
    c.id = id;
    c.title = title;
    c.x_label = x_label;
    c.y_label = "images";
    c.log_x = log_x;
    c.width = 480;
    c.height = 300;
    c.y_min = 0;
    std::vector<double> v;
    for (double x : values)
        if (std::isfinite(x) && (!log_x || x > 0)) v.push_back(log_x ? std::log10(x) : x);
    if (v.empty()) return c;
    double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
    if (hi - lo < 1e-9) {
        lo -= 0.5 * (log_x ? 0.1 : std::max(1e-3, std::abs(lo) * 0.1));
        hi += 0.5 * (log_x ? 0.1 : std::max(1e-3, std::abs(hi) * 0.1));
    }
    // Freedman-Diaconis would suit large sets; a fixed count keeps small sets readable.
    const int bins = std::clamp(static_cast<int>(std::sqrt(static_cast<double>(v.size()))) + 1, 5, 40);
    std::vector<double> counts(static_cast<std::size_t>(bins), 0.0);
    // Halves: a record's figures may span more than the largest double (a foreign results.jsonl);
    // halving is exact, so the bins are the same as with the plain differences.
    const double half_span = 0.5 * hi - 0.5 * lo;
    for (double x : v) {
        const int b = std::min(bins - 1, static_cast<int>((0.5 * x - 0.5 * lo) / half_span * bins));
        counts[static_cast<std::size_t>(std::max(0, b))] += 1;
    }
    html::Band band{"", {}, {}, {}, "#0072b2", 0.6};
    for (int b = 0; b < bins; ++b) {
        const double a0 = half_span * b / bins, a1 = half_span * (b + 1) / bins;
        double e0 = lo + a0 + a0, e1 = lo + a1 + a1;
        if (log_x) {
            e0 = std::pow(10.0, e0);
            e1 = std::pow(10.0, e1);
        }
        for (double e : {e0, e1}) {
            band.x.push_back(e);
            band.lo.push_back(0);
            band.hi.push_back(counts[static_cast<std::size_t>(b)]);
        }
    }
    c.bands.push_back(band);
    return c;
}

}  // namespace

std::string batch_summary_csv(const std::vector<json>& records) {
    std::string out = "path,status,error,width_px,height_px,band_used";
    for (const char* c : kColumns)
        out += std::string(",") + c;
    out += ",niirs_basis,edges_used,edges_x,edges_y,source,item_id,options_key,options\n";
    const auto sets = option_sets(records);
    // Appends one field after a comma (separate appends: GCC 12 warns falsely, -Wrestrict, on
    // chains of std::string temporaries).
    auto field = [&](const std::string& v) {
        out += ',';
        out += v;
    };
    for (const json* r : ordered(records)) {
        const json& s = record_field(*r, "summary");
        const bool has = s.is_object();
        out += csv_field(text(record_field(*r, "path")));
        field(text(record_field(*r, "status")));
        field(csv_field(text(record_field(*r, "error"))));
        field(has ? num(record_field(s, "width_px"), 0) : "");
        field(has ? num(record_field(s, "height_px"), 0) : "");
        field(has ? csv_field(text(record_field(s, "band_used"))) : "");
        for (const char* c : kColumns)
            field(has ? num(record_field(s, c), std::string(c) == "snr" ? 2 : 4) : "");
        field(has ? csv_field(text(record_field(s, "niirs_basis"))) : "");
        for (const char* c : {"edges_used", "edges_x", "edges_y"})
            field(has ? num(record_field(s, c), 0) : "");
        const json& src = record_field(*r, "source");
        field(text(record_field(src, "kind")));
        field(csv_field(text(record_field(src, "item_id"))));
        field(csv_field(text(record_field(*r, "options_key"))));
        field(csv_field(sets.at(text(record_field(*r, "options_key"))).label));
        out += '\n';
    }
    return out;
}

std::string batch_report_html(const std::vector<json>& records, const std::string& title) {
    using html::escape;
    const auto rows = ordered(records);
    std::vector<double> gsd, rer, snr, niirs;
    std::size_t failures = 0;
    for (const json* r : rows) {
        const json& s = record_field(*r, "summary");
        if (!s.is_object()) {
            ++failures;
            continue;
        }
        auto push = [&](std::vector<double>& v, const char* k) {
            if (record_field(s, k).is_number()) v.push_back(record_field(s, k).get<double>());
        };
        push(gsd, "gsd_m");
        push(rer, "rer_gm");
        push(snr, "snr");
        push(niirs, "niirs");
    }
    std::string h =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
    h += "<title>satiq batch: " + escape(title) + "</title>\n";
    h += R"(<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.4rem; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; } td.path, th.path { text-align: left; white-space: normal; word-break: break-all; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.muted { color: #555; font-size: 0.9rem; }
@media print { body { max-width: none; } svg, tr { break-inside: avoid; } }
</style>
</head>
<body>
)";
    const auto sets = option_sets(records);
    const bool several = sets.size() > 1;  // then every row says which options it had
    h += fmt::format(
        "<h1>Batch: {}</h1>\n<p id=\"counts\">{} images: {} assessed, {} failed.{}</p>\n", escape(title),
        records.size(), records.size() - failures, failures,
        several ? fmt::format(" The records come from {} sets of options (see Options).", sets.size()) : std::string());
    h += "<h2>Distributions</h2>\n<div class=\"charts\">\n";
    h += html::render_svg(histogram(gsd, true, "hist-gsd", "GSD", "GSD (m, log scale)")) + "\n";
    h += html::render_svg(histogram(rer, false, "hist-rer", "RER (geometric mean)", "RER")) + "\n";
    h += html::render_svg(histogram(snr, true, "hist-snr", "SNR", "SNR (log scale)")) + "\n";
    h += html::render_svg(histogram(niirs, false, "hist-niirs", "NIIRS (GIQE 5)", "NIIRS")) + "\n</div>\n";
    constexpr std::size_t kMaxRows = 5000;
    h += fmt::format(
        "<h2>Images by NIIRS</h2>\n{}<div class=\"scroll\"><table id=\"images\"><thead><tr>"
        "<th class=\"path\">image</th><th>NIIRS</th><th>basis</th><th>GSD m</th><th>RER</th>"
        "<th>SNR</th><th>edges x/y</th>{}</tr></thead><tbody>\n",
        records.size() - failures > kMaxRows
            ? fmt::format("<p class=\"muted\">The first {} of {}; every image is in summary.csv.</p>\n", kMaxRows,
                          records.size() - failures)
            : std::string(),
        several ? "<th class=\"path\">options</th>" : "");
    std::size_t shown = 0;
    for (const json* r : rows) {
        const json& s = record_field(*r, "summary");
        if (!s.is_object() || shown++ >= kMaxRows) continue;
        h += fmt::format(
            "<tr><td class=\"path\">{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td>"
            "{}</tr>\n",
            escape(text(record_field(*r, "path"))), num(record_field(s, "niirs"), 2),
            record_field(s, "niirs_standard_error").is_number()
                ? " &#177; " + num(record_field(s, "niirs_standard_error"), 2)
                : "",
            escape(text(record_field(s, "niirs_basis"))), num(record_field(s, "gsd_m"), 3),
            num(record_field(s, "rer_gm"), 3), num(record_field(s, "snr"), 1), num(record_field(s, "edges_x"), 0),
            num(record_field(s, "edges_y"), 0),
            several ? "<td class=\"path\">" + escape(options_cell(sets, *r)) + "</td>" : std::string());
    }
    h += "</tbody></table></div>\n";
    h += fmt::format("<h2>Failures</h2>\n<p class=\"muted\">{} image(s).</p>\n", failures);
    if (failures) {
        h += "<div class=\"scroll\"><table id=\"failures\"><thead><tr><th class=\"path\">image</th>"
             "<th class=\"path\">reason</th>";
        h += several ? "<th class=\"path\">options</th>" : "";
        h += "</tr></thead><tbody>\n";
        for (const json* r : rows) {
            if (record_field(*r, "summary").is_object()) continue;
            h += "<tr><td class=\"path\">" + escape(text(record_field(*r, "path"))) + "</td><td class=\"path\">" +
                 escape(text(record_field(*r, "error"))) + "</td>";
            if (several) h += "<td class=\"path\">" + escape(options_cell(sets, *r)) + "</td>";
            h += "</tr>\n";
        }
        h += "</tbody></table></div>\n";
    }
    // The options each record was made with (its key is what --resume and the merge compare).
    h += "<h2>Options</h2>\n<div class=\"scroll\"><table id=\"options\"><thead><tr><th>key</th>"
         "<th class=\"path\">options</th><th>records</th><th class=\"path\">as given</th></tr></thead><tbody>\n";
    for (const auto& [key, set] : sets)
        h += fmt::format(
            "<tr><td>{}</td><td class=\"path\">{}</td><td>{}</td><td class=\"path\"><code>{}</code></td></tr>\n",
            escape(key), escape(set.label.empty() ? "not recorded" : set.label), set.records,
            set.options ? escape(set.options->dump(-1, ' ', false, json::error_handler_t::replace)) : "");
    h += "</tbody></table></div>\n";
    h += fmt::format("<p class=\"muted\">satiq {}.</p>\n</body>\n</html>\n", SATIQ_VERSION_STRING);
    return h;
}

}  // namespace satiq
