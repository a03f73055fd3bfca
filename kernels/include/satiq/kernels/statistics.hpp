#pragma once
/// Image statistics over the valid pixels of a view: count, min, max, mean, standard deviation
/// and percentiles.
///
/// Deterministic: per-row partial sums in double are combined in row order, and percentiles come
/// from an integer histogram, so the result is identical for any thread count.
/// Percentiles are read from a 65536-bin histogram between min and max: exact to (max-min)/65536,
/// which is exact for 8- and 16-bit data.
#include <cstdint>
#include <vector>

#include "satiq/kernels/image.hpp"

namespace satiq {

struct ImageStats {
    std::int64_t valid_count = 0;  ///< pixels that are finite and not masked out
    double min = 0, max = 0, mean = 0, stddev = 0;
    double p01 = 0, p02 = 0, p50 = 0, p98 = 0, p99 = 0;  ///< percentiles (nearest-rank on the histogram)
};

/// `mask` (optional, may be empty ConstImageView) marks valid pixels with non-zero values and must
/// have the image's width and height. NaN and infinite pixels are always invalid.
/// Returns valid_count 0 (all other fields 0) when no pixel is valid. Never throws for an empty view.
ImageStats compute_stats(ConstImageView<float> image, ConstImageView<std::uint8_t> mask = {});

}  // namespace satiq
