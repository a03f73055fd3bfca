// Runs the real satiq binary and checks what it prints.
#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include <ogr_spatialref.h>
#include <nlohmann/json.hpp>

#include "satiq/pipeline/io/raster.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string q(const fs::path& p) {
    return test::shell_quote(p);
}

int count_lines(const std::string& s) {
    int n = 0;
    for (char c : s)
        n += c == '\n';
    return n;
}

}  // namespace

TEST(CliInfo, JsonForGoodAndBadFilesInOneRun) {
    const test::TempDir dir("cli_info");
    Image a(64, 48, 100.f);
    const GeoReference geo = test::north_up(32652, 300000, 4300000, 0.25);
    WriteOptions opt;
    opt.type = DataType::UInt16;
    opt.nodata = 0;
    write_raster(dir / "good.tif", {a.view()}, geo, opt);

    const auto r = test::run_satiq("info --format json " + q(dir / "good.tif") + " " + q(dir / "missing.tif"));
    EXPECT_EQ(r.exit_code, 1);
    const json j = json::parse(r.out);
    EXPECT_EQ(j["command"], "info");
    EXPECT_EQ(j["failed_count"], 1);
    ASSERT_EQ(j["results"].size(), 2u);
    const json& good = j["results"][0];
    EXPECT_EQ(good["status"], "ok");
    EXPECT_EQ(good["width_px"], 64);
    EXPECT_EQ(good["bands"][0]["data_type"], "UInt16");
    EXPECT_EQ(good["bands"][0]["nodata"], 0.0);
    EXPECT_DOUBLE_EQ(good["gsd"]["x_m"].get<double>(), 0.25);
    EXPECT_DOUBLE_EQ(good["gsd"]["mean_m"].get<double>(), 0.25);
    EXPECT_EQ(good["gsd"]["method"], "projected_geotransform");
    EXPECT_TRUE(good["gsd"]["center_lat_deg"].is_number());
    EXPECT_EQ(good["georeferencing"]["crs_code"], "EPSG:32652");
    EXPECT_EQ(j["results"][1]["status"], "error");
    EXPECT_NE(r.err.find("missing.tif: no such file"), std::string::npos) << r.err;
    EXPECT_EQ(good["bands"][0]["mask_band"], false);

    // A NaN nodata is "nan" as gdalinfo -json writes it (null would read as no nodata); a
    // NaN nodata in 8 bits becomes a mask band (RasterWriter), said as such.
    opt.type = DataType::Float32;
    opt.nodata = std::numeric_limits<double>::quiet_NaN();
    write_raster(dir / "nan.tif", {a.view()}, geo, opt);
    opt.type = DataType::Byte;
    write_raster(dir / "masked.tif", {a.view()}, geo, opt);
    const json k =
        json::parse(test::run_satiq("info --format json " + q(dir / "nan.tif") + " " + q(dir / "masked.tif")).out);
    EXPECT_EQ(k["results"][0]["bands"][0]["nodata"], "nan");
    EXPECT_EQ(k["results"][0]["bands"][0]["mask_band"], false);
    EXPECT_TRUE(k["results"][1]["bands"][0]["nodata"].is_null());
    EXPECT_EQ(k["results"][1]["bands"][0]["mask_band"], true);
}

