#include "satiq/pipeline/model/interpretation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/giqe.hpp"

namespace satiq::interpret {

namespace {

// Ground resolved distance at which each NIIRS level begins: the coarse bound of its GRD band
// (niirs_grd_band_m, levels 2..9: 9, 4.5, 2.5, 1.2, 0.75, 0.40, 0.20, 0.10 m).
double level_grd(int level) {
    return niirs_grd_band_m(level).second;
}
constexpr int kFirstLevel = 2;
constexpr int kLastLevel = 9;
constexpr double kEps = 1e-9;

// Published visible NIIRS criteria (IRARS, March 1994 scale, as commonly cited) that name one
// catalogue target and a Johnson task: "distinguish A from B" and "identify ... configuration"
// are class-level (recognition, Johnson 1958); "identify ... by type" and sub-types ("sedans or
// station wagons") are identification. "Identify tracked vs wheeled vehicles in groups" (NIIRS 4)
// is left out: it rates groups of vehicles, read with their context, where Johnson counts cycles
// on one target (taking it as recognition of a T-72 would credit tank identification at 4.6).
struct AnchorSpec {
    const char* target;
    JohnsonTask task;
    int level;
    const char* criterion;
};
constexpr std::array<AnchorSpec, 5> kAnchors = {{
    {"transport", JohnsonTask::recognition, 3, "identify the wing configuration of large aircraft"},
    {"frigate", JohnsonTask::identification, 3, "identify a large surface ship in port by type"},
    {"fighter", JohnsonTask::identification, 4, "identify large fighters by type"},
    {"tel", JohnsonTask::recognition, 5, "distinguish a mobile missile launcher (TEL) from support vans"},
    {"car", JohnsonTask::identification, 6, "identify automobiles as sedans or station wagons"},
}};

ModelCalibration make_calibration() {
    ModelCalibration c;
    double log_sum = 0;
    for (const AnchorSpec& a : kAnchors) {
        CalibrationAnchor ca;
        ca.target_key = a.target;
        ca.task = a.task;
        ca.level = a.level;
        ca.criterion = a.criterion;
        // P = 0.5 at the level: D / (kappa GRD(level)) = N50  ->  kappa = D / (N50 GRD(level)).
        ca.kappa = critical_dimension_m(find_target(a.target)) / (johnson_n50(a.task) * niirs_grd_m(a.level));
        log_sum += std::log(ca.kappa);
        c.anchors.push_back(ca);
    }
    c.pooled_kappa = std::exp(log_sum / static_cast<double>(c.anchors.size()));
    double ss = 0;
    for (CalibrationAnchor& ca : c.anchors) {
        // The pooled kappa would put this criterion where GRD(n) = kappa_anchor / pooled GRD(level).
        const double n = niirs_for_grd(niirs_grd_m(ca.level) * ca.kappa / c.pooled_kappa);
        ca.residual_niirs = ca.level - n;
        ss += ca.residual_niirs * ca.residual_niirs;
        c.max_abs_residual_niirs = std::max(c.max_abs_residual_niirs, std::abs(ca.residual_niirs));
    }
    c.rms_residual_niirs = std::sqrt(ss / static_cast<double>(c.anchors.size()));
    return c;
}

const char* article(const std::string& noun) {
    return !noun.empty() && std::string_view("aeiouAEIOU").find(noun[0]) != std::string_view::npos ? "an" : "a";
}

const char* verb(Capability c) {
    switch (c) {
        case Capability::identify:
            return "identify";
        case Capability::recognise:
            return "recognise";
        case Capability::detect:
            return "detect";
        case Capability::none:
            return "not detect";
    }
    return "?";
}

double task_probability(const RuleOdds& r, JohnsonTask t) {
    return r.tasks[static_cast<std::size_t>(t)].probability;
}

Capability capability_from(const RuleOdds& r) {
    // The most demanding task with P >= 0.5 (detection, recognition, identification; orientation
    // is reported but is not a verdict).
    if (task_probability(r, JohnsonTask::identification) >= verdict_probability) return Capability::identify;
    if (task_probability(r, JohnsonTask::recognition) >= verdict_probability) return Capability::recognise;
    if (task_probability(r, JohnsonTask::detection) >= verdict_probability) return Capability::detect;
    return Capability::none;
}

// The model rule at one NIIRS: capability decided on the NIIRS each task needs, so that it agrees
// exactly with the criteria (met when floor(NIIRS) reaches their level).
Capability model_capability(const Target& t, double niirs) {
    if (niirs + kEps >= niirs_for_task(t, JohnsonTask::identification)) return Capability::identify;
    if (niirs + kEps >= niirs_for_task(t, JohnsonTask::recognition)) return Capability::recognise;
    if (niirs + kEps >= niirs_for_task(t, JohnsonTask::detection)) return Capability::detect;
    return Capability::none;
}

RuleOdds raw_rule(Rule rule, const Target& t, double res) {
    RuleOdds r;
    r.rule = rule;
    r.resolution_m_per_cycle = res;
    r.cycles = critical_dimension_m(t) / res;
    for (std::size_t i = 0; i < all_johnson_tasks.size(); ++i) {
        TaskOdds& o = r.tasks[i];
        o.task = all_johnson_tasks[i];
        o.n50_cycles = johnson_n50(o.task);
        o.probability = o.probability_low = o.probability_high = ttpf_probability(r.cycles, o.n50_cycles);
    }
    r.capability = capability_from(r);
    return r;
}

RuleOdds model_rule(const Target& t, double niirs, double sigma) {
    const double kappa = target_kappa(t);
    RuleOdds r = raw_rule(Rule::niirs_model, t, kappa * niirs_grd_m(niirs));
    const double d = critical_dimension_m(t);
    for (TaskOdds& o : r.tasks) {
        o.probability_low = ttpf_probability(d / (kappa * niirs_grd_m(niirs - sigma)), o.n50_cycles);
        o.probability_high = ttpf_probability(d / (kappa * niirs_grd_m(niirs + sigma)), o.n50_cycles);
        o.niirs_needed = niirs_for_task(t, o.task);
    }
    r.capability = model_capability(t, niirs);
    return r;
}

std::optional<double> rule_resolution(Rule rule, const ImageQuality& q) {
    switch (rule) {
        case Rule::niirs_model:
            return std::nullopt;  // per target
        case Rule::gsd_nyquist:
            return 2.0 * q.gsd_m;
        case Rule::gsd_over_rer:
            if (q.rer && *q.rer > 0) return 2.0 * q.gsd_m / *q.rer;
            return std::nullopt;
        case Rule::mtf50:
            if (q.mtf50_cyc_per_px && *q.mtf50_cyc_per_px > 0) return q.gsd_m / *q.mtf50_cyc_per_px;
            return std::nullopt;
    }
    return std::nullopt;
}

std::optional<RuleOdds> odds_for(Rule rule, const Target& t, const ImageQuality& q) {
    if (rule == Rule::niirs_model) return model_rule(t, q.niirs, q.niirs_sigma);
    const auto res = rule_resolution(rule, q);
    if (!res) return std::nullopt;
    return raw_rule(rule, t, *res);
}

std::string criteria_list(const std::vector<const NiirsCriterion*>& v, const char* last_joiner) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i)
        s += fmt::format("{}{}", i == 0 ? "" : (i + 1 == v.size() ? last_joiner : "; "), v[i]->task);
    return s;
}

