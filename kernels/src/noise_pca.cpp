// Texture-robust noise level: weak-texture patch selection and PCA after X. Liu, M. Tanaka,
// M. Okutomi, "Single-image noise level estimation for blind denoising", IEEE TIP
// 22(12):5226-5237, 2013 ("LTO"), per brightness band; finite-sample correction of the smallest
// eigenvalue after Marchenko & Pastur, Math. USSR-Sbornik 1(4):457-483, 1967.
#include "satiq/kernels/noise_pca.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {
namespace {

// Patches per chunk of the sorted candidate list: covariances of every prefix of whole chunks
// are precomputed, the rest of a prefix is summed directly.
constexpr std::int64_t kChunk = 512;
// Grid rows per task of the candidate pass.
constexpr std::int64_t kGridRowsPerTask = 16;
// Largest scratch of row prefix sums per task of the candidate pass.
constexpr std::int64_t kPrefixBytes = std::int64_t{4} << 20;

struct Candidate {
    std::int32_t x = 0;  // top-left pixel of the patch
    std::int32_t y = 0;
    double mean = 0;   // patch mean (DN)
    double trace = 0;  // tr(G^T G) of LTO: sum of squared central differences inside the patch
};

// Regularized lower incomplete gamma P(a, x): series for x < a + 1, Lentz continued fraction
// for Q = 1 - P otherwise (W. H. Press et al., Numerical Recipes, 3rd ed., section 6.2;
// M. Abramowitz, I. Stegun, Handbook of Mathematical Functions, 6.5.29 and 6.5.31).
double gamma_p(double a, double x) {
    if (x <= 0) return 0.0;
    // lgamma_r, not std::lgamma: lgamma also writes the global signgam, a data race when two
    // images are assessed at once (satiq batch; found by ThreadSanitizer).
    int sign = 0;
    const double log_pre = -x + a * std::log(x) - ::lgamma_r(a, &sign);
    if (x < a + 1.0) {
        double term = 1.0 / a, sum = term, ap = a;
        for (int i = 0; i < 10000; ++i) {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if (std::abs(term) < std::abs(sum) * 1e-16) break;
        }
        return std::min(1.0, sum * std::exp(log_pre));
    }
    constexpr double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 10000; ++i) {
        const double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (std::abs(d) < tiny) d = tiny;
        c = b + an / c;
        if (std::abs(c) < tiny) c = tiny;
        d = 1.0 / d;
        const double del = d * c;
        h *= del;
        if (std::abs(del - 1.0) < 1e-16) break;
    }
    return std::max(0.0, 1.0 - std::exp(log_pre) * h);
}

// tr(D) and rank(D) of D = D_h^T D_h + D_v^T D_v for the central difference [-1/2, 0, 1/2]
// at the "valid" positions of an n x n patch (LTO's threshold parameters).
struct GradientOperator {
    double trace = 0;
    int rank = 0;
};

GradientOperator gradient_operator(int n) {
    const int r = n * n;
    // Not cv::Mat::zeros: its MatExpr reads a lazily made OpenCV singleton, which ThreadSanitizer
    // reports as a race when two images start at once (libopencv is not instrumented).
    cv::Mat d(r, r, CV_64F, cv::Scalar::all(0));
    auto add_row = [&](int p, int q) {  // one difference (y_q - y_p) / 2 as a row of D_h or D_v
        const int idx[2] = {p, q};
        const double w[2] = {-0.5, 0.5};
        for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b)
                d.at<double>(idx[a], idx[b]) += w[a] * w[b];
    };
    for (int i = 0; i < n; ++i)
        for (int j = 0; j + 2 < n; ++j) {
            add_row(i * n + j, i * n + j + 2);    // horizontal
            add_row(j * n + i, (j + 2) * n + i);  // vertical
        }
    GradientOperator g;
    g.trace = cv::trace(d)[0];
    cv::Mat ev;
    cv::eigen(d, ev);
    const double top = ev.at<double>(0);
    for (int k = 0; k < r; ++k)
        if (ev.at<double>(k) > 1e-9 * top) ++g.rank;
    return g;
}

// Moments of a set of patches: packed upper triangle of sum x x^T, then sum x (x = patch - offset).
struct MomentLayout {
    int r = 0;
    std::size_t packed = 0;  // r (r + 1) / 2
    [[nodiscard]] std::size_t size() const { return packed + static_cast<std::size_t>(r); }
};

