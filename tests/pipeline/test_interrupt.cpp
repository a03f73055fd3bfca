// satiq interrupt handling (temporary files removed, exit 128 + signal) and write_file_atomically.
// Signals are raised only in forked children; every file lives in a fresh temporary folder.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

void spit(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

// Forks a child that runs `body` then raises `sig`; returns the child's exit status
// (-1 when it did not exit normally). The child never returns into the test framework.
template <class Body>
int exit_status_of_child(int sig, Body body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        try {
            ::signal(sig, SIG_DFL);  // a SIGHUP ignored by the test runner (nohup) must not leak in
            body();
            ::raise(sig);
        } catch (...) {
            ::_exit(99);
        }
        ::_exit(98);  // the handler did not end the process
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

std::vector<fs::path> leftovers(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".satiq-tmp-") != std::string::npos) out.push_back(e.path());
    return out;
}

}  // namespace

class InterruptSignal : public ::testing::TestWithParam<int> {};

TEST_P(InterruptSignal, RemovesRegisteredFilesAndExitsWith128PlusSignal) {
    const int sig = GetParam();
    const satiq::test::TempDir dir("interrupt");
    const fs::path temp = dir / "partial.tif.tmp";
    const fs::path released = dir / "released.tif";
    const fs::path unguarded = dir / "other.txt";
    spit(unguarded, "keep");
    const int code = exit_status_of_child(sig, [&] {
        satiq::install_interrupt_handlers();
        satiq::install_interrupt_handlers();  // idempotent
        spit(temp, "partial");
        spit(released, "done");
        // Leaked on purpose: the handler must find the paths while the guards are alive.
        auto* guard = new satiq::TempFileGuard(temp);
        auto* done = new satiq::TempFileGuard(released);
        if (!guard->registered() || !done->registered()) ::_exit(97);
        done->release();  // renamed into place: must survive
    });
    EXPECT_EQ(code, 128 + sig);
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_TRUE(fs::exists(released));
    EXPECT_EQ(satiq::test::read_file(unguarded), "keep");
}

INSTANTIATE_TEST_SUITE_P(Signals, InterruptSignal, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                             return param_info.param == SIGINT    ? std::string("SIGINT")
                                    : param_info.param == SIGTERM ? std::string("SIGTERM")
                                                                  : std::string("SIGHUP");
                         });

TEST_P(InterruptSignal, RemovesARegisteredFolderWithEverythingInIt) {
    const int sig = GetParam();
    const satiq::test::TempDir dir("interrupt_dir");
    const fs::path staging = dir / ".out.satiq-sweep-1";
    const fs::path sibling = dir / "keep.txt";
    spit(sibling, "keep");
    const int code = exit_status_of_child(sig, [&] {
        satiq::install_interrupt_handlers();
        auto* guard = new satiq::TempDirGuard(staging);  // leaked on purpose, as above
        if (!guard->registered()) ::_exit(97);
        // Nested folders and more names than one getdents64 buffer holds.
        fs::create_directories(staging / "a" / "chips" / "deeper");
        for (int i = 0; i < 300; ++i)
            spit(staging / "a" / "chips" / fmt::format("step{:03}_with_a_long_name_to_fill_the_buffer.png", i), "x");
        spit(staging / "a" / "chips" / "deeper" / "f", "x");
        spit(staging / "results.json", "{}");
        fs::create_symlink(sibling, staging / "link");  // removed as a link, its target kept
    });
    EXPECT_EQ(code, 128 + sig);
    EXPECT_FALSE(fs::exists(fs::symlink_status(staging)));
    EXPECT_EQ(satiq::test::read_file(sibling), "keep");
}