std::string level_label(int level, bool commonly_cited) {
    return commonly_cited ? fmt::format("NIIRS {}, as commonly cited", level) : fmt::format("NIIRS {}", level);
}

std::string target_sentence(const TargetOdds& t) {
    const RuleOdds& p = t.primary;
    const std::string& n = t.target.name;
    auto odds = [&](JohnsonTask task) {
        const TaskOdds& o = p.tasks[static_cast<std::size_t>(task)];
        if (p.rule != Rule::niirs_model || o.probability_low == o.probability_high)
            return fmt::format("{:.2f}", o.probability);
        return fmt::format("{:.2f} ({:.2f}-{:.2f})", o.probability, o.probability_low, o.probability_high);
    };
    auto needs = [&](JohnsonTask task, const char* what) {
        const auto& o = p.tasks[static_cast<std::size_t>(task)];
        return o.niirs_needed ? fmt::format("; {} needs NIIRS {:.1f}", what, *o.niirs_needed) : std::string();
    };
    std::string s;
    switch (p.capability) {
        case Capability::identify:
            s = fmt::format("can identify {} {} (P {})", article(n), n, odds(JohnsonTask::identification));
            break;
        case Capability::recognise:
            s = fmt::format("can recognise {} {} but not identify it (P recognise {}, identify {}{})", article(n), n,
                            odds(JohnsonTask::recognition), odds(JohnsonTask::identification),
                            needs(JohnsonTask::identification, "identification"));
            break;
        case Capability::detect:
            s = fmt::format("can detect {} {} but not recognise it (P detect {}, recognise {}{})", article(n), n,
                            odds(JohnsonTask::detection), odds(JohnsonTask::recognition),
                            needs(JohnsonTask::recognition, "recognition"));
            break;
        case Capability::none:
            s = fmt::format("cannot reliably detect {} {} (P detect {}{})", article(n), n, odds(JohnsonTask::detection),
                            needs(JohnsonTask::detection, "detection"));
            break;
    }
    if (t.depends_on_uncertainty)
        s += fmt::format("; the answer depends on the NIIRS uncertainty: {} to {} within one standard error",
                         verb(t.capability_low), verb(t.capability_high));
    std::string other;
    for (Rule r : t.differing_rules)
        for (const RuleOdds& a : t.alternatives)
            if (a.rule == r)
                other += fmt::format("{}{} would {} ({:.1f} cycles)", other.empty() ? "" : ", ", to_string(r),
                                     verb(a.capability), a.cycles);
    if (!other.empty()) s += "; depends on the resolution rule: " + other;
    return s;
}

