#include "satiq/pipeline/io/interrupt.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstdio>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "satiq/kernels/error.hpp"

namespace satiq {

namespace {

// Slot states. A slot is written only while `claimed`; the handler unlinks only `occupied` slots
// and marks them `in_handler` first, so a slot being unregistered meanwhile is never reused.
enum SlotState : int { kFree = 0, kClaimed = 1, kOccupied = 2, kInHandler = 3 };

constexpr int kSlots = 64;

struct Slot {
    std::atomic<int> state{kFree};
    char path[PATH_MAX];
};

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs lock-free atomics");

Slot g_slots[kSlots];
constexpr int kDirSlots = 4;
Slot g_dir_slots[kDirSlots];  // staging folders, removed with their contents
std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_installed{false};
std::atomic<int> g_defer_depth{0};      // live InterruptDeferral objects
std::atomic<int> g_deferred_signal{0};  // the first signal that arrived, 0 if none

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kMaxFolderDepth = 8;

// One record of getdents64(2) (linux/dirent.h's struct linux_dirent64).
struct LinuxDirent64 {
    std::uint64_t d_ino;
    std::int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[1];
};

// Empties the folder open as `dfd`, its sub-folders up to `depth` levels deep. Async-signal-safe:
// system calls only (getdents64 through syscall(2), unlinkat, openat, close, lseek). Entries may
// be skipped while the folder changes under the listing, so it is listed again until a pass
// removes nothing.
void empty_folder(int dfd, int depth) noexcept {
    alignas(8) char buf[1024];
    for (int pass = 0; pass < 1000; ++pass) {
        bool removed = false;
        if (::lseek(dfd, 0, SEEK_SET) < 0) return;
        for (;;) {
            const long n = ::syscall(SYS_getdents64, dfd, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
                off += d->d_reclen;
                const char* name = d->d_name;
                if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
                if (::unlinkat(dfd, name, 0) == 0) {
                    removed = true;
                    continue;
                }
                if (depth <= 0) continue;
                const int sub = ::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) continue;
                empty_folder(sub, depth - 1);
                ::close(sub);
                if (::unlinkat(dfd, name, AT_REMOVEDIR) == 0) removed = true;
            }
        }
        if (!removed) return;
    }
}

// Removes a folder and everything in it (a symbolic link is not followed). Async-signal-safe.
void remove_folder(const char* path) noexcept {
    const int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        empty_folder(fd, kMaxFolderDepth);
        ::close(fd);
    }
    ::rmdir(path);
}

// Removes every registered temporary file and folder. Async-signal-safe.
void remove_registered() noexcept {
    for (Slot& s : g_slots) {
        int expected = kOccupied;
        if (s.state.compare_exchange_strong(expected, kInHandler)) ::unlink(s.path);
    }
    for (Slot& s : g_dir_slots) {
        int expected = kOccupied;
        if (s.state.compare_exchange_strong(expected, kInHandler)) remove_folder(s.path);
    }
}

// Async-signal-safe: atomics, unlink, rmdir, the folder listing and _exit only. The signal is
// recorded first and the deferral checked second, so that a deferral ending meanwhile either
// sees the signal or is seen as ended (InterruptDeferral's destructor does the reverse).
extern "C" void on_interrupt(int sig) {
    const int saved_errno = errno;
    g_interrupted.store(true);
    int none = 0;
    g_deferred_signal.compare_exchange_strong(none, sig);
    if (g_defer_depth.load() > 0) {
        errno = saved_errno;
        return;
    }
    remove_registered();
    ::_exit(128 + sig);
}

// Claims a free slot of `table` and stores `path`; -1 when the table is full or the path too long.
template <std::size_t N>
int register_path(Slot (&table)[N], const std::string& path) noexcept {
    if (path.empty() || path.size() >= PATH_MAX) return -1;
    for (std::size_t i = 0; i < N; ++i) {
        int expected = kFree;
        if (table[i].state.compare_exchange_strong(expected, kClaimed)) {
            std::memcpy(table[i].path, path.c_str(), path.size() + 1);
            table[i].state.store(kOccupied);
            return static_cast<int>(i);
        }
    }
    return -1;
}

// Frees a slot unless the handler has taken it (the process is then exiting anyway).
void unregister_slot(Slot* table, int slot) noexcept {
    if (slot < 0) return;
    int expected = kOccupied;
    table[slot].state.compare_exchange_strong(expected, kFree);
}

std::string absolute_string(const std::filesystem::path& p) {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(p, ec);  // survives a later chdir
    return ec ? p.string() : abs.string();
}

[[noreturn]] void fail(const std::filesystem::path& target, const std::string& what, int err) {
    throw Error(fmt::format("cannot write {}: {}: {}", target.string(), what, std::system_category().message(err)));
}

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a regular file";
}

// The file a write to `target` lands in: `target` itself, or for a symlink the file it points
// to (followed to the end, which may not exist yet).
std::filesystem::path resolve_target(const std::filesystem::path& target) {
    namespace fs = std::filesystem;
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return target;
    std::error_code ec;
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const fs::path real_parent = fs::canonical(parent, ec);
    if (ec) fail(target, fmt::format("cannot resolve its folder {}", parent.string()), ec.value());
    fs::path real = fs::weakly_canonical(real_parent / target.filename(), ec);
    if (ec) fail(target, "cannot resolve the symbolic link", ec.value());
    return real;
}

}  // namespace

void install_interrupt_handlers() {
    if (g_installed.exchange(true)) return;
    for (int sig : kSignals) {
        struct sigaction old {};
        if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        for (int other : kSignals)
            sigaddset(&sa.sa_mask, other);
        sa.sa_flags = SA_RESTART;
        ::sigaction(sig, &sa, nullptr);
    }
}

