#pragma once
/// Slanted-edge measurement from the image itself: automatic edge finding, per-edge ESF / LSF /
/// MTF / RER analysis (ISO 12233:2017 e-SFR, as in P. Burns' sfrmat and MTF Mapper) and per-axis
/// aggregation for the GIQE.
///
/// Coordinates (GDAL's convention, as synth.hpp): pixel (i, j) covers [i, i+1) x [j, j+1) in
/// continuous pixel coordinates, its centre is (i + 0.5, j + 0.5); x grows to the right
/// (columns), y downwards (rows). Segment endpoints are in these coordinates; rectangles are
/// integer pixel indices.
///
/// Axis convention (as sfrmat): an edge whose normal is closer to the x axis (a near-vertical
/// edge) measures the response along x; it is located per row. A near-horizontal edge
/// measures y and is located per column. Every pixel of the region of interest is projected
/// onto the fitted edge *normal* and binned at 4x oversampling: distances, the ESF abscissa and
/// all frequencies are in units of the pixel pitch measured along the normal (sfrmat3 gets the
/// same by binning along the pixel row and scaling the sampling interval by cos(slant), its
/// `delfac`). Cycles per metre use the GSD of the axis the normal is closest to.
///
/// What that measures for a slanted edge: the pixel's square aperture seen along a normal at
/// slant angle a is a unit box only for a = 0; in general it is the convolution of boxes of
/// widths cos(a) and sin(a) (a trapezoid with the same variance 1/12; transfer function
/// sinc(f cos a) sinc(f sin a)). So the 1-D model ESF(d) = int_{d-0.5}^{d+0.5} Phi(u/sigma) du,
/// MTF = exp(-2 pi^2 sigma^2 f^2)|sinc f| is exact at a = 0 and approximate otherwise: for a
/// Gaussian blur sigma = 0.3 px the exact RER is 0.7609 at 5 deg and 0.7655 at 43 deg against
/// 0.7607 for the 1-D model, MTF50 0.4425 / 0.4463 against 0.4423 cy/px; for sigma >= 0.6 px
/// the differences stay below 0.0012 in RER and 0.2 % in MTF50 (tests/kernels/test_edge_sfr.cpp
/// checks the measurement against the exact truth and, up to 10 deg, against the 1-D model).
///
/// Accuracy (noise-free renders, sigma 0.3..1.5 px, slant 2.5..43 deg and 87 deg, ROI
/// half-width 12): RER within 0.001 of the exact truth, MTF50 within 0.2 %, H within 0.001.
/// At SNR 50 with 200 px edges: RER within 0.008, MTF50 within 1.5 %, H within 0.005.
///
/// Quality: every analysed edge gets a verdict. `ok` and `near_axis_angle` (slant within
/// `axis_margin_deg` of 0 or 45 deg: usable, quality score halved) count as usable; every other
/// verdict is a rejection reason. Nothing returns NaN or infinity: undefined figures are 0 and
/// the verdict says why.
///
/// Aggregation: per axis, a random-effects weighted median. Each edge's RER carries a
/// measurement standard error (noise and plateau texture over the samples of its two ESF fits);
/// real scenes add a spread between edges (scene softening, texture) that the DerSimonian-Laird
/// estimator measures as tau^2 from the edges themselves. Each edge weighs 1 / (se^2 + tau^2):
/// precise edges count more, but once the scene spread dominates, no single high-contrast edge
/// can outvote the others (DerSimonian & Laird, Controlled Clinical Trials 7:177-188, 1986).
/// The same weights give the quartiles and the median's standard error.

/// Threading and determinism: `find_edges` runs TBB-parallel over fixed tiles; the candidates
/// are sorted by a deterministic key, and each edge is analysed independently
/// (`parallel_items`) into its own slot: the output is identical for any thread count.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "satiq/kernels/image.hpp"
#include "satiq/kernels/noise_estimate.hpp"

