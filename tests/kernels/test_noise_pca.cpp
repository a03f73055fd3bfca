// PCA noise estimator (kernels/noise_pca.hpp, Liu-Tanaka-Okutomi 2013): accuracy on flat and
// textured synthetic images with known white Gaussian noise, signal-dependent noise curve,
// nodata handling, thread invariance, degenerate inputs, parameter errors, run time.
#include <gtest/gtest.h>

#include <tbb/global_control.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/noise_estimate.hpp"
#include "satiq/kernels/noise_pca.hpp"
#include "satiq/kernels/synth.hpp"

namespace {

using namespace satiq;

// Rough texture: smooth sinusoids, sharp-edged blocks, and fine "value noise" texture
// (bilinear interpolation of a random grid every `cell` px) that Immerkaer's mask lets through.
Image textured(std::int64_t w, std::int64_t h, double noise, std::uint64_t seed, bool signal_dependent = false,
               double texture_dn = 30.0) {
    Image img(w, h);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    const int cell = 3;
    const std::int64_t cw = w / cell + 2, ch = h / cell + 2;
    std::vector<double> grid(static_cast<std::size_t>(cw * ch));
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (auto& v : grid)
        v = u(rng);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            const double fx = static_cast<double>(x), fy = static_cast<double>(y);
            double v =
                500.0 + 150.0 * std::sin(fx * 0.031) * std::cos(fy * 0.023) + 80.0 * std::sin((fx + 2 * fy) * 0.011);
            if (((x / 40) + (y / 40)) % 3 == 0) v += 250.0;
            const std::int64_t gx = x / cell, gy = y / cell;
            const double tx = (fx - gx * cell) / cell, ty = (fy - gy * cell) / cell;
            auto at = [&](std::int64_t i, std::int64_t j) { return grid[static_cast<std::size_t>(j * cw + i)]; };
            const double vn = (1 - ty) * ((1 - tx) * at(gx, gy) + tx * at(gx + 1, gy)) +
                              ty * ((1 - tx) * at(gx, gy + 1) + tx * at(gx + 1, gy + 1));
            // The texture covers only part of the scene (fields of it), as on real ground.
            if (((x / 64) * 7 + (y / 64) * 3) % 4 == 0) v += texture_dn * vn;
            const double s = signal_dependent ? noise * std::sqrt(v / 100.0) : noise;
            img.at(x, y) = static_cast<float>(v + s * g(rng));
        }
    return img;
}

TEST(NoisePca, GammaQuantileMatchesChiSquareTables) {
    // chi-square(k) = Gamma(k/2, 2); 0.99 quantiles from standard tables.
    EXPECT_NEAR(gamma_quantile(0.99, 0.5, 2.0), 6.6349, 1e-3);
    EXPECT_NEAR(gamma_quantile(0.99, 5.0, 2.0), 23.2093, 1e-3);
    EXPECT_NEAR(gamma_quantile(0.99, 50.0, 2.0), 135.807, 1e-2);
    EXPECT_NEAR(gamma_quantile(0.5, 1.0, 1.0), std::log(2.0), 1e-9);
    EXPECT_THROW((void)gamma_quantile(1.0, 1.0, 1.0), Error);
}

TEST(NoisePca, ThresholdParametersOf7x7) {
    Image img(64, 64, 10.0f);
    NoisePcaDetails d;
    (void)estimate_noise_pca(img.view(), {}, {}, &d);
    // tr(D) = 2 N (N - 2) / 2 = 35; the null space of the central differences is 4-dimensional.
    EXPECT_NEAR(d.gamma_shape, 45.0 / 2.0, 1e-12);
    EXPECT_NEAR(d.gamma_scale, 2.0 * 35.0 / 45.0, 1e-12);
    EXPECT_GT(d.tau0, 35.0);
}

