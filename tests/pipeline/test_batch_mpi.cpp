// satiq::mpi (batch_mpi.hpp): launcher detection, the one-process fallback, and distribute() over
// real ranks (mpirun running tests/support/mpi_distribute_probe.cpp). The mpirun tests skip when
// mpirun is not on PATH or satiq was built without MPI. Every child is killed after 60 s.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "satiq/pipeline/ops/batch_mpi.hpp"

#ifndef SATIQ_MPI_PROBE
#error "SATIQ_MPI_PROBE (path of mpi_distribute_probe) must be defined"
#endif

namespace fs = std::filesystem;

namespace {

struct RunResult {
    int exit_code = -1;  // -1: killed or did not exit normally
    bool timed_out = false;
    std::string out, err;
};

// fork/exec argv[0] (searched on PATH) with stdout and stderr captured; the child's process group
// is killed when it runs longer than `timeout_s`: a guard against a rank left waiting forever,
// not a timing check (10 minutes: 60 s was too short under TSan on a loaded machine).
RunResult run(const std::vector<std::string>& args, int timeout_s = 600) {
    RunResult result;
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return result;
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        return result;
    }
    std::vector<char*> argv;
    for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(out_pipe[1], STDOUT_FILENO);
        ::dup2(err_pipe[1], STDERR_FILENO);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (pid < 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        return result;
    }
    ::setpgid(pid, pid);  // also in the parent: no race with the kill below

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    char buffer[65536];
    while (open_fds > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            result.timed_out = true;
            ::kill(-pid, SIGKILL);
            break;
        }
        if (::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000))) < 0) continue;
        for (int k = 0; k < 2; ++k) {
            if (fds[k].fd < 0 || fds[k].revents == 0) continue;
            const ssize_t got = ::read(fds[k].fd, buffer, sizeof(buffer));
            if (got > 0) {
                sinks[k]->append(buffer, static_cast<std::size_t>(got));
            } else {
                ::close(fds[k].fd);
                fds[k].fd = -1;
                --open_fds;
            }
        }
    }
    for (pollfd& f : fds) {
        if (f.fd >= 0) ::close(f.fd);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !result.timed_out) {
        result.exit_code = WEXITSTATUS(status);
    }
    return result;
}

std::optional<std::string> find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return std::nullopt;
    std::string dirs = path;
    std::size_t start = 0;
    while (start <= dirs.size()) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
        start = end + 1;
    }
    return std::nullopt;
}

struct Record {
    std::size_t i = 0;
    int rank = -1;
    std::size_t payload = 0;
    bool intact = false;
    bool error = false;
};

struct ProbeOutput {
    bool started = false;
    int active = -1, size = -1;
    std::vector<Record> records;  // in arrival order
    long done = -1;
};

ProbeOutput parse_probe(const std::string& out) {
    ProbeOutput p;
    std::size_t start = 0;
    while (start < out.size()) {
        std::size_t end = out.find('\n', start);
        if (end == std::string::npos) end = out.size();
        const std::string line = out.substr(start, end - start);
        start = end + 1;
        int active = 0, size = 0, built = 0;
        Record r;
        int intact = 0, error = 0;
        long done = 0;
        if (std::sscanf(line.c_str(), "start active=%d size=%d built_with_mpi=%d", &active, &size, &built) == 3) {
            p.started = true;
            p.active = active;
            p.size = size;
        } else if (std::sscanf(line.c_str(), "record i=%zu rank=%d payload=%zu intact=%d error=%d", &r.i, &r.rank,
                               &r.payload, &intact, &error) == 5) {
            r.intact = intact != 0;
            r.error = error != 0;
            p.records.push_back(r);
        } else if (std::sscanf(line.c_str(), "done records=%ld", &done) == 1) {
            p.done = done;
        }
    }
    return p;
}

// The flags that start OpenMPI here: as root, more ranks than cores, no core binding (TBB inside
// each rank), no ptrace-based single copy (unavailable in some containers).
std::vector<std::string> mpirun_command(const std::string& mpirun, int ranks, const std::vector<std::string>& args) {
    std::vector<std::string> cmd = {mpirun,
                                    "-n",
                                    std::to_string(ranks),
                                    "--oversubscribe",
                                    "--allow-run-as-root",
                                    "--bind-to",
                                    "none",
                                    "--mca",
                                    "btl_vader_single_copy_mechanism",
                                    "none",
                                    SATIQ_MPI_PROBE};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
}

std::optional<std::string> mpirun_or_skip_reason(std::string& reason) {
    if (!satiq::mpi::built_with_mpi()) {
        reason = "satiq was built without MPI";
        return std::nullopt;
    }
    auto mpirun = find_on_path("mpirun");
    if (!mpirun) reason = "mpirun is not on PATH";
    return mpirun;
}

