// satiq require: runs the real binary; checks the answer against satiq predict of the sized sensor.
#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "satiq/version.hpp"
#include "test_support.hpp"

using satiq::test::run_satiq;

namespace {

nlohmann::json run_json(const std::string& args) {
    const auto r = run_satiq(args + " --format json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

// satiq predict of a custom nadir sensor: altitude, aperture, focal length, pitch 8 um.
nlohmann::json predict(double altitude_m, double aperture_m, double focal_m, double snr, const std::string& target) {
    return run_json(fmt::format(
        "predict --altitude-m {:.17g} --aperture-m {:.17g} --focal-length-m {:.17g} --pitch-um 8 --wavelength-um 0.6 "
        "--snr {:g} --target {}",
        altitude_m, aperture_m, focal_m, snr, target))["results"][0];
}

double identification_p(const nlohmann::json& p) {
    return p["interpretability"]["targets"][0]["rules"]["niirs_model"]["tasks"]["identification"]["probability"]
        .get<double>();
}

}  // namespace

TEST(CliRequire, IdentifyTelAt500kmIsConfirmedByPredict) {
    const auto j = run_json("require identify:tel --altitude-m 500000 --pitch-um 8");
    EXPECT_EQ(j["command"], "require");
    EXPECT_EQ(j["satiq_version"], SATIQ_VERSION_STRING);
    EXPECT_EQ(j["failed_count"], 0);
    EXPECT_DOUBLE_EQ(j["parameters"]["altitude_m"].get<double>(), 500000.0);
    ASSERT_EQ(j["results"].size(), 1u);
    const auto& r = j["results"][0];
    ASSERT_TRUE(r["met_by_any_gsd"].get<bool>());
    const double gsd = r["gsd_max_m"].get<double>();
    const double d = r["aperture_diameter_min_m"].get<double>();
    const double f = r["focal_length_m"].get<double>();
    const double niirs = r["niirs_needed"].get<double>();
    EXPECT_GT(gsd, 0.08);
    EXPECT_LT(gsd, 1.4);

    // The sized sensor: predict's GSD and Q are require's, and the task is met (P = 0.5 at the boundary).
    const auto p = predict(500000, d, f, 50, "tel");
    EXPECT_NEAR(p["gsd_normal_m"].get<double>(), gsd, 1e-9);
    EXPECT_NEAR(p["q"].get<double>(), 1.0, 1e-9);
    EXPECT_NEAR(p["rer"]["weighted"].get<double>(), j["parameters"]["rer"].get<double>(), 1e-9);
    EXPECT_GE(p["niirs"]["giqe5"]["value"].get<double>(), niirs - 1e-9);
    EXPECT_GE(identification_p(p), 0.5 - 1e-9);
    EXPECT_EQ(p["interpretability"]["targets"][0]["capability"], "identify");

    // It is the smallest: a 2 % smaller aperture at the same Q (coarser GSD) or at the same focal
    // length (higher Q, lower RER) no longer identifies the TEL.
    for (const auto& q : {predict(500000, 0.98 * d, 0.98 * f, 50, "tel"), predict(500000, 0.98 * d, f, 50, "tel")}) {
        EXPECT_LT(q["niirs"]["giqe5"]["value"].get<double>(), niirs);
        EXPECT_LT(identification_p(q), 0.5);
        EXPECT_EQ(q["interpretability"]["targets"][0]["capability"], "recognise");
    }
    // With one standard error of margin it identifies with room to spare.
    const double dm = r["aperture_diameter_with_margin_m"].get<double>();
    const auto m = predict(500000, dm, f * dm / d, 50, "tel");
    EXPECT_NEAR(m["niirs"]["giqe5"]["value"].get<double>(), niirs + 0.21, 1e-6);
}

TEST(CliRequire, CriterionIsConfirmedByPredictsCriteria) {
    const auto j = run_json("require niirs:military:6:2 --altitude-m 450000 --snr 20 --pitch-um 8");
    const auto& r = j["results"][0];
    ASSERT_TRUE(r["met_by_any_gsd"].get<bool>());
    EXPECT_DOUBLE_EQ(r["niirs_needed"].get<double>(), 6.0);
    const auto p =
        predict(450000, r["aperture_diameter_min_m"].get<double>(), r["focal_length_m"].get<double>(), 20, "truck");
    EXPECT_GE(p["niirs"]["giqe5"]["value"].get<double>(), 6.0 - 1e-9);
    bool met = false;
    for (const auto& c : p["interpretability"]["criteria_met"])
        met |= c["task"] == r["criterion"]["task"];
    EXPECT_TRUE(met) << r["criterion"]["task"];
}

TEST(CliRequire, TaskNoGsdMeetsSaysSoInTextAndJson) {
    const auto t = run_satiq("require niirs:military:9:1 --altitude-m 500000");
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("no validated GSD meets it"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("no GSD in GIQE 5's validated range meets it"), std::string::npos) << t.out;
    const auto j = run_json("require niirs:military:9:1 --altitude-m 500000");
    const auto& r = j["results"][0];
    EXPECT_FALSE(r["met_by_any_gsd"].get<bool>());
    EXPECT_TRUE(r["gsd_max_m"].is_null());
    EXPECT_TRUE(r["aperture_diameter_min_m"].is_null());
    EXPECT_LT(r["gsd_max_unvalidated_m"].get<double>(), 0.08);
    // Small lengths keep their digits in the text (a 6 mm target is not "0.00 m"), and a NIIRS
    // level is not "NIIRS 9 needs NIIRS 9".
    const auto small = run_satiq("require identify:bolt:0.006:0.004");
    ASSERT_EQ(small.exit_code, 0) << small.err;
    EXPECT_EQ(small.out.find(" 0.00 m"), std::string::npos) << small.out;
    EXPECT_EQ(small.out.find(" 0.000 m"), std::string::npos) << small.out;
    const auto nine = run_satiq("require niirs:9");
    EXPECT_EQ(nine.out.find("NIIRS 9 needs NIIRS 9"), std::string::npos) << nine.out;
    EXPECT_NE(nine.out.find("Reaching NIIRS 9: no GSD"), std::string::npos) << nine.out;
}

TEST(CliRequire, SeveralTasksAndDefaultsStated) {
    const auto t = run_satiq("require identify:tel recognize:truck niirs:5.5");
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("SNR 50 (default)"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("Q 1.00 (default)"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("recognise:truck"), std::string::npos);
    EXPECT_NE(t.out.find("give --altitude-m"), std::string::npos);
    const auto j = run_json("require identify:tel recognize:truck niirs:5.5 --rer 0.5 --snr 30 --q 1.5");
    EXPECT_EQ(j["results"].size(), 3u);
    EXPECT_TRUE(j["parameters"]["rer_given"].get<bool>());
    EXPECT_DOUBLE_EQ(j["parameters"]["q"].get<double>(), 1.5);
    EXPECT_TRUE(j["results"][0]["aperture_diameter_min_m"].is_null());
    EXPECT_FALSE(j["notes"].empty());
}

TEST(CliRequire, ListShowsEveryTask) {
    const auto t = run_satiq("require --list");
    ASSERT_EQ(t.exit_code, 0) << t.err;
    for (const char* id : {"identify:tel", "recognise:truck", "distinguish-tel-from-truck", "niirs:military:5:3",
                           "niirs:civil:1:1", "niirs:N"})
        EXPECT_NE(t.out.find(id), std::string::npos) << id;
    const auto j = run_json("require --list");
    EXPECT_EQ(j["command"], "require --list");
    EXPECT_GT(j["results"].size(), 80u);
    EXPECT_TRUE(j["results"][0].contains("description"));
    EXPECT_EQ(j["patterns"].size(), 2u);
}

TEST(CliRequire, BadInputIsOneLineAndExitsTwo) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"require", "TASK"},
        {"require identify:zeppelin", "zeppelin"},
        {"require spot:tel", "spot"},
        {"require niirs:12", "(0, 9]"},
        {"require identify:tel --snr abc", "--snr"},
        {"require identify:tel --snr -3", "--snr"},
        {"require identify:tel --altitude-m 0", "--altitude-m"},
        {"require identify:tel --rer 1.5", "RER"},
        {"require identify:tel --q 0.01", "Q"},
        {"require identify:tel --format xml", "format"},
    };
    for (const auto& [args, names] : cases) {
        const auto r = run_satiq(args);
        EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << args << ": " << r.out;
        EXPECT_NE(r.err.find(names), std::string::npos) << args << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    }
    EXPECT_NE(run_satiq("require fly-to-the-moon").err.find("--list"), std::string::npos);
}

