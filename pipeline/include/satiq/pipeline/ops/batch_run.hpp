#pragma once
/// Running a batch (batch.hpp): records, the results file, resume, summary and report, merging.
///
/// A record is one JSON object on one line of results.jsonl:
///   {"path", "status": "ok"|"error", "error", "input": {"size_bytes", "mtime_ns"}, "options_key",
///    "source": {...what the manifest or STAC gave...}, "summary": {...key figures...},
///    "assess": {...the full assess result, with --full-records...}, "run": {timing, rank, host}}
/// "run" holds everything that changes between identical runs; the rest is deterministic.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/ops/batch.hpp"

namespace satiq {

struct BatchRunOptions {
    std::filesystem::path output_dir;
    AssessParams assess;
    std::optional<DegradeParams> degrade_to;  ///< input and output are filled in per image
    int jobs = 0;                             ///< images in flight (0: the cores)
    std::uint64_t max_memory_bytes = 0;       ///< 0: half the physical memory
    bool resume = false;
    bool overwrite = false;
    bool full_records = false;
    int shard_index = 0, shard_count = 1;  ///< 0-based
    nlohmann::json options;                ///< the options that make a record (the resume key)
};

struct BatchSummary {
    std::int64_t gathered = 0, in_shard = 0, skipped_resume = 0, processed = 0, failed = 0, duplicates = 0;
    double seconds = 0;
    std::string mode;  ///< "threads" or "mpi N ranks"
    /// Notes for stderr and the JSON output: lines of DIR/results.jsonl that were not records
    /// (RecordFileCheck::message), records of other options left out of the summary.
    std::vector<std::string> warnings;
};

/// The key a record must carry for --resume to skip its image: a hash of the options.
std::string options_key(const nlohmann::json& options);

/// Assesses one input (degraded first with degrade_to) and returns its record. Never throws: a
/// failure of any kind (unreadable, not a raster, out of memory, ...) is the record's error.
nlohmann::json batch_record(const BatchInput& in, const BatchRunOptions& o);

/// Estimated bytes that assessing `in` holds at its peak (4.5 bytes per pixel of the band read,
/// more with degrade_to); 0 when the header cannot be read (the assessment will report why).
std::uint64_t batch_item_bytes(const BatchInput& in, const BatchRunOptions& o);

/// The outputs in o.output_dir checked before any work (run_batch does it first, before it
/// creates results.jsonl): summary.csv, report.html or results.jsonl taken by a folder, FIFO or
/// device, and with --no-clobber (no_clobber()) an existing summary.csv or report.html, or an
/// existing results.jsonl that --overwrite would empty, are refused with satiq::Error naming it.
void check_batch_outputs(const BatchRunOptions& o);

/// Runs the batch on this machine or, under mpirun/srun, over MPI ranks. Records are appended to
/// DIR/results.jsonl as they complete; at the end summary.csv and report.html are written (rank 0
/// only), with one row per image: its last record under these options (collect_records).
/// --resume skips an image whose last record succeeded on the same input (path, size,
/// modification time) and retries the others (changed, failed, rejected).
/// `progress(done, total, failed)` after each image; `failure(line)` before it when the image
/// failed: one line naming the input and the reason.
BatchSummary run_batch(const GatheredInputs& inputs, const BatchRunOptions& o,
                       const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& progress = {},
                       const std::function<void(const std::string&)>& failure = {});

/// Lines of a results.jsonl that were not records: a line that is not a satiq record (not JSON,
/// or a JSON value without the record's fields and types: a corrupted or foreign file), and a
/// last line without its newline (cut by a kill).
struct RecordFileCheck {
    std::int64_t bad_lines = 0;       ///< complete lines that are not records
    std::int64_t first_bad_line = 0;  ///< 1-based number of the first of them (0: none)
    std::string first_problem;        ///< what is wrong with that line ("not JSON", "\"summary.snr\" is not a number")
    bool cut_last_line = false;       ///< the file ends inside a line
    /// One line for stderr naming the file and what was skipped; empty when nothing was.
    [[nodiscard]] std::string message(const std::filesystem::path& jsonl) const;
};

/// The records of results.jsonl text, one per line (for_each_record over the text): a line that
/// is not a record (see RecordFileCheck) is skipped, so every record returned has a non-empty "path" string, a
/// "status" of "ok" or "error", and its other fields absent, null or of the schema's types
/// (docs/schema.md). What was skipped goes to `check` when given.
std::vector<nlohmann::json> parse_records(std::string_view text, RecordFileCheck* check = nullptr);
/// The records of a results.jsonl file one at a time, holding one line in memory: `each(record,
/// line, offset)` gets the parsed record, its line (without the newline) and the line's byte
/// offset in the file. Lines that are not records are skipped and counted in `check`.
void for_each_record(
    const std::filesystem::path& jsonl, RecordFileCheck* check,
    const std::function<void(nlohmann::json& record, std::string_view line, std::uint64_t offset)>& each);
/// The same from a stream at its start (offsets from there).
void for_each_record(
    std::istream& in, RecordFileCheck* check,
    const std::function<void(nlohmann::json& record, std::string_view line, std::uint64_t offset)>& each);
/// The member `key` of `o`, or a null value when `o` is not an object or has no such member
/// (a const json's operator[] may not be used on a missing key).
const nlohmann::json& record_field(const nlohmann::json& o, const char* key);
/// What identifies the work a record did: path, input identity (size, modification time) and
/// options key. --resume skips an image when the last record of its row (record_row_key) has this
/// key and succeeded.
std::string record_key(const nlohmann::json& r);
/// The row a record fills in summary.csv, report.html and a merged results.jsonl: its path and
/// options key. A later record of the same row supersedes an earlier one (the input changed and
/// was assessed again, a failure was retried): the last one read wins.
std::string record_row_key(const nlohmann::json& r);
/// What summary.csv and report.html show of one record, without the rest of it (a few hundred
/// bytes: the summary of a million records does not hold the records).
struct RecordRow {
    /// The figures, in summary.csv's order.
    enum Figure : std::size_t {
        width_px,
        height_px,
        gsd_m,
        effective_gsd_m,
        elevation_deg,
        rer_x,
        rer_y,
        rer_gm,
        mtf50_cyc_per_px,
        noise_sigma_dn,
        snr,
        niirs,
        niirs_standard_error,
        niirs_low,
        niirs_high,
        edges_candidates,
        edges_used,
        edges_x,
        edges_y,
        figure_count
    };
    static constexpr std::array<const char*, figure_count> figure_names{"width_px",
                                                                        "height_px",
                                                                        "gsd_m",
                                                                        "effective_gsd_m",
                                                                        "elevation_deg",
                                                                        "rer_x",
                                                                        "rer_y",
                                                                        "rer_gm",
                                                                        "mtf50_cyc_per_px",
                                                                        "noise_sigma_dn",
                                                                        "snr",
                                                                        "niirs",
                                                                        "niirs_standard_error",
                                                                        "niirs_low",
                                                                        "niirs_high",
                                                                        "edges_candidates",
                                                                        "edges_used",
                                                                        "edges_x",
                                                                        "edges_y"};
    std::string path, status, error, options_key;
    bool has_summary = false;  ///< false for a failure
    std::string band_used, gsd_method, elevation_source, snr_source, niirs_basis, source_kind, item_id;
    std::size_t warning_count = 0;               ///< the summary's warnings
    std::array<double, figure_count> figures{};  ///< NaN where the record has none
    [[nodiscard]] bool ok() const { return status == "ok"; }
};
/// The row of a record (one that parse_records accepted).
RecordRow record_row(const nlohmann::json& record);

/// The sets of options among records, by options_key: a short label of each ("as read",
/// "degraded to 3 m", "degraded as malligyong-1 (3.00 m)", "band 2", ...; empty when the records do not carry their
/// options) and the options as JSON text.
struct OptionSet {
    std::string label, options_json;
};
using OptionSets = std::map<std::string, OptionSet>;
/// Adds the set of `record`'s options to `sets` (the first record of a key names it).
void note_option_set(OptionSets& sets, const nlohmann::json& record);

/// The last record of each row (path, options_key: record_row_key) among results.jsonl files,
/// read line by line: its row for the summary and where its line is, so that a merge can copy
/// it. The records themselves are not held (a million of them would take gigabytes as JSON values).
struct RecordCollection {
    struct Kept {
        RecordRow row;
        std::size_t file = 0;      ///< index of its stream
        std::uint64_t offset = 0;  ///< of its line in that stream
        std::size_t length = 0;    ///< of its line, without the newline
    };
    std::map<std::string, Kept> latest;  ///< by record_row_key: sorted by path, then options
    OptionSets sets;
    std::vector<std::string> warnings;      ///< per stream, what was skipped (RecordFileCheck::message)
    std::size_t other_options = 0;          ///< records left out by `only_key`
    std::vector<std::size_t> records_read;  ///< per stream, the lines that were records
    std::vector<RecordFileCheck> checks;    ///< per stream, the lines that were not
    /// The rows in key order; empties `latest` node by node, so rows and map are not both whole.
    std::vector<RecordRow> take_rows();
};
/// Reads `streams` (each at its start; `names[i]` names streams[i] in warnings). A later record of
/// a row replaces an earlier one, in the same stream (appended later) or a later stream (given
/// later): merging the same results twice counts each record once, and an image assessed again
/// (its input changed, or it failed and was retried) has one row, its last. `only_key`: keep only
/// the records made with these options (a batch's own summary) and count the others.
RecordCollection collect_records(std::span<std::istream* const> streams, std::span<const std::filesystem::path> names,
                                 const std::string* only_key = nullptr);

/// summary.csv of rows (one each, sorted by NIIRS, best first; failures last).
std::string batch_summary_csv(const std::vector<RecordRow>& rows, const OptionSets& sets);
/// report.html of rows: the table, distributions of GSD, RER, SNR and NIIRS, the failures, the
/// sets of options.
std::string batch_report_html(const std::vector<RecordRow>& rows, const OptionSets& sets, const std::string& title);
/// `satiq report DIR... -o OUT`: merges results.jsonl of several batches or shards into OUT: the
/// last record of each row (collect_records), so OUT/results.jsonl holds the records its summary
/// shows. Refused before anything is written when OUT's results.jsonl, summary.csv or report.html
/// is one of the inputs (by identity: a symlink or another spelling counts) or, with
/// --no-clobber, exists. Returns the merged record count; a line of an input that is not a record
/// is skipped and said in `warnings` (one line per file).
std::size_t merge_batches(const std::vector<std::filesystem::path>& dirs, const std::filesystem::path& out,
                          std::vector<std::string>* warnings = nullptr);

}  // namespace satiq
