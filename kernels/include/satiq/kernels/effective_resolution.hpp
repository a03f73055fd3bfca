#pragma once
/// Effective resolution: detects imagery that was upsampled (interpolated onto a finer grid) and
/// estimates, per axis, by how much, so that the effective GSD is the product GSD x factor.
///
/// Why: an image zoomed 2x by bilinear interpolation has half the pixel size but no more detail;
/// GIQE credits the pixel size, so such an image is overrated unless the zoom is found.
///
/// Method, per axis (x from rows, y from columns), two independent pieces of evidence:
///
/// 1. Periodicity (cyclostationarity). Interpolation from a grid of spacing k output pixels makes
///    the local statistics of the output periodic with period k: a pixel that falls on a source
///    sample and one that falls between two are formed by different weights (A. C. Popescu and
///    H. Farid, "Exposing digital forgeries by detecting traces of resampling", IEEE TSP 53(2),
///    2005; A. C. Gallagher, "Detection of linear and cubic interpolation in JPEG compressed
///    images", CRV 2005; B. Mahdian and S. Saic, "Blind authentication using periodic properties
///    of interpolation", IEEE TIFS 3(3), 2008). A sensor's blur is shift-invariant and its noise is
///    added after sampling, so a properly sampled image has no such period. We average, over many
///    lines, the magnitude of the first difference divided by its local mean (contrast
///    normalization) at every position; the spectrum of that average has a line at 1/k cycles/px
///    (folded into [0, 0.5]) when the image was interpolated. `evidence` is that line's power over
///    the median power of the band searched.
///
/// 2. Spectral cut-off. The interpolated image holds no power from the source above the source's
///    Nyquist frequency 0.5/k cycles/px (only the interpolation kernel's leakage and the
///    re-quantization floor): the mean line power spectrum (Welch's method, Hann-windowed
///    segments: P. D. Welch, IEEE Trans. Audio Electroacoust. 15(2), 1967) falls steeply there.
///    The period found in (1) leaves a few candidate factors (a line at f stems from 1/k = f or
///    1 - f, or their halves); the candidate with the steepest spectral drop across its 0.5/k is
///    taken, and it must drop by at least `min_drop_db`.
///
/// 3. Model fit (consistency test; Popescu & Farid 2005 use an EM-estimated linear predictor,
///    here the kernels are explicit). For factor k, kernel h and grid offset d, a line is
///    y(g) = sum_j s_j h((g + d)/k - j), weights normalized to sum 1. Kernels: those of cv::resize
///    (bilinear, Keys cubic a = -0.75, Lanczos-4) and of GDAL's RasterIO resampling as used by
///    gdal_translate -outsize and gdalwarp -r (bilinear; Keys cubic a = -0.5, R. G. Keys, "Cubic
///    convolution interpolation for digital image processing", IEEE TASSP 29(6), 1981; Lanczos-3,
///    GDAL's "6x6 kernel" windowed sinc; cubicspline = the cubic B-spline as weights, no
///    prefilter, so not interpolating: the model is linear in s all the same). Both libraries
///    map output pixel i to source (i + 0.5)/k - 0.5, an offset of the fit's quarter-pixel grid;
///    checked against GDAL 3.6.2 on an impulse (identical weights). The source s is found by least
///    squares on the 48 most active 120-px segments (banded normal equations) and the residual
///    variance per degree of freedom (median over segments, so clipped overshoot does not count)
///    is compared with the re-quantization noise 1/12 of integer data. The true model leaves only
///    that noise, whatever the scene; a larger factor has fewer unknowns, so the largest of
///    {1.5, 2, 2.5, 3, 4} whose residual is at most 1.3 x the best + 0.2 x 1/12 is taken, when the
///    best is below `fit_max_noise` x 1/12. This separates 1.5x from 3x (both have the period line
///    at 1/3), finds soft 2x copies with a weak period line, and noise-free synthetic copies.
///    Measured on the samples and real images (cv::resize and GDAL copies): true models 0.02..2.6
///    x 1/12 and at most 1.21 x the best residual (except GDAL Lanczos copies of UTM2GTIF, a
///    Byte map whose overshoot clips at 0 and 255 on most segments along columns: 6..26 x 1/12,
///    no fit, (1) and (2) decide); the nearest wrong larger factor at least 1.3 x
///    the best + 0.42 x 1/12 (GDAL cubicspline of a noisy 8-bit edge, which the B-spline smooths
///    so much that a coarser grid nearly fits); originals >= 57 x 1/12, on axes with >= 24 active
///    segments. An axis with fewer (a near-vertical edge seen along columns, which is smooth along
///    them even in the original, so larger factors fit too) needs its period line at the fitted
///    factor, or the other axis's factor to fit it as well as its best model. Only with integer
///    data; otherwise, or when no model fits (another kernel or factor), (1) and (2) decide, and
///    the fit still chooses between the two candidates of the period line when both have an exact
///    grid. The kernel named is the best-fitting one; at 2x Keys a = -0.5 and bilinear span the
///    same model space, so either may be named for a GDAL cubic copy.
///
/// A factor is reported (`upsampled` true) when the model fit succeeds, or else when (1) and (2) agree; a spectrum that
/// merely falls off (a smooth, noise-free, Gaussian-blurred synthetic edge) has no periodicity and is not flagged.
/// Deadband: factors below `deadband_factor` (default 1.2) are reported as 1 (mild product resampling, e.g.
/// orthorectification, is not flagged); the message says so.
///
/// Pixels used: a deterministic central crop of at most `max_crop_px` per side, at most
/// `max_lines` evenly spaced lines per axis. Masked (mask 0) or non-finite pixels are excluded: a
/// difference needs both pixels valid, and a spectrum segment must be fully valid.
///
/// Threading: TBB-parallel over fixed blocks of lines; partial sums are combined in block
/// order, so the result is bit-identical for any thread count. Never throws for degenerate
/// images (`valid` false with a message); throws satiq::Error for bad parameters or a mask whose
/// size differs from the image.
#include <cstdint>
#include <string>

