#include "satiq/pipeline/model/interpretability.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "satiq/kernels/error.hpp"

namespace satiq::interpret {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<NiirsCriterion> make_military() {
    // Visible NIIRS, March 1994 scale (IRARS), as widely reproduced. The military lines are
    // unverified against the original: flagged "as commonly cited".
    const std::vector<std::pair<int, const char*>> rows = {
        {1, "distinguish between taxiways and runways at a large airfield"},
        {1, "detect a medium-sized port facility"},
        {2, "detect large hangars at airfields"},
        {2, "detect large buildings (e.g. hospitals, factories)"},
        {2, "detect large static radars"},
        {2, "detect military training areas"},
        {3, "identify the wing configuration of large aircraft"},
        {3, "detect a helipad"},
        {3, "detect trains or strings of rolling stock on railroad tracks"},
        {3, "identify a large surface ship in port by type"},
        {4, "identify large fighters by type"},
        {4, "identify tracked vs wheeled vehicles in groups"},
        {4, "detect an open missile silo door"},
        {5, "identify radar as vehicle-mounted or trailer-mounted"},
        {5, "identify deployed tactical surface-to-surface missile systems by type"},
        {5, "distinguish a mobile missile launcher (TEL) from support vans"},
        {5, "identify rail cars by type"},
        {6, "distinguish between helicopter models"},
        {6, "identify the spare tyre on a medium-sized truck"},
        {6, "identify automobiles as sedans or station wagons"},
        {7, "identify fittings and fairings on fighter-sized aircraft"},
        {7, "identify individual rail ties"},
        {8, "identify rivet lines on bomber aircraft"},
        {8, "identify a hand-held surface-to-air missile"},
        {8, "identify windshield wipers on a vehicle"},
        {9, "identify vehicle registration numbers on trucks"},
        {9, "detect individual spikes in railroad ties"},
    };
    // Levels 1..3 and the civil-like lines are not military-sensitive, but the whole list comes from
    // the same secondary reproductions: flag only the lines naming military equipment.
    std::vector<NiirsCriterion> out;
    out.reserve(std::size(rows));
    for (const auto& [level, task] : rows) {
        const std::string t = task;
        const bool military = t.find("military") != std::string::npos || t.find("missile") != std::string::npos ||
                              t.find("fighter") != std::string::npos || t.find("radar") != std::string::npos ||
                              t.find("bomber") != std::string::npos || t.find("surface ship") != std::string::npos ||
                              t.find("tracked") != std::string::npos || t.find("helicopter") != std::string::npos ||
                              t.find("aircraft") != std::string::npos;
        out.push_back({level, NiirsScale::visible_military, t, military});
    }
    return out;
}

std::vector<NiirsCriterion> make_civil() {
    // Civil NIIRS (IRARS, "Civil NIIRS Reference Guide", 1996), as commonly reproduced.
    const std::vector<std::pair<int, const char*>> rows = {
        {1, "distinguish between urban and rural areas"},
        {1, "detect major highway and rail bridges over water"},
        {2, "identify large center-pivot irrigated fields during the growing season"},
        {2, "detect large buildings (e.g. hospitals, factories)"},
        {2, "identify road patterns, like clover leafs, on major highway systems"},
        {3, "detect individual houses in residential neighbourhoods"},
        {3, "detect trains or strings of standard rolling stock on railroad tracks (not individual cars)"},
        {3, "distinguish between natural forest stands and orchards"},
        {4, "identify farm buildings as barns, silos or residences"},
        {4, "count unoccupied railroad tracks along a right-of-way or in a rail yard"},
        {4, "detect basketball, tennis or volleyball courts in urban areas"},
        {5, "identify individual rail cars by type (e.g. gondola, flat, box) and locomotives by type"},
        {5, "detect open bay doors of vehicle storage buildings"},
        {5, "identify tents (larger than two-person) at established recreational camping areas"},
        {6, "identify automobiles as sedans or station wagons"},
        {6, "identify individual telephone or electric poles in residential neighbourhoods"},
        {6, "distinguish between row crops (e.g. corn, soybean) and small grain crops (e.g. wheat, oats)"},
        {7, "identify individual railroad ties"},
        {7, "detect individual steps on a stairway"},
        {7, "detect stumps and rocks in forest clearings and meadows"},
        {8, "identify grill detailing and/or the licence plate on a passenger or truck-type vehicle"},
        {8, "identify windshield wipers on a vehicle"},
        {8, "identify individual pine seedlings"},
        {9, "identify individual barbs on a barbed-wire fence"},
        {9, "detect individual spikes in railroad ties"},
        {9, "identify individual grain heads on small grain (e.g. wheat, oats, barley)"},
    };
    std::vector<NiirsCriterion> out;
    out.reserve(std::size(rows));
    for (const auto& [level, task] : rows)
        out.push_back({level, NiirsScale::civil, task, false});
    return out;
}

std::vector<Target> make_targets() {
    return {
        {"tel", "mobile missile launcher (Hwasong-17 TEL)", 23.0, 3.5,
         "length: the Hwasong-17 missile is about 23 m on an 11-axle launcher (public reporting of its 2022-2023 "
         "launches; the vehicle is at least "
         "as long); width 3.5 m ASSUMED (typical heavy TEL vehicle width; the missile itself is about 2.4 m)",
         true},
        {"tank", "main battle tank (T-72)", 6.95, 3.59, "T-72 hull length 6.95 m, width 3.59 m (public specifications)",
         false},
        {"truck", "support truck (Ural-4320)", 7.37, 2.50, "Ural-4320 manufacturer specification: 7.37 m x 2.50 m",
         false},
        {"car", "passenger car", 4.5, 1.8, "ASSUMED typical mid-size sedan, 4.5 m x 1.8 m", true},
        {"fighter", "fighter aircraft (MiG-29)", 17.3, 11.4,
         "MiG-29 length 17.3 m, wing span 11.4 m (public specifications)", false},
        {"transport", "large transport aircraft (Il-76)", 46.6, 50.5,
         "Il-76MD public specifications: length 46.6 m, wing span 50.5 m", false},
        {"patrol_boat", "patrol boat (Osa-I class)", 38.6, 7.6,
         "Osa-I class missile boat public specifications: length 38.6 m, beam 7.6 m", false},
        {"frigate", "frigate (Oliver Hazard Perry class)", 135.6, 13.7,
         "Oliver Hazard Perry class public specifications: length 135.6 m, beam 13.7 m", false},
    };
}

double parse_positive(std::string_view s, const char* what, std::string_view spec) {
    double v = 0.0;
    const auto* b = s.data();
    const auto* e = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || ptr != e || !std::isfinite(v) || v <= 0.0)
        throw Error(fmt::format(
            "target: {} in '{}' must be a number greater than 0 (got '{}'); use NAME:LENGTH_M:WIDTH_M", what, spec, s));
    return v;
}

}  // namespace

