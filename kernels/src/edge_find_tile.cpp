// Automatic straight-edge search, one tile: Sobel gradient, seeds in decreasing magnitude and
// LSD-style region growing and refinement (R. Grompone von Gioi, J. Jakubowicz, J.-M. Morel,
// G. Randall, "LSD: A fast line segment detector with a false detection control", IEEE PAMI
// 32(4):722-732, 2010). The tiles are run and joined in edge_find.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "edge_find_detail.hpp"

namespace satiq::detail {
namespace {

// A tile [x0, x1) x [y0, y1) and its extended window: the tile plus a 1 px ring (for the 3x3
// direction sum), clipped to the image.
struct TileWindow {
    std::int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::int64_t width = 0, height = 0;  ///< of the tile
    std::size_t pixels = 0;              ///< of the tile
    std::int64_t ex0 = 0, ey0 = 0, ex1 = 0, ey1 = 0;
    std::int64_t ext_width = 0, ext_height = 0;
    std::size_t ext_pixels = 0;
};

TileWindow tile_window(const FindContext& c, std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1) {
    const std::int64_t W = c.img.width, H = c.img.height;
    TileWindow t;
    t.x0 = x0;
    t.y0 = y0;
    t.x1 = x1;
    t.y1 = y1;
    t.width = x1 - x0;
    t.height = y1 - y0;
    t.pixels = static_cast<std::size_t>(t.width * t.height);
    t.ex0 = std::max<std::int64_t>(0, x0 - 1);
    t.ex1 = std::min(W, x1 + 1);
    t.ey0 = std::max<std::int64_t>(0, y0 - 1);
    t.ey1 = std::min(H, y1 + 1);
    t.ext_width = t.ex1 - t.ex0;
    t.ext_height = t.ey1 - t.ey0;
    t.ext_pixels = static_cast<std::size_t>(t.ext_width * t.ext_height);
    return t;
}

// Validity of the extended window plus its own 1 px ring: valid(vx, vy) is image pixel
// (ex0 - 1 + vx, ey0 - 1 + vy), row stride ext_width + 2; outside the image stays 0.
std::vector<std::uint8_t> valid_pixels(const FindContext& c, const TileWindow& t) {
    const std::int64_t W = c.img.width, H = c.img.height;
    const std::int64_t ex0 = t.ex0, ex1 = t.ex1, ey0 = t.ey0;
    const std::int64_t vw = t.ext_width + 2, vh = t.ext_height + 2;
    std::vector<std::uint8_t> valid(static_cast<std::size_t>(vw * vh), 0);
    const auto sat = static_cast<float>(std::min(c.saturation, 3.0e38));
    for (std::int64_t vy = 0; vy < vh; ++vy) {
        const std::int64_t iy = ey0 - 1 + vy;
        if (iy < 0 || iy >= H) continue;
        const float* r = c.img.row(iy);
        const std::uint8_t* m = c.mask.empty() ? nullptr : c.mask.row(iy);
        std::uint8_t* v = valid.data() + vy * vw;
        const std::int64_t ix_lo = std::max<std::int64_t>(0, ex0 - 1), ix_hi = std::min(W - 1, ex1);
        for (std::int64_t ix = ix_lo; ix <= ix_hi; ++ix) {
            const float f = r[ix];
            // NaN fails both comparisons; +-inf fail the range test.
            v[ix - (ex0 - 1)] = static_cast<std::uint8_t>(static_cast<int>(f < sat) & static_cast<int>(f > -3.0e38f));
        }
        if (m != nullptr)
            for (std::int64_t ix = ix_lo; ix <= ix_hi; ++ix)
                v[ix - (ex0 - 1)] &= m[ix] != 0 ? 1 : 0;
    }
    return valid;
}

// Gradient components over the extended window.
struct GradientField {
    std::vector<float> x, y;
};

// Sobel (normalized by 8 so that a unit ramp gives gradient 1 per px), zero wherever the 3x3
// neighbourhood holds an invalid pixel or leaves the image. Branch-free rows (vectorized).
GradientField sobel_gradient(const FindContext& c, const TileWindow& t, const std::vector<std::uint8_t>& valid) {
    const std::int64_t W = c.img.width, H = c.img.height;
    const std::int64_t ex0 = t.ex0, ey0 = t.ey0, ew = t.ext_width, eh = t.ext_height;
    const std::int64_t vw = ew + 2;
    GradientField g{std::vector<float>(t.ext_pixels, 0.0f), std::vector<float>(t.ext_pixels, 0.0f)};
    for (std::int64_t ey = 0; ey < eh; ++ey) {
        const std::int64_t iy = ey0 + ey;
        if (iy < 1 || iy + 1 >= H) continue;
        const float* r0 = c.img.row(iy - 1);
        const float* r1 = c.img.row(iy);
        const float* r2 = c.img.row(iy + 1);
        const std::uint8_t* v0 = valid.data() + ey * vw;  // row iy - 1
        const std::uint8_t* v1 = v0 + vw;
        const std::uint8_t* v2 = v1 + vw;
        float* gxr = g.x.data() + ey * ew;
        float* gyr = g.y.data() + ey * ew;
        const std::int64_t ex_lo = std::max<std::int64_t>(0, 1 - ex0), ex_hi = std::min(ew, W - 1 - ex0);
        for (std::int64_t ex = ex_lo; ex < ex_hi; ++ex) {
            const std::int64_t ix = ex0 + ex;
            const bool ok = (v0[ex] & v0[ex + 1] & v0[ex + 2] & v1[ex] & v1[ex + 1] & v1[ex + 2] & v2[ex] & v2[ex + 1] &
                             v2[ex + 2]) != 0;
            const float sx =
                ((r0[ix + 1] + 2.0f * r1[ix + 1] + r2[ix + 1]) - (r0[ix - 1] + 2.0f * r1[ix - 1] + r2[ix - 1])) *
                0.125f;
            const float sy =
                ((r2[ix - 1] + 2.0f * r2[ix] + r2[ix + 1]) - (r0[ix - 1] + 2.0f * r0[ix] + r0[ix + 1])) * 0.125f;
            gxr[ex] = ok ? sx : 0.0f;
            gyr[ex] = ok ? sy : 0.0f;
        }
    }
    return g;
}

// The gradient summed over three columns (the horizontal half of the 3x3 direction sum).
GradientField row_sums_of_three(const TileWindow& t, const GradientField& g) {
    const std::int64_t ew = t.ext_width, eh = t.ext_height;
    GradientField h{std::vector<float>(t.ext_pixels, 0.0f), std::vector<float>(t.ext_pixels, 0.0f)};
    for (std::int64_t ey = 0; ey < eh; ++ey) {
        const float* a = g.x.data() + ey * ew;
        const float* b = g.y.data() + ey * ew;
        float* ha = h.x.data() + ey * ew;
        float* hb = h.y.data() + ey * ew;
        for (std::int64_t ex = 1; ex + 1 < ew; ++ex) {
            ha[ex] = a[ex - 1] + a[ex] + a[ex + 1];
            hb[ex] = b[ex - 1] + b[ex] + b[ex + 1];
        }
        if (ew >= 2) {
            ha[0] = a[0] + a[1];
            hb[0] = b[0] + b[1];
            ha[ew - 1] = a[ew - 2] + a[ew - 1];
            hb[ew - 1] = b[ew - 2] + b[ew - 1];
        }
    }
    return h;
}

// Per tile pixel: the Sobel magnitude and the unit direction of the 3x3-summed gradient.
struct TileGradient {
    std::vector<float> magnitude;
    std::vector<float> dir_x, dir_y;
};

// Direction field for the growing test: the gradient summed over 3x3. A sharp aliased edge
// is a staircase whose step corners tilt the raw Sobel direction by up to ~27 deg; the 3x3
// sum brings it back near the edge normal (LSD gets the same effect from its Gaussian
// pre-scaling of the image).
TileGradient tile_gradient(const TileWindow& t, const GradientField& sobel, const GradientField& row_sums) {
    const std::int64_t tw = t.width, th = t.height, ew = t.ext_width, eh = t.ext_height;
    TileGradient out{std::vector<float>(t.pixels, 0.0f), std::vector<float>(t.pixels, 0.0f),
                     std::vector<float>(t.pixels, 0.0f)};
    const std::int64_t ox = t.x0 - t.ex0, oy = t.y0 - t.ey0;  // tile origin in the extended window
    for (std::int64_t ty = 0; ty < th; ++ty) {
        const std::int64_t ey = oy + ty;
        const std::int64_t eu = std::max<std::int64_t>(0, ey - 1), ed = std::min(eh - 1, ey + 1);
        const float* au = row_sums.x.data() + eu * ew + ox;
        const float* ac = row_sums.x.data() + ey * ew + ox;
        const float* ad = row_sums.x.data() + ed * ew + ox;
        const float* bu = row_sums.y.data() + eu * ew + ox;
        const float* bc = row_sums.y.data() + ey * ew + ox;
        const float* bd = row_sums.y.data() + ed * ew + ox;
        const float* gxc = sobel.x.data() + ey * ew + ox;
        const float* gyc = sobel.y.data() + ey * ew + ox;
        float* mr = out.magnitude.data() + ty * tw;
        float* dxr = out.dir_x.data() + ty * tw;
        float* dyr = out.dir_y.data() + ty * tw;
        const float wu = eu == ey ? 0.0f : 1.0f, wd = ed == ey ? 0.0f : 1.0f;
        for (std::int64_t tx = 0; tx < tw; ++tx) {
            const float sx = wu * au[tx] + ac[tx] + wd * ad[tx];
            const float sy = wu * bu[tx] + bc[tx] + wd * bd[tx];
            // len == 0 gives sx = sy = 0, so the clamp only avoids 0 / 0.
            const float inv = 1.0f / std::max(std::sqrt(sx * sx + sy * sy), 1e-30f);
            dxr[tx] = sx * inv;
            dyr[tx] = sy * inv;
            mr[tx] = std::sqrt(gxc[tx] * gxc[tx] + gyc[tx] * gyc[tx]);
        }
    }
    return out;
}

// mag >= 0: its bit pattern orders like an integer, and an integer max vectorizes.
float max_magnitude(const std::vector<float>& mag) {
    std::int32_t bits_max = 0;
    for (std::size_t k = 0; k < mag.size(); ++k) {
        std::int32_t b;
        std::memcpy(&b, &mag[k], sizeof b);
        bits_max = std::max(bits_max, b);
    }
    float max_mag = 0.0f;
    std::memcpy(&max_mag, &bits_max, sizeof max_mag);
    return max_mag;
}

// Seeds in decreasing magnitude (LSD's pseudo-ordering): counting sort into 1024 bins,
// scan order within a bin. Deterministic.
std::vector<std::uint32_t> seeds_by_magnitude(const std::vector<float>& mag, float max_mag, float thr) {
    const std::size_t n = mag.size();
    constexpr int kBins = 1024;
    std::vector<std::int64_t> bin_count(kBins + 1, 0);
    const double scale = kBins / (static_cast<double>(max_mag) - thr + 1e-30);
    auto bin_of = [&](float m) {
        return std::clamp(kBins - 1 - static_cast<int>((static_cast<double>(m) - thr) * scale), 0, kBins - 1);
    };
    std::size_t n_seeds = 0;
    for (std::size_t k = 0; k < n; ++k)
        if (mag[k] > thr) {
            ++bin_count[static_cast<std::size_t>(bin_of(mag[k])) + 1];
            ++n_seeds;
        }
    for (int b = 0; b < kBins; ++b)
        bin_count[static_cast<std::size_t>(b) + 1] += bin_count[static_cast<std::size_t>(b)];
    std::vector<std::uint32_t> seeds(n_seeds);
    for (std::size_t k = 0; k < n; ++k)
        if (mag[k] > thr)
            seeds[static_cast<std::size_t>(bin_count[static_cast<std::size_t>(bin_of(mag[k]))]++)] =
                static_cast<std::uint32_t>(k);
    return seeds;
}

// The region's rectangle (LSD's region2rect): magnitude-weighted centroid (cx, cy), unit
// direction (ex, ey) along the edge, extent [pmin, pmax] along it, length and width.
struct RegionRect {
    double cx = 0, cy = 0, ex = 0, ey = 0, pmin = 0, pmax = 0, length = 0, width = 0, wsum = 0;
};

// LSD's region growing and rectangle tests on one tile's gradient; `region` holds the pixels
// (tile indices) of the current region, `used` marks pixels taken by any region.
class RegionGrower {
public:
    RegionGrower(const FindContext& c, const TileWindow& t, const TileGradient& g, float threshold)
        : m_ctx(c), m_tile(t), m_grad(g), m_threshold(threshold), m_used(t.pixels, 0) {}

