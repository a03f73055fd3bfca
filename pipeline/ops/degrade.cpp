// `satiq degrade`: plan, stream and write (degrade_psf.cpp builds the PSF).
#include "satiq/pipeline/ops/degrade.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <new>

#include <fmt/format.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include "degrade_detail.hpp"
#include "satiq/kernels/blur.hpp"
#include "satiq/kernels/convolve.hpp"
#include "satiq/kernels/noise.hpp"
#include "satiq/kernels/noise_estimate.hpp"
#include "satiq/kernels/noise_pca.hpp"
#include "satiq/kernels/parallel.hpp"
#include "satiq/kernels/resample.hpp"
#include "satiq/kernels/statistics.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/io/measured_band.hpp"
#include "satiq/pipeline/io/memory.hpp"
#include "satiq/pipeline/model/predict.hpp"
#include "satiq/pipeline/model/radiometry.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/version.hpp"

namespace satiq {

namespace {

using detail::build_psf;
using detail::DegradeTarget;
using detail::Psf;

constexpr std::int64_t kStatsSidePx = 2048;  // decimated sample for statistics and noise
// --measure-input holds the measured band in memory: the limit assess puts on it by default.
constexpr std::uint64_t kMeasureInputMaxPixels = 130'000'000;

DegradeTarget resolve_target(const DegradeParams& p) {
    DegradeTarget t;
    if (p.sensor && p.target_gsd_m) throw UsageError("degrade: give either --sensor or --target-gsd-m, not both");
    if (p.sensor) {
        if (p.mtf_nyquist || p.sigma_px)
            throw UsageError(
                "degrade: --mtf-nyquist and --sigma-px belong to the simple form (--target-gsd-m); a preset "
                "sensor brings its own optics");
        const sensor::SensorPreset* found = nullptr;
        try {
            found = &sensor::find_sensor_preset(*p.sensor);
        } catch (const UsageError&) {
            throw;
        } catch (const Error& e) {
            throw UsageError(e.what());
        }
        const sensor::SensorPreset& preset = *found;
        sensor::SensorDescription d = p.sensor_description ? *p.sensor_description : preset.description;
        if (p.off_nadir_deg) {
            d.off_nadir_deg = *p.off_nadir_deg;
            d.elevation_deg.reset();
        }
        if (p.snr) {
            d.snr = *p.snr;
            d.radiometry.reset();
        }
        try {
            t.model = sensor::SensorModel::physical(d);
        } catch (const Error& e) {
            throw UsageError(fmt::format("degrade: {}", e.what()));  // an override out of range
        }
        t.altitude_m = d.altitude_m;
        t.gsd_m = t.model->gsd_m();
        t.snr = t.model->figures().snr;
        t.noise_model = NoiseModel::shot_read;
        t.read_noise_e = d.read_noise_e;
        t.description = fmt::format("{} preset (ground GSD {:.3f} m, Q {:.2f}, SNR {:.1f})", preset.display_name,
                                    t.gsd_m, t.model->figures().q, *t.snr);
        return t;
    }
    if (!p.sensor_overrides.empty() || p.sensor_description)
        throw UsageError("degrade: the sensor overrides (--aperture-m, ...) need --sensor NAME");
    if (!p.target_gsd_m) throw UsageError("degrade: give --sensor NAME or --target-gsd-m X");
    if (p.mtf_nyquist && p.sigma_px) throw UsageError("degrade: give --mtf-nyquist or --sigma-px, not both");
    sensor::SimpleSensorSpec s;
    s.gsd_m = *p.target_gsd_m;
    s.mtf_nyquist = p.mtf_nyquist;
    s.sigma_px = p.sigma_px;
    if (!s.mtf_nyquist && !s.sigma_px) s.sigma_px = 0.0;
    s.snr = p.snr.value_or(1e6);  // the model needs one; noise is added only when --snr is given
    t.model = as_usage_error([&] { return sensor::SensorModel::simple(s); });  // a value out of range
    t.gsd_m = s.gsd_m;
    t.snr = p.snr;
    t.noise_model = p.snr ? NoiseModel::gaussian : NoiseModel::none;
    t.description = fmt::format("simple sensor: GSD {} m, Gaussian sigma {:.3f} px (MTF at Nyquist {:.3f}){}", s.gsd_m,
                                *t.model->gaussian_sigma_px(), t.model->figures().x.mtf_nyquist,
                                p.snr ? fmt::format(", SNR {}", *p.snr) : std::string(", no noise"));
    return t;
}

// Output georeferencing: pixel size scaled by the ratios, same origin (same footprint).
GeoReference scale_georeference(const GeoReference& in, double rx, double ry) {
    GeoReference g = in;
    if (g.geotransform) {
        auto& gt = *g.geotransform;
        gt[1] *= rx;
        gt[4] *= rx;
        gt[2] *= ry;
        gt[5] *= ry;
    }
    for (auto& c : g.gcps) {
        c.pixel /= rx;
        c.line /= ry;
    }
    if (!g.rpc.empty()) {
        // RPC line/sample refer to pixel centres (RPC00B): in = r out + (r - 1) / 2, so the
        // normalization offsets and scales become (off - (r-1)/2) / r and scale / r.
        auto rescale = [&](const char* off_key, const char* scale_key, double r) {
            auto o = g.rpc.find(off_key), s = g.rpc.find(scale_key);
            if (o == g.rpc.end() || s == g.rpc.end()) return;
            o->second = fmt::format("{:.10g}", (std::atof(o->second.c_str()) - (r - 1) / 2) / r);
            s->second = fmt::format("{:.10g}", std::atof(s->second.c_str()) / r);
        };
        rescale("SAMP_OFF", "SAMP_SCALE", rx);
        rescale("LINE_OFF", "LINE_SCALE", ry);
    }
    return g;
}

DataType output_type_for(DataType in, std::optional<int> bits) {
    if (!bits) return in;
    if (*bits <= 8) return DataType::Byte;
    if (*bits <= 16) return DataType::UInt16;
    return DataType::UInt32;
}

// Electrons per DN such that the noise added at the 15 % level has variance `t` DN^2: shot noise
// on the level plus read noise, (L15 k + r^2) / k^2 = t (Leachtenauer et al., Appl. Opt. 36(32),
// 1997; R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010): the
// positive root of t k^2 - L15 k - r^2 = 0.
double electrons_per_dn_for_variance(double t, double level15_dn, double read_e) {
    const double l = std::max(level15_dn, 1e-9);
    return (l + std::sqrt(l * l + 4 * t * read_e * read_e)) / (2 * t);
}

struct Strip {
    std::int64_t index = 0;
    std::int64_t oy0 = 0, oy1 = 0;                // output rows
    std::int64_t cy0 = 0, cy1 = 0;                // rows the convolution produces (resample input)
    std::int64_t ry0 = 0, ry1 = 0;                // rows read
    std::vector<Image> in;                        // per band, rows [ry0, ry1)
    std::vector<std::vector<std::uint8_t>> mask;  // per band, empty = all valid
    std::vector<Image> out;                       // per band, output rows
};

// ---- plan before pixels -----------------------------------------------------------------

// The output may not be any file the input reads: the input itself, a VRT's sources, its
// sidecars (the link a symlinked output points to counts).
void refuse_output_over_input(const DegradeParams& p, const Raster& in) {
    if (is_vsi_path(p.output)) return;
    const std::filesystem::path out_file = resolve_output_target(p.output).path;
    std::error_code ec;
    if (std::filesystem::exists(out_file, ec))
        for (const std::string& f : in.file_list())
            if (std::filesystem::equivalent(f, out_file, ec))
                throw Error(fmt::format("{}: output would overwrite {}, which the input {} reads", p.output.string(), f,
                                        p.input.string()));
}

// Input GSD, target, the input-to-output pixel ratios and the output size.
Gsd plan_geometry(const DegradeParams& p, const DegradeTarget& target, const RasterInfo& info, DegradePlan& plan) {
    Gsd gsd = compute_gsd(info, p.gsd);
    plan.input_gsd_x_m = gsd.x_m;
    plan.input_gsd_y_m = gsd.y_m;
    plan.target_description = target.description;
    if (target.altitude_m) {
        const auto& f = target.model->figures();
        plan.view_altitude_m = target.altitude_m;
        plan.view_off_nadir_deg = f.off_nadir_deg;
        plan.view_elevation_deg = f.elevation_deg;
    }
    plan.sensor_overrides = p.sensor_overrides;
    if (p.sensor)  // the preset's SNR kept while the overrides change the light (as predict says)
        if (auto w = fixed_snr_warning(*target.model, *p.sensor)) plan.warnings.push_back(std::move(*w));
    plan.target_gsd_m = target.gsd_m;
    plan.ratio_x = target.gsd_m / gsd.x_m;
    plan.ratio_y = target.gsd_m / gsd.y_m;
    if (plan.ratio_x < 1 - 1e-9 || plan.ratio_y < 1 - 1e-9)
        throw Error(
            fmt::format("{}: the target GSD {:.4g} m is finer than the input GSD {:.4g} x {:.4g} m: degrade "
                        "only simulates coarser sensors",
                        p.input.string(), target.gsd_m, gsd.x_m, gsd.y_m));
    plan.ratio_x = std::max(1.0, plan.ratio_x);
    plan.ratio_y = std::max(1.0, plan.ratio_y);
    if (static_cast<double>(info.width) / plan.ratio_x < 1 || static_cast<double>(info.height) / plan.ratio_y < 1)
        throw Error(
            fmt::format("{}: the target GSD {:.4g} m is coarser than the whole image ({:.4g} x {:.4g} m): "
                        "the output would be under one pixel",
                        p.input.string(), target.gsd_m, gsd.x_m * static_cast<double>(info.width),
                        gsd.y_m * static_cast<double>(info.height)));
    plan.out_width = std::max<std::int64_t>(1, std::llround(static_cast<double>(info.width) / plan.ratio_x));
    plan.out_height = std::max<std::int64_t>(1, std::llround(static_cast<double>(info.height) / plan.ratio_y));
    if (gsd.method == "user") plan.assumptions.push_back("input GSD given by the user (--gsd-m)");
    return gsd;
}

// The band assess measures (band 1, or the luminance of an RGB image), its blur measured as
// assess measures it (blur.hpp). Errors name the input, as assess's do.
BlurMeasurement measure_input(const DegradeParams& p, const Raster& in, const Gsd& gsd) {
    try {
        const RasterInfo& info = in.info();
        const auto pixels = static_cast<std::uint64_t>(info.width) * static_cast<std::uint64_t>(info.height);
        if (pixels > kMeasureInputMaxPixels)
            throw Error(
                fmt::format("{}: {} x {} = {} pixels is over the limit of {} for --measure-input (it holds the band in "
                            "memory): give --input-sigma-px or --input-mtf-nyquist instead",
                            p.input.string(), info.width, info.height, pixels, kMeasureInputMaxPixels));
        const MeasuredBand band = read_measured_band(in, p.input, 0, false);
        BlurOptions bo;
        bo.gsd_x_m = gsd.x_m;
        bo.gsd_y_m = gsd.y_m;
        bo.saturation_dn = band.saturation_dn;
        return measure_blur(band.image.pixels.view(), band.mask(), bo);
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.find(p.input.string()) != std::string::npos) throw;
        const std::string named = fmt::format("{}: {}", p.input.string(), what);
        if (dynamic_cast<const UsageError*>(&e)) throw UsageError(named);
        throw Error(named);
    }
}

// --measure-input: the input's Gaussian-equivalent blur from its edges' RER.
double measured_input_sigma(const DegradeParams& p, const Raster& in, const Gsd& gsd, const DegradeTarget& target,
                            DegradePlan& plan) {
    const BlurMeasurement m = measure_input(p, in, gsd);
    const EdgeAggregate& ag = m.edges.aggregate;
    // An upsampled input holds no detail finer than its effective GSD: say so, and what the
    // blur measured on its own pixels includes.
    if (m.upsampled()) {
        const double ex = gsd.x_m * m.sampling.x.factor, ey = gsd.y_m * m.sampling.y.factor;
        plan.input_effective_gsd_x_m = ex;
        plan.input_effective_gsd_y_m = ey;
        plan.warnings.push_back(fmt::format(
            "--measure-input: the input was upsampled about {:.2f} x {:.2f} (effective GSD {:.4g} x {:.4g} m); its "
            "measured blur includes the interpolation{}",
            m.sampling.x.factor, m.sampling.y.factor, ex, ey,
            target.gsd_m < std::max(ex, ey) - 1e-9
                ? fmt::format(", and the target GSD {:.4g} m is finer than the detail the input holds", target.gsd_m)
                : std::string()));
    }
    if (!ag.usable) {
        plan.warnings.push_back("--measure-input: " + ag.message + "; the input is taken as ideal");
        return 0;
    }
    const double sigma_in = detail::sigma_from_rer(ag.rer_gm);
    plan.assumptions.push_back(
        fmt::format("input blur measured by assess: RER {:.3f} (geometric mean of x and y, {} edges), i.e. a "
                    "Gaussian of sigma "
                    "{:.4f} px integrated over its pixel",
                    ag.rer_gm, ag.usable_count, sigma_in));
    return sigma_in;
}

// What is known of the input's own blur: given, measured, or nothing (an ideal input).
double input_blur_sigma(const DegradeParams& p, const Raster& in, const Gsd& gsd, const DegradeTarget& target,
                        DegradePlan& plan) {
    if (p.input_sigma_px) {
        plan.assumptions.push_back(
            fmt::format("input blur: Gaussian sigma {} px integrated over its pixel (given)", *p.input_sigma_px));
        return *p.input_sigma_px;
    }
    if (p.input_mtf_nyquist) {
        const double sigma_in = sensor::sigma_from_mtf_nyquist(*p.input_mtf_nyquist);
        plan.assumptions.push_back(
            fmt::format("input blur: Gaussian x pixel box with MTF at Nyquist {} (given), i.e. sigma {:.4f} px",
                        *p.input_mtf_nyquist, sigma_in));
        return sigma_in;
    }
    if (p.measure_input) return measured_input_sigma(p, in, gsd, target, plan);
    plan.assumptions.push_back(
        "input blur unknown: the input is taken as ideal (only its pixel box); the result is "
        "as sharp as the target or, if the input was blurred, blurrier");
    return 0;
}

// Quantization bits and output type: the asked bits, else the input's for an integer type.
void plan_output_type(const DegradeParams& p, const RasterInfo& info, DegradePlan& plan) {
    const DataType in_type = info.bands.front().type;
    plan.bits = p.bits;
    if (!plan.bits && in_type != DataType::Float32 && in_type != DataType::Float64 && in_type != DataType::Int16 &&
        in_type != DataType::Int32)
        plan.bits = data_type_bits(in_type);
    plan.output_type = output_type_for(in_type, p.bits);
}

// The figures this degrade used, each with its provenance: the target model's (predict's
// model_figures, with what the options set marked "given"), the output bits and the input blur.
ResolvedFigures resolve_figures(const DegradeParams& p, const DegradeTarget& target, const RasterInfo& info,
                                const DegradePlan& plan, double sigma_in) {
    std::map<std::string, std::string> given;
    ResolvedFigures r;
    if (p.sensor) {
        r = model_figures(*target.model, sensor::find_sensor_preset(*p.sensor).name);
        given = override_texts(p.sensor_overrides);  // --aperture-m, ... as given
        if (p.off_nadir_deg) given["off_nadir_deg"] = option_text("--off-nadir-deg", *p.off_nadir_deg);
        if (p.snr) given["snr"] = option_text("--snr", *p.snr);
    } else {
        r = model_figures(*target.model);
        r.erase("full_well_e");  // the Gaussian noise model is set by the SNR alone
        r.erase("read_noise_e");
        given["target_gsd_m"] = option_text("--target-gsd-m", *p.target_gsd_m);
        if (p.mtf_nyquist) given["mtf_nyquist"] = option_text("--mtf-nyquist", *p.mtf_nyquist);
        if (p.sigma_px) given["sigma_px"] = option_text("--sigma-px", *p.sigma_px);
        if (p.snr)
            given["snr"] = option_text("--snr", *p.snr);
        else
            r.set("snr", nullptr, "assumed", "none: no noise added (no --snr)");
    }
    mark(r.provenance, "given", given);
    // The output's quantization, not the detector's bits of a preset (which only its radiometric
    // SNR model uses): the bits degrade rounds to.
    const DataType in_type = info.bands.front().type;
    if (p.bits)
        r.set("bits", *p.bits, "given", option_text("--bits", *p.bits));
    else if (plan.bits)
        r.set("bits", *plan.bits, "derived", fmt::format("the input's data type ({})", to_string(in_type)));
    else
        r.set("bits", nullptr, "assumed",
              fmt::format("none: the input's data type ({}) is kept, not quantized", to_string(in_type)));
    if (p.input_sigma_px)
        r.set("input_sigma_px", sigma_in, "given", option_text("--input-sigma-px", *p.input_sigma_px));
    else if (p.input_mtf_nyquist)
        r.set("input_sigma_px", sigma_in, "derived",
              fmt::format("from --input-mtf-nyquist {:g} (Gaussian x pixel box)", *p.input_mtf_nyquist));
    else if (p.measure_input && sigma_in > 0)
        r.set("input_sigma_px", sigma_in, "derived", "measured from the input's edges (--measure-input)");
    else
        r.set("input_sigma_px", sigma_in, "assumed", "unknown: the input taken as ideal (only its pixel box)");
    return r;
}

// The noise added per band, and the radiometry each band's SNR is set against.
struct NoisePlan {
    std::vector<double> sigma_band;        // Gaussian model: sigma (DN) per band
    std::vector<double> electrons_per_dn;  // shot + read model: per band
    std::vector<SceneRadiometry> band_radiometry;
    double max_value = 0;  // largest input value (for the output gain)
};

// The input's own noise, reduced by the blur and the area integration (their noise gain on white
// noise): part of the output's, so each noise model adds only what is missing. Texture-robust
// estimate (weak-texture patches and PCA); Immerkaer's if it fails. On band 1 the plan says so.
double residual_input_noise(int b, const Image& sample, double want, DegradePlan& plan) {
    NoiseEstimate ne = estimate_noise_pca(sample.view());
    const char* estimator = "weak-texture PCA";
    if (!ne.valid) {
        ne = estimate_noise(sample.view());
        estimator = "Immerkaer";
    }
    const double residual = ne.valid ? ne.sigma_dn * plan.input_noise_gain : 0.0;
    if (b == 1) {
        if (residual > want)
            plan.warnings.push_back(
                fmt::format("the input's own noise ({:.3f} DN after integration) already exceeds the target noise "
                            "{:.3f} DN: the output SNR is below the target",
                            residual, want));
        else if (ne.valid)
            plan.assumptions.push_back(
                fmt::format("input noise {:.3f} DN ({}) reduced to {:.3f} DN by the integration is part of the "
                            "target noise",
                            ne.sigma_dn, estimator, residual));
    }
    return residual;
}

// Gaussian model: the noise added makes up the target noise at the 15 % level with the input's.
void plan_gaussian_noise(int b, const Image& sample, const SceneRadiometry& rad, double snr, DegradePlan& plan,
                         NoisePlan& np) {
    const double want = rad.signal_difference_dn / snr;
    const double residual = residual_input_noise(b, sample, want, plan);
    np.sigma_band[static_cast<std::size_t>(b - 1)] = std::sqrt(std::max(0.0, want * want - residual * residual));
    if (b == 1) plan.noise_sigma_dn_at_15 = want;
}

// Shot + read model: electrons per DN such that the 15 % level has the target SNR.
// The shot and read noise added make up the target noise at the 15 % level with the input's own
// (what is missing: want^2 - residual^2; where the input's already exceeds it, a hundredth of the
// target's variance, so that the electrons per DN stay finite).
void plan_sensor_noise(int b, const Image& sample, const SceneRadiometry& rad, double snr, const DegradeTarget& target,
                       DegradePlan& plan, NoisePlan& np) {
    const double want = rad.signal_difference_dn / snr;
    const double residual = residual_input_noise(b, sample, want, plan);
    const double missing = std::max(want * want - residual * residual, 1e-2 * want * want);
    const double k = electrons_per_dn_for_variance(missing, rad.level_15_dn, target.read_noise_e);
    np.electrons_per_dn[static_cast<std::size_t>(b - 1)] = k;
    if (b != 1) return;
    plan.electrons_per_dn = k;
    plan.read_noise_e = target.read_noise_e;
    plan.noise_sigma_dn_at_15 = want;
    plan.assumptions.push_back(
        fmt::format("shot + read noise: {:.4g} electrons per input DN, read noise {} e-, chosen so the 15 % level "
                    "has SNR {:.1f} with the input's own noise",
                    k, target.read_noise_e, snr));
}

// Statistics on a decimated sample (deterministic): scene radiometry for the SNR, the input's
// own noise, and the output gain when fewer bits are asked for.
NoisePlan plan_noise(const DegradeParams& p, const Raster& in, const DegradeTarget& target, DegradePlan& plan) {
    const int bands = in.band_count();
    NoisePlan np;
    np.sigma_band.assign(static_cast<std::size_t>(bands), 0.0);
    np.electrons_per_dn.assign(static_cast<std::size_t>(bands), 0.0);
    if (target.snr.has_value() || p.bits.has_value()) {
        for (int b = 1; b <= bands; ++b) {
            const Image sample = in.read_decimated(b, kStatsSidePx);
            const ImageStats st = compute_stats(sample.view());
            if (st.valid_count == 0) throw Error(fmt::format("{}: band {} has no valid pixels", p.input.string(), b));
            np.max_value = std::max(np.max_value, st.max);
            if (!target.snr) continue;
            SceneRadiometry rad;
            try {
                rad = scene_radiometry(st);
            } catch (const Error& e) {  // the SNR is a ratio to the scene's signal: none, no noise level
                throw Error(
                    fmt::format("{}: band {} has {}: noise for SNR {:g} has no signal to be set against "
                                "(degrade without --snr adds no noise)",
                                p.input.string(), b, e.what(), *target.snr));
            }
            np.band_radiometry.push_back(rad);
            if (b == 1) plan.assumptions.push_back(rad.assumption);
            if (target.noise_model == NoiseModel::gaussian)
                plan_gaussian_noise(b, sample, rad, *target.snr, plan, np);
            else
                plan_sensor_noise(b, sample, rad, *target.snr, target, plan, np);
        }
    }
    plan.snr = target.snr;
    plan.noise_model = target.snr ? target.noise_model : NoiseModel::none;
    if (p.bits) {
        const double full = std::ldexp(1.0, *p.bits) - 1;
        if (np.max_value > full) {
            plan.output_gain = full / np.max_value;
            plan.assumptions.push_back(fmt::format("output scaled by {:.6g} so the input maximum {} fits {} bits",
                                                   plan.output_gain, np.max_value, *p.bits));
        }
    }
    return np;
}

// The output file's options and metadata (the parameters, the plan, the radiometry).
WriteOptions output_options(const DegradeParams& p, const DegradePlan& plan, std::optional<double> nodata,
                            bool mask_invalid, const std::vector<SceneRadiometry>& band_radiometry) {
    WriteOptions wo;
    wo.type = plan.output_type;
    wo.nodata = nodata;
    wo.mask_invalid = mask_invalid;
    wo.cloud_optimized = p.cloud_optimized;
    wo.compression = p.compression;
    wo.metadata["SATIQ_VERSION"] = SATIQ_VERSION_STRING;
    wo.metadata["SATIQ_COMMAND"] = "degrade";
    wo.metadata["SATIQ_SEED"] = std::to_string(p.seed);
    // The parameters of the simulation: the strip height is how it was streamed, not what was
    // simulated, and is left out so that the file is byte-identical at any strip height.
    nlohmann::json recorded = to_json(p);
    recorded.erase("strip_rows");
    wo.metadata["SATIQ_DEGRADE_PARAMETERS"] = recorded.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    wo.metadata["SATIQ_DEGRADE_PLAN"] =
        to_json(DegradeResult{plan, 0, 0, {}})["plan"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    wo.metadata["SATIQ_TARGET"] = plan.target_description;
    if (!band_radiometry.empty())
        wo.metadata[kRadiometryMetadataKey] = radiometry_metadata(band_radiometry, plan.output_gain);
    return wo;
}

// ---- streaming the pixels ---------------------------------------------------------------

// Everything the strips share: the plan, the PSF, the noise, the resampling and the raster.
struct Streaming {
    const DegradeParams& p;
    const DegradePlan& plan;
    const Psf& psf;
    const NoisePlan& noise;
    const Raster& in;
    int bands = 0;
    std::int64_t W = 0, H = 0;
    ResampleAreaParams rp;
    std::int64_t strip_rows = 0;
    std::int64_t nstrips = 0;
    std::size_t tokens = 1;  // strips in flight
};

Streaming plan_streaming(const DegradeParams& p, const DegradePlan& plan, const Psf& psf, const NoisePlan& noise,
                         const Raster& in) {
    Streaming st{p, plan, psf, noise, in, in.band_count(), in.info().width, in.info().height, {}, 0, 0};
    st.rp.in_px_per_out_px_x = plan.ratio_x;
    st.rp.in_px_per_out_px_y = plan.ratio_y;
    st.rp.min_coverage = p.min_coverage;
    st.rp.fill_value = std::numeric_limits<float>::quiet_NaN();
    st.strip_rows = p.strip_rows;
    if (st.strip_rows == 0)
        st.strip_rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(256.0 / plan.ratio_y)));
    st.nstrips = (plan.out_height + st.strip_rows - 1) / st.strip_rows;
    // Memory: a strip in flight holds its input rows (pixels and mask of every band) and, for the
    // band being blurred, the blurred rows and their weights; its output rows are small beside
    // them. Strips in flight are as many as fit in half the physical memory, up to one per thread
    // plus one; a single strip beyond it is refused before any pixel is read. The result does not
    // depend on how many are in flight.
    const double rows_in = static_cast<double>(st.strip_rows) * std::ceil(plan.ratio_y) + 2.0 +
                           2.0 * static_cast<double>(psf.halo_y) + 2.0 * static_cast<double>(psf.fft_block_y);
    const double strip_bytes = static_cast<double>(st.W) * std::min(rows_in, static_cast<double>(st.H) + 1.0) *
                               (st.bands * (sizeof(float) + 1.0) + 2.0 * sizeof(float));
    const double budget = static_cast<double>(physical_memory_bytes()) / 2.0;
    if (strip_bytes > budget)
        throw Error(fmt::format(
            "{}: one strip of the output needs about {:.1f} GiB ({:.0f} input rows of {} px, {} band{}, at {:.4g} "
            "input "
            "rows per output row), more than half the physical memory ({:.1f} GiB): degrade a window of the input "
            "(gdal_translate -srcwin) or a reduced copy (gdal_translate -outsize) first",
            p.input.string(), strip_bytes / 1073741824.0, rows_in, st.W, st.bands, st.bands == 1 ? "" : "s",
            plan.ratio_y, budget / 1073741824.0));
    const auto most = static_cast<std::size_t>(std::max(1, tbb::this_task_arena::max_concurrency() + 1));
    st.tokens = std::clamp<std::size_t>(static_cast<std::size_t>(budget / strip_bytes), 1, most);
    return st;
}

