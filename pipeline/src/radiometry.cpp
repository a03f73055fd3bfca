#include "satiq/pipeline/radiometry.hpp"

#include <fmt/format.h>

namespace satiq {

SceneRadiometry scene_radiometry(const ImageStats& s) {
    const double span = s.p98 - s.p02;
    if (s.valid_count == 0 || !(span > 0))
        throw Error("scene radiometry: the image has no dynamic range (2nd and 98th percentiles are equal), so the "
                    "GIQE signal cannot be estimated; give --snr");
    SceneRadiometry r;
    // Linear DN-reflectance response through the two anchors (see the header).
    r.dn_per_reflectance = span / (kSceneBrightReflectance - kSceneDarkReflectance);
    r.dn_at_zero = s.p02 - kSceneDarkReflectance * r.dn_per_reflectance;
    r.level_07_dn = r.dn_at_zero + 0.07 * r.dn_per_reflectance;
    r.level_15_dn = r.dn_at_zero + 0.15 * r.dn_per_reflectance;
    r.signal_difference_dn = r.level_15_dn - r.level_07_dn;
    r.assumption = fmt::format(
        "no radiometric calibration: the scene's 2nd percentile ({:.1f} DN) is taken as {:.0f} % and its 98th "
        "percentile ({:.1f} DN) as {:.0f} % reflectance, so the 15 % - 7 % signal difference is {:.2f} DN",
        s.p02, 100 * kSceneDarkReflectance, s.p98, 100 * kSceneBrightReflectance, r.signal_difference_dn);
    return r;
}

}  // namespace satiq
