#include "satiq/pipeline/model/require.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/giqe.hpp"
#include "satiq/pipeline/model/interpretation.hpp"
#include "satiq/pipeline/model/sensor.hpp"

namespace satiq::require {

namespace {

// A length in metres for the text: three decimals, or three significant digits below 0.1 m (a
// 6 mm critical dimension is not "0.00 m").
std::string metres(double v) {
    return v == 0 || std::abs(v) >= 0.1 ? fmt::format("{:.3f}", v) : fmt::format("{:.3g}", v);
}

using interpret::JohnsonTask;
using interpret::NiirsCriterion;
using interpret::NiirsScale;

// Bisection bracket of the GSD search, metres (GIQE 5 spans NIIRS -9..+19 over it).
constexpr double kGsdSearchMin = 1e-4;
constexpr double kGsdSearchMax = 1e4;
// The bottom of the NIIRS scale (NGA 2015 §1: 0 to 9); a task needs more than it (niirs:N, (0, 9]).
constexpr double niirs_scale_floor = giqe::niirs_scale_min;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

const char* scale_id(NiirsScale s) {
    return s == NiirsScale::civil ? "civil" : "military";
}

const char* scale_name(NiirsScale s) {
    return s == NiirsScale::civil ? "civil NIIRS, 1996" : "visible NIIRS, 1994";
}

// The verbs of the Johnson task ids, in the order of interpret::all_johnson_tasks.
const char* johnson_verb(JohnsonTask t) {
    switch (t) {
        case JohnsonTask::detection:
            return "detect";
        case JohnsonTask::orientation:
            return "orient";
        case JohnsonTask::recognition:
            return "recognise";
        case JohnsonTask::identification:
            return "identify";
    }
    return "detect";
}

const char* johnson_gerund(JohnsonTask t) {
    switch (t) {
        case JohnsonTask::detection:
            return "Detecting";
        case JohnsonTask::orientation:
            return "Telling the orientation of";
        case JohnsonTask::recognition:
            return "Recognising";
        case JohnsonTask::identification:
            return "Identifying";
    }
    return "Detecting";
}

std::optional<JohnsonTask> parse_verb(std::string_view v) {
    for (JohnsonTask t : interpret::all_johnson_tasks)
        if (v == johnson_verb(t)) return t;
    if (v == "recognize") return JohnsonTask::recognition;
    return std::nullopt;
}

const char* article(const std::string& noun) {
    return !noun.empty() && std::string_view("aeiouAEIOU").find(noun[0]) != std::string_view::npos ? "an" : "a";
}

RequireTask johnson_task(JohnsonTask t, const interpret::Target& target, std::string id) {
    RequireTask r;
    r.id = std::move(id);
    r.kind = TaskKind::johnson;
    r.johnson_task = t;
    r.target = target;
    r.description =
        fmt::format("{} {} {} (Johnson {}, {:.1f} cycles on {} m{})", johnson_verb(t), article(target.name),
                    target.name, interpret::to_string(t), interpret::johnson_n50(t),
                    metres(interpret::critical_dimension_m(target)), target.assumed ? "; a dimension is assumed" : "");
    return r;
}

RequireTask criterion_task(const NiirsCriterion& c, std::string id) {
    RequireTask r;
    r.id = std::move(id);
    r.kind = TaskKind::niirs_criterion;
    r.criterion = c;
    r.niirs_level = c.level;
    r.description = fmt::format("NIIRS {} ({}{}): {}", c.level, scale_name(c.scale),
                                c.as_commonly_cited ? ", as commonly cited" : "", c.task);
    return r;
}

RequireTask level_task(double n, std::string id) {
    RequireTask r;
    r.id = std::move(id);
    r.kind = TaskKind::niirs_level;
    r.niirs_level = n;
    r.description = fmt::format("reach NIIRS {:g} (every criterion up to level {})", n, static_cast<int>(n));
    return r;
}

// Short ids for the criteria that calibrate the interpretability model (their criterion text ->
// slug); "distinguish-tel-from-truck" is the name for the TEL criterion (support vans are
// trucks). An anchor missing here gets a slug made from its text.
const std::vector<std::pair<std::string, std::string>>& anchor_slugs() {
    static const std::vector<std::pair<std::string, std::string>> s = {
        {"identify the wing configuration of large aircraft", "identify-wing-configuration-of-large-aircraft"},
        {"identify a large surface ship in port by type", "identify-large-ship-in-port-by-type"},
        {"identify large fighters by type", "identify-large-fighters-by-type"},
        {"distinguish a mobile missile launcher (TEL) from support vans", "distinguish-tel-from-support-vans"},
        {"distinguish a mobile missile launcher (TEL) from support vans", "distinguish-tel-from-truck"},
        {"identify automobiles as sedans or station wagons", "identify-sedans-or-station-wagons"},
    };
    return s;
}

std::string slugify(std::string_view text) {
    std::string out;
    for (char ch : lower(text)) {
        if (std::isalnum(static_cast<unsigned char>(ch)))
            out += ch;
        else if (!out.empty() && out.back() != '-')
            out += '-';
    }
    while (!out.empty() && out.back() == '-')
        out.pop_back();
    return out;
}

const NiirsCriterion* military_criterion(std::string_view text) {
    for (const NiirsCriterion& c : interpret::niirs_criteria(NiirsScale::visible_military))
        if (c.task == text) return &c;
    return nullptr;
}

std::vector<RequireTask> make_catalogue() {
    std::vector<RequireTask> out;
    for (const interpret::Target& t : interpret::target_catalogue())
        for (JohnsonTask task : interpret::all_johnson_tasks)
            out.push_back(johnson_task(task, t, fmt::format("{}:{}", johnson_verb(task), t.key)));
    for (const interpret::CalibrationAnchor& a : interpret::model_calibration().anchors) {
        const NiirsCriterion* c = military_criterion(a.criterion);
        if (!c) continue;
        bool named = false;
        for (const auto& [text, slug] : anchor_slugs())
            if (text == a.criterion) {
                out.push_back(criterion_task(*c, slug));
                named = true;
            }
        if (!named) out.push_back(criterion_task(*c, slugify(a.criterion)));
    }
    for (NiirsScale s : {NiirsScale::visible_military, NiirsScale::civil}) {
        std::map<int, int> index;
        for (const NiirsCriterion& c : interpret::niirs_criteria(s))
            out.push_back(criterion_task(c, fmt::format("niirs:{}:{}:{}", scale_id(s), c.level, ++index[c.level])));
    }
    return out;
}

std::string task_grammar() {
    return "give detect:KEY, orient:KEY, recognise:KEY or identify:KEY (KEY a catalogue target or "
           "NAME:LENGTH_M:WIDTH_M), niirs:N (0 < N <= 9), niirs:military:LEVEL:INDEX, niirs:civil:LEVEL:INDEX or a "
           "criterion slug";
}

double parse_number(std::string_view s, std::string_view id) {
    double v = 0.0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v))
        throw Error(fmt::format("task '{}': '{}' is not a number", id, s));
    return v;
}

