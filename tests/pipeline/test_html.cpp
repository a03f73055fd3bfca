// satiq::html (escape, base64, data: URIs, the SVG chart) and the report test tooling
// (html_check.hpp: tag balance, external references, headless Chromium).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "html_check.hpp"
#include "satiq/pipeline/report/html.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using satiq::test::html_external_references;
using satiq::test::html_structure_errors;

std::span<const unsigned char> bytes_of(std::string_view s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v)
        s += e + "\n";
    return s;
}

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A NIIRS-vs-GSD style chart on a log axis from 0.25 to 10 m with a band, a gap, non-finite
// values, reference lines and labelled points.
satiq::html::Chart sample_chart() {
    satiq::html::Chart c;
    c.title = "NIIRS vs GSD <predicted & measured>";
    c.x_label = "GSD (m)";
    c.y_label = "NIIRS";
    c.log_x = true;
    c.id = "niirs-gsd";
    std::vector<double> x, y, lo, hi;
    for (double g = 0.25; g <= 10.0 + 1e-9; g *= 1.25) {
        x.push_back(g);
        y.push_back(6.5 - 3.3 * std::log10(g));
        lo.push_back(y.back() - 0.3);
        hi.push_back(y.back() + 0.3);
    }
    c.bands.push_back({"GIQE 5 standard error", x, lo, hi, "", 0.2});
    satiq::html::Series s{"predicted", x, y, "", true, false, false};
    s.y[3] = kNaN;  // a gap
    c.series.push_back(s);
    c.series.push_back(
        {"measured", {0.3, 0.5, kInf, 1.0, 2.0, -1.0}, {8.0, 7.4, 5.0, kNaN, 5.4, 6.0}, "", false, true, false});
    c.series.push_back({"dashed 'model' \"B\"", {0.25, 10.0}, {7.0, 2.0}, "#123456", true, false, true});
    for (int n = 1; n <= 9; ++n)
        c.hlines.push_back({static_cast<double>(n), "NIIRS " + std::to_string(n)});
    c.points.push_back({0.31, 8.1, "WorldView-3", ""});
    c.points.push_back({kNaN, 3.0, "bad", ""});
    c.y_min = 0.0;
    c.y_max = 10.0;
    return c;
}

}  // namespace

// ---- escape / base64 / data_uri ----

