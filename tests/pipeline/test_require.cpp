// satiq::require: task ids, the GIQE 5 inversion, the aperture formula and the verdicts.
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/giqe.hpp"
#include "satiq/pipeline/model/interpretation.hpp"
#include "satiq/pipeline/model/require.hpp"

namespace rq = satiq::require;
namespace ip = satiq::interpret;

namespace {

rq::Conditions defaults(std::optional<double> altitude_m = std::nullopt) {
    rq::RequireParams p;
    p.altitude_m = altitude_m;
    return rq::resolve(p);
}

}  // namespace

TEST(Require, CatalogueIdsAreUniqueAndParseBack) {
    const auto& cat = rq::task_catalogue();
    std::set<std::string> ids;
    for (const auto& t : cat) {
        EXPECT_TRUE(ids.insert(t.id).second) << t.id;
        EXPECT_FALSE(t.description.empty()) << t.id;
        const rq::RequireTask back = rq::parse_task(t.id);
        EXPECT_EQ(back.id, t.id);
        EXPECT_EQ(back.kind, t.kind);
    }
    // 4 Johnson tasks on every catalogue target, every criterion of both scales, the anchor slugs.
    const std::size_t criteria =
        ip::niirs_criteria(ip::NiirsScale::visible_military).size() + ip::niirs_criteria(ip::NiirsScale::civil).size();
    EXPECT_EQ(cat.size(), 4 * ip::target_catalogue().size() + criteria + ip::model_calibration().anchors.size() + 1);
    EXPECT_TRUE(ids.count("identify:tel"));
    EXPECT_TRUE(ids.count("recognise:truck"));
    EXPECT_TRUE(ids.count("distinguish-tel-from-truck"));
    EXPECT_TRUE(ids.count("niirs:military:5:3"));
    EXPECT_TRUE(ids.count("niirs:civil:9:1"));
}

TEST(Require, ParsesSpellingsCustomTargetsAndLevels) {
    EXPECT_EQ(rq::parse_task("RECOGNIZE:Truck").id, "recognise:truck");
    const rq::RequireTask custom = rq::parse_task("identify:Rifle:1.0:0.1");
    EXPECT_EQ(custom.kind, rq::TaskKind::johnson);
    EXPECT_EQ(custom.target->name, "Rifle");
    EXPECT_DOUBLE_EQ(custom.target->length_m, 1.0);
    const rq::RequireTask level = rq::parse_task("niirs:5.5");
    EXPECT_EQ(level.kind, rq::TaskKind::niirs_level);
    EXPECT_DOUBLE_EQ(level.niirs_level, 5.5);
    const rq::RequireTask crit = rq::parse_task("niirs:military:5:3");
    ASSERT_TRUE(crit.criterion);
    EXPECT_EQ(crit.criterion->task, "distinguish a mobile missile launcher (TEL) from support vans");
    EXPECT_EQ(rq::parse_task("distinguish-tel-from-support-vans").criterion->task, crit.criterion->task);
}

