// `satiq assess`, the measurement: detail::assess_image and its stages (assess.cpp holds the entry
// point and the text, CSV and plot writers; assess_json.cpp the JSON).
#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <tuple>

#include <fmt/format.h>

#include <ogrsf_frmts.h>

#include "assess_detail.hpp"
#include "clock.hpp"
#include "satiq/kernels/blur.hpp"
#include "satiq/kernels/noise_estimate.hpp"
#include "satiq/kernels/noise_pca.hpp"
#include "satiq/kernels/noise_spectral.hpp"
#include "satiq/kernels/statistics.hpp"
#include "satiq/pipeline/io/measured_band.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/sensor.hpp"

namespace fs = std::filesystem;

namespace satiq {

namespace {

using detail::Clock;
using detail::seconds_since;

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
    // The range checks (giqe.hpp) of the value given, the interval's midpoint.
    hi.warnings = giqe::giqe5_input_warnings(in);
    if (auto w = giqe::niirs_scale_warning(hi.value, "GIQE 5 NIIRS (estimated from GSD alone)"))
        hi.warnings.push_back(*w);
    r.giqe5 = hi;
    r.warnings.push_back(
        fmt::format("NIIRS {:.2f} to {:.2f} estimated from GSD alone: GSD {:.3g} m and SNR {:.1f} with RER "
                    "{:.2f}-{:.2f} ({})",
                    e.niirs_low, e.niirs_high, r.gsd_weighted_m, r.snr, e.rer_low, e.rer_high, e.rer_range_source));
    r.gsd_alone = e;
}

// ---- the stages of assess_image, in order -------------------------------------------------

// The raster's size (refused before a pixel is read when over --max-pixels: the band is held in
// memory whole), georeferencing, acquisition metadata and GSD.
void describe_raster(AssessResult& r, const fs::path& path, const RasterInfo& info, const AssessParams& params) {
    r.width = info.width;
    r.height = info.height;
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
}

// Ground-plane, normal-plane and weighted GSD from the ground GSD and the elevation. The product
// GSD is taken as the ground-plane GSD (orthorectified products resample to a ground grid)
// (GIQE 4: Leachtenauer et al., Appl. Opt. 36(32), 1997; GIQE 5: NGA, 2015).
void set_gsd_planes(AssessResult& r, double ground_m) {
    const double sin_el = std::sin(r.elevation_deg * std::numbers::pi / 180);
    r.gsd_ground_m = ground_m;
    r.gsd_normal_m = r.gsd_ground_m * std::sqrt(sin_el);
    r.gsd_weighted_m = r.gsd_normal_m / std::pow(sin_el, 0.25);
}

// Geometry: elevation from the user, the metadata, a catalog, or nadir with a warning.
void resolve_look_geometry(AssessResult& r, const AssessParams& params) {
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
    } else if (params.elevation_fallback_deg && *params.elevation_fallback_deg > 0 &&
               *params.elevation_fallback_deg <= 90) {
        r.elevation_deg = *params.elevation_fallback_deg;
        r.elevation_source = params.elevation_fallback_source.empty() ? "catalog" : params.elevation_fallback_source;
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
    set_gsd_planes(r, r.gsd.mean_m);
}

// Effective resolution: an image interpolated from a coarser grid is rated on the GSD of that
// grid (its pixels carry no detail finer than it).
void rate_sampling(AssessResult& r, ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                   const AssessParams& params) {
    r.sampling = estimate_sampling(image, mask);
    keep_confirmed_upsampling(r.sampling);  // blur.hpp: a period alone is only noted
    if (!(r.sampling.valid && (r.sampling.x.upsampled || r.sampling.y.upsampled))) {
        r.effective_gsd_x_m = r.gsd.x_m;
        r.effective_gsd_y_m = r.gsd.y_m;
        return;
    }
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
    if (r.rated_on_effective_gsd) set_gsd_planes(r, eff_mean);
}

// Noise. Two estimators: Immerkaer's (structure-masked) one drives the edge analysis's
// thresholds; the SNR divides by the texture-robust PCA estimate (weak-texture patches), which
// textured scenes inflate far less.
void measure_noise(AssessResult& r, const MaskedImage& img, ConstImageView<std::uint8_t> mask) {
    r.noise = estimate_noise(img.pixels.view(), mask);
    NoisePcaParams pca;
    pca.max_patches = kNoisePcaPatches;
    if (!r.rated_on_effective_gsd) {
        r.noise_pca = estimate_noise_pca(img.pixels.view(), mask, pca);
        r.noise_spectral = estimate_noise_spectral(img.pixels.view(), mask);
        return;
    }
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
}

// The noise at the 15 % reflectance level of the scene's radiometry (a response recorded in the
// file, or the percentile convention), from the PCA curve (Immerkaer's if the PCA failed).
void noise_at_reference_level(AssessResult& r, const NoiseEstimate& for_snr, ConstImageView<float> image,
                              ConstImageView<std::uint8_t> mask, const RasterInfo& info,
                              const std::vector<std::pair<int, double>>& band_weights) {
    r.noise_sigma_dn = for_snr.sigma_dn;
    r.noise_immerkaer_sigma_dn = r.noise.valid ? r.noise.sigma_dn : 0.0;
    const ImageStats stats = compute_stats(image, mask);
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

// SNR: the user's, or the scene's signal difference over the noise at the 15 % level.
void measure_snr(AssessResult& r, ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                 const RasterInfo& info, const std::vector<std::pair<int, double>>& band_weights,
                 const AssessParams& params) {
    const NoiseEstimate& for_snr = r.noise_pca.valid ? r.noise_pca : r.noise;
    r.noise_method = r.noise_pca.valid ? "pca" : "immerkaer";
    if (!r.noise_pca.valid && r.noise.valid)
        r.warnings.push_back("the PCA noise estimate failed (" + r.noise_pca.message +
                             "): the SNR uses Immerkaer's estimate");
    if (for_snr.valid) noise_at_reference_level(r, for_snr, image, mask, info, band_weights);
    if (params.snr) {
        if (!(*params.snr > 0)) throw Error(fmt::format("--snr must be positive (got {})", *params.snr));
        r.snr = *params.snr;
        r.snr_source = "user";
    } else if (r.radiometry && r.noise_sigma_dn > 0) {
        r.snr = r.radiometry->signal_difference_dn / r.noise_sigma_dn;
        r.snr_source = "measured";
    } else {
        r.snr_source = "unavailable";
        if (!for_snr.valid)
            r.warnings.push_back("noise could not be estimated (" + for_snr.message + "): give --snr");
        else if (!r.radiometry)
            r.warnings.push_back("the scene has no dynamic range: SNR unavailable (give --snr)");
        else
            r.warnings.push_back(
                "the image shows no noise (a noise-free synthetic or a heavily smoothed product): SNR unbounded, "
                "unavailable (give --snr)");
    }
}

// Edges: the user's regions (--roi, --roi-lines) or the automatic search, then e-SFR on each and
// the aggregate (the same parameters as measure_blur, blur.hpp).
void measure_edges(AssessResult& r, ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                   const RasterInfo& info, const AssessParams& params) {
    BlurOptions bo;
    bo.gsd_x_m = r.gsd.x_m;
    bo.gsd_y_m = r.gsd.y_m;
    bo.saturation_dn = r.saturation_dn;
    bo.roi_half_width_px = params.roi_half_width_px;
    bo.keep_profiles = true;  // the MTF curves feed edges.x/y.mtf_curve; ESF and LSF only the plots
    const EdgeSfrParams sfr = blur_sfr_params(bo, r.noise);
    std::vector<EdgeRoi> rois = params.rois;
    if (params.roi_lines) {
        auto lines = read_roi_lines(*params.roi_lines, info, params.roi_half_width_px);
        rois.insert(rois.end(), lines.begin(), lines.end());
    }
    if (!rois.empty()) {
        r.edges = analyse_edge_rois(image, mask, rois, sfr);
    } else {
        EdgeFindParams fp;
        fp.noise_sigma_dn = sfr.noise_sigma_dn;
        fp.saturation_dn = r.saturation_dn;
        r.edges = analyse_edges(image, mask, fp, sfr);
    }
    if (!params.keep_profiles)
        for (EdgeMeasurement& e : r.edges.edges) {
            e.esf = {};
            e.lsf = {};
        }
}

// Robustness of the aggregate: does the result hang on one edge, one object or one half?
void warn_about_robustness(AssessResult& r) {
    r.robustness = edge_robustness(r.edges.edges, r.width, r.height);
    if (!r.edges.aggregate.usable) return;
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
        const std::string halves = fmt::format("{} {:.3f} +/- {:.3f} ({}) against {} {:.3f} +/- {:.3f} ({})", a,
                                               sp->first.rer_gm, sp->first.standard_error, edges_text(sp->first), b,
                                               sp->second.rer_gm, sp->second.standard_error, edges_text(sp->second));
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

// Few edges: the between-edge spread of real scenes (tau 0.05-0.15 RER) cannot be estimated from
// fewer than 3, and the median then rests on one or two objects.
void warn_about_few_edges(AssessResult& r, const EdgeAggregate& ag) {
    if (ag.single_axis)
        r.warnings.push_back("usable edges along one axis only: that axis stands for both in the RER means");
    for (const auto& [name, s] : {std::pair{"x", &ag.x}, std::pair{"y", &ag.y}})
        if (s->count > 0 && s->count < 3)
            r.warnings.push_back(
                fmt::format("only {} usable edge{} along {}: RER {} {:.3f} +/- {:.3f} rests on {} and is "
                            "not reliable",
                            s->count, s->count == 1 ? "" : "s", name, name, s->rer.median, s->rer.standard_error,
                            s->count == 1 ? "one object" : "two objects"));
}

// The RER on the grid the image is rated on: the measured one, or, for an upsampled image rated
// on its effective GSD, the same edges read on pixels `factor` times wider.
void rate_rer(AssessResult& r, const EdgeAggregate& ag) {
    r.rated_rer_gm = ag.rer_gm;
    r.rated_rer_weighted = ag.rer_weighted;
    if (r.rated_on_effective_gsd) {
        const double rx = rer_on_coarser_grid(ag.x.count ? ag.x.rer.median : ag.y.rer.median, r.sampling.x.factor);
        const double ry = rer_on_coarser_grid(ag.y.count ? ag.y.rer.median : ag.x.rer.median, r.sampling.y.factor);
        r.rated_rer_gm = std::sqrt(rx * ry);
        r.rated_rer_weighted = giqe::rer_weighted(rx, ry);
    }
}

// GIQE 5, 4 and 3 (as selected) from the measured edges, each with the NIIRS spread of the RER's
// standard error.
void predict_giqe(AssessResult& r, const EdgeAggregate& ag, const AssessParams& params) {
    const bool all = params.giqe == GiqeSelection::all;
    // Relative standard errors of the RER means (first-order propagation of the axes'
    // standard errors, taken as independent): gm = sqrt(x y) gives sqrt((rel_x / 2)^2 +
    // (rel_y / 2)^2), weighted = (hi lo^2)^(1/3) gives sqrt((rel_hi / 3)^2 + (2 rel_lo / 3)^2).
    // One axis standing for both is fully correlated with itself: its own relative error.
    auto rel = [](const EdgeAxisSummary& a) { return a.rer.median > 0 ? a.rer.standard_error / a.rer.median : 0.0; };
    const EdgeAxisSummary& only = ag.x.count ? ag.x : ag.y;
    const bool x_is_lo = ag.x.rer.median <= ag.y.rer.median;
    const double rel_lo = rel(x_is_lo ? ag.x : ag.y), rel_hi = rel(x_is_lo ? ag.y : ag.x);
    const double rel_gm = ag.single_axis ? rel(only) : 0.5 * std::hypot(rel_lo, rel_hi);
    const double rel_w = ag.single_axis ? rel(only) : std::hypot(rel_hi / 3.0, 2.0 * rel_lo / 3.0);
    if (all || params.giqe == GiqeSelection::giqe5) {
        giqe::Giqe5Inputs in;
        in.gsd_weighted_m = r.gsd_weighted_m;
        in.rer_weighted = r.rated_rer_weighted;
        in.snr = r.snr;
        in.elevation_deg = r.elevation_deg;
        // The overshoot most edges reach (Giqe5Inputs::measured_overshoot_h): the lower quartile
        // of H on each axis with at least 3 edges, one such axis standing for both.
        {
            const auto lower = [](const EdgeAxisSummary& a) {
                return a.count >= 3 ? std::optional<double>(a.overshoot_h.q1) : std::nullopt;
            };
            const std::optional<double> hx = lower(ag.x), hy = lower(ag.y);
            if (hx && hy)
                in.measured_overshoot_h = std::sqrt(std::max(0.0, *hx) * std::max(0.0, *hy));
            else if (hx || hy)
                in.measured_overshoot_h = hx ? *hx : *hy;
        }
        // The measured axes, for the range checks (giqe.hpp): an RER above 1 or an MTF50 above
        // Nyquist shows sharpening even where the weighted RER stays below 1.
        if (ag.x.count > 0) {
            in.rer_x = ag.x.rer.median;
            in.mtf50_x_cyc_per_px = ag.x.mtf50_cyc_per_px.median;
        }
        if (ag.y.count > 0) {
            in.rer_y = ag.y.rer.median;
            in.mtf50_y_cyc_per_px = ag.y.mtf50_cyc_per_px.median;
        }
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
    if (r.giqe4 || r.giqe3) r.warnings.push_back("GIQE 3/4 are fed the measured (un-sharpened) RER and H with G = 1");
}

// NIIRS: from the measured edges; without usable edges GIQE 5 over the RER range such imagery
// has ("estimated from GSD alone"); none without an SNR.
void predict_niirs(AssessResult& r, const AssessParams& params) {
    const EdgeAggregate& ag = r.edges.aggregate;
    if (!ag.usable) {
        const std::string why = ag.message.empty() ? std::string("no usable edges") : ag.message;
        r.warnings.push_back(r.snr > 0 ? "no measured RER (" + why + "): NIIRS estimated from GSD alone"
                                       : "no NIIRS: " + why + ", and no SNR (give --snr)");
    } else if (r.snr <= 0) {
        r.warnings.push_back("no NIIRS: no SNR (give --snr)");
    } else {
        warn_about_few_edges(r, ag);
        rate_rer(r, ag);
        predict_giqe(r, ag, params);
    }
    if (!ag.usable && r.snr > 0) estimate_from_gsd_alone(r, params);
}

// Interpretability from the primary NIIRS (GIQE 5 unless only 3 or 4 was asked for), with its
// uncertainty: the equation's standard error and the measured RER's, combined in quadrature.
void interpret_quality(AssessResult& r, const AssessParams& params) {
    const giqe::NiirsPrediction* primary = r.giqe5 ? &*r.giqe5 : r.giqe4 ? &*r.giqe4 : r.giqe3 ? &*r.giqe3 : nullptr;
    if (!primary) return;
    const EdgeAggregate& ag = r.edges.aggregate;
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

}  // namespace

// read -> look geometry -> sampling (effective GSD) -> noise -> SNR -> edges (and their
// robustness) -> NIIRS -> interpretability; each timed stage adds a runstats entry.
AssessResult detail::assess_image(const fs::path& path, const AssessParams& params) {
    AssessResult r;
    r.file = path;
    auto t = Clock::now();
    Raster raster = Raster::open(path);
    const RasterInfo& info = raster.info();
    describe_raster(r, path, info, params);
    // The band measured: one band, or the luminance of an RGB image (Rec. 601 weights).
    const MeasuredBand band = read_measured_band(raster, path, params.band, params.all_bands);
    r.band_used = band.description;
    r.saturation_dn = band.saturation_dn;
    r.warnings.insert(r.warnings.end(), band.warnings.begin(), band.warnings.end());
    const ConstImageView<float> image = band.image.pixels.view();
    const ConstImageView<std::uint8_t> mask = band.mask();
    r.runstats.push_back({"read", seconds_since(t)});

    resolve_look_geometry(r, params);

    t = Clock::now();
    rate_sampling(r, image, mask, params);
    r.runstats.push_back({"sampling", seconds_since(t)});

    t = Clock::now();
    measure_noise(r, band.image, mask);
    r.runstats.push_back({"noise", seconds_since(t)});
    measure_snr(r, image, mask, info, band.weights, params);

    t = Clock::now();
    measure_edges(r, image, mask, info, params);
    warn_about_robustness(r);
    r.runstats.push_back({"edges", seconds_since(t)});

    t = Clock::now();
    predict_niirs(r, params);
    interpret_quality(r, params);
    r.runstats.push_back({"niirs", seconds_since(t)});
    return r;
}

}  // namespace satiq