const char* to_string(NiirsScale s) {
    return s == NiirsScale::civil ? "civil" : "visible_military";
}

const std::vector<NiirsCriterion>& niirs_criteria(NiirsScale scale) {
    static const std::vector<NiirsCriterion> military = make_military();
    static const std::vector<NiirsCriterion> civil = make_civil();
    return scale == NiirsScale::civil ? civil : military;
}

std::pair<double, double> niirs_grd_band_m(int level) {
    // GRD bands per level as published with the scale (IRARS, Civil NIIRS Reference Guide, 1996).
    static constexpr double inf = std::numeric_limits<double>::infinity();
    static const std::array<std::pair<double, double>, 9> bands = {{{9.0, inf},
                                                                    {4.5, 9.0},
                                                                    {2.5, 4.5},
                                                                    {1.2, 2.5},
                                                                    {0.75, 1.2},
                                                                    {0.40, 0.75},
                                                                    {0.20, 0.40},
                                                                    {0.10, 0.20},
                                                                    {0.0, 0.10}}};
    if (level < 1 || level > 9) throw Error(fmt::format("niirs_grd_band_m: level must be 1..9 (got {})", level));
    return bands[static_cast<std::size_t>(level - 1)];
}

NiirsAssessment assess_niirs(double niirs, NiirsScale scale, int levels_ahead) {
    if (!std::isfinite(niirs)) throw Error("assess_niirs: niirs must be a finite number");
    if (levels_ahead < 0) throw Error("assess_niirs: levels_ahead must be >= 0");
    NiirsAssessment a;
    a.niirs = niirs;
    a.scale = scale;
    a.level = std::clamp(static_cast<int>(std::floor(niirs + 1e-9)), 0, 9);
    for (const NiirsCriterion& c : niirs_criteria(scale)) {
        if (c.level <= a.level)
            a.met.push_back(c);
        else if (c.level <= a.level + levels_ahead)
            a.not_met.push_back(c);
    }
    std::stable_sort(a.met.begin(), a.met.end(), [](const auto& x, const auto& y) { return x.level > y.level; });
    return a;
}

