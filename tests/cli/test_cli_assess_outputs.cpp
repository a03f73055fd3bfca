// What users open in other tools (issue 13, item 5): assess --edges-geojson (RFC 7946 GeoJSON of
// every analysed edge), --band all (every band on its own) and the per-axis MTF curve in the JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <numbers>
#include <sstream>

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <nlohmann/json.hpp>

#include "satiq/kernels/synth.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/report/edges_geojson.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Rotated squares (every square: two edges along x, two along y) blurred by sigma_px, with
// 5 DN of noise, as UInt16 bands; band b uses sigmas[b].
fs::path write_squares(const fs::path& path, const GeoReference& geo, const std::vector<double>& sigmas) {
    std::vector<Image> bands;
    for (std::size_t b = 0; b < sigmas.size(); ++b) {
        bands.push_back(test::render_rotated_squares(480, 480, 120, 70, {5, 8, 6, 9}, sigmas[b], 200, 1200));
        add_gaussian_noise(bands.back().view(), 5.0, 2 + b);
    }
    std::vector<ConstImageView<float>> views;
    for (const auto& b : bands)
        views.push_back(b.view());
    WriteOptions o;
    o.type = DataType::UInt16;
    write_raster(path, views, geo, o);
    return path;
}

GeoReference utm31(double gsd_m = 0.5) {
    return test::north_up(32631, 600000, 5700000, gsd_m);
}

std::vector<std::string> folder_names(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// Longitude/latitude of a map point (traditional GIS order on both sides), independently of
// the code under test.
std::array<double, 2> to_lonlat(const std::string& crs_wkt, double x, double y) {
    OGRSpatialReference src, dst;
    src.importFromWkt(crs_wkt.c_str());
    src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    dst.importFromEPSG(4326);
    dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &dst));
    EXPECT_TRUE(ct && ct->Transform(1, &x, &y));
    return {x, y};
}

std::array<double, 2> pixel_to_lonlat(const GeoReference& g, double px, double py) {
    const auto& gt = *g.geotransform;
    return to_lonlat(g.crs_wkt, gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5]);
}

// The raster's footprint in longitude/latitude: the bounding box of its corners (north-up, so
// the corners bound it to well within a metre).
struct Box {
    double lon0 = 1e9, lat0 = 1e9, lon1 = -1e9, lat1 = -1e9;
    bool contains(double lon, double lat) const { return lon >= lon0 && lon <= lon1 && lat >= lat0 && lat <= lat1; }
};
Box footprint(const GeoReference& g, double w, double h) {
    Box b;
    for (auto [px, py] : {std::pair{0.0, 0.0}, {w, 0.0}, {0.0, h}, {w, h}}) {
        const auto ll = pixel_to_lonlat(g, px, py);
        b.lon0 = std::min(b.lon0, ll[0]);
        b.lon1 = std::max(b.lon1, ll[0]);
        b.lat0 = std::min(b.lat0, ll[1]);
        b.lat1 = std::max(b.lat1, ll[1]);
    }
    return b;
}

// One feature of a GeoJSON file read back through GDAL/OGR.
struct ReadFeature {
    int edge = -1;
    std::string verdict;
    bool used = false;
    double rer = 0;
    std::vector<std::array<double, 2>> points;
};

