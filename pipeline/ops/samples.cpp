// Synthetic samples: render (kernels), quantize, georeference, write GeoTIFF + truth JSON.
#include "satiq/pipeline/ops/samples.hpp"

#include "satiq/pipeline/io/interrupt.hpp"

#include <cmath>
#include <fstream>
#include <numbers>
#include <system_error>

#include <fmt/format.h>
#include <ogr_spatialref.h>
#include <unistd.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/version.hpp"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace satiq {
namespace {

constexpr const char* kPixelConvention =
    "pixel (col, row) covers [col, col+1) x [row, row+1) in continuous pixel coordinates; its centre is "
    "(col + 0.5, row + 0.5); map = (E0 + x * gsd_m, N0 - y * gsd_m)";
constexpr double kAirfieldMaxDn11Bit = 2047.0;

void validate_output(const char* op, const SampleOutput& out) {
    if (out.image_path.empty()) throw Error(fmt::format("{}: the output path is empty", op));
    if (out.bits != 8 && out.bits != 16)
        throw UsageError(fmt::format("{}: --bits must be 8 or 16 (got {})", op, out.bits));
    if (!std::isfinite(out.gsd_m) || out.gsd_m <= 0.0 || out.gsd_m > 1000.0)
        throw UsageError(fmt::format("{}: --gsd-m must be in (0, 1000] metres (got {})", op, out.gsd_m));
    const bool utm = (out.epsg >= 32601 && out.epsg <= 32660) || (out.epsg >= 32701 && out.epsg <= 32760);
    if (!utm)
        throw UsageError(
            fmt::format("{}: --epsg must be a WGS 84 / UTM zone, 32601..32660 or 32701..32760 (got {})", op, out.epsg));
    if (!std::isfinite(out.origin_easting_m) || !std::isfinite(out.origin_northing_m))
        throw UsageError(fmt::format("{}: --origin-m must be finite", op));
    if (out.image_path.has_parent_path() && !out.image_path.parent_path().empty() &&
        !fs::is_directory(out.image_path.parent_path()))
        throw Error(fmt::format("{}: the folder {} does not exist", op, out.image_path.parent_path().string()));
    if (truth_path_for(out.image_path) == out.image_path)
        throw UsageError(fmt::format("{}: the output must not end in .json (the truth file takes that name)", op));
}

void validate_size(const char* op, std::int64_t w, std::int64_t h) {
    if (w < 1 || h < 1 || w > 65536 || h > 65536)
        throw UsageError(fmt::format("{}: --size must be in [1, 65536] pixels each way (got {}x{})", op, w, h));
}

GeoReference utm_geo(const SampleOutput& out) {
    init_gdal();
    OGRSpatialReference srs;
    if (srs.importFromEPSG(out.epsg) != OGRERR_NONE)
        throw Error(fmt::format("synth: cannot build EPSG:{} (is the PROJ database installed?)", out.epsg));
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    GeoReference geo;
    geo.crs_wkt = wkt ? wkt : "";
    CPLFree(wkt);
    geo.geotransform =
        std::array<double, 6>{out.origin_easting_m, out.gsd_m, 0.0, out.origin_northing_m, 0.0, -out.gsd_m};
    return geo;
}

json geo_json(const SampleOutput& out, std::int64_t w, std::int64_t h) {
    return json{{"crs", fmt::format("EPSG:{}", out.epsg)},
                {"epsg", out.epsg},
                {"geotransform", {out.origin_easting_m, out.gsd_m, 0.0, out.origin_northing_m, 0.0, -out.gsd_m}},
                {"gsd_m", out.gsd_m},
                {"width_m", static_cast<double>(w) * out.gsd_m},
                {"height_m", static_cast<double>(h) * out.gsd_m},
                {"pixel_convention", kPixelConvention},
                {"location_note", "arbitrary map position; the scene depicts no real site"}};
}

json map_point(const SampleOutput& out, double x_px, double y_px) {
    return json{{"easting_m", out.origin_easting_m + x_px * out.gsd_m},
                {"northing_m", out.origin_northing_m - y_px * out.gsd_m}};
}

json raster_json(const SampleOutput& out, std::int64_t w, std::int64_t h) {
    return json{{"file", out.image_path.filename().string()},
                {"width_px", w},
                {"height_px", h},
                {"bands", 1},
                {"data_type", out.bits == 8 ? "Byte" : "UInt16"},
                {"bits", out.bits},
                {"max_dn", max_dn_for_bits(out.bits)},
                {"compression", "DEFLATE, horizontal predictor, 256x256 tiles"},
                {"quantization", "round to nearest (halves away from zero), clamp to [0, max_dn]"}};
}

json header(const char* target) {
    return json{{"satiq_version", SATIQ_VERSION_STRING},
                {"generator", fmt::format("satiq synth {}", target)},
                {"target", target},
                {"truth_file_version", 1}};
}

json edge_truth_json(const EdgeTruth& t, const char* suffix) {
    return json{{fmt::format("rer_{}", suffix), t.rer},
                {fmt::format("esf_minus_0p5_{}", suffix), t.esf_minus_0p5},
                {fmt::format("esf_plus_0p5_{}", suffix), t.esf_plus_0p5},
                {fmt::format("mtf50_cyc_per_px_{}", suffix), t.mtf50_cyc_per_px},
                {fmt::format("mtf_nyquist_{}", suffix), t.mtf_nyquist},
                {fmt::format("overshoot_h_{}", suffix), t.overshoot_h},
                {fmt::format("fwhm_px_{}", suffix), t.fwhm_px}};
}

void write_image(const SampleOutput& out, const Image& img, const char* target) {
    WriteOptions wo;
    wo.type = out.bits == 8 ? DataType::Byte : DataType::UInt16;
    wo.compression = "DEFLATE";
    wo.tile_size = 256;
    wo.metadata = {{"SATIQ_SYNTH_TARGET", target},
                   {"SATIQ_TRUTH_FILE", truth_path_for(out.image_path).filename().string()}};
    write_raster(out.image_path, {img.view()}, utm_geo(out), wo);
}

SampleResult finish(const SampleOutput& out, json truth) {
    SampleResult r;
    r.image_path = out.image_path;
    r.truth_path = truth_path_for(out.image_path);
    write_json_atomically(r.truth_path, truth);
    r.truth = std::move(truth);
    return r;
}

}  // namespace

