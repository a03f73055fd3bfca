// The sweep's staged output folder (sweep_detail.hpp): outputs appear in DIR only when the sweep
// is complete, replacing exactly the files an earlier sweep wrote there.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "satiq/kernels/error.hpp"
#include "sweep_detail.hpp"

namespace fs = std::filesystem;

namespace satiq::detail {

namespace {

std::string errno_text(int err) {
    return std::system_category().message(err);
}

// The order of the commit: chips and steps first, then results.csv, report.html, results.json
// last (its presence means the sweep finished).
int commit_rank(const fs::path& rel) {
    const std::string s = rel.generic_string();
    if (s == "results.json") return 3;
    if (s == "report.html") return 2;
    if (s == "results.csv") return 1;
    return 0;
}

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot be read back from the staging folder", p.string()));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The parent folder of `p` as a path that can be opened ("." for a bare name).
fs::path parent_of(const fs::path& p) {
    return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

// The commit into an existing DIR as a transaction: before a file of DIR is replaced or removed,
// the old one is kept in a backup folder inside the staging folder (on DIR's file system: a hard
// link, link(2), to a file about to be replaced, so that the rename over it stays atomic; a
// rename, rename(2), of a file about to be removed; a copy when the file is on another file
// system, through a symbolic link). Every step is recorded; roll_back() undoes them in reverse:
// the backups renamed back, the files placed where none was removed, the folders created removed.
class CommitJournal {
public:
    explicit CommitJournal(fs::path backup) : backup_(std::move(backup)) {}

    const fs::path& backup_dir() const noexcept { return backup_; }

    // DIR's missing folders of `rel` (e.g. "chips"), created and recorded.
    void create_folders(const fs::path& out, const fs::path& rel) {
        fs::path dir = out;
        for (const fs::path& part : rel) {
            dir /= part;
            if (::mkdir(dir.c_str(), 0777) == 0)
                steps_.push_back({Step::created_folder, dir, {}});
            else if (const int err = errno; err != EEXIST)
                throw Error(
                    fmt::format("cannot write {}: cannot create the folder: {}", dir.string(), errno_text(err)));
        }
    }

    // Removes `path` (when it exists), keeping it as backup/`rel`.
    void set_aside(const fs::path& path, const fs::path& rel) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) return;  // nothing to remove
        const fs::path kept = backup_path(rel);
        if (::rename(path.c_str(), kept.c_str()) != 0) {
            const int err = errno;
            if (err != EXDEV) throw Error(fmt::format("cannot remove {}: {}", path.string(), errno_text(err)));
            copy_file(path, kept);  // a symbolic link's target elsewhere was not moved: copied, then removed
            if (::unlink(path.c_str()) != 0)
                throw Error(fmt::format("cannot remove {}: {}", path.string(), errno_text(errno)));
        }
        steps_.push_back({Step::set_aside, path, kept});
    }

    // Moves `staged` to the file `t` resolves `target` to, keeping the file it replaces.
    void place(const fs::path& staged, const fs::path& target, const OutputTarget& t, const fs::path& rel) {
        if (t.existing_mode) {
            const fs::path kept = backup_path(rel);
            if (::link(t.path.c_str(), kept.c_str()) != 0) copy_file(t.path, kept);  // another file system
            steps_.push_back({Step::replaced, t.path, kept});
        }
        if (const int err = rename_into_place(staged, t.path); err == EXDEV) {
            write_file_atomically(target, read_bytes(staged));  // a symbolic link to another file system
        } else if (err != 0) {
            throw Error(fmt::format("cannot write {}: cannot rename into place: {}", target.string(), errno_text(err)));
        }
        if (!t.existing_mode) steps_.push_back({Step::created_file, t.path, {}});
    }

    // Undoes every recorded step, last first. False when one could not be undone (its backup
    // stays in the backup folder).
    bool roll_back() noexcept {
        bool all = true;
        for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
            switch (it->kind) {
                case Step::created_file:
                    if (::unlink(it->path.c_str()) != 0 && errno != ENOENT) all = false;
                    break;
                case Step::created_folder:
                    ::rmdir(it->path.c_str());  // only when empty: a file of the user's stays
                    break;
                case Step::replaced:
                case Step::set_aside:
                    all &= restore(it->kept, it->path);
                    break;
            }
        }
        steps_.clear();
        return all;
    }

private:
    struct Step {
        enum Kind { created_folder, created_file, replaced, set_aside } kind;
        fs::path path;  // in DIR (or where a symbolic link of DIR points)
        fs::path kept;  // its backup
    };

    fs::path backup_path(const fs::path& rel) {
        fs::path kept = backup_ / rel;
        std::error_code ec;
        fs::create_directories(kept.parent_path(), ec);
        if (ec)
            throw Error(
                fmt::format("cannot create the backup folder {}: {}", kept.parent_path().string(), ec.message()));
        return kept;
    }

