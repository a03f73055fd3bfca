// General 2-D convolution, the plan: kernel validation, the cost model that picks the direct,
// folded direct, low-rank separable (SVD) or FFT overlap-save path, and the plan's set-up of the
// chosen path (the paths themselves are in convolve_2d.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "convolve_detail.hpp"
#include "convolve_fftw.hpp"
#include "satiq/kernels/convolve.hpp"

namespace satiq {

using namespace detail;

void validate_kernel(const Kernel2d& k, const char* operation) {
    const std::string op(operation);
    if (k.width < 1 || k.height < 1 || k.width % 2 == 0 || k.height % 2 == 0)
        throw Error(op + ": kernel width and height must be odd and >= 1 (got " + std::to_string(k.width) + "x" +
                    std::to_string(k.height) + ")");
    if (static_cast<std::int64_t>(k.taps.size()) != k.width * k.height)
        throw Error(op + ": kernel taps hold " + std::to_string(k.taps.size()) +
                    " values, expected width * height = " + std::to_string(k.width * k.height));
    for (float t : k.taps)
        if (!std::isfinite(t)) throw Error(op + ": kernel holds a non-finite tap");
}

ConvolveHalo halo(const Kernel2d& kernel) {
    validate_kernel(kernel, "halo(Kernel2d)");
    return {(kernel.width - 1) / 2, (kernel.height - 1) / 2};
}

namespace {

// Cost model, nanoseconds per output pixel on one core, calibrated on the project machine
// (2-core Xeon, AVX-512, single thread, 1024^2 with a 31x31 obscured-aperture PSF): the direct
// path costs one vector FMA per tap (26.9 ns/px for 961 taps); the folded direct path one FMA
// per quadrant tap, rows padded to 8 (7.9 ns/px for 16 x 16 when calibrated; 6.2-6.5 since the
// 16-row blocking of apply_direct_folded (convolve_2d.cpp), left out of the constant: it only favours the folded path,
// which already wins wherever it applies); a low-rank term a vertical and a horizontal 1-D pass plus the border fill
// and accumulation (31.8 ns/px for 16 terms of 31+31 taps); one cv::dft of a real N x N tile about kFftNsPerUnit * N^2
// log2(N^2) (0.32 ns measured for 256^2 and 512^2, 0.50 for 1024^2), two per block plus mulSpectrums and the tile
// copies.
constexpr double kDirectNsPerTap = 0.028;
constexpr double kFoldedNsPerTap = 0.031;
constexpr double kFoldedNsPerPixel = 0.5;
constexpr double kLowRankNsPerTap = 0.031;
constexpr double kLowRankNsPerTerm = 0.1;
// FFT constants fitted to whole 8192^2 runs (bench_convolve, process CPU time per pixel:
// 23.2 ns/px with cv::dft, 10.6 ns/px with FFTW planned with FFTW_ESTIMATE, 512^2 tiles).
#ifdef SATIQ_HAVE_FFTW
constexpr double kFftNsPerUnit = 0.15;
constexpr double kFftLargeFactor = 1.2;
#else
constexpr double kFftNsPerUnit = 0.42;
constexpr double kFftLargeFactor = 1.5;
#endif
constexpr double kFftNsPerTilePixel = 4.0;

double fft_cost_ns(std::int64_t n, std::int64_t kw, std::int64_t kh) {
    const double bx = static_cast<double>(n - kw + 1);
    const double by = static_cast<double>(n - kh + 1);
    const double n2 = static_cast<double>(n) * static_cast<double>(n);
    // transforms slow down per element beyond 512^2 (cv::dft 0.50 vs 0.32 ns at 1024^2: cache)
    const double unit = kFftNsPerUnit * (n > 512 ? kFftLargeFactor : 1.0);
    return (2.0 * unit * n2 * std::log2(n2) + kFftNsPerTilePixel * n2) / (bx * by);
}

std::int64_t choose_fft_size(std::int64_t kw, std::int64_t kh) {
    const std::int64_t k = std::max(kw, kh);
    std::int64_t best = 0;
    double best_cost = std::numeric_limits<double>::infinity();
    for (std::int64_t n = 64; n <= 4096; n *= 2) {
        if (n < 2 * k) continue;
        const double c = fft_cost_ns(n, kw, kh);
        if (c < best_cost * 0.98) {  // prefer the smaller (cache-friendlier) size on near ties
            best_cost = c;
            best = n;
        }
    }
    if (best == 0) best = 8192;
    return best;
}

using SeparableTerm = Convolve2dPlan::SeparableTerm;

// Throws on a kernel or plan parameters the plan cannot use.
void validate_plan(const Kernel2d& kernel, const Convolve2dParams& params, const char* op) {
    validate_kernel(kernel, op);
    if (!std::isfinite(params.low_rank_tolerance) || params.low_rank_tolerance < 0.0 ||
        params.low_rank_tolerance >= 1.0)
        throw Error(std::string(op) + ": low_rank_tolerance must be in [0, 1) (got " +
                    std::to_string(params.low_rank_tolerance) + ")");
    if (params.max_rank < 0)
        throw Error(std::string(op) + ": max_rank must be >= 0 (0 = no limit; got " + std::to_string(params.max_rank) +
                    ")");
    const std::int64_t kw = kernel.width;
    const std::int64_t kh = kernel.height;
    if (params.fft_size_px != 0 && (params.fft_size_px < 2 * std::max(kw, kh) || params.fft_size_px > 8192))
        throw Error(std::string(op) +
                    ": fft_size_px must be 0 (automatic) or in [2 * max(kernel width, height), 8192] = [" +
                    std::to_string(2 * std::max(kw, kh)) + ", 8192] (got " + std::to_string(params.fft_size_px) + ")");
}

// Folded direct form for kernels symmetric under x and y flips: the quadrant q(i, j) =
// k(rx + i, ry + j), i in [0, rx], j in [0, ry] padded to a multiple of 8 rows.
struct FoldedKernel {
    bool symmetric = false;
    std::int64_t rows = 0;  ///< ry + 1 rounded up to a multiple of 8
    std::vector<float> quadrant;
    double cost_ns = 0.0;  ///< per output pixel
};

FoldedKernel fold_symmetric_kernel(const Kernel2d& kernel, ConvolveHalo halo) {
    FoldedKernel f;
    const std::int64_t kw = kernel.width;
    const std::int64_t kh = kernel.height;
    bool sym = kw >= 5 && kh >= 5;
    for (std::int64_t j = 0; j < kh && sym; ++j)
        for (std::int64_t i = 0; i < kw && sym; ++i)
            sym = kernel.at(i, j) == kernel.at(kw - 1 - i, j) && kernel.at(i, j) == kernel.at(i, kh - 1 - j);
    if (!sym) return f;
    const std::int64_t rx = halo.x_px;
    const std::int64_t ry = halo.y_px;
    f.symmetric = true;
    f.rows = (ry + 1 + 7) / 8 * 8;
    f.quadrant.assign(static_cast<std::size_t>((rx + 1) * f.rows), 0.0f);
    for (std::int64_t i = 0; i <= rx; ++i)
        for (std::int64_t j = 0; j <= ry; ++j)
            f.quadrant[static_cast<std::size_t>(i * f.rows + j)] = kernel.at(rx + i, ry + j);
    f.cost_ns = kFoldedNsPerTap * static_cast<double>((rx + 1) * f.rows) + kFoldedNsPerPixel;
    return f;
}

// The lowest-rank separable approximation within the tolerance (rank 0 when none within
// max_rank), its relative L1 error and cost.
struct LowRankKernel {
    std::int64_t rank = 0;
    std::int64_t rank_limit = 0;  ///< the largest rank tried
    double error = 0.0;
    std::vector<SeparableTerm> terms;
    double cost_ns = std::numeric_limits<double>::infinity();
};

// K = U diag(w) V^T (cv::SVD); the rank-R truncation is the best rank-R approximation
// in the Frobenius norm (Eckart-Young). Its error is measured in L1 on the float taps
// actually used, which bounds the output error (see the header).
LowRankKernel low_rank_kernel(const Kernel2d& kernel, const Convolve2dParams& params) {
    LowRankKernel out;
    const std::int64_t kw = kernel.width;
    const std::int64_t kh = kernel.height;
    cv::Mat k(static_cast<int>(kh), static_cast<int>(kw), CV_64F);
    double l1 = 0.0;
    for (std::int64_t j = 0; j < kh; ++j)
        for (std::int64_t i = 0; i < kw; ++i) {
            k.at<double>(static_cast<int>(j), static_cast<int>(i)) = kernel.at(i, j);
            l1 += std::abs(static_cast<double>(kernel.at(i, j)));
        }
    cv::Mat singular_values, u, vt;
    cv::SVD::compute(k, singular_values, u, vt, cv::SVD::FULL_UV);
    const std::int64_t limit = params.max_rank > 0 ? std::min(params.max_rank, std::min(kw, kh)) : std::min(kw, kh);
    out.rank_limit = limit;
    std::vector<SeparableTerm> terms;
    cv::Mat approx = cv::Mat::zeros(k.size(), CV_64F);
    for (std::int64_t r = 0; r < limit; ++r) {
        const double s = std::sqrt(std::max(0.0, singular_values.at<double>(static_cast<int>(r))));
        SeparableTerm t;
        t.taps_x.resize(static_cast<std::size_t>(kw));
        t.taps_y.resize(static_cast<std::size_t>(kh));
        for (std::int64_t i = 0; i < kw; ++i)
            t.taps_x[static_cast<std::size_t>(i)] =
                static_cast<float>(s * vt.at<double>(static_cast<int>(r), static_cast<int>(i)));
        for (std::int64_t j = 0; j < kh; ++j)
            t.taps_y[static_cast<std::size_t>(j)] =
                static_cast<float>(s * u.at<double>(static_cast<int>(j), static_cast<int>(r)));
        terms.push_back(t);
        double err = 0.0;
        for (std::int64_t j = 0; j < kh; ++j)
            for (std::int64_t i = 0; i < kw; ++i) {
                double& a = approx.at<double>(static_cast<int>(j), static_cast<int>(i));
                a += static_cast<double>(t.taps_x[static_cast<std::size_t>(i)]) *
                     static_cast<double>(t.taps_y[static_cast<std::size_t>(j)]);
                err += std::abs(a - k.at<double>(static_cast<int>(j), static_cast<int>(i)));
            }
        const double rel = l1 > 0.0 ? err / l1 : 0.0;
        if (rel <= params.low_rank_tolerance) {
            out.rank = r + 1;
            out.error = rel;
            out.terms = std::move(terms);
            out.cost_ns =
                static_cast<double>(out.rank) * (kLowRankNsPerTap * static_cast<double>(kw + kh) + kLowRankNsPerTerm);
            break;
        }
    }
    return out;
}

// Auto: the cheapest path by the cost model (direct on ties).
Convolve2dMethod cheapest_method(const Convolve2dCosts& costs) {
    Convolve2dMethod method = Convolve2dMethod::Direct;
    double best = costs.direct;
    if (costs.low_rank < best) {
        best = costs.low_rank;
        method = Convolve2dMethod::LowRank;
    }
    if (costs.fft < best) method = Convolve2dMethod::Fft;
    return method;
}

// Spectrum of the kernel placed with its (0, 0) tap at the origin of an n x n tile
// (overlap-save), in the backend's layout; with FFTW also the plans, shared by copies of the plan.
void kernel_spectrum(const Kernel2d& kernel, int n, const char* op, std::vector<float>& spectrum_out,
                     std::shared_ptr<void>& plans_out) {
    const std::int64_t kw = kernel.width;
    const std::int64_t kh = kernel.height;
#ifdef SATIQ_HAVE_FFTW
    auto plans = std::make_shared<FftwPlans>();
    FftwBuffer real = fftw_buffer(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
    FftwBuffer cplx = fftw_buffer(complex_floats(n));
    {
        const std::lock_guard lock(fftw_planner_mutex());
        plans->forward =
            fftwf_plan_dft_r2c_2d(n, n, real.get(), reinterpret_cast<fftwf_complex*>(cplx.get()), FFTW_ESTIMATE);
        plans->inverse =
            fftwf_plan_dft_c2r_2d(n, n, reinterpret_cast<fftwf_complex*>(cplx.get()), real.get(), FFTW_ESTIMATE);
    }
    if (!plans->forward || !plans->inverse) throw Error(std::string(op) + ": FFTW could not plan the FFT size");
    std::fill(real.get(), real.get() + static_cast<std::ptrdiff_t>(n) * n, 0.0f);
    for (std::int64_t j = 0; j < kh; ++j)
        for (std::int64_t i = 0; i < kw; ++i)
            real[static_cast<std::size_t>(j * n + i)] = kernel.at(i, j);
    fftwf_execute_dft_r2c(plans->forward, real.get(), reinterpret_cast<fftwf_complex*>(cplx.get()));
    // FFTW's inverse is unnormalized: fold 1/N^2 into the kernel spectrum.
    const float scale = 1.0f / (static_cast<float>(n) * static_cast<float>(n));
    spectrum_out.assign(cplx.get(), cplx.get() + complex_floats(n));
    for (float& v : spectrum_out)
        v *= scale;
    plans_out = plans;
#else
    (void)plans_out;
    cv::Mat padded = cv::Mat::zeros(n, n, CV_32F);
    for (std::int64_t j = 0; j < kh; ++j)
        for (std::int64_t i = 0; i < kw; ++i)
            padded.at<float>(static_cast<int>(j), static_cast<int>(i)) = kernel.at(i, j);
    spectrum_out.assign(static_cast<std::size_t>(n) * static_cast<std::size_t>(n), 0.0f);
    cv::Mat spectrum(n, n, CV_32F, spectrum_out.data());
    cv::dft(padded, spectrum, 0);
    if (spectrum.data != reinterpret_cast<uchar*>(spectrum_out.data()))
        throw Error(std::string(op) + ": internal error, cv::dft reallocated the spectrum");
#endif
}

}  // namespace

const char* Convolve2dPlan::fft_backend() {
#ifdef SATIQ_HAVE_FFTW
    return "fftw";
#else
    return "opencv";
#endif
}

// The plan: validate, fold a symmetric kernel, find a low-rank form, size the FFT, pick the
// cheapest path (or the forced one), and transform the kernel for the FFT path.
Convolve2dPlan::Convolve2dPlan(const Kernel2d& kernel, const Convolve2dParams& params)
    : m_params(params), m_kernel(kernel) {
    static constexpr const char* kOp = "Convolve2dPlan";
    validate_plan(kernel, params, kOp);
    const std::int64_t kw = kernel.width;
    const std::int64_t kh = kernel.height;
    m_halo = {(kw - 1) / 2, (kh - 1) / 2};
    m_correlation.assign(kernel.taps.rbegin(), kernel.taps.rend());  // flip in x and y

    const Convolve2dMethod want = params.method;
    m_costs.direct = kDirectNsPerTap * static_cast<double>(kw * kh);
    FoldedKernel folded = fold_symmetric_kernel(kernel, m_halo);
    if (folded.symmetric) {
        m_quadrant_rows = folded.rows;
        m_quadrant = std::move(folded.quadrant);
        if (folded.cost_ns < m_costs.direct) {
            m_folded = true;
            m_costs.direct = folded.cost_ns;
        }
    }
    m_costs.low_rank = std::numeric_limits<double>::infinity();
    m_costs.fft = std::numeric_limits<double>::infinity();

    if (want == Convolve2dMethod::Auto || want == Convolve2dMethod::LowRank) {
        LowRankKernel low_rank = low_rank_kernel(kernel, params);
        if (low_rank.rank > 0) {
            m_rank = low_rank.rank;
            m_low_rank_error = low_rank.error;
            m_terms = std::move(low_rank.terms);
            m_costs.low_rank = low_rank.cost_ns;
        }
        if (want == Convolve2dMethod::LowRank && m_rank == 0)
            throw Error(std::string(kOp) + ": method LowRank was forced but no rank <= " +
                        std::to_string(low_rank.rank_limit) + " approximates the kernel within low_rank_tolerance " +
                        std::to_string(params.low_rank_tolerance) + "; raise the tolerance or use Auto");
    }
    if (want == Convolve2dMethod::Auto || want == Convolve2dMethod::Fft) {
        m_fft_size = params.fft_size_px != 0 ? params.fft_size_px : choose_fft_size(kw, kh);
        m_costs.fft = fft_cost_ns(m_fft_size, kw, kh);
    }
    m_method = want == Convolve2dMethod::Auto ? cheapest_method(m_costs) : want;
    if (m_method == Convolve2dMethod::Fft)
        kernel_spectrum(kernel, static_cast<int>(m_fft_size), kOp, m_spectrum, m_fft_plans);
    if (m_method != Convolve2dMethod::LowRank && want != Convolve2dMethod::LowRank) {
        // keep the terms only when used (rank() and low_rank_error() stay informative)
        m_terms.clear();
    }
}

}  // namespace satiq
