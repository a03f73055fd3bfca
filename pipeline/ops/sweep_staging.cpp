// The sweep's staged output folder (sweep_detail.hpp): outputs appear in DIR only when the sweep
// is complete, replacing exactly the files an earlier sweep wrote there.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>
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

}  // namespace

bool is_sweep_output(const fs::path& rel) {
    static const std::regex pattern(
        R"((results\.json|results\.csv|report\.html|chips/input(_zoom)?\.png|chips/step[0-9]{2,}(_zoom)?\.png|)"
        R"(steps/step[0-9]{2,}_[0-9]+\.[0-9]{3}m\.tif))");
    return std::regex_match(rel.generic_string(), pattern);
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
    InterruptDeferral defer;  // a signal now takes effect after the moves
    std::error_code ec;
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
    // The staged files, the commit's order.
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(stage_dir_))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
            files.push_back(e.path().lexically_relative(stage_dir_));
    std::stable_sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        return std::pair(commit_rank(a), a) < std::pair(commit_rank(b), b);
    });
    const std::set<fs::path> fresh(files.begin(), files.end());
    const std::vector<fs::path> old = existing_sweep_outputs(out_);
    bool stale_removed = false;
    for (const fs::path& rel : files) {
        if (!stale_removed && commit_rank(rel) > 0) {
            // The earlier sweep's files that this one does not replace, before the results that
            // name the chips: never a stale chip beside new results.
            for (const fs::path& o : old)
                if (!fresh.count(o)) fs::remove(out_ / o, ec);
            stale_removed = true;
        }
        const fs::path staged = stage_dir_ / rel, target = out_ / rel;
        if (rel.has_parent_path()) fs::create_directories(out_ / rel.parent_path(), ec);
        const OutputTarget t = resolve_output_target(target);  // a folder or FIFO, --no-clobber
        if (t.existing_mode) ::chmod(staged.c_str(), static_cast<mode_t>(*t.existing_mode));
        if (rel.extension() == ".tif") fs::remove(fs::path(t.path.string() + ".aux.xml"), ec);
        if (const int err = rename_into_place(staged, t.path); err == EXDEV) {
            write_file_atomically(target, read_bytes(staged));  // a symbolic link to another file system
        } else if (err != 0) {
            throw Error(fmt::format("cannot write {}: cannot rename into place: {}", target.string(), errno_text(err)));
        }
    }
    if (!stale_removed)
        for (const fs::path& o : old)
            if (!fresh.count(o)) fs::remove(out_ / o, ec);
    committed_ = true;
    guard_->remove_now();
    // Make the renames durable; best effort (some file systems refuse fsync on a folder).
    const int dfd = ::open(out_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace satiq::detail
