// `satiq assess`: the entry point and the text, CSV and plot writers (assess_stages.cpp measures,
// assess_json.cpp writes the JSON, assess_bands.cpp does --band all).
#include "satiq/pipeline/ops/assess.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "assess_detail.hpp"
#include "satiq/pipeline/io/interrupt.hpp"

namespace fs = std::filesystem;

namespace satiq {

namespace {

// "+/- 0.012", or "+/- <0.001" for an error below what `decimals` shows (a sharp edge at low
// noise): never a "+/- 0.000" that reads as an exact figure.
std::string plus_minus(double se, int decimals) {
    const double step = std::pow(10.0, -decimals);
    if (se < step / 2) return fmt::format("+/- <{:.{}f}", step, decimals);
    return fmt::format("+/- {:.{}f}", se, decimals);
}

std::string axis_line(const char* name, const EdgeAxisSummary& s) {
    if (s.count == 0) return fmt::format("  {}: no usable edges\n", name);
    return fmt::format(
        "  {}: {} edges, RER {:.3f} {} (IQR {:.3f}), MTF50 {:.3f} cy/px, MTF at Nyquist {:.3f}, FWHM {:.2f} "
        "px, H {:.3f}\n",
        name, s.count, s.rer.median, plus_minus(s.rer.standard_error, 3), s.rer.iqr, s.mtf50_cyc_per_px.median,
        s.mtf_nyquist.median, s.fwhm_px.median, s.overshoot_h.median);
}

}  // namespace

GiqeSelection parse_giqe_selection(const std::string& s) {
    if (s == "3") return GiqeSelection::giqe3;
    if (s == "4") return GiqeSelection::giqe4;
    if (s == "5") return GiqeSelection::giqe5;
    if (s == "all") return GiqeSelection::all;
    throw Error(fmt::format("--giqe must be 3, 4, 5 or all (got '{}')", s));
}

AssessResult assess_file(const fs::path& path, const AssessParams& params) {
    try {
        return params.all_bands ? detail::assess_every_band(path, params) : detail::assess_image(path, params);
    } catch (const Error& e) {
        // Every error names the file (the CLI prints it as the failed item's one line), also one
        // from deep inside: a kernel refusing the NaN noise of an image near the float limit.
        const std::string what = e.what();
        if (what.find(path.string()) != std::string::npos) throw;
        const std::string named = fmt::format("{}: {}", path.string(), what);
        if (dynamic_cast<const UsageError*>(&e)) throw UsageError(named);
        throw Error(named);
    }
}

std::string to_text(const AssessResult& r, bool runstats) {
    const EdgeAggregate& ag = r.edges.aggregate;
    std::string s = fmt::format("{}\n  {} x {} px, {}\n  GSD {:.4f} x {:.4f} m ({}), elevation {:.1f} deg ({})\n",
                                r.file.string(), r.width, r.height, r.band_used, r.gsd.x_m, r.gsd.y_m, r.gsd.method,
                                r.elevation_deg, r.elevation_source);
    if (r.sampling.valid && (r.sampling.x.upsampled || r.sampling.y.upsampled))
        s += fmt::format("  UPSAMPLED about {:.2f} x {:.2f}: effective GSD {:.4f} x {:.4f} m{}\n", r.sampling.x.factor,
                         r.sampling.y.factor, r.effective_gsd_x_m, r.effective_gsd_y_m,
                         r.rated_on_effective_gsd ? " (NIIRS rated on it)" : " (not used: --trust-pixel-size)");
    s += fmt::format("  edges: {} candidates, {} used, {} rejected\n", r.edges.candidates, ag.usable_count,
                     ag.analysed - ag.usable_count);
    s += axis_line("x", ag.x);
    s += axis_line("y", ag.y);
    if (ag.usable) {
        s += fmt::format(
            "  RER geometric mean {:.3f}, weighted (GIQE 5) {:.3f}{}\n", ag.rer_gm, ag.rer_weighted,
            r.rated_on_effective_gsd && r.rated_rer_gm > 0
                ? fmt::format("; on the effective grid {:.3f}, weighted {:.3f}", r.rated_rer_gm, r.rated_rer_weighted)
                : std::string());
        const EdgeRobustness& rb = r.robustness;
        auto half = [](const EdgeSplit& sp) {
            auto one = [](const EdgeSubsetRer& h) {
                return h.rer_gm > 0 ? fmt::format("{:.3f}", h.rer_gm) : std::string("-");
            };
            return one(sp.first) + "/" + one(sp.second);
        };
        auto chance = [](const EdgeSplit& sp) {
            return sp.compared && sp.random_splits > 0 ? fmt::format(" (p = {:.2f})", sp.p_value) : std::string();
        };
        const double typical =
            std::max(rb.top_bottom.random_median_abs_difference, rb.left_right.random_median_abs_difference);
        s += fmt::format(
            "  robustness: leaving out one edge moves the geometric mean by <= {:.3f}, one object ({} objects) by "
            "<= {:.3f}; halves top/bottom {}{}, left/right {}{}{}\n",
            rb.max_edge_change, rb.objects, rb.max_object_change, half(rb.top_bottom), chance(rb.top_bottom),
            half(rb.left_right), chance(rb.left_right),
            typical > 0 ? fmt::format(", random halves differ by a median {:.3f}", typical) : std::string());
    } else
        s += fmt::format("  {}\n", ag.message.empty() ? "no usable edges" : ag.message);
    // As the JSON: a figure that is not positive is unknown (null there, "unknown" here).
    auto dn = [](double v) { return v > 0 ? fmt::format("{:.3f} DN", v) : std::string("unknown"); };
    s += fmt::format("  noise {} ({}; Immerkaer {}), SNR {} ({})\n", dn(r.noise_sigma_dn), r.noise_method,
                     dn(r.noise_immerkaer_sigma_dn), r.snr > 0 ? fmt::format("{:.1f}", r.snr) : "n/a", r.snr_source);
    // gsd: the GSD the equation was fed (weighted, ground or normal plane), for the validity note.
    auto niirs = [&](const char* name, const std::optional<giqe::NiirsPrediction>& p, double gsd) {
        if (!p) return;
        if (r.gsd_alone && &p == &r.giqe5) {
            s += fmt::format(
                "  NIIRS {} {} to {}, estimated from GSD alone (RER {:.2f}-{:.2f} assumed; +/- {:.2f} equation)\n",
                name, interpret::niirs_text(r.gsd_alone->niirs_low, r.gsd_weighted_m),
                interpret::niirs_text(r.gsd_alone->niirs_high, r.gsd_weighted_m), r.gsd_alone->rer_low,
                r.gsd_alone->rer_high, p->standard_error.value_or(0.0));
            return;
        }
        std::string err;
        if (p->standard_error) err += fmt::format(" {}", plus_minus(*p->standard_error, 2));
        if (p->standard_error && p->rer_measurement_error) err += " (equation)";
        if (p->rer_measurement_error)
            err += fmt::format(" {} (measured RER)", plus_minus(*p->rer_measurement_error, 2));
        s += fmt::format("  NIIRS {} {}{}\n", name, interpret::niirs_text(p->value, gsd), err);
    };
    niirs("(GIQE 5)", r.giqe5, r.gsd_weighted_m);
    niirs("(GIQE 4)", r.giqe4, r.gsd_ground_m);
    niirs("(GIQE 3)", r.giqe3, r.gsd_normal_m);
    s += detail::bands_text(r);
    if (r.interpretation) s += interpret::to_text(*r.interpretation);
    // Every warning of the JSON, the equations' validity warnings included, appears here too.
    for (const auto& w : r.warnings)
        s += "  ! " + w + "\n";
    for (const auto* p : {&r.giqe5, &r.giqe4, &r.giqe3})
        if (*p)
            for (const auto& w : (*p)->warnings)
                s += "  ! " + w + "\n";
    if (runstats)
        for (const auto& st : r.runstats)
            s += fmt::format("  time {}: {:.3f} s\n", st.stage, st.seconds);
    return s;
}

void write_text_atomic(const fs::path& path, const std::string& text) {
    write_file_atomically(path, text);  // interrupt.hpp: the one atomic writer
}

void write_edges_csv(const fs::path& path, const std::vector<AssessResult>& results) {
    std::string csv =
        "file,edge,verdict,axis,x0_px,y0_px,x1_px,y1_px,angle_deg,slant_deg,length_px,dark_dn,bright_dn,contrast_dn,"
        "contrast_to_noise,line_rms_px,rer,rer_standard_error,overshoot_h,fwhm_px,mtf50_cyc_per_px,mtf50_cyc_per_m,mtf_"
        "nyquist,quality,reason\n";
    for (const auto& r : results) {
        std::size_t i = 0;
        for (const auto& e : r.edges.edges) {
            std::string reason = e.reason;
            std::replace(reason.begin(), reason.end(), '"', '\'');
            csv += fmt::format(
                "\"{}\",{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.1f},{:.3f},{:.3f},{:.3f},{:.2f},"
                "{:.4f},{:.5f},{},{:.5f},{:.4f},{:.5f},{:.6g},{:.5f},{:.4f},\"{}\"\n",
                r.file.string(), i++, to_string(e.verdict), to_string(e.axis), e.segment.x0_px, e.segment.y0_px,
                e.segment.x1_px, e.segment.y1_px, e.angle_deg, e.slant_deg, e.length_px, e.dark_dn, e.bright_dn,
                e.contrast_dn, e.contrast_to_noise, e.line_rms_px, e.rer,
                e.rer_standard_error > 0 ? fmt::format("{:.5f}", e.rer_standard_error) : std::string(), e.overshoot_h,
                e.fwhm_px, e.mtf50_cyc_per_px, e.mtf50_cyc_per_m, e.mtf_nyquist, e.quality, reason);
        }
    }
    write_text_atomic(path, csv);
}

namespace {

// A minimal SVG line chart: every usable edge's curve faint, the per-axis median bold.
std::string svg_chart(
    const std::string& title, const std::string& xlabel, const std::string& ylabel, double xmin, double xmax,
    double ymin, double ymax,
    const std::vector<std::pair<std::string, std::vector<std::vector<std::pair<double, double>>>>>& series,
    const std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>>& medians,
    const std::vector<double>& vlines) {
    const double W = 640, H = 420, L = 60, R = 20, T = 40, B = 50;
    auto px = [&](double x) { return L + (x - xmin) / (xmax - xmin) * (W - L - R); };
    auto py = [&](double y) { return H - B - (y - ymin) / (ymax - ymin) * (H - T - B); };
    const char* colours[] = {"#1f77b4", "#d62728"};
    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
        "font-family=\"sans-serif\" "
        "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"24\" "
        "font-size=\"15\">{}</text>\n",
        W, H, W, H, L, title);
    for (int i = 0; i <= 5; ++i) {
        const double y = ymin + (ymax - ymin) * i / 5.0, x = xmin + (xmax - xmin) * i / 5.0;
        s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", L, py(y),
                         W - R, py(y));
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2g}</text>\n", L - 6, py(y) + 4, y);
        s +=
            fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:.3g}</text>\n", px(x), H - B + 18, x);
    }
    for (double v : vlines)
        s += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#888\" stroke-dasharray=\"4 "
            "3\"/>\n",
            px(v), py(ymin), px(v), py(ymax));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", L, T,
                     W - L - R, H - T - B);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", (L + W - R) / 2, H - 12,
                     xlabel);
    s += fmt::format(
        "<text x=\"16\" y=\"{:.1f}\" transform=\"rotate(-90 16 {:.1f})\" text-anchor=\"middle\">{}</text>\n",
        (T + H - B) / 2, (T + H - B) / 2, ylabel);
    auto path = [&](const std::vector<std::pair<double, double>>& pts) {
        std::string d;
        for (std::size_t i = 0; i < pts.size(); ++i) {
            const double y = std::clamp(pts[i].second, ymin, ymax);
            d += fmt::format("{}{:.1f},{:.1f} ", i ? "L" : "M", px(pts[i].first), py(y));
        }
        return d;
    };
    for (std::size_t k = 0; k < series.size(); ++k)
        for (const auto& c : series[k].second)
            s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-opacity=\"0.12\"/>\n", path(c),
                             colours[k % 2]);
    for (std::size_t k = 0; k < medians.size(); ++k) {
        if (medians[k].second.empty()) continue;
        s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>\n", path(medians[k].second),
                         colours[k % 2]);
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"{}\">{}</text>\n", W - R - 150, T + 18 + 16 * k,
                         colours[k % 2], medians[k].first);
    }
    return s + "</svg>\n";
}

