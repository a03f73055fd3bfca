#include "satiq/kernels/noise_spectral.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <vector>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {

namespace {

// True when every pixel of the n x n block at (x0, y0) is finite and unmasked; each row is
// tested without an early exit inside it (the test then vectorizes).
bool block_valid(ConstImageView<float> im, ConstImageView<std::uint8_t> mask, std::int64_t x0, std::int64_t y0, int n) {
    for (int y = 0; y < n; ++y) {
        const float* r = im.row(y0 + y) + x0;
        bool bad = false;
        for (int x = 0; x < n; ++x)
            bad |= !(std::abs(r[x]) <= std::numeric_limits<float>::max());
        if (!mask.empty()) {
            const std::uint8_t* m = mask.row(y0 + y) + x0;
            for (int x = 0; x < n; ++x)
                bad |= m[x] == 0;
        }
        if (bad) return false;
    }
    return true;
}

// The block's mean, summed in 8 interleaved partial sums (rows of n >= 8 pixels, n a power of two).
double block_mean(ConstImageView<float> im, std::int64_t x0, std::int64_t y0, int n) {
    double part[8] = {};
    for (int y = 0; y < n; ++y) {
        const float* r = im.row(y0 + y) + x0;
        for (int x = 0; x < n; x += 8)
            for (int j = 0; j < 8; ++j)
                part[j] += r[x + j];
    }
    double s = 0;
    for (double v : part)
        s += v;
    return s / (static_cast<double>(n) * n);
}

// Power of an n x n real block's DFT, X(u, v) = sum_yx b(y, x) exp(-2 pi i (u x + v y) / n),
// summed over the corner min(u, n - u) >= k0 and min(v, n - v) >= k0: only those bins are
// computed, as two separable real matrix products (about 7 % of the n^2 bins at the default
// f0 = 3/8), instead of the whole 2-D transform. For real input X(n - u, v) = conj X(u, n - v)
// and the corner is symmetric, so the columns u in [k0, n/2) count twice and u = n/2 once.
// Both products fold the data first: cos(2 pi u (n - x) / n) = cos(2 pi u x / n) and the sine
// changes sign, so the cosine sums take b(x) + b(n - x) and the sine sums b(x) - b(n - x) over
// x = 0 .. n/2 (half the products); likewise over y, where the rows v and n - v then come from
// the same four sums: |X(u, v)|^2 + |X(u, n - v)|^2 = 2 (C1^2 + S1^2 + S2^2 + C2^2) below.
class CornerDft {
public:
    CornerDft(int n, int k0)
        : m_n(n),
          m_k0(k0),
          m_half(static_cast<std::size_t>(n / 2 - k0 + 1)),
          m_fold(static_cast<std::size_t>(n / 2 + 1)) {
        m_cu.resize(m_half * m_fold);
        m_su.resize(m_half * m_fold);
        for (std::size_t i = 0; i < m_half; ++i)
            for (std::size_t j = 0; j < m_fold; ++j) {
                const double a = angle(k0 + static_cast<int>(i), static_cast<int>(j));
                m_cu[i * m_fold + j] = std::cos(a);
                m_su[i * m_fold + j] = std::sin(a);
            }
        m_cv.resize(m_fold * m_half);
        m_sv.resize(m_cv.size());
        for (std::size_t y = 0; y < m_fold; ++y)
            for (std::size_t i = 0; i < m_half; ++i) {
                const double a = angle(k0 + static_cast<int>(i), static_cast<int>(y));
                m_cv[y * m_half + i] = std::cos(a);
                m_sv[y * m_half + i] = std::sin(a);
            }
    }
    // Values of the folded block (fold_block's output) and of the scratch corner_power uses.
    [[nodiscard]] std::size_t folded_size() const { return 2 * m_fold * static_cast<std::size_t>(m_n); }
    [[nodiscard]] std::size_t scratch_size() const {
        return 2 * m_half * static_cast<std::size_t>(m_n) + 4 * m_fold + 4 * m_half;
    }

    // Folds the windowed block b (row-major, b[y n + x]) over x: folded[x n + y] = b(y, x) +
    // b(y, n - x) and, after n/2 + 1 such rows, b(y, x) - b(y, n - x) (x = 0 and n/2 have no
    // partner: the sum is the value, the difference unused).
    void fold_block(const std::vector<double>& b, std::vector<double>& folded) const {
        const auto un = static_cast<std::size_t>(m_n);
        double* sum = folded.data();
        double* dif = folded.data() + m_fold * un;
        for (std::size_t x = 0; x < m_fold; ++x) {
            double* s = sum + x * un;
            double* d = dif + x * un;
            const std::size_t xm = (un - x) % un;
            const bool alone = x == 0 || x + 1 == m_fold;
            for (std::size_t y = 0; y < un; ++y) {
                const double v = b[y * un + x], u = b[y * un + xm];
                s[y] = alone ? v : v + u;
                d[y] = alone ? 0.0 : v - u;
            }
        }
    }