std::vector<std::string> make_verdicts(const Interpretation& it) {
    std::vector<std::string> out;
    const NiirsAssessment& a = it.military;
    const ImageQuality& q = it.quality;
    const std::string head = q.niirs_sigma > 0 ? fmt::format("At NIIRS {:.1f} +/- {:.1f} ({}, {})", q.niirs,
                                                             q.niirs_sigma, q.equation, q.basis)
                                               : fmt::format("At NIIRS {:.1f} ({}, {})", q.niirs, q.equation, q.basis);
    std::vector<const NiirsCriterion*> top;
    for (const NiirsCriterion& c : a.met)
        if (c.level == a.level) top.push_back(&c);
    if (a.level == 0 || top.empty()) {
        out.push_back(head + " the image supports none of the NIIRS 1 tasks");
    } else {
        bool cited = false;
        for (const auto* c : top)
            cited |= c->as_commonly_cited;
        out.push_back(
            fmt::format("{} an analyst can {} ({})", head, criteria_list(top, "; and "), level_label(a.level, cited)));
    }
    if (!a.not_met.empty()) {
        std::vector<const NiirsCriterion*> next;
        bool cited = false;
        for (const NiirsCriterion& c : a.not_met) {
            next.push_back(&c);
            cited |= c.as_commonly_cited;
        }
        out.push_back(
            fmt::format("but cannot {} ({})", criteria_list(next, "; or "), level_label(next.front()->level, cited)));
    }
    if (!it.borderline.empty()) {
        std::vector<int> levels;
        for (const auto& c : it.borderline)
            if (c.scale == NiirsScale::visible_military &&
                std::find(levels.begin(), levels.end(), c.level) == levels.end())
                levels.push_back(c.level);
        std::string l;
        for (int v : levels)
            l += (l.empty() ? "" : ", ") + std::to_string(v);
        if (!l.empty())
            out.push_back(
                fmt::format("the NIIRS {} tasks are borderline: whether they are met depends on the NIIRS uncertainty "
                            "(NIIRS {:.1f} to {:.1f})",
                            l, q.niirs - q.niirs_sigma, q.niirs + q.niirs_sigma));
    }
    for (const TargetOdds& t : it.targets)
        out.push_back(target_sentence(t));
    return out;
}

}  // namespace