inline void load_patch(ConstImageView<float> img, const Candidate& c, int n, double offset, double* v) {
    for (int i = 0; i < n; ++i) {
        const float* row = img.row(c.y + i) + c.x;
        for (int j = 0; j < n; ++j)
            v[i * n + j] = static_cast<double>(row[j]) - offset;
    }
}

inline void accumulate(const double* v, const MomentLayout& m, double* acc) {
    double* s = acc;
    for (int i = 0; i < m.r; ++i) {
        const double vi = v[i];
        const int len = m.r - i;
        const double* vj = v + i;
        for (int k = 0; k < len; ++k)
            s[k] += vi * vj[k];
        s += len;
    }
    double* lin = acc + m.packed;
    for (int i = 0; i < m.r; ++i)
        lin[i] += v[i];
}

// The same for four patches at once (v holds them one after the other): one pass over the
// moments instead of four, which is what the accumulation costs (loads and stores of acc).
inline void accumulate4(const double* __restrict v, const MomentLayout& m, double* __restrict acc) {
    const double* v0 = v;
    const double* v1 = v + m.r;
    const double* v2 = v + 2 * m.r;
    const double* v3 = v + 3 * m.r;
    double* s = acc;
    for (int i = 0; i < m.r; ++i) {
        const double a0 = v0[i], a1 = v1[i], a2 = v2[i], a3 = v3[i];
        const int len = m.r - i;
        for (int k = 0; k < len; ++k)
            s[k] += (a0 * v0[i + k] + a1 * v1[i + k]) + (a2 * v2[i + k] + a3 * v3[i + k]);
        s += len;
    }
    double* lin = acc + m.packed;
    for (int i = 0; i < m.r; ++i)
        lin[i] += (v0[i] + v1[i]) + (v2[i] + v3[i]);
}

// Moments of patches [begin, end) of `order` added to acc, four at a time.
inline void accumulate_patches(ConstImageView<float> img, const std::vector<Candidate>& cands,
                               const std::vector<std::int64_t>& order, std::size_t begin, std::size_t end, int n,
                               double offset, const MomentLayout& m, double* acc) {
    std::vector<double> v(4 * static_cast<std::size_t>(m.r));
    std::size_t i = begin;
    for (; i + 4 <= end; i += 4) {
        for (std::size_t q = 0; q < 4; ++q)
            load_patch(img, cands[static_cast<std::size_t>(order[i + q])], n, offset, v.data() + q * m.r);
        accumulate4(v.data(), m, acc);
    }
    for (; i < end; ++i) {
        load_patch(img, cands[static_cast<std::size_t>(order[i])], n, offset, v.data());
        accumulate(v.data(), m, acc);
    }
}

// One group of candidates (all, or one brightness band) sorted by trace.
struct Group {
    std::vector<std::int64_t> order;  // candidate indices, ascending (trace, index)
    std::vector<double> traces;       // traces in that order
    double offset = 0;                // subtracted from pixel values (precision only)
    std::vector<double> prefix;       // (chunks + 1) x layout.size(): moments of the first c chunks
    double signal_lo = 0, signal_hi = 0;
    // Results.
    bool valid = false;
    double sigma2 = 0;
    std::int64_t selected = 0;
    double tau = 0;
    int iterations = 0;
    double mean_signal = 0;
};

class Estimator {
public:
    Estimator(ConstImageView<float> img, const std::vector<Candidate>& cands, const NoisePcaParams& p, double tau0)
        : m_img(img), m_cands(cands), m_p(p), m_tau0(tau0) {
        m_layout.r = p.patch_size * p.patch_size;
        m_layout.packed = static_cast<std::size_t>(m_layout.r) * static_cast<std::size_t>(m_layout.r + 1) / 2;
        m_need = std::max<std::int64_t>(p.min_patches_per_band, 4 * static_cast<std::int64_t>(m_layout.r));
    }

