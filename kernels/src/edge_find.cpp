// Automatic straight-edge search: Sobel gradient and LSD-style region growing per fixed tile
// (R. Grompone von Gioi, J. Jakubowicz, J.-M. Morel, G. Randall, "LSD: A fast line segment
// detector with a false detection control", IEEE PAMI 32(4):722-732, 2010; the a-contrario
// validation is replaced by the per-edge verdicts of measure_edge).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <string>
#include <tuple>
#include <vector>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {
namespace {

struct TileResult {
    std::vector<EdgeSegment> segments;
    std::vector<char> at_border;  ///< the region touches a tile border inside the image
};

// Regions cut by a tile border are kept down to this length so that the pieces of an edge
// crossing the border can be joined (merge_across_tiles); unjoined pieces shorter than
// min_length_px are dropped afterwards.
constexpr double kMinBorderPiecePx = 6.0;

struct FindContext {
    ConstImageView<float> img;
    ConstImageView<std::uint8_t> mask;
    double saturation = 0;
    double threshold = 0;     // normalized Sobel magnitude
    double noise = 1;         // for the score
    double cos_tol = 0;
    double min_length = 20;
};

inline bool usable_pixel(const FindContext& c, std::int64_t x, std::int64_t y) {
    const float v = c.img.at(x, y);
    if (!std::isfinite(v) || static_cast<double>(v) >= c.saturation) return false;
    return c.mask.empty() || c.mask.at(x, y) != 0;
}

void process_tile(const FindContext& c, std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1, TileResult& out) {
    const std::int64_t W = c.img.width, H = c.img.height;
    const std::int64_t tw = x1 - x0, th = y1 - y0;
    const auto n = static_cast<std::size_t>(tw * th);
    // Extended window: the tile plus a 1 px ring (for the 3x3 direction sum), clipped to the image.
    const std::int64_t ex0 = std::max<std::int64_t>(0, x0 - 1), ex1 = std::min(W, x1 + 1);
    const std::int64_t ey0 = std::max<std::int64_t>(0, y0 - 1), ey1 = std::min(H, y1 + 1);
    const std::int64_t ew = ex1 - ex0, eh = ey1 - ey0;
    const auto ne = static_cast<std::size_t>(ew * eh);
    // Validity of the extended window plus its own 1 px ring: valid(vx, vy) is image pixel
    // (ex0 - 1 + vx, ey0 - 1 + vy); outside the image stays 0.
    const std::int64_t vw = ew + 2, vh = eh + 2;
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
            for (std::int64_t ix = ix_lo; ix <= ix_hi; ++ix) v[ix - (ex0 - 1)] &= m[ix] != 0 ? 1 : 0;
    }
    // Sobel (normalized by 8 so that a unit ramp gives gradient 1 per px), zero wherever the 3x3
    // neighbourhood holds an invalid pixel or leaves the image. Branch-free rows (vectorized).
    std::vector<float> gx(ne, 0.0f), gy(ne, 0.0f);
    std::vector<float> mag(n, 0.0f);
    for (std::int64_t ey = 0; ey < eh; ++ey) {
        const std::int64_t iy = ey0 + ey;
        if (iy < 1 || iy + 1 >= H) continue;
        const float* r0 = c.img.row(iy - 1);
        const float* r1 = c.img.row(iy);
        const float* r2 = c.img.row(iy + 1);
        const std::uint8_t* v0 = valid.data() + ey * vw;  // row iy - 1
        const std::uint8_t* v1 = v0 + vw;
        const std::uint8_t* v2 = v1 + vw;
        float* gxr = gx.data() + ey * ew;
        float* gyr = gy.data() + ey * ew;
        const std::int64_t ex_lo = std::max<std::int64_t>(0, 1 - ex0), ex_hi = std::min(ew, W - 1 - ex0);
        for (std::int64_t ex = ex_lo; ex < ex_hi; ++ex) {
            const std::int64_t ix = ex0 + ex;
            const bool ok = (v0[ex] & v0[ex + 1] & v0[ex + 2] & v1[ex] & v1[ex + 1] & v1[ex + 2] & v2[ex] & v2[ex + 1] &
                             v2[ex + 2]) != 0;
            const float sx = ((r0[ix + 1] + 2.0f * r1[ix + 1] + r2[ix + 1]) - (r0[ix - 1] + 2.0f * r1[ix - 1] + r2[ix - 1])) * 0.125f;
            const float sy = ((r2[ix - 1] + 2.0f * r2[ix] + r2[ix + 1]) - (r0[ix - 1] + 2.0f * r0[ix] + r0[ix + 1])) * 0.125f;
            gxr[ex] = ok ? sx : 0.0f;
            gyr[ex] = ok ? sy : 0.0f;
        }
    }
    // Direction field for the growing test: the gradient summed over 3x3. A sharp aliased edge
    // is a staircase whose step corners tilt the raw Sobel direction by up to ~27 deg; the 3x3
    // sum brings it back near the edge normal (LSD gets the same effect from its Gaussian
    // pre-scaling of the image).
    std::vector<float> hx(ne, 0.0f), hy(ne, 0.0f);
    for (std::int64_t ey = 0; ey < eh; ++ey) {
        const float* a = gx.data() + ey * ew;
        const float* b = gy.data() + ey * ew;
        float* ha = hx.data() + ey * ew;
        float* hb = hy.data() + ey * ew;
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
    std::vector<float> dx(n, 0.0f), dy(n, 0.0f);
    float max_mag = 0.0f;
    const std::int64_t ox = x0 - ex0, oy = y0 - ey0;  // tile origin in the extended window
    for (std::int64_t ty = 0; ty < th; ++ty) {
        const std::int64_t ey = oy + ty;
        const std::int64_t eu = std::max<std::int64_t>(0, ey - 1), ed = std::min(eh - 1, ey + 1);
        const float* au = hx.data() + eu * ew + ox;
        const float* ac = hx.data() + ey * ew + ox;
        const float* ad = hx.data() + ed * ew + ox;
        const float* bu = hy.data() + eu * ew + ox;
        const float* bc = hy.data() + ey * ew + ox;
        const float* bd = hy.data() + ed * ew + ox;
        const float* gxc = gx.data() + ey * ew + ox;
        const float* gyc = gy.data() + ey * ew + ox;
        float* mr = mag.data() + ty * tw;
        float* dxr = dx.data() + ty * tw;
        float* dyr = dy.data() + ty * tw;
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
    {
        // mag >= 0: its bit pattern orders like an integer, and an integer max vectorizes.
        std::int32_t bits_max = 0;
        for (std::size_t k = 0; k < n; ++k) {
            std::int32_t b;
            std::memcpy(&b, &mag[k], sizeof b);
            bits_max = std::max(bits_max, b);
        }
        std::memcpy(&max_mag, &bits_max, sizeof max_mag);
    }
    gx = {};
    gy = {};
    hx = {};
    hy = {};
    const auto thr = static_cast<float>(c.threshold);
    if (!(max_mag > thr)) return;

    // Seeds in decreasing magnitude (LSD's pseudo-ordering): counting sort into 1024 bins,
    // scan order within a bin. Deterministic.
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
    for (int b = 0; b < kBins; ++b) bin_count[static_cast<std::size_t>(b) + 1] += bin_count[static_cast<std::size_t>(b)];
    std::vector<std::uint32_t> seeds(n_seeds);
    for (std::size_t k = 0; k < n; ++k)
        if (mag[k] > thr) seeds[static_cast<std::size_t>(bin_count[static_cast<std::size_t>(bin_of(mag[k]))]++)] = static_cast<std::uint32_t>(k);

    std::vector<std::uint8_t> used(n, 0);
    std::vector<std::uint32_t> region;
    // Region growing from `seed` (LSD's region_grow): 8-connected pixels above the threshold whose
    // direction stays within acos(cos_tol) of the running mean direction, left in (rx, ry).
    auto grow = [&](std::uint32_t seed, double cos_tol, double& rx, double& ry) {
        region.clear();
        region.push_back(seed);
        used[seed] = 1;
        double sx = dx[seed], sy = dy[seed];
        double rn = std::hypot(sx, sy);
        rx = sx / rn;
        ry = sy / rn;
        for (std::size_t head = 0; head < region.size(); ++head) {
            const auto k = static_cast<std::int64_t>(region[head]);
            const std::int64_t px = k % tw, py = k / tw;
            for (std::int64_t ddy = -1; ddy <= 1; ++ddy) {
                const std::int64_t qy = py + ddy;
                if (qy < 0 || qy >= th) continue;
                for (std::int64_t ddx = -1; ddx <= 1; ++ddx) {
                    const std::int64_t qx = px + ddx;
                    if (qx < 0 || qx >= tw || (ddx == 0 && ddy == 0)) continue;
                    const auto q = static_cast<std::size_t>(qy * tw + qx);
                    if (used[q] || mag[q] <= thr) continue;
                    if ((dx[q] * rx + dy[q] * ry) < cos_tol) continue;
                    used[q] = 1;
                    region.push_back(static_cast<std::uint32_t>(q));
                    sx += dx[q];
                    sy += dy[q];
                    rn = std::sqrt(sx * sx + sy * sy);
                    rx = sx / rn;
                    ry = sy / rn;
                }
            }
        }
    };
    // The region's rectangle (LSD's region2rect): magnitude-weighted centroid, principal axis of
    // the weighted pixel positions (the mean gradient direction is biased on aliased
    // staircases), extent along and across it.
    struct Rect {
        double cx = 0, cy = 0, ex = 0, ey = 0, pmin = 0, pmax = 0, length = 0, width = 0, wsum = 0;
    };
    auto rect_of = [&](double grx, double gry) {
        Rect r;
        for (const auto k : region) {
            const double wk = mag[k];
            r.wsum += wk;
            r.cx += wk * static_cast<double>(static_cast<std::int64_t>(k) % tw);
            r.cy += wk * static_cast<double>(static_cast<std::int64_t>(k) / tw);
        }
        r.cx /= r.wsum;
        r.cy /= r.wsum;
        double sxx = 0, sxy = 0, syy = 0;
        for (const auto k : region) {
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
        for (const auto k : region) {
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
    };
    // An edge's region is a thin, well-filled band: at most half as wide as long and at least
    // 40 % of its rectangle filled (LSD's density test).
    auto thin_and_dense = [&](const Rect& r) {
        return r.width <= 0.5 * r.length && static_cast<double>(region.size()) >= 0.4 * r.length * r.width;
    };
    auto touches_border = [&]() {
        for (const auto k : region) {
            const std::int64_t px = static_cast<std::int64_t>(k) % tw, py = static_cast<std::int64_t>(k) / tw;
            if ((px == 0 && x0 > 0) || (px == tw - 1 && x1 < c.img.width) || (py == 0 && y0 > 0) ||
                (py == th - 1 && y1 < c.img.height))
                return true;
        }
        return false;
    };
    // Tighter tolerance for the refinement (LSD's refine(): about twice the angular spread of
    // the pixels near the seed; a fixed half of the growing tolerance here).
    const double cos_tight = std::cos(0.5 * std::acos(std::clamp(c.cos_tol, -1.0, 1.0)));
    for (const std::uint32_t seed : seeds) {
        if (used[seed]) continue;
        if (dx[seed] == 0.0f && dy[seed] == 0.0f) continue;
        double rx = 0, ry = 0;
        grow(seed, c.cos_tol, rx, ry);
        if (static_cast<double>(region.size()) < std::min(c.min_length, kMinBorderPiecePx)) continue;
        Rect r = rect_of(rx, ry);
        if (!thin_and_dense(r)) {
            // LSD's refinement (Grompone von Gioi et al. 2010, section 4.5; IPOL 2012
            // "refine" and "reduce_region_radius"): an edge that grew into texture or into a
            // neighbouring edge is regrown from its seed with a tighter tolerance, then cut
            // to a shrinking radius about the seed (x0.75 per step) until its rectangle is thin
            // and dense again. Pixels given up return to the pool and may seed other regions.
            for (const auto k : region) used[k] = 0;
            grow(seed, cos_tight, rx, ry);
            r = rect_of(rx, ry);
            const double sxp = static_cast<double>(seed % static_cast<std::uint32_t>(tw));
            const double syp = static_cast<double>(seed / static_cast<std::uint32_t>(tw));
            double radius = 0;
            for (const auto k : region)
                radius = std::max(radius, std::hypot(static_cast<double>(static_cast<std::int64_t>(k) % tw) - sxp,
                                                     static_cast<double>(static_cast<std::int64_t>(k) / tw) - syp));
            while (!thin_and_dense(r) && static_cast<double>(region.size()) >= std::min(c.min_length, kMinBorderPiecePx)) {
                radius *= 0.75;
                std::size_t keep = 0;
                for (std::size_t i = 0; i < region.size(); ++i) {
                    const auto k = static_cast<std::int64_t>(region[i]);
                    if (std::hypot(static_cast<double>(k % tw) - sxp, static_cast<double>(k / tw) - syp) <= radius)
                        region[keep++] = region[i];
                    else
                        used[static_cast<std::size_t>(k)] = 0;
                }
                region.resize(keep);
                if (region.empty()) break;
                double sx = 0, sy = 0;
                for (const auto k : region) {
                    sx += dx[k];
                    sy += dy[k];
                }
                const double rn = std::hypot(sx, sy);
                if (!(rn > 0)) break;
                rx = sx / rn;
                ry = sy / rn;
                r = rect_of(rx, ry);
            }
            if (region.empty() || !thin_and_dense(r)) continue;
        }
        const bool at_border = touches_border();
        const double min_len = at_border ? std::min(c.min_length, kMinBorderPiecePx) : c.min_length;
        if (static_cast<double>(region.size()) < min_len || r.length < min_len) continue;
        EdgeSegment s;
        // +0.5: pixel centres in the public (GDAL) convention.
        s.x0_px = static_cast<double>(x0) + r.cx + r.ex * r.pmin + 0.5;
        s.y0_px = static_cast<double>(y0) + r.cy + r.ey * r.pmin + 0.5;
        s.x1_px = static_cast<double>(x0) + r.cx + r.ex * r.pmax + 0.5;
        s.y1_px = static_cast<double>(y0) + r.cy + r.ey * r.pmax + 0.5;
        s.score = r.length * (r.wsum / static_cast<double>(region.size())) / c.noise;
        out.segments.push_back(s);
        out.at_border.push_back(at_border ? 1 : 0);
    }
}

}  // namespace

void validate(const EdgeFindParams& p) {
    auto bad = [](const std::string& field, const std::string& rule, double got) {
        throw Error("find_edges: " + field + " " + rule + " (got " + std::to_string(got) + ")");
    };
    if (std::isnan(p.noise_sigma_dn)) bad("noise_sigma_dn", "must be a number (<= 0 to estimate it)", p.noise_sigma_dn);
    if (std::isnan(p.saturation_dn)) bad("saturation_dn", "must be a number", p.saturation_dn);
    if (!(p.min_length_px >= 5.0)) bad("min_length_px", "must be >= 5", p.min_length_px);
    if (!(p.gradient_threshold_noise > 0.0)) bad("gradient_threshold_noise", "must be > 0", p.gradient_threshold_noise);
    if (!(p.min_gradient_dn >= 0.0)) bad("min_gradient_dn", "must be >= 0", p.min_gradient_dn);
    if (!(p.angle_tolerance_deg > 0.0 && p.angle_tolerance_deg <= 45.0))
        bad("angle_tolerance_deg", "must be in (0, 45]; LSD uses 22.5", p.angle_tolerance_deg);
    if (p.tile_px < 64 || p.tile_px > 4096) bad("tile_px", "must be in [64, 4096]", static_cast<double>(p.tile_px));
    if (p.max_segments < 1) bad("max_segments", "must be >= 1", static_cast<double>(p.max_segments));
}

namespace {

// Noise for the finder: given, else Immerkaer; a noise-free image falls back to 1e-3 of the
// value range so that the threshold stays meaningful.
double finder_noise(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, double given) {
    if (given > 0) return given;
    const NoiseEstimate ne = estimate_noise(image, mask);
    if (ne.valid && ne.sigma_dn > 0) return ne.sigma_dn;
    double lo = 1e300, hi = -1e300;
    for (std::int64_t y = 0; y < image.height; ++y)
        for (std::int64_t x = 0; x < image.width; ++x) {
            const float v = image.at(x, y);
            if (!std::isfinite(v) || (!mask.empty() && mask.at(x, y) == 0)) continue;
            lo = std::min(lo, static_cast<double>(v));
            hi = std::max(hi, static_cast<double>(v));
        }
    return hi > lo ? 1e-3 * (hi - lo) : 1.0;
}

// Joins the pieces of edges cut by tile borders: two border pieces in neighbouring tiles are
// one edge when their directions (which carry the polarity) agree within 4 deg, each one's
// endpoints lie within 1.5 px of the other's line and the gap between them along the edge is
// at most 3 px. Groups are formed by union-find over pairs visited in tile order, and each
// group's segment spans its members' endpoints along their length-weighted direction; the
// score adds up. Serial and in a fixed order: the same output for any thread count.
std::vector<EdgeSegment> merge_across_tiles(const std::vector<TileResult>& tiles, std::int64_t ntx, std::int64_t nty,
                                            double min_length) {
    struct Piece {
        const EdgeSegment* s;
        std::int64_t tile;
        double ux, uy, len;
    };
    std::vector<Piece> pieces;
    std::vector<std::size_t> tile_begin(tiles.size() + 1, 0);
    for (std::size_t t = 0; t < tiles.size(); ++t) {
        tile_begin[t] = pieces.size();
        for (std::size_t i = 0; i < tiles[t].segments.size(); ++i) {
            if (!tiles[t].at_border[i]) continue;
            const EdgeSegment& s = tiles[t].segments[i];
            const double dx = s.x1_px - s.x0_px, dy = s.y1_px - s.y0_px, l = std::hypot(dx, dy);
            if (!(l > 0)) continue;
            pieces.push_back({&s, static_cast<std::int64_t>(t), dx / l, dy / l, l});
        }
    }
    tile_begin[tiles.size()] = pieces.size();
    std::vector<std::size_t> parent(pieces.size());
    for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
    auto find = [&](std::size_t i) {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    };
    const double cos_tol = std::cos(4.0 * std::numbers::pi / 180.0);
    auto joins = [&](const Piece& a, const Piece& b) {
        if (a.ux * b.ux + a.uy * b.uy < cos_tol) return false;
        auto off = [](const Piece& l, double x, double y) {  // (along, across) from l's start
            const double dx = x - l.s->x0_px, dy = y - l.s->y0_px;
            return std::pair{dx * l.ux + dy * l.uy, -dx * l.uy + dy * l.ux};
        };
        const auto [a0, n0] = off(a, b.s->x0_px, b.s->y0_px);
        const auto [a1, n1] = off(a, b.s->x1_px, b.s->y1_px);
        const auto [c0, m0] = off(b, a.s->x0_px, a.s->y0_px);
        const auto [c1, m1] = off(b, a.s->x1_px, a.s->y1_px);
        (void)c0;
        (void)c1;
        if (std::max({std::abs(n0), std::abs(n1), std::abs(m0), std::abs(m1)}) > 1.5) return false;
        // b's interval along a: [min(a0, a1), max(a0, a1)] against a's [0, a.len].
        const double lo = std::min(a0, a1), hi = std::max(a0, a1);
        const double gap = std::max(lo - a.len, -hi);  // > 0: separated by that much
        return gap <= 3.0 && gap >= -3.0;               // touching or overlapping by at most 3 px
    };
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(tiles.size()); ++t) {
        const std::int64_t tx = t % ntx, ty = t / ntx;
        const std::int64_t nbr[4][2] = {{tx + 1, ty}, {tx - 1, ty + 1}, {tx, ty + 1}, {tx + 1, ty + 1}};
        for (const auto& nb : nbr) {
            if (nb[0] < 0 || nb[0] >= ntx || nb[1] >= nty) continue;
            const std::int64_t u = nb[1] * ntx + nb[0];
            for (std::size_t i = tile_begin[static_cast<std::size_t>(t)]; i < tile_begin[static_cast<std::size_t>(t) + 1]; ++i)
                for (std::size_t j = tile_begin[static_cast<std::size_t>(u)]; j < tile_begin[static_cast<std::size_t>(u) + 1]; ++j)
                    if (joins(pieces[i], pieces[j])) {
                        const std::size_t ri = find(i), rj = find(j);
                        if (ri != rj) parent[std::max(ri, rj)] = std::min(ri, rj);
                    }
        }
    }
    std::vector<EdgeSegment> out;
    // Segments not at a border pass through unchanged (they already met min_length).
    for (const auto& t : tiles)
        for (std::size_t i = 0; i < t.segments.size(); ++i)
            if (!t.at_border[i]) out.push_back(t.segments[i]);
    // Groups in order of their first piece.
    std::vector<std::vector<std::size_t>> groups(pieces.size());
    for (std::size_t i = 0; i < pieces.size(); ++i) groups[find(i)].push_back(i);
    for (const auto& g : groups) {
        if (g.empty()) continue;
        double wx = 0, wy = 0, cx = 0, cy = 0, wl = 0, score = 0;
        for (const std::size_t i : g) {
            const Piece& pc = pieces[i];
            wx += pc.len * pc.ux;
            wy += pc.len * pc.uy;
            cx += pc.len * 0.5 * (pc.s->x0_px + pc.s->x1_px);
            cy += pc.len * 0.5 * (pc.s->y0_px + pc.s->y1_px);
            wl += pc.len;
            score += pc.s->score;
        }
        const double dl = std::hypot(wx, wy);
        const double ux = wx / dl, uy = wy / dl;
        cx /= wl;
        cy /= wl;
        double tmin = 1e300, tmax = -1e300;
        for (const std::size_t i : g) {
            const EdgeSegment& s = *pieces[i].s;
            for (const auto& [x, y] : {std::pair{s.x0_px, s.y0_px}, std::pair{s.x1_px, s.y1_px}}) {
                const double tt = (x - cx) * ux + (y - cy) * uy;
                tmin = std::min(tmin, tt);
                tmax = std::max(tmax, tt);
            }
        }
        // Region length = endpoint distance + 1 px (endpoints are pixel centres).
        if (tmax - tmin + 1.0 < min_length) continue;
        out.push_back({cx + ux * tmin, cy + uy * tmin, cx + ux * tmax, cy + uy * tmax, score});
    }
    return out;
}

std::vector<EdgeSegment> find_impl(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                                   const EdgeFindParams& p, double noise) {
    if (image.width < 3 || image.height < 3) return {};
    FindContext c;
    c.img = image;
    c.mask = mask;
    c.saturation = p.saturation_dn;
    c.noise = noise;
    c.threshold = std::max(p.gradient_threshold_noise * noise, p.min_gradient_dn);
    c.cos_tol = std::cos(p.angle_tolerance_deg * std::numbers::pi / 180.0);
    c.min_length = p.min_length_px;
    const std::int64_t ntx = (image.width + p.tile_px - 1) / p.tile_px;
    const std::int64_t nty = (image.height + p.tile_px - 1) / p.tile_px;
    std::vector<TileResult> tiles(static_cast<std::size_t>(ntx * nty));
    parallel_items(ntx * nty, [&](std::int64_t t) {
        const std::int64_t tx = t % ntx, ty = t / ntx;
        const std::int64_t x0 = tx * p.tile_px, y0 = ty * p.tile_px;
        process_tile(c, x0, y0, std::min(image.width, x0 + p.tile_px), std::min(image.height, y0 + p.tile_px),
                     tiles[static_cast<std::size_t>(t)]);
    });
    std::vector<EdgeSegment> all = merge_across_tiles(tiles, ntx, nty, p.min_length_px);
    std::sort(all.begin(), all.end(), [](const EdgeSegment& a, const EdgeSegment& b) {
        return std::tie(b.score, a.y0_px, a.x0_px, a.y1_px, a.x1_px) < std::tie(a.score, b.y0_px, b.x0_px, b.y1_px, b.x1_px);
    });
    if (static_cast<std::int64_t>(all.size()) > p.max_segments) all.resize(static_cast<std::size_t>(p.max_segments));
    return all;
}

void check_mask_size(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const char* op) {
    if (!mask.empty() && (mask.width != image.width || mask.height != image.height))
        throw Error(std::string(op) + ": valid_mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                    " but the image is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                    "; pass a mask of the image's size or an empty view");
}

// Usable edges whose 10-90 % rise exceeds `factor` x the median rise of all usable edges
// become wide_transition (serial, in candidate order: deterministic). Unweighted median: the
// system blur is common to every edge whatever its contrast. Needs at least 3 usable edges.
void reject_soft_transitions(std::vector<EdgeMeasurement>& edges, double factor) {
    if (!(factor > 0)) return;
    std::vector<double> rises;
    for (const auto& e : edges)
        if (is_usable(e.verdict)) rises.push_back(e.rise_10_90_px);
    if (rises.size() < 3) return;
    std::sort(rises.begin(), rises.end());
    const std::size_t n = rises.size();
    const double median = n % 2 == 1 ? rises[n / 2] : 0.5 * (rises[n / 2 - 1] + rises[n / 2]);
    const double limit = factor * median;
    for (auto& e : edges)
        if (is_usable(e.verdict) && e.rise_10_90_px > limit) {
            e.verdict = EdgeVerdict::wide_transition;
            char buf[160];
            std::snprintf(buf, sizeof buf, "10-90 %% rise %.3g px > %.3g x the image's median %.3g px: a soft scene transition",
                          e.rise_10_90_px, factor, median);
            e.reason = buf;
            e.quality = 0.0;
            e.rer_standard_error = 0.0;
        }
}

}  // namespace

std::vector<EdgeSegment> find_edges(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeFindParams& p) {
    validate(p);
    check_mask_size(image, mask, "find_edges");
    if (image.width < 3 || image.height < 3) return {};
    return find_impl(image, mask, p, finder_noise(image, mask, p.noise_sigma_dn));
}

EdgeAnalysis analyse_edges(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const EdgeFindParams& fp,
                           const EdgeSfrParams& sp) {
    validate(fp);
    validate(sp);
    check_mask_size(image, mask, "analyse_edges");
    EdgeAnalysis out;
    const double given = fp.noise_sigma_dn > 0 ? fp.noise_sigma_dn : sp.noise_sigma_dn;
    if (image.width >= 3 && image.height >= 3) {
        const double noise = finder_noise(image, mask, given);
        out.noise_sigma_dn = noise;
        const auto segments = find_impl(image, mask, fp, noise);
        out.candidates = static_cast<std::int64_t>(segments.size());
        EdgeSfrParams p = sp;
        p.noise_sigma_dn = noise;
        if (p.saturation_dn > fp.saturation_dn) p.saturation_dn = fp.saturation_dn;
        out.edges.resize(segments.size());
        parallel_items(static_cast<std::int64_t>(segments.size()), [&](std::int64_t i) {
            out.edges[static_cast<std::size_t>(i)] = measure_edge_adaptive(image, mask, segments[static_cast<std::size_t>(i)], p);
        });
    }
    reject_soft_transitions(out.edges, sp.max_rise_over_median);
    out.aggregate = aggregate_edges(out.edges);
    if (!out.aggregate.usable && out.candidates == 0)
        out.aggregate.message = "no usable edges: no straight edge candidate found (image too small, flat, all nodata or too noisy)";
    return out;
}

}  // namespace satiq
