// Tests of the noise kernels (kernels/noise.hpp) and the counter-based generator (random.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include <tbb/global_control.h>

#include "satiq/kernels/noise.hpp"
#include "satiq/kernels/random.hpp"

namespace satiq {
namespace {

struct Moments {
    double mean = 0.0;
    double var = 0.0;
};

Moments moments(const std::vector<float>& v) {
    double s = 0.0;
    for (float x : v)
        s += x;
    const double mean = s / static_cast<double>(v.size());
    double ss = 0.0;
    for (float x : v)
        ss += (x - mean) * (x - mean);
    return {mean, ss / static_cast<double>(v.size() - 1)};
}

SensorNoiseParams shot_only() {
    SensorNoiseParams p;
    p.quantize = false;
    p.read_noise_e = 0.0;
    p.gain_dn_per_e = 1.0;
    p.seed = 42;
    return p;
}

Image noisy(const Image& in, const SensorNoiseParams& p, std::int64_t x0 = 0, std::int64_t y0 = 0) {
    Image out(in.width(), in.height());
    add_sensor_noise(in.view(), out.view(), x0, y0, p);
    return out;
}

TEST(Random, FastLogAndNormalPairMatchTheExactTransform) {
    double max_log_err = 0.0;
    for (float x = 1e-9f; x <= 1.0f; x *= 1.37f)
        max_log_err =
            std::max(max_log_err, std::fabs(static_cast<double>(rng::fast_log(x)) - std::log(static_cast<double>(x))));
    EXPECT_LT(max_log_err, 2e-6);  // absolute, over 1e-9..1 (|ln x| up to 21)
    EXPECT_EQ(rng::fast_log(1.0f), 0.0f);

    const std::uint64_t key = rng::row_key(7, 0, 0, 0);
    double max_err = 0.0;
    for (std::int64_t x = 0; x < 200000; ++x) {
        const std::uint64_t bits = rng::pixel_bits(key, x);
        const rng::NormalPair z = rng::normal_pair(bits);
        const auto lo = static_cast<std::uint32_t>(bits);
        const auto hi = static_cast<std::uint32_t>(bits >> 32);
        const double r = std::sqrt(-2.0 * std::log((lo + 0.5) / 4294967296.0));
        const double theta =
            (hi >> 30) * std::numbers::pi / 2 + (((hi >> 6) & 0xFFFFFFu) / 16777216.0 - 0.5) * std::numbers::pi / 2;
        max_err = std::max({max_err, std::fabs(z.z0 - r * std::cos(theta)), std::fabs(z.z1 - r * std::sin(theta))});
    }
    EXPECT_LT(max_err, 1e-4);
}

TEST(Random, NormalsHaveUnitVarianceAndNoCorrelation) {
    const std::uint64_t key = rng::row_key(1, 0, 0, 0);
    const int n = 1 << 20;
    double s0 = 0, s1 = 0, s00 = 0, s11 = 0, s01 = 0, s0000 = 0;
    int within_one = 0;
    for (int x = 0; x < n; ++x) {
        const rng::NormalPair z = rng::normal_pair(rng::pixel_bits(key, x));
        s0 += z.z0;
        s1 += z.z1;
        s00 += z.z0 * z.z0;
        s11 += z.z1 * z.z1;
        s01 += z.z0 * z.z1;
        s0000 += std::pow(z.z0, 4.0);
        within_one += std::fabs(z.z0) < 1.0f ? 1 : 0;
    }
    EXPECT_NEAR(s0 / n, 0.0, 0.005);
    EXPECT_NEAR(s1 / n, 0.0, 0.005);
    EXPECT_NEAR(s00 / n, 1.0, 0.01);
    EXPECT_NEAR(s11 / n, 1.0, 0.01);
    EXPECT_NEAR(s01 / n, 0.0, 0.005);
    EXPECT_NEAR(s0000 / n, 3.0, 0.05);  // kurtosis of a normal
    EXPECT_NEAR(static_cast<double>(within_one) / n, 0.682689, 0.002);
}

TEST(GaussianNoise, SigmaWithinTwoPercentOverAMillionPixels) {
    const Image in(1024, 1024, 100.0f);
    GaussianNoiseParams p;
    p.sigma_dn = 5.0;
    p.seed = 3;
    Image out(1024, 1024);
    add_gaussian_noise(in.view(), out.view(), 0, 0, p);
    const Moments m = moments(out.pixels());
    EXPECT_NEAR(m.mean, 100.0, 0.05);
    EXPECT_NEAR(std::sqrt(m.var) / 5.0, 1.0, 0.02);

    p.level = GaussianNoiseLevel::target_snr;
    p.target_snr = 40.0;
    p.snr_signal_dn = 100.0;
    EXPECT_DOUBLE_EQ(gaussian_noise_sigma_dn(p), 2.5);
    add_gaussian_noise(in.view(), out.view(), 0, 0, p);
    const Moments m2 = moments(out.pixels());
    EXPECT_NEAR(m2.mean / std::sqrt(m2.var) / 40.0, 1.0, 0.02);
}

TEST(SensorNoise, PoissonVarianceEqualsTheMean) {
    const std::int64_t w = 1024, h = 1024;
    for (double mean : {3.0, 10.0, 30.0, 49.0, 50.0, 300.0, 5000.0}) {
        const Image in(w, h, static_cast<float>(mean));
        const Image out = noisy(in, shot_only());
        const Moments m = moments(out.pixels());
        EXPECT_NEAR(m.mean / mean, 1.0, 0.005) << mean;
        EXPECT_NEAR(m.var / mean, 1.0, 0.03) << mean;
        if (mean < 50.0) {  // exact Poisson: integer counts, P(0) = exp(-mean)
            std::int64_t zeros = 0;
            for (float v : out.pixels()) {
                ASSERT_EQ(v, std::round(v));
                zeros += v == 0.0f ? 1 : 0;
            }
            EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(w * h), std::exp(-mean), 0.002) << mean;
        }
    }
}

TEST(SensorNoise, PoissonSamplerDistributionAtThree) {
    // Frequencies of k = 0..8 against the Poisson(3) pmf.
    const std::uint64_t key = rng::row_key(9, 0, 1, 0);
    const int n = 1 << 19;
    std::vector<int> hist(9, 0);
    for (int x = 0; x < n; ++x) {
        const double k = poisson_sample(3.0, key, x);
        if (k < 9.0) ++hist[static_cast<std::size_t>(k)];
    }
    double pmf = std::exp(-3.0);
    for (int k = 0; k < 9; ++k) {
        EXPECT_NEAR(hist[static_cast<std::size_t>(k)] / static_cast<double>(n), pmf, 0.002) << k;
        pmf *= 3.0 / (k + 1);
    }
}

TEST(SensorNoise, PoissonSamplerDistributionAtTwentyPtrs) {
    // PTRS (mean >= 10): frequencies of k = 8..32 against the Poisson(20) pmf.
    const std::uint64_t key = rng::row_key(10, 0, 1, 0);
    const int n = 1 << 19;
    std::vector<int> hist(64, 0);
    double sum = 0.0;
    for (int x = 0; x < n; ++x) {
        const double k = poisson_sample(20.0, key, x);
        ASSERT_GE(k, 0.0);
        sum += k;
        if (k < 64.0) ++hist[static_cast<std::size_t>(k)];
    }
    EXPECT_NEAR(sum / n, 20.0, 0.03);
    for (int k = 8; k <= 32; ++k) {
        const double pmf = std::exp(-20.0 + k * std::log(20.0) - std::lgamma(k + 1.0));
        EXPECT_NEAR(hist[static_cast<std::size_t>(k)] / static_cast<double>(n), pmf, 0.0015) << k;
    }
}

TEST(SensorNoise, ReadNoiseGainAndOffset) {
    const Image dark(1024, 1024, 0.0f);
    SensorNoiseParams p = shot_only();
    p.read_noise_e = 4.0;
    Moments m = moments(noisy(dark, p).pixels());
    EXPECT_NEAR(m.mean, 0.0, 0.02);
    EXPECT_NEAR(std::sqrt(m.var) / 4.0, 1.0, 0.02);
    // Shot + read, gain 0.5 DN/e-, offset 100 DN, input in DN of a 0.25 DN/e- camera.
    const Image in(1024, 1024, 250.0f);  // 1000 e-
    p.electrons_per_input_unit = 4.0;
    p.gain_dn_per_e = 0.5;
    p.offset_dn = 100.0;
    m = moments(noisy(in, p).pixels());
    EXPECT_NEAR(m.mean, 100.0 + 0.5 * 1000.0, 0.2);
    EXPECT_NEAR(m.var / (0.25 * (1000.0 + 16.0)), 1.0, 0.03);
}

TEST(SensorNoise, QuantizationRoundsAndClamps) {
    const Image zero(8, 4, 0.0f);  // 0 e-: exact Poisson gives 0, no noise at all
    SensorNoiseParams p;
    p.bits = 12;
    p.quantize = true;
    p.read_noise_e = 0.0;
    for (const auto& [offset, expected] : std::vector<std::pair<double, float>>{
             {2.4, 2.0f}, {2.6, 3.0f}, {2.5, 2.0f}, {3.5, 4.0f}, {-5.0, 0.0f}, {5000.0, 4095.0f}, {4094.7, 4095.0f}}) {
        p.offset_dn = offset;
        const Image out = noisy(zero, p);
        for (float v : out.pixels())
            ASSERT_EQ(v, expected) << offset;
    }
    // Noisy, quantized: integers in [0, 255].
    const Image in(256, 64, 200.0f);
    p.bits = 8;
    p.offset_dn = 0.0;
    p.read_noise_e = 30.0;
    const Image out = noisy(in, p);
    bool saw_max = false;
    for (float v : out.pixels()) {
        ASSERT_EQ(v, std::round(v));
        ASSERT_GE(v, 0.0f);
        ASSERT_LE(v, 255.0f);
        saw_max |= v == 255.0f;
    }
    EXPECT_TRUE(saw_max);
}

TEST(SensorNoise, FullWellSaturates) {
    const Image bright(64, 16, 1e6f);
    SensorNoiseParams p = shot_only();
    p.full_well_e = 20000.0;
    const Image out = noisy(bright, p);
    for (float v : out.pixels())
        ASSERT_EQ(v, 20000.0f);
    // Signal at the full well: half the shot samples clamp; E[min(S + sqrt(S) z, S)] =
    // S - sqrt(S) / sqrt(2 pi).
    const Image at_well(512, 512, 10000.0f);
    p.full_well_e = 10000.0;
    const Image clamped = noisy(at_well, p);
    const Moments m = moments(clamped.pixels());
    EXPECT_NEAR(m.mean, 10000.0 - 100.0 / std::sqrt(2.0 * std::numbers::pi), 0.6);
    std::int64_t at_max = 0;
    for (float v : clamped.pixels()) {
        ASSERT_LE(v, 10000.0f);
        at_max += v == 10000.0f ? 1 : 0;
    }
    EXPECT_NEAR(static_cast<double>(at_max) / (512.0 * 512.0), 0.5, 0.005);
    // Read noise (sigma 10) is added after the clamp: P(N > full well) = 1/2 * 1/2 (clamped,
    // then positive read noise) + P(100 z0 < 0 < 100 z0 + 10 z1) = 1/4 + atan(0.1) / (2 pi).
    p.read_noise_e = 10.0;
    const Image with_read = noisy(at_well, p);
    std::int64_t above = 0;
    for (float v : with_read.pixels())
        above += v > 10000.0f ? 1 : 0;
    EXPECT_NEAR(static_cast<double>(above) / (512.0 * 512.0), 0.25 + std::atan(0.1) / (2.0 * std::numbers::pi), 0.005);
}

TEST(SensorNoise, SeedAndBandSelectTheStream) {
    const Image in(128, 64, 500.0f);
    SensorNoiseParams p;
    p.read_noise_e = 5.0;
    p.seed = 11;
    const Image a = noisy(in, p), b = noisy(in, p);
    EXPECT_EQ(a.pixels(), b.pixels());
    p.seed = 12;
    const Image c = noisy(in, p);
    EXPECT_NE(a.pixels(), c.pixels());
    p.seed = 11;
    p.band = 1;
    const Image d = noisy(in, p);
    EXPECT_NE(a.pixels(), d.pixels());
    std::int64_t same = 0;
    for (std::size_t i = 0; i < a.pixels().size(); ++i)
        same += a.pixels()[i] == c.pixels()[i] ? 1 : 0;
    EXPECT_LT(same, static_cast<std::int64_t>(a.pixels().size() / 10));

    GaussianNoiseParams g;
    g.sigma_dn = 2.0;
    g.seed = 1;
    Image ga(128, 64), gb(128, 64), gc(128, 64);
    add_gaussian_noise(in.view(), ga.view(), 0, 0, g);
    add_gaussian_noise(in.view(), gb.view(), 0, 0, g);
    g.seed = 2;
    add_gaussian_noise(in.view(), gc.view(), 0, 0, g);
    EXPECT_EQ(ga.pixels(), gb.pixels());
    EXPECT_NE(ga.pixels(), gc.pixels());
}

// A ramp from dark (exact Poisson) to bright (Gaussian approximation) across x.
Image ramp(std::int64_t w, std::int64_t h) {
    Image img(w, h);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
            img.at(x, y) = static_cast<float>((x * 7 + y * 3) % 400) - 5.0f;
    return img;
}

TEST(SensorNoise, TilesAndThreadsAreBitIdentical) {
    const Image in = ramp(1031, 700);
    SensorNoiseParams p;
    p.read_noise_e = 3.0;
    p.gain_dn_per_e = 2.0;
    p.seed = 5;
    const Image whole = noisy(in, p);
    for (std::int64_t tile : {1, 37, 256}) {
        if (tile == 1) {  // 1-pixel tiles over a corner only (speed)
            for (std::int64_t y = 0; y < 5; ++y)
                for (std::int64_t x = 0; x < 9; ++x) {
                    Image px(1, 1);
                    add_sensor_noise(in.view().sub(x, y, 1, 1), px.view(), x, y, p);
                    ASSERT_EQ(px.at(0, 0), whole.at(x, y));
                }
            continue;
        }
        Image tiled(in.width(), in.height());
        for (std::int64_t y = 0; y < in.height(); y += tile)
            for (std::int64_t x = 0; x < in.width(); x += tile) {
                const std::int64_t tw = std::min(tile, in.width() - x), th = std::min(tile, in.height() - y);
                add_sensor_noise(in.view().sub(x, y, tw, th), tiled.view().sub(x, y, tw, th), x, y, p);
            }
        EXPECT_EQ(whole.pixels(), tiled.pixels()) << tile;
    }
    GaussianNoiseParams g;
    g.sigma_dn = 3.0;
    Image g_all(in.width(), in.height()), g_one(in.width(), in.height());
    add_gaussian_noise(in.view(), g_all.view(), 0, 0, g);
    Image one;
    {
        tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
        one = noisy(in, p);
        add_gaussian_noise(in.view(), g_one.view(), 0, 0, g);
    }
    EXPECT_EQ(whole.pixels(), one.pixels());
    EXPECT_EQ(g_all.pixels(), g_one.pixels());
}

TEST(SensorNoise, InPlaceEqualsOutOfPlace) {
    const Image in = ramp(300, 40);
    SensorNoiseParams p;
    p.read_noise_e = 2.0;
    const Image expected = noisy(in, p);
    Image work = in;
    add_sensor_noise(work.view(), work.view(), 0, 0, p);
    EXPECT_EQ(work.pixels(), expected.pixels());
    GaussianNoiseParams g;
    g.sigma_dn = 2.0;
    Image g_expected(in.width(), in.height());
    add_gaussian_noise(in.view(), g_expected.view(), 0, 0, g);
    Image g_work = in;
    add_gaussian_noise(g_work.view(), g_work.view(), 0, 0, g);
    EXPECT_EQ(g_work.pixels(), g_expected.pixels());
    EXPECT_EQ(halo(p), 0);
    EXPECT_EQ(halo(g), 0);
}

TEST(SensorNoise, FastMatchesReference) {
    for (const auto& [w, h] :
         std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {1, 200}, {200, 1}, {127, 63}, {600, 300}}) {
        const Image in = ramp(w, h);
        for (const auto& [quantize, full_well] :
             std::vector<std::pair<bool, double>>{{false, std::numeric_limits<double>::infinity()},
                                                  {true, std::numeric_limits<double>::infinity()},
                                                  {false, 300.0},
                                                  {true, 300.0}}) {
            SensorNoiseParams p;
            p.full_well_e = full_well;
            p.read_noise_e = 3.0;
            p.gain_dn_per_e = 1.7;
            p.offset_dn = 10.0;
            p.quantize = quantize;
            p.bits = 10;
            p.seed = 77;
            const Image fast = noisy(in, p, 13, 29);
            Image ref(w, h);
            add_sensor_noise_reference(in.view(), ref.view(), 13, 29, p);
            std::int64_t differ = 0;
            for (std::size_t i = 0; i < fast.pixels().size(); ++i) {
                const float a = fast.pixels()[i], b = ref.pixels()[i];
                if (quantize) {
                    ASSERT_LE(std::fabs(a - b), 1.0f);
                    differ += a != b ? 1 : 0;
                } else {
                    ASSERT_NEAR(a, b, 1e-4f * std::max(1.0f, std::fabs(b)));
                }
            }
            EXPECT_LE(differ, static_cast<std::int64_t>(fast.pixels().size() / 1000) + 1);
        }
    }
}

