#include "satiq/pipeline/ops/degrade.hpp"

#include "satiq/pipeline/io/interrupt.hpp"

#include "satiq/kernels/noise_pca.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include "satiq/kernels/convolve.hpp"
#include "satiq/kernels/noise.hpp"
#include "satiq/kernels/noise_estimate.hpp"
#include "satiq/kernels/parallel.hpp"
#include "satiq/kernels/psf.hpp"
#include "satiq/kernels/resample.hpp"
#include "satiq/kernels/statistics.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/model/radiometry.hpp"
#include "satiq/pipeline/model/sensor.hpp"

namespace satiq {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kWienerEps = 0.05;          // regularization of the division by the input MTF
constexpr std::int64_t kStatsSidePx = 2048;  // decimated sample for statistics and noise
constexpr std::int64_t kMaxKernelRadiusPx = 127;

// The target system, resolved from the parameters.
struct Target {
    std::optional<sensor::SensorModel> model;
    std::string description;
    double gsd_m = 0;
    std::optional<double> snr;
    NoiseModel noise_model = NoiseModel::none;
    double read_noise_e = 0;
    std::optional<double> altitude_m;  // preset form
};

Target resolve_target(const DegradeParams& p) {
    Target t;
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

// The PSF to apply on the input grid.
struct Psf {
    std::optional<SeparableKernel> separable;
    std::optional<Convolve2dPlan> plan;
    std::int64_t halo_y = 0;
    std::int64_t fft_block_y = 0;  // > 0: conv output rows must align to this grid
};

std::vector<float> gaussian_or_identity(double sigma_px) {
    if (sigma_px <= 1e-6) return {1.0f};
    return gaussian_taps(sigma_px, GaussianRadiusRule::FourSigma);
}

// Sigma (px) of the Gaussian-x-pixel-box model whose RER = ESF(+0.5) - ESF(-0.5) equals `rer`
// (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010); RER falls monotonically with sigma,
// so bisection. RER >= 1 (no blur) gives 0.
double sigma_from_rer(double rer) {
    auto rer_of = [](double s) {
        return sensor::gaussian_box_edge_response(s, 0.5) - sensor::gaussian_box_edge_response(s, -0.5);
    };
    if (rer >= rer_of(0.0)) return 0.0;
    double lo = 0, hi = 20;
    for (int i = 0; i < 100; ++i) {
        const double mid = 0.5 * (lo + hi);
        (rer_of(mid) > rer ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

// Weights of one output pixel's area integration along an axis: input pixel j covers [j, j + 1),
// the output pixel [0, r) (phase 0), each weighted by its overlap / r.
std::vector<double> box_weights(double r) {
    std::vector<double> w;
    for (std::int64_t j = 0; static_cast<double>(j) < r; ++j)
        w.push_back((std::min(static_cast<double>(j + 1), r) - static_cast<double>(j)) / r);
    return w;
}
std::vector<double> convolve_1d(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> c(a.size() + b.size() - 1, 0.0);
    for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t j = 0; j < b.size(); ++j)
            c[i + j] += a[i] * b[j];
    return c;
}
double sum_of_squares(const std::vector<double>& v) {
    double s = 0;
    for (double x : v)
        s += x * x;
    return s;
}
// Noise gain of the whole chain on white input noise: an output pixel is sum w_ij x_ij with w
// the PSF convolved with the integration box, so its noise is sigma_in sqrt(sum w_ij^2) (the
// variance of a weighted sum of independent samples). Separable weights multiply per axis.
double separable_noise_gain(const std::vector<double>& kx, const std::vector<double>& ky, double rx, double ry) {
    return std::sqrt(sum_of_squares(convolve_1d(kx, box_weights(rx))) *
                     sum_of_squares(convolve_1d(ky, box_weights(ry))));
}

Psf build_psf(const Target& t, const DegradePlan& plan, double sigma_in, DegradePlan& out_plan) {
    Psf psf;
    const double rx = plan.ratio_x, ry = plan.ratio_y;
    if (auto sigma_t = t.model->gaussian_sigma_px()) {
        // Gaussian case (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010): variances add,
        // so the applied blur is what is left after the input's own Gaussian and its pixel box (variance 1/12 px^2) are
        // taken out.
        auto applied = [&](double r, const char* axis) {
            const double v = (*sigma_t * r) * (*sigma_t * r) - sigma_in * sigma_in - 1.0 / 12.0;
            if (v < 0 && (*sigma_t * r) * (*sigma_t * r) < sigma_in * sigma_in)
                out_plan.warnings.push_back(fmt::format(
                    "the input is blurrier along {} (sigma {:.3f} px) than the target system's optics ({:.3f} input "
                    "px): no blur applied on that axis, the result is blurrier than the target",
                    axis, sigma_in, *sigma_t * r));
            return std::sqrt(std::max(0.0, v));
        };
        const double sx = applied(rx, "x"), sy = applied(ry, "y");
        out_plan.applied_sigma_x_px = sx;
        out_plan.applied_sigma_y_px = sy;
        if (sx <= 1e-6 && sy <= 1e-6) {
            out_plan.psf_method = "none";
            out_plan.input_noise_gain = separable_noise_gain({1.0}, {1.0}, rx, ry);
            return psf;
        }
        SeparableKernel k{gaussian_or_identity(sx), gaussian_or_identity(sy)};
        out_plan.input_noise_gain = separable_noise_gain(std::vector<double>(k.taps_x.begin(), k.taps_x.end()),
                                                         std::vector<double>(k.taps_y.begin(), k.taps_y.end()), rx, ry);
        psf.halo_y = halo(k).y_px;
        psf.separable = std::move(k);
        out_plan.psf_method = "separable_gaussian";
        out_plan.kernel_size_px =
            static_cast<std::int64_t>(std::max(psf.separable->taps_x.size(), psf.separable->taps_y.size()));
        return psf;
    }

    // General case: H(u, v) = T(u rx, v ry) M_in / (M_in^2 + eps^2) on the input grid, with
    // M_in(u, v) = G(sigma_in, u) G(sigma_in, v) sinc(u) sinc(v): Wiener-regularized division of
    // the target's pre-detector transfer function by the input's own MTF.
    const auto& f = t.model->figures();
    // PSF extent in target pixels: diffraction main lobe and first rings (~2.5 Q), jitter,
    // smear, defocus; then in input pixels.
    const auto& d = t.model->description();
    const double extent_target_px =
        2.5 * std::max(f.q, 0.5) + 3.0 * d.jitter_sigma_px + d.smear_px + d.defocus_blur_diameter_px + 1.0;
    const auto radius = std::min<std::int64_t>(
        kMaxKernelRadiusPx, static_cast<std::int64_t>(std::ceil(extent_target_px * std::max(rx, ry))));
    if (radius == kMaxKernelRadiusPx)
        out_plan.warnings.push_back("the target PSF is wider than 255 input pixels: truncated to 255x255");
    const std::int64_t n = 2 * radius + 1;
    std::vector<double> h(static_cast<std::size_t>(n * n));
    for (std::int64_t q = -radius; q <= radius; ++q)
        for (std::int64_t p = -radius; p <= radius; ++p) {
            const double u = static_cast<double>(p) / static_cast<double>(n);
            const double v = static_cast<double>(q) / static_cast<double>(n);
            const double m_in =
                gaussian_transfer(u, sigma_in) * gaussian_transfer(v, sigma_in) * sensor::sinc(u) * sensor::sinc(v);
            const double target = t.model->transfer(u * rx, v * ry, sensor::MtfPart::pre_detector);
            h[static_cast<std::size_t>((q + radius) * n + (p + radius))] =
                target * m_in / (m_in * m_in + kWienerEps * kWienerEps);
        }
    // Inverse DFT of the even, real H, done separably with cosines: O(n^3).
    std::vector<double> tmp(static_cast<std::size_t>(n * n), 0.0);
    std::vector<double> cosines(static_cast<std::size_t>(n * n));
    for (std::int64_t a = 0; a < n; ++a)
        for (std::int64_t b = 0; b < n; ++b)
            cosines[static_cast<std::size_t>(a * n + b)] = std::cos(
                2.0 * std::numbers::pi * static_cast<double>((a - radius) * (b - radius)) / static_cast<double>(n));
    for (std::int64_t q = 0; q < n; ++q)  // along u for each v
        for (std::int64_t i = 0; i < n; ++i) {
            double s = 0;
            for (std::int64_t p = 0; p < n; ++p)
                s += h[static_cast<std::size_t>(q * n + p)] * cosines[static_cast<std::size_t>(p * n + i)];
            tmp[static_cast<std::size_t>(q * n + i)] = s;
        }
    Kernel2d k;
    k.width = k.height = n;
    k.taps.resize(static_cast<std::size_t>(n * n));
    double sum = 0;
    std::vector<double> kd(static_cast<std::size_t>(n * n));
    for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < n; ++i) {
            double s = 0;
            for (std::int64_t q = 0; q < n; ++q)
                s += tmp[static_cast<std::size_t>(q * n + i)] * cosines[static_cast<std::size_t>(q * n + j)];
            kd[static_cast<std::size_t>(j * n + i)] = s;
            sum += s;
        }
    for (std::size_t i = 0; i < kd.size(); ++i)
        k.taps[i] = static_cast<float>(kd[i] / sum);
    {
        // Noise gain of the 2-D kernel and the integration box (see separable_noise_gain).
        const std::vector<double> bx = box_weights(rx), by = box_weights(ry);
        double ss = 0;
        std::vector<double> col(static_cast<std::size_t>(n));
        std::vector<std::vector<double>> rows;  // each kernel row convolved with the x box
        for (std::int64_t j = 0; j < n; ++j)
            rows.push_back(convolve_1d(std::vector<double>(kd.begin() + j * n, kd.begin() + (j + 1) * n), bx));
        for (std::size_t i = 0; i < rows.front().size(); ++i) {
            for (std::int64_t j = 0; j < n; ++j)
                col[static_cast<std::size_t>(j)] = rows[static_cast<std::size_t>(j)][i] / sum;
            ss += sum_of_squares(convolve_1d(col, by));
        }
        out_plan.input_noise_gain = std::sqrt(ss);
    }
    Convolve2dParams cp;
    cp.border = BorderMode::Reflect101;
    psf.plan.emplace(k, cp);
    psf.halo_y = psf.plan->halo().y_px;
    if (psf.plan->method() == Convolve2dMethod::Fft) psf.fft_block_y = psf.plan->fft_block_y_px();
    static const char* names[] = {"auto", "direct", "low_rank", "fft"};
    out_plan.psf_method = fmt::format("kernel_2d:{}", names[static_cast<int>(psf.plan->method())]);
    out_plan.kernel_size_px = n;
    return psf;
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

// Electrons per DN such that SNR = dL k / sqrt(L15 k + read^2) (shot noise on the 15 % level
// plus read noise, Leachtenauer et al., Appl. Opt. 36(32), 1997; R. D. Fiete, Modeling the Imaging Chain of Digital
// Cameras, SPIE Press, 2010): the positive root of dL^2 k^2 - S^2 L15 k - S^2 r^2 = 0.
double electrons_per_dn_for_snr(double snr, double level15_dn, double delta_dn, double read_e) {
    const double a = delta_dn * delta_dn, b = snr * snr * std::max(level15_dn, 1e-9), c = snr * snr * read_e * read_e;
    return (b + std::sqrt(b * b + 4 * a * c)) / (2 * a);
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

DegradeResult degrade(const DegradeParams& p, const std::function<void(double)>& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    DegradeResult result;
    DegradePlan& plan = result.plan;

    // ---- plan before pixels -------------------------------------------------------------
    check_degrade_options(p);
    if (p.output.empty()) throw UsageError("degrade: no output path");
    Target target = resolve_target(p);  // option errors before the input is read

    Raster in = Raster::open(p.input);
    const RasterInfo& info = in.info();
    if (!is_vsi_path(p.output)) {
        // The output may not be any file the input reads: the input itself, a VRT's sources, its
        // sidecars (the link a symlinked output points to counts).
        const std::filesystem::path out_file = resolve_output_target(p.output).path;
        std::error_code ec;
        if (std::filesystem::exists(out_file, ec))
            for (const std::string& f : in.file_list())
                if (std::filesystem::equivalent(f, out_file, ec))
                    throw Error(fmt::format("{}: output would overwrite {}, which the input {} reads",
                                            p.output.string(), f, p.input.string()));
    }
    const Gsd gsd = compute_gsd(info, p.gsd);
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

    // What is known of the input's own blur.
    double sigma_in = 0;
    if (p.input_sigma_px) {
        sigma_in = *p.input_sigma_px;
        plan.assumptions.push_back(
            fmt::format("input blur: Gaussian sigma {} px integrated over its pixel (given)", sigma_in));
    } else if (p.input_mtf_nyquist) {
        sigma_in = sensor::sigma_from_mtf_nyquist(*p.input_mtf_nyquist);
        plan.assumptions.push_back(
            fmt::format("input blur: Gaussian x pixel box with MTF at Nyquist {} (given), i.e. sigma {:.4f} px",
                        *p.input_mtf_nyquist, sigma_in));
    } else if (p.measure_input) {
        AssessParams ap;
        ap.gsd = p.gsd;
        ap.snr = 100;  // the SNR does not matter here: only the edges are used
        const AssessResult ar = assess_file(p.input, ap);
        const EdgeAggregate& ag = ar.edges.aggregate;
        // An upsampled input holds no detail finer than its effective GSD: say so, and what the
        // blur measured on its own pixels includes.
        if (ar.rated_on_effective_gsd) {
            plan.input_effective_gsd_x_m = ar.effective_gsd_x_m;
            plan.input_effective_gsd_y_m = ar.effective_gsd_y_m;
            plan.warnings.push_back(fmt::format(
                "--measure-input: the input was upsampled about {:.2f} x {:.2f} (effective GSD {:.4g} x {:.4g} m); its "
                "measured blur includes the interpolation{}",
                ar.sampling.x.factor, ar.sampling.y.factor, ar.effective_gsd_x_m, ar.effective_gsd_y_m,
                target.gsd_m < std::max(ar.effective_gsd_x_m, ar.effective_gsd_y_m) - 1e-9
                    ? fmt::format(", and the target GSD {:.4g} m is finer than the detail the input holds",
                                  target.gsd_m)
                    : std::string()));
        }
        if (ag.usable) {
            sigma_in = sigma_from_rer(ag.rer_gm);
            plan.assumptions.push_back(
                fmt::format("input blur measured by assess: RER {:.3f} (geometric mean of x and y, {} edges), i.e. a "
                            "Gaussian of sigma "
                            "{:.4f} px integrated over its pixel",
                            ag.rer_gm, ag.usable_count, sigma_in));
        } else {
            plan.warnings.push_back("--measure-input: " + ag.message + "; the input is taken as ideal");
        }
    } else {
        plan.assumptions.push_back(
            "input blur unknown: the input is taken as ideal (only its pixel box); the result is "
            "as sharp as the target or, if the input was blurred, blurrier");
    }
    const Psf psf = build_psf(target, plan, sigma_in, plan);

    const int bands = in.band_count();
    const DataType in_type = info.bands.front().type;
    plan.bits = p.bits;
    if (!plan.bits && in_type != DataType::Float32 && in_type != DataType::Float64 && in_type != DataType::Int16 &&
        in_type != DataType::Int32)
        plan.bits = data_type_bits(in_type);
    plan.output_type = output_type_for(in_type, p.bits);
    const std::optional<double> nodata = info.bands.front().nodata;

    // Statistics on a decimated sample (deterministic): scene radiometry for the SNR, the
    // input's own noise, and the output gain when fewer bits are asked for.
    std::vector<double> noise_sigma_band(static_cast<std::size_t>(bands), 0.0);
    std::vector<double> electrons_per_dn(static_cast<std::size_t>(bands), 0.0);
    double max_value = 0;
    std::vector<SceneRadiometry> band_radiometry;  // what each band's SNR is set against
    const bool need_stats = target.snr.has_value() || p.bits.has_value();
    if (need_stats) {
        for (int b = 1; b <= bands; ++b) {
            const Image sample = in.read_decimated(b, kStatsSidePx);
            const ImageStats st = compute_stats(sample.view());
            if (st.valid_count == 0) throw Error(fmt::format("{}: band {} has no valid pixels", p.input.string(), b));
            max_value = std::max(max_value, st.max);
            if (!target.snr) continue;
            const SceneRadiometry rad = scene_radiometry(st);
            band_radiometry.push_back(rad);
            if (b == 1) plan.assumptions.push_back(rad.assumption);
            const double snr = *target.snr;
            if (target.noise_model == NoiseModel::gaussian) {
                // The input's own noise, reduced by the blur and the area integration (their noise
                // gain on white noise), is part of the total: add only what is missing.
                // Texture-robust estimate (weak-texture patches and PCA); Immerkaer's if it fails.
                NoiseEstimate ne = estimate_noise_pca(sample.view());
                const char* estimator = "weak-texture PCA";
                if (!ne.valid) {
                    ne = estimate_noise(sample.view());
                    estimator = "Immerkaer";
                }
                const double residual = ne.valid ? ne.sigma_dn * plan.input_noise_gain : 0.0;
                const double want = rad.signal_difference_dn / snr;
                noise_sigma_band[static_cast<std::size_t>(b - 1)] =
                    std::sqrt(std::max(0.0, want * want - residual * residual));
                if (b == 1) {
                    plan.noise_sigma_dn_at_15 = want;
                    if (residual > want)
                        plan.warnings.push_back(fmt::format(
                            "the input's own noise ({:.3f} DN after integration) already exceeds the target noise "
                            "{:.3f} DN: the output SNR is below the target",
                            residual, want));
                    else if (ne.valid)
                        plan.assumptions.push_back(fmt::format(
                            "input noise {:.3f} DN ({}) reduced to {:.3f} DN by the integration is part of the "
                            "target noise",
                            ne.sigma_dn, estimator, residual));
                }
            } else {
                const double k =
                    electrons_per_dn_for_snr(snr, rad.level_15_dn, rad.signal_difference_dn, target.read_noise_e);
                electrons_per_dn[static_cast<std::size_t>(b - 1)] = k;
                if (b == 1) {
                    plan.electrons_per_dn = k;
                    plan.read_noise_e = target.read_noise_e;
                    plan.noise_sigma_dn_at_15 =
                        std::sqrt(rad.level_15_dn * k + target.read_noise_e * target.read_noise_e) / k;
                    plan.assumptions.push_back(fmt::format(
                        "shot + read noise: {:.4g} electrons per input DN, read noise {} e-, chosen so the 15 % level "
                        "has SNR {:.1f}; the input's own noise is taken as negligible",
                        k, target.read_noise_e, snr));
                }
            }
        }
    }
    plan.snr = target.snr;
    plan.noise_model = target.snr ? target.noise_model : NoiseModel::none;
    if (p.bits) {
        const double full = std::ldexp(1.0, *p.bits) - 1;
        if (max_value > full) {
            plan.output_gain = full / max_value;
            plan.assumptions.push_back(fmt::format("output scaled by {:.6g} so the input maximum {} fits {} bits",
                                                   plan.output_gain, max_value, *p.bits));
        }
    }

    // Streaming geometry.
    ResampleAreaParams rp;
    rp.in_px_per_out_px_x = plan.ratio_x;
    rp.in_px_per_out_px_y = plan.ratio_y;
    rp.min_coverage = p.min_coverage;
    rp.fill_value = std::numeric_limits<float>::quiet_NaN();
    const std::int64_t W = info.width, H = info.height;
    std::int64_t strip_rows = p.strip_rows;
    if (strip_rows == 0)
        strip_rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(256.0 / plan.ratio_y)));
    const std::int64_t nstrips = (plan.out_height + strip_rows - 1) / strip_rows;

    // Output file (temporary until commit).
    WriteOptions wo;
    wo.type = plan.output_type;
    wo.nodata = nodata;
    wo.cloud_optimized = p.cloud_optimized;
    wo.compression = p.compression;
    wo.metadata["SATIQ_VERSION"] = SATIQ_VERSION;
    wo.metadata["SATIQ_COMMAND"] = "degrade";
    wo.metadata["SATIQ_SEED"] = std::to_string(p.seed);
    wo.metadata["SATIQ_DEGRADE_PARAMETERS"] = to_json(p).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    wo.metadata["SATIQ_DEGRADE_PLAN"] =
        to_json(DegradeResult{plan, 0, 0})["plan"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    wo.metadata["SATIQ_TARGET"] = plan.target_description;
    if (!band_radiometry.empty())
        wo.metadata[kRadiometryMetadataKey] = radiometry_metadata(band_radiometry, plan.output_gain);
    const GeoReference out_geo = scale_georeference(info.geo, plan.ratio_x, plan.ratio_y);
    RasterWriter writer(p.output, plan.out_width, plan.out_height, bands, out_geo, wo);

    const int quant_bits = plan.bits.value_or(0);
    const double qmax = plan.bits ? std::ldexp(1.0, quant_bits) - 1 : 0;

    std::int64_t next = 0;
    std::atomic<std::int64_t> done{0};
    const std::size_t tokens = static_cast<std::size_t>(std::max(2, tbb::this_task_arena::max_concurrency() + 1));
    tbb::parallel_pipeline(
        tokens,
        tbb::make_filter<void, std::shared_ptr<Strip>>(
            tbb::filter_mode::serial_in_order,
            [&](tbb::flow_control& fc) -> std::shared_ptr<Strip> {
                if (next >= nstrips) {
                    fc.stop();
                    return nullptr;
                }
                auto s = std::make_shared<Strip>();
                s->index = next++;
                s->oy0 = s->index * strip_rows;
                s->oy1 = std::min(plan.out_height, s->oy0 + strip_rows);
                const ResampleWindow need = resample_area_input_window({0, s->oy0, plan.out_width, s->oy1}, W, H, rp);
                s->cy0 = need.y0;
                s->cy1 = need.y1;
                if (psf.fft_block_y > 0) {  // FFT blocks are anchored at global row 0
                    s->cy0 = s->cy0 / psf.fft_block_y * psf.fft_block_y;
                    s->cy1 = std::min(H, (s->cy1 + psf.fft_block_y - 1) / psf.fft_block_y * psf.fft_block_y);
                }
                s->ry0 = std::max<std::int64_t>(0, s->cy0 - psf.halo_y);
                s->ry1 = std::min(H, s->cy1 + psf.halo_y);
                for (int b = 1; b <= bands; ++b) {
                    MaskedImage m = in.read_masked(b, {0, s->ry0, W, s->ry1 - s->ry0});
                    s->in.push_back(std::move(m.pixels));
                    s->mask.push_back(std::move(m.mask));
                }
                return s;
            }) &
            tbb::make_filter<std::shared_ptr<Strip>, std::shared_ptr<Strip>>(
                tbb::filter_mode::parallel,
                [&](std::shared_ptr<Strip> s) {
                    const std::int64_t rows = s->cy1 - s->cy0;
                    for (int b = 0; b < bands; ++b) {
                        Image& src = s->in[static_cast<std::size_t>(b)];
                        const auto& mask = s->mask[static_cast<std::size_t>(b)];
                        const bool masked = !mask.empty();
                        // Normalized convolution keeps nodata out of the blur: conv(I m) / conv(m).
                        if (masked)
                            for (std::size_t i = 0; i < mask.size(); ++i)
                                if (!mask[i]) src.data()[i] = 0.0f;
                        Image conv;
                        ConstImageView<float> blurred;
                        auto run_conv = [&](ConstImageView<float> input, Image& outimg) {
                            outimg = Image(W, rows);
                            ConvolveInput ci{input, 0, s->ry0, W, H};
                            ConvolveOutput co{outimg.view(), 0, s->cy0};
                            if (psf.separable)
                                convolve_separable(ci, co, *psf.separable, BorderMode::Reflect101);
                            else
                                psf.plan->apply(ci, co);
                        };
                        if (psf.separable || psf.plan) {
                            run_conv(src.view(), conv);
                            if (masked) {
                                Image mimg(W, s->ry1 - s->ry0);
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
                            blurred = src.view().sub(0, s->cy0 - s->ry0, W, rows);
                        }
                        ConstImageView<std::uint8_t> mview;
                        if (masked) mview = ConstImageView<std::uint8_t>(mask.data() + (s->cy0 - s->ry0) * W, W, rows);
                        Image out(plan.out_width, s->oy1 - s->oy0);
                        resample_area({blurred, mview, 0, s->cy0, W, H}, {out.view(), {}, {}, 0, s->oy0}, rp);

                        // Noise at the target SNR, then quantization (NaN = nodata passes through).
                        if (plan.noise_model == NoiseModel::gaussian) {
                            GaussianNoiseParams gp;
                            gp.sigma_dn = noise_sigma_band[static_cast<std::size_t>(b)];
                            gp.seed = p.seed;
                            gp.band = static_cast<std::uint32_t>(b);
                            add_gaussian_noise(out.view(), out.view(), 0, s->oy0, gp);
                        }
                        if (plan.noise_model == NoiseModel::shot_read) {
                            SensorNoiseParams sp;
                            sp.electrons_per_input_unit = electrons_per_dn[static_cast<std::size_t>(b)];
                            sp.read_noise_e = plan.read_noise_e;
                            sp.gain_dn_per_e = plan.output_gain / sp.electrons_per_input_unit;
                            sp.quantize = plan.bits.has_value();
                            sp.bits = plan.bits.value_or(32);
                            sp.seed = p.seed;
                            sp.band = static_cast<std::uint32_t>(b);
                            add_sensor_noise(out.view(), out.view(), 0, s->oy0, sp);
                        } else if (plan.bits || plan.output_gain != 1.0) {
                            const float gain = static_cast<float>(plan.output_gain);
                            float* d = out.data();
                            for (std::int64_t i = 0; i < out.width() * out.height(); ++i) {
                                if (std::isnan(d[i])) continue;
                                float v = d[i] * gain;
                                if (plan.bits) v = std::clamp(std::nearbyint(v), 0.0f, static_cast<float>(qmax));
                                d[i] = v;
                            }
                        }
                        s->out.push_back(std::move(out));
                    }
                    s->in.clear();
                    s->mask.clear();
                    return s;
                }) &
            tbb::make_filter<std::shared_ptr<Strip>, void>(
                tbb::filter_mode::serial_in_order, [&](std::shared_ptr<Strip> s) {
                    for (int b = 0; b < bands; ++b)
                        writer.write(b + 1, 0, s->oy0, s->out[static_cast<std::size_t>(b)].view());
                    const auto d = ++done;
                    if (progress) progress(static_cast<double>(d) / static_cast<double>(nstrips));
                }));
    writer.commit();
    result.strips = nstrips;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

nlohmann::json to_json(const DegradeParams& p) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"input", p.input.string()},
            {"output", p.output.string()},
            {"sensor", opt(p.sensor)},
            {"off_nadir_deg", opt(p.off_nadir_deg)},
            {"sensor_overrides", p.sensor_overrides},
            {"target_gsd_m", opt(p.target_gsd_m)},
            {"mtf_nyquist", opt(p.mtf_nyquist)},
            {"sigma_px", opt(p.sigma_px)},
            {"snr", opt(p.snr)},
            {"bits", opt(p.bits)},
            {"seed", p.seed},
            {"input_sigma_px", opt(p.input_sigma_px)},
            {"input_mtf_nyquist", opt(p.input_mtf_nyquist)},
            {"measure_input", p.measure_input},
            {"gsd_m", p.gsd.override_m ? nlohmann::json({p.gsd.override_m->first, p.gsd.override_m->second})
                                       : nlohmann::json(nullptr)},
            {"min_coverage", p.min_coverage},
            {"strip_rows", p.strip_rows},
            {"cloud_optimized", p.cloud_optimized},
            {"compression", p.compression}};
}

nlohmann::json to_json(const DegradeResult& r) {
    const DegradePlan& pl = r.plan;
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    nlohmann::json plan = {
        {"input_gsd_x_m", pl.input_gsd_x_m},
        {"input_gsd_y_m", pl.input_gsd_y_m},
        {"input_effective_gsd_x_m", opt(pl.input_effective_gsd_x_m)},
        {"input_noise_gain", pl.input_noise_gain},
        {"input_effective_gsd_y_m", opt(pl.input_effective_gsd_y_m)},
        {"target_gsd_m", pl.target_gsd_m},
        {"ratio_x", pl.ratio_x},
        {"ratio_y", pl.ratio_y},
        {"width_px", pl.out_width},
        {"height_px", pl.out_height},
        {"target", pl.target_description},
        {"view", pl.view_elevation_deg ? nlohmann::json{{"altitude_m", opt(pl.view_altitude_m)},
                                                        {"off_nadir_deg", opt(pl.view_off_nadir_deg)},
                                                        {"elevation_deg", *pl.view_elevation_deg}}
                                       : nlohmann::json(nullptr)},
        {"sensor_overrides", pl.sensor_overrides},
        {"psf_method", pl.psf_method},
        {"applied_sigma_x_px", opt(pl.applied_sigma_x_px)},
        {"applied_sigma_y_px", opt(pl.applied_sigma_y_px)},
        {"kernel_size_px", pl.kernel_size_px},
        {"snr", opt(pl.snr)},
        {"noise_model", to_string(pl.noise_model)},
        {"electrons_per_dn", pl.electrons_per_dn},
        {"read_noise_e", pl.read_noise_e},
        {"noise_sigma_dn_at_15", pl.noise_sigma_dn_at_15},
        {"bits", opt(pl.bits)},
        {"output_gain", pl.output_gain},
        {"output_data_type", to_string(pl.output_type)},
        {"assumptions", pl.assumptions},
        {"warnings", pl.warnings}};
    return {{"plan", plan}, {"seconds", r.seconds}, {"strips", r.strips}};
}

}  // namespace satiq

namespace satiq {

std::string to_text(const DegradeResult& r, const std::string& input, const std::string& output) {
    const auto& pl = r.plan;
    std::string out = fmt::format(
        "{} -> {}\n  target: {}\n  input GSD {:.4f} x {:.4f} m -> {:.4f} m "
        "(ratio {:.3f} x {:.3f}), {} x {} px\n  PSF: {}\n  noise: {}{}\n",
        input, output, pl.target_description, pl.input_gsd_x_m, pl.input_gsd_y_m, pl.target_gsd_m, pl.ratio_x,
        pl.ratio_y, pl.out_width, pl.out_height, pl.psf_method, to_string(pl.noise_model),
        pl.snr ? fmt::format(" (SNR {:.1f}, {:.3f} DN at the 15 % level)", *pl.snr, pl.noise_sigma_dn_at_15)
               : std::string());
    for (const auto& s : pl.assumptions)
        out += "  assumed: " + s + "\n";
    for (const auto& s : pl.warnings)
        out += "  warning: " + s + "\n";
    out += fmt::format("  {:.2f} s\n", r.seconds);
    return out;
}

double input_sigma_from_rer(double rer) {
    return sigma_from_rer(rer);
}
}  // namespace satiq
