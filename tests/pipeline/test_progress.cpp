// satiq::Progress: live / plain / quiet output, line format, time left and thread safety.
// The clock is injected: nothing sleeps and no real timing is asserted.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <tbb/parallel_for.h>

#include "satiq/pipeline/io/progress.hpp"

using satiq::format_duration;
using satiq::Progress;

namespace {

// A stream backed by memory; text() flushes and returns everything written so far.
class MemStream {
public:
    MemStream() : f_(open_memstream(&buf_, &size_)) {}
    ~MemStream() {
        std::fclose(f_);
        std::free(buf_);
    }
    std::FILE* get() const { return f_; }
    std::string text() {
        std::fflush(f_);
        return std::string(buf_, size_);
    }

private:
    char* buf_ = nullptr;
    std::size_t size_ = 0;
    std::FILE* f_;
};

Progress::Options opts(std::FILE* f, double* clock_s, bool live) {
    Progress::Options o;
    o.stream = f;
    o.live = live;
    o.clock = [clock_s] { return *clock_s; };
    return o;
}

std::size_t count(const std::string& s, char c) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), c));
}

std::string rtrim(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n'))
        s.pop_back();
    return s;
}

}  // namespace

TEST(Progress, FormatDuration) {
    EXPECT_EQ(format_duration(0), "0 s");
    EXPECT_EQ(format_duration(17.4), "17 s");
    EXPECT_EQ(format_duration(59.4), "59 s");
    EXPECT_EQ(format_duration(59.6), "1 min 00 s");
    EXPECT_EQ(format_duration(185), "3 min 05 s");
    EXPECT_EQ(format_duration(3599), "59 min 59 s");
    EXPECT_EQ(format_duration(3720), "1 h 02 min");
    EXPECT_EQ(format_duration(26 * 3600 + 5 * 60), "26 h 05 min");
    EXPECT_EQ(format_duration(-1), "unknown");
    EXPECT_EQ(format_duration(1.0 / 0.0), "unknown");
}

TEST(Progress, PlainLineFormatWithRateTimeLeftAndDetail) {
    MemStream m;
    double t = 0;
    Progress p("sweep", 10, "steps", opts(m.get(), &t, false));
    t = 1;
    p.update(0);
    EXPECT_EQ(m.text(), "");  // plain mode waits a full interval
    p.set_detail("step 4: 1.00 m");
    t = 7.2;
    p.update(3);  // 3 steps in 7.2 s: 0.42 steps/s, 7 left -> 16.8 s
    EXPECT_EQ(m.text(), "sweep: 3/10 steps (30 %), 0.42 steps/s, 17 s left - step 4: 1.00 m\n");
    t = 10;
    p.update(10);  // within the interval: no line
    t = 12.3;
    p.finish();
    EXPECT_EQ(m.text(),
              "sweep: 3/10 steps (30 %), 0.42 steps/s, 17 s left - step 4: 1.00 m\n"
              "sweep: 10/10 steps in 12.3 s (0.81 steps/s)\n");
}

TEST(Progress, TimeLeftUnknownBeforeFirstUnit) {
    MemStream m;
    double t = 0;
    Progress p("assess", 4, "images", opts(m.get(), &t, false));
    t = 6;
    p.update(0.5);
    EXPECT_EQ(m.text(), "assess: 0.5/4 images (12 %)\n");
}

TEST(Progress, LongTimeLeftFormats) {
    MemStream m;
    double t = 0;
    Progress p("degrade", 1000, "rows", opts(m.get(), &t, false));
    t = 10;
    p.update(5);  // 0.5 rows/s, 995 left -> 1990 s
    t = 20;
    p.update(6);  // 0.3 rows/s, 994 left -> 3313 s
    t = 30;
    p.update(7);  // 0.233 rows/s, 993 left -> 4255.7 s
    const std::string out = m.text();
    EXPECT_NE(out.find("5/1000 rows (0 %), 0.50 rows/s, 33 min 10 s left\n"), std::string::npos) << out;
    EXPECT_NE(out.find("7/1000 rows (0 %), 0.23 rows/s, 1 h 11 min left\n"), std::string::npos) << out;
}

TEST(Progress, PlainEmitsAtMostOneLinePerInterval) {
    MemStream m;
    double t = 0;
    Progress::Options o = opts(m.get(), &t, false);
    o.plain_interval_s = 5;
    Progress p("sweep", 1000, "steps", o);
    for (int i = 1; i <= 1000; ++i) {
        t = i * 0.023;  // 23 s in all
        p.advance();
    }
    const std::string before = m.text();
    EXPECT_EQ(count(before, '\n'), 4u) << before;  // at 5, 10, 15, 20 s
    EXPECT_EQ(count(before, '\r'), 0u);
    p.finish();
    const std::string out = m.text();
    EXPECT_EQ(count(out, '\n'), 5u);
    EXPECT_NE(out.find("sweep: 1000/1000 steps in 23.0 s (43.5 steps/s)\n"), std::string::npos) << out;
    p.finish();  // idempotent
    p.advance();
    EXPECT_EQ(m.text(), out);
}

