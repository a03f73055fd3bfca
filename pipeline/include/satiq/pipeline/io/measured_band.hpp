#pragma once
// The band an image-quality measurement reads (assess, degrade --measure-input): one band, or the
// luminance of an RGB image.
#include <string>
#include <utility>
#include <vector>

#include "satiq/pipeline/io/raster.hpp"

namespace satiq {

/// The measured signal of a raster, with what a measurement needs to know about it.
struct MeasuredBand {
    MaskedImage image;                            ///< whole raster, nodata in the mask
    std::string description;                      ///< "band 2", "luminance of bands 1-3 (...)"
    std::vector<std::pair<int, double>> weights;  ///< the signal as a weighted sum of bands (1-based)
    double saturation_dn = 0;                     ///< see saturation_for
    std::vector<std::string> warnings;            ///< RGB measured on its luminance, multi-band
    /// The mask as a view (empty: every pixel valid).
    [[nodiscard]] ConstImageView<std::uint8_t> mask() const;
};

/// Saturation level: the declared bit depth (IMAGE_STRUCTURE NBITS) or the type's maximum.
[[nodiscard]] double saturation_for(const RasterInfo& info, const BandInfo& band);

/// True when bands 1-3 are tagged Red, Green and Blue.
[[nodiscard]] bool is_rgb(const RasterInfo& info);

/// Reads the measured signal whole: band `band` (1-based) when > 0; else the Rec. 601 luminance
/// (0.299 R + 0.587 G + 0.114 B) of an RGB image; else band 1 (with a warning for a multi-band
/// image unless `quiet_multiband`). A band that does not exist is satiq::Error naming `path`.
[[nodiscard]] MeasuredBand read_measured_band(const Raster& raster, const std::filesystem::path& path, int band,
                                              bool quiet_multiband);

}  // namespace satiq