bool interrupted() noexcept {
    return g_interrupted.load();
}

namespace {
template <TempKind Kind>
auto& table_of() noexcept {
    if constexpr (Kind == TempKind::file)
        return g_slots;
    else
        return g_dir_slots;
}
}  // namespace

template <TempKind Kind>
TempGuard<Kind>::TempGuard(const std::filesystem::path& p) : path_(p) {
    slot_ = register_path(table_of<Kind>(), absolute_string(p));
}

template <TempKind Kind>
TempGuard<Kind>::~TempGuard() {
    release();
}

template <TempKind Kind>
void TempGuard<Kind>::release() noexcept {
    unregister_slot(table_of<Kind>(), slot_);
    slot_ = -1;
}

template <TempKind Kind>
void TempGuard<Kind>::remove_now() noexcept {
    if constexpr (Kind == TempKind::file) {
        ::unlink(path_.c_str());
    } else {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    release();
}

template class TempGuard<TempKind::file>;
template class TempGuard<TempKind::folder>;

InterruptDeferral::InterruptDeferral() noexcept {
    g_defer_depth.fetch_add(1);
}

InterruptDeferral::~InterruptDeferral() {
    if (g_defer_depth.fetch_sub(1) != 1) return;
    if (const int sig = g_deferred_signal.load(); sig != 0) {
        remove_registered();
        ::_exit(128 + sig);
    }
}

namespace {
std::atomic<bool> g_no_clobber{false};
}  // namespace

void set_no_clobber(bool on) noexcept {
    g_no_clobber = on;
}

bool no_clobber() noexcept {
    return g_no_clobber;
}

int rename_into_place(const std::filesystem::path& from, const std::filesystem::path& to) noexcept {
    const int rc = g_no_clobber ? ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE)
                                : ::rename(from.c_str(), to.c_str());
    return rc == 0 ? 0 : errno;
}

OutputTarget resolve_output_target(const std::filesystem::path& target) {
    if (target.empty() || !target.has_filename())
        throw Error(fmt::format("cannot write '{}': not a file name", target.string()));
    OutputTarget t;
    t.path = resolve_target(target);
    struct stat st {};
    if (::lstat(t.path.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            throw Error(fmt::format("cannot write {}: it exists and is {}; give a regular file path", target.string(),
                                    kind_of(st.st_mode)));
        if (g_no_clobber)
            throw Error(fmt::format("cannot write {}: it exists and --no-clobber is set", target.string()));
        t.existing_mode = static_cast<unsigned>(st.st_mode & 07777);
    } else if (const int err = errno; err != ENOENT) {
        fail(target, fmt::format("cannot inspect {}", t.path.string()), err);
    }
    return t;
}

void write_file_atomically(const std::filesystem::path& target, std::string_view bytes) {
    write_file_atomically(target, [&](const AtomicFileSink& sink) { sink(bytes); });
}

void write_file_atomically(const std::filesystem::path& target,
                           const std::function<void(const AtomicFileSink&)>& produce) {
    namespace fs = std::filesystem;
    const OutputTarget out = resolve_output_target(target);
    const fs::path& real = out.path;
    const bool replace = out.existing_mode.has_value();
    struct stat st {};
    if (replace) st.st_mode = static_cast<mode_t>(*out.existing_mode);

    const fs::path folder = real.has_parent_path() ? real.parent_path() : fs::path(".");
    static std::atomic<unsigned> counter{0};
    fs::path tmp;
    int fd = -1;
    std::optional<TempFileGuard> guard;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        tmp = folder / fmt::format(".{}.satiq-tmp-{}-{}", real.filename().string(), ::getpid(), counter++);
        guard.emplace(tmp);  // registered before the file exists: no unguarded window
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) {
            const int err = errno;
            guard.reset();
            fail(target, fmt::format("cannot create a temporary file in {}", folder.string()), err);
        }
    }
    if (fd < 0) {
        guard.reset();
        fail(target, fmt::format("cannot create a temporary file in {}", folder.string()), EEXIST);
    }

    // Closes and removes the temporary file, then throws; `err` is captured before anything can change errno.
    auto abort_with = [&](const char* what, int err) {
        if (fd >= 0) ::close(fd);
        fd = -1;
        guard->remove_now();
        fail(target, fmt::format("{} {}", what, tmp.string()), err);
    };

    auto write_all = [&](std::string_view bytes) {
        const char* p = bytes.data();
        std::size_t left = bytes.size();
        while (left > 0) {
            const ssize_t n = ::write(fd, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                abort_with("cannot write", errno);
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    };
    // The producer's pieces are gathered into writes of about 1 MiB.
    std::string buffer;
    constexpr std::size_t kFlushBytes = std::size_t{1} << 20;
    try {
        produce([&](std::string_view piece) {
            if (buffer.size() + piece.size() > kFlushBytes) {
                write_all(buffer);
                buffer.clear();
            }
            if (piece.size() > kFlushBytes) {
                write_all(piece);
            } else {
                buffer.append(piece);
            }
        });
    } catch (...) {
        if (fd >= 0) ::close(fd);
        fd = -1;
        guard->remove_now();
        throw;
    }
    write_all(buffer);
    if (replace && ::fchmod(fd, st.st_mode & 07777) != 0) abort_with("cannot set the permissions of", errno);
    if (::fsync(fd) != 0) abort_with("cannot flush", errno);
    const int closed = ::close(fd);
    const int close_err = errno;
    fd = -1;
    if (closed != 0) abort_with("cannot close", close_err);
    if (const int err = rename_into_place(tmp, real); err != 0) abort_with("cannot rename into place", err);
    guard->release();

    // Make the rename durable; best effort (some filesystems refuse fsync on a directory).
    const int dfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace satiq
