// Look geometry: what degrade records is what assess and info read back, and the vendor
// metadata (DigitalGlobe/Maxar IMD, Airbus DIMAP) and RPCs give the elevation with its source.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numbers>

#include <fmt/format.h>

#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/ops/degrade.hpp"
#include "satiq/pipeline/ops/info.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;

namespace {

// A small georeferenced GeoTIFF (a checkerboard) at `path`.
void write_small(const fs::path& path, const GeoReference& geo) {
    Image a(64, 64);
    for (std::int64_t y = 0; y < 64; ++y)
        for (std::int64_t x = 0; x < 64; ++x)
            a.at(x, y) = static_cast<float>(100 + ((x / 8 + y / 8) % 2) * 800);
    WriteOptions o;
    o.type = DataType::UInt16;
    write_raster(path, {a.view()}, geo, o);
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST(Geometry, DegradeOffNadirRoundTripsThroughAssessAndInfo) {
    const test::TempDir dir("geom_roundtrip");
    DegradeParams p;
    p.input = fs::path(SATIQ_SOURCE_DIR) / "samples" / "airfield_0p25m.tif";
    p.output = dir / "pleiades_30.tif";
    p.sensor = "pleiades";
    p.off_nadir_deg = 30.0;
    const DegradeResult d = degrade(p, {});
    ASSERT_TRUE(d.plan.view_altitude_m);
    const double altitude = sensor::find_sensor_preset("pleiades").description.altitude_m;
    EXPECT_DOUBLE_EQ(*d.plan.view_altitude_m, altitude);
    const double expected = sensor::view_from_off_nadir(altitude, 30.0).elevation_deg;
    EXPECT_NEAR(*d.plan.view_elevation_deg, expected, 1e-9);
    EXPECT_LT(expected, 60.0);  // 30 deg off-nadir is more than 30 deg from the zenith at the target

    AssessParams ap;
    const AssessResult r = assess_file(p.output, ap);
    EXPECT_NEAR(r.elevation_deg, expected, 1e-9);
    EXPECT_TRUE(starts_with(r.elevation_source, "metadata: SATIQ_DEGRADE_PARAMETERS off_nadir_deg"))
        << r.elevation_source;
    EXPECT_NE(r.elevation_source.find("694 km from SATIQ_DEGRADE_PLAN"), std::string::npos) << r.elevation_source;
    EXPECT_LT(r.gsd_normal_m, r.gsd_ground_m);  // the elevation reaches the GSD definitions

    ap.elevation_deg = 70.0;  // the user still wins
    const AssessResult u = assess_file(p.output, ap);
    EXPECT_DOUBLE_EQ(u.elevation_deg, 70.0);
    EXPECT_EQ(u.elevation_source, "user");

    const InfoRecord rec = describe_raster(p.output, {}, false);
    const auto j = to_json(rec);
    EXPECT_NEAR(j["acquisition"]["look_geometry"]["elevation_deg"].get<double>(), expected, 1e-9);
    EXPECT_EQ(j["acquisition"]["look_geometry"]["elevation_source"], r.elevation_source);
    EXPECT_DOUBLE_EQ(j["acquisition"]["look_geometry"]["off_nadir_deg"].get<double>(), 30.0);
    EXPECT_NE(to_text(rec).find("look: elevation"), std::string::npos);
}

TEST(Geometry, DegradeAtNadirRecordsTheViewAndTheSimpleFormDoesNot) {
    const test::TempDir dir("geom_nadir");
    write_small(dir / "in.tif", test::north_up(32631, 600000, 5700000, 0.25));
    DegradeParams p;
    p.input = dir / "in.tif";
    p.output = dir / "preset.tif";
    p.sensor = "pleiades";
    (void)degrade(p, {});
    auto look = find_look_geometry(Raster::open(p.output).info());
    ASSERT_TRUE(look);
    EXPECT_NEAR(look->elevation_deg, 90.0, 1e-9);
    EXPECT_EQ(look->source, "metadata: SATIQ_DEGRADE_PLAN view elevation_deg");

    p.output = dir / "simple.tif";
    p.sensor.reset();
    p.target_gsd_m = 1.0;
    (void)degrade(p, {});
    EXPECT_FALSE(find_look_geometry(Raster::open(p.output).info()));  // no geometry: assess says nadir assumed
    const AssessResult r = assess_file(p.output, {});
    EXPECT_EQ(r.elevation_source, "assumed nadir");
}

TEST(Geometry, DigitalGlobeImdSatelliteElevationAndOffNadir) {
    const test::TempDir dir("geom_imd");
    write_small(dir / "dg.tif", test::north_up(32631, 600000, 5700000, 0.5));
    // A minimal DigitalGlobe .IMD beside the image (GDAL's GDALMDReaderDigitalGlobe reads
    // <basename>.IMD into the IMD metadata domain, groups as "IMAGE_1.<key>").
    write_text(dir / "dg.IMD",
               "version = \"28.3\";\nBEGIN_GROUP = IMAGE_1\n\tsatId = \"WV03\";\n\tfirstLineTime = "
               "2020-01-01T10:00:00.000000Z;\n"
               "\tmeanSunAz = 150.1;\n\tmeanSunEl = 35.2;\n\tmeanSatAz = 200.3;\n\tmeanSatEl = 62.5;\n"
               "\tmeanOffNadirViewAngle = 24.9;\nEND_GROUP = IMAGE_1\nEND;\n");
    const Acquisition a = find_acquisition(Raster::open(dir / "dg.tif").info());
    ASSERT_TRUE(a.look);
    EXPECT_DOUBLE_EQ(a.look->elevation_deg, 62.5);
    EXPECT_EQ(a.look->source, "metadata: IMD meanSatEl");
    EXPECT_EQ(a.sources.at("sun_elevation_deg"), "metadata: IMD meanSunEl");
    EXPECT_EQ(a.sources.at("off_nadir_deg"), "metadata: IMD meanOffNadirViewAngle");
    const AssessResult r = assess_file(dir / "dg.tif", {});
    EXPECT_DOUBLE_EQ(r.elevation_deg, 62.5);
    EXPECT_EQ(r.elevation_source, "metadata: IMD meanSatEl");

    // Off-nadir only: converted at an assumed 600 km orbit, and said so.
    write_small(dir / "dg2.tif", test::north_up(32631, 600000, 5700000, 0.5));
    write_text(dir / "dg2.IMD",
               "version = \"28.3\";\nBEGIN_GROUP = IMAGE_1\n\tsatId = \"WV03\";\n"
               "\tmeanOffNadirViewAngle = 24.9;\nEND_GROUP = IMAGE_1\nEND;\n");
    const Acquisition b = find_acquisition(Raster::open(dir / "dg2.tif").info());
    ASSERT_TRUE(b.look);
    EXPECT_NEAR(b.look->elevation_deg, sensor::view_from_off_nadir(600e3, 24.9).elevation_deg, 1e-9);
    EXPECT_EQ(b.look->source, "metadata: IMD meanOffNadirViewAngle, 600 km orbit assumed");
}

TEST(Geometry, AirbusDimapIncidenceAngleAtTheSceneCentre) {
    const test::TempDir dir("geom_dimap");
    // GDAL's GDALMDReaderPleiades pairs IMG_<name>_R<r>C<c>.TIF with DIM_<name>.XML and exposes
    // the Dimap_Document in the IMD domain. Two Located_Geometric_Values: the Center one counts.
    const std::string name = "PHR1A_P_201901011200000_SEN_TEST";
    write_small(dir / ("IMG_" + name + "_R1C1.TIF"), test::north_up(32631, 600000, 5700000, 0.5));
    write_text(dir / ("DIM_" + name + ".XML"), R"(<?xml version="1.0" encoding="UTF-8"?>
<Dimap_Document>
 <Dataset_Sources><Source_Identification><Strip_Source><MISSION>PHR</MISSION><MISSION_INDEX>1A</MISSION_INDEX>
  <IMAGING_DATE>2019-01-01</IMAGING_DATE><IMAGING_TIME>12:00:00.0Z</IMAGING_TIME></Strip_Source></Source_Identification></Dataset_Sources>
 <Geometric_Data><Use_Area>
  <Located_Geometric_Values><LOCATION_TYPE>Top Center</LOCATION_TYPE>
   <Acquisition_Angles><INCIDENCE_ANGLE unit="deg">20.1</INCIDENCE_ANGLE><VIEWING_ANGLE unit="deg">18.0</VIEWING_ANGLE></Acquisition_Angles>
   <Solar_Incidences><SUN_AZIMUTH unit="deg">160</SUN_AZIMUTH><SUN_ELEVATION unit="deg">40</SUN_ELEVATION></Solar_Incidences>
  </Located_Geometric_Values>
  <Located_Geometric_Values><LOCATION_TYPE>Center</LOCATION_TYPE>
   <Acquisition_Angles><INCIDENCE_ANGLE unit="deg">21.5</INCIDENCE_ANGLE><VIEWING_ANGLE unit="deg">19.0</VIEWING_ANGLE></Acquisition_Angles>
   <Solar_Incidences><SUN_AZIMUTH unit="deg">161</SUN_AZIMUTH><SUN_ELEVATION unit="deg">41</SUN_ELEVATION></Solar_Incidences>
  </Located_Geometric_Values>
 </Use_Area></Geometric_Data>
</Dimap_Document>
)");
    const fs::path img = dir / ("IMG_" + name + "_R1C1.TIF");
    const Acquisition a = find_acquisition(Raster::open(img).info());
    ASSERT_TRUE(a.look);
    EXPECT_DOUBLE_EQ(a.look->elevation_deg, 90.0 - 21.5);
    EXPECT_TRUE(starts_with(a.look->source, "metadata: DIMAP incidence angle")) << a.look->source;
    ASSERT_TRUE(a.off_nadir_deg);
    EXPECT_DOUBLE_EQ(*a.off_nadir_deg, 19.0);
    ASSERT_TRUE(a.sun_elevation_deg);
    EXPECT_DOUBLE_EQ(*a.sun_elevation_deg, 41.0);
    const AssessResult r = assess_file(img, {});
    EXPECT_DOUBLE_EQ(r.elevation_deg, 68.5);
    EXPECT_TRUE(starts_with(r.elevation_source, "metadata: DIMAP incidence angle")) << r.elevation_source;
}

TEST(Geometry, RpcDerivedViewElevation) {
    const test::TempDir dir("geom_rpc");
    // A linear RPC at the equator: sample = SAMP_SCALE (L + c H) + SAMP_OFF, line = -LINE_SCALE P
    // + LINE_OFF (L, P, H the normalized longitude, latitude, height; RPC00B term order 1, L, P,
    // H, ...). One metre of height moves the ground point by c LONG_SCALE / HEIGHT_SCALE degrees
    // of longitude, so tan(zenith) = c LONG_SCALE a (pi / 180) / HEIGHT_SCALE on the WGS84
    // equator (a = 6378137 m). c is chosen for tan(zenith) = 0.5.
    const double long_scale = 0.01, height_scale = 500.0;
    const double metres_per_deg = 6378137.0 * std::numbers::pi / 180.0;
    const double c = 0.5 * height_scale / (long_scale * metres_per_deg);
    auto coeffs = [](std::initializer_list<std::pair<int, double>> set) {
        std::vector<double> v(20, 0.0);
        for (auto [i, x] : set)
            v[static_cast<std::size_t>(i)] = x;
        std::string s;
        for (double x : v)
            s += fmt::format("{:.17g} ", x);
        return s;
    };
    GeoReference geo;
    geo.rpc = {{"LINE_OFF", "32"},
               {"SAMP_OFF", "32"},
               {"LAT_OFF", "0"},
               {"LONG_OFF", "10"},
               {"HEIGHT_OFF", "100"},
               {"LINE_SCALE", "32"},
               {"SAMP_SCALE", "32"},
               {"LAT_SCALE", "0.01"},
               {"LONG_SCALE", fmt::format("{}", long_scale)},
               {"HEIGHT_SCALE", fmt::format("{}", height_scale)},
               {"LINE_NUM_COEFF", coeffs({{2, -1.0}})},
               {"LINE_DEN_COEFF", coeffs({{0, 1.0}})},
               {"SAMP_NUM_COEFF", coeffs({{1, 1.0}, {3, c}})},
               {"SAMP_DEN_COEFF", coeffs({{0, 1.0}})}};
    write_small(dir / "rpc.tif", geo);
    const RasterInfo info = Raster::open(dir / "rpc.tif").info();
    ASSERT_FALSE(info.geo.rpc.empty());
    const double expected = 90.0 - std::atan(0.5) * 180.0 / std::numbers::pi;  // 63.43 deg
    const auto el = rpc_view_elevation_deg(info, 32, 32);
    ASSERT_TRUE(el);
    EXPECT_NEAR(*el, expected, 0.01);
    const auto look = find_look_geometry(info);
    ASSERT_TRUE(look);
    EXPECT_EQ(look->source, "RPC-derived");
    EXPECT_NEAR(look->elevation_deg, expected, 0.01);

    // No height term: the view is vertical.
    geo.rpc["SAMP_NUM_COEFF"] = coeffs({{1, 1.0}});
    write_small(dir / "rpc_nadir.tif", geo);
    const auto nadir = rpc_view_elevation_deg(Raster::open(dir / "rpc_nadir.tif").info(), 32, 32);
    ASSERT_TRUE(nadir);
    EXPECT_NEAR(*nadir, 90.0, 1e-6);
}
