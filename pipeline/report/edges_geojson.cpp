#include "satiq/pipeline/report/edges_geojson.hpp"

#include <cmath>
#include <string>

#include <fmt/format.h>

#include <cpl_string.h>
#include <gdal_alg.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

namespace fs = std::filesystem;

namespace satiq {

struct PixelToLonLat::Impl {
    // Geotransform path: affine map, then CRS -> WGS 84.
    std::optional<std::array<double, 6>> gt;
    std::unique_ptr<OGRCoordinateTransformation> ct;
    // GCP / RPC path: a pixel-less MEM dataset carrying them drives GDAL's transformer.
    GDALDatasetH ds = nullptr;
    void* transformer = nullptr;
    double height_m = 0;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (transformer) GDALDestroyGenImgProjTransformer(transformer);
        if (ds) GDALClose(ds);
    }
};

namespace {

OGRSpatialReference wgs84_lon_lat() {
    OGRSpatialReference s;
    s.SetWellKnownGeogCS("WGS84");
    s.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    return s;
}

void build_affine(PixelToLonLat::Impl& m, const fs::path& file, const GeoReference& geo) {
    OGRSpatialReference srs;
    // The geotransform's x is the easting or longitude whatever the CRS's declared axis order.
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (geo.crs_wkt.empty() || srs.importFromWkt(geo.crs_wkt.c_str()) != OGRERR_NONE)
        throw Error(
            fmt::format("{}: has a geotransform but no coordinate reference system, so its edges cannot be "
                        "placed in longitude/latitude",
                        file.string()));
    const OGRSpatialReference wgs84 = wgs84_lon_lat();
    m.ct.reset(OGRCreateCoordinateTransformation(&srs, &wgs84));
    if (!m.ct) throw Error(fmt::format("{}: cannot transform its CRS to WGS 84: {}", file.string(), last_gdal_error()));
    m.gt = geo.geotransform;
}

// The MEM dataset and options for GDAL's GCP or RPC transformer (as compute_gsd builds them).
void build_transformer(PixelToLonLat::Impl& m, const fs::path& file, const GeoReference& geo, std::int64_t width,
                       std::int64_t height) {
    const bool rpc = geo.gcps.empty();
    GDALDriverH mem = GDALGetDriverByName("MEM");
    if (!mem) throw Error("GDAL has no MEM driver");
    m.ds = GDALCreate(mem, "", static_cast<int>(width), static_cast<int>(height), 0, GDT_Byte, nullptr);
    if (!m.ds) throw Error(fmt::format("{}: cannot create an in-memory dataset: {}", file.string(), last_gdal_error()));
    CPLStringList opts;
    opts.SetNameValue("DST_SRS", "EPSG:4326");
    if (rpc) {
        CPLStringList md;
        for (const auto& [k, v] : geo.rpc)
            md.SetNameValue(k.c_str(), v.c_str());
        GDALSetMetadata(m.ds, md.List(), "RPC");
        if (auto it = geo.rpc.find("HEIGHT_OFF"); it != geo.rpc.end()) m.height_m = std::atof(it->second.c_str());
        opts.SetNameValue("METHOD", "RPC");
        opts.SetNameValue("RPC_HEIGHT", fmt::format("{}", m.height_m).c_str());
    } else {
        std::vector<GDAL_GCP> gcps(geo.gcps.size());
        std::vector<std::string> ids(gcps.size());
        for (std::size_t i = 0; i < gcps.size(); ++i) {
            ids[i] = std::to_string(i + 1);
            gcps[i] = {ids[i].data(), const_cast<char*>(""), geo.gcps[i].pixel, geo.gcps[i].line,
                       geo.gcps[i].x, geo.gcps[i].y,         geo.gcps[i].z};
        }
        OGRSpatialReference gsrs;
        if (geo.gcp_crs_wkt.empty() || gsrs.importFromWkt(geo.gcp_crs_wkt.c_str()) != OGRERR_NONE)
            throw Error(
                fmt::format("{}: its GCPs have no coordinate reference system, so its edges cannot be "
                            "placed in longitude/latitude",
                            file.string()));
        GDALSetGCPs2(m.ds, static_cast<int>(gcps.size()), gcps.data(), OGRSpatialReference::ToHandle(&gsrs));
        opts.SetNameValue("METHOD", "GCP_POLYNOMIAL");
    }
    CPLErrorReset();
    m.transformer = GDALCreateGenImgProjTransformer2(m.ds, nullptr, opts.List());
    if (!m.transformer)
        throw Error(fmt::format("{}: cannot build a {} transformer to WGS 84: {}", file.string(), rpc ? "RPC" : "GCP",
                                last_gdal_error()));
}

}  // namespace

PixelToLonLat::PixelToLonLat(const fs::path& file, const GeoReference& geo, std::int64_t width, std::int64_t height)
    : m_impl(std::make_unique<Impl>()) {
    init_gdal();
    if (geo.geotransform)
        build_affine(*m_impl, file, geo);
    else if (!geo.gcps.empty() || !geo.rpc.empty())
        build_transformer(*m_impl, file, geo, width, height);
    else
        throw Error(
            fmt::format("{}: not georeferenced (no geotransform, GCPs or RPCs): GeoJSON (RFC 7946) needs "
                        "longitude/latitude, so its edges cannot be written",
                        file.string()));
    // Fail here, not on the first edge, when the centre of the image cannot be mapped.
    if (!(*this)(0.5 * static_cast<double>(width), 0.5 * static_cast<double>(height)))
        throw Error(fmt::format("{}: the centre of the image cannot be transformed to WGS 84 longitude/latitude: {}",
                                file.string(), last_gdal_error()));
}

