// Tests of the convolution kernels: fast paths against naive double-precision references,
// invariants, analytic MTF, tiling/thread invariance (bit for bit), odd sizes, every error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <tbb/global_control.h>

#include "satiq/kernels/convolve.hpp"
#include "satiq/kernels/psf.hpp"

namespace {

using namespace satiq;

Image random_image(std::int64_t w, std::int64_t h, unsigned seed, float lo = -1.0f, float hi = 3.0f) {
    Image img(w, h);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    for (auto& v : img.pixels())
        v = d(rng);
    return img;
}

std::vector<float> random_taps(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-0.5f, 1.0f);
    std::vector<float> t(n);
    for (auto& v : t)
        v = d(rng);
    return t;
}

Kernel2d random_kernel(std::int64_t w, std::int64_t h, unsigned seed) {
    return Kernel2d{w, h, random_taps(static_cast<std::size_t>(w * h), seed)};
}

double abs_sum(const std::vector<float>& v) {
    double s = 0.0;
    for (float x : v)
        s += std::abs(x);
    return s;
}

double max_diff(const Image& a, const Image& b) {
    double m = 0.0;
    for (std::size_t i = 0; i < a.pixels().size(); ++i)
        m = std::max(m, std::abs(static_cast<double>(a.pixels()[i]) - b.pixels()[i]));
    return m;
}

bool bit_identical(const Image& a, const Image& b) {
    return a.width() == b.width() && a.height() == b.height() &&
           std::memcmp(a.data(), b.data(), a.pixels().size() * sizeof(float)) == 0;
}

const BorderMode kBorders[] = {BorderMode::Reflect101, BorderMode::Reflect, BorderMode::Replicate};

// Tiles the output into tile_w x tile_h pieces, each computed from the input window it needs
// (output tile grown by the halo, clipped to the image) by the region form `fn`.
template <class Fn>
Image tiled(const Image& in, ConvolveHalo h, std::int64_t tile_w, std::int64_t tile_h, Fn&& fn) {
    Image out(in.width(), in.height(), -999.0f);
    for (std::int64_t y0 = 0; y0 < in.height(); y0 += tile_h)
        for (std::int64_t x0 = 0; x0 < in.width(); x0 += tile_w) {
            const std::int64_t w = std::min(tile_w, in.width() - x0);
            const std::int64_t hh = std::min(tile_h, in.height() - y0);
            const std::int64_t ix0 = std::max<std::int64_t>(0, x0 - h.x_px);
            const std::int64_t iy0 = std::max<std::int64_t>(0, y0 - h.y_px);
            const std::int64_t ix1 = std::min(in.width(), x0 + w + h.x_px);
            const std::int64_t iy1 = std::min(in.height(), y0 + hh + h.y_px);
            const ConvolveInput ci{in.view().sub(ix0, iy0, ix1 - ix0, iy1 - iy0), ix0, iy0, in.width(), in.height()};
            const ConvolveOutput co{out.view().sub(x0, y0, w, hh), x0, y0};
            fn(ci, co);
        }
    return out;
}

// The halo-padded copy of an output rectangle (border filled by border_index), for valid forms.
Image padded_window(const Image& in, ConvolveHalo h, std::int64_t x0, std::int64_t y0, std::int64_t w, std::int64_t hh,
                    BorderMode border) {
    Image p(w + 2 * h.x_px, hh + 2 * h.y_px);
    for (std::int64_t y = 0; y < p.height(); ++y)
        for (std::int64_t x = 0; x < p.width(); ++x)
            p.at(x, y) = in.at(border_index(x0 - h.x_px + x, in.width(), border),
                               border_index(y0 - h.y_px + y, in.height(), border));
    return p;
}

// ------------------------------------------------------------------------------------------
// border_index and taps

TEST(BorderIndex, MapsEachMode) {
    // gfedcb|abcdefgh|gfedcba for n = 8
    EXPECT_EQ(border_index(-1, 8, BorderMode::Reflect101), 1);
    EXPECT_EQ(border_index(-7, 8, BorderMode::Reflect101), 7);
    EXPECT_EQ(border_index(8, 8, BorderMode::Reflect101), 6);
    EXPECT_EQ(border_index(-1, 8, BorderMode::Reflect), 0);
    EXPECT_EQ(border_index(8, 8, BorderMode::Reflect), 7);
    EXPECT_EQ(border_index(9, 8, BorderMode::Reflect), 6);
    EXPECT_EQ(border_index(-5, 8, BorderMode::Replicate), 0);
    EXPECT_EQ(border_index(50, 8, BorderMode::Replicate), 7);
    // repeated reflection, kernel larger than the image
    EXPECT_EQ(border_index(-3, 2, BorderMode::Reflect101), 1);
    EXPECT_EQ(border_index(5, 3, BorderMode::Reflect101), 1);
    EXPECT_EQ(border_index(7, 3, BorderMode::Reflect), 1);
    for (BorderMode m : kBorders) {
        EXPECT_EQ(border_index(-4, 1, m), 0);
        EXPECT_EQ(border_index(9, 1, m), 0);
        for (std::int64_t i = -50; i < 50; ++i) {
            const auto v = border_index(i, 5, m);
            EXPECT_TRUE(v >= 0 && v < 5);
        }
    }
    EXPECT_THROW((void)border_index(0, 0, BorderMode::Reflect101), Error);
}

