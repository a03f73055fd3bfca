// satiq batch: records, results.jsonl, resume, the local TBB pipeline and the MPI path
// (batch_run.hpp). The report and the summary are in batch_report.cpp.
#include "satiq/pipeline/ops/batch_run.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <cpl_vsi.h>
#include <fmt/format.h>

#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include "clock.hpp"

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/file_kind.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/io/memory.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/batch_mpi.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace satiq {

namespace {

using detail::Clock;

// JSON text of a record: one line, invalid UTF-8 (file names, metadata) replaced, never fatal.
std::string line_of(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

using detail::utc_now;

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return {};
    return buf;
}

// Identity of an input for --resume: its size and modification time (nanoseconds where the file
// system gives them; GDAL's VSIStatL for virtual paths gives seconds).
json input_identity(const std::string& path) {
    if (!is_vsi_path(path)) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return {{"size_bytes", nullptr}, {"mtime_ns", nullptr}};
        const std::int64_t ns =
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + static_cast<std::int64_t>(st.st_mtim.tv_nsec);
        return {{"size_bytes", static_cast<std::int64_t>(st.st_size)}, {"mtime_ns", ns}};
    }
    init_gdal();
    VSIStatBufL st;
    if (VSIStatL(path.c_str(), &st) != 0) return {{"size_bytes", nullptr}, {"mtime_ns", nullptr}};
    return {{"size_bytes", static_cast<std::int64_t>(st.st_size)},
            {"mtime_ns", static_cast<std::int64_t>(st.st_mtime) * 1000000000LL}};
}

json source_json(const BatchInput& in) {
    auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    return {{"kind", in.source},      {"item_id", in.item_id.empty() ? json(nullptr) : json(in.item_id)},
            {"gsd_m", opt(in.gsd_m)}, {"elevation_deg", opt(in.elevation_deg)},
            {"snr", opt(in.snr)},     {"sun_elevation_deg", opt(in.sun_elevation_deg)}};
}

// The key figures of an assessment (summary.csv, the report and `satiq report` read these).
json summary_of(const AssessResult& r) {
    const EdgeAggregate& ag = r.edges.aggregate;
    auto opt = [](bool have, double v) { return have ? json(v) : json(nullptr); };
    json s{{"width_px", r.width},
           {"height_px", r.height},
           {"band_used", r.band_used},
           {"gsd_m", r.gsd.mean_m},
           {"gsd_method", r.gsd.method},
           {"effective_gsd_m", opt(r.rated_on_effective_gsd, std::sqrt(r.effective_gsd_x_m * r.effective_gsd_y_m))},
           {"elevation_deg", r.elevation_deg},
           {"elevation_source", r.elevation_source},
           {"edges_candidates", r.edges.candidates},
           {"edges_used", ag.usable_count},
           {"edges_x", ag.x.count},
           {"edges_y", ag.y.count},
           {"rer_x", opt(ag.x.count > 0, ag.x.rer.median)},
           {"rer_y", opt(ag.y.count > 0, ag.y.rer.median)},
           {"rer_gm", opt(ag.usable, ag.rer_gm)},
           {"mtf50_cyc_per_px", opt(ag.x.count > 0 && ag.y.count > 0,
                                    std::sqrt(ag.x.mtf50_cyc_per_px.median * ag.y.mtf50_cyc_per_px.median))},
           {"noise_sigma_dn", opt(r.noise_sigma_dn > 0, r.noise_sigma_dn)},
           {"snr", opt(r.snr > 0, r.snr)},
           {"snr_source", r.snr_source},
           {"niirs", opt(r.giqe5.has_value(), r.giqe5 ? r.giqe5->value : 0.0)},
           {"niirs_standard_error",
            opt(r.giqe5 && r.giqe5->standard_error, r.giqe5 ? r.giqe5->standard_error.value_or(0) : 0)},
           {"niirs_basis", r.giqe5 ? json(r.gsd_alone ? "estimated from GSD alone" : "measured edges") : json(nullptr)},
           {"niirs_low", opt(r.gsd_alone.has_value(), r.gsd_alone ? r.gsd_alone->niirs_low : 0)},
           {"niirs_high", opt(r.gsd_alone.has_value(), r.gsd_alone ? r.gsd_alone->niirs_high : 0)},
           {"warnings", r.warnings}};
    return s;
}

std::string fnv1a_hex(const std::string& s) {
    std::uint64_t h = 14695981039346656037ULL;  // FNV-1a 64-bit (Fowler, Noll, Vo)
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return fmt::format("{:016x}", h);
}

// The bytes of pixels in flight, bounded: an image waits until it fits, or runs alone when it
// is larger than the whole budget.
class MemoryBudget {
public:
    explicit MemoryBudget(std::uint64_t limit) : limit_(limit) {}
    void acquire(std::uint64_t bytes) {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return used_ == 0 || used_ + bytes <= limit_; });
        used_ += bytes;
    }
    void release(std::uint64_t bytes) {
        {
            std::lock_guard lock(m_);
            used_ -= std::min(used_, bytes);
        }
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::uint64_t used_ = 0, limit_;
};

