#include <gtest/gtest.h>

#include <random>

#include <tbb/global_control.h>

#include "satiq/kernels/statistics.hpp"

using namespace satiq;

TEST(Statistics, MatchesNaiveOnRandomImageWithMask) {
    Image img(301, 257);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(img.width() * img.height()));
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> d(0, 2047);
    double sum = 0, sum2 = 0;
    std::int64_t n = 0;
    float mn = 1e9f, mx = -1e9f;
    std::vector<float> vals;
    for (std::int64_t i = 0; i < img.width() * img.height(); ++i) {
        img.data()[i] = static_cast<float>(d(rng));
        mask[static_cast<std::size_t>(i)] = (i % 7) != 0;
        if (mask[static_cast<std::size_t>(i)]) {
            const double v = img.data()[i];
            sum += v;
            sum2 += v * v;
            ++n;
            mn = std::min(mn, img.data()[i]);
            mx = std::max(mx, img.data()[i]);
            vals.push_back(img.data()[i]);
        }
    }
    const ImageStats s =
        compute_stats(img.view(), ConstImageView<std::uint8_t>(mask.data(), img.width(), img.height()));
    EXPECT_EQ(s.valid_count, n);
    EXPECT_DOUBLE_EQ(s.min, mn);
    EXPECT_DOUBLE_EQ(s.max, mx);
    EXPECT_NEAR(s.mean, sum / n, 1e-9);
    EXPECT_NEAR(s.stddev, std::sqrt(sum2 / n - (sum / n) * (sum / n)), 1e-6);
    std::sort(vals.begin(), vals.end());
    const auto rank = [&](double p) { return vals[static_cast<std::size_t>(std::ceil(p / 100.0 * n)) - 1]; };
    // Integer data spanning < 65536 levels: histogram percentiles are exact to a bin (< 0.04 DN).
    EXPECT_NEAR(s.p50, rank(50), 0.05);
    EXPECT_NEAR(s.p01, rank(1), 0.05);
    EXPECT_NEAR(s.p99, rank(99), 0.05);
}

TEST(Statistics, NanAndEmptyAndConstant) {
    Image img(5, 3, 4.0f);
    img.at(1, 1) = std::numeric_limits<float>::quiet_NaN();
    const ImageStats s = compute_stats(img.view());
    EXPECT_EQ(s.valid_count, 14);
    EXPECT_EQ(s.mean, 4.0);
    EXPECT_EQ(s.stddev, 0.0);
    EXPECT_EQ(s.p50, 4.0);
    EXPECT_EQ(compute_stats(ConstImageView<float>()).valid_count, 0);
    std::vector<std::uint8_t> none(15, 0);
    EXPECT_EQ(compute_stats(img.view(), ConstImageView<std::uint8_t>(none.data(), 5, 3)).valid_count, 0);
    std::vector<std::uint8_t> wrong(4, 1);
    EXPECT_THROW(compute_stats(img.view(), ConstImageView<std::uint8_t>(wrong.data(), 2, 2)), Error);
}

TEST(Statistics, IdenticalAtOneThreadAndAll) {
    Image img(1024, 700);
    std::mt19937 rng(3);
    std::normal_distribution<float> d(100.f, 30.f);
    for (auto& v : img.pixels())
        v = d(rng);
    ImageStats a, b;
    {
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        a = compute_stats(img.view());
    }
    b = compute_stats(img.view());
    EXPECT_EQ(a.mean, b.mean);
    EXPECT_EQ(a.stddev, b.stddev);
    EXPECT_EQ(a.p50, b.p50);
}
