// satiq sweep: the whole command on a generated scene (the airfield sample), its outputs, the
// report in a real browser, interruption and bad input.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "../../pipeline/ops/sweep_detail.hpp"  // SweepStaging (private to the sweep's files)
#include "html_check.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/sweep.hpp"
#include "satiq/version.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
namespace test = satiq::test;

namespace {

const fs::path kScene = fs::path(SATIQ_SOURCE_DIR) / "samples" / "airfield_0p25m.tif";

// `satiq -q sweep SCENE -o DIR ARGS`: the run and, when it succeeded, DIR/results.json.
struct SweepRun {
    test::CommandResult run;
    json results;
};
SweepRun run_sweep(const fs::path& dir, const std::string& args) {
    SweepRun s;
    s.run = test::run_satiq("-q sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(dir) + " " + args);
    if (s.run.exit_code == 0) s.results = json::parse(satiq::test::read_file(dir / "results.json"));
    return s;
}

// One sweep shared by the tests that only read its outputs (about 6 s on 2 cores).
struct SharedSweep {
    std::optional<test::TempDir> root;  // removed at exit
    fs::path dir;
    test::CommandResult run;
    json results;
};
const SharedSweep& shared_sweep() {
    static const SharedSweep s = [] {
        SharedSweep r;
        r.root.emplace("sweep_shared");
        r.dir = *r.root / "out";
        SweepRun sw = run_sweep(r.dir, "--gsd-m 0.25,0.5,1,2,4,8 --seed 3 --format json");
        r.run = std::move(sw.run);
        r.results = std::move(sw.results);
        return r;
    }();
    return s;
}

}  // namespace

TEST(CliSweep, MeasuredNiirsFallsWithGsdAndTracksThePrediction) {
    const SharedSweep& s = shared_sweep();
    ASSERT_EQ(s.run.exit_code, 0) << s.run.err;
    const json& steps = s.results["steps"];
    ASSERT_EQ(steps.size(), 6u);
    int compared = 0;
    double previous = 1e9, previous_se = 0;
    for (const json& st : steps) {
        const json& a = st["assess"];
        ASSERT_TRUE(a.is_object()) << st["assess_error"];
        const double measured = a["niirs"]["giqe5"]["value"].get<double>();
        const double se = a["niirs"]["giqe5"]["standard_error"].get<double>();
        const double predicted = st["prediction"]["niirs"]["giqe5"]["value"].get<double>();
        // Falls as the GSD grows, allowing for the standard errors of both steps.
        EXPECT_LT(measured, previous + std::hypot(se, previous_se)) << st["label"];
        previous = measured;
        previous_se = se;
        const bool both_axes = a["edges"]["x"]["count"].get<int>() >= 3 && a["edges"]["y"]["count"].get<int>() >= 3;
        EXPECT_EQ(st["measurement_reliable"].get<bool>(), both_axes) << st["label"];
        if (both_axes) {
            EXPECT_NEAR(measured, predicted, 0.3) << st["label"];
            ++compared;
            EXPECT_EQ(st["niirs_to_use_source"], "measured");
        } else {
            EXPECT_EQ(st["niirs_to_use_source"], "predicted");
            EXPECT_DOUBLE_EQ(st["niirs_to_use"].get<double>(), predicted);
            EXPECT_TRUE(st["reliability_note"].is_string());
        }
    }
    EXPECT_GE(compared, 3);
    EXPECT_LT(steps.back()["niirs_to_use"].get<double>(), steps.front()["niirs_to_use"].get<double>() - 3);
}

TEST(CliSweep, ResultsCarryProvenanceAndEveryStep) {
    const SharedSweep& s = shared_sweep();
    ASSERT_EQ(s.run.exit_code, 0) << s.run.err;
    const json& r = s.results;
    EXPECT_EQ(r["command"], "sweep");
    EXPECT_EQ(r["satiq_version"], SATIQ_VERSION_STRING);
    EXPECT_EQ(r["parameters"]["seed"], 3);
    // The checksum against coreutils' sha256sum, an independent implementation.
    const auto sum = test::run_command("sha256sum " + test::shell_quote(kScene));
    ASSERT_EQ(sum.exit_code, 0);
    EXPECT_EQ(r["input"]["sha256"].get<std::string>(), sum.out.substr(0, 64));
    EXPECT_EQ(r["input"]["bytes"].get<std::uintmax_t>(), fs::file_size(kScene));
    for (const json& st : r["steps"]) {
        EXPECT_TRUE(st["degrade"]["plan"].is_object());
        EXPECT_TRUE(st["prediction"]["interpretability"].is_object());
        EXPECT_TRUE(fs::is_regular_file(s.dir / st["chip"].get<std::string>()));
        EXPECT_TRUE(fs::is_regular_file(s.dir / st["zoom_chip"].get<std::string>()));
    }
    // The task matrix: Johnson tasks and both scales' criteria, one cell per step.
    std::set<std::string> groups;
    for (const json& t : r["tasks"]) {
        groups.insert(t["group"].get<std::string>());
        EXPECT_EQ(t["predicted_met"].size(), r["steps"].size());
    }
    EXPECT_TRUE(groups.count("Detection") && groups.count("Identification") &&
                groups.count("NIIRS criteria (military scale)"));
    // The CSV: a header and one row per step; unreliable steps say so.
    const std::string csv = satiq::test::read_file(s.dir / "results.csv");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + static_cast<long>(r["steps"].size()));
    EXPECT_NE(csv.find(",false,\""), std::string::npos);  // the 8 m step has too few edges
    EXPECT_NE(csv.find("use the prediction"), std::string::npos);
    // stdout: the envelope with the verdict.
    const json out = json::parse(s.run.out);
    EXPECT_EQ(out["command"], "sweep");
    EXPECT_EQ(out["failed_count"], 0);
    EXPECT_EQ(out["results"][0]["verdict"], r["verdict"]);
    EXPECT_NE(r["verdict"].get<std::string>().find("Malligyong-1"), std::string::npos) << r["verdict"];
    // Each NIIRS of the verdict says where it comes from: the 4 m step has too few edges
    // (predicted), the 0.25 m one has plenty (measured).
    EXPECT_NE(r["verdict"].get<std::string>().find("(predicted NIIRS "), std::string::npos) << r["verdict"];
    EXPECT_NE(r["verdict"].get<std::string>().find("(measured NIIRS "), std::string::npos) << r["verdict"];
    // No temporary step file is left.
    for (const auto& e : fs::directory_iterator(s.dir))
        EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

TEST(CliSweep, ResolvedParametersSayWhatEveryStepUsedAndWhereItComesFrom) {
    const SharedSweep& s = shared_sweep();
    ASSERT_EQ(s.run.exit_code, 0) << s.run.err;
    const json& r = s.results;
    // The parameters say what was given: the simple form's defaults stay null there ...
    for (const char* k : {"mtf_nyquist", "sigma_px", "snr", "bits", "input_sigma_px"})
        EXPECT_TRUE(r["parameters"][k].is_null()) << k;
    // ... and resolved_parameters what the run used, each figure with its provenance.
    const json& v = r["resolved_parameters"];
    const json& p = r["provenance"];
    EXPECT_DOUBLE_EQ(v["mtf_nyquist"].get<double>(), satiq::sweep_default_mtf_nyquist);
    EXPECT_NE(p["mtf_nyquist"]["assumed"].get<std::string>().find("satiq sweep's default"), std::string::npos) << p;
    EXPECT_DOUBLE_EQ(v["snr"].get<double>(), satiq::sweep_default_snr);
    EXPECT_TRUE(p["snr"].contains("assumed")) << p;
    EXPECT_TRUE(p["sigma_px"].contains("derived")) << p;
    EXPECT_EQ(v["bits"], 16);  // the airfield sample is UInt16
    EXPECT_NE(p["bits"]["derived"].get<std::string>().find("UInt16"), std::string::npos) << p;
    EXPECT_EQ(v["gsd_m"], (json{0.25, 0.5, 1, 2, 4, 8}));
    EXPECT_EQ(p["gsd_m"]["given"], "--gsd-m 0.25,0.5,1,2,4,8");
    EXPECT_DOUBLE_EQ(v["input_sigma_px"].get<double>(), r["input"]["blur_sigma_px"].get<double>());
    EXPECT_TRUE(p["input_sigma_px"].contains("derived")) << p;
    for (const auto& [key, value] : v.items())
        EXPECT_TRUE(p.contains(key)) << key;
    // Each step's prediction says the same of its model's figures (a default is not "given").
    for (const json& st : r["steps"]) {
        EXPECT_EQ(st["prediction"]["provenance"]["mtf_nyquist"], p["mtf_nyquist"]) << st["label"];
        EXPECT_EQ(st["prediction"]["provenance"]["snr"], p["snr"]) << st["label"];
    }
    // The command's JSON on stdout and the report carry the same.
    const json out = json::parse(s.run.out);
    EXPECT_EQ(out["results"][0]["resolved_parameters"], v);
    EXPECT_EQ(out["results"][0]["provenance"], p);
    const std::string html = satiq::test::read_file(s.dir / "report.html");
    const std::size_t table = html.find("id=\"provenance\"");
    ASSERT_NE(table, std::string::npos);
    EXPECT_NE(html.find(">mtf_nyquist</th><td class=\"task\">0.15 (assumed: satiq sweep&#39;s default", table),
              std::string::npos)
        << html.substr(table, 3000);
}

TEST(CliSweep, TextTableMarksStepsWithGiqe5RangeNotes) {
    const test::TempDir root("sweep_notes");
    // 1 m is inside GIQE 5's validated GSD range (0.08-1.4 m), 4 m is not.
    const auto [r, j] = run_sweep(root / "o", "--gsd-m 1,4");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(j["steps"].size(), 2u);
    std::istringstream lines(r.out);
    std::string line, step1, step2;
    while (std::getline(lines, line)) {
        if (line.find("  1.0 m ") != std::string::npos) step1 = line;
        if (line.find("  4.0 m ") != std::string::npos) step2 = line;
    }
    EXPECT_EQ(step1.find('['), std::string::npos) << r.out;
    EXPECT_NE(step2.find("[1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("GIQE 5 range notes"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[1] weighted GSD outside the validated 0.08-1.4 m: extrapolated (measured: step 2; "
                         "predicted: step 2)"),
              std::string::npos)
        << r.out;
    // The JSON has the sentences in full, on the step the table marks.
    bool found = false;
    for (const json& w : j["steps"][1]["prediction"]["niirs"]["giqe5"]["warnings"])
        found |= w.get<std::string>().find("outside the validated range") != std::string::npos;
    EXPECT_TRUE(found) << j["steps"][1]["prediction"]["niirs"]["giqe5"]["warnings"];
}

TEST(CliSweep, ReportIsSelfContainedValidAndRendersInChromium) {
    const SharedSweep& s = shared_sweep();
    ASSERT_EQ(s.run.exit_code, 0) << s.run.err;
    const fs::path report = s.dir / "report.html";
    const std::string html = satiq::test::read_file(report);
    const auto errors = test::html_structure_errors(html);
    EXPECT_TRUE(errors.empty()) << errors.front();
    const auto external = test::html_external_references(html);
    EXPECT_TRUE(external.empty()) << external.front();
    for (const char* id : {"id=\"chart-niirs\"", "id=\"chart-rer\"", "id=\"chart-mtf50\"", "id=\"chart-snr\"",
                           "id=\"verdict\"", "id=\"chips\"", "class=\"tasks\"", "id=\"provenance\""})
        EXPECT_NE(html.find(id), std::string::npos) << id;
    EXPECT_NE(html.find("use the prediction"), std::string::npos);  // unreliable steps are named
    if (!test::chromium_available()) GTEST_SKIP() << "chromium not installed";
    const fs::path png = s.dir.parent_path() / "report.png";
    const test::Screenshot shot = test::chromium_screenshot(report, png, 1200, 2400);
    ASSERT_TRUE(shot.ok) << shot.error;
    EXPECT_GT(shot.luminance_stddev, 20);
    EXPECT_GT(shot.distinct_colors, 50);
    const std::string dom = test::chromium_dump_dom(report);
    EXPECT_NE(dom.find("chart-niirs"), std::string::npos);
    EXPECT_NE(dom.find("class=\"tasks\""), std::string::npos);
    std::size_t imgs = 0;
    for (std::size_t at = 0; (at = dom.find("<img src=\"data:image/png;base64,", at)) != std::string::npos; ++at)
        ++imgs;
    EXPECT_EQ(imgs, 2 * (s.results["steps"].size() + 1));
}

TEST(CliSweep, SameResultsForAnyThreadCount) {
    const satiq::test::TempDir dir("sweep_threads");
    std::string csv[2];
    json results[2];
    int k = 0;
    // results.json without what differs by design: timings, the start time and the folder given.
    auto strip = [](json j) {
        j.erase("started_utc");
        j["parameters"].erase("output_dir");
        std::vector<json*> todo = {&j};
        while (!todo.empty()) {
            json* x = todo.back();
            todo.pop_back();
            if (x->is_object()) {
                x->erase("seconds");
                x->erase("runstats");
            }
            if (x->is_structured())
                for (json& v : *x)
                    todo.push_back(&v);
        }
        return j;
    };
    for (int threads : {1, 2}) {
        const fs::path out = dir / std::to_string(threads);
        const auto r = test::run_satiq(fmt::format("-q --threads {} sweep {} -o {} --gsd-m 0.5,2 --seed 9 --keep-steps",
                                                   threads, test::shell_quote(kScene), test::shell_quote(out)));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        csv[k] = satiq::test::read_file(out / "results.csv");
        results[k++] = strip(json::parse(satiq::test::read_file(out / "results.json")));
        EXPECT_EQ(satiq::test::read_file(out / "chips" / "step02.png"),
                  satiq::test::read_file(dir / "1" / "chips" / "step02.png"));
    }
    EXPECT_EQ(csv[0], csv[1]);
    // The whole results.json, too: no name of the run's staging folder in it (a step's file is
    // named as committed), and a kept step's metadata names its committed file.
    EXPECT_EQ(results[0], results[1]);
    EXPECT_EQ(results[0]["steps"][1]["assess"]["file"], "steps/step02_2.000m.tif");
    EXPECT_EQ(results[0].dump().find("satiq-sweep"), std::string::npos);
    const json meta = json::parse(satiq::Raster::open(dir / "1" / "steps" / "step02_2.000m.tif")
                                      .info()
                                      .metadata.at("")
                                      .at("SATIQ_DEGRADE_PARAMETERS"));
    EXPECT_EQ(meta["output"], (dir / "1" / "steps" / "step02_2.000m.tif").string());
}

TEST(CliSweep, SensorsFormAndPresetTemplate) {
    const satiq::test::TempDir dir("sweep_sensors");
    auto r = test::run_satiq("sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(dir / "a") +
                             " --sensors malligyong-1,worldview-3 --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Progress on stderr (not a terminal here: plain lines, and the final one).
    EXPECT_NE(r.err.find("sweep: 2/2 steps in "), std::string::npos) << r.err;
    EXPECT_EQ(json::parse(r.out)["command"], "sweep");
    json j = json::parse(satiq::test::read_file(dir / "a" / "results.json"));
    ASSERT_EQ(j["steps"].size(), 2u);
    EXPECT_EQ(j["steps"][0]["preset"], "worldview-3");  // sorted by GSD
    EXPECT_EQ(j["steps"][1]["preset"], "malligyong-1");
    const SweepRun b = run_sweep(dir / "b", "--sensor pleiades --gsd-m 0.5,1 --format json");
    ASSERT_EQ(b.run.exit_code, 0) << b.run.err;
    j = b.results;
    // The template keeps its Q at every GSD (altitude scaled): same predicted RER.
    EXPECT_NEAR(j["steps"][0]["prediction"]["q"].get<double>(), j["steps"][1]["prediction"]["q"].get<double>(), 1e-9);
    EXPECT_NEAR(j["steps"][1]["prediction"]["gsd_ground_m"].get<double>(), 1.0, 1e-6);
    // The template's figures with the preset's references; its altitude is scaled per step.
    EXPECT_TRUE(j["provenance"]["aperture_diameter_m"].contains("source")) << j["provenance"];
    EXPECT_NE(j["provenance"]["altitude_m"].begin().value().get<std::string>().find("scaled to each step's GSD"),
              std::string::npos)
        << j["provenance"];
    EXPECT_GT(j["resolved_parameters"]["snr"].get<double>(), 0.0);
    EXPECT_FALSE(j["provenance"].contains("mtf_nyquist"));
    // A template with an override: the figure is named by its option, with the preset's value.
    const SweepRun c = run_sweep(dir / "c", "--sensor pleiades --jitter-px 0.4 --gsd-m 1 --format json");
    ASSERT_EQ(c.run.exit_code, 0) << c.run.err;
    j = c.results;
    EXPECT_EQ(
        j["provenance"]["jitter_sigma_px"]["given"].get<std::string>().rfind("--jitter-px 0.4; the preset has ", 0), 0u)
        << j["provenance"];
    EXPECT_EQ(j["parameters"]["sensor_overrides"], (json{{"jitter_px", 0.4}}));
}

namespace {

// Every file under `dir` with its bytes (hidden ones included).
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> files;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec))
        files[e.path().lexically_relative(dir).generic_string()] =
            e.is_regular_file() ? satiq::test::read_file(e.path()) : std::string("<folder>");
    return files;
}

