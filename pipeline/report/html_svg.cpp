// render_svg (html.hpp): check the chart, lay out legend, axes and plot area, then write the
// layers back to front (gridlines, bands, reference lines, series, points, frame, labels, legend).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/report/html.hpp"

namespace satiq::html {

namespace {

// Okabe & Ito, "Color Universal Design (CUD): how to make figures and presentations that are
// friendly to colorblind people" (2008), ordered for contrast on white.
constexpr std::array<std::string_view, 8> kPalette{"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                   "#E69F00", "#56B4E9", "#000000", "#F0E442"};
constexpr std::string_view kFontStack =
    "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, Noto Sans, Liberation Sans, sans-serif";

// A white outline under label text so it stays legible over lines and bands.
constexpr std::string_view kHalo =
    " stroke=\"#ffffff\" stroke-width=\"3\" stroke-opacity=\"0.85\" paint-order=\"stroke\"";
constexpr double kTickFont = 11.0;
constexpr double kLabelFont = 12.0;
constexpr double kTitleFont = 15.0;
constexpr double kLegendFont = 12.0;
constexpr double kLegendRow = 18.0;

// A coordinate: at most 2 decimals, trailing zeros dropped, never "-0", "nan" or "inf".
std::string num(double v) {
    if (!std::isfinite(v)) v = 0.0;
    v = std::clamp(v, -1e6, 1e6);
    std::string s = fmt::format("{:.2f}", v);
    while (s.back() == '0')
        s.pop_back();
    if (s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

// A tick label with `decimals` fixed decimals (never "-0").
std::string tick_label(double v, int decimals) {
    decimals = std::clamp(decimals, 0, 9);
    std::string s = fmt::format("{:.{}f}", v, decimals);
    if (s.find_first_not_of("-0.") == std::string::npos && s.front() == '-') s.erase(0, 1);
    return s;
}

// Estimated rendered width of text in a sans-serif system font (average advance ~0.6 em).
double text_width(std::string_view s, double font_size) {
    std::size_t chars = 0;
    for (unsigned char c : s)
        chars += (c & 0xC0) != 0x80;  // count UTF-8 code points
    return 0.6 * font_size * static_cast<double>(chars);
}

std::string color_or(const std::string& color, std::size_t index) {
    return color.empty() ? std::string(kPalette[index % kPalette.size()]) : color;
}

// An id-safe prefix: letters, digits, '-' and '_' only (the prefix goes into url(#...)).
std::string id_prefix(const Chart& c) {
    if (!c.id.empty()) {
        std::string p;
        for (char ch : c.id) {
            const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                            ch == '-' || ch == '_';
            p += ok ? ch : '_';
        }
        return p;
    }
    // FNV-1a 64 over the chart's text and sizes: deterministic, distinct for distinct charts.
    std::uint64_t h = 1469598103934665603ull;
    const auto mix = [&](std::string_view s) {
        for (unsigned char ch : s)
            h = (h ^ ch) * 1099511628211ull;
        h = (h ^ 0xFF) * 1099511628211ull;
    };
    mix(c.title);
    mix(c.x_label);
    mix(c.y_label);
    for (const auto& s : c.series)
        mix(s.name + "/" + std::to_string(s.x.size()));
    for (const auto& b : c.bands)
        mix(b.name + "/" + std::to_string(b.x.size()));
    return fmt::format("chart-{:016x}", h);
}

struct Tick {
    double value;
    std::string label;  // empty: gridline only
    bool strong;        // decade line on a log axis
};

struct Axis {
    double lo = 0, hi = 1;
    bool log = false;
    double p0 = 0, p1 = 1;  // pixel positions of lo and hi

    double map(double v) const {
        const double t =
            log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
        return p0 + t * (p1 - p0);
    }
    bool valid(double v) const { return std::isfinite(v) && (!log || v > 0); }
};

// 1-2-5 step of about span/target.
double nice_step(double span, double target) {
    const double raw = span / std::max(target, 1.0);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag;
    const double m = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
    return m * mag;
}

int decimals_for_step(double step) {
    return std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
}

// Range of a linear axis: data [lo, hi] (lo <= hi finite), fixed limits override, unset limits
// rounded outwards to the tick step.
// Data beyond these limits (only a foreign input can hold it) is drawn outside the plot: the
// axis arithmetic (spans, 1-2-5 steps, tick indices) then stays finite.
constexpr double kLinearAxisLimit = 1e300;
constexpr double kLogAxisLow = 1e-300, kLogAxisHigh = 1e300;

void linear_range(Axis& a, double lo, double hi, std::optional<double> fix_lo, std::optional<double> fix_hi,
                  double target) {
    if (fix_lo) lo = *fix_lo;
    if (fix_hi) hi = *fix_hi;
    lo = std::clamp(lo, -kLinearAxisLimit, kLinearAxisLimit);
    hi = std::clamp(hi, -kLinearAxisLimit, kLinearAxisLimit);
    if (!(hi > lo)) {
        const double d = lo != 0.0 ? std::abs(lo) * 0.1 : 1.0;
        if (fix_lo && !fix_hi) {
            hi = lo + 2 * d;
        } else if (fix_hi && !fix_lo) {
            lo = hi - 2 * d;
        } else {
            lo -= d;
            hi += d;
        }
    }
    const double step = nice_step(hi - lo, target);
    if (!fix_lo) lo = std::floor(lo / step + 1e-9) * step;
    if (!fix_hi) hi = std::ceil(hi / step - 1e-9) * step;
    a.lo = lo;
    a.hi = hi;
}

std::vector<Tick> linear_ticks(const Axis& a, double target) {
    const double step = nice_step(a.hi - a.lo, target);
    const int dec = decimals_for_step(step);
    std::vector<Tick> ticks;
    const auto k0 = static_cast<long long>(std::ceil(a.lo / step - 1e-9));
    const auto k1 = static_cast<long long>(std::floor(a.hi / step + 1e-9));
    for (long long k = k0; k <= k1 && ticks.size() < 100; ++k) {
        const double v = static_cast<double>(k) * step;
        ticks.push_back({v, tick_label(v, dec), false});
    }
    return ticks;
}

constexpr std::array<double, 4> kLogMantissas{1.0, 2.0, 3.0, 5.0};

void log_range(Axis& a, double lo, double hi, std::optional<double> fix_lo, std::optional<double> fix_hi) {
    if (fix_lo) lo = *fix_lo;
    if (fix_hi) hi = *fix_hi;
    lo = std::clamp(lo, kLogAxisLow, kLogAxisHigh);
    hi = std::clamp(hi, kLogAxisLow, kLogAxisHigh);
    if (!(hi > lo)) {
        if (fix_lo && !fix_hi) {
            hi = lo * 10.0;
        } else if (fix_hi && !fix_lo) {
            lo = hi / 10.0;
        } else {
            lo /= 2.0;
            hi *= 2.0;
        }
    }
    // Less than a factor 2.5: round unset limits outwards to a linear 1-2-5 step (log_ticks
    // labels such a range with linear steps too).
    if (hi / lo < 2.5) {
        const double step = nice_step(hi - lo, 5.0);
        const double rlo = std::floor(lo / step + 1e-9) * step;
        if (!fix_lo && rlo > 0) lo = rlo;
        if (!fix_hi) hi = std::ceil(hi / step - 1e-9) * step;
        a.lo = lo;
        a.hi = hi;
        return;
    }
    // Round unset limits outwards to 1, 2, 3 or 5 x 10^k.
    if (!fix_lo) {
        const double e = std::floor(std::log10(lo) + 1e-9);
        double best = std::pow(10.0, e);
        for (double m : kLogMantissas)
            if (m * std::pow(10.0, e) <= lo * (1 + 1e-9)) best = m * std::pow(10.0, e);
        lo = best;
    }
    if (!fix_hi) {
        const double e = std::floor(std::log10(hi) - 1e-9);
        double best = std::pow(10.0, e + 1);
        for (auto it = kLogMantissas.rbegin(); it != kLogMantissas.rend(); ++it)
            if (*it * std::pow(10.0, e) >= hi * (1 - 1e-9)) best = *it * std::pow(10.0, e);
        hi = best;
    }
    a.lo = lo;
    a.hi = hi;
}

// Log-axis ticks: gridlines at 1, 2 and 5 per decade (the decade lines strong); labels at
// {1, 2, 3, 5}, {1, 3}, {1} per decade or every n-th decade, the densest set whose neighbouring
// labels do not overlap. A range too narrow for three such labels gets linear 1-2-5 ticks.
std::vector<Tick> log_ticks(const Axis& a) {
    const int e0 = static_cast<int>(std::floor(std::log10(a.lo))) - 1;
    const int e1 = static_cast<int>(std::ceil(std::log10(a.hi))) + 1;
    const auto in_range = [&](double v) { return v >= a.lo * (1 - 1e-9) && v <= a.hi * (1 + 1e-9); };
    struct Cand {
        double v;
        int e;
        int m;
    };
    std::vector<Cand> cands;
    for (int e = e0; e <= e1; ++e)
        for (double m : kLogMantissas) {
            const double v = m * std::pow(10.0, e);
            if (in_range(v)) cands.push_back({v, e, static_cast<int>(m)});
        }
    // Decimal labels from 0.001 to 10000, "1e5" and "2e-4" style beyond.
    const auto label_of = [](const Cand& c) {
        if (c.e >= 5 || c.e <= -4) return fmt::format("{}e{}", c.m, c.e);
        return tick_label(c.v, std::max(0, -c.e));
    };
    // Label sets, densest first.
    std::vector<std::function<bool(const Cand&)>> sets;
    sets.emplace_back([](const Cand&) { return true; });
    sets.emplace_back([](const Cand& c) { return c.m == 1 || c.m == 3; });
    for (int every : {1, 2, 3, 5, 10, 20, 50, 100})
        sets.emplace_back([every](const Cand& c) { return c.m == 1 && ((c.e % every) + every) % every == 0; });
    std::function<bool(const Cand&)> chosen;
    for (const auto& set : sets) {
        double prev_px = 0, prev_w = 0;
        bool first = true, fits = true;
        int count = 0;
        for (const auto& c : cands) {
            if (!set(c)) continue;
            const double px = a.map(c.v);
            const double w = text_width(label_of(c), kTickFont);
            if (!first && std::abs(px - prev_px) < 0.5 * (w + prev_w) + 12.0) fits = false;
            prev_px = px;
            prev_w = w;
            first = false;
            ++count;
        }
        if (fits) {
            if (count >= 3) chosen = set;
            break;
        }
    }
    std::vector<Tick> ticks;
    if (!chosen) {
        // Narrow range: linear nice values placed on the log scale, fewer until none overlap.
        for (double target = std::max(2.0, std::abs(a.p1 - a.p0) / 80.0);; target /= 1.6) {
            ticks.clear();
            const double step = nice_step(a.hi - a.lo, target);
            const int dec = decimals_for_step(step);
            const auto k0 = static_cast<long long>(std::ceil(a.lo / step - 1e-9));
            const auto k1 = static_cast<long long>(std::floor(a.hi / step + 1e-9));
            for (long long k = k0; k <= k1 && ticks.size() < 100; ++k) {
                const double v = static_cast<double>(k) * step;
                if (v > 0) ticks.push_back({v, tick_label(v, dec), false});
            }
            bool fits = true;
            for (std::size_t k = 1; k < ticks.size(); ++k)
                if (std::abs(a.map(ticks[k].value) - a.map(ticks[k - 1].value)) <
                    0.5 * (text_width(ticks[k].label, kTickFont) + text_width(ticks[k - 1].label, kTickFont)) + 12.0)
                    fits = false;
            if (fits || target <= 2.0) return ticks;
        }
    }
    // Minor gridlines only while they stay a few pixels apart.
    const double decade_px = std::abs(a.p1 - a.p0) / (std::log10(a.hi) - std::log10(a.lo));
    const bool minor = decade_px * std::log10(2.0) >= 6.0;
    for (const auto& c : cands) {
        const bool labelled = chosen(c);
        if (!labelled && !(minor && (c.m == 1 || c.m == 2 || c.m == 5)) && c.m != 1) continue;
        ticks.push_back({c.v, labelled ? label_of(c) : std::string(), c.m == 1});
    }
    return ticks;
}

struct LegendItem {
    bool band;
    std::size_t index;
    double width;
};

constexpr double kLegendItemGap = 18.0;

// Throws satiq::Error naming what is wrong with the chart (sizes, limits).
void check_chart(const Chart& c) {
    if (c.width <= 0 || c.height <= 0)
        throw Error(fmt::format("chart size must be positive, got {} x {}", c.width, c.height));
    for (const auto& s : c.series)
        if (s.x.size() != s.y.size())
            throw Error(fmt::format("series '{}': x has {} values but y has {}", s.name, s.x.size(), s.y.size()));
    for (const auto& b : c.bands)
        if (b.x.size() != b.lo.size() || b.x.size() != b.hi.size())
            throw Error(fmt::format("band '{}': x, lo and hi have {}, {} and {} values", b.name, b.x.size(),
                                    b.lo.size(), b.hi.size()));
    for (const auto& [lim, what] : {std::pair{c.x_min, "x_min"}, std::pair{c.x_max, "x_max"},
                                    std::pair{c.y_min, "y_min"}, std::pair{c.y_max, "y_max"}})
        if (lim && !std::isfinite(*lim)) throw Error(fmt::format("chart {} is not finite", what));
    if (c.log_x && ((c.x_min && *c.x_min <= 0) || (c.x_max && *c.x_max <= 0)))
        throw Error("chart x limits must be positive on a log axis");
}

// A point's x can be drawn: finite, and positive on a log axis.
bool x_drawable(const Chart& c, double x) {
    return std::isfinite(x) && (!c.log_x || x > 0);
}

struct DataRange {
    double xlo, xhi, ylo, yhi;
};

// The extent of the drawable data (series, bands, points); a default range when there is none.
DataRange data_range(const Chart& c) {
    const auto x_ok = [&](double x) { return x_drawable(c, x); };
    constexpr double inf = std::numeric_limits<double>::infinity();
    double xlo = inf, xhi = -inf, ylo = inf, yhi = -inf;
    const auto take = [&](double x, double y) {
        xlo = std::min(xlo, x);
        xhi = std::max(xhi, x);
        ylo = std::min(ylo, y);
        yhi = std::max(yhi, y);
    };
    for (const auto& s : c.series)
        for (std::size_t i = 0; i < s.x.size(); ++i)
            if (x_ok(s.x[i]) && std::isfinite(s.y[i])) take(s.x[i], s.y[i]);
    for (const auto& b : c.bands)
        for (std::size_t i = 0; i < b.x.size(); ++i)
            if (x_ok(b.x[i]) && std::isfinite(b.lo[i]) && std::isfinite(b.hi[i])) {
                take(b.x[i], b.lo[i]);
                take(b.x[i], b.hi[i]);
            }
    for (const auto& p : c.points)
        if (x_ok(p.x) && std::isfinite(p.y)) take(p.x, p.y);
    if (!(xlo <= xhi)) {
        xlo = c.log_x ? 1.0 : 0.0;
        xhi = c.log_x ? 10.0 : 1.0;
    }
    if (!(ylo <= yhi)) {
        ylo = 0.0;
        yhi = 1.0;
    }
    return {xlo, xhi, ylo, yhi};
}

// The named bands and series, in rows that fit the chart's width (centred under the plot).
std::vector<std::vector<LegendItem>> legend_rows(const Chart& c) {
    const double W = c.width;
    std::vector<LegendItem> items;
    for (std::size_t i = 0; i < c.bands.size(); ++i)
        if (!c.bands[i].name.empty()) items.push_back({true, i, 26 + text_width(c.bands[i].name, kLegendFont)});
    for (std::size_t i = 0; i < c.series.size(); ++i)
        if (!c.series[i].name.empty()) items.push_back({false, i, 26 + text_width(c.series[i].name, kLegendFont)});
    std::vector<std::vector<LegendItem>> rows;
    const double avail = W - 24;
    double used = 0;
    for (const auto& it : items) {
        if (rows.empty() || (used > 0 && used + kLegendItemGap + it.width > avail)) {
            rows.emplace_back();
            used = 0;
        }
        used += (used > 0 ? kLegendItemGap : 0) + it.width;
        rows.back().push_back(it);
    }
    return rows;
}

// Where everything goes: the plot area, both axes and their ticks.
struct Layout {
    double left = 0, right = 0, top = 0, bottom = 0;
    double below_ticks = 0;  // from the plot's bottom to the legend
    Axis xa, ya;
    std::vector<Tick> xticks, yticks;
    std::vector<std::vector<LegendItem>> legend;
    std::string clip;  // id of the plot area's clip path
};

// The y axis first (its tick labels set the left margin), then the x axis, narrowed once when
// its last tick label would overhang the right edge.
Layout plot_layout(const Chart& c, const DataRange& d, std::vector<std::vector<LegendItem>> rows) {
    const double W = c.width, H = c.height;
    Layout L;
    L.legend = std::move(rows);
    L.top = c.title.empty() ? 14.0 : 38.0;
    L.below_ticks = c.x_label.empty() ? 24.0 : 42.0;
    const double legend_h = L.legend.empty() ? 0.0 : 6.0 + kLegendRow * static_cast<double>(L.legend.size());
    L.bottom = std::max(L.top + 10.0, H - L.below_ticks - legend_h - 6.0);

    L.ya.p0 = L.bottom;
    L.ya.p1 = L.top;
    const double y_target = std::clamp((L.bottom - L.top) / 50.0, 2.0, 10.0);
    linear_range(L.ya, d.ylo, d.yhi, c.y_min, c.y_max, y_target);
    L.yticks = linear_ticks(L.ya, y_target);
    double ylab_w = 0;
    for (const auto& t : L.yticks)
        ylab_w = std::max(ylab_w, text_width(t.label, kTickFont));

    L.left = (c.y_label.empty() ? 8.0 : 28.0) + ylab_w + 8.0;
    // The last x tick label is centred on its tick: keep room for its right half.
    L.right = std::max(L.left + 10.0, W - 20.0);
    L.xa.log = c.log_x;
    for (int pass = 0; pass < 2; ++pass) {
        L.xa.p0 = L.left;
        L.xa.p1 = L.right;
        const double x_target = std::clamp((L.right - L.left) / 90.0, 2.0, 10.0);
        if (c.log_x) {
            log_range(L.xa, d.xlo, d.xhi, c.x_min, c.x_max);
        } else {
            linear_range(L.xa, d.xlo, d.xhi, c.x_min, c.x_max, x_target);
        }
        L.xticks = c.log_x ? log_ticks(L.xa) : linear_ticks(L.xa, x_target);
        double overhang = 0;
        for (const auto& t : L.xticks)
            if (!t.label.empty())
                overhang = std::max(overhang, L.xa.map(t.value) + text_width(t.label, kTickFont) / 2 + 4 - W);
        if (overhang <= 0) break;
        L.right = std::max(L.left + 10.0, L.right - overhang);
    }
    return L;
}

// The SVG text being written: out(a, b, ...) appends its parts.
struct SvgOut {
    std::string o;
    template <typename... Parts>
    void operator()(Parts&&... parts) {
        (o.append(parts), ...);
    }
};

// <svg>, its accessible title, the white background and the plot area's clip path.
void write_header(SvgOut& out, const Chart& c, const Layout& L, const std::string& title_id) {
    const double W = c.width, H = c.height;
    out("<svg xmlns=\"http://www.w3.org/2000/svg\"");
    if (!c.id.empty()) out(" id=\"", escape(c.id), "\"");
    out(" width=\"100%\" viewBox=\"0 0 ", num(W), " ", num(H), "\" preserveAspectRatio=\"xMidYMid meet\"",
        " role=\"img\" aria-labelledby=\"", title_id, "\" font-family=\"", kFontStack, "\" font-size=\"",
        num(kTickFont), "\">\n");
    const std::string accessible = c.title.empty() ? (c.y_label + " vs " + c.x_label) : c.title;
    out("<title id=\"", title_id, "\">", escape(accessible), "</title>\n");
    out("<rect x=\"0\" y=\"0\" width=\"", num(W), "\" height=\"", num(H), "\" fill=\"#ffffff\"/>\n");
    out("<defs><clipPath id=\"", L.clip, "\"><rect x=\"", num(L.left), "\" y=\"", num(L.top), "\" width=\"",
        num(L.right - L.left), "\" height=\"", num(L.bottom - L.top), "\"/></clipPath></defs>\n");
}

void write_gridlines(SvgOut& out, const Layout& L) {
    out("<g fill=\"none\" stroke-width=\"1\">\n");
    for (const auto& t : L.yticks) {
        const double py = L.ya.map(t.value);
        out("<line x1=\"", num(L.left), "\" y1=\"", num(py), "\" x2=\"", num(L.right), "\" y2=\"", num(py),
            "\" stroke=\"#e3e3e3\"/>\n");
    }
    for (const auto& t : L.xticks) {
        const double px = L.xa.map(t.value);
        out("<line x1=\"", num(px), "\" y1=\"", num(L.top), "\" x2=\"", num(px), "\" y2=\"", num(L.bottom),
            "\" stroke=\"", t.strong ? "#c4c4c4" : "#e3e3e3", "\"/>\n");
    }
    out("</g>\n");
}

double band_opacity(const Band& b) {
    return std::isfinite(b.opacity) ? std::clamp(b.opacity, 0.0, 1.0) : 0.2;
}

// Each band as one closed area per run of drawable points (upper edge forwards, lower back).
void write_bands(SvgOut& out, const Chart& c, const Layout& L) {
    if (c.bands.empty()) return;
    out("<g clip-path=\"url(#", L.clip, ")\" stroke=\"none\">\n");
    for (std::size_t bi = 0; bi < c.bands.size(); ++bi) {
        const Band& b = c.bands[bi];
        const std::string color = escape(color_or(b.color, bi));
        const double opacity = band_opacity(b);
        std::size_t i = 0;
        const auto ok = [&](std::size_t k) {
            return x_drawable(c, b.x[k]) && std::isfinite(b.lo[k]) && std::isfinite(b.hi[k]);
        };
        while (i < b.x.size()) {
            if (!ok(i)) {
                ++i;
                continue;
            }
            std::size_t j = i;
            while (j < b.x.size() && ok(j))
                ++j;
            std::string d;
            for (std::size_t k = i; k < j; ++k)
                d += (k == i ? "M" : " L") + num(L.xa.map(b.x[k])) + " " + num(L.ya.map(b.hi[k]));
            for (std::size_t k = j; k-- > i;)
                d += " L" + num(L.xa.map(b.x[k])) + " " + num(L.ya.map(b.lo[k]));
            d += " Z";
            out("<path d=\"", d, "\" fill=\"", color, "\" fill-opacity=\"", fmt::format("{:.3f}", opacity), "\"/>\n");
            i = j;
        }
    }
    out("</g>\n");
}

// Horizontal reference lines within the y range, each with its label above the right end.
void write_reference_lines(SvgOut& out, const Chart& c, const Layout& L) {
    for (const auto& hl : c.hlines) {
        if (!std::isfinite(hl.y) || hl.y < std::min(L.ya.lo, L.ya.hi) || hl.y > std::max(L.ya.lo, L.ya.hi)) continue;
        const double py = L.ya.map(hl.y);
        out("<line x1=\"", num(L.left), "\" y1=\"", num(py), "\" x2=\"", num(L.right), "\" y2=\"", num(py),
            "\" stroke=\"#9a9a9a\" stroke-width=\"0.8\" stroke-dasharray=\"4 3\"/>\n");
        if (!hl.label.empty()) {
            const double ty = py - 3.0 - 9.0 < L.top ? py + 11.0 : py - 3.0;
            out("<text x=\"", num(L.right - 4), "\" y=\"", num(ty), "\" text-anchor=\"end\" font-size=\"10\"",
                " fill=\"#666666\"", kHalo, ">", escape(hl.label), "</text>\n");
        }
    }
}

// One series: its line (broken at gaps), then its markers.
void write_one_series(SvgOut& out, const Chart& c, const Layout& L, std::size_t si) {
    const Series& s = c.series[si];
    const std::string color = escape(color_or(s.color, si));
    const auto ok = [&](std::size_t k) { return x_drawable(c, s.x[k]) && std::isfinite(s.y[k]); };
    if (s.line) {
        std::string d;
        bool pen = false;
        for (std::size_t k = 0; k < s.x.size(); ++k) {
            if (!ok(k)) {
                pen = false;
                continue;
            }
            if (!d.empty()) d += ' ';
            d += pen ? 'L' : 'M';
            d += num(L.xa.map(s.x[k]));
            d += ' ';
            d += num(L.ya.map(s.y[k]));
            pen = true;
        }
        if (!d.empty()) {
            out("<path d=\"", d, "\" fill=\"none\" stroke=\"", color,
                "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
            if (s.dashed) out(" stroke-dasharray=\"6 4\"");
            out("/>\n");
        }
    }
    if (s.markers) {
        bool any = false;
        for (std::size_t k = 0; k < s.x.size(); ++k) {
            if (!ok(k)) continue;
            if (!any) out("<g fill=\"", color, "\" stroke=\"#ffffff\" stroke-width=\"0.8\">\n");
            any = true;
            out("<circle cx=\"", num(L.xa.map(s.x[k])), "\" cy=\"", num(L.ya.map(s.y[k])), "\" r=\"3\"/>\n");
        }
        if (any) out("</g>\n");
    }
}

void write_series(SvgOut& out, const Chart& c, const Layout& L) {
    if (c.series.empty()) return;
    out("<g clip-path=\"url(#", L.clip, ")\">\n");
    for (std::size_t si = 0; si < c.series.size(); ++si)
        write_one_series(out, c, L, si);
    out("</g>\n");
}

// Marked points inside the plot, each label beside its point without covering an earlier label
// or a marked point: the first free place of a fixed list (above right, below right, above left,
// below left, then one and two rows further up or down), in the order the points are given, so the
// layout is deterministic. Where no place is free the label goes above right.
void write_labelled_points(SvgOut& out, const Chart& c, const Layout& L) {
    struct Box {
        double x0, y0, x1, y1;
        bool hits(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
    };
    struct Placed {
        double px, py;
        std::string_view label, color;
    };
    std::vector<Placed> shown;
    std::vector<Box> taken;  // the markers first, then each label as it is placed
    for (const auto& p : c.points) {
        if (!x_drawable(c, p.x) || !std::isfinite(p.y)) continue;
        const double px = L.xa.map(p.x), py = L.ya.map(p.y);
        if (px < L.left - 0.5 || px > L.right + 0.5 || py < L.top - 0.5 || py > L.bottom + 0.5) continue;
        shown.push_back({px, py, p.label, p.color});
        taken.push_back({px - 4, py - 4, px + 4, py + 4});
    }
    for (const Placed& p : shown) {
        const std::string color = escape(p.color.empty() ? std::string_view("#000000") : p.color);
        out("<circle cx=\"", num(p.px), "\" cy=\"", num(p.py), "\" r=\"4\" fill=\"", color,
            "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n");
        if (p.label.empty()) continue;
        const double w = text_width(p.label, kTickFont), h = kTickFont + 2;
        // Baseline offsets: above (py - 7) and below (py + 15), then a row further each way.
        constexpr std::array<double, 6> kDy{-7, 15, -7 - 14, 15 + 14, -7 - 28, 15 + 28};
        std::optional<Box> chosen;
        bool left = false;
        double ty = 0;
        for (const double dy : kDy) {
            for (const bool l : {false, true}) {
                const double x0 = l ? p.px - 7 - w : p.px + 7, base = p.py + dy;
                const Box b{x0, base - kTickFont, x0 + w, base - kTickFont + h};
                if (b.x0 < L.left || b.x1 > L.right || b.y0 < L.top || b.y1 > L.bottom) continue;
                if (std::any_of(taken.begin(), taken.end(), [&](const Box& o) { return b.hits(o); })) continue;
                chosen = b;
                left = l;
                ty = base;
                break;
            }
            if (chosen) break;
        }
        if (!chosen) {  // crowded: beside the point as before, kept inside the plot
            left = p.px + 7 + w > L.right;
            ty = p.py - 7 < L.top + 10 ? p.py + 15 : p.py - 7;
            const double x0 = left ? p.px - 7 - w : p.px + 7;
            chosen = Box{x0, ty - kTickFont, x0 + w, ty - kTickFont + h};
        }
        taken.push_back(*chosen);
        out("<text x=\"", num(left ? p.px - 7 : p.px + 7), "\" y=\"", num(ty), "\"", left ? " text-anchor=\"end\"" : "",
            " fill=\"", color, "\"", kHalo, ">", escape(p.label), "</text>\n");
    }
}

// The plot frame with its tick marks and tick labels.
void write_frame_and_ticks(SvgOut& out, const Layout& L) {
    out("<rect x=\"", num(L.left), "\" y=\"", num(L.top), "\" width=\"", num(L.right - L.left), "\" height=\"",
        num(L.bottom - L.top), "\" fill=\"none\" stroke=\"#8c8c8c\" stroke-width=\"1\"/>\n");
    out("<g fill=\"#333333\">\n");
    for (const auto& t : L.yticks) {
        const double py = L.ya.map(t.value);
        out("<line x1=\"", num(L.left - 4), "\" y1=\"", num(py), "\" x2=\"", num(L.left), "\" y2=\"", num(py),
            "\" stroke=\"#8c8c8c\"/>\n");
        out("<text x=\"", num(L.left - 6), "\" y=\"", num(py + 4), "\" text-anchor=\"end\">", escape(t.label),
            "</text>\n");
    }
    for (const auto& t : L.xticks) {
        const double px = L.xa.map(t.value);
        const bool labelled = !t.label.empty();
        out("<line x1=\"", num(px), "\" y1=\"", num(L.bottom), "\" x2=\"", num(px), "\" y2=\"",
            num(L.bottom + (labelled ? 4 : 2)), "\" stroke=\"#8c8c8c\"/>\n");
        if (labelled)
            out("<text x=\"", num(px), "\" y=\"", num(L.bottom + 16), "\" text-anchor=\"middle\">", escape(t.label),
                "</text>\n");
    }
    out("</g>\n");
}

// The x label under the ticks, the y label turned along the axis, the title above the plot.
void write_axis_labels_and_title(SvgOut& out, const Chart& c, const Layout& L) {
    const double pw = L.right - L.left, ph = L.bottom - L.top;
    if (!c.x_label.empty())
        out("<text x=\"", num(L.left + pw / 2), "\" y=\"", num(L.bottom + 34), "\" text-anchor=\"middle\"",
            " font-size=\"", num(kLabelFont), "\" fill=\"#222222\">", escape(c.x_label), "</text>\n");
    if (!c.y_label.empty()) {
        const double cx = 14, cy = L.top + ph / 2;
        out("<text x=\"", num(cx), "\" y=\"", num(cy), "\" transform=\"rotate(-90 ", num(cx), " ", num(cy),
            ")\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"", num(kLabelFont),
            "\" fill=\"#222222\">", escape(c.y_label), "</text>\n");
    }
    if (!c.title.empty())
        out("<text x=\"", num(L.left), "\" y=\"22\" font-size=\"", num(kTitleFont),
            "\" font-weight=\"600\" fill=\"#111111\">", escape(c.title), "</text>\n");
}

// One legend entry at x: its swatch (a band's patch, a series' line and/or marker) and its name.
void write_legend_item(SvgOut& out, const Chart& c, const LegendItem& it, double x, double ry) {
    const double sy = ry - 4;
    if (it.band) {
        const Band& b = c.bands[it.index];
        out("<rect x=\"", num(x), "\" y=\"", num(sy - 6), "\" width=\"20\" height=\"12\" fill=\"",
            escape(color_or(b.color, it.index)), "\" fill-opacity=\"",
            fmt::format("{:.3f}", std::max(band_opacity(b), 0.15)), "\"/>\n");
        out("<text x=\"", num(x + 26), "\" y=\"", num(ry), "\">", escape(b.name), "</text>\n");
        return;
    }
    const Series& s = c.series[it.index];
    const std::string color = escape(color_or(s.color, it.index));
    if (s.line || !s.markers) {
        out("<line x1=\"", num(x), "\" y1=\"", num(sy), "\" x2=\"", num(x + 20), "\" y2=\"", num(sy), "\" stroke=\"",
            color, "\" stroke-width=\"2\"");
        if (s.dashed) out(" stroke-dasharray=\"6 4\"");
        out("/>\n");
    }
    if (s.markers)
        out("<circle cx=\"", num(x + 10), "\" cy=\"", num(sy), "\" r=\"3\" fill=\"", color,
            "\" stroke=\"#ffffff\" stroke-width=\"0.8\"/>\n");
    out("<text x=\"", num(x + 26), "\" y=\"", num(ry), "\">", escape(s.name), "</text>\n");
}

// The legend rows under the x axis, each row centred.
void write_legend(SvgOut& out, const Chart& c, const Layout& L) {
    if (L.legend.empty()) return;
    const double W = c.width;
    out("<g font-size=\"", num(kLegendFont), "\" fill=\"#222222\">\n");
    double ry = L.bottom + L.below_ticks + 6.0 + kLegendRow * 0.7;
    for (const auto& row : L.legend) {
        double row_w = 0;
        for (const auto& it : row)
            row_w += (row_w > 0 ? kLegendItemGap : 0) + it.width;
        double x = std::max(4.0, (W - row_w) / 2);
        for (const auto& it : row) {
            write_legend_item(out, c, it, x, ry);
            x += it.width + kLegendItemGap;
        }
        ry += kLegendRow;
    }
    out("</g>\n");
}

}  // namespace

std::string render_svg(const Chart& c) {
    check_chart(c);
    Layout layout = plot_layout(c, data_range(c), legend_rows(c));
    const std::string prefix = id_prefix(c);
    layout.clip = prefix + "-clip";

    SvgOut out;
    out.o.reserve(8192);
    write_header(out, c, layout, prefix + "-title");
    write_gridlines(out, layout);
    write_bands(out, c, layout);
    write_reference_lines(out, c, layout);
    write_series(out, c, layout);
    write_labelled_points(out, c, layout);
    write_frame_and_ticks(out, layout);
    write_axis_labels_and_title(out, c, layout);
    write_legend(out, c, layout);
    out("</svg>");
    return std::move(out.o);
}

}  // namespace satiq::html
