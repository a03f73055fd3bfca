// satiq sweep: degrade -> assess -> predict at each step, the task matrix and the verdict
// (sweep.hpp). Its JSON, CSV, text and files are in sweep_outputs.cpp; the report's HTML lives in
// report_html.cpp; the chips in sweep_chips.cpp.
#include "satiq/pipeline/ops/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cpl_vsi.h>
#include <openssl/evp.h>
#include "clock.hpp"

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/require.hpp"
#include "sweep_chips.hpp"
#include "sweep_detail.hpp"

namespace fs = std::filesystem;

namespace satiq {

namespace {

using detail::Clock;
using detail::seconds_since;

using detail::utc_now;

// SHA-256 (FIPS 180-4) of a file through OpenSSL's EVP interface, streamed in 1 MiB blocks. Read
// through GDAL's virtual file layer, so a /vsizip/, /vsicurl/ or /vsis3/ input has its checksum
// as every other command reads it.
std::string sha256_file(const fs::path& path, std::uintmax_t& bytes) {
    VSILFILE* in = VSIFOpenL(path.c_str(), "rb");
    if (!in) throw Error(fmt::format("{}: cannot be read for its checksum", path.string()));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx);
        VSIFCloseL(in);
        throw Error("sha256: OpenSSL could not start a digest");
    }
    std::vector<char> buf(1 << 20);
    bytes = 0;
    bool failed = false;
    for (;;) {
        const std::size_t n = VSIFReadL(buf.data(), 1, buf.size(), in);
        if (n > 0) {
            EVP_DigestUpdate(ctx, buf.data(), n);
            bytes += n;
        }
        if (n < buf.size()) {  // the end, or a read error before it
            failed = VSIFEofL(in) == 0;
            break;
        }
    }
    VSIFCloseL(in);
    if (failed) {
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
    return g < 1 ? fmt::format("{:.2f} m", g) : g < 100 ? fmt::format("{:.1f} m", g) : fmt::format("{:.0f} m", g);
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

using detail::niirs_to_use;

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

// "measured NIIRS 2.6" or "predicted NIIRS 2.6": the figure a step is rated on and where it
// comes from (its own edges, or the sensor model when they are too few).
std::string rated_niirs(const SweepStep& s) {
    return fmt::format("{} NIIRS {:.1f}", s.measurement_reliable ? "measured" : "predicted", niirs_to_use(s));
}

// What `assess` says of the input itself, for a verdict that cannot compare two steps.
std::string input_rating(const AssessResult& in) {
    if (!in.giqe5) return {};
    return fmt::format("; assess rates the input itself NIIRS {:.1f}{}", in.giqe5->value,
                       in.gsd_alone ? " (estimated from GSD alone)" : "");
}

// One sentence: what the step nearest 3 m (a Malligyong-1-class sensor) can and cannot do against
// the finest step. Each NIIRS says whether it was measured on the step's image or predicted by the
// sensor model (too few edges on the step).
std::string verdict_sentence(const std::vector<SweepStep>& steps, const AssessResult& input) {
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
        const std::string what =
            fine.measurement_reliable
                ? fmt::format("the simulated image measures NIIRS {:.1f}", niirs_to_use(fine))
                : fmt::format(
                      "the sensor model predicts NIIRS {:.1f} (the simulated image has too few edges to "
                      "measure){}",
                      niirs_to_use(fine), input_rating(input));
        return fmt::format(
            "At {} GSD {}. No other step is nearer 3 m than this one: comparing a 3 m sensor with a 0.3 m one needs "
            "steps near both.",
            gsd_label(fine.target_gsd_m), what);
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
    std::string s = fmt::format("A {} sensor{} ({}) ", gsd_label(coarse->target_gsd_m),
                                malligyong ? " such as Malligyong-1" : "", rated_niirs(*coarse));
    if (can.empty())
        s += "cannot reliably detect any catalogue target";
    else
        s += "can " +
             join_list(std::vector<std::string>(can.begin(), can.begin() + std::min<std::size_t>(can.size(), 3)),
                       " and ");
    if (!lost.empty()) {
        const std::size_t n = std::min<std::size_t>(lost.size(), 4);
        s += fmt::format(", but cannot {}, which a {} sensor ({}) can",
                         join_list(std::vector<std::string>(lost.begin(), lost.begin() + n), " or "),
                         gsd_label(fine.target_gsd_m), rated_niirs(fine));
    }
    return s + ".";
}

// Combinations of options that exclude each other, and the preset names and chip size.
void check_sweep_params(const SweepParams& p) {
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
}

// The input's GSD; an error names sweep's option (its --gsd-m is the steps).
Gsd input_gsd(const Raster& raster, const SweepParams& p) {
    try {
        return compute_gsd(raster.info(), p.gsd);
    } catch (const Error& e) {
        std::string m = e.what();
        for (std::size_t at = 0; (at = m.find("--gsd-m", at)) != std::string::npos; at += 13)
            m.replace(at, 7, "--input-gsd-m");
        throw Error(m);
    }
}

struct PlannedStep {
    double gsd_m;
    std::optional<std::string> preset;
};

// The steps, coarsest last: the presets (--sensors), the given GSDs, or by default
// sweep_default_step_count geometric steps from the input's GSD to 10 m or 4 x the input's GSD,
// whichever is coarser (in r.resolved's gsd_m; the parameters keep what was given). A sweep only
// coarsens: a requested step finer than the input (by more than 0.1 %) is skipped and recorded in
// r.skipped_steps and r.warnings, the same for a preset and a GSD; none left is a usage error.
std::vector<PlannedStep> plan_steps(SweepResult& r, double in_gsd) {
    const SweepParams& p = r.params;
    std::vector<PlannedStep> planned;
    if (!p.sensors.empty()) {
        for (const std::string& s : p.sensors) {
            const sensor::SensorPreset& sp = sensor::find_sensor_preset(s);
            planned.push_back({sensor::SensorModel::physical(sp.description).gsd_m(), sp.name});
        }
        std::stable_sort(planned.begin(), planned.end(),
                         [](const PlannedStep& a, const PlannedStep& b) { return a.gsd_m < b.gsd_m; });
    } else {
        std::vector<double> gsd_m = p.gsd_m;
        if (gsd_m.empty()) {
            const double top = std::max(sweep_default_coarsest_gsd_m, in_gsd * sweep_default_min_span);
            const double f = std::pow(top / in_gsd, 1.0 / (sweep_default_step_count - 1));
            for (int i = 0; i < sweep_default_step_count; ++i)
                gsd_m.push_back(in_gsd * std::pow(f, i));
            r.resolved.set("gsd_m", gsd_m, "assumed",
                           fmt::format("satiq sweep's default: {} geometric steps from the input's GSD to {:g} m or "
                                       "{:g} x the input's GSD, whichever is coarser",
                                       sweep_default_step_count, sweep_default_coarsest_gsd_m, sweep_default_min_span));
        } else {
            r.resolved.set("gsd_m", gsd_m, "given", fmt::format("--gsd-m {:g}", fmt::join(gsd_m, ",")));
        }
        for (double g : gsd_m)
            planned.push_back({g, std::nullopt});
    }
    std::vector<PlannedStep> kept;
    for (const PlannedStep& s : planned) {
        if (s.gsd_m >= in_gsd * (1 - 1e-3)) {
            kept.push_back(s);
            continue;
        }
        SkippedStep sk;
        sk.preset = s.preset;
        sk.target_gsd_m = s.gsd_m;
        sk.label = s.preset ? sensor::find_sensor_preset(*s.preset).display_name : gsd_label(s.gsd_m);
        sk.reason = fmt::format("finer than the input's GSD {:.4g} m: a sweep can only coarsen", in_gsd);
        r.warnings.push_back(
            fmt::format("step {} ({:.4g} m) skipped: {}", s.preset ? *s.preset : sk.label, s.gsd_m, sk.reason));
        r.skipped_steps.push_back(std::move(sk));
    }
    if (kept.empty())
        throw UsageError(fmt::format(
            "sweep: every step is finer than the input's GSD {:.4g} m (the coarsest asked for is {:.4g} m): a sweep "
            "can only coarsen",
            in_gsd, planned.back().gsd_m));
    return kept;
}

// Every step's model, built up front so that a bad override fails before any work.
std::vector<StepModel> step_models(const SweepParams& p, const std::vector<PlannedStep>& planned) {
    std::vector<StepModel> models;
    for (const PlannedStep& s : planned) {
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
    return models;
}

// The model figures every step shares, with their provenance (predict's model_figures, with what
// the options set marked "given" and sweep's defaults "assumed"): the simple form's blur and SNR,
// or the template preset's figures (its altitude scaled per step). The --sensors form has none in
// common (each step's prediction has its preset's).
ResolvedFigures shared_model_figures(const SweepParams& p, const StepModel& first) {
    ResolvedFigures r;
    std::map<std::string, std::string> given;
    if (!p.sensors.empty()) return r;
    given = override_texts(p.sensor_overrides);  // --aperture-m, ... as given
    if (p.snr) given["snr"] = option_text("--snr", *p.snr);
    if (p.sensor) {
        const sensor::SensorPreset& sp = sensor::find_sensor_preset(*p.sensor);
        sensor::SensorDescription d = p.sensor_description ? *p.sensor_description : sp.description;
        if (p.snr) {  // as step_model
            d.snr = p.snr;
            d.radiometry.reset();
        }
        r = model_figures(sensor::SensorModel::physical(d), sp.name);
        if (auto it = r.provenance.find("altitude_m"); it != r.provenance.end())
            it->second.text +=
                "; scaled to each step's GSD (GSD = pitch x altitude / focal length), each step's "
                "in steps[].prediction.parameters";
    } else {
        r = model_figures(*first.model);
        for (const char* k : {"target_gsd_m", "full_well_e", "read_noise_e", "bits"})
            r.erase(k);  // the steps' GSDs are gsd_m; the SNR alone sets the noise
        if (p.mtf_nyquist) given["mtf_nyquist"] = option_text("--mtf-nyquist", *p.mtf_nyquist);
        if (p.sigma_px) given["sigma_px"] = option_text("--sigma-px", *p.sigma_px);
        if (!p.mtf_nyquist && !p.sigma_px)
            r.provenance["mtf_nyquist"] = {
                "assumed", fmt::format("satiq sweep's default ({:g}: a typical well-designed imager balances "
                                       "aliasing against sharpness near 0.1-0.2)",
                                       sweep_default_mtf_nyquist)};
        if (!p.snr)
            r.provenance["snr"] = {"assumed",
                                   fmt::format("satiq sweep's default for the simple form ({:g})", sweep_default_snr)};
    }
    mark(r.provenance, "given", given);
    return r;
}

// A step's prediction says where its shared figures come from as the sweep does (a default is
// not "given" because the simple form's model was built with it).
void mark_shared_figures(Prediction& pr, const ResolvedFigures& shared) {
    for (const auto& [key, n] : shared.provenance)
        if (key != "altitude_m" && pr.provenance.count(key)) pr.provenance[key] = n;
}

// The figures that come from the input and the steps: the output bits (degrade's, the same at
// every step) and the input blur.
void add_run_figures(SweepResult& r) {
    const SweepParams& p = r.params;
    const ResolvedFigures& d = r.steps.front().degrade_figures;
    if (auto it = d.provenance.find("bits"); it != d.provenance.end())
        r.resolved.set("bits", d.values.at("bits"), it->second.kind, it->second.text);
    if (p.input_sigma_px)
        r.resolved.set("input_sigma_px", r.input_sigma_px, "given", option_text("--input-sigma-px", *p.input_sigma_px));
    else  // from --input-mtf-nyquist or measured on the input's edges; else unknown (ideal)
        r.resolved.set("input_sigma_px", r.input_sigma_px,
                       p.input_mtf_nyquist || r.input_assessment.edges.aggregate.usable ? "derived" : "assumed",
                       r.input_blur_source);
}

// The input, assessed once: its blur (given, or measured from its edges) is every step's input
// blur.
void assess_input(SweepResult& r, const AssessParams& ap) {
    const SweepParams& p = r.params;
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
}

// Whether a step's measurement rests on enough edges, and if not, why.
void judge_measurement(SweepStep& st) {
    if (!st.assessed) {
        st.reliability_note = "assessment failed: " + st.assess_error;
        return;
    }
    const auto& a = st.assessed->edges.aggregate;
    st.measurement_reliable =
        a.x.count >= sweep_min_edges_per_axis && a.y.count >= sweep_min_edges_per_axis && st.assessed->giqe5;
    if (!st.measurement_reliable)
        st.reliability_note = a.usable_count == 0
                                  ? "no usable edges: the NIIRS is estimated from GSD alone; use the prediction"
                                  : fmt::format(
                                        "{} usable edges on x and {} on y (fewer than {} on an axis): the measurement "
                                        "rests on too few edges; use the prediction",
                                        a.x.count, a.y.count, sweep_min_edges_per_axis);
}

// One step: degrade the input to a step file (kept in steps/ or a temporary), assess it, predict
// the model, judge the measurement and render the chips.
SweepStep run_step(const SweepResult& r, int i, const PlannedStep& planned, StepModel& m, const AssessParams& ap,
                   const ChipLayout& chips) {
    const SweepParams& p = r.params;
    const EdgeAggregate& ag = r.input_assessment.edges.aggregate;
    const auto ts = Clock::now();
    SweepStep st;
    st.index = i + 1;
    st.target_gsd_m = planned.gsd_m;
    st.preset = planned.preset;
    st.label = st.preset ? sensor::find_sensor_preset(*st.preset).display_name : gsd_label(st.target_gsd_m);
    const std::string name = fmt::format("step{:02}_{:.3f}m.tif", st.index, st.target_gsd_m);
    const fs::path& staged = r.staging->dir();
    const fs::path step_file = p.keep_steps ? staged / "steps" / name : staged / ("." + name + ".satiq-tmp");
    TempFileGuard guard(step_file);
    m.degrade.input = p.input;
    m.degrade.output = step_file;
    m.degrade.recorded_output = p.output_dir / "steps" / name;  // where --keep-steps commits it
    if (r.input_sigma_px > 0 || p.input_sigma_px || p.input_mtf_nyquist || ag.usable)
        m.degrade.input_sigma_px = r.input_sigma_px;
    DegradeResult dr = degrade(m.degrade);
    st.plan = dr.plan;
    st.degrade_figures = std::move(dr.resolved);
    st.plan.assumptions.push_back("input blur " + r.input_blur_source);
    AssessParams sp = ap;
    sp.gsd = {};  // the step file carries its own georeferencing (or the given GSD scaled)
    if (p.gsd.override_m) sp.gsd.override_m = std::pair{dr.plan.target_gsd_m, dr.plan.target_gsd_m};
    // The step file named as in DIR (the staging folder's name differs from run to run):
    // steps/NAME when kept, else the bare name of a file that is not kept.
    const fs::path recorded = p.keep_steps ? fs::path("steps") / name : fs::path(name);
    try {
        st.assessed = assess_file(step_file, sp);
        st.assessed->file = recorded;
    } catch (const Error& e) {
        st.assess_error = e.what();
        for (std::size_t at = st.assess_error.find(step_file.string()); at != std::string::npos;
             at = st.assess_error.find(step_file.string(), at))
            st.assess_error.replace(at, step_file.string().size(), recorded.string());
    }
    st.prediction = predict(*m.model, m.mode, m.preset);
    mark_shared_figures(st.prediction, r.resolved);
    judge_measurement(st);
    render_step_chips(step_file, chips, dr.plan, st.chip_png, st.zoom_png);
    if (p.keep_steps)
        guard.release();
    else
        guard.remove_now();
    st.seconds = seconds_since(ts);
    return st;
}

// Presets on the NIIRS-against-GSD chart (each preset's own prediction), the task matrix and the
// verdict.
void conclude(SweepResult& r) {
    for (const sensor::SensorPreset& sp : sensor::sensor_presets()) {
        const Prediction pr = predict(sensor::SensorModel::physical(sp.description), "preset", sp.name);
        r.presets.push_back(
            {sp.name, sp.display_name, pr.model->gsd_m(), pr.giqe5.value, pr.giqe5.standard_error.value_or(0.0)});
    }
    const Prediction& first = r.steps.front().prediction;
    r.tasks = task_matrix(r.steps, first.rer_geometric_mean, first.model->figures().snr);
    r.verdict = verdict_sentence(r.steps, r.input_assessment);
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
        if (out.back() < stop * (1 - 1e-3)) out.push_back(stop);  // STOP is always a step
        if (out.size() > 200) throw UsageError(fmt::format("--gsd-m: '{}' gives more than 200 steps", text));
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

SweepResult run_sweep(const SweepParams& params, const std::function<void(int, int, const std::string&)>& progress,
                      const std::function<void(const std::string&)>& warn) {
    const auto t0 = Clock::now();
    SweepResult r;
    r.params = params;
    r.started_utc = utc_now();
    SweepParams& p = r.params;
    check_sweep_params(p);
    r.model_description = model_description(p);

    // The input: opened (errors name the file), its GSD, the steps and their models, then the
    // staged output folder and the input's checksum.
    const Raster raster = Raster::open(p.input);
    const double in_gsd = input_gsd(raster, p).mean_m;
    const std::vector<PlannedStep> planned = plan_steps(r, in_gsd);
    std::vector<StepModel> models = step_models(p, planned);
    {
        ResolvedFigures shared = shared_model_figures(p, models.front());
        for (const auto& [key, n] : shared.provenance)
            r.resolved.set(key, shared.values[key], n.kind, n.text);
    }
    install_interrupt_handlers();
    r.staging = std::make_shared<detail::SweepStaging>(p.output_dir);
    if (warn)
        for (const std::string& w : r.warnings)
            warn(w);
    r.input_sha256 = sha256_file(p.input, r.input_bytes);

    AssessParams ap;
    ap.gsd = p.gsd;
    ap.band = p.band;
    assess_input(r, ap);

    ChipLayout chips = plan_chips(raster, r.input_assessment, p.chip_px, p.band);
    r.chip_ground_m = chips.ground_m;
    r.zoom_ground_m = chips.zoom_ground_m;
    render_input_chips(raster, chips, r.input_chip_png, r.input_zoom_png);

    const int total = static_cast<int>(planned.size());
    if (p.keep_steps) fs::create_directories(r.staging->dir() / "steps");
    for (int i = 0; i < total; ++i) {
        if (interrupted()) throw Error("sweep: interrupted");
        SweepStep st = run_step(r, i, planned[i], models[i], ap, chips);
        const std::string detail =
            fmt::format("{}: NIIRS {:.2f} measured, {:.2f} predicted", st.label,
                        st.assessed && st.assessed->giqe5 ? st.assessed->giqe5->value : NAN, st.prediction.giqe5.value);
        r.steps.push_back(std::move(st));
        if (progress) progress(i + 1, total, detail);
    }

    add_run_figures(r);
    conclude(r);
    r.seconds = seconds_since(t0);
    return r;
}

}  // namespace satiq
