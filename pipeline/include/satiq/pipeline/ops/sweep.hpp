#pragma once
/// `satiq sweep`: resolution against usability on the user's own image. For each target GSD (or
/// each named sensor preset, simulated on the same ground) the image is degraded as `degrade`
/// would, the result assessed as `assess` would, and the sensor model for that GSD predicted as
/// `predict` would; the steps, a task matrix from the one interpretability model and a one
/// sentence verdict make the report (report_html.hpp).
///
/// The input is read, assessed and its blur measured once; every step reuses that measurement
/// (the sigma of the Gaussian x pixel-box model whose RER equals the measured one). Steps run one
/// after another, each parallel inside. Deterministic: the same input, parameters and seed give
/// the same results for any thread count.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/model/predict.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/ops/degrade.hpp"

namespace satiq {

namespace detail {
class SweepStaging;
}

/// Default NIIRS-against-GSD steps when neither --gsd-m nor --sensors is given: 10 steps,
/// geometric, from the input's GSD to 10 m, or to 4 x the input's GSD when that is coarser (an
/// input of 2.5 m or coarser), so that the default always spans at least a factor of 4.
inline constexpr double sweep_default_coarsest_gsd_m = 10.0;
inline constexpr double sweep_default_min_span = 4.0;
inline constexpr int sweep_default_step_count = 10;
/// Simple-form defaults (stated in the parameters): MTF at Nyquist 0.15 (a typical well-designed
/// imager balances aliasing against sharpness near 0.1-0.2) and SNR 50.
inline constexpr double sweep_default_mtf_nyquist = 0.15;
inline constexpr double sweep_default_snr = 50.0;
/// An axis with fewer usable edges than this makes a step's measurement unreliable.
inline constexpr std::int64_t sweep_min_edges_per_axis = 3;

struct SweepParams {
    std::filesystem::path input;
    std::filesystem::path output_dir;
    /// Target GSDs in metres, ascending after parsing; empty with `sensors` or for the default.
    std::vector<double> gsd_m;
    /// Presets simulated as they are (each at its own GSD), instead of gsd_m.
    std::vector<std::string> sensors;
    // The model of every step: a preset as the template whose GSD is varied (by its altitude, so
    // Q, the MTF shape and the SNR stay those of the preset), or the simple form.
    std::optional<std::string> sensor;
    std::optional<sensor::SensorDescription> sensor_description;  ///< the template with overrides applied
    std::map<std::string, double> sensor_overrides;
    std::optional<double> mtf_nyquist, sigma_px, snr;
    std::optional<int> bits;
    std::uint64_t seed = 0;
    // What is known of the input (as degrade); none given: measured from the input's edges.
    std::optional<double> input_sigma_px, input_mtf_nyquist;
    GsdOptions gsd;
    int band = 0;             ///< as assess: 0 = band 1 or the luminance of RGB
    bool keep_steps = false;  ///< keep the degraded GeoTIFFs in DIR/steps/
    int chip_px = 320;        ///< chip side on screen, pixels
};

/// Parses "0.5,1,2" or "START:STOP:FACTOR": START, START x FACTOR, START x FACTOR^2, ... while
/// within STOP (0.1 % tolerance), then STOP itself when the last of those falls short of it by
/// more than 0.1 % (so STOP is always a step). Sorted, duplicates removed. Throws UsageError
/// naming the value.
std::vector<double> parse_gsd_steps(const std::string& text);

struct SweepStep {
    int index = 0;
    std::string label;                  ///< "2.00 m" or the preset's display name
    std::optional<std::string> preset;  ///< --sensors form
    double target_gsd_m = 0;
    DegradePlan plan;
    std::optional<AssessResult> assessed;  ///< absent when the assessment failed
    std::string assess_error;
    Prediction prediction;
    bool measurement_reliable = false;
    std::string reliability_note;  ///< why not, for the report and the CSV
    std::vector<unsigned char> chip_png, zoom_png;
    double seconds = 0;
    /// The figures the step's degrade used (its DegradeResult::resolved; not in the JSON: the
    /// sweep's own resolved figures say where they come from).
    ResolvedFigures degrade_figures;
};

/// A requested step left out of the sweep (a GSD or preset finer than the input), and why.
struct SkippedStep {
    std::string label;                  ///< as a step's label
    std::optional<std::string> preset;  ///< --sensors form
    double target_gsd_m = 0;
    std::string reason;
};

/// A sensor preset placed on the NIIRS-against-GSD chart (its own prediction).
struct PresetMark {
    std::string name, display_name;
    double gsd_m = 0, niirs = 0, niirs_standard_error = 0;
};

/// One row of the task matrix: met (P >= 0.5, or NIIRS >= the criterion's level) per step.
struct TaskRow {
    std::string id;                             ///< require's task id (`satiq require ID` answers the same question)
    std::string description;                    ///< one line
    std::string group;                          ///< "NIIRS criteria (visible military)", "Detection", ...
    double niirs_needed = 0;                    ///< from the one interpretability model
    std::vector<std::optional<bool>> measured;  ///< per step; absent when no measured NIIRS
    std::vector<bool> predicted;
    std::optional<double> coarsest_measured_gsd_m, coarsest_predicted_gsd_m;  ///< among the steps
    std::optional<double> required_gsd_m;  ///< `satiq require` at the sweep's RER and SNR
};

struct SweepResult {
    SweepParams params;
    std::string model_description;  ///< "simple form: MTF(Nyquist) 0.15, SNR 50" or the preset
    std::string started_utc;
    std::string input_sha256;
    std::uintmax_t input_bytes = 0;
    AssessResult input_assessment;
    double input_sigma_px = 0;
    std::string input_blur_source;
    std::vector<SweepStep> steps;
    std::vector<SkippedStep> skipped_steps;  ///< requested but finer than the input
    std::vector<PresetMark> presets;
    std::vector<TaskRow> tasks;
    std::string verdict;  ///< one sentence
    double chip_ground_m = 0, zoom_ground_m = 0;
    std::vector<unsigned char> input_chip_png, input_zoom_png;
    std::vector<std::string> warnings;
    /// The figures every step used, given or not (the parameters say only what was given): the
    /// steps' GSDs, the model's figures (the simple form's MTF at Nyquist or sigma and SNR, or the
    /// template preset's), the output bits and the input blur, each with its provenance
    /// ("resolved_parameters" and "provenance" in the JSON, the report's provenance table).
    ResolvedFigures resolved;
    double seconds = 0;
    /// The staged output folder (step GeoTIFFs so far); write_sweep_outputs commits it. Removed
    /// with the result when never committed.
    std::shared_ptr<detail::SweepStaging> staging;
};

/// Runs the whole sweep in memory; the step GeoTIFFs go to a hidden staging folder (in DIR, or
/// beside it when DIR does not exist yet), removed as they are done unless keep_steps. Nothing
/// appears in DIR before write_sweep_outputs. `progress(done, total, detail)` after each step;
/// `warn(message)` once per requested step that is skipped (finer than the input), before any
/// step runs. Throws satiq::Error / UsageError before any output when the request is invalid,
/// among them when every requested step is finer than the input.
SweepResult run_sweep(const SweepParams& params,
                      const std::function<void(int done, int total, const std::string& detail)>& progress = {},
                      const std::function<void(const std::string& message)>& warn = {});

/// results.json document (the sweep's envelope result).
nlohmann::json to_json(const SweepResult& r);
/// results.csv: one row per step.
std::string to_csv(const SweepResult& r);
/// The text summary printed by `satiq sweep`.
std::string to_text(const SweepResult& r);
/// Writes results.json, results.csv, report.html and chips/*.png into the staging folder, then
/// moves them into DIR (results.json last), removing the files an earlier sweep wrote to DIR that
/// this one does not replace (its other stale chips and steps), and nothing else of DIR. Until
/// then DIR is as it was (or absent); a signal during the final moves takes effect after them,
/// and an error during them puts back every file already moved before it is thrown (DIR as it
/// was; sweep_detail.hpp).
void write_sweep_outputs(const SweepResult& r);

}  // namespace satiq
