#pragma once
/// `satiq assess`: measure what an image really resolves, from the image alone plus its
/// georeferencing: automatic slanted-edge RER/MTF per axis, noise and SNR, NIIRS by GIQE 5
/// (and 4, 3), and the observation tasks that follow (NIIRS criteria, Johnson criteria).
///
/// Measurements are records (plain structs); `to_json`, `to_text`, `write_edges_csv` and
/// `write_plots` are separate writers that consume them.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/effective_resolution.hpp"
#include "satiq/kernels/noise_estimate.hpp"
#include "satiq/kernels/noise_spectral.hpp"
#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/model/giqe.hpp"
#include "satiq/pipeline/model/interpretability.hpp"
#include "satiq/pipeline/model/interpretation.hpp"
#include "satiq/pipeline/model/radiometry.hpp"
#include "satiq/pipeline/ops/info.hpp"

namespace satiq {

enum class GiqeSelection { giqe3, giqe4, giqe5, all };
GiqeSelection parse_giqe_selection(const std::string& s);  ///< "3", "4", "5" or "all"

struct AssessParams {
    GsdOptions gsd;
    std::optional<double> elevation_deg;  ///< overrides the metadata
    /// An elevation from elsewhere (a catalog's view angles), used only when neither
    /// elevation_deg nor the image's metadata give one; `elevation_fallback_source` becomes the
    /// result's elevation_source.
    std::optional<double> elevation_fallback_deg;
    std::string elevation_fallback_source;
    std::optional<double> snr;  ///< overrides the measured SNR
    GiqeSelection giqe = GiqeSelection::giqe5;
    int band = 0;  ///< 0: band 1, or luminance of an RGB image
    /// `--band all`: the result as for band 0, plus every band measured on its own
    /// (AssessResult::bands). Needs band 0.
    bool all_bands = false;
    std::vector<EdgeRoi> rois;  ///< user regions instead of the automatic search
    std::optional<std::filesystem::path>
        roi_lines;  ///< vector file of lines (in the raster's CRS or any CRS OGR can transform)
    double roi_half_width_px = 10.0;
    std::vector<interpret::Target> extra_targets;
    std::string resolution_rule = "niirs_model";  ///< primary rule of the interpretability model
    /// Sensor preset whose RER range stands in when the image has no usable edges (else the
    /// plausible range of un-sharpened imagery).
    std::string sensor;
    /// Rate an upsampled image on its product GSD anyway (the detection is still reported).
    bool trust_pixel_size = false;
    bool keep_profiles = false;  ///< needed for plots
    /// Largest image (width x height) assessed; 0: no limit. assess holds the measured band in
    /// memory (about 7 bytes per pixel, the luminance of an RGB image included), so the default
    /// keeps one assessment under 1 GiB.
    std::uint64_t max_pixels = default_max_pixels;
    static constexpr std::uint64_t default_max_pixels = 130'000'000;
};

struct StageTime {
    std::string stage;
    double seconds = 0;
};

/// One band of a multi-band image measured on its own (`--band all`): the figures of the
/// AssessResult that `--band N` gives.
struct BandAssessment {
    int band = 0;                      ///< 1-based, as GDAL
    std::string description;           ///< GDAL's band description (often empty)
    std::string color_interpretation;  ///< GDAL's name: "Red", "Gray", ...
    std::int64_t edges_candidates = 0;
    EdgeAggregate edges;  ///< per-axis RER, MTF50, FWHM (no MTF curve)
    double noise_sigma_dn = 0;
    double snr = 0;
    std::string snr_source;
    std::optional<giqe::NiirsPrediction> giqe5;
    bool niirs_from_gsd_alone = false;
    std::vector<std::string> warnings;
};

struct AssessResult {
    std::filesystem::path file;
    std::int64_t width = 0, height = 0;
    std::string band_used;      ///< "band 1", "luminance of bands 1-3"
    GeoReference georeference;  ///< the file's, for map outputs (write_edges_geojson)
    Gsd gsd;
    Acquisition acquisition;
    double elevation_deg = 90;
    std::string elevation_source;  ///< "metadata", "user", "assumed nadir"
    /// Upsampling found from the image itself (kernels/effective_resolution.hpp); the effective
    /// GSD is the product GSD times its factor per axis (equal to the product GSD when none).
    SamplingEstimate sampling;
    double effective_gsd_x_m = 0, effective_gsd_y_m = 0;
    bool rated_on_effective_gsd = false;  ///< GIQE fed the effective GSD (and RER on its grid)
    double gsd_ground_m = 0, gsd_normal_m = 0, gsd_weighted_m = 0;  ///< as rated (effective when upsampled)
    double saturation_dn = 0;