namespace satiq {

/// The pixel axis an edge measures (the one its normal is closest to).
enum class EdgeAxis { x, y };

enum class EdgeVerdict {
    ok,               ///< usable
    near_axis_angle,  ///< usable, rated lower: slant within axis_margin_deg of 0 or 45 deg
    too_short,        ///< fewer than min_length_px usable rows/columns inside the image
    outside_image,    ///< the region of interest does not fit in the image
    nodata,           ///< a nodata or non-finite pixel in the region of interest
    clipped,          ///< a saturated pixel (>= saturation_dn) in the region of interest
    no_edge,          ///< no consistent edge crossing found (line fit or 50 % crossing failed)
    low_contrast,     ///< plateau difference below min_contrast_to_noise x noise sigma
    noisy_plateau,    ///< plateaus not flat: texture or a slope instead of a uniform area
    curved,           ///< edge not straight: sagitta or line-fit residual too large
    sparse_sampling,  ///< too many empty oversampling bins near the edge (angle too close to 0/45)
    wide_transition,  ///< 10-90 % rise wider than max_rise_px: a composite edge (e.g. a shadow
                      ///< penumbra beside a roof) rather than one blurred step; in
                      ///< analyse_edges also a rise above max_rise_over_median x the median
    not_a_step,       ///< the ESF overshoots or undershoots its plateaus by more than
                      ///< max_esf_excursion near the edge (a thin line beside it), or RER x
                      ///< rise below min_rer_rise_product (a double step)
};
inline constexpr std::size_t kEdgeVerdictCount = 13;

[[nodiscard]] const char* to_string(EdgeVerdict v);
[[nodiscard]] const char* to_string(EdgeAxis a);
[[nodiscard]] constexpr bool is_usable(EdgeVerdict v) {
    return v == EdgeVerdict::ok || v == EdgeVerdict::near_axis_angle;
}

/// An approximately located straight edge: endpoints in pixel coordinates.
struct EdgeSegment {
    double x0_px = 0.0, y0_px = 0.0, x1_px = 0.0, y1_px = 0.0;
    double score = 0.0;  ///< finder's ranking (length x gradient / noise); 0 for user segments
};

/// A user-given region: either a pixel rectangle holding one edge (as sfrmat takes), or a line
/// segment with a half-width across it.
struct EdgeRoi {
    enum class Kind { rectangle, segment };
    Kind kind = Kind::rectangle;
    // rectangle: [x_px, x_px + width_px) x [y_px, y_px + height_px)
    std::int64_t x_px = 0, y_px = 0, width_px = 0, height_px = 0;
    // segment
    EdgeSegment segment;
    double half_width_px = 0.0;  ///< segment: half-width across the edge (0: EdgeSfrParams default)

