#include "satiq/pipeline/model/radiometry.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace satiq {

SceneRadiometry scene_radiometry(const ImageStats& s) {
    const double span = s.p98 - s.p02;
    if (s.valid_count == 0 || !(span > 0))
        throw Error(
            "no dynamic range (its 2nd and 98th percentiles are equal), so the GIQE signal cannot be estimated "
            "from the scene");
    // Linear DN-reflectance response through the two anchors (see the header).
    const double k = span / (kSceneBrightReflectance - kSceneDarkReflectance);
    return radiometry_from_response(
        s.p02 - kSceneDarkReflectance * k, k,
        fmt::format(
            "no radiometric calibration: the scene's 2nd percentile ({:.1f} DN) is taken as {:.0f} % and its 98th "
            "percentile ({:.1f} DN) as {:.0f} % reflectance, so the 15 % - 7 % signal difference is {:.2f} DN",
            s.p02, 100 * kSceneDarkReflectance, s.p98, 100 * kSceneBrightReflectance, 0.08 * k));
}

SceneRadiometry radiometry_from_response(double dn_at_zero, double dn_per_reflectance, std::string assumption) {
    SceneRadiometry r;
    r.dn_per_reflectance = dn_per_reflectance;
    r.dn_at_zero = dn_at_zero;
    // GIQE's signal: the DN difference of 15 % and 7 % reflectance (Leachtenauer et al. 1997).
    r.level_07_dn = dn_at_zero + 0.07 * dn_per_reflectance;
    r.level_15_dn = dn_at_zero + 0.15 * dn_per_reflectance;
    r.signal_difference_dn = r.level_15_dn - r.level_07_dn;
    r.assumption = std::move(assumption);
    return r;
}

std::string radiometry_metadata(const std::vector<SceneRadiometry>& per_band, double gain) {
    nlohmann::json zero = nlohmann::json::array(), slope = nlohmann::json::array();
    for (const SceneRadiometry& r : per_band) {
        zero.push_back(r.dn_at_zero * gain);
        slope.push_back(r.dn_per_reflectance * gain);
    }
    return nlohmann::json{{"dn_at_zero", zero}, {"dn_per_reflectance", slope}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<SceneRadiometry> radiometry_from_metadata(const std::string& value,
                                                        const std::vector<std::pair<int, double>>& band_weights) {
    if (value.empty() || band_weights.empty()) return std::nullopt;
    const nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("dn_at_zero") || !j.contains("dn_per_reflectance"))
        return std::nullopt;
    const auto& zero = j["dn_at_zero"];
    const auto& slope = j["dn_per_reflectance"];
    if (!zero.is_array() || !slope.is_array()) return std::nullopt;
    double z = 0, k = 0;
    for (const auto& [band, w] : band_weights) {
        const auto i = static_cast<std::size_t>(band - 1);
        if (band < 1 || i >= zero.size() || i >= slope.size() || !zero[i].is_number() || !slope[i].is_number())
            return std::nullopt;
        z += w * zero[i].get<double>();
        k += w * slope[i].get<double>();
    }
    if (!(k > 0)) return std::nullopt;
    return radiometry_from_response(
        z, k,
        fmt::format("radiometric response from the file's {} metadata (written by satiq degrade): {:.3g} DN at 0 % "
                    "and {:.4g} DN per unit reflectance, so the 15 % - 7 % signal difference is {:.2f} DN",
                    kRadiometryMetadataKey, z, k, 0.08 * k));
}

}  // namespace satiq
