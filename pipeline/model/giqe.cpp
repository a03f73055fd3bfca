#include "satiq/pipeline/model/giqe.hpp"

#include <cmath>
#include <numbers>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "satiq/kernels/error.hpp"

namespace satiq::giqe {

namespace {

void require_positive(const char* op, const char* name, double v) {
    if (!std::isfinite(v) || v <= 0.0)
        throw Error(fmt::format("{}: {} must be a finite number greater than 0 (got {})", op, name, v));
}

void require_elevation(const char* op, double elevation_deg) {
    if (!std::isfinite(elevation_deg) || elevation_deg <= 0.0 || elevation_deg > 90.0)
        throw Error(fmt::format("{}: elevation_deg must be in (0, 90] degrees (got {})", op, elevation_deg));
}

double sin_deg(double deg) {
    return std::sin(deg * std::numbers::pi / 180.0);
}

double to_inches(double metres) {
    return metres / metres_per_inch;
}

}  // namespace

const char* to_string(GiqeVersion v) {
    switch (v) {
        case GiqeVersion::giqe3:
            return "giqe3";
        case GiqeVersion::giqe4:
            return "giqe4";
        case GiqeVersion::giqe5:
            return "giqe5";
    }
    return "unknown";
}

double gsd_ground_plane_m(double gsd_normal_m, double elevation_deg) {
    require_positive("gsd_ground_plane_m", "gsd_normal_m", gsd_normal_m);
    require_elevation("gsd_ground_plane_m", elevation_deg);
    // NGA 2015 §2.3: GSD_GP = GSD / sin(elev)^(1/2) (geometric mean of the two axes).
    return gsd_normal_m / std::sqrt(sin_deg(elevation_deg));
}

double gsd_weighted_m(double gsd_normal_m, double elevation_deg) {
    require_positive("gsd_weighted_m", "gsd_normal_m", gsd_normal_m);
    require_elevation("gsd_weighted_m", elevation_deg);
    // NGA 2015 eq. (5): GSD_W = GSD / sin(elev)^(1/4).
    return gsd_normal_m / std::pow(sin_deg(elevation_deg), 0.25);
}

double rer_weighted(double rer_x, double rer_y) {
    require_positive("rer_weighted", "rer_x", rer_x);
    require_positive("rer_weighted", "rer_y", rer_y);
    // NGA 2015 eq. (7): RER_wt = (RER_cs * RER_as^2)^(1/3), RER_cs >= RER_as.
    const double hi = std::max(rer_x, rer_y);
    const double lo = std::min(rer_x, rer_y);
    return std::cbrt(hi * lo * lo);
}

double geometric_mean(double a, double b) {
    require_positive("geometric_mean", "a", a);
    require_positive("geometric_mean", "b", b);
    return std::sqrt(a * b);
}

NiirsPrediction giqe3(const Giqe3Inputs& in) {
    constexpr const char* op = "giqe3";
    require_positive(op, "gsd_normal_m", in.gsd_normal_m);
    require_positive(op, "rer", in.rer);
    require_positive(op, "overshoot_h", in.overshoot_h);
    require_positive(op, "noise_gain_g", in.noise_gain_g);
    require_positive(op, "snr", in.snr);
    // GIQE 3 (1994), NGA 2015 Table 1: C0 11.81, C1 -3.32, C2 3.32, C3 -1, C4 -1.48.
    NiirsPrediction p;
    p.version = GiqeVersion::giqe3;
    p.value = 11.81 + 3.32 * std::log10(in.rer / to_inches(in.gsd_normal_m)) - 1.48 * in.overshoot_h -
              in.noise_gain_g / in.snr;
    if (in.snr < 5.0)
        p.warnings.push_back(
            fmt::format("giqe3: SNR {:.2f} is below 5; GIQE predictions are unreliable there", in.snr));
    return p;
}

NiirsPrediction giqe4(const Giqe4Inputs& in) {
    constexpr const char* op = "giqe4";
    require_positive(op, "gsd_ground_m", in.gsd_ground_m);
    require_positive(op, "rer", in.rer);
    require_positive(op, "overshoot_h", in.overshoot_h);
    require_positive(op, "noise_gain_g", in.noise_gain_g);
    require_positive(op, "snr", in.snr);
    // Leachtenauer et al. 1997; NGA 2015 Table 1. The constant is 10.251 and the noise coefficient
    // 0.344 (pyBSM's 0.334 is a typo, NGA, General Image Quality Equation v5.0, 2015).
    const bool sharp = in.rer >= 0.9;
    const double a = sharp ? 3.32 : 3.16;
    const double b = sharp ? 1.559 : 2.817;
    NiirsPrediction p;
    p.version = GiqeVersion::giqe4;
    p.value = 10.251 - a * std::log10(to_inches(in.gsd_ground_m)) + b * std::log10(in.rer) - 0.656 * in.overshoot_h -
              0.344 * in.noise_gain_g / in.snr;
    p.standard_error = 0.3;
    if (in.elevation_deg) {
        require_elevation(op, *in.elevation_deg);
        if (*in.elevation_deg < 25.0)
            p.warnings.push_back(fmt::format(
                "giqe4: elevation {:.1f} deg is below the 25..90 deg range GIQE 4 was fitted on", *in.elevation_deg));
    }
    if (in.snr < 5.0)
        p.warnings.push_back(
            fmt::format("giqe4: SNR {:.2f} is below 5; GIQE predictions are unreliable there", in.snr));
    return p;
}

double giqe5_standard_error(double snr) {
    require_positive("giqe5_standard_error", "snr", snr);
    // NGA 2015 Table 4: SNR bins and the average standard errors.
    if (snr < 5.0) return 0.60;
    if (snr < 10.0) return 0.43;
    if (snr < 20.0) return 0.34;
    if (snr < 30.0) return 0.25;
    return 0.21;
}

double giqe5_standard_error_fit(double snr) {
    require_positive("giqe5_standard_error_fit", "snr", snr);
    // NGA 2015 Figure 7: y = 1.0415 x^-0.444 (R^2 0.9523).
    return 1.0415 * std::pow(snr, -0.444);
}

std::vector<std::string> giqe5_input_warnings(const Giqe5Inputs& in) {
    constexpr const char* op = "giqe5";
    std::vector<std::string> w;
    if (in.q) {
        require_positive(op, "q", *in.q);
        if (*in.q < 1.0 || *in.q > 2.0)
            w.push_back(
                fmt::format("giqe5: Q = {:.3f} is outside the 1..2 range GIQE 5 assumes (NGA 2015 §2.2); the "
                            "prediction is an extrapolation",
                            *in.q));
    }
    // NGA 2015 §3.1: validation GSD_W 3.3..34.4 in, GSD_GP up to 55.3 in (0.08..1.4 m).
    if (in.gsd_weighted_m < giqe5_validated_gsd_min_m || in.gsd_weighted_m > giqe5_validated_gsd_max_m)
        w.push_back(
            fmt::format("giqe5: weighted GSD {:.3g} m is outside the validated range of about {:.2f}..{:.1f} m; the "
                        "prediction is an extrapolation",
                        in.gsd_weighted_m, giqe5_validated_gsd_min_m, giqe5_validated_gsd_max_m));
    // NGA 2015 §2.4 and Table 3 (images with up to 4 px of smear: weighted RER 0.21); below it the
    // quartic term -2 (log10 RER)^4 dominates (-2 NIIRS at RER 0.1, -39 at 0.01).
    if (in.rer_weighted < giqe5_fitted_rer_min)
        w.push_back(fmt::format(
            "giqe5: weighted RER {:.3f} is below about {:.1f}, the blurriest imagery GIQE 5 was fitted on (NGA 2015 "
            "§2.4, Table 3); the prediction is an extrapolation",
            in.rer_weighted, giqe5_fitted_rer_min));
    // NGA 2015 abstract and §2.2: the RER of the un-enhanced image, which cannot exceed 1.
    std::vector<std::string> sharp_axes;
    for (const auto& [name, v] : {std::pair{"x", in.rer_x}, std::pair{"y", in.rer_y}})
        if (v && *v > giqe5_unsharpened_rer_max) sharp_axes.push_back(fmt::format("{} {:.3f}", name, *v));
    if (!sharp_axes.empty() || in.rer_weighted > giqe5_unsharpened_rer_max)
        w.push_back(fmt::format(
            "giqe5: RER above 1 ({}): the image was sharpened (MTF-compensated); GIQE 5 takes the RER of the "
            "un-sharpened image (NGA 2015 §2.2), so this NIIRS is not a valid rating",
            sharp_axes.empty() ? fmt::format("weighted {:.3f}", in.rer_weighted)
                               : fmt::format("{}", fmt::join(sharp_axes, ", "))));
    std::vector<std::string> alias_axes;
    for (const auto& [name, v] : {std::pair{"x", in.mtf50_x_cyc_per_px}, std::pair{"y", in.mtf50_y_cyc_per_px}})
        if (v && *v > nyquist_cyc_per_px) alias_axes.push_back(fmt::format("{} {:.2f}", name, *v));
    if (!alias_axes.empty())
        w.push_back(fmt::format(
            "giqe5: MTF50 above Nyquist, 0.5 cy/px ({} cy/px): the image was sharpened or is aliased, outside "
            "the un-sharpened imagery GIQE 5 rates",
            fmt::join(alias_axes, ", ")));
    if (in.snr < giqe5_low_snr)
        w.push_back(fmt::format(
            "giqe5: SNR {:.2f} is below 5: standard error about 0.6 NIIRS, use with caution (NGA 2015 Table 4)",
            in.snr));
    if (in.elevation_deg) {
        require_elevation(op, *in.elevation_deg);
        if (*in.elevation_deg < 8.9)
            w.push_back(
                fmt::format("giqe5: elevation {:.1f} deg is below the lowest elevation in the GIQE 5 data (8.9 deg)",
                            *in.elevation_deg));
    }
    if (in.measured_overshoot_h) {
        require_positive(op, "measured_overshoot_h", *in.measured_overshoot_h);
        if (*in.measured_overshoot_h > sharpened_overshoot_threshold)
            w.push_back(
                fmt::format("giqe5: measured edge overshoot H = {:.3f} > {:.2f} (lower quartile over the edges) "
                            "shows the image was already sharpened; "
                            "GIQE 5 expects "
                            "un-sharpened RER and SNR, so this prediction is biased",
                            *in.measured_overshoot_h, sharpened_overshoot_threshold));
    }
    return w;
}

std::optional<std::string> niirs_scale_warning(double niirs, const char* what) {
    // NGA 2015 §1: NIIRS is a 0 to 9 scale; GIQE 5's data span about 1 to 8 (Figure 6).
    if (niirs >= niirs_scale_min && niirs <= niirs_scale_max) return std::nullopt;
    return fmt::format(
        "{} {:.2f} lies outside the NIIRS scale (0 to 9): the figure is the equation extrapolated, not a rating", what,
        niirs);
}

std::optional<std::string> giqe5_warning_label(std::string_view w) {
    // The fixed words of each warning above (giqe5_input_warnings, niirs_scale_warning), in the
    // same file so that they change together (tests/pipeline/test_giqe.cpp checks every one).
    auto has = [&](std::string_view part) { return w.find(part) != std::string_view::npos; };
    if (has("outside the NIIRS scale (0 to 9)")) return "NIIRS outside the 0-9 scale: extrapolated, not a rating";
    if (w.rfind("giqe5: ", 0) != 0) return std::nullopt;
    if (has("is outside the 1..2 range GIQE 5 assumes")) return "Q outside 1..2: extrapolated";
    if (has("weighted GSD") && has("outside the validated range"))
        return fmt::format("weighted GSD outside the validated {:g}-{:g} m: extrapolated", giqe5_validated_gsd_min_m,
                           giqe5_validated_gsd_max_m);
    if (has("the blurriest imagery GIQE 5 was fitted on"))
        return fmt::format("weighted RER below {:g}, the blurriest fitted: extrapolated", giqe5_fitted_rer_min);
    if (has("RER above 1")) return "RER above 1 (sharpened): not a valid rating";
    if (has("MTF50 above Nyquist")) return "MTF50 above Nyquist: sharpened or aliased";
    if (has("is below 5: standard error about 0.6")) return "SNR below 5: standard error about 0.6 NIIRS";
    if (has("below the lowest elevation in the GIQE 5 data")) return "elevation below 8.9 deg: extrapolated";
    if (has("shows the image was already sharpened")) return "edge overshoot shows sharpening: biased";
    return std::nullopt;
}

NiirsPrediction giqe5(const Giqe5Inputs& in) {
    constexpr const char* op = "giqe5";
    require_positive(op, "gsd_weighted_m", in.gsd_weighted_m);
    require_positive(op, "rer_weighted", in.rer_weighted);
    require_positive(op, "snr", in.snr);
    // NGA 2015 eq. (2), Table 2: A0 9.57, A1 -3.32, A2 3.32, A3 -1.9, A4 -2, A5 -1.8.
    const double lr = std::log10(in.rer_weighted);
    NiirsPrediction p;
    p.version = GiqeVersion::giqe5;
    p.value = 9.57 - 3.32 * std::log10(to_inches(in.gsd_weighted_m)) + 3.32 * (1.0 - std::exp(-1.9 / in.snr)) * lr -
              2.0 * lr * lr * lr * lr - 1.8 / in.snr;
    p.standard_error = giqe5_standard_error(in.snr);
    p.warnings = giqe5_input_warnings(in);
    if (auto w = niirs_scale_warning(p.value)) p.warnings.push_back(*w);
    return p;
}

}  // namespace satiq::giqe