    static EdgeRoi rectangle(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h) {
        EdgeRoi r;
        r.kind = Kind::rectangle;
        r.x_px = x;
        r.y_px = y;
        r.width_px = w;
        r.height_px = h;
        return r;
    }
    static EdgeRoi line(double x0, double y0, double x1, double y1, double half_width_px = 0.0) {
        EdgeRoi r;
        r.kind = Kind::segment;
        r.segment = {x0, y0, x1, y1, 0.0};
        r.half_width_px = half_width_px;
        return r;
    }
};

/// Per-edge analysis parameters.
struct EdgeSfrParams {
    /// ROI half-width across the edge, along the normal, in [5, 64]. 8 suits sharp satellite
    /// imagery (blur sigma <= 1 px) with short building edges; use 12-16 for blurrier images.
    double roi_half_width_px = 8.0;
    /// Automatic search (analyse_edges) only: an edge that fails at roi_half_width_px is
    /// measured again at narrower half-widths (x0.75 per step) down to this one, and the widest
    /// that passes every test is kept (a road narrower than the ROI, a textured or sloped
    /// plateau further out, a neighbouring object). 0 or >= roi_half_width_px: no retry.
    double min_roi_half_width_px = 5.0;
    int oversampling = 4;                  ///< ESF bins per pixel (ISO 12233: 4)
    double noise_sigma_dn = 0.0;           ///< image noise; <= 0: taken from the plateaus of each edge
    double saturation_dn = 3.0e38;         ///< pixels >= this are saturated (clipped verdict)
    double min_length_px = 20.0;           ///< minimum usable edge length (rows/columns)
    double end_trim_px = 2.0;              ///< trimmed from each end of a found segment (corners)
    double min_contrast_to_noise = 10.0;   ///< plateau difference / noise sigma
    double max_plateau_noise_ratio = 3.0;  ///< plateau robust std / noise sigma (only when noise given)
    /// Mild plateau texture is tolerated above max_plateau_noise_ratio when it stays below this
    /// fraction of the contrast *and* the RER standard error it implies (plateau std /
    /// contrast x sqrt(2 / samples in the ESF evaluation window)) stays below
    /// max_texture_rer_error: what matters is the noise of the ESF, not absolute flatness.
    /// The aggregate weighs each edge by its RER standard error (texture included), so these
    /// limits only keep out edges whose texture would swamp the measurement (raised from
    /// 0.10 / 0.02 when the aggregate became error-weighted: sample_geotiff.tif, a forest
    /// scene, went from 9 to 15 usable edges).
    double max_plateau_texture_fraction = 0.15;
    double max_texture_rer_error = 0.04;
    double max_plateau_slope = 0.12;       ///< plateau inner-outer difference / contrast
    double max_sagitta_px = 0.5;           ///< quadratic-fit bow over the edge length
    double max_line_rms_px = 0.6;          ///< rms residual of the per-row edge positions
    double axis_margin_deg = 2.0;          ///< slant within this of 0 or 45 deg: near_axis_angle
    double max_empty_bin_fraction = 0.25;  ///< within +-3 px of the edge
    /// Largest excursion of the binned ESF beyond its plateaus within 1..3 px of the edge
    /// (above 1 on the bright side, below 0 on the dark side). Sharpened imagery overshoots by
    /// up to ~0.3; a thin bright line beside the edge exceeds this (a painted runway border:
    /// ~0.5; at 0.6 those edges made a second mode at RER 0.8 on the synthetic airfield).
    double max_esf_excursion = 0.4;
    /// RER x 10-90 % rise below this: a double step (unimodal LSFs give >= ~0.7).
    double min_rer_rise_product = 0.5;
    /// analyse_edges only: a usable edge whose 10-90 % rise exceeds this multiple of the
    /// median rise of the image's usable edges (at least 3) is a soft scene transition (a
    /// penumbra, a rounded object), not the system's step response: wide_transition. The
    /// system blur is common to every edge and the scene can only add to it. 0: off.
    double max_rise_over_median = 1.75;
    double max_rise_px = 5.0;    ///< 10-90 % rise distance (a Gaussian blur of 1.5 px gives 3.9)
    double gsd_x_m = 0.0;        ///< ground sample distance along x; 0: unknown
    double gsd_y_m = 0.0;        ///< ground sample distance along y; 0: unknown
    bool keep_profiles = false;  ///< store ESF, LSF and MTF curves in each measurement
};

void validate(const EdgeSfrParams& p);

/// The result for one edge. Figures are 0 when the verdict is not usable and the stage that
/// produces them was not reached.
struct EdgeMeasurement {
    EdgeSegment segment;  ///< the analysed part of the edge (fitted line, trimmed)
    EdgeVerdict verdict = EdgeVerdict::no_edge;
    std::string reason;  ///< human-readable detail of the verdict
    EdgeAxis axis = EdgeAxis::x;
    double angle_deg = 0.0;           ///< orientation of the edge line, [0, 180), from +x towards +y
    double slant_deg = 0.0;           ///< angle between the edge and the nearest pixel axis, [0, 45]
    double length_px = 0.0;           ///< rows (axis x) or columns (axis y) used
    double dark_dn = 0.0;             ///< dark plateau level
    double bright_dn = 0.0;           ///< bright plateau level
    double contrast_dn = 0.0;         ///< bright - dark
    double plateau_noise_dn = 0.0;    ///< robust std of the plateau samples
    double contrast_to_noise = 0.0;   ///< contrast / noise sigma (capped at 1e6)
    double line_rms_px = 0.0;         ///< rms residual of the per-row positions about the line
    double sagitta_px = 0.0;          ///< bow of a quadratic fit over the length
    double inlier_fraction = 0.0;     ///< rows kept by the line fit's outlier rejection
    double empty_bin_fraction = 0.0;  ///< empty bins within +-3 px before filling
    double rise_10_90_px = 0.0;       ///< distance between the 10 % and 90 % points of the ESF
    double roi_half_width_px = 0.0;   ///< the half-width used (see min_roi_half_width_px)
    double rer = 0.0;                 ///< ESF(c+0.5) - ESF(c-0.5), c = 50 % crossing
    double overshoot_h = 0.0;         ///< max ESF over c+1..c+3 (0.25 steps), or ESF(c+1.25) if monotonic
    double fwhm_px = 0.0;             ///< full width at half maximum of the LSF
    double mtf50_cyc_per_px = 0.0;    ///< along the normal
    double mtf_nyquist = 0.0;         ///< MTF at 0.5 cycles per pixel
    double mtf50_cyc_per_m = 0.0;     ///< mtf50_cyc_per_px / gsd of the axis; 0 when the gsd is unknown
    /// 0..1 score for ranking and display: min(1, length/100 px) x min(1, CNR/100)^2 x
    /// (1 - empty_bin_fraction) x a straightness factor, halved for near_axis_angle; 0 when
    /// not usable. The aggregate weighs edges by rer_standard_error instead.
    double quality = 0.0;
    /// Standard error of `rer` from noise and plateau texture: sqrt(2) x 1.5 x (sigma /
    /// contrast) / sqrt(n), n the samples within each of the two local cubic fits (1.5: the
    /// variance factor of a cubic fit's centre value); x sqrt(2) for near_axis_angle. 0 when
    /// not usable.
    double rer_standard_error = 0.0;
    // Only with keep_profiles:
    std::vector<float> esf;  ///< normalized, bins of 1/oversampling px from -half_width
    std::vector<float> lsf;  ///< derivative of esf (per px)
    std::vector<float> mtf;  ///< at k/64 cycles per pixel, k = 0..64 (0..1 cy/px)
};

/// Measures one edge given an approximate segment (from the finder or the user).
/// `valid_mask` may be empty. Never throws for image content; throws satiq::Error for invalid
/// parameters or a mask of the wrong size.
[[nodiscard]] EdgeMeasurement measure_edge(ConstImageView<float> image, ConstImageView<std::uint8_t> valid_mask,
                                           const EdgeSegment& segment, const EdgeSfrParams& params);

/// measure_edge at roi_half_width_px, then (when that fails) at narrower half-widths down to
/// min_roi_half_width_px: the widest usable measurement, else the first attempt's. Used by
/// analyse_edges.
[[nodiscard]] EdgeMeasurement measure_edge_adaptive(ConstImageView<float> image,
                                                    ConstImageView<std::uint8_t> valid_mask, const EdgeSegment& segment,
                                                    const EdgeSfrParams& params);

/// Robust summary of one figure over the usable edges of an axis: the weighted median and
/// quartiles (weights 1 / (rer_standard_error^2 + tau^2), see the top; equal weights give the
/// ordinary median), and the median's standard error, sqrt(pi / 2) / sqrt(sum of weights)
/// (the large-sample efficiency of the median, in RER units; filled for `rer` only).
struct EdgeStatistic {
    double median = 0.0;
    double q1 = 0.0;
    double q3 = 0.0;
    double iqr = 0.0;
    double standard_error = 0.0;
};

/// Points of EdgeMeasurement::mtf: k/64 cycles per pixel, k = 0..64.
inline constexpr std::size_t kEdgeMtfPoints = 65;

/// One frequency of an axis's MTF curve across its usable edges.
struct EdgeMtfCurvePoint {
    double frequency_cyc_per_px = 0.0;
    double median = 0.0, q1 = 0.0, q3 = 0.0;  ///< weighted, with the weights of EdgeAxisSummary::rer
    std::int64_t edges = 0;                   ///< edges with a curve
};

struct EdgeAxisSummary {
    std::int64_t count = 0;  ///< usable edges measuring this axis
    EdgeStatistic rer, mtf50_cyc_per_px, mtf_nyquist, fwhm_px, overshoot_h;
    double mtf50_cyc_per_m = 0.0;  ///< median; 0 when the gsd is unknown
    double rer_tau = 0.0;          ///< between-edge spread of RER beyond the measurement error (DerSimonian-Laird tau)
    /// The usable edges' MTF (ISO 12233:2017 e-SFR) summarized frequency by frequency on the grid
    /// of EdgeMeasurement::mtf: at each frequency the weighted median and quartiles over the edges,
    /// with the random-effects weights of `rer`. A point-wise summary: the median curve need not be
    /// any one edge's MTF. Empty unless the edges carry their profiles (EdgeSfrParams::keep_profiles).
    std::vector<EdgeMtfCurvePoint> mtf_curve;
};

struct EdgeAggregate {
    bool usable = false;  ///< at least one usable edge
    std::string message;  ///< "no usable edges: ..." with the main rejection reasons
    EdgeAxisSummary x, y;
    std::int64_t analysed = 0;
    std::int64_t usable_count = 0;
    std::array<std::int64_t, kEdgeVerdictCount> verdict_counts{};  ///< indexed by EdgeVerdict
    /// GIQE 3/4: geometric mean of the two axes' median RER; GIQE 5 (NGA 2015):
    /// (RER_hi * RER_lo^2)^(1/3). When only one axis has edges, that axis stands for both and
    /// `single_axis` is true.
    double rer_gm = 0.0;
    double rer_weighted = 0.0;
    double overshoot_h_gm = 0.0;  ///< geometric mean of the two axes' median H
    bool single_axis = false;
};

/// Aggregates the usable measurements per axis (random-effects weighted median and quartiles).
[[nodiscard]] EdgeAggregate aggregate_edges(std::span<const EdgeMeasurement> edges);

/// The aggregate RER of a subset of the usable edges (one half of the image).
struct EdgeSubsetRer {
    std::int64_t x_count = 0;  ///< usable edges measuring x in the subset
    std::int64_t y_count = 0;
    double rer_gm = 0.0;  ///< as EdgeAggregate::rer_gm over the subset; 0 without usable edges
    /// Standard error of rer_gm by the delta method from the two axes' median standard errors:
    /// 0.5 x gm x sqrt((se_x / rer_x)^2 + (se_y / rer_y)^2); the axis's own error when only one
    /// axis has edges.
    double standard_error = 0.0;
};

/// Two subsets and their difference (second minus first). `compared` is false (and the
/// difference 0) unless both have usable edges.
struct EdgeSplit {
    EdgeSubsetRer first, second;
    bool compared = false;
    double difference = 0.0;
    double standard_error = 0.0;  ///< sqrt(se_first^2 + se_second^2)
    /// Chance yardstick for `difference` (a restricted permutation test: whole objects, see
    /// EdgeRobustness, are the exchangeable units, since the edges of one building are not
    /// independent; P. Good, "Permutation, Parametric and Bootstrap Tests of Hypotheses", 3rd
    /// ed., Springer 2005, sections 3.1 and 3.6). The objects are dealt in a random order into two
    /// groups, an object joining the first group while that keeps it within half the object's
    /// edges of the first half's edge count; each group is aggregated like a half. Filled only
    /// when `compared`; `random_splits` counts the deals where both groups had usable edges.
    std::int64_t random_splits = 0;
    double random_median_abs_difference = 0.0;  ///< median |difference| over the random deals
    double random_p90_abs_difference = 0.0;     ///< their 90th percentile (nearest rank)
    /// (1 + deals with |difference| >= the halves' |difference|) / (1 + random_splits): small
    /// when the halves differ more than dealing the same objects at random does.
    double p_value = 1.0;
};

/// How much the aggregate RER depends on single edges, single objects and the part of the image
/// (leave-one-out influence: the jackknife's pseudo-values without the variance step, M. H.
/// Quenouille 1956, J. W. Tukey 1958).
/// - Edge influence: the largest change of rer_gm when one usable edge is left out.
/// - Object influence: edges of one building or road section are not independent, so usable
///   edges whose analysed segments come within `object_gap_px` of each other are grouped
///   (transitively) into objects, and each object is left out in turn.
/// - Spatial halves: the usable edges split by the midpoint of their segment into the top and
///   bottom (and left and right) halves of the image, each half aggregated on its own, and
///   compared with `random_deals` random splits of the same objects (EdgeSplit): natural edges
///   differ by more than their measurement errors (tau 0.05-0.15 RER), so two halves with a
///   few objects each differ by chance alone, and the deals say by how much.
/// Leaving out every usable edge gives rer_gm 0, so an image that rests on one edge reports
/// its whole RER as that edge's influence.
struct EdgeRobustness {
    double object_gap_px = 0.0;
    std::int64_t objects = 0;               ///< groups of usable edges
    std::int64_t largest_object_edges = 0;  ///< usable edges in the largest group
    double max_edge_change = 0.0;           ///< |change of rer_gm|, largest over the usable edges
    double max_object_change = 0.0;         ///< |change of rer_gm|, largest over the objects
    /// Midpoint (pixel coordinates) of the segments of the object whose removal changes
    /// rer_gm most, and its usable-edge count (0 when there are no usable edges).
    double max_object_x_px = 0.0, max_object_y_px = 0.0;
    std::int64_t max_object_edges = 0;
    EdgeSplit top_bottom, left_right;
};

/// Computes the above for the usable edges of an image of width x height pixels; the subsets
/// use the same aggregation as aggregate_edges (RER only). Deterministic for any thread count.
/// Cost: one O(n) RER median per usable edge, per object and per random deal (the axes are
/// sorted once), so O(n^2 + deals n) for n usable edges, plus a bounding-box sweep for the
/// object grouping; on the project machine (999 deals) 7 ms for n = 200, 83 ms for 2000 and
/// 194 ms for 4000 (2 threads, bench_edges). The deals are seeded one by one, so the result is
/// the same at any thread count.
[[nodiscard]] EdgeRobustness edge_robustness(std::span<const EdgeMeasurement> edges, std::int64_t width,
                                             std::int64_t height, double object_gap_px = 32.0,
                                             std::int64_t random_deals = 999);

/// Automatic edge search parameters.
struct EdgeFindParams {
    double noise_sigma_dn = 0.0;            ///< <= 0: estimated with estimate_noise()
    double saturation_dn = 3.0e38;          ///< pixels >= this are never part of an edge
    double min_length_px = 20.0;            ///< shorter regions are dropped
    double gradient_threshold_noise = 1.5;  ///< Sobel magnitude (normalized, /8) threshold x noise sigma
    double min_gradient_dn = 0.0;           ///< absolute floor of that threshold
    double angle_tolerance_deg = 22.5;      ///< region growing tolerance on the gradient direction (LSD)
    std::int64_t tile_px = 512;             ///< fixed tiles (independent of the thread count)
    std::int64_t max_segments = 4000;       ///< keep the best-scored ones
};

void validate(const EdgeFindParams& p);

/// Border margin the finder needs (Sobel): 1 px.
[[nodiscard]] constexpr int halo(const EdgeFindParams&) {
    return 1;
}

/// Finds straight edge candidates: Sobel gradient (normalized by 8), then LSD-style region
/// growing of pixels whose gradient magnitude exceeds gradient_threshold_noise x noise sigma and
/// whose (3x3-summed) gradient direction stays within angle_tolerance_deg of the region's
/// (R. Grompone von Gioi et al., LSD, IEEE PAMI 32(4), 2010; without the a-contrario
/// validation, which the per-edge verdicts replace). Each region's principal axis gives a
/// segment; regions shorter than min_length_px, wider than half their length or filled below
/// 40 % are dropped. Nodata, non-finite and saturated pixels (and their 3x3 neighbours) never
/// join a region. Growing stays inside its tile (tile_px); the pieces of an edge cut by a tile
/// border (kept down to 6 px) are then joined in a serial pass when their directions and
/// polarities agree within 4 deg, each lies within 1.5 px of the other's line and the gap
/// between them is at most 3 px; unjoined pieces shorter than min_length_px are dropped.
/// Output sorted by score (descending), ties by position: deterministic for any thread count.
/// Segment endpoints are in GDAL pixel coordinates (see top).
[[nodiscard]] std::vector<EdgeSegment> find_edges(ConstImageView<float> image, ConstImageView<std::uint8_t> valid_mask,
                                                  const EdgeFindParams& params);

/// Everything `satiq assess` needs from the edges.
struct EdgeAnalysis {
    std::vector<EdgeMeasurement> edges;  ///< one per candidate, in candidate order
    EdgeAggregate aggregate;
    std::int64_t candidates = 0;
    double noise_sigma_dn = 0.0;  ///< the noise used for the contrast tests
};

/// find_edges + measure_edge_adaptive on each candidate (parallel) + a serial pass that turns
/// usable edges much wider than the image's median rise into wide_transition
/// (max_rise_over_median) + aggregate_edges. The noise sigma is
/// find_params.noise_sigma_dn, else sfr_params.noise_sigma_dn, else estimate_noise() (a full
/// pass over the image: a caller that needs the noise estimate anyway should pass its
/// sigma_dn in). The same sigma drives the finder's gradient threshold and the edges'
/// contrast and plateau tests; a noise-free image falls back to 1e-3 of its value range.
/// The saturation level is the lower of the two parameter structs'. At most
/// find_params.max_segments candidates (best score first) are measured.
/// Cost on the project machine (8192 x 8192 float, busy synthetic scene, 1 thread, CPU time):
/// about 1.0 s for estimate_noise, 1.3 s for find_edges, 0.2-0.3 s to measure 4000 edges (a failing
/// candidate is measured again at up to three narrower half-widths).
[[nodiscard]] EdgeAnalysis analyse_edges(ConstImageView<float> image, ConstImageView<std::uint8_t> valid_mask,
                                         const EdgeFindParams& find_params, const EdgeSfrParams& sfr_params);

/// Analyses user-given regions instead of searching. A rectangle is scanned as sfrmat does
/// (edge located per row or column inside it, half-width limited by the rectangle); a segment
/// uses its half-width (or sfr_params.roi_half_width_px when 0). end_trim_px is not applied.
[[nodiscard]] EdgeAnalysis analyse_edge_rois(ConstImageView<float> image, ConstImageView<std::uint8_t> valid_mask,
                                             std::span<const EdgeRoi> rois, const EdgeSfrParams& sfr_params);

}  // namespace satiq