    void prepare(Group& g) const {
        // Ascending (trace, index), sorted as contiguous pairs (no indirection in the compares).
        std::vector<std::pair<double, std::int64_t>> keyed(g.order.size());
        for (std::size_t i = 0; i < g.order.size(); ++i)
            keyed[i] = {m_cands[static_cast<std::size_t>(g.order[i])].trace, g.order[i]};
        std::sort(keyed.begin(), keyed.end());
        g.traces.resize(g.order.size());
        for (std::size_t i = 0; i < g.order.size(); ++i) {
            g.traces[i] = keyed[i].first;
            g.order[i] = keyed[i].second;
        }
        g.offset = 0.5 * (g.signal_lo + g.signal_hi);
        const std::size_t chunks = g.order.size() / static_cast<std::size_t>(kChunk);
        g.prefix.assign((chunks + 1) * m_layout.size(), 0.0);
    }

    // Moments of chunk c of group g into prefix slot c + 1 (not yet cumulative).
    void chunk_moments(Group& g, std::size_t c) const {
        double* acc = g.prefix.data() + (c + 1) * m_layout.size();
        const std::size_t b = c * static_cast<std::size_t>(kChunk);
        accumulate_patches(m_img, m_cands, g.order, b, b + static_cast<std::size_t>(kChunk), m_p.patch_size, g.offset,
                           m_layout, acc);
    }

    static void make_cumulative(Group& g, std::size_t size) {
        const std::size_t chunks = g.prefix.size() / size - 1;
        for (std::size_t c = 1; c <= chunks; ++c)
            for (std::size_t k = 0; k < size; ++k)
                g.prefix[c * size + k] += g.prefix[(c - 1) * size + k];
    }

    // Smallest eigenvalue of the sample covariance of the first n patches of g, corrected.
    [[nodiscard]] double noise_variance(const Group& g, std::int64_t n) const {
        const std::size_t sz = m_layout.size();
        const std::size_t c = static_cast<std::size_t>(n / kChunk);
        std::vector<double> acc(g.prefix.begin() + static_cast<std::ptrdiff_t>(c * sz),
                                g.prefix.begin() + static_cast<std::ptrdiff_t>((c + 1) * sz));
        accumulate_patches(m_img, m_cands, g.order, c * static_cast<std::size_t>(kChunk), static_cast<std::size_t>(n),
                           m_p.patch_size, g.offset, m_layout, acc.data());
        const int r = m_layout.r;
        const double dn = static_cast<double>(n);
        cv::Mat cov(r, r, CV_64F);
        const double* s = acc.data();
        const double* lin = acc.data() + m_layout.packed;
        for (int i = 0; i < r; ++i)
            for (int j = i; j < r; ++j) {
                // Unbiased sample covariance: (sum x x^T - sum x sum x^T / n) / (n - 1).
                const double cij = (*s++ - lin[i] * lin[j] / dn) / (dn - 1.0);
                cov.at<double>(i, j) = cij;
                cov.at<double>(j, i) = cij;
            }
        // The patch mean (direction 1/sqrt(r)) is left out: within a brightness band it is
        // confined to the band's range, so its variance says nothing about the noise. White noise
        // has variance sigma^2 in every direction, hence also in the complement: C' = P C P with
        // P = I - 1 1^T / r, and the mean direction is given the top eigenvalue (+ tr(C)).
        const double tr = cv::trace(cov)[0];
        cv::Mat rowmean;
        cv::reduce(cov, rowmean, 0, cv::REDUCE_AVG);  // 1 x r: mean of each column
        const double all = cv::mean(rowmean)[0];
        for (int i = 0; i < r; ++i)
            for (int j = 0; j < r; ++j)
                cov.at<double>(i, j) += -rowmean.at<double>(0, i) - rowmean.at<double>(0, j) + all + (tr + 1.0) / r;
        cv::Mat ev;
        cv::eigen(cov, ev);
        double lam = std::max(0.0, ev.at<double>(r - 1));  // LTO: noise variance = smallest eigenvalue
        if (m_p.finite_sample_correction) {
            // Marchenko-Pastur lower edge: E[lambda_min] ~ sigma^2 (1 - sqrt(d / n))^2, d = r - 1.
            const double f = 1.0 - std::sqrt(static_cast<double>(r - 1) / dn);
            lam /= f * f;
        }
        return lam;
    }