// Strip `index`: its output rows, the rows the convolution produces for them, and the input
// rows read (with the PSF's halo) of every band.
std::shared_ptr<Strip> read_strip(const Streaming& st, std::int64_t index) {
    auto s = std::make_shared<Strip>();
    s->index = index;
    s->oy0 = s->index * st.strip_rows;
    s->oy1 = std::min(st.plan.out_height, s->oy0 + st.strip_rows);
    const ResampleWindow need = resample_area_input_window({0, s->oy0, st.plan.out_width, s->oy1}, st.W, st.H, st.rp);
    s->cy0 = need.y0;
    s->cy1 = need.y1;
    if (st.psf.fft_block_y > 0) {  // FFT blocks are anchored at global row 0
        s->cy0 = s->cy0 / st.psf.fft_block_y * st.psf.fft_block_y;
        s->cy1 = std::min(st.H, (s->cy1 + st.psf.fft_block_y - 1) / st.psf.fft_block_y * st.psf.fft_block_y);
    }
    s->ry0 = std::max<std::int64_t>(0, s->cy0 - st.psf.halo_y);
    s->ry1 = std::min(st.H, s->cy1 + st.psf.halo_y);
    for (int b = 1; b <= st.bands; ++b) {
        MaskedImage m = st.in.read_masked(b, {0, s->ry0, st.W, s->ry1 - s->ry0});
        s->in.push_back(std::move(m.pixels));
        s->mask.push_back(std::move(m.mask));
    }
    return s;
}

