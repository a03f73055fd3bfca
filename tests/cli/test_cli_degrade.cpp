// Runs the real satiq binary: degrade's JSON, its errors and exit codes.
#include <gtest/gtest.h>

#include <ogr_spatialref.h>
#include <nlohmann/json.hpp>

#include "satiq/pipeline/io/raster.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path make_input(const fs::path& dir) {
    return test::write_checkerboard(dir / "in.tif", 0.5);
}

}  // namespace

TEST(CliDegrade, JsonDescribesThePlan) {
    const test::TempDir dir("cli_deg");
    const fs::path in = make_input(dir);
    const auto r =
        test::run_satiq("degrade --format json --target-gsd-m 2 --mtf-nyquist 0.2 --snr 40 --bits 11 --seed 3 " +
                        test::shell_quote(in) + " " + test::shell_quote(dir / "out.tif"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["command"], "degrade");
    EXPECT_EQ(j["parameters"]["seed"], 3);
    const json& plan = j["results"][0]["plan"];
    EXPECT_EQ(plan["width_px"], 60);
    EXPECT_EQ(plan["height_px"], 40);
    EXPECT_EQ(plan["bits"], 11);
    EXPECT_EQ(plan["output_data_type"], "UInt16");
    EXPECT_EQ(plan["noise_model"], "gaussian");
    EXPECT_FALSE(plan["assumptions"].empty());
    Raster out = Raster::open(dir / "out.tif");
    EXPECT_EQ(out.width(), 60);
}

// The output may be named with -o, as sweep's and batch's are; giving it twice is a usage error.
TEST(CliDegrade, OutputAlsoTakesDashO) {
    const test::TempDir dir("cli_deg_o");
    const std::string syn = test::shell_quote(dir / "syn.tif");
    ASSERT_EQ(test::run_satiq("-q synth edge --size 64 -o " + syn).exit_code, 0);
    ASSERT_TRUE(fs::exists(dir / "syn.tif"));
    const std::string args = "-q degrade --target-gsd-m 2 --sigma-px 0 " + test::shell_quote(make_input(dir));
    ASSERT_EQ(test::run_satiq(args + " -o " + test::shell_quote(dir / "o.tif")).exit_code, 0);
    EXPECT_EQ(Raster::open(dir / "o.tif").width(), 60);
    const auto r =
        test::run_satiq(args + " " + test::shell_quote(dir / "p.tif") + " -o " + test::shell_quote(dir / "q.tif"));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_FALSE(fs::exists(dir / "p.tif"));
    EXPECT_FALSE(fs::exists(dir / "q.tif"));
}

TEST(CliDegrade, ErrorsGiveOneLineAndNoOutput) {
    const test::TempDir dir("cli_deg_err");
    const fs::path in = make_input(dir);
    const std::string out = test::shell_quote(dir / "out.tif");
    struct Case {
        std::string args;
        int code;
        std::string needle;
    };
    const Case cases[] = {
        {"--target-gsd-m 0.25 --sigma-px 0 " + test::shell_quote(in) + " " + out, 1, "finer than the input GSD"},
        {"--sensor nosuch " + test::shell_quote(in) + " " + out, 2, "malligyong-1"},
        {"--target-gsd-m 0 " + test::shell_quote(in) + " " + out, 2, "--target-gsd-m"},
        {"--target-gsd-m 2 --sigma-px -1 " + test::shell_quote(in) + " " + out, 2, "--sigma-px"},
        {"--target-gsd-m 2 --sigma-px 0 " + test::shell_quote(dir / "missing.tif") + " " + out, 1, "no such file"},
        {"--sensor superdove --target-gsd-m 2 " + test::shell_quote(in) + " " + out, 2, "excludes"},
        {test::shell_quote(in) + " " + out, 2, "--sensor"},
    };
    for (const auto& c : cases) {
        const auto r = test::run_satiq("degrade " + c.args);
        EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.err;
        EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\n" << r.err;
        if (c.code == 1) {
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        }
        EXPECT_FALSE(fs::exists(dir / "out.tif")) << c.args;
    }
    EXPECT_EQ(test::count_entries(dir), 1) << "temporary files left behind";
}

TEST(CliDegrade, JsonSaysEveryFigureUsedAndWhereItComesFrom) {
    const test::TempDir dir("cli_deg_resolved");
    const fs::path in = make_input(dir);
    // The simple form without --snr or --bits: the parameters say what was given (null for those),
    // resolved_parameters what the run used, provenance where each comes from.
    auto r = test::run_satiq("degrade --format json --target-gsd-m 2 --mtf-nyquist 0.2 " + test::shell_quote(in) + " " +
                             test::shell_quote(dir / "a.tif"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_TRUE(j["parameters"]["snr"].is_null());
    EXPECT_TRUE(j["parameters"]["bits"].is_null());
    const json* res = &j["results"][0];
    EXPECT_DOUBLE_EQ((*res)["resolved_parameters"]["mtf_nyquist"].get<double>(), 0.2);
    EXPECT_EQ((*res)["provenance"]["mtf_nyquist"]["given"], "--mtf-nyquist 0.2");
    EXPECT_GT((*res)["resolved_parameters"]["sigma_px"].get<double>(), 0.0);
    EXPECT_TRUE((*res)["provenance"]["sigma_px"].contains("derived"));
    EXPECT_TRUE((*res)["resolved_parameters"]["snr"].is_null());  // no noise added
    EXPECT_NE((*res)["provenance"]["snr"]["assumed"].get<std::string>().find("no noise"), std::string::npos);
    EXPECT_EQ((*res)["resolved_parameters"]["bits"], (*res)["plan"]["bits"]);
    EXPECT_TRUE((*res)["provenance"]["bits"].contains("derived")) << (*res)["provenance"];
    EXPECT_TRUE((*res)["provenance"]["input_sigma_px"].contains("assumed"));
    for (const auto& [key, value] : (*res)["resolved_parameters"].items())
        EXPECT_TRUE((*res)["provenance"].contains(key)) << key;
    // A preset: its figures with their references, what was set marked given.
    r = test::run_satiq("degrade --format json --sensor pleiades --snr 30 --bits 10 --input-sigma-px 0.4 " +
                        test::shell_quote(in) + " " + test::shell_quote(dir / "b.tif"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    j = json::parse(r.out);
    res = &j["results"][0];
    EXPECT_EQ((*res)["provenance"]["snr"]["given"], "--snr 30");
    EXPECT_EQ((*res)["provenance"]["bits"]["given"], "--bits 10");
    EXPECT_EQ((*res)["provenance"]["input_sigma_px"]["given"], "--input-sigma-px 0.4");
    EXPECT_TRUE((*res)["provenance"]["aperture_diameter_m"].contains("source")) << (*res)["provenance"];
    EXPECT_GT((*res)["resolved_parameters"]["aperture_diameter_m"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ((*res)["resolved_parameters"]["snr"].get<double>(), 30.0);

    // A preset's figure overridden: named by its option, with the preset's value; the overrides
    // recorded in snake_case; the preset's fixed SNR with more light is a warning; the text form
    // lists the figures used.
    const std::string args = "degrade --sensor malligyong-1 --aperture-m 0.2 --pitch-um 4 " + test::shell_quote(in) +
                             " " + test::shell_quote(dir / "c.tif");
    r = test::run_satiq("-q " + args + " --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    j = json::parse(r.out);
    res = &j["results"][0];
    EXPECT_EQ((*res)["provenance"]["aperture_diameter_m"]["given"], "--aperture-m 0.2; the preset has 0.1");
    EXPECT_EQ((*res)["provenance"]["detector_pitch_m"]["given"], "--pitch-um 4") << (*res)["provenance"];
    EXPECT_EQ(j["parameters"]["sensor_overrides"], (json{{"aperture_m", 0.2}, {"pitch_um", 4.0}}));
    bool warned = false;
    for (const json& w : (*res)["plan"]["warnings"])
        warned = warned || w.get<std::string>().find("collect 4x its light per pixel") != std::string::npos;
    EXPECT_TRUE(warned) << (*res)["plan"]["warnings"];
    r = test::run_satiq("-q " + args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("  figures used (--format json gives each one's reference):\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("    given: aperture_diameter_m 0.2, detector_pitch_m 4e-06\n"), std::string::npos) << r.out;
}