    // LTO's iteration: select patches with trace < sigma^2 tau0, re-estimate, until stable.
    void run(Group& g) const {
        auto n = static_cast<std::int64_t>(g.order.size());
        if (n < m_need) return;
        double sig2 = noise_variance(g, n);
        int it = 0;
        for (; it < m_p.max_iterations; ++it) {
            const double tau = sig2 * m_tau0;
            // Fewer weak-texture patches than needed: the `m_need` weakest are kept (the estimate
            // still falls toward the noise level instead of stopping at the all-patch value).
            const auto n_new = std::max<std::int64_t>(
                m_need,
                static_cast<std::int64_t>(std::lower_bound(g.traces.begin(), g.traces.end(), tau) - g.traces.begin()));
            if (n_new == n) break;  // converged
            n = n_new;
            sig2 = noise_variance(g, n);
        }
        g.valid = true;
        g.sigma2 = sig2;
        g.selected = n;
        g.tau = sig2 * m_tau0;
        g.iterations = it + 1;
        double sum = 0;
        for (std::int64_t i = 0; i < n; ++i)
            sum += m_cands[static_cast<std::size_t>(g.order[static_cast<std::size_t>(i)])].mean;
        g.mean_signal = sum / static_cast<double>(n);
    }

    [[nodiscard]] std::size_t moment_size() const { return m_layout.size(); }

private:
    ConstImageView<float> m_img;
    const std::vector<Candidate>& m_cands;
    NoisePcaParams m_p;
    double m_tau0;
    MomentLayout m_layout;
    std::int64_t m_need = 0;
};

std::int64_t grid_count(std::int64_t w, std::int64_t h, int n, std::int64_t s) {
    if (w < n || h < n) return 0;
    return ((w - n) / s + 1) * ((h - n) / s + 1);
}

}  // namespace

double gamma_quantile(double p, double shape, double scale) {
    if (!(p > 0 && p < 1) || !(shape > 0) || !(scale > 0))
        throw Error("gamma_quantile: need 0 < p < 1, shape > 0, scale > 0");
    // Bisection on the monotone CDF (deterministic, 200 halvings reach double precision).
    double lo = 0.0, hi = std::max(1.0, shape);
    while (gamma_p(shape, hi) < p)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (gamma_p(shape, mid) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi) * scale;
}

void validate(const NoisePcaParams& p) {
    if (p.patch_size < 3 || p.patch_size > 11)
        throw Error("estimate_noise_pca: patch_size must be in [3, 11] (got " + std::to_string(p.patch_size) +
                    "); LTO use 7");
    if (!(p.confidence >= 0.5 && p.confidence <= 0.99999))
        throw Error("estimate_noise_pca: confidence must be in [0.5, 0.99999] (got " + std::to_string(p.confidence) +
                    "); LTO use 0.99");
    if (p.max_iterations < 1 || p.max_iterations > 100)
        throw Error("estimate_noise_pca: max_iterations must be in [1, 100] (got " + std::to_string(p.max_iterations) +
                    ")");
    if (p.stride < 0 || p.stride > 64)
        throw Error("estimate_noise_pca: stride must be in [0, 64] (got " + std::to_string(p.stride) +
                    "); 0 = automatic");
    if (p.max_patches < 1000)
        throw Error("estimate_noise_pca: max_patches must be >= 1000 (got " + std::to_string(p.max_patches) + ")");
    if (p.brightness_bands < 1 || p.brightness_bands > 64)
        throw Error("estimate_noise_pca: brightness_bands must be in [1, 64] (got " +
                    std::to_string(p.brightness_bands) + ")");
    if (p.min_patches_per_band < 0)
        throw Error("estimate_noise_pca: min_patches_per_band must be >= 0 (got " +
                    std::to_string(p.min_patches_per_band) + ")");
}

