// The interpretability model: NIIRS -> GRD -> cycles on target -> Johnson probabilities, its
// calibration on published NIIRS criteria, uncertainty and the resolution-rule sensitivity.
#include <cmath>

#include <gtest/gtest.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/giqe.hpp"
#include "satiq/pipeline/model/interpretation.hpp"
#include "satiq/pipeline/model/sensor.hpp"

using namespace satiq;
using namespace satiq::interpret;

namespace {

ImageQuality quality(double niirs, double sigma = 0.0, double gsd_m = 1.0) {
    ImageQuality q;
    q.niirs = niirs;
    q.niirs_sigma = sigma;
    q.gsd_m = gsd_m;
    q.rer = 0.5;
    q.mtf50_cyc_per_px = 0.25;
    q.basis = "test";
    return q;
}

bool has_criterion(const std::vector<NiirsCriterion>& v, const std::string& text) {
    for (const auto& c : v)
        if (c.task == text) return true;
    return false;
}

int rank(Capability c) {
    return static_cast<int>(c);
}

Capability needed_for(JohnsonTask t) {
    return t == JohnsonTask::identification ? Capability::identify
           : t == JohnsonTask::recognition  ? Capability::recognise
                                            : Capability::detect;
}

// GIQE 5 NIIRS of a preset, as `satiq predict` computes it.
double preset_niirs(const sensor::SensorPreset& p) {
    const sensor::SensorModel m = sensor::SensorModel::physical(p.description);
    const auto& f = m.figures();
    giqe::Giqe5Inputs in;
    in.gsd_weighted_m = f.gsd_weighted_m;
    in.rer_weighted = giqe::rer_weighted(f.x.rer, f.y.rer);
    in.snr = f.snr;
    in.q = f.q;
    in.elevation_deg = f.elevation_deg;
    return giqe::giqe5(in).value;
}

}  // namespace

TEST(Interpretation, GrdScaleFollowsTheLevelBands) {
    // Hand values: the coarse bound of each level's GRD band at the level, log-linear between.
    EXPECT_DOUBLE_EQ(niirs_grd_m(5.0), 1.2);
    EXPECT_DOUBLE_EQ(niirs_grd_m(2.0), 9.0);
    EXPECT_DOUBLE_EQ(niirs_grd_m(9.0), 0.1);
    EXPECT_NEAR(niirs_grd_m(5.5), std::sqrt(1.2 * 0.75), 1e-12);
    // One NIIRS per doubling outside levels 2..9.
    EXPECT_NEAR(niirs_grd_m(1.0), 18.0, 1e-12);
    EXPECT_NEAR(niirs_grd_m(0.0), 36.0, 1e-12);
    EXPECT_NEAR(niirs_grd_m(10.0), 0.05, 1e-12);
    for (double n = -2; n <= 11; n += 0.037)
        EXPECT_NEAR(niirs_for_grd(niirs_grd_m(n)), n, 1e-9) << n;
    for (double n = -2; n < 11; n += 0.25)
        EXPECT_GT(niirs_grd_m(n), niirs_grd_m(n + 0.25));
    EXPECT_THROW(niirs_for_grd(0.0), Error);
}

TEST(Interpretation, CalibrationFromPublishedCriteria) {
    const ModelCalibration& c = model_calibration();
    ASSERT_EQ(c.anchors.size(), 5u);
    // Hand-derived kappa = sqrt(L W) / (N50 GRD(level)) from the catalogue's published sizes.
    const double tel = std::sqrt(23.0 * 3.5) / (4.0 * 1.2);
    const double fighter = std::sqrt(17.3 * 11.4) / (6.4 * 2.5);
    const double frigate = std::sqrt(135.6 * 13.7) / (6.4 * 4.5);
    const double transport = std::sqrt(46.6 * 50.5) / (4.0 * 4.5);
    const double car = std::sqrt(4.5 * 1.8) / (6.4 * 0.75);
    EXPECT_NEAR(target_kappa(find_target("tel")), tel, 1e-12);
    EXPECT_NEAR(target_kappa(find_target("car")), car, 1e-12);
    EXPECT_NEAR(c.pooled_kappa, std::pow(tel * fighter * frigate * transport * car, 0.2), 1e-12);
    // An unanchored target uses the pooled kappa; a user target named like a catalogue one but of
    // another size is not calibrated by that target's criterion.
    EXPECT_DOUBLE_EQ(target_kappa(find_target("truck")), c.pooled_kappa);
    EXPECT_DOUBLE_EQ(target_kappa(parse_target("tel:10:3")), c.pooled_kappa);
    // Residual of TEL under the pooled kappa: GRD at which its recognition would be met.
    EXPECT_NEAR(c.anchors[3].residual_niirs, 5.0 - niirs_for_grd(1.2 * tel / c.pooled_kappa), 1e-12);
    EXPECT_GT(c.rms_residual_niirs, 0.3);  // the criteria and Johnson disagree: said in the output
    EXPECT_LE(c.rms_residual_niirs, c.max_abs_residual_niirs);
}

