// `satiq assess --band all`: every band of a multi-band image measured on its own, beside the
// result for the default band (band 1, or the luminance of an RGB image).
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "assess_detail.hpp"
#include "satiq/pipeline/io/raster.hpp"

namespace fs = std::filesystem;

namespace satiq::detail {

namespace {

// The figures of one band's assessment; its warnings only where the main result lacks them
// (the shared ones, such as an assumed nadir, are said once).
BandAssessment band_summary(int band, const BandInfo& info, const AssessResult& one, const AssessResult& main) {
    BandAssessment b;
    b.band = band;
    b.description = info.description;
    b.color_interpretation = info.color_interpretation;
    b.edges_candidates = one.edges.candidates;
    b.edges = one.edges.aggregate;
    b.edges.x.mtf_curve.clear();
    b.edges.y.mtf_curve.clear();
    b.noise_sigma_dn = one.noise_sigma_dn;
    b.snr = one.snr;
    b.snr_source = one.snr_source;
    b.giqe5 = one.giqe5;
    b.niirs_from_gsd_alone = one.gsd_alone.has_value();
    for (const auto& w : one.warnings)
        if (std::find(main.warnings.begin(), main.warnings.end(), w) == main.warnings.end()) b.warnings.push_back(w);
    // The band's own GIQE 5 validity warnings (an RER above 1, an MTF50 above Nyquist, ...), where
    // the main result's NIIRS does not carry the same sentence.
    auto in = [](const std::vector<std::string>& ws, const std::string& w) {
        return std::find(ws.begin(), ws.end(), w) != ws.end();
    };
    if (one.giqe5)
        for (const auto& w : one.giqe5->warnings)
            if (!in(b.warnings, w) && !in(main.warnings, w) && !(main.giqe5 && in(main.giqe5->warnings, w)))
                b.warnings.push_back(w);
    return b;
}

}  // namespace

AssessResult assess_every_band(const fs::path& path, const AssessParams& params) {
    if (params.band != 0)
        throw Error(fmt::format("{}: --band all measures every band; it cannot be combined with --band {}",
                                path.string(), params.band));
    AssessResult main = assess_image(path, params);
    const auto t = std::chrono::steady_clock::now();
    const RasterInfo info = Raster::open(path).info();
    // One band at a time (each assessment is parallel inside): memory for one band's pixels at
    // a time, and the same result at any thread count.
    for (int band = 1; band <= static_cast<int>(info.bands.size()); ++band) {
        const BandInfo& bi = info.bands[static_cast<std::size_t>(band - 1)];
        if (band == 1 && main.band_used == "band 1") {  // the main result already is band 1's
            main.bands.push_back(band_summary(band, bi, main, main));
            continue;
        }
        AssessParams p = params;
        p.all_bands = false;
        p.band = band;
        p.keep_profiles = false;
        main.bands.push_back(band_summary(band, bi, assess_image(path, p), main));
    }
    main.runstats.push_back({"bands", std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count()});
    return main;
}

nlohmann::json bands_json(const AssessResult& r) {
    using nlohmann::json;
    if (r.bands.empty()) return nullptr;
    auto opt = [](bool have, double v) { return have ? json(v) : json(nullptr); };
    json out = json::array();
    for (const BandAssessment& b : r.bands) {
        const EdgeAggregate& ag = b.edges;
        const bool hx = ag.x.count > 0, hy = ag.y.count > 0;
        auto per_axis = [&](const EdgeStatistic EdgeAxisSummary::*f) {
            return json{{"x", opt(hx, (ag.x.*f).median)}, {"y", opt(hy, (ag.y.*f).median)}};
        };
        out.push_back({{"band", b.band},
                       {"description", b.description},
                       {"color_interpretation", b.color_interpretation},
                       {"edges_candidates", b.edges_candidates},
                       {"edges_used", ag.usable_count},
                       {"edges_x", ag.x.count},
                       {"edges_y", ag.y.count},
                       {"rer",
                        {{"x", opt(hx, ag.x.rer.median)},
                         {"y", opt(hy, ag.y.rer.median)},
                         {"x_standard_error", opt(hx, ag.x.rer.standard_error)},
                         {"y_standard_error", opt(hy, ag.y.rer.standard_error)},
                         {"geometric_mean", opt(ag.usable, ag.rer_gm)},
                         {"weighted", opt(ag.usable, ag.rer_weighted)}}},
                       {"mtf50_cyc_per_px", per_axis(&EdgeAxisSummary::mtf50_cyc_per_px)},
                       {"mtf_nyquist", per_axis(&EdgeAxisSummary::mtf_nyquist)},
                       {"fwhm_px", per_axis(&EdgeAxisSummary::fwhm_px)},
                       {"noise_sigma_dn", opt(b.noise_sigma_dn > 0, b.noise_sigma_dn)},
                       {"snr", opt(b.snr > 0, b.snr)},
                       {"snr_source", b.snr_source},
                       {"niirs", b.giqe5 ? json(b.giqe5->value) : json(nullptr)},
                       {"niirs_standard_error",
                        b.giqe5 && b.giqe5->standard_error ? json(*b.giqe5->standard_error) : json(nullptr)},
                       {"niirs_basis", !b.giqe5                 ? json(nullptr)
                                       : b.niirs_from_gsd_alone ? json("estimated from GSD alone")
                                                                : json("measured edges")},
                       {"warnings", b.warnings}});
    }
    return out;
}

std::string bands_text(const AssessResult& r) {
    if (r.bands.empty()) return {};
    auto xy = [](const EdgeAggregate& ag, const EdgeStatistic EdgeAxisSummary::*f, const char* spec) {
        auto one = [&](const EdgeAxisSummary& s) {
            return s.count > 0 ? fmt::format(fmt::runtime(spec), (s.*f).median) : std::string("-");
        };
        return fmt::format("x {} y {}", one(ag.x), one(ag.y));
    };
    std::string s = "  bands, each measured on its own:\n";
    for (const BandAssessment& b : r.bands) {
        const EdgeAggregate& ag = b.edges;
        const std::string name = !b.description.empty()                  ? b.description
                                 : b.color_interpretation != "Undefined" ? b.color_interpretation
                                                                         : std::string();
        s += fmt::format("    band {}{}: {} of {} edges used", b.band, name.empty() ? "" : " (" + name + ")",
                         ag.usable_count, ag.analysed);
        if (ag.usable)
            s += fmt::format(", RER {} (weighted {:.3f}), MTF50 {} cy/px, FWHM {} px",
                             xy(ag, &EdgeAxisSummary::rer, "{:.3f}"), ag.rer_weighted,
                             xy(ag, &EdgeAxisSummary::mtf50_cyc_per_px, "{:.3f}"),
                             xy(ag, &EdgeAxisSummary::fwhm_px, "{:.2f}"));
        s += b.snr > 0 ? fmt::format(", SNR {:.1f}", b.snr) : std::string(", SNR n/a");
        if (b.giqe5)
            s += fmt::format(", NIIRS {:.2f}{}", b.giqe5->value, b.niirs_from_gsd_alone ? " (from GSD alone)" : "");
        s += "\n";
        for (const auto& w : b.warnings)  // the JSON's band warnings, as every warning is in the text
            s += "      ! " + w + "\n";
    }
    return s;
}

}  // namespace satiq::detail
