// Immerkaer noise estimator with Sobel structure masking and a per-brightness-band curve.
// Formulas: J. Immerkaer, CVIU 64(2):300-302, 1996 (sigma = sqrt(pi/2)/6 * mean|I*M|);
// structure masking after Tai & Yang, ISCCSP 2008; domain.md section 6.
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
    double local_mean;  // 3x3 mean
    double gradient;    // Sobel |Gx| + |Gy| (unnormalized, as Tai & Yang)
    double response;    // |I * M|, Immerkaer mask
};

inline PixelTerms pixel_terms(const float* r0, const float* r1, const float* r2, std::int64_t x) {
    const double a = r0[x - 1], b = r0[x], c = r0[x + 1];
    const double d = r1[x - 1], e = r1[x], f = r1[x + 1];
    const double g = r2[x - 1], h = r2[x], i = r2[x + 1];
    PixelTerms t{};
    t.local_mean = (a + b + c + d + e + f + g + h + i) / 9.0;
    const double gx = (c + 2.0 * f + i) - (a + 2.0 * d + g);
    const double gy = (g + 2.0 * h + i) - (a + 2.0 * b + c);
    t.gradient = std::abs(gx) + std::abs(gy);
    t.response = std::abs((a + c + g + i) - 2.0 * (b + d + f + h) + 4.0 * e);
    return t;
}

