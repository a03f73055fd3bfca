// satiq batch and satiq report: failures among good images, resume, shards and their merge,
// MPI ranks, a kill midway, STAC input. Runs the real binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "html_check.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
namespace test = satiq::test;

namespace {

std::vector<json> records(const fs::path& jsonl) {
    std::vector<json> out;
    std::istringstream in(satiq::test::read_file(jsonl));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

// Records as a set, without what changes between identical runs ("run": time, host).
std::multiset<std::string> as_set(std::vector<json> recs) {
    std::multiset<std::string> s;
    for (json& r : recs) {
        r.erase("run");
        s.insert(r.dump());
    }
    return s;
}

// Eight small airfield scenes (different seeds and GSDs), made once.
const fs::path& good_images() {
    static const satiq::test::TempDir dir = [] {
        satiq::test::TempDir d("batch_images");  // removed at exit
        for (int i = 0; i < 8; ++i) {
            const auto r = test::run_satiq(fmt::format("synth airfield {} --size 384 --seed {} --gsd-m {}",
                                                       test::shell_quote(d / fmt::format("scene{}.tif", i)), i + 1,
                                                       0.25 + 0.05 * i));
            EXPECT_EQ(r.exit_code, 0) << r.err;
            fs::remove(d / fmt::format("scene{}.json", i));  // the truth beside it is not a raster
        }
        return d;
    }();
    return dir.path();
}

test::CommandResult batch(const std::string& args) {
    return test::run_satiq("-q batch " + args);
}

}  // namespace

TEST(CliBatch, FailuresAreRecordedAndTheGoodImagesAssessed) {
    const satiq::test::TempDir dir("batch_failures");
    const fs::path corrupt = dir / "corrupt.tif";
    {
        const std::string bytes = satiq::test::read_file(good_images() / "scene0.tif");
        std::ofstream(corrupt, std::ios::binary) << bytes.substr(0, bytes.size() / 3);  // cut short
    }
    std::ofstream(dir / "notes.txt") << "not a raster\n";
    const fs::path plain = dir / "plain.png";
    ASSERT_EQ(test::run_command("gdal_translate -q -of PNG -ot Byte -scale " +
                                test::shell_quote(good_images() / "scene1.tif") + " " + test::shell_quote(plain))
                  .exit_code,
              0);
    fs::remove(fs::path(plain.string() + ".aux.xml"));
    const auto r =
        batch(test::shell_quote(good_images()) + " " + test::shell_quote(corrupt) + " " +
              test::shell_quote(dir / "notes.txt") + " " + test::shell_quote(plain) + " " +
              test::shell_quote(dir / "missing.tif") + " -o " + test::shell_quote(dir / "out") + " --format json");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const json env = json::parse(r.out);
    EXPECT_EQ(env["failed_count"], 4);
    const auto recs = records(dir / "out" / "results.jsonl");
    ASSERT_EQ(recs.size(), 12u);
    std::map<std::string, json> by_name;
    for (const json& rec : recs)
        by_name[fs::path(rec["path"].get<std::string>()).filename().string()] = rec;
    for (int i = 0; i < 8; ++i) {
        const json& rec = by_name[fmt::format("scene{}.tif", i)];
        EXPECT_EQ(rec["status"], "ok") << rec.dump();
        EXPECT_TRUE(rec["summary"]["niirs"].is_number());
        EXPECT_NEAR(rec["summary"]["gsd_m"].get<double>(), 0.25 + 0.05 * i, 1e-9);
    }
    for (const char* bad : {"corrupt.tif", "notes.txt", "plain.png", "missing.tif"}) {
        const json& rec = by_name[bad];
        EXPECT_EQ(rec["status"], "error") << bad;
        EXPECT_NE(rec["error"].get<std::string>().find(bad), std::string::npos) << rec["error"];
    }
    // Each failure also goes to stderr as it happens, one line naming the file and the reason,
    // even under -q (as assess); nothing else does under -q.
    std::istringstream err(r.err);
    std::vector<std::string> lines;
    for (std::string l; std::getline(err, l);)
        lines.push_back(l);
    EXPECT_EQ(lines.size(), 4u) << r.err;
    for (const char* bad : {"corrupt.tif", "notes.txt", "plain.png", "missing.tif"}) {
        const std::string error = by_name[bad]["error"].get<std::string>();
        EXPECT_EQ(std::count(lines.begin(), lines.end(), "satiq batch: " + error), 1) << bad << "\n" << r.err;
    }
    EXPECT_NE(by_name["plain.png"]["error"].get<std::string>().find("georeferencing"), std::string::npos);
    EXPECT_NE(by_name["missing.tif"]["error"].get<std::string>().find("no such file"), std::string::npos);
    // The summary: one row per image, best NIIRS first, failures last.
    const std::string csv = satiq::test::read_file(dir / "out" / "summary.csv");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13);
    EXPECT_NE(csv.find("scene0.tif"), std::string::npos);
    const std::size_t body = csv.find('\n');
    EXPECT_LT(csv.find(",ok,", body), csv.find(",error,", body));
    const std::string html = satiq::test::read_file(dir / "out" / "report.html");
    for (const char* id : {"id=\"hist-niirs\"", "id=\"images\"", "id=\"failures\""})
        EXPECT_NE(html.find(id), std::string::npos) << id;
}

