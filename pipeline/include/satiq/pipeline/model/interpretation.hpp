#pragma once
/// The interpretability model: one link from image quality to what an analyst can do, so that
/// the NIIRS criteria and the Johnson probabilities agree where they name the same target and
/// task.
///
///  1. NIIRS -> ground resolved distance (GRD, metres per cycle) on the scale's GRD bands
///     (log-linear between the levels' coarse bounds, one NIIRS per doubling beyond them).
///  2. Cycles on a target = critical dimension sqrt(L W) / (kappa_target GRD(NIIRS)); kappa is
///     calibrated so that a published NIIRS criterion naming the target and a task ("distinguish
///     a TEL from support vans", NIIRS 5 -> recognition of the TEL) is met with P = 0.5 exactly at
///     its level; targets no criterion names use the geometric mean of the anchors' kappa.
///  3. P(task) from the Johnson N50 cycles and the target transfer probability function.
///  4. The NIIRS uncertainty (GIQE standard error and the measured RER's error, combined) gives a
///     probability range; a verdict that changes within it, or under another resolution rule
///     (the raw Johnson count against 2 GSD, 2 GSD / RER or GSD / MTF50), is said to depend on it.
///
/// Pure and thread-safe; throws satiq::Error on invalid input.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/model/interpretability.hpp"

namespace satiq::interpret {

/// GRD in metres per cycle that the NIIRS scale associates with a NIIRS value: the coarse bound
/// of each level's GRD band at the level itself, log-linear between levels, and one NIIRS per
/// doubling of GRD below level 2 and above level 9 (the scale's own rule).
double niirs_grd_m(double niirs);
/// Inverse of niirs_grd_m.
double niirs_for_grd(double grd_m);

/// A published NIIRS criterion that names a catalogue target and a Johnson task.
struct CalibrationAnchor {
    std::string target_key;
    JohnsonTask task = JohnsonTask::recognition;
    int level = 0;
    std::string criterion;
    double kappa = 0.0;           ///< D / (N50 GRD(level)): metres per cycle over GRD at which P = 0.5 at the level
    double residual_niirs = 0.0;  ///< NIIRS by which the pooled kappa would misplace this criterion
};
struct ModelCalibration {
    double pooled_kappa = 0.0;  ///< geometric mean of the anchors' kappa
    std::vector<CalibrationAnchor> anchors;
    double rms_residual_niirs = 0.0;
    double max_abs_residual_niirs = 0.0;
};
const ModelCalibration& model_calibration();
/// The anchor that calibrates a target, or nullptr (then the pooled kappa applies).
const CalibrationAnchor* target_anchor(std::string_view target_key);
/// kappa of a target: its anchor's, else the pooled one.
double target_kappa(const Target& t);
/// NIIRS at which the model gives P(task on target) = 0.5.
double niirs_for_task(const Target& t, JohnsonTask task);

/// The rules that turn image quality into metres per cycle. niirs_model is the calibrated
/// model above (the default); the other three count raw Johnson cycles (sensitivity).
enum class Rule { niirs_model, gsd_over_rer, gsd_nyquist, mtf50 };
inline constexpr std::array<Rule, 4> all_rules = {Rule::niirs_model, Rule::gsd_over_rer, Rule::gsd_nyquist,
                                                  Rule::mtf50};
const char* to_string(Rule r);
/// "niirs_model", "gsd_over_rer", "gsd_nyquist", "mtf50"; throws satiq::Error listing them.
Rule parse_rule(std::string_view s);

/// What the image (or sensor) offers. Absent RER or MTF50 leave the rules that need them out.
struct ImageQuality {
    double niirs = 0.0;
    double niirs_sigma = 0.0;  ///< one standard error (equation and measurement combined)
    std::string equation = "GIQE 5";
    double gsd_m = 0.0;         ///< GSD the image is rated at (effective GSD when upsampled)
    std::optional<double> rer;  ///< geometric-mean RER on that GSD
    std::optional<double> mtf50_cyc_per_px;
    std::string basis;  ///< e.g. "measured edges", "estimated from GSD alone", "sensor model"
};

enum class Capability { none, detect, recognise, identify };
const char* to_string(Capability c);

struct TaskOdds {
    JohnsonTask task = JohnsonTask::detection;
    double n50_cycles = 0.0;
    double probability = 0.0;
    double probability_low = 0.0;        ///< at NIIRS - sigma (model rule only; else = probability)
    double probability_high = 0.0;       ///< at NIIRS + sigma
    std::optional<double> niirs_needed;  ///< NIIRS at which P = 0.5 (model rule only)
};
struct RuleOdds {
    Rule rule = Rule::niirs_model;
    double resolution_m_per_cycle = 0.0;
    double cycles = 0.0;
    std::array<TaskOdds, 4> tasks{};
    Capability capability = Capability::none;
};
struct TargetOdds {
    Target target;
    double critical_dimension_m = 0.0;
    double kappa = 0.0;
    const CalibrationAnchor* anchor = nullptr;
    RuleOdds primary;
    std::vector<RuleOdds> alternatives;             ///< the other computable rules
    Capability capability_low = Capability::none;   ///< primary rule at NIIRS - sigma (model rule)
    Capability capability_high = Capability::none;  ///< at NIIRS + sigma
    bool depends_on_uncertainty = false;
    std::vector<Rule> differing_rules;  ///< alternatives whose capability differs
};

struct Interpretation {
    ImageQuality quality;
    Rule primary_rule = Rule::niirs_model;
    NiirsAssessment military, civil;
    /// Criteria whose status changes between NIIRS - sigma and NIIRS + sigma.
    std::vector<NiirsCriterion> borderline;
    std::vector<TargetOdds> targets;
    std::vector<std::string> verdicts;  ///< report sentences
    std::vector<std::string> notes;     ///< printed once (scene contrast and clutter, calibration)
};

/// The whole interpretation of one image or sensor.
Interpretation interpret_image(const ImageQuality& q, const std::vector<Target>& targets,
                               Rule primary = Rule::niirs_model);

/// One schema for every command (assess, predict, ...).
nlohmann::json to_json(const Interpretation& it);
/// Indented lines ("  - ...") for text output.
std::string to_text(const Interpretation& it);

/// "5.87", "-0.06 (below NIIRS 1; extrapolated: ...)" for text output. gsd_m: the GSD the
/// equation was fed, checked against GIQE 5's validated range.
std::string niirs_text(double niirs, double gsd_m);

}  // namespace satiq::interpret
