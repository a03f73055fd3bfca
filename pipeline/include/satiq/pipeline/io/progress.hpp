#pragma once
/// Progress of a long command on stderr: done / total, rate and time left.
///
///  - live (default when the stream is a terminal): one line rewritten in place with '\r',
///    at most every `live_interval_s`, cut to the terminal width, ended with a newline by finish();
///  - plain (stream is a file or a pipe): a full line at most every `plain_interval_s` (default
///    5 s), the first one after that interval, so short runs print only the final line;
///  - quiet: nothing at all.
///
/// Line: `sweep: 3/10 steps (30 %), 0.42 steps/s, 17 s left - step 4: 1.00 m`.
/// With an empty unit the counts are a fraction of `total` (degrade's progress(fraction)
/// callback): `degrade: 42 %, 17 s left`.
/// Final line: `sweep: 10/10 steps in 12.3 s (0.81 steps/s)`.
///
/// Every member is thread-safe (one mutex; TBB workers may call advance()). Output errors are
/// ignored; nothing here throws except the constructor's allocations.
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace satiq {

/// "17 s", "3 min 05 s", "1 h 02 min" (rounded to the unit shown); "unknown" when not finite or
/// negative.
std::string format_duration(double seconds);

/// Progress output settings (outside the class so that `= {}` works as a default argument).
struct ProgressOptions {
    bool quiet = false;             ///< print nothing
    std::optional<bool> live;       ///< default: the stream is a terminal (isatty)
    double plain_interval_s = 5.0;  ///< plain mode: minimum seconds between lines
    double live_interval_s = 0.1;   ///< live mode: minimum seconds between redraws
    std::FILE* stream = stderr;     ///< where the lines go (not owned)
    std::function<double()> clock;  ///< seconds, monotonic; default steady_clock (tests inject)
};

class Progress {
public:
    using Options = ProgressOptions;

    /// `unit`: "steps", "images", "rows"... or "" for a fraction of `total` shown as a percent.
    /// `total` <= 0 means unknown (counts without a percent or time left).
    Progress(std::string label, double total, std::string unit, Options options = {});
    /// Finishes (final line, newline after a live line) unless finish() was called. Never throws.
    ~Progress();

    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void set_total(double total);
    /// Adds `n` units done (thread-safe; may print).
    void advance(double n = 1);
    /// Sets the units done (absolute; thread-safe; may print).
    void update(double done);
    /// Text shown after the counts, e.g. "step 3: 2.0 m" (shown from the next line printed).
    void set_detail(std::string detail);
    /// Prints the final line once; later calls and updates do nothing.
    void finish();
    /// Prints one line of its own (a failure, a warning) whatever the mode's interval, except
    /// when quiet; a live status line is wiped first and redrawn at the next update.
    void note(const std::string& line);

private:
    double now() const;
    void maybe_emit_locked();
    std::string status_line_locked(double now_s) const;
    std::string final_line_locked(double now_s) const;
    void write_locked(const std::string& text);

    mutable std::mutex mutex_;
    std::string label_;
    std::string unit_;
    std::string detail_;
    Options options_;
    bool live_ = false;
    int width_ = 0;  // live mode: terminal columns, 0 when unknown
    double total_ = 0;
    double done_ = 0;
    double start_s_ = 0;
    double last_emit_s_ = 0;
    bool emitted_ = false;
    bool finished_ = false;
    std::size_t last_len_ = 0;  // live mode: length of the line on screen (to blank leftovers)
};

}  // namespace satiq