TEST(Interpretation, AnchoredTasksMeetTheirCriterionAtItsLevel) {
    for (const CalibrationAnchor& a : model_calibration().anchors) {
        const Target& t = find_target(a.target_key);
        EXPECT_DOUBLE_EQ(niirs_for_task(t, a.task), a.level) << a.criterion;
        const Interpretation at = interpret_image(quality(a.level), {t});
        EXPECT_NEAR(at.targets[0].primary.tasks[static_cast<std::size_t>(a.task)].probability, 0.5, 1e-9)
            << a.criterion;
    }
}

// The contradiction check: over every preset's NIIRS and a fine NIIRS grid, every criterion that
// names a catalogue target and a task is met exactly when the Johnson verdict on that target
// reaches the task, and each target's tasks stay ordered (detection >= recognition >=
// identification, capability rising with NIIRS).
TEST(Interpretation, CriteriaAndJohnsonNeverContradict) {
    std::vector<double> niirs;
    for (const auto& p : sensor::sensor_presets())
        niirs.push_back(preset_niirs(p));
    for (double n = -1.0; n <= 10.0; n += 0.01)
        niirs.push_back(n);
    for (const auto& a : model_calibration().anchors)
        niirs.push_back(a.level);
    ASSERT_GT(sensor::sensor_presets().size(), 5u);
    const auto& catalogue = target_catalogue();
    std::vector<int> previous(catalogue.size(), -1);
    double last = -1e9;
    for (double n : niirs) {
        if (n < last) std::fill(previous.begin(), previous.end(), -1);  // presets first, then the ascending grid
        last = n;
        const Interpretation it = interpret_image(quality(n, 0.3), catalogue);
        for (const CalibrationAnchor& a : model_calibration().anchors) {
            const bool met = has_criterion(it.military.met, a.criterion);
            EXPECT_EQ(met, a.level <= it.military.level) << a.criterion;
            for (const TargetOdds& t : it.targets) {
                if (t.target.key != a.target_key) continue;
                const bool can = rank(t.primary.capability) >= rank(needed_for(a.task));
                EXPECT_EQ(met, can) << "NIIRS " << n << ": " << a.criterion;
            }
        }
        for (std::size_t i = 0; i < it.targets.size(); ++i) {
            const auto& tasks = it.targets[i].primary.tasks;
            EXPECT_GE(tasks[0].probability, tasks[1].probability);
            EXPECT_GE(tasks[1].probability, tasks[2].probability);
            EXPECT_GE(tasks[2].probability, tasks[3].probability);
            const int r = rank(it.targets[i].primary.capability);
            EXPECT_GE(r, previous[i]) << it.targets[i].target.key << " at NIIRS " << n;
            previous[i] = r;
        }
        // The sentences say the same: "distinguish a ... TEL from support vans" is met exactly when
        // the TEL sentence says recognise or identify.
        const bool tel_met =
            has_criterion(it.military.met, "distinguish a mobile missile launcher (TEL) from support vans");
        for (const auto& v : it.verdicts)
            if (v.find("mobile missile launcher (Hwasong-17 TEL)") != std::string::npos) {
                EXPECT_EQ(tel_met, v.rfind("can recognise", 0) == 0 || v.rfind("can identify", 0) == 0)
                    << n << ": " << v;
            }
    }
}

TEST(Interpretation, UncertaintyGivesARangeAndSaysWhenTheAnswerDependsOnIt) {
    const Target& tel = find_target("tel");
    // At its criterion's level, recognition is a coin toss and flips within one standard error.
    const Interpretation at5 = interpret_image(quality(5.0, 0.3), {tel});
    const TargetOdds& t = at5.targets[0];
    const TaskOdds& rec = t.primary.tasks[static_cast<std::size_t>(JohnsonTask::recognition)];
    EXPECT_LT(rec.probability_low, 0.5);
    EXPECT_GT(rec.probability_high, 0.5);
    EXPECT_TRUE(t.depends_on_uncertainty);
    EXPECT_EQ(t.capability_low, Capability::detect);
    EXPECT_EQ(t.capability_high, Capability::recognise);
    EXPECT_NE(at5.verdicts.back().find("depends on the NIIRS uncertainty"), std::string::npos);
    // The level 5 criteria are borderline at 5.0 +/- 0.3.
    EXPECT_TRUE(has_criterion(at5.borderline, "distinguish a mobile missile launcher (TEL) from support vans"));
    // Far from any threshold nothing depends on it.
    const Interpretation at8 = interpret_image(quality(8.5, 0.1, 0.1), {tel});
    EXPECT_FALSE(at8.targets[0].depends_on_uncertainty);
    EXPECT_EQ(at8.targets[0].primary.capability, Capability::identify);
}