TEST(Taps, GaussianSizesAndNormalization) {
    const auto t3 = gaussian_taps(2.0);
    const auto t4 = gaussian_taps(2.0, GaussianRadiusRule::FourSigma);
    EXPECT_EQ(t3.size(), 13u);
    EXPECT_EQ(t4.size(), 17u);  // OpenCV's float default: 8 sigma + 1
    for (const auto* t : {&t3, &t4}) {
        double s = 0.0;
        for (float v : *t)
            s += v;
        EXPECT_NEAR(s, 1.0, 1e-6);
        EXPECT_TRUE(std::equal(t->begin(), t->end(), t->rbegin()));
    }
    EXPECT_EQ(gaussian_taps(0.0), std::vector<float>{1.0f});
    EXPECT_EQ(gaussian_taps(0.1).size(), 3u);
    EXPECT_THROW((void)gaussian_taps(-1.0), Error);
    EXPECT_THROW((void)gaussian_taps(std::nan("")), Error);
    EXPECT_THROW((void)gaussian_taps(1e6), Error);
}

TEST(Taps, BoxWithPartialEnds) {
    const auto b3 = box_taps(3.0);
    ASSERT_EQ(b3.size(), 3u);
    for (float v : b3)
        EXPECT_NEAR(v, 1.0 / 3.0, 1e-7);
    const auto b2 = box_taps(2.0);
    ASSERT_EQ(b2.size(), 3u);
    EXPECT_NEAR(b2[0], 0.25, 1e-7);
    EXPECT_NEAR(b2[1], 0.5, 1e-7);
    const auto b25 = box_taps(2.5);
    ASSERT_EQ(b25.size(), 3u);
    EXPECT_NEAR(b25[0], 0.3, 1e-7);
    EXPECT_NEAR(b25[1], 0.4, 1e-7);
    EXPECT_EQ(box_taps(0.5), std::vector<float>{1.0f});
    EXPECT_EQ(box_taps(4.2).size(), 5u);
    EXPECT_THROW((void)box_taps(0.0), Error);
    EXPECT_THROW((void)box_taps(-2.0), Error);
    EXPECT_THROW((void)box_taps(INFINITY), Error);
}

TEST(Taps, ComposeAndOuterProduct) {
    const auto c = compose_taps(box_taps(3.0), gaussian_taps(1.0));
    EXPECT_EQ(c.size(), 3u + 7u - 1u);
    double s = 0.0;
    for (float v : c)
        s += v;
    EXPECT_NEAR(s, 1.0, 1e-6);
    EXPECT_TRUE(std::equal(c.begin(), c.end(), c.rbegin()));
    EXPECT_THROW((void)compose_taps({}, {1.0f}), Error);
    EXPECT_THROW((void)compose_taps({1.0f, 1.0f}, {1.0f}), Error);
    const Kernel2d k = outer_product({{1.0f, 2.0f, 3.0f}, {1.0f}});
    EXPECT_EQ(k.width, 3);
    EXPECT_EQ(k.height, 1);
    EXPECT_FLOAT_EQ(k.at(2, 0), 3.0f);
}

TEST(Psf, AiryAndDiskAreNormalizedAndSymmetric) {
    const Kernel2d a = airy_psf({1.5, 0.3, 10, 4});
    ASSERT_EQ(a.width, 21);
    double s = 0.0;
    for (float v : a.taps)
        s += v;
    EXPECT_NEAR(s, 1.0, 1e-5);
    for (std::int64_t j = 0; j < 21; ++j)
        for (std::int64_t i = 0; i < 21; ++i) {
            EXPECT_EQ(a.at(i, j), a.at(20 - i, j));
            EXPECT_EQ(a.at(i, j), a.at(j, i));
        }
    EXPECT_GT(a.at(10, 10), a.at(11, 10));
    const Kernel2d d = disk_psf(2.5);
    EXPECT_EQ(d.width, 7);
    EXPECT_NEAR(d.at(3, 3), d.at(4, 3), 1e-7);  // inside the disk: uniform
    EXPECT_EQ(d.at(0, 0), 0.0f);
    EXPECT_THROW((void)airy_psf({0.0, 0.0, 5, 4}), Error);
    EXPECT_THROW((void)airy_psf({1.0, 1.0, 5, 4}), Error);
    EXPECT_THROW((void)airy_psf({1.0, 0.0, -1, 4}), Error);
    EXPECT_THROW((void)airy_psf({1.0, 0.0, 5, 0}), Error);
    EXPECT_THROW((void)disk_psf(0.0), Error);
    EXPECT_THROW((void)disk_psf(1.0, 0), Error);
}

