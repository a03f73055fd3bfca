// Provenance of the figures of a run (provenance.hpp): its JSON and text forms, shared by every
// command that reports one.
#include "satiq/pipeline/model/provenance.hpp"

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
    for (const auto& [key, text] : texts)
        prov[key] = {kind, text};
}

nlohmann::json provenance_json(const ProvenanceMap& prov) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, n] : prov)
        j[key] = nlohmann::json{{n.kind, n.text}};
    return j;
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
