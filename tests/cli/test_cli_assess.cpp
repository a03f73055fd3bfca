// Runs the real satiq binary: assess's JSON fields, CSV, plots, errors.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <ogr_spatialref.h>
#include <nlohmann/json.hpp>

#include "satiq/kernels/synth.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path make_squares(const fs::path& dir) {
    Image img = test::render_rotated_squares(480, 480, 120, 70, {5, 8, 6, 9}, 0.6, 200, 1200);
    add_gaussian_noise(img.view(), 5.0, 2);
    const GeoReference g = test::north_up(32631, 600000, 5700000, 0.5);
    WriteOptions o;
    o.type = DataType::UInt16;
    write_raster(dir / "squares.tif", {img.view()}, g, o);
    return dir / "squares.tif";
}

}  // namespace

TEST(CliAssess, JsonHasTheDocumentedFieldsAndCsvAndPlotsAreWritten) {
    const test::TempDir dir("cli_assess");
    const fs::path f = make_squares(dir);
    fs::create_directories(dir / "plots");
    const auto r = test::run_satiq(
        "assess --format json --giqe all --edges-csv " + test::shell_quote(dir / "edges.csv") + " --plots " +
        test::shell_quote(dir / "plots") + " " + test::shell_quote(f) + " " + test::shell_quote(dir / "missing.tif"));
    EXPECT_EQ(r.exit_code, 1);  // one file missing: reported, the other assessed
    const json j = json::parse(r.out);
    ASSERT_EQ(j["results"].size(), 2u);
    const json& a = j["results"][0];
    EXPECT_EQ(a["status"], "ok");
    for (const char* k : {"x_m", "y_m"})
        EXPECT_TRUE(a["gsd"][k].is_number()) << k;
    for (const char* k : {"x", "y", "weighted"})
        EXPECT_TRUE(a["rer"][k].is_number()) << k;
    EXPECT_TRUE(a["mtf50_cyc_per_px"]["x"].is_number());
    EXPECT_TRUE(a["noise"]["sigma_dn"].is_number());
    EXPECT_TRUE(a["snr"].is_number());
    EXPECT_TRUE(a["niirs"]["giqe5"]["value"].is_number());
    EXPECT_TRUE(a["niirs"]["giqe5"]["standard_error"].is_number());
    EXPECT_TRUE(a["niirs"]["giqe4"]["value"].is_number());
    EXPECT_TRUE(a["niirs"]["giqe3"]["value"].is_number());
    EXPECT_GE(a["edges"]["used"].get<int>(), 10);
    EXPECT_TRUE(a["edges"]["rejected"].is_number());
    EXPECT_FALSE(a["edges"]["records"].empty());
    const json& rb = a["rer"]["robustness"];
    for (const char* k :
         {"max_single_edge_change", "max_single_object_change", "objects", "largest_object_edges", "object_gap_px"})
        EXPECT_TRUE(rb[k].is_number()) << k;
    EXPECT_TRUE(rb["most_influential_object"]["x_px"].is_number());
    for (const char* h : {"top", "bottom", "left", "right"}) {
        EXPECT_TRUE(rb["halves"][h]["geometric_mean"].is_number()) << h;
        EXPECT_TRUE(rb["halves"][h]["x_edges"].is_number()) << h;
    }
    EXPECT_TRUE(rb["halves"]["bottom_minus_top"].is_number());
    EXPECT_TRUE(rb["halves"]["right_minus_left_standard_error"].is_number());
    for (const char* c : {"top_bottom_chance", "left_right_chance"})
        for (const char* k : {"random_splits", "median_abs_difference", "p90_abs_difference", "p_value"})
            EXPECT_TRUE(rb["halves"][c][k].is_number()) << c << "." << k;
    EXPECT_FALSE(a["interpretability"]["verdicts"].empty());
    EXPECT_EQ(j["results"][1]["status"], "error");

    const std::string csv = satiq::test::read_file(dir / "edges.csv");
    EXPECT_EQ(csv.rfind("file,edge,verdict,axis", 0), 0u);
    EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 10);
    for (const char* p : {"squares_esf.svg", "squares_lsf.svg", "squares_mtf.svg"}) {
        const std::string svg = satiq::test::read_file(dir / "plots" / p);
        EXPECT_NE(svg.find("<svg"), std::string::npos) << p;
        EXPECT_NE(svg.find("<path"), std::string::npos) << p;
    }
}

TEST(CliAssess, TextSummaryAndRunstats) {
    const test::TempDir dir("cli_assess_text");
    const fs::path f = make_squares(dir);
    const auto r = test::run_satiq("assess --runstats " + test::shell_quote(f));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("NIIRS (GIQE 5)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("time edges"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("RER"), std::string::npos);
    // An image too small for any noise estimate: the text says unknown where the JSON has null
    // (it said "noise 0.000 DN").
    Image tiny(2, 2);
    tiny.at(1, 1) = 40.f;
    WriteOptions o;
    o.type = DataType::UInt16;
    write_raster(dir / "tiny.tif", {tiny.view()}, test::north_up(32631, 600000, 5700000, 0.5), o);
    const auto t = test::run_satiq("-q assess " + test::shell_quote(dir / "tiny.tif"));
    EXPECT_NE(t.out.find("  noise unknown (immerkaer; Immerkaer unknown)"), std::string::npos) << t.out;
    const auto tj = test::run_satiq("-q assess --format json " + test::shell_quote(dir / "tiny.tif"));
    EXPECT_TRUE(json::parse(tj.out)["results"][0]["noise"]["sigma_dn"].is_null()) << tj.out;
    // The saturation level: the integer type's maximum; none (null) for floating-point data.
    EXPECT_EQ(json::parse(tj.out)["results"][0]["saturation_dn"], 65535.0);
    o.type = DataType::Float32;
    write_raster(dir / "tiny_f.tif", {tiny.view()}, test::north_up(32631, 600000, 5700000, 0.5), o);
    const auto tf = test::run_satiq("-q assess --format json " + test::shell_quote(dir / "tiny_f.tif"));
    EXPECT_TRUE(json::parse(tf.out)["results"][0]["saturation_dn"].is_null()) << tf.out;
}

TEST(CliAssess, BadArguments) {
    const test::TempDir dir("cli_assess_bad");
    const fs::path f = make_squares(dir);
    EXPECT_EQ(test::run_satiq("assess --giqe 7 " + test::shell_quote(f)).exit_code, 2);
    EXPECT_EQ(test::run_satiq("assess --roi 1,2,3 " + test::shell_quote(f)).exit_code, 2);
    EXPECT_EQ(test::run_satiq("assess --target tank:abc:3 " + test::shell_quote(f)).exit_code, 2);
    EXPECT_EQ(test::run_satiq("assess").exit_code, 2);
    // An unwritable CSV is refused before any work, so nothing is printed as if it had succeeded.
    const auto r =
        test::run_satiq("assess --edges-csv " + test::shell_quote(dir / "nope" / "e.csv") + " " + test::shell_quote(f));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}