// Every index 0..n-1 exactly once; each rank's indices increase (one at a time, in order).
void expect_each_item_once(const ProbeOutput& p, std::size_t n) {
    std::map<std::size_t, int> seen;
    std::map<int, std::size_t> last_of_rank;
    for (const Record& r : p.records) {
        ++seen[r.i];
        auto it = last_of_rank.find(r.rank);
        if (it != last_of_rank.end()) {
            EXPECT_LT(it->second, r.i) << "rank " << r.rank << " out of order";
        }
        last_of_rank[r.rank] = r.i;
    }
    EXPECT_EQ(p.records.size(), n);
    EXPECT_EQ(p.done, static_cast<long>(n));
    for (std::size_t i = 0; i < n; ++i)
        EXPECT_EQ(seen[i], 1) << "item " << i;
}

// Sets an environment variable for the lifetime of the object (restores the old value).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_.c_str(), old_->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

const char* const kLauncherVariables[] = {"OMPI_COMM_WORLD_SIZE",
                                          "OMPI_COMM_WORLD_RANK",
                                          "OMPI_COMM_WORLD_LOCAL_SIZE",
                                          "PMI_SIZE",
                                          "PMI_RANK",
                                          "PMIX_RANK",
                                          "SLURM_NTASKS",
                                          "SLURM_STEP_NUM_TASKS",
                                          "SLURM_PROCID",
                                          "SLURM_NTASKS_PER_NODE",
                                          "MPI_LOCALNRANKS"};

}  // namespace

TEST(BatchMpi, LauncherDetectionFromEnvironment) {
    std::vector<std::unique_ptr<ScopedEnv>> clean;
    for (const char* name : kLauncherVariables)
        clean.push_back(std::make_unique<ScopedEnv>(name, nullptr));
    EXPECT_FALSE(satiq::mpi::launched_by_mpi_launcher());
    EXPECT_EQ(satiq::mpi::launcher_rank(), 0);
    EXPECT_EQ(satiq::mpi::launcher_size(), 1);
    EXPECT_EQ(satiq::mpi::local_rank_count(), 1);
    {
        ScopedEnv size("OMPI_COMM_WORLD_SIZE", "4"), rank("OMPI_COMM_WORLD_RANK", "2"),
            local("OMPI_COMM_WORLD_LOCAL_SIZE", "2");
        EXPECT_TRUE(satiq::mpi::launched_by_mpi_launcher());
        EXPECT_EQ(satiq::mpi::launcher_rank(), 2);
        EXPECT_EQ(satiq::mpi::launcher_size(), 4);
        EXPECT_EQ(satiq::mpi::local_rank_count(), 2);
    }
    {
        ScopedEnv rank("PMIX_RANK", "1");
        EXPECT_TRUE(satiq::mpi::launched_by_mpi_launcher());
        EXPECT_EQ(satiq::mpi::launcher_rank(), 1);
    }
    {
        // An sbatch script of one task is not a launch; an srun step of 3 tasks is.
        ScopedEnv procid("SLURM_PROCID", "0"), tasks("SLURM_NTASKS", "1");
        EXPECT_FALSE(satiq::mpi::launched_by_mpi_launcher());
        ScopedEnv step("SLURM_STEP_NUM_TASKS", "3"), per_node("SLURM_NTASKS_PER_NODE", "3");
        EXPECT_TRUE(satiq::mpi::launched_by_mpi_launcher());
        EXPECT_EQ(satiq::mpi::launcher_size(), 3);
        EXPECT_EQ(satiq::mpi::local_rank_count(), 3);
    }
    EXPECT_GE(satiq::mpi::threads_per_rank(satiq::mpi::Context{}), 1);
}

TEST(BatchMpi, OneProcessLoopsInOrderAndRecordsFailures) {
    const satiq::mpi::Context ctx;  // inactive: no init() needed
    std::vector<std::pair<std::size_t, std::string>> got;
    satiq::mpi::distribute(
        ctx, 5,
        [](std::size_t i) -> std::string {
            if (i == 2) throw std::runtime_error("bad image");
            if (i == 3) throw 42;
            return "ok" + std::to_string(i);
        },
        [](std::size_t i, const std::string& what) -> std::string {
            if (i == 3) throw std::runtime_error("on_error failed too");
            return "failed" + std::to_string(i) + ":" + what;
        },
        [&](std::size_t i, const std::string& record) { got.emplace_back(i, record); });
    ASSERT_EQ(got.size(), 5u);
    for (std::size_t i = 0; i < 5; ++i)
        EXPECT_EQ(got[i].first, i);
    EXPECT_EQ(got[0].second, "ok0");
    EXPECT_EQ(got[2].second, "failed2:bad image");
    const auto fallback = nlohmann::json::parse(got[3].second);  // on_error threw: a minimal record
    EXPECT_EQ(fallback.at("item_index").get<std::size_t>(), 3u);
    EXPECT_NE(fallback.at("error").get<std::string>().find("unknown exception"), std::string::npos);
    EXPECT_EQ(got[4].second, "ok4");

    std::size_t calls = 0;
    satiq::mpi::distribute(
        ctx, 0, [](std::size_t) { return std::string(); }, nullptr, [&](std::size_t, const std::string&) { ++calls; });
    EXPECT_EQ(calls, 0u);
}