// A folder holding an earlier sweep's outputs beside the user's own files.
void fill_earlier_sweep(const fs::path& dir) {
    fs::create_directories(dir / "chips");
    fs::create_directories(dir / "steps");
    for (const char* f : {"results.json", "results.csv", "report.html", "chips/input.png", "chips/step01.png",
                          "chips/step05.png", "chips/step05_zoom.png", "steps/step05_8.000m.tif"})
        std::ofstream(dir / f) << "earlier " << f;
    std::ofstream(dir / "notes.txt") << "the user's notes";
    std::ofstream(dir / "chips" / "logo.png") << "the user's logo";
}

}  // namespace

TEST(CliSweep, InterruptLeavesTheOutputFolderAsItWas) {
    // Twice per signal: into a folder that does not exist (it must stay absent) and into one
    // holding an earlier sweep and the user's files (they must stay byte for byte).
    for (int sig : {SIGINT, SIGTERM})
        for (bool existed : {false, true}) {
            const test::TempDir root("sweep_signal");
            const fs::path dir = root / "out";
            if (existed) fill_earlier_sweep(dir);
            const auto before = snapshot(root);
            const pid_t pid = fork();
            ASSERT_GE(pid, 0);
            if (pid == 0) {
                const std::string bin = test::satiq_binary();
                execl(bin.c_str(), bin.c_str(), "-q", "sweep", kScene.c_str(), "-o", dir.c_str(), "--gsd-m",
                      "0.25:8:1.2", static_cast<char*>(nullptr));
                _exit(127);
            }
            // Wait until a step is under way (its hidden GeoTIFF exists in the staging folder),
            // then interrupt.
            bool started = false;  // ten minutes at most: sanitizer builds on a loaded machine are slow
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
            while (!started && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                std::error_code ec;
                for (const auto& e : fs::recursive_directory_iterator(root, ec)) {
                    const std::string name = e.path().filename().string();
                    started |=
                        name.rfind(".step", 0) == 0 && e.path().string().find(".satiq-sweep-") != std::string::npos;
                }
            }
            EXPECT_TRUE(started);
            kill(pid, sig);
            int status = 0;
            ASSERT_EQ(waitpid(pid, &status, 0), pid);
            ASSERT_TRUE(WIFEXITED(status));
            EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
            EXPECT_EQ(fs::exists(dir), existed);
            EXPECT_EQ(snapshot(root), before) << "signal " << sig << (existed ? ", existing folder" : "");
        }
}

