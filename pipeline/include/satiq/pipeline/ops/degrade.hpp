#pragma once
/// `satiq degrade`: what another (coarser) sensor would record of the same ground.
///
/// The image chain (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010): the target system's
/// pre-detector PSF (optics, jitter, smear, defocus) expressed on the input grid, made to account for the blur the
/// input already has, then integration over the target pixel (exact area integration, any ratio), then noise at the
/// target SNR, then quantization.
///
/// The input is not ideal. The blur applied is what makes the *total* match the target:
/// - Gaussian target (simple form): variances subtract, sigma_apply^2 = (sigma_t r)^2 -
///   sigma_in^2 - 1/12 (the input pixel's own box, approximated by its variance), in input px;
/// - other targets: H(u) = T(u r) M_in(u) / (M_in(u)^2 + eps^2) (Wiener-regularized division
///   by the input MTF M_in = Gaussian(sigma_in) x sinc(u), eps = 0.05), built as a 2-D kernel.
/// When the input MTF is unknown the input is taken as ideal (only its pixel box), which is said
/// in the output.
///
/// Streaming: strips of output rows flow through a bounded tbb::parallel_pipeline (read in
/// order -> process in parallel -> write in order); memory is bounded whatever the image size.
/// Deterministic: output depends only on the input, the parameters and the seed, not on the
/// thread count or strip height (every kernel works in global coordinates).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/provenance.hpp"
#include "satiq/pipeline/model/sensor.hpp"

namespace satiq {

/// The noise degrade adds: none; Gaussian at the target SNR (simple form); photon shot noise and
/// read noise in electrons (a preset's detector).
enum class NoiseModel { none, gaussian, shot_read };
/// "none", "gaussian", "shot_read" (the JSON and text name).
const char* to_string(NoiseModel m);

struct DegradeParams {
    std::filesystem::path input;
    std::filesystem::path output;
    /// The output's name as recorded (JSON, `SATIQ_DEGRADE_PARAMETERS`); empty: `output`. A sweep
    /// writes its steps in a staging folder and records the names they are committed under.
    std::filesystem::path recorded_output;

    // Target system: a preset name, or the simple form.
    std::optional<std::string> sensor;    ///< preset name (see `satiq predict --list`)
    std::optional<double> off_nadir_deg;  ///< preset geometry override
    /// Preset form: the preset's description with the command line's overrides applied
    /// (--aperture-m, --altitude-m, ... as `satiq predict`); empty = the preset as it is.
    std::optional<sensor::SensorDescription> sensor_description;
    /// The preset overrides given, override_key (the flag in snake_case: "pitch_um") -> the value
    /// in the option's unit (recorded in the JSON and the metadata).
    std::map<std::string, double> sensor_overrides;
    std::optional<double> target_gsd_m;  ///< simple form
    std::optional<double> mtf_nyquist;   ///< simple form: Gaussian solved from MTF at Nyquist
    std::optional<double> sigma_px;      ///< simple form: Gaussian sigma in target pixels
    std::optional<double> snr;           ///< target GIQE SNR (simple form; overrides a preset's)
    std::optional<int> bits;             ///< quantization bits (default: the input type's)
    std::uint64_t seed = 0;

    // What is known of the input.
    std::optional<double> input_sigma_px;     ///< input's Gaussian blur sigma, input pixels
    std::optional<double> input_mtf_nyquist;  ///< input's MTF at Nyquist (Gaussian x box model)
    /// Measure the input's blur with `satiq assess` (automatic slanted edges): its RER (geometric
    /// mean of the axes) gives the equivalent Gaussian x box sigma. Falls back to "unknown" with a
    /// warning when the input has no usable edges.
    bool measure_input = false;
    GsdOptions gsd;  ///< --gsd-m for inputs without georeferencing

    double min_coverage = 0.5;    ///< output nodata below this valid fraction
    std::int64_t strip_rows = 0;  ///< output rows per strip (0: automatic)
    bool cloud_optimized = false;
    std::string compression = "DEFLATE";
};

/// Everything decided before the first pixel (and reported in JSON and the output metadata).
struct DegradePlan {
    double input_gsd_x_m = 0, input_gsd_y_m = 0;
    /// sqrt(sum w^2) of the applied PSF convolved with the integration box: the factor by which
    /// the chain scales the input's own white noise.
    double input_noise_gain = 1.0;
    /// Effective GSD of an input found upsampled by --measure-input (null in JSON otherwise).
    std::optional<double> input_effective_gsd_x_m, input_effective_gsd_y_m;
    double target_gsd_m = 0;
    double ratio_x = 0, ratio_y = 0;  ///< input pixels per output pixel
    std::int64_t out_width = 0, out_height = 0;
    std::string target_description;
    /// Preset form: the target's view geometry (read back by `assess`: find_look_geometry).
    std::optional<double> view_altitude_m, view_off_nadir_deg, view_elevation_deg;
    std::map<std::string, double> sensor_overrides;  ///< as DegradeParams::sensor_overrides
    std::string psf_method;                          ///< "separable_gaussian", "kernel_2d:<method>", "none"
    std::optional<double> applied_sigma_x_px, applied_sigma_y_px;  ///< Gaussian case, input px
    std::int64_t kernel_size_px = 0;                               ///< general case
    std::optional<double> snr;                                     ///< target SNR (none: no noise added)
    NoiseModel noise_model = NoiseModel::none;
    double electrons_per_dn = 0;  ///< shot_read model
    double read_noise_e = 0;
    double noise_sigma_dn_at_15 = 0;  ///< total added noise at the 15 % level
    std::optional<int> bits;
    double output_gain = 1.0;  ///< output DN per input DN
    DataType output_type = DataType::Float32;
    std::vector<std::string> assumptions;
    std::vector<std::string> warnings;
};

struct DegradeResult {
    DegradePlan plan;
    double seconds = 0;
    std::int64_t strips = 0;
    /// The figures the run used, given or not (the parameters say only what was given): the
    /// target model's (predict's model_figures), `bits` (the output's quantization) and
    /// `input_sigma_px`, each with its provenance ("resolved_parameters" and "provenance" in JSON).
    ResolvedFigures resolved;
};

/// Runs the whole degrade. `progress(fraction)` is called from the writing thread (may be empty).
/// Throws satiq::Error (naming the file and what is wrong) before any output is written for
/// every invalid request; the output exists only when the call returns.
DegradeResult degrade(const DegradeParams& params, const std::function<void(double)>& progress = {});

/// The option checks degrade() makes before reading the input: ranges, combinations, the target
/// sensor. Throws UsageError naming the option. (batch and sweep call it up front.)
void check_degrade_options(const DegradeParams& params);

/// Sigma (input pixels) of the Gaussian x pixel-box model whose RER equals `rer` (what
/// --measure-input turns a measured RER into); 0 for RER at or above the bare pixel's.
double input_sigma_from_rer(double rer);

nlohmann::json to_json(const DegradeParams& params);
nlohmann::json to_json(const DegradeResult& result);
/// The text of `satiq degrade`.
std::string to_text(const DegradeResult& result, const std::string& input, const std::string& output);

}  // namespace satiq