#include "satiq/kernels/image.hpp"

namespace satiq {

struct SamplingParams {
    /// Factors below this are reported as 1 (not upsampled). Must be > 1.
    double deadband_factor = 1.2;
    /// Largest factor searched (the period line is searched down to 1/max_factor cycles/px).
    double max_factor = 6.0;
    /// Minimum periodicity evidence (line power / median power of the searched band).
    double min_evidence = 12.0;
    /// Minimum periodicity evidence in each of the 4 groups of lines, and minimum phase coherence
    /// of the line across the groups (|sum of coefficients| / sum of magnitudes, 0..1).
    double min_group_evidence = 4.0;
    double min_coherence = 0.8;
    /// Level between the two candidate cut-offs, as a fraction of the way from the upper
    /// candidate's stop band to the lower one's pass band, above which the smaller factor wins.
    double mid_fraction_threshold = 0.45;
    /// Minimum drop of the line power spectrum across the candidate cut-off (dB).
    double min_drop_db = 6.0;
    /// Model-fit test: largest residual (in units of the re-quantization noise 1/12 of integer
    /// data) for which an interpolation model (cv::resize's or GDAL's kernels at 1.5, 2, 2.5, 3,
    /// 4x) counts as reproducing the image.
    double fit_max_noise = 4.0;
    /// Spectrum segment length (pixels, power of two, 32..1024).
    int segment_px = 64;
    /// Central crop side limit (pixels) and number of lines used per axis.
    std::int64_t max_crop_px = 2048;
    std::int64_t max_lines = 512;
};

struct SamplingEstimate {
    struct Axis {
        double factor = 1.0;             ///< estimated upsampling factor (1 = properly sampled)
        double cutoff_cyc_per_px = 0.5;  ///< 0.5 / factor: the source Nyquist on this grid
        double evidence = 0.0;           ///< periodicity line power / median band power
        double period_cyc_per_px = 0.0;  ///< frequency of the strongest periodicity line (0..0.5)
        double drop_db = 0.0;            ///< spectral drop across the chosen candidate's cut-off
        double candidate_factor = 1.0;   ///< best candidate before the detection thresholds
        double group_min = 0.0;          ///< smallest per-group periodicity evidence
        double coherence = 0.0;          ///< phase coherence of the line across groups
        double mid_fraction = 0.0;       ///< spectrum level between the candidate cut-offs (0..1)
        double notch_db = 0.0;           ///< diagnostic: level at the period line minus the level above it (dB)
        double fit_noise = 0.0;          ///< residual of the chosen interpolation model / (1/12); 0 = not used
        std::string kernel;              ///< kernel of the model fit that set the factor ("" = periodicity decided):
                                         ///< bilinear, cubic (a=-0.75), lanczos4, cubic_a-0.5, lanczos3, cubicspline
        std::int64_t fit_segments = 0;   ///< active segments used by the model fit
        bool upsampled = false;          ///< both tests passed and factor >= deadband
        std::int64_t lines = 0;          ///< lines averaged for the periodicity test
        std::int64_t segments = 0;       ///< fully valid spectrum segments
    };
    bool valid = false;   ///< false: too few valid pixels (see message)
    std::string message;  ///< short human summary (or why not valid)
    std::string method;   ///< method string
    Axis x;               ///< along rows (columns index)
    Axis y;               ///< along columns
};

/// Throws satiq::Error naming the bad field.
void validate(const SamplingParams& params);

/// The summary of an upsampled estimate (a factor on x or y): "upsampled: effective pixel X x Y
/// times the file's pixel (why)", the factors as they stand.
[[nodiscard]] std::string upsampled_message(const SamplingEstimate& s);

/// `mask` may be empty (all valid); non-zero = valid.
[[nodiscard]] SamplingEstimate estimate_sampling(ConstImageView<float> image, ConstImageView<std::uint8_t> mask = {},
                                                 const SamplingParams& params = {});

}  // namespace satiq