// The PSF on band b's rows of the strip, then the area integration onto the output grid.
// Normalized convolution keeps nodata out of the blur: conv(I m) / conv(m).
Image blur_and_resample(const Streaming& st, Strip& s, int b) {
    const std::int64_t W = st.W, rows = s.cy1 - s.cy0;
    Image& src = s.in[static_cast<std::size_t>(b)];
    const auto& mask = s.mask[static_cast<std::size_t>(b)];
    const bool masked = !mask.empty();
    if (masked)
        for (std::size_t i = 0; i < mask.size(); ++i)
            if (!mask[i]) src.data()[i] = 0.0f;
    Image conv;
    ConstImageView<float> blurred;
    auto run_conv = [&](ConstImageView<float> input, Image& outimg) {
        outimg = Image(W, rows);
        ConvolveInput ci{input, 0, s.ry0, W, st.H};
        ConvolveOutput co{outimg.view(), 0, s.cy0};
        if (st.psf.separable)
            convolve_separable(ci, co, *st.psf.separable, BorderMode::Reflect101);
        else
            st.psf.plan->apply(ci, co);
    };
    if (st.psf.separable || st.psf.plan) {
        run_conv(src.view(), conv);
        if (masked) {
            Image mimg(W, s.ry1 - s.ry0);
            for (std::size_t i = 0; i < mask.size(); ++i)
                mimg.data()[i] = mask[i] ? 1.0f : 0.0f;
            Image mconv;
            run_conv(mimg.view(), mconv);
            for (std::int64_t i = 0; i < W * rows; ++i) {
                const float w = mconv.data()[i];
                conv.data()[i] = w > 1e-3f ? conv.data()[i] / w : 0.0f;
            }
        }
        blurred = conv.view();
    } else {
        blurred = src.view().sub(0, s.cy0 - s.ry0, W, rows);
    }
    ConstImageView<std::uint8_t> mview;
    if (masked) mview = ConstImageView<std::uint8_t>(mask.data() + (s.cy0 - s.ry0) * W, W, rows);
    Image out(st.plan.out_width, s.oy1 - s.oy0);
    resample_area({blurred, mview, 0, s.cy0, W, st.H}, {out.view(), {}, {}, 0, s.oy0}, st.rp);
    return out;
}

