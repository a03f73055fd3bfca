#include "sensor_options.hpp"

#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "satiq/pipeline/model/provenance.hpp"

namespace satiq::cli {

std::map<std::string, std::string> given_figure_texts(const std::vector<const NumOpt*>& options) {
    std::map<std::string, std::string> out;
    for (const NumOpt* n : options)
        if (n->given()) out[std::string(figure_of_option(n->flag))] = option_text(n->flag, n->value);
    return out;
}

namespace {
// Plausible ranges beyond the sign bound: a value outside is a typing error (1e308 m of
// altitude, a denormal aperture), refused here with the flag named instead of surfacing as an
// infinite GSD or a NaN deep in the model.
const std::map<std::string, std::pair<double, double>>& plausible_ranges() {
    static const std::map<std::string, std::pair<double, double>> r = {
        {"--altitude-m", {1, 1e8}},
        {"--off-nadir-deg", {0, 90}},
        {"--elevation-deg", {1e-6, 90}},
        {"--aperture-m", {1e-4, 100}},
        {"--obscuration", {0, 0.99}},
        {"--focal-length-m", {1e-4, 1e4}},
        {"--pitch-um", {0.01, 1e4}},
        {"--fill-factor", {1e-3, 1}},
        {"--wavelength-um", {0.01, 100}},
        {"--jitter-px", {0, 1000}},
        {"--smear-px", {0, 1000}},
        {"--defocus-px", {0, 1000}},
        {"--wfe-waves", {0, 10}},
        {"--full-well-e", {1, 1e9}},
        {"--read-noise-e", {0, 1e7}},
        {"--integration-time-s", {1e-9, 1e4}},
        {"--solar-zenith-deg", {0, 90}},
        {"--bits", {1, 32}},
        {"--snr", {0.1, 1e6}},
        {"--target-gsd-m", {1e-6, 1e5}},
        {"--mtf-nyquist", {1e-6, 0.6367}},
        {"--sigma-px", {0, 50}},
        {"--q", {0.01, 100}},
        {"--rer", {1e-3, 10}},
    };
    return r;
}
}  // namespace

double NumOpt::get() const {
    const bool ok = std::isfinite(value) && (bound == Bound::positive ? value > 0.0 : value >= 0.0);
    if (!ok)
        throw UsageError(fmt::format("{}: {} must be {} (got {})", command, flag,
                                     bound == Bound::positive ? "greater than 0" : "0 or greater", value));
    if (auto it = plausible_ranges().find(flag); it != plausible_ranges().end()) {
        const auto [lo, hi] = it->second;
        if (value < lo || value > hi)
            throw UsageError(fmt::format("{}: {} must lie in [{:g}, {:g}] (got {})", command, flag, lo, hi, value));
    }
    return value;
}

std::vector<NumOpt*> SensorOverrides::physical() {
    return {&altitude_m,     &off_nadir_deg, &elevation_deg, &aperture_m,         &obscuration,
            &focal_length_m, &pitch_um,      &fill_factor,   &wavelength_um,      &jitter_px,
            &smear_px,       &defocus_px,    &wfe_waves,     &integration_time_s, &solar_zenith_deg};
}

std::vector<NumOpt*> SensorOverrides::all() {
    auto v = physical();
    v.push_back(&full_well_e);
    v.push_back(&read_noise_e);
    return v;
}

std::vector<const NumOpt*> SensorOverrides::all() const {
    return {&altitude_m, &off_nadir_deg,      &elevation_deg,    &aperture_m,  &obscuration, &focal_length_m,
            &pitch_um,   &fill_factor,        &wavelength_um,    &jitter_px,   &smear_px,    &defocus_px,
            &wfe_waves,  &integration_time_s, &solar_zenith_deg, &full_well_e, &read_noise_e};
}

void SensorOverrides::add_options(CLI::App* cmd, const std::string& command) {
    struct Spec {
        NumOpt* n;
        const char* help;
    };
    const std::vector<Spec> specs = {
        {&altitude_m, "Orbit altitude, metres"},
        {&off_nadir_deg, "Off-nadir look angle at the satellite, degrees (default nadir)"},
        {&elevation_deg, "Target elevation angle, degrees (alternative to --off-nadir-deg)"},
        {&aperture_m, "Aperture diameter, metres"},
        {&obscuration, "Central obscuration ratio (secondary/primary diameter), 0..1"},
        {&focal_length_m, "Focal length, metres"},
        {&pitch_um, "Detector pitch, micrometres"},
        {&fill_factor, "Areal detector fill factor, 0..1"},
        {&wavelength_um, "Band centre wavelength, micrometres (custom default 0.6)"},
        {&jitter_px, "RMS line-of-sight jitter per axis, pixels"},
        {&smear_px, "Along-scan linear smear, pixels"},
        {&defocus_px, "Defocus blur-circle diameter, pixels"},
        {&wfe_waves, "RMS wavefront error, waves (< 0.18)"},
        {&full_well_e, "Full-well capacity, electrons"},
        {&read_noise_e, "Read noise, electrons RMS"},
        {&integration_time_s, "Effective integration time, s: enables the radiometric SNR model"},
        {&solar_zenith_deg, "Sun zenith angle for the radiometric model, degrees (default 30)"},
    };
    for (const Spec& s : specs) {
        s.n->command = command;
        s.n->opt = cmd->add_option(s.n->flag, s.n->value, s.help);
    }
}

void SensorOverrides::apply(sensor::SensorDescription& d) const {
    const std::string& cmd = altitude_m.command;
    if (altitude_m.given()) d.altitude_m = altitude_m.get();
    if (off_nadir_deg.given() && elevation_deg.given())
        throw UsageError(fmt::format("{}: give either --off-nadir-deg or --elevation-deg, not both", cmd));
    if (off_nadir_deg.given()) {
        d.off_nadir_deg = off_nadir_deg.get();
        d.elevation_deg.reset();
    }
    if (elevation_deg.given()) {
        const double e = elevation_deg.get();
        if (e > 90) throw UsageError(fmt::format("{}: --elevation-deg must lie in (0, 90] (got {})", cmd, e));
        d.elevation_deg = e;
        d.off_nadir_deg.reset();
    }
    if (aperture_m.given()) d.aperture_diameter_m = aperture_m.get();
    if (obscuration.given()) d.central_obscuration_ratio = obscuration.get();
    if (focal_length_m.given()) d.focal_length_m = focal_length_m.get();
    if ((aperture_m.given() || focal_length_m.given()) &&
        d.focal_length_m / d.aperture_diameter_m < sensor::kFastestFNumber)
        throw UsageError(fmt::format(  // the model's bound (SensorDescription::validate), named by the options
            "{}: --focal-length-m {:g} / --aperture-m {:g} is f/{:.3g}, faster than f/0.5, the limit of any imaging "
            "optics in air",
            cmd, d.focal_length_m, d.aperture_diameter_m, d.focal_length_m / d.aperture_diameter_m));
    if (pitch_um.given()) d.detector_pitch_m = pitch_um.get() * 1e-6;
    if (fill_factor.given()) d.fill_factor = fill_factor.get();
    if (wavelength_um.given()) d.wavelength_m = wavelength_um.get() * 1e-6;
    if (jitter_px.given()) d.jitter_sigma_px = jitter_px.get();
    if (smear_px.given()) d.smear_px = smear_px.get();
    if (defocus_px.given()) d.defocus_blur_diameter_px = defocus_px.get();
    if (wfe_waves.given()) d.wavefront_error_rms_waves = wfe_waves.get();
    if (full_well_e.given()) d.full_well_e = full_well_e.get();
    if (read_noise_e.given()) d.read_noise_e = read_noise_e.get();
    if (integration_time_s.given()) {
        sensor::Radiometry r;
        r.integration_time_s = integration_time_s.get();
        if (solar_zenith_deg.given()) r.solar_zenith_deg = solar_zenith_deg.get();
        d.radiometry = r;
        d.snr.reset();  // the radiometric model decides the SNR unless --snr is given
    } else if (solar_zenith_deg.given()) {
        throw UsageError(fmt::format("{}: --solar-zenith-deg needs --integration-time-s (radiometric model)", cmd));
    }
}

std::map<std::string, double> SensorOverrides::given_values() const {
    std::map<std::string, double> out;
    for (const NumOpt* n : all())
        if (n->given()) out[override_key(n->flag)] = n->value;
    return out;
}

bool SensorOverrides::any_given() const {
    for (const NumOpt* n : all())
        if (n->given()) return true;
    return false;
}

const sensor::SensorPreset& find_preset_for_option(const std::string& name) {
    return as_usage_error([&]() -> const sensor::SensorPreset& { return sensor::find_sensor_preset(name); });
}

}  // namespace satiq::cli