// One batch at a time per output folder: an exclusive flock(2) on results.jsonl, held for the
// whole run and taken before the file is read for --resume or emptied for --overwrite, so that a
// second batch started on the same folder (a re-launch while the first still runs) cannot empty
// or interleave its records. `satiq report` takes it on its output folder when results.jsonl is
// there already (`create` false: a failed report leaves no empty file behind). Released when
// the process ends, however it ends. A file system without flock (some Lustre mounts: ENOSYS,
// EOPNOTSUPP, ENOLCK) runs unlocked.
class FolderLock {
public:
    FolderLock(const fs::path& jsonl, bool create) {
        // O_NONBLOCK: a FIFO planted there must not block the open; it is refused below.
        fd_ = ::open(jsonl.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (create ? O_CREAT : 0), 0666);
        if (fd_ < 0 && !create && errno == ENOENT) return;  // nothing there for anyone to be writing
        if (fd_ < 0) throw Error(fmt::format("{}: cannot open: {}", jsonl.string(), std::strerror(errno)));
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd_);
            fd_ = -1;
            const std::string why = not_a_regular_file(jsonl);
            throw Error(fmt::format("{}: {}", jsonl.string(), why.empty() ? "not a regular file" : why));
        }
        int rc;
        while ((rc = ::flock(fd_, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
        }
        if (rc != 0 && errno == EWOULDBLOCK) {
            ::close(fd_);
            fd_ = -1;
            throw Error(
                fmt::format("{}: another satiq batch or report is writing to this folder; wait for it to "
                            "finish or choose another -o",
                            jsonl.parent_path().string()));
        }
    }
    FolderLock(const FolderLock&) = delete;
    FolderLock& operator=(const FolderLock&) = delete;
    ~FolderLock() {
        if (fd_ >= 0) ::close(fd_);
    }

private:
    int fd_ = -1;
};

// results.jsonl: opened for appending; with resume, a truncated last line (a kill mid-write) is
// cut off first so that every line stays one whole record.
class ResultsFile {
public:
    ResultsFile(const fs::path& path, bool resume) : path_(path) {
        int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
        if (!resume) flags |= O_TRUNC;
        if (resume && fs::exists(path)) {
            std::ifstream in(path, std::ios::binary);
            std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            const std::size_t keep = all.rfind('\n') == std::string::npos ? 0 : all.rfind('\n') + 1;
            if (keep != all.size() && ::truncate(path.c_str(), static_cast<off_t>(keep)) != 0)
                throw Error(
                    fmt::format("{}: cannot cut its truncated last line: {}", path.string(), std::strerror(errno)));
        }
        fd_ = ::open(path.c_str(), flags, 0666);
        if (fd_ < 0) throw Error(fmt::format("{}: cannot open for writing: {}", path.string(), std::strerror(errno)));
    }
    ~ResultsFile() {
        if (fd_ >= 0) {
            ::fsync(fd_);
            ::close(fd_);
        }
    }
    // One write(2) per record: a kill loses at most the records not yet written, never half a
    // line that a reader would take as whole (a partial line has no newline and is dropped).
    void append(const std::string& line) {
        std::lock_guard lock(m_);
        std::size_t done = 0;
        while (done < line.size()) {
            const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw Error(fmt::format("{}: write error: {}", path_.string(), std::strerror(errno)));
            }
            done += static_cast<std::size_t>(n);
        }
    }

private:
    fs::path path_;
    int fd_ = -1;
    std::mutex m_;
};

// `options`: the options that make a record (BatchRunOptions::options), kept beside their key so
// that a report merging several batches can say which options each record had.
json error_record(const std::string& path, const std::string& error, const json& identity, const json& options) {
    return {{"path", path},      {"status", "error"},  {"error", error},
            {"input", identity}, {"options", options}, {"options_key", options_key(options)},
            {"source", nullptr}, {"summary", nullptr}};
}