    [[nodiscard]] bool used(std::uint32_t k) const { return m_used[k] != 0; }
    [[nodiscard]] const std::vector<std::uint32_t>& region() const { return m_region; }

    // Region growing from `seed` (LSD's region_grow): 8-connected pixels above the threshold whose
    // direction stays within acos(cos_tol) of the running mean direction, left in (rx, ry).
    void grow(std::uint32_t seed, double cos_tol, double& rx, double& ry) {
        const std::int64_t tw = m_tile.width, th = m_tile.height;
        const std::vector<float>& dx = m_grad.dir_x;
        const std::vector<float>& dy = m_grad.dir_y;
        const std::vector<float>& mag = m_grad.magnitude;
        m_region.clear();
        m_region.push_back(seed);
        m_used[seed] = 1;
        double sx = dx[seed], sy = dy[seed];
        double rn = std::hypot(sx, sy);
        rx = sx / rn;
        ry = sy / rn;
        for (std::size_t head = 0; head < m_region.size(); ++head) {
            const auto k = static_cast<std::int64_t>(m_region[head]);
            const std::int64_t px = k % tw, py = k / tw;
            for (std::int64_t ddy = -1; ddy <= 1; ++ddy) {
                const std::int64_t qy = py + ddy;
                if (qy < 0 || qy >= th) continue;
                for (std::int64_t ddx = -1; ddx <= 1; ++ddx) {
                    const std::int64_t qx = px + ddx;
                    if (qx < 0 || qx >= tw || (ddx == 0 && ddy == 0)) continue;
                    const auto q = static_cast<std::size_t>(qy * tw + qx);
                    if (m_used[q] || mag[q] <= m_threshold) continue;
                    if ((dx[q] * rx + dy[q] * ry) < cos_tol) continue;
                    m_used[q] = 1;
                    m_region.push_back(static_cast<std::uint32_t>(q));
                    sx += dx[q];
                    sy += dy[q];
                    rn = std::sqrt(sx * sx + sy * sy);
                    rx = sx / rn;
                    ry = sy / rn;
                }
            }
        }
    }

