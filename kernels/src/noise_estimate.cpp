// Immerkaer noise estimator with Sobel structure masking and a per-brightness-band curve.
// Formulas: J. Immerkaer, CVIU 64(2):300-302, 1996 (sigma = sqrt(pi/2)/6 * mean|I*M|);
// structure masking after Tai & Yang, ISCCSP 2008; J. Immerkaer, CVIU 64(2), 1996.
#include "satiq/kernels/noise_estimate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {
namespace {

constexpr int kHistBins = 4096;
// The quantiles (structure threshold, band limits) come from every 4th row: plenty of pixels,
// a quarter of the cost.
constexpr std::int64_t kHistRowStep = 4;

// sqrt(pi/2) / 6: Immerkaer 1996, eq. for sigma from the mean absolute filter response.
const double kImmerkaerScale = std::sqrt(std::numbers::pi / 2.0) / 6.0;

void check_mask(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const char* op) {
    if (!mask.empty() && (mask.width != image.width || mask.height != image.height))
        throw Error(std::string(op) + ": valid_mask is " + std::to_string(mask.width) + "x" +
                    std::to_string(mask.height) + " but the image is " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + "; pass a mask of the image's size or an empty view");
}

inline bool pixel_valid(ConstImageView<float> img, ConstImageView<std::uint8_t> mask, std::int64_t x, std::int64_t y) {
    if (!mask.empty() && mask.at(x, y) == 0) return false;
    return std::isfinite(img.at(x, y));
}

// Per-pixel quantities at an interior pixel (x, y) whose 3x3 neighbourhood is valid.
struct PixelTerms {
    float local_mean;  // 3x3 mean
    float gradient;    // Sobel |Gx| + |Gy| (unnormalized, as Tai & Yang)
    float response;    // |I * M|, Immerkaer mask
};

// Single precision keeps the row loop vectorized; the fast and the reference estimator share this
// exact expression, and all sums are accumulated in double.
inline PixelTerms pixel_terms(const float* r0, const float* r1, const float* r2, std::int64_t x) {
    const float a = r0[x - 1], b = r0[x], c = r0[x + 1];
    const float d = r1[x - 1], e = r1[x], f = r1[x + 1];
    const float g = r2[x - 1], h = r2[x], i = r2[x + 1];
    PixelTerms t{};
    t.local_mean = (a + b + c + d + e + f + g + h + i) * (1.0f / 9.0f);
    const float gx = (c + 2.0f * f + i) - (a + 2.0f * d + g);
    const float gy = (g + 2.0f * h + i) - (a + 2.0f * b + c);
    t.gradient = std::abs(gx) + std::abs(gy);
    t.response = std::abs((a + c + g + i) - 2.0f * (b + d + f + h) + 4.0f * e);
    return t;
}

// Calls fn(x, y, PixelTerms) for every interior pixel of rows [y0, y1) (every `row_step`-th
// row, counted from 0) whose 3x3 neighbourhood is valid, in scan order.
template <class Fn>
void for_each_eligible(ConstImageView<float> img, ConstImageView<std::uint8_t> mask, std::int64_t y0, std::int64_t y1,
                       std::int64_t row_step, Fn&& fn) {
    const std::int64_t w = img.width;
    y0 = std::max<std::int64_t>(y0, 1);
    y1 = std::min<std::int64_t>(y1, img.height - 1);
    if (w < 3 || y1 <= y0) return;
    // valid3[k][x]: validity of (x-1, x, x+1) in row y-1+k, i.e. the horizontal AND.
    std::vector<std::uint8_t> valid_row(static_cast<std::size_t>(w));
    std::vector<float> mean_buf(static_cast<std::size_t>(w)), grad_buf(static_cast<std::size_t>(w)),
        resp_buf(static_cast<std::size_t>(w));
    std::array<std::vector<std::uint8_t>, 3> h3;
    for (auto& v : h3)
        v.assign(static_cast<std::size_t>(w), 0);
    std::array<std::int64_t, 3> h3_row = {-10, -10, -10};
    auto fill_h3 = [&](std::int64_t y, std::vector<std::uint8_t>& out) {
        const float* r = img.row(y);
        const std::uint8_t* m = mask.empty() ? nullptr : mask.row(y);
        for (std::int64_t x = 0; x < w; ++x)
            valid_row[static_cast<std::size_t>(x)] = (std::isfinite(r[x]) && (m == nullptr || m[x] != 0)) ? 1 : 0;
        out[0] = out[static_cast<std::size_t>(w - 1)] = 0;
        for (std::int64_t x = 1; x < w - 1; ++x) {
            const auto ux = static_cast<std::size_t>(x);
            out[ux] = valid_row[ux - 1] & valid_row[ux] & valid_row[ux + 1];
        }
    };
    // Rows are cached by index (rolling when row_step == 1).
    auto get = [&](std::int64_t y) -> const std::vector<std::uint8_t>& {
        for (int k = 0; k < 3; ++k)
            if (h3_row[static_cast<std::size_t>(k)] == y) return h3[static_cast<std::size_t>(k)];
        // Replace the slot holding the lowest row.
        int slot = 0;
        for (int k = 1; k < 3; ++k)
            if (h3_row[static_cast<std::size_t>(k)] < h3_row[static_cast<std::size_t>(slot)]) slot = k;
        fill_h3(y, h3[static_cast<std::size_t>(slot)]);
        h3_row[static_cast<std::size_t>(slot)] = y;
        return h3[static_cast<std::size_t>(slot)];
    };
    for (std::int64_t y = y0; y < y1; ++y) {
        if (row_step > 1 && (y - 1) % row_step != 0) continue;
        const auto& a = get(y - 1);
        const auto& b = get(y);
        const auto& c = get(y + 1);
        const float* r0 = img.row(y - 1);
        const float* r1 = img.row(y);
        const float* r2 = img.row(y + 1);
        // Terms for the whole row first (branch-free, vectorized), then the eligible pixels.
        for (std::int64_t x = 1; x < w - 1; ++x) {
            const PixelTerms t = pixel_terms(r0, r1, r2, x);
            const auto ux = static_cast<std::size_t>(x);
            mean_buf[ux] = t.local_mean;
            grad_buf[ux] = t.gradient;
            resp_buf[ux] = t.response;
        }
        for (std::int64_t x = 1; x < w - 1; ++x) {
            const auto ux = static_cast<std::size_t>(x);
            if ((a[ux] & b[ux] & c[ux]) == 0) continue;
            fn(x, y, PixelTerms{mean_buf[ux], grad_buf[ux], resp_buf[ux]});
        }
    }
}

struct Range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
};