// ------------------------------------------------------------------------------------------
// Separable

struct SizeCase {
    std::int64_t w, h;
};
const SizeCase kSizes[] = {{1, 1}, {1, 37}, {37, 1}, {5, 3}, {127, 63}, {200, 45}};

TEST(Separable, MatchesReferenceOnRandomImages) {
    const std::vector<SeparableKernel> kernels = {
        gaussian_kernel(2.0, 2.0),                                 // symmetric, folded
        gaussian_kernel(0.8, 3.1, GaussianRadiusRule::FourSigma),  // different x / y
        {random_taps(5, 1), random_taps(7, 2)},                    // non-symmetric
        {box_taps(2.5), random_taps(1, 3)},                        // 1-tap y
        gaussian_kernel(9.0, 9.0),                                 // larger than small images
    };
    unsigned seed = 10;
    for (const auto& sz : kSizes)
        for (const auto& k : kernels)
            for (BorderMode m : kBorders) {
                const Image in = random_image(sz.w, sz.h, seed++);
                Image fast(sz.w, sz.h), ref(sz.w, sz.h);
                convolve_separable(in.view(), fast.view(), k, m);
                convolve_separable_reference(in.view(), ref.view(), k, m);
                const double scale = 3.0 * abs_sum(k.taps_x) * abs_sum(k.taps_y);
                EXPECT_LE(max_diff(fast, ref), 2e-6 * scale) << sz.w << "x" << sz.h << " taps " << k.taps_x.size();
            }
}

TEST(Separable, ConstantStaysConstantAndMeanIsPreserved) {
    for (BorderMode m : kBorders) {
        const Image c(131, 70, 7.25f);
        Image out(131, 70);
        convolve_separable(c.view(), out.view(), gaussian_kernel(2.0, 3.0), m);
        for (float v : out.pixels())
            EXPECT_NEAR(v, 7.25f, 7.25f * 2e-6f);
    }
    // Reflect + symmetric normalized kernel = periodic convolution of the mirrored image.
    const Image in = random_image(256, 192, 5, 0.0f, 1000.0f);
    Image out(256, 192);
    convolve_separable(in.view(), out.view(), gaussian_kernel(3.0, 3.0), BorderMode::Reflect);
    double a = 0.0, b = 0.0;
    for (std::size_t i = 0; i < in.pixels().size(); ++i) {
        a += in.pixels()[i];
        b += out.pixels()[i];
    }
    EXPECT_NEAR(b / a, 1.0, 1e-3);
    EXPECT_NEAR(b / a, 1.0, 1e-5);  // in fact exact up to float rounding
}

TEST(Separable, IsLinear) {
    const Image a = random_image(97, 51, 1);
    const Image b = random_image(97, 51, 2);
    Image mix(97, 51), ca(97, 51), cb(97, 51), cm(97, 51);
    for (std::size_t i = 0; i < mix.pixels().size(); ++i)
        mix.pixels()[i] = 2.0f * a.pixels()[i] - 0.5f * b.pixels()[i];
    const SeparableKernel k{random_taps(7, 4), random_taps(3, 5)};
    convolve_separable(a.view(), ca.view(), k);
    convolve_separable(b.view(), cb.view(), k);
    convolve_separable(mix.view(), cm.view(), k);
    for (std::size_t i = 0; i < mix.pixels().size(); ++i)
        EXPECT_NEAR(cm.pixels()[i], 2.0f * ca.pixels()[i] - 0.5f * cb.pixels()[i], 1e-4);
}

// Amplitude of a sinusoid of frequency f along the given axis, measured by projection on cos
// and sin over the interior (whole periods).
double sinusoid_amplitude(const Image& img, double f, bool along_x, std::int64_t margin, std::int64_t periods_len) {
    double c = 0.0, s = 0.0;
    for (std::int64_t k = margin; k < margin + periods_len; ++k) {
        const double v = along_x ? img.at(k, img.height() / 2) : img.at(img.width() / 2, k);
        c += v * std::cos(2.0 * std::numbers::pi * f * static_cast<double>(k));
        s += v * std::sin(2.0 * std::numbers::pi * f * static_cast<double>(k));
    }
    return 2.0 * std::hypot(c, s) / static_cast<double>(periods_len);
}

