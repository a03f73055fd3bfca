// satiq predict: runs the real binary and checks what it prints.
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/version.hpp"
#include "test_support.hpp"

using satiq::test::run_command;
using satiq::test::satiq_binary;

namespace {

satiq::test::CommandResult predict(const std::string& args) {
    return run_command(satiq_binary() + " predict " + args);
}

nlohmann::json predict_json(const std::string& args) {
    const auto r = predict(args + " --format json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    // predict prints the common envelope.
    EXPECT_EQ(j["command"], "predict");
    EXPECT_EQ(j["failed_count"], 0);
    EXPECT_EQ(j["parameters"], j["results"][0]["parameters"]);
    return j["results"][0];
}

}  // namespace

TEST(CliPredict, ListShowsEveryPreset) {
    const auto r = predict("--list");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& n : satiq::sensor::sensor_preset_names())
        EXPECT_NE(r.out.find(n), std::string::npos) << n;
    const auto l = predict("--list --format json");
    ASSERT_EQ(l.exit_code, 0) << l.err;
    const auto j = nlohmann::json::parse(l.out);
    EXPECT_EQ(j["command"], "predict --list");
    EXPECT_EQ(j["results"].size(), satiq::sensor::sensor_presets().size());
    EXPECT_TRUE(j["results"][0]["provenance"].contains("altitude_m"));
}