TEST(HtmlEscape, EscapesMarkupCharacters) {
    EXPECT_EQ(satiq::html::escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
    EXPECT_EQ(satiq::html::escape(""), "");
    EXPECT_EQ(satiq::html::escape("plain text 123"), "plain text 123");
    EXPECT_EQ(satiq::html::escape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
}

TEST(HtmlEscape, KeepsValidUtf8) {
    const std::string s =
        "\xCE\xBC"
        "m, 10\xC2\xB5, \xE2\x80\x94, \xF0\x9F\x9B\xB0";  // μm, µ, em dash, satellite
    EXPECT_EQ(satiq::html::escape(s), s);
}

TEST(HtmlEscape, ReplacesInvalidUtf8AndControlCharacters) {
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(satiq::html::escape("a\xFF"
                                  "b"),
              "a" + fffd + "b");                                                          // never valid
    EXPECT_EQ(satiq::html::escape("\x80"), fffd);                                         // stray continuation
    EXPECT_EQ(satiq::html::escape("\xC3"), fffd);                                         // truncated at the end
    EXPECT_EQ(satiq::html::escape("\xC3(x"), fffd + "(x");                                // truncated before ASCII
    EXPECT_EQ(satiq::html::escape("\xC0\xAF"), fffd + fffd);                              // overlong '/'
    EXPECT_EQ(satiq::html::escape("\xED\xA0\x80"), fffd + fffd + fffd);                   // surrogate U+D800
    EXPECT_EQ(satiq::html::escape("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);        // above U+10FFFF
    EXPECT_EQ(satiq::html::escape(std::string("x\0y\x1B", 4)), "x" + fffd + "y" + fffd);  // XML-invalid controls
    EXPECT_EQ(satiq::html::escape("<\xFF>"), "&lt;" + fffd + "&gt;");
}

TEST(HtmlBase64, Rfc4648TestVectors) {
    // RFC 4648 section 10.
    EXPECT_EQ(satiq::html::base64(bytes_of("")), "");
    EXPECT_EQ(satiq::html::base64(bytes_of("f")), "Zg==");
    EXPECT_EQ(satiq::html::base64(bytes_of("fo")), "Zm8=");
    EXPECT_EQ(satiq::html::base64(bytes_of("foo")), "Zm9v");
    EXPECT_EQ(satiq::html::base64(bytes_of("foob")), "Zm9vYg==");
    EXPECT_EQ(satiq::html::base64(bytes_of("fooba")), "Zm9vYmE=");
    EXPECT_EQ(satiq::html::base64(bytes_of("foobar")), "Zm9vYmFy");
}

TEST(HtmlBase64, AllByteValues) {
    const std::vector<unsigned char> b = {0x00, 0xFF, 0xFE, 0x80, 0x7F, 0x3E, 0x3F};
    EXPECT_EQ(satiq::html::base64(b), "AP/+gH8+Pw==");
}

TEST(HtmlDataUri, PrefixesMime) {
    EXPECT_EQ(satiq::html::data_uri("image/png", bytes_of("foo")), "data:image/png;base64,Zm9v");
    EXPECT_EQ(satiq::html::data_uri("text/plain", bytes_of("")), "data:text/plain;base64,");
}

// ---- render_svg ----

TEST(HtmlSvg, IsWellFormedAndAccessible) {
    const std::string svg = satiq::html::render_svg(sample_chart());
    EXPECT_TRUE(html_structure_errors(svg).empty()) << joined(html_structure_errors(svg));
    EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
    EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
    EXPECT_TRUE(contains(svg, "id=\"niirs-gsd\""));
    EXPECT_TRUE(contains(svg, "width=\"100%\""));
    EXPECT_TRUE(contains(svg, "viewBox=\"0 0 720 400\""));
    EXPECT_TRUE(contains(svg, "role=\"img\""));
    EXPECT_TRUE(contains(svg, "<title id=\"niirs-gsd-title\">NIIRS vs GSD &lt;predicted &amp; measured&gt;</title>"));
    EXPECT_TRUE(contains(svg, "font-family=\"system-ui"));
    EXPECT_TRUE(contains(svg, ">GSD (m)</text>"));
    EXPECT_TRUE(contains(svg, ">NIIRS</text>"));
    EXPECT_TRUE(contains(svg, ">NIIRS 9</text>"));
    EXPECT_TRUE(contains(svg, ">WorldView-3</text>"));
    EXPECT_FALSE(contains(svg, ">bad</text>"));  // its x is NaN
}

TEST(HtmlSvg, LogAxisTicks) {
    const std::string svg = satiq::html::render_svg(sample_chart());
    for (const char* label : {"0.3", "1", "3", "10"})
        EXPECT_TRUE(contains(svg, std::string("text-anchor=\"middle\">") + label + "</text>")) << label;
    // A wide range labels decades only.
    satiq::html::Chart wide;
    wide.log_x = true;
    wide.series.push_back({"s", {0.001, 1e6}, {0, 1}, "", true, true, false});
    const std::string w = satiq::html::render_svg(wide);
    EXPECT_TRUE(contains(w, "text-anchor=\"middle\">0.001</text>"));
    EXPECT_TRUE(contains(w, "text-anchor=\"middle\">1e6</text>"));
    EXPECT_FALSE(contains(w, "text-anchor=\"middle\">3</text>"));
    EXPECT_TRUE(html_structure_errors(w).empty()) << joined(html_structure_errors(w));
}

TEST(HtmlSvg, LinearAxisNiceTicks) {
    satiq::html::Chart c;
    c.series.push_back({"s", {0.0, 0.93}, {-3.2, 47.0}, "", true, true, false});
    const std::string svg = satiq::html::render_svg(c);
    // x: 0..1 in steps of 0.1 or 0.2; y: -10..50 in steps of 10.
    EXPECT_TRUE(contains(svg, "text-anchor=\"middle\">0.2</text>"));
    EXPECT_TRUE(contains(svg, "text-anchor=\"middle\">1.0</text>"));
    EXPECT_TRUE(contains(svg, "text-anchor=\"end\">-10</text>"));
    EXPECT_TRUE(contains(svg, "text-anchor=\"end\">50</text>"));
    EXPECT_TRUE(contains(svg, "text-anchor=\"end\">0</text>"));
    EXPECT_FALSE(contains(svg, ">-0</text>"));
}

TEST(HtmlSvg, SkipsNonFiniteValues) {
    satiq::html::Chart c = sample_chart();
    c.series.push_back({"all bad", {kNaN, kInf, -kInf}, {1, kNaN, 2}, "", true, true, false});
    c.bands.push_back({"bad band", {kNaN, 1.0}, {0, kInf}, {1, 2}, "", 0.3});
    c.hlines.push_back({kNaN, "nan line"});
    for (const std::string& svg : {satiq::html::render_svg(c), satiq::html::render_svg(satiq::html::Chart{})}) {
        EXPECT_FALSE(std::regex_search(svg, std::regex(R"(\b(nan|inf)\b)", std::regex::icase))) << svg;
        EXPECT_TRUE(html_structure_errors(svg).empty()) << joined(html_structure_errors(svg));
    }
    // The NaN in "predicted" breaks its line into two subpaths.
    const std::string svg = satiq::html::render_svg(sample_chart());
    const auto stroke = svg.find("fill=\"none\" stroke=\"#0072B2\"");
    ASSERT_NE(stroke, std::string::npos);
    const auto d = svg.rfind("<path d=\"", stroke);
    ASSERT_NE(d, std::string::npos);
    const std::string path = svg.substr(d, svg.find("\"", d + 9) - d);
    EXPECT_EQ(std::count(path.begin(), path.end(), 'M'), 2) << path;
}

TEST(HtmlSvg, IsDeterministic) {
    EXPECT_EQ(satiq::html::render_svg(sample_chart()), satiq::html::render_svg(sample_chart()));
    satiq::html::Chart a = sample_chart(), b = sample_chart();
    a.id.clear();
    b.id.clear();
    EXPECT_EQ(satiq::html::render_svg(a), satiq::html::render_svg(b));
    b.title = "another";
    // Distinct charts without an id get distinct internal ids (clip paths must not collide).
    const std::string sa = satiq::html::render_svg(a), sb = satiq::html::render_svg(b);
    const auto clip_of = [](const std::string& s) {
        const auto p = s.find("<clipPath id=\"");
        return s.substr(p, s.find('"', p + 14) - p);
    };
    EXPECT_NE(clip_of(sa), clip_of(sb));
}

TEST(HtmlSvg, LegendNamesAndColours) {
    const std::string svg = satiq::html::render_svg(sample_chart());
    EXPECT_TRUE(contains(svg, ">predicted</text>"));
    EXPECT_TRUE(contains(svg, ">measured</text>"));
    EXPECT_TRUE(contains(svg, ">GIQE 5 standard error</text>"));
    EXPECT_TRUE(contains(svg, ">dashed &#39;model&#39; &quot;B&quot;</text>"));
    EXPECT_TRUE(contains(svg, "stroke=\"#0072B2\""));  // Okabe-Ito blue: the first series
    EXPECT_TRUE(contains(svg, "fill=\"#D55E00\""));    // vermillion: the second (markers only)
    EXPECT_TRUE(contains(svg, "stroke=\"#123456\""));  // given colour
    EXPECT_TRUE(contains(svg, "stroke-dasharray=\"6 4\""));
}

// Presets a few pixels apart on the chart (the report's PlanetScope and Malligyong-1 at 3 m) get
// labels that do not cover each other or a marker.
TEST(HtmlSvg, LabelsOfNearbyPointsDoNotOverlap) {
    satiq::html::Chart c;
    c.log_x = true;
    c.series.push_back({"s", {0.2, 10.0}, {0.0, 9.0}, "", true, false, false});
    c.y_min = 0.0;
    c.y_max = 9.0;
    c.points.push_back({3.0, 2.55, "PlanetScope SuperDove", ""});
    c.points.push_back({3.0, 2.35, "Malligyong-1 (estimate)", ""});
    c.points.push_back({3.1, 2.45, "third", ""});
    const std::string svg = satiq::html::render_svg(c);
    struct Box {
        double x0, y0, x1, y1;
    };
    std::vector<Box> labels, markers;
    const std::regex text(
        R"re(<text x="([-0-9.]+)" y="([-0-9.]+)"( text-anchor="end")? fill="[^"]*"[^>]*>([^<]*)</text>)re");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), text); it != std::sregex_iterator(); ++it) {
        const double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
        const double w = 11.0 * 0.55 * static_cast<double>((*it)[4].length());  // a lower bound of its width
        const bool end = (*it)[3].matched;
        labels.push_back({end ? x - w : x, y - 11.0, end ? x : x + w, y + 1.0});
    }
    const std::regex circle(R"re(<circle cx="([-0-9.]+)" cy="([-0-9.]+)" r="4")re");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), circle); it != std::sregex_iterator(); ++it)
        markers.push_back(
            {std::stod((*it)[1]) - 3, std::stod((*it)[2]) - 3, std::stod((*it)[1]) + 3, std::stod((*it)[2]) + 3});
    ASSERT_EQ(labels.size(), 3u) << svg;
    ASSERT_EQ(markers.size(), 3u);
    auto hits = [](const Box& a, const Box& b) { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1; };
    for (std::size_t i = 0; i < labels.size(); ++i) {
        for (std::size_t j = i + 1; j < labels.size(); ++j)
            EXPECT_FALSE(hits(labels[i], labels[j])) << i << " and " << j;
        for (const Box& m : markers)
            EXPECT_FALSE(hits(labels[i], m)) << i;
    }
}

TEST(HtmlSvg, NoExternalReferences) {
    const std::string svg = satiq::html::render_svg(sample_chart());
    EXPECT_TRUE(html_external_references(svg).empty()) << joined(html_external_references(svg));
    EXPECT_TRUE(contains(svg, "clip-path=\"url(#niirs-gsd-clip)\""));
}

TEST(HtmlSvg, RejectsMismatchedSizes) {
    satiq::html::Chart c;
    c.series.push_back({"s", {1, 2, 3}, {1, 2}, "", true, true, false});
    EXPECT_THROW(satiq::html::render_svg(c), satiq::Error);
    satiq::html::Chart d;
    d.width = 0;
    EXPECT_THROW(satiq::html::render_svg(d), satiq::Error);
    satiq::html::Chart e;
    e.log_x = true;
    e.x_min = -1.0;
    EXPECT_THROW(satiq::html::render_svg(e), satiq::Error);
}

// ---- the checkers themselves ----

TEST(HtmlCheck, AcceptsBalancedDocument) {
    const std::string doc = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>a < b & c</title>
<style>p > span { color: red } /* </div> */</style></head>
<body><!-- <div> in a comment --><p>x<br>y<img src="data:image/png;base64,AAAA" alt="a > b"></p>
<svg viewBox="0 0 10 10"><rect x="0" y="0" width="1" height="1"/><path d="M0 0 L1 1"/><title>t</title></svg>
<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1 &amp; 2 &#8211; &#x2014;</td></tr></tbody></table>
<ul><li>one</li></ul><input type="checkbox" checked><hr/></body></html>
)HTML";
    EXPECT_TRUE(html_structure_errors(doc).empty()) << joined(html_structure_errors(doc));
}

