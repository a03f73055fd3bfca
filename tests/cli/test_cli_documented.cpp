// Documented CLI behaviour (README, `satiq <cmd> --help`) that had no test: the JSON envelope of
// assess, --target, --resolution-rule, --band and the RGB luminance default, degrade --cog /
// --compress and GCP preservation, elevation from metadata, --roi-lines and RPC GSD.
// Expected values come from the inputs the tests make (GDAL command-line tools, the samples' truth
// files, hand geometry), not from satiq's own code.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <numbers>
#include <string>

#include <ogr_spatialref.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path samples = fs::path(SATIQ_SOURCE_DIR) / "samples";

std::string q(const fs::path& p) {
    return test::shell_quote(p);
}

// Runs a GDAL command-line tool; fails the test when it does not succeed.
void gdal(const std::string& cmd) {
    const auto r = test::run_command(cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
}

json gdalinfo_json(const fs::path& p) {
    const auto r = test::run_command("gdalinfo -json " + q(p));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

// `satiq assess --format json ARGS`: the parsed document; the exit code is checked by the caller.
json assess_json(const std::string& args, int* exit_code = nullptr) {
    const auto r = test::run_satiq("assess --format json --no-edge-records " + args);
    if (exit_code)
        *exit_code = r.exit_code;
    else
        EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

}  // namespace

// ---- assess JSON envelope ----

TEST(CliDocumented, AssessEnvelopeParametersVersionAndFailedCount) {
    const test::TempDir dir("doc_env");
    const auto ver = test::run_satiq("--version");
    ASSERT_EQ(ver.exit_code, 0) << ver.err;
    std::string version = ver.out;
    while (!version.empty() && (version.back() == '\n' || version.back() == '\r' || version.back() == ' '))
        version.pop_back();
    // `satiq --version` prints "satiq X.Y.Z"; the envelope carries X.Y.Z.
    const std::string bare = version.rfind("satiq ", 0) == 0 ? version.substr(6) : version;
    ASSERT_FALSE(bare.empty());

    const fs::path good = samples / "tribar.tif";
    json ok = assess_json(q(good));
    EXPECT_EQ(ok["satiq_version"], bare);
    EXPECT_EQ(ok["failed_count"], 0);
    ASSERT_TRUE(ok.contains("parameters"));
    EXPECT_EQ(ok["parameters"]["files"], json::array({good.string()}));
    EXPECT_EQ(ok["parameters"]["resolution_rule"], "niirs_model");  // the documented default
    EXPECT_EQ(ok["parameters"]["giqe"], "5");

    // Two bad files among two good ones: failed_count 2, exit 1, every file has a result.
    std::ofstream(dir / "junk1.tif") << "not a raster";
    std::ofstream(dir / "junk2.tif") << "neither";
    int rc = -1;
    json mixed = assess_json(
        q(good) + " " + q(dir / "junk1.tif") + " " + q(samples / "airfield_0p25m.tif") + " " + q(dir / "junk2.tif"),
        &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(mixed["failed_count"], 2);
    ASSERT_EQ(mixed["results"].size(), 4u);
    EXPECT_EQ(mixed["results"][0]["status"], "ok");
    EXPECT_EQ(mixed["results"][1]["status"], "error");
    EXPECT_EQ(mixed["results"][2]["status"], "ok");
    EXPECT_EQ(mixed["results"][3]["status"], "error");
    EXPECT_EQ(mixed["satiq_version"], bare);
}

// ---- --target NAME:LENGTH:WIDTH ----

TEST(CliDocumented, CustomTargetAppearsInAssessAndPredict) {
    // Critical dimension of a 4.5 x 1.8 m target: sqrt(4.5 * 1.8) = sqrt(8.1) = 2.84605 m (Johnson).
    const double critical = std::sqrt(4.5 * 1.8);
    auto find_target = [](const json& interp) -> const json* {
        for (const json& t : interp["targets"])
            if (t.value("key", "") == "mycar") return &t;
        return nullptr;
    };
    json a = assess_json("--target mycar:4.5:1.8 " + q(samples / "airfield_0p25m.tif"));
    EXPECT_EQ(a["parameters"]["targets"], json::array({"mycar:4.5:1.8"}));
    const json* t = find_target(a["results"][0]["interpretability"]);
    ASSERT_NE(t, nullptr) << a["results"][0]["interpretability"].dump().substr(0, 2000);
    EXPECT_DOUBLE_EQ((*t)["length_m"].get<double>(), 4.5);
    EXPECT_DOUBLE_EQ((*t)["width_m"].get<double>(), 1.8);
    EXPECT_NEAR((*t)["critical_dimension_m"].get<double>(), critical, 1e-9);
    EXPECT_EQ((*t)["dimensions_source"], "user supplied");

    const auto p = test::run_satiq(
        "predict --format json --target-gsd-m 0.5 --mtf-nyquist 0.2 --snr 40 "
        "--target mycar:4.5:1.8");
    ASSERT_EQ(p.exit_code, 0) << p.err;
    const std::string out = p.out;
    EXPECT_NE(out.find("\"mycar\""), std::string::npos) << out.substr(0, 2000);
    EXPECT_NE(out.find("2.846"), std::string::npos);  // its critical dimension
}

// ---- --resolution-rule ----

TEST(CliDocumented, ResolutionRuleSelectsThePrimaryRule) {
    const fs::path in = samples / "airfield_0p25m.tif";
    for (const char* rule : {"niirs_model", "gsd_over_rer", "gsd_nyquist", "mtf50"}) {
        json j = assess_json(std::string("--resolution-rule ") + rule + " " + q(in));
        EXPECT_EQ(j["parameters"]["resolution_rule"], rule);
        EXPECT_EQ(j["results"][0]["interpretability"]["resolution_rule"], rule);
    }
    const auto bad = test::run_satiq("assess --resolution-rule bogus " + q(in));
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_NE(bad.err.find("bogus"), std::string::npos) << bad.err;
}

// ---- --band N and the RGB luminance default ----

TEST(CliDocumented, BandAndRgbLuminance) {
    const test::TempDir dir("doc_band");
    const fs::path src = samples / "airfield_0p25m.tif";
    const fs::path rgb = dir / "rgb.tif";
    gdal("gdal_translate -q -b 1 -b 1 -b 1 -colorinterp red,green,blue " + q(src) + " " + q(rgb));
    json one = assess_json(q(src));
    json lum = assess_json(q(rgb));
    json b2 = assess_json("--band 2 " + q(rgb));
    EXPECT_NE(lum["results"][0]["band_used"].get<std::string>().find("luminance"), std::string::npos)
        << lum["results"][0]["band_used"];
    EXPECT_EQ(b2["results"][0]["band_used"], "band 2");
    EXPECT_EQ(b2["parameters"]["band"], 2);
    // All three bands are the same band, and the Rec. 601 weights sum to 1: the luminance and band 2
    // are that band, so the measurement equals the single-band one.
    const double n1 = one["results"][0]["niirs"]["giqe5"]["value"].get<double>();
    for (json* j : {&lum, &b2}) {
        json& r = (*j)["results"][0];
        EXPECT_NEAR(r["niirs"]["giqe5"]["value"].get<double>(), n1, 0.02) << r["band_used"];
        EXPECT_NEAR(r["rer"]["x"].get<double>(), one["results"][0]["rer"]["x"].get<double>(), 0.005) << r["band_used"];
    }
}

// ---- degrade --cog, --compress, GCPs ----

TEST(CliDocumented, DegradeCogAndCompression) {
    const test::TempDir dir("doc_cog");
    const fs::path in = samples / "airfield_0p25m.tif";
    const auto r = test::run_satiq("degrade --target-gsd-m 1.0 --sigma-px 0.5 --cog --compress ZSTD " + q(in) + " " +
                                   q(dir / "cog.tif"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json c = gdalinfo_json(dir / "cog.tif");
    const json& is = c["metadata"]["IMAGE_STRUCTURE"];
    EXPECT_EQ(is.value("LAYOUT", ""), "COG") << is.dump();
    EXPECT_EQ(is.value("COMPRESSION", ""), "ZSTD") << is.dump();
    const json& band = c["bands"][0];
    ASSERT_TRUE(band.contains("block"));
    EXPECT_LT(band["block"][1].get<int>(), c["size"][1].get<int>());  // tiled, not strips of the full width
    EXPECT_EQ(band["block"][0], band["block"][1]);
    ASSERT_TRUE(band.contains("overviews"));
    EXPECT_GE(band["overviews"].size(), 1u);

    for (const char* comp : {"LZW", "DEFLATE"}) {
        const fs::path out = dir / (std::string("c_") + comp + ".tif");
        const auto rr = test::run_satiq(std::string("degrade --target-gsd-m 1.0 --sigma-px 0.5 --compress ") + comp +
                                        " " + q(in) + " " + q(out));
        ASSERT_EQ(rr.exit_code, 0) << rr.err;
        EXPECT_EQ(gdalinfo_json(out)["metadata"]["IMAGE_STRUCTURE"].value("COMPRESSION", ""), comp);
    }
}

TEST(CliDocumented, DegradeKeepsGcpsScaledToTheNewGrid) {
    const test::TempDir dir("doc_gcp");
    // 2048 x 2048 px at 0.25 m: GCPs on the corners of a 512 m square (UTM 52N), no geotransform.
    const fs::path in = dir / "gcp.tif";
    gdal(
        "gdal_translate -q -a_srs EPSG:32652 -gcp 0 0 400000 4300000 -gcp 2048 0 400512 4300000 "
        "-gcp 0 2048 400000 4299488 -gcp 2048 2048 400512 4299488 -gcp 1024 512 400256 4299872 " +
        q(samples / "airfield_0p25m.tif") + " " + q(in));
    ASSERT_FALSE(gdalinfo_json(in).contains("geoTransform"));
    const auto r = test::run_satiq("degrade --target-gsd-m 1.0 --sigma-px 0.5 " + q(in) + " " + q(dir / "out.tif"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json o = gdalinfo_json(dir / "out.tif");
    EXPECT_EQ(o["size"], json::array({512, 512}));  // 0.25 m -> 1 m: a quarter of the pixels
    ASSERT_TRUE(o.contains("gcps")) << o.dump().substr(0, 2000);
    const json& list = o["gcps"]["gcpList"];
    ASSERT_EQ(list.size(), 5u);
    // Same ground points; pixel and line scaled by input GSD / output GSD. The input GSD is the ground
    // distance of a 0.25 m UTM grid step: 0.25 m / k, k the transverse-Mercator point scale at the
    // image centre (E 400256, N 4299744 -> lon 127.8507, lat 38.8409, 1.149 deg west of the zone's
    // central meridian 129): k = k0 (1 + (1 + eta^2) A^2 / 2), A = dlon cos(lat), eta^2 = e'^2 cos^2(lat),
    // k0 = 0.9996: k = 0.99972, so the factor is 0.25007 (not exactly 1/4), e.g. 2048 -> 512.142 px
    // (python3 gives 512.14212 with these formulas).
    OGRSpatialReference utm, wgs;
    utm.importFromEPSG(32652);
    wgs.importFromEPSG(4326);
    utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&utm, &wgs));
    ASSERT_TRUE(ct);
    double lon = 400256.0, lat = 4299744.0;
    ASSERT_TRUE(ct->Transform(1, &lon, &lat));
    const double deg = std::numbers::pi / 180.0;
    const double e2 = 0.0066943799901413165, ep2 = e2 / (1.0 - e2);  // WGS 84
    const double A = (lon - 129.0) * deg * std::cos(lat * deg);
    const double eta2 = ep2 * std::cos(lat * deg) * std::cos(lat * deg);
    const double k = 0.9996 * (1.0 + (1.0 + eta2) * A * A / 2.0);
    const double factor = 0.25 / k / 1.0;
    EXPECT_NEAR(factor, 0.25, 0.25 * 1e-3);  // close to the nominal ratio 1/4
    const double ground[5][4] = {{0, 0, 400000, 4300000},
                                 {2048, 0, 400512, 4300000},
                                 {0, 2048, 400000, 4299488},
                                 {2048, 2048, 400512, 4299488},
                                 {1024, 512, 400256, 4299872}};
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_NEAR(list[i]["pixel"].get<double>(), ground[i][0] * factor, 2e-3) << i;
        EXPECT_NEAR(list[i]["line"].get<double>(), ground[i][1] * factor, 2e-3) << i;
        EXPECT_NEAR(list[i]["x"].get<double>(), ground[i][2], 1e-6) << i;
        EXPECT_NEAR(list[i]["y"].get<double>(), ground[i][3], 1e-6) << i;
    }
}

// ---- elevation from metadata ----

TEST(CliDocumented, ElevationFromMetadata) {
    const test::TempDir dir("doc_elev");
    const fs::path in = dir / "elev.tif";
    gdal("gdal_translate -q -mo SATELLITE_ELEVATION=60 " + q(samples / "edge_5deg_sigma0p5_16bit.tif") + " " + q(in));
    json j = assess_json(q(in));
    const json& g = j["results"][0]["geometry"];
    EXPECT_DOUBLE_EQ(g["elevation_deg"].get<double>(), 60.0);
    EXPECT_NE(g["elevation_source"].get<std::string>().find("metadata"), std::string::npos) << g;
    EXPECT_NE(g["elevation_source"].get<std::string>().find("SATELLITE_ELEVATION"), std::string::npos) << g;
    // Without the metadata: nadir.
    json n = assess_json(q(samples / "edge_5deg_sigma0p5_16bit.tif"));
    EXPECT_DOUBLE_EQ(n["results"][0]["geometry"]["elevation_deg"].get<double>(), 90.0);
}

// ---- --roi-lines ----

TEST(CliDocumented, RoiLinesGiveEdgeRecords) {
    const test::TempDir dir("doc_roi");
    const fs::path in = samples / "edge_5deg_sigma0p5_16bit.tif";
    json truth = json::parse(test::read_file(samples / "edge_5deg_sigma0p5_16bit.json"));
    const json& e = truth["edge"];
    const double gsd = truth["georeference"]["gsd_m"].get<double>();
    const double nx = e["normal"][0].get<double>(), ny = e["normal"][1].get<double>();
    const double em = e["point_map"]["easting_m"].get<double>(), nm = e["point_map"]["northing_m"].get<double>();
    // The edge line runs along (-ny, nx) in pixels (y down): +/- 50 px around the truth point, in map
    // coordinates (north-up: easting + gsd dx, northing - gsd dy).
    auto at = [&](double t) { return std::pair{em + gsd * (-ny * t), nm - gsd * (nx * t)}; };
    const auto [e0, n0] = at(-50.0);
    const auto [e1, n1] = at(50.0);
    const fs::path lines = dir / "lines.geojson";
    {
        std::ofstream f(lines);
        f.precision(12);
        f << "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
             "\"urn:ogc:def:crs:EPSG::"
          << truth["georeference"]["epsg"].get<int>()
          << "\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"LineString\","
             "\"coordinates\":[["
          << e0 << "," << n0 << "],[" << e1 << "," << n1 << "]]}}]}";
    }
    const auto r = test::run_satiq("assess --format json --roi-lines " + q(lines) + " " + q(in));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_EQ(j["parameters"]["roi_lines"], lines.string());
    json& records = j["results"][0]["edges"]["records"];
    ASSERT_TRUE(records.is_array()) << j["results"][0]["edges"].dump().substr(0, 1000);
    ASSERT_GE(records.size(), 1u);
    // The measured edge is the truth's: its RER is near the analytic 0.6095 (truth file; sigma 0.5 px
    // Gaussian * pixel box, derived in test_synth), its angle about 5 deg from vertical.
    for (json& rec : records) {
        EXPECT_NEAR(rec["rer"].get<double>(), e["rer_analytic"].get<double>(), 0.02) << rec.dump().substr(0, 500);
    }
    EXPECT_NEAR(j["results"][0]["rer"]["x"].get<double>(), e["rer_analytic"].get<double>(), 0.02);
}

// ---- RPC GSD ----

TEST(CliDocumented, RpcGsd) {
    const test::TempDir dir("doc_rpc");
    const fs::path in = dir / "rpc.tif";
    gdal("gdal_translate -q -co PROFILE=BASELINE " + q(samples / "edge_5deg_sigma0p5_16bit.tif") + " " + q(in));
    // PROFILE=BASELINE puts the sample's geotransform and CRS in rpc.tif.aux.xml, which satiq reads
    // as GDAL does: without it, the RPCs alone georeference the file.
    fs::remove(fs::path(in.string() + ".aux.xml"));
    // An affine RPC (RPC00B term order: 1, L, P, H, ...): sample = SAMP_OFF + SAMP_SCALE L,
    // line = LINE_OFF - LINE_SCALE P, so one pixel is LONG_SCALE / 128 degrees east and LAT_SCALE / 128
    // degrees south. At latitude 38 deg on WGS 84 (a = 6378137, f = 1/298.257223563), one degree is
    //   M pi/180 = a (1 - e^2) / (1 - e^2 sin^2 38)^1.5 pi/180 = 110995.7 m north,
    //   N cos(38) pi/180 = a cos 38 / sqrt(1 - e^2 sin^2 38) pi/180 = 87832.3 m east;
    // the scales below make each pixel 0.5 m on both axes.
    const double a = 6378137.0, f = 1.0 / 298.257223563, e2 = f * (2.0 - f);
    const double phi = 38.0 * std::numbers::pi / 180.0, s2 = std::sin(phi) * std::sin(phi);
    const double m_per_deg_lat = a * (1.0 - e2) / std::pow(1.0 - e2 * s2, 1.5) * std::numbers::pi / 180.0;
    const double m_per_deg_lon = a * std::cos(phi) / std::sqrt(1.0 - e2 * s2) * std::numbers::pi / 180.0;
    {
        std::ofstream t(dir / "rpc_rpc.txt");
        t.precision(17);
        t << "LINE_OFF: 128\nSAMP_OFF: 128\nLAT_OFF: 38.0\nLONG_OFF: 127.0\nHEIGHT_OFF: 0\n"
          << "LINE_SCALE: 128\nSAMP_SCALE: 128\nLAT_SCALE: " << 128 * 0.5 / m_per_deg_lat
          << "\nLONG_SCALE: " << 128 * 0.5 / m_per_deg_lon << "\nHEIGHT_SCALE: 500\n";
        auto coeffs = [&](const char* name, int index, double value) {
            for (int i = 1; i <= 20; ++i)
                t << name << "_" << i << ": " << (i == index ? value : 0.0) << "\n";
        };
        coeffs("LINE_NUM_COEFF", 3, -1.0);
        coeffs("LINE_DEN_COEFF", 1, 1.0);
        coeffs("SAMP_NUM_COEFF", 2, 1.0);
        coeffs("SAMP_DEN_COEFF", 1, 1.0);
    }
    json info = gdalinfo_json(in);
    ASSERT_TRUE(info.contains("metadata") && info["metadata"].contains("RPC")) << "GDAL did not read the _rpc.txt";
    json j = assess_json(q(in));
    const json& g = j["results"][0]["gsd"];
    EXPECT_NE(g["method"].get<std::string>().find("rpc"), std::string::npos) << g;
    EXPECT_NEAR(g["x_m"].get<double>(), 0.5, 0.005) << g;
    EXPECT_NEAR(g["y_m"].get<double>(), 0.5, 0.005) << g;
}