// Noise at the target SNR, then quantization (NaN = nodata passes through).
void add_noise_and_quantize(const Streaming& st, Image& out, int b, std::int64_t oy0) {
    const DegradePlan& plan = st.plan;
    if (plan.noise_model == NoiseModel::gaussian) {
        GaussianNoiseParams gp;
        gp.sigma_dn = st.noise.sigma_band[static_cast<std::size_t>(b)];
        gp.seed = st.p.seed;
        gp.band = static_cast<std::uint32_t>(b);
        add_gaussian_noise(out.view(), out.view(), 0, oy0, gp);
    }
    if (plan.noise_model == NoiseModel::shot_read) {
        SensorNoiseParams sp;
        sp.electrons_per_input_unit = st.noise.electrons_per_dn[static_cast<std::size_t>(b)];
        sp.read_noise_e = plan.read_noise_e;
        sp.gain_dn_per_e = plan.output_gain / sp.electrons_per_input_unit;
        sp.quantize = plan.bits.has_value();
        sp.bits = plan.bits.value_or(32);
        sp.seed = st.p.seed;
        sp.band = static_cast<std::uint32_t>(b);
        add_sensor_noise(out.view(), out.view(), 0, oy0, sp);
    } else if (plan.bits || plan.output_gain != 1.0) {
        const double qmax = plan.bits ? std::ldexp(1.0, plan.bits.value_or(0)) - 1 : 0;
        const float gain = static_cast<float>(plan.output_gain);
        float* d = out.data();
        for (std::int64_t i = 0; i < out.width() * out.height(); ++i) {
            if (std::isnan(d[i])) continue;
            float v = d[i] * gain;
            if (plan.bits) v = std::clamp(std::nearbyint(v), 0.0f, static_cast<float>(qmax));
            d[i] = v;
        }
    }
}