// A failed record's line for stderr: its error, which names the input ("x.tif: not a raster
// format GDAL recognises"), or the path and the error when it does not.
std::string failure_line(const std::string& record_line) {
    const json r = json::parse(record_line, nullptr, false);
    const json& p = record_field(r, "path");
    const json& e = record_field(r, "error");
    const std::string path = p.is_string() ? p.get<std::string>() : std::string("?");
    const std::string error = e.is_string() ? e.get<std::string>() : std::string("failed");
    return error.rfind(path, 0) == 0 ? error : path + ": " + error;
}

void write_outputs(const fs::path& dir, RecordCollection& c, const std::string& title) {
    const std::vector<RecordRow> rows = c.take_rows();
    // interrupt.hpp: the one atomic writer (temporary file, fsync, rename into place).
    write_file_atomically(dir / "summary.csv", batch_summary_csv(rows, c.sets));
    write_file_atomically(dir / "report.html", batch_report_html(rows, c.sets, title));
}

// The outputs of a batch or report in `dir`, checked before any work: a name taken by a folder,
// FIFO or device is refused (resolve_output_target), and with --no-clobber an existing file that
// would be replaced. `results_jsonl_replaced`: results.jsonl is replaced (--overwrite, a report),
// not appended to.
void check_outputs(const fs::path& dir, bool results_jsonl_replaced) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;  // created later, or said then not to be a folder
    for (const char* name : {"results.jsonl", "summary.csv", "report.html"}) {
        // Appended to (--resume), results.jsonl is checked by the FolderLock that opens it.
        if (!results_jsonl_replaced && std::string_view(name) == "results.jsonl") continue;
        (void)resolve_output_target(dir / name);  // throws on a folder, FIFO, device; --no-clobber
    }
}

}  // namespace

void check_batch_outputs(const BatchRunOptions& o) {
    check_outputs(o.output_dir, /*results_jsonl_replaced=*/!o.resume);
}