struct Histograms {
    std::vector<std::int64_t> mean_hist = std::vector<std::int64_t>(kHistBins, 0);
    std::vector<std::int64_t> grad_hist = std::vector<std::int64_t>(kHistBins, 0);
};

struct Binning {
    double vmin = 0.0;
    double vmax = 0.0;
    double grad_max = 0.0;  // upper bound of |Gx|+|Gy|: 8 * (vmax - vmin)
    // Clamped before the conversion to int: pixel values near the float limit make the 3x3 sums
    // overflow to an infinity (and the bin position to NaN), which no int can hold.
    [[nodiscard]] static int clamp_bin(double t) {
        return t > 0.0 ? static_cast<int>(std::min(t, kHistBins - 1.0)) : 0;
    }
    [[nodiscard]] int mean_bin(double m) const {
        if (vmax <= vmin) return 0;
        return clamp_bin((m - vmin) / (vmax - vmin) * kHistBins);
    }
    // Square-root scale: fine resolution for the small (noise-level) gradients that dominate.
    [[nodiscard]] int grad_bin(double g) const {
        if (grad_max <= 0.0) return 0;
        return clamp_bin(std::sqrt(std::max(0.0, g) / grad_max) * kHistBins);
    }
};

struct Accum {
    std::vector<double> sum_response;
    std::vector<double> sum_signal;
    std::vector<std::int64_t> count;
    std::int64_t eligible = 0;
    explicit Accum(std::size_t bands) : sum_response(bands, 0.0), sum_signal(bands, 0.0), count(bands, 0) {}
};

// Everything after the histograms: thresholds, band limits.
struct Plan {
    Binning binning;
    int grad_max_bin = kHistBins - 1;                                 // histogram bin of the threshold
    double grad_threshold = std::numeric_limits<double>::infinity();  // retained when gradient <= this
    std::vector<std::uint8_t> band_lut;                               // mean histogram bin -> band
    std::vector<double> band_upper;  // band k holds local means < band_upper[k] (last: all)
    std::vector<double> band_lower;
    std::int64_t eligible = 0;
};