// Strips read in order, processed in parallel (every band: blur, resample, noise), written in
// order; returns the number of strips.
std::int64_t stream_strips(const Streaming& st, RasterWriter& writer, const std::function<void(double)>& progress) {
    std::int64_t next = 0;
    std::atomic<std::int64_t> done{0};
    tbb::parallel_pipeline(
        st.tokens, tbb::make_filter<void, std::shared_ptr<Strip>>(tbb::filter_mode::serial_in_order,
                                                                  [&](tbb::flow_control& fc) -> std::shared_ptr<Strip> {
                                                                      if (next >= st.nstrips) {
                                                                          fc.stop();
                                                                          return nullptr;
                                                                      }
                                                                      return read_strip(st, next++);
                                                                  }) &
                       tbb::make_filter<std::shared_ptr<Strip>, std::shared_ptr<Strip>>(
                           tbb::filter_mode::parallel,
                           [&](std::shared_ptr<Strip> s) {
                               for (int b = 0; b < st.bands; ++b) {
                                   Image out = blur_and_resample(st, *s, b);
                                   add_noise_and_quantize(st, out, b, s->oy0);
                                   s->out.push_back(std::move(out));
                               }
                               s->in.clear();
                               s->mask.clear();
                               return s;
                           }) &
                       tbb::make_filter<std::shared_ptr<Strip>, void>(
                           tbb::filter_mode::serial_in_order, [&](const std::shared_ptr<Strip>& s) {
                               for (int b = 0; b < st.bands; ++b)
                                   writer.write(b + 1, 0, s->oy0, s->out[static_cast<std::size_t>(b)].view());
                               const auto d = ++done;
                               if (progress) progress(static_cast<double>(d) / static_cast<double>(st.nstrips));
                           }));
    return st.nstrips;
}

}  // namespace

