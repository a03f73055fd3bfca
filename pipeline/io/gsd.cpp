#include "satiq/pipeline/io/gsd.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include <cpl_string.h>
#include <gdal_alg.h>
#include <geodesic.h>
#include <ogr_spatialref.h>

namespace satiq {

namespace {
// The pixel sizes satiq accepts: 1 micrometre (laboratory imagery) to 100 km. Outside, a value
// is a broken geotransform or a typing error, and the arithmetic that follows (resampling
// ratios, kernel widths) would overflow or never end.
constexpr double kMinGsdM = 1e-6;
constexpr double kMaxGsdM = 1e5;
}  // namespace

namespace {

struct SrsInfo {
    OGRSpatialReference srs;
    bool ok = false;
};

SrsInfo load_srs(const std::string& wkt) {
    SrsInfo s;
    if (wkt.empty()) return s;
    s.srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    s.ok = s.srs.importFromWkt(wkt.c_str()) == OGRERR_NONE;
    return s;
}

// Geodesic distance in metres on the ellipsoid (Karney, "Algorithms for geodesics",
// J. Geodesy 87:43, 2013, as implemented by PROJ's geodesic.h).
double geodesic_m(const geod_geodesic& g, double lon1, double lat1, double lon2, double lat2) {
    double s12 = 0, azi1 = 0, azi2 = 0;
    geod_inverse(&g, lat1, lon1, lat2, lon2, &s12, &azi1, &azi2);
    return s12;
}

std::array<double, 2> apply_gt(const std::array<double, 6>& gt, double px, double py) {
    return {gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5]};
}

// Sample points (pixel coordinates) where the GSD is evaluated: centre, corners, edge midpoints.
std::vector<std::array<double, 2>> sample_points(const RasterInfo& info) {
    const double w = static_cast<double>(info.width), h = static_cast<double>(info.height);
    std::vector<std::array<double, 2>> pts = {{w / 2, h / 2}};
    for (double fy : {0.5, h / 2, h - 0.5})
        for (double fx : {0.5, w / 2, w - 0.5})
            if (!(fx == w / 2 && fy == h / 2)) pts.push_back({fx, fy});
    return pts;
}

void finish(Gsd& g) {
    g.mean_m = std::sqrt(g.x_m * g.y_m);
    if (g.x_min_m == 0) g.x_min_m = g.x_max_m = g.x_m;
    if (g.y_min_m == 0) g.y_min_m = g.y_max_m = g.y_m;
}

// Measures pixel steps at `pts` through `to_lonlat(px, py) -> (lon, lat)` on ellipsoid (a, f).
template <class ToLonLat>
void measure_geodesic(Gsd& g, const RasterInfo& info, double a, double f, ToLonLat&& to_lonlat) {
    geod_geodesic geod;
    geod_init(&geod, a, f);
    bool first = true;
    for (const auto& p : sample_points(info)) {
        // A one-pixel step centred on the point: (p - 0.5, p + 0.5) along each axis.
        const auto xa = to_lonlat(p[0] - 0.5, p[1]), xb = to_lonlat(p[0] + 0.5, p[1]);
        const auto ya = to_lonlat(p[0], p[1] - 0.5), yb = to_lonlat(p[0], p[1] + 0.5);
        const double gx = geodesic_m(geod, xa[0], xa[1], xb[0], xb[1]);
        const double gy = geodesic_m(geod, ya[0], ya[1], yb[0], yb[1]);
        if (first) {
            const auto c = to_lonlat(p[0], p[1]);
            g.center_lon_deg = c[0];
            g.center_lat_deg = c[1];
            g.x_m = gx;
            g.y_m = gy;
            g.x_min_m = g.x_max_m = gx;
            g.y_min_m = g.y_max_m = gy;
            first = false;
        }
        g.x_min_m = std::min(g.x_min_m, gx);
        g.x_max_m = std::max(g.x_max_m, gx);
        g.y_min_m = std::min(g.y_min_m, gy);
        g.y_max_m = std::max(g.y_max_m, gy);
    }
}

// Centre latitude/longitude of a projected image (for reports).
void projected_center(Gsd& g, const RasterInfo& info, OGRSpatialReference& srs) {
    OGRSpatialReference wgs84;
    wgs84.SetWellKnownGeogCS("WGS84");
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&srs, &wgs84));
    if (!ct) return;
    auto c = apply_gt(*info.geo.geotransform, info.width / 2.0, info.height / 2.0);
    double x = c[0], y = c[1];
    // No map projection of the Earth reaches 1e9 m from its origin (the circumference is 4e7 m);
    // beyond it PROJ's inverse may iterate for minutes (fuzzing found 35 s at 1e308). The centre
    // is for reports only: absurd coordinates leave it unknown.
    if (!(std::abs(x) < 1e9 && std::abs(y) < 1e9)) return;
    if (ct->Transform(1, &x, &y)) {
        g.center_lon_deg = x;
        g.center_lat_deg = y;
    }
}