double max_dn_for_bits(int bits) {
    if (bits == 8) return 255.0;
    if (bits == 16) return 65535.0;
    throw Error(fmt::format("synth: bits must be 8 or 16 (got {})", bits));
}

fs::path truth_path_for(const fs::path& image_path) {
    fs::path p = image_path;
    p.replace_extension(".json");
    return p;
}

void write_json_atomically(const fs::path& path, const json& doc) {
    write_file_atomically(path, doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                                    "\n");  // interrupt.hpp: the one atomic writer
}

SampleResult write_edge_sample(const EdgeSample& sample, const SampleOutput& out) {
    const char* op = "synth edge";
    validate_output(op, out);
    validate_size(op, sample.width_px, sample.height_px);
    EdgeTargetParams p = sample.edge;
    p.edge_x_px = sample.edge_x_px.value_or(0.5 * static_cast<double>(sample.width_px));
    p.edge_y_px = sample.edge_y_px.value_or(0.5 * static_cast<double>(sample.height_px));
    const double max_dn = max_dn_for_bits(out.bits);
    for (const double v : {p.dark_dn, p.bright_dn})
        if (!(v >= 0.0 && v <= max_dn))
            throw UsageError(fmt::format("{}: --dark-dn and --bright-dn must be in [0, {}] for {}-bit output", op,
                                         max_dn, out.bits));
    if (!(p.bright_dn > p.dark_dn)) throw UsageError(fmt::format("{}: --bright-dn must exceed --dark-dn", op));

    // The kernels check the target parameters; here every such value came from an option.
    Image img = as_usage_error([&] { return render_edge(p, sample.width_px, sample.height_px); });
    quantize_dn(img.view(), 0.0, max_dn);
    write_image(out, img, "edge");

    const double a = p.angle_deg * std::numbers::pi / 180.0;
    json edge{{"angle_deg", p.angle_deg},
              {"angle_definition",
               "angle of the edge normal (pointing to the bright side) from the +x (column) axis towards +y (down the "
               "rows); equivalently the tilt of the edge line from the image's vertical axis. 0 = vertical edge, dark "
               "left; 90 = horizontal edge, dark above"},
              {"normal", {std::cos(a), std::sin(a)}},
              {"point_px", {p.edge_x_px, p.edge_y_px}},
              {"point_map", map_point(out, p.edge_x_px, p.edge_y_px)},
              {"signed_distance_definition",
               "d = (x - point_px[0]) * normal[0] + (y - point_px[1]) * normal[1], continuous pixel coordinates, "
               "positive on the bright side; a pixel's value uses its whole square"},
              {"dark_dn", p.dark_dn},
              {"bright_dn", p.bright_dn},
              {"contrast_dn", p.bright_dn - p.dark_dn},
              {"sigma_px", p.sigma_px},
              {"sigma_m", p.sigma_px * out.gsd_m},
              {"noise_sigma_dn", p.noise_sigma_dn},
              {"seed", p.seed},
              {"rendering",
               "pixel = dark + contrast * (mean over the pixel's unit square of Phi(d / sigma_px)), exact closed form "
               "(error < 1e-7 of the contrast), then additive Gaussian noise (counter-based, keyed on seed, x, y), "
               "then quantization"},
              {"model_1d",
               "the issue's model: ESF(d) = integral_{d-0.5}^{d+0.5} Phi(u / sigma) du (Gaussian CDF convolved with a "
               "unit box), MTF(f) = exp(-2 pi^2 sigma^2 f^2) |sinc f|; the *_analytic values below"}};
    const json analytic = edge_truth_json(box_gaussian_edge_truth(p.sigma_px), "analytic");
    for (auto it = analytic.begin(); it != analytic.end(); ++it)
        edge[it.key()] = it.value();
    json sq = edge_truth_json(square_pixel_edge_truth(p.sigma_px, p.angle_deg), "square_pixel");
    sq["definition"] =
        "what the pixels hold along the normal: the square pixel projects to a box of |cos a| convolved with a box "
        "of |sin a|, so MTF(f) = exp(-2 pi^2 sigma^2 f^2) |sinc(f cos a) sinc(f sin a)|; equal to the 1-D model at "
        "a = 0, apart from it most for sharp edges (sigma 0 at 3 degrees: RER 0.988 vs 1); a slanted-edge "
        "measurement should match these values";
    edge["square_pixel"] = sq;
    edge["overshoot_note"] =
        "the ESF rises monotonically, so H = ESF(+1.25 px) (Leachtenauer et al., Appl. Opt. 36(32), 1997)";

    json truth = header("edge");
    truth["raster"] = raster_json(out, sample.width_px, sample.height_px);
    truth["georeference"] = geo_json(out, sample.width_px, sample.height_px);
    truth["edge"] = edge;
    return finish(out, std::move(truth));
}

