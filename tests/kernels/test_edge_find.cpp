// Automatic edge search and the whole analyse_edges chain on rendered scenes.
#include <gtest/gtest.h>

#include <tbb/global_control.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"

namespace satiq::edge_test {
// Defined in test_edge_sfr.cpp.
double pixel_fraction(double d, double p, double q, double sigma);
double esf_slant(double d, double sigma, double a_deg);
}  // namespace satiq::edge_test

namespace {

using namespace satiq;
using satiq::edge_test::esf_slant;
using satiq::edge_test::pixel_fraction;
constexpr double kPi = std::numbers::pi;

struct Box {
    double cx, cy, half_w, half_h, angle_deg, level;
};

// Rotated rectangles on a background: each rectangle's coverage is the product of its four
// blurred half-planes (exact away from the corners), pixel-integrated by pixel_fraction.
Image render_boxes(std::int64_t w, std::int64_t h, const std::vector<Box>& boxes, double background, double sigma,
                   double noise, std::uint64_t seed) {
    Image img(w, h, static_cast<float>(background));
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            double v = background;
            for (const Box& b : boxes) {
                const double a = b.angle_deg * kPi / 180.0;
                const double ux = std::cos(a), uy = std::sin(a);  // box's local x axis
                const double px = static_cast<double>(x) + 0.5 - b.cx, py = static_cast<double>(y) + 0.5 - b.cy;
                const double lx = px * ux + py * uy, ly = -px * uy + py * ux;
                const double reach = 0.75 + 9.0 * sigma;
                if (std::abs(lx) > b.half_w + reach || std::abs(ly) > b.half_h + reach) continue;
                double f = 1.0;
                // Inside distance to each side, with the side's normal (pointing inwards).
                const double dl[4] = {lx + b.half_w, b.half_w - lx, ly + b.half_h, b.half_h - ly};
                const double nxs[4] = {ux, -ux, -uy, uy}, nys[4] = {uy, -uy, ux, -ux};
                for (int k = 0; k < 4; ++k) {
                    if (dl[k] > reach) continue;
                    f *= pixel_fraction(dl[k], nxs[k], nys[k], sigma);
                }
                v = v * (1.0 - f) + b.level * f;
            }
            if (noise > 0) v += noise * g(rng);
            img.at(x, y) = static_cast<float>(v);
        }
    return img;
}

EdgeSfrParams sfr_params() {
    EdgeSfrParams p;
    p.roi_half_width_px = 10.0;
    p.gsd_x_m = 0.5;
    p.gsd_y_m = 0.5;
    return p;
}

TEST(EdgeFind, RotatedSquareFoundOnBothAxes) {
    const double sigma = 0.7, slant = 8.0;
    const Image img = render_boxes(400, 400, {{200, 200, 100, 100, slant, 400}}, 100, sigma, 3.0, 7);
    EdgeFindParams fp;
    fp.noise_sigma_dn = 3.0;
    const auto segs = find_edges(img.view(), {}, fp);
    ASSERT_GE(segs.size(), 4u);
    const EdgeAnalysis a = analyse_edges(img.view(), {}, fp, sfr_params());
    const double truth = esf_slant(0.5, sigma, slant) - esf_slant(-0.5, sigma, slant);
    std::printf("square: %zu candidates, usable x %lld y %lld, RER x %.4f y %.4f (truth %.4f), gm %.4f weighted %.4f\n",
                segs.size(), static_cast<long long>(a.aggregate.x.count), static_cast<long long>(a.aggregate.y.count),
                a.aggregate.x.rer.median, a.aggregate.y.rer.median, truth, a.aggregate.rer_gm,
                a.aggregate.rer_weighted);
    for (const auto& m : a.edges)
        std::printf("  (%.1f,%.1f)-(%.1f,%.1f) axis %s slant %.2f len %.0f rer %.4f %s %s\n", m.segment.x0_px,
                    m.segment.y0_px, m.segment.x1_px, m.segment.y1_px, to_string(m.axis), m.slant_deg, m.length_px,
                    m.rer, to_string(m.verdict), m.reason.c_str());
    ASSERT_TRUE(a.aggregate.usable) << a.aggregate.message;
    EXPECT_GE(a.aggregate.x.count, 2);
    EXPECT_GE(a.aggregate.y.count, 2);
    EXPECT_NEAR(a.aggregate.x.rer.median, truth, 0.015);
    EXPECT_NEAR(a.aggregate.y.rer.median, truth, 0.015);
    EXPECT_NEAR(a.aggregate.rer_gm, truth, 0.015);
    for (const auto& m : a.edges)
        if (is_usable(m.verdict)) {
            EXPECT_NEAR(m.slant_deg, slant, 0.3);
        }
    EXPECT_NEAR(a.noise_sigma_dn, 3.0, 1e-12);
}

