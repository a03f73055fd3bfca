#pragma once
/// Ground sample distance from a raster's georeferencing.
///
/// - Projected CRS: the lengths of the geotransform's column and row vectors, converted to
///   metres with the CRS's own linear unit (metre, foot, US survey foot, ...) as GDAL/PROJ
///   report it. Rotated and sheared geotransforms are handled by the vector lengths.
/// - Geographic CRS: geodesic lengths (PROJ's geodesic routines, Karney 2013) on the CRS's
///   ellipsoid of one pixel step along the column and along the row at the image centre, plus
///   their range over the image (corners, edge midpoints). Non-square ground pixels are the
///   truth (a WGS84 image at 36 deg latitude with 2.7e-6 deg pixels: 0.243 m by 0.300 m).
/// - GCPs or RPCs only: neighbouring pixels are transformed to WGS84 through GDAL's
///   transformer (RPC at the scene height: the RPC height offset or `height_m`), then measured
///   geodesically.
/// - No georeferencing: throws unless the caller gives `override_m`.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "satiq/pipeline/io/raster.hpp"

namespace satiq {

struct GsdOptions {
    /// User-given GSD (x, y) in metres: used instead of the georeferencing.
    std::optional<std::pair<double, double>> override_m;
    /// A GSD from elsewhere (a catalog's nominal figure), used only when the raster has no usable
    /// georeferencing (method "catalog"); `fallback_from` names where it came from in the notes.
    std::optional<std::pair<double, double>> fallback_m;
    /// Static text (a string literal), e.g. "the STAC Item's gsd"; empty: "the catalog". (A
    /// std::string here trips GCC 12's -Wmaybe-uninitialized on every `assess_file(img, {})`.)
    std::string_view fallback_from;
    /// Scene height above the ellipsoid for RPC transforms (default: the RPC HEIGHT_OFF).
    std::optional<double> height_m;
};

struct Gsd {
    double x_m = 0;     ///< ground length of one pixel step along a row (column vector)
    double y_m = 0;     ///< ground length of one pixel step down a column (row vector)
    double mean_m = 0;  ///< geometric mean sqrt(x_m * y_m), as GIQE uses
    /// "projected_geotransform", "geographic_geodesic", "gcp_transform", "rpc_transform", "user" or
    /// "catalog" (GsdOptions::fallback_m).
    std::string method;
    std::optional<double> center_lat_deg;
    std::optional<double> center_lon_deg;
    /// Range over the image (equal to x_m / y_m when the GSD is constant).
    double x_min_m = 0, x_max_m = 0, y_min_m = 0, y_max_m = 0;
    std::string crs_name;     ///< empty when unknown
    std::string linear_unit;  ///< e.g. "metre", "US survey foot", "degree"
    std::vector<std::string> notes;
};

/// Computes the GSD of `info` (see the file comment). Throws satiq::Error naming the file when
/// there is no usable georeferencing and no override, or when a parameter is invalid.
Gsd compute_gsd(const RasterInfo& info, const GsdOptions& options = {});

/// Parses "V" or "X,Y" (metres, positive). Throws satiq::Error otherwise.
std::pair<double, double> parse_gsd_pair(const std::string& text);

}  // namespace satiq
