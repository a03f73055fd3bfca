#pragma once
/// Building blocks of the self-contained HTML report: text escaping, base64 data: URIs and an
/// inline SVG line/scatter chart. Nothing here references anything outside the document (no
/// script, web font, stylesheet or image is fetched), and every output is deterministic: the same
/// input gives the same bytes (numbers are written with fixed precision by fmt, which ignores the
/// locale). Pure and thread-safe; invalid input (mismatched vector sizes, a size <= 0) throws
/// satiq::Error naming what is wrong.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace satiq::html {

/// Escapes text for HTML/XML text content and (double- or single-quoted) attribute values:
/// & < > " ' become &amp; &lt; &gt; &quot; &#39;. Invalid UTF-8 (stray continuation bytes,
/// truncated or overlong sequences, surrogates, code points above U+10FFFF) is replaced by U+FFFD,
/// one per invalid byte, and so are the control characters XML 1.0 forbids (U+0000..U+001F except
/// tab, newline and carriage return, and U+007F), so the result is always well-formed UTF-8 text.
std::string escape(std::string_view text);

/// Base64 of `bytes` (RFC 4648 section 4: standard alphabet, '=' padding, no line breaks).
std::string base64(std::span<const unsigned char> bytes);

/// "data:<mime>;base64,<base64 of bytes>" (RFC 2397), e.g. data_uri("image/png", png_bytes) for
/// an <img src="...">. The result contains no character that needs escaping in an attribute.
std::string data_uri(std::string_view mime, std::span<const unsigned char> bytes);

/// A data series. A non-finite x or y (or x <= 0 on a log axis) is a gap: nothing is drawn for
/// that point and the line breaks there. An empty color takes the next colour of the default
/// Okabe-Ito palette (by series index).
struct Series {
    std::string name;  ///< legend text; an empty name leaves the series out of the legend
    std::vector<double> x, y;
    std::string color;
    bool line = true;
    bool markers = true;
    bool dashed = false;
};

/// A shaded area between lo and hi (e.g. an uncertainty band), drawn beneath the series. A
/// non-finite value breaks the band into separate areas. Empty color: palette by band index.
struct Band {
    std::string name;  ///< legend text; empty: not in the legend
    std::vector<double> x, lo, hi;
    std::string color;
    double opacity = 0.2;
};

/// A horizontal reference line (e.g. NIIRS levels): thin grey, with a small label at the right
/// end, above the line. Lines outside the y range are not drawn; they do not widen the range.
struct HLine {
    double y;
    std::string label;
};

/// A marked point with a text label beside it (e.g. sensor presets on a curve). Points widen the
/// automatic axis range. Empty color: black.
struct PointLabel {
    double x, y;
    std::string label;
    std::string color;
};

struct Chart {
    std::string title, x_label, y_label;
    bool log_x = false;
    /// Fixed axis limits; an unset limit is taken from the data (series, bands and points) and
    /// rounded outwards to a tick. Data beyond the limits is clipped to the plot area.
    std::optional<double> x_min, x_max, y_min, y_max;
    std::vector<Band> bands;
    std::vector<Series> series;
    std::vector<HLine> hlines;
    std::vector<PointLabel> points;
    int width = 720, height = 400;  ///< the viewBox, in CSS px at 100 % scale
    /// id attribute of the <svg>; ids inside the chart (clip path, title) are prefixed with it.
    /// Give every chart in a page its own id; empty: "chart-" and a hash of the chart's content.
    std::string id;
};

/// The chart as one complete inline <svg> element (well-formed XML, polyglot HTML5): width="100%"
/// and a viewBox of width x height so it scales with the page; role="img" with a <title> (and
/// aria-labelledby) for screen readers; a system font stack (font-family attribute, no web font);
/// a white background; axes with "nice" ticks (1-2-5 steps on a linear axis; on a log axis
/// gridlines at 1, 2 and 5 per decade, labels at 1, 2, 3, 5 or 1, 3 or decades alone as space
/// allows, e.g. 0.3 1 3 10; "1e5"/"2e-4" beyond 0.001..10000; a range under a factor 2.5 gets
/// linear 1-2-5 ticks), gridlines, axis labels and a legend (bands and named series) below the
/// plot; text over the plot (reference-line and point labels) has a white halo. Never writes
/// "nan" or "inf". Default colours: the Okabe & Ito palette ("Color Universal Design", 2008),
/// ordered for contrast on white: blue, vermillion, bluish green, reddish purple, orange, sky
/// blue, black, yellow.
std::string render_svg(const Chart& chart);

}  // namespace satiq::html