TEST(CliInfo, BadInputGivesOneLineErrorAndNonZeroExit) {
    const test::TempDir dir("cli_bad");
    std::ofstream(dir / "empty.tif").close();
    std::ofstream(dir / "text.tif") << "hello, not a tiff\n";
    Image a(300, 300, 5.f);
    WriteOptions opt;
    opt.compression = "NONE";
    opt.type = DataType::UInt16;
    write_raster(dir / "full.tif", {a.view()}, {}, opt);
    fs::copy_file(dir / "full.tif", dir / "cut.tif");
    fs::resize_file(dir / "cut.tif", fs::file_size(dir / "full.tif") / 3);
    const std::pair<fs::path, std::string> cases[] = {{dir / "missing.tif", "no such file"},
                                                      {dir, "is a directory"},
                                                      {dir / "empty.tif", "empty file"},
                                                      {dir / "text.tif", "not a raster"},
                                                      {dir / "cut.tif", "truncated"}};
    for (const auto& [path, reason] : cases) {
        const auto r = test::run_satiq("info " + q(path));
        EXPECT_EQ(r.exit_code, 1) << path;
        EXPECT_EQ(count_lines(r.err), 1) << r.err;
        EXPECT_NE(r.err.find(path.string()), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    }
}

// A broken geotransform (zero pixel area, or NaN) leaves a readable image whose GSD is unknown,
// as with no georeferencing at all: info exits 0 and says why; a GSD can still be given.
TEST(CliInfo, BrokenGeotransformLeavesTheGsdUnknownWithItsReason) {
    const test::TempDir dir("cli_broken_gt");
    const std::pair<const char*, const char*> cases[] = {
        {"400000, 0, 0, 4300000, 0, 0", "invalid geotransform: zero pixel size"},
        {"400000, nan, 0, 4300000, 0, -1", "the geotransform holds a non-finite value (nan)"}};
    for (const auto& [gt, reason] : cases) {
        const fs::path vrt = test::write_vrt_with_geotransform(dir / "bad.vrt", gt);
        auto r = test::run_satiq("info --format json " + q(vrt));
        EXPECT_EQ(r.exit_code, 0) << gt << r.err;
        json j = json::parse(r.out);
        EXPECT_TRUE(j["results"][0]["gsd"].is_null()) << gt;
        const std::string error = j["results"][0]["gsd_error"].get<std::string>();
        EXPECT_NE(error.find(reason), std::string::npos) << error;
        EXPECT_NE(error.find("give --gsd-m"), std::string::npos) << error;
        r = test::run_satiq("info --format json --gsd-m 0.5 " + q(vrt));
        EXPECT_EQ(r.exit_code, 0) << gt << r.err;
        EXPECT_EQ(json::parse(r.out)["results"][0]["gsd"]["method"], "user") << gt;
        r = test::run_satiq("degrade " + q(vrt) + " " + q(dir / "o.tif") + " --target-gsd-m 2 --sigma-px 0");
        EXPECT_EQ(r.exit_code, 1) << gt;
        EXPECT_EQ(count_lines(r.err), 1) << r.err;
        EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir / "o.tif"));
    }
}

TEST(CliInfo, NoGeoreferencingAndGsdOverride) {
    const test::TempDir dir("cli_nogeo");
    Image a(32, 32, 1.f);
    write_raster(dir / "plain.tif", {a.view()}, {}, {});
    auto r = test::run_satiq("info --format json " + q(dir / "plain.tif"));
    EXPECT_EQ(r.exit_code, 0);  // info still describes the file; the GSD says why it is unknown
    json j = json::parse(r.out);
    EXPECT_TRUE(j["results"][0]["gsd"].is_null());
    EXPECT_NE(j["results"][0]["gsd_error"].get<std::string>().find("no georeferencing"), std::string::npos);
    r = test::run_satiq("info --format json --gsd-m 0.3,0.4 " + q(dir / "plain.tif"));
    EXPECT_EQ(r.exit_code, 0);
    j = json::parse(r.out);
    EXPECT_DOUBLE_EQ(j["results"][0]["gsd"]["x_m"].get<double>(), 0.3);
    EXPECT_DOUBLE_EQ(j["results"][0]["gsd"]["y_m"].get<double>(), 0.4);
    EXPECT_EQ(j["results"][0]["gsd"]["method"], "user");
}

TEST(CliInfo, UsageErrorsExitTwo) {
    EXPECT_EQ(test::run_satiq("info").exit_code, 2);
    EXPECT_EQ(test::run_satiq("info --format xml x.tif").exit_code, 2);
    EXPECT_EQ(test::run_satiq("no-such-command").exit_code, 2);
    EXPECT_EQ(test::run_satiq("info --gsd-m -3 x.tif").exit_code, 2);
    EXPECT_EQ(test::run_satiq("--help").exit_code, 0);
}

TEST(CliInfo, RealImagesText) {
    if (!test::have_real_data()) GTEST_SKIP() << "../shared/data/real is absent";
    const auto r = test::run_satiq("info " + q(test::real_data_dir() / "pan1.tif") + " " +
                                   q(test::real_data_dir() / "s2_B8A.jp2"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("gsd: 0.5000 x 0.5000 m"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("gsd: 20.0000 x 20.0000 m"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("driver: GTiff"), std::string::npos);
}
