#pragma once
/// Interpretability: what a given image quality lets an analyst do.
///  - NIIRS criteria per level (visible military scale of March 1994, military lines "as commonly
///    cited"; civil NIIRS of IRARS 1996) -> criteria met and not yet met for a NIIRS value.
///  - Johnson criteria (Johnson 1958) with the classic target transfer probability function
///    (ACQUIRE / FLIR92 form): cycles across the critical dimension sqrt(L*W), counted against an
///    effective resolution chosen by the caller -> P(detect / orient / recognise / identify).
///  - A built-in target catalogue with sourced (or marked assumed) dimensions.
/// All functions are pure and thread-safe; invalid inputs throw satiq::Error. Sources: IRARS visible (1994) and civil
/// (1996) NIIRS; J. Johnson, "Analysis of image forming systems", 1958; the ACQUIRE TTPF (Vollmerhausen & Driggers,
/// "Analysis of Sampled Imaging Systems", SPIE, 2000).
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace satiq::interpret {

// ---------------- NIIRS ----------------

enum class NiirsScale { visible_military, civil };
const char* to_string(NiirsScale s);

struct NiirsCriterion {
    int level = 0;  ///< 0..9
    NiirsScale scale = NiirsScale::visible_military;
    std::string task;                ///< lower-case phrase, e.g. "identify large fighters by type"
    bool as_commonly_cited = false;  ///< military lines unverified against the original scale
};

/// Every criterion of a scale, ordered by level.
const std::vector<NiirsCriterion>& niirs_criteria(NiirsScale scale);

/// Ground resolved distance band often quoted for a NIIRS level, metres (GRD, roughly 2x GSD):
/// {min, max}; level 1 has max = infinity, level 9 min = 0. Level must be 1..9.
std::pair<double, double> niirs_grd_band_m(int level);

struct NiirsAssessment {
    double niirs = 0.0;
    int level = 0;  ///< floor(niirs) clamped to 0..9
    NiirsScale scale = NiirsScale::visible_military;
    std::vector<NiirsCriterion> met;      ///< levels 1..level, highest first
    std::vector<NiirsCriterion> not_met;  ///< levels level+1 .. level+levels_ahead
};
/// Criteria met (all levels up to floor(niirs)) and not met (the next `levels_ahead` levels).
NiirsAssessment assess_niirs(double niirs, NiirsScale scale, int levels_ahead = 1);

// ---------------- Johnson criteria ----------------

enum class JohnsonTask { detection, orientation, recognition, identification };
const char* to_string(JohnsonTask t);
inline constexpr std::array<JohnsonTask, 4> all_johnson_tasks = {JohnsonTask::detection, JohnsonTask::orientation,
                                                                 JohnsonTask::recognition, JohnsonTask::identification};

/// Cycles across the critical dimension for 50 % probability (Johnson 1958):
/// detection 1.0, orientation 1.4, recognition 4.0, identification 6.4.
double johnson_n50(JohnsonTask t);

/// Target transfer probability function P = (N/N50)^E / (1 + (N/N50)^E), E = 2.7 + 0.7 N/N50
/// (ACQUIRE / FLIR92 form; Vollmerhausen & Driggers 2000).
double ttpf_probability(double cycles, double n50);

struct Target {
    std::string key;   ///< lookup key, e.g. "tank"
    std::string name;  ///< e.g. "main battle tank (T-72)"
    double length_m = 0.0;
    double width_m = 0.0;
    std::string source;    ///< where the dimensions come from
    bool assumed = false;  ///< true when at least one dimension is an assumption (see source)
};
/// sqrt(length * width), metres.
double critical_dimension_m(const Target& t);

/// Built-in catalogue: tel, tank, truck, car, fighter, transport, patrol_boat, frigate.
const std::vector<Target>& target_catalogue();
/// Lookup by key (case-insensitive); throws satiq::Error listing the keys.
const Target& find_target(std::string_view key);
/// Parses "NAME:LENGTH_M:WIDTH_M" (NAME may itself contain ':'; the last two fields are numbers > 0).
Target parse_target(std::string_view spec);

/// Probability threshold for "can" in verdict sentences.
inline constexpr double verdict_probability = 0.5;

// The rules that turn image quality into cycles on target, the probabilities per task and the
// verdict sentences live in interpretation.hpp (one model for every command).

}  // namespace satiq::interpret