RequireTask parse_niirs_task(std::string_view rest, std::string_view id) {
    for (NiirsScale s : {NiirsScale::visible_military, NiirsScale::civil}) {
        const std::string prefix = std::string(scale_id(s)) + ":";
        if (rest.substr(0, prefix.size()) != prefix) continue;
        const std::string canonical = "niirs:" + std::string(rest);
        for (const RequireTask& t : task_catalogue())
            if (t.id == canonical) return t;
        throw Error(
            fmt::format("task '{}': no such criterion; niirs:{}:LEVEL:INDEX takes a level 1..9 and the "
                        "criterion's index within it",
                        id, scale_id(s)));
    }
    const double n = parse_number(rest, id);
    if (!(n > 0.0 && n <= 9.0)) throw Error(fmt::format("task '{}': the NIIRS must lie in (0, 9] (got {})", id, n));
    return level_task(n, fmt::format("niirs:{:g}", n));
}

}  // namespace

const char* to_string(TaskKind k) {
    switch (k) {
        case TaskKind::johnson:
            return "johnson";
        case TaskKind::niirs_criterion:
            return "niirs_criterion";
        case TaskKind::niirs_level:
            return "niirs_level";
    }
    return "niirs_level";
}

const std::vector<RequireTask>& task_catalogue() {
    static const std::vector<RequireTask> c = make_catalogue();
    return c;
}

