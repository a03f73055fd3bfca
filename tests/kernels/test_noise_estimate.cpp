// Immerkaer noise estimator (kernels/noise_estimate.hpp): accuracy on images with known added
// noise, reference vs fast, thread invariance, degenerate inputs, parameter errors.
#include <gtest/gtest.h>

#include <tbb/global_control.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/noise_estimate.hpp"

namespace {

using namespace satiq;

// Smooth texture (sum of low-frequency sinusoids) with a few sharp blocks, plus Gaussian noise.
Image textured(std::int64_t w, std::int64_t h, double noise, std::uint64_t seed, bool signal_dependent = false) {
    Image img(w, h);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            const double fx = static_cast<double>(x), fy = static_cast<double>(y);
            double v =
                500.0 + 150.0 * std::sin(fx * 0.031) * std::cos(fy * 0.023) + 80.0 * std::sin((fx + 2 * fy) * 0.011);
            if (((x / 40) + (y / 40)) % 3 == 0) v += 250.0;  // sharp-edged blocks (structure)
            const double s = signal_dependent ? noise * std::sqrt(v / 100.0) : noise;
            img.at(x, y) = static_cast<float>(v + s * g(rng));
        }
    return img;
}

TEST(NoiseEstimate, FlatImageKnownNoise) {
    Image img(256, 256);
    std::mt19937_64 rng(3);
    std::normal_distribution<double> g(100.0, 5.0);
    for (auto& v : img.pixels())
        v = static_cast<float>(g(rng));
    const NoiseEstimate ne = estimate_noise(img.view());
    ASSERT_TRUE(ne.valid) << ne.message;
    std::printf("flat, sigma 5: estimate %.4f\n", ne.sigma_dn);
    // Excluding the top 10 % gradients trims a little noise too: a few % low is expected.
    EXPECT_NEAR(ne.sigma_dn, 5.0, 0.05 * 5.0);
    NoiseEstimateParams all;
    all.structure_fraction = 0.0;
    EXPECT_NEAR(estimate_noise(img.view(), {}, all).sigma_dn, 5.0, 0.03 * 5.0);
}

TEST(NoiseEstimate, TexturedImageKnownNoise) {
    for (double sigma : {2.0, 4.0, 8.0}) {
        const Image img = textured(512, 384, sigma, static_cast<std::uint64_t>(sigma * 10));
        const NoiseEstimate ne = estimate_noise(img.view());
        ASSERT_TRUE(ne.valid) << ne.message;
        NoiseEstimateParams none;
        none.structure_fraction = 0.0;
        const NoiseEstimate raw = estimate_noise(img.view(), {}, none);
        std::printf("textured, sigma %.1f: estimate %.4f (%.2f %%), without structure mask %.4f\n", sigma, ne.sigma_dn,
                    100.0 * (ne.sigma_dn / sigma - 1.0), raw.sigma_dn);
        EXPECT_NEAR(ne.sigma_dn, sigma, 0.06 * sigma);
        EXPECT_GT(raw.sigma_dn, ne.sigma_dn);  // the masking removes structure leakage
        EXPECT_GT(ne.bands.size(), 4u);
    }
}

TEST(NoiseEstimate, SignalDependentNoiseCurveRises) {
    const Image img = textured(512, 512, 3.0, 11, true);
    NoiseEstimateParams p;
    p.brightness_bands = 8;
    const NoiseEstimate ne = estimate_noise(img.view(), {}, p);
    ASSERT_TRUE(ne.valid);
    ASSERT_GE(ne.bands.size(), 4u);
    for (const auto& b : ne.bands) {
        const double expected = 3.0 * std::sqrt(b.mean_signal_dn / 100.0);
        EXPECT_NEAR(b.sigma_dn, expected, 0.12 * expected) << "band at " << b.mean_signal_dn;
        EXPECT_LE(b.signal_lo_dn, b.mean_signal_dn);
        EXPECT_GE(b.signal_hi_dn, b.mean_signal_dn);
    }
    EXPECT_GT(ne.bands.back().sigma_dn, ne.bands.front().sigma_dn);
    EXPECT_GT(ne.sigma_at_median_signal_dn, 0.0);
}