TEST(Interpretation, EveryRuleIsReportedAndDisagreementsAreNamed) {
    // Malligyong-1 at about 3 m: the raw 2 GSD rule gives 1.5 cycles on a TEL (detection), the
    // model at NIIRS 2.3 does not: the output must say the answer depends on the rule.
    ImageQuality q = quality(2.3, 0.34, 3.0);
    q.rer = 0.46;
    const Interpretation it = interpret_image(q, {find_target("tel")});
    const TargetOdds& t = it.targets[0];
    EXPECT_EQ(t.primary.rule, Rule::niirs_model);
    ASSERT_EQ(t.alternatives.size(), 3u);
    bool nyquist = false;
    for (const RuleOdds& a : t.alternatives)
        if (a.rule == Rule::gsd_nyquist) {
            nyquist = true;
            EXPECT_NEAR(a.resolution_m_per_cycle, 6.0, 1e-12);
            EXPECT_NEAR(a.cycles, std::sqrt(23.0 * 3.5) / 6.0, 1e-12);
            EXPECT_EQ(a.capability, Capability::detect);
        }
    EXPECT_TRUE(nyquist);
    EXPECT_EQ(t.primary.capability, Capability::none);
    ASSERT_FALSE(t.differing_rules.empty());
    EXPECT_NE(it.verdicts.back().find("depends on the resolution rule: gsd_nyquist would detect"), std::string::npos)
        << it.verdicts.back();
    const auto j = to_json(it);
    EXPECT_TRUE(j["targets"][0]["rules"]["gsd_nyquist"].is_object());
    EXPECT_TRUE(j["targets"][0]["rules"]["niirs_model"].is_object());
    EXPECT_EQ(j["resolution_rule"], "niirs_model");
    // Without a measured RER or MTF50 those rules cannot be computed: null, not a guess.
    q.rer.reset();
    q.mtf50_cyc_per_px.reset();
    const auto k = to_json(interpret_image(q, {find_target("tel")}));
    EXPECT_TRUE(k["targets"][0]["rules"]["gsd_over_rer"].is_null());
    EXPECT_TRUE(k["targets"][0]["rules"]["mtf50"].is_null());
    EXPECT_THROW(interpret_image(q, {find_target("tel")}, Rule::mtf50), Error);
    EXPECT_EQ(parse_rule("gsd_nyquist"), Rule::gsd_nyquist);
    EXPECT_THROW(parse_rule("nyquist"), Error);
}

TEST(Interpretation, NotesSayOnceThatContrastAndClutterAreNotModelled) {
    const Interpretation it = interpret_image(quality(4.0, 0.2), target_catalogue());
    int n = 0;
    for (const auto& s : it.notes)
        n += s.find("clutter are not modelled") != std::string::npos;
    EXPECT_EQ(n, 1);
    const std::string text = to_text(it);
    EXPECT_NE(text.find("clutter are not modelled"), std::string::npos);
    EXPECT_EQ(text.find("clutter are not modelled"), text.rfind("clutter are not modelled"));
}

TEST(Interpretation, NiirsTextFlagsValuesOutsideTheScaleAndTheValidatedRange) {
    EXPECT_EQ(niirs_text(5.12, 0.5), "5.12");
    EXPECT_NE(niirs_text(-0.06, 15.0).find("below NIIRS 1"), std::string::npos);
    EXPECT_NE(niirs_text(-0.06, 15.0).find("extrapolated"), std::string::npos);
    EXPECT_NE(niirs_text(2.3, 3.0).find("extrapolated"), std::string::npos);
    EXPECT_EQ(niirs_text(2.3, 3.0).find("below"), std::string::npos);
    EXPECT_NE(niirs_text(9.4, 0.05).find("beyond NIIRS 9"), std::string::npos);
}

// The raw Johnson rules: metres per cycle 2 GSD / RER, 2 GSD and GSD / MTF50; a tank spanning
// exactly 4 cycles is recognised with P = 0.5 (Johnson's N50 for recognition).
TEST(Interpretation, RawRulesCountCyclesAgainstTheirResolution) {
    const Target& tank = find_target("tank");
    const double cd = std::sqrt(6.95 * 3.59);
    ImageQuality q = quality(4.0, 0.0, cd / 8.0);  // 2 GSD = cd / 4: 4 cycles under gsd_nyquist
    q.rer = 0.5;                                   // 2 GSD / RER = cd / 2: 2 cycles
    q.mtf50_cyc_per_px = 0.25;                     // GSD / MTF50 = cd / 2: 2 cycles
    const Interpretation it = interpret_image(q, {tank}, Rule::gsd_nyquist);
    const RuleOdds& p = it.targets[0].primary;
    EXPECT_NEAR(p.cycles, 4.0, 1e-12);
    EXPECT_NEAR(p.tasks[2].probability, 0.5, 1e-12);
    EXPECT_EQ(p.tasks[2].task, JohnsonTask::recognition);
    EXPECT_FALSE(p.tasks[2].niirs_needed.has_value());
    for (const RuleOdds& a : it.targets[0].alternatives)
        if (a.rule != Rule::niirs_model) {
            EXPECT_NEAR(a.cycles, 2.0, 1e-12) << to_string(a.rule);
        }
    EXPECT_NE(it.verdicts.back().find("can recognise a main battle tank (T-72) but not identify it"), std::string::npos)
        << it.verdicts.back();
}
