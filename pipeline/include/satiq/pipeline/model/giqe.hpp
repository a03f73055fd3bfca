#pragma once
/// General Image Quality Equations (GIQE 3, 4 and 5): NIIRS from GSD, RER, overshoot, noise
/// gain and SNR, with standard errors and validity warnings.
///
/// Sources (NGA, General Image Quality Equation v5.0, 2015):
///  - GIQE 3: U.S. Government, "GIQE Users Guide, version 3.0", 1994 (coefficients as tabulated in
///    NGA, "General Image Quality Equation v5.0", 2015, Table 1).
///  - GIQE 4: Leachtenauer et al., Applied Optics 36(32):8322, 1997 (NGA 2015, Table 1).
///  - GIQE 5: NGA, "General Image Quality Equation v5.0", 16 Sep 2015, eq. (2), Table 2 (coefficients),
///    eq. (5) (weighted GSD), eq. (7) (weighted RER), Table 4 (standard error per SNR bin) and the
///    power-law fit of its Figure 7 (SE = 1.0415 SNR^-0.444).
///
/// Every GSD argument is in metres; the equations convert to inches (gsd_m / 0.0254) internally.
/// log is base 10. All functions are pure, thread-safe and deterministic. Invalid arguments
/// (non-finite, zero or negative GSD/RER/SNR/H/G, elevation outside (0, 90] degrees) throw satiq::Error.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace satiq::giqe {

inline constexpr double metres_per_inch = 0.0254;

enum class GiqeVersion { giqe3, giqe4, giqe5 };
const char* to_string(GiqeVersion v);

/// One NIIRS prediction. `standard_error` is the regression standard error reported by the source
/// (absent for GIQE 3, whose users guide is not at hand). `warnings` lists every validity concern.
struct NiirsPrediction {
    GiqeVersion version = GiqeVersion::giqe5;
    double value = 0.0;
    std::optional<double> standard_error;
    /// Measured inputs only (satiq assess): the NIIRS spread that the standard error of the
    /// measured RER alone causes, (NIIRS(RER + se) - NIIRS(RER - se)) / 2. Separate from the
    /// equation's own standard error, which describes the fit to analysts' ratings.
    std::optional<double> rer_measurement_error;
    std::vector<std::string> warnings;
};

// ---- geometry helpers (Leachtenauer et al., Appl. Opt. 36(32), 1997; NGA 2015 §2.3) ----

/// Ground-plane GSD (GIQE 4): gsd_normal / sqrt(sin(elevation)). elevation in (0, 90] degrees.
double gsd_ground_plane_m(double gsd_normal_m, double elevation_deg);
/// Weighted GSD (GIQE 5, NGA 2015 eq. 5): gsd_normal / sin(elevation)^(1/4).
double gsd_weighted_m(double gsd_normal_m, double elevation_deg);
/// Weighted RER (NGA 2015 eq. 7): (RER_hi * RER_lo^2)^(1/3); the poorer axis counts twice.
double rer_weighted(double rer_x, double rer_y);
/// Geometric mean sqrt(a*b) (RER_gm, H_gm, GSD_gm of GIQE 3/4).
double geometric_mean(double a, double b);

// ---- GIQE 3 ----

struct Giqe3Inputs {
    double gsd_normal_m = 0.0;  ///< geometric-mean normal-plane GSD, metres
    double rer = 0.0;           ///< geometric-mean RER, after sharpening
    double overshoot_h = 1.0;   ///< geometric-mean edge overshoot H, after sharpening
    double noise_gain_g = 1.0;  ///< noise gain of the sharpening kernel (1 = unsharpened)
    double snr = 0.0;           ///< SNR before sharpening
};
/// NIIRS = 11.81 + 3.32 log10(RER/GSD_in) - 1.48 H - G/SNR.
NiirsPrediction giqe3(const Giqe3Inputs& in);

// ---- GIQE 4 ----

struct Giqe4Inputs {
    double gsd_ground_m = 0.0;            ///< geometric-mean ground-plane GSD, metres
    double rer = 0.0;                     ///< geometric-mean RER, after sharpening
    double overshoot_h = 1.0;             ///< geometric-mean overshoot H, after sharpening
    double noise_gain_g = 1.0;            ///< noise gain (1 = unsharpened)
    double snr = 0.0;                     ///< SNR before sharpening
    std::optional<double> elevation_deg;  ///< only used for the 25..90 degree validity warning
};
/// NIIRS = 10.251 - a log10(GSD_in) + b log10(RER) - 0.656 H - 0.344 G/SNR,
/// a = 3.32, b = 1.559 when RER >= 0.9, else a = 3.16, b = 2.817. Standard error 0.3.
NiirsPrediction giqe4(const Giqe4Inputs& in);

// ---- GIQE 5 ----

