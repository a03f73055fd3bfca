#pragma once
// Private parts of the automatic edge search shared by its sources (not installed, not public):
// edge_find_tile.cpp finds the edge segments of one tile (Sobel gradient and LSD-style region
// growing), edge_find.cpp runs the tiles, joins pieces across tile borders and measures the edges.
#include <cmath>
#include <cstdint>
#include <vector>

#include "satiq/kernels/edges.hpp"

namespace satiq::detail {

struct TileResult {
    std::vector<EdgeSegment> segments;
    std::vector<char> at_border;  ///< the region touches a tile border inside the image
};

// Regions cut by a tile border are kept down to this length so that the pieces of an edge
// crossing the border can be joined (merge_across_tiles); unjoined pieces shorter than
// min_length_px are dropped afterwards.
inline constexpr double kMinBorderPiecePx = 6.0;

struct FindContext {
    ConstImageView<float> img;
    ConstImageView<std::uint8_t> mask;
    double saturation = 0;
    double threshold = 0;  // normalized Sobel magnitude
    double noise = 1;      // for the score
    double cos_tol = 0;
    double min_length = 20;
};

inline bool usable_pixel(const FindContext& c, std::int64_t x, std::int64_t y) {
    const float v = c.img.at(x, y);
    if (!std::isfinite(v) || static_cast<double>(v) >= c.saturation) return false;
    return c.mask.empty() || c.mask.at(x, y) != 0;
}

// The edge segments of the tile [x0, x1) x [y0, y1), appended to out.
void process_tile(const FindContext& c, std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1,
                  TileResult& out);

}  // namespace satiq::detail
