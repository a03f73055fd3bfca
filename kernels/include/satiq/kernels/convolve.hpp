#pragma once
/// Convolution kernels: separable (1-D taps in x and y), general 2-D PSF (direct, low-rank
/// separable, FFT overlap-save, chosen by a cost model), and sharpening (MTF compensation)
/// with its noise gain G.
///
/// Conventions shared by every function here:
/// - True convolution: out(x, y) = sum_{i,j} k(i, j) * in(x + rx - i, y + ry - j), with the
///   kernel centre at index (rx, ry) = ((width - 1) / 2, (height - 1) / 2). Kernel sizes are odd.
///   For the symmetric PSFs of imaging (Gaussian, box, Airy, disk) this equals correlation.
/// - Halo: an output pixel depends on the input within +-halo.x_px columns and +-halo.y_px rows.
/// - Borders: pixels outside the image are taken from inside it by `BorderMode` (see
///   `border_index`). Any kernel size works on any image size (repeated reflection when the
///   kernel is larger than the image).
/// - Tiling: every operation has a region form (`ConvolveInput` / `ConvolveOutput` in global
///   coordinates) and a "valid" form (input tile already holds the halo, output = interior).
///   Separable, direct and low-rank results depend only on the global position of a pixel,
///   so any tiling and the whole-image call give bit-identical output. The FFT path computes
///   fixed blocks of fft_block_x_px() x fft_block_y_px() anchored at global (0, 0) (the block
///   grid depends on the kernel only, never on the image, tile or thread count): bit-identical
///   for any thread count, and for any caller tiling whose output tiles start at multiples of
///   the block size and end at multiples of it or at the image edge. Other tilings differ by
///   float rounding only (about 1e-6 of the signal); a streaming caller that needs bit-identity
///   aligns its tiles to the block grid (or forces Direct / LowRank).
/// - Threading: parallel over fixed row bands / FFT blocks through satiq/kernels/parallel.hpp;
///   the result never depends on the number of threads.
/// - Input and output must not overlap in memory (in-place is rejected with satiq::Error).
/// - NaN/inf in the input spread to every output pixel whose support covers them (FFT path:
///   to the whole FFT block).
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "satiq/kernels/image.hpp"

