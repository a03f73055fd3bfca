#pragma once
// Test tooling for the self-contained HTML report: a strict tag-balance checker, a finder of
// references to anything outside the document, and headless Chromium (Debian's `chromium`
// package) to render a page to PNG or dump the DOM the browser built.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace satiq::test {

/// Structural errors of an HTML5 document (or fragment, e.g. one <svg>), each as
/// "line L, col C: message"; empty when the markup is balanced. Checks, polyglot-strict:
///  - every non-void element is closed explicitly, including those whose end tag HTML makes
///    optional (p, li, td, tr, th, thead, tbody, option, html, head, body...): unclosed elements,
///    stray closing tags and mismatched nesting (<b><i></b></i>) are reported with positions;
///  - void elements (area base br col embed hr img input link meta param source track wbr) need
///    no end tag (an end tag for one is stray); `<x/>` closes x inside <svg>/<math>, and on a void
///    element; on any other HTML element HTML parsers ignore the slash, so it is reported;
///  - comments, <!DOCTYPE>, <?...?> and CDATA sections are skipped; the content of <script>,
///    <style>, <textarea> and an HTML <title> is raw text up to its end tag;
///  - attribute values in quotes are skipped whole ('>' or '<' inside them is fine); an unquoted
///    value, a duplicate attribute, an unterminated tag/comment/quote, a bare '<' in text and an
///    '&' that does not start a character reference (&name; &#123; &#x1F;) are reported.
/// Tag names compare case-insensitively.
std::vector<std::string> html_structure_errors(std::string_view html);

/// Everything in the document that would make a browser fetch or run something: each src=,
/// href=, xlink:href=, srcset=, poster=, action=, formaction=, background=, manifest=, <object
/// data=> value, url(...) in an attribute (style="", fill="") or <style>, and @import, that is not
/// a data: URI or a same-document fragment "#...", as "line L: <tag> attr=\"value\"" or
/// "line L: url(value)"; every <script> element and every on...= event handler attribute.
std::vector<std::string> html_external_references(std::string_view html);

/// A screenshot taken by headless Chromium and what it shows.
struct Screenshot {
    bool ok = false;
    std::string error;  ///< why not ok (Chromium's exit status and the tail of its stderr)
    int width = 0, height = 0;
    double luminance_stddev = 0;  ///< of Rec. 601 luma, 0..255 (a blank page: ~0)
    int distinct_colors = 0;      ///< distinct 8-bit RGB triplets
};

/// True when `chromium` is on PATH and `chromium --version` runs (checked once per process).
bool chromium_available();

/// Renders `html` (a local file) with headless Chromium into `png` at width x height CSS px
/// (`chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot=PNG
/// --window-size=W,H file://...`, a private temporary --user-data-dir, killed with its whole
/// process group after 60 s), then reads the PNG with OpenCV.
Screenshot chromium_screenshot(const std::filesystem::path& html, const std::filesystem::path& png, int width = 1200,
                               int height = 2000);

/// The DOM Chromium built from `html` after loading it, serialised (`--dump-dom`); throws
/// std::runtime_error when Chromium is missing, fails or times out (60 s).
std::string chromium_dump_dom(const std::filesystem::path& html);

}  // namespace satiq::test
