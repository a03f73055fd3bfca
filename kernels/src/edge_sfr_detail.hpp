#pragma once
// Private stages of the per-edge slanted-edge analysis (not installed, not public). The method,
// stage by stage (ISO 12233:2017 e-SFR in the manner of P. Burns' sfrmat and MTF Mapper):
//   edge_sfr_geometry.cpp  scan lines across the segment, their pixel values, the polarity, the
//                          per-scan edge locations and the straight-line fit, and the projection
//                          of every pixel onto the edge normal into supersampled bins;
//   edge_sfr_profile.cpp   plateau levels and noise, the conditioned (normalized, recentred,
//                          gap-filled) ESF, its 50 % crossing and 10-90 % rise, the LSF and its
//                          width, RER and overshoot from local fits, and the MTF;
//   edge_sfr.cpp           measure_centred (the stages in order), the verdict and quality, the
//                          adaptive-width retry, user rectangles and the public API.
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "satiq/kernels/edges.hpp"

namespace satiq::detail {

inline constexpr double kPi = std::numbers::pi;

void set_verdict(EdgeMeasurement& m, EdgeVerdict v, std::string reason);
std::string fmt2(double v);

// Median (mean of the two middle values for an even count); 0 for no values.
double median_of(std::vector<double> v);

// Straight-line fit u = a + b s with iterative outlier rejection (3 x 1.4826 MAD, floor
// 0.3 px), then a quadratic fit of the inliers for the bow (sagitta) and its standard error.
struct LineFit {
    bool ok = false;
    double a = 0.0, b = 0.0;
    double rms = 0.0;
    double sagitta = 0.0;
    double sagitta_se = 0.0;
    double inlier_fraction = 0.0;
};

LineFit fit_line(const std::vector<double>& s, const std::vector<double>& u, const std::vector<char>& valid);

// Samples of one edge in the (u, s) frame: u runs along the scan line (x for axis x), s across
// scan lines. Value accessor hides the transposition.
struct Frame {
    ConstImageView<float> img;
    bool axis_x = true;
    [[nodiscard]] std::int64_t u_size() const { return axis_x ? img.width : img.height; }
    [[nodiscard]] std::int64_t s_size() const { return axis_x ? img.height : img.width; }
    [[nodiscard]] float at(std::int64_t u, std::int64_t s) const { return axis_x ? img.at(u, s) : img.at(s, u); }
};

// Centroid of the polarity-signed central-difference derivative over [i0, i1] of one scan
// (edge_sfr_geometry.cpp).
bool derivative_centroid(const float* v, std::int64_t i0, std::int64_t i1, double pol, double& pos);

// ---- Geometry stages (edge_sfr_geometry.cpp) ----

// The scan lines (rows for axis x, columns for axis y) across the caller's segment whose whole
// window of `span` pixels lies inside the image: scan line s starts at u = first_u[j].
struct ScanLines {
    Frame frame;
    double guess_a = 0.0, guess_b = 0.0;  ///< the caller's segment as u = a + b s
    double guess_cos = 1.0;               ///< cos of its slant
    double half_width = 0.0;              ///< ROI half-width along the normal (px)
    std::int64_t span = 0;                ///< pixels per scan window
    std::vector<std::int64_t> s;          ///< scan line index
    std::vector<std::int64_t> first_u;    ///< first pixel of the window along the scan
    std::int64_t outside = 0;             ///< scan lines dropped because they leave the image
    [[nodiscard]] std::int64_t count() const { return static_cast<std::int64_t>(s.size()); }
};

// Picks the scan lines and checks the usable length; false (with the verdict set) when the
// region lies outside the image or the edge is too short.
bool select_scan_lines(ConstImageView<float> image, const EdgeSegment& seg, const EdgeSfrParams& p, EdgeMeasurement& m,
                       ScanLines& scans);

// Pixel values of every scan window, row-major (count() x span); false (verdict set) at the
// first nodata or saturated pixel.
bool gather_scan_values(const ScanLines& scans, ConstImageView<std::uint8_t> mask, const EdgeSfrParams& p,
                        EdgeMeasurement& m, std::vector<float>& values);

// +1 when the bright side lies along +u, -1 along -u, 0 when neither side is brighter.
double edge_polarity(const ScanLines& scans, const std::vector<float>& values);

// The edge line fitted to the per-scan edge locations, u = fit.a + fit.b s.
struct EdgeLine {
    LineFit fit;
    std::vector<double> scan_s;  ///< s of every scan line, as double
};

// Two passes of per-scan location and line fit; false (verdict set) when the edge is missing
// from most scan lines or the fit fails. Also records the fit and the edge's geometry in m.
bool fit_edge_line(const ScanLines& scans, const std::vector<float>& values, double polarity, const EdgeSegment& seg,
                   EdgeMeasurement& m, EdgeLine& line);

// One pixel projected onto the edge normal: distance d (bright side > 0), value v, bin k.
struct ProjectedSample {
    double d, v;
    std::int64_t k;
};

// The pixels of the ROI projected onto the edge normal and binned at `oversampling` bins per
// pixel from bin_lo = -half_bins / oversampling.
struct NormalProjection {
    int oversampling = 4;
    double bin_width = 0.25;  ///< h = 1 / oversampling (px)
    std::int64_t n_bins = 0;
    double bin_lo = 0.0;  ///< lower edge of bin 0 (px along the normal)
    std::vector<double> bin_sum, bin_pos;
    std::vector<std::int64_t> bin_count;
    std::vector<ProjectedSample> samples;   ///< in scan order
    std::vector<std::int64_t> bin_offsets;  ///< samples of bin k, grouped: [offsets[k], offsets[k + 1])
    [[nodiscard]] double edge_limit() const { return -bin_lo; }
    [[nodiscard]] double bin_centre(std::int64_t k) const {
        return bin_lo + (static_cast<double>(k) + 0.5) * bin_width;
    }
};

NormalProjection project_onto_edge_normal(const ScanLines& scans, const std::vector<float>& values, double polarity,
                                          const EdgeLine& line, int oversampling);

// ---- Profile stages (edge_sfr_profile.cpp) ----

// Plateau statistics beyond the levels, contrast and noise recorded in m.
struct Plateaus {
    double noise = 0.0;  ///< the noise used for the tests: the given sigma, else the plateau noise
    double slope = 0.0;  ///< the larger plateau's inner-outer level difference / contrast
};

// Dark and bright plateau levels, noise and contrast; false (verdict set) when the plateaus are
// too small or do not differ in the edge's direction.
bool measure_plateaus(const NormalProjection& proj, double half_width, const EdgeSfrParams& p, EdgeMeasurement& m,
                      Plateaus& plateaus);

// The binned ESF on a uniform grid, and the normalized samples grouped by bin.
struct ConditionedEsf {
    std::vector<double> esf;       ///< normalized (dark 0, bright 1), one value per bin
    std::vector<double> sample_d;  ///< sample distances, grouped by bin (bin_offsets)
    std::vector<double> sample_v;  ///< normalized sample values, same order
};

// Normalizes, recentres and gap-fills the binned ESF (records the empty-bin fraction); false
// (verdict set) when too few bins hold samples.
bool condition_esf(const NormalProjection& proj, EdgeMeasurement& m, ConditionedEsf& esf);

// The 50 % crossing of the binned ESF nearest to the fitted line.
struct EsfCentre {
    bool found = false;
    double centre = 0.0;
};

EsfCentre find_esf_centre(const NormalProjection& proj, const std::vector<double>& esf);

// 10-90 % rise of the binned ESF about a found centre.
double rise_10_90(const NormalProjection& proj, const std::vector<double>& esf, double centre);

// The metrics computed from a found centre within 2 px of the line: the LSF, its FWHM, RER,
// overshoot and the MTF, recorded in m. `centre` is refined on the raw samples; returns false
// when the MTF or a figure is undefined (the caller then zeroes them). `fwhm_window` receives
// the binned LSF's FWHM, which scales the ESF evaluator's window.
bool measure_transfer(const NormalProjection& proj, const ConditionedEsf& esf, const Plateaus& plateaus,
                      const EdgeSfrParams& p, EdgeMeasurement& m, double& centre, double& fwhm_window);

// Largest excursion of the binned ESF beyond its plateaus 1..3 px from the centre.
double esf_excursion(const NormalProjection& proj, const std::vector<double>& esf, double centre);

}  // namespace satiq::detail