namespace satiq {

/// How pixels outside the image are obtained (n = image size along the axis).
enum class BorderMode {
    /// Mirror without repeating the edge pixel: `gfedcb|abcdefgh|gfedcba` (OpenCV
    /// BORDER_REFLECT_101, the default of cv::GaussianBlur / cv::filter2D). A 1-pixel axis
    /// repeats its pixel.
    Reflect101,
    /// Mirror repeating the edge pixel: `fedcba|abcdefgh|hgfedcb` (OpenCV BORDER_REFLECT).
    /// With a symmetric normalized kernel this preserves the image mean exactly (it is the
    /// periodic convolution of the mirrored image).
    Reflect,
    /// Repeat the edge pixel: `aaaaaa|abcdefgh|hhhhhhh` (OpenCV BORDER_REPLICATE).
    Replicate,
};

/// Maps any integer coordinate `i` to [0, n) by `mode` (n >= 1; throws satiq::Error otherwise).
/// Tilers use it to fill a halo outside the image exactly as the whole-image call does.
[[nodiscard]] std::int64_t border_index(std::int64_t i, std::int64_t n, BorderMode mode);

/// Input margin of an area kernel, in pixels on each side.
struct ConvolveHalo {
    std::int64_t x_px = 0;
    std::int64_t y_px = 0;
    friend bool operator==(const ConvolveHalo&, const ConvolveHalo&) = default;
};

/// An input tile: `pixels(0, 0)` is global pixel (x0, y0) of an image of
/// image_width x image_height pixels (0 and 0 mean: the tile is the whole image).
/// The tile must contain the output rectangle grown by the halo, clipped to the image.
struct ConvolveInput {
    ConstImageView<float> pixels;
    std::int64_t x0 = 0;
    std::int64_t y0 = 0;
    std::int64_t image_width = 0;
    std::int64_t image_height = 0;
};

/// An output tile: `pixels(0, 0)` is global pixel (x0, y0); it must lie inside the image.
struct ConvolveOutput {
    ImageView<float> pixels;
    std::int64_t x0 = 0;
    std::int64_t y0 = 0;
};

// ---------------------------------------------------------------------------------------------
// Separable convolution

/// A separable kernel: out = taps_y (along rows) applied after taps_x (along columns), i.e. the
/// 2-D kernel k(i, j) = taps_x[i] * taps_y[j]. Both lengths odd, >= 1, finite values. Taps need
/// not be normalized. Symmetric taps (t[i] == t[n-1-i] exactly, as gaussian_taps and box_taps
/// produce) take a faster folded path with the same contract.
struct SeparableKernel {
    std::vector<float> taps_x;
    std::vector<float> taps_y;
};

/// {(taps_x.size() - 1) / 2, (taps_y.size() - 1) / 2}. Throws satiq::Error on an invalid kernel.
[[nodiscard]] ConvolveHalo halo(const SeparableKernel& kernel);

/// Whole image: `out` has the size of `in`. Throws satiq::Error on an invalid kernel, a size
/// mismatch, an empty image or overlapping buffers.
/// Implementation: fixed bands of output rows (in parallel) and L1-sized column strips; per pair
/// of output rows a vertical pass (symmetric taps folded, each input vector loaded once for both
/// rows) into row buffers, border columns filled, then a horizontal pass (folded) into the
/// output rows: one read of the input and one write of the output, vectorized 16 floats wide.
void convolve_separable(ConstImageView<float> in, ImageView<float> out, const SeparableKernel& kernel,
                        BorderMode border = BorderMode::Reflect101);

/// Region form for tiled callers (see ConvolveInput); bit-identical to the whole-image call.
void convolve_separable(const ConvolveInput& in, const ConvolveOutput& out, const SeparableKernel& kernel,
                        BorderMode border = BorderMode::Reflect101);

/// Valid form: `in_with_halo` is (out.width + 2 halo.x_px) x (out.height + 2 halo.y_px) and
/// already holds the halo; `out` receives the interior. No border rule is applied. With a halo
/// filled by `border_index`, output equals the whole-image call bit for bit.
void convolve_separable_valid(ConstImageView<float> in_with_halo, ImageView<float> out, const SeparableKernel& kernel);

// ---------------------------------------------------------------------------------------------
// General 2-D convolution

/// A 2-D kernel, row-major, odd width and height, centre at ((width-1)/2, (height-1)/2).
struct Kernel2d {
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::vector<float> taps;  ///< width * height values, finite
    [[nodiscard]] float at(std::int64_t i, std::int64_t j) const {
        return taps[static_cast<std::size_t>(j * width + i)];
    }
};

/// Throws satiq::Error naming `operation` when `kernel` is not a valid Kernel2d.
void validate_kernel(const Kernel2d& kernel, const char* operation);

/// {(width-1)/2, (height-1)/2}.
[[nodiscard]] ConvolveHalo halo(const Kernel2d& kernel);

enum class Convolve2dMethod {
    Auto,     ///< cheapest by the cost model among the eligible methods
    Direct,   ///< sum over all taps, vectorized (exact up to float rounding); kernels symmetric
              ///< under x and y flips (all radially symmetric PSFs) fold mirrored rows and
              ///< columns first, about 4x fewer multiplies (see Convolve2dPlan::folded())
    LowRank,  ///< PSF = sum of R separable terms from its SVD (error bounded by the tolerance)
    Fft,      ///< overlap-save FFT blocks (cv::dft, or FFTW when built with SATIQ_WITH_FFTW=ON)
};

struct Convolve2dParams {
    Convolve2dMethod method = Convolve2dMethod::Auto;
    BorderMode border = BorderMode::Reflect101;
    /// LowRank is eligible when the rank-R approximation K_R of the kernel K satisfies
    /// sum|K - K_R| / sum|K| <= low_rank_tolerance; this bounds the output error by
    /// tolerance * sum|K| * max|input|. In [0, 1). 1e-5 is below 12-bit quantization.
    double low_rank_tolerance = 1e-5;
    /// Largest rank the low-rank path may use (0: min(width, height)). >= 0.
    std::int64_t max_rank = 0;
    /// FFT tile size (square, pixels); 0: chosen by the cost model (independent of image size,
    /// so the block grid is fixed). Otherwise >= 2 * max(kernel width, height) and <= 8192.
    std::int64_t fft_size_px = 0;
};

/// Estimated cost per output pixel of each method, in "vector-FMA equivalents"; calibrated on
/// the project machine (see convolve_2d_plan.cpp). low_rank is +inf when no rank within the
/// tolerance exists.
struct Convolve2dCosts {
    double direct = 0.0;
    double low_rank = 0.0;
    double fft = 0.0;
};

/// A planned 2-D convolution: validates the kernel and parameters, chooses the method by the
/// cost model (or takes the forced one), precomputes SVD terms or the kernel spectrum.
/// Immutable after construction; `apply` may be called concurrently from several threads.
class Convolve2dPlan {
public:
    /// Throws satiq::Error on an invalid kernel or parameter, or when method == LowRank is forced
    /// and no rank <= max_rank meets the tolerance.
    Convolve2dPlan(const Kernel2d& kernel, const Convolve2dParams& params = {});