TEST(Require, RejectsUnknownTasksNamingThem) {
    for (const char* bad : {"", "spot:tel", "identify:zeppelin", "niirs:10", "niirs:0", "niirs:abc",
                            "niirs:military:5:9", "identify:x:1:-2", "fly-to-the-moon"}) {
        try {
            (void)rq::parse_task(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const satiq::Error& e) {
            EXPECT_NE(std::string(e.what()).find("'"), std::string::npos) << e.what();
        }
    }
}

TEST(Require, RejectsBadParameters) {
    auto bad = [](auto set) {
        rq::RequireParams p;
        set(p);
        EXPECT_THROW((void)rq::resolve(p), satiq::Error);
    };
    bad([](rq::RequireParams& p) { p.snr = -3; });
    bad([](rq::RequireParams& p) { p.snr = std::nan(""); });
    bad([](rq::RequireParams& p) { p.altitude_m = 0; });
    bad([](rq::RequireParams& p) { p.rer = 1.2; });
    bad([](rq::RequireParams& p) { p.rer = 0; });
    bad([](rq::RequireParams& p) { p.q = 0; });
    bad([](rq::RequireParams& p) { p.q = 50; });
    bad([](rq::RequireParams& p) { p.wavelength_m = -1e-6; });
    bad([](rq::RequireParams& p) { p.pitch_m = 0; });
}

TEST(Require, IdealRerMatchesTheSensorModelFigures) {
    // docs/method.md: an ideal diffraction-limited system with a square detector gives RER 0.383
    // at Q = 2 and 0.755 at Q = 0.5 (signed OTF).
    EXPECT_NEAR(rq::ideal_rer(2.0), 0.383, 0.002);
    EXPECT_NEAR(rq::ideal_rer(0.5), 0.755, 0.002);
    EXPECT_GT(rq::ideal_rer(1.0), rq::ideal_rer(2.0));
    EXPECT_LT(rq::ideal_rer(1.0), rq::ideal_rer(0.5));
    const rq::Conditions c = defaults();
    EXPECT_FALSE(c.rer_given);
    EXPECT_DOUBLE_EQ(c.rer, rq::ideal_rer(rq::default_q));
    EXPECT_DOUBLE_EQ(c.niirs_standard_error, 0.21);  // NGA 2015 Table 4, SNR >= 30
}

TEST(Require, GsdInversionMatchesTheClosedForm) {
    // GIQE 5 is linear in log10 GSD: NIIRS = C - 3.32 log10(GSD_in), so GSD_in = 10^((C - NIIRS) / 3.32).
    for (double rer : {0.3, 0.6, 0.9})
        for (double snr : {3.0, 20.0, 100.0})
            for (double niirs : {2.0, 5.0, 7.5}) {
                const double lr = std::log10(rer);
                const double c = 9.57 + 3.32 * (1 - std::exp(-1.9 / snr)) * lr - 2 * std::pow(lr, 4) - 1.8 / snr;
                const double expected = std::pow(10.0, (c - niirs) / 3.32) * satiq::giqe::metres_per_inch;
                const auto gsd = rq::gsd_for_niirs(niirs, rer, snr);
                ASSERT_TRUE(gsd);
                EXPECT_NEAR(*gsd / expected, 1.0, 1e-10);
                EXPECT_GE(rq::niirs_at_gsd(*gsd, rer, snr), niirs);  // the fine end of the bracket
            }
    EXPECT_FALSE(rq::gsd_for_niirs(25.0, 0.6, 50.0));  // beyond even 0.1 mm
}

TEST(Require, ApertureFollowsLambdaHOverQGsd) {
    EXPECT_NEAR(rq::aperture_for_gsd(0.3, 500e3, 0.6e-6, 1.0), 1.0, 1e-12);
    EXPECT_NEAR(rq::aperture_for_gsd(0.3, 500e3, 0.6e-6, 2.0), 0.5, 1e-12);
    EXPECT_THROW((void)rq::aperture_for_gsd(0.0, 500e3, 0.6e-6, 1.0), satiq::Error);

    rq::RequireParams p;
    p.altitude_m = 500e3;
    p.pitch_m = 8e-6;
    const rq::Requirement r = rq::evaluate(rq::parse_task("identify:tel"), rq::resolve(p));
    ASSERT_TRUE(r.gsd_max_m && r.aperture_diameter_min_m && r.focal_length_m && r.f_number);
    EXPECT_NEAR(*r.aperture_diameter_min_m, 0.6e-6 * 500e3 / *r.gsd_max_m, 1e-12);
    EXPECT_NEAR(8e-6 * 500e3 / *r.focal_length_m, *r.gsd_max_m, 1e-12);              // GSD = p H / f
    EXPECT_NEAR(*r.f_number, *r.focal_length_m / *r.aperture_diameter_min_m, 1e-9);  // F# = f / D
    EXPECT_NEAR(0.6e-6 * *r.f_number / 8e-6, 1.0, 1e-12);                            // Q = lambda F# / p
    ASSERT_TRUE(r.aperture_diameter_with_margin_m);
    EXPECT_GT(*r.aperture_diameter_with_margin_m, *r.aperture_diameter_min_m);
}

TEST(Require, JohnsonTaskNeedsTheModelsNiirs) {
    const rq::Conditions c = defaults();
    for (const char* id : {"identify:tel", "recognise:truck", "detect:car", "identify:fighter"}) {
        const rq::RequireTask t = rq::parse_task(id);
        const rq::Requirement r = rq::evaluate(t, c);
        EXPECT_DOUBLE_EQ(r.niirs_needed, ip::niirs_for_task(*t.target, t.johnson_task)) << id;
        EXPECT_DOUBLE_EQ(*r.cycles_needed, ip::johnson_n50(t.johnson_task));
        ASSERT_TRUE(r.met_by_any_gsd) << id;
        EXPECT_NEAR(rq::niirs_at_gsd(*r.gsd_max_m, c.rer, c.params.snr), r.niirs_needed, 1e-9) << id;
        EXPECT_FALSE(r.aperture_diameter_min_m);  // no altitude
    }
}

TEST(Require, AnchorCriterionAndItsJohnsonTaskAgree) {
    // The TEL criterion calibrates the model: recognising the TEL needs exactly its level.
    const rq::Conditions c = defaults(500e3);
    const rq::Requirement crit = rq::evaluate(rq::parse_task("distinguish-tel-from-truck"), c);
    const rq::Requirement john = rq::evaluate(rq::parse_task("recognise:tel"), c);
    EXPECT_DOUBLE_EQ(crit.niirs_needed, 5.0);
    EXPECT_DOUBLE_EQ(john.niirs_needed, 5.0);
    EXPECT_DOUBLE_EQ(*crit.gsd_max_m, *john.gsd_max_m);
    EXPECT_FALSE(john.calibrated_on.empty());
}

TEST(Require, TaskNoGsdMeetsSaysSo) {
    const rq::Conditions c = defaults(500e3);
    const rq::Requirement r = rq::evaluate(rq::parse_task("niirs:military:9:1"), c);
    EXPECT_FALSE(r.met_by_any_gsd);
    EXPECT_FALSE(r.gsd_max_m);
    EXPECT_FALSE(r.aperture_diameter_min_m);
    ASSERT_TRUE(r.gsd_max_unvalidated_m);
    EXPECT_LT(*r.gsd_max_unvalidated_m, satiq::giqe::giqe5_validated_gsd_min_m);
    EXPECT_LT(r.niirs_at_finest_validated_gsd, 9.0);
    EXPECT_NE(r.verdict.find("no GSD"), std::string::npos) << r.verdict;
    const auto j = rq::to_json(r);
    EXPECT_FALSE(j["met_by_any_gsd"].get<bool>());
    EXPECT_TRUE(j["gsd_max_m"].is_null());
    EXPECT_TRUE(j["aperture_diameter_min_m"].is_null());
    EXPECT_NE(rq::to_text(r, c).find("no validated GSD meets it"), std::string::npos);
}

TEST(Require, CoarseTaskIsFlaggedAsExtrapolated) {
    const rq::Requirement r = rq::evaluate(rq::parse_task("detect:frigate"), defaults());
    ASSERT_TRUE(r.met_by_any_gsd);
    EXPECT_GT(*r.gsd_max_m, satiq::giqe::giqe5_validated_gsd_max_m);
    EXPECT_TRUE(r.gsd_extrapolated);
    EXPECT_FALSE(r.warnings.empty());
}

TEST(Require, GivenRerAndLowSnrNeedFinerGsd) {
    rq::RequireParams p;
    const rq::Requirement base = rq::evaluate(rq::parse_task("niirs:5"), rq::resolve(p));
    p.rer = 0.3;
    p.snr = 4.0;
    const rq::Conditions c = rq::resolve(p);
    EXPECT_TRUE(c.rer_given);
    EXPECT_DOUBLE_EQ(c.rer, 0.3);
    const rq::Requirement poor = rq::evaluate(rq::parse_task("niirs:5"), c);
    EXPECT_LT(*poor.gsd_max_m, *base.gsd_max_m);
    bool snr_warning = false;
    for (const auto& w : poor.warnings)
        snr_warning |= w.find("SNR") != std::string::npos;
    EXPECT_TRUE(snr_warning);
    p.rer.reset();
    p.snr = 50;
    p.q = 2.5;  // outside GIQE 5's 1..2
    bool q_warning = false;
    for (const auto& w : rq::evaluate(rq::parse_task("niirs:5"), rq::resolve(p)).warnings)
        q_warning |= w.find("Q = ") != std::string::npos;
    EXPECT_TRUE(q_warning);
}

TEST(Require, JsonCarriesTheDocumentedKeys) {
    const rq::Conditions c = defaults(500e3);
    const auto j = rq::to_json(rq::evaluate(rq::parse_task("identify:tel"), c));
    for (const char* k :
         {"task", "kind", "description", "niirs_needed", "cycles_needed", "critical_dimension_m", "met_by_any_gsd",
          "gsd_max_m", "gsd_extrapolated", "gsd_with_margin_m", "aperture_diameter_min_m", "focal_length_over_pitch",
          "focal_length_m", "f_number", "verdict", "warnings", "target", "criterion"})
        EXPECT_TRUE(j.contains(k)) << k;
    EXPECT_EQ(j["kind"], "johnson");
    EXPECT_DOUBLE_EQ(j["cycles_needed"].get<double>(), 6.4);
    const auto pj = rq::to_json(c);
    for (const char* k : {"altitude_m", "wavelength_m", "q", "rer", "rer_source", "snr", "defaults"})
        EXPECT_TRUE(pj.contains(k)) << k;
    EXPECT_EQ(rq::notes(c).size(), 4u);
}

// A Johnson task whose NIIRS falls off the 0-9 scale is answered and flagged (niirs:N is refused
// there), and GIQE 5 still met at the search's 10 km end says "any GSD up to it", not a root.
TEST(Require, OffScaleTaskIsFlaggedAndTheSearchLimitIsNamed) {
    const rq::Conditions c = defaults(500e3);
    const rq::Requirement huge = rq::evaluate(rq::parse_task("detect:thing:1e9:1"), c);
    EXPECT_LT(huge.niirs_needed, 0.0);
    EXPECT_FALSE(huge.niirs_needed_on_scale);
    ASSERT_TRUE(huge.gsd_max_m);
    EXPECT_TRUE(huge.gsd_max_at_search_limit);
    bool below = false, limit = false;
    for (const auto& w : huge.warnings) {
        below |= w.find("below the NIIRS scale (0 to 9)") != std::string::npos;
        limit |= w.find("any GSD up to it meets it") != std::string::npos;
    }
    EXPECT_TRUE(below);
    EXPECT_TRUE(limit);
    const std::string text = rq::to_text(huge, c);
    EXPECT_NE(text.find("any up to the model's 10 km limit meets it"), std::string::npos) << text;
    EXPECT_EQ(text.find("10000.000"), std::string::npos) << text;
    const auto j = rq::to_json(huge);
    EXPECT_EQ(j["niirs_needed_on_scale"], false);
    EXPECT_EQ(j["gsd_max_at_search_limit"], true);

    const rq::Requirement tiny = rq::evaluate(rq::parse_task("identify:speck:0.01:0.01"), c);
    EXPECT_GT(tiny.niirs_needed, 9.0);
    EXPECT_FALSE(tiny.niirs_needed_on_scale);
    bool above = false;
    for (const auto& w : tiny.warnings)
        above |= w.find("above the NIIRS scale") != std::string::npos;
    EXPECT_TRUE(above);

    // A normal task: on the scale, a root of the equation, no scale warning.
    const rq::Requirement tel = rq::evaluate(rq::parse_task("identify:tel"), c);
    EXPECT_TRUE(tel.niirs_needed_on_scale);
    EXPECT_FALSE(tel.gsd_max_at_search_limit);
    for (const auto& w : tel.warnings)
        EXPECT_EQ(w.find("NIIRS scale"), std::string::npos) << w;
    EXPECT_THROW(rq::parse_task("niirs:0"), satiq::Error);  // the level form stays refused
}