double niirs_grd_m(double niirs) {
    if (!std::isfinite(niirs)) throw Error("niirs_grd_m: NIIRS must be a finite number");
    if (niirs <= kFirstLevel) return level_grd(kFirstLevel) * std::exp2(kFirstLevel - niirs);
    if (niirs >= kLastLevel) return level_grd(kLastLevel) * std::exp2(kLastLevel - niirs);
    const int level = static_cast<int>(std::floor(niirs));
    const double a = level_grd(level), b = level_grd(level + 1);
    return a * std::pow(b / a, niirs - level);  // log-linear between levels
}

double niirs_for_grd(double grd_m) {
    if (!std::isfinite(grd_m) || grd_m <= 0) throw Error(fmt::format("niirs_for_grd: GRD must be > 0 (got {})", grd_m));
    if (grd_m >= level_grd(kFirstLevel)) return kFirstLevel - std::log2(grd_m / level_grd(kFirstLevel));
    if (grd_m <= level_grd(kLastLevel)) return kLastLevel + std::log2(level_grd(kLastLevel) / grd_m);
    int level = kFirstLevel;
    while (level_grd(level + 1) > grd_m)
        ++level;
    const double a = level_grd(level), b = level_grd(level + 1);
    return level + std::log(grd_m / a) / std::log(b / a);
}

const ModelCalibration& model_calibration() {
    static const ModelCalibration c = make_calibration();
    return c;
}

const CalibrationAnchor* target_anchor(std::string_view key) {
    for (const CalibrationAnchor& a : model_calibration().anchors)
        if (a.target_key == key) return &a;
    return nullptr;
}

double target_kappa(const Target& t) {
    const CalibrationAnchor* a = target_anchor(t.key);
    // A user target that reuses a catalogue key but not its size is not the catalogue's target.
    if (a) {
        const Target& cat = find_target(a->target_key);
        if (cat.length_m == t.length_m && cat.width_m == t.width_m) return a->kappa;
    }
    return model_calibration().pooled_kappa;
}

double niirs_for_task(const Target& t, JohnsonTask task) {
    const CalibrationAnchor* a = target_anchor(t.key);
    if (a && a->task == task && target_kappa(t) == a->kappa) return a->level;  // exact at the criterion's level
    return niirs_for_grd(critical_dimension_m(t) / (target_kappa(t) * johnson_n50(task)));
}

const char* to_string(Rule r) {
    switch (r) {
        case Rule::niirs_model:
            return "niirs_model";
        case Rule::gsd_over_rer:
            return "gsd_over_rer";
        case Rule::gsd_nyquist:
            return "gsd_nyquist";
        case Rule::mtf50:
            return "mtf50";
    }
    return "unknown";
}

Rule parse_rule(std::string_view s) {
    for (Rule r : all_rules)
        if (s == to_string(r)) return r;
    throw Error(fmt::format("resolution rule: unknown '{}'; valid: niirs_model, gsd_over_rer, gsd_nyquist, mtf50", s));
}

const char* to_string(Capability c) {
    switch (c) {
        case Capability::identify:
            return "identify";
        case Capability::recognise:
            return "recognise";
        case Capability::detect:
            return "detect";
        case Capability::none:
            return "none";
    }
    return "none";
}