    [[nodiscard]] Convolve2dMethod method() const { return m_method; }
    [[nodiscard]] ConvolveHalo halo() const { return m_halo; }
    [[nodiscard]] const Convolve2dCosts& costs() const { return m_costs; }
    /// Rank of the low-rank approximation meeting the tolerance (0 when none).
    [[nodiscard]] std::int64_t rank() const { return m_rank; }
    /// sum|K - K_R| / sum|K| at rank(); 0 when rank() == 0.
    [[nodiscard]] double low_rank_error() const { return m_low_rank_error; }
    /// FFT size and the output block it produces (fft_size_px - kernel size + 1 per axis).
    [[nodiscard]] std::int64_t fft_size_px() const { return m_fft_size; }
    [[nodiscard]] std::int64_t fft_block_x_px() const { return m_fft_size - 2 * m_halo.x_px; }
    [[nodiscard]] std::int64_t fft_block_y_px() const { return m_fft_size - 2 * m_halo.y_px; }
    [[nodiscard]] const Convolve2dParams& params() const { return m_params; }
    /// True when the direct path uses the folded form (kernel exactly symmetric under x and y
    /// flips, at least 5x5).
    [[nodiscard]] bool folded() const { return m_folded; }
    /// FFT backend compiled in: "fftw" (CMake option SATIQ_WITH_FFTW=ON; FFTW is GPL, planned
    /// with FFTW_ESTIMATE so plans, hence results, do not depend on timing) or "opencv" (cv::dft).
    [[nodiscard]] static const char* fft_backend();

    /// Whole image; out has the size of in.
    void apply(ConstImageView<float> in, ImageView<float> out) const;
    /// Region form (see ConvolveInput; for the FFT path see the header note on block alignment).
    void apply(const ConvolveInput& in, const ConvolveOutput& out) const;
    /// Valid form: in_with_halo = out grown by halo() on each side. No border rule applied.
    /// FFT path: the block grid is anchored at the tile's own origin here, so tiles agree with
    /// the whole-image result to float rounding only; use the region form for bit-identity.
    void apply_valid(ConstImageView<float> in_with_halo, ImageView<float> out) const;

