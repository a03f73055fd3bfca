// Runs the real satiq binary: usage errors (unknown sensor, conflicting or missing options,
// values out of range) exit 2 before any file is read; input failures exit 1. Also: assess
// --plots creates its folder, and degrade takes predict's sensor overrides.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include <gtest/gtest.h>
#include <regex>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/io/raster.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path make_input(const fs::path& dir) {
    return test::write_checkerboard(dir / "in.tif", 0.25);
}

struct Case {
    std::string args;
    int code;
};

void expect_codes(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        const auto r = test::run_satiq(c.args);
        EXPECT_EQ(r.exit_code, c.code) << "satiq " << c.args << "\n" << r.err;
        EXPECT_FALSE(r.err.empty()) << c.args;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << "\n" << r.err;
    }
}

}  // namespace

TEST(CliExitCodes, UsageErrorsExitTwoAndInputFailuresOne) {
    const test::TempDir dir("cli_exit");
    const std::string in = test::shell_quote(make_input(dir));
    // A missing input beside a usage error: the usage error wins (checked before any read).
    const std::string missing = test::shell_quote(dir / "missing.tif");
    const std::string out = test::shell_quote(dir / "out.tif");
    expect_codes({
        // seeds: no wrapping of -1, no clamping of 2^64
        {"degrade " + in + " " + out + " --target-gsd-m 2 --sigma-px 0 --seed -1", 2},
        {"degrade " + in + " " + out + " --target-gsd-m 2 --sigma-px 0 --seed 18446744073709551616", 2},
        {"degrade " + in + " " + out + " --target-gsd-m 2 --sigma-px 0 --seed 1e3", 2},
        {"sweep " + in + " -o " + test::shell_quote(dir / "sw") + " --seed -5", 2},
        // --sensors simulates presets as they are: an SNR for all would be silently dropped
        {"sweep " + in + " -o " + test::shell_quote(dir / "sw") + " --sensors malligyong-1 --snr 20", 2},
        {"synth edge " + test::shell_quote(dir / "e.tif") + " --seed 99999999999999999999", 2},
        // predict
        {"predict --sensor nosuch", 2},
        {"predict --sensor worldview-3 --target-gsd-m 2", 2},
        {"predict --target-gsd-m 2 --snr 10", 2},  // needs --mtf-nyquist or --sigma-px
        {"predict --altitude-m 500000", 2},        // custom sensor: missing options
        {"predict --sensor worldview-3 --aperture-m -1", 2},
        {"predict --sensor worldview-3 --fill-factor 2", 2},  // refused by the model
        {"predict --sensor worldview-3 --off-nadir-deg 10 --elevation-deg 70", 2},
        {"predict --sensor worldview-3 --elevation-deg 95", 2},
        {"predict --sensor worldview-3 --target nosuch", 2},
        {"predict --sensor worldview-3 --resolution-rule nosuch", 2},
        {"predict --sensor worldview-3 --aperture-m abc", 2},  // CLI11
        {"predict --sensor worldview-3 --aperture-m 50", 2},   // f/0.32: faster than any optics in air
        // degrade
        {"degrade --sensor nosuch " + missing + " " + out, 2},
        {"degrade " + missing + " " + out, 2},  // neither --sensor nor --target-gsd-m
        {"degrade --sensor pleiades --target-gsd-m 2 --sigma-px 0 " + missing + " " + out, 2},
        {"degrade --target-gsd-m 2 --mtf-nyquist 0.2 --sigma-px 1 " + missing + " " + out, 2},
        {"degrade --target-gsd-m 0 " + missing + " " + out, 2},
        {"degrade --target-gsd-m 2 --sigma-px 0 --min-coverage 2 " + missing + " " + out, 2},
        {"degrade --target-gsd-m 2 --sigma-px 0 --bits 40 " + missing + " " + out, 2},
        {"degrade --target-gsd-m 2 --sigma-px 0 --aperture-m 0.3 " + missing + " " + out,
         2},  // overrides need --sensor
        {"degrade --sensor pleiades --aperture-m -1 " + missing + " " + out, 2},
        {"degrade --sensor pleiades --off-nadir-deg 20 --elevation-deg 60 " + missing + " " + out, 2},
        {"degrade --sensor pleiades --off-nadir-deg 80 " + missing + " " + out, 2},  // beyond the horizon
        {"degrade --target-gsd-m 2 --sigma-px 0 --compress JPEG " + missing + " " + out, 2},
        {"degrade --target-gsd-m 2 --sigma-px 0 " + missing + " " + out, 1},  // the input is missing
        {"degrade --target-gsd-m 2 --snr 50 " + missing + " " + out, 2},      // no blur: not perfect optics
        {"degrade --target-gsd-m 2 --sigma-px 0 " + in + " " + test::shell_quote(dir / "out.png"), 2},  // a GeoTIFF
        {"assess --max-pixels -5 " + missing, 2},
        {"assess --band 0 " + missing, 2},
        {"assess --roi 10,10,100,20,0 " + missing, 2},  // a line's half-width: 5 to 64 px
        {"assess --roi 10,10,100,20,65 " + missing, 2},
        {"--threads -1 info " + missing, 2},
        {"info --height-m 1e308 " + missing, 2},
        {"synth edge " + out + " --noise-dn -1", 2},
        {"batch " + missing + " -o " + test::shell_quote(dir / "b") + " --max-pixels -5", 2},
        {"batch " + missing + " -o " + test::shell_quote(dir / "b") + " --shard 1/2 --shard-count 3", 2},
        // assess
        {"assess --elevation-deg 0 " + missing, 2},
        {"assess --elevation-deg 91 " + missing, 2},
        {"assess --snr -3 " + missing, 2},
        {"assess --band -1 " + missing, 2},
        {"assess --giqe 7 " + missing, 2},
        {"assess --roi 1,2,3 " + missing, 2},
        {"assess --gsd-m -1 " + missing, 2},
        {"assess --target tank:abc:3 " + missing, 2},
        {"assess --resolution-rule nosuch " + missing, 2},
        {"assess " + missing, 1},
        {"assess --band 5 " + in, 1},  // the file has one band
        // info
        {"info --gsd-m 0 " + in, 2},
        {"info --gsd-m a,b " + in, 2},
        {"info " + missing, 1},
        // synth
        {"synth edge --sigma-px 50 " + test::shell_quote(dir / "e.tif"), 2},
        {"synth edge --size 0 " + test::shell_quote(dir / "e.tif"), 2},
        {"synth edge --gsd-m -1 " + test::shell_quote(dir / "e.tif"), 2},
        {"synth edge --bits 8 --dark-dn 300 " + test::shell_quote(dir / "e.tif"), 2},
        {"synth tribar --elements 100 " + test::shell_quote(dir / "t.tif"), 2},
        {"synth airfield --gsd-m 20 --size 64 " + test::shell_quote(dir / "a.tif"), 2},
        {"synth airfield --sun-elevation-deg 1 --size 64 " + test::shell_quote(dir / "a.tif"), 2},
        {"synth edge --epsg 4326 " + test::shell_quote(dir / "e.tif"), 2},
    });
    EXPECT_FALSE(fs::exists(dir / "out.tif"));
    EXPECT_FALSE(fs::exists(dir / "e.tif"));
}