std::vector<std::pair<double, double>> median_curve(const std::vector<std::vector<std::pair<double, double>>>& curves) {
    if (curves.empty()) return {};
    std::size_t n = curves.front().size();
    for (const auto& c : curves)
        n = std::min(n, c.size());
    std::vector<std::pair<double, double>> out(n);
    std::vector<double> v;
    for (std::size_t i = 0; i < n; ++i) {
        v.clear();
        for (const auto& c : curves)
            v.push_back(c[i].second);
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
        out[i] = {curves.front()[i].first, v[v.size() / 2]};
    }
    return out;
}

}  // namespace

std::vector<fs::path> write_plots(const fs::path& dir, const AssessResult& r, const std::string& name_stem) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error(fmt::format("{}: --plots folder does not exist", dir.string()));
    using Curves = std::vector<std::vector<std::pair<double, double>>>;
    Curves esf[2], lsf[2], mtf[2];
    for (const auto& e : r.edges.edges) {
        if (!is_usable(e.verdict) || e.esf.empty()) continue;
        const int a = e.axis == EdgeAxis::x ? 0 : 1;
        const double half = (static_cast<double>(e.esf.size()) / 4.0) / 2.0;  // 4x oversampled, centred
        std::vector<std::pair<double, double>> c1, c2, c3;
        for (std::size_t i = 0; i < e.esf.size(); ++i)
            c1.push_back({static_cast<double>(i) / 4.0 - half, e.esf[i]});
        for (std::size_t i = 0; i < e.lsf.size(); ++i)
            c2.push_back({static_cast<double>(i) / 4.0 - half, e.lsf[i]});
        for (std::size_t i = 0; i < e.mtf.size(); ++i)
            c3.push_back({static_cast<double>(i) / 64.0, e.mtf[i]});
        esf[a].push_back(std::move(c1));
        lsf[a].push_back(std::move(c2));
        mtf[a].push_back(std::move(c3));
    }
    const std::string stem = name_stem.empty() ? r.file.stem().string() : name_stem;
    const auto& ag = r.edges.aggregate;
    auto label = [&](int a) {
        const auto& s = a == 0 ? ag.x : ag.y;
        return fmt::format("{} ({} edges, RER {:.3f})", a == 0 ? "x" : "y", s.count, s.rer.median);
    };
    double lsf_max = 0.1;
    for (const auto& cs : lsf)
        for (const auto& c : cs)
            for (const auto& p : c)
                lsf_max = std::max(lsf_max, p.second);
    std::vector<fs::path> written;
    auto emit = [&](const std::string& name, const std::string& svg) {
        const fs::path p = dir / (stem + "_" + name + ".svg");
        write_text_atomic(p, svg);
        written.push_back(p);
    };
    emit("esf", svg_chart(stem + ": edge spread function", "distance from the edge (px)", "normalized ESF", -6, 6, -0.1,
                          1.2, {{"x", esf[0]}, {"y", esf[1]}},
                          {{label(0), median_curve(esf[0])}, {label(1), median_curve(esf[1])}}, {-0.5, 0.5}));
    emit("lsf", svg_chart(stem + ": line spread function", "distance from the edge (px)", "LSF (per px)", -6, 6,
                          -0.1 * lsf_max, 1.1 * lsf_max, {{"x", lsf[0]}, {"y", lsf[1]}},
                          {{label(0), median_curve(lsf[0])}, {label(1), median_curve(lsf[1])}}, {}));
    emit("mtf", svg_chart(stem + ": MTF", "spatial frequency (cycles/pixel)", "MTF", 0, 1, 0, 1.1,
                          {{"x", mtf[0]}, {"y", mtf[1]}},
                          {{label(0), median_curve(mtf[0])}, {label(1), median_curve(mtf[1])}}, {0.5}));
    return written;
}

}  // namespace satiq
