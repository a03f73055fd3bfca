// report.html of a sweep (report_html.hpp): verdict, charts, chips, task matrix, provenance.
#include "satiq/pipeline/report/report_html.hpp"

#include <cmath>
#include <span>

#include <fmt/format.h>

#include "satiq/pipeline/ops/sweep.hpp"
#include "satiq/pipeline/report/html.hpp"
#include "satiq/version.hpp"

namespace satiq {

namespace {

using html::escape;

constexpr const char* kStyle = R"(
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.5rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; }
.verdict { font-size: 1.15rem; background: #fff6dd; border-left: 6px solid #e69f00; padding: 0.8rem 1rem; }
.muted { color: #555; font-size: 0.9rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.45rem; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; }
td.task, th.task { text-align: left; white-space: normal; min-width: 16rem; }
td.met { background: #d8f0d8; }
td.part { background: #fbeecb; }
td.not { background: #f6dada; }
tr.unreliable td { color: #8a5a00; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 1rem; }
.wide svg { max-width: 900px; }
td.note, th.note { text-align: left; white-space: normal; min-width: 12rem; }
.chips { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 0.6rem; }
figure { margin: 0; }
figure img { width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #999; display: block; }
figcaption { font-size: 0.8rem; text-align: center; }
details summary { cursor: pointer; font-weight: 600; margin: 0.4rem 0; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 0.75rem; white-space: pre-wrap; }
@media print { body { max-width: none; } .chips { grid-template-columns: repeat(4, 1fr); }
  details { display: block; } h2 { break-after: avoid; } figure, table, svg { break-inside: avoid; } }
)";

std::string fixed(double v, int prec) {
    return std::isfinite(v) ? fmt::format("{:.{}f}", v, prec) : std::string("n/a");
}

std::string gsd_text(double g) {
    return g < 1 ? fmt::format("{:.2f}", g) : g < 10 ? fmt::format("{:.1f}", g) : fmt::format("{:.0f}", g);
}

std::string png_img(const std::vector<unsigned char>& png, const std::string& alt) {
    return fmt::format(R"(<img src="{}" alt="{}" width="320" height="320"/>)",
                       html::data_uri("image/png", std::span<const unsigned char>(png.data(), png.size())),
                       escape(alt));
}

std::optional<double> measured_niirs(const SweepStep& s) {
    if (s.assessed && s.assessed->giqe5) return s.assessed->giqe5->value;
    return std::nullopt;
}

std::string charts(const SweepResult& r) {
    std::vector<double> x, pn, plo, phi, mn_ok, mn_bad, prer, mrer, pmtf, mmtf, psnr, msnr;
    for (const SweepStep& s : r.steps) {
        x.push_back(s.target_gsd_m);
        const double n = s.prediction.giqe5.value, se = s.prediction.giqe5.standard_error.value_or(0.0);
        pn.push_back(n);
        plo.push_back(n - se);
        phi.push_back(n + se);
        const auto m = measured_niirs(s);
        mn_ok.push_back(m && s.measurement_reliable ? *m : NAN);
        mn_bad.push_back(m && !s.measurement_reliable ? *m : NAN);
        prer.push_back(s.prediction.rer_geometric_mean);
        const auto& f = s.prediction.model->figures();
        pmtf.push_back(std::sqrt(f.x.mtf50_cyc_per_px * f.y.mtf50_cyc_per_px));
        psnr.push_back(f.snr);
        const AssessResult* a = s.assessed ? &*s.assessed : nullptr;
        const auto& ag = a ? a->edges.aggregate : EdgeAggregate{};
        mrer.push_back(a && ag.usable ? ag.rer_gm : NAN);
        mmtf.push_back(a && ag.x.count && ag.y.count
                           ? std::sqrt(ag.x.mtf50_cyc_per_px.median * ag.y.mtf50_cyc_per_px.median)
                           : NAN);
        msnr.push_back(a ? a->snr : NAN);
    }
    const double xmin = x.front() * 0.8, xmax = x.back() * 1.25;
    html::Chart niirs;
    niirs.id = "chart-niirs";
    niirs.title = "NIIRS against GSD";
    niirs.x_label = "GSD (m, log scale)";
    niirs.y_label = "NIIRS (GIQE 5)";
    niirs.log_x = true;
    niirs.x_min = xmin;
    niirs.x_max = xmax;
    niirs.y_min = 0;
    niirs.y_max = 9;
    niirs.bands.push_back({"predicted +/- standard error", x, plo, phi, "#56b4e9", 0.25});
    niirs.series.push_back({"predicted (sensor model)", x, pn, "#0072b2", true, false, false});
    niirs.series.push_back({"measured (>= 3 edges per axis)", x, mn_ok, "#d55e00", false, true, false});
    niirs.series.push_back({"measured, unreliable (too few edges)", x, mn_bad, "#e69f00", false, true, false});
    for (int l = 1; l <= 9; ++l)
        niirs.hlines.push_back({static_cast<double>(l), fmt::format("NIIRS {}", l)});
    for (const PresetMark& m : r.presets)
        if (m.gsd_m >= xmin && m.gsd_m <= xmax) niirs.points.push_back({m.gsd_m, m.niirs, m.display_name, "#009e73"});

    html::Chart rer;
    rer.id = "chart-rer";
    rer.title = "Edge response against GSD";
    rer.x_label = "GSD (m, log scale)";
    rer.y_label = "RER (geometric mean of x and y)";
    rer.log_x = true;
    rer.x_min = xmin;
    rer.x_max = xmax;
    rer.y_min = 0;
    rer.series.push_back({"predicted RER", x, prer, "#0072b2", true, false, false});
    rer.series.push_back({"measured RER", x, mrer, "#d55e00", true, true, false});

    html::Chart mtf = rer;
    mtf.id = "chart-mtf50";
    mtf.title = "MTF50 against GSD";
    mtf.y_label = "MTF50 (cycles per pixel)";
    mtf.series = {{"predicted MTF50", x, pmtf, "#0072b2", true, false, false},
                  {"measured MTF50", x, mmtf, "#d55e00", true, true, false}};

    html::Chart snr = rer;
    snr.id = "chart-snr";
    snr.title = "Signal to noise against GSD";
    snr.y_label = "SNR (GIQE convention)";
    snr.series = {{"target SNR (sensor model)", x, psnr, "#0072b2", true, false, false},
                  {"measured SNR", x, msnr, "#d55e00", true, true, false}};

    return "<div class=\"wide\">" + html::render_svg(niirs) + "</div>\n<div class=\"charts\">\n" +
           html::render_svg(rer) + "\n" + html::render_svg(mtf) + "\n" + html::render_svg(snr) + "\n</div>\n";
}

// The steps table's note (the full one is in results.json and the CSV).
std::string short_note(const SweepStep& s) {
    if (s.measurement_reliable) return "measurement reliable";
    if (!s.assessed) return "assessment failed: use the prediction";
    const auto& a = s.assessed->edges.aggregate;
    if (a.usable_count == 0) return "no usable edges: use the prediction";
    return fmt::format("too few edges ({}/{}): use the prediction", a.x.count, a.y.count);
}

std::string steps_table(const SweepResult& r) {
    std::string h = R"(<div class="scroll"><table id="steps"><thead><tr><th class="task">step</th><th>GSD m</th>)"
                    R"(<th>edges x/y</th><th>RER measured</th><th>RER predicted</th><th>SNR measured</th>)"
                    R"(<th>NIIRS measured</th><th>NIIRS predicted</th><th>NIIRS to use</th><th class="note">note</th>)"
                    "</tr></thead><tbody>\n";
    const AssessResult& in = r.input_assessment;
    h += fmt::format(
        "<tr><td class=\"task\">input</td><td>{}</td><td>{}/{}</td><td>{}</td><td></td><td>{}</td><td>{}</td><td></td>"
        "<td></td><td class=\"note\">the image as given</td></tr>\n",
        fixed(in.gsd.mean_m, 3), in.edges.aggregate.x.count, in.edges.aggregate.y.count,
        in.edges.aggregate.usable ? fixed(in.edges.aggregate.rer_gm, 3) : "n/a", fixed(in.snr, 1),
        in.giqe5 ? fixed(in.giqe5->value, 2) : "n/a");
    for (const SweepStep& s : r.steps) {
        const AssessResult* a = s.assessed ? &*s.assessed : nullptr;
        const auto m = measured_niirs(s);
        const double use = s.measurement_reliable && m ? *m : s.prediction.giqe5.value;
        h += fmt::format(
            "<tr{}><td class=\"task\">{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{} &#177; {}</td><td><strong>{}</strong> ({})</td><td class=\"note\">{}</td></tr>\n",
            s.measurement_reliable ? "" : " class=\"unreliable\"", escape(s.label), fixed(s.target_gsd_m, 3),
            a ? a->edges.aggregate.x.count : 0, a ? a->edges.aggregate.y.count : 0,
            a && a->edges.aggregate.usable ? fixed(a->edges.aggregate.rer_gm, 3) : "n/a",
            fixed(s.prediction.rer_geometric_mean, 3), a ? fixed(a->snr, 1) : "n/a",
            m ? fixed(*m, 2) + (a && a->gsd_alone ? " (GSD alone)" : "") : "n/a", fixed(s.prediction.giqe5.value, 2),
            fixed(s.prediction.giqe5.standard_error.value_or(0.0), 2), fixed(use, 2),
            s.measurement_reliable ? "measured" : "predicted", escape(short_note(s)));
    }
    return h + "</tbody></table></div>\n";
}

std::string chips(const SweepResult& r) {
    std::string h = fmt::format(
        "<p class=\"muted\">The same {:.0f} m square of ground at every step, each shown at the same size (pixels "
        "enlarged without smoothing, so each step's own pixels are visible); below, a {:.0f} m square around a "
        "target, zoomed.</p>\n<div class=\"chips\" id=\"chips\">\n",
        r.chip_ground_m, r.zoom_ground_m);
    h += "<figure>" + png_img(r.input_chip_png, "input") +
         fmt::format("<figcaption>input, {} m</figcaption></figure>\n", gsd_text(r.input_assessment.gsd.mean_m));
    for (const SweepStep& s : r.steps)
        h += "<figure>" + png_img(s.chip_png, s.label) +
             fmt::format(
                 "<figcaption>{}, NIIRS {}</figcaption></figure>\n", escape(s.label),
                 fixed(s.measurement_reliable && measured_niirs(s) ? *measured_niirs(s) : s.prediction.giqe5.value, 1));
    h += "</div>\n<h3>Zoomed on a target</h3>\n<div class=\"chips\" id=\"zoom-chips\">\n";
    h += "<figure>" + png_img(r.input_zoom_png, "input, zoomed") + "<figcaption>input</figcaption></figure>\n";
    for (const SweepStep& s : r.steps)
        h += "<figure>" + png_img(s.zoom_png, s.label + ", zoomed") +
             fmt::format("<figcaption>{}</figcaption></figure>\n", escape(s.label));
    return h + "</div>\n";
}

std::string task_matrix(const SweepResult& r) {
    std::string h =
        "<p class=\"muted\">Each cell: M = measured, P = predicted; &#10003; met, &#10007; not met, &#8211; no "
        "measured "
        "NIIRS. A Johnson task is met when the one interpretability model gives P &#8805; 0.5; a NIIRS criterion when "
        "the NIIRS reaches its level. Measurements resting on fewer than 3 edges per axis are not counted in the "
        "coarsest measured GSD. &#8220;satiq require&#8221; gives the coarsest GSD at the sweep's RER and SNR.</p>\n";
    std::string group;
    bool open_group = false;
    auto close = [&] {
        if (open_group) h += "</tbody></table></div></details>\n";
        open_group = false;
    };
    std::string head = "<tr><th class=\"task\">task</th><th>NIIRS needed</th>";
    for (const SweepStep& s : r.steps)
        head += fmt::format("<th>{}</th>", escape(s.label));
    head += "<th>coarsest GSD measured</th><th>coarsest GSD predicted</th><th>satiq require GSD</th></tr>";
    for (const TaskRow& t : r.tasks) {
        if (t.group != group) {
            close();
            group = t.group;
            const bool open = group.find("civil") == std::string::npos;
            h += fmt::format(
                "<details{}><summary>{}</summary><div class=\"scroll\"><table class=\"tasks\"><thead>{}"
                "</thead><tbody>\n",
                open ? " open=\"open\"" : "", escape(group), head);
            open_group = true;
        }
        h += fmt::format("<tr><td class=\"task\">{}<br/><span class=\"muted\">{}</span></td><td>{}</td>",
                         escape(t.description), escape(t.id), fixed(t.niirs_needed, 1));
        for (std::size_t i = 0; i < t.predicted.size(); ++i) {
            const std::optional<bool>& m = t.measured[i];
            const bool p = t.predicted[i];
            const char* cls = (m ? *m : p) && p ? "met" : ((m && *m) || p) ? "part" : "not";
            h += fmt::format("<td class=\"{}\">M{} P{}</td>", cls,
                             !m   ? "&#8211;"
                             : *m ? "&#10003;"
                                  : "&#10007;",
                             p ? "&#10003;" : "&#10007;");
        }
        auto g = [](const std::optional<double>& v) { return v ? gsd_text(*v) + " m" : std::string("none"); };
        h += fmt::format("<td>{}</td><td>{}</td><td>{}</td></tr>\n", g(t.coarsest_measured_gsd_m),
                         g(t.coarsest_predicted_gsd_m), g(t.required_gsd_m));
    }
    close();
    return h;
}

}  // namespace

std::string sweep_report_html(const SweepResult& r) {
    const SweepParams& p = r.params;
    std::string h =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
    h += fmt::format("<title>satiq sweep: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
                     escape(p.input.filename().string()), kStyle);
    h += fmt::format("<h1>Resolution against usability: {}</h1>\n", escape(p.input.filename().string()));
    h += "<p class=\"verdict\" id=\"verdict\">" + escape(r.verdict) + "</p>\n";
    h += fmt::format(
        "<p class=\"muted\">Each step degrades the image to a coarser sensor ({}), measures the result from its own "
        "edges and noise (satiq assess) and predicts it from the sensor model (satiq predict). NIIRS from GIQE 5 "
        "(NGA 2015); where a measurement rests on fewer than 3 edges per axis the prediction is the figure to use. "
        "Scene contrast and clutter are not modelled.</p>\n",
        escape(r.model_description));
    h += "<h2>Steps</h2>\n" + steps_table(r);
    if (!r.skipped_steps.empty()) {
        h += "<p class=\"muted\" id=\"skipped\">Skipped (a sweep only coarsens):";
        for (std::size_t i = 0; i < r.skipped_steps.size(); ++i) {
            const SkippedStep& k = r.skipped_steps[i];
            h += fmt::format("{} {} ({:.2f} m): {}", i ? ";" : "", escape(k.label), k.target_gsd_m, escape(k.reason));
        }
        h += ".</p>\n";
    }
    h += "<h2>Charts</h2>\n" + charts(r);
    h += "<p class=\"muted\">Green points: the built-in sensor presets, each predicted at its own GSD.</p>\n";
    h += "<h2>What each step shows</h2>\n" + chips(r);
    h += "<h2>Task matrix</h2>\n" + task_matrix(r);
    if (!r.warnings.empty()) {
        h += "<h2>Warnings</h2>\n<ul>\n";
        for (const std::string& w : r.warnings)
            h += "<li>" + escape(w) + "</li>\n";
        h += "</ul>\n";
    }
    h += "<h2>Provenance</h2>\n<table id=\"provenance\"><tbody>\n";
    auto row = [&](const std::string& k, const std::string& v) {
        h += "<tr><th class=\"task\">" + escape(k) + "</th><td class=\"task\">" + escape(v) + "</td></tr>\n";
    };
    row("satiq version", SATIQ_VERSION_STRING);
    row("date (UTC)", r.started_utc);
    row("input", p.input.string());
    row("input SHA-256", r.input_sha256);
    row("input size", fmt::format("{} bytes, {} x {} px, GSD {:.4f} m", r.input_bytes, r.input_assessment.width,
                                  r.input_assessment.height, r.input_assessment.gsd.mean_m));
    row("input blur", fmt::format("sigma {:.3f} px, {}", r.input_sigma_px, r.input_blur_source));
    row("model", r.model_description);
    // Every figure the steps used, given or not, with where it comes from (results.json's
    // resolved_parameters and provenance).
    for (const auto& [key, n] : r.resolved.provenance) {
        const auto v = r.resolved.values.find(key);
        std::string value;
        if (v == r.resolved.values.end() || v->is_null())
            value = "none";
        else if (v->is_array())
            for (const nlohmann::json& e : *v)
                value +=
                    (value.empty() ? "" : ", ") + (e.is_number() ? fmt::format("{:.4g}", e.get<double>()) : e.dump());
        else
            value = v->is_number() ? fmt::format("{:.6g}", v->get<double>()) : v->dump();
        row(key, fmt::format("{} ({}: {})", value, n.kind, n.text));
    }
    row("seed", std::to_string(p.seed));
    row("run time", fmt::format("{:.1f} s", r.seconds));
    h += "</tbody></table>\n<details><summary>Every parameter (results.json)</summary><pre>" +
         escape(to_json(r)["parameters"].dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) +
         "</pre></details>\n";
    h += "</body>\n</html>\n";
    return h;
}

}  // namespace satiq
