#pragma once
/// The self-contained HTML report of a sweep: nothing fetched from anywhere (inline SVG charts,
/// PNG chips as data: URIs, system fonts, no script), readable printed and on a phone.
#include <string>

namespace satiq {

struct SweepResult;

/// The whole report.html document.
std::string sweep_report_html(const SweepResult& r);

}  // namespace satiq