TEST_P(InterruptSignal, ADeferredSignalTakesEffectWhenTheDeferralEnds) {
    const int sig = GetParam();
    const satiq::test::TempDir dir("interrupt_defer");
    const fs::path temp = dir / "staged.tmp";
    const fs::path marker = dir / "after_the_signal";
    const int code = exit_status_of_child(sig, [&] {
        satiq::install_interrupt_handlers();
        spit(temp, "partial");
        auto* guard = new satiq::TempFileGuard(temp);  // leaked on purpose
        if (!guard->registered()) ::_exit(97);
        {
            const satiq::InterruptDeferral outer;
            {
                const satiq::InterruptDeferral inner;  // nested: only the last one acts
                ::raise(sig);
            }
            spit(marker, "the critical section went on");  // still running after the signal
            if (!fs::exists(temp)) ::_exit(96);
        }
        ::_exit(95);  // the deferral's end did not act on the signal
    });
    EXPECT_EQ(code, 128 + sig);
    EXPECT_TRUE(fs::exists(marker));
    EXPECT_FALSE(fs::exists(temp));
}

TEST(Interrupt, DirGuardRemoveNowAndRelease) {
    const satiq::test::TempDir dir("interrupt_dir_guard");
    fs::create_directories(dir / "a" / "b");
    spit(dir / "a" / "b" / "f", "x");
    fs::create_directories(dir / "c");
    {
        satiq::TempDirGuard a(dir / "a");
        satiq::TempDirGuard c(dir / "c");
        a.remove_now();
        EXPECT_FALSE(a.registered());
        c.release();
    }
    EXPECT_FALSE(fs::exists(dir / "a"));
    EXPECT_TRUE(fs::exists(dir / "c"));  // the destructor only unregisters
}

TEST(Interrupt, NotInterruptedWithoutASignal) {
    EXPECT_FALSE(satiq::interrupted());
}

TEST(Interrupt, GuardDestructorUnregistersWithoutDeleting) {
    const satiq::test::TempDir dir("interrupt_guard");
    const fs::path a = dir / "a.tmp";
    const fs::path b = dir / "b.tmp";
    const int code = exit_status_of_child(SIGTERM, [&] {
        satiq::install_interrupt_handlers();
        spit(a, "a");
        spit(b, "b");
        { satiq::TempFileGuard gone(a); }  // destroyed: unregistered, file kept
        satiq::TempFileGuard now(b);
        now.remove_now();
        if (fs::exists(b)) ::_exit(96);
        now.release();  // after remove_now: a no-op
    });
    EXPECT_EQ(code, 143);
    EXPECT_EQ(satiq::test::read_file(a), "a");
    EXPECT_FALSE(fs::exists(b));
}

TEST(Interrupt, FullTableFallsBackToUnregistered) {
    const satiq::test::TempDir dir("interrupt_full");
    const int code = exit_status_of_child(SIGINT, [&] {
        satiq::install_interrupt_handlers();
        int registered = 0;
        for (int i = 0; i < 70; ++i) {
            const fs::path p = dir / fmt::format("f{}", i);
            spit(p, "x");
            auto* g = new satiq::TempFileGuard(p);  // kept alive until the signal
            registered += g->registered() ? 1 : 0;
        }
        if (registered != 64) ::_exit(95);
    });
    EXPECT_EQ(code, 130);
    int remaining = 0;
    for (int i = 0; i < 70; ++i)
        remaining += fs::exists(dir / fmt::format("f{}", i)) ? 1 : 0;
    EXPECT_EQ(remaining, 6);  // the ones that found no slot
}

TEST(Interrupt, FullTableRecoversWhenGuardsGo) {
    const satiq::test::TempDir dir("interrupt_reuse");
    std::vector<std::unique_ptr<satiq::TempFileGuard>> guards;
    for (int i = 0; i < 64; ++i)
        guards.push_back(std::make_unique<satiq::TempFileGuard>(dir / std::to_string(i)));
    satiq::TempFileGuard extra(dir / "extra");
    EXPECT_FALSE(extra.registered());
    guards.pop_back();
    satiq::TempFileGuard again(dir / "again");
    EXPECT_TRUE(again.registered());
}

TEST(WriteFileAtomically, CreatesANewFile) {
    const satiq::test::TempDir dir("atomic_new");
    satiq::write_file_atomically(dir / "report.json", "{}\n");
    EXPECT_EQ(satiq::test::read_file(dir / "report.json"), "{}\n");
    EXPECT_TRUE(leftovers(dir).empty());
}