Image busy_scene(std::int64_t w, std::int64_t h, std::uint64_t seed, double noise) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<Box> boxes;
    for (int i = 0; i < 40; ++i)
        boxes.push_back({u(rng) * static_cast<double>(w), u(rng) * static_cast<double>(h), 15 + 40 * u(rng),
                         15 + 40 * u(rng), -40 + 80 * u(rng), 200 + 600 * u(rng)});
    return render_boxes(w, h, boxes, 100, 0.8, noise, seed + 1);
}

bool same(const EdgeMeasurement& a, const EdgeMeasurement& b) {
    return a.verdict == b.verdict && a.rer == b.rer && a.mtf50_cyc_per_px == b.mtf50_cyc_per_px &&
           a.overshoot_h == b.overshoot_h && a.fwhm_px == b.fwhm_px && a.segment.x0_px == b.segment.x0_px &&
           a.segment.y1_px == b.segment.y1_px && a.contrast_dn == b.contrast_dn;
}

TEST(EdgeFind, IdenticalForAnyThreadCount) {
    const Image img = busy_scene(600, 500, 21, 2.0);
    EdgeFindParams fp;  // noise estimated
    fp.tile_px = 128;   // many tiles
    const EdgeAnalysis all = analyse_edges(img.view(), {}, fp, sfr_params());
    EdgeAnalysis one;
    {
        tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
        one = analyse_edges(img.view(), {}, fp, sfr_params());
    }
    ASSERT_EQ(all.edges.size(), one.edges.size());
    ASSERT_GT(all.edges.size(), 20u);
    for (std::size_t i = 0; i < all.edges.size(); ++i)
        EXPECT_TRUE(same(all.edges[i], one.edges[i])) << i;
    EXPECT_EQ(all.noise_sigma_dn, one.noise_sigma_dn);
    EXPECT_EQ(all.aggregate.rer_gm, one.aggregate.rer_gm);
    std::printf("busy scene: %lld candidates, %lld usable (x %lld, y %lld), RER gm %.4f, noise %.3f\n",
                static_cast<long long>(all.candidates), static_cast<long long>(all.aggregate.usable_count),
                static_cast<long long>(all.aggregate.x.count), static_cast<long long>(all.aggregate.y.count),
                all.aggregate.rer_gm, all.noise_sigma_dn);
    EXPECT_TRUE(all.aggregate.usable);
    // Truth for sigma 0.8 (slanted-edge model at 10 deg; the scene's edges span 0..40 deg and
    // the truth varies by < 0.003 over that range). Corners and neighbouring boxes make this a
    // loose check; the accuracy tests are in test_edge_sfr.cpp.
    const double truth = esf_slant(0.5, 0.8, 10.0) - esf_slant(-0.5, 0.8, 10.0);
    std::printf("busy scene truth RER %.4f\n", truth);
    EXPECT_NEAR(all.aggregate.rer_gm, truth, 0.01);
}

// A box edge crossing a tile border is one candidate, not two: the pieces found in the two
// tiles are joined, and the joined edge measures like one edge. Tile size must not matter.
TEST(EdgeFind, EdgeCrossingATileBorderIsJoined) {
    // A 200 x 60 box tilted 5 deg, centred so that its long sides cross x = 128.
    const Image img = render_boxes(256, 160, {{128.0, 80.0, 100.0, 30.0, 5.0, 800.0}}, 200.0, 0.7, 2.0, 7);
    EdgeFindParams fp;
    fp.noise_sigma_dn = 2.0;
    auto long_ones = [](const std::vector<EdgeSegment>& v) {
        std::vector<EdgeSegment> out;
        for (const auto& s : v)
            if (std::hypot(s.x1_px - s.x0_px, s.y1_px - s.y0_px) > 150.0) out.push_back(s);
        return out;
    };
    fp.tile_px = 128;
    const auto tiled = find_edges(img.view(), {}, fp);
    fp.tile_px = 512;
    const auto whole = find_edges(img.view(), {}, fp);
    // Both long sides (top and bottom) come out whole in both cases.
    EXPECT_EQ(long_ones(whole).size(), 2u);
    ASSERT_EQ(long_ones(tiled).size(), 2u);
    for (const auto& s : long_ones(tiled)) {
        const EdgeMeasurement m = measure_edge(img.view(), {}, s, sfr_params());
        EXPECT_TRUE(is_usable(m.verdict)) << m.reason;
        EXPECT_GT(m.length_px, 150.0);
    }
}