TEST(NoisePca, FlatImageKnownNoise) {
    for (const std::int64_t side : {200, 512}) {
        Image img(side, side);
        std::mt19937_64 rng(3);
        std::normal_distribution<double> g(100.0, 5.0);
        for (auto& v : img.pixels())
            v = static_cast<float>(g(rng));
        NoisePcaDetails d;
        const NoiseEstimate ne = estimate_noise_pca(img.view(), {}, {}, &d);
        ASSERT_TRUE(ne.valid) << ne.message;
        std::printf("flat %lld^2, sigma 5: PCA %.4f (stride %d, %lld of %lld patches)\n", static_cast<long long>(side),
                    ne.sigma_dn, d.stride, static_cast<long long>(d.selected_patches),
                    static_cast<long long>(d.candidate_patches));
        EXPECT_NEAR(ne.sigma_dn, 5.0, 0.03 * 5.0);
        for (const auto& b : ne.bands)
            EXPECT_NEAR(b.sigma_dn, 5.0, 0.06 * 5.0) << "band at " << b.mean_signal_dn;
    }
}

TEST(NoisePca, TexturedImageKnownNoise) {
    for (double sigma : {1.0, 2.0, 5.0, 10.0}) {
        const Image img = textured(512, 512, sigma, static_cast<std::uint64_t>(sigma * 10));
        const NoiseEstimate ne = estimate_noise_pca(img.view());
        const NoiseEstimate im = estimate_noise(img.view());
        ASSERT_TRUE(ne.valid) << ne.message;
        std::printf("textured, sigma %.1f: PCA %.4f (%+.2f %%), Immerkaer %.4f (%+.2f %%), %zu bands\n", sigma,
                    ne.sigma_dn, 100.0 * (ne.sigma_dn / sigma - 1.0), im.sigma_dn, 100.0 * (im.sigma_dn / sigma - 1.0),
                    ne.bands.size());
        // Measured: pooled within +3 %, bands within +11 % (texture leaks in at low noise).
        EXPECT_NEAR(ne.sigma_dn, sigma, 0.05 * sigma);
        EXPECT_GE(ne.bands.size(), 6u);
        for (const auto& b : ne.bands)
            EXPECT_NEAR(b.sigma_dn, sigma, 0.13 * sigma) << "band at " << b.mean_signal_dn;
    }
}

TEST(NoisePca, AirfieldSceneKnownNoise) {
    AirfieldParams p;
    p.gsd_m = 0.3;
    p.width_px = 1024;
    p.height_px = 1024;
    p.noise_sigma_dn = 0.0;
    const Scene s = build_airfield_scene(p);
    Image clean(p.width_px, p.height_px);
    render_scene(s, p, clean.view());
    for (double sigma : {2.0, 6.0, 20.0}) {
        Image img = clean;
        add_gaussian_noise(img.view(), sigma, 17);
        const NoiseEstimate ne = estimate_noise_pca(img.view());
        const NoiseEstimate im = estimate_noise(img.view());
        ASSERT_TRUE(ne.valid) << ne.message;
        std::printf("airfield, sigma %.1f: PCA %.4f (%+.2f %%), Immerkaer %.4f (%+.2f %%)\n", sigma, ne.sigma_dn,
                    100.0 * (ne.sigma_dn / sigma - 1.0), im.sigma_dn, 100.0 * (im.sigma_dn / sigma - 1.0));
        // Measured: pooled +1 to +7 %, bands up to about +11 %.
        EXPECT_NEAR(ne.sigma_dn, sigma, 0.08 * sigma);
        for (const auto& b : ne.bands)
            EXPECT_NEAR(b.sigma_dn, sigma, 0.13 * sigma) << "band at " << b.mean_signal_dn;
    }
}

