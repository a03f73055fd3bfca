#include "satiq/kernels/noise_spectral.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include "satiq/kernels/error.hpp"

namespace satiq {

namespace {

bool block_valid(ConstImageView<float> im, ConstImageView<std::uint8_t> mask, std::int64_t x0, std::int64_t y0, int n) {
    for (int y = 0; y < n; ++y) {
        const float* r = im.row(y0 + y) + x0;
        const std::uint8_t* m = mask.empty() ? nullptr : mask.row(y0 + y) + x0;
        for (int x = 0; x < n; ++x)
            if (!std::isfinite(r[x]) || (m && !m[x])) return false;
    }
    return true;
}

// Power of an n x n real block's DFT, X(u, v) = sum_yx b(y, x) exp(-2 pi i (u x + v y) / n),
// summed over the corner min(u, n - u) >= k0 and min(v, n - v) >= k0: only those bins are
// computed, as two separable real matrix products (about 7 % of the n^2 bins at the default
// f0 = 3/8), instead of the whole 2-D transform. For real input X(n - u, v) = conj X(u, n - v)
// and the corner is symmetric, so the columns u in [k0, n/2) count twice and u = n/2 once.
class CornerDft {
public:
    CornerDft(int n, int k0) : m_n(n), m_k0(k0), m_half(static_cast<std::size_t>(n / 2 - k0 + 1)) {
        const auto un = static_cast<std::size_t>(n);
        m_cu.resize(m_half * un);
        m_su.resize(m_half * un);
        for (std::size_t i = 0; i < m_half; ++i)
            for (int j = 0; j < n; ++j) {
                const double a = 2.0 * std::numbers::pi * static_cast<double>((k0 + static_cast<int>(i)) * j % n) / n;
                m_cu[i * un + static_cast<std::size_t>(j)] = std::cos(a);
                m_su[i * un + static_cast<std::size_t>(j)] = std::sin(a);
            }
        const auto nv = static_cast<std::size_t>(n - 2 * k0 + 1);
        m_cv.resize(nv * un);
        m_sv.resize(m_cv.size());
        for (int k = 0; k < n; ++k)
            for (int v = k0; v <= n - k0; ++v) {
                const double a = 2.0 * std::numbers::pi * static_cast<double>(v * k % n) / n;
                m_cv[static_cast<std::size_t>(k) * nv + static_cast<std::size_t>(v - k0)] = std::cos(a);
                m_sv[static_cast<std::size_t>(k) * nv + static_cast<std::size_t>(v - k0)] = std::sin(a);
            }
    }
    [[nodiscard]] std::size_t scratch_size() const {
        return 2 * m_half * static_cast<std::size_t>(m_n) + 2 * static_cast<std::size_t>(m_n - 2 * m_k0 + 1);
    }