TEST(BatchMpi, ProbeWithoutLauncherRunsEveryItemInOneProcess) {
    const RunResult r = run({SATIQ_MPI_PROBE, "--items", "50", "--sleep-ms", "1"});
    ASSERT_FALSE(r.timed_out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const ProbeOutput p = parse_probe(r.out);
    ASSERT_TRUE(p.started) << r.out;
    EXPECT_EQ(p.active, 0);
    EXPECT_EQ(p.size, 1);
    expect_each_item_once(p, 50);
    for (const Record& rec : p.records) {
        EXPECT_EQ(rec.rank, 0);
        EXPECT_TRUE(rec.intact) << "item " << rec.i;
        EXPECT_EQ(rec.payload, rec.i * 1000);
    }
}

TEST(BatchMpi, ThreeRanksShareTheItemsDynamically) {
    std::string reason;
    const auto mpirun = mpirun_or_skip_reason(reason);
    if (!mpirun) GTEST_SKIP() << reason;
    const RunResult r = run(mpirun_command(*mpirun, 3, {"--items", "50", "--sleep-ms", "20"}));
    ASSERT_FALSE(r.timed_out) << r.out << r.err;
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const ProbeOutput p = parse_probe(r.out);
    ASSERT_TRUE(p.started) << r.out << r.err;
    EXPECT_EQ(p.active, 1);
    EXPECT_EQ(p.size, 3);
    expect_each_item_once(p, 50);
    std::set<int> ranks;
    for (const Record& rec : p.records) {
        ranks.insert(rec.rank);
        EXPECT_TRUE(rec.intact) << "item " << rec.i;
        EXPECT_FALSE(rec.error) << "item " << rec.i;
        EXPECT_EQ(rec.payload, rec.i * 1000) << "item " << rec.i;
    }
    // Rank 0's own worker thread takes items too.
    EXPECT_EQ(ranks, (std::set<int>{0, 1, 2})) << r.out;

    // The same items as one process.
    const RunResult alone = run({SATIQ_MPI_PROBE, "--items", "50", "--sleep-ms", "0"});
    ASSERT_EQ(alone.exit_code, 0) << alone.err;
    std::set<std::size_t> with_mpi, without_mpi;
    for (const Record& rec : p.records)
        with_mpi.insert(rec.i);
    for (const Record& rec : parse_probe(alone.out).records)
        without_mpi.insert(rec.i);
    EXPECT_EQ(with_mpi, without_mpi);
}

TEST(BatchMpi, MegabyteRecordsAndFailuresCrossRanks) {
    std::string reason;
    const auto mpirun = mpirun_or_skip_reason(reason);
    if (!mpirun) GTEST_SKIP() << reason;
    // Item 11 carries 5.5 MB; item 5 throws and gets on_error's record.
    const RunResult r = run(mpirun_command(
        *mpirun, 2, {"--items", "12", "--bytes-per-item", "500000", "--sleep-ms", "20", "--throw-at", "5"}));
    ASSERT_FALSE(r.timed_out) << r.out << r.err;
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const ProbeOutput p = parse_probe(r.out);
    EXPECT_EQ(p.active, 1);
    EXPECT_EQ(p.size, 2);
    expect_each_item_once(p, 12);
    std::set<int> ranks;
    for (const Record& rec : p.records) {
        ranks.insert(rec.rank);
        EXPECT_TRUE(rec.intact) << "item " << rec.i;
        EXPECT_EQ(rec.error, rec.i == 5) << "item " << rec.i;
        if (rec.i != 5) {
            EXPECT_EQ(rec.payload, rec.i * 500000) << "item " << rec.i;
        }
    }
    EXPECT_EQ(ranks.size(), 2u) << r.out;
}

TEST(BatchMpi, OnRecordFailureEndsEveryRankAndRethrowsOnRankZero) {
    std::string reason;
    const auto mpirun = mpirun_or_skip_reason(reason);
    if (!mpirun) GTEST_SKIP() << reason;
    const RunResult r =
        run(mpirun_command(*mpirun, 3, {"--items", "50", "--sleep-ms", "20", "--throw-in-record-at", "3"}));
    ASSERT_FALSE(r.timed_out) << r.out << r.err;  // no rank left waiting
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.out.find("distribute threw: on_record failure"), std::string::npos) << r.out;
    const ProbeOutput p = parse_probe(r.out);
    EXPECT_LT(p.records.size(), 50u);  // nothing handed out or recorded after the failure
    for (const Record& rec : p.records)
        EXPECT_TRUE(rec.intact) << "item " << rec.i;
}
