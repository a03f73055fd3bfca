// Area reduction and noise kernels beside their OpenCV baselines (same binary, same sizes).
// items = input pixels; UseRealTime because the kernels are TBB-parallel; the CPU column is the
// process CPU time of all threads (MeasureProcessCPUTime), which stays meaningful when other
// processes load the machine: pixels / CPU time is the per-core throughput.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "satiq/kernels/effective_resolution.hpp"
#include "satiq/kernels/noise.hpp"
#include "satiq/kernels/noise_estimate.hpp"
#include "satiq/kernels/noise_pca.hpp"
#include "satiq/kernels/noise_spectral.hpp"
#include "satiq/kernels/resample.hpp"

namespace {

using satiq::Image;

Image random_image(std::int64_t n, float lo, float hi) {
    Image img(n, n);
    std::mt19937 gen(1);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (auto& v : img.pixels())
        v = dist(gen);
    return img;
}

constexpr double kRatio = 3.3;

satiq::ResampleAreaParams ratio_params() {
    satiq::ResampleAreaParams p;
    p.in_px_per_out_px_x = kRatio;
    p.in_px_per_out_px_y = kRatio;
    return p;
}

void BM_resample_area(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const Image in = random_image(n, 0.0f, 4095.0f);
    const satiq::ResampleAreaParams p = ratio_params();
    const satiq::ResampleWindow size = satiq::resample_area_output_size(n, n, p);
    Image out(size.width(), size.height());
    satiq::ResampleAreaInput src;
    src.pixels = in.view();
    satiq::ResampleAreaOutput dst;
    dst.pixels = out.view();
    for (auto _ : state) {
        satiq::resample_area(src, dst, p);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n * n);
}

void BM_resample_area_masked(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const Image in = random_image(n, 0.0f, 4095.0f);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(n * n), 1);
    for (std::size_t i = 0; i < mask.size(); i += 97)
        mask[i] = 0;
    const satiq::ResampleAreaParams p = ratio_params();
    const satiq::ResampleWindow size = satiq::resample_area_output_size(n, n, p);
    Image out(size.width(), size.height()), cov(size.width(), size.height());
    std::vector<std::uint8_t> out_mask(static_cast<std::size_t>(size.width() * size.height()));
    satiq::ResampleAreaInput src;
    src.pixels = in.view();
    src.mask = satiq::ConstImageView<std::uint8_t>(mask.data(), n, n);
    satiq::ResampleAreaOutput dst;
    dst.pixels = out.view();
    dst.mask = satiq::ImageView<std::uint8_t>(out_mask.data(), size.width(), size.height());
    dst.coverage = cov.view();
    for (auto _ : state) {
        satiq::resample_area(src, dst, p);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n * n);
}

void BM_cv_resize_inter_area(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    Image in = random_image(n, 0.0f, 4095.0f);
    const satiq::ResampleWindow size = satiq::resample_area_output_size(n, n, ratio_params());
    cv::Mat src(static_cast<int>(n), static_cast<int>(n), CV_32F, in.data());
    cv::Mat dst(static_cast<int>(size.height()), static_cast<int>(size.width()), CV_32F);
    for (auto _ : state) {
        cv::resize(src, dst, dst.size(), 0, 0, cv::INTER_AREA);
        benchmark::DoNotOptimize(dst.data);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n * n);
}

// Shot noise in the Gaussian regime (1000 e-) + read noise, 12-bit quantization.
void BM_sensor_noise(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const Image in = random_image(n, 800.0f, 3000.0f);
    Image out(n, n);
    satiq::SensorNoiseParams p;
    p.read_noise_e = 8.0;
    p.gain_dn_per_e = 1.0;
    p.bits = 12;
    p.quantize = state.range(1) != 0;
    for (auto _ : state) {
        satiq::add_sensor_noise(in.view(), out.view(), 0, 0, p);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n * n);
}

// Dark scene (3..45 e-): every pixel takes the exact Poisson path (worst case).
void BM_sensor_noise_exact_poisson(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const Image in = random_image(n, 3.0f, 45.0f);
    Image out(n, n);
    satiq::SensorNoiseParams p;
    p.read_noise_e = 3.0;
    for (auto _ : state) {
        satiq::add_sensor_noise(in.view(), out.view(), 0, 0, p);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n * n);
}

