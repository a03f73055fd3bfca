// satiq sweep's outputs (sweep.hpp): the result as JSON, CSV and text, and the files of the
// output folder (chips, results.csv, report.html, results.json).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/model/giqe.hpp"
#include "satiq/pipeline/ops/sweep.hpp"
#include "satiq/pipeline/report/report_html.hpp"
#include "satiq/version.hpp"
#include "sweep_detail.hpp"

namespace fs = std::filesystem;

namespace satiq {

using detail::niirs_to_use;

nlohmann::json to_json(const SweepResult& r) {
    using json = nlohmann::json;
    const SweepParams& p = r.params;
    json params{{"input", p.input.string()},
                {"output_dir", p.output_dir.string()},
                {"gsd_m", p.gsd_m.empty() ? json(nullptr) : json(p.gsd_m)},
                {"sensors", p.sensors.empty() ? json(nullptr) : json(p.sensors)},
                {"sensor", p.sensor ? json(*p.sensor) : json(nullptr)},
                {"sensor_overrides", p.sensor_overrides},
                {"mtf_nyquist", p.mtf_nyquist ? json(*p.mtf_nyquist) : json(nullptr)},
                {"sigma_px", p.sigma_px ? json(*p.sigma_px) : json(nullptr)},
                {"snr", p.snr ? json(*p.snr) : json(nullptr)},
                {"bits", p.bits ? json(*p.bits) : json(nullptr)},
                {"seed", p.seed},
                {"input_sigma_px", p.input_sigma_px ? json(*p.input_sigma_px) : json(nullptr)},
                {"input_mtf_nyquist", p.input_mtf_nyquist ? json(*p.input_mtf_nyquist) : json(nullptr)},
                {"band", p.band},
                {"keep_steps", p.keep_steps},
                {"chip_px", p.chip_px},
                {"model", r.model_description}};
    json steps = json::array();
    for (const SweepStep& s : r.steps) {
        DegradeResult dr;
        dr.plan = s.plan;
        json d = to_json(dr);
        // The step's figures are its prediction's and the sweep's resolved_parameters.
        d.erase("resolved_parameters");
        d.erase("provenance");
        steps.push_back(
            json{{"step", s.index},
                 {"label", s.label},
                 {"preset", s.preset ? json(*s.preset) : json(nullptr)},
                 {"target_gsd_m", s.target_gsd_m},
                 {"degrade", d},
                 {"assess", s.assessed ? to_json(*s.assessed, false) : json(nullptr)},
                 {"assess_error", s.assess_error.empty() ? json(nullptr) : json(s.assess_error)},
                 {"prediction", to_json(s.prediction)},
                 {"measurement_reliable", s.measurement_reliable},
                 {"reliability_note", s.reliability_note.empty() ? json(nullptr) : json(s.reliability_note)},
                 {"niirs_to_use", niirs_to_use(s)},
                 {"niirs_to_use_source", s.measurement_reliable ? "measured" : "predicted"},
                 {"chip", fmt::format("chips/step{:02}.png", s.index)},
                 {"zoom_chip", fmt::format("chips/step{:02}_zoom.png", s.index)},
                 {"seconds", s.seconds}});
    }
    json skipped = json::array();
    for (const SkippedStep& k : r.skipped_steps)
        skipped.push_back({{"label", k.label},
                           {"preset", k.preset ? json(*k.preset) : json(nullptr)},
                           {"target_gsd_m", k.target_gsd_m},
                           {"reason", k.reason}});
    json presets = json::array();
    for (const PresetMark& m : r.presets)
        presets.push_back({{"name", m.name},
                           {"display_name", m.display_name},
                           {"gsd_m", m.gsd_m},
                           {"predicted_niirs", m.niirs},
                           {"niirs_standard_error", m.niirs_standard_error}});
    json tasks = json::array();
    auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    for (const TaskRow& t : r.tasks) {
        json measured = json::array();
        for (const auto& m : t.measured)
            measured.push_back(m ? json(*m) : json(nullptr));
        tasks.push_back({{"task", t.id},
                         {"description", t.description},
                         {"group", t.group},
                         {"niirs_needed", t.niirs_needed},
                         {"measured_met", measured},
                         {"predicted_met", t.predicted},
                         {"coarsest_measured_gsd_m", opt(t.coarsest_measured_gsd_m)},
                         {"coarsest_predicted_gsd_m", opt(t.coarsest_predicted_gsd_m)},
                         {"required_gsd_m", opt(t.required_gsd_m)}});
    }
    return json{{"satiq_version", SATIQ_VERSION_STRING},
                {"command", "sweep"},
                {"parameters", params},
                {"resolved_parameters", r.resolved.values},
                {"provenance", provenance_json(r.resolved.provenance)},
                {"started_utc", r.started_utc},
                {"input",
                 {{"file", p.input.string()},
                  {"sha256", r.input_sha256},
                  {"bytes", r.input_bytes},
                  {"width_px", r.input_assessment.width},
                  {"height_px", r.input_assessment.height},
                  {"gsd_m", r.input_assessment.gsd.mean_m},
                  {"blur_sigma_px", r.input_sigma_px},
                  {"blur_source", r.input_blur_source},
                  {"assess", to_json(r.input_assessment, false)}}},
                {"chip_ground_m", r.chip_ground_m},
                {"zoom_ground_m", r.zoom_ground_m},
                {"steps", steps},
                {"skipped_steps", skipped},
                {"presets", presets},
                {"tasks", tasks},
                {"verdict", r.verdict},
                {"warnings", r.warnings},
                {"seconds", r.seconds}};
}

std::string to_csv(const SweepResult& r) {
    auto q = [](const std::string& s) {
        std::string o = "\"";
        for (char c : s)
            o += c == '"' ? std::string("\"\"") : std::string(1, c);
        return o + "\"";
    };
    auto num = [](std::optional<double> v, int prec) {
        return v && std::isfinite(*v) ? fmt::format("{:.{}f}", *v, prec) : std::string();
    };
    std::string out =
        "step,label,preset,target_gsd_m,edges_x,edges_y,measurement_reliable,reliability_note,measured_rer_x,"
        "measured_rer_y,measured_rer_gm,measured_mtf50_cyc_per_px,measured_noise_sigma_dn,measured_snr,"
        "measured_niirs,measured_niirs_standard_error,measured_niirs_basis,predicted_rer_gm,"
        "predicted_mtf50_cyc_per_px,predicted_snr,predicted_niirs,predicted_niirs_standard_error,niirs_to_use,"
        "niirs_to_use_source\n";
    for (const SweepStep& s : r.steps) {
        const AssessResult* a = s.assessed ? &*s.assessed : nullptr;
        const auto& ag = a ? a->edges.aggregate : EdgeAggregate{};
        auto axis = [&](const EdgeAxisSummary& x) {
            return x.count ? std::optional<double>(x.rer.median) : std::nullopt;
        };
        std::optional<double> mtf50;
        if (a && ag.x.count && ag.y.count)
            mtf50 = std::sqrt(ag.x.mtf50_cyc_per_px.median * ag.y.mtf50_cyc_per_px.median);
        const auto& f = s.prediction.model->figures();
        out += fmt::format(
            "{},{},{},{:.4f},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4f},{:.4f},{:.2f},{:.3f},{:.3f},{:.3f},{}\n",
            s.index, q(s.label), s.preset ? *s.preset : "", s.target_gsd_m, a ? ag.x.count : 0, a ? ag.y.count : 0,
            s.measurement_reliable ? "true" : "false", q(s.reliability_note), num(a ? axis(ag.x) : std::nullopt, 4),
            num(a ? axis(ag.y) : std::nullopt, 4), num(a && ag.usable ? std::optional(ag.rer_gm) : std::nullopt, 4),
            num(mtf50, 4), num(a ? std::optional(a->noise_sigma_dn) : std::nullopt, 3),
            num(a ? std::optional(a->snr) : std::nullopt, 2),
            num(a && a->giqe5 ? std::optional(a->giqe5->value) : std::nullopt, 3),
            num(a && a->giqe5 ? a->giqe5->standard_error : std::nullopt, 3),
            a && a->giqe5 ? (a->gsd_alone ? "estimated from GSD alone" : "measured edges") : "",
            s.prediction.rer_geometric_mean, std::sqrt(f.x.mtf50_cyc_per_px * f.y.mtf50_cyc_per_px), f.snr,
            s.prediction.giqe5.value, s.prediction.giqe5.standard_error.value_or(0.0), niirs_to_use(s),
            s.measurement_reliable ? "measured" : "predicted");
    }
    return out;
}

std::string to_text(const SweepResult& r) {
    std::string out = fmt::format(
        "satiq sweep: {} ({} x {} px, GSD {:.3f} m, sha256 {}...)\n  model: {}\n  input blur: {}\n",
        r.params.input.string(), r.input_assessment.width, r.input_assessment.height, r.input_assessment.gsd.mean_m,
        r.input_sha256.substr(0, 12), r.model_description, r.input_blur_source);
    // "edges x/y": the usable edges along each axis (not used of found).
    out += fmt::format("  {:>4}  {:<28} {:>8} {:>9} {:>9} {:>9} {:>6}  {}\n", "step", "label", "GSD m", "edges x/y",
                       "NIIRS mea", "NIIRS pre", "SNR", "note");
    // GIQE 5 range notes (giqe5_input_warnings, niirs_scale_warning; the full sentences are in the
    // JSON per step): one footnote per kind, its number on every step it concerns.
    std::vector<std::string> labels;                                // footnote n is labels[n - 1]
    std::vector<std::pair<std::vector<int>, std::vector<int>>> on;  // steps measured, predicted
    auto footnotes = [&](const SweepStep& s) {
        std::vector<int> marks;
        auto add = [&](const std::vector<std::string>& warnings, bool measured) {
            for (const std::string& w : warnings) {
                const std::optional<std::string> label = giqe::giqe5_warning_label(w);
                if (!label) continue;
                const auto it = std::find(labels.begin(), labels.end(), *label);
                const int n = static_cast<int>(it - labels.begin()) + 1;
                if (it == labels.end()) {
                    labels.push_back(*label);
                    on.emplace_back();
                }
                std::vector<int>& steps = measured ? on[n - 1].first : on[n - 1].second;
                if (steps.empty() || steps.back() != s.index) steps.push_back(s.index);
                if (std::find(marks.begin(), marks.end(), n) == marks.end()) marks.push_back(n);
            }
        };
        if (s.assessed && s.assessed->giqe5) add(s.assessed->giqe5->warnings, true);
        add(s.prediction.giqe5.warnings, false);
        std::sort(marks.begin(), marks.end());
        return marks.empty() ? std::string() : fmt::format("[{}]", fmt::join(marks, ","));
    };
    for (const SweepStep& s : r.steps) {
        const AssessResult* a = s.assessed ? &*s.assessed : nullptr;
        std::string note = footnotes(s);
        if (!s.measurement_reliable) {
            if (!note.empty()) note += ' ';
            note += "unreliable: use the prediction";
        }
        std::string row =
            fmt::format("  {:>4}  {:<28} {:>8.3f} {:>4}/{:<4} {:>9} {:>9.2f} {:>6}  {}", s.index, s.label,
                        s.target_gsd_m, a ? a->edges.aggregate.x.count : 0, a ? a->edges.aggregate.y.count : 0,
                        a && a->giqe5 ? fmt::format("{:.2f}", a->giqe5->value) : "n/a", s.prediction.giqe5.value,
                        a ? fmt::format("{:.1f}", a->snr) : "n/a", note);
        row.erase(row.find_last_not_of(' ') + 1);  // no trailing blanks where there is no note
        out += row + "\n";
    }
    if (!labels.empty()) {
        out += "  GIQE 5 range notes (each step's JSON has them in full):\n";
        for (std::size_t i = 0; i < labels.size(); ++i) {
            const auto& [measured, predicted] = on[i];
            std::string where;
            auto steps = [](const char* what, const std::vector<int>& v) {
                return fmt::format("{}: step{} {}", what, v.size() > 1 ? "s" : "", fmt::join(v, ", "));
            };
            if (!measured.empty()) where = steps("measured", measured);
            if (!predicted.empty()) where += (where.empty() ? "" : "; ") + steps("predicted", predicted);
            out += fmt::format("  [{}] {} ({})\n", i + 1, labels[i], where);
        }
    }
    out += "Verdict: " + r.verdict + "\n";
    for (const std::string& w : r.warnings)
        out += "  ! " + w + "\n";
    out += fmt::format("Report: {}\n", (r.params.output_dir / "report.html").string());
    return out;
}

void write_sweep_outputs(const SweepResult& r) {
    if (!r.staging) throw Error("sweep: no staged output folder to write into");
    const fs::path& dir = r.staging->dir();
    fs::create_directories(dir / "chips");
    auto bytes = [](const std::vector<unsigned char>& v) {
        return std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
    };
    write_file_atomically(dir / "chips" / "input.png", bytes(r.input_chip_png));
    write_file_atomically(dir / "chips" / "input_zoom.png", bytes(r.input_zoom_png));
    for (const SweepStep& s : r.steps) {
        write_file_atomically(dir / "chips" / fmt::format("step{:02}.png", s.index), bytes(s.chip_png));
        write_file_atomically(dir / "chips" / fmt::format("step{:02}_zoom.png", s.index), bytes(s.zoom_png));
    }
    write_file_atomically(dir / "results.csv", to_csv(r));
    write_file_atomically(dir / "report.html", sweep_report_html(r));
    write_file_atomically(dir / "results.json",
                          to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    // Into the output folder, results.json last: its presence means the sweep finished.
    r.staging->commit();
}

}  // namespace satiq