SampleResult write_tribar_sample(const TribarSample& sample, const SampleOutput& out) {
    const char* op = "synth tribar";
    validate_output(op, out);
    validate_size(op, sample.width_px, sample.height_px);
    const TribarParams& p = sample.tribar;
    const double max_dn = max_dn_for_bits(out.bits);
    for (const double v : {p.background_dn, p.bar_dn})
        if (!(v >= 0.0 && v <= max_dn))
            throw UsageError(fmt::format("{}: --background-dn and --bar-dn must be in [0, {}] for {}-bit output", op,
                                         max_dn, out.bits));
    const auto layout = as_usage_error([&] { return tribar_layout(p, sample.width_px, sample.height_px); });
    Image img(sample.width_px, sample.height_px);
    as_usage_error([&] { render_tribar(p, layout, img.view()); });
    quantize_dn(img.view(), 0.0, max_dn);
    write_image(out, img, "tribar");

    json elements = json::array();
    for (const auto& e : layout) {
        json bars = json::array();
        for (const auto& r : e.bars)
            bars.push_back({r.x0, r.y0, r.x1, r.y1});
        const double w = e.bar_width_px;
        elements.push_back({{"index", e.index},
                            {"orientation", e.bars_vertical ? "vertical_bars" : "horizontal_bars"},
                            {"modulation_axis", e.bars_vertical ? "x" : "y"},
                            {"bar_width_px", w},
                            {"bar_width_m", w * out.gsd_m},
                            {"bar_length_px", e.bar_length_px},
                            {"bar_length_m", e.bar_length_px * out.gsd_m},
                            {"frequency_cyc_per_px", 1.0 / (2.0 * w)},
                            {"frequency_cyc_per_m", 1.0 / (2.0 * w * out.gsd_m)},
                            {"above_nyquist", w < 1.0},
                            {"bounds_px", {e.bounds.x0, e.bounds.y0, e.bounds.x1, e.bounds.y1}},
                            {"bars_px", bars}});
    }
    json truth = header("tribar");
    truth["raster"] = raster_json(out, sample.width_px, sample.height_px);
    truth["georeference"] = geo_json(out, sample.width_px, sample.height_px);
    truth["tribar"] = {
        {"background_dn", p.background_dn},
        {"bar_dn", p.bar_dn},
        {"sigma_px", p.sigma_px},
        {"noise_sigma_dn", p.noise_sigma_dn},
        {"seed", p.seed},
        {"largest_bar_px", p.largest_bar_px},
        {"element_count", p.element_count},
        {"step", p.step},
        {"design",
         "USAF-1951-like: each element is three bars of width w and length 5 w separated by gaps of w, drawn with "
         "vertical bars and, to their right, horizontal bars; w shrinks by `step` (2^(1/6)) per element"},
        {"rendering",
         "exact: bar indicator blurred by a Gaussian of sigma_px and averaged over the square pixel (separable), then "
         "noise and quantization; bars_px rectangles are [x0, y0, x1, y1] in continuous pixel coordinates"},
        {"edge_model", edge_truth_json(box_gaussian_edge_truth(p.sigma_px), "analytic")},
        {"elements", elements}};
    return finish(out, std::move(truth));
}