TEST(CliPredict, PresetJsonCarriesVersionParametersAndNiirs) {
    const auto r = predict("--sensor WorldView-3 --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["satiq_version"], SATIQ_VERSION_STRING);  // the envelope's
    const auto j = predict_json("--sensor WorldView-3");
    EXPECT_EQ(j["mode"], "preset");
    EXPECT_EQ(j["parameters"]["preset"], "worldview-3");
    EXPECT_DOUBLE_EQ(j["parameters"]["altitude_m"].get<double>(), 617000.0);
    EXPECT_NEAR(j["gsd_normal_m"].get<double>(), 0.31, 0.001);
    EXPECT_NEAR(j["geometry"]["elevation_deg"].get<double>(), 90.0, 1e-9);
    EXPECT_GT(j["mtf_nyquist"]["x"].get<double>(), 0.0);
    EXPECT_GT(j["rer"]["weighted"].get<double>(), 0.0);
    EXPECT_TRUE(j["overshoot_h"].contains("geometric_mean"));
    EXPECT_DOUBLE_EQ(j["snr"].get<double>(), 50.0);
    const double n5 = j["niirs"]["giqe5"]["value"].get<double>();
    EXPECT_GT(n5, 4.5);
    EXPECT_LT(n5, 7.0);
    EXPECT_DOUBLE_EQ(j["niirs"]["giqe5"]["standard_error"].get<double>(), 0.21);
    EXPECT_TRUE(j["niirs"]["giqe4"]["standard_error"].is_number());
    EXPECT_TRUE(j["warnings"].is_array());
    EXPECT_NE(j["edge_response_convention"].get<std::string>().find("signed"), std::string::npos);
    EXPECT_FALSE(j["interpretability"]["verdicts"].empty());
    EXPECT_EQ(j["interpretability"]["targets"].size(), 8u);
}

TEST(CliPredict, OverridesAndOffNadir) {
    const auto base = predict_json("--sensor worldview-3");
    const auto high = predict_json("--sensor worldview-3 --altitude-m 700000 --snr 20");
    EXPECT_DOUBLE_EQ(high["parameters"]["altitude_m"].get<double>(), 700000.0);
    EXPECT_NEAR(high["gsd_normal_m"].get<double>() / base["gsd_normal_m"].get<double>(), 700.0 / 617.0, 1e-9);
    EXPECT_DOUBLE_EQ(high["snr"].get<double>(), 20.0);
    EXPECT_LT(high["niirs"]["giqe5"]["value"].get<double>(), base["niirs"]["giqe5"]["value"].get<double>());

    const auto off = predict_json("--sensor worldview-3 --off-nadir-deg 30");
    EXPECT_LT(off["geometry"]["elevation_deg"].get<double>(), 60.0);
    EXPECT_GT(off["gsd_ground_m"].get<double>(), off["gsd_normal_m"].get<double>());
    EXPECT_GT(off["gsd_weighted_m"].get<double>(), off["gsd_normal_m"].get<double>());

    const auto px = predict_json("--sensor pleiades --pitch-um 6.5 --focal-length-m 12.9");
    EXPECT_NEAR(px["parameters"]["detector_pitch_m"].get<double>(), 6.5e-6, 1e-15);
    EXPECT_NEAR(px["gsd_normal_m"].get<double>(), 0.35, 0.001);
}

TEST(CliPredict, SimpleForm) {
    const auto j = predict_json("--target-gsd-m 0.5 --mtf-nyquist 0.2 --snr 50");
    EXPECT_EQ(j["mode"], "simple");
    EXPECT_NEAR(j["mtf_nyquist"]["x"].get<double>(), 0.2, 1e-9);
    EXPECT_TRUE(j["gaussian_sigma_px"].is_number());
    EXPECT_DOUBLE_EQ(j["gsd_weighted_m"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(j["parameters"]["target_gsd_m"].get<double>(), 0.5);
    const auto s = predict_json("--target-gsd-m 3 --sigma-px 0.6 --snr 10");
    EXPECT_NEAR(s["gaussian_sigma_px"].get<double>(), 0.6, 1e-12);
    EXPECT_LT(s["niirs"]["giqe5"]["value"].get<double>(), 3.0);

    const auto both = predict("--target-gsd-m 3 --sigma-px 0.6 --mtf-nyquist 0.2 --snr 10");
    EXPECT_NE(both.exit_code, 0);
    const auto no_snr = predict("--target-gsd-m 3 --sigma-px 0.6");
    EXPECT_NE(no_snr.exit_code, 0);
    EXPECT_NE(no_snr.err.find("--snr"), std::string::npos);
}

TEST(CliPredict, TextOutput) {
    const auto r = predict("--sensor malligyong-1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("GIQE 5"), std::string::npos);
    EXPECT_NE(r.out.find("missile launcher"), std::string::npos);
    EXPECT_NE(r.out.find("Warnings"), std::string::npos);  // extrapolation beyond the validated GSD
}

TEST(CliPredict, UnknownPresetListsNames) {
    const auto r = predict("--sensor hubble");
    EXPECT_EQ(r.exit_code, 2);  // a usage error
    EXPECT_NE(r.err.find("hubble"), std::string::npos);
    for (const auto& n : satiq::sensor::sensor_preset_names())
        EXPECT_NE(r.err.find(n), std::string::npos) << n;
}

TEST(CliPredict, RejectsZeroOrNegativeParametersNamingThem) {
    for (const std::string flag : {"--aperture-m", "--altitude-m", "--focal-length-m", "--pitch-um", "--snr"}) {
        for (const std::string value : {"0", "-1"}) {
            const auto r = predict("--sensor worldview-3 " + flag + "=" + value);
            EXPECT_EQ(r.exit_code, 2) << flag << " " << value;
            EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
        }
    }
    const auto g = predict("--target-gsd-m=-2 --sigma-px 0.5 --snr 10");
    EXPECT_EQ(g.exit_code, 2);
    EXPECT_NE(g.err.find("--target-gsd-m"), std::string::npos) << g.err;
    const auto custom = predict("--altitude-m 500000 --aperture-m 0.3");
    EXPECT_EQ(custom.exit_code, 2);
    EXPECT_NE(custom.err.find("--focal-length-m"), std::string::npos) << custom.err;
    const auto bits = predict("--sensor worldview-3 --bits 1.5");  // degrade and sweep take an integer
    EXPECT_EQ(bits.exit_code, 2);
    EXPECT_NE(bits.err.find("--bits must be a whole number"), std::string::npos) << bits.err;
}

TEST(CliPredict, CustomSensor) {
    const auto j = predict_json("--altitude-m 500000 --aperture-m 0.3 --focal-length-m 3 --pitch-um 6 --snr 30");
    EXPECT_EQ(j["mode"], "custom");
    EXPECT_NEAR(j["gsd_normal_m"].get<double>(), 1.0, 1e-9);
    EXPECT_NEAR(j["q"].get<double>(), 0.6e-6 * 10.0 / 6e-6, 1e-9);
}

namespace {
bool any_warning(const nlohmann::json& ws, const std::string& text) {
    for (const auto& w : ws)
        if (w.get<std::string>().find(text) != std::string::npos) return true;
    return false;
}
}  // namespace

// GIQE 5 outside its calibration range: the figures stay, the warnings say why they mean nothing.
TEST(CliPredict, OutOfRangeInputsAreFlaggedNotClamped) {
    const auto blur = predict_json("--target-gsd-m 0.5 --sigma-px 50 --snr 50");
    EXPECT_LT(blur["niirs"]["giqe5"]["value"].get<double>(), -30.0);
    EXPECT_TRUE(any_warning(blur["warnings"], "weighted RER")) << blur["warnings"];
    EXPECT_TRUE(any_warning(blur["warnings"], "outside the NIIRS scale")) << blur["warnings"];
    EXPECT_TRUE(any_warning(blur["niirs"]["giqe5"]["warnings"], "not a rating"));
    const auto obscured = predict_json("--sensor worldview-3 --obscuration 0.99");
    EXPECT_TRUE(any_warning(obscured["warnings"], "outside the NIIRS scale")) << obscured["warnings"];
    const auto text = predict("--target-gsd-m 0.5 --sigma-px 50 --snr 50");
    EXPECT_NE(text.out.find("not a rating"), std::string::npos) << text.out;
    // A normal sensor: none of the range warnings.
    const auto wv3 = predict_json("--sensor worldview-3");
    for (const char* t : {"weighted RER", "NIIRS scale", "above 1", "Nyquist"})
        EXPECT_FALSE(any_warning(wv3["warnings"], t)) << t << ": " << wv3["warnings"];
}

// Every input figure says where it comes from, as sensors.json marks it; options are "given".
TEST(CliPredict, ProvenanceOfEveryFigure) {
    const auto j = predict_json("--sensor malligyong-1");
    const auto& p = j["provenance"];
    for (const char* k : {"altitude_m", "aperture_diameter_m", "detector_pitch_m", "jitter_sigma_px", "focal_length_m",
                          "snr", "gsd_nadir_m", "off_nadir_deg"})
        ASSERT_TRUE(p.contains(k)) << k;
    EXPECT_TRUE(p["altitude_m"].contains("derived"));
    EXPECT_TRUE(p["aperture_diameter_m"].contains("assumed"));
    EXPECT_TRUE(p["jitter_sigma_px"].contains("assumed"));
    EXPECT_TRUE(p["focal_length_m"].contains("derived"));
    const auto wv3 = predict_json("--sensor worldview-3 --aperture-m 0.2");
    EXPECT_TRUE(wv3["provenance"]["altitude_m"].contains("source"));
    EXPECT_EQ(wv3["provenance"]["aperture_diameter_m"]["given"], "--aperture-m 0.2; the preset has 1.1");
    const auto custom = predict_json("--altitude-m 500000 --aperture-m 0.3 --focal-length-m 3 --pitch-um 6 --snr 30");
    EXPECT_TRUE(custom["provenance"]["aperture_diameter_m"].contains("given"));
    EXPECT_TRUE(custom["provenance"]["wavelength_m"].contains("assumed"));
    const auto t = predict("--sensor malligyong-1");
    EXPECT_NE(t.out.find("Figures (--format json gives each one's reference):"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("  assumed: "), std::string::npos) << t.out;
}