TEST(HtmlCheck, ReportsMissingEndTag) {
    const auto e = html_structure_errors("<div><p>text</p>\n<div>inner</div>");
    ASSERT_EQ(e.size(), 1u) << joined(e);
    EXPECT_TRUE(contains(e[0], "unclosed <div>")) << e[0];
    EXPECT_TRUE(contains(e[0], "line 1, col 1")) << e[0];
}

TEST(HtmlCheck, ReportsStrayEndTag) {
    const auto e = html_structure_errors("<p>a</span></p>");
    ASSERT_EQ(e.size(), 1u) << joined(e);
    EXPECT_TRUE(contains(e[0], "stray </span>")) << e[0];
    EXPECT_TRUE(contains(e[0], "col 5")) << e[0];
}

TEST(HtmlCheck, ReportsMismatchedNesting) {
    const auto e = html_structure_errors("<b><i>x</b></i>");
    ASSERT_FALSE(e.empty());
    EXPECT_TRUE(contains(joined(e), "mismatched nesting: </b> while <i>")) << joined(e);
    EXPECT_TRUE(contains(joined(e), "stray </i>")) << joined(e);
}

TEST(HtmlCheck, ReportsOptionalEndTagsLeftOpen) {
    const auto e = html_structure_errors("<table><tr><td>1<td>2</td></tr></table>");
    ASSERT_EQ(e.size(), 1u) << joined(e);
    EXPECT_TRUE(contains(e[0], "<td>")) << e[0];
    EXPECT_TRUE(contains(e[0], "col 12")) << e[0];
    EXPECT_FALSE(html_structure_errors("<ul><li>a<li>b</ul>").empty());
    EXPECT_FALSE(html_structure_errors("<p>a<p>b").empty());
}