std::string options_key(const json& options) {
    return fnv1a_hex(options.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::uint64_t batch_item_bytes(const BatchInput& in, const BatchRunOptions& o) {
    try {
        const RasterShape r = Raster::shape(in.path);
        const auto px = static_cast<std::uint64_t>(r.width) * static_cast<std::uint64_t>(r.height);
        // assess holds the band as float plus masks and edge work: about 4.5 bytes per pixel; the
        // luminance of RGB reads three bands into it.
        const std::uint64_t bands = (o.assess.band == 0 && r.bands >= 3) ? 2 : 1;
        const std::uint64_t degrade = o.degrade_to ? (256ULL << 20) : 0;
        return px * 9 / 2 * bands + degrade;
    } catch (...) {
        return 0;
    }
}

json batch_record(const BatchInput& in, const BatchRunOptions& o) {
    const auto t0 = Clock::now();
    json rec{{"path", in.path},
             {"input", input_identity(in.path)},
             {"options", o.options},
             {"options_key", options_key(o.options)},
             {"source", source_json(in)}};
    std::string vsimem;
    try {
        AssessParams ap = o.assess;
        // A manifest's columns are the user's word for each image: they override. A STAC Item's
        // figures are a catalog's nominal values: they fill in what the raster lacks.
        if (in.source == "stac") {
            if (in.gsd_m) {
                ap.gsd.fallback_m = std::pair{*in.gsd_m, *in.gsd_m};
                ap.gsd.fallback_from = "the STAC Item's gsd";
            }
            if (in.elevation_deg) {
                ap.elevation_fallback_deg = in.elevation_deg;
                ap.elevation_fallback_source = in.elevation_source.empty() ? "stac" : in.elevation_source;
            }
        } else {
            if (in.gsd_m) ap.gsd.override_m = std::pair{*in.gsd_m, *in.gsd_m};
            if (in.elevation_deg) ap.elevation_deg = in.elevation_deg;
        }
        if (in.snr) ap.snr = in.snr;
        std::string target = in.path;
        if (o.degrade_to) {
            // Degraded in memory (GDAL's /vsimem/), then assessed: no intermediate file.
            static std::atomic<std::uint64_t> counter{0};
            vsimem = fmt::format("/vsimem/satiq_batch_{}_{}.tif", ::getpid(), counter++);
            DegradeParams dp = *o.degrade_to;
            dp.input = in.path;
            dp.output = vsimem;
            dp.gsd = ap.gsd;
            const DegradeResult dr = degrade(dp);
            target = vsimem;
            if (ap.gsd.override_m) ap.gsd.override_m = std::pair{dr.plan.target_gsd_m, dr.plan.target_gsd_m};
            if (ap.gsd.fallback_m) ap.gsd.fallback_m = std::pair{dr.plan.target_gsd_m, dr.plan.target_gsd_m};
            rec["degrade"] = to_json(dr);
            // Its figures' provenance would name degrade's options for batch's (--degrade-to, its
            // defaults): the record's options say what was asked.
            rec["degrade"].erase("resolved_parameters");
            rec["degrade"].erase("provenance");
        }
        const AssessResult r = assess_file(target, ap);
        rec["status"] = "ok";
        rec["error"] = nullptr;
        rec["summary"] = summary_of(r);
        if (o.full_records) rec["assess"] = to_json(r, false);
    } catch (const std::bad_alloc&) {
        rec["status"] = "error";
        rec["error"] = fmt::format("{}: out of memory while assessing it (raise --max-memory or free memory)", in.path);
        rec["summary"] = nullptr;
    } catch (const std::exception& e) {
        rec["status"] = "error";
        rec["error"] = e.what();
        rec["summary"] = nullptr;
    }
    if (!vsimem.empty()) VSIUnlink(vsimem.c_str());
    rec["run"] = {{"seconds", detail::seconds_since(t0)}, {"finished_utc", utc_now()}, {"host", host_name()}};
    return rec;
}

BatchSummary run_batch(const GatheredInputs& gathered, const BatchRunOptions& o,
                       const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& progress,
                       const std::function<void(const std::string&)>& failure) {
    const auto t0 = Clock::now();
    BatchSummary sum;
    sum.gathered = static_cast<std::int64_t>(gathered.inputs.size() + gathered.rejected.size());
    sum.duplicates = static_cast<std::int64_t>(gathered.duplicates.size());
    const std::string key = options_key(o.options);

    // Under mpirun/srun: ranks share the work; without MPI support only rank 0 may run.
    const bool launched = mpi::launched_by_mpi_launcher();
    const mpi::Context ctx = mpi::init();
    if (launched && !ctx.active && mpi::launcher_size() > 1 && mpi::launcher_rank() != 0) {
        sum.mode = "idle rank (built without MPI)";
        return sum;
    }
    const bool root = ctx.rank == 0;
    std::optional<tbb::global_control> per_rank_threads;
    if (ctx.active) {
        per_rank_threads.emplace(tbb::global_control::max_allowed_parallelism,
                                 static_cast<std::size_t>(std::max(1, mpi::threads_per_rank(ctx))));
    }

    // The work: this shard's inputs and rejections, less what --resume finds done.
    const fs::path jsonl = o.output_dir / "results.jsonl";
    std::optional<FolderLock> folder_lock;
    if (root) {
        check_batch_outputs(o);  // before the lock creates results.jsonl, and before any work
        folder_lock.emplace(jsonl, /*create=*/true);
    }
    // --resume: the last record of each row (path, options): its key (with the input's identity)
    // when it succeeded, empty when it failed (a failure is retried: it may have been transient).
    std::map<std::string, std::string> done;
    if (o.resume) {
        RecordFileCheck check;
        for_each_record(jsonl, &check, [&](const json& r, std::string_view, std::uint64_t) {
            done[record_row_key(r)] = record_field(r, "status") == "ok" ? record_key(r) : std::string();
        });
        if (const std::string m = check.message(jsonl); root && !m.empty()) sum.warnings.push_back(m);
    }
    // Done: the last record of its row succeeded on the same input (path, size, modification time).
    auto is_done = [&](const json& written) {
        const auto it = done.find(record_row_key(written));
        return it != done.end() && !it->second.empty() && it->second == record_key(written);
    };
    const std::set<std::string> shard = shard_paths(gathered, o.shard_index, o.shard_count);
    struct Item {
        const BatchInput* input = nullptr;
        std::string rejected_path, reason;
        std::uint64_t size = 0;
    };
    // A probe as its record reads back from results.jsonl: a path that is not UTF-8 was
    // written with U+FFFD for its bad bytes, and must be compared so.
    auto written = [](const json& probe) { return json::parse(line_of(probe)); };
    std::vector<Item> items;
    for (const auto& [path, reason] : gathered.rejected) {  // failures, retried by --resume
        if (!shard.count(path)) continue;
        ++sum.in_shard;
        items.push_back({nullptr, path, fmt::format("{}: {}", path, reason), 0});
    }
    for (const BatchInput& in : gathered.inputs) {
        if (!shard.count(in.path)) continue;
        ++sum.in_shard;
        const json probe{{"path", in.path}, {"input", input_identity(in.path)}, {"options_key", key}};
        if (is_done(written(probe))) {
            ++sum.skipped_resume;
            continue;
        }
        Item it{&in, {}, {}, 0};
        std::error_code ec;
        if (!is_vsi_path(in.path)) it.size = fs::file_size(in.path, ec);
        items.push_back(it);
    }
    // Largest first: the long images start early and the small ones fill the gaps.
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.size > b.size; });

    std::optional<ResultsFile> out;
    if (root) out.emplace(jsonl, o.resume);
    const auto total = static_cast<std::int64_t>(items.size());
    std::atomic<std::int64_t> processed{0}, failed{0};
    auto make_record = [&](const Item& it) {
        return it.input ? batch_record(*it.input, o)
                        : error_record(it.rejected_path, it.reason, input_identity(it.rejected_path), o.options);
    };
    auto on_record = [&](const std::string& line, bool ok) {
        out->append(line);
        const std::int64_t d = ++processed;
        if (!ok) {
            ++failed;
            if (failure) failure(failure_line(line));
        }
        if (progress) progress(d, total, failed.load());
    };

    if (ctx.active) {
        sum.mode = fmt::format("mpi {} ranks", ctx.size);
        mpi::distribute(
            ctx, items.size(), [&](std::size_t i) { return line_of(make_record(items[i])); },
            [&](std::size_t i, const std::string& what) {
                const std::string path = items[i].input ? items[i].input->path : items[i].rejected_path;
                return line_of(error_record(path, what, input_identity(path), o.options));
            },
            [&](std::size_t, const std::string& line) {
                on_record(line, line.find("\"status\":\"ok\"") != std::string::npos);
            });
    } else {
        sum.mode = "threads";
        const int cores = std::max(1, tbb::this_task_arena::max_concurrency());
        // --jobs N: N workers, as make -j: at most N images in flight and N threads in all (the
        // kernels inside the images included); default the cores (or --threads).
        const int jobs = o.jobs > 0 ? std::min(o.jobs, cores) : cores;
        std::optional<tbb::global_control> job_threads;
        if (o.jobs > 0)
            job_threads.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(jobs));
        MemoryBudget budget(o.max_memory_bytes > 0 ? o.max_memory_bytes : physical_memory_bytes() / 2);
        struct Work {
            std::size_t index;
            std::uint64_t bytes;
        };
        struct Done {
            std::string line;
            bool ok;
            std::uint64_t bytes;
        };
        std::size_t next = 0;
        // Images in flight at most `jobs`; the first stage waits for the memory they need. Every
        // image's kernels share the one TBB arena, so threads never exceed the cores.
        tbb::parallel_pipeline(
            static_cast<std::size_t>(jobs),
            tbb::make_filter<void, Work>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) -> Work {
                if (next >= items.size()) {
                    fc.stop();
                    return {};
                }
                const std::size_t i = next++;
                const std::uint64_t b = items[i].input ? batch_item_bytes(*items[i].input, o) : 0;
                budget.acquire(b);
                return {i, b};
            }) & tbb::make_filter<Work, Done>(tbb::filter_mode::parallel, [&](Work w) -> Done {
                const json r = make_record(items[w.index]);
                return {line_of(r), r.value("status", "") == "ok", w.bytes};
            }) & tbb::make_filter<Done, void>(tbb::filter_mode::serial_out_of_order, [&](const Done& d) {
                budget.release(d.bytes);
                on_record(d.line, d.ok);
            }));
    }
    sum.processed = processed.load();
    sum.failed = failed.load();
    if (root) {
        out.reset();  // fsync and close before the summary reads it back
        // The summary and report: the latest record of each input under these options.
        std::ifstream in(jsonl, std::ios::binary);
        std::istream* streams[] = {&in};
        RecordCollection mine = collect_records(streams, std::span(&jsonl, 1), &key);
        if (mine.other_options > 0)
            sum.warnings.push_back(fmt::format(
                "{}: also holds {} record{} made with other options, left out of summary.csv and report.html "
                "(satiq report {} -o OUT shows every record)",
                jsonl.string(), mine.other_options, mine.other_options == 1 ? "" : "s", o.output_dir.string()));
        write_outputs(o.output_dir, mine, o.output_dir.filename().string());
    }
    sum.seconds = detail::seconds_since(t0);
    return sum;
}

