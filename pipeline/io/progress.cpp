#include "satiq/pipeline/io/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace satiq {

namespace {

double steady_seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// A count: integral values without decimals, others with one.
std::string format_count(double x) {
    if (std::abs(x - std::round(x)) < 1e-9) return fmt::format("{:.0f}", x);
    return fmt::format("{:.1f}", x);
}

// A rate with about two significant digits, never in exponent notation.
std::string format_rate(double r) {
    if (r >= 100) return fmt::format("{:.0f}", r);
    if (r >= 10) return fmt::format("{:.1f}", r);
    if (r >= 0.1) return fmt::format("{:.2f}", r);
    return fmt::format("{:.3f}", r);
}

// Elapsed time of the final line: "12.3 s" under a minute, format_duration above.
std::string format_elapsed(double s) {
    if (s < 59.95) return fmt::format("{:.1f} s", s);
    return format_duration(s);
}

int percent_of(double done, double total) {
    const double p = std::floor(100.0 * done / total);
    return static_cast<int>(std::clamp(p, 0.0, 100.0));
}

int terminal_width(std::FILE* stream) {
    const int fd = ::fileno(stream);
    winsize ws{};
    if (fd >= 0 && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 0;
}

}  // namespace

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "unknown";
    const long long s = std::llround(seconds);
    if (s < 60) return fmt::format("{} s", s);
    if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
    const long long m = std::llround(seconds / 60.0);
    return fmt::format("{} h {:02} min", m / 60, m % 60);
}

Progress::Progress(std::string label, double total, std::string unit, Options options)
    : label_(std::move(label)), unit_(std::move(unit)), options_(std::move(options)), total_(total) {
    if (options_.stream == nullptr) options_.quiet = true;
    if (!options_.quiet) {
        if (options_.live.has_value()) {
            live_ = *options_.live;
        } else {
            const int fd = ::fileno(options_.stream);
            live_ = fd >= 0 && ::isatty(fd) == 1;
        }
        if (live_) width_ = terminal_width(options_.stream);
    }
    start_s_ = now();
    last_emit_s_ = start_s_;
}

Progress::~Progress() {
    try {
        finish();
    } catch (...) {
        // A destructor never throws; a lost final line is acceptable.
    }
}

double Progress::now() const {
    return options_.clock ? options_.clock() : steady_seconds();
}

void Progress::set_total(double total) {
    std::lock_guard lock(mutex_);
    total_ = total;
}

void Progress::advance(double n) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    done_ += n;
    maybe_emit_locked();
}

void Progress::update(double done) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    done_ = done;
    maybe_emit_locked();
}

void Progress::set_detail(std::string detail) {
    std::lock_guard lock(mutex_);
    detail_ = std::move(detail);
}

void Progress::finish() {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (options_.quiet) return;
    const std::string line = final_line_locked(now());
    if (live_) {
        std::string text = "\r" + line;
        if (last_len_ > line.size()) text.append(last_len_ - line.size(), ' ');
        write_locked(text + "\n");
    } else {
        write_locked(line + "\n");
    }
}

void Progress::note(const std::string& line) {
    std::lock_guard lock(mutex_);
    if (options_.quiet) return;
    if (live_ && last_len_ > 0) {  // wipe the status line, then the note on its own line
        std::string text(1, '\r');
        text.append(last_len_, ' ').append(1, '\r').append(line).append(1, '\n');
        write_locked(text);
        last_len_ = 0;
        last_emit_s_ = -1e300;  // redraw at the next update
    } else {
        write_locked(line + "\n");
    }
}

// Prints a status line when the mode's interval has passed since the last one (live mode: also
// the very first update).
void Progress::maybe_emit_locked() {
    if (options_.quiet) return;
    const double t = now();
    const double interval = live_ ? options_.live_interval_s : options_.plain_interval_s;
    if (live_ ? (emitted_ && t - last_emit_s_ < interval) : (t - last_emit_s_ < interval)) return;
    last_emit_s_ = t;
    emitted_ = true;
    std::string line = status_line_locked(t);
    if (live_) {
        if (width_ > 1 && line.size() >= static_cast<std::size_t>(width_)) line.resize(width_ - 1);
        std::string text = "\r" + line;
        if (last_len_ > line.size()) text.append(last_len_ - line.size(), ' ');
        last_len_ = line.size();
        write_locked(text);
    } else {
        write_locked(line + "\n");
    }
}

std::string Progress::status_line_locked(double now_s) const {
    const double elapsed = now_s - start_s_;
    const bool known_total = total_ > 0;
    std::string line = label_ + ": ";
    double rate = 0;
    bool rate_known = false;
    if (unit_.empty()) {
        // Fraction of total: the time left is known as soon as something is done.
        line += known_total ? fmt::format("{} %", percent_of(done_, total_)) : format_count(done_);
        rate_known = done_ > 0 && elapsed > 0;
        if (rate_known) rate = done_ / elapsed;
    } else {
        line += format_count(done_);
        if (known_total) line += fmt::format("/{}", format_count(total_));
        line += fmt::format(" {}", unit_);
        if (known_total) line += fmt::format(" ({} %)", percent_of(done_, total_));
        // Rate and time left are unknown until the first unit is done.
        rate_known = done_ >= 1 && elapsed > 0;
        if (rate_known) {
            rate = done_ / elapsed;
            line += fmt::format(", {} {}/s", format_rate(rate), unit_);
        }
    }
    if (rate_known && known_total && done_ < total_)
        line += fmt::format(", {} left", format_duration((total_ - done_) / rate));
    if (!detail_.empty()) line += fmt::format(" - {}", detail_);
    return line;
}

std::string Progress::final_line_locked(double now_s) const {
    const double elapsed = now_s - start_s_;
    std::string line = label_ + ": ";
    if (unit_.empty()) {
        line += total_ > 0 ? fmt::format("{} %", percent_of(done_, total_)) : format_count(done_);
        return fmt::format("{} in {}", line, format_elapsed(elapsed));
    }
    line += format_count(done_);
    if (total_ > 0) line += fmt::format("/{}", format_count(total_));
    line += fmt::format(" {} in {}", unit_, format_elapsed(elapsed));
    if (elapsed > 0 && done_ > 0) line += fmt::format(" ({} {}/s)", format_rate(done_ / elapsed), unit_);
    return line;
}

// Write errors (closed or full stderr) are deliberately ignored.
void Progress::write_locked(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), options_.stream);
    std::fflush(options_.stream);
}

}  // namespace satiq
