#pragma once
/// `satiq info`: what a raster is, where it is, and its true ground sample distance.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/gsd.hpp"
#include "satiq/pipeline/raster.hpp"

namespace satiq {

/// Acquisition figures found in the metadata (IMD/IMAGERY/default domains), each optional.
struct Acquisition {
    std::optional<std::string> satellite_id;
    std::optional<std::string> time;
    std::optional<double> satellite_elevation_deg;
    std::optional<double> satellite_azimuth_deg;
    std::optional<double> off_nadir_deg;
    std::optional<double> sun_elevation_deg;
    std::optional<double> sun_azimuth_deg;
};

/// Reads the acquisition figures from the metadata (DigitalGlobe/Maxar IMD keys such as
/// IMAGE_1.meanSatEl, GDAL's IMAGERY domain, and plain default-domain keys).
Acquisition find_acquisition(const RasterInfo& info);

/// The record `satiq info` prints for one file. `gsd` is empty when it could not be computed,
/// with the reason in `gsd_error`.
struct InfoRecord {
    RasterInfo raster;
    std::optional<Gsd> gsd;
    std::string gsd_error;
    Acquisition acquisition;
};

/// Opens `path` and computes everything `info` reports. Throws satiq::Error when the file
/// cannot be opened as a raster. A missing GSD is not an error here (see `gsd_error`) unless
/// `require_gsd` is set.
InfoRecord describe_raster(const std::filesystem::path& path, const GsdOptions& gsd_options, bool require_gsd);

nlohmann::json to_json(const Gsd& gsd);
nlohmann::json to_json(const InfoRecord& rec);
std::string to_text(const InfoRecord& rec);

}  // namespace satiq