TEST(Separable, GaussianHasTheAnalyticMtf) {
    // MTF of a Gaussian of sigma px: exp(-2 pi^2 sigma^2 f^2) (R. D. Fiete, Modeling the Imaging Chain of Digital
    // Cameras, SPIE Press, 2010; the sampled Gaussian's aliasing term exp(-2 pi^2 sigma^2 (1-f)^2) is below 1e-20 at
    // sigma 2).
    const double sigma = 2.0;
    for (double f : {0.05, 0.1, 0.125, 0.2, 0.25}) {
        for (bool along_x : {true, false}) {
            const std::int64_t len = 400;  // 20..100 whole periods for these f
            const std::int64_t w = along_x ? len + 40 : 9;
            const std::int64_t h = along_x ? 9 : len + 40;
            Image in(w, h);
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t x = 0; x < w; ++x)
                    in.at(x, y) = static_cast<float>(
                        100.0 + 50.0 * std::cos(2.0 * std::numbers::pi * f * static_cast<double>(along_x ? x : y)));
            Image out(w, h);
            convolve_separable(in.view(), out.view(), gaussian_kernel(sigma, sigma, GaussianRadiusRule::FourSigma));
            const double a_in = sinusoid_amplitude(in, f, along_x, 20, len);
            const double a_out = sinusoid_amplitude(out, f, along_x, 20, len);
            const double expected = std::exp(-2.0 * std::numbers::pi * std::numbers::pi * sigma * sigma * f * f);
            EXPECT_NEAR(a_out / a_in, expected, 2e-4) << "f " << f << (along_x ? " x" : " y");
        }
    }
}

TEST(Separable, TiledEqualsWholeBitForBit) {
    const Image in = random_image(300, 211, 9);
    const std::vector<SeparableKernel> kernels = {
        gaussian_kernel(2.0, 2.0), {random_taps(9, 7), random_taps(5, 8)}, gaussian_kernel(40.0, 1.0)};
    for (const auto& k : kernels)
        for (BorderMode m : kBorders) {
            Image whole(300, 211);
            convolve_separable(in.view(), whole.view(), k, m);
            for (auto [tw, th] :
                 {std::pair{1, 211}, {300, 1}, {7, 5}, {16, 16}, {33, 64}, {64, 17}, {300, 211}, {301, 7}}) {
                const Image t = tiled(in, halo(k), tw, th, [&](const ConvolveInput& ci, const ConvolveOutput& co) {
                    convolve_separable(ci, co, k, m);
                });
                EXPECT_TRUE(bit_identical(whole, t)) << "tile " << tw << "x" << th;
            }
            // valid form on a halo-padded window
            const ConvolveHalo h = halo(k);
            const Image p = padded_window(in, h, 13, 40, 77, 50, m);
            Image v(77, 50);
            convolve_separable_valid(p.view(), v.view(), k);
            bool same = true;
            for (std::int64_t y = 0; y < 50; ++y)
                for (std::int64_t x = 0; x < 77; ++x)
                    same = same && std::memcmp(&v.at(x, y), &whole.at(13 + x, 40 + y), sizeof(float)) == 0;
            EXPECT_TRUE(same);
        }
}

TEST(Separable, OneThreadEqualsAllThreads) {
    const Image in = random_image(1500, 700, 3);
    const SeparableKernel k = gaussian_kernel(2.0, 2.0);
    Image all(1500, 700), one(1500, 700);
    convolve_separable(in.view(), all.view(), k);
    {
        tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
        convolve_separable(in.view(), one.view(), k);
    }
    EXPECT_TRUE(bit_identical(all, one));
}

