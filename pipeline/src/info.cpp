#include "satiq/pipeline/info.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include <ogr_spatialref.h>

namespace satiq {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// First metadata value whose key (case-insensitive) equals one of `names` or ends with
// "." + name, searched over the IMD, IMAGERY and default domains in that order.
std::optional<std::string> find_key(const RasterInfo& info, std::initializer_list<const char*> names) {
    for (const char* dom : {"IMD", "IMAGERY", ""}) {
        auto it = info.metadata.find(dom);
        if (it == info.metadata.end()) continue;
        for (const char* name : names) {
            const std::string n = lower(name);
            for (const auto& [k, v] : it->second) {
                const std::string lk = lower(k);
                if (lk == n || (lk.size() > n.size() && lk.compare(lk.size() - n.size() - 1, std::string::npos, "." + n) == 0))
                    return v;
            }
        }
    }
    return std::nullopt;
}

std::optional<double> find_number(const RasterInfo& info, std::initializer_list<const char*> names) {
    auto s = find_key(info, names);
    if (!s) return std::nullopt;
    std::string t = *s;
    t.erase(std::remove(t.begin(), t.end(), '"'), t.end());
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || !std::isfinite(v)) return std::nullopt;
    return v;
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
    a.satellite_id = find_key(info, {"satId", "SATELLITEID", "SATELLITE_ID", "MISSION"});
    a.time = find_key(info, {"firstLineTime", "ACQUISITIONDATETIME", "ACQUISITION_TIME", "TIFFTAG_DATETIME"});
    a.satellite_elevation_deg = find_number(info, {"meanSatEl", "SATELLITE_ELEVATION", "SAT_ELEVATION"});
    a.satellite_azimuth_deg = find_number(info, {"meanSatAz", "SATELLITE_AZIMUTH", "SAT_AZIMUTH"});
    a.off_nadir_deg = find_number(info, {"meanOffNadirViewAngle", "OFF_NADIR", "OFF_NADIR_ANGLE", "VIEW_ANGLE"});
    a.sun_elevation_deg = find_number(info, {"meanSunEl", "SUN_ELEVATION", "SUNELEVATION"});
    a.sun_azimuth_deg = find_number(info, {"meanSunAz", "SUN_AZIMUTH", "SUNAZIMUTH"});
    return a;
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

nlohmann::json to_json(const InfoRecord& rec) {
    const RasterInfo& r = rec.raster;
    nlohmann::json bands = nlohmann::json::array();
    for (std::size_t i = 0; i < r.bands.size(); ++i) {
        const auto& b = r.bands[i];
        bands.push_back({{"band", i + 1},
                         {"data_type", to_string(b.type)},
                         {"nodata", opt(b.nodata)},
                         {"color_interpretation", b.color_interpretation},
                         {"description", b.description},
                         {"block_size_px", {b.block_x, b.block_y}}});
    }
    nlohmann::json geo = {{"crs", crs_summary(r.geo.crs_wkt)},
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
                          {"sun_azimuth_deg", opt(a.sun_azimuth_deg)}};
    nlohmann::json md = nlohmann::json::object();
    for (const auto& [dom, items] : r.metadata) md[dom.empty() ? "default" : dom] = items;
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
        for (const auto& n : g.notes) s += fmt::format("  note: {}\n", n);
    } else {
        s += fmt::format("  gsd: unknown ({})\n", rec.gsd_error);
    }
    const Acquisition& a = rec.acquisition;
    if (a.satellite_id) s += fmt::format("  satellite: {}\n", *a.satellite_id);
    if (a.time) s += fmt::format("  acquired: {}\n", *a.time);
    if (a.satellite_elevation_deg) s += fmt::format("  satellite elevation: {:.2f} deg\n", *a.satellite_elevation_deg);
    if (a.off_nadir_deg) s += fmt::format("  off-nadir: {:.2f} deg\n", *a.off_nadir_deg);
    if (a.sun_elevation_deg) s += fmt::format("  sun elevation: {:.2f} deg\n", *a.sun_elevation_deg);
    return s;
}

}  // namespace satiq