struct TransformerDeleter {
    void operator()(void* t) const {
        if (t) GDALDestroyGenImgProjTransformer(t);
    }
};

Gsd gsd_from_transformer(const RasterInfo& info, const GsdOptions& opt) {
    const bool rpc = !info.geo.rpc.empty() && info.geo.gcps.empty();
    Gsd g;
    g.method = rpc ? "rpc_transform" : "gcp_transform";
    GDALDriverH mem = GDALGetDriverByName("MEM");
    if (!mem) throw Error("GDAL has no MEM driver");
    // A pixel-less in-memory copy of the georeferencing drives GDAL's transformer.
    GDALDatasetH ds =
        GDALCreate(mem, "", static_cast<int>(info.width), static_cast<int>(info.height), 0, GDT_Byte, nullptr);
    std::unique_ptr<void, void (*)(void*)> ds_guard(ds, [](void* d) { GDALClose(d); });
    CPLStringList topts;
    topts.SetNameValue("DST_SRS", "EPSG:4326");
    double height = 0;
    if (rpc) {
        CPLStringList md;
        for (const auto& [k, v] : info.geo.rpc)
            md.SetNameValue(k.c_str(), v.c_str());
        GDALSetMetadata(ds, md.List(), "RPC");
        topts.SetNameValue("METHOD", "RPC");
        if (opt.height_m) {
            height = *opt.height_m;
            g.notes.push_back(fmt::format("RPC evaluated at the given height {} m", height));
        } else if (auto it = info.geo.rpc.find("HEIGHT_OFF"); it != info.geo.rpc.end()) {
            height = std::atof(it->second.c_str());
            g.notes.push_back(fmt::format("RPC evaluated at the RPC height offset {} m", height));
        }
        topts.SetNameValue("RPC_HEIGHT", fmt::format("{}", height).c_str());
    } else {
        std::vector<GDAL_GCP> gcps(info.geo.gcps.size());
        std::vector<std::string> ids(gcps.size());
        for (std::size_t i = 0; i < gcps.size(); ++i) {
            ids[i] = std::to_string(i + 1);
            gcps[i].pszId = ids[i].data();
            gcps[i].pszInfo = const_cast<char*>("");
            gcps[i].dfGCPPixel = info.geo.gcps[i].pixel;
            gcps[i].dfGCPLine = info.geo.gcps[i].line;
            gcps[i].dfGCPX = info.geo.gcps[i].x;
            gcps[i].dfGCPY = info.geo.gcps[i].y;
            gcps[i].dfGCPZ = info.geo.gcps[i].z;
        }
        OGRSpatialReference gsrs;
        if (info.geo.gcp_crs_wkt.empty() || gsrs.importFromWkt(info.geo.gcp_crs_wkt.c_str()) != OGRERR_NONE)
            throw Error(fmt::format("{}: GCPs have no coordinate reference system; give --gsd-m", info.path.string()));
        // A first-order polynomial needs 3 GCPs. One alone is typically a GeoTIFF tiepoint whose
        // pixel scale is missing or zero, which GDAL reports as a single GCP.
        if (gcps.size() < 3)
            throw Error(fmt::format(
                "{}: only {} GCP{}, and mapping pixels to the ground needs at least 3{}; give --gsd-m",
                info.path.string(), gcps.size(), gcps.size() == 1 ? "" : "s",
                gcps.size() == 1 ? " (one tiepoint: typically a GeoTIFF whose pixel scale is missing or zero)" : ""));
        GDALSetGCPs2(ds, static_cast<int>(gcps.size()), gcps.data(), OGRSpatialReference::ToHandle(&gsrs));
        // First-order polynomial needs 3 GCPs; GDAL picks the order from the count.
        topts.SetNameValue("METHOD", "GCP_POLYNOMIAL");
        g.notes.push_back(fmt::format("polynomial fit through {} GCPs", gcps.size()));
    }
    CPLErrorReset();
    std::unique_ptr<void, TransformerDeleter> tr(GDALCreateGenImgProjTransformer2(ds, nullptr, topts.List()));
    if (!tr)
        throw Error(fmt::format("{}: cannot build a {} transformer: {}", info.path.string(), rpc ? "RPC" : "GCP",
                                last_gdal_error()));
    auto to_lonlat = [&](double px, double py) {
        double x = px, y = py, z = height;
        int ok = 0;
        GDALGenImgProjTransform(tr.get(), FALSE, 1, &x, &y, &z, &ok);
        if (!ok)
            throw Error(fmt::format("{}: the {} transformer failed at pixel {},{}", info.path.string(),
                                    rpc ? "RPC" : "GCP", px, py));
        return std::array<double, 2>{x, y};
    };
    // WGS84 ellipsoid (GRS80 differs by < 0.1 mm here).
    measure_geodesic(g, info, 6378137.0, 1.0 / 298.257223563, to_lonlat);
    g.crs_name = "WGS 84";
    g.linear_unit = "degree";
    finish(g);
    return g;
}

}  // namespace