    // folded: fold_block's output; rows: scratch_size() values. The row transform runs across y
    // (contiguous, independent sums) so that it vectorizes.
    double corner_power(const std::vector<double>& folded, std::vector<double>& rows) const {
        const auto un = static_cast<std::size_t>(m_n);
        // Row transforms at the corner columns: A(y, u) = sum_x b(y, x) (cos - i sin)(2 pi u x / n),
        // stored as re[u][y], im[u][y] (the sine sum, negated below).
        std::fill(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(2 * m_half * un), 0.0);
        double* re = rows.data();
        double* im = rows.data() + m_half * un;
        const double* sum = folded.data();
        const double* dif = folded.data() + m_fold * un;
        for (std::size_t i = 0; i < m_half; ++i) {
            double* r = re + i * un;
            double* q = im + i * un;
            for (std::size_t x = 0; x < m_fold; ++x) {
                const double c = m_cu[i * m_fold + x];
                const double* b = sum + x * un;
                for (std::size_t y = 0; y < un; ++y)
                    r[y] += b[y] * c;
            }
            for (std::size_t x = 1; x + 1 < m_fold; ++x) {
                const double sn = m_su[i * m_fold + x];
                const double* b = dif + x * un;
                for (std::size_t y = 0; y < un; ++y)
                    q[y] += b[y] * sn;
            }
        }
        // Column transforms: X(u, v) = sum_y (ar - i ai)(cos - i sin)(2 pi v y / n), on the
        // data folded over y: C1 = sum ar+ cos, S1 = sum ai- sin, S2 = sum ar- sin, C2 = sum ai+ cos
        // give X(u, v) = (C1 - S1) - i (S2 + C2) and X(u, n - v) = (C1 + S1) - i (C2 - S2).
        double* arp = im + m_half * un;
        double* arm = arp + m_fold;
        double* aip = arm + m_fold;
        double* aim = aip + m_fold;
        double* acc = aim + m_fold;  // C1, S1, S2, C2 for v = k0 .. n/2
        double total = 0.0;
        for (std::size_t i = 0; i < m_half; ++i) {
            const double weight = (m_k0 + static_cast<int>(i)) * 2 == m_n ? 1.0 : 2.0;
            const double* ar = re + i * un;
            const double* ai = im + i * un;
            for (std::size_t y = 0; y < m_fold; ++y) {
                const std::size_t ym = (un - y) % un;
                const bool alone = y == 0 || y + 1 == m_fold;
                arp[y] = alone ? ar[y] : ar[y] + ar[ym];
                aip[y] = alone ? ai[y] : ai[y] + ai[ym];
                arm[y] = alone ? 0.0 : ar[y] - ar[ym];
                aim[y] = alone ? 0.0 : ai[y] - ai[ym];
            }
            std::fill(acc, acc + 4 * m_half, 0.0);
            double* c1 = acc;
            double* s1 = acc + m_half;
            double* s2 = s1 + m_half;
            double* c2 = s2 + m_half;
            for (std::size_t y = 0; y < m_fold; ++y) {
                const double* c = &m_cv[y * m_half];
                const double* sn = &m_sv[y * m_half];
                for (std::size_t v = 0; v < m_half; ++v) {
                    c1[v] += arp[y] * c[v];
                    s1[v] += aim[y] * sn[v];
                    s2[v] += arm[y] * sn[v];
                    c2[v] += aip[y] * c[v];
                }
            }
            double col = 0.0;
            for (std::size_t v = 0; v < m_half; ++v) {
                // Rows v and n - v, or the Nyquist row v = n/2 alone (its sines vanish).
                const double pair = c1[v] * c1[v] + s1[v] * s1[v] + s2[v] * s2[v] + c2[v] * c2[v];
                col += (m_k0 + static_cast<int>(v)) * 2 == m_n ? pair : 2.0 * pair;
            }
            total += weight * col;
        }
        return total;
    }

private:
    [[nodiscard]] double angle(int k, int j) const {
        return 2.0 * std::numbers::pi * static_cast<double>(k * j % m_n) / m_n;
    }
    int m_n, m_k0;
    std::size_t m_half;              // corner frequencies k0 .. n/2
    std::size_t m_fold;              // folded positions 0 .. n/2
    std::vector<double> m_cu, m_su;  // cos, sin (2 pi u x / n), [u][x], u = k0 .. n/2, x = 0 .. n/2
    std::vector<double> m_cv, m_sv;  // cos, sin (2 pi v y / n), [y][v], the same ranges
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
    // Rows of blocks in parallel, each block's power in its own slot (NaN: a block skipped; a
    // valid block's power is finite, its values being finite floats summed in double), then
    // summed in raster order: the same sum for any thread count.
    const std::int64_t bx = (im.width - n) / stride + 1, by = (im.height - n) / stride + 1;
    std::vector<double> power(static_cast<std::size_t>(bx * by));
    parallel_items(by, [&](std::int64_t j) {
        std::vector<double> windowed(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
        std::vector<double> block(dft.folded_size());
        std::vector<double> rows(dft.scratch_size());
        const std::int64_t y0 = j * stride;
        for (std::int64_t i = 0; i < bx; ++i) {
            const std::int64_t x0 = i * stride;
            double& out = power[static_cast<std::size_t>(j * bx + i)];
            if (!block_valid(im, mask, x0, y0, n)) {
                out = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            const double mean = block_mean(im, x0, y0, n);
            for (int y = 0; y < n; ++y) {
                const float* r = im.row(y0 + y) + x0;
                double* o = &windowed[static_cast<std::size_t>(y) * static_cast<std::size_t>(n)];
                const double wy = w[static_cast<std::size_t>(y)];
                for (int x = 0; x < n; ++x)
                    o[x] = (r[x] - mean) * w[static_cast<std::size_t>(x)] * wy;
            }
            dft.fold_block(windowed, block);
            out = dft.corner_power(block, rows) / wsum2;
        }
    });
    double total = 0;
    std::int64_t bins = 0;
    const std::int64_t corner = n - 2 * k0 + 1;  // corner bins per axis: min(u, n - u) >= k0
    for (const double v : power)
        if (!std::isnan(v)) {
            total += v;
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