TEST(CliBatch, ResumeDoesNoWorkUnlessAnOptionChanged) {
    const satiq::test::TempDir dir("batch_resume");
    const std::string args = test::shell_quote(good_images()) + " -o " + test::shell_quote(dir) + " --format json";
    auto r = batch(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["results"][0]["processed"], 8);
    // Again without --resume: refused, nothing touched.
    const std::string before = satiq::test::read_file(dir / "results.jsonl");
    r = batch(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(satiq::test::read_file(dir / "results.jsonl"), before);
    r = batch(args + " --resume");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["results"][0]["processed"], 0);
    EXPECT_EQ(json::parse(r.out)["results"][0]["skipped_resume"], 8);
    EXPECT_EQ(satiq::test::read_file(dir / "results.jsonl"), before);
    r = batch(args + " --resume --snr 30");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["results"][0]["processed"], 8);
    EXPECT_EQ(records(dir / "results.jsonl").size(), 16u);
    // The summary is of the latest options: 8 rows, SNR 30 each; the run says the other 8 are there.
    EXPECT_EQ(json::parse(r.out)["results"][0]["warnings"],
              json::array({(dir / "results.jsonl").string() +
                           ": also holds 8 records made with other options, left out of summary.csv and report.html "
                           "(satiq report " +
                           dir.path().string() + " -o OUT shows every record)"}))
        << r.out;
    const std::string csv = satiq::test::read_file(dir / "summary.csv");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);
    EXPECT_NE(csv.find(",30.00,"), std::string::npos);
}