TEST(CliRequire, ProvenanceSaysWhichFiguresWereGivenAssumedOrDerived) {
    // Defaults are "assumed" with their reasoning, the RER not given is "derived", an option is
    // "given" with its value: the same shape as predict's provenance.
    auto j = run_json("require identify:tel --snr 30 --altitude-m 500000");
    const auto& p = j["provenance"];
    EXPECT_EQ(p["snr"]["given"], "--snr 30");
    EXPECT_EQ(p["altitude_m"]["given"], "--altitude-m 500000");
    EXPECT_NE(p["q"]["assumed"].get<std::string>().find("NGA 2015"), std::string::npos) << p;
    EXPECT_TRUE(p["wavelength_m"].contains("assumed")) << p;
    EXPECT_NE(p["rer"]["derived"].get<std::string>().find("ideal diffraction-limited"), std::string::npos) << p;
    EXPECT_FALSE(p.contains("detector_pitch_m")) << p;  // neither given nor defaulted
    // A value equal to the default, given: "given", not "assumed".
    j = run_json("require niirs:5 --q 1 --rer 0.5");
    EXPECT_EQ(j["provenance"]["q"]["given"], "--q 1");
    EXPECT_EQ(j["provenance"]["rer"]["given"], "--rer 0.5");
    // The text lists them as predict's does.
    const auto t = run_satiq("require niirs:5 --snr 30");
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("Figures (--format json gives each one's reference):"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("  assumed: q, wavelength_m\n"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("  derived: rer\n"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("  given: snr\n"), std::string::npos) << t.out;
}
