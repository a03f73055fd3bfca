#pragma once
// Sensor description options shared by `satiq predict` and `satiq degrade --sensor NAME`: their
// definition (flag, bound, help) and their application to a sensor description, in one place.
// Every problem with them is a satiq::UsageError (exit 2).
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/sensor.hpp"

namespace satiq::cli {

enum class Bound { positive, non_negative };

/// One numeric option: the flag, its value and the CLI11 option (count() says if given).
struct NumOpt {
    std::string flag;
    Bound bound = Bound::positive;
    double value = 0.0;
    CLI::Option* opt = nullptr;
    std::string command = "predict";  ///< names the command in error messages

    bool given() const { return opt != nullptr && opt->count() > 0; }
    /// The value, checked against its bound (UsageError otherwise).
    double get() const;
};

/// The options among `options` that were given, by the figure each sets (figure_of_option, the
/// one table in provenance.hpp): "--flag value", the text of a "given" provenance.
std::map<std::string, std::string> given_figure_texts(const std::vector<const NumOpt*>& options);

/// The physical sensor description overrides: geometry, optics, detector, radiometric model.
struct SensorOverrides {
    NumOpt altitude_m{"--altitude-m"}, off_nadir_deg{"--off-nadir-deg", Bound::non_negative},
        elevation_deg{"--elevation-deg"}, aperture_m{"--aperture-m"}, obscuration{"--obscuration", Bound::non_negative},
        focal_length_m{"--focal-length-m"}, pitch_um{"--pitch-um"}, fill_factor{"--fill-factor"},
        wavelength_um{"--wavelength-um"}, jitter_px{"--jitter-px", Bound::non_negative},
        smear_px{"--smear-px", Bound::non_negative}, defocus_px{"--defocus-px", Bound::non_negative},
        wfe_waves{"--wfe-waves", Bound::non_negative}, full_well_e{"--full-well-e"},
        read_noise_e{"--read-noise-e", Bound::non_negative}, integration_time_s{"--integration-time-s"},
        solar_zenith_deg{"--solar-zenith-deg", Bound::non_negative};

    /// The options the simple form refuses (all but --full-well-e and --read-noise-e).
    std::vector<NumOpt*> physical();
    /// Every override.
    std::vector<NumOpt*> all();
    std::vector<const NumOpt*> all() const;

    /// Registers every override on `cmd`; `command` names the command in error messages.
    void add_options(CLI::App* cmd, const std::string& command);
    /// Applies the given overrides to `d` (after a preset or the custom defaults). With
    /// --integration-time-s the radiometric model is set and d.snr reset (the caller sets a given
    /// --snr afterwards). Throws UsageError for a value out of its bound or a bad combination.
    void apply(sensor::SensorDescription& d) const;
    /// The overrides given, as recorded: override_key ("--pitch-um" -> "pitch_um") -> value.
    std::map<std::string, double> given_values() const;
    bool any_given() const;
};

/// The preset of that name; an unknown name is a UsageError listing the presets.
const sensor::SensorPreset& find_preset_for_option(const std::string& name);

}  // namespace satiq::cli
