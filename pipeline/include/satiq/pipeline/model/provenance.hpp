#pragma once
/// Where the figures of a run come from: one map, figure (its JSON key) -> kind and text, written
/// the same way by every command (`predict`, `degrade`, `sweep`, `require`): in JSON as
/// `"provenance": {"snr": {"assumed": "..."}}` (the shape of pipeline/data/sensors.json and
/// `predict --list`), in text as one line per kind naming its figures.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace satiq {

/// Where one figure comes from: "source" (a public figure), "derived" (computed from others or
/// measured), "assumed" (no public figure; satiq's defaults are assumed) as in
/// pipeline/data/sensors.json, or "given" (set for this run: a command option), with the
/// reference or reasoning text.
struct FigureProvenance {
    std::string kind;
    std::string text;
};

/// Figure key -> its provenance.
using ProvenanceMap = std::map<std::string, FigureProvenance>;

/// The figures a run used: `values` (figure key -> the value used; null where the run used none,
/// said by its provenance) and the provenance of each.
struct ResolvedFigures {
    nlohmann::json values = nlohmann::json::object();
    ProvenanceMap provenance;

    /// Sets one figure: its value and where it comes from.
    void set(const std::string& key, nlohmann::json value, std::string kind, std::string text);
    /// Removes a figure (one the run does not use).
    void erase(const std::string& key);
};

/// "--flag value" (the value as %g): the text of a figure "given" by a command option.
std::string option_text(std::string_view flag, double value);

/// The text a model gives a figure set for this run that differs from its preset's, before the
/// option that set it is known: "set for this run; the preset has X". `mark` puts the option in
/// its place and keeps the preset's value.
inline constexpr std::string_view set_for_this_run = "set for this run";

/// Sets `kind` with the text given for each figure of `texts` (figure key -> text). A figure
/// already marked "set for this run; the preset has X" keeps the preset's value after the new
/// text ("--aperture-m 0.5; the preset has 0.1").
void mark(ProvenanceMap& prov, const std::string& kind, const std::map<std::string, std::string>& texts);

/// A command option that sets a figure of a run: the option's flag and the figure's key (its
/// key in `parameters`, `resolved_parameters` and `provenance`).
struct FigureOption {
    std::string_view flag;
    std::string_view figure;
};
/// Every option of predict, degrade, sweep and require that sets a figure: the one table the
/// commands' "given" provenance and their recorded sensor overrides are read from.
const std::vector<FigureOption>& figure_options();
/// The figure an option sets ("--pitch-um" -> "detector_pitch_m"). An option not in the table is
/// a programming error (std::logic_error).
std::string_view figure_of_option(std::string_view flag);
/// The key a sensor override is recorded under (`sensor_overrides` in degrade's and sweep's JSON
/// and metadata): the flag without its dashes, in snake_case ("--pitch-um" -> "pitch_um"), so
/// the value keeps the option's unit.
std::string override_key(std::string_view flag);
/// The "given" texts of recorded sensor overrides (override key -> value): figure -> "--flag value".
std::map<std::string, std::string> override_texts(const std::map<std::string, double>& overrides);

/// {"figure": {"kind": "text"}, ...}.
nlohmann::json provenance_json(const ProvenanceMap& prov);
/// The figures a run used with their values (%g; "none" for null), one line per kind (source,
/// derived, assumed, given), each line begun with `indent`; empty when there are none.
std::string resolved_text(const ResolvedFigures& r, std::string_view indent);
/// "Figures (--format json gives each one's reference):" and one line per kind naming its figures
/// (source, derived, assumed, given); empty for an empty map.
std::string provenance_text(const ProvenanceMap& prov);

}  // namespace satiq