// Every option value is checked before any pixel is read: a value out of range is a usage
// error naming the option (exit 2), never a failure deep in a kernel.
void check_degrade_options(const DegradeParams& p) {
    if (!(p.min_coverage >= 0 && p.min_coverage <= 1))
        throw UsageError(fmt::format("degrade: --min-coverage must lie in [0, 1] (got {})", p.min_coverage));
    if (p.bits && (*p.bits < 1 || *p.bits > 32))
        throw UsageError(fmt::format("degrade: --bits must lie in 1..32 (got {})", *p.bits));
    if (p.strip_rows < 0 || p.strip_rows > 1'000'000)
        throw UsageError(fmt::format("degrade: --strip-rows must lie in 0..1000000 (got {})", p.strip_rows));
    if ((p.input_sigma_px ? 1 : 0) + (p.input_mtf_nyquist ? 1 : 0) + (p.measure_input ? 1 : 0) > 1)
        throw UsageError("degrade: give one of --input-sigma-px, --input-mtf-nyquist and --measure-input");
    // Ranges: a Gaussian wider than 50 pixels is no longer a sensor's blur but a typing error; an
    // SNR below 0.1 (noise ten times the signal) leaves nothing to simulate.
    const auto in_range = [](const std::optional<double>& v, const char* name, double lo, double hi) {
        if (v && !(std::isfinite(*v) && *v >= lo && *v <= hi))
            throw UsageError(fmt::format("degrade: {} must lie in [{:g}, {:g}] (got {})", name, lo, hi, *v));
    };
    in_range(p.target_gsd_m, "--target-gsd-m", 1e-6, 1e5);
    in_range(p.sigma_px, "--sigma-px", 0, 50);
    in_range(p.input_sigma_px, "--input-sigma-px", 0, 50);
    in_range(p.snr, "--snr", 0.1, 1e6);
    for (auto [v, name] : {std::pair{p.mtf_nyquist, "--mtf-nyquist"}, {p.input_mtf_nyquist, "--input-mtf-nyquist"}})
        if (v) try {
                (void)sensor::sigma_from_mtf_nyquist(*v);
            } catch (const Error& e) {
                throw UsageError(fmt::format("degrade: {} {}: {}", name, *v, e.what()));
            }
    (void)resolve_target(p);
}