TEST(SensorNoise, NanStaysNan) {
    Image in(4, 1, 100.0f);
    in.at(2, 0) = std::nanf("");
    SensorNoiseParams p = shot_only();
    const Image out = noisy(in, p);
    EXPECT_TRUE(std::isnan(out.at(2, 0)));
    EXPECT_FALSE(std::isnan(out.at(1, 0)));
}

TEST(SensorNoise, DocumentedErrorsThrow) {
    Image in(4, 4, 1.0f), out(4, 4), small(3, 4);
    auto bad = [&](auto mutate) {
        SensorNoiseParams p;
        mutate(p);
        EXPECT_THROW(add_sensor_noise(in.view(), out.view(), 0, 0, p), Error);
    };
    bad([](SensorNoiseParams& p) { p.electrons_per_input_unit = 0.0; });
    bad([](SensorNoiseParams& p) { p.electrons_per_input_unit = -1.0; });
    bad([](SensorNoiseParams& p) { p.full_well_e = 0.0; });
    bad([](SensorNoiseParams& p) { p.full_well_e = std::nan(""); });
    bad([](SensorNoiseParams& p) { p.read_noise_e = -1.0; });
    bad([](SensorNoiseParams& p) { p.gain_dn_per_e = 0.0; });
    bad([](SensorNoiseParams& p) { p.offset_dn = std::numeric_limits<double>::infinity(); });
    bad([](SensorNoiseParams& p) { p.bits = 0; });
    bad([](SensorNoiseParams& p) { p.bits = 33; });
    bad([](SensorNoiseParams& p) { p.poisson_exact_below_e = -1.0; });
    bad([](SensorNoiseParams& p) { p.poisson_exact_below_e = std::nan(""); });
    SensorNoiseParams ok;
    EXPECT_THROW(add_sensor_noise(in.view(), small.view(), 0, 0, ok), Error);
    EXPECT_THROW(add_sensor_noise(in.view(), out.view(), -1, 0, ok), Error);
    EXPECT_THROW(add_sensor_noise(in.view(), in.view().sub(1, 0, 3, 4).sub(0, 0, 3, 4), 0, 0, ok), Error);
    ImageView<float> shifted(in.data() + 1, 4, 3, 4);  // partial overlap with the input
    EXPECT_THROW(add_sensor_noise(in.view().sub(0, 0, 4, 3), shifted, 0, 0, ok), Error);
    ok.quantize = false;
    ok.bits = 0;  // bits unused when not quantizing
    EXPECT_NO_THROW(add_sensor_noise(in.view(), out.view(), 0, 0, ok));

    GaussianNoiseParams g;
    g.sigma_dn = -1.0;
    EXPECT_THROW(add_gaussian_noise(in.view(), out.view(), 0, 0, g), Error);
    g.sigma_dn = std::nan("");
    EXPECT_THROW((void)gaussian_noise_sigma_dn(g), Error);
    g.level = GaussianNoiseLevel::target_snr;
    g.target_snr = 0.0;
    g.snr_signal_dn = 10.0;
    EXPECT_THROW((void)gaussian_noise_sigma_dn(g), Error);
    g.target_snr = 10.0;
    g.snr_signal_dn = 0.0;
    EXPECT_THROW((void)gaussian_noise_sigma_dn(g), Error);
    g.snr_signal_dn = 10.0;
    EXPECT_THROW(add_gaussian_noise(in.view(), small.view(), 0, 0, g), Error);
    EXPECT_NO_THROW(add_gaussian_noise(in.view(), out.view(), 0, 0, g));
}

}  // namespace
}  // namespace satiq
