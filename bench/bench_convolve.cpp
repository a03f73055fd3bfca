// Convolution kernels beside their OpenCV baselines, 8192^2 and 2048^2 float32, all threads.
// items processed = output pixels; read ratios from one run (same binary, same load).
#include <benchmark/benchmark.h>

#include <ctime>
#include <random>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "satiq/kernels/convolve.hpp"
#include "satiq/kernels/psf.hpp"

namespace {

using namespace satiq;

Image& input_image(std::int64_t n) {
    static Image big;
    static Image small;
    Image& img = n >= 8192 ? big : small;
    if (img.width() != n) {
        img = Image(n, n);
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> d(0.0f, 1000.0f);
        for (auto& v : img.pixels())
            v = d(rng);
    }
    return img;
}

cv::Mat as_mat(Image& img) {
    return cv::Mat(static_cast<int>(img.height()), static_cast<int>(img.width()), CV_32F, img.data());
}

double process_cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The machine is shared: besides wall time (items_per_second) report the CPU time of the whole
// process per pixel (all threads), which load from other processes barely changes, and the
// parallelism actually used (process CPU / main-thread CPU is read from the CPU column).
struct CpuMeter {
    double start = process_cpu_s();
};

void finish(benchmark::State& state, std::int64_t n, const CpuMeter& meter) {
    const double px = static_cast<double>(state.iterations()) * static_cast<double>(n) * static_cast<double>(n);
    state.SetItemsProcessed(state.iterations() * n * n);
    state.counters["cpu_ns_per_px"] = (process_cpu_s() - meter.start) * 1e9 / px;
}

// ---- separable Gaussian sigma 2: 13 taps (3 sigma) and 17 taps (OpenCV's 8 sigma + 1) ----
void BM_satiq_gaussian(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const auto rule = state.range(1) == 13 ? GaussianRadiusRule::ThreeSigma : GaussianRadiusRule::FourSigma;
    Image& in = input_image(n);
    Image out(n, n);
    const SeparableKernel k = gaussian_kernel(2.0, 2.0, rule);
    const CpuMeter meter;
    for (auto _ : state)
        convolve_separable(in.view(), out.view(), k);
    finish(state, n, meter);
}

void BM_opencv_gaussian(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const int taps = static_cast<int>(state.range(1));
    Image& in = input_image(n);
    Image out(n, n);
    cv::Mat src = as_mat(in);
    cv::Mat dst = as_mat(out);
    const CpuMeter meter;
    for (auto _ : state)
        cv::GaussianBlur(src, dst, cv::Size(taps, taps), 2.0, 2.0, cv::BORDER_REFLECT_101);
    finish(state, n, meter);
}

// ---- 31x31 non-separable PSF (obscured aperture, Q 1.5) ----
const Kernel2d& psf31() {
    static const Kernel2d k = airy_psf({1.5, 0.3, 15, 5});
    return k;
}

const Kernel2d& random31() {
    static const Kernel2d k = [] {
        Kernel2d r{31, 31, std::vector<float>(31 * 31)};
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> d(0.0f, 1.0f);
        for (auto& v : r.taps)
            v = d(rng) / (31.0f * 31.0f * 0.5f);
        return r;
    }();
    return k;
}

void run_plan(benchmark::State& state, const Kernel2d& kernel, Convolve2dMethod m) {
    const std::int64_t n = state.range(0);
    Image& in = input_image(n);
    Image out(n, n);
    Convolve2dParams p;
    p.method = m;
    const Convolve2dPlan plan(kernel, p);
    const CpuMeter meter;
    for (auto _ : state)
        plan.apply(in.view(), out.view());
    state.counters["rank"] = static_cast<double>(plan.rank());
    state.counters["fft_n"] = static_cast<double>(plan.fft_size_px());
    static const char* const names[] = {"auto", "direct", "low_rank", "fft"};
    state.SetLabel(std::string(names[static_cast<int>(plan.method())]) + (plan.folded() ? " folded" : "") +
                   " fft_backend=" + Convolve2dPlan::fft_backend());
    finish(state, n, meter);
}

void BM_satiq_psf31_auto(benchmark::State& s) {
    run_plan(s, psf31(), Convolve2dMethod::Auto);
}
void BM_satiq_psf31_lowrank(benchmark::State& s) {
    run_plan(s, psf31(), Convolve2dMethod::LowRank);
}
void BM_satiq_psf31_fft(benchmark::State& s) {
    run_plan(s, psf31(), Convolve2dMethod::Fft);
}
void BM_satiq_psf31_direct(benchmark::State& s) {
    run_plan(s, psf31(), Convolve2dMethod::Direct);
}
void BM_satiq_random31_auto(benchmark::State& s) {
    run_plan(s, random31(), Convolve2dMethod::Auto);
}

void run_filter2d(benchmark::State& state, const Kernel2d& kernel) {
    const std::int64_t n = state.range(0);
    Image& in = input_image(n);
    Image out(n, n);
    cv::Mat src = as_mat(in);
    cv::Mat dst = as_mat(out);
    // filter2D correlates: flip the kernel for a convolution.
    cv::Mat k(static_cast<int>(kernel.height), static_cast<int>(kernel.width), CV_32F,
              const_cast<float*>(kernel.taps.data()));
    cv::Mat kf;
    cv::flip(k, kf, -1);
    const CpuMeter meter;
    for (auto _ : state)
        cv::filter2D(src, dst, CV_32F, kf, cv::Point(-1, -1), 0.0, cv::BORDER_REFLECT_101);
    finish(state, n, meter);
}

void BM_opencv_filter2d_psf31(benchmark::State& s) {
    run_filter2d(s, psf31());
}

// ---- sharpening (3x3 and 5x5 MTFC) ----
void BM_satiq_sharpen(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    Image& in = input_image(n);
    Image out(n, n);
    SharpenParams p;
    p.blur = state.range(1) == 3 ? SharpenBlur::Binomial3x3 : SharpenBlur::Binomial5x5;
    const CpuMeter meter;
    for (auto _ : state)
        benchmark::DoNotOptimize(sharpen(in.view(), out.view(), p));
    finish(state, n, meter);
}

void BM_opencv_filter2d_sharpen(benchmark::State& state) {
    SharpenParams p;
    p.blur = state.range(1) == 3 ? SharpenBlur::Binomial3x3 : SharpenBlur::Binomial5x5;
    run_filter2d(state, sharpen_kernel(p));
}

void gaussian_args(benchmark::internal::Benchmark* b) {
    for (std::int64_t n : {2048, 8192})
        for (std::int64_t taps : {13, 17})
            b->Args({n, taps});
}
void size_args(benchmark::internal::Benchmark* b) {
    for (std::int64_t n : {2048, 8192})
        b->Args({n});
}
void sharpen_args(benchmark::internal::Benchmark* b) {
    for (std::int64_t n : {2048, 8192})
        for (std::int64_t k : {3, 5})
            b->Args({n, k});
}

}  // namespace

BENCHMARK(BM_satiq_gaussian)->Apply(gaussian_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_opencv_gaussian)->Apply(gaussian_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_satiq_psf31_auto)->Apply(size_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_satiq_psf31_lowrank)->Apply(size_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_satiq_psf31_fft)->Apply(size_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_satiq_psf31_direct)->Arg(2048)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_satiq_random31_auto)->Apply(size_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_opencv_filter2d_psf31)->Apply(size_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_satiq_sharpen)->Apply(sharpen_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_opencv_filter2d_sharpen)->Apply(sharpen_args)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