RequireTask parse_task(std::string_view id) {
    const std::string low = lower(id);
    if (low.empty()) throw Error(fmt::format("task '': empty; {}", task_grammar()));
    if (low.rfind("niirs:", 0) == 0) return parse_niirs_task(std::string_view(low).substr(6), id);
    const auto colon = low.find(':');
    if (colon != std::string::npos) {
        const auto task = parse_verb(std::string_view(low).substr(0, colon));
        if (!task)
            throw Error(fmt::format("task '{}': unknown task '{}'; {}", id, low.substr(0, colon), task_grammar()));
        const std::string_view rest = id.substr(colon + 1);
        const interpret::Target target =
            rest.find(':') != std::string_view::npos ? interpret::parse_target(rest) : interpret::find_target(rest);
        const bool catalogue = rest.find(':') == std::string_view::npos;
        return johnson_task(*task, target,
                            fmt::format("{}:{}", johnson_verb(*task), catalogue ? target.key : std::string(rest)));
    }
    for (const RequireTask& t : task_catalogue())
        if (t.id == low) return t;
    throw Error(fmt::format("unknown task '{}'; {}", id, task_grammar()));
}

// ---------------- conditions ----------------

double ideal_rer(double q) {
    if (!std::isfinite(q) || q <= 0.0) throw Error(fmt::format("ideal_rer: Q must be > 0 (got {})", q));
    // Q = lambda F# / p = lambda f / (D p) (Fiete 1999): any D, p and lambda with that ratio give the
    // same transfer function in cycles per pixel. The figures are predict's (sensor.cpp: O'Neill
    // 1956 aperture OTF x detector sinc, edge response of the signed transfer function).
    sensor::SensorDescription d;
    d.name = "ideal";
    d.altitude_m = 500e3;
    d.aperture_diameter_m = 1.0;
    d.detector_pitch_m = 8e-6;
    d.wavelength_m = default_wavelength_m;
    d.focal_length_m = q * d.aperture_diameter_m * d.detector_pitch_m / d.wavelength_m;
    d.full_well_e = 20000.0;
    d.read_noise_e = 10.0;
    d.bits = 12;
    d.snr = default_snr;
    const sensor::SensorModel model = sensor::SensorModel::physical(d);
    const sensor::SensorFigures& f = model.figures();
    return giqe::rer_weighted(f.x.rer, f.y.rer);  // NGA 2015 eq. 7 (the axes are equal here)
}