    static void copy_file(const fs::path& from, const fs::path& to) {
        std::error_code ec;
        fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
        if (ec) throw Error(fmt::format("cannot keep a copy of {}: {}", from.string(), ec.message()));
    }

    // Puts the backup `kept` back at `path`: a rename, or a copy across file systems.
    static bool restore(const fs::path& kept, const fs::path& path) noexcept {
        if (::rename(kept.c_str(), path.c_str()) == 0) return true;
        if (errno != EXDEV) return false;
        try {
            write_file_atomically(path, read_bytes(kept));
            return true;
        } catch (...) {
            return false;
        }
    }

    fs::path backup_;
    std::vector<Step> steps_;
};

}  // namespace

namespace {
// Consumes a run of at least `min` digits at the front of `s`.
bool eat_digits(std::string_view& s, std::size_t min) {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9')
        ++n;
    s.remove_prefix(n);
    return n >= min;
}

// Consumes `prefix` at the front of `s`.
bool eat(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}
}  // namespace

// The names written by sweep_outputs.cpp: results.json, results.csv, report.html,
// chips/input[_zoom].png, chips/stepNN[_zoom].png (NN two digits or more) and
// steps/stepNN_G.GGGm.tif. (A hand matcher: std::regex costs a GCC 12 false-positive warning
// under the sanitizers, and this is the whole grammar.)
bool is_sweep_output(const fs::path& rel) {
    const std::string name = rel.generic_string();
    std::string_view s = name;
    if (s == "results.json" || s == "results.csv" || s == "report.html" || s == "chips/input.png" ||
        s == "chips/input_zoom.png")
        return true;
    if (eat(s, "chips/step")) {
        if (!eat_digits(s, 2)) return false;
        return s == ".png" || s == "_zoom.png";
    }
    if (eat(s, "steps/step")) {
        if (!eat_digits(s, 2) || !eat(s, "_") || !eat_digits(s, 1) || !eat(s, ".")) return false;
        const std::size_t before = s.size();
        if (!eat_digits(s, 3) || before - s.size() != 3) return false;
        return s == "m.tif";
    }
    return false;
}

