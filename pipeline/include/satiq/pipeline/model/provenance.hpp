#pragma once
/// Where the figures of a run come from: one map, figure (its JSON key) -> kind and text, written
/// the same way by every command (`predict`, `degrade`, `sweep`, `require`): in JSON as
/// `"provenance": {"snr": {"assumed": "..."}}` (the shape of pipeline/data/sensors.json and
/// `predict --list`), in text as one line per kind naming its figures.
#include <map>
#include <string>
#include <string_view>

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

/// Sets `kind` with the text given for each figure of `texts` (figure key -> text).
void mark(ProvenanceMap& prov, const std::string& kind, const std::map<std::string, std::string>& texts);

/// {"figure": {"kind": "text"}, ...}.
nlohmann::json provenance_json(const ProvenanceMap& prov);
/// "Figures (--format json gives each one's reference):" and one line per kind naming its figures
/// (source, derived, assumed, given); empty for an empty map.
std::string provenance_text(const ProvenanceMap& prov);

}  // namespace satiq
