// Interpretability: NIIRS criteria, Johnson criteria / TTPF, target catalogue, verdicts.
#include <cmath>

#include <gtest/gtest.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/interpretability.hpp"

using namespace satiq::interpret;

TEST(Niirs, CriteriaCoverEveryLevelOnBothScales) {
    for (NiirsScale s : {NiirsScale::visible_military, NiirsScale::civil}) {
        for (int level = 1; level <= 9; ++level) {
            int n = 0;
            for (const auto& c : niirs_criteria(s))
                n += c.level == level;
            EXPECT_GE(n, 2) << to_string(s) << " level " << level;
        }
    }
    // Military lines are labelled "as commonly cited".
    bool tel_flagged = false;
    for (const auto& c : niirs_criteria(NiirsScale::visible_military))
        if (c.task.find("mobile missile launcher") != std::string::npos)
            tel_flagged = c.as_commonly_cited && c.level == 5;
    EXPECT_TRUE(tel_flagged);
    for (const auto& c : niirs_criteria(NiirsScale::civil))
        EXPECT_FALSE(c.as_commonly_cited);
}

TEST(Niirs, AssessMetAndNotMet) {
    const NiirsAssessment a = assess_niirs(4.3, NiirsScale::visible_military);
    EXPECT_EQ(a.level, 4);
    ASSERT_FALSE(a.met.empty());
    EXPECT_EQ(a.met.front().level, 4);
    EXPECT_EQ(a.met.back().level, 1);
    for (const auto& c : a.not_met)
        EXPECT_EQ(c.level, 5);
    EXPECT_FALSE(a.not_met.empty());

    const NiirsAssessment two = assess_niirs(2.0, NiirsScale::civil, 2);
    EXPECT_EQ(two.level, 2);
    for (const auto& c : two.not_met)
        EXPECT_TRUE(c.level == 3 || c.level == 4);

    EXPECT_EQ(assess_niirs(-0.5, NiirsScale::civil).level, 0);
    EXPECT_TRUE(assess_niirs(-0.5, NiirsScale::civil).met.empty());
    EXPECT_EQ(assess_niirs(9.7, NiirsScale::civil).level, 9);
    EXPECT_TRUE(assess_niirs(9.7, NiirsScale::civil).not_met.empty());
    EXPECT_THROW(assess_niirs(std::nan(""), NiirsScale::civil), satiq::Error);
}

TEST(Niirs, GrdBands) {
    EXPECT_EQ(niirs_grd_band_m(5), std::make_pair(0.75, 1.2));
    EXPECT_TRUE(std::isinf(niirs_grd_band_m(1).second));
    EXPECT_EQ(niirs_grd_band_m(9).first, 0.0);
    EXPECT_THROW(niirs_grd_band_m(0), satiq::Error);
}

TEST(Johnson, N50AndTtpf) {
    EXPECT_DOUBLE_EQ(johnson_n50(JohnsonTask::detection), 1.0);
    EXPECT_DOUBLE_EQ(johnson_n50(JohnsonTask::orientation), 1.4);
    EXPECT_DOUBLE_EQ(johnson_n50(JohnsonTask::recognition), 4.0);
    EXPECT_DOUBLE_EQ(johnson_n50(JohnsonTask::identification), 6.4);
    // N = N50 gives exactly 0.5.
    EXPECT_NEAR(ttpf_probability(4.0, 4.0), 0.5, 1e-15);
    // N = 2 N50: E = 4.1, P = 2^4.1 / (1 + 2^4.1).
    const double p2 = std::pow(2.0, 4.1);
    EXPECT_NEAR(ttpf_probability(2.0, 1.0), p2 / (1.0 + p2), 1e-15);
    // N = N50/2: E = 3.05.
    const double ph = std::pow(0.5, 3.05);
    EXPECT_NEAR(ttpf_probability(0.5, 1.0), ph / (1.0 + ph), 1e-15);
    EXPECT_EQ(ttpf_probability(0.0, 1.0), 0.0);
    EXPECT_NEAR(ttpf_probability(1000.0, 1.0), 1.0, 1e-12);
    // Monotonic.
    double prev = 0.0;
    for (double n = 0.1; n < 20.0; n += 0.1) {
        const double p = ttpf_probability(n, 4.0);
        EXPECT_GE(p, prev);
        prev = p;
    }
    EXPECT_THROW(ttpf_probability(-1.0, 1.0), satiq::Error);
    EXPECT_THROW(ttpf_probability(1.0, 0.0), satiq::Error);
}

TEST(Johnson, CatalogueAndParsing) {
    const auto& cat = target_catalogue();
    EXPECT_EQ(cat.size(), 8u);
    for (const auto& t : cat) {
        EXPECT_GT(t.length_m, 0.0);
        EXPECT_GT(t.width_m, 0.0);
        EXPECT_FALSE(t.source.empty()) << t.key;
        if (t.assumed) {
            EXPECT_NE(t.source.find("ASSUMED"), std::string::npos) << t.key;
        }
    }
    const Target& tank = find_target("TANK");
    EXPECT_DOUBLE_EQ(tank.length_m, 6.95);
    EXPECT_DOUBLE_EQ(tank.width_m, 3.59);
    EXPECT_NEAR(critical_dimension_m(tank), std::sqrt(6.95 * 3.59), 1e-12);
    EXPECT_DOUBLE_EQ(find_target("fighter").length_m, 17.3);
    EXPECT_DOUBLE_EQ(find_target("fighter").width_m, 11.4);
    EXPECT_DOUBLE_EQ(find_target("tel").length_m, 23.0);
    EXPECT_TRUE(find_target("tel").assumed);
    try {
        find_target("submarine");
        ADD_FAILURE();
    } catch (const satiq::Error& e) {
        EXPECT_NE(std::string(e.what()).find("frigate"), std::string::npos);
    }

    const Target u = parse_target("Hwasong-18 TEL:20:3.4");
    EXPECT_EQ(u.name, "Hwasong-18 TEL");
    EXPECT_DOUBLE_EQ(u.length_m, 20.0);
    EXPECT_DOUBLE_EQ(u.width_m, 3.4);
    EXPECT_DOUBLE_EQ(parse_target("a:b:1.5:2").length_m, 1.5);  // name with ':'
    EXPECT_THROW(parse_target("bad"), satiq::Error);
    EXPECT_THROW(parse_target("x:0:2"), satiq::Error);
    EXPECT_THROW(parse_target("x:3:-2"), satiq::Error);
    EXPECT_THROW(parse_target("x:3m:2"), satiq::Error);
    EXPECT_THROW(parse_target(":3:2"), satiq::Error);
}