// Row-validity buffers for a block: eligible[x] for row y is true when the 3x3 neighbourhood
// is valid. Calls fn(x, y, PixelTerms) for every eligible interior pixel of rows [y0, y1).
template <class Fn>
void for_each_eligible(ConstImageView<float> img, ConstImageView<std::uint8_t> mask, std::int64_t y0, std::int64_t y1,
                       Fn&& fn) {
    const std::int64_t w = img.width;
    y0 = std::max<std::int64_t>(y0, 1);
    y1 = std::min<std::int64_t>(y1, img.height - 1);
    if (w < 3 || y1 <= y0) return;
    // h3[k][x]: AND of validity of (x-1, x, x+1) in row y-1+k (rolling).
    std::vector<std::uint8_t> valid_row(static_cast<std::size_t>(w));
    std::array<std::vector<std::uint8_t>, 3> h3;
    for (auto& v : h3) v.assign(static_cast<std::size_t>(w), 0);
    auto fill_h3 = [&](std::int64_t y, std::vector<std::uint8_t>& out) {
        for (std::int64_t x = 0; x < w; ++x) valid_row[static_cast<std::size_t>(x)] = pixel_valid(img, mask, x, y) ? 1 : 0;
        out[0] = out[static_cast<std::size_t>(w - 1)] = 0;
        for (std::int64_t x = 1; x < w - 1; ++x) {
            const auto ux = static_cast<std::size_t>(x);
            out[ux] = valid_row[ux - 1] & valid_row[ux] & valid_row[ux + 1];
        }
    };
    fill_h3(y0 - 1, h3[0]);
    fill_h3(y0, h3[1]);
    for (std::int64_t y = y0; y < y1; ++y) {
        fill_h3(y + 1, h3[2]);
        const float* r0 = img.row(y - 1);
        const float* r1 = img.row(y);
        const float* r2 = img.row(y + 1);
        for (std::int64_t x = 1; x < w - 1; ++x) {
            const auto ux = static_cast<std::size_t>(x);
            if ((h3[0][ux] & h3[1][ux] & h3[2][ux]) == 0) continue;
            fn(x, y, pixel_terms(r0, r1, r2, x));
        }
        std::swap(h3[0], h3[1]);
        std::swap(h3[1], h3[2]);
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
    [[nodiscard]] int mean_bin(double m) const {
        if (vmax <= vmin) return 0;
        const double t = (m - vmin) / (vmax - vmin) * kHistBins;
        return std::clamp(static_cast<int>(t), 0, kHistBins - 1);
    }
    // Square-root scale: fine resolution for the small (noise-level) gradients that dominate.
    [[nodiscard]] int grad_bin(double g) const {
        if (grad_max <= 0.0) return 0;
        const double t = std::sqrt(std::max(0.0, g) / grad_max) * kHistBins;
        return std::clamp(static_cast<int>(t), 0, kHistBins - 1);
    }
};

struct Accum {
    std::vector<double> sum_response;
    std::vector<double> sum_signal;
    std::vector<std::int64_t> count;
    explicit Accum(std::size_t bands) : sum_response(bands, 0.0), sum_signal(bands, 0.0), count(bands, 0) {}
};

// Everything after the histograms: thresholds, band limits.
struct Plan {
    Binning binning;
    int grad_max_bin = kHistBins - 1;          // retained when grad_bin <= this
    std::vector<double> band_upper;            // band k holds local means < band_upper[k] (last: all)
    std::vector<double> band_lower;
    std::int64_t eligible = 0;
};

Plan make_plan(const Binning& binning, const Histograms& h, const NoiseEstimateParams& p) {
    Plan plan;
    plan.binning = binning;
    std::int64_t total = 0;
    for (auto c : h.grad_hist) total += c;
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
    cum = 0;
    int next = 1;
    for (int b = 0; b < kHistBins && next < p.brightness_bands; ++b) {
        cum += h.mean_hist[static_cast<std::size_t>(b)];
        while (next < p.brightness_bands &&
               static_cast<double>(cum) >= static_cast<double>(total) * next / p.brightness_bands) {
            const double edge = binning.vmin + (b + 1) * width;
            if (uppers.empty() || edge > uppers.back()) uppers.push_back(edge);
            ++next;
        }
    }
    if (!uppers.empty() && uppers.back() >= binning.vmax) uppers.pop_back();
    uppers.push_back(std::numeric_limits<double>::infinity());
    plan.band_upper = uppers;
    plan.band_lower.resize(uppers.size());
    for (std::size_t k = 0; k < uppers.size(); ++k) plan.band_lower[k] = k == 0 ? binning.vmin : uppers[k - 1];
    return plan;
}

inline std::size_t band_of(const Plan& plan, double mean) {
    const auto it = std::upper_bound(plan.band_upper.begin(), plan.band_upper.end(), mean);
    return std::min<std::size_t>(static_cast<std::size_t>(it - plan.band_upper.begin()), plan.band_upper.size() - 1);
}

NoiseEstimate finish(const Plan& plan, const Histograms& h, const Accum& acc, const NoiseEstimateParams& p) {
    NoiseEstimate out;
    out.pixels_eligible = plan.eligible;
    out.gradient_threshold = plan.binning.grad_max *
                             std::pow(static_cast<double>(plan.grad_max_bin + 1) / kHistBins, 2.0);
    double sum_all = 0.0;
    std::int64_t n_all = 0;
    for (std::size_t k = 0; k < acc.count.size(); ++k) {
        sum_all += acc.sum_response[k];
        n_all += acc.count[k];
    }
    out.pixels_used = n_all;
    if (n_all == 0) {
        out.message = plan.eligible == 0
                          ? "noise estimate: no interior pixel with a fully valid 3x3 neighbourhood (image too small or all nodata)"
                          : "noise estimate: every eligible pixel was excluded as structure";
        return out;
    }
    out.valid = true;
    out.sigma_dn = kImmerkaerScale * sum_all / static_cast<double>(n_all);
    // Median local mean from the histogram (bin centre).
    std::int64_t total = 0;
    for (auto c : h.mean_hist) total += c;
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
        throw Error("estimate_noise: structure_fraction must be in [0, 0.9] (got " + std::to_string(p.structure_fraction) +
                    "); use 0.1 as Tai & Yang do");
    if (p.brightness_bands < 1 || p.brightness_bands > 64)
        throw Error("estimate_noise: brightness_bands must be in [1, 64] (got " + std::to_string(p.brightness_bands) + ")");
    if (p.min_pixels_per_band < 0)
        throw Error("estimate_noise: min_pixels_per_band must be >= 0 (got " + std::to_string(p.min_pixels_per_band) + ")");
}

NoiseEstimate estimate_noise(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const NoiseEstimateParams& p) {
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
        for (std::int64_t y = y0; y < y1; ++y)
            for (std::int64_t x = 0; x < image.width; ++x) {
                if (!pixel_valid(image, mask, x, y)) continue;
                const double v = image.at(x, y);
                r.lo = std::min(r.lo, v);
                r.hi = std::max(r.hi, v);
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
    std::vector<Histograms> hists(static_cast<std::size_t>(nblocks));
    parallel_items(nblocks, [&](std::int64_t b) {
        auto [y0, y1] = block_rows(b);
        Histograms& h = hists[static_cast<std::size_t>(b)];
        for_each_eligible(image, mask, y0, y1, [&](std::int64_t, std::int64_t, const PixelTerms& t) {
            ++h.mean_hist[static_cast<std::size_t>(binning.mean_bin(t.local_mean))];
            ++h.grad_hist[static_cast<std::size_t>(binning.grad_bin(t.gradient))];
        });
    });
    Histograms total;
    for (const auto& h : hists)
        for (int k = 0; k < kHistBins; ++k) {
            total.mean_hist[static_cast<std::size_t>(k)] += h.mean_hist[static_cast<std::size_t>(k)];
            total.grad_hist[static_cast<std::size_t>(k)] += h.grad_hist[static_cast<std::size_t>(k)];
        }
    hists.clear();
    const Plan plan = make_plan(binning, total, p);
    if (plan.eligible == 0) return finish(plan, total, Accum(1), p);

    // Pass C: per-band sums; block partials combined in block order (deterministic).
    const std::size_t nb = plan.band_upper.size();
    std::vector<Accum> accs(static_cast<std::size_t>(nblocks), Accum(nb));
    parallel_items(nblocks, [&](std::int64_t b) {
        auto [y0, y1] = block_rows(b);
        Accum& a = accs[static_cast<std::size_t>(b)];
        for_each_eligible(image, mask, y0, y1, [&](std::int64_t, std::int64_t, const PixelTerms& t) {
            if (binning.grad_bin(t.gradient) > plan.grad_max_bin) return;
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
    for (std::int64_t y = 1; y + 1 < image.height; ++y)
        for (std::int64_t x = 1; x + 1 < image.width; ++x) {
            if (!eligible(x, y)) continue;
            const auto t = pixel_terms(image.row(y - 1), image.row(y), image.row(y + 1), x);
            ++total.mean_hist[static_cast<std::size_t>(binning.mean_bin(t.local_mean))];
            ++total.grad_hist[static_cast<std::size_t>(binning.grad_bin(t.gradient))];
        }
    const Plan plan = make_plan(binning, total, p);
    Accum acc(std::max<std::size_t>(1, plan.band_upper.size()));
    for (std::int64_t y = 1; y + 1 < image.height; ++y)
        for (std::int64_t x = 1; x + 1 < image.width; ++x) {
            if (!eligible(x, y)) continue;
            const auto t = pixel_terms(image.row(y - 1), image.row(y), image.row(y + 1), x);
            if (binning.grad_bin(t.gradient) > plan.grad_max_bin) continue;
            const std::size_t k = band_of(plan, t.local_mean);
            acc.sum_response[k] += t.response;
            acc.sum_signal[k] += t.local_mean;
            ++acc.count[k];
        }
    return finish(plan, total, acc, p);
}

}  // namespace satiq