TEST(HtmlCheck, VoidAndSelfClosingElements) {
    EXPECT_TRUE(html_structure_errors("<p>a<br>b<br/>c<wbr><img src=\"#x\" alt=\"\"></p>").empty());
    EXPECT_TRUE(html_structure_errors("<svg><circle r=\"1\"/><g><line/></g></svg>").empty());
    EXPECT_TRUE(html_structure_errors("<svg/>").empty());
    EXPECT_FALSE(html_structure_errors("<div/>").empty());     // HTML parsers leave it open
    EXPECT_FALSE(html_structure_errors("<br></br>").empty());  // end tag of a void element
}

TEST(HtmlCheck, RawTextQuotesAndSyntax) {
    EXPECT_TRUE(html_structure_errors("<script>if (a < b && c) { x = '</div>'; }</script>").empty());
    EXPECT_TRUE(html_structure_errors("<a title=\"<b> & </i>\">x</a>").size() == 1u);  // the bare '&'
    EXPECT_TRUE(html_structure_errors("<a title=\"<b> &amp; </i>\">x</a>").empty());
    EXPECT_FALSE(html_structure_errors("<p>1 < 2</p>").empty());
    EXPECT_FALSE(html_structure_errors("<p>R&D</p>").empty());
    EXPECT_FALSE(html_structure_errors("<p class=x>a</p>").empty());
    EXPECT_FALSE(html_structure_errors("<p class=\"a\" class=\"b\">a</p>").empty());
    EXPECT_FALSE(html_structure_errors("<p title=\"oops>a</p>").empty());
    EXPECT_FALSE(html_structure_errors("<!-- never closed <p></p>").empty());
}