TEST(EdgeFind, NodataBorderIsNotAnEdge) {
    Image img = render_boxes(300, 300, {{150, 150, 70, 70, 6.0, 400}}, 100, 0.7, 2.0, 3);
    std::vector<std::uint8_t> mask(300 * 300, 1);
    // Nodata = 0 on a slanted band on the left (like a rotated scene footprint).
    for (std::int64_t y = 0; y < 300; ++y)
        for (std::int64_t x = 0; x < 300; ++x)
            if (static_cast<double>(x) < 40.0 + 0.1 * static_cast<double>(y)) {
                img.at(x, y) = 0.0f;
                mask[static_cast<std::size_t>(y * 300 + x)] = 0;
            }
    const ConstImageView<std::uint8_t> mv(mask.data(), 300, 300);
    EdgeFindParams fp;
    fp.noise_sigma_dn = 2.0;
    const EdgeAnalysis a = analyse_edges(img.view(), mv, fp, sfr_params());
    ASSERT_TRUE(a.aggregate.usable) << a.aggregate.message;
    for (const auto& m : a.edges) {
        if (!is_usable(m.verdict)) continue;
        // Every usable edge is one of the square's sides (x or y within 80..220).
        const double mx = 0.5 * (m.segment.x0_px + m.segment.x1_px), my = 0.5 * (m.segment.y0_px + m.segment.y1_px);
        EXPECT_GT(mx, 70.0);
        EXPECT_GT(my, 70.0);
        EXPECT_LT(mx, 230.0);
        EXPECT_LT(my, 230.0);
    }
    // Without the mask the nodata border is a strong straight edge and would be found.
    const auto segs = find_edges(img.view(), {}, fp);
    const auto segs_masked = find_edges(img.view(), mv, fp);
    EXPECT_GT(segs.size(), segs_masked.size());
}

void expect_no_usable(const EdgeAnalysis& a) {
    EXPECT_FALSE(a.aggregate.usable);
    EXPECT_NE(a.aggregate.message.find("no usable edges"), std::string::npos) << a.aggregate.message;
    EXPECT_EQ(a.aggregate.rer_gm, 0.0);
    EXPECT_TRUE(std::isfinite(a.noise_sigma_dn));
    for (const auto& m : a.edges) {
        EXPECT_TRUE(std::isfinite(m.rer) && std::isfinite(m.mtf50_cyc_per_px) && std::isfinite(m.overshoot_h) &&
                    std::isfinite(m.fwhm_px) && std::isfinite(m.contrast_to_noise));
    }
}

TEST(EdgeFind, NoUsableEdges) {
    // Pure noise.
    Image noise(300, 200);
    std::mt19937_64 rng(5);
    std::normal_distribution<double> g(100.0, 10.0);
    for (auto& v : noise.pixels())
        v = static_cast<float>(g(rng));
    const EdgeAnalysis an = analyse_edges(noise.view(), {}, EdgeFindParams{}, sfr_params());
    expect_no_usable(an);
    std::printf("pure noise: %s\n", an.aggregate.message.c_str());
    // Smooth blobs only (no sharp straight edges).
    Image blobs(256, 256);
    for (std::int64_t y = 0; y < 256; ++y)
        for (std::int64_t x = 0; x < 256; ++x)
            blobs.at(x, y) = static_cast<float>(100.0 + 50.0 * std::sin(static_cast<double>(x) * 0.05) *
                                                            std::sin(static_cast<double>(y) * 0.07));
    expect_no_usable(analyse_edges(blobs.view(), {}, EdgeFindParams{}, sfr_params()));
    // Constant, 1x1, 2x2, empty, all nodata, all NaN.
    expect_no_usable(analyse_edges(Image(64, 64, 3.0f).view(), {}, EdgeFindParams{}, sfr_params()));
    expect_no_usable(analyse_edges(Image(1, 1, 3.0f).view(), {}, EdgeFindParams{}, sfr_params()));
    expect_no_usable(analyse_edges(Image(2, 2, 3.0f).view(), {}, EdgeFindParams{}, sfr_params()));
    expect_no_usable(analyse_edges(Image(0, 0).view(), {}, EdgeFindParams{}, sfr_params()));
    const Image sq = render_boxes(200, 200, {{100, 100, 50, 50, 5.0, 400}}, 100, 0.7, 2.0, 3);
    std::vector<std::uint8_t> none(200 * 200, 0);
    expect_no_usable(
        analyse_edges(sq.view(), ConstImageView<std::uint8_t>(none.data(), 200, 200), EdgeFindParams{}, sfr_params()));
    expect_no_usable(analyse_edges(Image(50, 50, std::numeric_limits<float>::quiet_NaN()).view(), {}, EdgeFindParams{},
                                   sfr_params()));
    // Saturated square: every edge touches clipped pixels.
    EdgeFindParams sat;
    sat.saturation_dn = 390.0;
    const EdgeAnalysis as = analyse_edges(sq.view(), {}, sat, sfr_params());
    EXPECT_FALSE(as.aggregate.usable);
}

TEST(EdgeFind, ParameterErrors) {
    Image img(16, 16);
    EdgeFindParams fp;
    fp.min_length_px = 1;
    EXPECT_THROW((void)find_edges(img.view(), {}, fp), Error);
    fp = {};
    fp.tile_px = 8;
    EXPECT_THROW((void)find_edges(img.view(), {}, fp), Error);
    fp = {};
    fp.angle_tolerance_deg = 0;
    EXPECT_THROW((void)find_edges(img.view(), {}, fp), Error);
    std::vector<std::uint8_t> mask(4, 1);
    EXPECT_THROW((void)find_edges(img.view(), ConstImageView<std::uint8_t>(mask.data(), 2, 2), EdgeFindParams{}),
                 Error);
    EXPECT_EQ(halo(EdgeFindParams{}), 1);
}

}  // namespace