Conditions resolve(const RequireParams& p) {
    auto positive = [](const char* what, double v) {
        if (!std::isfinite(v) || v <= 0.0)
            throw Error(fmt::format("require: {} must be greater than 0 (got {})", what, v));
    };
    if (p.altitude_m) positive("the altitude", *p.altitude_m);
    if (p.pitch_m) positive("the detector pitch", *p.pitch_m);
    positive("the wavelength", p.wavelength_m);
    positive("the SNR", p.snr);
    positive("Q", p.q);
    if (p.q < 0.1 || p.q > 10.0)
        throw Error(fmt::format("require: Q must lie in 0.1..10 (got {}; GIQE 5 assumes 1..2)", p.q));
    Conditions c;
    c.params = p;
    if (p.rer) {
        positive("the RER", *p.rer);
        // An un-sharpened system has a non-negative PSF: the edge rises by at most 1 over a pixel.
        if (*p.rer > 1.0)
            throw Error(
                fmt::format("require: the RER must be at most 1 (GIQE 5 takes the un-sharpened RER; got {})", *p.rer));
        c.rer = *p.rer;
        c.rer_given = true;
        c.rer_source = "given";
    } else {
        c.rer = ideal_rer(p.q);
        c.rer_source = fmt::format(
            "ideal diffraction-limited system at Q = {:.2f} (unobscured circular aperture, 100 % fill square "
            "detector, no jitter, smear or aberration; predict's sensor model)",
            p.q);
    }
    c.niirs_standard_error = giqe::giqe5_standard_error(p.snr);
    // Provenance: the defaults' reasons are those of require.hpp.
    auto figure = [&](const char* key, bool is_default, const std::string& why) {
        c.provenance[key] =
            is_default ? FigureProvenance{"assumed", why} : FigureProvenance{"given", "set for this run"};
    };
    figure("q", p.q == default_q,
           "satiq's default: the lower end of the 1..2 range GIQE 5 assumes (NGA 2015 sec. 2.2), the largest "
           "aperture it still covers");
    figure("snr", p.snr == default_snr,
           "satiq's default: the nominal GIQE SNR of the large-aperture presets, in GIQE 5's top SNR bin (>= 30, NGA "
           "2015 Table 4)");
    figure("wavelength_m", p.wavelength_m == default_wavelength_m,
           "satiq's default: the visible pan band centre (predict's custom default)");
    if (p.rer)
        c.provenance["rer"] = {"given", "set for this run"};
    else
        c.provenance["rer"] = {"derived", c.rer_source};
    if (p.altitude_m) c.provenance["altitude_m"] = {"given", "set for this run"};
    if (p.pitch_m) c.provenance["detector_pitch_m"] = {"given", "set for this run"};
    return c;
}

// ---------------- GIQE 5 inversion and optics ----------------

double niirs_at_gsd(double gsd_m, double rer, double snr) {
    // NGA 2015 eq. 2 at nadir: the weighted GSD (eq. 5) equals the GSD.
    giqe::Giqe5Inputs in;
    in.gsd_weighted_m = gsd_m;
    in.rer_weighted = rer;
    in.snr = snr;
    return giqe::giqe5(in).value;
}

std::optional<double> gsd_for_niirs(double niirs, double rer, double snr) {
    if (!std::isfinite(niirs)) throw Error("gsd_for_niirs: NIIRS must be a finite number");
    // GIQE 5 is strictly decreasing in GSD (the -3.32 log10 GSD term alone depends on it), so the
    // root on log10 GSD is bracketed and bisection keeps the fine end, where NIIRS >= niirs.
    double lo = std::log10(kGsdSearchMin), hi = std::log10(kGsdSearchMax);
    if (niirs_at_gsd(kGsdSearchMin, rer, snr) < niirs) return std::nullopt;
    if (niirs_at_gsd(kGsdSearchMax, rer, snr) >= niirs) return kGsdSearchMax;
    for (int i = 0; i < 200 && hi - lo > 1e-14; ++i) {
        const double mid = 0.5 * (lo + hi);
        if (niirs_at_gsd(std::pow(10.0, mid), rer, snr) >= niirs)
            lo = mid;
        else
            hi = mid;
    }
    return std::pow(10.0, lo);
}

double aperture_for_gsd(double gsd_m, double altitude_m, double wavelength_m, double q) {
    for (double v : {gsd_m, altitude_m, wavelength_m, q})
        if (!std::isfinite(v) || v <= 0.0) throw Error("aperture_for_gsd: every argument must be > 0");
    // GSD = p H / f and Q = lambda f / (D p) (Fiete 1999)  =>  D = lambda H / (Q GSD) at nadir.
    return wavelength_m * altitude_m / (q * gsd_m);
}