TEST(HtmlCheck, FindsExternalReferences) {
    const std::string doc = R"HTML(<html><head>
<link rel="stylesheet" href="http://example.com/a.css">
<style>@import "theme.css"; @font-face { src: url(font.woff) } .x { background: url('data:image/png;base64,AA') }</style>
<script src="//cdn.example.com/lib.js"></script>
</head><body>
<img src="x.png" alt=""><img src="data:image/png;base64,AAAA" alt="">
<a href="#section">in page</a><a href="https://example.org/">out</a>
<div style="background-image: url(&quot;bg.jpg&quot;)">x</div>
<svg><use xlink:href="sprite.svg#icon"/><use href="#local"/><rect fill="url(#grad)"/></svg>
<button onclick="go()">b</button>
</body></html>)HTML";
    const auto refs = html_external_references(doc);
    const std::string all = joined(refs);
    for (const char* want : {"http://example.com/a.css", "@import \"theme.css\"", "url(font.woff)", "<script> element",
                             "//cdn.example.com/lib.js", "src=\"x.png\"", "https://example.org/", "url(bg.jpg)",
                             "sprite.svg#icon", "onclick"})
        EXPECT_TRUE(contains(all, want)) << want << "\n" << all;
    for (const char* not_want : {"data:", "#section", "#local", "#grad"})
        EXPECT_FALSE(contains(all, not_want)) << not_want << "\n" << all;
    EXPECT_EQ(refs.size(), 10u) << all;
    EXPECT_TRUE(contains(all, "line 2: ")) << all;
}

