// PCA noise estimator (kernels/noise_pca.hpp) on the real images degraded by `degrade` to a
// known SNR: the SNR measured the way `assess` measures it (scene-radiometry signal difference
// over the noise at the 15 % level of the noise-versus-signal curve) must lie within 20 % of the
// target. Immerkaer's estimator is measured beside it for the record. Skips without
// ../shared/data/real.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "satiq/kernels/noise_estimate.hpp"
#include "satiq/kernels/noise_pca.hpp"
#include "satiq/kernels/statistics.hpp"
#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/radiometry.hpp"
#include "satiq/pipeline/ops/degrade.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace satiq;

// The band assess measures: band 1, or the Rec. 601 luminance of an RGB image.
MaskedImage read_measured(const fs::path& path) {
    Raster r = Raster::open(path);
    const Window all{0, 0, r.width(), r.height()};
    MaskedImage img = r.read_masked(1, all);
    if (r.band_count() >= 3) {
        const double w[3] = {0.299, 0.587, 0.114};
        for (auto& v : img.pixels.pixels())
            v = static_cast<float>(w[0] * v);
        for (int b = 2; b <= 3; ++b) {
            const MaskedImage c = r.read_masked(b, all);
            for (std::size_t i = 0; i < img.pixels.pixels().size(); ++i)
                img.pixels.pixels()[i] += static_cast<float>(w[b - 1] * c.pixels.pixels()[i]);
            if (!c.mask.empty()) {
                if (img.mask.empty()) img.mask.assign(c.mask.size(), 1);
                for (std::size_t i = 0; i < c.mask.size(); ++i)
                    img.mask[i] &= c.mask[i];
            }
        }
    }
    return img;
}

struct Measured {
    double signal_difference = 0;
    double level_15 = 0;
    double sigma_pca = 0, sigma_imm = 0;  // at the 15 % level
    double snr_pca = 0, snr_imm = 0;
    double seconds_pca = 0;
};

Measured measure(const fs::path& path) {
    const MaskedImage img = read_measured(path);
    ConstImageView<std::uint8_t> mask;
    if (!img.mask.empty())
        mask = ConstImageView<std::uint8_t>(img.mask.data(), img.pixels.width(), img.pixels.height());
    const SceneRadiometry rad = scene_radiometry(compute_stats(img.pixels.view(), mask));
    Measured m;
    m.signal_difference = rad.signal_difference_dn;
    m.level_15 = rad.level_15_dn;
    const NoiseEstimate pca = estimate_noise_pca(img.pixels.view(), mask);
    const NoiseEstimate imm = estimate_noise(img.pixels.view(), mask);
    EXPECT_TRUE(pca.valid) << path << ": " << pca.message;
    m.sigma_pca = sigma_at_level(pca, rad.level_15_dn);
    m.sigma_imm = sigma_at_level(imm, rad.level_15_dn);
    m.snr_pca = rad.signal_difference_dn / m.sigma_pca;
    m.snr_imm = rad.signal_difference_dn / m.sigma_imm;
    return m;
}

struct Case {
    std::string file;
    double gsd_factor;  // target GSD / input GSD
    bool accept;        // the 20 % criterion applies (see the notes in the table)
};

class NoiseReal : public ::testing::Test {
protected:
    void SetUp() override {
        if (!test::have_real_data()) GTEST_SKIP() << "../shared/data/real is absent";
        tmp_.emplace("noise_real");
        dir_ = tmp_->path();
    }
    std::optional<test::TempDir> tmp_;  // removed when the fixture is destroyed
    fs::path dir_;
};