TEST(CliSweep, RerunLeavesExactlyItsOwnOutputsAndKeepsTheUsersFiles) {
    const test::TempDir root("sweep_rerun");
    const fs::path dir = root / "out";
    fill_earlier_sweep(dir);
    auto r = test::run_satiq("-q sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(dir) +
                             " --gsd-m 1 --seed 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> names;
    for (const auto& [name, bytes] : snapshot(root))
        names.insert(name);
    // The earlier kept step is gone, and with it the steps/ folder it leaves empty.
    EXPECT_EQ(names,
              (std::set<std::string>{"out", "out/chips", "out/chips/input.png", "out/chips/input_zoom.png",
                                     "out/chips/logo.png", "out/chips/step01.png", "out/chips/step01_zoom.png",
                                     "out/notes.txt", "out/report.html", "out/results.csv", "out/results.json"}));
    EXPECT_EQ(satiq::test::read_file(dir / "notes.txt"), "the user's notes");
    EXPECT_EQ(satiq::test::read_file(dir / "chips" / "logo.png"), "the user's logo");
    EXPECT_EQ(json::parse(satiq::test::read_file(dir / "results.json"))["steps"].size(), 1u);
    // --no-clobber: a folder holding a sweep's outputs is refused before any work, untouched.
    const auto before = snapshot(root);
    r = test::run_satiq("--no-clobber sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(dir) +
                        " --gsd-m 2");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--no-clobber"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(snapshot(root), before);
    // Into a folder whose parents are missing: the whole path appears, nothing hidden is left.
    r = test::run_satiq("-q --no-clobber sweep " + test::shell_quote(kScene) + " -o " +
                        test::shell_quote(root / "a" / "b") + " --gsd-m 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::is_regular_file(root / "a" / "b" / "results.json"));
    for (const auto& e : fs::directory_iterator(root))
        EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

TEST(CliSweep, FailedCommitPutsBackEveryFileItMoved) {
    // A real file-system condition the early checks do not catch: the name of the second step's
    // chip is taken by a non-empty folder. The commit has by then replaced input.png and step01.png
    // and placed input_zoom.png and step01_zoom.png; all of that is undone (the old behaviour left
    // them), and the error is one line naming the file.
    const test::TempDir root("sweep_rollback");
    const fs::path dir = root / "out";
    fill_earlier_sweep(dir);
    fs::create_directories(dir / "chips" / "step02.png");
    std::ofstream(dir / "chips" / "step02.png" / "inside") << "the user's";
    const auto before = snapshot(root);
    const auto r =
        test::run_satiq("-q sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(dir) + " --gsd-m 0.5,1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("chips/step02.png"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is left as it was"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(snapshot(root), before);  // byte for byte, and no staging folder left
}

// The names an earlier sweep wrote, and only those, are a sweep's outputs (the stale files a new
// sweep may replace or remove; every other file of DIR is the user's).
TEST(SweepStaging, SweepOutputsAreExactlyTheNamesASweepWrites) {
    using satiq::detail::is_sweep_output;
    for (const char* yes :
         {"results.json", "results.csv", "report.html", "chips/input.png", "chips/input_zoom.png", "chips/step01.png",
          "chips/step10_zoom.png", "chips/step123.png", "steps/step01_0.500m.tif", "steps/step12_10.000m.tif"})
        EXPECT_TRUE(is_sweep_output(yes)) << yes;
    for (const char* no : {"", "results.jsonl", "notes.txt", "chips/step1.png", "chips/stepAB.png", "chips/step01.jpg",
                           "chips/step01_zoom.png.bak", "chips/input.PNG", "steps/step01_0.5m.tif",
                           "steps/step01_0.5000m.tif", "steps/step01_.500m.tif", "steps/step01_0.500m.tiff",
                           "steps/step01-0.500m.tif", "other/results.json", "chips/step01", "steps/step01_0.500m"})
        EXPECT_FALSE(is_sweep_output(no)) << no;
}

TEST(SweepStaging, CommitRollsBackWhereverItFails) {
    // The commit into an existing folder, failing at each staged file in turn (the test hook,
    // sweep_detail.hpp): before the stale files of the earlier sweep are removed, after, and at
    // results.json, the last. Every time the folder is left byte for byte as it was.
    const std::vector<std::string> staged = {
        "chips/input.png", "chips/input_zoom.png", "chips/step01.png", "steps/step01_0.500m.tif",
        "results.csv",     "report.html",          "results.json"};
    auto earlier = [](const fs::path& dir) {
        fill_earlier_sweep(dir);  // results, report, chips input, step01, step05 (stale) and the user's files
        fs::create_directories(dir / "steps");
        std::ofstream(dir / "steps" / "step01_0.500m.tif") << "earlier tif";
        std::ofstream(dir / "steps" / "step01_0.500m.tif.aux.xml") << "earlier aux";
        std::ofstream(dir / "steps" / "step03_2.000m.tif") << "earlier stale tif";
    };
    auto stage = [&](satiq::detail::SweepStaging& s) {
        for (const std::string& f : staged) {
            fs::create_directories((s.dir() / f).parent_path());
            std::ofstream(s.dir() / f) << "new " << f;
        }
    };
    for (const std::string& fail_at : staged) {
        const test::TempDir root("sweep_staging");
        const fs::path dir = root / "out";
        earlier(dir);
        const auto before = snapshot(root);
        {
            satiq::detail::SweepStaging s(dir);
            stage(s);
            s.fail_commit_at_for_testing(fail_at);
            try {
                s.commit();
                ADD_FAILURE() << "the commit did not fail at " << fail_at;
            } catch (const satiq::Error& e) {
                const std::string m = e.what();
                EXPECT_NE(m.find(fail_at), std::string::npos) << m;
                EXPECT_NE(m.find("is left as it was"), std::string::npos) << m;
                EXPECT_EQ(m.find('\n'), std::string::npos) << m;
            }
        }
        EXPECT_EQ(snapshot(root), before) << "failing at " << fail_at;
    }
    // Without a failure: exactly the new outputs beside the user's files, no backup left.
    const test::TempDir root("sweep_staging_ok");
    const fs::path dir = root / "out";
    earlier(dir);
    {
        satiq::detail::SweepStaging s(dir);
        stage(s);
        s.commit();
    }
    std::set<std::string> names;
    for (const auto& [name, bytes] : snapshot(dir))
        names.insert(name);
    EXPECT_EQ(names, (std::set<std::string>{"chips", "chips/input.png", "chips/input_zoom.png", "chips/logo.png",
                                            "chips/step01.png", "notes.txt", "report.html", "results.csv",
                                            "results.json", "steps", "steps/step01_0.500m.tif"}));
    EXPECT_EQ(satiq::test::read_file(dir / "results.json"), "new results.json");
}

// A GDAL virtual path (as every other command reads it): its checksum is the file's.
TEST(CliSweep, VirtualPathInputIsReadThroughGdal) {
    const test::TempDir root("sweep_vsi");
    const fs::path tribar = fs::path(SATIQ_SOURCE_DIR) / "samples" / "tribar.tif";
    const std::string vsi = "/vsisubfile/0_0," + tribar.string();  // the whole file, through GDAL
    const test::CommandResult r =
        test::run_satiq("-q sweep " + test::shell_quote(vsi) + " -o " + test::shell_quote(root / "o") + " --gsd-m 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(satiq::test::read_file(root / "o" / "results.json"));
    EXPECT_EQ(j["input"]["file"], vsi);
    EXPECT_EQ(j["input"]["bytes"].get<std::uintmax_t>(), fs::file_size(tribar));
    const test::CommandResult sum = test::run_command("sha256sum " + test::shell_quote(tribar));
    EXPECT_EQ(sum.out.substr(0, 64), j["input"]["sha256"].get<std::string>());
}

TEST(CliSweep, StepsFinerThanTheInputAreSkippedAndSaid) {
    const test::TempDir root("sweep_skip");
    // The airfield taken as 0.5 m: WorldView-3 (0.31 m) is finer, Malligyong-1 (3 m) is not.
    auto r = test::run_satiq("sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(root / "presets") +
                             " --input-gsd-m 0.5 --sensors worldview-3,malligyong-1 --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("satiq sweep: warning: step worldview-3 (0.31"), std::string::npos) << r.err;
    json j = json::parse(satiq::test::read_file(root / "presets" / "results.json"));
    ASSERT_EQ(j["steps"].size(), 1u);
    EXPECT_EQ(j["steps"][0]["preset"], "malligyong-1");
    ASSERT_EQ(j["skipped_steps"].size(), 1u);
    EXPECT_EQ(j["skipped_steps"][0]["preset"], "worldview-3");
    EXPECT_NE(j["skipped_steps"][0]["reason"].get<std::string>().find("finer than the input"), std::string::npos);
    EXPECT_EQ(json::parse(r.out)["results"][0]["skipped_steps"], 1);
    EXPECT_NE(satiq::test::read_file(root / "presets" / "report.html").find("id=\"skipped\""), std::string::npos);
    // A GSD list the same way: 0.1 m is skipped (one warning line), 2 m runs.
    r = test::run_satiq("sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(root / "list") +
                        " --gsd-m 0.1,2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("skipped: finer than the input's GSD"), std::string::npos) << r.out;
    j = json::parse(satiq::test::read_file(root / "list" / "results.json"));
    ASSERT_EQ(j["steps"].size(), 1u);
    EXPECT_DOUBLE_EQ(j["steps"][0]["target_gsd_m"].get<double>(), 2.0);
    EXPECT_DOUBLE_EQ(j["skipped_steps"][0]["target_gsd_m"].get<double>(), 0.1);
    // -q: no warning on stderr (it stays in the outputs).
    r = test::run_satiq("-q sweep " + test::shell_quote(kScene) + " -o " + test::shell_quote(root / "quiet") +
                        " --gsd-m 0.1,2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(CliSweep, DefaultStepsOfACoarseInputAndAVerdictThatSaysWhereItsNiirsComesFrom) {
    const test::TempDir root("sweep_coarse");
    // The airfield taken as 5 m: the default runs 10 steps from 5 m to 4 x 5 = 20 m (not 10 m).
    const auto [r, j] = run_sweep(root / "o", "--input-gsd-m 5");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(j["steps"].size(), 10u);
    // Not given: null in the parameters; the steps used are in resolved_parameters.
    EXPECT_TRUE(j["parameters"]["gsd_m"].is_null()) << j["parameters"];
    ASSERT_EQ(j["resolved_parameters"]["gsd_m"].size(), 10u);
    EXPECT_NE(j["provenance"]["gsd_m"]["assumed"].get<std::string>().find("default"), std::string::npos);
    EXPECT_NEAR(j["steps"][0]["target_gsd_m"].get<double>(), 5.0, 1e-9);
    EXPECT_NEAR(j["steps"][9]["target_gsd_m"].get<double>(), 20.0, 1e-9);
    // Every step is at least 5 m, so the verdict names one step's NIIRS and where it comes from:
    // the first step has the input's pixels and edges enough, so it is measured.
    std::string verdict = j["verdict"].get<std::string>();
    ASSERT_EQ(j["steps"][0]["measurement_reliable"], true) << verdict;
    EXPECT_NE(verdict.find("At 5.0 m GSD the simulated image measures NIIRS"), std::string::npos) << verdict;
    EXPECT_EQ(verdict.find("the image rates"), std::string::npos) << verdict;
    // One 8 m step of a 0.25 m scene has too few edges: the NIIRS named is the sensor model's,
    // said so, beside what assess makes of the input itself.
    const auto [r8, j8] = run_sweep(root / "p", "--gsd-m 8");
    ASSERT_EQ(r8.exit_code, 0) << r8.err;
    verdict = j8["verdict"].get<std::string>();
    ASSERT_EQ(j8["steps"][0]["measurement_reliable"], false) << verdict;
    EXPECT_NE(verdict.find(fmt::format("the sensor model predicts NIIRS {:.1f}",
                                       j8["steps"][0]["prediction"]["niirs"]["giqe5"]["value"].get<double>())),
              std::string::npos)
        << verdict;
    EXPECT_NE(verdict.find(fmt::format("assess rates the input itself NIIRS {:.1f}",
                                       j8["input"]["assess"]["niirs"]["giqe5"]["value"].get<double>())),
              std::string::npos)
        << verdict;
    // The table's edge counts are labelled per axis.
    EXPECT_NE(r.out.find("edges x/y"), std::string::npos) << r.out;
}

TEST(CliSweep, BadInputGivesOneClearErrorAndWritesNothing) {
    const satiq::test::TempDir dir("sweep_bad");
    const fs::path text = dir / "notes.tif";
    std::ofstream(text) << "not a raster\n";
    const fs::path file_as_dir = dir / "file";
    std::ofstream(file_as_dir) << "x";
    struct Case {
        std::string args;
        int exit_code;
        std::string says;
        fs::path out;
    };
    const std::string scene = test::shell_quote(kScene);
    const std::vector<Case> cases = {
        {test::shell_quote(text) + " -o " + test::shell_quote(dir / "o1"), 1, "notes.tif", dir / "o1"},
        {test::shell_quote(dir / "missing.tif") + " -o " + test::shell_quote(dir / "o2"), 1, "missing.tif", dir / "o2"},
        {scene + " -o " + test::shell_quote(dir / "o3") + " --gsd-m 0.1,0.2", 2, "every step is finer than the input",
         dir / "o3"},
        {scene + " -o " + test::shell_quote(dir / "o4") + " --gsd-m 1,abc", 2, "'abc'", dir / "o4"},
        {scene + " -o " + test::shell_quote(dir / "o5") + " --sensors worldview-3,nosuch", 2, "nosuch", dir / "o5"},
        {scene + " -o " + test::shell_quote(dir / "o6") + " --sensor nosuch", 2, "nosuch", dir / "o6"},
        {scene + " -o " + test::shell_quote(file_as_dir) + " --gsd-m 1", 1, "not one", {}},
        {scene + " -o " + test::shell_quote(file_as_dir / "sub") + " --gsd-m 1", 1, "cannot create", {}},
    };
    for (const Case& c : cases) {
        const auto r = test::run_satiq("sweep " + c.args);
        EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << c.args << "\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
        if (!c.out.empty()) {
            EXPECT_FALSE(fs::exists(c.out)) << c.args;
        }
    }
    EXPECT_EQ(satiq::test::read_file(file_as_dir), "x");
}

TEST(CliSweep, GsdStepParsing) {
    const auto r = test::run_satiq("sweep " + test::shell_quote(kScene) + " -o /nonexistent/x --gsd-m 1:0.5:2");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("STOP is below START"), std::string::npos) << r.err;
}

TEST(Sweep, ParseGsdStepsListsAndGeometricRanges) {
    EXPECT_EQ(satiq::parse_gsd_steps("2,0.5,1,1"), (std::vector<double>{0.5, 1, 2}));
    const auto g = satiq::parse_gsd_steps("0.25:1:2");
    ASSERT_EQ(g.size(), 3u);
    EXPECT_DOUBLE_EQ(g[2], 1.0);
    // STOP is always the last step: 0.3 x 1.5^8 = 7.69, x 1.5^9 = 11.5 > 10, so 10 is appended.
    const auto r = satiq::parse_gsd_steps("0.3:10:1.5");
    ASSERT_EQ(r.size(), 10u);
    EXPECT_DOUBLE_EQ(r[8], 0.3 * std::pow(1.5, 8));
    EXPECT_DOUBLE_EQ(r.back(), 10.0);
    EXPECT_EQ(satiq::parse_gsd_steps("0.5:10:2"), (std::vector<double>{0.5, 1, 2, 4, 8, 10}));
    EXPECT_DOUBLE_EQ(satiq::parse_gsd_steps("0.5:10:1.5").back(), 10.0);
    EXPECT_EQ(satiq::parse_gsd_steps("1:1:2"), (std::vector<double>{1}));
    EXPECT_EQ(satiq::parse_gsd_steps("1:8.005:2"), (std::vector<double>{1, 2, 4, 8}));  // within 0.1 %: reached
    for (const char* bad : {"", "0", "-1", "1,,2", "nan", "1:2", "1:2:1", "1:2:0.5", "1e-9:1e9:1.01"})
        EXPECT_THROW((void)satiq::parse_gsd_steps(bad), satiq::UsageError) << bad;
}

TEST(CliSweepReal, RgbAndUngeoreferencedInputs) {
    if (!test::have_real_data()) GTEST_SKIP() << "no ../shared/data/real";
    const satiq::test::TempDir dir("sweep_real");
    // RGB: measured on the luminance, as assess.
    const fs::path rgb = test::real_data_dir() / "hro_colorado_rgb_0p15m.tif";
    auto r = test::run_satiq("-q sweep " + test::shell_quote(rgb) + " -o " + test::shell_quote(dir / "rgb") +
                             " --gsd-m 0.15,0.3,0.6 --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(satiq::test::read_file(dir / "rgb" / "results.json"));
    EXPECT_EQ(j["input"]["assess"]["band_used"].get<std::string>().rfind("luminance of bands 1-3", 0), 0u);
    EXPECT_EQ(j["steps"].size(), 3u);
    // An ungeoreferenced PNG copy of pan1 (0.5 m): refused without its GSD, measured with it.
    const fs::path png = dir / "pan1.png";
    ASSERT_EQ(test::run_command("gdal_translate -q -of PNG -ot Byte -scale " +
                                test::shell_quote(test::real_data_dir() / "pan1.tif") + " " + test::shell_quote(png))
                  .exit_code,
              0);
    fs::remove(fs::path(png.string() + ".aux.xml"));
    r = test::run_satiq("sweep " + test::shell_quote(png) + " -o " + test::shell_quote(dir / "png") + " --gsd-m 1,2");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--input-gsd-m"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "png"));
    r = test::run_satiq("-q sweep " + test::shell_quote(png) + " -o " + test::shell_quote(dir / "png") +
                        " --input-gsd-m 0.5 --gsd-m 0.5,1,2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    j = json::parse(satiq::test::read_file(dir / "png" / "results.json"));
    ASSERT_EQ(j["steps"].size(), 3u);
    EXPECT_NEAR(j["steps"][2]["assess"]["gsd"]["mean_m"].get<double>(), 2.0, 1e-9);
    // The 0.5 m step of pan1 has edges enough on both axes, and agrees with its prediction.
    EXPECT_TRUE(j["steps"][0]["measurement_reliable"].get<bool>());
    EXPECT_NEAR(j["steps"][0]["assess"]["niirs"]["giqe5"]["value"].get<double>(),
                j["steps"][0]["prediction"]["niirs"]["giqe5"]["value"].get<double>(), 0.4);
}
