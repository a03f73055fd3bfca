// Edge search + slanted-edge analysis and the Immerkaer noise estimate on a synthetic scene
// (random rotated rectangles, Gaussian blur, noise), beside OpenCV's Sobel and Canny as baselines.
// Arguments: image side in pixels, TBB thread limit.
#include <benchmark/benchmark.h>

#include <tbb/global_control.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/noise_estimate.hpp"

namespace {

using namespace satiq;

// Scene: background 300 DN, rectangles of 12..80 px at random angles and levels 100..900 DN,
// blurred with a Gaussian of sigma 0.8 px, noise sigma 4 DN. Built once per size.
const Image& scene(std::int64_t side) {
    static std::map<std::int64_t, std::unique_ptr<Image>> cache;
    auto& slot = cache[side];
    if (slot) return *slot;
    cv::Mat m(static_cast<int>(side), static_cast<int>(side), CV_32F, cv::Scalar(300.0));
    std::mt19937_64 rng(12345);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const auto count = static_cast<std::int64_t>(static_cast<double>(side * side) / 4000.0);
    for (std::int64_t i = 0; i < count; ++i) {
        const cv::RotatedRect r(cv::Point2f(static_cast<float>(u(rng) * static_cast<double>(side)),
                                            static_cast<float>(u(rng) * static_cast<double>(side))),
                                cv::Size2f(static_cast<float>(12 + 68 * u(rng)), static_cast<float>(12 + 68 * u(rng))),
                                static_cast<float>(360.0 * u(rng)));
        cv::Point2f pts[4];
        r.points(pts);
        cv::Point ipts[4];
        for (int k = 0; k < 4; ++k)
            ipts[k] =
                cv::Point(static_cast<int>(std::lround(pts[k].x * 16)), static_cast<int>(std::lround(pts[k].y * 16)));
        cv::fillConvexPoly(m, ipts, 4, cv::Scalar(100.0 + 800.0 * u(rng)), cv::LINE_AA, 4);
    }
    cv::GaussianBlur(m, m, cv::Size(0, 0), 0.8);
    cv::Mat noise(m.size(), CV_32F);
    cv::theRNG().state = 7;
    cv::randn(noise, 0.0, 4.0);
    m += noise;
    slot = std::make_unique<Image>(side, side);
    for (std::int64_t y = 0; y < side; ++y)
        std::copy(m.ptr<float>(static_cast<int>(y)), m.ptr<float>(static_cast<int>(y)) + side, slot->data() + y * side);
    return *slot;
}

void set_counters(benchmark::State& state, std::int64_t side) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * side * side);
}

void BM_estimate_noise(benchmark::State& state) {
    const std::int64_t side = state.range(0);
    const Image& img = scene(side);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(1)));
    for (auto _ : state)
        benchmark::DoNotOptimize(estimate_noise(img.view()).sigma_dn);
    set_counters(state, side);
}

void BM_find_edges(benchmark::State& state) {
    const std::int64_t side = state.range(0);
    const Image& img = scene(side);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(1)));
    EdgeFindParams fp;
    fp.noise_sigma_dn = 4.0;
    std::size_t n = 0;
    for (auto _ : state)
        n = find_edges(img.view(), {}, fp).size();
    state.counters["segments"] = static_cast<double>(n);
    set_counters(state, side);
}

// The whole edge part of `assess`: noise estimate, search, analysis of every candidate, aggregate.
void BM_analyse_edges(benchmark::State& state) {
    const std::int64_t side = state.range(0);
    const Image& img = scene(side);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(1)));
    EdgeAnalysis a;
    for (auto _ : state) {
        const NoiseEstimate ne = estimate_noise(img.view());
        EdgeFindParams fp;
        fp.noise_sigma_dn = ne.sigma_dn;
        a = analyse_edges(img.view(), {}, fp, EdgeSfrParams{});
    }
    state.counters["candidates"] = static_cast<double>(a.candidates);
    state.counters["usable"] = static_cast<double>(a.aggregate.usable_count);
    state.counters["rer_gm"] = a.aggregate.rer_gm;
    set_counters(state, side);
}

void BM_cv_sobel_baseline(benchmark::State& state) {
    const std::int64_t side = state.range(0);
    const Image& img = scene(side);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(1)));
    cv::setNumThreads(static_cast<int>(state.range(1)));
    const cv::Mat m(static_cast<int>(side), static_cast<int>(side), CV_32F, const_cast<float*>(img.data()));
    cv::Mat gx, gy, mag;
    for (auto _ : state) {
        cv::Sobel(m, gx, CV_32F, 1, 0);
        cv::Sobel(m, gy, CV_32F, 0, 1);
        cv::magnitude(gx, gy, mag);
        benchmark::DoNotOptimize(mag.data);
    }
    set_counters(state, side);
}

void BM_cv_canny_baseline(benchmark::State& state) {
    const std::int64_t side = state.range(0);
    const Image& img = scene(side);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(1)));
    cv::setNumThreads(static_cast<int>(state.range(1)));
    const cv::Mat m(static_cast<int>(side), static_cast<int>(side), CV_32F, const_cast<float*>(img.data()));
    cv::Mat m8, edges;
    m.convertTo(m8, CV_8U, 255.0 / 1000.0);
    for (auto _ : state) {
        cv::Canny(m8, edges, 20, 60);
        benchmark::DoNotOptimize(edges.data);
    }
    set_counters(state, side);
}

// edge_robustness on N synthetic usable edges scattered over an 8192^2 image (the leave-one-out
// aggregations are O(N^2 log N)); arguments: N, TBB thread limit.
void BM_edge_robustness(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(1)));
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<EdgeMeasurement> edges(static_cast<std::size_t>(n));
    for (auto& e : edges) {
        e.verdict = EdgeVerdict::ok;
        e.axis = u(rng) < 0.5 ? EdgeAxis::x : EdgeAxis::y;
        e.rer = 0.4 + 0.2 * u(rng);
        e.rer_standard_error = 0.01 + 0.05 * u(rng);
        const double x = 8192 * u(rng), y = 8192 * u(rng), a = 3.14159 * u(rng);
        e.segment = {x, y, x + 30 * std::cos(a), y + 30 * std::sin(a), 0};
    }
    for (auto _ : state)
        benchmark::DoNotOptimize(edge_robustness(edges, 8192, 8192));
}
BENCHMARK(BM_edge_robustness)
    ->Args({200, 2})
    ->Args({2000, 1})
    ->Args({2000, 2})
    ->Args({4000, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void sizes(benchmark::internal::Benchmark* b) {
    for (std::int64_t side : {2048, 8192})
        for (std::int64_t threads : {1, 2})
            b->Args({side, threads});
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_estimate_noise)->Apply(sizes);
BENCHMARK(BM_find_edges)->Apply(sizes);
BENCHMARK(BM_analyse_edges)->Apply(sizes);
BENCHMARK(BM_cv_sobel_baseline)->Apply(sizes);
BENCHMARK(BM_cv_canny_baseline)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