std::size_t merge_batches(const std::vector<fs::path>& dirs, const fs::path& out, std::vector<std::string>* warnings) {
    std::vector<fs::path> files;
    for (const fs::path& d : dirs) {
        const bool folder = fs::is_directory(d);
        const fs::path f = folder ? d / "results.jsonl" : d;
        if (const std::string why = not_a_regular_file(f); !why.empty())
            throw Error(why == "no such file" ? fmt::format("{}: {}", d.string(), folder ? "no results.jsonl" : why)
                                              : fmt::format("{}: {}", f.string(), why));
        files.push_back(f);
    }
    // Before any work: an output that is one of the inputs (report sh1 sh2 -o sh1) is refused,
    // compared by identity (a symlink, "./sh1", "sh1/../sh1" are the same file), as degrade refuses
    // an output that its input reads; then what --no-clobber or a FIFO would refuse at the end.
    for (const char* name : {"results.jsonl", "summary.csv", "report.html"}) {
        std::error_code ec;
        const fs::path target = out / name;
        if (!fs::exists(target, ec)) continue;
        for (const fs::path& f : files)
            if (fs::equivalent(f, target, ec))
                throw Error(
                    fmt::format("{}: output would overwrite {}, one of the inputs (satiq report only reads "
                                "its inputs: choose another -o)",
                                out.string(), f.string()));
    }
    check_outputs(out, /*results_jsonl_replaced=*/true);
    // Each file is opened once, for the records and then for copying their lines: a file replaced
    // meanwhile (another report writing it) is still read as it was.
    std::vector<std::ifstream> in;
    in.reserve(files.size());
    for (const fs::path& f : files) {
        in.emplace_back(f, std::ios::binary);
        if (!in.back()) throw Error(fmt::format("{}: cannot open: {}", f.string(), std::strerror(errno)));
    }
    std::vector<std::istream*> streams;
    streams.reserve(in.size());
    for (std::ifstream& s : in)
        streams.push_back(&s);
    RecordCollection c = collect_records(streams, files);
    // A file with lines but not one record is not a results.jsonl (a raster, a CSV, another
    // program's log): an error, not an empty report. An empty file is an empty batch.
    for (std::size_t i = 0; i < files.size(); ++i)
        if (c.records_read[i] == 0 && c.checks[i].bad_lines > 0)
            throw Error(fmt::format("{}: not a satiq results.jsonl: no line is a record (line {}: {})",
                                    files[i].string(), c.checks[i].first_bad_line, c.checks[i].first_problem));
    if (warnings) warnings->insert(warnings->end(), c.warnings.begin(), c.warnings.end());
    std::error_code ec;
    fs::create_directories(out, ec);
    if (!fs::is_directory(out))
        throw Error(fmt::format("{}: cannot create the output folder: {}", out.string(),
                                fs::exists(out) ? "it exists and is not a folder" : ec.message()));
    // The batch's lock: replacing results.jsonl under a running batch would send its next records
    // to the replaced file. The inputs are only read: a running batch can be reported on.
    const FolderLock lock(out / "results.jsonl", /*create=*/false);
    // A whole-file replace, not an append: each kept record's line copied from its file.
    write_file_atomically(out / "results.jsonl", [&](const AtomicFileSink& sink) {
        std::string line;
        for (const auto& [key, kept] : c.latest) {
            std::ifstream& s = in[kept.file];
            s.clear();  // the first pass left it at its end
            line.resize(kept.length);
            s.seekg(static_cast<std::streamoff>(kept.offset));
            if (!s.read(line.data(), static_cast<std::streamsize>(kept.length)))
                throw Error(fmt::format("{}: changed while it was read (a batch still writing it?)",
                                        files[kept.file].string()));
            while (!line.empty() && line.back() == '\r')
                line.pop_back();
            line += '\n';
            sink(line);
        }
    });
    const std::size_t n = c.latest.size();
    write_outputs(out, c, out.filename().string());
    return n;
}

}  // namespace satiq