    // block: the windowed block transposed (block[x n + y]); rows: scratch_size() values. The loops run across y and v
    // (contiguous, independent sums) so that they vectorize.
    double corner_power(const std::vector<double>& block, std::vector<double>& rows) const {
        const auto un = static_cast<std::size_t>(m_n);
        // Row transforms at the corner columns: A(y, u) = sum_x b(y, x) (cos - i sin)(2 pi u x / n),
        // stored as re[u][y], im[u][y] (the sine sum, negated below).
        std::fill(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(2 * m_half * un), 0.0);
        double* re = rows.data();
        double* im = rows.data() + m_half * un;
        for (std::size_t i = 0; i < m_half; ++i) {
            double* r = re + i * un;
            double* q = im + i * un;
            for (std::size_t x = 0; x < un; ++x) {
                const double c = m_cu[i * un + x], sn = m_su[i * un + x];
                const double* b = &block[x * un];
                for (std::size_t y = 0; y < un; ++y) {
                    r[y] += b[y] * c;
                    q[y] += b[y] * sn;
                }
            }
        }
        // Column transforms: X(u, v) = sum_y (ar - i ai)(cos - i sin)(2 pi v y / n).
        const std::size_t nv = static_cast<std::size_t>(m_n - 2 * m_k0 + 1);
        double* xr = im + m_half * un;  // the last 2 nv values of rows
        double* xi = xr + nv;
        double total = 0.0;
        for (std::size_t i = 0; i < m_half; ++i) {
            const double weight = (m_k0 + static_cast<int>(i)) * 2 == m_n ? 1.0 : 2.0;
            std::fill(xr, xr + nv, 0.0);
            std::fill(xi, xi + nv, 0.0);
            for (std::size_t y = 0; y < un; ++y) {
                const double ar = re[i * un + y], ai = im[i * un + y];
                const double* c = &m_cv[y * nv];
                const double* sn = &m_sv[y * nv];
                for (std::size_t v = 0; v < nv; ++v) {
                    xr[v] += ar * c[v] - ai * sn[v];
                    xi[v] += ar * sn[v] + ai * c[v];
                }
            }
            double col = 0.0;
            for (std::size_t v = 0; v < nv; ++v)
                col += xr[v] * xr[v] + xi[v] * xi[v];
            total += weight * col;
        }
        return total;
    }

private:
    int m_n, m_k0;
    std::size_t m_half;              // corner columns u = k0 .. n/2
    std::vector<double> m_cu, m_su;  // cos, sin (2 pi u x / n), u = k0 .. n/2
    std::vector<double> m_cv, m_sv;  // cos, sin (2 pi v y / n), [y][v], v = k0 .. n - k0
};

}  // namespace

SpectralNoiseEstimate estimate_noise_spectral(ConstImageView<float> im, ConstImageView<std::uint8_t> mask,
                                              const SpectralNoiseParams& p) {
    const int n = p.block_px;
    if (n < 8 || (n & (n - 1)) != 0) throw Error("estimate_noise_spectral: block_px must be a power of two >= 8");
    if (!(p.corner_cyc_per_px > 0 && p.corner_cyc_per_px < 0.5))
        throw Error("estimate_noise_spectral: corner_cyc_per_px must be in (0, 0.5)");
    if (p.max_blocks < 1) throw Error("estimate_noise_spectral: max_blocks must be positive");
    if (!mask.empty() && (mask.width != im.width || mask.height != im.height))
        throw Error("estimate_noise_spectral: mask size differs from the image");
    SpectralNoiseEstimate e;
    if (im.width < n || im.height < n) {
        e.message = "image smaller than one spectral block";
        return e;
    }
    // Half-overlapping blocks (Welch), thinned to at most max_blocks by a larger stride.
    std::int64_t stride = n / 2;
    while (((im.width - n) / stride + 1) * ((im.height - n) / stride + 1) > p.max_blocks)
        stride += n / 2;
    std::vector<double> w(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        w[static_cast<std::size_t>(i)] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * (i + 0.5) / n);
    double wsum2 = 0;  // sum of the 2-D window squared: the periodogram's normalization
    for (double a : w)
        for (double b : w)
            wsum2 += a * a * b * b;
    const int k0 = static_cast<int>(std::ceil(p.corner_cyc_per_px * n));  // first corner bin
    const CornerDft dft(n, k0);
    std::vector<double> block(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
    std::vector<double> rows(dft.scratch_size());
    double total = 0;
    std::int64_t bins = 0;
    const std::int64_t corner = n - 2 * k0 + 1;  // corner bins per axis: min(u, n - u) >= k0
    for (std::int64_t y0 = 0; y0 + n <= im.height; y0 += stride)
        for (std::int64_t x0 = 0; x0 + n <= im.width; x0 += stride) {
            if (!block_valid(im, mask, x0, y0, n)) continue;
            double mean = 0;
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x)
                    mean += im.row(y0 + y)[x0 + x];
            mean /= n * n;
            for (int y = 0; y < n; ++y) {
                const float* r = im.row(y0 + y) + x0;
                for (int x = 0; x < n; ++x)
                    block[static_cast<std::size_t>(x) * static_cast<std::size_t>(n) + static_cast<std::size_t>(y)] =
                        (r[x] - mean) * w[static_cast<std::size_t>(x)] * w[static_cast<std::size_t>(y)];
            }
            total += dft.corner_power(block, rows) / wsum2;
            bins += corner * corner;
            ++e.blocks;
        }
    if (e.blocks == 0) {
        e.message = "no fully valid spectral block";
        return e;
    }
    e.sigma_dn = std::sqrt(total / static_cast<double>(bins));
    e.valid = true;
    return e;
}

}  // namespace satiq
