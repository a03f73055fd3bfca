#pragma once
// Helpers shared by the sweep's files (sweep.cpp, sweep_outputs.cpp, sweep_staging.cpp).
#include <filesystem>
#include <optional>
#include <vector>

#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/ops/sweep.hpp"

namespace satiq::detail {

// The NIIRS to use for a step: measured when both axes have enough edges, else the prediction.
inline double niirs_to_use(const SweepStep& s) {
    if (s.measurement_reliable && s.assessed && s.assessed->giqe5) return s.assessed->giqe5->value;
    return s.prediction.giqe5.value;
}

// Whether `rel` (a path relative to the output folder) is one of the files a sweep writes:
// results.json, results.csv, report.html, chips/input.png, chips/input_zoom.png,
// chips/stepNN.png, chips/stepNN_zoom.png and steps/stepNN_G.GGGm.tif (--keep-steps).
bool is_sweep_output(const std::filesystem::path& rel);

// The sweep's outputs in a hidden staging folder, moved into the output folder DIR only when the
// sweep is complete, so that a sweep that fails or is interrupted leaves DIR as it was (or
// absent), and a finished one leaves exactly its own outputs:
//  - DIR exists: the staging folder is DIR/.satiq-sweep-PID. commit() moves each staged file into
//    place by rename(2) (chips and steps first, results.json last) and, before the results,
//    removes the files of DIR that an earlier sweep wrote and this one does not replace
//    (is_sweep_output); no other file of DIR is touched. It is a transaction: each file of DIR it
//    replaces is first hard-linked, link(2), and each it removes renamed into
//    .satiq-sweep-PID/.backup (the same file system; a copy for a file that a symbolic link puts
//    on another one), and on any failure every step already made is undone in reverse (backups
//    renamed back, files placed where there was none removed, folders it created removed) before
//    the one-line error, so DIR is as it was. The backups go with the staging folder on success.
//    Should a step of the rollback itself fail, the staging folder is kept and the error names it.
//  - DIR is absent: the staging folder is .NAME.satiq-sweep-PID beside the first missing folder
//    NAME of DIR's path, holding DIR's missing folders; commit() renames it to NAME, so DIR
//    appears whole.
// The staging folder is registered with a TempDirGuard (removed on SIGINT, SIGTERM, SIGHUP), and
// removed by the destructor unless committed. The commit, and its rollback, run under an
// InterruptDeferral: a signal that arrives during them takes effect once they are done (the
// handler never sees a half-moved DIR, nor removes backups still needed).
// With --no-clobber an output folder that holds any file of an earlier sweep is refused here,
// before any work.
class SweepStaging {
public:
    explicit SweepStaging(const std::filesystem::path& output_dir);
    ~SweepStaging();
    SweepStaging(const SweepStaging&) = delete;
    SweepStaging& operator=(const SweepStaging&) = delete;

    // Where the outputs are written until the commit (DIR's staged copy).
    const std::filesystem::path& dir() const noexcept { return stage_dir_; }
    // Moves the staged outputs into DIR (see above). Throws satiq::Error naming the file, with DIR
    // as it was.
    void commit();
    // Test hook (tests/cli/test_cli_sweep.cpp): commit() fails as an I/O error would when it
    // reaches the staged file `rel` (relative to DIR), before moving it. Nothing else sets it.
    void fail_commit_at_for_testing(const std::filesystem::path& rel) { fail_at_ = rel; }

private:
    std::filesystem::path out_;          // DIR, lexically normal
    std::filesystem::path root_;         // the staging folder (registered)
    std::filesystem::path stage_dir_;    // where DIR's files are staged (root_ or below it)
    std::filesystem::path top_missing_;  // DIR absent: its first missing folder
    bool out_existed_ = false;
    bool committed_ = false;
    std::optional<TempDirGuard> guard_;
    std::optional<std::filesystem::path> fail_at_;
};

// The files an earlier sweep left in `dir` (relative paths, sorted); empty when `dir` is absent.
std::vector<std::filesystem::path> existing_sweep_outputs(const std::filesystem::path& dir);

}  // namespace satiq::detail
