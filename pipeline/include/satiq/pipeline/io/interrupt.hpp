#pragma once
/// Interrupts and temporary files: SIGINT, SIGTERM and SIGHUP remove the registered temporary
/// files and folders and end the process with 128 + the signal number (130, 143, 129), as a shell
/// reports a process killed by that signal.
///
/// The handler is async-signal-safe: registered paths live in fixed static tables (64 file slots
/// and 4 folder slots of PATH_MAX bytes, each with an atomic state); the handler only unlink()s
/// the occupied file slots, empties and rmdir()s the folder slots (open, getdents64, unlinkat,
/// rmdir: system calls only) and calls _exit(). It neither allocates, locks nor uses stdio, and it
/// blocks the other two signals while it runs. While an InterruptDeferral is alive the handler
/// only records the signal, which then takes effect when the deferral ends.
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

namespace satiq {

/// Installs the SIGINT, SIGTERM and SIGHUP handlers (idempotent, thread-safe). A signal that is
/// ignored when this is called (SIGHUP under nohup) stays ignored.
void install_interrupt_handlers();

/// True once one of those signals arrived. The handler ends the process, so this is only seen by
/// other threads in the short moment before _exit (for cooperative checks in long loops).
bool interrupted() noexcept;

/// What a TempGuard registers: a temporary file, or a temporary folder (a staging folder) that is
/// removed with everything in it, sub-folders up to 8 levels deep.
enum class TempKind { file, folder };

/// RAII registration of a temporary file or folder to delete if a signal arrives. The destructor
/// only unregisters; it does NOT delete (call remove_now() for that). When the table is full (64
/// live file guards, 4 folder guards) or the absolute path does not fit PATH_MAX, the path is not
/// registered (registered() is false): no error, it is just not cleaned up on a signal.
template <TempKind Kind>
class TempGuard {
public:
    explicit TempGuard(const std::filesystem::path& p);
    ~TempGuard();

    TempGuard(const TempGuard&) = delete;
    TempGuard& operator=(const TempGuard&) = delete;

    /// Unregisters without deleting (the file or folder was renamed into place). Idempotent.
    void release() noexcept;
    /// Deletes the file, or the folder and everything in it (missing is fine), and unregisters.
    /// Idempotent.
    void remove_now() noexcept;
    /// True while the path is in the signal handler's table.
    bool registered() const noexcept { return slot_ >= 0; }

private:
    std::filesystem::path path_;
    int slot_ = -1;
};

extern template class TempGuard<TempKind::file>;
extern template class TempGuard<TempKind::folder>;
using TempFileGuard = TempGuard<TempKind::file>;
using TempDirGuard = TempGuard<TempKind::folder>;

/// While alive, SIGINT, SIGTERM and SIGHUP are recorded instead of acted on, so that a short
/// sequence of renames (a staged output moved into place) is never cut in the middle. When the
/// last deferral ends, a signal that arrived meanwhile takes effect as usual: the registered
/// temporary files and folders are removed and the process exits with 128 + the signal.
/// Nestable; meant for short critical sections only.
class InterruptDeferral {
public:
    InterruptDeferral() noexcept;
    ~InterruptDeferral();

    InterruptDeferral(const InterruptDeferral&) = delete;
    InterruptDeferral& operator=(const InterruptDeferral&) = delete;
};

/// Where a write to `target` lands: `target`, or for a symbolic link the file it points to (the
/// link stays a link). Throws satiq::Error when that exists and is not a regular file (a device,
/// FIFO, socket or directory: never replaced). `existing_mode` holds the permission bits of a
/// regular file that a write would replace.
struct OutputTarget {
    std::filesystem::path path;
    std::optional<unsigned> existing_mode;
};
OutputTarget resolve_output_target(const std::filesystem::path& target);

/// `--no-clobber`: from then on, no output replaces an existing file. resolve_output_target
/// refuses one that exists, and the final rename of every atomic write refuses one that appeared
/// meanwhile (renameat2 RENAME_NOREPLACE).
void set_no_clobber(bool on) noexcept;
bool no_clobber() noexcept;

/// Moves the finished temporary file `from` to `to` (same folder): rename(2), or with
/// --no-clobber renameat2(RENAME_NOREPLACE). Returns 0 or the errno.
int rename_into_place(const std::filesystem::path& from, const std::filesystem::path& to) noexcept;

/// Replaces `target` with `bytes` atomically: writes a hidden temporary file in the target's
/// folder (`.NAME.satiq-tmp-PID-N`, registered with a TempFileGuard), fsyncs it and renames it
/// over the target, so readers see the old or the new content, never a partial file.
///  - A replaced regular file keeps its permission bits; a new file gets 0666 minus the umask.
///  - A symlink is written through: the file it points to is replaced, the link stays.
///  - A target that exists and is not a regular file (directory, FIFO, device, socket) is refused.
///  - Hard links to a replaced file keep the old content (rename gives the name a new inode).
/// On any failure the temporary file is removed and satiq::Error names the target and the reason.
void write_file_atomically(const std::filesystem::path& target, std::string_view bytes);

/// Where a producer hands the pieces of a file written by write_file_atomically.
using AtomicFileSink = std::function<void(std::string_view)>;
/// The same, for content too large to hold: `produce` is called once and hands the content to its
/// sink piece by piece. An exception from `produce` removes the temporary file and is rethrown;
/// the target is then left as it was.
void write_file_atomically(const std::filesystem::path& target,
                           const std::function<void(const AtomicFileSink&)>& produce);

}  // namespace satiq
