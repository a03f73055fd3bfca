// The one table of figure options, the provenance marks and the preset-SNR warning
// (pipeline/model/provenance.hpp, predict.hpp).
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "satiq/pipeline/model/predict.hpp"
#include "satiq/pipeline/model/provenance.hpp"
#include "satiq/pipeline/model/sensor.hpp"

using namespace satiq;

TEST(Provenance, OneTableMapsEachOptionToItsFigure) {
    EXPECT_EQ(figure_of_option("--pitch-um"), "detector_pitch_m");
    EXPECT_EQ(figure_of_option("--aperture-m"), "aperture_diameter_m");
    EXPECT_EQ(figure_of_option("--q"), "q");
    EXPECT_THROW((void)figure_of_option("--no-such-option"), std::logic_error);
    std::set<std::string_view> flags;
    std::set<std::string_view> figures;
    for (const FigureOption& o : figure_options()) {
        EXPECT_TRUE(flags.insert(o.flag).second) << o.flag;
        EXPECT_TRUE(figures.insert(o.figure).second) << o.figure;  // one option per figure
        EXPECT_EQ(o.flag.substr(0, 2), "--") << o.flag;
    }
    // Every figure a preset's model reports that an option sets is in the table under that
    // figure's own key: a custom description with the radiometric model has them all.
    sensor::SensorDescription d = sensor::find_sensor_preset("worldview-3").description;
    d.off_nadir_deg = 10;
    d.radiometry = sensor::Radiometry{};
    d.radiometry->integration_time_s = 1e-3;
    const ResolvedFigures r = model_figures(sensor::SensorModel::physical(d), "worldview-3");
    for (const char* key : {"altitude_m", "aperture_diameter_m", "central_obscuration_ratio", "focal_length_m",
                            "detector_pitch_m", "fill_factor", "wavelength_m", "jitter_sigma_px", "smear_px",
                            "defocus_blur_diameter_px", "wavefront_error_rms_waves", "full_well_e", "read_noise_e",
                            "bits", "snr", "off_nadir_deg", "integration_time_s", "solar_zenith_deg"}) {
        EXPECT_TRUE(r.provenance.count(key)) << key;
        EXPECT_TRUE(figures.count(key)) << key;
    }
}

TEST(Provenance, OverridesAreRecordedInSnakeCaseAndNamedByTheirOption) {
    EXPECT_EQ(override_key("--off-nadir-deg"), "off_nadir_deg");
    EXPECT_EQ(override_key("--pitch-um"), "pitch_um");
    const auto texts = override_texts({{"pitch_um", 5.0}, {"aperture_m", 0.5}, {"unrelated", 1.0}});
    ASSERT_EQ(texts.size(), 2u);
    EXPECT_EQ(texts.at("detector_pitch_m"), "--pitch-um 5");
    EXPECT_EQ(texts.at("aperture_diameter_m"), "--aperture-m 0.5");
}

TEST(Provenance, MarkNamesTheOptionAndKeepsThePresetsValue) {
    const sensor::SensorPreset& p = sensor::find_sensor_preset("malligyong-1");
    sensor::SensorDescription d = p.description;
    d.aperture_diameter_m = 0.5;
    ResolvedFigures r = model_figures(sensor::SensorModel::physical(d), p.name);
    EXPECT_EQ(r.provenance.at("aperture_diameter_m").kind, "given");
    EXPECT_EQ(r.provenance.at("aperture_diameter_m").text, "set for this run; the preset has 0.1");
    mark(r.provenance, "given", override_texts({{"aperture_m", 0.5}}));
    EXPECT_EQ(r.provenance.at("aperture_diameter_m").text, "--aperture-m 0.5; the preset has 0.1");
    // A figure the preset's notes describe is replaced as a whole.
    const std::string before = r.provenance.at("jitter_sigma_px").text;
    mark(r.provenance, "given", {{"jitter_sigma_px", "--jitter-px 0.3"}});
    EXPECT_EQ(r.provenance.at("jitter_sigma_px").text, "--jitter-px 0.3") << before;
    // The text form lists the values by kind.
    const std::string text = resolved_text(r, "  ");
    EXPECT_NE(text.find("  given: aperture_diameter_m 0.5, jitter_sigma_px 0.3\n"), std::string::npos) << text;
}

TEST(Predict, PresetSnrKeptWhileTheOpticsChangeIsAWarning) {
    const sensor::SensorPreset& p = sensor::find_sensor_preset("malligyong-1");
    auto warning = [&](const sensor::SensorDescription& d) {
        return fixed_snr_warning(sensor::SensorModel::physical(d), p.name);
    };
    EXPECT_FALSE(warning(p.description));  // the preset as it is
    sensor::SensorDescription d = p.description;
    d.jitter_sigma_px = 1.0;  // blur only: the light is the same
    EXPECT_FALSE(warning(d));
    d = p.description;
    d.aperture_diameter_m *= 2;  // f-number halved: four times the light, twice a shot-limited SNR
    auto w = warning(d);
    ASSERT_TRUE(w);
    EXPECT_NE(w->find("collect 4x its light per pixel"), std::string::npos) << *w;
    EXPECT_NE(w->find("SNR would be 2x"), std::string::npos) << *w;
    d.snr = 20.0;  // an SNR set for this run
    EXPECT_FALSE(warning(d));
    d = p.description;
    d.detector_pitch_m *= 2;
    d.focal_length_m *= 2;  // same GSD and the same light: f-number doubled, pixel area four times
    EXPECT_FALSE(warning(d));
    d = p.description;
    d.aperture_diameter_m *= 2;
    d.snr.reset();
    d.radiometry = sensor::Radiometry{};  // the radiometric model decides the SNR
    d.radiometry->integration_time_s = 1e-3;
    EXPECT_FALSE(warning(d));
    // In the prediction's warnings; not for a custom or simple model.
    d = p.description;
    d.fill_factor = 0.5;
    const Prediction pr = predict(sensor::SensorModel::physical(d), "preset", p.name);
    bool found = false;
    for (const std::string& s : pr.warnings)
        found = found || s.rfind("snr: the preset's SNR 10 is kept", 0) == 0;
    EXPECT_TRUE(found);
    EXPECT_FALSE(fixed_snr_warning(sensor::SensorModel::physical(d), ""));
    // Where the SNR comes from: the preset's assumed figure, not "given".
    EXPECT_EQ(to_json(pr)["snr_source"], "assumed");
    EXPECT_NE(to_text(pr).find("SNR 10.0 (assumed)"), std::string::npos);
}