Plan make_plan(const Binning& binning, const Histograms& h, const NoiseEstimateParams& p) {
    Plan plan;
    plan.binning = binning;
    std::int64_t total = 0;
    for (auto c : h.grad_hist)
        total += c;
    plan.eligible = total;
    if (total == 0) return plan;
    // Gradient threshold: keep the lowest (1 - structure_fraction) of the pixels.
    const auto keep = static_cast<std::int64_t>(std::ceil((1.0 - p.structure_fraction) * static_cast<double>(total)));
    std::int64_t cum = 0;
    plan.grad_max_bin = kHistBins - 1;
    for (int b = 0; b < kHistBins; ++b) {
        cum += h.grad_hist[static_cast<std::size_t>(b)];
        if (cum >= keep) {
            plan.grad_max_bin = b;
            break;
        }
    }
    // Band limits: equal-population quantiles of the local mean (bin upper edges), deduplicated.
    const double width = (binning.vmax - binning.vmin) / kHistBins;
    std::vector<double> uppers;
    std::vector<int> upper_bins;  // last histogram bin of each band
    cum = 0;
    int next = 1;
    for (int b = 0; b < kHistBins - 1 && next < p.brightness_bands; ++b) {
        cum += h.mean_hist[static_cast<std::size_t>(b)];
        while (next < p.brightness_bands &&
               static_cast<double>(cum) >= static_cast<double>(total) * next / p.brightness_bands) {
            if (upper_bins.empty() || b > upper_bins.back()) {
                upper_bins.push_back(b);
                uppers.push_back(binning.vmin + (b + 1) * width);
            }
            ++next;
        }
    }
    uppers.push_back(std::numeric_limits<double>::infinity());
    upper_bins.push_back(kHistBins - 1);
    plan.band_upper = uppers;
    if (plan.grad_max_bin < kHistBins - 1)
        plan.grad_threshold = binning.grad_max * std::pow(static_cast<double>(plan.grad_max_bin + 1) / kHistBins, 2.0);
    // Band limits sit on histogram bin edges, so the band is a function of the bin.
    plan.band_lut.assign(kHistBins, 0);
    for (int b = 0, k = 0; b < kHistBins; ++b) {
        while (b > upper_bins[static_cast<std::size_t>(k)])
            ++k;
        plan.band_lut[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(k);
    }
    plan.band_lower.resize(uppers.size());
    for (std::size_t k = 0; k < uppers.size(); ++k)
        plan.band_lower[k] = k == 0 ? binning.vmin : uppers[k - 1];
    return plan;
}

inline std::size_t band_of(const Plan& plan, double mean) {
    return plan.band_lut[static_cast<std::size_t>(plan.binning.mean_bin(mean))];
}

NoiseEstimate finish(const Plan& plan, const Histograms& h, const Accum& acc, const NoiseEstimateParams& p) {
    NoiseEstimate out;
    out.pixels_eligible = acc.eligible;
    out.gradient_threshold = std::isfinite(plan.grad_threshold) ? plan.grad_threshold : 0.0;
    double sum_all = 0.0;
    std::int64_t n_all = 0;
    for (std::size_t k = 0; k < acc.count.size(); ++k) {
        sum_all += acc.sum_response[k];
        n_all += acc.count[k];
    }
    out.pixels_used = n_all;
    if (n_all == 0) {
        out.message = plan.eligible == 0 ? "noise estimate: no interior pixel with a fully valid 3x3 neighbourhood "
                                           "(image too small or all nodata)"
                                         : "noise estimate: every eligible pixel was excluded as structure";
        return out;
    }
    out.valid = true;
    out.sigma_dn = kImmerkaerScale * sum_all / static_cast<double>(n_all);
    // Median local mean from the histogram (bin centre).
    std::int64_t total = 0;
    for (auto c : h.mean_hist)
        total += c;
    std::int64_t cum = 0;
    const double width = (plan.binning.vmax - plan.binning.vmin) / kHistBins;
    out.median_signal_dn = plan.binning.vmin;
    for (int b = 0; b < kHistBins; ++b) {
        cum += h.mean_hist[static_cast<std::size_t>(b)];
        if (2 * cum >= total) {
            out.median_signal_dn = plan.binning.vmin + (b + 0.5) * width;
            break;
        }
    }
    out.sigma_at_median_signal_dn = out.sigma_dn;
    const std::size_t median_band = band_of(plan, out.median_signal_dn);
    for (std::size_t k = 0; k < acc.count.size(); ++k) {
        if (acc.count[k] < std::max<std::int64_t>(1, p.min_pixels_per_band)) continue;
        NoiseBand b;
        b.signal_lo_dn = plan.band_lower[k];
        b.signal_hi_dn = std::isfinite(plan.band_upper[k]) ? plan.band_upper[k] : plan.binning.vmax;
        b.mean_signal_dn = acc.sum_signal[k] / static_cast<double>(acc.count[k]);
        b.sigma_dn = kImmerkaerScale * acc.sum_response[k] / static_cast<double>(acc.count[k]);
        b.pixels = acc.count[k];
        if (k == median_band) out.sigma_at_median_signal_dn = b.sigma_dn;
        out.bands.push_back(b);
    }
    return out;
}

NoiseEstimate degenerate(const std::string& why) {
    NoiseEstimate out;
    out.message = why;
    return out;
}

}  // namespace