TEST(NoisePca, SignalDependentNoiseCurve) {
    // sigma(v) = 3 sqrt(v / 100): shot-noise-like.
    const Image img = textured(768, 768, 3.0, 11, true);
    const NoiseEstimate ne = estimate_noise_pca(img.view());
    ASSERT_TRUE(ne.valid) << ne.message;
    ASSERT_GE(ne.bands.size(), 6u);
    double prev = 0;
    for (const auto& b : ne.bands) {
        const double expected = 3.0 * std::sqrt(b.mean_signal_dn / 100.0);
        std::printf("band %.1f-%.1f mean %.1f: sigma %.4f, expected %.4f (%+.2f %%)\n", b.signal_lo_dn, b.signal_hi_dn,
                    b.mean_signal_dn, b.sigma_dn, expected, 100.0 * (b.sigma_dn / expected - 1.0));
        EXPECT_NEAR(b.sigma_dn, expected, 0.08 * expected) << "band at " << b.mean_signal_dn;
        EXPECT_LE(b.signal_lo_dn, b.mean_signal_dn);
        EXPECT_GE(b.signal_hi_dn, b.mean_signal_dn);
        EXPECT_GT(b.mean_signal_dn, prev);
        prev = b.mean_signal_dn;
    }
}

TEST(NoisePca, MaskedPixelsAreExcluded) {
    Image img = textured(400, 400, 4.0, 5);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(400 * 400), 1);
    // Left third nodata: zeros and wild values that would ruin any patch touching them.
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<double> wild(0.0, 5000.0);
    for (std::int64_t y = 0; y < 400; ++y)
        for (std::int64_t x = 0; x < 133; ++x) {
            img.at(x, y) = (x + y) % 2 ? 0.0f : static_cast<float>(wild(rng));
            mask[static_cast<std::size_t>(y * 400 + x)] = 0;
        }
    img.at(200, 200) = std::numeric_limits<float>::quiet_NaN();
    const ConstImageView<std::uint8_t> mv(mask.data(), 400, 400);
    NoisePcaDetails d;
    const NoiseEstimate ne = estimate_noise_pca(img.view(), mv, {}, &d);
    ASSERT_TRUE(ne.valid) << ne.message;
    EXPECT_NEAR(ne.sigma_dn, 4.0, 0.05 * 4.0);
    // Only patches entirely inside x >= 133 (and away from the NaN) are candidates.
    EXPECT_LE(d.candidate_patches, (400 - 133 - 6) * (400 - 6));
    EXPECT_GT(ne.bands.front().signal_lo_dn, 100.0);  // no zero-valued nodata in the curve
}

// An undeclared nodata border of -3.4e38 (the float minimum, common in Float32 products): only
// the patches that touch it are lost; the sums of the other patches stay exact (no running sum
// along a row carries the huge values into them).
TEST(NoisePca, HugeUndeclaredNodataColumnSpoilsOnlyItsPatches) {
    const Image clean = textured(300, 300, 4.0, 17);
    Image img = clean;
    for (std::int64_t y = 0; y < 300; ++y) {
        img.at(0, y) = -std::numeric_limits<float>::max();
        img.at(299, y) = std::numeric_limits<float>::max();
    }
    const NoiseEstimate a = estimate_noise_pca(clean.view().sub(8, 0, 284, 300));
    const NoiseEstimate b = estimate_noise_pca(img.view());
    ASSERT_TRUE(a.valid) << a.message;
    ASSERT_TRUE(b.valid) << b.message;
    EXPECT_NEAR(b.sigma_dn, 4.0, 0.05 * 4.0);
    EXPECT_NEAR(b.sigma_dn, a.sigma_dn, 0.03 * a.sigma_dn);
    EXPECT_GT(b.median_signal_dn, 0.5 * a.median_signal_dn);
    EXPECT_LT(b.median_signal_dn, 2.0 * a.median_signal_dn);
}