namespace {

// Threshold parameters (LTO): tr(G^T G) / sigma^2 ~ Gamma(rank(D)/2, 2 tr(D)/rank(D)); tau0
// is the confidence quantile of that distribution.
void texture_threshold(int n, const NoisePcaParams& p, NoisePcaDetails& det) {
    const GradientOperator op = gradient_operator(n);
    det.gamma_shape = op.rank / 2.0;
    det.gamma_scale = 2.0 * op.trace / op.rank;
    det.tau0 = gamma_quantile(p.confidence, det.gamma_shape, det.gamma_scale);
    if (p.selection == NoisePcaSelection::Neighbours)  // mean of 4 independent Gamma(a, b): Gamma(4a, b/4)
        det.tau0 = gamma_quantile(p.confidence, 4.0 * det.gamma_shape, det.gamma_scale / 4.0);
}

// The given grid stride, or (0) the smallest stride whose grid holds at most max_patches.
std::int64_t grid_stride(ConstImageView<float> image, int n, const NoisePcaParams& p) {
    std::int64_t stride = p.stride;
    if (stride == 0) {
        stride = 1;
        while (grid_count(image.width, image.height, n, stride) > p.max_patches)
            ++stride;
    }
    return stride;
}

// Validity, sum and gradient trace of the n x n patch at (x0, y0), its values left in v; false
// when it leaves the image or touches nodata.
bool patch_terms(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, int n, std::int64_t x0,
                 std::int64_t y0, double* v, double& sum, double& tr) {
    if (x0 < 0 || y0 < 0 || x0 + n > image.width || y0 + n > image.height) return false;
    sum = 0;
    for (int i = 0; i < n; ++i) {
        const float* row = image.row(y0 + i) + x0;
        const std::uint8_t* m = mask.empty() ? nullptr : mask.row(y0 + i) + x0;
        for (int j = 0; j < n; ++j) {
            if (!std::isfinite(row[j]) || (m != nullptr && m[j] == 0)) return false;
            v[i * n + j] = row[j];
            sum += row[j];
        }
    }
    // tr(G^T G) with G = [D_h y, D_v y], central differences (y[k+2] - y[k]) / 2 (LTO).
    tr = 0;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j + 2 < n; ++j) {
            const double dh = 0.5 * (v[i * n + j + 2] - v[i * n + j]);
            const double dv = 0.5 * (v[(j + 2) * n + i] - v[j * n + i]);
            tr += dh * dh + dv * dv;
        }
    return true;
}

// Row prefix sums over a band of image rows, from which the validity, sum and gradient trace of
// any n x n patch inside the band follow in O(n) instead of O(n^2): every patch of the grid and
// its four neighbours share the rows (the neighbours alone would otherwise be summed five times).
// Per row y and column x (prefix P[x] = sum over columns < x):
//   val: pixel value (0 where invalid), bad: invalid pixels (non-finite or masked),
//   gh: (y[x+2] - y[x])^2 / 4 on the row, gv: (y[row+2][x] - y[row][x])^2 / 4 down the column,
// both 0 where either pixel is non-finite (such a patch is invalid anyway). Row sums stay short
// (one row), so the differences of prefixes keep their precision as long as the values are of
// moderate size: load() refuses a band with a value over kMaxAbs, and its patches are
// then summed directly (patch_terms), so that one huge value (an undeclared -3.4e38 nodata) does
// not swamp the sums of every patch to its right.
class RowPrefix {
public:
    // 16-bit data and scaled reflectances stay below it: squared differences up to 2.5e9, row
    // sums of a 10^4-pixel row up to 2.5e13, whose differences are still exact to about 0.01.
    static constexpr double kMaxAbs = 1e5;
    static constexpr std::int64_t kBytesPerPixel = 3 * sizeof(double) + sizeof(std::int32_t);

    RowPrefix(ConstImageView<float> image, ConstImageView<std::uint8_t> mask) : m_img(image), m_mask(mask) {}

    // Sums of rows [y_lo, y_hi) (the buffers are kept between calls); false, with nothing
    // computed, when a value there exceeds kMaxAbs.
    bool load(std::int64_t y_lo, std::int64_t y_hi) {
        for (std::int64_t y = y_lo; y < y_hi; ++y) {
            const float* row = m_img.row(y);
            for (std::int64_t x = 0; x < m_img.width; ++x)
                if (std::abs(row[x]) > kMaxAbs && std::isfinite(row[x])) return false;
        }
        m_y0 = y_lo;
        const auto w1 = static_cast<std::size_t>(m_img.width + 1);
        const auto size = static_cast<std::size_t>(std::max<std::int64_t>(0, y_hi - y_lo)) * w1;
        if (m_val.size() < size) {
            m_val.resize(size);
            m_gh.resize(size);
            m_gv.resize(size);
            m_bad.resize(size);
        }
        for (std::int64_t y = y_lo; y < y_hi; ++y) {
            const float* row = m_img.row(y);
            const float* below = y + 2 < m_img.height ? m_img.row(y + 2) : nullptr;
            const std::uint8_t* m = m_mask.empty() ? nullptr : m_mask.row(y);
            const std::size_t o = static_cast<std::size_t>(y - y_lo) * w1;
            double* val = &m_val[o];
            double* gh = &m_gh[o];
            double* gv = &m_gv[o];
            std::int32_t* bad = &m_bad[o];
            val[0] = gh[0] = gv[0] = 0.0;
            bad[0] = 0;
            for (std::int64_t x = 0; x < m_img.width; ++x) {
                const float v = row[x];
                const bool ok = std::isfinite(v);
                double h = 0.0, d = 0.0;
                if (x + 2 < m_img.width && ok && std::isfinite(row[x + 2])) {
                    const double e = 0.5 * (static_cast<double>(row[x + 2]) - v);
                    h = e * e;
                }
                if (below != nullptr && ok && std::isfinite(below[x])) {
                    const double e = 0.5 * (static_cast<double>(below[x]) - v);
                    d = e * e;
                }
                val[x + 1] = val[x] + (ok ? static_cast<double>(v) : 0.0);
                gh[x + 1] = gh[x] + h;
                gv[x + 1] = gv[x] + d;
                bad[x + 1] = bad[x] + ((!ok || (m != nullptr && m[x] == 0)) ? 1 : 0);
            }
        }
        return true;
    }