TEST(Progress, LiveRewritesOneLineAndEndsWithNewline) {
    MemStream m;
    double t = 0;
    Progress p("sweep", 10, "steps", opts(m.get(), &t, true));
    for (int i = 1; i <= 10; ++i) {
        t = i * 0.0625;  // redraw at most every 0.1 s: every other update
        p.advance();
    }
    const std::string before = m.text();
    EXPECT_EQ(count(before, '\n'), 0u) << before;
    EXPECT_EQ(count(before, '\r'), 5u) << before;  // first update, then every other one
    EXPECT_EQ(before.front(), '\r');
    t = 1;
    p.finish();
    const std::string out = m.text();
    ASSERT_EQ(out.back(), '\n');
    EXPECT_EQ(count(out, '\n'), 1u);
    const std::string last = out.substr(out.rfind('\r') + 1);
    EXPECT_EQ(rtrim(last), "sweep: 10/10 steps in 1.0 s (10.0 steps/s)");
}

TEST(Progress, LiveBlanksLeftoversOfALongerLine) {
    MemStream m;
    double t = 0;
    Progress p("x", 2, "steps", opts(m.get(), &t, true));
    p.set_detail("a long detail text that the next line does not have");
    t = 1;
    p.advance();
    p.set_detail("");
    t = 2;
    p.advance();
    const std::string out = m.text();
    const std::string first = out.substr(1, out.find('\r', 1) - 1);
    const std::string second = out.substr(out.find('\r', 1) + 1);
    EXPECT_EQ(second.size(), first.size());  // shorter text padded with spaces
    EXPECT_EQ(rtrim(second), "x: 2/2 steps (100 %), 1.00 steps/s");
}

TEST(Progress, DestructorFinishesALiveLine) {
    MemStream m;
    double t = 0;
    {
        Progress p("assess", 3, "images", opts(m.get(), &t, true));
        t = 1;
        p.advance();
    }
    const std::string out = m.text();
    EXPECT_EQ(count(out, '\n'), 1u);
    EXPECT_EQ(out.back(), '\n');
    EXPECT_EQ(rtrim(out.substr(out.rfind('\r') + 1)), "assess: 1/3 images in 1.0 s (1.00 images/s)");
}

TEST(Progress, QuietPrintsNothing) {
    MemStream m;
    double t = 0;
    for (bool live : {false, true}) {
        Progress::Options o = opts(m.get(), &t, live);
        o.quiet = true;
        Progress p("sweep", 10, "steps", o);
        for (int i = 0; i < 10; ++i) {
            t += 10;
            p.advance();
        }
        p.finish();
    }
    EXPECT_EQ(m.text(), "");
}

TEST(Progress, FractionOfTotalShowsAPercent) {
    MemStream m;
    double t = 0;
    Progress p("degrade", 1.0, "", opts(m.get(), &t, false));
    const std::function<void(double)> callback = [&p](double fraction) { p.update(fraction); };
    t = 5;
    callback(0.25);  // 25 % in 5 s: 15 s left
    t = 8;
    callback(1.0);  // within the interval: no line
    p.finish();
    EXPECT_EQ(m.text(),
              "degrade: 25 %, 15 s left\n"
              "degrade: 100 % in 8.0 s\n");
}

TEST(Progress, UnknownTotalShowsCountsOnly) {
    MemStream m;
    double t = 0;
    Progress p("batch", 0, "images", opts(m.get(), &t, false));
    t = 5;
    p.advance(2);
    p.set_total(4);
    t = 10;
    p.advance(1);
    EXPECT_EQ(m.text(),
              "batch: 2 images, 0.40 images/s\n"
              "batch: 3/4 images (75 %), 0.30 images/s, 3 s left\n");
}

TEST(Progress, ConcurrentAdvanceCountsEveryUnit) {
    MemStream m;
    std::atomic<int> ticks{0};
    Progress::Options o;
    o.stream = m.get();
    o.live = true;
    o.live_interval_s = 0;  // a redraw on every call: the most contention on the stream
    o.clock = [&ticks] { return 0.001 * ticks.fetch_add(1); };
    Progress p("sweep", 10000, "steps", o);
    tbb::parallel_for(0, 10000, [&p](int) { p.advance(); });
    p.finish();
    const std::string out = m.text();
    EXPECT_EQ(count(out, '\n'), 1u);
    const std::string last = rtrim(out.substr(out.rfind('\r') + 1));
    EXPECT_EQ(last.rfind("sweep: 10000/10000 steps in ", 0), 0u) << last;
}

// A note (a batch's failure) is a line of its own: in live mode the status line is wiped before
// it and redrawn at the next update, even within the redraw interval; in plain mode it is printed
// at once; quiet prints nothing.
TEST(Progress, NoteIsALineOfItsOwn) {
    MemStream m;
    double t = 0;
    {
        Progress p("batch", 4, "images", opts(m.get(), &t, true));
        p.advance();
        const std::size_t status_len = m.text().size() - 1;  // after its '\r'
        p.note("satiq batch: x.tif: no such file");
        const std::string out = m.text();
        std::string wiped(1, '\r');
        wiped.append(status_len, ' ').append("\rsatiq batch: x.tif: no such file\n");
        EXPECT_EQ(out.substr(status_len + 1), wiped);
        t = 0.01;  // within the 0.1 s interval: redrawn all the same
        p.advance();
        EXPECT_EQ(rtrim(m.text().substr(out.size())).substr(0, 19), "\rbatch: 2/4 images ");
        p.finish();
    }
    MemStream plain;
    {
        Progress p("batch", 4, "images", opts(plain.get(), &t, false));
        p.note("one");
        p.note("two");
    }
    EXPECT_EQ(plain.text().substr(0, 8), "one\ntwo\n");
    MemStream quiet;
    {
        Progress::Options o = opts(quiet.get(), &t, true);
        o.quiet = true;
        Progress p("batch", 4, "images", o);
        p.note("one");
    }
    EXPECT_EQ(quiet.text(), "");
}