    // The region's rectangle (LSD's region2rect): magnitude-weighted centroid, principal axis of
    // the weighted pixel positions (the mean gradient direction is biased on aliased
    // staircases), extent along and across it.
    [[nodiscard]] RegionRect rect(double grx, double gry) const {
        const std::int64_t tw = m_tile.width;
        const std::vector<float>& mag = m_grad.magnitude;
        RegionRect r;
        for (const auto k : m_region) {
            const double wk = mag[k];
            r.wsum += wk;
            r.cx += wk * static_cast<double>(static_cast<std::int64_t>(k) % tw);
            r.cy += wk * static_cast<double>(static_cast<std::int64_t>(k) / tw);
        }
        r.cx /= r.wsum;
        r.cy /= r.wsum;
        double sxx = 0, sxy = 0, syy = 0;
        for (const auto k : m_region) {
            const double wk = mag[k];
            const double ddx = static_cast<double>(static_cast<std::int64_t>(k) % tw) - r.cx;
            const double ddy = static_cast<double>(static_cast<std::int64_t>(k) / tw) - r.cy;
            sxx += wk * ddx * ddx;
            sxy += wk * ddx * ddy;
            syy += wk * ddy * ddy;
        }
        const double theta = 0.5 * std::atan2(2.0 * sxy, sxx - syy);  // major axis
        r.ex = std::cos(theta);
        r.ey = std::sin(theta);
        if (r.ex * -gry + r.ey * grx < 0) {  // orient like the gradient's perpendicular (deterministic)
            r.ex = -r.ex;
            r.ey = -r.ey;
        }
        const double nx = r.ey, ny = -r.ex;
        double qmin = 1e300, qmax = -1e300;
        r.pmin = 1e300;
        r.pmax = -1e300;
        for (const auto k : m_region) {
            const double ddx = static_cast<double>(static_cast<std::int64_t>(k) % tw) - r.cx;
            const double ddy = static_cast<double>(static_cast<std::int64_t>(k) / tw) - r.cy;
            const double pa = ddx * r.ex + ddy * r.ey, pb = ddx * nx + ddy * ny;
            r.pmin = std::min(r.pmin, pa);
            r.pmax = std::max(r.pmax, pa);
            qmin = std::min(qmin, pb);
            qmax = std::max(qmax, pb);
        }
        r.length = r.pmax - r.pmin + 1.0;
        r.width = qmax - qmin + 1.0;
        return r;
    }

