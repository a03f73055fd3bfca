// Synthetic targets: the exact edge integral, the analytic truth, tri-bars, the airfield scene.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include <tbb/global_control.h>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/synth.hpp"

namespace satiq {
namespace {

// Area of {(u, v) in [0,1]^2 : p u + q v + c > 0} by clipping the unit square (Sutherland-Hodgman
// against one half-plane) and the shoelace formula: the exact sigma = 0 pixel fraction.
double clipped_area(double c, double p, double q) {
    const std::vector<std::pair<double, double>> sq = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
    std::vector<std::pair<double, double>> out;
    auto f = [&](std::pair<double, double> a) { return p * a.first + q * a.second + c; };
    for (std::size_t i = 0; i < sq.size(); ++i) {
        const auto a = sq[i], b = sq[(i + 1) % sq.size()];
        const double fa = f(a), fb = f(b);
        if (fa > 0) out.push_back(a);
        if ((fa > 0) != (fb > 0)) {
            const double t = fa / (fa - fb);
            out.push_back({a.first + t * (b.first - a.first), a.second + t * (b.second - a.second)});
        }
    }
    double area = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto a = out[i], b = out[(i + 1) % out.size()];
        area += a.first * b.second - b.first * a.second;
    }
    return std::abs(area) / 2;
}

TEST(SynthEdge, PixelFractionMatchesQuadratureForAllAngles) {
    // Error budget of the issue: < 1e-6 of the contrast.
    for (const double angle : {0.0, 1e-9, 2.0, 5.0, 8.0, 30.0, 43.0, 45.0, 60.0, 89.9999999, 90.0, 135.0, 200.0, -7.0})
        for (const double sigma : {0.05, 0.3, 0.5, 1.0, 2.5}) {
            EdgeTargetParams p;
            p.angle_deg = angle;
            p.edge_x_px = 6.37;
            p.edge_y_px = 5.81;
            p.sigma_px = sigma;
            const Image img = render_edge(p, 12, 12);
            double worst = 0;
            for (std::int64_t y = 0; y < 12; y += 1)
                for (std::int64_t x = 0; x < 12; x += 1)
                    worst =
                        std::max(worst, std::abs(img.at(x, y) - edge_pixel_reference(p, x, y, sigma < 0.1 ? 8 : 2)));
            EXPECT_LT(worst, 1e-6) << "angle " << angle << " sigma " << sigma;
        }
}

TEST(SynthEdge, SigmaZeroIsTheExactAreaOfTheHalfPlane) {
    for (const double angle : {0.0, 3.0, 5.0, 26.565, 45.0, 90.0, 100.0, 181.0, 271.0, 1e-8})
        for (double c = -2.0; c <= 1.0; c += 0.0625) {
            const double a = angle * std::numbers::pi / 180.0;
            const double p = std::cos(a), q = std::sin(a);
            EXPECT_NEAR(square_pixel_step_fraction(c + 0.013, p, q, 0.0), clipped_area(c + 0.013, p, q), 1e-7)
                << "angle " << angle << " c " << c;
        }
}

TEST(SynthEdge, FractionIsSymmetricAndBounded) {
    for (const double sigma : {0.0, 0.4, 3.0})
        for (double d = -4.0; d <= 4.0; d += 0.37) {
            const double a = 0.3, p = std::cos(a), q = std::sin(a);
            const double c = d - 0.5 * (p + q);  // pixel centred at distance d
            const double f1 = square_pixel_step_fraction(c, p, q, sigma);
            const double f2 = square_pixel_step_fraction(-d - 0.5 * (p + q), p, q, sigma);
            EXPECT_NEAR(f1 + f2, 1.0, 1e-12);
            EXPECT_GE(f1, 0.0);
            EXPECT_LE(f1, 1.0);
        }
}

TEST(SynthEdge, OneDimensionalEsfMatchesNumericalIntegral) {
    for (const double sigma : {0.2, 0.5, 1.0, 4.0})
        for (double d = -3.0; d <= 3.0; d += 0.25) {
            // Midpoint rule with 20000 steps of Phi(u / sigma) over [d - 0.5, d + 0.5].
            double s = 0;
            const int n = 20000;
            for (int i = 0; i < n; ++i)
                s += normal_cdf((d - 0.5 + (i + 0.5) / n) / sigma);
            EXPECT_NEAR(box_gaussian_esf(d, sigma), s / n, 1e-8);
        }
    EXPECT_DOUBLE_EQ(box_gaussian_esf(0.2, 0.0), 0.7);
    EXPECT_DOUBLE_EQ(box_gaussian_esf(-0.7, 0.0), 0.0);
    EXPECT_DOUBLE_EQ(box_gaussian_esf(0.0, 0.8), 0.5);
}

TEST(SynthEdge, AnalyticTruthNumbers) {
    // sigma = 0: a pure pixel-integrated step. RER 1, MTF = |sinc f|: MTF50 where sinc f = 0.5
    // (f = 0.603355), MTF(Nyquist) = 2 / pi; H = ESF(1.25) = 1.
    const EdgeTruth t0 = box_gaussian_edge_truth(0.0);
    EXPECT_NEAR(t0.rer, 1.0, 1e-12);
    EXPECT_NEAR(t0.mtf50_cyc_per_px, 0.6033545, 1e-6);
    EXPECT_NEAR(t0.mtf_nyquist, 2.0 / std::numbers::pi, 1e-12);
    EXPECT_NEAR(t0.overshoot_h, 1.0, 1e-12);
    EXPECT_NEAR(t0.fwhm_px, 1.0, 1e-6);
    for (const double sigma : {0.3, 0.5, 0.7, 1.0, 2.0}) {
        const EdgeTruth t = box_gaussian_edge_truth(sigma);
        EXPECT_NEAR(t.rer, box_gaussian_esf(0.5, sigma) - box_gaussian_esf(-0.5, sigma), 1e-15);
        EXPECT_NEAR(box_gaussian_mtf(t.mtf50_cyc_per_px, sigma), 0.5, 1e-9);
        const double pi2 = std::numbers::pi * std::numbers::pi;
        EXPECT_NEAR(t.mtf_nyquist, std::exp(-pi2 * sigma * sigma / 2.0) * 2.0 / std::numbers::pi, 1e-12);
        EXPECT_NEAR(t.overshoot_h, box_gaussian_esf(1.25, sigma), 1e-15);
        // RER via the MTF (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010: ER(x) = 0.5 +
        // (1/pi) int MTF(f)/f sin(2 pi f x) df; the box-Gaussian transfer function is real and signed: sinc, not
        // |sinc|).
        double er = 0;
        const double df = 1e-4;
        for (double f = df / 2; f < 12.0; f += df) {
            const double mtf_signed =
                std::exp(-2 * pi2 * sigma * sigma * f * f) * std::sin(std::numbers::pi * f) / (std::numbers::pi * f);
            er += mtf_signed / f * std::sin(2 * std::numbers::pi * f * 0.5) * df;
        }
        const double rer_from_mtf = 2.0 * er / std::numbers::pi;  // ER(0.5) - ER(-0.5)
        EXPECT_NEAR(t.rer, rer_from_mtf, 1e-4) << "sigma " << sigma;
    }
    // Published check value: sigma 0.5 px Gaussian + square pixel has RER about 0.61.
    EXPECT_NEAR(box_gaussian_edge_truth(0.5).rer, 0.6096, 1e-3);
}

TEST(SynthEdge, SquarePixelTruthEqualsTheOneDimensionalModelAtZeroDegrees) {
    for (const double sigma : {0.0, 0.5, 1.0}) {
        const EdgeTruth a = box_gaussian_edge_truth(sigma), b = square_pixel_edge_truth(sigma, 0.0);
        EXPECT_NEAR(a.rer, b.rer, 1e-9);
        EXPECT_NEAR(a.mtf50_cyc_per_px, b.mtf50_cyc_per_px, 1e-9);
        EXPECT_NEAR(a.mtf_nyquist, b.mtf_nyquist, 1e-12);
        EXPECT_NEAR(a.overshoot_h, b.overshoot_h, 1e-9);
    }
    // At 45 degrees the aperture seen along the normal is a triangle (two boxes of 1/sqrt(2)).
    const double pi2 = std::numbers::pi * std::numbers::pi;
    const double s45 =
        std::sin(std::numbers::pi * 0.5 / std::numbers::sqrt2) / (std::numbers::pi * 0.5 / std::numbers::sqrt2);
    EXPECT_NEAR(square_pixel_edge_truth(0.5, 45.0).mtf_nyquist, std::exp(-pi2 * 0.25 / 2.0) * s45 * s45, 1e-12);
    EXPECT_GT(std::abs(square_pixel_edge_truth(0.5, 45.0).rer - box_gaussian_edge_truth(0.5).rer), 1e-3);
    EXPECT_NEAR(square_pixel_edge_truth(0.5, 5.0).rer, box_gaussian_edge_truth(0.5).rer, 1e-3);
}

TEST(SynthEdge, PlateausAreExactFarFromTheEdge) {
    EdgeTargetParams p;
    p.angle_deg = 8.0;
    p.edge_x_px = 32;
    p.edge_y_px = 32;
    p.dark_dn = 123;
    p.bright_dn = 4567;
    p.sigma_px = 1.0;
    const Image img = render_edge(p, 64, 64);
    EXPECT_EQ(img.at(0, 32), 123.0f);
    EXPECT_EQ(img.at(63, 32), 4567.0f);
    EXPECT_EQ(img.at(5, 0), 123.0f);
    EXPECT_EQ(img.at(60, 63), 4567.0f);
}

TEST(SynthEdge, InvalidParametersThrow) {
    EdgeTargetParams p;
    p.sigma_px = -1;
    EXPECT_THROW(render_edge(p, 8, 8), Error);
    p.sigma_px = 25;
    EXPECT_THROW(render_edge(p, 8, 8), Error);
    p.sigma_px = 0.5;
    p.noise_sigma_dn = -2;
    EXPECT_THROW(render_edge(p, 8, 8), Error);
    p.noise_sigma_dn = 0;
    p.angle_deg = std::nan("");
    EXPECT_THROW(render_edge(p, 8, 8), Error);
    EXPECT_THROW(box_gaussian_edge_truth(-0.1), Error);
}

TEST(SynthNoise, DeterministicAcrossThreadCountsAndTiles) {
    auto make = [] {
        Image img(300, 400, 100.0f);
        add_gaussian_noise(img.view(), 5.0, 42);
        return img;
    };
    Image all = make();
    Image one;
    {
        tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
        one = make();
    }
    EXPECT_EQ(all.pixels(), one.pixels());
    // A sub-window with its global offset gets the same values.
    Image tile(50, 60, 100.0f);
    add_gaussian_noise(tile.view(), 5.0, 42, 100, 200);
    for (std::int64_t y = 0; y < 60; ++y)
        for (std::int64_t x = 0; x < 50; ++x)
            ASSERT_EQ(tile.at(x, y), all.at(100 + x, 200 + y));
    // Statistics.
    double s = 0, s2 = 0;
    for (const float v : all.pixels()) {
        s += v - 100.0;
        s2 += (v - 100.0) * (v - 100.0);
    }
    const double n = static_cast<double>(all.pixels().size());
    EXPECT_NEAR(s / n, 0.0, 0.05);
    EXPECT_NEAR(std::sqrt(s2 / n), 5.0, 0.05);
    // Another seed differs.
    Image other(300, 400, 100.0f);
    add_gaussian_noise(other.view(), 5.0, 43);
    EXPECT_NE(other.pixels(), all.pixels());
}

TEST(SynthNoise, QuantizeRoundsAndClamps) {
    Image img(5, 1);
    const float v[] = {-3.0f, 0.49f, 0.5f, 254.5f, 300.0f};
    std::copy(std::begin(v), std::end(v), img.data());
    quantize_dn(img.view(), 0.0, 255.0);
    EXPECT_EQ(img.pixels(), (std::vector<float>{0.0f, 0.0f, 1.0f, 255.0f, 255.0f}));
}

TEST(SynthTribar, LayoutWidthsAndMassConservation) {
    TribarParams p;
    p.largest_bar_px = 6.0;
    p.element_count = 8;
    p.background_dn = 10;
    p.bar_dn = 110;
    p.sigma_px = 0.7;
    const auto layout = tribar_layout(p, 320, 200);
    ASSERT_EQ(layout.size(), 16u);
    double area = 0;
    for (std::size_t i = 0; i < layout.size(); ++i) {
        const auto& e = layout[i];
        EXPECT_NEAR(e.bar_width_px, 6.0 * std::pow(2.0, -static_cast<double>(e.index) / 6.0), 1e-12);
        EXPECT_EQ(e.bars_vertical, i % 2 == 0);
        for (const auto& b : e.bars) {
            const double w = e.bars_vertical ? b.x1 - b.x0 : b.y1 - b.y0;
            const double l = e.bars_vertical ? b.y1 - b.y0 : b.x1 - b.x0;
            EXPECT_NEAR(w, e.bar_width_px, 1e-12);
            EXPECT_NEAR(l, 5 * e.bar_width_px, 1e-12);
            area += w * l;
            EXPECT_GE(b.x0, 8.0);
            EXPECT_LE(b.x1, 312.0);
        }
    }
    Image img(320, 200);
    render_tribar(p, layout, img.view());
    // The blur and the pixel box preserve the integral: sum of (v - bg) / contrast = bar area.
    double sum = 0;
    for (const float v : img.pixels())
        sum += (v - 10.0) / 100.0;
    EXPECT_NEAR(sum, area, 1e-4 * area);
    // Centre of the widest vertical bar is nearly full contrast; the gap between bars dips.
    const auto& e0 = layout[0];
    const double cy = (e0.bars[0].y0 + e0.bars[0].y1) / 2;
    const double cx = (e0.bars[1].x0 + e0.bars[1].x1) / 2;
    EXPECT_GT(img.at(static_cast<std::int64_t>(cx), static_cast<std::int64_t>(cy)), 100.0f);
    EXPECT_LT(img.at(static_cast<std::int64_t>(e0.bars[0].x1 + 3.0), static_cast<std::int64_t>(cy)), 30.0f);
    EXPECT_EQ(img.at(0, 0), 10.0f);
}

TEST(SynthTribar, TooSmallImageThrows) {
    TribarParams p;
    EXPECT_THROW(tribar_layout(p, 100, 40), Error);
}

TEST(SynthAirfield, SceneHasTheRealDimensions) {
    AirfieldParams p;
    p.gsd_m = 1.0;
    p.width_px = p.height_px = 512;
    const Scene s = build_airfield_scene(p);
    int aircraft = 0, tanks = 0, tels = 0;
    for (const auto& o : s.objects) {
        if (o.model == "MiG-29") {
            ++aircraft;
            EXPECT_DOUBLE_EQ(o.length_m, 17.32);
            EXPECT_DOUBLE_EQ(o.width_m, 11.36);
        }
        if (o.model == "Il-76") ++aircraft;
        if (o.model == "T-72") {
            ++tanks;
            EXPECT_DOUBLE_EQ(o.length_m, 6.95);
            EXPECT_DOUBLE_EQ(o.width_m, 3.59);
        }
        if (o.category == "tel") {
            ++tels;
            EXPECT_EQ(o.detail_count, 11);
        }
    }
    EXPECT_EQ(aircraft, 8);
    EXPECT_EQ(tanks, 5);
    EXPECT_EQ(tels, 2);
    // Radiance: a tank is darker than the gravel around it; an Il-76 brighter than the apron shadow.
    for (const auto& o : s.objects) {
        if (o.category != "tank" && o.category != "aircraft") continue;
        const float at = scene_radiance(s, p, o.centre_m);
        const float beside = scene_radiance(s, p, {o.centre_m.x, o.centre_m.y + o.length_m / 2 + 12.0});
        EXPECT_GT(std::abs(at - beside), 50.0f) << o.id;
    }
}

TEST(SynthAirfield, RenderIsThreadInvariantAndMatchesRadianceOnFlatAreas) {
    AirfieldParams p;
    p.gsd_m = 2.0;
    p.width_px = 256;
    p.height_px = 200;
    p.noise_sigma_dn = 3.0;
    const Scene s = build_airfield_scene(p);
    Image a(p.width_px, p.height_px), b(p.width_px, p.height_px);
    render_scene(s, p, a.view());
    {
        tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
        render_scene(s, p, b.view());
    }
    EXPECT_EQ(a.pixels(), b.pixels());
    // Middle of the runway's concrete, away from markings: the rendered pixel is close to the
    // radiance there (texture only, small at 2 m).
    AirfieldParams clean = p;
    clean.noise_sigma_dn = 0;
    Image c(p.width_px, p.height_px);
    render_scene(s, clean, c.view());
    const double x = 300.0, y = 105.0 + (300.0 - 256.0) * 0.0349 - 12.0;  // 12 m north of the centre line
    const float r = scene_radiance(s, clean, {x, y});
    EXPECT_NEAR(c.at(static_cast<std::int64_t>(x / 2), static_cast<std::int64_t>(y / 2)), r, 0.12 * r);
    EXPECT_GT(r, 900.0f);
}

TEST(SynthAirfield, InvalidParametersThrow) {
    AirfieldParams p;
    p.gsd_m = 0;
    EXPECT_THROW(build_airfield_scene(p), Error);
    p.gsd_m = 0.25;
    p.sun_elevation_deg = 1;
    EXPECT_THROW(build_airfield_scene(p), Error);
}

}  // namespace
}  // namespace satiq
