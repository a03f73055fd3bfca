#pragma once
/// Synthetic sample GeoTIFFs with a truth file beside them (`satiq synth`).
///
/// Each writer renders a target with the kernels of satiq/kernels/synth.hpp, scales and
/// quantizes it to 8 or 16 bits (round to nearest, clamp), georeferences it in a UTM CRS at the
/// requested GSD (north-up geotransform [E0, gsd, 0, N0, 0, -gsd]), writes a DEFLATE +
/// horizontal-predictor tiled GeoTIFF through write_raster, then writes the truth JSON as
/// `<image stem>.json` in the same folder. Both files go to a temporary name first and are
/// renamed when complete.
///
/// Determinism: the same parameters give byte-identical files for any thread count (no
/// timestamps, no random state; pixels are pure functions of their coordinates).
///
/// Errors: invalid parameters throw satiq::Error naming the command and the flag.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "satiq/kernels/synth.hpp"

namespace satiq {

/// Where a sample goes and how it is stored.
struct SampleOutput {
    std::filesystem::path image_path;    ///< the .tif; the truth goes to the same stem + ".json"
    int bits = 16;                       ///< 8 (Byte) or 16 (UInt16)
    double gsd_m = 0.5;                  ///< ground sample distance, both axes, (0, 1000]
    int epsg = 32652;                    ///< a WGS 84 / UTM zone: 32601..32660 or 32701..32760
    double origin_easting_m = 400000.0;  ///< map coordinates of the top-left corner of pixel (0, 0)
    double origin_northing_m = 4300000.0;
};

struct EdgeSample {
    std::int64_t width_px = 256;
    std::int64_t height_px = 256;
    EdgeTargetParams edge;            ///< edge_x_px / edge_y_px are overridden when unset below
    std::optional<double> edge_x_px;  ///< default: image centre
    std::optional<double> edge_y_px;
};

struct TribarSample {
    std::int64_t width_px = 512;
    std::int64_t height_px = 128;
    TribarParams tribar;
};

/// The airfield's reflectances are 11-bit DN (0..2047, as many pan sensors record); 16-bit output
/// stores them as they are, 8-bit output scales them by 255/2047 before noise and quantization.
struct AirfieldSample {
    AirfieldParams scene;  ///< scene.gsd_m is taken from SampleOutput::gsd_m
};

struct SampleResult {
    std::filesystem::path image_path;
    std::filesystem::path truth_path;
    nlohmann::ordered_json truth;
};

/// `image.tif` -> `image.json` (same folder, same stem).
std::filesystem::path truth_path_for(const std::filesystem::path& image_path);

SampleResult write_edge_sample(const EdgeSample& sample, const SampleOutput& out);
SampleResult write_tribar_sample(const TribarSample& sample, const SampleOutput& out);
SampleResult write_airfield_sample(const AirfieldSample& sample, const SampleOutput& out);

/// Writes `doc` (2-space indented, trailing newline) to a temporary file beside `path` and
/// renames it over `path`. Throws satiq::Error when the folder is not writable.
void write_json_atomically(const std::filesystem::path& path, const nlohmann::ordered_json& doc);

/// The largest DN of an 8- or 16-bit sample (255 or 65535). Throws for other bit depths.
double max_dn_for_bits(int bits);

}  // namespace satiq
