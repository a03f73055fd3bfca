// satiq synth: samples written as GeoTIFF + truth JSON; determinism, georeferencing, truth vs pixels.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

#include <tbb/global_control.h>
#include <nlohmann/json.hpp>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/samples.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace satiq {
namespace {

nlohmann::json read_json(const fs::path& p) {
    return nlohmann::json::parse(satiq::test::read_file(p));
}

SampleOutput output(const fs::path& path, int bits, double gsd_m) {
    SampleOutput o;
    o.image_path = path;
    o.bits = bits;
    o.gsd_m = gsd_m;
    return o;
}

EdgeSample edge_sample(double angle_deg, double sigma_px, double noise_dn) {
    EdgeSample s;
    s.width_px = 96;
    s.height_px = 80;
    s.edge.angle_deg = angle_deg;
    s.edge.sigma_px = sigma_px;
    s.edge.dark_dn = 4000;
    s.edge.bright_dn = 12000;
    s.edge.noise_sigma_dn = noise_dn;
    s.edge.seed = 7;
    return s;
}

AirfieldSample small_airfield() {
    AirfieldSample s;
    s.scene.width_px = 256;
    s.scene.height_px = 256;
    s.scene.supersample = 3;
    return s;
}

void write_all(const fs::path& dir) {
    write_edge_sample(edge_sample(5.0, 0.5, 20.0), output(dir / "edge.tif", 16, 0.5));
    EdgeSample e8 = edge_sample(8.0, 1.0, 2.0);
    e8.edge.dark_dn = 50;
    e8.edge.bright_dn = 200;
    write_edge_sample(e8, output(dir / "edge8.tif", 8, 0.3));
    TribarSample t;
    t.width_px = 320;
    t.height_px = 200;
    t.tribar.largest_bar_px = 6;
    t.tribar.element_count = 8;
    t.tribar.noise_sigma_dn = 1.0;
    t.tribar.bar_dn = 200;
    t.tribar.background_dn = 40;
    write_tribar_sample(t, output(dir / "tribar.tif", 8, 0.5));
    write_airfield_sample(small_airfield(), output(dir / "airfield.tif", 16, 2.0));
}

TEST(Synth, RegeneratingGivesIdenticalBytesForAnyThreadCount) {
    const test::TempDir a("synth_a"), b("synth_b"), c("synth_c");
    write_all(a);
    write_all(b);
    {
        tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
        write_all(c);
    }
    for (const char* name : {"edge.tif", "edge.json", "edge8.tif", "edge8.json", "tribar.tif", "tribar.json",
                             "airfield.tif", "airfield.json"}) {
        const std::string fa = satiq::test::read_file(a / name);
        ASSERT_FALSE(fa.empty()) << name;
        EXPECT_TRUE(fa == satiq::test::read_file(b / name)) << name << " differs between two runs";
        EXPECT_TRUE(fa == satiq::test::read_file(c / name)) << name << " differs between all threads and 1 thread";
    }
    // Nothing but the outputs is left behind (temporary files renamed).
    int files = 0;
    for (const auto& e : fs::directory_iterator(a)) {
        ++files;
        EXPECT_TRUE(e.path().extension() == ".tif" || e.path().extension() == ".json") << e.path();
    }
    EXPECT_EQ(files, 8);
}

TEST(Synth, EdgeGeoreferencingAndTruthMatchThePixels) {
    const test::TempDir dir("synth_edge");
    SampleOutput o = output(dir / "e.tif", 16, 0.4);
    o.epsg = 32652;
    const EdgeSample s = edge_sample(5.0, 0.5, 0.0);
    const SampleResult r = write_edge_sample(s, o);
    EXPECT_EQ(r.truth_path, dir / "e.json");
    const auto truth = read_json(r.truth_path);
    const Raster ras = Raster::open(r.image_path);
    ASSERT_EQ(ras.width(), 96);
    ASSERT_EQ(ras.height(), 80);
    EXPECT_EQ(ras.info().bands[0].type, DataType::UInt16);
    const Gsd g = compute_gsd(ras.info());
    EXPECT_NEAR(g.x_m, 0.4, 1e-9);
    EXPECT_NEAR(g.y_m, 0.4, 1e-9);
    EXPECT_NE(ras.info().geo.crs_wkt.find("UTM zone 52N"), std::string::npos);
    ASSERT_TRUE(ras.info().geo.geotransform.has_value());
    EXPECT_DOUBLE_EQ((*ras.info().geo.geotransform)[0], 400000.0);
    EXPECT_DOUBLE_EQ((*ras.info().geo.geotransform)[3], 4300000.0);
    EXPECT_EQ(truth["georeference"]["epsg"], 32652);
    EXPECT_DOUBLE_EQ(truth["georeference"]["gsd_m"].get<double>(), 0.4);

    const auto& e = truth["edge"];
    EXPECT_DOUBLE_EQ(e["angle_deg"].get<double>(), 5.0);
    EXPECT_DOUBLE_EQ(e["sigma_px"].get<double>(), 0.5);
    // Independent values for sigma = 0.5 px, derived by hand from the model the truth file states
    // (ESF(d) = int_{d-1/2}^{d+1/2} Phi(u/s) du, MTF(f) = exp(-2 pi^2 s^2 f^2) |sinc f|) and computed
    // in python3 (double precision), with Phi(z) = 0.5*(1+math.erf(z/math.sqrt(2))),
    // phi(z) = math.exp(-z*z/2)/math.sqrt(2*math.pi), F(u) = u*Phi(u/s) + s*phi(u/s), ER(x) = F(x+.5) - F(x-.5):
    //   RER  = ER(.5) - ER(-.5) = math.erf(1/(s*math.sqrt(2))) + 2*s*(phi(1/s) - phi(0))  = 0.609548422215397
    //   MTF(Nyquist) = math.exp(-math.pi**2*s*s/2) * 2/math.pi                            = 0.18539191125320564
    //   MTF50 = root of MTF(f) = 0.5 on (0, 1), 200 bisection steps                       = 0.32308818957112917
    //   H    = ER(1.25) (the ESF rises monotonically; Leachtenauer et al. 1997)            = 0.9853758435779082
    EXPECT_NEAR(e["rer_analytic"].get<double>(), 0.609548422215397, 1e-12);
    EXPECT_NEAR(e["mtf50_cyc_per_px_analytic"].get<double>(), 0.32308818957112917, 1e-12);
    EXPECT_NEAR(e["mtf_nyquist_analytic"].get<double>(), 0.18539191125320564, 1e-12);
    EXPECT_NEAR(e["overshoot_h_analytic"].get<double>(), 0.9853758435779082, 1e-12);
    // And the library's closed forms agree with the same hand values.
    const EdgeTruth t = box_gaussian_edge_truth(0.5);
    EXPECT_NEAR(t.rer, 0.609548422215397, 1e-12);
    EXPECT_NEAR(t.mtf50_cyc_per_px, 0.32308818957112917, 1e-12);
    EXPECT_NEAR(t.mtf_nyquist, 0.18539191125320564, 1e-12);
    EXPECT_NEAR(box_gaussian_esf(1.25, 0.5), 0.9853758435779082, 1e-12);
    EXPECT_TRUE(e["square_pixel"].contains("rer_square_pixel"));

    const Image img = ras.read(1);
    const double x0 = e["point_px"][0].get<double>(), y0 = e["point_px"][1].get<double>();
    const double nx = e["normal"][0].get<double>(), ny = e["normal"][1].get<double>();
    const double dark = e["dark_dn"].get<double>(), bright = e["bright_dn"].get<double>();
    // Plateaus exact far from the edge; every pixel equals the exact square-pixel integral to
    // quantization; the profile binned along the normal follows the 1-D ESF.
    std::vector<double> bin_sum(64, 0.0), bin_n(64, 0.0);
    const double p = nx, q = ny;
    for (std::int64_t y = 0; y < img.height(); ++y)
        for (std::int64_t x = 0; x < img.width(); ++x) {
            const double d = (x + 0.5 - x0) * nx + (y + 0.5 - y0) * ny;
            const double v = img.at(x, y);
            if (d < -6) {
                ASSERT_EQ(v, dark);
            }
            if (d > 6) {
                ASSERT_EQ(v, bright);
            }
            const double exact = dark + (bright - dark) * square_pixel_step_fraction(d - 0.5 * (p + q), p, q, 0.5);
            ASSERT_LE(std::abs(v - exact), 0.5 + 1e-3);
            const int bin = static_cast<int>(std::floor((d + 4.0) * 4.0));
            if (bin >= 0 && bin < 32) {
                bin_sum[static_cast<std::size_t>(bin)] += (v - dark) / (bright - dark) - box_gaussian_esf(d, 0.5);
                bin_n[static_cast<std::size_t>(bin)] += 1;
            }
        }
    for (int b = 0; b < 32; ++b) {
        if (bin_n[static_cast<std::size_t>(b)] > 0) {
            EXPECT_NEAR(bin_sum[static_cast<std::size_t>(b)] / bin_n[static_cast<std::size_t>(b)], 0.0, 2e-3) << b;
        }
    }
}

TEST(Synth, NoisyEightBitEdgeHasTheRequestedNoise) {
    const test::TempDir dir("synth_edge8");
    EdgeSample s = edge_sample(8.0, 1.0, 3.0);
    s.width_px = 200;
    s.height_px = 200;
    s.edge.dark_dn = 50;
    s.edge.bright_dn = 200;
    const SampleResult r = write_edge_sample(s, output(dir / "n.tif", 8, 0.5));
    const Raster ras = Raster::open(r.image_path);
    EXPECT_EQ(ras.info().bands[0].type, DataType::Byte);
    const Image img = ras.read(1);
    // Far dark side: left 40 columns.
    double sum = 0, sum2 = 0, n = 0;
    for (std::int64_t y = 0; y < 200; ++y)
        for (std::int64_t x = 0; x < 40; ++x) {
            sum += img.at(x, y);
            sum2 += img.at(x, y) * img.at(x, y);
            n += 1;
        }
    const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    EXPECT_NEAR(mean, 50.0, 0.1);
    EXPECT_NEAR(sd, std::sqrt(9.0 + 1.0 / 12.0), 0.15);  // noise plus quantization
}

TEST(Synth, TribarTruthListsBarWidthsThatThePixelsShow) {
    const test::TempDir dir("synth_tribar");
    TribarSample t;
    t.width_px = 320;
    t.height_px = 200;
    t.tribar.largest_bar_px = 6;
    t.tribar.element_count = 8;
    t.tribar.sigma_px = 0.3;
    t.tribar.background_dn = 1000;
    t.tribar.bar_dn = 9000;
    const SampleResult r = write_tribar_sample(t, output(dir / "t.tif", 16, 0.25));
    const auto truth = read_json(r.truth_path);
    const auto& el = truth["tribar"]["elements"];
    ASSERT_EQ(el.size(), 16u);
    EXPECT_DOUBLE_EQ(el[0]["bar_width_px"].get<double>(), 6.0);
    EXPECT_DOUBLE_EQ(el[0]["bar_width_m"].get<double>(), 1.5);
    EXPECT_NEAR(el[14]["bar_width_px"].get<double>(), 6.0 * std::pow(2.0, -7.0 / 6.0), 1e-12);
    const Image img = Raster::open(r.image_path).read(1);
    for (const auto& e : el) {
        if (e["bar_width_px"].get<double>() < 3.0) continue;
        const bool vertical = e["orientation"] == "vertical_bars";
        for (const auto& b : e["bars_px"]) {
            // The centre of each bar is close to full contrast; half a bar width outside it, in a
            // gap, the value is near the background.
            const double cx = (b[0].get<double>() + b[2].get<double>()) / 2,
                         cy = (b[1].get<double>() + b[3].get<double>()) / 2;
            EXPECT_GT(img.at(static_cast<std::int64_t>(cx), static_cast<std::int64_t>(cy)), 8000.0f);
            const double w = e["bar_width_px"].get<double>();
            const double gx = vertical ? b[2].get<double>() + w / 2 : cx,
                         gy = vertical ? cy : b[3].get<double>() + w / 2;
            EXPECT_LT(img.at(static_cast<std::int64_t>(gx), static_cast<std::int64_t>(gy)), 2000.0f);
        }
    }
}

TEST(Synth, AirfieldObjectsAreWhereTheTruthSays) {
    const test::TempDir dir("synth_air");
    AirfieldSample s;
    s.scene.width_px = 512;
    s.scene.height_px = 512;
    s.scene.supersample = 2;
    const SampleResult r = write_airfield_sample(s, output(dir / "a.tif", 16, 1.0));
    const auto truth = read_json(r.truth_path);
    const Raster ras = Raster::open(r.image_path);
    const Gsd g = compute_gsd(ras.info());
    EXPECT_NEAR(g.mean_m, 1.0, 1e-9);
    const Image img = ras.read(1);
    int checked = 0;
    for (const auto& o : truth["objects"]) {
        const std::string cat = o["category"];
        if (cat != "aircraft" && cat != "tank" && cat != "tel" && cat != "hangar") continue;
        const double cx = o["centre_px"][0].get<double>(), cy = o["centre_px"][1].get<double>();
        const double len = o["length_px"].get<double>(), wid = o["width_px"].get<double>();
        // Mean over a small box at the centre of the footprint against a ring of ground around it
        // (outside the object and its shadow, which falls to the north-west).
        const double half = std::max(0.5, std::min(len, wid) / 12.0);
        double in = 0, nin = 0;
        for (double dy = -half; dy <= half; dy += 0.5)
            for (double dx = -half; dx <= half; dx += 0.5) {
                in += img.at(static_cast<std::int64_t>(cx + dx), static_cast<std::int64_t>(cy + dy));
                nin += 1;
            }
        in /= nin;
        const double reach = std::max(len, wid) / 2.0 + 3.0;
        const double ox = cx + reach, oy = cy + reach;  // south-east of the object, away from its shadow
        const double out = img.at(static_cast<std::int64_t>(ox), static_cast<std::int64_t>(oy));
        EXPECT_GT(std::abs(in - out), 60.0) << o["id"] << " in " << in << " out " << out;
        ++checked;
    }
    EXPECT_GE(checked, 16);
    // Il-76 dimensions in the truth.
    bool found = false;
    for (const auto& o : truth["objects"])
        if (o["model"] == "Il-76") {
            found = true;
            EXPECT_DOUBLE_EQ(o["length_m"].get<double>(), 46.59);
            EXPECT_DOUBLE_EQ(o["width_m"].get<double>(), 50.5);
            EXPECT_DOUBLE_EQ(o["length_px"].get<double>(), 46.59);
        }
    EXPECT_TRUE(found);
}

TEST(Synth, InvalidOutputsThrow) {
    const test::TempDir dir("synth_bad");
    const EdgeSample s = edge_sample(5, 0.5, 0);
    EXPECT_THROW(write_edge_sample(s, output(dir / "x.tif", 12, 0.5)), Error);
    EXPECT_THROW(write_edge_sample(s, output(dir / "x.tif", 16, -1)), Error);
    EXPECT_THROW(write_edge_sample(s, output(dir / "x.json", 16, 0.5)), Error);
    EXPECT_THROW(write_edge_sample(s, output(dir / "missing" / "x.tif", 16, 0.5)), Error);
    SampleOutput o = output(dir / "x.tif", 16, 0.5);
    o.epsg = 4326;
    EXPECT_THROW(write_edge_sample(s, o), Error);
    EdgeSample bad = s;
    bad.edge.bright_dn = 300;  // 8-bit range
    EXPECT_THROW(write_edge_sample(bad, output(dir / "x.tif", 8, 0.5)), Error);
    EXPECT_FALSE(fs::exists(dir / "x.tif"));
}

TEST(SynthCli, EdgeCommandWritesFileAndJson) {
    const test::TempDir dir("synth_cli");
    const auto r = test::run_command(test::satiq_binary() + " synth edge " + (dir / "c.tif").string() +
                                     " --angle-deg 4 --sigma-px 0.7 --size 64,48 --gsd-m 0.3 --bits 8 --noise-dn 1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["command"], "synth edge");
    EXPECT_EQ(doc["results"][0]["width_px"], 64);
    EXPECT_EQ(doc["results"][0]["height_px"], 48);
    EXPECT_DOUBLE_EQ(doc["results"][0]["gsd_m"].get<double>(), 0.3);
    EXPECT_TRUE(fs::exists(dir / "c.json"));
    const auto truth = read_json(dir / "c.json");
    EXPECT_DOUBLE_EQ(truth["edge"]["sigma_px"].get<double>(), 0.7);
    EXPECT_DOUBLE_EQ(truth["edge"]["dark_dn"].get<double>(), 50.0);
    const auto help = test::run_command(test::satiq_binary() + " synth airfield --help");
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--sun-elevation-deg"), std::string::npos);
    const auto bad = test::run_command(test::satiq_binary() + " synth edge " + (dir / "d.tif").string() + " --bits 12");
    EXPECT_EQ(bad.exit_code, 2);
    const auto bad2 =
        test::run_command(test::satiq_binary() + " synth edge " + (dir / "d.tif").string() + " --sigma-px -3");
    EXPECT_EQ(bad2.exit_code, 2);  // an option error is a usage error
    EXPECT_FALSE(fs::exists(dir / "d.tif"));
}

}  // namespace
}  // namespace satiq