std::vector<ReadFeature> read_geojson(const fs::path& p) {
    init_gdal();
    std::unique_ptr<GDALDataset> ds(
        GDALDataset::FromHandle(GDALOpenEx(p.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
    EXPECT_TRUE(ds) << p << " does not open as a vector file";
    std::vector<ReadFeature> out;
    if (!ds || ds->GetLayerCount() != 1) return out;
    OGRLayer* layer = ds->GetLayer(0);
    for (auto& f : *layer) {
        ReadFeature r;
        r.edge = f->GetFieldAsInteger("edge");
        r.verdict = f->GetFieldAsString("verdict");
        r.used = f->GetFieldAsInteger("used") != 0;
        r.rer = f->GetFieldAsDouble("rer");
        if (const OGRGeometry* g = f->GetGeometryRef(); g && wkbFlatten(g->getGeometryType()) == wkbLineString)
            for (const auto& pt : *g->toLineString())
                r.points.push_back({pt.getX(), pt.getY()});
        out.push_back(std::move(r));
    }
    EXPECT_EQ(layer->GetFeatureCount(), static_cast<GIntBig>(out.size()));
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// --edges-geojson

TEST(EdgesGeojson, EveryAnalysedEdgeIsALonLatLineInsideTheFootprintWithItsVerdict) {
    const test::TempDir dir("geojson");
    const GeoReference g = utm31();
    const fs::path f = write_squares(dir / "squares.tif", g, {0.6});
    const fs::path out = dir / "edges.geojson";
    const auto r =
        test::run_satiq("assess --format json --edges-geojson " + test::shell_quote(out) + " " + test::shell_quote(f));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc_res = json::parse(r.out);
    const json& res = doc_res["results"][0];
    const json& records = res["edges"]["records"];
    ASSERT_GE(res["edges"]["used"].get<int>(), 10);

    const std::vector<ReadFeature> features = read_geojson(out);
    ASSERT_EQ(features.size(), records.size());
    const Box box = footprint(g, 480, 480);
    // UTM 31N easting 600 km, northing 5700 km: about 4.4 E, 51.4 N. Longitude comes first.
    EXPECT_GT(box.lon0, 4.0);
    EXPECT_LT(box.lon1, 5.0);
    EXPECT_GT(box.lat0, 51.0);
    EXPECT_LT(box.lat1, 52.0);
    int used = 0;
    for (std::size_t i = 0; i < features.size(); ++i) {
        const ReadFeature& ft = features[i];
        const json& rec = records[i];
        EXPECT_EQ(ft.edge, static_cast<int>(i));
        EXPECT_EQ(ft.verdict, rec["verdict"].get<std::string>());
        used += ft.used;
        if (ft.used) {
            EXPECT_NEAR(ft.rer, rec["rer"].get<double>(), 1e-12);
        }
        ASSERT_EQ(ft.points.size(), 2u) << i;
        for (const auto& p : ft.points)
            EXPECT_TRUE(box.contains(p[0], p[1])) << i << ": " << p[0] << ", " << p[1];
        // The ends are the record's pixel ends through the geotransform and PROJ.
        const auto a = pixel_to_lonlat(g, rec["x0_px"].get<double>(), rec["y0_px"].get<double>());
        const auto b = pixel_to_lonlat(g, rec["x1_px"].get<double>(), rec["y1_px"].get<double>());
        EXPECT_NEAR(ft.points[0][0], a[0], 1e-9);
        EXPECT_NEAR(ft.points[0][1], a[1], 1e-9);
        EXPECT_NEAR(ft.points[1][0], b[0], 1e-9);
        EXPECT_NEAR(ft.points[1][1], b[1], 1e-9);
    }
    EXPECT_EQ(used, res["edges"]["used"].get<int>());

    // RFC 7946: a FeatureCollection with no "crs" member; the figures and verdicts as properties.
    const json doc = json::parse(satiq::test::read_file(out));
    EXPECT_EQ(doc["type"], "FeatureCollection");
    EXPECT_FALSE(doc.contains("crs"));
    const json& p0 = doc["features"][0]["properties"];
    for (const char* k : {"file", "edge", "verdict", "used", "reason", "axis", "rer", "mtf50_cyc_per_px", "fwhm_px",
                          "contrast_to_noise", "x0_px", "y1_px"})
        EXPECT_TRUE(p0.contains(k)) << k;
    // Nothing but the input and the GeoJSON in the folder (no temporary file left).
    EXPECT_EQ(folder_names(dir), (std::vector<std::string>{"edges.geojson", "squares.tif"}));
}

TEST(EdgesGeojson, AnInputWithoutLonLatIsAUsageErrorBeforeAnyWorkAndLeavesTheOldFile) {
    const test::TempDir dir("geojson_nogeo");
    const fs::path good = write_squares(dir / "good.tif", utm31(), {0.6});
    const fs::path bare = write_squares(dir / "bare.tif", GeoReference{}, {0.6});
    GeoReference no_crs = utm31();
    no_crs.crs_wkt.clear();
    const fs::path gt_only = write_squares(dir / "gt_only.tif", no_crs, {0.6});
    const fs::path out = dir / "edges.geojson";
    std::ofstream(out) << "previous run\n";
    for (const fs::path& f : {bare, gt_only}) {
        const auto r = test::run_satiq("assess --gsd-m 0.5 --format json --edges-geojson " + test::shell_quote(out) +
                                       " " + test::shell_quote(good) + " " + test::shell_quote(f));
        EXPECT_EQ(r.exit_code, 2) << f;
        // Refused before any file was assessed: the failure envelope alone, no results.
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["status"], "usage_error");
        EXPECT_TRUE(j["results"].empty()) << r.out;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_NE(r.err.find(f.string()), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("longitude/latitude"), std::string::npos) << r.err;
        EXPECT_EQ(satiq::test::read_file(out), "previous run\n");
    }
    EXPECT_EQ(folder_names(dir), (std::vector<std::string>{"bare.tif", "edges.geojson", "good.tif", "gt_only.tif"}));
    // Without --edges-geojson the bare image is assessed on the given GSD as before.
    EXPECT_EQ(test::run_satiq("assess --gsd-m 0.5 " + test::shell_quote(bare)).exit_code, 0);
    // An output folder that does not exist is refused before any work too.
    const auto r = test::run_satiq("assess --edges-geojson " + test::shell_quote(dir / "nope" / "e.geojson") + " " +
                                   test::shell_quote(good));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(EdgesGeojson, GcpsMapLikeTheGeotransformTheyWereTakenFrom) {
    const GeoReference g = utm31();
    GeoReference gcp;
    gcp.gcp_crs_wkt = g.crs_wkt;
    for (double px : {0.0, 480.0})
        for (double ln : {0.0, 480.0})
            gcp.gcps.push_back({px, ln, 600000 + 0.5 * px, 5700000 - 0.5 * ln, 0, ""});
    const PixelToLonLat from_gt("gt.tif", g, 480, 480), from_gcps("gcp.tif", gcp, 480, 480);
    for (auto [px, py] : {std::pair{0.0, 0.0}, {123.25, 456.5}, {480.0, 17.0}}) {
        const auto a = from_gt(px, py), b = from_gcps(px, py);
        ASSERT_TRUE(a && b);
        EXPECT_NEAR((*a)[0], (*b)[0], 1e-8);
        EXPECT_NEAR((*a)[1], (*b)[1], 1e-8);
        const auto want = pixel_to_lonlat(g, px, py);
        EXPECT_NEAR((*a)[0], want[0], 1e-10);
        EXPECT_NEAR((*a)[1], want[1], 1e-10);
    }
    GeoReference gcp_no_crs = gcp;
    gcp_no_crs.gcp_crs_wkt.clear();
    EXPECT_THROW(PixelToLonLat("gcp.tif", gcp_no_crs, 480, 480), Error);
    EXPECT_THROW(PixelToLonLat("bare.tif", GeoReference{}, 480, 480), Error);
}

TEST(EdgesGeojson, RpcsMapThroughGdalsRpcTransformer) {
    // A linear RPC model (RPC00B terms: 2 = longitude L, 3 = latitude P): sample = L and
    // line = -P in normalized units, so longitude = 10 + 0.01 (s - 500) / 500 and latitude =
    // 45 - 0.01 (l - 500) / 500 with (s, l) in the RPC's pixel-centre convention.
    GeoReference geo;
    auto coeffs = [](int term, double v) {
        std::string s;
        for (int i = 1; i <= 20; ++i) {
            if (i > 1) s += ' ';
            s += i == term ? std::to_string(v) : std::string("0");
        }
        return s;
    };
    geo.rpc = {{"LINE_OFF", "500"},
               {"SAMP_OFF", "500"},
               {"LAT_OFF", "45"},
               {"LONG_OFF", "10"},
               {"HEIGHT_OFF", "100"},
               {"LINE_SCALE", "500"},
               {"SAMP_SCALE", "500"},
               {"LAT_SCALE", "0.01"},
               {"LONG_SCALE", "0.01"},
               {"HEIGHT_SCALE", "500"},
               {"LINE_NUM_COEFF", coeffs(3, -1)},
               {"LINE_DEN_COEFF", coeffs(1, 1)},
               {"SAMP_NUM_COEFF", coeffs(2, 1)},
               {"SAMP_DEN_COEFF", coeffs(1, 1)}};
    const PixelToLonLat to_ll("rpc.tif", geo, 1000, 1000);
    // GDAL's pixel (x, y) (corner convention) is the RPC's sample x - 0.5, line y - 0.5.
    for (auto [px, py] : {std::pair{500.5, 500.5}, {100.5, 900.5}, {1000.0, 0.0}}) {
        const auto ll = to_ll(px, py);
        ASSERT_TRUE(ll);
        EXPECT_NEAR((*ll)[0], 10 + 0.01 * (px - 0.5 - 500) / 500, 1e-9) << px;
        EXPECT_NEAR((*ll)[1], 45 - 0.01 * (py - 0.5 - 500) / 500, 1e-9) << py;
    }
}

TEST(EdgesGeojson, AnEdgeAcrossTheAntimeridianIsCut) {
    // A WGS 84 image whose pixel column 240 lies on 180 deg; one edge across it.
    GeoReference geo = test::north_up(4326, 179.99, -16.0, 0.01 / 240);
    geo.crs_wkt = test::wkt_of_epsg(4326);
    AssessResult r;
    r.file = "fiji.tif";
    r.width = r.height = 480;
    r.georeference = geo;
    EdgeMeasurement across, beside;
    across.segment = {230, 100, 250, 140, 0};
    beside.segment = {10, 10, 30, 50, 0};
    across.verdict = beside.verdict = EdgeVerdict::ok;
    across.rer = 0.5;
    r.edges.edges = {across, beside};
    const auto doc = edges_geojson({r});
    ASSERT_EQ(doc["features"].size(), 2u);
    const auto& cut = doc["features"][0]["geometry"];
    ASSERT_EQ(cut["type"], "MultiLineString");
    const auto& c = cut["coordinates"];
    ASSERT_EQ(c.size(), 2u);
    EXPECT_NEAR(c[0][0][0].get<double>(), 179.99 + 230 * 0.01 / 240, 1e-9);
    EXPECT_DOUBLE_EQ(c[0][1][0].get<double>(), 180.0);
    EXPECT_DOUBLE_EQ(c[1][0][0].get<double>(), -180.0);
    // The cut lies where the line meets the meridian: half-way along, at row 120.
    EXPECT_NEAR(c[0][1][1].get<double>(), -16.0 - 120 * 0.01 / 240, 1e-9);
    EXPECT_DOUBLE_EQ(c[0][1][1].get<double>(), c[1][0][1].get<double>());
    EXPECT_NEAR(c[1][1][0].get<double>(), 179.99 + 250 * 0.01 / 240 - 360, 1e-9);
    EXPECT_EQ(doc["features"][1]["geometry"]["type"], "LineString");
    // Figures not measured are null, not 0.
    EXPECT_TRUE(doc["features"][1]["properties"]["rer"].is_null());
    EXPECT_EQ(doc["features"][0]["properties"]["rer"].get<double>(), 0.5);
}

// ---------------------------------------------------------------------------------------------
// --band all

TEST(AssessBands, EveryBandIsMeasuredOnItsOwnBesideTheMainResult) {
    const test::TempDir dir("bands");
    const fs::path f = write_squares(dir / "three.tif", utm31(), {0.5, 0.8, 1.2});
    const auto r = test::run_satiq("assess --format json --no-edge-records --band all " + test::shell_quote(f));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["parameters"]["band"], "all");
    const json& res = j["results"][0];
    EXPECT_EQ(res["band_used"], "band 1");  // not RGB: the main result is band 1
    for (const auto& w : res["warnings"])
        EXPECT_EQ(w.get<std::string>().find("multi-band image"), std::string::npos) << w;
    const json& bands = res["bands"];
    ASSERT_EQ(bands.size(), 3u);
    for (int b = 0; b < 3; ++b) {
        const json& x = bands[static_cast<std::size_t>(b)];
        EXPECT_EQ(x["band"], b + 1);
        EXPECT_GE(x["edges_used"].get<int>(), 10) << b;
        for (const char* k : {"edges_candidates", "snr", "niirs", "noise_sigma_dn"})
            EXPECT_TRUE(x[k].is_number()) << b << " " << k;
        for (const char* k : {"x", "y", "geometric_mean", "weighted"})
            EXPECT_TRUE(x["rer"][k].is_number()) << b << " " << k;
        for (const char* k : {"mtf50_cyc_per_px", "fwhm_px", "mtf_nyquist"})
            EXPECT_TRUE(x[k]["x"].is_number() && x[k]["y"].is_number()) << b << " " << k;
        EXPECT_EQ(x["niirs_basis"], "measured edges");
    }
    // More blur, lower RER and MTF50, wider LSF, lower NIIRS.
    for (std::size_t b = 0; b + 1 < 3; ++b) {
        EXPECT_GT(bands[b]["rer"]["geometric_mean"].get<double>(),
                  bands[b + 1]["rer"]["geometric_mean"].get<double>() + 0.05);
        EXPECT_GT(bands[b]["mtf50_cyc_per_px"]["x"].get<double>(), bands[b + 1]["mtf50_cyc_per_px"]["x"].get<double>());
        EXPECT_LT(bands[b]["fwhm_px"]["y"].get<double>(), bands[b + 1]["fwhm_px"]["y"].get<double>());
        EXPECT_GT(bands[b]["niirs"].get<double>(), bands[b + 1]["niirs"].get<double>());
    }
    // Band 1 is the main result; each band is what --band N gives on its own.
    EXPECT_EQ(bands[0]["rer"]["geometric_mean"], res["rer"]["geometric_mean"]);
    EXPECT_EQ(bands[0]["niirs"], res["niirs"]["giqe5"]["value"]);
    const auto r2 = test::run_satiq("assess --format json --no-edge-records --band 2 " + test::shell_quote(f));
    ASSERT_EQ(r2.exit_code, 0) << r2.err;
    const json doc_b2 = json::parse(r2.out);
    const json& b2 = doc_b2["results"][0];
    EXPECT_EQ(bands[1]["rer"]["x"], b2["rer"]["x"]);
    EXPECT_EQ(bands[1]["rer"]["y"], b2["rer"]["y"]);
    EXPECT_EQ(bands[1]["snr"], b2["snr"]);
    EXPECT_EQ(bands[1]["niirs"], b2["niirs"]["giqe5"]["value"]);
    EXPECT_EQ(bands[1]["edges_used"], b2["edges"]["used"]);
    EXPECT_TRUE(b2["bands"].is_null());

    // Text: one line per band.
    const auto t = test::run_satiq("assess --band all " + test::shell_quote(f));
    ASSERT_EQ(t.exit_code, 0) << t.err;
    for (const char* line : {"    band 1 (Gray): ", "    band 2: ", "    band 3: "})
        EXPECT_NE(t.out.find(line), std::string::npos) << t.out;
}

TEST(AssessBands, TheResultIsTheSameForAnyThreadCount) {
    const test::TempDir dir("bands_threads");
    const fs::path f = write_squares(dir / "two.tif", utm31(), {0.5, 0.9});
    auto run = [&](int threads) {
        const auto r = test::run_satiq(
            "--threads " + std::to_string(threads) + " assess --format json --band all --edges-geojson " +
            test::shell_quote(dir / ("e" + std::to_string(threads) + ".geojson")) + " " + test::shell_quote(f));
        EXPECT_EQ(r.exit_code, 0) << r.err;
        json res = json::parse(r.out)["results"][0];
        res.erase("runstats");
        return res;
    };
    EXPECT_EQ(run(1), run(2));
    EXPECT_EQ(satiq::test::read_file(dir / "e1.geojson"), satiq::test::read_file(dir / "e2.geojson"));
}

TEST(AssessBands, SingleBandImagesAndBadValues) {
    const test::TempDir dir("bands_single");
    const fs::path f = write_squares(dir / "one.tif", utm31(), {0.6});
    const auto r = test::run_satiq("assess --format json --no-edge-records --band all " + test::shell_quote(f));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc_res = json::parse(r.out);
    const json& res = doc_res["results"][0];
    ASSERT_EQ(res["bands"].size(), 1u);
    EXPECT_EQ(res["bands"][0]["rer"]["weighted"], res["rer"]["weighted"]);
    EXPECT_TRUE(res["bands"][0]["warnings"].empty());  // the main result's warnings are not repeated
    for (const char* bad : {"x", "-1", "1.5", "al"}) {
        const auto b = test::run_satiq(std::string("assess --band ") + bad + " " + test::shell_quote(f));
        EXPECT_EQ(b.exit_code, 2) << bad;
        EXPECT_NE(b.err.find("--band"), std::string::npos) << b.err;
    }
    AssessParams p;
    p.all_bands = true;
    p.band = 1;
    EXPECT_THROW(assess_file(f, p), Error);
}

// ---------------------------------------------------------------------------------------------
// The per-axis MTF curve

TEST(MtfCurve, AggregateTakesWeightedQuartilesFrequencyByFrequency) {
    auto edge = [](EdgeAxis axis, float level, EdgeVerdict v = EdgeVerdict::ok, bool profile = true) {
        EdgeMeasurement e;
        e.axis = axis;
        e.verdict = v;
        e.rer = 0.5;
        e.rer_standard_error = 0.01;
        if (profile)
            for (std::size_t k = 0; k < kEdgeMtfPoints; ++k)
                e.mtf.push_back(level * static_cast<float>(1.0 - static_cast<double>(k) / 128.0));
        return e;
    };
    const std::vector<EdgeMeasurement> edges = {edge(EdgeAxis::x, 0.2f), edge(EdgeAxis::x, 0.8f),
                                                edge(EdgeAxis::x, 0.5f), edge(EdgeAxis::x, 9.0f, EdgeVerdict::curved),
                                                edge(EdgeAxis::y, 0.4f, EdgeVerdict::ok, false)};
    const EdgeAggregate ag = aggregate_edges(edges);
    ASSERT_EQ(ag.x.mtf_curve.size(), kEdgeMtfPoints);
    EXPECT_TRUE(ag.y.mtf_curve.empty());  // no profiles kept
    for (std::size_t k = 0; k < kEdgeMtfPoints; ++k) {
        const EdgeMtfCurvePoint& p = ag.x.mtf_curve[k];
        const double s = 1.0 - static_cast<double>(k) / 128.0;
        EXPECT_DOUBLE_EQ(p.frequency_cyc_per_px, static_cast<double>(k) / 64.0);
        EXPECT_EQ(p.edges, 3);  // the rejected edge is left out
        // Equal weights: the median and Hyndman-Fan type 5 quartiles of 0.2, 0.5, 0.8 (x s).
        EXPECT_NEAR(p.median, 0.5 * s, 1e-6);
        EXPECT_NEAR(p.q1, 0.275 * s, 1e-6);
        EXPECT_NEAR(p.q3, 0.725 * s, 1e-6);
    }
}

TEST(MtfCurve, JsonCurvePerAxisFollowsTheBlurAndAgreesWithTheAxisFigures) {
    const test::TempDir dir("mtf_curve");
    const double sigma = 0.6;
    const fs::path f = write_squares(dir / "squares.tif", utm31(), {sigma});
    const auto r = test::run_satiq("assess --format json --no-edge-records " + test::shell_quote(f));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc_edges = json::parse(r.out);
    const json& edges = doc_edges["results"][0]["edges"];
    for (const char* axis : {"x", "y"}) {
        const json& ax = edges[axis];
        const json& c = ax["mtf_curve"];
        ASSERT_EQ(c.size(), 65u) << axis;
        for (std::size_t k = 0; k < c.size(); ++k) {
            const json& p = c[k];
            const double fq = p["frequency_cyc_per_px"].get<double>();
            EXPECT_DOUBLE_EQ(fq, static_cast<double>(k) / 64.0);
            EXPECT_EQ(p["edges"], ax["count"]);
            EXPECT_LE(p["mtf_q25"].get<double>(), p["mtf_median"].get<double>());
            EXPECT_LE(p["mtf_median"].get<double>(), p["mtf_q75"].get<double>());
            // Gaussian blur over a square pixel: MTF = exp(-2 pi^2 sigma^2 f^2) |sinc f| (edges.hpp; the
            // slant changes it by well under 0.01 here).
            if (fq <= 0.5) {
                const double sinc = fq > 0 ? std::sin(std::numbers::pi * fq) / (std::numbers::pi * fq) : 1.0;
                const double model =
                    std::exp(-2 * std::numbers::pi * std::numbers::pi * sigma * sigma * fq * fq) * sinc;
                EXPECT_NEAR(p["mtf_median"].get<double>(), model, 0.02) << axis << " f " << fq;
            }
        }
        EXPECT_NEAR(c[0]["mtf_median"].get<double>(), 1.0, 1e-6);
        // The point-wise median at Nyquist is the axis's median MTF at Nyquist (same edges, weights).
        EXPECT_NEAR(c[32]["mtf_median"].get<double>(), ax["mtf_nyquist"]["median"].get<double>(), 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// A real RGB image

TEST(AssessOutputsReal, RgbImageBandsAndGeojson) {
    if (!test::have_real_data()) GTEST_SKIP() << "no real data";
    const fs::path f = test::real_data_dir() / "hro_colorado_rgb_0p15m.tif";
    if (!fs::exists(f)) GTEST_SKIP() << f << " absent";
    const test::TempDir dir("outputs_real");
    const fs::path out = dir / "edges.geojson";
    const auto r = test::run_satiq("assess --format json --band all --edges-geojson " + test::shell_quote(out) + " " +
                                   test::shell_quote(f));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc_res = json::parse(r.out);
    const json& res = doc_res["results"][0];
    EXPECT_EQ(res["band_used"].get<std::string>().rfind("luminance", 0), 0u);
    const json& bands = res["bands"];
    ASSERT_EQ(bands.size(), 3u);
    const char* colours[] = {"Red", "Green", "Blue"};
    for (std::size_t b = 0; b < 3; ++b) {
        EXPECT_EQ(bands[b]["band"], b + 1);
        EXPECT_EQ(bands[b]["color_interpretation"], colours[b]);
        EXPECT_TRUE(bands[b]["edges_candidates"].get<int>() > 0);
    }
    const std::vector<ReadFeature> features = read_geojson(out);
    ASSERT_EQ(features.size(), res["edges"]["records"].size());
    ASSERT_FALSE(features.empty());
    const Raster raster = Raster::open(f);
    const Box box =
        footprint(raster.info().geo, static_cast<double>(raster.width()), static_cast<double>(raster.height()));
    int used = 0;
    for (const auto& ft : features) {
        used += ft.used;
        ASSERT_EQ(ft.points.size(), 2u);
        for (const auto& p : ft.points)
            EXPECT_TRUE(box.contains(p[0], p[1])) << p[0] << ", " << p[1];
    }
    EXPECT_EQ(used, res["edges"]["used"].get<int>());
}

// GIQE 5 takes un-sharpened imagery: a band whose measured RER is above 1 or whose MTF50 is above
// Nyquist gets those warnings beside its NIIRS (JSON and text); a plain panchromatic scene none.
TEST(AssessOutputsReal, SharpenedBandIsFlaggedAndAPlainSceneIsNot) {
    if (!test::have_real_data()) GTEST_SKIP() << "no real data";
    const fs::path f = test::real_data_dir() / "hro_colorado_rgb_0p15m.tif";
    const fs::path pan = test::real_data_dir() / "pan1.tif";
    if (!fs::exists(f) || !fs::exists(pan)) GTEST_SKIP() << "real images absent";
    auto has = [](const json& ws, const std::string& text) {
        for (const auto& w : ws)
            if (w.get<std::string>().find(text) != std::string::npos) return true;
        return false;
    };
    const auto r = test::run_satiq("assess --format json --no-edge-records --band all " + test::shell_quote(f));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out);
    const json& bands = doc["results"][0]["bands"];
    bool flagged = false;
    for (const json& b : bands) {
        const bool rer_above_1 = (b["rer"]["x"].is_number() && b["rer"]["x"].get<double>() > 1.0) ||
                                 (b["rer"]["y"].is_number() && b["rer"]["y"].get<double>() > 1.0);
        const bool mtf50_above =
            (b["mtf50_cyc_per_px"]["x"].is_number() && b["mtf50_cyc_per_px"]["x"].get<double>() > 0.5) ||
            (b["mtf50_cyc_per_px"]["y"].is_number() && b["mtf50_cyc_per_px"]["y"].get<double>() > 0.5);
        EXPECT_EQ(has(b["warnings"], "RER above 1 ("), rer_above_1) << b;
        EXPECT_EQ(has(b["warnings"], "above Nyquist"), mtf50_above) << b;
        flagged |= rer_above_1;
    }
    EXPECT_TRUE(flagged) << "no band of " << f << " measured an RER above 1 any more";
    const auto t = test::run_satiq("assess --band all " + test::shell_quote(f));
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("      ! giqe5: RER above 1 ("), std::string::npos) << t.out;

    const auto p = test::run_satiq("assess --format json --no-edge-records " + test::shell_quote(pan));
    ASSERT_EQ(p.exit_code, 0) << p.err;
    const json pj = json::parse(p.out);
    const json& res = pj["results"][0];
    for (const char* text : {"above 1", "above Nyquist", "below about 0.2", "NIIRS scale"}) {
        EXPECT_FALSE(has(res["warnings"], text)) << text;
        EXPECT_FALSE(has(res["niirs"]["giqe5"]["warnings"], text)) << text;
    }
}