const char* to_string(JohnsonTask t) {
    switch (t) {
        case JohnsonTask::detection:
            return "detection";
        case JohnsonTask::orientation:
            return "orientation";
        case JohnsonTask::recognition:
            return "recognition";
        case JohnsonTask::identification:
            return "identification";
    }
    return "unknown";
}

double johnson_n50(JohnsonTask t) {
    // Johnson (1958), cycles across the critical dimension for 50 % probability.
    switch (t) {
        case JohnsonTask::detection:
            return 1.0;
        case JohnsonTask::orientation:
            return 1.4;
        case JohnsonTask::recognition:
            return 4.0;
        case JohnsonTask::identification:
            return 6.4;
    }
    return 1.0;
}

double ttpf_probability(double cycles, double n50) {
    if (!std::isfinite(cycles) || cycles < 0.0)
        throw Error(fmt::format("ttpf_probability: cycles must be >= 0 (got {})", cycles));
    if (!std::isfinite(n50) || n50 <= 0.0) throw Error(fmt::format("ttpf_probability: n50 must be > 0 (got {})", n50));
    // Target transfer probability function, ACQUIRE / FLIR92 form (Vollmerhausen & Driggers 2000).
    const double r = cycles / n50;
    if (r == 0.0) return 0.0;
    const double e = 2.7 + 0.7 * r;
    const double p = std::pow(r, e);
    if (!std::isfinite(p)) return 1.0;
    return p / (1.0 + p);
}

double critical_dimension_m(const Target& t) {
    if (!(t.length_m > 0.0) || !(t.width_m > 0.0))
        throw Error(fmt::format("target {}: length_m and width_m must be > 0", t.name));
    return std::sqrt(t.length_m * t.width_m);  // critical dimension as commonly taken for Johnson cycles
}

const std::vector<Target>& target_catalogue() {
    static const std::vector<Target> targets = make_targets();
    return targets;
}

const Target& find_target(std::string_view key) {
    const std::string k = lower(key);
    for (const Target& t : target_catalogue())
        if (t.key == k) return t;
    std::string list;
    for (const Target& t : target_catalogue())
        list += (list.empty() ? "" : ", ") + t.key;
    throw Error(
        fmt::format("target: unknown target '{}'; built-in targets: {} (or give NAME:LENGTH_M:WIDTH_M)", key, list));
}

Target parse_target(std::string_view spec) {
    const auto last = spec.rfind(':');
    if (last == std::string_view::npos || last == 0)
        throw Error(fmt::format("target: '{}' is not NAME:LENGTH_M:WIDTH_M", spec));
    const auto mid = spec.rfind(':', last - 1);
    if (mid == std::string_view::npos || mid == 0)
        throw Error(fmt::format("target: '{}' is not NAME:LENGTH_M:WIDTH_M", spec));
    Target t;
    t.name = std::string(spec.substr(0, mid));
    t.key = lower(t.name);
    t.length_m = parse_positive(spec.substr(mid + 1, last - mid - 1), "LENGTH_M", spec);
    t.width_m = parse_positive(spec.substr(last + 1), "WIDTH_M", spec);
    t.source = "user supplied";
    return t;
}

}  // namespace satiq::interpret