namespace {

double niirs_needed(const RequireTask& t, Requirement& r) {
    if (t.kind != TaskKind::johnson) return t.niirs_level;
    const interpret::Target& target = *t.target;
    const double n = interpret::niirs_for_task(target, t.johnson_task);
    r.cycles_needed = interpret::johnson_n50(t.johnson_task);
    r.critical_dimension_m = interpret::critical_dimension_m(target);
    r.kappa = interpret::target_kappa(target);
    r.grd_m = interpret::niirs_grd_m(n);
    const interpret::CalibrationAnchor* a = interpret::target_anchor(target.key);
    if (a && a->kappa == *r.kappa)
        r.calibrated_on = fmt::format("NIIRS {} \"{}\" ({} of the {})", a->level, a->criterion,
                                      interpret::to_string(a->task), target.key);
    return n;
}

void size_optics(Requirement& r, const Conditions& c) {
    const RequireParams& p = c.params;
    if (!p.altitude_m || !r.gsd_max_m) return;
    r.aperture_diameter_min_m = aperture_for_gsd(*r.gsd_max_m, *p.altitude_m, p.wavelength_m, p.q);
    if (r.gsd_with_margin_m)
        r.aperture_diameter_with_margin_m = aperture_for_gsd(*r.gsd_with_margin_m, *p.altitude_m, p.wavelength_m, p.q);
    r.focal_length_over_pitch = *p.altitude_m / *r.gsd_max_m;  // GSD = p H / f
    if (p.pitch_m) {
        r.focal_length_m = *p.pitch_m * *r.focal_length_over_pitch;
        r.f_number = p.q * *p.pitch_m / p.wavelength_m;  // Q = lambda F# / p (Fiete 1999)
    }
}

std::string task_phrase(const Requirement& r) {
    const RequireTask& t = r.task;
    switch (t.kind) {
        case TaskKind::johnson:
            return fmt::format("{} {} {} needs NIIRS {:.2f} ({:.1f} cycles on its {} m critical dimension)",
                               johnson_gerund(t.johnson_task), article(t.target->name), t.target->name, r.niirs_needed,
                               *r.cycles_needed, metres(*r.critical_dimension_m));
        case TaskKind::niirs_criterion:
            return fmt::format("The NIIRS {} criterion \"{}\" needs NIIRS {}", t.criterion->level, t.criterion->task,
                               t.criterion->level);
        case TaskKind::niirs_level:
            break;
    }
    return fmt::format("Reaching NIIRS {:g}", t.niirs_level);
}

std::string make_verdict(const Requirement& r, const Conditions& c) {
    const std::string at = fmt::format("RER {:.2f} and SNR {:g}", c.rer, c.params.snr);
    std::string s = task_phrase(r);
    if (!r.met_by_any_gsd) {
        s += fmt::format(
            ": no GSD in GIQE 5's validated range meets it at {} (GIQE 5 gives NIIRS {:.2f} at {:g} m, the finest "
            "validated GSD)",
            at, r.niirs_at_finest_validated_gsd, giqe::giqe5_validated_gsd_min_m);
        if (r.gsd_max_unvalidated_m)
            s += fmt::format("; the equation extrapolated would ask for {} m, where it was not validated",
                             metres(*r.gsd_max_unvalidated_m));
        return s + ".";
    }
    if (r.gsd_max_at_search_limit)
        s += fmt::format(
            ": any GSD up to the model's {:g} km limit meets it at {} (GIQE 5 extrapolated far beyond "
            "its validated range)",
            *r.gsd_max_m / 1000.0, at);
    else
        s += fmt::format(": a GSD of {} m or finer at {}{}", metres(*r.gsd_max_m), at,
                         r.gsd_extrapolated ? " (extrapolated: coarser than GIQE 5's validated range)" : "");
    if (r.aperture_diameter_min_m)
        s += fmt::format("; from {:g} km that takes an aperture of at least {:.3f} m at Q {:.2f}",
                         *c.params.altitude_m / 1000.0, *r.aperture_diameter_min_m, c.params.q);
    return s + ".";
}

}  // namespace