TEST(CliExitCodes, AssessPlotsCreatesItsFolderWithParents) {
    const test::TempDir dir("cli_plots_mkdir");
    const fs::path in = fs::path(SATIQ_SOURCE_DIR) / "samples" / "edge_5deg_sigma0p5_16bit.tif";
    const fs::path plots = dir / "a" / "b" / "plots";
    const auto r = test::run_satiq("-q assess --plots " + test::shell_quote(plots) + " " + test::shell_quote(in));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::is_directory(plots));
    EXPECT_TRUE(fs::exists(plots / "edge_5deg_sigma0p5_16bit_esf.svg"));
    // A plain file where the folder should be: an output failure, exit 1.
    { std::ofstream(dir / "file") << "x"; }
    EXPECT_EQ(
        test::run_satiq("-q assess --plots " + test::shell_quote(dir / "file") + " " + test::shell_quote(in)).exit_code,
        1);
}

TEST(CliExitCodes, DegradeTakesPredictsSensorOverridesAndRecordsThem) {
    const test::TempDir dir("cli_deg_override");
    const std::string in = test::shell_quote(make_input(dir));
    const std::string overrides = "--aperture-m 0.5 --jitter-px 0.3 --altitude-m 650000";
    const auto r = test::run_satiq("-q degrade --format json --sensor pleiades " + overrides + " --off-nadir-deg 20 " +
                                   in + " " + test::shell_quote(dir / "out.tif"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    const json& ov = j["parameters"]["sensor_overrides"];
    EXPECT_DOUBLE_EQ(ov["aperture_m"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(ov["jitter_px"].get<double>(), 0.3);
    EXPECT_DOUBLE_EQ(ov["altitude_m"].get<double>(), 650000);
    EXPECT_DOUBLE_EQ(ov["off_nadir_deg"].get<double>(), 20);
    EXPECT_DOUBLE_EQ(j["parameters"]["off_nadir_deg"].get<double>(), 20);
    const json& plan = j["results"][0]["plan"];
    EXPECT_EQ(plan["sensor_overrides"], ov);
    EXPECT_DOUBLE_EQ(plan["view"]["altitude_m"].get<double>(), 650000);

    // The same overrides in predict give the same sensor: its Q and ground GSD are in the plan's
    // target description ("... (ground GSD 0.xxx m, Q 0.xx, SNR ...)").
    const auto p = test::run_satiq("predict --format json --sensor pleiades " + overrides + " --off-nadir-deg 20");
    ASSERT_EQ(p.exit_code, 0) << p.err;
    const json pj = json::parse(p.out)["results"][0];
    std::smatch m;
    const std::string target = plan["target"].get<std::string>();
    ASSERT_TRUE(std::regex_search(target, m, std::regex(R"(ground GSD ([0-9.]+) m, Q ([0-9.]+))"))) << target;
    EXPECT_NEAR(std::stod(m[1].str()), pj["gsd_ground_m"].get<double>(), 0.0006);
    EXPECT_NEAR(std::stod(m[2].str()), pj["q"].get<double>(), 0.006);
    // Without the overrides the preset's own figures (Q differs: a larger aperture).
    const auto base = test::run_satiq("predict --format json --sensor pleiades --off-nadir-deg 20");
    EXPECT_GT(std::abs(json::parse(base.out)["results"][0]["q"].get<double>() - pj["q"].get<double>()), 0.05);

    // The output's metadata records them for later readers, and the view for assess.
    const RasterInfo info = Raster::open(dir / "out.tif").info();
    const json params = json::parse(info.metadata.at("").at("SATIQ_DEGRADE_PARAMETERS"));
    EXPECT_EQ(params["sensor_overrides"], ov);
    const json mplan = json::parse(info.metadata.at("").at("SATIQ_DEGRADE_PLAN"));
    EXPECT_EQ(mplan["sensor_overrides"], ov);
}

// A write error on stdout is a failure (here stdout is closed: every write fails with EBADF).
// stdout a pipe whose reader has gone (`satiq ... | head -1` after head exits): exit 1 with the
// message, as for any write error, not death by SIGPIPE (141). The read end is closed before
// satiq starts, so the first write fails whatever the timing.
TEST(CliExitCodes, ClosedPipeOnStdoutIsAFailureNotASignal) {
    const satiq::test::TempDir dir("cli_epipe");
    const std::string bin = satiq::test::satiq_binary();
    const std::string err_file = (dir / "err").string();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[0]);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::signal(SIGPIPE, SIG_DFL);  // as a shell starts it
        ::dup2(fds[1], 1);
        const int e = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(e, 2);
        ::execl(bin.c_str(), bin.c_str(), "require", "--list", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(fds[1]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_EQ(satiq::test::read_file(dir / "err"), "satiq: cannot write to standard output\n");
}

TEST(CliExitCodes, StdoutWriteErrorIsAFailure) {
    const auto r = satiq::test::run_command(
        "{ " + satiq::test::satiq_binary() + " info " +
        satiq::test::shell_quote(std::filesystem::path(SATIQ_SOURCE_DIR) / "samples" / "tribar.tif") +
        " --format json >&- ; }");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot write to standard output"), std::string::npos) << r.err;
}

// An absurd or non-finite pixel size is the file's error, never a silent success.
TEST(CliExitCodes, AbsurdPixelSizeIsAnError) {
    const test::TempDir dir("cli_gsd");
    for (const char* gt : {"400000, 1e30, 0, 4300000, 0, -1e30", "400000, 0, 0, 4300000, 0, 0"}) {
        const fs::path vrt = test::write_vrt_with_geotransform(dir / "bad.vrt", gt);
        const auto d = test::run_satiq("degrade " + test::shell_quote(vrt) + " " + test::shell_quote(dir / "o.tif") +
                                       " --target-gsd-m 2 --sigma-px 0");
        EXPECT_EQ(d.exit_code, 1) << gt << d.err;
        EXPECT_TRUE(d.err.find("not a usable pixel size") != std::string::npos ||
                    d.err.find("invalid geotransform") != std::string::npos)
            << d.err;
        EXPECT_FALSE(fs::exists(dir / "o.tif"));
        const auto i = test::run_satiq("info --format json " + test::shell_quote(vrt));
        EXPECT_TRUE(i.out.find("\"gsd_error\"") != std::string::npos ||
                    i.out.find("\"status\": \"error\"") != std::string::npos)
            << i.out;
    }
}

// An absurd metadata angle is ignored with a warning, not fatal.
TEST(CliExitCodes, AbsurdMetadataAngleIsIgnoredWithAWarning) {
    const test::TempDir dir("cli_angle");
    const fs::path airfield = fs::path(SATIQ_SOURCE_DIR) / "samples" / "airfield_0p25m.tif";
    ASSERT_EQ(test::run_command("gdal_translate -q -srcwin 0 0 384 384 -mo OFF_NADIR=1e308 " +
                                test::shell_quote(airfield) + " " + test::shell_quote(dir / "a.tif"))
                  .exit_code,
              0);
    const auto r = test::run_satiq("assess --format json --no-edge-records " + test::shell_quote(dir / "a.tif"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("is not a usable look angle: ignored"), std::string::npos);
    EXPECT_NE(r.out.find("\"assumed nadir\""), std::string::npos);
}

// A failed degrade still prints its JSON envelope with the failed item.
TEST(CliExitCodes, FailedDegradePrintsJson) {
    const test::TempDir dir("cli_degrade_json");
    const auto r = test::run_satiq("degrade " + test::shell_quote(dir / "missing.tif") + " " +
                                   test::shell_quote(dir / "o.tif") + " --target-gsd-m 2 --sigma-px 0 --format json");
    EXPECT_EQ(r.exit_code, 1);
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["command"], "degrade");
    EXPECT_EQ(j["failed_count"], 1);
    EXPECT_EQ(j["results"][0]["status"], "error");
    EXPECT_NE(j["results"][0]["error"].get<std::string>().find("missing.tif"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "o.tif"));
}
