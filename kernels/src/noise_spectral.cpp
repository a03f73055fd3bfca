#include "satiq/kernels/noise_spectral.hpp"

#include <cmath>
#include <numbers>
#include <vector>

#include <opencv2/core.hpp>

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
    cv::Mat block(n, n, CV_64F), spec;
    double total = 0;
    std::int64_t bins = 0;
    for (std::int64_t y0 = 0; y0 + n <= im.height; y0 += stride)
        for (std::int64_t x0 = 0; x0 + n <= im.width; x0 += stride) {
            if (!block_valid(im, mask, x0, y0, n)) continue;
            double mean = 0;
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x)
                    mean += im.row(y0 + y)[x0 + x];
            mean /= n * n;
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x)
                    block.at<double>(y, x) = (im.row(y0 + y)[x0 + x] - mean) * w[static_cast<std::size_t>(x)] *
                                             w[static_cast<std::size_t>(y)];
            cv::dft(block, spec, cv::DFT_COMPLEX_OUTPUT);
            for (int v = 0; v < n; ++v) {
                const int fv = std::min(v, n - v);
                if (fv < k0) continue;
                for (int u = 0; u < n; ++u) {
                    if (std::min(u, n - u) < k0) continue;
                    const cv::Vec2d c = spec.at<cv::Vec2d>(v, u);
                    total += (c[0] * c[0] + c[1] * c[1]) / wsum2;
                    ++bins;
                }
            }
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