const char* to_string(NoiseModel m) {
    switch (m) {
        case NoiseModel::gaussian:
            return "gaussian";
        case NoiseModel::shot_read:
            return "shot_read";
        case NoiseModel::none:
            break;
    }
    return "none";
}

// plan (target, GSD and ratios; the input's blur; the PSF; output type; noise) -> stream the
// strips (read, blur, resample, noise, write) -> commit the output.
DegradeResult degrade(const DegradeParams& p, const std::function<void(double)>& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    DegradeResult result;
    DegradePlan& plan = result.plan;

    check_degrade_options(p);
    if (p.output.empty()) throw UsageError("degrade: no output path");
    const DegradeTarget target = resolve_target(p);  // option errors before the input is read
    const Raster in = Raster::open(p.input);
    const RasterInfo& info = in.info();
    refuse_output_over_input(p, in);
    const Gsd gsd = plan_geometry(p, target, info, plan);
    const double sigma_in = input_blur_sigma(p, in, gsd, target, plan);
    const Psf psf = build_psf(target, plan, sigma_in, plan);
    plan_output_type(p, info, plan);
    const NoisePlan noise = plan_noise(p, in, target, plan);
    result.resolved = resolve_figures(p, target, info, plan, sigma_in);

    // Output file (temporary until commit): pixel size scaled by the ratios, same footprint.
    const WriteOptions wo =
        output_options(p, plan, info.bands.front().nodata, info.bands.front().has_mask, noise.band_radiometry);
    const GeoReference out_geo = scale_georeference(info.geo, plan.ratio_x, plan.ratio_y);
    const Streaming streaming = plan_streaming(p, plan, psf, noise, in);  // refuses a strip beyond memory
    RasterWriter writer(p.output, plan.out_width, plan.out_height, in.band_count(), out_geo, wo);
    try {
        result.strips = stream_strips(streaming, writer, progress);
    } catch (const std::bad_alloc&) {  // the file and the figures, not a bare "out of memory"
        throw Error(fmt::format("{}: out of memory while degrading ({} x {} px to {} x {} px, {} strips in flight)",
                                p.input.string(), info.width, info.height, plan.out_width, plan.out_height,
                                streaming.tokens));
    }
    writer.commit();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

double input_sigma_from_rer(double rer) {
    return detail::sigma_from_rer(rer);
}
}  // namespace satiq