TEST(Separable, ErrorsThrow) {
    Image a(10, 10), b(10, 10), c(9, 10), e;
    const SeparableKernel good = gaussian_kernel(1.0, 1.0);
    EXPECT_THROW(convolve_separable(a.view(), c.view(), good), Error);                    // size mismatch
    EXPECT_THROW(convolve_separable(e.view(), e.view(), good), Error);                    // empty
    EXPECT_THROW(convolve_separable(a.view(), a.view(), good), Error);                    // in-place
    EXPECT_THROW(convolve_separable(a.view(), b.view(), {{1.0f, 1.0f}, {1.0f}}), Error);  // even taps
    EXPECT_THROW(convolve_separable(a.view(), b.view(), {{}, {1.0f}}), Error);            // empty taps
    EXPECT_THROW(convolve_separable(a.view(), b.view(), {{1.0f}, {NAN}}), Error);         // non-finite
    EXPECT_THROW((void)halo(SeparableKernel{{1.0f, 2.0f}, {1.0f}}), Error);
    // region: output outside the image, input tile not covering the halo, input outside image
    EXPECT_THROW(convolve_separable(ConvolveInput{a.view(), 0, 0, 10, 10}, ConvolveOutput{b.view(), 1, 0}, good),
                 Error);
    EXPECT_THROW(convolve_separable(ConvolveInput{a.view().sub(2, 2, 6, 6), 2, 2, 10, 10},
                                    ConvolveOutput{b.view().sub(0, 0, 4, 4), 3, 3}, good),
                 Error);
    EXPECT_THROW(
        convolve_separable(ConvolveInput{a.view(), 1, 0, 10, 10}, ConvolveOutput{b.view().sub(0, 0, 2, 2), 0, 0}, good),
        Error);
    EXPECT_THROW(convolve_separable(ConvolveInput{a.view(), 0, 0, -3, 10}, ConvolveOutput{b.view(), 0, 0}, good),
                 Error);
    // valid form: wrong size, empty output
    EXPECT_THROW(convolve_separable_valid(a.view(), b.view(), good), Error);
    EXPECT_THROW(convolve_separable_valid(a.view().sub(0, 0, 6, 6), b.view().sub(0, 0, 0, 0),
                                          {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}}),
                 Error);
}

// ------------------------------------------------------------------------------------------
// 2-D

Convolve2dParams forced(Convolve2dMethod m, BorderMode b = BorderMode::Reflect101) {
    Convolve2dParams p;
    p.method = m;
    p.border = b;
    p.fft_size_px = m == Convolve2dMethod::Fft ? 64 : 0;  // small FFT tiles keep tests fast
    return p;
}

TEST(Convolve2d, EveryPathMatchesReference) {
    struct Case {
        Kernel2d k;
        Convolve2dMethod m;
        double tol;  // relative to max|in| * sum|k|
    };
    const Kernel2d airy = airy_psf({1.2, 0.25, 7, 3});
    const Kernel2d rnd = random_kernel(9, 7, 21);
    // Folded direct path: a 15x15 quadrant of 8 rows (8 x 2 register blocks) and a 31x31 one of
    // 16 rows (16 x 1 blocks).
    const Kernel2d airy31 = airy_psf({1.5, 0.3, 15, 3});
    ASSERT_TRUE(Convolve2dPlan(airy, forced(Convolve2dMethod::Direct)).folded());
    ASSERT_TRUE(Convolve2dPlan(airy31, forced(Convolve2dMethod::Direct)).folded());
    const std::vector<Case> cases = {
        {airy31, Convolve2dMethod::Direct, 2e-6},
        {airy, Convolve2dMethod::Direct, 2e-6},
        {airy, Convolve2dMethod::LowRank, 2e-5},
        {airy, Convolve2dMethod::Fft, 2e-6},
        {rnd, Convolve2dMethod::Direct, 2e-6},
        {rnd, Convolve2dMethod::LowRank, 2e-5},
        {rnd, Convolve2dMethod::Fft, 5e-6},
        {random_kernel(1, 5, 3), Convolve2dMethod::Direct, 2e-6},
        {random_kernel(3, 1, 4), Convolve2dMethod::Fft, 5e-6},
    };
    unsigned seed = 100;
    for (const auto& c : cases) {
        Convolve2dParams p = forced(c.m);
        if (c.m == Convolve2dMethod::Fft && p.fft_size_px < 2 * std::max(c.k.width, c.k.height)) p.fft_size_px = 128;
        for (BorderMode b : kBorders) {
            p.border = b;
            const Convolve2dPlan plan(c.k, p);
            ASSERT_EQ(plan.method(), c.m);
            for (const auto& sz : kSizes) {
                const Image in = random_image(sz.w, sz.h, seed++);
                Image fast(sz.w, sz.h), ref(sz.w, sz.h);
                plan.apply(in.view(), fast.view());
                convolve_2d_reference(in.view(), ref.view(), c.k, b);
                EXPECT_LE(max_diff(fast, ref), c.tol * 3.0 * abs_sum(c.k.taps))
                    << "method " << static_cast<int>(c.m) << " size " << sz.w << "x" << sz.h;
            }
        }
    }
}

