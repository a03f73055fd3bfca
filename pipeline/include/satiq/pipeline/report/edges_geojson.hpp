#pragma once
/// `satiq assess --edges-geojson`: every analysed edge as a GeoJSON LineString in WGS 84
/// longitude/latitude (RFC 7946: coordinates in the order longitude, latitude, no "crs" member),
/// with its verdict and figures as properties, so a GIS shows which edges a result rests on.
///
/// Pixel coordinates (GDAL's convention, edges.hpp) go to longitude/latitude through
/// - a geotransform with a CRS: the affine map, then OGR's coordinate transformation from the
///   CRS to WGS 84 (both in OAMS_TRADITIONAL_GIS_ORDER: easting/longitude first);
/// - else GCPs with a CRS (GDAL's polynomial GCP transformer) or RPCs (GDAL's RPC transformer at
///   the RPC height offset), as compute_gsd does.
/// An image with none of these has no place on the map: RFC 7946 allows no other CRS, so that is
/// an error, not pixel coordinates. An edge crossing the antimeridian is cut into a
/// MultiLineString (RFC 7946 section 3.1.9); an end the transformer cannot map gives a null
/// geometry.
#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/assess.hpp"

namespace satiq {

/// Pixel coordinates of one raster to WGS 84 (longitude, latitude) in degrees. Not thread-safe.
class PixelToLonLat {
public:
    /// Throws satiq::Error "<file>: ..." when `geo` cannot be mapped to WGS 84 (see the top).
    PixelToLonLat(const std::filesystem::path& file, const GeoReference& geo, std::int64_t width, std::int64_t height);
    PixelToLonLat(PixelToLonLat&&) noexcept;
    PixelToLonLat& operator=(PixelToLonLat&&) noexcept;
    ~PixelToLonLat();
    /// Empty when the transformation fails at that point.
    [[nodiscard]] std::optional<std::array<double, 2>> operator()(double x_px, double y_px) const;

    struct Impl;  ///< opaque (edges_geojson.cpp)

private:
    std::unique_ptr<Impl> m_impl;
};

/// The FeatureCollection: one Feature per analysed edge of each result, in result then record
/// order (`edge` is the index in the JSON records and the CSV). Throws as PixelToLonLat.
nlohmann::ordered_json edges_geojson(const std::vector<AssessResult>& results);

/// Writes edges_geojson to `path` atomically (write_text_atomic), one feature per line.
void write_edges_geojson(const std::filesystem::path& path, const std::vector<AssessResult>& results);

}  // namespace satiq
