#include <gtest/gtest.h>

#include <cmath>

#include <ogr_spatialref.h>

#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/info.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;

namespace {

RasterInfo info_with(int epsg, std::array<double, 6> gt, std::int64_t w = 1000, std::int64_t h = 1000) {
    RasterInfo info;
    info.path = "synthetic.tif";
    info.width = w;
    info.height = h;
    info.geo.crs_wkt = epsg ? test::wkt_of_epsg(epsg) : "";
    info.geo.geotransform = gt;
    return info;
}

// Independent check for geographic pixels: for a small step the geodesic equals the meridian
// arc M(phi) dphi along a column and the parallel arc N(phi) cos(phi) dlambda along a row,
// with M = a(1-e2)/(1-e2 sin^2 phi)^1.5 and N = a/sqrt(1-e2 sin^2 phi) (radii of curvature,
// e.g. Torge & Mueller, Geodesy, 4th ed., §6.2).
std::pair<double, double> small_step_wgs84(double lat_deg, double dlon_deg, double dlat_deg) {
    const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f);
    const double phi = lat_deg * M_PI / 180, s2 = std::sin(phi) * std::sin(phi);
    const double M = a * (1 - e2) / std::pow(1 - e2 * s2, 1.5), N = a / std::sqrt(1 - e2 * s2);
    return {N * std::cos(phi) * dlon_deg * M_PI / 180, M * dlat_deg * M_PI / 180};
}

}  // namespace

TEST(Gsd, UtmMetres) {
    const Gsd g = compute_gsd(info_with(32633, {500000, 0.5, 0, 4000000, 0, -0.5}));
    EXPECT_DOUBLE_EQ(g.x_m, 0.5);
    EXPECT_DOUBLE_EQ(g.y_m, 0.5);
    EXPECT_DOUBLE_EQ(g.mean_m, 0.5);
    EXPECT_EQ(g.method, "projected_geotransform");
    ASSERT_TRUE(g.center_lat_deg.has_value());
    EXPECT_NEAR(*g.center_lat_deg, 36.13, 0.05);
}

TEST(Gsd, UsSurveyFeetStatePlane) {
    // EPSG:2263, NAD83 / New York Long Island (ftUS): 1 US survey foot = 1200/3937 m.
    const Gsd g = compute_gsd(info_with(2263, {1000000, 2.0, 0, 200000, 0, -2.0}));
    EXPECT_NEAR(g.x_m, 2.0 * 1200.0 / 3937.0, 1e-9);
    EXPECT_NEAR(g.y_m, 2.0 * 1200.0 / 3937.0, 1e-9);
    // International foot: EPSG:2222, NAD83 / Arizona East (ft).
    const Gsd ft = compute_gsd(info_with(2222, {700000, 1.0, 0, 900000, 0, -1.0}));
    EXPECT_NEAR(ft.x_m, 0.3048, 1e-9);
}

class GeographicGsd : public ::testing::TestWithParam<double> {};

TEST_P(GeographicGsd, MatchesIndependentGeodesic) {
    const double lat = GetParam(), px = 2.7e-6;
    const std::int64_t n = 1000;
    // Image centred on (lon 10, lat).
    const Gsd g = compute_gsd(info_with(4326, {10 - n / 2 * px, px, 0, lat + n / 2 * px, 0, -px}, n, n));
    EXPECT_EQ(g.method, "geographic_geodesic");
    const auto [x, y] = small_step_wgs84(lat, px, px);
    EXPECT_NEAR(g.x_m, x, 1e-6 * x);
    EXPECT_NEAR(g.y_m, y, 1e-6 * y);
    EXPECT_NEAR(*g.center_lat_deg, lat, 1e-9);
    EXPECT_LE(g.x_min_m, g.x_m);
    EXPECT_GE(g.x_max_m, g.x_m);
}

INSTANTIATE_TEST_SUITE_P(Latitudes, GeographicGsd, ::testing::Values(0.0, 36.0, 60.0));

