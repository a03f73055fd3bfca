// summary.csv and report.html of a batch (batch_run.hpp): every image sorted by NIIRS, the
// distributions of GSD, RER, SNR and NIIRS, and the failures with their reasons.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "satiq/pipeline/ops/batch_run.hpp"
#include "satiq/pipeline/report/html.hpp"
#include "satiq/version.hpp"

namespace satiq {

namespace {

// The images' order in the summary and report: NIIRS, best first; no NIIRS, then failures, last;
// ties by path.
std::vector<const RecordRow*> ordered(const std::vector<RecordRow>& rows) {
    std::vector<const RecordRow*> v;
    v.reserve(rows.size());
    for (const RecordRow& r : rows)
        v.push_back(&r);
    auto niirs = [](const RecordRow* r) {
        const double n = r->figures[RecordRow::niirs];
        return r->has_summary && std::isfinite(n) ? n : -1e9;
    };
    std::stable_sort(v.begin(), v.end(), [&](const RecordRow* a, const RecordRow* b) {
        if (a->ok() != b->ok()) return a->ok();
        if (niirs(a) != niirs(b)) return niirs(a) > niirs(b);
        return a->path < b->path;
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

// A figure with `prec` decimals; empty when the record has none.
std::string num(double v, int prec) {
    return std::isnan(v) ? std::string() : fmt::format("{:.{}f}", v, prec);
}

// What a table cell says of a record's options: its set's label, else its key.
std::string options_cell(const OptionSets& sets, const RecordRow& r) {
    const auto it = sets.find(r.options_key);
    return it != sets.end() && !it->second.label.empty() ? it->second.label : r.options_key;
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

namespace {

// The text columns of summary.csv, each after the figure it describes (RecordRow::Figure order);
// warning_count after the edges.
struct TextColumn {
    RecordRow::Figure after;
    const char* name;
    std::string (*value)(const RecordRow&);
};
constexpr TextColumn kTextColumns[] = {
    {RecordRow::height_px, "band_used", [](const RecordRow& r) { return r.band_used; }},
    {RecordRow::gsd_m, "gsd_method", [](const RecordRow& r) { return r.gsd_method; }},
    {RecordRow::elevation_deg, "elevation_source", [](const RecordRow& r) { return r.elevation_source; }},
    {RecordRow::snr, "snr_source", [](const RecordRow& r) { return r.snr_source; }},
    {RecordRow::niirs_standard_error, "niirs_basis", [](const RecordRow& r) { return r.niirs_basis; }},
    {RecordRow::edges_y, "warning_count", [](const RecordRow& r) { return std::to_string(r.warning_count); }},
};

}  // namespace

std::string batch_summary_csv(const std::vector<RecordRow>& rows, const OptionSets& sets) {
    std::string out = "path,status,error";
    for (std::size_t i = 0; i < RecordRow::figure_count; ++i) {
        out += ',';
        out += RecordRow::figure_names[i];
        for (const TextColumn& t : kTextColumns)
            if (t.after == i) {
                out += ',';
                out += t.name;
            }
    }
    out += ",source,item_id,options_key,options\n";
    // Appends one field after a comma (separate appends: GCC 12 warns falsely, -Wrestrict, on
    // chains of std::string temporaries).
    auto field = [&](const std::string& v) {
        out += ',';
        out += v;
    };
    for (const RecordRow* r : ordered(rows)) {
        out += csv_field(r->path);
        field(r->status);
        field(csv_field(r->error));
        for (std::size_t i = 0; i < RecordRow::figure_count; ++i) {
            const std::string c = RecordRow::figure_names[i];
            const int prec = c == "width_px" || c == "height_px" || c.rfind("edges_", 0) == 0 ? 0
                             : c == "snr" || c == "elevation_deg"                             ? 2
                                                                                              : 4;
            field(r->has_summary ? num(r->figures[i], prec) : "");
            for (const TextColumn& t : kTextColumns)
                if (t.after == i) field(r->has_summary ? csv_field(t.value(*r)) : "");
        }
        field(csv_field(r->source_kind));
        field(csv_field(r->item_id));
        field(csv_field(r->options_key));
        const auto set = sets.find(r->options_key);
        field(csv_field(set != sets.end() ? set->second.label : std::string()));
        out += '\n';
    }
    return out;
}

std::string batch_report_html(const std::vector<RecordRow>& records, const OptionSets& sets, const std::string& title) {
    using html::escape;
    const auto rows = ordered(records);
    std::vector<double> gsd, rer, snr, niirs;
    std::size_t failures = 0;
    std::map<std::string, std::size_t> per_set;  // records per options key
    for (const RecordRow* r : rows) {
        ++per_set[r->options_key];
        if (!r->has_summary) {
            ++failures;
            continue;
        }
        auto push = [&](std::vector<double>& v, RecordRow::Figure f) {
            if (!std::isnan(r->figures[f])) v.push_back(r->figures[f]);
        };
        push(gsd, RecordRow::gsd_m);
        push(rer, RecordRow::rer_gm);
        push(snr, RecordRow::snr);
        push(niirs, RecordRow::niirs);
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
td.label, th.label { text-align: left; }
code { font-size: 0.8rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.muted { color: #555; font-size: 0.9rem; }
@media print { body { max-width: none; } svg, tr { break-inside: avoid; } }
</style>
</head>
<body>
)";
    const bool several = per_set.size() > 1;  // then every row says which options it had
    h += fmt::format("<h1>Batch: {}</h1>\n<p id=\"counts\">{} images: {} assessed, {} failed.{}</p>\n", escape(title),
                     records.size(), records.size() - failures, failures,
                     several ? fmt::format(" The records come from {} sets of options (see Options).", per_set.size())
                             : std::string());
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
    for (const RecordRow* r : rows) {
        if (!r->has_summary || shown++ >= kMaxRows) continue;
        const auto& f = r->figures;
        h += fmt::format(
            "<tr><td class=\"path\">{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td>"
            "{}</tr>\n",
            escape(r->path), num(f[RecordRow::niirs], 2),
            std::isnan(f[RecordRow::niirs_standard_error]) ? ""
                                                           : " &#177; " + num(f[RecordRow::niirs_standard_error], 2),
            escape(r->niirs_basis), num(f[RecordRow::gsd_m], 3), num(f[RecordRow::rer_gm], 3),
            num(f[RecordRow::snr], 1), num(f[RecordRow::edges_x], 0), num(f[RecordRow::edges_y], 0),
            several ? "<td class=\"path\">" + escape(options_cell(sets, *r)) + "</td>" : std::string());
    }
    h += "</tbody></table></div>\n";
    h += fmt::format("<h2>Failures</h2>\n<p class=\"muted\">{} image(s).</p>\n", failures);
    if (failures) {
        h += "<div class=\"scroll\"><table id=\"failures\"><thead><tr><th class=\"path\">image</th>"
             "<th class=\"path\">reason</th>";
        h += several ? "<th class=\"path\">options</th>" : "";
        h += "</tr></thead><tbody>\n";
        for (const RecordRow* r : rows) {
            if (r->has_summary) continue;
            h += "<tr><td class=\"path\">" + escape(r->path) + "</td><td class=\"path\">" + escape(r->error) + "</td>";
            if (several) h += "<td class=\"path\">" + escape(options_cell(sets, *r)) + "</td>";
            h += "</tr>\n";
        }
        h += "</tbody></table></div>\n";
    }
    // The options each record was made with (its key is what --resume and the merge compare).
    h += "<h2>Options</h2>\n<div class=\"scroll\"><table id=\"options\"><thead><tr><th>key</th>"
         "<th class=\"label\">options</th><th>records</th><th class=\"path\">as given</th></tr></thead><tbody>\n";
    for (const auto& [key, count] : per_set) {
        const auto set = sets.find(key);
        const bool known = set != sets.end() && !set->second.options_json.empty();
        h += fmt::format(
            "<tr><td>{}</td><td class=\"label\">{}</td><td>{}</td><td class=\"path\"><code>{}</code></td></tr>\n",
            escape(key), escape(known ? set->second.label : "not recorded"), count,
            known ? escape(set->second.options_json) : "");
    }
    h += "</tbody></table></div>\n";
    h += fmt::format("<p class=\"muted\">satiq {}.</p>\n</body>\n</html>\n", SATIQ_VERSION_STRING);
    return h;
}

}  // namespace satiq