    /// One low-rank term: K(i, j) ~= sum over terms of taps_x[i] * taps_y[j] (convolution order).
    struct SeparableTerm {
        std::vector<float> taps_x;
        std::vector<float> taps_y;
    };
    [[nodiscard]] const std::vector<SeparableTerm>& terms() const { return m_terms; }

private:
    void apply_direct(const ConvolveInput& in, const ConvolveOutput& out) const;
    void apply_direct_folded(const ConvolveInput& in, const ConvolveOutput& out) const;
    void apply_low_rank(const ConvolveInput& in, const ConvolveOutput& out) const;
    void apply_fft(const ConvolveInput& in, const ConvolveOutput& out) const;

    Convolve2dParams m_params;
    Convolve2dMethod m_method = Convolve2dMethod::Direct;
    ConvolveHalo m_halo;
    Convolve2dCosts m_costs;
    Kernel2d m_kernel;                 ///< as given
    std::vector<float> m_correlation;  ///< kernel flipped in x and y (direct path)
    bool m_folded = false;
    std::int64_t m_quadrant_rows = 0;    ///< ry + 1 rounded up to a multiple of 8
    std::vector<float> m_quadrant;       ///< folded taps q(i, j), i in [0, rx], j padded
    std::vector<SeparableTerm> m_terms;  ///< low-rank terms
    std::int64_t m_rank = 0;
    double m_low_rank_error = 0.0;
    std::int64_t m_fft_size = 0;
    std::vector<float> m_spectrum;      ///< kernel spectrum (backend layout), scaled by 1/N^2 for FFTW
    std::shared_ptr<void> m_fft_plans;  ///< backend plans (FFTW), shared by copies of the plan
};

/// Convenience: plans and applies (whole image). Returns the method used.
Convolve2dMethod convolve_2d(ConstImageView<float> in, ImageView<float> out, const Kernel2d& kernel,
                             const Convolve2dParams& params = {});

// ---------------------------------------------------------------------------------------------
// Sharpening (MTF compensation)

/// Blur used inside the unsharp mask.
enum class SharpenBlur {
    Binomial3x3,  ///< [1 2 1]^T [1 2 1] / 16
    Binomial5x5,  ///< [1 4 6 4 1]^T [1 4 6 4 1] / 256
};

struct SharpenParams {
    /// Unsharp-mask strength s >= 0 (finite): kernel = (1 + s) * delta - s * blur; sums to 1.
    /// s = 0 is the identity (G = 1).
    double strength = 1.0;
    SharpenBlur blur = SharpenBlur::Binomial3x3;
    BorderMode border = BorderMode::Reflect101;
};

/// The MTF-compensation kernel of `params` (3x3 or 5x5, sums to 1).
[[nodiscard]] Kernel2d sharpen_kernel(const SharpenParams& params);

/// Noise gain of a kernel that sums to 1: G = sqrt(sum k_ij^2) (Leachtenauer et al., Appl. Opt. 36(32), 1997; GIQE 4,
/// Leachtenauer et al. 1997). Throws satiq::Error when |sum - 1| > 1e-4 or the kernel is
/// invalid.
[[nodiscard]] double noise_gain(const Kernel2d& kernel);

/// Applies sharpen_kernel(params) (direct path; whole image, out has the size of in).
/// Returns the noise gain G. Throws satiq::Error on invalid parameters (strength < 0 or not
/// finite), size mismatch or overlapping buffers.
double sharpen(ConstImageView<float> in, ImageView<float> out, const SharpenParams& params = {});

/// Applies a caller-supplied MTFC kernel that sums to 1 (within 1e-4); returns its G.
double sharpen(ConstImageView<float> in, ImageView<float> out, const Kernel2d& kernel,
               BorderMode border = BorderMode::Reflect101);

// ---------------------------------------------------------------------------------------------
// Naive references (double precision, single thread, no vectorization): kept beside the fast
// kernels for the tests. Same conventions (true convolution, border rule) as above.

void convolve_2d_reference(ConstImageView<float> in, ImageView<float> out, const Kernel2d& kernel, BorderMode border);
void convolve_separable_reference(ConstImageView<float> in, ImageView<float> out, const SeparableKernel& kernel,
                                  BorderMode border);

}  // namespace satiq