TEST(NoisePca, DeterministicForAnyThreadCount) {
    const Image img = textured(700, 500, 3.0, 21, true);
    NoiseEstimate a, b;
    {
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        a = estimate_noise_pca(img.view());
    }
    {
        tbb::global_control two(tbb::global_control::max_allowed_parallelism, 2);
        b = estimate_noise_pca(img.view());
    }
    ASSERT_TRUE(a.valid);
    EXPECT_EQ(a.sigma_dn, b.sigma_dn);
    EXPECT_EQ(a.gradient_threshold, b.gradient_threshold);
    ASSERT_EQ(a.bands.size(), b.bands.size());
    for (std::size_t k = 0; k < a.bands.size(); ++k) {
        EXPECT_EQ(a.bands[k].sigma_dn, b.bands[k].sigma_dn);
        EXPECT_EQ(a.bands[k].mean_signal_dn, b.bands[k].mean_signal_dn);
        EXPECT_EQ(a.bands[k].pixels, b.bands[k].pixels);
    }
}

TEST(NoisePca, DegenerateInputsDoNotThrow) {
    EXPECT_FALSE(estimate_noise_pca(ConstImageView<float>{}).valid);
    Image tiny(5, 5, 1.0f);
    const NoiseEstimate t = estimate_noise_pca(tiny.view());
    EXPECT_FALSE(t.valid);
    EXPECT_FALSE(t.message.empty());
    Image img(100, 100, 7.0f);
    std::vector<std::uint8_t> none(100 * 100, 0);
    EXPECT_FALSE(estimate_noise_pca(img.view(), ConstImageView<std::uint8_t>(none.data(), 100, 100)).valid);
    const NoiseEstimate c = estimate_noise_pca(img.view());  // constant: noise-free
    ASSERT_TRUE(c.valid) << c.message;
    EXPECT_EQ(c.sigma_dn, 0.0);
    Image small(30, 30, 1.0f);  // too few patches for the PCA
    EXPECT_FALSE(estimate_noise_pca(small.view()).valid);
}

TEST(NoisePca, InvalidParametersThrow) {
    Image img(64, 64, 1.0f);
    NoisePcaParams p;
    p.patch_size = 2;
    EXPECT_THROW((void)estimate_noise_pca(img.view(), {}, p), Error);
    p = {};
    p.confidence = 1.0;
    EXPECT_THROW((void)estimate_noise_pca(img.view(), {}, p), Error);
    p = {};
    p.brightness_bands = 0;
    EXPECT_THROW((void)estimate_noise_pca(img.view(), {}, p), Error);
    p = {};
    p.max_patches = 10;
    EXPECT_THROW((void)estimate_noise_pca(img.view(), {}, p), Error);
    std::vector<std::uint8_t> m(10, 1);
    EXPECT_THROW((void)estimate_noise_pca(img.view(), ConstImageView<std::uint8_t>(m.data(), 5, 2)), Error);
}

TEST(NoisePca, RunTime4096) {
    AirfieldParams p;
    p.gsd_m = 0.125;
    p.width_px = 4096;
    p.height_px = 4096;
    p.supersample = 1;
    p.noise_sigma_dn = 5.0;
    const Scene s = build_airfield_scene(p);
    Image img(p.width_px, p.height_px);
    render_scene(s, p, img.view());
    const auto t0 = std::chrono::steady_clock::now();
    NoisePcaDetails d;
    const NoiseEstimate ne = estimate_noise_pca(img.view(), {}, {}, &d);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto t1 = std::chrono::steady_clock::now();
    const NoiseEstimate im = estimate_noise(img.view());
    const double sec_im = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    ASSERT_TRUE(ne.valid) << ne.message;
    std::printf("4096^2 airfield, sigma 5: PCA %.4f in %.3f s (stride %d, %lld candidates), Immerkaer %.4f in %.3f s\n",
                ne.sigma_dn, sec, d.stride, static_cast<long long>(d.candidate_patches), im.sigma_dn, sec_im);
    EXPECT_NEAR(ne.sigma_dn, 5.0, 0.05 * 5.0);
    // Timing is a benchmark (bench/bench_resample_noise.cpp), never a test assertion.
}

}  // namespace