PixelToLonLat::PixelToLonLat(PixelToLonLat&&) noexcept = default;
PixelToLonLat& PixelToLonLat::operator=(PixelToLonLat&&) noexcept = default;
PixelToLonLat::~PixelToLonLat() = default;

std::optional<std::array<double, 2>> PixelToLonLat::operator()(double x_px, double y_px) const {
    double x = x_px, y = y_px, z = m_impl->height_m;
    int ok = 0;
    if (m_impl->gt) {
        const auto& gt = *m_impl->gt;
        x = gt[0] + x_px * gt[1] + y_px * gt[2];
        y = gt[3] + x_px * gt[4] + y_px * gt[5];
        ok = m_impl->ct->Transform(1, &x, &y, &z) ? 1 : 0;
    } else {
        GDALGenImgProjTransform(m_impl->transformer, FALSE, 1, &x, &y, &z, &ok);
    }
    if (!ok || !std::isfinite(x) || !std::isfinite(y)) return std::nullopt;
    if (x > 180.0 || x < -180.0) x = std::remainder(x, 360.0);  // RFC 7946 longitudes lie in [-180, 180]
    return std::array<double, 2>{x, y};
}

namespace {

using json = nlohmann::ordered_json;

// LineString from a to b, or a MultiLineString cut at the antimeridian when the shorter way
// between the longitudes crosses it (RFC 7946 section 3.1.9).
json line_geometry(const std::array<double, 2>& a, const std::array<double, 2>& b) {
    if (std::abs(b[0] - a[0]) <= 180.0) return {{"type", "LineString"}, {"coordinates", {{a[0], a[1]}, {b[0], b[1]}}}};
    const double side = a[0] > 0 ? 180.0 : -180.0;                     // the meridian on a's side
    const double b_unwrapped = b[0] + (a[0] > b[0] ? 360.0 : -360.0);  // b continued past it
    const double t = (side - a[0]) / (b_unwrapped - a[0]);
    const double lat = a[1] + t * (b[1] - a[1]);
    return {{"type", "MultiLineString"}, {"coordinates", {{{a[0], a[1]}, {side, lat}}, {{-side, lat}, {b[0], b[1]}}}}};
}

// A figure, or null where the stage that measures it was not reached (edges.hpp: 0).
json figure(double v) {
    return v != 0.0 && std::isfinite(v) ? json(v) : json(nullptr);
}

json edge_feature(const AssessResult& r, std::size_t index, const EdgeMeasurement& e, const PixelToLonLat& to_ll) {
    const auto a = to_ll(e.segment.x0_px, e.segment.y0_px), b = to_ll(e.segment.x1_px, e.segment.y1_px);
    const bool used = is_usable(e.verdict);
    json props = {{"file", r.file.string()},
                  {"band_used", r.band_used},
                  {"edge", index},
                  {"verdict", to_string(e.verdict)},
                  {"used", used},
                  {"reason", e.reason},
                  {"axis", to_string(e.axis)},
                  {"rer", figure(e.rer)},
                  {"rer_standard_error", figure(e.rer_standard_error)},
                  {"mtf50_cyc_per_px", figure(e.mtf50_cyc_per_px)},
                  {"mtf50_cyc_per_m", figure(e.mtf50_cyc_per_m)},
                  {"mtf_nyquist", figure(e.mtf_nyquist)},
                  {"fwhm_px", figure(e.fwhm_px)},
                  {"overshoot_h", figure(e.overshoot_h)},
                  {"contrast_dn", figure(e.contrast_dn)},
                  {"contrast_to_noise", figure(e.contrast_to_noise)},
                  {"quality", e.quality},
                  {"length_px", e.length_px},
                  {"slant_deg", e.slant_deg},
                  {"x0_px", e.segment.x0_px},
                  {"y0_px", e.segment.y0_px},
                  {"x1_px", e.segment.x1_px},
                  {"y1_px", e.segment.y1_px}};
    return {{"type", "Feature"},
            {"geometry", a && b ? line_geometry(*a, *b) : json(nullptr)},
            {"properties", std::move(props)}};
}

}  // namespace

nlohmann::ordered_json edges_geojson(const std::vector<AssessResult>& results) {
    json features = json::array();
    for (const AssessResult& r : results) {
        const PixelToLonLat to_ll(r.file, r.georeference, r.width, r.height);
        for (std::size_t i = 0; i < r.edges.edges.size(); ++i)
            features.push_back(edge_feature(r, i, r.edges.edges[i], to_ll));
    }
    return {{"type", "FeatureCollection"}, {"features", std::move(features)}};
}

void write_edges_geojson(const fs::path& path, const std::vector<AssessResult>& results) {
    const nlohmann::ordered_json doc = edges_geojson(results);
    std::string text = "{\"type\": \"FeatureCollection\", \"features\": [\n";
    const nlohmann::ordered_json& features = doc["features"];
    for (std::size_t i = 0; i < features.size(); ++i)
        text += features[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                (i + 1 < features.size() ? ",\n" : "\n");
    text += "]}\n";
    write_text_atomic(path, text);
}

}  // namespace satiq