TEST(Convolve2d, LowRankErrorIsBoundedByTolerance) {
    const Kernel2d airy = airy_psf({1.5, 0.3, 15, 3});
    for (double tol : {1e-2, 1e-3, 1e-5}) {
        Convolve2dParams p;
        p.method = Convolve2dMethod::LowRank;
        p.low_rank_tolerance = tol;
        const Convolve2dPlan plan(airy, p);
        EXPECT_LE(plan.low_rank_error(), tol);
        EXPECT_GE(plan.rank(), 1);
        EXPECT_EQ(static_cast<std::int64_t>(plan.terms().size()), plan.rank());
        const Image in = random_image(80, 70, 77, 0.0f, 1.0f);
        Image fast(80, 70), ref(80, 70);
        plan.apply(in.view(), fast.view());
        convolve_2d_reference(in.view(), ref.view(), airy, BorderMode::Reflect101);
        EXPECT_LE(max_diff(fast, ref), tol * 1.0 * abs_sum(airy.taps) + 1e-6);
    }
    // a separable kernel is rank 1
    const Convolve2dPlan sep(outer_product(gaussian_kernel(2.0, 1.0)), forced(Convolve2dMethod::LowRank));
    EXPECT_EQ(sep.rank(), 1);
}

TEST(Convolve2d, InvariantsConstantMeanLinearity) {
    const Kernel2d airy = airy_psf({1.0, 0.3, 6, 3});
    for (Convolve2dMethod m : {Convolve2dMethod::Direct, Convolve2dMethod::LowRank, Convolve2dMethod::Fft}) {
        const Convolve2dPlan plan(airy, forced(m, BorderMode::Reflect));
        const Image c(70, 53, 3.5f);
        Image out(70, 53);
        plan.apply(c.view(), out.view());
        for (float v : out.pixels())
            EXPECT_NEAR(v, 3.5f, 3.5f * 2e-5f);
        const Image in = random_image(70, 53, 8, 0.0f, 100.0f);
        plan.apply(in.view(), out.view());
        double a = 0.0, b = 0.0;
        for (std::size_t i = 0; i < in.pixels().size(); ++i) {
            a += in.pixels()[i];
            b += out.pixels()[i];
        }
        EXPECT_NEAR(b / a, 1.0, 1e-3);
        const Image in2 = random_image(70, 53, 9);
        Image mix(70, 53), o2(70, 53), om(70, 53);
        for (std::size_t i = 0; i < mix.pixels().size(); ++i)
            mix.pixels()[i] = in.pixels()[i] + 3.0f * in2.pixels()[i];
        plan.apply(in2.view(), o2.view());
        plan.apply(mix.view(), om.view());
        for (std::size_t i = 0; i < mix.pixels().size(); ++i)
            EXPECT_NEAR(om.pixels()[i], out.pixels()[i] + 3.0f * o2.pixels()[i], 2e-3);
    }
}

TEST(Convolve2d, TiledEqualsWholeBitForBit) {
    const Image in = random_image(230, 170, 31);
    const Kernel2d airy = airy_psf({1.5, 0.3, 5, 3});
    for (Convolve2dMethod m : {Convolve2dMethod::Direct, Convolve2dMethod::LowRank}) {
        const Convolve2dPlan plan(m == Convolve2dMethod::Direct ? random_kernel(7, 5, 2) : airy, forced(m));
        Image whole(230, 170);
        plan.apply(in.view(), whole.view());
        for (auto [tw, th] : {std::pair{1, 3}, {9, 9}, {16, 40}, {100, 100}, {230, 170}}) {
            const Image t = tiled(in, plan.halo(), tw, th,
                                  [&](const ConvolveInput& ci, const ConvolveOutput& co) { plan.apply(ci, co); });
            EXPECT_TRUE(bit_identical(whole, t)) << "method " << static_cast<int>(m) << " tile " << tw << "x" << th;
        }
        const Image p = padded_window(in, plan.halo(), 0, 100, 50, 70, BorderMode::Reflect101);
        Image v(50, 70);
        plan.apply_valid(p.view(), v.view());
        bool same = true;
        for (std::int64_t y = 0; y < 70; ++y)
            for (std::int64_t x = 0; x < 50; ++x)
                same = same && std::memcmp(&v.at(x, y), &whole.at(x, 100 + y), sizeof(float)) == 0;
        EXPECT_TRUE(same);
    }
    // Folded direct path (symmetric kernels; 8- and 16-row quadrants).
    for (std::int64_t radius : {7, 15}) {
        const Convolve2dPlan plan(airy_psf({1.5, 0.3, radius, 3}), forced(Convolve2dMethod::Direct));
        ASSERT_TRUE(plan.folded());
        Image whole(230, 170);
        plan.apply(in.view(), whole.view());
        for (auto [tw, th] : {std::pair{1, 3}, {9, 9}, {16, 40}, {100, 100}, {131, 17}}) {
            const Image t = tiled(in, plan.halo(), tw, th,
                                  [&](const ConvolveInput& ci, const ConvolveOutput& co) { plan.apply(ci, co); });
            EXPECT_TRUE(bit_identical(whole, t)) << "folded radius " << radius << " tile " << tw << "x" << th;
        }
    }
    // FFT: bit-identical for caller tiles aligned to the block grid.
    const Convolve2dPlan fft(airy, forced(Convolve2dMethod::Fft));
    const std::int64_t bx = fft.fft_block_x_px();
    const std::int64_t by = fft.fft_block_y_px();
    EXPECT_EQ(bx, 64 - 10);
    Image whole(230, 170);
    fft.apply(in.view(), whole.view());
    for (auto [mx, my] : {std::pair{1, 1}, {2, 1}, {1, 3}, {5, 4}}) {
        const Image t = tiled(in, fft.halo(), mx * bx, my * by,
                              [&](const ConvolveInput& ci, const ConvolveOutput& co) { fft.apply(ci, co); });
        EXPECT_TRUE(bit_identical(whole, t)) << "blocks " << mx << "x" << my;
    }
    // unaligned tiles differ by rounding only
    const Image t =
        tiled(in, fft.halo(), 37, 29, [&](const ConvolveInput& ci, const ConvolveOutput& co) { fft.apply(ci, co); });
    EXPECT_LE(max_diff(whole, t), 1e-5);
}

