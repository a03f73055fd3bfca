#pragma once
// Internals of `satiq assess` shared by assess.cpp, assess_stages.cpp, assess_json.cpp and
// assess_bands.cpp (not installed).
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/ops/assess.hpp"

namespace satiq::detail {

/// assess_file for the band `params.band` selects (all_bands only silences the multi-band
/// warning: the bands follow).
AssessResult assess_image(const std::filesystem::path& path, const AssessParams& params);

/// assess_file with all_bands: assess_image as asked, then every band on its own.
AssessResult assess_every_band(const std::filesystem::path& path, const AssessParams& params);

/// `bands` of the JSON (null without all_bands) and the text lines for them (empty without).
nlohmann::json bands_json(const AssessResult& r);
std::string bands_text(const AssessResult& r);

}  // namespace satiq::detail