Interpretation interpret_image(const ImageQuality& q, const std::vector<Target>& targets, Rule primary) {
    if (!std::isfinite(q.niirs)) throw Error("interpret: NIIRS must be a finite number");
    if (!std::isfinite(q.niirs_sigma) || q.niirs_sigma < 0) throw Error("interpret: NIIRS standard error must be >= 0");
    if (!std::isfinite(q.gsd_m) || q.gsd_m <= 0) throw Error("interpret: GSD must be > 0");
    Interpretation it;
    it.quality = q;
    it.primary_rule = primary;
    it.military = assess_niirs(q.niirs, NiirsScale::visible_military);
    it.civil = assess_niirs(q.niirs, NiirsScale::civil);
    const auto level_at = [](double n) { return std::clamp(static_cast<int>(std::floor(n + kEps)), 0, 9); };
    const int lo = level_at(q.niirs - q.niirs_sigma), hi = level_at(q.niirs + q.niirs_sigma);
    for (NiirsScale s : {NiirsScale::visible_military, NiirsScale::civil})
        for (const NiirsCriterion& c : niirs_criteria(s))
            if (c.level > lo && c.level <= hi) it.borderline.push_back(c);
    if (!rule_resolution(primary, q) && primary != Rule::niirs_model)
        throw Error(fmt::format("resolution rule {} needs a measured {}", to_string(primary),
                                primary == Rule::mtf50 ? "MTF50" : "RER"));
    for (const Target& t : targets) {
        TargetOdds o;
        o.target = t;
        o.critical_dimension_m = critical_dimension_m(t);
        o.kappa = target_kappa(t);
        o.anchor = target_anchor(t.key);
        if (o.anchor && o.kappa != o.anchor->kappa) o.anchor = nullptr;
        o.primary = *odds_for(primary, t, q);
        for (Rule r : all_rules) {
            if (r == primary) continue;
            if (auto a = odds_for(r, t, q)) {
                if (a->capability != o.primary.capability) o.differing_rules.push_back(r);
                o.alternatives.push_back(*a);
            }
        }
        if (primary == Rule::niirs_model) {
            o.capability_low = model_capability(t, q.niirs - q.niirs_sigma);
            o.capability_high = model_capability(t, q.niirs + q.niirs_sigma);
        } else {
            o.capability_low = o.capability_high = o.primary.capability;
        }
        o.depends_on_uncertainty = o.capability_low != o.capability_high;
        it.targets.push_back(std::move(o));
    }
    const ModelCalibration& cal = model_calibration();
    it.notes.push_back(
        "scene contrast and clutter are not modelled: a target in clutter, under camouflage or of low contrast needs "
        "more "
        "than these figures");
    it.notes.push_back(
        fmt::format("Johnson probabilities follow from the NIIRS through the scale's ground resolved distance, "
                    "calibrated on {} published "
                    "NIIRS criteria that name catalogue targets (the pooled calibration misplaces them by {:.1f} NIIRS "
                    "RMS, {:.1f} at most; "
                    "each of those targets uses its own)",
                    cal.anchors.size(), cal.rms_residual_niirs, cal.max_abs_residual_niirs));
    it.verdicts = make_verdicts(it);
    return it;
}