TEST(NoiseEstimate, ReferenceMatchesFastAndThreadInvariant) {
    Image img = textured(301, 257, 4.0, 5);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(301 * 257), 1);
    for (std::int64_t y = 0; y < 257; ++y)
        for (std::int64_t x = 0; x < 30; ++x)
            mask[static_cast<std::size_t>(y * 301 + x)] = 0;
    img.at(200, 100) = std::numeric_limits<float>::quiet_NaN();
    const ConstImageView<std::uint8_t> mv(mask.data(), 301, 257);
    const NoiseEstimate fast = estimate_noise(img.view(), mv);
    const NoiseEstimate ref = estimate_noise_reference(img.view(), mv);
    ASSERT_TRUE(fast.valid);
    EXPECT_EQ(fast.pixels_used, ref.pixels_used);
    EXPECT_EQ(fast.pixels_eligible, ref.pixels_eligible);
    EXPECT_NEAR(fast.sigma_dn, ref.sigma_dn, 1e-12 * ref.sigma_dn);
    ASSERT_EQ(fast.bands.size(), ref.bands.size());
    for (std::size_t k = 0; k < fast.bands.size(); ++k) {
        EXPECT_EQ(fast.bands[k].pixels, ref.bands[k].pixels);
        EXPECT_NEAR(fast.bands[k].sigma_dn, ref.bands[k].sigma_dn, 1e-12 * ref.bands[k].sigma_dn);
    }
    NoiseEstimate one;
    {
        tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
        one = estimate_noise(img.view(), mv);
    }
    EXPECT_EQ(one.sigma_dn, fast.sigma_dn);  // bit-identical
    ASSERT_EQ(one.bands.size(), fast.bands.size());
    for (std::size_t k = 0; k < one.bands.size(); ++k)
        EXPECT_EQ(one.bands[k].sigma_dn, fast.bands[k].sigma_dn);
}

TEST(NoiseEstimate, DegenerateImages) {
    Image one(1, 1, 5.0f);
    NoiseEstimate ne = estimate_noise(one.view());
    EXPECT_FALSE(ne.valid);
    EXPECT_FALSE(ne.message.empty());
    EXPECT_EQ(ne.sigma_dn, 0.0);
    EXPECT_FALSE(estimate_noise(Image(0, 0).view()).valid);
    Image row(100, 1, 1.0f);
    EXPECT_FALSE(estimate_noise(row.view()).valid);
    Image constant(64, 64, 7.0f);
    ne = estimate_noise(constant.view());
    EXPECT_TRUE(ne.valid);
    EXPECT_EQ(ne.sigma_dn, 0.0);
    Image img = textured(64, 64, 2.0, 1);
    std::vector<std::uint8_t> none(64 * 64, 0);
    ne = estimate_noise(img.view(), ConstImageView<std::uint8_t>(none.data(), 64, 64));
    EXPECT_FALSE(ne.valid);
    EXPECT_NE(ne.message.find("no valid pixel"), std::string::npos);
    Image nans(32, 32, std::numeric_limits<float>::quiet_NaN());
    EXPECT_FALSE(estimate_noise(nans.view()).valid);
}

TEST(NoiseEstimate, InvalidParametersThrow) {
    Image img(16, 16);
    NoiseEstimateParams p;
    p.structure_fraction = 0.95;
    EXPECT_THROW((void)estimate_noise(img.view(), {}, p), Error);
    p = {};
    p.brightness_bands = 0;
    EXPECT_THROW((void)estimate_noise(img.view(), {}, p), Error);
    std::vector<std::uint8_t> mask(4, 1);
    EXPECT_THROW((void)estimate_noise(img.view(), ConstImageView<std::uint8_t>(mask.data(), 2, 2)), Error);
    EXPECT_EQ(halo(NoiseEstimateParams{}), 1);
}

}  // namespace
