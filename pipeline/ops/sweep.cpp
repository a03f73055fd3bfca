// satiq sweep: degrade -> assess -> predict at each step, the task matrix and the verdict
// (sweep.hpp). The report's HTML lives in report_html.cpp; the chips in sweep_chips.cpp.
#include "satiq/pipeline/ops/sweep.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include <openssl/evp.h>
#include "clock.hpp"

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/report/report_html.hpp"
#include "satiq/pipeline/model/require.hpp"
#include "sweep_chips.hpp"

namespace fs = std::filesystem;

namespace satiq {

namespace {

using detail::Clock;
using detail::seconds_since;

using detail::utc_now;

// SHA-256 (FIPS 180-4) of a file through OpenSSL's EVP interface, streamed in 1 MiB blocks.
std::string sha256_file(const fs::path& path, std::uintmax_t& bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot be read for its checksum", path.string()));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx);
        throw Error("sha256: OpenSSL could not start a digest");
    }
    std::vector<char> buf(1 << 20);
    bytes = 0;
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const std::streamsize n = in.gcount();
        if (n > 0) {
            EVP_DigestUpdate(ctx, buf.data(), static_cast<std::size_t>(n));
            bytes += static_cast<std::uintmax_t>(n);
        }
    }
    if (in.bad()) {
        EVP_MD_CTX_free(ctx);
        throw Error(fmt::format("{}: read error while computing its checksum", path.string()));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    std::string hex;
    for (unsigned int i = 0; i < len; ++i)
        hex += fmt::format("{:02x}", md[i]);
    return hex;
}

std::string gsd_label(double g) {
    return g < 1 ? fmt::format("{:.2f} m", g) : g < 10 ? fmt::format("{:.1f} m", g) : fmt::format("{:.0f} m", g);
}

// Refuses an output folder that is not a folder or cannot take a file, before any work.
void check_output_dir(const fs::path& dir) {
    std::error_code ec;
    const auto st = fs::symlink_status(dir, ec);
    if (!ec && fs::exists(st) && !fs::is_directory(fs::status(dir, ec)))
        throw Error(fmt::format("{}: the output must be a folder (it exists and is not one)", dir.string()));
    if (!fs::exists(st)) {
        fs::create_directories(dir, ec);
        if (ec) throw Error(fmt::format("{}: cannot create the output folder: {}", dir.string(), ec.message()));
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw Error(fmt::format("{}: the output folder is not writable", dir.string()));
}

// The model of one step: degrade's parameters and the matching sensor model for predict.
struct StepModel {
    DegradeParams degrade;
    std::optional<sensor::SensorModel> model;
    std::string mode, preset;
};

StepModel step_model(const SweepParams& p, double gsd_m, const std::optional<std::string>& preset) {
    StepModel s;
    s.degrade.seed = p.seed;
    s.degrade.bits = p.bits;
    s.degrade.gsd = p.gsd;
    if (preset) {  // --sensors: the preset as it is
        const sensor::SensorPreset& sp = sensor::find_sensor_preset(*preset);
        s.degrade.sensor = sp.name;
        s.model = sensor::SensorModel::physical(sp.description);
        s.mode = "preset";
        s.preset = sp.name;
        return s;
    }
    if (p.sensor) {  // the template at this GSD: its altitude scaled (GSD = p H / f)
        const sensor::SensorPreset& sp = sensor::find_sensor_preset(*p.sensor);
        sensor::SensorDescription d = p.sensor_description ? *p.sensor_description : sp.description;
        const double g0 = sensor::SensorModel::physical(d).gsd_m();
        d.altitude_m *= gsd_m / g0;
        s.degrade.sensor = sp.name;
        s.degrade.sensor_description = d;
        s.degrade.sensor_overrides = p.sensor_overrides;
        s.degrade.sensor_overrides["altitude_m"] = d.altitude_m;
        if (p.snr) s.degrade.snr = p.snr;
        if (p.snr) {
            d.snr = p.snr;
            d.radiometry.reset();
        }
        s.model = sensor::SensorModel::physical(d);
        s.mode = "preset";
        s.preset = sp.name;
        return s;
    }
    s.degrade.target_gsd_m = gsd_m;
    s.degrade.sigma_px = p.sigma_px;
    s.degrade.mtf_nyquist =
        p.sigma_px ? std::nullopt : std::optional<double>(p.mtf_nyquist.value_or(sweep_default_mtf_nyquist));
    s.degrade.snr = p.snr.value_or(sweep_default_snr);
    s.model = simple_model(gsd_m, s.degrade.mtf_nyquist, s.degrade.sigma_px, *s.degrade.snr);
    s.mode = "simple";
    return s;
}

std::string model_description(const SweepParams& p) {
    if (!p.sensors.empty()) return "each preset as it is, on the same ground";
    if (p.sensor)
        return fmt::format("the {} preset{} with its altitude scaled to each GSD (Q, MTF shape and SNR kept)",
                           *p.sensor, p.sensor_overrides.empty() ? "" : " (with overrides)");
    if (p.sigma_px)
        return fmt::format("simple form: Gaussian sigma {:g} target px x pixel box, SNR {:g}", *p.sigma_px,
                           p.snr.value_or(sweep_default_snr));
    return fmt::format("simple form: Gaussian optics x pixel box with MTF at Nyquist {:g}, SNR {:g}",
                       p.mtf_nyquist.value_or(sweep_default_mtf_nyquist), p.snr.value_or(sweep_default_snr));
}

// The NIIRS to use for a step: measured when both axes have enough edges, else the prediction.
double niirs_to_use(const SweepStep& s) {
    if (s.measurement_reliable && s.assessed && s.assessed->giqe5) return s.assessed->giqe5->value;
    return s.prediction.giqe5.value;
}

const interpret::TargetOdds* find_odds(const interpret::Interpretation& it, const std::string& key) {
    for (const auto& t : it.targets)
        if (t.target.key == key) return &t;
    return nullptr;
}

bool task_met(const interpret::Interpretation& it, const require::RequireTask& task, double niirs) {
    if (task.kind == require::TaskKind::johnson) {
        const interpret::TargetOdds* o = find_odds(it, task.target->key);
        if (!o) return false;
        return o->primary.tasks[static_cast<std::size_t>(task.johnson_task)].probability >=
               interpret::verdict_probability;
    }
    const double level = task.kind == require::TaskKind::niirs_criterion ? task.criterion->level : task.niirs_level;
    return niirs >= level;
}

// Rows: detection, recognition and identification of each catalogue target, then every NIIRS
// criterion of both scales (require's catalogue, so `satiq require ID` answers the same row).
std::vector<TaskRow> task_matrix(const std::vector<SweepStep>& steps, double rer, double snr) {
    std::vector<TaskRow> rows;
    require::RequireParams rp;
    rp.rer = std::clamp(rer, 0.05, 1.0);
    rp.snr = std::max(snr, 1.0);
    const require::Conditions cond = require::resolve(rp);
    for (const require::RequireTask& t : require::task_catalogue()) {
        std::string group;
        if (t.kind == require::TaskKind::johnson) {
            if (t.johnson_task == interpret::JohnsonTask::orientation) continue;
            group = t.johnson_task == interpret::JohnsonTask::detection     ? "Detection"
                    : t.johnson_task == interpret::JohnsonTask::recognition ? "Recognition"
                                                                            : "Identification";
        } else if (t.kind == require::TaskKind::niirs_criterion) {
            if (t.id.rfind("niirs:", 0) != 0) continue;  // the slugs repeat criteria already listed
            group = t.criterion->scale == interpret::NiirsScale::visible_military ? "NIIRS criteria (military scale)"
                                                                                  : "NIIRS criteria (civil scale)";
        } else {
            continue;
        }
        TaskRow row;
        row.id = t.id;
        row.description = t.description;
        row.group = group;
        const require::Requirement req = require::evaluate(t, cond);
        row.niirs_needed = req.niirs_needed;
        row.required_gsd_m = req.gsd_max_m;
        for (const SweepStep& s : steps) {
            const bool pm = task_met(s.prediction.interpretation, t, s.prediction.giqe5.value);
            row.predicted.push_back(pm);
            if (pm) row.coarsest_predicted_gsd_m = std::max(row.coarsest_predicted_gsd_m.value_or(0.0), s.target_gsd_m);
            std::optional<bool> mm;
            if (s.assessed && s.assessed->giqe5 && s.assessed->interpretation)
                mm = task_met(*s.assessed->interpretation, t, s.assessed->giqe5->value);
            row.measured.push_back(mm);
            if (mm && *mm && s.measurement_reliable)
                row.coarsest_measured_gsd_m = std::max(row.coarsest_measured_gsd_m.value_or(0.0), s.target_gsd_m);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// The highest Johnson task met on a target (by the NIIRS the step is rated on).
int capability(const interpret::Interpretation& it, const std::string& key) {
    const interpret::TargetOdds* o = find_odds(it, key);
    if (!o) return 0;
    int c = 0;
    const auto& tasks = o->primary.tasks;
    if (tasks[0].probability >= interpret::verdict_probability) c = 1;
    if (tasks[2].probability >= interpret::verdict_probability) c = 2;
    if (tasks[3].probability >= interpret::verdict_probability) c = 3;
    return c;
}

const interpret::Interpretation& interpretation_to_use(const SweepStep& s) {
    if (s.measurement_reliable && s.assessed && s.assessed->interpretation) return *s.assessed->interpretation;
    return s.prediction.interpretation;
}

std::string join_list(const std::vector<std::string>& v, const char* conjunction) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += i + 1 == v.size() ? conjunction : ", ";
        out += v[i];
    }
    return out;
}

// One sentence: what the step nearest 3 m (a Malligyong-1-class sensor) can and cannot do against
// the finest step.
std::string verdict_sentence(const std::vector<SweepStep>& steps) {
    if (steps.empty()) return {};
    // The fine reference: the step nearest 0.3 m (a WorldView-3-class sensor) when there is one
    // at 0.25-0.4 m, else the finest.
    const SweepStep* fine_step = &steps.front();
    for (const SweepStep& s : steps)
        if (s.target_gsd_m >= 0.25 && s.target_gsd_m <= 0.4 &&
            std::abs(s.target_gsd_m - 0.3) < std::abs(fine_step->target_gsd_m - 0.3))
            fine_step = &s;
    const SweepStep& fine = *fine_step;
    const SweepStep* coarse = &steps.back();
    for (const SweepStep& s : steps)
        if (std::abs(std::log(s.target_gsd_m / 3.0)) < std::abs(std::log(coarse->target_gsd_m / 3.0))) coarse = &s;
    if (coarse == &fine) {
        return fmt::format("At {} GSD the image rates NIIRS {:.1f}; add coarser steps to compare sensors.",
                           gsd_label(fine.target_gsd_m), niirs_to_use(fine));
    }
    const auto& itf = interpretation_to_use(fine);
    const auto& itc = interpretation_to_use(*coarse);
    static const char* verbs[] = {"", "detect", "recognise", "identify"};
    std::vector<std::string> can, lost;
    for (const interpret::Target& t : interpret::target_catalogue()) {
        const int cc = capability(itc, t.key), cf = capability(itf, t.key);
        const std::string name = t.name.substr(0, t.name.find(" ("));
        if (cc > 0) can.push_back(fmt::format("{} a {}", verbs[cc], name));
        if (cf > cc) lost.push_back(fmt::format("{} a {}", verbs[cc + 1], name));
    }
    // Malligyong-1: 3-5 m GSD in the public estimates (the preset takes 3 m).
    const bool malligyong = coarse->target_gsd_m >= 2.5 && coarse->target_gsd_m <= 5.5;
    std::string s = fmt::format("A {} sensor{} (NIIRS {:.1f}) ", gsd_label(coarse->target_gsd_m),
                                malligyong ? " such as Malligyong-1" : "", niirs_to_use(*coarse));
    if (can.empty())
        s += "cannot reliably detect any catalogue target";
    else
        s += "can " +
             join_list(std::vector<std::string>(can.begin(), can.begin() + std::min<std::size_t>(can.size(), 3)),
                       " and ");
    if (!lost.empty()) {
        const std::size_t n = std::min<std::size_t>(lost.size(), 4);
        s += fmt::format("{} but cannot {}, which a {} sensor (NIIRS {:.1f}) can", can.empty() ? "," : ",",
                         join_list(std::vector<std::string>(lost.begin(), lost.begin() + n), " or "),
                         gsd_label(fine.target_gsd_m), niirs_to_use(fine));
    }
    return s + ".";
}

}  // namespace

std::vector<double> parse_gsd_steps(const std::string& text) {
    auto number = [&](const std::string& t) {
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(t, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != t.size() || t.empty() || !std::isfinite(v) || v <= 0)
            throw UsageError(fmt::format("--gsd-m: '{}' is not a positive number (in '{}')", t, text));
        return v;
    };
    std::vector<double> out;
    if (text.find(':') != std::string::npos) {
        std::vector<std::string> parts;
        std::size_t a = 0;
        for (std::size_t b; (b = text.find(':', a)) != std::string::npos; a = b + 1)
            parts.push_back(text.substr(a, b - a));
        parts.push_back(text.substr(a));
        if (parts.size() != 3) throw UsageError(fmt::format("--gsd-m: give START:STOP:FACTOR (got '{}')", text));
        const double start = number(parts[0]), stop = number(parts[1]), factor = number(parts[2]);
        if (factor <= 1.0 + 1e-9) throw UsageError(fmt::format("--gsd-m: FACTOR must be above 1 (got '{}')", text));
        if (stop < start) throw UsageError(fmt::format("--gsd-m: STOP is below START (got '{}')", text));
        for (double g = start; g <= stop * 1.001 && out.size() < 200; g *= factor)
            out.push_back(g);
        if (out.size() >= 200) throw UsageError(fmt::format("--gsd-m: '{}' gives more than 200 steps", text));
    } else {
        std::size_t a = 0;
        for (std::size_t b;; a = b + 1) {
            b = text.find(',', a);
            out.push_back(number(text.substr(a, b == std::string::npos ? std::string::npos : b - a)));
            if (b == std::string::npos) break;
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end(), [](double x, double y) { return std::abs(x - y) <= 1e-9 * y; }),
              out.end());
    return out;
}

SweepResult run_sweep(const SweepParams& params, const std::function<void(int, int, const std::string&)>& progress) {
    const auto t0 = Clock::now();
    SweepResult r;
    r.params = params;
    r.started_utc = utc_now();
    SweepParams& p = r.params;
    if (!p.gsd_m.empty() && !p.sensors.empty()) throw UsageError("sweep: give --gsd-m or --sensors, not both");
    if (!p.sensors.empty() && (p.sensor || p.mtf_nyquist || p.sigma_px))
        throw UsageError(
            "sweep: --sensors simulates each preset as it is; --sensor, --mtf-nyquist and --sigma-px do not apply");
    if (p.sensor && (p.mtf_nyquist || p.sigma_px))
        throw UsageError(
            "sweep: --mtf-nyquist and --sigma-px belong to the simple form; a preset brings its own optics");
    if (p.mtf_nyquist && p.sigma_px) throw UsageError("sweep: give --mtf-nyquist or --sigma-px, not both");
    if (p.input_sigma_px && p.input_mtf_nyquist)
        throw UsageError("sweep: give --input-sigma-px or --input-mtf-nyquist, not both");
    for (const std::string& s : p.sensors)
        (void)sensor::find_sensor_preset(s);  // UsageError naming the preset and the list
    if (p.sensor) (void)sensor::find_sensor_preset(*p.sensor);
    if (p.chip_px < 64 || p.chip_px > 2048) throw UsageError("sweep: --chip-px must be within 64..2048");
    r.model_description = model_description(p);

    // The input: opened (errors name the file), its GSD and checksum, then the output folder.
    const Raster raster = Raster::open(p.input);
    const Gsd gsd = [&] {
        try {
            return compute_gsd(raster.info(), p.gsd);
        } catch (const Error& e) {  // name sweep's option (its --gsd-m is the steps)
            std::string m = e.what();
            for (std::size_t at = 0; (at = m.find("--gsd-m", at)) != std::string::npos; at += 13)
                m.replace(at, 7, "--input-gsd-m");
            throw Error(m);
        }
    }();
    const double in_gsd = gsd.mean_m;

    // Steps.
    struct Planned {
        double gsd_m;
        std::optional<std::string> preset;
    };
    std::vector<Planned> planned;
    if (!p.sensors.empty()) {
        for (const std::string& s : p.sensors) {
            const sensor::SensorPreset& sp = sensor::find_sensor_preset(s);
            planned.push_back({sensor::SensorModel::physical(sp.description).gsd_m(), sp.name});
        }
        std::stable_sort(planned.begin(), planned.end(),
                         [](const Planned& a, const Planned& b) { return a.gsd_m < b.gsd_m; });
    } else {
        if (p.gsd_m.empty()) {  // default: 10 steps from the input's GSD to 10 m
            const double top = std::max(sweep_default_coarsest_gsd_m, in_gsd * 4);
            const double f = std::pow(top / in_gsd, 1.0 / 9.0);
            for (int i = 0; i < 10; ++i)
                p.gsd_m.push_back(in_gsd * std::pow(f, i));
        }
        for (double g : p.gsd_m)
            planned.push_back({g, std::nullopt});
    }
    for (const Planned& s : planned)
        if (s.gsd_m < in_gsd * (1 - 1e-3))
            throw UsageError(
                fmt::format("sweep: step {} ({:.4g} m) is finer than the input's GSD {:.4g} m: a sweep can "
                            "only coarsen",
                            s.preset ? *s.preset : gsd_label(s.gsd_m), s.gsd_m, in_gsd));
    // Every step's model is built up front so that a bad override fails before any work.
    std::vector<StepModel> models;
    for (const Planned& s : planned) {
        try {
            models.push_back(step_model(p, s.gsd_m, s.preset));
            // degrade's own option checks (ranges of --sigma-px, --snr, --bits, the input blur).
            DegradeParams check = models.back().degrade;
            check.bits = p.bits;
            check.input_sigma_px = p.input_sigma_px;
            check.input_mtf_nyquist = p.input_mtf_nyquist;
            check_degrade_options(check);
        } catch (const UsageError& e) {
            std::string m = e.what();
            if (m.rfind("degrade: ", 0) == 0) m.replace(0, 9, "sweep: ");
            throw UsageError(m);
        } catch (const Error& e) {
            throw UsageError(fmt::format("sweep: {}", e.what()));
        }
    }
    check_output_dir(p.output_dir);
    r.input_sha256 = sha256_file(p.input, r.input_bytes);

    // The input, assessed once: its blur is every step's input blur.
    AssessParams ap;
    ap.gsd = p.gsd;
    ap.band = p.band;
    r.input_assessment = assess_file(p.input, ap);
    const EdgeAggregate& ag = r.input_assessment.edges.aggregate;
    if (p.input_sigma_px) {
        r.input_sigma_px = *p.input_sigma_px;
        r.input_blur_source = "given (--input-sigma-px)";
    } else if (p.input_mtf_nyquist) {
        r.input_sigma_px = sensor::sigma_from_mtf_nyquist(*p.input_mtf_nyquist);
        r.input_blur_source = fmt::format("given (--input-mtf-nyquist {:g})", *p.input_mtf_nyquist);
    } else if (ag.usable) {
        r.input_sigma_px = input_sigma_from_rer(ag.rer_gm);
        r.input_blur_source =
            fmt::format("measured once from the input's edges: RER {:.3f} ({} edges)", ag.rer_gm, ag.usable_count);
    } else {
        r.input_blur_source = "unknown: the input has no usable edges and is taken as ideal (" + ag.message + ")";
        r.warnings.push_back(
            "input blur unknown (no usable edges): every step takes the input as ideal, so the "
            "simulated images may be blurrier than the target; give --input-sigma-px");
    }

    ChipLayout chips = plan_chips(raster, r.input_assessment, p.chip_px, p.band);
    r.chip_ground_m = chips.ground_m;
    r.zoom_ground_m = chips.zoom_ground_m;
    render_input_chips(raster, chips, r.input_chip_png, r.input_zoom_png);

    install_interrupt_handlers();
    const int total = static_cast<int>(planned.size());
    if (p.keep_steps) fs::create_directories(p.output_dir / "steps");
    for (int i = 0; i < total; ++i) {
        if (interrupted()) throw Error("sweep: interrupted");
        const auto ts = Clock::now();
        SweepStep st;
        st.index = i + 1;
        st.target_gsd_m = planned[i].gsd_m;
        st.preset = planned[i].preset;
        StepModel& m = models[i];
        st.label = st.preset ? sensor::find_sensor_preset(*st.preset).display_name : gsd_label(st.target_gsd_m);
        const std::string name = fmt::format("step{:02}_{:.3f}m.tif", st.index, st.target_gsd_m);
        const fs::path step_file =
            p.keep_steps ? p.output_dir / "steps" / name
                         : p.output_dir / fmt::format(".satiq-sweep-{}-{}", static_cast<long>(::getpid()), name);
        TempFileGuard guard(step_file);
        m.degrade.input = p.input;
        m.degrade.output = step_file;
        if (r.input_sigma_px > 0 || p.input_sigma_px || p.input_mtf_nyquist || ag.usable)
            m.degrade.input_sigma_px = r.input_sigma_px;
        const DegradeResult dr = degrade(m.degrade);
        st.plan = dr.plan;
        st.plan.assumptions.push_back("input blur " + r.input_blur_source);
        AssessParams sp = ap;
        sp.gsd = {};  // the step file carries its own georeferencing (or the given GSD scaled)
        if (p.gsd.override_m) sp.gsd.override_m = std::pair{dr.plan.target_gsd_m, dr.plan.target_gsd_m};
        try {
            st.assessed = assess_file(step_file, sp);
        } catch (const Error& e) {
            st.assess_error = e.what();
        }
        st.prediction = predict(*m.model, m.mode, m.preset);
        if (!st.assessed) {
            st.reliability_note = "assessment failed: " + st.assess_error;
        } else {
            const auto& a = st.assessed->edges.aggregate;
            st.measurement_reliable =
                a.x.count >= sweep_min_edges_per_axis && a.y.count >= sweep_min_edges_per_axis && st.assessed->giqe5;
            if (!st.measurement_reliable)
                st.reliability_note =
                    a.usable_count == 0
                        ? "no usable edges: the NIIRS is estimated from GSD alone; use the prediction"
                        : fmt::format(
                              "{} usable edges on x and {} on y (fewer than {} on an axis): the measurement "
                              "rests on too few edges; use the prediction",
                              a.x.count, a.y.count, sweep_min_edges_per_axis);
        }
        render_step_chips(step_file, chips, dr.plan, st.chip_png, st.zoom_png);
        if (p.keep_steps)
            guard.release();
        else
            guard.remove_now();
        st.seconds = seconds_since(ts);
        const std::string detail =
            fmt::format("{}: NIIRS {:.2f} measured, {:.2f} predicted", st.label,
                        st.assessed && st.assessed->giqe5 ? st.assessed->giqe5->value : NAN, st.prediction.giqe5.value);
        r.steps.push_back(std::move(st));
        if (progress) progress(i + 1, total, detail);
    }

    // Presets on the NIIRS-against-GSD chart: each preset's own prediction.
    for (const sensor::SensorPreset& sp : sensor::sensor_presets()) {
        const Prediction pr = predict(sensor::SensorModel::physical(sp.description), "preset", sp.name);
        r.presets.push_back(
            {sp.name, sp.display_name, pr.model->gsd_m(), pr.giqe5.value, pr.giqe5.standard_error.value_or(0.0)});
    }
    const Prediction& first = r.steps.front().prediction;
    r.tasks = task_matrix(r.steps, first.rer_geometric_mean, first.model->figures().snr);
    r.verdict = verdict_sentence(r.steps);
    r.seconds = seconds_since(t0);
    return r;
}

nlohmann::json to_json(const SweepResult& r) {
    using json = nlohmann::json;
    const SweepParams& p = r.params;
    json params{{"input", p.input.string()},
                {"output_dir", p.output_dir.string()},
                {"gsd_m", p.sensors.empty() ? json(p.gsd_m) : json(nullptr)},
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
    return json{{"satiq_version", SATIQ_VERSION},
                {"command", "sweep"},
                {"parameters", params},
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
    out += fmt::format("  {:>4}  {:<28} {:>8} {:>7} {:>9} {:>9} {:>6}  {}\n", "step", "label", "GSD m", "edges",
                       "NIIRS mea", "NIIRS pre", "SNR", "note");
    for (const SweepStep& s : r.steps) {
        const AssessResult* a = s.assessed ? &*s.assessed : nullptr;
        out += fmt::format("  {:>4}  {:<28} {:>8.3f} {:>3}/{:<3} {:>9} {:>9.2f} {:>6}  {}\n", s.index, s.label,
                           s.target_gsd_m, a ? a->edges.aggregate.x.count : 0, a ? a->edges.aggregate.y.count : 0,
                           a && a->giqe5 ? fmt::format("{:.2f}", a->giqe5->value) : "n/a", s.prediction.giqe5.value,
                           a ? fmt::format("{:.1f}", a->snr) : "n/a",
                           s.measurement_reliable ? "" : "unreliable: use the prediction");
    }
    out += "Verdict: " + r.verdict + "\n";
    for (const std::string& w : r.warnings)
        out += "  ! " + w + "\n";
    out += fmt::format("Report: {}\n", (r.params.output_dir / "report.html").string());
    return out;
}

void write_sweep_outputs(const SweepResult& r) {
    const fs::path& dir = r.params.output_dir;
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
    // results.json last: its presence means the sweep finished.
    write_file_atomically(dir / "results.json",
                          to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace satiq