    // An edge's region is a thin, well-filled band: at most half as wide as long and at least
    // 40 % of its rectangle filled (LSD's density test).
    [[nodiscard]] bool thin_and_dense(const RegionRect& r) const {
        return r.width <= 0.5 * r.length && static_cast<double>(m_region.size()) >= 0.4 * r.length * r.width;
    }

    // The region touches a tile border that lies inside the image.
    [[nodiscard]] bool touches_border() const {
        const std::int64_t tw = m_tile.width, th = m_tile.height;
        for (const auto k : m_region) {
            const std::int64_t px = static_cast<std::int64_t>(k) % tw, py = static_cast<std::int64_t>(k) / tw;
            if ((px == 0 && m_tile.x0 > 0) || (px == tw - 1 && m_tile.x1 < m_ctx.img.width) ||
                (py == 0 && m_tile.y0 > 0) || (py == th - 1 && m_tile.y1 < m_ctx.img.height))
                return true;
        }
        return false;
    }

    // LSD's refinement (Grompone von Gioi et al. 2010, section 4.5; IPOL 2012
    // "refine" and "reduce_region_radius"): an edge that grew into texture or into a
    // neighbouring edge is regrown from its seed with a tighter tolerance, then cut
    // to a shrinking radius about the seed (x0.75 per step) until its rectangle is thin
    // and dense again. Pixels given up return to the pool and may seed other regions.
    // Returns whether a thin, dense region remains (its rectangle in r, direction in rx, ry).
    bool refine(std::uint32_t seed, double cos_tight, double min_pixels, double& rx, double& ry, RegionRect& r) {
        const std::int64_t tw = m_tile.width;
        for (const auto k : m_region)
            m_used[k] = 0;
        grow(seed, cos_tight, rx, ry);
        r = rect(rx, ry);
        const double sxp = static_cast<double>(seed % static_cast<std::uint32_t>(tw));
        const double syp = static_cast<double>(seed / static_cast<std::uint32_t>(tw));
        double radius = 0;
        for (const auto k : m_region)
            radius = std::max(radius, std::hypot(static_cast<double>(static_cast<std::int64_t>(k) % tw) - sxp,
                                                 static_cast<double>(static_cast<std::int64_t>(k) / tw) - syp));
        while (!thin_and_dense(r) && static_cast<double>(m_region.size()) >= min_pixels) {
            radius *= 0.75;
            std::size_t keep = 0;
            for (std::size_t i = 0; i < m_region.size(); ++i) {
                const auto k = static_cast<std::int64_t>(m_region[i]);
                if (std::hypot(static_cast<double>(k % tw) - sxp, static_cast<double>(k / tw) - syp) <= radius)
                    m_region[keep++] = m_region[i];
                else
                    m_used[static_cast<std::size_t>(k)] = 0;
            }
            m_region.resize(keep);
            if (m_region.empty()) break;
            double sx = 0, sy = 0;
            for (const auto k : m_region) {
                sx += m_grad.dir_x[k];
                sy += m_grad.dir_y[k];
            }
            const double rn = std::hypot(sx, sy);
            if (!(rn > 0)) break;
            rx = sx / rn;
            ry = sy / rn;
            r = rect(rx, ry);
        }
        return !m_region.empty() && thin_and_dense(r);
    }

private:
    const FindContext& m_ctx;
    const TileWindow& m_tile;
    const TileGradient& m_grad;
    float m_threshold;
    std::vector<std::uint8_t> m_used;
    std::vector<std::uint32_t> m_region;
};

// The segment of a region's rectangle in image coordinates; the score is length x mean
// gradient / noise.
EdgeSegment segment_of(const TileWindow& t, const RegionRect& r, std::size_t region_pixels, double noise) {
    EdgeSegment s;
    // +0.5: pixel centres in the public (GDAL) convention.
    s.x0_px = static_cast<double>(t.x0) + r.cx + r.ex * r.pmin + 0.5;
    s.y0_px = static_cast<double>(t.y0) + r.cy + r.ey * r.pmin + 0.5;
    s.x1_px = static_cast<double>(t.x0) + r.cx + r.ex * r.pmax + 0.5;
    s.y1_px = static_cast<double>(t.y0) + r.cy + r.ey * r.pmax + 0.5;
    s.score = r.length * (r.wsum / static_cast<double>(region_pixels)) / noise;
    return s;
}

}  // namespace

// One tile: gradient, seeds in decreasing magnitude, a region grown from each unused seed,
// refined when it is not a thin dense band, kept as a segment when long enough.
void process_tile(const FindContext& c, std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1,
                  TileResult& out) {
    const TileWindow tile = tile_window(c, x0, y0, x1, y1);
    TileGradient grad;
    {
        const GradientField sobel = sobel_gradient(c, tile, valid_pixels(c, tile));
        grad = tile_gradient(tile, sobel, row_sums_of_three(tile, sobel));
    }
    const float max_mag = max_magnitude(grad.magnitude);
    const auto thr = static_cast<float>(c.threshold);
    if (!(max_mag > thr)) return;
    const std::vector<std::uint32_t> seeds = seeds_by_magnitude(grad.magnitude, max_mag, thr);

    RegionGrower grower(c, tile, grad, thr);
    const double min_piece = std::min(c.min_length, kMinBorderPiecePx);
    // Tighter tolerance for the refinement (LSD's refine(): about twice the angular spread of
    // the pixels near the seed; a fixed half of the growing tolerance here).
    const double cos_tight = std::cos(0.5 * std::acos(std::clamp(c.cos_tol, -1.0, 1.0)));
    for (const std::uint32_t seed : seeds) {
        if (grower.used(seed)) continue;
        if (grad.dir_x[seed] == 0.0f && grad.dir_y[seed] == 0.0f) continue;
        double rx = 0, ry = 0;
        grower.grow(seed, c.cos_tol, rx, ry);
        if (static_cast<double>(grower.region().size()) < min_piece) continue;
        RegionRect r = grower.rect(rx, ry);
        if (!grower.thin_and_dense(r) && !grower.refine(seed, cos_tight, min_piece, rx, ry, r)) continue;
        const bool at_border = grower.touches_border();
        const double min_len = at_border ? min_piece : c.min_length;
        if (static_cast<double>(grower.region().size()) < min_len || r.length < min_len) continue;
        out.segments.push_back(segment_of(tile, r, grower.region().size(), c.noise));
        out.at_border.push_back(at_border ? 1 : 0);
    }
}

}  // namespace satiq::detail
