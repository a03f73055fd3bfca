#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <numeric>

#include <ogr_spatialref.h>
#include <tbb/global_control.h>

#include "satiq/kernels/noise.hpp"
#include "satiq/kernels/statistics.hpp"
#include "satiq/kernels/synth.hpp"
#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/pipeline/ops/degrade.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;

namespace {

GeoReference utm(double gsd_m) {
    return test::north_up(32652, 350000.0, 4300000.0, gsd_m);
}

// A textured test scene: smooth gradients plus blocks, values within 100..1900 DN.
Image scene(std::int64_t w, std::int64_t h) {
    Image img(w, h);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            const double v = 1000 + 400 * std::sin(x * 0.07) * std::cos(y * 0.05) +
                             (((x / 23) + (y / 17)) % 2 ? 300 : -300) + 100 * std::sin(0.9 * x + 0.3 * y);
            img.at(x, y) = static_cast<float>(std::round(v));
        }
    return img;
}

fs::path write(const fs::path& dir, const std::string& name, const Image& img, const GeoReference& geo,
               DataType type = DataType::UInt16, std::optional<double> nodata = std::nullopt) {
    WriteOptions o;
    o.type = type;
    o.nodata = nodata;
    write_raster(dir / name, {img.view()}, geo, o);
    return dir / name;
}

// 1200 x 1200: 500 DN on the left half, 1500 on the right, with white Gaussian noise of `sigma`.
Image noisy_step(double sigma) {
    Image img(1200, 1200);
    for (std::int64_t y = 0; y < 1200; ++y)
        for (std::int64_t x = 0; x < 1200; ++x)
            img.at(x, y) = x < 600 ? 500.f : 1500.f;
    add_gaussian_noise(img.view(), sigma, 7);
    return img;
}

// Standard deviation of the pixels in columns [x0, x1) over all rows (a flat part of a scene).
double column_band_sigma(const Image& o, std::int64_t x0, std::int64_t x1) {
    double s = 0, s2 = 0;
    std::int64_t n = 0;
    for (std::int64_t y = 0; y < o.height(); ++y)
        for (std::int64_t x = x0; x < x1; ++x) {
            s += o.at(x, y);
            s2 += double(o.at(x, y)) * o.at(x, y);
            ++n;
        }
    return std::sqrt(s2 / n - (s / n) * (s / n));
}

DegradeParams simple(const fs::path& in, const fs::path& out, double gsd_m) {
    DegradeParams p;
    p.input = in;
    p.output = out;
    p.target_gsd_m = gsd_m;
    p.sigma_px = 0.5;
    return p;
}

