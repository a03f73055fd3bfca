#pragma once
/// `satiq info`: what a raster is, where it is, and its true ground sample distance.
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"

namespace satiq {

/// The look geometry of an image: the target elevation angle (the satellite above the local
/// horizon at the scene) and where it came from.
struct LookGeometry {
    double elevation_deg = 90;
    std::optional<double> off_nadir_deg;  ///< at the satellite, when the source gives it
    std::optional<double> altitude_m;     ///< orbit altitude used to convert off-nadir to elevation
    /// "metadata: SATIQ_DEGRADE_PARAMETERS off_nadir_deg", "metadata: IMD meanSatEl",
    /// "metadata: DIMAP incidence angle", "RPC-derived", ... plus any assumption made.
    std::string source;
};

/// Acquisition figures found in the metadata (IMD/IMAGERY/default domains), each optional.
struct Acquisition {
    std::optional<std::string> satellite_id;
    std::optional<std::string> time;
    std::optional<double> satellite_elevation_deg;
    std::optional<double> satellite_azimuth_deg;
    std::optional<double> off_nadir_deg;
    std::optional<double> sun_elevation_deg;
    std::optional<double> sun_azimuth_deg;
    /// Where each figure found came from: field name (as above) -> "metadata: IMD meanSatEl".
    std::map<std::string, std::string> sources;
    /// The look geometry (find_look_geometry), empty when nothing gives it.
    std::optional<LookGeometry> look;
};

/// Reads the acquisition figures from the metadata (DigitalGlobe/Maxar IMD keys such as
/// IMAGE_1.meanSatEl, GDAL's IMAGERY domain, and plain default-domain keys).
/// Airbus Pleiades / SPOT 6-7 DIMAP v2 (DIM_*.XML beside the image, exposed by GDAL's
/// GDALMDReaderPleiades in the IMD domain) gives the Center values of
/// Geometric_Data.Use_Area.Located_Geometric_Values: INCIDENCE_ANGLE (satellite elevation
/// 90 - incidence), VIEWING_ANGLE (off-nadir), SUN_ELEVATION and SUN_AZIMUTH.
/// Also fills `look` (find_look_geometry).
Acquisition find_acquisition(const RasterInfo& info);

/// The look geometry, first found of: the geometry `satiq degrade` recorded
/// (SATIQ_DEGRADE_PARAMETERS off_nadir_deg at the altitude in SATIQ_DEGRADE_PLAN view, or the
/// plan's view elevation), the satellite elevation in the metadata (IMD meanSatEl, DIMAP
/// incidence angle, default-domain keys), the off-nadir angle in the metadata (at an assumed
/// 600 km orbit), and the view zenith derived from the RPCs at the image centre. Empty when
/// none gives it (the caller assumes nadir and says so).
std::optional<LookGeometry> find_look_geometry(const RasterInfo& info);

/// View elevation at image point (pixel, line) from the RPCs: the point is projected to the
/// ground at HEIGHT_OFF and HEIGHT_OFF + 1000 m with GDAL's RPC transformer; the ground shift d
/// per height difference dh gives the view zenith atan(d / dh), the elevation is 90 - zenith.
/// Empty without usable RPCs.
std::optional<double> rpc_view_elevation_deg(const RasterInfo& info, double pixel, double line);

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