Requirement evaluate(const RequireTask& task, const Conditions& c) {
    Requirement r;
    r.task = task;
    r.niirs_needed = niirs_needed(task, r);
    // The NIIRS scale is 0 to 9 (NGA 2015 §1); niirs:N is refused outside (0, 9], a Johnson task
    // (its NIIRS follows from the target's size) is answered and flagged.
    r.niirs_needed_on_scale = r.niirs_needed > niirs_scale_floor && r.niirs_needed <= giqe::niirs_scale_max;
    const double rer = c.rer, snr = c.params.snr;
    r.niirs_at_finest_validated_gsd = niirs_at_gsd(giqe::giqe5_validated_gsd_min_m, rer, snr);
    const std::optional<double> gsd = gsd_for_niirs(r.niirs_needed, rer, snr);
    r.met_by_any_gsd = gsd && *gsd >= giqe::giqe5_validated_gsd_min_m;
    if (r.met_by_any_gsd) {
        r.gsd_max_m = gsd;
        r.gsd_max_at_search_limit = *gsd >= kGsdSearchMax;
        r.gsd_extrapolated = *gsd > giqe::giqe5_validated_gsd_max_m;
        const auto margin = gsd_for_niirs(r.niirs_needed + c.niirs_standard_error, rer, snr);
        if (margin && *margin >= giqe::giqe5_validated_gsd_min_m) r.gsd_with_margin_m = margin;
    } else {
        r.gsd_max_unvalidated_m = gsd;
    }
    size_optics(r, c);
    // GIQE 5's validity warnings on its inputs (giqe.hpp: Q outside 1..2, SNR below 5, GSD outside
    // the validated range, RER below the fitted range) at the GSD the answer rests on; the NIIRS
    // itself is the task's, judged against the scale here.
    giqe::Giqe5Inputs in;
    in.gsd_weighted_m = r.gsd_max_m.value_or(giqe::giqe5_validated_gsd_min_m);
    in.rer_weighted = rer;
    in.snr = snr;
    in.q = c.params.q;
    r.warnings = giqe::giqe5_input_warnings(in);
    if (!r.niirs_needed_on_scale)
        r.warnings.push_back(
            r.niirs_needed <= niirs_scale_floor
                ? fmt::format("NIIRS needed {:.2f} lies below the NIIRS scale (0 to 9): the interpretability model "
                              "extrapolated, not a rating; any image that rates on the scale serves, and the GSD "
                              "given is GIQE 5 far outside its data",
                              r.niirs_needed)
                : fmt::format("NIIRS needed {:.2f} lies above the NIIRS scale (0 to 9): the interpretability model "
                              "extrapolated, not a rating; no NIIRS criterion describes the task, and the GSD given "
                              "is GIQE 5 beyond its data (about NIIRS 1 to 8, NGA 2015 Figure 6)",
                              r.niirs_needed));
    if (r.gsd_max_at_search_limit)
        r.warnings.push_back(fmt::format(
            "GIQE 5 still meets the task at {:g} km, the coarsest GSD the model searches: any GSD up to it meets it "
            "(the equation's own root lies beyond and means nothing)",
            kGsdSearchMax / 1000.0));
    if (task.target && task.target->assumed)
        r.warnings.push_back(fmt::format("target {}: {}", task.target->key, task.target->source));
    r.verdict = make_verdict(r, c);
    return r;
}

// ---------------- output ----------------