    // Validity, sum and gradient trace of the n x n patch at (x0, y0) (LTO's tr(G^T G) with
    // G = [D_h y, D_v y], central differences (y[k+2] - y[k]) / 2); false when it leaves the
    // image or touches nodata. The loaded rows must hold y0 .. y0 + n - 1.
    bool patch(int n, std::int64_t x0, std::int64_t y0, double& sum, double& tr) const {
        if (x0 < 0 || y0 < 0 || x0 + n > m_img.width || y0 + n > m_img.height) return false;
        const auto w1 = static_cast<std::size_t>(m_img.width + 1);
        const auto a = static_cast<std::size_t>(x0), b = static_cast<std::size_t>(x0 + n);
        const auto bh = static_cast<std::size_t>(x0 + n - 2);
        std::size_t o = static_cast<std::size_t>(y0 - m_y0) * w1;
        double s = 0.0, t = 0.0;
        for (int i = 0; i < n; ++i, o += w1) {
            if (m_bad[o + b] != m_bad[o + a]) return false;
            s += m_val[o + b] - m_val[o + a];
            t += m_gh[o + bh] - m_gh[o + a];
            if (i + 2 < n) t += m_gv[o + b] - m_gv[o + a];
        }
        sum = s;
        tr = t;
        return true;
    }

private:
    ConstImageView<float> m_img;
    ConstImageView<std::uint8_t> m_mask;
    std::int64_t m_y0 = 0;
    std::vector<double> m_val, m_gh, m_gv;
    std::vector<std::int32_t> m_bad;
};