void validate(const NoiseEstimateParams& p) {
    if (!(p.structure_fraction >= 0.0 && p.structure_fraction <= 0.9))
        throw Error("estimate_noise: structure_fraction must be in [0, 0.9] (got " +
                    std::to_string(p.structure_fraction) + "); use 0.1 as Tai & Yang do");
    if (p.brightness_bands < 1 || p.brightness_bands > 64)
        throw Error("estimate_noise: brightness_bands must be in [1, 64] (got " + std::to_string(p.brightness_bands) +
                    ")");
    if (p.min_pixels_per_band < 0)
        throw Error("estimate_noise: min_pixels_per_band must be >= 0 (got " + std::to_string(p.min_pixels_per_band) +
                    ")");
}

NoiseEstimate estimate_noise(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                             const NoiseEstimateParams& p) {
    validate(p);
    check_mask(image, mask, "estimate_noise");
    if (image.width < 3 || image.height < 3)
        return degenerate("noise estimate: image smaller than 3x3, no interior pixel");
    const std::int64_t nblocks = (image.height + kNoiseBlockRows - 1) / kNoiseBlockRows;
    auto block_rows = [&](std::int64_t b) {
        return std::pair{b * kNoiseBlockRows, std::min(image.height, (b + 1) * kNoiseBlockRows)};
    };

    // Pass A: value range of valid pixels (min/max are order independent).
    std::vector<Range> ranges(static_cast<std::size_t>(nblocks));
    parallel_items(nblocks, [&](std::int64_t b) {
        auto [y0, y1] = block_rows(b);
        Range r;
        for (std::int64_t y = y0; y < y1; ++y) {
            const float* row = image.row(y);
            const std::uint8_t* m = mask.empty() ? nullptr : mask.row(y);
            float lo = std::numeric_limits<float>::infinity(), hi = -lo;
            for (std::int64_t x = 0; x < image.width; ++x) {
                const float v = row[x];
                // Non-finite values fail the range test; masked ones are skipped.
                const bool ok = std::abs(v) <= std::numeric_limits<float>::max() && (m == nullptr || m[x] != 0);
                lo = ok && v < lo ? v : lo;
                hi = ok && v > hi ? v : hi;
            }
            r.lo = std::min(r.lo, static_cast<double>(lo));
            r.hi = std::max(r.hi, static_cast<double>(hi));
        }
        ranges[static_cast<std::size_t>(b)] = r;
    });
    Range all;
    for (const auto& r : ranges) {
        all.lo = std::min(all.lo, r.lo);
        all.hi = std::max(all.hi, r.hi);
    }
    if (!(all.lo <= all.hi)) return degenerate("noise estimate: no valid pixel (all nodata or non-finite)");
    Binning binning{all.lo, all.hi, 8.0 * (all.hi - all.lo)};

    // Pass B: histograms of local mean and gradient (integer counts: order independent).
    // Every 4th row first; all rows when those hold no eligible pixel (tiny or sparse masks).
    Histograms total;
    for (const std::int64_t step : {kHistRowStep, std::int64_t{1}}) {
        std::vector<Histograms> hists(static_cast<std::size_t>(nblocks));
        parallel_items(nblocks, [&](std::int64_t b) {
            auto [y0, y1] = block_rows(b);
            Histograms& h = hists[static_cast<std::size_t>(b)];
            for_each_eligible(image, mask, y0, y1, step, [&](std::int64_t, std::int64_t, const PixelTerms& t) {
                ++h.mean_hist[static_cast<std::size_t>(binning.mean_bin(t.local_mean))];
                ++h.grad_hist[static_cast<std::size_t>(binning.grad_bin(t.gradient))];
            });
        });
        total = Histograms{};
        std::int64_t n = 0;
        for (const auto& h : hists)
            for (int k = 0; k < kHistBins; ++k) {
                total.mean_hist[static_cast<std::size_t>(k)] += h.mean_hist[static_cast<std::size_t>(k)];
                total.grad_hist[static_cast<std::size_t>(k)] += h.grad_hist[static_cast<std::size_t>(k)];
                n += h.grad_hist[static_cast<std::size_t>(k)];
            }
        if (n > 0) break;
    }
    const Plan plan = make_plan(binning, total, p);
    if (plan.eligible == 0) return finish(plan, total, Accum(1), p);

    // Pass C: per-band sums; block partials combined in block order (deterministic).
    const std::size_t nb = plan.band_upper.size();
    std::vector<Accum> accs(static_cast<std::size_t>(nblocks), Accum(nb));
    parallel_items(nblocks, [&](std::int64_t b) {
        auto [y0, y1] = block_rows(b);
        Accum& a = accs[static_cast<std::size_t>(b)];
        for_each_eligible(image, mask, y0, y1, 1, [&](std::int64_t, std::int64_t, const PixelTerms& t) {
            ++a.eligible;
            if (t.gradient > plan.grad_threshold) return;
            const std::size_t k = band_of(plan, t.local_mean);
            a.sum_response[k] += t.response;
            a.sum_signal[k] += t.local_mean;
            ++a.count[k];
        });
    });
    Accum acc(nb);
    for (const auto& a : accs)
        for (std::size_t k = 0; k < nb; ++k) {
            acc.sum_response[k] += a.sum_response[k];
            acc.sum_signal[k] += a.sum_signal[k];
            acc.count[k] += a.count[k];
        }
    for (const auto& a : accs)
        acc.eligible += a.eligible;
    return finish(plan, total, acc, p);
}

