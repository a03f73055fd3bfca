// Provenance of the figures of a run (provenance.hpp): its JSON and text forms, shared by every
// command that reports one.
#include "satiq/pipeline/model/provenance.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace satiq {

void ResolvedFigures::set(const std::string& key, nlohmann::json value, std::string kind, std::string text) {
    values[key] = std::move(value);
    provenance[key] = {std::move(kind), std::move(text)};
}

void ResolvedFigures::erase(const std::string& key) {
    values.erase(key);
    provenance.erase(key);
}

std::string option_text(std::string_view flag, double value) {
    return fmt::format("{} {:g}", flag, value);
}

void mark(ProvenanceMap& prov, const std::string& kind, const std::map<std::string, std::string>& texts) {
    for (const auto& [key, text] : texts) {
        FigureProvenance& n = prov[key];
        std::string rest;  // "; the preset has X" of a figure the model saw differ from its preset
        if (n.kind == "given" && n.text.rfind(set_for_this_run, 0) == 0) rest = n.text.substr(set_for_this_run.size());
        n = {kind, text + rest};
    }
}

const std::vector<FigureOption>& figure_options() {
    static const std::vector<FigureOption> table = {
        // the sensor description (predict, degrade --sensor, sweep --sensor)
        {"--altitude-m", "altitude_m"},
        {"--off-nadir-deg", "off_nadir_deg"},
        {"--elevation-deg", "elevation_deg"},
        {"--aperture-m", "aperture_diameter_m"},
        {"--obscuration", "central_obscuration_ratio"},
        {"--focal-length-m", "focal_length_m"},
        {"--pitch-um", "detector_pitch_m"},
        {"--fill-factor", "fill_factor"},
        {"--wavelength-um", "wavelength_m"},
        {"--jitter-px", "jitter_sigma_px"},
        {"--smear-px", "smear_px"},
        {"--defocus-px", "defocus_blur_diameter_px"},
        {"--wfe-waves", "wavefront_error_rms_waves"},
        {"--full-well-e", "full_well_e"},
        {"--read-noise-e", "read_noise_e"},
        {"--integration-time-s", "integration_time_s"},
        {"--solar-zenith-deg", "solar_zenith_deg"},
        // the simple form and the run (predict, degrade, sweep)
        {"--bits", "bits"},
        {"--snr", "snr"},
        {"--target-gsd-m", "target_gsd_m"},
        {"--mtf-nyquist", "mtf_nyquist"},
        {"--sigma-px", "sigma_px"},
        {"--input-sigma-px", "input_sigma_px"},
        // require's design figures
        {"--q", "q"},
        {"--rer", "rer"},
    };
    return table;
}

std::string_view figure_of_option(std::string_view flag) {
    const auto& t = figure_options();
    const auto it = std::find_if(t.begin(), t.end(), [&](const FigureOption& o) { return o.flag == flag; });
    if (it == t.end()) throw std::logic_error(fmt::format("figure_of_option: {} sets no figure", flag));
    return it->figure;
}

std::string override_key(std::string_view flag) {
    std::string k(flag.substr(flag.find_first_not_of('-')));
    std::replace(k.begin(), k.end(), '-', '_');
    return k;
}

std::map<std::string, std::string> override_texts(const std::map<std::string, double>& overrides) {
    std::map<std::string, std::string> out;
    for (const FigureOption& o : figure_options())
        if (auto it = overrides.find(override_key(o.flag)); it != overrides.end())
            out[std::string(o.figure)] = option_text(o.flag, it->second);
    return out;
}

nlohmann::json provenance_json(const ProvenanceMap& prov) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, n] : prov)
        j[key] = nlohmann::json{{n.kind, n.text}};
    return j;
}

std::string resolved_text(const ResolvedFigures& r, std::string_view indent) {
    if (r.provenance.empty()) return {};
    std::string out = fmt::format("{}figures used (--format json gives each one's reference):\n", indent);
    for (const char* kind : {"source", "derived", "assumed", "given"}) {
        std::string line;
        for (const auto& [key, n] : r.provenance) {
            if (n.kind != kind) continue;
            const auto it = r.values.find(key);
            std::string value = "none";
            if (it != r.values.end() && it->is_number()) value = fmt::format("{:g}", it->get<double>());
            line += fmt::format("{}{} {}", line.empty() ? "" : ", ", key, value);
        }
        if (!line.empty()) out += fmt::format("{}  {}: {}\n", indent, kind, line);
    }
    return out;
}

std::string provenance_text(const ProvenanceMap& prov) {
    if (prov.empty()) return {};
    std::string out = "Figures (--format json gives each one's reference):\n";
    for (const char* kind : {"source", "derived", "assumed", "given"}) {
        std::string keys;
        for (const auto& [key, n] : prov)
            if (n.kind == kind) keys += (keys.empty() ? "" : ", ") + key;
        if (!keys.empty()) out += fmt::format("  {}: {}\n", kind, keys);
    }
    return out;
}

}  // namespace satiq