// Candidate pass: fully valid patches on the grid, with mean and gradient trace, in grid order.
// With `neighbours`, the texture is judged on the four edge-adjacent patches instead.
std::vector<Candidate> candidate_patches(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, int n,
                                         std::int64_t stride, bool neighbours) {
    const std::int64_t area = static_cast<std::int64_t>(n) * n;
    const std::int64_t gw = (image.width - n) / stride + 1, gh = (image.height - n) / stride + 1;
    const std::int64_t tasks = (gh + kGridRowsPerTask - 1) / kGridRowsPerTask;
    std::vector<std::vector<Candidate>> parts(static_cast<std::size_t>(tasks));
    // Row prefix sums for `group` grid rows at a time: as many as fit in kPrefixBytes (at least
    // one), so that the scratch stays small on wide images with a coarse grid (each row's sums
    // do not depend on the grouping).
    const std::int64_t reach = neighbours ? n : 0;  // rows above and below the patches
    const std::int64_t row_bytes = (image.width + 1) * RowPrefix::kBytesPerPixel;
    std::int64_t group = kGridRowsPerTask;
    while (group > 1 && ((group - 1) * stride + n + 2 * reach) * row_bytes > kPrefixBytes)
        --group;
    parallel_items(tasks, [&](std::int64_t t) {
        std::vector<Candidate>& part = parts[static_cast<std::size_t>(t)];
        const std::int64_t gy_lo = t * kGridRowsPerTask, gy_hi = std::min(gh, (t + 1) * kGridRowsPerTask);
        RowPrefix rows(image, mask);
        std::vector<double> scratch(static_cast<std::size_t>(area));
        for (std::int64_t gy_a = gy_lo; gy_a < gy_hi; gy_a += group) {
            const std::int64_t gy_b = std::min(gy_hi, gy_a + group);
            const bool summed = rows.load(std::max<std::int64_t>(0, gy_a * stride - reach),
                                          std::min(image.height, (gy_b - 1) * stride + n + reach));
            const auto terms = [&](std::int64_t x, std::int64_t y, double& sum, double& tr) {
                return summed ? rows.patch(n, x, y, sum, tr)
                              : patch_terms(image, mask, n, x, y, scratch.data(), sum, tr);
            };
            for (std::int64_t gy = gy_a; gy < gy_b; ++gy)
                for (std::int64_t gx = 0; gx < gw; ++gx) {
                    const std::int64_t x0 = gx * stride, y0 = gy * stride;
                    double sum = 0, tr = 0;
                    if (!terms(x0, y0, sum, tr)) continue;
                    if (neighbours) {
                        // Texture judged on the four edge-adjacent patches (independent noise).
                        double s4 = 0, t4 = 0, dummy = 0;
                        bool ok = true;
                        for (const auto& [dx, dy] :
                             {std::pair{-n, 0}, std::pair{n, 0}, std::pair{0, -n}, std::pair{0, n}}) {
                            if (!terms(x0 + dx, y0 + dy, dummy, s4)) {
                                ok = false;
                                break;
                            }
                            t4 += 0.25 * s4;
                        }
                        if (!ok) continue;
                        tr = t4;
                    }
                    part.push_back({static_cast<std::int32_t>(x0), static_cast<std::int32_t>(y0),
                                    sum / static_cast<double>(area), tr});
                }
        }
    });
    std::vector<Candidate> cands;
    for (const auto& part : parts)
        cands.insert(cands.end(), part.begin(), part.end());
    return cands;
}

// Brightness bands: equal-population quantiles of the patch mean; band k holds
// limits[k-1] <= mean < limits[k].
struct BrightnessBands {
    std::vector<double> limits;
    double lowest = 0, highest = 0;  ///< smallest and largest patch mean
    double median = 0;               ///< median patch mean
    [[nodiscard]] std::size_t count() const { return limits.size() + 1; }
    [[nodiscard]] std::size_t band_of(double m) const {
        return static_cast<std::size_t>(std::upper_bound(limits.begin(), limits.end(), m) - limits.begin());
    }
};

BrightnessBands brightness_bands(const std::vector<Candidate>& cands, int bands) {
    std::vector<double> means(cands.size());
    for (std::size_t i = 0; i < cands.size(); ++i)
        means[i] = cands[i].mean;
    std::sort(means.begin(), means.end());
    BrightnessBands b;
    b.median = means[means.size() / 2];
    b.lowest = means.front();
    b.highest = means.back();
    for (int k = 1; k < bands; ++k) {
        const double q = means[static_cast<std::size_t>(static_cast<double>(means.size()) * k / bands)];
        if ((b.limits.empty() || q > b.limits.back()) && q > means.front()) b.limits.push_back(q);
    }
    return b;
}

// Groups: 0 = all patches (pooled), 1 + k = band k.
std::vector<Group> patch_groups(const std::vector<Candidate>& cands, const BrightnessBands& bands) {
    const std::size_t nbands = bands.count();
    std::vector<Group> groups(nbands + 1);
    groups[0].signal_lo = bands.lowest;
    groups[0].signal_hi = bands.highest;
    for (std::size_t k = 0; k < nbands; ++k) {
        groups[k + 1].signal_lo = k == 0 ? bands.lowest : bands.limits[k - 1];
        groups[k + 1].signal_hi = k + 1 == nbands ? bands.highest : bands.limits[k];
    }
    groups[0].order.resize(cands.size());
    std::iota(groups[0].order.begin(), groups[0].order.end(), std::int64_t{0});
    for (std::size_t i = 0; i < cands.size(); ++i)
        groups[1 + bands.band_of(cands[i].mean)].order.push_back(static_cast<std::int64_t>(i));
    return groups;
}

