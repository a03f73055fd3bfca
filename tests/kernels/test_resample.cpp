// Tests of the area-integrating reduction (kernels/resample.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <tbb/global_control.h>
#include <opencv2/imgproc.hpp>

#include "satiq/kernels/resample.hpp"

namespace satiq {
namespace {

Image random_image(std::int64_t w, std::int64_t h, std::uint32_t seed, float lo = 0.0f, float hi = 1.0f) {
    Image img(w, h);
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (auto& v : img.pixels())
        v = dist(gen);
    return img;
}

std::vector<std::uint8_t> random_mask(std::int64_t w, std::int64_t h, std::uint32_t seed, double valid_fraction) {
    std::vector<std::uint8_t> m(static_cast<std::size_t>(w * h));
    std::mt19937 gen(seed);
    std::bernoulli_distribution dist(valid_fraction);
    for (auto& v : m)
        v = dist(gen) ? 1 : 0;
    return m;
}

struct Result {
    Image pixels;
    std::vector<std::uint8_t> mask;
    Image coverage;
};

// Runs `fn` (resample_area or the reference) on the whole input for an output window.
template <class Fn>
Result run(Fn fn, const Image& in, const std::vector<std::uint8_t>* mask, ResampleWindow win,
           const ResampleAreaParams& p) {
    Result r{Image(win.width(), win.height()),
             std::vector<std::uint8_t>(static_cast<std::size_t>(win.width() * win.height())),
             Image(win.width(), win.height())};
    ResampleAreaInput src;
    src.pixels = in.view();
    if (mask) src.mask = ConstImageView<std::uint8_t>(mask->data(), in.width(), in.height());
    ResampleAreaOutput dst;
    dst.pixels = r.pixels.view();
    dst.mask = ImageView<std::uint8_t>(r.mask.data(), win.width(), win.height());
    dst.coverage = r.coverage.view();
    dst.x0 = win.x0;
    dst.y0 = win.y0;
    fn(src, dst, p);
    return r;
}

Result run_fast(const Image& in, const std::vector<std::uint8_t>* mask, ResampleWindow win,
                const ResampleAreaParams& p) {
    return run([](auto& a, auto& b, auto& c) { resample_area(a, b, c); }, in, mask, win, p);
}
Result run_ref(const Image& in, const std::vector<std::uint8_t>* mask, ResampleWindow win,
               const ResampleAreaParams& p) {
    return run([](auto& a, auto& b, auto& c) { resample_area_reference(a, b, c); }, in, mask, win, p);
}

// `min_coverage` >= 0: a pixel whose (reference) coverage equals the threshold to within float
// rounding may be valid in one implementation and not in the other (the fast kernel sums the
// coverage in float, the reference in double; -O0 and -O3 round differently): such ties are skipped.
void expect_close(const Result& a, const Result& b, float tol, double min_coverage = -1.0) {
    ASSERT_EQ(a.pixels.width(), b.pixels.width());
    ASSERT_EQ(a.pixels.height(), b.pixels.height());
    for (std::int64_t y = 0; y < a.pixels.height(); ++y)
        for (std::int64_t x = 0; x < a.pixels.width(); ++x) {
            const auto i = static_cast<std::size_t>(y * a.pixels.width() + x);
            if (min_coverage >= 0 && std::abs(b.coverage.at(x, y) - min_coverage) < 1e-5) continue;
            ASSERT_EQ(a.mask[i], b.mask[i]) << "mask at " << x << "," << y;
            ASSERT_NEAR(a.pixels.at(x, y), b.pixels.at(x, y), tol) << "value at " << x << "," << y;
            ASSERT_NEAR(a.coverage.at(x, y), b.coverage.at(x, y), 2e-6f) << "coverage at " << x << "," << y;
        }
}

bool bit_identical(const Result& a, const Result& b) {
    return a.pixels.pixels() == b.pixels.pixels() && a.mask == b.mask && a.coverage.pixels() == b.coverage.pixels();
}

ResampleAreaParams params(double fx, double fy, double px = 0.0, double py = 0.0) {
    ResampleAreaParams p;
    p.in_px_per_out_px_x = fx;
    p.in_px_per_out_px_y = fy;
    p.phase_x_in_px = px;
    p.phase_y_in_px = py;
    return p;
}

TEST(ResampleArea, MatchesExactOverlapReferenceForNonIntegerRatios) {
    const Image in = random_image(127, 63, 1, -3.0f, 5.0f);
    for (const auto& p : {params(3.3, 3.3), params(3.3, 2.1, 0.37, 0.81), params(1.7, 5.25, 0.5, 0.0),
                          params(1.0, 1.0, 0.25, 0.75), params(7.9, 1.3, 0.0, 0.2)}) {
        const ResampleWindow size = resample_area_output_size(in.width(), in.height(), p);
        expect_close(run_fast(in, nullptr, size, p), run_ref(in, nullptr, size, p), 2e-5f);
        // A window running past the image edges: partial coverage, same semantics.
        const ResampleWindow grown{0, 0, size.x1 + 2, size.y1 + 2};
        expect_close(run_fast(in, nullptr, grown, p), run_ref(in, nullptr, grown, p), 2e-5f);
    }
}

TEST(ResampleArea, MatchesReferenceWithMask) {
    const Image in = random_image(127, 63, 2, 0.0f, 100.0f);
    const auto mask = random_mask(127, 63, 3, 0.7);
    for (double min_cov : {0.0, 0.5, 0.9}) {
        ResampleAreaParams p = params(3.3, 2.6, 0.4, 0.1);
        p.min_coverage = min_cov;
        p.fill_value = -999.0f;
        const ResampleWindow win{0, 0, 40, 25};
        const Result fast = run_fast(in, &mask, win, p);
        expect_close(fast, run_ref(in, &mask, win, p), 2e-3f, min_cov);
        std::int64_t invalid = 0;
        for (std::size_t i = 0; i < fast.mask.size(); ++i) {
            if (fast.mask[i] == 0) {
                ++invalid;
                EXPECT_EQ(fast.pixels.pixels()[i], -999.0f);
            } else {
                EXPECT_GE(fast.coverage.pixels()[i], min_cov);
            }
        }
        if (min_cov >= 0.9) {
            EXPECT_GT(invalid, 0);
        }
    }
}

TEST(ResampleArea, MaskedPixelsAreIgnoredEvenWhenNaN) {
    Image in(6, 6, 2.0f);
    std::vector<std::uint8_t> mask(36, 1);
    in.at(1, 1) = std::nanf("");
    mask[1 * 6 + 1] = 0;
    in.at(4, 4) = 1e30f;
    mask[4 * 6 + 4] = 0;
    ResampleAreaParams p = params(3.0, 3.0);
    const Result r = run_fast(in, &mask, {0, 0, 2, 2}, p);
    for (float v : r.pixels.pixels())
        EXPECT_EQ(v, 2.0f);
    EXPECT_NEAR(r.coverage.at(0, 0), 8.0f / 9.0f, 1e-6f);
    EXPECT_NEAR(r.coverage.at(1, 0), 1.0f, 0.0f);
}

TEST(ResampleArea, MatchesOpenCvInterAreaForIntegerRatios) {
    const Image in = random_image(240, 180, 4);
    for (int f : {2, 3, 4, 5}) {
        const ResampleAreaParams p = params(f, f);
        const Image out = resample_area(in.view(), p);
        ASSERT_EQ(out.width(), 240 / f);
        ASSERT_EQ(out.height(), 180 / f);
        cv::Mat src(180, 240, CV_32F, const_cast<float*>(in.data()));
        cv::Mat dst;
        cv::resize(src, dst, cv::Size(static_cast<int>(out.width()), static_cast<int>(out.height())), 0, 0,
                   cv::INTER_AREA);
        float max_diff = 0.0f;
        for (std::int64_t y = 0; y < out.height(); ++y)
            for (std::int64_t x = 0; x < out.width(); ++x)
                max_diff = std::max(max_diff,
                                    std::fabs(out.at(x, y) - dst.at<float>(static_cast<int>(y), static_cast<int>(x))));
        EXPECT_LT(max_diff, 2e-6f) << "ratio " << f;
    }
}

TEST(ResampleArea, ConstantImageStaysConstant) {
    const Image in(331, 217, 7.25f);
    for (const auto& p : {params(3.3, 3.3), params(2.2, 4.7, 0.3, 0.9), params(1.0, 1.0, 0.5, 0.5)}) {
        const Image out = resample_area(in.view(), p);
        ASSERT_GT(out.pixels().size(), 0u);
        for (float v : out.pixels())
            ASSERT_NEAR(v, 7.25f, 7.25f * 2e-6f);
    }
}

TEST(ResampleArea, PreservesTheMean) {
    // 330 x 231 input pixels, ratio 3.3 x 2.31: the output grid tiles the input exactly.
    const Image in = random_image(330, 231, 5, 0.0f, 1000.0f);
    const ResampleAreaParams p = params(3.3, 2.31);
    const Image out = resample_area(in.view(), p);
    ASSERT_EQ(out.width(), 100);
    ASSERT_EQ(out.height(), 100);
    double sum_in = 0.0, sum_out = 0.0;
    for (float v : in.pixels())
        sum_in += v;
    for (float v : out.pixels())
        sum_out += v;
    const double mean_in = sum_in / static_cast<double>(in.pixels().size());
    const double mean_out = sum_out / static_cast<double>(out.pixels().size());
    EXPECT_NEAR(mean_out / mean_in, 1.0, 1e-3);
    EXPECT_NEAR(mean_out / mean_in, 1.0, 1e-5);  // in fact much better than 0.1 %
}

TEST(ResampleArea, IsLinear) {
    const Image a = random_image(200, 150, 6, -1.0f, 1.0f);
    const Image b = random_image(200, 150, 7, -1.0f, 1.0f);
    Image c(200, 150);
    for (std::size_t i = 0; i < c.pixels().size(); ++i)
        c.pixels()[i] = 2.0f * a.pixels()[i] - 0.5f * b.pixels()[i];
    const ResampleAreaParams p = params(3.3, 2.9, 0.2, 0.6);
    const Image ra = resample_area(a.view(), p), rb = resample_area(b.view(), p), rc = resample_area(c.view(), p);
    for (std::size_t i = 0; i < rc.pixels().size(); ++i)
        ASSERT_NEAR(rc.pixels()[i], 2.0f * ra.pixels()[i] - 0.5f * rb.pixels()[i], 1e-5f);
}

TEST(ResampleArea, RatioOneIsIdentityAndHalfPixelPhaseAverages) {
    const Image in = random_image(17, 9, 8);
    const Image same = resample_area(in.view(), params(1.0, 1.0));
    EXPECT_EQ(same.pixels(), in.pixels());
    const Image shifted = resample_area(in.view(), params(1.0, 1.0, 0.5, 0.5));
    ASSERT_EQ(shifted.width(), 16);
    ASSERT_EQ(shifted.height(), 8);
    for (std::int64_t y = 0; y < 8; ++y)
        for (std::int64_t x = 0; x < 16; ++x)
            ASSERT_NEAR(shifted.at(x, y),
                        0.25f * (in.at(x, y) + in.at(x + 1, y) + in.at(x, y + 1) + in.at(x + 1, y + 1)), 1e-6f);
}

// Computes the output window `out_win` from the smallest input tile it needs.
Result run_tile(const Image& in, const std::vector<std::uint8_t>* mask, ResampleWindow out_win,
                const ResampleAreaParams& p) {
    const ResampleWindow need = resample_area_input_window(out_win, in.width(), in.height(), p);
    Result r{Image(out_win.width(), out_win.height()),
             std::vector<std::uint8_t>(static_cast<std::size_t>(out_win.width() * out_win.height())),
             Image(out_win.width(), out_win.height())};
    ResampleAreaInput src;
    src.pixels = in.view().sub(need.x0, need.y0, need.width(), need.height());
    if (mask)
        src.mask = ConstImageView<std::uint8_t>(mask->data(), in.width(), in.height())
                       .sub(need.x0, need.y0, need.width(), need.height());
    src.x0 = need.x0;
    src.y0 = need.y0;
    src.image_width = in.width();
    src.image_height = in.height();
    ResampleAreaOutput dst;
    dst.pixels = r.pixels.view();
    dst.mask = ImageView<std::uint8_t>(r.mask.data(), out_win.width(), out_win.height());
    dst.coverage = r.coverage.view();
    dst.x0 = out_win.x0;
    dst.y0 = out_win.y0;
    resample_area(src, dst, p);
    return r;
}

TEST(ResampleArea, TilesAreBitIdenticalToTheWholeImage) {
    const Image in = random_image(301, 187, 9, -10.0f, 10.0f);
    const auto mask = random_mask(301, 187, 10, 0.8);
    for (const bool use_mask : {false, true}) {
        const auto* m = use_mask ? &mask : nullptr;
        const ResampleAreaParams p = params(3.3, 2.7, 0.45, 0.05);
        const ResampleWindow size{0, 0, 92, 70};  // one column and row beyond the full pixels
        const Result whole = run_fast(in, m, size, p);
        for (std::int64_t tile : {1, 5, 16, 33}) {
            Result tiled{Image(size.width(), size.height()),
                         std::vector<std::uint8_t>(static_cast<std::size_t>(size.width() * size.height())),
                         Image(size.width(), size.height())};
            for (std::int64_t ty = 0; ty < size.y1; ty += tile)
                for (std::int64_t tx = 0; tx < size.x1; tx += tile) {
                    const ResampleWindow w{tx, ty, std::min(tx + tile, size.x1), std::min(ty + tile, size.y1)};
                    const Result part = run_tile(in, m, w, p);
                    for (std::int64_t y = 0; y < w.height(); ++y)
                        for (std::int64_t x = 0; x < w.width(); ++x) {
                            const auto di = static_cast<std::size_t>((w.y0 + y) * size.width() + w.x0 + x);
                            const auto si = static_cast<std::size_t>(y * w.width() + x);
                            tiled.pixels.pixels()[di] = part.pixels.pixels()[si];
                            tiled.mask[di] = part.mask[si];
                            tiled.coverage.pixels()[di] = part.coverage.pixels()[si];
                        }
                }
            EXPECT_TRUE(bit_identical(whole, tiled)) << "tile " << tile << " mask " << use_mask;
        }
    }
}

TEST(ResampleArea, OneThreadAndAllThreadsAreBitIdentical) {
    const Image in = random_image(1500, 1100, 11);
    const auto mask = random_mask(1500, 1100, 12, 0.9);
    const ResampleAreaParams p = params(3.3, 3.3, 0.1, 0.2);
    const ResampleWindow size = resample_area_output_size(in.width(), in.height(), p);
    const Result all = run_fast(in, &mask, size, p);
    const Image all_plain = resample_area(in.view(), p);
    Result one;
    Image one_plain;
    {
        tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
        one = run_fast(in, &mask, size, p);
        one_plain = resample_area(in.view(), p);
    }
    EXPECT_TRUE(bit_identical(all, one));
    EXPECT_EQ(all_plain.pixels(), one_plain.pixels());
}

TEST(ResampleArea, OddSizes) {
    const Image one(1, 1, 3.0f);
    const Image r11 = resample_area(one.view(), params(1.0, 1.0));
    ASSERT_EQ(r11.pixels().size(), 1u);
    EXPECT_EQ(r11.at(0, 0), 3.0f);
    EXPECT_EQ(resample_area(one.view(), params(2.0, 2.0)).pixels().size(), 0u);

    const Image row = random_image(101, 1, 13);
    const ResampleAreaParams prow = params(3.3, 1.0);
    const ResampleWindow srow = resample_area_output_size(101, 1, prow);
    EXPECT_EQ(srow.width(), 30);
    EXPECT_EQ(srow.height(), 1);
    expect_close(run_fast(row, nullptr, srow, prow), run_ref(row, nullptr, srow, prow), 1e-5f);

    const Image col = random_image(1, 77, 14);
    const ResampleAreaParams pcol = params(1.0, 2.5, 0.0, 0.3);
    const ResampleWindow scol = resample_area_output_size(1, 77, pcol);
    EXPECT_EQ(scol.height(), 30);
    expect_close(run_fast(col, nullptr, scol, pcol), run_ref(col, nullptr, scol, pcol), 1e-5f);

    // Ratio larger than the image: no full output pixel, but an explicit window reports coverage.
    const Image small(5, 5, 4.0f);
    ResampleAreaParams big = params(10.0, 10.0);
    big.min_coverage = 0.2;
    EXPECT_TRUE(resample_area_output_size(5, 5, big).empty());
    const Result r = run_fast(small, nullptr, {0, 0, 1, 1}, big);
    EXPECT_EQ(r.pixels.at(0, 0), 4.0f);
    EXPECT_NEAR(r.coverage.at(0, 0), 0.25f, 1e-7f);
    EXPECT_EQ(r.mask[0], 1);
    // Output pixels entirely outside the image: coverage 0, fill value, mask 0.
    const Result outside = run_fast(small, nullptr, {3, 3, 4, 4}, big);
    EXPECT_EQ(outside.pixels.at(0, 0), 0.0f);
    EXPECT_EQ(outside.coverage.at(0, 0), 0.0f);
    EXPECT_EQ(outside.mask[0], 0);
    EXPECT_TRUE(resample_area_input_window({3, 3, 4, 4}, 5, 5, big).empty());
}

TEST(ResampleArea, InputWindowCoversExactlyTheFootprints) {
    const ResampleAreaParams p = params(3.25, 2.0, 0.5, 1.0);
    const ResampleWindow w = resample_area_input_window({2, 3, 5, 4}, 1000, 1000, p);
    // x: [0.5 + 2 * 3.25, 0.5 + 5 * 3.25) = [7, 16.75) -> pixels 7..16; y: [7, 9) -> rows 7..8.
    EXPECT_EQ(w, (ResampleWindow{7, 7, 17, 9}));
    // Clipped to the image.
    EXPECT_EQ(resample_area_input_window({0, 0, 400, 400}, 100, 50, p), (ResampleWindow{0, 1, 100, 50}));
}

TEST(ResampleArea, DocumentedErrorsThrow) {
    const Image in(20, 20, 1.0f);
    for (double bad : {0.0, -2.0, 0.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
        EXPECT_THROW((void)resample_area(in.view(), params(bad, 2.0)), Error) << bad;
        EXPECT_THROW((void)resample_area(in.view(), params(2.0, bad)), Error) << bad;
    }
    EXPECT_THROW((void)resample_area(in.view(), params(2.0, 2.0, std::nan(""), 0.0)), Error);
    EXPECT_THROW((void)resample_area(in.view(), params(2.0, 2.0, 0.0, std::numeric_limits<double>::infinity())), Error);
    ResampleAreaParams p = params(2.0, 2.0);
    p.min_coverage = -0.1;
    EXPECT_THROW((void)resample_area(in.view(), p), Error);
    p.min_coverage = 1.5;
    EXPECT_THROW((void)resample_area(in.view(), p), Error);
    p.min_coverage = 0.5;
    EXPECT_THROW((void)resample_area_output_size(-1, 5, p), Error);
    EXPECT_THROW((void)resample_area_input_window({5, 0, 4, 1}, 20, 20, p), Error);
    EXPECT_THROW((void)resample_area_input_window({0, 0, 1, 1}, -20, 20, p), Error);

    Image out(5, 5);
    ResampleAreaInput src;
    src.pixels = in.view().sub(0, 0, 8, 8);  // too small for the 5 x 5 output window
    src.image_width = 20;
    src.image_height = 20;
    ResampleAreaOutput dst;
    dst.pixels = out.view();
    EXPECT_THROW(resample_area(src, dst, p), Error);
    src.pixels = in.view();
    std::vector<std::uint8_t> small_mask(10, 1);
    src.mask = ConstImageView<std::uint8_t>(small_mask.data(), 5, 2);
    EXPECT_THROW(resample_area(src, dst, p), Error);
    src.mask = {};
    std::vector<std::uint8_t> out_mask(4, 1);
    dst.mask = ImageView<std::uint8_t>(out_mask.data(), 2, 2);
    EXPECT_THROW(resample_area(src, dst, p), Error);
    dst.mask = {};
    Image small_cov(2, 2);
    dst.coverage = small_cov.view();
    EXPECT_THROW(resample_area(src, dst, p), Error);
    dst.coverage = {};
    dst.x0 = -1;
    EXPECT_THROW(resample_area(src, dst, p), Error);
    dst.x0 = 0;
    src.x0 = 5;  // tile would extend past image_width
    EXPECT_THROW(resample_area(src, dst, p), Error);
    src.x0 = 0;
    EXPECT_NO_THROW(resample_area(src, dst, p));
}

}  // namespace
}  // namespace satiq
