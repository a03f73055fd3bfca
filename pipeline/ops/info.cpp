#include "satiq/pipeline/ops/info.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include <cpl_string.h>
#include <gdal_alg.h>
#include <geodesic.h>
#include <ogr_spatialref.h>

#include "satiq/pipeline/model/sensor.hpp"

namespace satiq {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// A metadata item found: its domain, key and value, and the source line naming it
// ("metadata: IMD meanSatEl": the domain and the key's last component).
struct Hit {
    std::string value;
    std::string source;
};

// First metadata value whose key (case-insensitive) equals one of `names` or ends with
// "." + name, searched over the IMD, IMAGERY and default domains in that order.
std::optional<Hit> find_hit(const RasterInfo& info, std::initializer_list<const char*> names) {
    for (const char* dom : {"IMD", "IMAGERY", ""}) {
        auto it = info.metadata.find(dom);
        if (it == info.metadata.end()) continue;
        for (const char* name : names) {
            const std::string n = lower(name);
            for (const auto& [k, v] : it->second) {
                const std::string lk = lower(k);
                if (lk == n ||
                    (lk.size() > n.size() && lk.compare(lk.size() - n.size() - 1, std::string::npos, "." + n) == 0)) {
                    const auto dot = k.rfind('.');
                    return Hit{v, fmt::format("metadata: {} {}", *dom ? dom : "default",
                                              dot == std::string::npos ? k : k.substr(dot + 1))};
                }
            }
        }
    }
    return std::nullopt;
}

std::optional<std::string> find_key(const RasterInfo& info, std::initializer_list<const char*> names) {
    auto h = find_hit(info, names);
    return h ? std::optional<std::string>(h->value) : std::nullopt;
}

std::optional<double> to_number(std::string t) {
    t.erase(std::remove(t.begin(), t.end(), '"'), t.end());
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || !std::isfinite(v)) return std::nullopt;
    return v;
}

// A number found by find_hit; its source goes to `sources[field]`.
std::optional<double> find_number(const RasterInfo& info, std::initializer_list<const char*> names,
                                  std::map<std::string, std::string>& sources, const char* field) {
    auto h = find_hit(info, names);
    if (!h) return std::nullopt;
    auto v = to_number(h->value);
    if (v) sources[field] = h->source;
    return v;
}

// DIMAP v2 (Pleiades, SPOT 6/7; Airbus "Pleiades Imagery User Guide", DIMAP V2 section
// Geometric_Data): Use_Area holds one Located_Geometric_Values group per location (Center,
// corners), flattened by GDAL's ReadXMLToList into IMD keys
// "Geometric_Data.Use_Area.Located_Geometric_Values[_N].<rest>". Returns the value of `rest`
// in the Center group, else in the first group.
std::optional<double> dimap_value(const RasterInfo& info, const std::string& rest) {
    auto it = info.metadata.find("IMD");
    if (it == info.metadata.end()) return std::nullopt;
    const std::string prefix = "Geometric_Data.Use_Area.Located_Geometric_Values";
    std::optional<std::string> first, center;
    for (const auto& [k, v] : it->second) {
        if (k.compare(0, prefix.size(), prefix) != 0) continue;
        const auto dot = k.find('.', prefix.size());
        if (dot == std::string::npos) continue;
        const std::string group = k.substr(0, dot);
        if (k.compare(dot + 1, std::string::npos, "LOCATION_TYPE") == 0 && lower(v) == "center") center = group;
        if (!first && k.compare(dot + 1, std::string::npos, rest) == 0) first = group;
    }
    for (const auto& g : {center, first}) {
        if (!g) continue;
        auto f = it->second.find(*g + "." + rest);
        if (f != it->second.end())
            if (auto v = to_number(f->second)) return v;
    }
    return std::nullopt;
}

