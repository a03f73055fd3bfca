// measure_blur: the sampling test, the noise and the edges, as assess chains them.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "satiq/kernels/blur.hpp"

using namespace satiq;

namespace {

// A slanted rectangle (slant 5 deg) of level 400 on 100, blurred by a Gaussian of sigma px
// (its ESF: 0.5 (1 + erf(d / (sqrt(2) sigma)))), with Gaussian noise.
Image slanted_rectangle(std::int64_t w, std::int64_t h, double sigma, double noise, std::uint64_t seed) {
    Image img(w, h);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    const double a = 5.0 * M_PI / 180, c = std::cos(a), s = std::sin(a);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            const double dx = static_cast<double>(x) + 0.5 - w / 2.0, dy = static_cast<double>(y) + 0.5 - h / 2.0;
            const double u = c * dx + s * dy, v = -s * dx + c * dy;
            auto esf = [&](double d) { return 0.5 * (1 + std::erf(d / (std::sqrt(2.0) * sigma))); };
            const double f = esf(w / 4.0 - std::abs(u)) * esf(h / 4.0 - std::abs(v));
            img.at(x, y) = static_cast<float>(100 + 300 * f + noise * g(rng));
        }
    return img;
}

}  // namespace

TEST(Blur, SameAsTheChainItRuns) {
    const Image img = slanted_rectangle(256, 256, 0.8, 2.0, 3);
    BlurOptions o;
    o.gsd_x_m = o.gsd_y_m = 0.5;
    const BlurMeasurement m = measure_blur(img.view(), {}, o);

    SamplingEstimate sampling = estimate_sampling(img.view(), {});
    keep_confirmed_upsampling(sampling);
    const NoiseEstimate noise = estimate_noise(img.view(), {});
    EdgeFindParams fp;
    fp.noise_sigma_dn = noise.valid ? noise.sigma_dn : 0.0;
    const EdgeAnalysis edges = analyse_edges(img.view(), {}, fp, blur_sfr_params(o, noise));

    EXPECT_EQ(m.sampling.message, sampling.message);
    EXPECT_EQ(m.sampling.x.factor, sampling.x.factor);
    EXPECT_EQ(m.noise.sigma_dn, noise.sigma_dn);
    EXPECT_EQ(m.edges.candidates, edges.candidates);
    EXPECT_EQ(m.edges.aggregate.usable, edges.aggregate.usable);
    EXPECT_EQ(m.edges.aggregate.rer_gm, edges.aggregate.rer_gm);
    EXPECT_EQ(m.edges.aggregate.usable_count, edges.aggregate.usable_count);
    EXPECT_TRUE(m.edges.aggregate.usable);
    EXPECT_FALSE(m.upsampled());
    // Independent truth: the edges are a Gaussian of sigma 0.8 px sampled at pixel centres (no
    // pixel integration), so RER = Phi(0.5 / 0.8) - Phi(-0.5 / 0.8) = 0.468 (Leachtenauer et al.
    // 1997's edge response over +-0.5 px).
    const double rer_true = std::erf(0.5 / (0.8 * std::sqrt(2.0)));
    EXPECT_NEAR(m.edges.aggregate.rer_gm, rer_true, 0.02);
}

TEST(Blur, UnconfirmedFactorIsReset) {
    SamplingEstimate s;
    s.valid = true;
    s.message = "upsampled";
    s.x.upsampled = true;
    s.x.factor = 2.0;
    s.x.cutoff_cyc_per_px = 0.25;
    s.x.period_cyc_per_px = 0.5;
    s.x.drop_db = 12.34;
    s.y.upsampled = true;
    s.y.factor = 3.0;
    s.y.kernel = "bilinear";  // confirmed by the model fit: kept
    keep_confirmed_upsampling(s);
    EXPECT_FALSE(s.x.upsampled);
    EXPECT_EQ(s.x.factor, 1.0);
    EXPECT_EQ(s.x.cutoff_cyc_per_px, 0.5);
    EXPECT_TRUE(s.y.upsampled);
    EXPECT_EQ(s.y.factor, 3.0);
    // The summary names the factors that stand (it said 2.00 x 3.00 before the reset), then why.
    EXPECT_EQ(s.message,
              "upsampled: effective pixel 1.00 x 3.00 times the file's pixel (an interpolation model reproduces the "
              "image to the re-quantization noise); along x a period of 0.500 cycles/px and a spectral drop of 12.3 "
              "dB suggest 2.00x, not confirmed by an interpolation model fit (resampling by a non-integer ratio "
              "leaves the same period): factor 1 kept");
    // Both reset: no upsampling is claimed.
    s.y.kernel.clear();
    keep_confirmed_upsampling(s);
    EXPECT_FALSE(s.y.upsampled);
    EXPECT_EQ(s.message.rfind("no confirmed interpolation trace; along y", 0), 0u) << s.message;
}
