#pragma once
/// The scene-radiometry convention shared by `degrade` (which adds noise for a target SNR) and
/// `assess` (which measures SNR): without radiometric calibration, the GIQE signal (the DN
/// difference between a 15 % and a 7 % reflectance target, Leachtenauer et al., Appl. Opt. 36(32), 1997) is
/// approximated from the scene's dynamic range.
///
/// Assumption (stated in every output that uses it): the scene's 2nd percentile is a 5 %
/// reflectance surface and its 98th percentile a 45 % one, with a linear DN-reflectance
/// response. Then DN per unit reflectance = (p98 - p02) / 0.40, the 7 % and 15 % levels follow,
/// and the GIQE signal difference is 0.08 / 0.40 (p98 - p02) = 0.2 (p98 - p02).
/// Typical urban and vegetated scenes span roughly 3-50 % in the visible pan band, so the
/// convention is good to a factor of about 1.5 in SNR (0.1-0.2 NIIRS through GIQE 5's SNR terms
/// for SNR > 10).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "satiq/kernels/statistics.hpp"

namespace satiq {

struct SceneRadiometry {
    double dn_per_reflectance = 0;    ///< DN for a reflectance step of 1.0
    double dn_at_zero = 0;            ///< DN at 0 % reflectance (dark offset under the assumption)
    double level_07_dn = 0;           ///< DN of a 7 % reflectance surface
    double level_15_dn = 0;           ///< DN of a 15 % reflectance surface
    double signal_difference_dn = 0;  ///< level_15_dn - level_07_dn: the GIQE SNR numerator
    std::string assumption;           ///< one sentence for reports
};

inline constexpr double kSceneDarkReflectance = 0.05;    ///< assumed at the 2nd percentile
inline constexpr double kSceneBrightReflectance = 0.45;  ///< assumed at the 98th percentile

/// From image statistics (p02, p98). Throws satiq::Error when the scene has no dynamic range.
SceneRadiometry scene_radiometry(const ImageStats& stats);

/// The same levels from a known linear response (DN = dn_at_zero + dn_per_reflectance x R).
SceneRadiometry radiometry_from_response(double dn_at_zero, double dn_per_reflectance, std::string assumption);

/// Metadata key under which `degrade` records, per output band, the response its SNR was set
/// against, so that `assess` of the output measures SNR against the same signal instead of
/// re-deriving it from the blurred output's narrower percentiles.
inline constexpr const char* kRadiometryMetadataKey = "SATIQ_RADIOMETRY";

/// JSON text for kRadiometryMetadataKey: {"dn_at_zero": [...], "dn_per_reflectance": [...]}.
std::string radiometry_metadata(const std::vector<SceneRadiometry>& per_band, double gain);

/// The response of a weighted sum of bands (band index from 1, weight) read back from that
/// metadata; nullopt when `value` is empty, malformed or lacks a band.
std::optional<SceneRadiometry> radiometry_from_metadata(const std::string& value,
                                                        const std::vector<std::pair<int, double>>& band_weights);

}  // namespace satiq