nlohmann::json to_json(const Interpretation& it) {
    using nlohmann::json;
    auto crit = [](const std::vector<NiirsCriterion>& v) {
        json a = json::array();
        for (const auto& c : v)
            a.push_back({{"level", c.level},
                         {"scale", to_string(c.scale)},
                         {"task", c.task},
                         {"as_commonly_cited", c.as_commonly_cited}});
        return a;
    };
    auto rule_json = [](const RuleOdds& r) {
        json tasks = json::object();
        for (const TaskOdds& o : r.tasks)
            tasks[to_string(o.task)] = {{"n50_cycles", o.n50_cycles},
                                        {"probability", o.probability},
                                        {"probability_low", o.probability_low},
                                        {"probability_high", o.probability_high},
                                        {"niirs_needed", o.niirs_needed ? json(*o.niirs_needed) : json(nullptr)}};
        return json{{"resolution_m_per_cycle", r.resolution_m_per_cycle},
                    {"cycles", r.cycles},
                    {"capability", to_string(r.capability)},
                    {"tasks", tasks}};
    };
    json targets = json::array();
    for (const TargetOdds& t : it.targets) {
        json rules = json::object();
        for (Rule r : all_rules)
            rules[to_string(r)] = nullptr;
        rules[to_string(t.primary.rule)] = rule_json(t.primary);
        for (const RuleOdds& a : t.alternatives)
            rules[to_string(a.rule)] = rule_json(a);
        json differing = json::array();
        for (Rule r : t.differing_rules)
            differing.push_back(to_string(r));
        targets.push_back({{"key", t.target.key},
                           {"target", t.target.name},
                           {"length_m", t.target.length_m},
                           {"width_m", t.target.width_m},
                           {"dimensions_source", t.target.source},
                           {"dimensions_assumed", t.target.assumed},
                           {"critical_dimension_m", t.critical_dimension_m},
                           {"kappa", t.kappa},
                           {"calibrated_on", t.anchor ? json{{"level", t.anchor->level},
                                                             {"criterion", t.anchor->criterion},
                                                             {"task", to_string(t.anchor->task)}}
                                                      : json(nullptr)},
                           {"capability", to_string(t.primary.capability)},
                           {"capability_low", to_string(t.capability_low)},
                           {"capability_high", to_string(t.capability_high)},
                           {"depends_on_uncertainty", t.depends_on_uncertainty},
                           {"differing_rules", differing},
                           {"rules", rules}});
    }
    const ModelCalibration& cal = model_calibration();
    json anchors = json::array();
    for (const CalibrationAnchor& a : cal.anchors)
        anchors.push_back({{"target", a.target_key},
                           {"task", to_string(a.task)},
                           {"level", a.level},
                           {"criterion", a.criterion},
                           {"kappa", a.kappa},
                           {"residual_niirs", a.residual_niirs}});
    const ImageQuality& q = it.quality;
    return json{
        {"niirs", q.niirs},
        {"niirs_standard_error", q.niirs_sigma},
        {"equation", q.equation},
        {"basis", q.basis},
        {"gsd_m", q.gsd_m},
        {"niirs_level", it.military.level},
        {"criteria_met", crit(it.military.met)},
        {"criteria_not_met", crit(it.military.not_met)},
        {"civil_criteria_met", crit(it.civil.met)},
        {"civil_criteria_not_met", crit(it.civil.not_met)},
        {"borderline_criteria", crit(it.borderline)},
        {"resolution_rule", to_string(it.primary_rule)},
        {"model",
         {{"grd_m", niirs_grd_m(q.niirs)},
          {"pooled_kappa", cal.pooled_kappa},
          {"rms_residual_niirs", cal.rms_residual_niirs},
          {"max_abs_residual_niirs", cal.max_abs_residual_niirs},
          {"calibration", anchors},
          {"cycles",
           "sqrt(length x width) / (kappa GRD(NIIRS)); the raw rules divide by 2 GSD, 2 GSD / RER or GSD / MTF50"},
          {"probability",
           "P = (N/N50)^E / (1 + (N/N50)^E), E = 2.7 + 0.7 N/N50; N50 detection 1.0, orientation "
           "1.4, recognition 4.0, identification 6.4 (Johnson 1958)"}}},
        {"targets", targets},
        {"verdicts", it.verdicts},
        {"notes", it.notes}};
}

std::string to_text(const Interpretation& it) {
    std::string s;
    for (const auto& v : it.verdicts)
        s += "  - " + v + "\n";
    for (const auto& n : it.notes)
        s += "  (" + n + ")\n";
    return s;
}

std::string niirs_text(double niirs, double gsd_m) {
    std::string s = fmt::format("{:.2f}", niirs);
    std::vector<std::string> q;
    if (niirs < 1) q.push_back("below NIIRS 1: no NIIRS 1 task is supported");
    if (niirs > 9) q.push_back("beyond NIIRS 9, the top of the scale");
    if (gsd_m < giqe::giqe5_validated_gsd_min_m || gsd_m > giqe::giqe5_validated_gsd_max_m)
        q.push_back(fmt::format("extrapolated: GSD {:.3g} m lies outside GIQE 5's validated {}-{} m", gsd_m,
                                giqe::giqe5_validated_gsd_min_m, giqe::giqe5_validated_gsd_max_m));
    if (!q.empty()) {
        s += " (";
        for (std::size_t i = 0; i < q.size(); ++i)
            s += (i ? "; " : "") + q[i];
        s += ")";
    }
    return s;
}

}  // namespace satiq::interpret
