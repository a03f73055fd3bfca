#pragma once
/// The one place that hands pixel work to TBB.
///
/// `parallel_rows(height, width, fn)` calls `fn(y0, y1)` on disjoint row ranges covering
/// [0, height). Each range holds at least `kMinPixelsPerTask` pixels (about 64K, the grain
/// OpenImageIO's parallel_image uses) so tiny tasks never dominate. Results are deterministic as
/// long as `fn` writes each output row from its inputs alone, which every satiq kernel does.
#include <algorithm>
#include <cstdint>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace satiq {

inline constexpr std::int64_t kMinPixelsPerTask = 64 * 1024;

template <class Fn>
void parallel_rows(std::int64_t height, std::int64_t width, Fn&& fn) {
    if (height <= 0) return;
    const std::int64_t grain = std::max<std::int64_t>(1, kMinPixelsPerTask / std::max<std::int64_t>(1, width));
    if (grain >= height) {
        fn(std::int64_t{0}, height);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, height, grain),
                      [&](const tbb::blocked_range<std::int64_t>& r) { fn(r.begin(), r.end()); });
}

/// Runs `fn(i)` for i in [0, n), one task per item (for coarse items such as tiles or edges).
template <class Fn>
void parallel_items(std::int64_t n, Fn&& fn) {
    if (n <= 0) return;
    tbb::parallel_for(std::int64_t{0}, n, [&](std::int64_t i) { fn(i); });
}

}  // namespace satiq