std::pair<double, double> parse_gsd_pair(const std::string& text) {
    const auto comma = text.find(',');
    auto parse = [&](const std::string& s) {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || end == s.c_str() || *end != '\0' || !std::isfinite(v) || v <= 0)
            throw Error(fmt::format("--gsd-m: '{}' is not a positive number of metres (use V or X,Y)", text));
        if (v < kMinGsdM || v > kMaxGsdM)
            throw Error(fmt::format("--gsd-m: {} m is outside the usable range {} to {} m (in '{}')", v, kMinGsdM,
                                    kMaxGsdM, text));
        return v;
    };
    if (comma == std::string::npos) {
        const double v = parse(text);
        return {v, v};
    }
    return {parse(text.substr(0, comma)), parse(text.substr(comma + 1))};
}

namespace {
// Where an override GSD came from: its method name and the first note of the result.
struct OverrideSource {
    const char* method = "user";
    std::string note = "GSD given by the user (--gsd-m)";
};

Gsd compute_gsd_unchecked(const RasterInfo& info, const GsdOptions& opt, const OverrideSource& source);

// Every GSD leaves here finite, positive and below 100 km (a geotransform of NaN, Inf or 1e30
// is a broken file, not a coarse sensor): otherwise one error naming the file and the values.
Gsd compute_gsd_checked(const RasterInfo& info, const GsdOptions& opt, const OverrideSource& source) {
    if (info.geo.geotransform && !opt.override_m)
        for (double v : *info.geo.geotransform)
            if (!std::isfinite(v))
                throw Error(fmt::format("{}: the geotransform holds a non-finite value ({}); give --gsd-m",
                                        info.path.string(), v));
    Gsd g = compute_gsd_unchecked(info, opt, source);
    if (!(std::isfinite(g.x_m) && std::isfinite(g.y_m) && g.x_m >= kMinGsdM && g.y_m >= kMinGsdM && g.x_m <= kMaxGsdM &&
          g.y_m <= kMaxGsdM))
        throw Error(
            fmt::format("{}: GSD {} x {} m ({}) is not a usable pixel size (must be finite and within {:g} to "
                        "{:g} m); give --gsd-m",
                        info.path.string(), g.x_m, g.y_m, g.method, kMinGsdM, kMaxGsdM));
    return g;
}
}  // namespace

Gsd compute_gsd(const RasterInfo& info, const GsdOptions& opt) {
    if (opt.fallback_m && !opt.override_m) {
        // The raster's own georeferencing first; the catalog's figure only where it has none.
        GsdOptions own = opt;
        own.fallback_m.reset();
        const std::string_view from = opt.fallback_from.empty() ? "the catalog" : opt.fallback_from;
        try {
            Gsd g = compute_gsd_checked(info, own, {});
            g.notes.push_back(fmt::format("{} gives {:g} x {:g} m; the georeferencing is used", from,
                                          opt.fallback_m->first, opt.fallback_m->second));
            return g;
        } catch (const Error& e) {
            own.override_m = opt.fallback_m;
            return compute_gsd_checked(
                info, own,
                {"catalog", fmt::format("GSD from {}: the raster has no usable georeferencing ({})", from, e.what())});
        }
    }
    return compute_gsd_checked(info, opt, {});
}