// The iterative selection and PCA of every group: sort by trace, chunk moments (all groups in
// one parallel loop, each chunk writes its own slot), prefix sums, then the iterations.
void estimate_groups(const Estimator& est, std::vector<Group>& groups) {
    parallel_items(static_cast<std::int64_t>(groups.size()),
                   [&](std::int64_t g) { est.prepare(groups[static_cast<std::size_t>(g)]); });
    const std::size_t msz = est.moment_size();
    std::vector<std::pair<std::size_t, std::size_t>> work;
    for (std::size_t g = 0; g < groups.size(); ++g)
        for (std::size_t c = 0; c + 1 < groups[g].prefix.size() / msz; ++c)
            work.emplace_back(g, c);
    parallel_items(static_cast<std::int64_t>(work.size()), [&](std::int64_t i) {
        const auto [g, c] = work[static_cast<std::size_t>(i)];
        est.chunk_moments(groups[g], c);
    });
    parallel_items(static_cast<std::int64_t>(groups.size()), [&](std::int64_t g) {
        Group& grp = groups[static_cast<std::size_t>(g)];
        Estimator::make_cumulative(grp, msz);
        est.run(grp);
    });
}

// The pooled estimate and the valid bands into out (the pooled group is valid).
void report_estimate(const std::vector<Group>& groups, const BrightnessBands& bands, std::int64_t area,
                     NoiseEstimate& out) {
    const Group& pooled = groups[0];
    out.valid = true;
    out.sigma_dn = std::sqrt(pooled.sigma2);
    out.gradient_threshold = pooled.tau;
    out.pixels_used = pooled.selected * area;
    out.sigma_at_median_signal_dn = out.sigma_dn;
    const std::size_t median_band = bands.band_of(out.median_signal_dn);
    for (std::size_t k = 0; k < bands.count(); ++k) {
        const Group& g = groups[k + 1];
        if (!g.valid) continue;
        NoiseBand b;
        b.signal_lo_dn = g.signal_lo;
        b.signal_hi_dn = g.signal_hi;
        b.mean_signal_dn = g.mean_signal;
        b.sigma_dn = std::sqrt(g.sigma2);
        b.pixels = g.selected * area;
        if (k == median_band) out.sigma_at_median_signal_dn = b.sigma_dn;
        out.bands.push_back(b);
    }
}

}  // namespace

NoiseEstimate estimate_noise_pca(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                                 const NoisePcaParams& params, NoisePcaDetails* details) {
    const NoisePcaParams& p = params;
    validate(p);
    if (!mask.empty() && (mask.width != image.width || mask.height != image.height))
        throw Error("estimate_noise_pca: valid_mask is " + std::to_string(mask.width) + "x" +
                    std::to_string(mask.height) + " but the image is " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + "; pass a mask of the image's size or an empty view");
    NoiseEstimate out;
    NoisePcaDetails det;
    const int n = p.patch_size;
    const std::int64_t area = static_cast<std::int64_t>(n) * n;
    auto finish = [&]() {
        if (details) *details = det;
        return out;
    };

    texture_threshold(n, p, det);
    const std::int64_t stride = grid_stride(image, n, p);
    det.stride = static_cast<int>(stride);
    if (image.width < n || image.height < n) {
        out.message =
            "noise estimate (PCA): image smaller than one " + std::to_string(n) + "x" + std::to_string(n) + " patch";
        return finish();
    }

    const std::vector<Candidate> cands =
        candidate_patches(image, mask, n, stride, p.selection == NoisePcaSelection::Neighbours);
    det.candidate_patches = static_cast<std::int64_t>(cands.size());
    out.pixels_eligible = det.candidate_patches * area;
    if (cands.empty()) {
        out.message = "noise estimate (PCA): no fully valid " + std::to_string(n) + "x" + std::to_string(n) +
                      " patch (image too small or all nodata)";
        return finish();
    }

    const BrightnessBands bands = brightness_bands(cands, p.brightness_bands);
    out.median_signal_dn = bands.median;
    std::vector<Group> groups = patch_groups(cands, bands);
    const Estimator est(image, cands, p, det.tau0);
    estimate_groups(est, groups);

    const Group& pooled = groups[0];
    det.selected_patches = pooled.selected;
    det.iterations = pooled.iterations;
    if (!pooled.valid) {
        out.message = "noise estimate (PCA): " + std::to_string(cands.size()) + " valid patches, fewer than the " +
                      std::to_string(std::max<std::int64_t>(p.min_patches_per_band, 4 * area)) + " needed";
        return finish();
    }
    report_estimate(groups, bands, area, out);
    return finish();
}

}  // namespace satiq