std::optional<nlohmann::json> default_json(const RasterInfo& info, const char* key) {
    auto dom = info.metadata.find("");
    if (dom == info.metadata.end()) return std::nullopt;
    auto it = dom->second.find(key);
    if (it == dom->second.end()) return std::nullopt;
    auto j = nlohmann::json::parse(it->second, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

std::optional<double> json_number(const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* p = &j;
    for (const char* k : path) {
        if (!p->is_object() || !p->contains(k)) return std::nullopt;
        p = &(*p)[k];
    }
    if (!p->is_number()) return std::nullopt;
    return p->get<double>();
}

// The geometry `satiq degrade` recorded (pipeline/ops/degrade.cpp).
std::optional<LookGeometry> degrade_geometry(const RasterInfo& info) {
    const auto params = default_json(info, "SATIQ_DEGRADE_PARAMETERS");
    const auto plan = default_json(info, "SATIQ_DEGRADE_PLAN");
    if (!params && !plan) return std::nullopt;
    const auto off = params ? json_number(*params, {"off_nadir_deg"}) : std::nullopt;
    const auto view_alt = plan ? json_number(*plan, {"view", "altitude_m"}) : std::nullopt;
    if (off) {
        const double off_deg = *off;
        LookGeometry g;
        g.off_nadir_deg = off_deg;
        std::string alt_note;
        if (view_alt) {
            g.altitude_m = *view_alt;
            alt_note = fmt::format("altitude {:.0f} km from SATIQ_DEGRADE_PLAN", *view_alt / 1000);
        } else if (params->contains("sensor") && (*params)["sensor"].is_string()) {
            // Files written before the plan recorded its view: the preset's altitude.
            try {
                g.altitude_m =
                    sensor::find_sensor_preset((*params)["sensor"].get<std::string>()).description.altitude_m;
                alt_note = fmt::format("altitude {:.0f} km of the {} preset", *g.altitude_m / 1000,
                                       (*params)["sensor"].get<std::string>());
            } catch (const Error&) {
            }
        }
        if (!g.altitude_m) {
            g.altitude_m = 600e3;
            alt_note = "600 km orbit assumed";
        }
        try {
            g.elevation_deg = sensor::view_from_off_nadir(*g.altitude_m, off_deg).elevation_deg;
        } catch (const Error&) {
            return std::nullopt;  // beyond the horizon, or no usable altitude: not a look angle
        }
        g.source = fmt::format("metadata: SATIQ_DEGRADE_PARAMETERS off_nadir_deg ({})", alt_note);
        return g;
    }
    // An elevation outside (0, 90] is not a look angle (GIQE's GSD terms would be NaN).
    if (const auto el = plan ? json_number(*plan, {"view", "elevation_deg"}) : std::nullopt;
        el && *el > 0 && *el <= 90) {
        LookGeometry g;
        g.elevation_deg = *el;
        g.off_nadir_deg = json_number(*plan, {"view", "off_nadir_deg"});
        g.altitude_m = view_alt;
        g.source = "metadata: SATIQ_DEGRADE_PLAN view elevation_deg";
        return g;
    }
    return std::nullopt;
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string crs_summary(const std::string& wkt) {
    if (wkt.empty()) return "";
    OGRSpatialReference srs;
    if (srs.importFromWkt(wkt.c_str()) != OGRERR_NONE) return "";
    std::string name = srs.GetName() ? srs.GetName() : "";
    const char* auth = srs.GetAuthorityName(nullptr);
    const char* code = srs.GetAuthorityCode(nullptr);
    if (auth && code) name += fmt::format(" ({}:{})", auth, code);
    return name;
}

std::string crs_epsg(const std::string& wkt) {
    if (wkt.empty()) return "";
    OGRSpatialReference srs;
    if (srs.importFromWkt(wkt.c_str()) != OGRERR_NONE) return "";
    const char* auth = srs.GetAuthorityName(nullptr);
    const char* code = srs.GetAuthorityCode(nullptr);
    return auth && code ? fmt::format("{}:{}", auth, code) : "";
}

}  // namespace

Acquisition find_acquisition(const RasterInfo& info) {
    Acquisition a;
    auto& src = a.sources;
    a.satellite_id = find_key(info, {"satId", "SATELLITEID", "SATELLITE_ID", "MISSION"});
    a.time = find_key(info, {"firstLineTime", "ACQUISITIONDATETIME", "ACQUISITION_TIME", "TIFFTAG_DATETIME"});
    // DIMAP first: its groups hold one value per location, and the Center one is wanted (the
    // generic key search below would take whichever group sorts first).
    if (auto inc = dimap_value(info, "Acquisition_Angles.INCIDENCE_ANGLE")) {
        a.satellite_elevation_deg = 90.0 - *inc;  // incidence: from the local vertical at the target
        src["satellite_elevation_deg"] = "metadata: DIMAP incidence angle (90 - INCIDENCE_ANGLE)";
    }
    if (auto view = dimap_value(info, "Acquisition_Angles.VIEWING_ANGLE")) {
        a.off_nadir_deg = *view;  // viewing angle: from the nadir at the satellite
        src["off_nadir_deg"] = "metadata: DIMAP VIEWING_ANGLE";
    }
    if (auto v = dimap_value(info, "Solar_Incidences.SUN_ELEVATION")) {
        a.sun_elevation_deg = *v;
        src["sun_elevation_deg"] = "metadata: DIMAP SUN_ELEVATION";
    }
    if (auto v = dimap_value(info, "Solar_Incidences.SUN_AZIMUTH")) {
        a.sun_azimuth_deg = *v;
        src["sun_azimuth_deg"] = "metadata: DIMAP SUN_AZIMUTH";
    }
    if (!a.satellite_elevation_deg)
        a.satellite_elevation_deg =
            find_number(info, {"meanSatEl", "SATELLITE_ELEVATION", "SAT_ELEVATION"}, src, "satellite_elevation_deg");
    a.satellite_azimuth_deg =
        find_number(info, {"meanSatAz", "SATELLITE_AZIMUTH", "SAT_AZIMUTH"}, src, "satellite_azimuth_deg");
    if (!a.off_nadir_deg)
        a.off_nadir_deg = find_number(info, {"meanOffNadirViewAngle", "OFF_NADIR", "OFF_NADIR_ANGLE", "VIEW_ANGLE"},
                                      src, "off_nadir_deg");
    if (!a.sun_elevation_deg)
        a.sun_elevation_deg =
            find_number(info, {"meanSunEl", "SUN_ELEVATION", "SUNELEVATION"}, src, "sun_elevation_deg");
    if (!a.sun_azimuth_deg)
        a.sun_azimuth_deg = find_number(info, {"meanSunAz", "SUN_AZIMUTH", "SUNAZIMUTH"}, src, "sun_azimuth_deg");

    if (auto g = degrade_geometry(info)) {
        a.look = *g;
    } else if (a.satellite_elevation_deg && *a.satellite_elevation_deg > 0 && *a.satellite_elevation_deg <= 90) {
        a.look =
            LookGeometry{*a.satellite_elevation_deg, a.off_nadir_deg, std::nullopt, src["satellite_elevation_deg"]};
    } else if (a.off_nadir_deg && *a.off_nadir_deg >= 0) {
        // Off-nadir angle at the satellite -> target elevation on a spherical Earth, at an
        // assumed 600 km orbit (LEO imaging satellites fly 450-800 km: +-1 deg here).
        try {
            a.look = LookGeometry{sensor::view_from_off_nadir(600e3, *a.off_nadir_deg).elevation_deg, a.off_nadir_deg,
                                  600e3, src["off_nadir_deg"] + ", 600 km orbit assumed"};
        } catch (const Error&) {
            // beyond the horizon: not a usable look angle
        }
    } else if (auto el = rpc_view_elevation_deg(info, 0.5 * static_cast<double>(info.width),
                                                0.5 * static_cast<double>(info.height))) {
        a.look = LookGeometry{*el, std::nullopt, std::nullopt, "RPC-derived"};
    }
    return a;
}

std::optional<LookGeometry> find_look_geometry(const RasterInfo& info) {
    return find_acquisition(info).look;
}

std::optional<double> rpc_view_elevation_deg(const RasterInfo& info, double pixel, double line) {
    if (info.geo.rpc.empty()) return std::nullopt;
    CPLStringList md;
    for (const auto& [k, v] : info.geo.rpc)
        md.SetNameValue(k.c_str(), v.c_str());
    GDALRPCInfoV2 rpc{};
    if (!GDALExtractRPCInfoV2(md.List(), &rpc)) return std::nullopt;
    CPLErrorReset();
    void* tr = GDALCreateRPCTransformerV2(&rpc, FALSE, 0.0, nullptr);
    if (!tr) return std::nullopt;
    // Pixel -> (lon, lat) at two heights above the ellipsoid (GDAL RPC transformer: Z is the
    // height, the RPC_HEIGHT offset is 0 here).
    constexpr double dh = 1000.0;
    double x[2] = {pixel, pixel}, y[2] = {line, line}, z[2] = {rpc.dfHEIGHT_OFF, rpc.dfHEIGHT_OFF + dh};
    int ok[2] = {0, 0};
    GDALRPCTransform(tr, FALSE, 2, x, y, z, ok);
    GDALDestroyRPCTransformer(tr);
    if (!ok[0] || !ok[1] || !std::isfinite(x[0] + x[1] + y[0] + y[1])) return std::nullopt;
    // Horizontal shift on the WGS84 ellipsoid (Karney geodesics, PROJ's geodesic.h).
    geod_geodesic g;
    geod_init(&g, 6378137.0, 1.0 / 298.257223563);
    double d = 0, azi1 = 0, azi2 = 0;
    geod_inverse(&g, y[0], x[0], y[1], x[1], &d, &azi1, &azi2);
    if (!std::isfinite(d)) return std::nullopt;
    return 90.0 - std::atan2(d, dh) * 180.0 / std::numbers::pi;
}

InfoRecord describe_raster(const std::filesystem::path& path, const GsdOptions& gsd_options, bool require_gsd) {
    InfoRecord rec;
    Raster r = Raster::open(path);
    rec.raster = r.info();
    rec.acquisition = find_acquisition(rec.raster);
    try {
        rec.gsd = compute_gsd(rec.raster, gsd_options);
    } catch (const Error& e) {
        if (require_gsd) throw;
        rec.gsd_error = e.what();
    }
    return rec;
}

nlohmann::json to_json(const Gsd& g) {
    return {{"x_m", g.x_m},
            {"y_m", g.y_m},
            {"mean_m", g.mean_m},
            {"method", g.method},
            {"x_range_m", {g.x_min_m, g.x_max_m}},
            {"y_range_m", {g.y_min_m, g.y_max_m}},
            {"center_lat_deg", opt(g.center_lat_deg)},
            {"center_lon_deg", opt(g.center_lon_deg)},
            {"notes", g.notes}};
}

namespace {

// A nodata value as JSON: the number, or for NaN and the infinities the strings "nan", "inf",
// "-inf" as gdalinfo -json writes them (JSON has no such numbers; null would read as "no nodata").
nlohmann::json nodata_json(const std::optional<double>& v) {
    if (!v) return nullptr;
    if (std::isnan(*v)) return "nan";
    if (std::isinf(*v)) return *v > 0 ? "inf" : "-inf";
    return *v;
}

}  // namespace

nlohmann::json to_json(const InfoRecord& rec) {
    const RasterInfo& r = rec.raster;
    nlohmann::json bands = nlohmann::json::array();
    for (std::size_t i = 0; i < r.bands.size(); ++i) {
        const auto& b = r.bands[i];
        bands.push_back({{"band", i + 1},
                         {"data_type", to_string(b.type)},
                         {"nodata", nodata_json(b.nodata)},
                         {"mask_band", b.has_mask},
                         {"color_interpretation", b.color_interpretation},
                         {"description", b.description},
                         {"block_size_px", {b.block_x, b.block_y}}});
    }
    nlohmann::json geo = {
        {"crs", crs_summary(r.geo.crs_wkt)},
        {"crs_code", crs_epsg(r.geo.crs_wkt)},
        {"geotransform", r.geo.geotransform ? nlohmann::json(*r.geo.geotransform) : nlohmann::json(nullptr)},
        {"gcp_count", r.geo.gcps.size()},
        {"has_rpc", !r.geo.rpc.empty()}};
    const Acquisition& a = rec.acquisition;
    nlohmann::json acq = {{"satellite_id", opt(a.satellite_id)},
                          {"time", opt(a.time)},
                          {"satellite_elevation_deg", opt(a.satellite_elevation_deg)},
                          {"satellite_azimuth_deg", opt(a.satellite_azimuth_deg)},
                          {"off_nadir_deg", opt(a.off_nadir_deg)},
                          {"sun_elevation_deg", opt(a.sun_elevation_deg)},
                          {"sun_azimuth_deg", opt(a.sun_azimuth_deg)},
                          {"sources", a.sources},
                          {"look_geometry", a.look ? nlohmann::json{{"elevation_deg", a.look->elevation_deg},
                                                                    {"elevation_source", a.look->source},
                                                                    {"off_nadir_deg", opt(a.look->off_nadir_deg)},
                                                                    {"altitude_m", opt(a.look->altitude_m)}}
                                                   : nlohmann::json(nullptr)}};
    nlohmann::json md = nlohmann::json::object();
    for (const auto& [dom, items] : r.metadata)
        md[dom.empty() ? "default" : dom] = items;
    nlohmann::json j = {{"file", r.path.string()},
                        {"status", "ok"},
                        {"driver", r.driver},
                        {"driver_long_name", r.driver_long},
                        {"width_px", r.width},
                        {"height_px", r.height},
                        {"band_count", r.bands.size()},
                        {"bands", bands},
                        {"georeferencing", geo},
                        {"acquisition", acq},
                        {"metadata", md}};
    if (rec.gsd)
        j["gsd"] = to_json(*rec.gsd);
    else {
        j["gsd"] = nullptr;
        j["gsd_error"] = rec.gsd_error;
    }
    return j;
}

std::string to_text(const InfoRecord& rec) {
    const RasterInfo& r = rec.raster;
    std::string s = fmt::format("{}\n  driver: {} ({})\n  size: {} x {} px, {} band{}\n", r.path.string(), r.driver,
                                r.driver_long, r.width, r.height, r.bands.size(), r.bands.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < r.bands.size(); ++i) {
        const auto& b = r.bands[i];
        s += fmt::format("  band {}: {}, {}, block {}x{}{}\n", i + 1, to_string(b.type), b.color_interpretation,
                         b.block_x, b.block_y, b.nodata ? fmt::format(", nodata {}", *b.nodata) : std::string());
    }
    const std::string crs = crs_summary(r.geo.crs_wkt);
    s += fmt::format("  crs: {}\n", crs.empty() ? "none" : crs);
    if (!r.geo.gcps.empty()) s += fmt::format("  gcps: {}\n", r.geo.gcps.size());
    if (!r.geo.rpc.empty()) s += "  rpc: yes\n";
    if (rec.gsd) {
        const Gsd& g = *rec.gsd;
        s += fmt::format("  gsd: {:.4f} x {:.4f} m (mean {:.4f} m, {})\n", g.x_m, g.y_m, g.mean_m, g.method);
        if (g.x_max_m - g.x_min_m > 1e-6 * g.x_m || g.y_max_m - g.y_min_m > 1e-6 * g.y_m)
            s += fmt::format("  gsd range over the image: x {:.4f}..{:.4f} m, y {:.4f}..{:.4f} m\n", g.x_min_m,
                             g.x_max_m, g.y_min_m, g.y_max_m);
        if (g.center_lat_deg && g.center_lon_deg)
            s += fmt::format("  centre: lat {:.6f}, lon {:.6f}\n", *g.center_lat_deg, *g.center_lon_deg);
        for (const auto& n : g.notes)
            s += fmt::format("  note: {}\n", n);
    } else {
        s += fmt::format("  gsd: unknown ({})\n", rec.gsd_error);
    }
    const Acquisition& a = rec.acquisition;
    if (a.satellite_id) s += fmt::format("  satellite: {}\n", *a.satellite_id);
    if (a.time) s += fmt::format("  acquired: {}\n", *a.time);
    if (a.satellite_elevation_deg) s += fmt::format("  satellite elevation: {:.2f} deg\n", *a.satellite_elevation_deg);
    if (a.off_nadir_deg) s += fmt::format("  off-nadir: {:.2f} deg\n", *a.off_nadir_deg);
    if (a.sun_elevation_deg) s += fmt::format("  sun elevation: {:.2f} deg\n", *a.sun_elevation_deg);
    if (a.look)
        s += fmt::format("  look: elevation {:.2f} deg ({})\n", a.look->elevation_deg, a.look->source);
    else
        s += "  look: no angle in the metadata or RPCs (assess assumes nadir)\n";
    return s;
}

}  // namespace satiq