namespace {
Gsd compute_gsd_unchecked(const RasterInfo& info, const GsdOptions& opt, const OverrideSource& source) {
    init_gdal();
    if (opt.override_m) {
        Gsd g;
        g.x_m = opt.override_m->first;
        g.y_m = opt.override_m->second;
        if (!(g.x_m > 0) || !(g.y_m > 0)) throw Error(fmt::format("{}: --gsd-m must be positive", info.path.string()));
        g.method = source.method;
        g.notes.push_back(source.note);
        if (info.geo.geotransform || !info.geo.gcps.empty() || !info.geo.rpc.empty()) {
            // Still report where the image is, when we can.
            try {
                GsdOptions own;
                own.height_m = opt.height_m;
                Gsd geo = compute_gsd(info, own);
                g.center_lat_deg = geo.center_lat_deg;
                g.center_lon_deg = geo.center_lon_deg;
                g.crs_name = geo.crs_name;
                g.linear_unit = geo.linear_unit;
                g.notes.push_back(
                    fmt::format("the georeferencing gives {:.4f} x {:.4f} m ({})", geo.x_m, geo.y_m, geo.method));
            } catch (const Error&) {
            }
        }
        finish(g);
        return g;
    }

    if (info.geo.geotransform) {
        SrsInfo s = load_srs(info.geo.crs_wkt);
        if (!s.ok)
            throw Error(
                fmt::format("{}: has a geotransform but no coordinate reference system, so its units are "
                            "unknown; give --gsd-m",
                            info.path.string()));
        const auto& gt = *info.geo.geotransform;
        Gsd g;
        g.crs_name = s.srs.GetName() ? s.srs.GetName() : "";
        if (s.srs.IsProjected() || (s.srs.IsLocal() && !s.srs.IsGeographic())) {
            const char* unit_name = nullptr;
            const double to_m = s.srs.GetLinearUnits(&unit_name);  // metres per CRS unit, from PROJ
            g.linear_unit = unit_name ? unit_name : "";
            g.method = "projected_geotransform";
            g.x_m = std::hypot(gt[1], gt[4]) * to_m;
            g.y_m = std::hypot(gt[2], gt[5]) * to_m;
            if (gt[2] != 0 || gt[4] != 0)
                g.notes.push_back(
                    "rotated or sheared geotransform: GSD from the lengths of the column and row vectors");
            if (to_m != 1.0) g.notes.push_back(fmt::format("CRS unit '{}' = {} m", g.linear_unit, to_m));
            projected_center(g, info, s.srs);
            finish(g);
            return g;
        }
        if (s.srs.IsGeographic()) {
            OGRErr err = OGRERR_NONE;
            const double a = s.srs.GetSemiMajor(&err);
            const double inv_f = s.srs.GetInvFlattening(&err);
            const char* unit_name = nullptr;
            const double rad_per_unit = s.srs.GetAngularUnits(&unit_name);
            const double deg_per_unit = rad_per_unit * 180.0 / M_PI;
            g.linear_unit = unit_name ? unit_name : "degree";
            g.method = "geographic_geodesic";
            measure_geodesic(g, info, a, inv_f > 0 ? 1.0 / inv_f : 0.0, [&](double px, double py) {
                auto c = apply_gt(gt, px, py);
                return std::array<double, 2>{c[0] * deg_per_unit, c[1] * deg_per_unit};
            });
            if (std::abs(g.x_m - g.y_m) > 0.005 * g.mean_m)
                g.notes.push_back("geographic pixels are not square on the ground: x and y GSD differ");
            finish(g);
            return g;
        }
        throw Error(
            fmt::format("{}: coordinate reference system '{}' is neither projected nor geographic; give --gsd-m",
                        info.path.string(), g.crs_name));
    }
    if (!info.geo.gcps.empty() || !info.geo.rpc.empty()) return gsd_from_transformer(info, opt);
    if (!info.geo.geotransform_problem.empty())
        throw Error(fmt::format("{}: {}; give --gsd-m", info.path.string(), info.geo.geotransform_problem));
    throw Error(fmt::format("{}: no georeferencing (no geotransform, GCPs or RPCs); give --gsd-m V or --gsd-m X,Y",
                            info.path.string()));
}
}  // namespace

}  // namespace satiq