std::vector<fs::path> existing_sweep_outputs(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const char* name : {"results.json", "results.csv", "report.html"})
        if (fs::exists(fs::symlink_status(dir / name, ec))) out.emplace_back(name);
    for (const char* sub : {"chips", "steps"}) {
        if (!fs::is_directory(dir / sub, ec)) continue;
        for (const auto& e : fs::directory_iterator(dir / sub, ec)) {
            const fs::path rel = fs::path(sub) / e.path().filename();
            if (is_sweep_output(rel) && !e.is_directory(ec)) out.push_back(rel);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

SweepStaging::SweepStaging(const fs::path& output_dir) {
    out_ = output_dir.lexically_normal();
    if (!out_.has_filename() && out_.has_parent_path()) out_ = out_.parent_path();  // "out/" -> "out"
    if (out_.empty()) out_ = ".";
    std::error_code ec;
    const auto st = fs::symlink_status(out_, ec);
    out_existed_ = fs::exists(st);
    const std::string pid = std::to_string(static_cast<long>(::getpid()));
    if (out_existed_) {
        if (!fs::is_directory(fs::status(out_, ec)))
            throw Error(fmt::format("{}: the output must be a folder (it exists and is not one)", out_.string()));
        if (::access(out_.c_str(), W_OK | X_OK) != 0)
            throw Error(fmt::format("{}: the output folder is not writable", out_.string()));
        // What the commit would meet, checked before any work: an output name taken by a folder,
        // FIFO or device; with --no-clobber, any file of an earlier sweep.
        for (const char* sub : {"chips", "steps"})
            if (fs::exists(fs::symlink_status(out_ / sub, ec)) && !fs::is_directory(out_ / sub, ec))
                throw Error(fmt::format("{}: it exists and is not a folder; the sweep writes its {} there",
                                        (out_ / sub).string(), sub));
        for (const char* name : {"results.json", "results.csv", "report.html"})
            (void)resolve_output_target(out_ / name);
        if (no_clobber())
            if (const auto old = existing_sweep_outputs(out_); !old.empty())
                throw Error(
                    fmt::format("cannot write {}: it holds the outputs of an earlier sweep ({}) and "
                                "--no-clobber is set",
                                out_.string(), old.front().generic_string()));
        root_ = out_ / (".satiq-sweep-" + pid);
        stage_dir_ = root_;
    } else {
        // The first missing folder of DIR's path: the staging folder stands in for it.
        fs::path top = out_;
        while (top.has_parent_path() && top.parent_path() != top &&
               !fs::exists(fs::symlink_status(top.parent_path(), ec)))
            top = top.parent_path();
        const fs::path parent = parent_of(top);
        if (!fs::is_directory(parent, ec))
            throw Error(
                fmt::format("{}: cannot create the output folder: {} is not a folder", out_.string(), parent.string()));
        if (::access(parent.c_str(), W_OK | X_OK) != 0)
            throw Error(
                fmt::format("{}: cannot create the output folder: {} is not writable", out_.string(), parent.string()));
        top_missing_ = top;
        root_ = parent / fmt::format(".{}.satiq-sweep-{}", top.filename().string(), pid);
        stage_dir_ = root_ / out_.lexically_relative(top);
        stage_dir_ = stage_dir_.lexically_normal();
        if (!stage_dir_.has_filename()) stage_dir_ = stage_dir_.parent_path();
    }
    fs::remove_all(root_, ec);  // a leftover of a killed process with the same id
    guard_.emplace(root_);      // registered before it exists: no unguarded window
    if (::mkdir(root_.c_str(), 0777) != 0) {
        const int err = errno;
        guard_.reset();
        throw Error(fmt::format("{}: cannot create the output folder: {}", out_.string(), errno_text(err)));
    }
    fs::create_directories(stage_dir_, ec);
    if (ec) {
        guard_->remove_now();
        throw Error(fmt::format("{}: cannot create the output folder: {}", out_.string(), ec.message()));
    }
}

SweepStaging::~SweepStaging() {
    if (!committed_ && guard_) guard_->remove_now();
}

void SweepStaging::commit() {
    InterruptDeferral defer;  // a signal now takes effect after the moves (or after the rollback)
    if (!out_existed_) {
        // DIR appears whole: one rename of the staging folder to DIR's first missing folder.
        if (::renameat2(AT_FDCWD, root_.c_str(), AT_FDCWD, top_missing_.c_str(), RENAME_NOREPLACE) != 0) {
            const int err = errno;
            throw Error(fmt::format("{}: cannot move the outputs into place: {}{}", out_.string(), errno_text(err),
                                    err == EEXIST ? " (the folder appeared while the sweep ran)" : ""));
        }
        committed_ = true;
        guard_->release();
        return;
    }
    // The staged files, the commit's order (listed before the backup folder exists).
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(stage_dir_))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
            files.push_back(e.path().lexically_relative(stage_dir_));
    std::stable_sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        return std::pair(commit_rank(a), a) < std::pair(commit_rank(b), b);
    });
    const std::set<fs::path> fresh(files.begin(), files.end());
    const std::vector<fs::path> old = existing_sweep_outputs(out_);
    CommitJournal journal(root_ / ".backup");
    try {
        bool stale_removed = false;
        auto remove_stale = [&] {
            // The earlier sweep's files that this one does not replace, before the results that
            // name the chips: never a stale chip beside new results. Kept in the backup folder.
            for (const fs::path& o : old)
                if (!fresh.count(o)) journal.set_aside(out_ / o, o);
            stale_removed = true;
        };
        for (const fs::path& rel : files) {
            if (!stale_removed && commit_rank(rel) > 0) remove_stale();
            const fs::path staged = stage_dir_ / rel, target = out_ / rel;
            if (fail_at_ && *fail_at_ == rel)
                throw Error(fmt::format("cannot write {}: cannot rename into place: {}", target.string(),
                                        errno_text(EIO)));  // the test hook
            if (rel.has_parent_path()) journal.create_folders(out_, rel.parent_path());
            const OutputTarget t = resolve_output_target(target);  // a folder or FIFO, --no-clobber
            if (t.existing_mode) ::chmod(staged.c_str(), static_cast<mode_t>(*t.existing_mode));
            if (rel.extension() == ".tif")  // GDAL would read a stale .aux.xml over the new file
                journal.set_aside(fs::path(t.path.string() + ".aux.xml"), fs::path(rel.string() + ".aux.xml"));
            journal.place(staged, target, t, rel);
        }
        if (!stale_removed) remove_stale();
    } catch (const std::exception& e) {
        // Every file already moved goes back; the error is the one that stopped the commit.
        if (journal.roll_back()) throw Error(fmt::format("{} ({} is left as it was)", e.what(), out_.string()));
        guard_->release();  // the backups are all that is left of some earlier outputs: keep them
        throw Error(fmt::format("{}; the earlier outputs could not all be put back: they are in {}", e.what(),
                                journal.backup_dir().string()));
    }
    committed_ = true;
    guard_->remove_now();  // the staging folder with the backups
    // A folder the earlier sweep filled and this one leaves empty (steps/ after a run without
    // --keep-steps) goes too; rmdir(2) leaves it when the user keeps files of their own there.
    for (const char* sub : {"chips", "steps"}) {
        const auto under = [&](const fs::path& rel) { return *rel.begin() == sub; };
        if (std::any_of(old.begin(), old.end(), under) && std::none_of(files.begin(), files.end(), under))
            ::rmdir((out_ / sub).c_str());
    }
    // Make the renames durable; best effort (some file systems refuse fsync on a folder).
    const int dfd = ::open(out_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace satiq::detail