TEST(HtmlCheck, AcceptsSelfContainedDocument) {
    const std::string doc =
        "<html><head><style>body { background: url(data:image/png;base64,AA) }</style></head>"
        "<body><a href=\"#top\">top</a><img src=\" data:image/png;base64,AAAA\" alt=\"\"></body></html>";
    EXPECT_TRUE(html_external_references(doc).empty()) << joined(html_external_references(doc));
    EXPECT_FALSE(html_external_references("<svg><script>alert(1)</script></svg>").empty());
}

// ---- a demo page in headless Chromium ----

TEST(HtmlChromium, RendersSelfContainedDemoPage) {
    if (!satiq::test::chromium_available()) GTEST_SKIP() << "chromium is not installed";
    const satiq::test::TempDir dir("html_demo");

    cv::Mat gradient(64, 256, CV_8UC3);
    for (int y = 0; y < gradient.rows; ++y)
        for (int x = 0; x < gradient.cols; ++x)
            gradient.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<unsigned char>(x), static_cast<unsigned char>(4 * y),
                                                     static_cast<unsigned char>(255 - x));
    std::vector<unsigned char> png;
    ASSERT_TRUE(cv::imencode(".png", gradient, png));

    const std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>satiq demo</title>"
        "<style>body { font-family: system-ui, sans-serif; margin: 24px; max-width: 900px }"
        " table { border-collapse: collapse } td, th { border: 1px solid #999; padding: 4px 8px }</style>"
        "</head><body><h1>satiq demo report</h1>\n" +
        satiq::html::render_svg(sample_chart()) +
        "\n<table id=\"metrics\"><thead><tr><th>metric</th><th>value</th></tr></thead><tbody>"
        "<tr><td>GSD</td><td>0.31 m</td></tr><tr><td>NIIRS</td><td>" +
        satiq::html::escape("8.1 ± 0.2") +
        "</td></tr></tbody></table>\n<p><img id=\"gradient\" alt=\"gradient\" width=\"256\" height=\"64\" src=\"" +
        satiq::html::data_uri("image/png", png) + "\"></p></body></html>\n";
    ASSERT_TRUE(html_structure_errors(html).empty()) << joined(html_structure_errors(html));
    ASSERT_TRUE(html_external_references(html).empty()) << joined(html_external_references(html));
    const fs::path page = dir / "demo report.html";  // a space: the file:// URL must be encoded
    std::ofstream(page, std::ios::binary) << html;

    const auto shot = satiq::test::chromium_screenshot(page, dir / "demo.png", 1000, 1200);
    ASSERT_TRUE(shot.ok) << shot.error;
    EXPECT_EQ(shot.width, 1000);
    EXPECT_EQ(shot.height, 1200);
    EXPECT_GT(shot.luminance_stddev, 5.0);
    EXPECT_GT(shot.distinct_colors, 10);

    const std::string dom = satiq::test::chromium_dump_dom(page);
    EXPECT_TRUE(contains(dom, "<svg")) << dom.substr(0, 2000);
    EXPECT_TRUE(contains(dom, "id=\"niirs-gsd\"")) << dom.substr(0, 2000);
    EXPECT_TRUE(contains(dom, "<table id=\"metrics\">")) << dom.substr(0, 2000);
    EXPECT_TRUE(contains(dom, "<td>0.31 m</td>"));
    EXPECT_TRUE(contains(dom, "src=\"data:image/png;base64,"));
    if (const char* keep = std::getenv("SATIQ_KEEP_TEST_DIRS"); keep && std::string(keep) == "1")
        std::cout << "demo page and screenshot kept in " << dir.path() << "\n";
}

TEST(HtmlChromium, BlankPageHasNoContrast) {
    if (!satiq::test::chromium_available()) GTEST_SKIP() << "chromium is not installed";
    const satiq::test::TempDir dir("html_blank");
    std::ofstream(dir / "blank.html") << "<!DOCTYPE html><html><head><title>b</title></head><body></body></html>";
    const auto shot = satiq::test::chromium_screenshot(dir / "blank.html", dir / "blank.png", 400, 300);
    ASSERT_TRUE(shot.ok) << shot.error;
    EXPECT_LT(shot.luminance_stddev, 0.5);
    EXPECT_LE(shot.distinct_colors, 2);
    EXPECT_FALSE(satiq::test::chromium_screenshot(dir / "missing.html", dir / "x.png").ok);
}