struct Giqe5Inputs {
    double gsd_weighted_m = 0.0;          ///< weighted GSD (eq. 5), metres
    double rer_weighted = 0.0;            ///< weighted RER (eq. 7) of the UN-sharpened image
    double snr = 0.0;                     ///< SNR of the un-sharpened image
    std::optional<double> q;              ///< lambda F#/pitch when known (validity 1..2)
    std::optional<double> elevation_deg;  ///< target elevation when known (data down to 8.9 deg)
    /// Measured edge overshoot of the input image, when the inputs were measured on an image, as
    /// the overshoot most of its edges reach: the lower quartile of H over the edges (satiq
    /// assess: the geometric mean over the axes with at least 3 edges). Above
    /// `sharpened_overshoot_threshold` the image was already sharpened, which GIQE 5 does not
    /// expect (an un-sharpened incoherent system has a monotonic edge, H <= 1). Not the median:
    /// scene clutter within 3 px of a few edges lifts it at coarse GSDs without any sharpening.
    std::optional<double> measured_overshoot_h;
    /// Per-axis RER when known (measured or modelled): an axis above 1 is named in the
    /// sharpening warning (the weighted RER can stay below 1 while one axis is above it).
    std::optional<double> rer_x, rer_y;
    /// Measured MTF50 per axis, cycles per pixel (satiq assess): above Nyquist (0.5) the image was
    /// sharpened or is aliased.
    std::optional<double> mtf50_x_cyc_per_px, mtf50_y_cyc_per_px;
};
inline constexpr double sharpened_overshoot_threshold = 1.05;
/// Validated GSD range (NGA, General Image Quality Equation v5.0, 2015: about 0.08..1.4 m; NGA 2015 §3.1 validation set
/// GSD_W 3.3..34.4 in, GSD_GP up to 55.3 in).
inline constexpr double giqe5_validated_gsd_min_m = 0.08;
inline constexpr double giqe5_validated_gsd_max_m = 1.4;

// ---- GIQE 5 calibration and validity ranges (one place; NGA 2015, see docs/method.md) ----
//
// NGA, "General Image Quality Equation v5.0", 16 Sep 2015:
//  - §3.1 (p. 6), the 47 validation images, mean (min, max): RER 0.41 (0.31, 0.54), SNR 10.64
//    (4.1, 26.7), GSD_W 13.2 (3.3, 34.4) in, GSD_GP 18.6 (3.3, 55.3) in, IA NIIRS 5.9 (2.9, 7.7),
//    elevation 34.6 (8.9, 87.3) deg. The ranges of the 469 calibration images are not tabulated.
//  - §2.4 (p. 5) and Table 3: the calibration data include images with up to 4 px of smear, whose
//    weighted RER Table 3 puts at 0.211 (Q = 1); Figure 1 plots the equation down to RER 0.1.
//  - Abstract, §1 and §2.2: GIQE 5 takes the RER of the UN-enhanced image. An un-sharpened
//    incoherent system has a non-negative PSF, so its edge rises by at most 1 over a pixel: RER <= 1.
//  - Table 4 (p. 8): SNR bins 0-5 (N 41) to > 30 (N 40); below 5 the standard error is 0.6 and the
//    equation "should be used with caution" (§3.3). No upper SNR bound is published; the SNR terms
//    vanish as SNR grows, so no warning is given above it.
//  - §1: NIIRS is a 0 to 9 scale; Figure 6 (all 469 images) spans predicted NIIRS about 1 to 8.
/// Lowest weighted RER the equation is taken to be calibrated for (NGA 2015 §2.4, Table 3).
inline constexpr double giqe5_fitted_rer_min = 0.2;
/// Highest RER of an un-sharpened image (GIQE 5 takes the un-enhanced RER).
inline constexpr double giqe5_unsharpened_rer_max = 1.0;
/// SNR below which GIQE 5 is imprecise (NGA 2015 Table 4, §3.3).
inline constexpr double giqe5_low_snr = 5.0;
/// The NIIRS scale (NGA 2015 §1: "presently 0 to 9").
inline constexpr double niirs_scale_min = 0.0;
inline constexpr double niirs_scale_max = 9.0;
/// Nyquist frequency, cycles per pixel: a measured MTF50 above it means sharpening or aliasing.
inline constexpr double nyquist_cyc_per_px = 0.5;

/// Every validity warning of GIQE 5's inputs against the ranges above: Q outside 1..2, weighted
/// GSD outside the validated range, weighted RER below giqe5_fitted_rer_min, any RER (weighted or
/// per axis) above 1, MTF50 above Nyquist, SNR below 5, elevation below 8.9 deg, measured H showing
/// sharpening. Human sentences; empty inside the ranges.
std::vector<std::string> giqe5_input_warnings(const Giqe5Inputs& in);
/// A NIIRS outside the 0..9 scale: "an extrapolation, not a rating". `what` names the figure
/// ("GIQE 5 NIIRS"). Empty when on the scale.
std::optional<std::string> niirs_scale_warning(double niirs, const char* what = "GIQE 5 NIIRS");
/// A short label of a warning of giqe5_input_warnings or niirs_scale_warning, the same whatever
/// the values in it ("weighted GSD outside the validated 0.08-1.4 m: extrapolated"), for a table
/// that groups them (the sweep's); nullopt for any other warning.
std::optional<std::string> giqe5_warning_label(std::string_view warning);

/// NIIRS = 9.57 - 3.32 log10(GSD_in) + 3.32 (1 - exp(-1.9/SNR)) log10(RER)
///         - 2 (log10 RER)^4 - 1.8/SNR.
/// standard_error = giqe5_standard_error(snr) (Table 4 bins). Warnings: giqe5_input_warnings(in) and
/// niirs_scale_warning(value). The value itself is never clamped.
NiirsPrediction giqe5(const Giqe5Inputs& in);

/// GIQE 5 regression standard error by SNR bin (NGA 2015 Table 4): SNR < 5: 0.60, 5..10: 0.43,
/// 10..20: 0.34, 20..30: 0.25, >= 30: 0.21 (each bin includes its lower bound).
double giqe5_standard_error(double snr);
/// The power-law fit of NGA 2015 Figure 7: 1.0415 * SNR^-0.444 (smooth alternative to the bins).
double giqe5_standard_error_fit(double snr);

}  // namespace satiq::giqe
