// edge_robustness: leave-one-edge-out and leave-one-object-out influence on the aggregate RER,
// and the spatial halves. The expected values come from aggregate_edges on hand-built subsets,
// or from arithmetic on the inputs, never from edge_robustness itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <vector>

#include <tbb/global_control.h>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"

namespace {

using namespace satiq;

// A usable edge measurement along `axis` with the given RER, a vertical (axis x) or
// horizontal (axis y) 30 px segment centred on (cx, cy).
EdgeMeasurement edge(EdgeAxis axis, double rer, double cx, double cy, double se = 0.02) {
    EdgeMeasurement m;
    m.verdict = EdgeVerdict::ok;
    m.axis = axis;
    m.rer = rer;
    m.rer_standard_error = se;
    if (axis == EdgeAxis::x)
        m.segment = {cx, cy - 15, cx, cy + 15, 0};
    else
        m.segment = {cx - 15, cy, cx + 15, cy, 0};
    return m;
}

std::vector<EdgeMeasurement> without(const std::vector<EdgeMeasurement>& v, std::vector<std::size_t> drop) {
    std::vector<EdgeMeasurement> out;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (std::find(drop.begin(), drop.end(), i) == drop.end()) out.push_back(v[i]);
    return out;
}

// Twelve well separated edges (100 px apart) with slightly different RER on both axes, over a
// 1000 x 1000 image, and one cluster of three crisp edges close together at (850, 150).
std::vector<EdgeMeasurement> scene() {
    std::vector<EdgeMeasurement> v;
    for (int i = 0; i < 6; ++i) {
        v.push_back(edge(EdgeAxis::x, 0.45 + 0.01 * i, 100 + 120 * i, 300 + 100 * (i % 3)));
        v.push_back(edge(EdgeAxis::y, 0.48 + 0.01 * i, 100 + 120 * i, 700 + 80 * (i % 3)));
    }
    v.push_back(edge(EdgeAxis::x, 0.80, 850, 150));
    v.push_back(edge(EdgeAxis::x, 0.82, 862, 150));  // 12 px from the first: same object
    v.push_back(edge(EdgeAxis::y, 0.85, 870, 180));  // touches the second's segment end region
    return v;
}

TEST(EdgeRobustness, ObjectsAreGroupedByGapAndTheWorstOneIsLocated) {
    const auto v = scene();
    const EdgeRobustness r = edge_robustness(v, 1000, 1000, 32.0);
    EXPECT_EQ(r.objects, 13);  // 12 lone edges + 1 cluster of three
    EXPECT_EQ(r.largest_object_edges, 3);
    const double full = aggregate_edges(v).rer_gm;
    const double drop_cluster = aggregate_edges(without(v, {12, 13, 14})).rer_gm;
    EXPECT_DOUBLE_EQ(r.max_object_change, std::abs(drop_cluster - full));
    EXPECT_EQ(r.max_object_edges, 3);
    EXPECT_NEAR(r.max_object_x_px, (850 + 862 + 870) / 3.0, 1e-9);
    EXPECT_NEAR(r.max_object_y_px, (150 + 150 + 180) / 3.0, 1e-9);
    // The largest single-edge change, by brute force.
    double worst = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
        worst = std::max(worst, std::abs(aggregate_edges(without(v, {i})).rer_gm - full));
    EXPECT_DOUBLE_EQ(r.max_edge_change, worst);
}

TEST(EdgeRobustness, GapDecidesWhatIsOneObject) {
    std::vector<EdgeMeasurement> v{edge(EdgeAxis::x, 0.5, 100, 100), edge(EdgeAxis::x, 0.6, 130, 100)};
    EXPECT_EQ(edge_robustness(v, 500, 500, 29.0).objects, 2);  // parallel segments 30 px apart
    EXPECT_EQ(edge_robustness(v, 500, 500, 30.0).objects, 1);
    // Crossing segments are one object at any gap.
    std::vector<EdgeMeasurement> c{edge(EdgeAxis::x, 0.5, 100, 100), edge(EdgeAxis::y, 0.6, 100, 100)};
    EXPECT_EQ(edge_robustness(c, 500, 500, 0.0).objects, 1);
    EXPECT_THROW((void)edge_robustness(v, 500, 500, -1.0), Error);
    EXPECT_THROW((void)edge_robustness(v, 500, 500, std::nan("")), Error);
}

TEST(EdgeRobustness, OneEdgeCarriesTheWholeResult) {
    std::vector<EdgeMeasurement> v{edge(EdgeAxis::x, 0.55, 100, 100)};
    EdgeMeasurement rejected = edge(EdgeAxis::y, 0.9, 300, 300);
    rejected.verdict = EdgeVerdict::noisy_plateau;
    v.push_back(rejected);
    const EdgeRobustness r = edge_robustness(v, 500, 500);
    EXPECT_EQ(r.objects, 1);
    EXPECT_DOUBLE_EQ(r.max_edge_change, 0.55);
    EXPECT_DOUBLE_EQ(r.max_object_change, 0.55);
    EXPECT_TRUE(r.top_bottom.first.rer_gm > 0);
    EXPECT_FALSE(r.top_bottom.compared);  // the bottom half has no usable edge
    EXPECT_EQ(r.top_bottom.difference, 0.0);
}

TEST(EdgeRobustness, NoUsableEdges) {
    std::vector<EdgeMeasurement> v{edge(EdgeAxis::x, 0.55, 100, 100)};
    v[0].verdict = EdgeVerdict::low_contrast;
    const EdgeRobustness r = edge_robustness(v, 500, 500);
    EXPECT_EQ(r.objects, 0);
    EXPECT_EQ(r.max_edge_change, 0.0);
    EXPECT_EQ(r.max_object_edges, 0);
    EXPECT_FALSE(r.top_bottom.compared);
    EXPECT_FALSE(r.left_right.compared);
    const EdgeRobustness e = edge_robustness({}, 0, 0);
    EXPECT_EQ(e.objects, 0);
}

TEST(EdgeRobustness, HalvesSplitByMidpoint) {
    std::vector<EdgeMeasurement> v;
    // Top half (y < 200): x 0.6, y 0.6; bottom: x 0.4, y 0.4. Left/right mixed evenly.
    for (int i = 0; i < 4; ++i) {
        v.push_back(edge(EdgeAxis::x, 0.6, 50 + 100 * i, 60));
        v.push_back(edge(EdgeAxis::y, 0.6, 50 + 100 * i, 140));
        v.push_back(edge(EdgeAxis::x, 0.4, 50 + 100 * i, 260));
        v.push_back(edge(EdgeAxis::y, 0.4, 50 + 100 * i, 340));
    }
    const EdgeRobustness r = edge_robustness(v, 400, 400);
    ASSERT_TRUE(r.top_bottom.compared);
    EXPECT_NEAR(r.top_bottom.first.rer_gm, 0.6, 1e-12);
    EXPECT_NEAR(r.top_bottom.second.rer_gm, 0.4, 1e-12);
    EXPECT_NEAR(r.top_bottom.difference, -0.2, 1e-12);
    EXPECT_EQ(r.top_bottom.first.x_count, 4);
    EXPECT_EQ(r.top_bottom.first.y_count, 4);
    // Delta-method standard error of each half's geometric mean, and of the difference.
    const double se_axis = std::sqrt(std::numbers::pi / 2.0) / std::sqrt(4.0 / (0.02 * 0.02));
    const double se_top = 0.5 * 0.6 * std::sqrt(2.0) * se_axis / 0.6;
    const double se_bottom = 0.5 * 0.4 * std::sqrt(2.0) * se_axis / 0.4;
    EXPECT_NEAR(r.top_bottom.first.standard_error, se_top, 1e-12);
    EXPECT_NEAR(r.top_bottom.standard_error, std::hypot(se_top, se_bottom), 1e-12);
    ASSERT_TRUE(r.left_right.compared);
    EXPECT_NEAR(r.left_right.difference, 0.0, 1e-12);
    // 16 separate objects. No random deal differs more than the clean top/bottom split (0.2, the
    // largest possible), and every deal differs at least as much as the left/right split (0).
    // (With two values only and 4 edges per axis and group, many deals also reach 0.2: a median of
    // {0.4, 0.6, 0.6, 0.6} is 0.6. So p is not small here and is not checked; the calibration
    // test below has spread.)
    EXPECT_EQ(r.objects, 16);
    EXPECT_EQ(r.top_bottom.random_splits, 999);
    EXPECT_LT(r.top_bottom.random_median_abs_difference, 0.2);
    EXPECT_LE(r.top_bottom.random_p90_abs_difference, 0.2 + 1e-12);
    EXPECT_DOUBLE_EQ(r.left_right.p_value, 1.0);
}

// Random deals of whole objects: their sizes, the p-value's definition and its calibration.
TEST(EdgeRobustness, ChanceYardstickOfTheHalves) {
    // Two objects, one per half: every deal puts one in each group, so every deal reproduces the
    // halves' |difference| and p = 1.
    const std::vector<EdgeMeasurement> two{edge(EdgeAxis::x, 0.5, 100, 100), edge(EdgeAxis::x, 0.6, 100, 400)};
    const EdgeRobustness r2 = edge_robustness(two, 500, 500);
    ASSERT_TRUE(r2.top_bottom.compared);
    EXPECT_EQ(r2.top_bottom.random_splits, 999);
    EXPECT_NEAR(r2.top_bottom.random_median_abs_difference, 0.1, 1e-12);
    EXPECT_NEAR(r2.top_bottom.random_p90_abs_difference, 0.1, 1e-12);
    EXPECT_DOUBLE_EQ(r2.top_bottom.p_value, 1.0);
    // The deal count is a parameter: 0 leaves the yardstick out, a negative count is an error.
    const EdgeRobustness r0 = edge_robustness(two, 500, 500, 32.0, 0);
    EXPECT_EQ(r0.top_bottom.random_splits, 0);
    EXPECT_DOUBLE_EQ(r0.top_bottom.p_value, 1.0);
    EXPECT_THROW((void)edge_robustness(two, 500, 500, 32.0, -1), Error);
    // One object straddling the middle (two crossing edges, one midpoint per half): no deal can
    // give both groups an edge.
    const std::vector<EdgeMeasurement> one{edge(EdgeAxis::x, 0.5, 250, 240), edge(EdgeAxis::y, 0.6, 250, 255)};
    const EdgeRobustness r1 = edge_robustness(one, 500, 500);
    EXPECT_EQ(r1.objects, 1);
    ASSERT_TRUE(r1.top_bottom.compared);
    EXPECT_EQ(r1.top_bottom.random_splits, 0);

    // Calibration: scenes without any spatial structure (RER drawn independently of position)
    // give p-values spread over (0, 1]: few below 0.05. Scenes whose top half is 0.1 crisper give
    // p-values near 1 / (1 + deals).
    std::uint64_t state = 12345;
    auto uniform = [&] {  // LCG (Knuth MMIX constants), top 53 bits
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(state >> 11) / 9007199254740992.0;
    };
    auto scene_of = [&](double top_shift) {
        std::vector<EdgeMeasurement> v;
        for (int i = 0; i < 48; ++i) {  // 48 lone edges on a 6 x 8 grid, 120 px apart
            const double cx = 60 + 120 * (i % 6), cy = 60 + 120 * (i / 6);
            const double rer = 0.45 + 0.1 * (uniform() - 0.5) * 2.0 + (cy < 480 ? top_shift : 0.0);
            v.push_back(edge(i % 2 ? EdgeAxis::x : EdgeAxis::y, rer, cx, cy, 0.01));
        }
        return v;
    };
    int below_005 = 0, below_05 = 0;
    const int scenes = 60;
    for (int k = 0; k < scenes; ++k) {
        const EdgeRobustness r = edge_robustness(scene_of(0.0), 720, 960, 32.0, 199);
        ASSERT_EQ(r.objects, 48);
        ASSERT_GT(r.top_bottom.random_splits, 190);
        below_005 += r.top_bottom.p_value < 0.05;
        below_05 += r.top_bottom.p_value < 0.5;
    }
    std::printf("%d scenes without spatial structure: %d p-values below 0.05, %d below 0.5\n", scenes, below_005,
                below_05);
    EXPECT_LE(below_005, 8);  // 3 expected (binomial sd 1.7)
    EXPECT_GE(below_05, 18);  // 30 expected (sd 3.9)
    EXPECT_LE(below_05, 42);
    for (int k = 0; k < 5; ++k) {
        const EdgeRobustness r = edge_robustness(scene_of(0.1), 720, 960, 32.0, 199);
        EXPECT_LT(r.top_bottom.p_value, 0.01);
        EXPECT_LT(r.top_bottom.random_p90_abs_difference, std::abs(r.top_bottom.difference));
    }
}

TEST(EdgeRobustness, SameResultAtOneThreadAndAll) {
    std::vector<EdgeMeasurement> v;
    for (int i = 0; i < 300; ++i)
        v.push_back(edge(i % 2 ? EdgeAxis::x : EdgeAxis::y, 0.4 + 0.001 * ((i * 37) % 200), 20 + (i * 53) % 960,
                         20 + (i * 97) % 960, 0.01 + 0.0001 * (i % 50)));
    EdgeRobustness one;
    {
        tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
        one = edge_robustness(v, 1000, 1000);
    }
    const EdgeRobustness all = edge_robustness(v, 1000, 1000);
    EXPECT_EQ(one.objects, all.objects);
    EXPECT_EQ(one.max_edge_change, all.max_edge_change);
    EXPECT_EQ(one.max_object_change, all.max_object_change);
    EXPECT_EQ(one.max_object_x_px, all.max_object_x_px);
    EXPECT_EQ(one.top_bottom.difference, all.top_bottom.difference);
    EXPECT_EQ(one.top_bottom.random_splits, all.top_bottom.random_splits);
    EXPECT_EQ(one.top_bottom.random_median_abs_difference, all.top_bottom.random_median_abs_difference);
    EXPECT_EQ(one.top_bottom.random_p90_abs_difference, all.top_bottom.random_p90_abs_difference);
    EXPECT_EQ(one.top_bottom.p_value, all.top_bottom.p_value);
    EXPECT_EQ(one.left_right.p_value, all.left_right.p_value);
}

}  // namespace