NoiseEstimate estimate_noise_reference(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                                       const NoiseEstimateParams& p) {
    validate(p);
    check_mask(image, mask, "estimate_noise_reference");
    if (image.width < 3 || image.height < 3)
        return degenerate("noise estimate: image smaller than 3x3, no interior pixel");
    Range all;
    for (std::int64_t y = 0; y < image.height; ++y)
        for (std::int64_t x = 0; x < image.width; ++x)
            if (pixel_valid(image, mask, x, y)) {
                all.lo = std::min<double>(all.lo, image.at(x, y));
                all.hi = std::max<double>(all.hi, image.at(x, y));
            }
    if (!(all.lo <= all.hi)) return degenerate("noise estimate: no valid pixel (all nodata or non-finite)");
    Binning binning{all.lo, all.hi, 8.0 * (all.hi - all.lo)};
    auto eligible = [&](std::int64_t x, std::int64_t y) {
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx)
                if (!pixel_valid(image, mask, x + dx, y + dy)) return false;
        return true;
    };
    Histograms total;
    for (const std::int64_t step : {kHistRowStep, std::int64_t{1}}) {
        total = Histograms{};
        std::int64_t n = 0;
        for (std::int64_t y = 1; y + 1 < image.height; ++y)
            for (std::int64_t x = 1; x + 1 < image.width; ++x) {
                if ((y - 1) % step != 0 || !eligible(x, y)) continue;
                const auto t = pixel_terms(image.row(y - 1), image.row(y), image.row(y + 1), x);
                ++total.mean_hist[static_cast<std::size_t>(binning.mean_bin(t.local_mean))];
                ++total.grad_hist[static_cast<std::size_t>(binning.grad_bin(t.gradient))];
                ++n;
            }
        if (n > 0) break;
    }
    const Plan plan = make_plan(binning, total, p);
    Accum acc(std::max<std::size_t>(1, plan.band_upper.size()));
    for (std::int64_t y = 1; y + 1 < image.height; ++y)
        for (std::int64_t x = 1; x + 1 < image.width; ++x) {
            if (!eligible(x, y)) continue;
            const auto t = pixel_terms(image.row(y - 1), image.row(y), image.row(y + 1), x);
            ++acc.eligible;
            if (t.gradient > plan.grad_threshold) continue;
            const std::size_t k = band_of(plan, t.local_mean);
            acc.sum_response[k] += t.response;
            acc.sum_signal[k] += t.local_mean;
            ++acc.count[k];
        }
    return finish(plan, total, acc, p);
}

double sigma_at_level(const NoiseEstimate& estimate, double level_dn) {
    const auto& bands = estimate.bands;
    if (bands.size() < 2) return estimate.sigma_dn;
    std::size_t i = 0;
    while (i + 2 < bands.size() && bands[i + 1].mean_signal_dn < level_dn)
        ++i;
    const auto& a = bands[i];
    const auto& b = bands[i + 1];
    const double f =
        std::clamp((level_dn - a.mean_signal_dn) / std::max(1e-9, b.mean_signal_dn - a.mean_signal_dn), 0.0, 1.0);
    return a.sigma_dn + f * (b.sigma_dn - a.sigma_dn);
}

}  // namespace satiq