SampleResult write_airfield_sample(const AirfieldSample& sample, const SampleOutput& out) {
    const char* op = "synth airfield";
    validate_output(op, out);
    AirfieldParams p = sample.scene;
    validate_size(op, p.width_px, p.height_px);
    p.gsd_m = out.gsd_m;
    const Scene scene = as_usage_error([&] { return build_airfield_scene(p); });
    AirfieldParams quiet = p;
    quiet.noise_sigma_dn = 0.0;
    Image img(p.width_px, p.height_px);
    render_scene(scene, quiet, img.view());
    const double max_dn = max_dn_for_bits(out.bits);
    const double scale = out.bits == 8 ? 255.0 / kAirfieldMaxDn11Bit : 1.0;
    if (scale != 1.0)
        for (float& v : img.pixels())
            v = static_cast<float>(v * scale);
    add_gaussian_noise(img.view(), p.noise_sigma_dn, p.seed);
    quantize_dn(img.view(), 0.0, out.bits == 8 ? max_dn : kAirfieldMaxDn11Bit);
    write_image(out, img, "airfield");

    json objects = json::array();
    for (const auto& o : scene.objects) {
        const double cx = o.centre_m.x / p.gsd_m, cy = o.centre_m.y / p.gsd_m;
        json j{{"id", o.id},
               {"category", o.category},
               {"model", o.model},
               {"centre_px", {cx, cy}},
               {"centre_map", map_point(out, cx, cy)},
               {"length_m", o.length_m},
               {"width_m", o.width_m},
               {"height_m", o.height_m},
               {"length_px", o.length_m / p.gsd_m},
               {"width_px", o.width_m / p.gsd_m},
               {"critical_dimension_m", std::sqrt(o.length_m * o.width_m)},
               {"heading_deg", o.heading_deg}};
        if (o.detail_count > 0) {
            j["detail_count"] = o.detail_count;
            j["detail_name"] = o.detail_name;
        }
        if (o.detail_size_m > 0) j["detail_size_m"] = o.detail_size_m;
        if (!o.note.empty()) j["note"] = o.note;
        objects.push_back(j);
    }
    json truth = header("airfield");
    truth["raster"] = raster_json(out, p.width_px, p.height_px);
    if (out.bits == 16) truth["raster"]["note"] = "11-bit data (0..2047) in UInt16";
    truth["georeference"] = geo_json(out, p.width_px, p.height_px);
    truth["scene"] = {
        {"sigma_px", p.sigma_px},
        {"sigma_m", p.sigma_px * p.gsd_m},
        {"supersample", p.supersample},
        {"sun_azimuth_deg", p.sun_azimuth_deg},
        {"sun_elevation_deg", p.sun_elevation_deg},
        {"shadow_factor", p.shadow_factor},
        {"shadow_length_per_height_m", 1.0 / std::tan(p.sun_elevation_deg * std::numbers::pi / 180.0)},
        {"noise_sigma_dn", p.noise_sigma_dn},
        {"seed", p.seed},
        {"dn_scale", scale},
        {"rendering",
         "radiance point-sampled supersample^2 times per pixel (painter's order: textured ground, paved surfaces and "
         "markings, sun shadows, objects), reduced by one exact separable kernel (Gaussian sigma_px convolved with the "
         "pixel box), scaled by dn_scale, additive Gaussian noise, quantization"},
        {"frames",
         "centre_px in continuous pixel coordinates; heading_deg is the compass bearing of the nose or long axis, "
         "clockwise from grid north (up the image); length along the heading, width across it (span for aircraft)"},
        {"edge_model", edge_truth_json(box_gaussian_edge_truth(p.sigma_px), "analytic")},
        {"heading_note",
         "the runway, taxiway and apron run at 092 degrees: their long edges are slanted 2 degrees off "
         "the image rows"}};
    truth["objects"] = objects;
    return finish(out, std::move(truth));
}

}  // namespace satiq