void BM_gaussian_noise(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const Image in = random_image(n, 0.0f, 4095.0f);
    Image out(n, n);
    satiq::GaussianNoiseParams p;
    p.sigma_dn = 5.0;
    for (auto _ : state) {
        satiq::add_gaussian_noise(in.view(), out.view(), 0, 0, p);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n * n);
}

void BM_cv_randn(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    cv::Mat buf(static_cast<int>(n), static_cast<int>(n), CV_32F, cv::Scalar(0));
    for (auto _ : state) {
        cv::randn(buf, 0.0, 5.0);
        benchmark::DoNotOptimize(buf.data);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n * n);
}

// A textured 8-bit-like scene with white noise sigma 5 (the noise estimators' input): random
// smooth blobs (an OpenCV blur of uniform noise) plus noise.
Image textured_image(std::int64_t n, int interpolation_factor) {
    const std::int64_t m = n / interpolation_factor;
    cv::Mat src(static_cast<int>(m), static_cast<int>(m), CV_32F);
    cv::randu(src, 0.0, 1000.0);
    cv::GaussianBlur(src, src, cv::Size(0, 0), 3.0);
    cv::Mat noise(src.size(), CV_32F);
    cv::randn(noise, 0.0, 5.0);
    src += noise;
    cv::Mat up = src;
    if (interpolation_factor > 1)
        cv::resize(src, up, cv::Size(), interpolation_factor, interpolation_factor, cv::INTER_CUBIC);
    Image img(up.cols, up.rows);
    for (int y = 0; y < up.rows; ++y)
        for (int x = 0; x < up.cols; ++x)
            img.at(x, y) = std::round(up.at<float>(y, x));
    return img;
}

// The three noise estimators assess runs (SNR: PCA, capped by the spectral corner; edge
// thresholds: Immerkaer), same image.
void BM_noise_pca(benchmark::State& state) {
    const Image img = textured_image(state.range(0), 1);
    satiq::NoisePcaParams p;
    p.max_patches = 60000;  // as assess
    for (auto _ : state)
        benchmark::DoNotOptimize(satiq::estimate_noise_pca(img.view(), {}, p).sigma_dn);
    state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(0));
}
void BM_noise_immerkaer(benchmark::State& state) {
    const Image img = textured_image(state.range(0), 1);
    for (auto _ : state)
        benchmark::DoNotOptimize(satiq::estimate_noise(img.view()).sigma_dn);
    state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(0));
}
void BM_noise_spectral(benchmark::State& state) {
    const Image img = textured_image(state.range(0), 1);
    for (auto _ : state)
        benchmark::DoNotOptimize(satiq::estimate_noise_spectral(img.view()).sigma_dn);
    state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(0));
}
// Effective-resolution detection on a cubic-upsampled image (factor: second argument; 1 = an
// original, where every interpolation model is fitted and rejected).
void BM_estimate_sampling(benchmark::State& state) {
    const Image img = textured_image(state.range(0), static_cast<int>(state.range(1)));
    for (auto _ : state)
        benchmark::DoNotOptimize(satiq::estimate_sampling(img.view()).x.factor);
    state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(0));
}

}  // namespace

// ->Apply(common): UseRealTime, process CPU time, milliseconds.
static void common(benchmark::internal::Benchmark* b) {
    b->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_resample_area)->Arg(2048)->Arg(8192)->Apply(common);
BENCHMARK(BM_resample_area_masked)->Arg(2048)->Arg(8192)->Apply(common);
BENCHMARK(BM_cv_resize_inter_area)->Arg(2048)->Arg(8192)->Apply(common);
BENCHMARK(BM_sensor_noise)->Args({2048, 1})->Args({8192, 1})->Args({8192, 0})->Apply(common);
BENCHMARK(BM_sensor_noise_exact_poisson)->Arg(2048)->Apply(common);
BENCHMARK(BM_gaussian_noise)->Arg(2048)->Arg(8192)->Apply(common);
BENCHMARK(BM_cv_randn)->Arg(2048)->Arg(8192)->Apply(common);

// 1024: the batch benchmark's scene size (bench_batch.sh); 4096: a full scene.
BENCHMARK(BM_noise_pca)->Arg(1024)->Arg(4096)->Apply(common);
BENCHMARK(BM_noise_immerkaer)->Arg(1024)->Arg(4096)->Apply(common);
BENCHMARK(BM_noise_spectral)->Arg(1024)->Arg(4096)->Apply(common);
BENCHMARK(BM_estimate_sampling)->Args({1024, 1})->Args({1024, 2})->Args({4096, 2})->Apply(common);

BENCHMARK_MAIN();