    NoiseEstimate noise;                    ///< Immerkaer (drives the edge thresholds)
    SpectralNoiseEstimate noise_spectral;   ///< Nyquist-corner power: an upper bound that caps the PCA
    bool noise_capped_by_spectrum = false;  ///< the SNR's noise was scaled down to the spectral bound
    NoiseEstimate noise_pca;                ///< weak-texture PCA (drives the SNR)
    std::string noise_method;               ///< "pca", or "immerkaer" when the PCA estimate failed
    double noise_immerkaer_sigma_dn = 0;    ///< Immerkaer's sigma at the 15 % level, for comparison
    std::optional<SceneRadiometry> radiometry;
    double noise_sigma_dn = 0;  ///< the sigma the SNR divides by
    double snr = 0;
    std::string snr_source;  ///< "measured" or "user"

    EdgeAnalysis edges;
    EdgeRobustness robustness;  ///< influence of single edges and objects, halves

    double rated_rer_gm = 0, rated_rer_weighted = 0;  ///< RER fed to GIQE (on the effective grid when upsampled)
    std::optional<giqe::NiirsPrediction> giqe3, giqe4, giqe5;
    /// No usable edges: GIQE 5 over an RER range instead of a measured RER ("estimated from GSD
    /// alone"); giqe5 then holds the interval's midpoint.
    struct GsdAloneEstimate {
        double rer_low = 0, rer_high = 0;  ///< the RER range assumed
        std::string rer_range_source;      ///< "plausible range ..." or "sensor preset NAME"
        double niirs_low = 0, niirs_high = 0;
    };
    std::optional<GsdAloneEstimate> gsd_alone;
    std::optional<interpret::Interpretation> interpretation;
    std::vector<std::string> warnings;
    std::vector<StageTime> runstats;
    std::vector<BandAssessment> bands;  ///< every band on its own, with all_bands; else empty
};

/// Assesses one file. Throws satiq::Error (naming the file) when it cannot be read or has no
/// GSD; an image with no usable edges is a result (no NIIRS, the reasons counted), not an error.
/// With all_bands, every band is then assessed on its own in turn (one band at a time, each
/// parallel inside), filling `bands` in band order.
AssessResult assess_file(const std::filesystem::path& path, const AssessParams& params);

nlohmann::json to_json(const AssessResult& r, bool include_edges = true);
std::string to_text(const AssessResult& r, bool runstats);
/// One row per analysed edge, written atomically. Several results go in one file.
void write_edges_csv(const std::filesystem::path& path, const std::vector<AssessResult>& results);
/// ESF, LSF and MTF per axis as SVG into `dir` (<stem>_esf.svg, _lsf.svg, _mtf.svg). Needs
/// keep_profiles. Returns the files written.
/// `name_stem`: the files' prefix (default the input's stem; a batch whose inputs share a stem
/// gives each its own).
std::vector<std::filesystem::path> write_plots(const std::filesystem::path& dir, const AssessResult& r,
                                               const std::string& name_stem = {});

/// Writes `text` to `path` through a temporary file and a rename.
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace satiq
