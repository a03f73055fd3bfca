#include "satiq/kernels/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "satiq/kernels/parallel.hpp"

namespace satiq {

namespace {

struct RowAcc {
    std::int64_t n = 0;
    double sum = 0, sum2 = 0;
    float mn = std::numeric_limits<float>::infinity();
    float mx = -std::numeric_limits<float>::infinity();
};

inline bool valid(const float* row, const std::uint8_t* mrow, std::int64_t x) {
    return std::isfinite(row[x]) && (!mrow || mrow[x] != 0);
}

}  // namespace

ImageStats compute_stats(ConstImageView<float> img, ConstImageView<std::uint8_t> mask) {
    ImageStats s;
    if (img.empty()) return s;
    if (mask.data && (mask.width != img.width || mask.height != img.height))
        throw Error("compute_stats: mask size differs from the image size");
    const bool use_mask = mask.data != nullptr;

    // Pass 1: per-row moments, combined in row order (deterministic).
    std::vector<RowAcc> rows(static_cast<std::size_t>(img.height));
    parallel_rows(img.height, img.width, [&](std::int64_t y0, std::int64_t y1) {
        for (std::int64_t y = y0; y < y1; ++y) {
            const float* r = img.row(y);
            const std::uint8_t* m = use_mask ? mask.row(y) : nullptr;
            RowAcc a;
            for (std::int64_t x = 0; x < img.width; ++x) {
                if (!valid(r, m, x)) continue;
                const double v = r[x];
                ++a.n;
                a.sum += v;
                a.sum2 += v * v;
                a.mn = std::min(a.mn, r[x]);
                a.mx = std::max(a.mx, r[x]);
            }
            rows[static_cast<std::size_t>(y)] = a;
        }
    });
    RowAcc t;
    for (const auto& a : rows) {
        t.n += a.n;
        t.sum += a.sum;
        t.sum2 += a.sum2;
        t.mn = std::min(t.mn, a.mn);
        t.mx = std::max(t.mx, a.mx);
    }
    if (t.n == 0) return s;
    s.valid_count = t.n;
    s.min = t.mn;
    s.max = t.mx;
    s.mean = t.sum / static_cast<double>(t.n);
    s.stddev = std::sqrt(std::max(0.0, t.sum2 / static_cast<double>(t.n) - s.mean * s.mean));

    // Pass 2: histogram per row band, merged in band order.
    constexpr int kBins = 65536;
    const double lo = s.min, span = s.max - s.min;
    if (span <= 0) {
        s.p01 = s.p02 = s.p50 = s.p98 = s.p99 = s.min;
        return s;
    }
    const double scale = (kBins - 1) / span;
    const std::int64_t band_rows = std::max<std::int64_t>(1, (1 << 20) / std::max<std::int64_t>(1, img.width));
    const std::int64_t nbands = (img.height + band_rows - 1) / band_rows;
    std::vector<std::vector<std::uint32_t>> hists(static_cast<std::size_t>(nbands));
    parallel_items(nbands, [&](std::int64_t b) {
        auto& h = hists[static_cast<std::size_t>(b)];
        h.assign(kBins, 0);
        const std::int64_t y1 = std::min(img.height, (b + 1) * band_rows);
        for (std::int64_t y = b * band_rows; y < y1; ++y) {
            const float* r = img.row(y);
            const std::uint8_t* m = use_mask ? mask.row(y) : nullptr;
            for (std::int64_t x = 0; x < img.width; ++x)
                // (r[x] - lo) * scale >= 0, so +0.5 and truncation round half up, as lround would.
                // NOLINTNEXTLINE(bugprone-incorrect-roundings)
                if (valid(r, m, x)) ++h[static_cast<std::size_t>((r[x] - lo) * scale + 0.5)];
        }
    });
    std::vector<std::uint64_t> hist(kBins, 0);
    for (const auto& h : hists)
        for (int i = 0; i < kBins; ++i)
            hist[static_cast<std::size_t>(i)] += h[static_cast<std::size_t>(i)];
    auto percentile = [&](double p) {
        const auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(t.n)));
        std::uint64_t acc = 0;
        for (int i = 0; i < kBins; ++i) {
            acc += hist[static_cast<std::size_t>(i)];
            if (acc >= std::max<std::uint64_t>(rank, 1)) return lo + i / scale;
        }
        return s.max;
    };
    s.p01 = percentile(1);
    s.p02 = percentile(2);
    s.p50 = percentile(50);
    s.p98 = percentile(98);
    s.p99 = percentile(99);
    return s;
}

}  // namespace satiq