TEST(Convolve2d, OneThreadEqualsAllThreads) {
    const Image in = random_image(900, 600, 5);
    const Kernel2d airy = airy_psf({1.5, 0.3, 7, 3});
    for (Convolve2dMethod m : {Convolve2dMethod::Direct, Convolve2dMethod::LowRank, Convolve2dMethod::Fft}) {
        Convolve2dParams p = forced(m);
        p.fft_size_px = m == Convolve2dMethod::Fft ? 128 : 0;
        const Convolve2dPlan plan(airy, p);
        Image all(900, 600), one(900, 600);
        plan.apply(in.view(), all.view());
        {
            tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
            plan.apply(in.view(), one.view());
        }
        EXPECT_TRUE(bit_identical(all, one)) << static_cast<int>(m);
    }
}

TEST(Convolve2d, CostModelPicksSensibly) {
    EXPECT_EQ(Convolve2dPlan(random_kernel(3, 3, 1)).method(), Convolve2dMethod::Direct);
    EXPECT_EQ(Convolve2dPlan(random_kernel(63, 63, 1)).method(), Convolve2dMethod::Fft);
    // A 31x31 obscured-aperture PSF is not low rank (rank 16 = full for a doubly symmetric
    // kernel at tolerance 1e-5) but symmetric: the folded direct path wins (over FFTW too).
    const Convolve2dPlan airy(airy_psf({1.5, 0.3, 15, 3}));
    EXPECT_TRUE(airy.folded());
    EXPECT_LT(airy.costs().direct, airy.costs().low_rank);
    EXPECT_NE(airy.method(), Convolve2dMethod::LowRank) << "rank " << airy.rank();
    EXPECT_EQ(airy.method(), Convolve2dMethod::Direct);
    EXPECT_LT(airy.costs().direct, airy.costs().fft);
    // a non-symmetric 31x31 kernel goes to the FFT path
    EXPECT_EQ(Convolve2dPlan(random_kernel(31, 31, 2)).method(), Convolve2dMethod::Fft);
    EXPECT_FALSE(Convolve2dPlan(random_kernel(31, 31, 2)).folded());
    const Convolve2dPlan sep(outer_product(gaussian_kernel(3.0, 3.0)));
    EXPECT_EQ(sep.method(), Convolve2dMethod::LowRank);
    EXPECT_EQ(sep.rank(), 1);
    Image in(40, 40, 1.0f), out(40, 40);
    EXPECT_EQ(convolve_2d(in.view(), out.view(), random_kernel(3, 3, 1)), Convolve2dMethod::Direct);
}

