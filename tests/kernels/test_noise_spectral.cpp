// Spectral-corner noise estimator (kernels/noise_spectral.hpp): white-noise accuracy, the corner
// power against a full 2-D DFT (OpenCV's), the block grid, masks and thread invariance.
#include <gtest/gtest.h>

#include <tbb/global_control.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include <opencv2/core.hpp>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/noise_spectral.hpp"

namespace {

using namespace satiq;

Image white_noise(std::int64_t w, std::int64_t h, double mean, double sigma, std::uint64_t seed) {
    Image img(w, h);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(mean, sigma);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
            img.at(x, y) = static_cast<float>(g(rng));
    return img;
}

// The definition: Welch average of Hann-windowed, mean-removed blocks, whole 2-D DFT, power
// summed over min(u, n - u) >= k0 and min(v, n - v) >= k0 (the estimator computes only those bins).
double reference_sigma(ConstImageView<float> im, int n, double corner, std::int64_t stride) {
    std::vector<double> w(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        w[static_cast<std::size_t>(i)] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * (i + 0.5) / n);
    double wsum2 = 0;
    for (double a : w)
        for (double b : w)
            wsum2 += a * a * b * b;
    const int k0 = static_cast<int>(std::ceil(corner * n));
    double total = 0;
    std::int64_t bins = 0;
    cv::Mat block(n, n, CV_64F), spec;
    for (std::int64_t y0 = 0; y0 + n <= im.height; y0 += stride)
        for (std::int64_t x0 = 0; x0 + n <= im.width; x0 += stride) {
            double mean = 0;
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x)
                    mean += im.at(x0 + x, y0 + y);
            mean /= n * n;
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x)
                    block.at<double>(y, x) = (im.at(x0 + x, y0 + y) - mean) * w[static_cast<std::size_t>(x)] *
                                             w[static_cast<std::size_t>(y)];
            cv::dft(block, spec, cv::DFT_COMPLEX_OUTPUT);
            for (int v = 0; v < n; ++v)
                for (int u = 0; u < n; ++u) {
                    if (std::min(v, n - v) < k0 || std::min(u, n - u) < k0) continue;
                    const cv::Vec2d c = spec.at<cv::Vec2d>(v, u);
                    total += (c[0] * c[0] + c[1] * c[1]) / wsum2;
                    ++bins;
                }
        }
    return std::sqrt(total / static_cast<double>(bins));
}

TEST(NoiseSpectral, WhiteNoiseGivesItsSigma) {
    const Image img = white_noise(512, 512, 1000.0, 5.0, 3);
    const SpectralNoiseEstimate e = estimate_noise_spectral(img.view());
    ASSERT_TRUE(e.valid) << e.message;
    EXPECT_NEAR(e.sigma_dn, 5.0, 0.03 * 5.0);
    EXPECT_EQ(e.blocks, 15 * 15);  // 64 px blocks every 32 px
}

TEST(NoiseSpectral, CornerPowerEqualsTheFullTransform) {
    // A scene with a strong smooth part (outside the corner) and texture plus noise inside it.
    Image img = white_noise(300, 260, 500.0, 3.0, 8);
    for (std::int64_t y = 0; y < img.height(); ++y)
        for (std::int64_t x = 0; x < img.width(); ++x)
            img.at(x, y) += static_cast<float>(200.0 * std::sin(0.05 * x) * std::cos(0.03 * y) +
                                               20.0 * std::sin(2.6 * x + 2.9 * y));
    for (const auto& [n, corner] : {std::pair{64, 0.375}, std::pair{32, 0.25}, std::pair{16, 0.45}}) {
        SpectralNoiseParams p;
        p.block_px = n;
        p.corner_cyc_per_px = corner;
        const SpectralNoiseEstimate e = estimate_noise_spectral(img.view(), {}, p);
        ASSERT_TRUE(e.valid) << e.message;
        const double ref = reference_sigma(img.view(), n, corner, n / 2);
        EXPECT_NEAR(e.sigma_dn, ref, 1e-9 * ref) << "block " << n << ", corner " << corner;
    }
}

TEST(NoiseSpectral, BlocksTouchingNodataAreSkipped) {
    Image img = white_noise(256, 256, 100.0, 2.0, 5);
    std::vector<std::uint8_t> mask(256 * 256, 1);
    for (std::int64_t y = 0; y < 256; ++y)
        for (std::int64_t x = 0; x < 100; ++x) {
            img.at(x, y) = (x + y) % 2 ? 0.0f : 60000.0f;  // wild values under the mask
            mask[static_cast<std::size_t>(y * 256 + x)] = 0;
        }
    img.at(200, 10) = std::numeric_limits<float>::quiet_NaN();
    const SpectralNoiseEstimate e =
        estimate_noise_spectral(img.view(), ConstImageView<std::uint8_t>(mask.data(), 256, 256));
    ASSERT_TRUE(e.valid) << e.message;
    EXPECT_NEAR(e.sigma_dn, 2.0, 0.06 * 2.0);
    EXPECT_LT(e.blocks, 7 * 7);
}

TEST(NoiseSpectral, SameResultForAnyThreadCount) {
    const Image img = white_noise(400, 300, 50.0, 1.5, 11);
    SpectralNoiseEstimate a, b;
    {
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        a = estimate_noise_spectral(img.view());
    }
    {
        tbb::global_control two(tbb::global_control::max_allowed_parallelism, 2);
        b = estimate_noise_spectral(img.view());
    }
    EXPECT_EQ(a.sigma_dn, b.sigma_dn);
    EXPECT_EQ(a.blocks, b.blocks);
}

TEST(NoiseSpectral, InvalidParametersThrowAndSmallImagesAreNotValid) {
    const Image img = white_noise(128, 128, 0.0, 1.0, 1);
    SpectralNoiseParams p;
    p.block_px = 48;
    EXPECT_THROW((void)estimate_noise_spectral(img.view(), {}, p), Error);
    p = {};
    p.corner_cyc_per_px = 0.5;
    EXPECT_THROW((void)estimate_noise_spectral(img.view(), {}, p), Error);
    const Image tiny = white_noise(40, 40, 0.0, 1.0, 1);
    EXPECT_FALSE(estimate_noise_spectral(tiny.view()).valid);
}

}  // namespace