TEST(WriteFileAtomically, ReplacesARegularFileKeepingItsMode) {
    const satiq::test::TempDir dir("atomic_replace");
    const fs::path target = dir / "report.json";
    spit(target, "old content that is longer than the new one");
    ASSERT_EQ(::chmod(target.c_str(), 0640), 0);
    satiq::write_file_atomically(target, "new");
    EXPECT_EQ(satiq::test::read_file(target), "new");
    EXPECT_EQ(mode_of(target), 0640u);
    EXPECT_TRUE(leftovers(dir).empty());
}

// The producer form: pieces of any size (small ones gathered, one larger than the 1 MiB write
// buffer), in order; a producer that throws leaves the old file and no temporary one.
TEST(WriteFileAtomically, ProducerPiecesInOrderAndAThrowLeavesTheOldFile) {
    const satiq::test::TempDir dir("atomic_producer");
    const fs::path target = dir / "results.jsonl";
    std::string expected;
    satiq::write_file_atomically(target, [&](const satiq::AtomicFileSink& sink) {
        for (int i = 0; i < 20000; ++i) {
            const std::string line = fmt::format("{{\"line\":{}}}\n", i);
            expected += line;
            sink(line);
        }
        const std::string big(3u << 20, 'x');
        expected += big;
        sink(big);
        expected += "end\n";
        sink("end\n");
    });
    EXPECT_EQ(satiq::test::read_file(target), expected);
    EXPECT_THROW(satiq::write_file_atomically(target,
                                              [](const satiq::AtomicFileSink& sink) {
                                                  sink(std::string(2u << 20, 'y'));
                                                  throw satiq::Error("the input changed");
                                              }),
                 satiq::Error);
    EXPECT_EQ(satiq::test::read_file(target), expected);
    EXPECT_TRUE(leftovers(dir).empty());
}

TEST(WriteFileAtomically, RefusesAFifo) {
    const satiq::test::TempDir dir("atomic_fifo");
    const fs::path fifo = dir / "pipe";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    try {
        satiq::write_file_atomically(fifo, "x");
        ADD_FAILURE() << "no exception";
    } catch (const satiq::Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(fifo.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("FIFO"), std::string::npos) << msg;
    }
    EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
    EXPECT_TRUE(leftovers(dir).empty());
}

TEST(WriteFileAtomically, RefusesADirectory) {
    const satiq::test::TempDir dir("atomic_dir");
    const fs::path sub = dir / "out";
    fs::create_directory(sub);
    try {
        satiq::write_file_atomically(sub, "x");
        ADD_FAILURE() << "no exception";
    } catch (const satiq::Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(sub.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("directory"), std::string::npos) << msg;
    }
    EXPECT_TRUE(fs::is_directory(sub));
    EXPECT_TRUE(leftovers(dir).empty());
}

TEST(WriteFileAtomically, RefusesASymlinkToAFifo) {
    const satiq::test::TempDir dir("atomic_link_fifo");
    ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
    fs::create_symlink("pipe", dir / "link");
    EXPECT_THROW(satiq::write_file_atomically(dir / "link", "x"), satiq::Error);
    EXPECT_TRUE(fs::is_symlink(dir / "link"));
    EXPECT_TRUE(fs::is_fifo(fs::symlink_status(dir / "pipe")));
}

TEST(WriteFileAtomically, WritesThroughASymlink) {
    const satiq::test::TempDir dir("atomic_link");
    fs::create_directory(dir / "real");
    const fs::path file = dir / "real" / "report.json";
    spit(file, "old");
    ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
    const fs::path link = dir / "report.json";
    fs::create_symlink("real/report.json", link);  // relative link, resolved from its folder
    satiq::write_file_atomically(link, "new");
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(fs::read_symlink(link), fs::path("real/report.json"));
    EXPECT_EQ(satiq::test::read_file(file), "new");
    EXPECT_EQ(mode_of(file), 0640u);
    EXPECT_TRUE(leftovers(dir).empty());
    EXPECT_TRUE(leftovers(dir / "real").empty());
}

TEST(WriteFileAtomically, MissingFolderNamesTargetAndReason) {
    const satiq::test::TempDir dir("atomic_missing");
    const fs::path target = dir / "no" / "such" / "report.json";
    try {
        satiq::write_file_atomically(target, "x");
        ADD_FAILURE() << "no exception";
    } catch (const satiq::Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(target.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
    }
}