TEST(Convolve2d, ErrorsThrow) {
    Image a(10, 10), b(10, 10), c(10, 9), e;
    const Kernel2d good = random_kernel(3, 3, 1);
    EXPECT_THROW(Convolve2dPlan(Kernel2d{2, 3, std::vector<float>(6, 1.0f)}), Error);  // even size
    EXPECT_THROW(Convolve2dPlan(Kernel2d{0, 0, {}}), Error);                           // empty
    EXPECT_THROW(Convolve2dPlan(Kernel2d{3, 3, std::vector<float>(8, 1.0f)}), Error);  // wrong tap count
    EXPECT_THROW(Convolve2dPlan(Kernel2d{1, 1, {INFINITY}}), Error);                   // non-finite
    EXPECT_THROW((void)halo(Kernel2d{2, 2, {1, 1, 1, 1}}), Error);
    Convolve2dParams p;
    p.low_rank_tolerance = -1.0;
    EXPECT_THROW(Convolve2dPlan(good, p), Error);
    p.low_rank_tolerance = 1.0;
    EXPECT_THROW(Convolve2dPlan(good, p), Error);
    p = {};
    p.max_rank = -1;
    EXPECT_THROW(Convolve2dPlan(good, p), Error);
    p = {};
    p.fft_size_px = 4;
    EXPECT_THROW(Convolve2dPlan(good, p), Error);
    p.fft_size_px = 10000;
    EXPECT_THROW(Convolve2dPlan(good, p), Error);
    p = {};
    p.method = Convolve2dMethod::LowRank;
    p.max_rank = 2;
    EXPECT_THROW(Convolve2dPlan(random_kernel(9, 9, 5), p), Error);  // no rank-2 fit
    for (Convolve2dMethod m : {Convolve2dMethod::Direct, Convolve2dMethod::LowRank, Convolve2dMethod::Fft}) {
        const Convolve2dPlan plan(good, forced(m));
        EXPECT_THROW(plan.apply(a.view(), c.view()), Error);
        EXPECT_THROW(plan.apply(e.view(), e.view()), Error);
        EXPECT_THROW(plan.apply(a.view(), a.view()), Error);
        EXPECT_THROW(plan.apply(ConvolveInput{a.view().sub(1, 1, 8, 8), 1, 1, 10, 10},
                                ConvolveOutput{b.view().sub(0, 0, 3, 3), 0, 0}),
                     Error);
        EXPECT_THROW(plan.apply_valid(a.view(), b.view()), Error);
    }
    EXPECT_THROW(convolve_2d_reference(a.view(), c.view(), good, BorderMode::Reflect101), Error);
}

// ------------------------------------------------------------------------------------------
// Sharpening

TEST(Sharpen, NoiseGainAndBehaviour) {
    SharpenParams p;
    p.strength = 0.0;
    EXPECT_DOUBLE_EQ(noise_gain(sharpen_kernel(p)), 1.0);
    p.strength = 1.0;
    const Kernel2d k = sharpen_kernel(p);
    // centre 2 - 4/16, edges -2/16, corners -1/16: G^2 = 1.75^2 + 4 (1/8)^2 + 4 (1/16)^2
    EXPECT_NEAR(noise_gain(k), std::sqrt(3.140625), 1e-6);
    p.blur = SharpenBlur::Binomial5x5;
    EXPECT_EQ(sharpen_kernel(p).width, 5);
    EXPECT_GT(noise_gain(sharpen_kernel(p)), 1.0);

    const Image in = random_image(123, 77, 4);
    Image out(123, 77), ref(123, 77);
    p = {};
    p.strength = 0.8;
    const double g = sharpen(in.view(), out.view(), p);
    EXPECT_NEAR(g, noise_gain(sharpen_kernel(p)), 1e-12);
    convolve_2d_reference(in.view(), ref.view(), sharpen_kernel(p), p.border);
    EXPECT_LE(max_diff(out, ref), 1e-5);
    const Image c(50, 20, 2.0f);
    Image co(50, 20);
    (void)sharpen(c.view(), co.view(), p);
    for (float v : co.pixels())
        EXPECT_NEAR(v, 2.0f, 1e-5f);
    // noise gain holds on white noise: std(out) / std(in) ~= G
    const Image noise = random_image(512, 512, 12, -1.0f, 1.0f);
    Image nout(512, 512);
    const double gn = sharpen(noise.view(), nout.view(), p);
    double s_in = 0.0, s_out = 0.0;
    for (std::int64_t y = 2; y < 510; ++y)
        for (std::int64_t x = 2; x < 510; ++x) {
            s_in += static_cast<double>(noise.at(x, y)) * noise.at(x, y);
            s_out += static_cast<double>(nout.at(x, y)) * nout.at(x, y);
        }
    EXPECT_NEAR(std::sqrt(s_out / s_in), gn, 0.02 * gn);
}

TEST(Sharpen, ErrorsThrow) {
    Image a(8, 8), b(8, 8);
    SharpenParams p;
    p.strength = -0.1;
    EXPECT_THROW((void)sharpen_kernel(p), Error);
    EXPECT_THROW((void)sharpen(a.view(), b.view(), p), Error);
    p.strength = NAN;
    EXPECT_THROW((void)sharpen_kernel(p), Error);
    EXPECT_THROW((void)noise_gain(Kernel2d{3, 1, {1.0f, 1.0f, 1.0f}}), Error);  // does not sum to 1
    EXPECT_THROW((void)sharpen(a.view(), b.view(), Kernel2d{3, 1, {0.5f, 0.6f, 0.5f}}), Error);
    EXPECT_THROW((void)sharpen(a.view(), a.view(), SharpenParams{}), Error);  // in-place
}

}  // namespace