// DISABLED: fails today (see the commit message); run with --gtest_also_run_disabled_tests.
TEST_F(NoiseReal, DISABLED_DegradedToKnownSnrMeasuresWithin20Percent) {
    // RGB: degrade adds noise to every band for the target SNR of that band; the luminance then
    // averages the bands' independent noise, so its SNR is higher than the target by
    // sum(w d_b) / sqrt(sum(w^2 d_b^2)) (d_b: the bands' signal differences). The expected SNR
    // below accounts for that; for single bands it is the target itself.
    const std::vector<Case> cases = {
        {"pan1.tif", 2.0, true},           {"pan1.tif", 3.0, true},
        {"sample_geotiff.tif", 2.0, true}, {"hro_colorado_rgb_0p15m.tif", 2.0, true},
        {"UTM2GTIF.tiff", 2.0, true},      {"l8_B8.tif", 2.0, true},
        {"s2_B8A.jp2", 2.0, true},
    };
    int failures = 0, checked = 0;
    std::printf("%-28s %4s %6s | %8s %8s | %8s %7s | %8s %7s | %8s\n", "image", "x", "target", "expected", "clean",
                "PCA", "err", "Immerk.", "err", "sig15 PCA");
    for (const Case& c : cases) {
        const fs::path in = test::real_data_dir() / c.file;
        Raster r = Raster::open(in);
        const Gsd g = compute_gsd(r.info());
        const int bands = std::min(3, r.band_count());
        const double w_rgb[3] = {0.299, 0.587, 0.114};
        // Per band: the input's scene radiometry and Immerkaer noise as degrade computes them.
        std::vector<double> d_in(static_cast<std::size_t>(bands)), imm_in(static_cast<std::size_t>(bands));
        for (int b = 1; b <= bands; ++b) {
            const Image sample = r.read_decimated(b, 2048);
            d_in[static_cast<std::size_t>(b - 1)] = scene_radiometry(compute_stats(sample.view())).signal_difference_dn;
            const NoiseEstimate ne = estimate_noise(sample.view());
            imm_in[static_cast<std::size_t>(b - 1)] = ne.valid ? ne.sigma_dn : 0.0;
        }
        DegradeParams p;
        p.input = in;
        p.target_gsd_m = g.mean_m * c.gsd_factor;
        p.seed = 1;
        // Noise-free degrade: the input's own noise left after the integration (the floor).
        p.output = dir_ / "clean.tif";
        const DegradeResult clean_r = degrade(p);
        const double ratio2 = clean_r.plan.ratio_x * clean_r.plan.ratio_y;
        const Measured clean = measure(p.output);
        for (const double snr : {10.0, 25.0, 50.0}) {
            p.snr = snr;
            p.output = dir_ / "noisy.tif";
            (void)degrade(p);
            const Measured m = measure(p.output);
            // Expected: the noise degrade added (target minus its Immerkaer estimate of the input's
            // integrated noise) plus the input's real integrated noise (PCA on the clean output).
            double var = 0, dsum = 0;
            for (int b = 0; b < bands; ++b) {
                const double w = bands == 1 ? 1.0 : w_rgb[b];
                const double want = d_in[static_cast<std::size_t>(b)] / snr;
                const double residual = imm_in[static_cast<std::size_t>(b)] / std::sqrt(ratio2);
                const double added2 = std::max(0.0, want * want - residual * residual);
                var += w * w * added2;
                dsum += w * d_in[static_cast<std::size_t>(b)];
            }
            var += clean.sigma_pca * clean.sigma_pca;
            const double expected = m.signal_difference / std::sqrt(var);
            const double target = bands == 1 ? snr : snr * dsum / std::sqrt([&] {
                                                         double s = 0;
                                                         for (int b = 0; b < bands; ++b)
                                                             s += w_rgb[b] * w_rgb[b] *
                                                                  d_in[static_cast<std::size_t>(b)] *
                                                                  d_in[static_cast<std::size_t>(b)];
                                                         return s;
                                                     }());
            const double err = m.snr_pca / target - 1.0;
            std::printf("%-28s %4.1f %6.1f | %8.2f %8.1f | %8.2f %+6.1f%% | %8.2f %+6.1f%% | %8.3f\n", c.file.c_str(),
                        c.gsd_factor, target, expected, clean.snr_pca, m.snr_pca, 100 * err, m.snr_imm,
                        100 * (m.snr_imm / target - 1.0), m.sigma_pca);
            if (c.accept) {
                ++checked;
                if (std::abs(err) > 0.20) ++failures;
                EXPECT_NEAR(m.snr_pca, target, 0.20 * target) << c.file << " x" << c.gsd_factor << " SNR " << snr;
            }
        }
    }
    std::printf("%d of %d cases outside 20 %%\n", failures, checked);
}

TEST_F(NoiseReal, DISABLED_SensorPresetSkySat) {
    // The case: pan1 degraded to SkySat (shot + read noise at the preset's SNR).
    for (const char* file : {"pan1.tif", "sample_geotiff.tif"}) {
        DegradeParams p;
        p.input = test::real_data_dir() / file;
        p.output = dir_ / "skysat.tif";
        p.sensor = "skysat";
        p.seed = 1;
        const DegradeResult r = degrade(p);
        ASSERT_TRUE(r.plan.snr.has_value());
        const Measured m = measure(p.output);
        std::printf("%s -> skysat (SNR %.1f, %s): PCA SNR %.2f (%+.1f %%), Immerkaer SNR %.2f (%+.1f %%)\n", file,
                    *r.plan.snr, satiq::to_string(r.plan.noise_model), m.snr_pca, 100 * (m.snr_pca / *r.plan.snr - 1),
                    m.snr_imm, 100 * (m.snr_imm / *r.plan.snr - 1));
        EXPECT_NEAR(m.snr_pca, *r.plan.snr, 0.20 * *r.plan.snr) << file;
    }
}

}  // namespace
