#include "satiq/pipeline/io/measured_band.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace satiq {

namespace {

// The luminance of bands 1-3 (Rec. 601 weights) into `img`, which holds band 1 on entry. Green
// and blue are added in strips of rows, so that the luminance costs one band's memory, not three.
void add_green_and_blue(const Raster& raster, const double (&w)[3], MaskedImage& img) {
    const RasterInfo& info = raster.info();
    const std::int64_t strip =
        std::max<std::int64_t>(1, (std::int64_t{1} << 22) / std::max<std::int64_t>(1, info.width));
    for (int b = 2; b <= 3; ++b) {
        for (std::int64_t y0 = 0; y0 < info.height; y0 += strip) {
            const std::int64_t rows = std::min(strip, info.height - y0);
            const MaskedImage c = raster.read_masked(b, {0, y0, info.width, rows});
            const auto base = static_cast<std::size_t>(y0 * info.width);
            for (std::size_t i = 0; i < c.pixels.pixels().size(); ++i) {
                float& v = img.pixels.pixels()[base + i];
                v = static_cast<float>((b == 2 ? w[0] * v : v) + w[b - 1] * c.pixels.pixels()[i]);
            }
            if (!c.mask.empty()) {
                if (img.mask.empty()) img.mask.assign(img.pixels.pixels().size(), 1);
                for (std::size_t i = 0; i < c.mask.size(); ++i)
                    img.mask[base + i] &= c.mask[i];
            }
        }
    }
}

}  // namespace

ConstImageView<std::uint8_t> MeasuredBand::mask() const {
    if (image.mask.empty()) return {};
    return ConstImageView<std::uint8_t>(image.mask.data(), image.pixels.width(), image.pixels.height());
}

double saturation_for(const RasterInfo& info, const BandInfo& band) {
    if (auto it = info.metadata.find("IMAGE_STRUCTURE"); it != info.metadata.end())
        if (auto n = it->second.find("NBITS"); n != it->second.end())
            return std::ldexp(1.0, std::atoi(n->second.c_str())) - 1;
    switch (band.type) {
        case DataType::Byte:
            return 255;
        case DataType::UInt16:
            return 65535;
        case DataType::Int16:
            return 32767;
        case DataType::UInt32:
            return 4294967295.0;
        case DataType::Int32:
            return 2147483647.0;
        default:
            return 3.0e38;
    }
}

bool is_rgb(const RasterInfo& info) {
    return info.bands.size() >= 3 && info.bands[0].color_interpretation == "Red" &&
           info.bands[1].color_interpretation == "Green" && info.bands[2].color_interpretation == "Blue";
}

MeasuredBand read_measured_band(const Raster& raster, const std::filesystem::path& path, int band,
                                bool quiet_multiband) {
    const RasterInfo& info = raster.info();
    const Window whole{0, 0, info.width, info.height};
    MeasuredBand m;
    if (band > 0) {
        if (band > raster.band_count())
            throw Error(fmt::format("{}: --band {} does not exist (the file has {})", path.string(), band,
                                    raster.band_count()));
        m.image = raster.read_masked(band, whole);
        m.description = fmt::format("band {}", band);
        m.weights = {{band, 1.0}};
        m.saturation_dn = saturation_for(info, info.bands[static_cast<std::size_t>(band - 1)]);
    } else if (is_rgb(info)) {
        const double w[3] = {0.299, 0.587, 0.114};
        m.image = raster.read_masked(1, whole);
        add_green_and_blue(raster, w, m.image);
        m.description = "luminance of bands 1-3 (0.299 R + 0.587 G + 0.114 B)";
        m.weights = {{1, w[0]}, {2, w[1]}, {3, w[2]}};
        m.saturation_dn = saturation_for(info, info.bands[0]);
        m.warnings.push_back("GIQE is defined for panchromatic imagery: an RGB image is measured on its luminance");
    } else {
        m.image = raster.read_masked(1, whole);
        m.description = "band 1";
        m.weights = {{1, 1.0}};
        m.saturation_dn = saturation_for(info, info.bands[0]);
        if (info.bands.size() > 1 && !quiet_multiband)
            m.warnings.push_back("multi-band image: band 1 measured (choose with --band)");
    }
    return m;
}

}  // namespace satiq