// A file name that is not UTF-8 is written to results.jsonl with U+FFFD for its bad byte; --resume
// compares it so, and does not run the image again (before, it re-ran and recorded it twice).
TEST(CliBatch, ResumeKnowsAFileNameThatIsNotUtf8) {
    const satiq::test::TempDir dir("batch_non_utf8");
    const fs::path odd = dir / "in" /
                         std::string(
                             "bad\xff"
                             "name.tif");
    fs::create_directories(odd.parent_path());
    fs::copy_file(good_images() / "scene0.tif", odd);
    const std::string args = test::shell_quote(dir / "in") + " -o " + test::shell_quote(dir / "out");
    ASSERT_EQ(batch(args).exit_code, 0);
    const auto r = batch(args + " --resume --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json s = json::parse(r.out)["results"][0];
    EXPECT_EQ(s["processed"], 0) << r.out;
    EXPECT_EQ(s["skipped_resume"], 1) << r.out;
    EXPECT_EQ(records(dir / "out" / "results.jsonl").size(), 1u);
}

TEST(CliBatch, ShardsMergedEqualOneRun) {
    const satiq::test::TempDir dir("batch_shards");
    const std::string in = test::shell_quote(good_images());
    ASSERT_EQ(batch(in + " -o " + test::shell_quote(dir / "all")).exit_code, 0);
    std::string shards;
    std::size_t total = 0;
    for (int k = 1; k <= 3; ++k) {
        const fs::path out = dir / fmt::format("shard{}", k);
        const auto r = batch(in + fmt::format(" --shard {}/3 -o ", k) + test::shell_quote(out));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        total += records(out / "results.jsonl").size();
        shards += ' ';
        shards += test::shell_quote(out);  // (separate appends: GCC 12 warns falsely on " " + string)
    }
    EXPECT_EQ(total, 8u);  // each image in exactly one shard
    // Merging a shard twice does not double it.
    auto r = test::run_satiq("-q report" + shards + " " + test::shell_quote(dir / "shard1") + " -o " +
                             test::shell_quote(dir / "merged"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(as_set(records(dir / "merged" / "results.jsonl")), as_set(records(dir / "all" / "results.jsonl")));
    EXPECT_EQ(satiq::test::read_file(dir / "merged" / "summary.csv"),
              satiq::test::read_file(dir / "all" / "summary.csv"));
    // Slurm's array variables pick the shard when --shard is absent.
    r = test::run_command(
        fmt::format("SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=0 {} -q batch "
                    "{} -o {}",
                    test::satiq_binary(), in, test::shell_quote(dir / "slurm")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(as_set(records(dir / "slurm" / "results.jsonl")), as_set(records(dir / "shard3" / "results.jsonl")));
}

// A results.jsonl with a line that is not a record (a corrupted or foreign file) and a last line
// A file given to report that has lines but no record (a raster, a CSV) is an error naming it,
// exit 1, with no output folder: before, it merged into an empty report with exit 0. An empty
// results.jsonl (a batch of nothing) is merged.
TEST(CliBatch, ReportOfAFileThatIsNotAResultsFileIsAnError) {
    const satiq::test::TempDir dir("batch_report_foreign");
    const fs::path tif = good_images() / "scene0.tif";
    auto r = test::run_satiq("-q report " + test::shell_quote(tif) + " -o " + test::shell_quote(dir / "out"));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err,
              "satiq: " + tif.string() + ": not a satiq results.jsonl: no line is a record (line 1: not JSON)\n");
    EXPECT_FALSE(fs::exists(dir / "out"));
    std::ofstream(dir / "empty.jsonl").close();
    r = test::run_satiq("-q report " + test::shell_quote(dir / "empty.jsonl") + " -o " +
                        test::shell_quote(dir / "out"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(dir / "out" / "report.html"));
    // An output "folder" that is a file: said so, for report and batch alike.
    const fs::path file = dir / "taken.tif";
    std::ofstream(file) << "x";
    for (const std::string& cmd : {"report " + test::shell_quote(dir / "out"), "batch " + test::shell_quote(tif)}) {
        r = test::run_satiq("-q " + cmd + " -o " + test::shell_quote(file));
        EXPECT_EQ(r.exit_code, 1) << cmd;
        EXPECT_EQ(r.err,
                  "satiq: " + file.string() + ": cannot create the output folder: it exists and is not a folder\n")
            << cmd;
    }
}

// cut by a kill: report and --resume keep every good record and say, on stderr and in the JSON,
// what they skipped; a resumed batch re-runs nothing that has a good record.
TEST(CliBatch, ReportAndResumeSayWhatTheySkipped) {
    const satiq::test::TempDir dir("batch_skipped");
    const std::string in = test::shell_quote(good_images());
    const fs::path run = dir / "run";
    ASSERT_EQ(batch(in + " -o " + test::shell_quote(run)).exit_code, 0);
    const std::string good = satiq::test::read_file(run / "results.jsonl");
    {
        std::ofstream f(run / "results.jsonl", std::ios::binary | std::ios::trunc);
        // A foreign line, the batch's records, a JSON object that is not a record, a record of
        // another tool with a null options key (kept: a record need not carry every field), a cut line.
        f << "this is not a record\n"
          << good << "{\"path\": \"x.tif\", \"status\": \"ok\"}\n"
          << "{\"path\": \"zz.tif\", \"status\": \"error\", \"options_key\": null}\n{\"path\": \"cut";
    }
    auto r = test::run_satiq("report " + test::shell_quote(run) + " -o " + test::shell_quote(dir / "merged") +
                             " --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string what = (run / "results.jsonl").string() +
                             ": 2 lines are not satiq records, skipped (the first is line 1: not JSON); the last line "
                             "is cut "
                             "(a killed run), skipped";
    EXPECT_NE(r.err.find("satiq report: " + what), std::string::npos) << r.err;
    EXPECT_EQ(json::parse(r.out)["results"][0]["warnings"], json::array({what})) << r.out;
    EXPECT_EQ(json::parse(r.out)["results"][0]["records"], 9) << r.out;

    r = test::run_satiq("batch " + in + " -o " + test::shell_quote(run) + " --resume --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("satiq batch: " + what), std::string::npos) << r.err;
    const json s = json::parse(r.out)["results"][0];
    EXPECT_EQ(s["processed"], 0) << r.out;
    EXPECT_EQ(s["skipped_resume"], 8) << r.out;
    // zz.tif's record (no options key) is kept in the file but is not of this batch's options.
    EXPECT_EQ(s["warnings"], json::array({what, (run / "results.jsonl").string() +
                                                    ": also holds 1 record made with other options, left out of "
                                                    "summary.csv and report.html (satiq report " +
                                                    run.string() + " -o OUT shows every record)"}))
        << r.out;
}

// One batch at a time per output folder: while another process holds results.jsonl's lock, a
// second batch there (with --resume or --overwrite) stops with a one-line error and leaves the
// file as it was; a FIFO in place of results.jsonl is refused without blocking.
TEST(CliBatch, ASecondBatchOnTheSameFolderIsRefused) {
    const satiq::test::TempDir dir("batch_lock");
    const std::string in = test::shell_quote(good_images());
    const fs::path run = dir / "run";
    ASSERT_EQ(batch(in + " -o " + test::shell_quote(run)).exit_code, 0);
    const std::string before = satiq::test::read_file(run / "results.jsonl");
    const int fd = ::open((run / "results.jsonl").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // what a running batch holds
    for (const char* mode : {"--resume", "--overwrite"}) {
        const auto r = batch(in + " -o " + test::shell_quote(run) + " " + mode);
        EXPECT_EQ(r.exit_code, 1) << mode << ": " << r.err;
        EXPECT_NE(r.err.find(run.string() + ": another satiq batch or report is writing to this folder"),
                  std::string::npos)
            << mode << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(satiq::test::read_file(run / "results.jsonl"), before) << mode;
    }
    // satiq report (of another batch's copy) into that folder would replace results.jsonl under
    // the batch: refused too; a report on it (read only) goes on.
    fs::create_directories(dir / "copy");
    fs::copy_file(run / "results.jsonl", dir / "copy" / "results.jsonl");
    auto r = test::run_satiq("-q report " + test::shell_quote(dir / "copy") + " -o " + test::shell_quote(run));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("another satiq batch or report is writing to this folder"), std::string::npos) << r.err;
    EXPECT_EQ(satiq::test::read_file(run / "results.jsonl"), before);
    r = test::run_satiq("-q report " + test::shell_quote(run) + " -o " + test::shell_quote(dir / "interim"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(as_set(records(dir / "interim" / "results.jsonl")), as_set(records(run / "results.jsonl")));
    ::close(fd);
    EXPECT_EQ(batch(in + " -o " + test::shell_quote(run) + " --resume").exit_code, 0);  // free again

    const fs::path fifo_dir = dir / "fifo";
    fs::create_directories(fifo_dir);
    ASSERT_EQ(::mkfifo((fifo_dir / "results.jsonl").c_str(), 0600), 0);
    r = batch(in + " -o " + test::shell_quote(fifo_dir) + " --resume");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("results.jsonl: a FIFO (named pipe), not a regular file"), std::string::npos) << r.err;
    // satiq report on such a folder, or on one whose results.jsonl is a folder, says what it found.
    r = test::run_satiq("-q report " + test::shell_quote(fifo_dir) + " -o " + test::shell_quote(dir / "o1"));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, "satiq: " + (fifo_dir / "results.jsonl").string() + ": a FIFO (named pipe), not a regular file\n");
    fs::create_directories(dir / "dir" / "results.jsonl");
    r = test::run_satiq("-q report " + test::shell_quote(dir / "dir") + " -o " + test::shell_quote(dir / "o2"));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, "satiq: " + (dir / "dir" / "results.jsonl").string() + ": a folder, not a file\n");
    EXPECT_FALSE(fs::exists(dir / "o1"));
    EXPECT_FALSE(fs::exists(dir / "o2"));
}

TEST(CliBatch, MpiRanksGiveTheSameRecordsAsOneProcess) {
    if (test::run_command("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun not installed";
    const satiq::test::TempDir dir("batch_mpi");
    const std::string in = test::shell_quote(good_images());
    ASSERT_EQ(batch(in + " -o " + test::shell_quote(dir / "one")).exit_code, 0);
    const auto r = test::run_command(
        "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_plm_rsh_agent= timeout 300 mpirun -n 3 "
        "--oversubscribe --bind-to none --mca btl self,tcp " +
        test::satiq_binary() + " -q batch " + in + " -o " + test::shell_quote(dir / "mpi") + " --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(as_set(records(dir / "mpi" / "results.jsonl")), as_set(records(dir / "one" / "results.jsonl")));
    EXPECT_NE(r.out.find("mpi 3 ranks"), std::string::npos) << r.out;
}

TEST(CliBatch, KilledMidwayThenResumedRecordsEveryImageOnce) {
    const satiq::test::TempDir dir("batch_kill");
    // Twenty-four inputs: three copies of the eight scenes.
    const fs::path links = dir / "in";
    fs::create_directories(links);
    for (int c = 0; c < 3; ++c)
        for (int i = 0; i < 8; ++i)
            fs::copy_file(good_images() / fmt::format("scene{}.tif", i), links / fmt::format("c{}_{}.tif", c, i));
    const fs::path out = dir / "out";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const std::string bin = test::satiq_binary();
        execl(bin.c_str(), bin.c_str(), "-q", "batch", links.c_str(), "-o", out.c_str(), "--jobs", "1",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    // Wait for three records (well under a second each normally; ten minutes allows for a
    // sanitizer build on a loaded machine, where 24 s was not enough).
    bool some = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    while (!some && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        some = fs::exists(out / "results.jsonl") && records(out / "results.jsonl").size() >= 3;
    }
    EXPECT_TRUE(some);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    const std::size_t before = records(out / "results.jsonl").size();
    EXPECT_LT(before, 24u);
    const auto r =
        test::run_satiq("-q batch " + test::shell_quote(links) + " -o " + test::shell_quote(out) + " --resume");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string text = satiq::test::read_file(out / "results.jsonl");
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    std::map<std::string, int> count;
    for (const json& rec : records(out / "results.jsonl"))  // every line parses
        ++count[rec["path"].get<std::string>()];
    EXPECT_EQ(count.size(), 24u);
    for (const auto& [p, n] : count)
        EXPECT_EQ(n, 1) << p;
}

TEST(CliBatch, StacItemCollectionGivesTheGsdOfAnUngeoreferencedAsset) {
    const satiq::test::TempDir dir("batch_stac");
    fs::create_directories(dir / "assets");
    ASSERT_EQ(test::run_command("gdal_translate -q -of PNG -ot Byte -scale " +
                                test::shell_quote(good_images() / "scene2.tif") + " " +
                                test::shell_quote(dir / "assets" / "plain.png"))
                  .exit_code,
              0);
    fs::remove(dir / "assets" / "plain.png.aux.xml");
    fs::copy_file(good_images() / "scene3.tif", dir / "assets" / "geo.tif");
    fs::copy_file(good_images() / "scene4.tif", dir / "assets" / "geo2.tif");
    auto item = [](const std::string& id, const std::string& href, std::optional<double> gsd,
                   std::optional<double> incidence = {}) {
        json props{{"datetime", "2026-01-01T00:00:00Z"}, {"view:off_nadir", 20.0}};
        if (gsd) props["gsd"] = *gsd;
        if (incidence) props["view:incidence_angle"] = *incidence;
        return json{{"type", "Feature"},
                    {"stac_version", "1.0.0"},
                    {"id", id},
                    {"geometry", nullptr},
                    {"properties", props},
                    {"assets", {{"visual", {{"href", href}, {"type", "image/png"}, {"roles", {"data"}}}}}},
                    {"links", json::array()}};
    };
    const json collection{{"type", "FeatureCollection"},
                          {"features",
                           {item("plain", "assets/plain.png", 0.35), item("geo", "assets/geo.tif", {}),
                            item("geo2", "assets/geo2.tif", 0.6, 30.0)}}};
    std::ofstream(dir / "items.json") << collection.dump(2);
    const auto r = batch("--stac " + test::shell_quote(dir / "items.json") + " --asset visual -o " +
                         test::shell_quote(dir / "out"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, json> by_id;
    for (const json& rec : records(dir / "out" / "results.jsonl"))
        by_id[rec["source"]["item_id"].get<std::string>()] = rec;
    ASSERT_EQ(by_id.size(), 3u);
    EXPECT_EQ(by_id["plain"]["status"], "ok") << by_id["plain"].dump();
    EXPECT_NEAR(by_id["plain"]["summary"]["gsd_m"].get<double>(), 0.35, 1e-9);
    EXPECT_EQ(by_id["plain"]["summary"]["gsd_method"], "catalog");
    // Without an incidence angle, 90 - off-nadir (flat Earth), and said so.
    EXPECT_NEAR(by_id["plain"]["summary"]["elevation_deg"].get<double>(), 70.0, 1e-9);
    EXPECT_EQ(by_id["plain"]["summary"]["elevation_source"], "stac view:off_nadir (flat Earth)");
    EXPECT_NEAR(by_id["geo"]["summary"]["gsd_m"].get<double>(), 0.40, 1e-9);  // its own georeferencing
    // The Item's gsd (a catalog's nominal figure) does not override the raster's own
    // georeferencing: it only fills in where there is none. The incidence angle gives the elevation.
    EXPECT_NEAR(by_id["geo2"]["summary"]["gsd_m"].get<double>(), 0.45, 1e-9);
    EXPECT_EQ(by_id["geo2"]["summary"]["gsd_method"], "projected_geotransform");
    EXPECT_NEAR(by_id["geo2"]["summary"]["elevation_deg"].get<double>(), 60.0, 1e-9);
    EXPECT_EQ(by_id["geo2"]["summary"]["elevation_source"], "stac view:incidence_angle");
}

// A manifest's columns are the user's word for each image: its gsd_m overrides even a
// georeferenced raster's own (a STAC Item's gsd does not; above).
TEST(CliBatch, ManifestGsdOverridesTheGeoreferencing) {
    const satiq::test::TempDir dir("batch_manifest_gsd");
    std::ofstream(dir / "list.csv") << "path,gsd_m,elevation_deg\n"
                                    << (good_images() / "scene0.tif").string() << ",0.7,55\n";
    const auto r = batch("--manifest " + test::shell_quote(dir / "list.csv") + " -o " + test::shell_quote(dir / "out"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto recs = records(dir / "out" / "results.jsonl");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_NEAR(recs[0]["summary"]["gsd_m"].get<double>(), 0.7, 1e-9);
    EXPECT_EQ(recs[0]["summary"]["gsd_method"], "user");
    EXPECT_NEAR(recs[0]["summary"]["elevation_deg"].get<double>(), 55.0, 1e-9);
    EXPECT_EQ(recs[0]["summary"]["elevation_source"], "user");
}

TEST(CliBatch, DegradeToInMemoryAndBadOptions) {
    const satiq::test::TempDir dir("batch_degrade");
    auto r = batch(test::shell_quote(good_images() / "scene0.tif") + " --degrade-to 1 --degrade-snr 40 -o " +
                   test::shell_quote(dir / "out"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto recs = records(dir / "out" / "results.jsonl");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_NEAR(recs[0]["summary"]["gsd_m"].get<double>(), 1.0, 1e-9);
    EXPECT_EQ(recs[0]["degrade"]["plan"]["target_gsd_m"], 1.0);
    for (const auto& e : fs::directory_iterator(dir / "out"))  // no intermediate file
        EXPECT_NE(e.path().extension(), ".tif") << e.path();
    for (const char* bad : {"--shard 0/3", "--shard 4/3", "--shard x", "--max-memory 12Q", "--degrade-to nosuch",
                            "--degrade-snr 5", "--resume --overwrite", "--jobs -1", "--band 0"}) {
        r = batch(test::shell_quote(good_images()) + " -o " + test::shell_quote(dir / "bad") + " " + bad);
        EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.err;
    }
    r = batch("-o " + test::shell_quote(dir / "none"));
    EXPECT_EQ(r.exit_code, 2);
}

// Two batches of the same images with different options (as read, and degraded to 1 m), merged by
// satiq report: every record carries its options, summary.csv says which set each row had, and
// the report adds an options column and lists both sets.
TEST(CliBatch, ReportOfTwoOptionSetsSaysWhichRowIsWhich) {
    const satiq::test::TempDir dir("batch_option_sets");
    const std::string in = test::shell_quote(good_images() / "scene0.tif") + " " +
                           test::shell_quote(good_images() / "scene1.tif") + " " +
                           test::shell_quote(dir / "missing.tif");
    EXPECT_EQ(batch(in + " -o " + test::shell_quote(dir / "orig")).exit_code, 1);
    EXPECT_EQ(batch(in + " --degrade-to 1 -o " + test::shell_quote(dir / "deg")).exit_code, 1);
    for (const char* run : {"orig", "deg"})
        for (const json& r : records(dir / run / "results.jsonl")) {
            ASSERT_TRUE(r["options"].is_object()) << r.dump();
            EXPECT_EQ(r["options"]["degrade_to"].is_null(), std::string(run) == "orig") << r.dump();
        }
    const auto r = test::run_satiq("-q report " + test::shell_quote(dir / "orig") + " " +
                                   test::shell_quote(dir / "deg") + " -o " + test::shell_quote(dir / "both"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string csv = satiq::test::read_file(dir / "both" / "summary.csv");
    EXPECT_NE(csv.find(",options_key,options\n"), std::string::npos) << csv;
    std::map<std::string, int> labels;
    std::istringstream lines(csv);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line))
        ++labels[line.substr(line.rfind(',') + 1)];
    EXPECT_EQ(labels, (std::map<std::string, int>{{"as read", 3}, {"degraded to 1 m", 3}})) << csv;
    const std::string html = satiq::test::read_file(dir / "both" / "report.html");
    EXPECT_NE(html.find("from 2 sets of options"), std::string::npos);
    EXPECT_NE(html.find("<th class=\"path\">options</th>"), std::string::npos);
    EXPECT_NE(html.find("<td class=\"path\">degraded to 1 m</td>"), std::string::npos);
    EXPECT_NE(html.find("<table id=\"options\">"), std::string::npos);
    const auto errors = test::html_structure_errors(html);
    EXPECT_TRUE(errors.empty()) << errors.front();
    const auto external = test::html_external_references(html);
    EXPECT_TRUE(external.empty()) << external.front();
    if (!test::chromium_available()) GTEST_SKIP() << "chromium not installed";
    const std::string dom = test::chromium_dump_dom(dir / "both" / "report.html");
    for (const char* id : {"id=\"images\"", "id=\"failures\"", "id=\"options\"", "id=\"hist-niirs\""})
        EXPECT_NE(dom.find(id), std::string::npos) << id;
    EXPECT_NE(dom.find("degraded to 1 m"), std::string::npos);
}

namespace {

// The data rows of a summary.csv whose first field (the path) ends with `name`.
int csv_rows_of(const std::string& csv, const std::string& name) {
    int n = 0;
    std::istringstream lines(csv);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
        const std::string path = line.substr(0, line.find(','));
        n += path.size() >= name.size() && path.compare(path.size() - name.size(), name.size(), name) == 0;
    }
    return n;
}

int lines_of(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

// `report DIR... -o OUT` with OUT one of the inputs (the same folder, its results.jsonl, another
// spelling or a symlink of it) is refused before anything is written, exit 1 with one line, as
// degrade refuses an output its input reads. Before, `report sh1 sh2 -o sh1` replaced shard 1's
// results.jsonl with the merge, silently.
TEST(CliBatch, ReportRefusesAnOutputThatIsAnInput) {
    const satiq::test::TempDir dir("batch_report_self");
    for (int k = 1; k <= 2; ++k)
        ASSERT_EQ(batch(test::shell_quote(good_images() / fmt::format("scene{}.tif", k)) + " -o " +
                        test::shell_quote(dir / fmt::format("sh{}", k)))
                      .exit_code,
                  0);
    const std::string before = satiq::test::read_file(dir / "sh1" / "results.jsonl");
    const std::string csv_before = satiq::test::read_file(dir / "sh1" / "summary.csv");
    fs::create_directory_symlink(dir / "sh1", dir / "link");
    const std::string sh1 = test::shell_quote(dir / "sh1"), sh2 = test::shell_quote(dir / "sh2");
    for (const std::string& args : {sh1 + " " + sh2 + " -o " + sh1, sh1 + " -o " + sh1,
                                    test::shell_quote(dir / "sh1" / "results.jsonl") + " -o " + sh1,
                                    sh2 + " " + sh1 + " -o " + test::shell_quote(dir / "sh2" / ".." / "sh1"),
                                    sh1 + " -o " + test::shell_quote(dir / "link")}) {
        const auto r = test::run_satiq("-q report " + args);
        EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
        EXPECT_NE(r.err.find("output would overwrite"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("one of the inputs"), std::string::npos) << r.err;
        EXPECT_EQ(lines_of(r.err), 1) << r.err;
        EXPECT_EQ(satiq::test::read_file(dir / "sh1" / "results.jsonl"), before) << args;
        EXPECT_EQ(satiq::test::read_file(dir / "sh1" / "summary.csv"), csv_before) << args;
    }
    // Into a folder of its own it goes on.
    EXPECT_EQ(test::run_satiq("-q report " + sh1 + " " + sh2 + " -o " + test::shell_quote(dir / "merged")).exit_code,
              0);
}

// With --no-clobber, a summary.csv or report.html that the batch would replace is refused before
// any image is assessed: one line naming it, exit 1, results.jsonl untouched. Before, every image
// was assessed and appended to results.jsonl, then the batch stopped on summary.csv, leaving it
// and report.html stale. satiq report checks its outputs up front too.
TEST(CliBatch, NoClobberRefusesBeforeAnyWork) {
    const satiq::test::TempDir dir("batch_no_clobber");
    const fs::path out = dir / "out";
    ASSERT_EQ(batch(test::shell_quote(good_images() / "scene0.tif") + " -o " + test::shell_quote(out)).exit_code, 0);
    const std::string jsonl = satiq::test::read_file(out / "results.jsonl");
    const std::string csv = satiq::test::read_file(out / "summary.csv");
    // scene1 is new: it would be assessed and appended.
    const std::string more = test::shell_quote(good_images() / "scene0.tif") + " " +
                             test::shell_quote(good_images() / "scene1.tif") + " -o " + test::shell_quote(out);
    auto r = test::run_satiq("-q --no-clobber batch " + more + " --resume");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, "satiq: cannot write " + (out / "summary.csv").string() + ": it exists and --no-clobber is set\n");
    EXPECT_EQ(satiq::test::read_file(out / "results.jsonl"), jsonl);
    EXPECT_EQ(satiq::test::read_file(out / "summary.csv"), csv);
    // --overwrite would empty results.jsonl: refused too, naming it.
    fs::remove(out / "summary.csv");
    fs::remove(out / "report.html");
    r = test::run_satiq("-q --no-clobber batch " + more + " --overwrite");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err,
              "satiq: cannot write " + (out / "results.jsonl").string() + ": it exists and --no-clobber is set\n");
    EXPECT_EQ(satiq::test::read_file(out / "results.jsonl"), jsonl);
    // --resume appends to results.jsonl and writes the missing summary and report: allowed.
    r = test::run_satiq("-q --no-clobber batch " + more + " --resume");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(records(out / "results.jsonl").size(), 2u);
    // report into a folder that holds a report: refused up front, nothing replaced.
    ASSERT_EQ(test::run_satiq("-q report " + test::shell_quote(out) + " -o " + test::shell_quote(dir / "m")).exit_code,
              0);
    const std::string merged_before = satiq::test::read_file(dir / "m" / "results.jsonl");
    r = test::run_satiq("-q --no-clobber report " + test::shell_quote(out) + " -o " + test::shell_quote(dir / "m"));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(lines_of(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("it exists and --no-clobber is set"), std::string::npos) << r.err;
    EXPECT_EQ(satiq::test::read_file(dir / "m" / "results.jsonl"), merged_before);
}

// An input changed since its record (a new modification time) is assessed again by --resume; its
// new record supersedes the old one in summary.csv and report.html (one row per image), while
// results.jsonl keeps both lines. A merge keeps the last record of each image and options too.
// Before, the summary and the report listed the file twice.
TEST(CliBatch, ResumeAfterAChangedInputListsItOnce) {
    const satiq::test::TempDir dir("batch_changed");
    fs::create_directories(dir / "in");
    for (int i = 0; i < 2; ++i)
        fs::copy_file(good_images() / fmt::format("scene{}.tif", i), dir / "in" / fmt::format("s{}.tif", i));
    const std::string args = test::shell_quote(dir / "in") + " -o " + test::shell_quote(dir / "out");
    ASSERT_EQ(batch(args).exit_code, 0);
    const fs::path s0 = dir / "in" / "s0.tif";
    fs::last_write_time(s0, fs::last_write_time(s0) + std::chrono::hours(1));  // touched
    const auto r = batch(args + " --resume --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["results"][0]["processed"], 1) << r.out;
    EXPECT_EQ(records(dir / "out" / "results.jsonl").size(), 3u);  // append-only
    const std::string csv = satiq::test::read_file(dir / "out" / "summary.csv");
    EXPECT_EQ(lines_of(csv), 3) << csv;
    EXPECT_EQ(csv_rows_of(csv, "s0.tif"), 1) << csv;
    EXPECT_NE(satiq::test::read_file(dir / "out" / "report.html").find("2 images: 2 assessed, 0 failed."),
              std::string::npos);
    // report: one record per image and options, the last; twice the same folder changes nothing.
    const auto m = test::run_satiq("-q report " + test::shell_quote(dir / "out") + " " +
                                   test::shell_quote(dir / "out") + " -o " + test::shell_quote(dir / "merged"));
    ASSERT_EQ(m.exit_code, 0) << m.err;
    const auto merged = records(dir / "merged" / "results.jsonl");
    ASSERT_EQ(merged.size(), 2u);
    const auto all = records(dir / "out" / "results.jsonl");  // s0 and s1 in either order, then the new s0
    const json& s1 = fs::path(all[0]["path"].get<std::string>()).filename() == "s1.tif" ? all[0] : all[1];
    EXPECT_EQ(as_set(merged), as_set(std::vector<json>{s1, all[2]}));
    EXPECT_EQ(satiq::test::read_file(dir / "merged" / "summary.csv"), csv);
}

// --resume retries an image whose last record is a failure (a failure may be transient: a file
// still being written, a network path); failing again exits 1, and the summary keeps one row per
// image. Before, failures were never retried and the resumed run exited 0 while its summary
// listed them.
TEST(CliBatch, ResumeRetriesFailures) {
    const satiq::test::TempDir dir("batch_retry");
    fs::create_directories(dir / "in");
    fs::copy_file(good_images() / "scene0.tif", dir / "in" / "good.tif");
    const std::string bytes = satiq::test::read_file(good_images() / "scene1.tif");
    std::ofstream(dir / "in" / "late.tif", std::ios::binary) << bytes.substr(0, bytes.size() / 3);  // still arriving
    const std::string args = test::shell_quote(dir / "in" / "good.tif") + " " +
                             test::shell_quote(dir / "in" / "late.tif") + " " +
                             test::shell_quote(dir / "in" / "missing.tif") + " -o " + test::shell_quote(dir / "out");
    ASSERT_EQ(batch(args).exit_code, 1);
    // Unchanged: retried, fails again, exit 1; one row each.
    auto r = batch(args + " --resume --format json");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    json s = json::parse(r.out)["results"][0];
    EXPECT_EQ(s["processed"], 2) << r.out;
    EXPECT_EQ(s["skipped_resume"], 1) << r.out;
    EXPECT_EQ(s["failed"], 2) << r.out;
    std::string csv = satiq::test::read_file(dir / "out" / "summary.csv");
    EXPECT_EQ(lines_of(csv), 4) << csv;
    EXPECT_EQ(csv_rows_of(csv, "late.tif"), 1) << csv;
    // The file arrives whole, the missing one appears: both succeed, exit 0, no failure left.
    std::ofstream(dir / "in" / "late.tif", std::ios::binary | std::ios::trunc) << bytes;
    fs::copy_file(good_images() / "scene2.tif", dir / "in" / "missing.tif");
    r = batch(args + " --resume --format json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    s = json::parse(r.out)["results"][0];
    EXPECT_EQ(s["processed"], 2) << r.out;
    EXPECT_EQ(s["failed"], 0) << r.out;
    csv = satiq::test::read_file(dir / "out" / "summary.csv");
    EXPECT_EQ(lines_of(csv), 4) << csv;
    EXPECT_EQ(csv.find(",error,", csv.find('\n')), std::string::npos) << csv;
    EXPECT_NE(satiq::test::read_file(dir / "out" / "report.html").find("3 images: 3 assessed, 0 failed."),
              std::string::npos);
}

// A manifest that gives one file twice with different per-image values: the first row is used
// and a warning on stderr (under -q too) names the file, both values and the rows; identical
// duplicates stay a note. Before, the second row was dropped silently in text mode.
TEST(CliBatch, ConflictingManifestRowsAreSaid) {
    const satiq::test::TempDir dir("batch_manifest_conflict");
    const std::string scene0 = (good_images() / "scene0.tif").string();
    const std::string scene1 = (good_images() / "scene1.tif").string();
    std::ofstream(dir / "list.csv") << "path,gsd_m\n"
                                    << scene0 << ",0.5\n"
                                    << scene1 << ",0.7\n"
                                    << scene0 << ",0.6\n"
                                    << scene1 << ",0.7\n";
    const auto r = batch("--manifest " + test::shell_quote(dir / "list.csv") + " -o " + test::shell_quote(dir / "out"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string list = (dir / "list.csv").string();
    EXPECT_EQ(r.err, "satiq batch: " + scene0 + ": given twice with different values, gsd_m 0.5 then 0.6 (" + list +
                         " line 2, then " + list + " line 4): the first is used\n");
    const auto recs = records(dir / "out" / "results.jsonl");
    ASSERT_EQ(recs.size(), 2u);
    for (const json& rec : recs) {
        if (rec["path"] == scene0) {
            EXPECT_NEAR(rec["summary"]["gsd_m"].get<double>(), 0.5, 1e-12);
        }
    }
}

// --stac on a file that is not JSON: one line naming it, "not valid JSON" and where; before, the
// parser's own exception text ("[json.exception.parse_error.101] ...").
TEST(CliBatch, StacThatIsNotJsonIsOneLine) {
    const satiq::test::TempDir dir("batch_stac_not_json");
    std::ofstream(dir / "catalog.json") << "{\"type\": \"Catalog\",\n  links: []}\n";
    const auto r = batch("--stac " + test::shell_quote(dir / "catalog.json") + " -o " + test::shell_quote(dir / "out"));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, "satiq: " + (dir / "catalog.json").string() +
                         ": not valid JSON (line 2, column 3: syntax error while parsing object key - invalid "
                         "literal; expected string literal)\n");
    EXPECT_FALSE(fs::exists(dir / "out" / "results.jsonl"));
}

// --shard K/N deals the sorted inputs round robin: the shards differ in size by at most one (8
// images over 3: 3, 3, 2; over 8: one each), and merged they equal one run
// (ShardsMergedEqualOneRun). Before, a hash of the path split them as it fell (5 inputs: 4/1/0;
// 8 over 8 shards are one each by chance once in 400).
TEST(CliBatch, ShardsAreBalanced) {
    const satiq::test::TempDir dir("batch_shard_sizes");
    for (int n : {3, 8}) {
        std::vector<std::size_t> sizes;
        for (int k = 1; k <= n; ++k) {
            const auto r =
                batch(test::shell_quote(good_images()) + fmt::format(" --shard {}/{} --format json -o ", k, n) +
                      test::shell_quote(dir / fmt::format("n{}_{}", n, k)));
            ASSERT_EQ(r.exit_code, 0) << r.err;
            sizes.push_back(json::parse(r.out)["results"][0]["in_shard"].get<std::size_t>());
        }
        EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()), 1u)
            << n;
        std::size_t total = 0;
        for (std::size_t s : sizes)
            total += s;
        EXPECT_EQ(total, 8u);
    }
}
