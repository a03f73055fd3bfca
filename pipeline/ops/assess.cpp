#include "satiq/pipeline/ops/assess.hpp"

#include "satiq/kernels/noise_spectral.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include <unistd.h>
#include "clock.hpp"

#include <ogrsf_frmts.h>

#include "assess_detail.hpp"
#include "satiq/kernels/noise_pca.hpp"
#include "satiq/kernels/noise_spectral.hpp"
#include "satiq/kernels/statistics.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/sensor.hpp"

namespace fs = std::filesystem;

namespace satiq {

namespace {

using detail::Clock;
using detail::seconds_since;

// Saturation level: the declared bit depth (IMAGE_STRUCTURE NBITS) or the type's maximum.
double saturation_for(const RasterInfo& info, const BandInfo& band) {
    if (auto it = info.metadata.find("IMAGE_STRUCTURE"); it != info.metadata.end())
        if (auto n = it->second.find("NBITS"); n != it->second.end())
            return std::ldexp(1.0, std::atoi(n->second.c_str())) - 1;
    switch (band.type) {
        case DataType::Byte:
            return 255;
        case DataType::UInt16:
            return 65535;
        case DataType::Int16:
            return 32767;
        case DataType::UInt32:
            return 4294967295.0;
        case DataType::Int32:
            return 2147483647.0;
        default:
            return 3.0e38;
    }
}

bool is_rgb(const RasterInfo& info) {
    return info.bands.size() >= 3 && info.bands[0].color_interpretation == "Red" &&
           info.bands[1].color_interpretation == "Green" && info.bands[2].color_interpretation == "Blue";
}

// Lines from a vector file, in pixel coordinates of the raster.
std::vector<EdgeRoi> read_roi_lines(const fs::path& path, const RasterInfo& info, double half_width_px) {
    init_gdal();
    if (!info.geo.geotransform)
        throw Error(fmt::format("{}: --roi-lines needs a geotransform to map the lines to pixels", info.path.string()));
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds) throw Error(fmt::format("{}: cannot open as a vector file: {}", path.string(), last_gdal_error()));
    const auto& gt = *info.geo.geotransform;
    const double det = gt[1] * gt[5] - gt[2] * gt[4];
    OGRSpatialReference raster_srs;
    const bool have_srs =
        !info.geo.crs_wkt.empty() && raster_srs.importFromWkt(info.geo.crs_wkt.c_str()) == OGRERR_NONE;
    raster_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::vector<EdgeRoi> out;
    for (OGRLayer* layer : ds->GetLayers()) {
        std::unique_ptr<OGRCoordinateTransformation> ct;
        if (const OGRSpatialReference* lsrs = layer->GetSpatialRef(); lsrs && have_srs && !lsrs->IsSame(&raster_srs)) {
            ct.reset(OGRCreateCoordinateTransformation(lsrs, &raster_srs));
            if (!ct) throw Error(fmt::format("{}: cannot transform its CRS to the raster's", path.string()));
        }
        for (auto& feature : *layer) {
            OGRGeometry* g = feature->GetGeometryRef();
            if (!g) continue;
            std::unique_ptr<OGRGeometry> copy(g->clone());
            if (ct && copy->transform(ct.get()) != OGRERR_NONE) continue;
            auto add_line = [&](const OGRLineString* ls) {
                for (int i = 0; i + 1 < ls->getNumPoints(); ++i) {
                    auto to_px = [&](double x, double y) {
                        const double dx = x - gt[0], dy = y - gt[3];
                        return std::pair{(gt[5] * dx - gt[2] * dy) / det, (-gt[4] * dx + gt[1] * dy) / det};
                    };
                    auto [x0, y0] = to_px(ls->getX(i), ls->getY(i));
                    auto [x1, y1] = to_px(ls->getX(i + 1), ls->getY(i + 1));
                    out.push_back(EdgeRoi::line(x0, y0, x1, y1, half_width_px));
                }
            };
            const auto type = wkbFlatten(copy->getGeometryType());
            if (type == wkbLineString) add_line(copy->toLineString());
            if (type == wkbMultiLineString)
                for (const OGRLineString* ls : *copy->toMultiLineString())
                    add_line(ls);
            if (type == wkbPolygon)  // each side of a polygon (a roof outline) is a candidate edge
                for (const OGRLinearRing* ring : *copy->toPolygon())
                    add_line(ring);
        }
    }
    if (out.empty()) throw Error(fmt::format("{}: no lines or polygons found", path.string()));
    return out;
}

nlohmann::json prediction_json(const giqe::NiirsPrediction& p) {
    return {{"value", p.value},
            {"standard_error", p.standard_error ? nlohmann::json(*p.standard_error) : nlohmann::json(nullptr)},
            {"rer_measurement_error",
             p.rer_measurement_error ? nlohmann::json(*p.rer_measurement_error) : nlohmann::json(nullptr)},
            {"warnings", p.warnings}};
}

nlohmann::json stat_json(const EdgeAxisSummary& s, const EdgeStatistic EdgeAxisSummary::*field) {
    const EdgeStatistic& st = s.*field;
    return {{"median", st.median}, {"q1", st.q1}, {"q3", st.q3}, {"iqr", st.iqr}};
}

// edges.x.mtf_curve / edges.y.mtf_curve in the JSON (docs/schema.md); null without a curve.
nlohmann::json mtf_curve_json(const EdgeAxisSummary& s) {
    if (s.mtf_curve.empty()) return nullptr;
    nlohmann::json c = nlohmann::json::array();
    for (const EdgeMtfCurvePoint& p : s.mtf_curve)
        c.push_back({{"frequency_cyc_per_px", p.frequency_cyc_per_px},
                     {"mtf_median", p.median},
                     {"mtf_q25", p.q1},
                     {"mtf_q75", p.q3},
                     {"edges", p.edges}});
    return c;
}

std::string axis_line(const char* name, const EdgeAxisSummary& s) {
    if (s.count == 0) return fmt::format("  {}: no usable edges\n", name);
    return fmt::format(
        "  {}: {} edges, RER {:.3f} +/- {:.3f} (IQR {:.3f}), MTF50 {:.3f} cy/px, MTF at Nyquist {:.3f}, FWHM {:.2f} "
        "px, H {:.3f}\n",
        name, s.count, s.rer.median, s.rer.standard_error, s.rer.iqr, s.mtf50_cyc_per_px.median, s.mtf_nyquist.median,
        s.fwhm_px.median, s.overshoot_h.median);
}

// One GIQE prediction plus the NIIRS spread the RER's relative standard error `rel` causes:
// (NIIRS(RER (1 + rel)) - NIIRS(RER (1 - rel))) / 2, empty when rel is 0 or too large.
template <class Inputs>
giqe::NiirsPrediction predict_with_rer_error(giqe::NiirsPrediction (*equation)(const Inputs&), const Inputs& in,
                                             double Inputs::*rer_field, double rel) {
    giqe::NiirsPrediction p = equation(in);
    const double rer = in.*rer_field, d = rer * rel;
    if (d > 0 && rer - d > 0) {
        Inputs up = in, down = in;
        up.*rer_field = rer + d;
        down.*rer_field = rer - d;
        p.rer_measurement_error = 0.5 * std::abs(equation(up).value - equation(down).value);
    }
    return p;
}

// Patches examined by the PCA noise estimate (a deterministic grid; the estimate settles well
// before this count and its cost stays bounded on large images).
constexpr std::int64_t kNoisePcaPatches = 60000;

// Noise at a signal level from a noise-versus-signal curve: linear interpolation between band
// means, clamped to the end bands; the pooled sigma when the curve has fewer than two bands.
double sigma_at_level(const NoiseEstimate& ne, double level_dn) {
    const auto& bands = ne.bands;
    if (bands.size() < 2) return ne.sigma_dn;
    std::size_t i = 0;
    while (i + 2 < bands.size() && bands[i + 1].mean_signal_dn < level_dn)
        ++i;
    const auto& a = bands[i];
    const auto& b = bands[i + 1];
    const double f =
        std::clamp((level_dn - a.mean_signal_dn) / std::max(1e-9, b.mean_signal_dn - a.mean_signal_dn), 0.0, 1.0);
    return a.sigma_dn + f * (b.sigma_dn - a.sigma_dn);
}

// RER of an edge read on pixels `factor` times wider, for a Gaussian-equivalent edge: the ESF of
// a Gaussian LSF of s px gives RER = erf(0.5 / (sqrt(2) s)) (RER = ESF(+0.5) - ESF(-0.5), GIQE 4:
// Leachtenauer et al., Appl. Opt. 36(32), 1997), so on the wider pixels RER_k = erf(k erfinv(RER)).
double rer_on_coarser_grid(double rer, double factor) {
    if (!(rer > 0 && rer < 1) || factor == 1.0) return rer;
    double z = 0.5;  // erfinv(rer) by Newton's method on erf(z) - rer
    for (int i = 0; i < 60; ++i) {
        const double step = (std::erf(z) - rer) / (2.0 / std::sqrt(std::numbers::pi) * std::exp(-z * z));
        z = std::clamp(z - step, 1e-9, 6.0);
        if (std::abs(step) < 1e-14) break;
    }
    return std::erf(factor * z);
}

// RER range of un-sharpened imagery when nothing is measured: an ideal diffraction-limited
// system with a square detector gives RER 0.383 at Q = 2 and 0.755 at Q = 0.5 (the sensor model's
// edge response of the signed OTF, pipeline/model/sensor.cpp; Fiete, "Image chain analysis for
// space imaging systems", J. Imaging Sci. Technol. 51(2), 2007, for Q and the image chain);
// jitter, smear and defocus only lower it, so 0.30 is kept as the floor of operational imagery.
constexpr double kPlausibleRerLow = 0.30;
constexpr double kPlausibleRerHigh = 0.76;
// Model uncertainty kept around a preset's predicted RER.
constexpr double kPresetRerMargin = 0.10;

// GIQE 5 over the RER range (no usable edges): the interval's ends, its midpoint as the value,
// and a standard error that adds half the interval to the equation's own in quadrature.
void estimate_from_gsd_alone(AssessResult& r, const AssessParams& params) {
    AssessResult::GsdAloneEstimate e;
    if (!params.sensor.empty()) {
        const sensor::SensorPreset& preset = sensor::find_sensor_preset(params.sensor);
        const sensor::SensorModel m = sensor::SensorModel::physical(preset.description);
        const auto& f = m.figures();
        e.rer_low = std::min(f.x.rer, f.y.rer) * (1 - kPresetRerMargin);
        e.rer_high = std::max(f.x.rer, f.y.rer) * (1 + kPresetRerMargin);
        e.rer_range_source = fmt::format("sensor preset {}: its RER x {:.3f}, y {:.3f}, +/- {:.0f} %", preset.name,
                                         f.x.rer, f.y.rer, 100 * kPresetRerMargin);
    } else {
        e.rer_low = kPlausibleRerLow;
        e.rer_high = kPlausibleRerHigh;
        e.rer_range_source =
            "plausible range of un-sharpened imagery (ideal optics Q 2 to 0.5 give 0.38-0.76; 0.30 allows "
            "for jitter and smear)";
    }
    giqe::Giqe5Inputs in;
    in.gsd_weighted_m = r.gsd_weighted_m;
    in.snr = r.snr;
    in.elevation_deg = r.elevation_deg;
    in.rer_weighted = e.rer_low;
    const giqe::NiirsPrediction lo = giqe::giqe5(in);
    in.rer_weighted = e.rer_high;
    giqe::NiirsPrediction hi = giqe::giqe5(in);
    e.niirs_low = lo.value;
    e.niirs_high = hi.value;
    hi.value = 0.5 * (lo.value + hi.value);
    hi.rer_measurement_error = 0.5 * (e.niirs_high - e.niirs_low);
    r.giqe5 = hi;
    r.warnings.push_back(
        fmt::format("NIIRS {:.2f} to {:.2f} estimated from GSD alone: GSD {:.3g} m and SNR {:.1f} with RER "
                    "{:.2f}-{:.2f} ({})",
                    e.niirs_low, e.niirs_high, r.gsd_weighted_m, r.snr, e.rer_low, e.rer_high, e.rer_range_source));
    r.gsd_alone = e;
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

AssessResult detail::assess_image(const fs::path& path, const AssessParams& params) {
    AssessResult r;
    r.file = path;
    auto t = Clock::now();
    Raster raster = Raster::open(path);
    const RasterInfo& info = raster.info();
    r.width = info.width;
    r.height = info.height;
    // Refused before a pixel is read: the band is held in memory whole.
    const auto pixels = static_cast<std::uint64_t>(info.width) * static_cast<std::uint64_t>(info.height);
    if (params.max_pixels > 0 && pixels > params.max_pixels)
        throw Error(
            fmt::format("{}: {} x {} = {} pixels is over the --max-pixels limit of {} (assess holds the "
                        "band in memory, about 7 bytes per pixel: raise --max-pixels, or 0 for no limit, "
                        "if the memory is there)",
                        path.string(), info.width, info.height, pixels, params.max_pixels));
    r.georeference = info.geo;
    r.acquisition = find_acquisition(info);
    r.gsd = compute_gsd(info, params.gsd);

    // The band measured: one band, or the luminance of an RGB image (Rec. 601 weights).
    MaskedImage img;
    std::vector<std::pair<int, double>> band_weights;  // the measured signal as a sum of bands
    if (params.band > 0) {
        if (params.band > raster.band_count())
            throw Error(fmt::format("{}: --band {} does not exist (the file has {})", path.string(), params.band,
                                    raster.band_count()));
        img = raster.read_masked(params.band, {0, 0, info.width, info.height});
        r.band_used = fmt::format("band {}", params.band);
        band_weights = {{params.band, 1.0}};
        r.saturation_dn = saturation_for(info, info.bands[static_cast<std::size_t>(params.band - 1)]);
    } else if (is_rgb(info)) {
        const double w[3] = {0.299, 0.587, 0.114};
        img = raster.read_masked(1, {0, 0, info.width, info.height});
        // Green and blue are added in strips of rows, so that the luminance costs one band's
        // memory, not three.
        const std::int64_t strip =
            std::max<std::int64_t>(1, (std::int64_t{1} << 22) / std::max<std::int64_t>(1, info.width));
        for (int b = 2; b <= 3; ++b) {
            for (std::int64_t y0 = 0; y0 < info.height; y0 += strip) {
                const std::int64_t rows = std::min(strip, info.height - y0);
                const MaskedImage c = raster.read_masked(b, {0, y0, info.width, rows});
                const auto base = static_cast<std::size_t>(y0 * info.width);
                for (std::size_t i = 0; i < c.pixels.pixels().size(); ++i) {
                    float& v = img.pixels.pixels()[base + i];
                    v = static_cast<float>((b == 2 ? w[0] * v : v) + w[b - 1] * c.pixels.pixels()[i]);
                }
                if (!c.mask.empty()) {
                    if (img.mask.empty()) img.mask.assign(img.pixels.pixels().size(), 1);
                    for (std::size_t i = 0; i < c.mask.size(); ++i)
                        img.mask[base + i] &= c.mask[i];
                }
            }
        }
        r.band_used = "luminance of bands 1-3 (0.299 R + 0.587 G + 0.114 B)";
        band_weights = {{1, w[0]}, {2, w[1]}, {3, w[2]}};
        r.saturation_dn = saturation_for(info, info.bands[0]);
        r.warnings.push_back("GIQE is defined for panchromatic imagery: an RGB image is measured on its luminance");
    } else {
        img = raster.read_masked(1, {0, 0, info.width, info.height});
        r.band_used = "band 1";
        band_weights = {{1, 1.0}};
        r.saturation_dn = saturation_for(info, info.bands[0]);
        if (info.bands.size() > 1 && !params.all_bands)
            r.warnings.push_back("multi-band image: band 1 measured (choose with --band)");
    }
    ConstImageView<std::uint8_t> mask;
    if (!img.mask.empty()) mask = ConstImageView<std::uint8_t>(img.mask.data(), info.width, info.height);
    r.runstats.push_back({"read", seconds_since(t)});

    // Geometry: elevation from the metadata, the user, or nadir with a warning.
    if (params.elevation_deg) {
        if (!(*params.elevation_deg > 0 && *params.elevation_deg <= 90))
            throw Error(fmt::format("--elevation-deg must lie in (0, 90] (got {})", *params.elevation_deg));
        r.elevation_deg = *params.elevation_deg;
        r.elevation_source = "user";
    } else if (r.acquisition.look) {
        // The geometry degrade recorded, vendor metadata (IMD, DIMAP) or the RPCs, in that
        // order (find_look_geometry, pipeline/ops/info.cpp); the source names which.
        r.elevation_deg = r.acquisition.look->elevation_deg;
        r.elevation_source = r.acquisition.look->source;
    } else {
        r.elevation_deg = 90;
        r.elevation_source = "assumed nadir";
        // A metadata angle that gives no look geometry (NaN, 1e308, beyond the horizon) is
        // ignored, and said so.
        if (r.acquisition.off_nadir_deg)
            r.warnings.push_back(fmt::format("metadata off-nadir angle {} deg is not a usable look angle: ignored",
                                             *r.acquisition.off_nadir_deg));
        if (r.acquisition.satellite_elevation_deg)
            r.warnings.push_back(fmt::format("metadata satellite elevation {} deg is not a usable look angle: ignored",
                                             *r.acquisition.satellite_elevation_deg));
        r.warnings.push_back(
            "no look angle in the metadata or RPCs and no --elevation-deg: nadir assumed (GSD_w = GSD)");
    }
    // The product GSD is taken as the ground-plane GSD (orthorectified products resample to a
    // ground grid); normal-plane and weighted GSD follow from the elevation (GIQE 4: Leachtenauer et al.,
    // Appl. Opt. 36(32), 1997; GIQE 5: NGA, 2015).
    const double sin_el = std::sin(r.elevation_deg * std::numbers::pi / 180);
    r.gsd_ground_m = r.gsd.mean_m;
    r.gsd_normal_m = r.gsd_ground_m * std::sqrt(sin_el);
    r.gsd_weighted_m = r.gsd_normal_m / std::pow(sin_el, 0.25);

    // Effective resolution: an image interpolated from a coarser grid is rated on the GSD of that
    // grid (its pixels carry no detail finer than it).
    t = Clock::now();
    r.sampling = estimate_sampling(img.pixels.view(), mask);
    // Only a factor confirmed by the interpolation model fit rates the image: a period and a
    // spectral drop alone also arise from downsampling by a non-integer ratio (degrade 0.25 ->
    // 0.31 m has a phase period of 1 / 0.24 output pixels), so they are only noted in the JSON.
    for (SamplingEstimate::Axis* a : {&r.sampling.x, &r.sampling.y})
        if (a->upsampled && a->kernel.empty()) {
            r.sampling.message += fmt::format(
                "; along {} a period of {:.3f} cycles/px and a spectral drop of {:.1f} dB suggest {:.2f}x, not "
                "confirmed by an "
                "interpolation model fit (resampling by a non-integer ratio leaves the same period): factor 1 kept",
                a == &r.sampling.x ? "x" : "y", a->period_cyc_per_px, a->drop_db, a->factor);
            a->upsampled = false;
            a->factor = 1.0;
            a->cutoff_cyc_per_px = 0.5;
        }
    if (r.sampling.valid && (r.sampling.x.upsampled || r.sampling.y.upsampled)) {
        r.effective_gsd_x_m = r.gsd.x_m * r.sampling.x.factor;
        r.effective_gsd_y_m = r.gsd.y_m * r.sampling.y.factor;
        const double eff_mean = std::sqrt(r.effective_gsd_x_m * r.effective_gsd_y_m);
        r.rated_on_effective_gsd = !params.trust_pixel_size;
        r.warnings.push_back(fmt::format(
            "UPSAMPLED: the image was interpolated from a coarser grid (about {:.2f} x {:.2f}: {}); effective GSD "
            "{:.3g} x {:.3g} m "
            "against a product GSD of {:.3g} x {:.3g} m; {}",
            r.sampling.x.factor, r.sampling.y.factor, r.sampling.message, r.effective_gsd_x_m, r.effective_gsd_y_m,
            r.gsd.x_m, r.gsd.y_m,
            r.rated_on_effective_gsd
                ? "NIIRS is computed from the effective GSD"
                : "NIIRS is computed from the product GSD as asked (--trust-pixel-size): it overrates the image"));
        if (r.rated_on_effective_gsd) {
            r.gsd_ground_m = eff_mean;
            r.gsd_normal_m = r.gsd_ground_m * std::sqrt(sin_el);
            r.gsd_weighted_m = r.gsd_normal_m / std::pow(sin_el, 0.25);
        }
    } else {
        r.effective_gsd_x_m = r.gsd.x_m;
        r.effective_gsd_y_m = r.gsd.y_m;
    }
    r.runstats.push_back({"sampling", seconds_since(t)});

    // Noise and SNR. Two estimators: Immerkaer's (structure-masked) one drives the edge analysis's
    // thresholds; the SNR divides by the texture-robust PCA estimate (weak-texture patches), which
    // textured scenes inflate far less.
    t = Clock::now();
    r.noise = estimate_noise(img.pixels.view(), mask);
    NoisePcaParams pca;
    pca.max_patches = kNoisePcaPatches;
    if (r.rated_on_effective_gsd) {
        // Interpolation smooths the noise with the image: measure it on the effective grid (every
        // round(factor)-th pixel), where neighbouring pixels stem from different source samples.
        const std::int64_t sx = std::max<std::int64_t>(1, std::llround(r.sampling.x.factor));
        const std::int64_t sy = std::max<std::int64_t>(1, std::llround(r.sampling.y.factor));
        const std::int64_t w = (r.width + sx - 1) / sx, h = (r.height + sy - 1) / sy;
        Image dec(w, h);
        std::vector<std::uint8_t> dmask(img.mask.empty() ? 0 : static_cast<std::size_t>(w * h));
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x) {
                dec.at(x, y) = img.pixels.at(x * sx, y * sy);
                if (!dmask.empty()) dmask[static_cast<std::size_t>(y * w + x)] = img.valid(x * sx, y * sy) ? 1 : 0;
            }
        ConstImageView<std::uint8_t> dm;
        if (!dmask.empty()) dm = ConstImageView<std::uint8_t>(dmask.data(), w, h);
        r.noise_pca = estimate_noise_pca(dec.view(), dm, pca);
        r.noise_spectral = estimate_noise_spectral(dec.view(), dm);
        r.warnings.push_back(
            fmt::format("noise measured on every {} x {} pixel (the effective grid): interpolation weights "
                        "lower it, so the SNR may be overstated (GIQE 5 changes by under 0.1 NIIRS for "
                        "SNR above 20)",
                        sx, sy));
    } else {
        r.noise_pca = estimate_noise_pca(img.pixels.view(), mask, pca);
        r.noise_spectral = estimate_noise_spectral(img.pixels.view(), mask);
    }
    r.runstats.push_back({"noise", seconds_since(t)});
    const NoiseEstimate& for_snr = r.noise_pca.valid ? r.noise_pca : r.noise;
    r.noise_method = r.noise_pca.valid ? "pca" : "immerkaer";
    if (!r.noise_pca.valid && r.noise.valid)
        r.warnings.push_back("the PCA noise estimate failed (" + r.noise_pca.message +
                             "): the SNR uses Immerkaer's estimate");
    if (for_snr.valid) {
        r.noise_sigma_dn = for_snr.sigma_dn;
        r.noise_immerkaer_sigma_dn = r.noise.valid ? r.noise.sigma_dn : 0.0;
        const ImageStats stats = compute_stats(img.pixels.view(), mask);
        try {
            // A response recorded in the file (satiq degrade's output) beats the percentile convention.
            const auto md = info.metadata.find("");
            if (md != info.metadata.end())
                if (auto it = md->second.find(kRadiometryMetadataKey); it != md->second.end())
                    r.radiometry = radiometry_from_metadata(it->second, band_weights);
            if (!r.radiometry) r.radiometry = scene_radiometry(stats);
            r.noise_sigma_dn = sigma_at_level(for_snr, r.radiometry->level_15_dn);
            // Texture only adds to either estimate: where the spectrum's Nyquist corner holds less
            // power than the PCA's pooled sigma, the PCA was inflated by texture, so its curve is
            // scaled down to the spectral bound (see noise_spectral.hpp).
            if (r.noise_pca.valid && r.noise_spectral.valid && r.noise_spectral.sigma_dn < r.noise_pca.sigma_dn) {
                r.noise_sigma_dn *= r.noise_spectral.sigma_dn / r.noise_pca.sigma_dn;
                r.noise_capped_by_spectrum = true;
            }
            if (r.noise.valid) r.noise_immerkaer_sigma_dn = sigma_at_level(r.noise, r.radiometry->level_15_dn);
        } catch (const Error&) {
            r.radiometry.reset();
        }
    }
    if (params.snr) {
        if (!(*params.snr > 0)) throw Error(fmt::format("--snr must be positive (got {})", *params.snr));
        r.snr = *params.snr;
        r.snr_source = "user";
    } else if (r.radiometry && r.noise_sigma_dn > 0) {
        r.snr = r.radiometry->signal_difference_dn / r.noise_sigma_dn;
        r.snr_source = "measured";
    } else {
        r.snr_source = "unavailable";
        r.warnings.push_back(for_snr.valid ? "the scene has no dynamic range: SNR unavailable (give --snr)"
                                           : "noise could not be estimated (" + for_snr.message + "): give --snr");
    }

    // Edges.
    t = Clock::now();
    EdgeSfrParams sfr;
    sfr.gsd_x_m = r.gsd.x_m;
    sfr.gsd_y_m = r.gsd.y_m;
    sfr.saturation_dn = r.saturation_dn;
    sfr.noise_sigma_dn = r.noise.valid ? r.noise.sigma_dn : 0.0;
    sfr.keep_profiles = true;  // the MTF curves feed edges.x/y.mtf_curve; ESF and LSF only the plots
    sfr.roi_half_width_px = params.roi_half_width_px;
    std::vector<EdgeRoi> rois = params.rois;
    if (params.roi_lines) {
        auto lines = read_roi_lines(*params.roi_lines, info, params.roi_half_width_px);
        rois.insert(rois.end(), lines.begin(), lines.end());
    }
    if (!rois.empty()) {
        r.edges = analyse_edge_rois(img.pixels.view(), mask, rois, sfr);
    } else {
        EdgeFindParams fp;
        fp.noise_sigma_dn = sfr.noise_sigma_dn;
        fp.saturation_dn = r.saturation_dn;
        r.edges = analyse_edges(img.pixels.view(), mask, fp, sfr);
    }
    if (!params.keep_profiles)
        for (EdgeMeasurement& e : r.edges.edges) {
            e.esf = {};
            e.lsf = {};
        }
    // Robustness of the aggregate: does the result hang on one edge, one object or one half?
    r.robustness = edge_robustness(r.edges.edges, r.width, r.height);
    if (r.edges.aggregate.usable) {
        // One object or one part of the image deciding the result (0.03 RER: the stability the
        // project asks of a measurement).
        const EdgeRobustness& rb = r.robustness;
        if (rb.max_object_change > 0.03)
            r.warnings.push_back(
                fmt::format("the RER rests on one object: leaving out the {} edge{} near pixel ({:.0f}, {:.0f}) "
                            "changes the geometric mean by {:.3f}",
                            rb.max_object_edges, rb.max_object_edges == 1 ? "" : "s", rb.max_object_x_px,
                            rb.max_object_y_px, rb.max_object_change));
        // Halves more than 0.03 apart: beyond chance (random deals of the same objects rarely
        // differ as much, p < 0.05) the sharpness or the scene's edges change across the image,
        // one warning per split; otherwise the halves hold too few objects for a comparison at
        // 0.03, one warning for both splits.
        auto edges_text = [](const EdgeSubsetRer& h) {
            const std::int64_t n = h.x_count + h.y_count;
            return fmt::format("{} edge{}", n, n == 1 ? "" : "s");
        };
        std::vector<std::string> within_chance;
        double chance_median = 0;
        for (const auto& [a, b, sp] :
             {std::tuple{"top", "bottom", &rb.top_bottom}, std::tuple{"left", "right", &rb.left_right}}) {
            if (!sp->compared || std::abs(sp->difference) <= 0.03) continue;
            const std::string halves =
                fmt::format("{} {:.3f} +/- {:.3f} ({}) against {} {:.3f} +/- {:.3f} ({})", a, sp->first.rer_gm,
                            sp->first.standard_error, edges_text(sp->first), b, sp->second.rer_gm,
                            sp->second.standard_error, edges_text(sp->second));
            if (sp->random_splits > 0 && sp->p_value < 0.05) {
                r.warnings.push_back(
                    fmt::format("the RER of the halves differs beyond chance: {}; random splits of the same {} "
                                "objects differ as much in a fraction p = {:.3f} of cases: the sharpness, or "
                                "the kind of edges in the scene, changes across the image",
                                halves, rb.objects, sp->p_value));
            } else {
                within_chance.push_back(sp->random_splits > 0 ? fmt::format("{} (p = {:.2f})", halves, sp->p_value)
                                                              : halves + " (no random split possible)");
                chance_median = std::max(chance_median, sp->random_median_abs_difference);
            }
        }
        if (!within_chance.empty()) {
            std::string list;
            for (const auto& w : within_chance)
                list += (list.empty() ? "" : "; ") + w;
            r.warnings.push_back(
                fmt::format("the RER of the halves differs by more than 0.03 but within chance: {}. Random splits of "
                            "the same {} object{} "
                            "differ by a median {:.3f}: too few objects to compare parts of this image within 0.03",
                            list, rb.objects, rb.objects == 1 ? "" : "s", chance_median));
        }
    }
    r.runstats.push_back({"edges", seconds_since(t)});

    // NIIRS.
    t = Clock::now();
    const EdgeAggregate& ag = r.edges.aggregate;
    if (!ag.usable) {
        const std::string why = ag.message.empty() ? std::string("no usable edges") : ag.message;
        r.warnings.push_back(r.snr > 0 ? "no measured RER (" + why + "): NIIRS estimated from GSD alone"
                                       : "no NIIRS: " + why + ", and no SNR (give --snr)");
    } else if (r.snr <= 0) {
        r.warnings.push_back("no NIIRS: no SNR (give --snr)");
    } else {
        if (ag.single_axis)
            r.warnings.push_back("usable edges along one axis only: that axis stands for both in the RER means");
        // Few edges: the between-edge spread of real scenes (tau 0.05-0.15 RER) cannot be
        // estimated from fewer than 3, and the median then rests on one or two objects.
        for (const auto& [name, s] : {std::pair{"x", &ag.x}, std::pair{"y", &ag.y}})
            if (s->count > 0 && s->count < 3)
                r.warnings.push_back(
                    fmt::format("only {} usable edge{} along {}: RER {} {:.3f} +/- {:.3f} rests on {} and is "
                                "not reliable",
                                s->count, s->count == 1 ? "" : "s", name, name, s->rer.median, s->rer.standard_error,
                                s->count == 1 ? "one object" : "two objects"));
        const bool all = params.giqe == GiqeSelection::all;
        // Relative standard errors of the RER means (first-order propagation of the axes'
        // standard errors, taken as independent): gm = sqrt(x y) gives sqrt((rel_x / 2)^2 +
        // (rel_y / 2)^2), weighted = (hi lo^2)^(1/3) gives sqrt((rel_hi / 3)^2 + (2 rel_lo / 3)^2).
        // One axis standing for both is fully correlated with itself: its own relative error.
        auto rel = [](const EdgeAxisSummary& a) {
            return a.rer.median > 0 ? a.rer.standard_error / a.rer.median : 0.0;
        };
        const EdgeAxisSummary& only = ag.x.count ? ag.x : ag.y;
        const bool x_is_lo = ag.x.rer.median <= ag.y.rer.median;
        const double rel_lo = rel(x_is_lo ? ag.x : ag.y), rel_hi = rel(x_is_lo ? ag.y : ag.x);
        const double rel_gm = ag.single_axis ? rel(only) : 0.5 * std::hypot(rel_lo, rel_hi);
        const double rel_w = ag.single_axis ? rel(only) : std::hypot(rel_hi / 3.0, 2.0 * rel_lo / 3.0);
        // The RER on the grid the image is rated on: the measured one, or, for an upsampled image
        // rated on its effective GSD, the same edges read on pixels `factor` times wider.
        r.rated_rer_gm = ag.rer_gm;
        r.rated_rer_weighted = ag.rer_weighted;
        if (r.rated_on_effective_gsd) {
            const double rx = rer_on_coarser_grid(ag.x.count ? ag.x.rer.median : ag.y.rer.median, r.sampling.x.factor);
            const double ry = rer_on_coarser_grid(ag.y.count ? ag.y.rer.median : ag.x.rer.median, r.sampling.y.factor);
            r.rated_rer_gm = std::sqrt(rx * ry);
            r.rated_rer_weighted = giqe::rer_weighted(rx, ry);
        }
        if (all || params.giqe == GiqeSelection::giqe5) {
            giqe::Giqe5Inputs in;
            in.gsd_weighted_m = r.gsd_weighted_m;
            in.rer_weighted = r.rated_rer_weighted;
            in.snr = r.snr;
            in.elevation_deg = r.elevation_deg;
            in.measured_overshoot_h = ag.overshoot_h_gm;
            r.giqe5 = predict_with_rer_error(giqe::giqe5, in, &giqe::Giqe5Inputs::rer_weighted, rel_w);
        }
        if (all || params.giqe == GiqeSelection::giqe4) {
            giqe::Giqe4Inputs in;
            in.gsd_ground_m = r.gsd_ground_m;
            in.rer = r.rated_rer_gm;
            in.overshoot_h = ag.overshoot_h_gm;
            in.noise_gain_g = 1.0;
            in.snr = r.snr;
            in.elevation_deg = r.elevation_deg;
            r.giqe4 = predict_with_rer_error(giqe::giqe4, in, &giqe::Giqe4Inputs::rer, rel_gm);
        }
        if (all || params.giqe == GiqeSelection::giqe3) {
            giqe::Giqe3Inputs in;
            in.gsd_normal_m = r.gsd_normal_m;
            in.rer = r.rated_rer_gm;
            in.overshoot_h = ag.overshoot_h_gm;
            in.noise_gain_g = 1.0;
            in.snr = r.snr;
            r.giqe3 = predict_with_rer_error(giqe::giqe3, in, &giqe::Giqe3Inputs::rer, rel_gm);
        }
        if (r.giqe4 || r.giqe3)
            r.warnings.push_back("GIQE 3/4 are fed the measured (un-sharpened) RER and H with G = 1");
    }

    // No usable edges: GIQE 5 over the RER range such imagery has ("estimated from GSD alone").
    if (!ag.usable && r.snr > 0) estimate_from_gsd_alone(r, params);

    // Interpretability from the primary NIIRS (GIQE 5 unless only 3 or 4 was asked for), with its
    // uncertainty: the equation's standard error and the measured RER's, combined in quadrature.
    const giqe::NiirsPrediction* primary = r.giqe5 ? &*r.giqe5 : r.giqe4 ? &*r.giqe4 : r.giqe3 ? &*r.giqe3 : nullptr;
    if (primary) {
        interpret::ImageQuality q;
        q.niirs = primary->value;
        q.niirs_sigma = std::hypot(primary->standard_error.value_or(0.0), primary->rer_measurement_error.value_or(0.0));
        q.equation = primary == &*r.giqe5 ? "GIQE 5" : primary == &*r.giqe4 ? "GIQE 4" : "GIQE 3";
        q.gsd_m = r.gsd_ground_m;  // the product GSD, or the effective GSD of an upsampled image
        if (ag.usable) {
            q.basis = "measured edges";
            q.rer = r.rated_rer_gm;
            const double mx = ag.x.count ? ag.x.mtf50_cyc_per_px.median : ag.y.mtf50_cyc_per_px.median;
            const double my = ag.y.count ? ag.y.mtf50_cyc_per_px.median : ag.x.mtf50_cyc_per_px.median;
            // MTF50 in cycles per rated pixel: an effective pixel spans `factor` product pixels.
            const double kx = r.rated_on_effective_gsd ? r.sampling.x.factor : 1.0;
            const double ky = r.rated_on_effective_gsd ? r.sampling.y.factor : 1.0;
            if (mx > 0 && my > 0) q.mtf50_cyc_per_px = std::sqrt(mx * kx * my * ky);
        } else {
            q.basis = "estimated from GSD alone";
        }
        std::vector<interpret::Target> targets = interpret::target_catalogue();
        targets.insert(targets.end(), params.extra_targets.begin(), params.extra_targets.end());
        r.interpretation = interpret::interpret_image(q, targets, interpret::parse_rule(params.resolution_rule));
    }
    r.runstats.push_back({"niirs", seconds_since(t)});
    return r;
}

namespace {
// rer.robustness in the JSON (docs/schema.md).
nlohmann::json robustness_json(const EdgeRobustness& rb) {
    using nlohmann::json;
    auto half = [](const EdgeSubsetRer& h) {
        const bool have = h.x_count + h.y_count > 0;  // an empty half has no RER (null, not 0)
        return json{{"geometric_mean", have ? json(h.rer_gm) : json(nullptr)},
                    {"standard_error", have ? json(h.standard_error) : json(nullptr)},
                    {"x_edges", h.x_count},
                    {"y_edges", h.y_count}};
    };
    auto diff = [](const EdgeSplit& sp) { return sp.compared ? json(sp.difference) : json(nullptr); };
    auto diff_se = [](const EdgeSplit& sp) { return sp.compared ? json(sp.standard_error) : json(nullptr); };
    auto chance = [](const EdgeSplit& sp) {
        return sp.compared && sp.random_splits > 0 ? json{{"random_splits", sp.random_splits},
                                                          {"median_abs_difference", sp.random_median_abs_difference},
                                                          {"p90_abs_difference", sp.random_p90_abs_difference},
                                                          {"p_value", sp.p_value}}
                                                   : json(nullptr);
    };
    return json{{"max_single_edge_change", rb.max_edge_change},
                {"max_single_object_change", rb.max_object_change},
                {"objects", rb.objects},
                {"largest_object_edges", rb.largest_object_edges},
                {"object_gap_px", rb.object_gap_px},
                {"most_influential_object",
                 rb.max_object_edges > 0
                     ? json{{"x_px", rb.max_object_x_px}, {"y_px", rb.max_object_y_px}, {"edges", rb.max_object_edges}}
                     : json(nullptr)},
                {"halves",
                 {{"top", half(rb.top_bottom.first)},
                  {"bottom", half(rb.top_bottom.second)},
                  {"left", half(rb.left_right.first)},
                  {"right", half(rb.left_right.second)},
                  {"bottom_minus_top", diff(rb.top_bottom)},
                  {"bottom_minus_top_standard_error", diff_se(rb.top_bottom)},
                  {"right_minus_left", diff(rb.left_right)},
                  {"right_minus_left_standard_error", diff_se(rb.left_right)},
                  {"top_bottom_chance", chance(rb.top_bottom)},
                  {"left_right_chance", chance(rb.left_right)}}}};
}
}  // namespace

nlohmann::json to_json(const AssessResult& r, bool include_edges) {
    using nlohmann::json;
    const EdgeAggregate& ag = r.edges.aggregate;
    // Absent values are null, never 0: an axis without usable edges has no statistics.
    auto opt = [](bool have, double v) { return have ? json(v) : json(nullptr); };
    auto axis = [&](const EdgeAxisSummary& s) {
        if (s.count == 0)
            return json{
                {"count", 0},         {"rer", nullptr},         {"mtf50_cyc_per_px", nullptr}, {"mtf_nyquist", nullptr},
                {"fwhm_px", nullptr}, {"overshoot_h", nullptr}, {"mtf50_cyc_per_m", nullptr},  {"mtf_curve", nullptr}};
        return json{{"count", s.count},
                    {"rer",
                     [&] {
                         json j = stat_json(s, &EdgeAxisSummary::rer);
                         j["standard_error"] = s.rer.standard_error;
                         j["tau"] = s.rer_tau;
                         return j;
                     }()},
                    {"mtf50_cyc_per_px", stat_json(s, &EdgeAxisSummary::mtf50_cyc_per_px)},
                    {"mtf_nyquist", stat_json(s, &EdgeAxisSummary::mtf_nyquist)},
                    {"fwhm_px", stat_json(s, &EdgeAxisSummary::fwhm_px)},
                    {"overshoot_h", stat_json(s, &EdgeAxisSummary::overshoot_h)},
                    {"mtf50_cyc_per_m", s.mtf50_cyc_per_m},
                    {"mtf_curve", mtf_curve_json(s)}};
    };
    const bool hx = ag.x.count > 0, hy = ag.y.count > 0;
    json gsd = to_json(r.gsd);
    gsd["ground_m"] = r.gsd_ground_m;
    gsd["normal_m"] = r.gsd_normal_m;
    gsd["weighted_m"] = r.gsd_weighted_m;
    // Effective resolution: the sampling the image's content supports (docs/schema.md).
    auto axis_sampling = [](const SamplingEstimate::Axis& a) {
        return json{{"factor", a.factor},
                    {"upsampled", a.upsampled},
                    {"cutoff_cyc_per_px", a.cutoff_cyc_per_px},
                    {"evidence", a.evidence},
                    {"period_cyc_per_px", a.period_cyc_per_px},
                    {"drop_db", a.drop_db}};
    };
    gsd["effective"] = {{"x_m", r.effective_gsd_x_m},
                        {"y_m", r.effective_gsd_y_m},
                        {"mean_m", std::sqrt(r.effective_gsd_x_m * r.effective_gsd_y_m)},
                        {"upsampled", r.sampling.valid && (r.sampling.x.upsampled || r.sampling.y.upsampled)},
                        {"rated_on_effective_gsd", r.rated_on_effective_gsd},
                        {"valid", r.sampling.valid},
                        {"x", axis_sampling(r.sampling.x)},
                        {"y", axis_sampling(r.sampling.y)},
                        {"message", r.sampling.message},
                        {"method", r.sampling.method}};
    json reasons = json::object();
    for (std::size_t i = 0; i < kEdgeVerdictCount; ++i)
        if (!is_usable(static_cast<EdgeVerdict>(i)) && ag.verdict_counts[i] > 0)
            reasons[to_string(static_cast<EdgeVerdict>(i))] = ag.verdict_counts[i];
    json edges = {{"candidates", r.edges.candidates},
                  {"analysed", ag.analysed},
                  {"used", ag.usable_count},
                  {"rejected", ag.analysed - ag.usable_count},
                  {"rejection_reasons", reasons},
                  {"message", ag.message},
                  {"x", axis(ag.x)},
                  {"y", axis(ag.y)}};
    if (include_edges) {
        json recs = json::array();
        for (const auto& e : r.edges.edges)
            recs.push_back({{"verdict", to_string(e.verdict)},
                            {"reason", e.reason},
                            {"axis", to_string(e.axis)},
                            {"x0_px", e.segment.x0_px},
                            {"y0_px", e.segment.y0_px},
                            {"x1_px", e.segment.x1_px},
                            {"y1_px", e.segment.y1_px},
                            {"angle_deg", e.angle_deg},
                            {"slant_deg", e.slant_deg},
                            {"length_px", e.length_px},
                            {"roi_half_width_px", e.roi_half_width_px},
                            {"rise_10_90_px", e.rise_10_90_px},
                            {"contrast_dn", e.contrast_dn},
                            {"contrast_to_noise", e.contrast_to_noise},
                            {"rer", e.rer},
                            {"rer_standard_error", e.rer_standard_error},
                            {"overshoot_h", e.overshoot_h},
                            {"fwhm_px", e.fwhm_px},
                            {"mtf50_cyc_per_px", e.mtf50_cyc_per_px},
                            {"mtf50_cyc_per_m", e.mtf50_cyc_per_m},
                            {"mtf_nyquist", e.mtf_nyquist},
                            {"quality", e.quality}});
        edges["records"] = recs;
    }
    auto curve = [](const NoiseEstimate& ne) {
        json c = json::array();
        for (const auto& b : ne.bands)
            c.push_back({{"signal_lo_dn", b.signal_lo_dn},
                         {"signal_hi_dn", b.signal_hi_dn},
                         {"mean_signal_dn", b.mean_signal_dn},
                         {"sigma_dn", b.sigma_dn},
                         {"pixels", b.pixels}});
        return c;
    };
    json niirs = json::object();
    niirs["giqe5"] = r.giqe5 ? prediction_json(*r.giqe5) : json(nullptr);
    if (r.giqe5) {
        niirs["giqe5"]["basis"] = r.gsd_alone ? "estimated from GSD alone" : "measured edges";
        niirs["giqe5"]["interval"] = json(nullptr);
        if (r.gsd_alone) {
            niirs["giqe5"]["rer_measurement_error"] = nullptr;
            niirs["giqe5"]["interval"] = {{"niirs_low", r.gsd_alone->niirs_low},
                                          {"niirs_high", r.gsd_alone->niirs_high},
                                          {"rer_low", r.gsd_alone->rer_low},
                                          {"rer_high", r.gsd_alone->rer_high},
                                          {"rer_range_source", r.gsd_alone->rer_range_source}};
        }
    }
    niirs["giqe4"] = r.giqe4 ? prediction_json(*r.giqe4) : json(nullptr);
    niirs["giqe3"] = r.giqe3 ? prediction_json(*r.giqe3) : json(nullptr);
    const json interp = r.interpretation ? interpret::to_json(*r.interpretation) : json(nullptr);
    json runstats = json::object();
    for (const auto& s : r.runstats)
        runstats[s.stage + "_s"] = s.seconds;
    json rob = robustness_json(r.robustness);
    if (!ag.usable)
        for (const char* k : {"max_single_edge_change", "max_single_object_change"})
            rob[k] = nullptr;
    return {
        {"file", r.file.string()},
        {"status", "ok"},
        {"width_px", r.width},
        {"height_px", r.height},
        {"band_used", r.band_used},
        {"gsd", gsd},
        {"geometry", {{"elevation_deg", r.elevation_deg}, {"elevation_source", r.elevation_source}}},
        {"rer",
         {{"x", opt(hx, ag.x.rer.median)},
          {"y", opt(hy, ag.y.rer.median)},
          {"x_standard_error", opt(hx, ag.x.rer.standard_error)},
          {"y_standard_error", opt(hy, ag.y.rer.standard_error)},
          {"geometric_mean", opt(ag.usable, ag.rer_gm)},
          {"weighted", opt(ag.usable, ag.rer_weighted)},
          {"single_axis", ag.single_axis},
          {"rated_geometric_mean", opt(r.rated_rer_gm > 0, r.rated_rer_gm)},
          {"rated_weighted", opt(r.rated_rer_weighted > 0, r.rated_rer_weighted)},
          {"robustness", rob}}},
        {"mtf50_cyc_per_px",
         {{"x", opt(hx, ag.x.mtf50_cyc_per_px.median)}, {"y", opt(hy, ag.y.mtf50_cyc_per_px.median)}}},
        {"mtf50_cyc_per_m", {{"x", opt(hx, ag.x.mtf50_cyc_per_m)}, {"y", opt(hy, ag.y.mtf50_cyc_per_m)}}},
        {"mtf_nyquist", {{"x", opt(hx, ag.x.mtf_nyquist.median)}, {"y", opt(hy, ag.y.mtf_nyquist.median)}}},
        {"fwhm_px", {{"x", opt(hx, ag.x.fwhm_px.median)}, {"y", opt(hy, ag.y.fwhm_px.median)}}},
        {"overshoot_h",
         {{"x", opt(hx, ag.x.overshoot_h.median)},
          {"y", opt(hy, ag.y.overshoot_h.median)},
          {"geometric_mean", opt(ag.usable, ag.overshoot_h_gm)}}},
        {"noise",
         {{"sigma_dn", opt(r.noise_sigma_dn > 0, r.noise_sigma_dn)},
          {"method", r.noise_method == "pca"
                         ? "weak-texture patches and PCA (Liu, Tanaka & Okutomi 2013); sigma_dn is read from its "
                           "noise-versus-signal curve at the 15 % reflectance level, scaled down to the power in the "
                           "spectrum's Nyquist corner (Welch 1967) where that is lower (capped_by_spectrum)"
                         : "Immerkaer (1996) with the top 10 % Sobel gradients masked (Tai & Yang 2008), the PCA "
                           "estimate having failed; sigma_dn is read at the 15 % reflectance level"},
          {"estimator", r.noise_method},
          {"pooled_sigma_dn", opt(r.noise_pca.valid, r.noise_pca.sigma_dn)},
          {"pixels_used", r.noise_pca.pixels_used},
          {"curve", curve(r.noise_pca)},
          {"spectral_corner_sigma_dn", r.noise_spectral.valid ? json(r.noise_spectral.sigma_dn) : json(nullptr)},
          {"capped_by_spectrum", r.noise_capped_by_spectrum},
          {"immerkaer",
           {{"sigma_dn", opt(r.noise_immerkaer_sigma_dn > 0, r.noise_immerkaer_sigma_dn)},
            {"pooled_sigma_dn", opt(r.noise.valid, r.noise.sigma_dn)},
            {"sigma_at_median_signal_dn", opt(r.noise.valid, r.noise.sigma_at_median_signal_dn)},
            {"pixels_used", r.noise.pixels_used},
            {"curve", curve(r.noise)}}}}},
        {"snr", r.snr > 0 ? json(r.snr) : json(nullptr)},
        {"snr_source", r.snr_source},
        {"radiometry", r.radiometry ? json{{"signal_difference_dn", r.radiometry->signal_difference_dn},
                                           {"level_07_dn", r.radiometry->level_07_dn},
                                           {"level_15_dn", r.radiometry->level_15_dn},
                                           {"assumption", r.radiometry->assumption}}
                                    : json(nullptr)},
        {"niirs", niirs},
        {"interpretability", interp},
        {"edges", edges},
        {"bands", detail::bands_json(r)},
        {"saturation_dn", r.saturation_dn},
        {"warnings", r.warnings},
        {"runstats", runstats}};
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
    s += fmt::format("  noise {:.3f} DN ({}; Immerkaer {:.3f} DN), SNR {} ({})\n", r.noise_sigma_dn, r.noise_method,
                     r.noise_immerkaer_sigma_dn, r.snr > 0 ? fmt::format("{:.1f}", r.snr) : "n/a", r.snr_source);
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
        if (p->standard_error) err += fmt::format(" +/- {:.2f}", *p->standard_error);
        if (p->standard_error && p->rer_measurement_error) err += " (equation)";
        if (p->rer_measurement_error) err += fmt::format(" +/- {:.2f} (measured RER)", *p->rer_measurement_error);
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
                "{:.4f},{:.5f},{:.5f},{:.5f},{:.4f},{:.5f},{:.6g},{:.5f},{:.4f},\"{}\"\n",
                r.file.string(), i++, to_string(e.verdict), to_string(e.axis), e.segment.x0_px, e.segment.y0_px,
                e.segment.x1_px, e.segment.y1_px, e.angle_deg, e.slant_deg, e.length_px, e.dark_dn, e.bright_dn,
                e.contrast_dn, e.contrast_to_noise, e.line_rms_px, e.rer, e.rer_standard_error, e.overshoot_h,
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