std::string error_of(const DegradeParams& p) {
    try {
        (void)degrade(p);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Degrade, ProjectedGeoreferencingKeepsFootprintAndCrs) {
    const test::TempDir dir("deg_geo");
    const fs::path in = write(dir, "in.tif", scene(401, 300), utm(0.5));
    const DegradeResult r = degrade(simple(in, dir / "out.tif", 2.0));
    Raster out = Raster::open(dir / "out.tif");
    EXPECT_EQ(out.width(), 100);  // round(401 / 4)
    EXPECT_EQ(out.height(), 75);
    const auto& gt = *out.info().geo.geotransform;
    EXPECT_DOUBLE_EQ(gt[0], 350000.0);
    EXPECT_DOUBLE_EQ(gt[3], 4300000.0);
    EXPECT_DOUBLE_EQ(gt[1], 2.0);
    EXPECT_DOUBLE_EQ(gt[5], -2.0);
    // Same ground footprint to within half an output pixel.
    EXPECT_LE(std::abs(out.width() * gt[1] - 401 * 0.5), 1.0);
    EXPECT_LE(std::abs(out.height() * -gt[5] - 300 * 0.5), 1.0);
    OGRSpatialReference srs;
    srs.importFromWkt(out.info().geo.crs_wkt.c_str());
    EXPECT_STREQ(srs.GetAuthorityCode(nullptr), "32652");
    const auto& md = out.info().metadata.at("");
    EXPECT_EQ(md.at("SATIQ_COMMAND"), "degrade");
    EXPECT_EQ(md.at("SATIQ_SEED"), "0");
    EXPECT_NE(md.at("SATIQ_DEGRADE_PLAN").find("assumptions"), std::string::npos);
    EXPECT_EQ(r.plan.psf_method, "separable_gaussian");
}

TEST(Degrade, GeographicInputGetsSquareGroundPixels) {
    const test::TempDir dir("deg_geog");
    GeoReference g;
    g.crs_wkt = test::wkt_of_epsg(4326);
    const double px = 2.7e-6;  // 0.243 m x 0.300 m at 36 deg
    g.geotransform = std::array<double, 6>{127.0, px, 0, 36.0 + 200 * px, 0, -px};
    const fs::path in = write(dir, "in.tif", scene(400, 400), g);
    (void)degrade(simple(in, dir / "out.tif", 1.2));
    Raster out = Raster::open(dir / "out.tif");
    const Gsd gsd = compute_gsd(out.info());
    EXPECT_NEAR(gsd.x_m, 1.2, 0.005);
    EXPECT_NEAR(gsd.y_m, 1.2, 0.005);
    const auto& gt = *out.info().geo.geotransform;
    EXPECT_DOUBLE_EQ(gt[0], 127.0);
    EXPECT_LE(std::abs(out.width() * gt[1] - 400 * px), 0.5 * gt[1]);
    EXPECT_LE(std::abs(out.height() * -gt[5] - 400 * px), 0.5 * -gt[5]);
}

TEST(Degrade, ConstantStaysConstantAndMeanIsPreserved) {
    const test::TempDir dir("deg_const");
    Image flat(300, 200, 777.0f);
    DegradeParams p = simple(write(dir, "flat.tif", flat, utm(0.5), DataType::Float32), dir / "flat_out.tif", 1.65);
    (void)degrade(p);
    const Image o = Raster::open(dir / "flat_out.tif").read(1);
    for (float v : o.pixels())
        ASSERT_NEAR(v, 777.0f, 1e-3f);

    const Image s = scene(330, 330);
    p = simple(write(dir, "s.tif", s, utm(0.5), DataType::Float32), dir / "s_out.tif", 1.65);  // ratio 3.3
    (void)degrade(p);
    const Image so = Raster::open(dir / "s_out.tif").read(1);
    const double mi = compute_stats(s.view()).mean, mo = compute_stats(so.view()).mean;
    EXPECT_NEAR(mo, mi, 0.001 * mi);
}

TEST(Degrade, GaussianTotalMatchesTheTargetSystem) {
    // A slanted edge with a known input blur (sigma 0.6 px at 0.5 m), degraded to 2 m with a
    // target Gaussian of sigma 0.5 target px: the output must be the target system's edge,
    // i.e. the analytic square-pixel edge of sigma 0.5 on the 2 m grid (the input pixel box is
    // approximated by its variance: error well below 1 % of the contrast at ratio 4).
    const test::TempDir dir("deg_edge");
    EdgeTargetParams ep;
    ep.angle_deg = 5;
    ep.edge_x_px = 200;
    ep.edge_y_px = 200;
    ep.dark_dn = 200;
    ep.bright_dn = 1200;
    ep.sigma_px = 0.6;
    const Image edge = render_edge(ep, 400, 400);
    DegradeParams p = simple(write(dir, "edge.tif", edge, utm(0.5), DataType::Float32), dir / "edge_2m.tif", 2.0);
    p.input_sigma_px = 0.6;
    const DegradeResult r = degrade(p);
    ASSERT_TRUE(r.plan.applied_sigma_x_px.has_value());
    EXPECT_NEAR(*r.plan.applied_sigma_x_px, std::sqrt(4.0 - 0.36 - 1.0 / 12.0), 1e-9);
    const Image out = Raster::open(dir / "edge_2m.tif").read(1);
    EdgeTargetParams want = ep;
    want.edge_x_px = 50;
    want.edge_y_px = 50;
    want.sigma_px = 0.5;
    const Image truth = render_edge(want, 100, 100);
    double worst = 0;
    for (std::int64_t y = 10; y < 90; ++y)  // away from the image border
        for (std::int64_t x = 10; x < 90; ++x)
            worst = std::max(worst, std::abs(double(out.at(x, y)) - truth.at(x, y)));
    std::printf("largest deviation from the target system's edge: %.3f DN of %.0f\n", worst, ep.bright_dn - ep.dark_dn);
    EXPECT_LT(worst, 0.01 * (ep.bright_dn - ep.dark_dn)) << "largest deviation " << worst << " DN";
}

TEST(Degrade, IdenticalForAnyThreadCountAndStripHeight) {
    const test::TempDir dir("deg_det");
    const fs::path in = write(dir, "in.tif", scene(517, 389), utm(0.5));
    auto run = [&](const std::string& name, std::int64_t strip_rows, int threads, const char* sensor) {
        DegradeParams p;
        p.input = in;
        p.output = dir / name;
        if (sensor) {
            p.sensor = sensor;
        } else {
            p.target_gsd_m = 1.65;
            p.sigma_px = 0.6;
        }
        p.snr = 20;
        p.seed = 42;
        p.strip_rows = strip_rows;
        std::optional<tbb::global_control> limit;
        if (threads) limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
        (void)degrade(p);
        return Raster::open(dir / name).read(1);
    };
    for (const char* sensor : {static_cast<const char*>(nullptr), "superdove"}) {
        const Image a = run("a.tif", 0, 1, sensor);
        const Image b = run("b.tif", 7, 0, sensor);
        const Image c = run("c.tif", 1, 0, sensor);
        ASSERT_EQ(a.pixels().size(), b.pixels().size());
        EXPECT_TRUE(a.pixels() == b.pixels()) << (sensor ? sensor : "simple");
        EXPECT_TRUE(a.pixels() == c.pixels()) << (sensor ? sensor : "simple");
        // The whole file, metadata included: the strip height is not recorded (it was, so the
        // bytes differed although the pixels did not).
        (void)run("same.tif", 0, 1, sensor);
        const std::string first = test::read_file(dir / "same.tif");
        (void)run("same.tif", 7, 0, sensor);
        EXPECT_TRUE(first == test::read_file(dir / "same.tif")) << (sensor ? sensor : "simple");
    }
}

TEST(Degrade, NoiseReachesTheTargetSnr) {
    // Two-level scene (so p02/p98 are the two levels): the GIQE signal difference is
    // 0.2 (p98 - p02) = 200 DN; with SNR 25 the added noise is 8 DN.
    const test::TempDir dir("deg_snr");
    Image img(1200, 1200);
    for (std::int64_t y = 0; y < 1200; ++y)
        for (std::int64_t x = 0; x < 1200; ++x)
            img.at(x, y) = x < 600 ? 500.f : 1500.f;
    DegradeParams p = simple(write(dir, "two.tif", img, utm(0.5), DataType::Float32), dir / "noisy.tif", 1.0);
    p.snr = 25;
    const DegradeResult r = degrade(p);
    EXPECT_NEAR(r.plan.noise_sigma_dn_at_15, 8.0, 1e-9);
    const double sigma = column_band_sigma(Raster::open(dir / "noisy.tif").read(1), 10, 290);
    EXPECT_NEAR(sigma, 8.0, 0.02 * 8.0);
}

// The input's own noise is part of the target's: it reaches the output scaled by the noise gain
// of the blur and the integration, sqrt(sum w^2) of their combined weights, not by the
// integration alone (a blur lowers white noise further). Input: a two-level scene with white
// noise of 20 DN at 0.5 m; target 2 m (ratio 4), Gaussian sigma 0.5 target px, SNR 25.
TEST(Degrade, InputNoiseIsCountedThroughTheBlurAndTheIntegration) {
    const test::TempDir dir("deg_gain");
    DegradeParams p =
        simple(write(dir, "noisy_in.tif", noisy_step(20.0), utm(0.5), DataType::Float32), dir / "out.tif", 2.0);
    p.snr = 25;
    const DegradeResult r = degrade(p);
    // Hand value: the applied Gaussian has sigma^2 = (0.5 * 4)^2 - 1/12 input px^2 on each axis;
    // its sampled taps convolved with a 4-px box give sum w^2 per axis of about
    // 1 / (2 sqrt(pi) sigma_total) with sigma_total^2 = sigma^2 + (16 - 1) / 12: 0.136 per axis.
    const double st = std::sqrt(4.0 - 1.0 / 12 + 15.0 / 12);
    const double gain_axis = 1.0 / (2.0 * std::sqrt(std::numbers::pi) * st);
    EXPECT_NEAR(r.plan.input_noise_gain, gain_axis, 0.03 * gain_axis);
    const double sigma = column_band_sigma(Raster::open(dir / "out.tif").read(1), 5, 140);
    // The target noise is the scene signal over the SNR; the input's noise widens the scene's
    // percentiles, so it is a little above 8 DN (the plan's figure).
    const double want = r.plan.noise_sigma_dn_at_15;
    EXPECT_GT(want, 8.0);
    EXPECT_NEAR(sigma, want, 0.03 * want) << "input noise gain " << r.plan.input_noise_gain;
    // Without the blur's share the input noise would be taken as 20 / 4 = 5 DN and only
    // sqrt(want^2 - 25) added: the total would fall short by more than 3 %.
    EXPECT_LT(std::sqrt(want * want - 25.0 + 20.0 * 20.0 * r.plan.input_noise_gain * r.plan.input_noise_gain),
              0.97 * want);
}

TEST(Degrade, NodataIsExcludedAndMultiBandAndByte) {
    const test::TempDir dir("deg_nodata");
    Image a = scene(200, 200), b = scene(200, 200);
    for (std::int64_t y = 0; y < 200; ++y)
        for (std::int64_t x = 0; x < 200; ++x) {
            a.at(x, y) = std::clamp(a.at(x, y) / 8.f, 1.f, 255.f);
            b.at(x, y) = 255.f - a.at(x, y);
            // A flat run beside the strip (input columns 50..99), so that any nodata leaking into the
            // blur shows as a departure from a known value.
            if (x >= 50 && x < 100) {
                a.at(x, y) = 150.f;
                b.at(x, y) = 105.f;
            }
            if (x < 50) a.at(x, y) = b.at(x, y) = 0;  // nodata strip on the left
        }
    WriteOptions o;
    o.type = DataType::Byte;
    o.nodata = 0;
    write_raster(dir / "rgb.tif", {a.view(), b.view()}, utm(0.5), o);
    (void)degrade(simple(dir / "rgb.tif", dir / "out.tif", 2.0));
    Raster out = Raster::open(dir / "out.tif");
    EXPECT_EQ(out.band_count(), 2);
    EXPECT_EQ(out.info().bands[0].type, DataType::Byte);
    ASSERT_TRUE(out.info().bands[0].nodata.has_value());
    // Ratio 4 (0.5 m -> 2 m): output column c covers input columns 4c..4c+3, so columns 0..11 are
    // all nodata, column 12 covers 48..51 (half nodata), column 13 covers 52..55 (all valid, but the
    // blur reaches into the strip). The applied Gaussian has s^2 = (0.5 * 4)^2 - 1/12 input px^2,
    // s = 1.979. Were the nodata value 0 blurred in as data, the share of the kernel weight falling on
    // the strip, averaged over the footprint's valid input pixels, would be (python3:
    //   Phi=lambda z: 0.5*(1+math.erf(z/math.sqrt(2))); s=math.sqrt(4-1/12)
    //   mean(Phi((50-(x+0.5))/s) for x in footprint if x >= 50))
    //   column 12: 0.312 -> band 1 150 -> 103.2, band 2 105 -> 72.2
    //   column 13: 0.0390 -> band 1 150 -> 144.2 (-5.8 DN), band 2 105 -> 100.9 (-4.1 DN)
    //   column 14: 1.5e-4 (0.02 DN: out of reach; it is read for the flat value all the same).
    // With nodata excluded (normalized convolution) every valid pixel there is exactly the flat value;
    // a bound of 1 DN (Byte rounding 0.5 DN plus margin) is 4x below the smallest leak.
    const float flat[2] = {150.f, 105.f};
    for (int band = 1; band <= 2; ++band) {
        const MaskedImage m = out.read_masked(band, {0, 0, out.width(), out.height()});
        for (std::int64_t y = 0; y < out.height(); ++y) {
            for (std::int64_t x = 0; x < 12; ++x)
                EXPECT_FALSE(m.valid(x, y)) << "band " << band << " x " << x;  // fully nodata footprints
            for (std::int64_t x = 13; x < out.width(); ++x)
                EXPECT_TRUE(m.valid(x, y)) << "band " << band << " x " << x;
            // Column 12 (half nodata) may be valid or not; if valid, its value is the flat value too.
            if (m.valid(12, y)) {
                EXPECT_NEAR(m.pixels.at(12, y), flat[band - 1], 1.0) << "band " << band << " y " << y;
            }
            // Columns 13..16 (their blurred footprints stay inside input columns 50..99).
            for (std::int64_t x = 13; x <= 16; ++x)
                EXPECT_NEAR(m.pixels.at(x, y), flat[band - 1], 1.0) << "band " << band << " x " << x << " y " << y;
        }
    }
}

TEST(Degrade, ErrorsAreClearAndLeaveNoOutput) {
    const test::TempDir dir("deg_err");
    const fs::path in = write(dir, "in.tif", scene(64, 64), utm(0.5));
    auto expect = [&](const DegradeParams& p, const std::string& needle) {
        const std::string e = error_of(p);
        EXPECT_NE(e.find(needle), std::string::npos) << "got: " << e;
        EXPECT_FALSE(fs::exists(p.output));
    };
    expect(simple(in, dir / "o.tif", 0.3), "finer than the input GSD");
    DegradeParams p = simple(in, dir / "o.tif", 2);
    p.sensor = "no-such-sat";
    p.target_gsd_m.reset();
    p.sigma_px.reset();
    expect(p, "worldview-3");  // the error lists the valid names
    p = simple(in, dir / "o.tif", -2);
    expect(p, "--target-gsd-m");
    p = simple(in, dir / "o.tif", 2);
    p.snr = 0;
    expect(p, "--snr");
    p = simple(in, dir / "o.tif", 2);
    p.sigma_px = -1;
    expect(p, "--sigma-px");
    p = simple(in, dir / "o.tif", 2);
    p.bits = 0;
    expect(p, "--bits");
    // A flat input has no signal for an SNR: the file and the reason, not "give --snr" (it was given).
    Image flat(64, 64);
    std::fill(flat.pixels().begin(), flat.pixels().end(), 500.f);
    p = simple(write(dir, "flat.tif", flat, utm(0.5)), dir / "o.tif", 2);
    p.snr = 30;
    expect(p, "flat.tif: band 1 has no dynamic range");
    EXPECT_EQ(error_of(p).find("give --snr"), std::string::npos);
    const fs::path plain = write(dir, "plain.tif", scene(64, 64), GeoReference{});
    expect(simple(plain, dir / "o.tif", 2), "no georeferencing");
    p = simple(plain, dir / "o.tif", 2);
    p.gsd.override_m = std::pair{0.5, 0.5};
    EXPECT_EQ(error_of(p), "");
    EXPECT_TRUE(fs::exists(dir / "o.tif"));
    EXPECT_EQ(Raster::open(dir / "o.tif").width(), 16);
}

TEST(Degrade, RealImageToMalligyongClassSensor) {
    if (!test::have_real_data()) GTEST_SKIP() << "../shared/data/real is absent";
    const test::TempDir dir("deg_real");
    DegradeParams p;
    p.input = test::real_data_dir() / "pan1.tif";
    p.output = dir / "m1.tif";
    p.sensor = "malligyong-1";
    const DegradeResult r = degrade(p);
    Raster out = Raster::open(p.output);
    const Gsd g = compute_gsd(out.info());
    EXPECT_NEAR(g.x_m, r.plan.target_gsd_m, 1e-6);
    EXPECT_NEAR(out.width(), 600 * 0.5 / r.plan.target_gsd_m, 1.0);
    const ImageStats in = compute_stats(Raster::open(p.input).read(1).view());
    const ImageStats st = compute_stats(out.read(1).view());
    EXPECT_NEAR(st.mean, in.mean, 0.03 * in.mean);  // noise and quantization aside, the level is kept
}

TEST(Degrade, MeasuredInputBlur) {
    // The input's blur measured from its own edges (assess) replaces --input-sigma-px.
    const test::TempDir dir("deg_measure");
    Image img = test::render_rotated_squares(720, 720, 120, 72, {4, 6, 8, 10, 5, 7}, 0.7, 300, 1300);
    const fs::path in = write(dir, "sq.tif", img, utm(0.5), DataType::Float32);
    DegradeParams p = simple(in, dir / "out.tif", 2.0);
    p.measure_input = true;
    const DegradeResult r = degrade(p);
    ASSERT_TRUE(r.plan.applied_sigma_x_px.has_value());
    // sigma_apply^2 = (0.5 * 4)^2 - sigma_in^2 - 1/12 with the measured sigma_in close to 0.7.
    EXPECT_NEAR(*r.plan.applied_sigma_x_px, std::sqrt(4.0 - 0.49 - 1.0 / 12.0), 0.03);
    bool said = false;
    for (const auto& a : r.plan.assumptions)
        said |= a.find("measured by assess") != std::string::npos;
    EXPECT_TRUE(said);
    p.input_sigma_px = 0.7;
    EXPECT_NE(error_of(p).find("give one of"), std::string::npos);
}

TEST(Degrade, APresetNeverSharpensABlurrierInput) {
    // A preset target barely coarser than a blurry input (sigma 1.5 px): its optics would pass more
    // than the input holds at mid frequencies. The kernel's gain is capped at 1 (no sharpening,
    // no amplified noise) and a warning says so; a sharp input gets no such warning.
    const test::TempDir dir("deg_no_sharpen");
    const fs::path in = write(dir, "in.tif", scene(300, 300), utm(0.5));
    DegradeParams p;
    p.input = in;
    p.output = dir / "out.tif";
    p.sensor = "pleiades";
    sensor::SensorDescription d = sensor::find_sensor_preset("pleiades").description;
    d.altitude_m *= 0.6 / sensor::SensorModel::physical(d).gsd_m();  // ground GSD 0.6 m
    p.sensor_description = d;
    p.input_sigma_px = 1.5;
    DegradeResult r = degrade(p);
    EXPECT_LE(r.plan.input_noise_gain, 1.0 + 1e-9);
    auto warned = [](const DegradeResult& res) {
        for (const auto& w : res.plan.warnings)
            if (w.find("not sharpened") != std::string::npos) return true;
        return false;
    };
    EXPECT_TRUE(warned(r));
    p.input_sigma_px = 0.1;
    r = degrade(p);
    EXPECT_FALSE(warned(r));
    EXPECT_LE(r.plan.input_noise_gain, 1.0 + 1e-9);
}

TEST(Degrade, NodataAnIntegerOutputCannotHoldIsAMaskBand) {
    // A NaN nodata (Float32 input) to an 8-bit output, and 65535 (UInt16) to 8 bits: the output
    // type holds neither, so the nodata pixels are marked in a per-dataset mask band, never written
    // as valid-looking values (a NaN cast to 0, or 65535 clamped onto a bright 255).
    const test::TempDir dir("deg_nodata_mask");
    Image img = scene(200, 200);
    for (std::int64_t y = 40; y < 80; ++y)
        for (std::int64_t x = 0; x < 200; ++x)
            img.at(x, y) = std::numeric_limits<float>::quiet_NaN();
    Image u16 = img;
    for (float& v : u16.pixels())
        if (std::isnan(v)) v = 65535.f;
    const fs::path f32 =
        write(dir, "f32.tif", img, utm(0.5), DataType::Float32, std::numeric_limits<double>::quiet_NaN());
    const fs::path u = write(dir, "u16.tif", u16, utm(0.5), DataType::UInt16, 65535.0);
    for (const fs::path& in : {f32, u})
        for (const bool cog : {false, true}) {  // through GDAL's COG driver too
            DegradeParams p = simple(in, dir / ("out_" + in.stem().string() + (cog ? "_cog.tif" : ".tif")), 2.0);
            p.bits = 8;
            p.cloud_optimized = cog;
            (void)degrade(p);
            Raster out = Raster::open(p.output);
            ASSERT_EQ(out.info().bands[0].type, DataType::Byte) << in;
            EXPECT_FALSE(out.info().bands[0].nodata.has_value()) << in;
            EXPECT_TRUE(out.info().bands[0].has_mask) << in;
            const MaskedImage m = out.read_masked(1, {0, 0, out.width(), out.height()});
            // Input rows 40..79 at ratio 4: output rows 10..19 are nodata, rows far from them valid.
            for (std::int64_t x = 0; x < out.width(); ++x) {
                for (std::int64_t y = 10; y < 20; ++y)
                    EXPECT_FALSE(m.valid(x, y)) << in << " x " << x << " y " << y;
                for (std::int64_t y : {0, 5, 25, 49})
                    EXPECT_TRUE(m.valid(x, y)) << in << " x " << x << " y " << y;
            }
            // Nothing beside the file (GDAL 3.6 writes a .msk sidecar unless told otherwise).
            EXPECT_FALSE(fs::exists(fs::path(p.output.string() + ".msk"))) << in;
        }
    EXPECT_EQ(test::count_entries(dir), 6) << "only the two inputs and the four outputs";
}

TEST(Degrade, AStripBeyondMemoryIsRefusedBeforeAnyPixelIsWritten) {
    // 2,000,000 px square (a VRT over a small file) to 50 km: one output row needs 100,000 input
    // rows of 2,000,000 px, terabytes: refused with the file and the figures, no output left.
    const test::TempDir dir("deg_memory");
    (void)write(dir, "small.tif", scene(300, 300), utm(0.5));
    {
        std::ofstream vrt(dir / "huge.vrt");
        vrt << R"(<VRTDataset rasterXSize="2000000" rasterYSize="2000000"><SRS>EPSG:32652</SRS>)"
            << R"(<GeoTransform>350000, 0.5, 0, 4300000, 0, -0.5</GeoTransform>)"
            << R"(<VRTRasterBand dataType="UInt16" band="1"><SimpleSource>)"
            << R"(<SourceFilename relativeToVRT="1">small.tif</SourceFilename><SourceBand>1</SourceBand>)"
            << R"(<SrcRect xOff="0" yOff="0" xSize="300" ySize="300"/><DstRect xOff="0" yOff="0" xSize="300" ySize="300"/>)"
            << R"(</SimpleSource></VRTRasterBand></VRTDataset>)";
    }
    DegradeParams p = simple(dir / "huge.vrt", dir / "o.tif", 50000);
    p.sigma_px = 0;
    const std::string e = error_of(p);
    EXPECT_NE(e.find("huge.vrt: one strip of the output needs about"), std::string::npos) << e;
    EXPECT_NE(e.find("more than half the physical memory"), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(dir / "o.tif"));
    EXPECT_EQ(test::count_entries(dir), 2) << "no temporary file left";
}

TEST(Degrade, APresetsNoiseCountsTheInputsOwn) {
    // The shot + read model makes up the target noise with the input's own noise (after the blur
    // and the integration), as the Gaussian model does: here the input's residual noise already
    // exceeds the target's, so almost nothing is added and a warning says so. Taking the input's
    // noise as negligible would add the whole target noise on top (about 1.4x the residual).
    const test::TempDir dir("deg_preset_noise");
    DegradeParams p;
    p.input = write(dir, "noisy_in.tif", noisy_step(60.0), utm(0.5), DataType::Float32);
    p.output = dir / "out.tif";
    p.sensor = "pleiades";
    sensor::SensorDescription d = sensor::find_sensor_preset("pleiades").description;
    d.altitude_m *= 2.0 / sensor::SensorModel::physical(d).gsd_m();  // ground GSD 2 m: ratio 4
    p.sensor_description = d;
    p.snr = 50;
    const DegradeResult r = degrade(p);
    ASSERT_EQ(r.plan.noise_model, NoiseModel::shot_read);
    const double residual = 60.0 * r.plan.input_noise_gain;
    ASSERT_GT(residual, r.plan.noise_sigma_dn_at_15);  // the input's noise alone exceeds the target's
    bool warned = false;
    for (const auto& w : r.plan.warnings)
        warned = warned || w.find("already exceeds the target noise") != std::string::npos;
    EXPECT_TRUE(warned);
    const double sigma = column_band_sigma(Raster::open(dir / "out.tif").read(1), 5, 140);
    EXPECT_NEAR(sigma, residual, 0.1 * residual) << "target " << r.plan.noise_sigma_dn_at_15;
}