namespace {

nlohmann::json opt(const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json task_json(const RequireTask& t) {
    using nlohmann::json;
    json j{{"task", t.id}, {"kind", to_string(t.kind)}, {"description", t.description}};
    j["criterion"] = t.criterion ? json{{"level", t.criterion->level},
                                        {"scale", interpret::to_string(t.criterion->scale)},
                                        {"task", t.criterion->task},
                                        {"as_commonly_cited", t.criterion->as_commonly_cited}}
                                 : json(nullptr);
    j["johnson_task"] = t.kind == TaskKind::johnson ? json(interpret::to_string(t.johnson_task)) : json(nullptr);
    j["target"] = t.target ? json{{"key", t.target->key},
                                  {"name", t.target->name},
                                  {"length_m", t.target->length_m},
                                  {"width_m", t.target->width_m},
                                  {"dimensions_source", t.target->source},
                                  {"dimensions_assumed", t.target->assumed}}
                           : json(nullptr);
    return j;
}

}  // namespace

nlohmann::json to_json(const Conditions& c) {
    const RequireParams& p = c.params;
    return {{"altitude_m", opt(p.altitude_m)},
            {"wavelength_m", p.wavelength_m},
            {"q", p.q},
            {"rer", c.rer},
            {"rer_given", c.rer_given},
            {"rer_source", c.rer_source},
            {"snr", p.snr},
            {"detector_pitch_m", opt(p.pitch_m)},
            {"niirs_standard_error", c.niirs_standard_error},
            {"view", "nadir"},
            {"equation", "GIQE 5"},
            {"giqe5_validated_gsd_m", {giqe::giqe5_validated_gsd_min_m, giqe::giqe5_validated_gsd_max_m}},
            {"defaults", {{"q", default_q}, {"snr", default_snr}, {"wavelength_m", default_wavelength_m}}}};
}

nlohmann::json to_json(const Requirement& r) {
    nlohmann::json j = task_json(r.task);
    j["status"] = "ok";
    j["niirs_needed"] = r.niirs_needed;
    j["cycles_needed"] = opt(r.cycles_needed);
    j["critical_dimension_m"] = opt(r.critical_dimension_m);
    j["kappa"] = opt(r.kappa);
    j["grd_m"] = opt(r.grd_m);
    j["calibrated_on"] = r.calibrated_on.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.calibrated_on);
    j["met_by_any_gsd"] = r.met_by_any_gsd;
    j["gsd_max_m"] = opt(r.gsd_max_m);
    j["gsd_extrapolated"] = r.gsd_extrapolated;
    j["gsd_max_at_search_limit"] = r.gsd_max_at_search_limit;
    j["niirs_needed_on_scale"] = r.niirs_needed_on_scale;
    j["gsd_max_unvalidated_m"] = opt(r.gsd_max_unvalidated_m);
    j["niirs_at_finest_validated_gsd"] = r.niirs_at_finest_validated_gsd;
    j["gsd_with_margin_m"] = opt(r.gsd_with_margin_m);
    j["aperture_diameter_min_m"] = opt(r.aperture_diameter_min_m);
    j["aperture_diameter_with_margin_m"] = opt(r.aperture_diameter_with_margin_m);
    j["focal_length_over_pitch"] = opt(r.focal_length_over_pitch);
    j["focal_length_m"] = opt(r.focal_length_m);
    j["f_number"] = opt(r.f_number);
    j["verdict"] = r.verdict;
    j["warnings"] = r.warnings;
    return j;
}

std::vector<std::string> notes(const Conditions& c) {
    const interpret::ModelCalibration& cal = interpret::model_calibration();
    std::vector<std::string> n;
    n.push_back(fmt::format("RER {:.3f}: {}", c.rer, c.rer_source));
    n.push_back(fmt::format(
        "GIQE 5 (NGA 2015) at nadir, inverted for the coarsest GSD; validated for GSD about {:g}-{:g} m, outside it "
        "the answer is an extrapolation; one standard error is {:.2f} NIIRS at SNR {:g} (the margin figures)",
        giqe::giqe5_validated_gsd_min_m, giqe::giqe5_validated_gsd_max_m, c.niirs_standard_error, c.params.snr));
    n.push_back(
        "aperture D = lambda H / (Q GSD) (GSD = p H / f, Q = lambda f / (D p); Fiete 1999): the diffraction size at "
        "nadir; an off-nadir look coarsens the GSD GIQE 5 rates");
    n.push_back(fmt::format(
        "Johnson tasks use the interpretability model of predict and assess: P = 0.5 at the NIIRS needed, calibrated "
        "on {} published criteria ({:.1f} NIIRS RMS); scene contrast and clutter are not modelled",
        cal.anchors.size(), cal.rms_residual_niirs));
    return n;
}