TEST(Gsd, GeographicAt36DegreesIsNotSquare) {
    const double px = 2.7e-6;
    const Gsd g = compute_gsd(info_with(4326, {127.0, px, 0, 36.0 + 500 * px, 0, -px}));
    EXPECT_NEAR(g.x_m, 0.243, 0.001);
    EXPECT_NEAR(g.y_m, 0.300, 0.001);
    EXPECT_NEAR(g.mean_m, std::sqrt(g.x_m * g.y_m), 1e-12);
}

TEST(Gsd, RotatedGeotransform) {
    const double c = 0.5 * std::cos(0.3), s = 0.5 * std::sin(0.3);
    const Gsd g = compute_gsd(info_with(32631, {600000, c, -s, 5700000, -s, -c}));
    EXPECT_NEAR(g.x_m, 0.5, 1e-12);
    EXPECT_NEAR(g.y_m, 0.5, 1e-12);
    // Sheared: column and row vectors of different lengths.
    const Gsd h = compute_gsd(info_with(32631, {600000, 0.5, 0.1, 5700000, 0, -0.7}));
    EXPECT_NEAR(h.x_m, 0.5, 1e-12);
    EXPECT_NEAR(h.y_m, std::hypot(0.1, 0.7), 1e-12);
}

TEST(Gsd, GcpOnlyFile) {
    // GCPs in UTM 31N on a 0.5 m grid; the transformer goes through WGS84 and measures
    // geodesically, so the result differs from 0.5 m only by the UTM scale factor (< 0.1 %).
    RasterInfo info;
    info.path = "gcp.tif";
    info.width = 800;
    info.height = 600;
    info.geo.gcp_crs_wkt = test::wkt_of_epsg(32631);
    for (double px : {0.0, 800.0})
        for (double ln : {0.0, 600.0})
            info.geo.gcps.push_back({px, ln, 594000 + 0.5 * px, 5748000 - 0.5 * ln, 0, ""});
    const Gsd g = compute_gsd(info);
    EXPECT_EQ(g.method, "gcp_transform");
    EXPECT_NEAR(g.x_m, 0.5, 0.0005);
    EXPECT_NEAR(g.y_m, 0.5, 0.0005);
    ASSERT_TRUE(g.center_lat_deg.has_value());
    EXPECT_NEAR(*g.center_lat_deg, 51.87, 0.01);
    // One GCP (a GeoTIFF tiepoint with a zero pixel scale reads so): said as such, not as
    // GDAL's "not enough points" from the transformer.
    info.geo.gcps.resize(1);
    try {
        (void)compute_gsd(info);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("gcp.tif: only 1 GCP, and mapping pixels to the ground needs at least 3"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Gsd, NoGeoreferencing) {
    RasterInfo info;
    info.path = "plain.tif";
    info.width = info.height = 10;
    try {
        (void)compute_gsd(info);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("plain.tif: no georeferencing"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("--gsd-m"), std::string::npos);
    }
    GsdOptions o;
    o.override_m = parse_gsd_pair("0.4,0.6");
    const Gsd g = compute_gsd(info, o);
    EXPECT_EQ(g.method, "user");
    EXPECT_DOUBLE_EQ(g.x_m, 0.4);
    EXPECT_DOUBLE_EQ(g.y_m, 0.6);
    EXPECT_DOUBLE_EQ(parse_gsd_pair("2").first, 2.0);
    EXPECT_THROW(parse_gsd_pair("0"), Error);
    EXPECT_THROW(parse_gsd_pair("-1,2"), Error);
    EXPECT_THROW(parse_gsd_pair("abc"), Error);
    // A geotransform without a CRS has unknown units.
    RasterInfo nocrs = info_with(0, {0, 2, 0, 0, 0, -2});
    EXPECT_THROW((void)compute_gsd(nocrs), Error);
}

// A catalog's GSD fills a gap only: the georeferencing wins where it exists, and where it does not
// the catalog's figure is used with a first note saying where it came from and why.
TEST(Gsd, CatalogFallbackOnlyWithoutUsableGeoreferencing) {
    GsdOptions opt;
    opt.fallback_m = std::pair{0.4, 0.4};
    opt.fallback_from = "the STAC Item's gsd";
    const Gsd geo = compute_gsd(info_with(32633, {500000, 0.5, 0, 4000000, 0, -0.5}), opt);
    EXPECT_EQ(geo.method, "projected_geotransform");
    EXPECT_DOUBLE_EQ(geo.x_m, 0.5);
    ASSERT_FALSE(geo.notes.empty());
    EXPECT_EQ(geo.notes.back(), "the STAC Item's gsd gives 0.4 x 0.4 m; the georeferencing is used");
    RasterInfo plain;
    plain.path = "plain.tif";
    plain.width = plain.height = 100;
    const Gsd cat = compute_gsd(plain, opt);
    EXPECT_EQ(cat.method, "catalog");
    EXPECT_DOUBLE_EQ(cat.mean_m, 0.4);
    ASSERT_EQ(cat.notes.size(), 1u);
    EXPECT_EQ(cat.notes[0].rfind("GSD from the STAC Item's gsd: the raster has no usable georeferencing (plain.tif: "
                                 "no georeferencing",
                                 0),
              0u)
        << cat.notes[0];
    opt.override_m = std::pair{0.3, 0.3};  // the user's figure beats both
    EXPECT_EQ(compute_gsd(plain, opt).method, "user");
}

// A zero-area geotransform is broken georeferencing, not an unreadable file: it is dropped with
// its reason, which the GSD error then gives; a GSD given by the user still works.
TEST(Gsd, ZeroPixelSizeGeotransformIsDroppedWithItsReason) {
    const test::TempDir dir("zero");
    GeoReference geo;
    geo.crs_wkt = test::wkt_of_epsg(32631);
    geo.geotransform = std::array<double, 6>{600000, 0, 0, 5700000, 0, 0};
    Image a(16, 16, 1.f);
    write_raster(dir / "zero.tif", {a.view()}, geo, {});
    const RasterInfo info = Raster::open(dir / "zero.tif").info();
    EXPECT_FALSE(info.geo.geotransform.has_value());
    EXPECT_NE(info.geo.geotransform_problem.find("zero pixel size"), std::string::npos);
    try {
        (void)compute_gsd(info);
        FAIL() << "zero pixel size accepted";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("zero.tif: invalid geotransform: zero pixel size"), std::string::npos) << what;
        EXPECT_NE(what.find("give --gsd-m"), std::string::npos) << what;
    }
    GsdOptions given;
    given.override_m = std::pair{0.5, 0.5};
    EXPECT_EQ(compute_gsd(info, given).method, "user");
}

TEST(RealData, GsdMatchesTheReadme) {
    if (!test::have_real_data()) GTEST_SKIP() << "../shared/data/real is absent";
    struct Case {
        const char* file;
        double x_m, y_m;
    };
    // Figures from ../shared/data/real/README.md.
    const Case cases[] = {{"pan1.tif", 0.5, 0.5},
                          {"sample_geotiff.tif", 0.5, 0.5},
                          {"hro_colorado_rgb_0p15m.tif", 0.1498, 0.15},
                          {"UTM2GTIF.tiff", 10, 10},
                          {"l8_B8.tif", 15, 15},
                          {"s2_B8A.jp2", 20, 20}};
    for (const auto& c : cases) {
        const InfoRecord rec = describe_raster(test::real_data_dir() / c.file, {}, true);
        ASSERT_TRUE(rec.gsd.has_value()) << c.file;
        EXPECT_NEAR(rec.gsd->x_m, c.x_m, 0.005 * c.x_m) << c.file;
        EXPECT_NEAR(rec.gsd->y_m, c.y_m, 0.005 * c.y_m) << c.file;
    }
}
