// Automatic straight-edge search: Sobel gradient and LSD-style region growing per fixed tile
// (R. Grompone von Gioi, J. Jakubowicz, J.-M. Morel, G. Randall, "LSD: A fast line segment
// detector with a false detection control", IEEE PAMI 32(4):722-732, 2010; the a-contrario
// validation is replaced by the per-edge verdicts of measure_edge). One tile's search is in
// edge_find_tile.cpp; here the tiles are run, joined across borders and measured.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <string>
#include <tuple>
#include <vector>

#include "edge_find_detail.hpp"
#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {

using namespace detail;

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
    for (std::size_t i = 0; i < parent.size(); ++i)
        parent[i] = i;
    auto find = [&](std::size_t i) {
        while (parent[i] != i)
            i = parent[i] = parent[parent[i]];
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
        return gap <= 3.0 && gap >= -3.0;              // touching or overlapping by at most 3 px
    };
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(tiles.size()); ++t) {
        const std::int64_t tx = t % ntx, ty = t / ntx;
        const std::int64_t nbr[4][2] = {{tx + 1, ty}, {tx - 1, ty + 1}, {tx, ty + 1}, {tx + 1, ty + 1}};
        for (const auto& nb : nbr) {
            if (nb[0] < 0 || nb[0] >= ntx || nb[1] >= nty) continue;
            const std::int64_t u = nb[1] * ntx + nb[0];
            for (std::size_t i = tile_begin[static_cast<std::size_t>(t)];
                 i < tile_begin[static_cast<std::size_t>(t) + 1]; ++i)
                for (std::size_t j = tile_begin[static_cast<std::size_t>(u)];
                     j < tile_begin[static_cast<std::size_t>(u) + 1]; ++j)
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
    for (std::size_t i = 0; i < pieces.size(); ++i)
        groups[find(i)].push_back(i);
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
        return std::tie(b.score, a.y0_px, a.x0_px, a.y1_px, a.x1_px) <
               std::tie(a.score, b.y0_px, b.x0_px, b.y1_px, b.x1_px);
    });
    if (static_cast<std::int64_t>(all.size()) > p.max_segments) all.resize(static_cast<std::size_t>(p.max_segments));
    return all;
}

void check_mask_size(ConstImageView<float> image, ConstImageView<std::uint8_t> mask, const char* op) {
    if (!mask.empty() && (mask.width != image.width || mask.height != image.height))
        throw Error(std::string(op) + ": valid_mask is " + std::to_string(mask.width) + "x" +
                    std::to_string(mask.height) + " but the image is " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + "; pass a mask of the image's size or an empty view");
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
            std::snprintf(buf, sizeof buf,
                          "10-90 %% rise %.3g px > %.3g x the image's median %.3g px: a soft scene transition",
                          e.rise_10_90_px, factor, median);
            e.reason = buf;
            e.quality = 0.0;
            e.rer_standard_error = 0.0;
        }
}

}  // namespace

std::vector<EdgeSegment> find_edges(ConstImageView<float> image, ConstImageView<std::uint8_t> mask,
                                    const EdgeFindParams& p) {
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
            out.edges[static_cast<std::size_t>(i)] =
                measure_edge_adaptive(image, mask, segments[static_cast<std::size_t>(i)], p);
        });
    }
    reject_soft_transitions(out.edges, sp.max_rise_over_median);
    out.aggregate = aggregate_edges(out.edges);
    if (!out.aggregate.usable && out.candidates == 0)
        out.aggregate.message =
            "no usable edges: no straight edge candidate found (image too small, flat, all nodata or too noisy)";
    return out;
}

}  // namespace satiq