std::string to_text(const Conditions& c) {
    const RequireParams& p = c.params;
    auto dflt = [](double v, double d) { return v == d ? " (default)" : ""; };
    std::string s =
        fmt::format("satiq require: GIQE 5 at nadir, RER {:.3f} ({}), SNR {:g}{}, Q {:.2f}{}", c.rer,
                    c.rer_given ? "given" : "ideal at Q", p.snr, dflt(p.snr, default_snr), p.q, dflt(p.q, default_q));
    s += fmt::format(", wavelength {:.3f} um{}", p.wavelength_m * 1e6, dflt(p.wavelength_m, default_wavelength_m));
    s += p.altitude_m ? fmt::format(", altitude {:g} km", *p.altitude_m / 1000.0)
                      : std::string(", no altitude (give --altitude-m for the aperture)");
    if (p.pitch_m) s += fmt::format(", pitch {:g} um", *p.pitch_m * 1e6);
    return s + "\n";
}

std::string to_text(const Requirement& r, const Conditions& c) {
    std::string s = fmt::format("{}: {}\n", r.task.id, r.task.description);
    s += fmt::format("  NIIRS needed {:.2f}{}", r.niirs_needed,
                     r.niirs_needed_on_scale ? "" : " (outside the 0-9 scale: an extrapolation, not a rating)");
    if (r.cycles_needed)
        s += fmt::format(" (P = 0.5: {:.1f} cycles, GRD {} m per cycle x kappa {:.2f}{})", *r.cycles_needed,
                         metres(*r.grd_m), *r.kappa,
                         r.calibrated_on.empty() ? "" : ", calibrated on " + r.calibrated_on);
    s += "\n";
    if (r.gsd_max_m) {
        if (r.gsd_max_at_search_limit)
            s += fmt::format("  coarsest GSD: any up to the model's {:g} km limit meets it", *r.gsd_max_m / 1000.0);
        else
            s +=
                fmt::format("  coarsest GSD {} m{}", metres(*r.gsd_max_m), r.gsd_extrapolated ? " (extrapolated)" : "");
        if (r.gsd_with_margin_m && !r.gsd_max_at_search_limit)
            s += fmt::format("; {} m with one standard error ({:.2f} NIIRS) to spare", metres(*r.gsd_with_margin_m),
                             c.niirs_standard_error);
        s += "\n";
    } else {
        s += fmt::format("  no validated GSD meets it (NIIRS {:.2f} at {:g} m)\n", r.niirs_at_finest_validated_gsd,
                         giqe::giqe5_validated_gsd_min_m);
    }
    if (r.aperture_diameter_min_m) {
        s += fmt::format("  aperture at least {:.3f} m", *r.aperture_diameter_min_m);
        if (r.aperture_diameter_with_margin_m)
            s += fmt::format(" ({:.3f} m with the margin)", *r.aperture_diameter_with_margin_m);
        if (r.focal_length_m)
            s += fmt::format("; focal length {:.3f} m, F/{:.2f}", *r.focal_length_m, *r.f_number);
        else
            s += fmt::format("; focal length = {:.4g} x pitch, F-number = {:.3g} x pitch in um",
                             *r.focal_length_over_pitch, c.params.q * 1e-6 / c.params.wavelength_m);
        s += "\n";
    }
    s += "  " + r.verdict + "\n";
    for (const std::string& w : r.warnings)
        s += "  ! " + w + "\n";
    return s;
}

}  // namespace satiq::require
