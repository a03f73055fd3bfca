// Aggregation of per-edge measurements: random-effects weighted statistics per axis, and the
// robustness of the aggregate (leave-one-out influence, spatial halves against random deals).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {
namespace {
// Shared by the weighted statistics: the weights clamped at 0 (all equal when none is
// positive), their total, and the value order (ascending, ties in input order).
struct WeightedOrder {
    std::vector<double> w;
    double total = 0;
    std::vector<std::size_t> idx;
};

WeightedOrder weighted_order(const std::vector<double>& v, const std::vector<double>& wts) {
    WeightedOrder o;
    o.w.resize(v.size(), 0.0);
    for (std::size_t i = 0; i < v.size(); ++i) {
        o.w[i] = i < wts.size() ? std::max(0.0, wts[i]) : 0.0;
        o.total += o.w[i];
    }
    if (!(o.total > 0)) {
        o.w.assign(v.size(), 1.0);
        o.total = static_cast<double>(v.size());
    }
    o.idx.resize(v.size());
    for (std::size_t i = 0; i < o.idx.size(); ++i)
        o.idx[i] = i;
    std::stable_sort(o.idx.begin(), o.idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    return o;
}

// Weighted median over the values in `order` (ascending) that skip() leaves in, with weight(i)
// and their total: the smallest value whose cumulative weight reaches half the total; the mean
// of it and the next value left in when it reaches exactly half (so equal weights give the
// ordinary median). Shared by weighted_median and the leave-out subsets of edge_robustness.
template <class Weight, class Skip>
double median_walk(const std::vector<std::size_t>& order, const std::vector<double>& v, Weight&& weight, double total,
                   Skip&& skip) {
    const double half = 0.5 * total;
    double cum = 0;
    std::size_t last = order.size();
    for (std::size_t r = 0; r < order.size(); ++r) {
        const std::size_t i = order[r];
        if (skip(i)) continue;
        last = r;
        cum += weight(i);
        if (std::abs(cum - half) <= 1e-12 * total) {
            std::size_t next = r + 1;
            while (next < order.size() && skip(order[next]))
                ++next;
            if (next < order.size()) return 0.5 * (v[i] + v[order[next]]);
        }
        if (cum > half) return v[i];
    }
    return last < order.size() ? v[order[last]] : 0.0;
}

double weighted_median(const std::vector<double>& v, const std::vector<double>& wts) {
    if (v.empty()) return 0.0;
    const WeightedOrder o = weighted_order(v, wts);
    return median_walk(
        o.idx, v, [&](std::size_t i) { return o.w[i]; }, o.total, [](std::size_t) { return false; });
}

// Weighted quantile: values ascending, each holding its weight as an interval of the cumulative
// weight; the quantile p is read at p x total by linear interpolation between the interval
// midpoints (equal weights give Hyndman-Fan type 5).
double weighted_quantile(const std::vector<double>& v, const std::vector<double>& wts, double p) {
    if (v.empty()) return 0.0;
    const WeightedOrder o = weighted_order(v, wts);
    const double target = p * o.total;
    double cum = 0, prev_mid = 0, prev_v = v[o.idx.front()];
    for (std::size_t k = 0; k < o.idx.size(); ++k) {
        const double wk = o.w[o.idx[k]];
        const double mid = cum + 0.5 * wk;
        if (target <= mid) {
            if (k == 0 || !(mid > prev_mid)) return v[o.idx[k]];
            const double t = (target - prev_mid) / (mid - prev_mid);
            return prev_v + t * (v[o.idx[k]] - prev_v);
        }
        cum += wk;
        prev_mid = mid;
        prev_v = v[o.idx[k]];
    }
    return v[o.idx.back()];
}

EdgeStatistic statistic(const std::vector<double>& v, const std::vector<double>& wts) {
    EdgeStatistic s;
    if (v.empty()) return s;
    s.median = weighted_median(v, wts);
    s.q1 = weighted_quantile(v, wts, 0.25);
    s.q3 = weighted_quantile(v, wts, 0.75);
    s.iqr = s.q3 - s.q1;
    return s;
}

// Point-wise weighted median and quartiles of the edges' MTF curves (EdgeAxisSummary::mtf_curve);
// edges without a full curve (no profiles kept) are left out.
std::vector<EdgeMtfCurvePoint> mtf_curve(const std::vector<const std::vector<float>*>& curves,
                                         const std::vector<double>& wts) {
    std::vector<std::size_t> with;
    for (std::size_t i = 0; i < curves.size(); ++i)
        if (curves[i]->size() == kEdgeMtfPoints) with.push_back(i);
    if (with.empty()) return {};
    std::vector<EdgeMtfCurvePoint> out(kEdgeMtfPoints);
    std::vector<double> v(with.size()), w(with.size());
    for (std::size_t k = 0; k < kEdgeMtfPoints; ++k) {
        for (std::size_t j = 0; j < with.size(); ++j) {
            v[j] = (*curves[with[j]])[k];
            w[j] = wts[with[j]];
        }
        const EdgeStatistic st = statistic(v, w);
        out[k] = {static_cast<double>(k) / static_cast<double>(kEdgeMtfPoints - 1), st.median, st.q1, st.q3,
                  static_cast<std::int64_t>(with.size())};
    }
    return out;
}

// DerSimonian & Laird (1986) between-study variance over the values skip() leaves in: with
// fixed-effect weights w_i = 1 / se_i^2, Q = sum w_i (y_i - y_fe)^2 and tau^2 = max(0, (Q -
// (k - 1)) / (sum w - sum w^2 / sum w)). `count` receives k.
template <class Skip>
double dl_tau2(const std::vector<double>& y, const std::vector<double>& se, Skip&& skip, std::int64_t& count) {
    double sw = 0, sw2 = 0, swy = 0;
    std::int64_t k = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (skip(i)) continue;
        const double w = 1.0 / (se[i] * se[i]);
        sw += w;
        sw2 += w * w;
        swy += w * y[i];
        ++k;
    }
    count = k;
    if (k < 2 || !(sw > 0)) return 0.0;
    const double mean = swy / sw;
    double q = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
        if (!skip(i)) q += (1.0 / (se[i] * se[i])) * (y[i] - mean) * (y[i] - mean);
    const double denom = sw - sw2 / sw;
    return denom > 0 ? std::max(0.0, (q - static_cast<double>(k - 1)) / denom) : 0.0;
}

// Random-effects weights for one axis: each edge weighs 1 / (se_i^2 + tau^2).
std::vector<double> random_effects_weights(const std::vector<double>& y, const std::vector<double>& se, double& tau) {
    std::int64_t k = 0;
    const double tau2 = dl_tau2(
        y, se, [](std::size_t) { return false; }, k);
    tau = std::sqrt(tau2);
    std::vector<double> w(y.size());
    for (std::size_t i = 0; i < y.size(); ++i)
        w[i] = 1.0 / (se[i] * se[i] + tau2);
    return w;
}

// Standard error of a weighted median from its weights' total: sqrt(pi / 2) / sqrt(sum w), the
// median's large-sample efficiency.
double median_standard_error(double total_weight) {
    return total_weight > 0 ? std::sqrt(std::numbers::pi / 2.0) / std::sqrt(total_weight) : 0.0;
}

// The standard error an edge contributes to the aggregate (1 when it has none).
double edge_se(const EdgeMeasurement& e) {
    return e.rer_standard_error > 0 ? e.rer_standard_error : 1.0;
}

// One axis's usable edges, sorted by RER once, for the many subsets edge_robustness
// aggregates: a subset's median then costs O(n) with no allocation or sort, and comes out
// bit-identical to aggregate_edges on that subset (same tau^2, same weights, same walk).
struct AxisEdges {
    std::vector<double> y, se;
    std::vector<std::size_t> edge;   // local -> index into the span
    std::vector<std::size_t> order;  // local indices by value, ties in input order

    void finish() {
        order.resize(y.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
    }

    struct Median {
        std::int64_t count = 0;
        double value = 0.0;
        double standard_error = 0.0;
    };

    // Random-effects weighted median of the edges with skip(local) false.
    template <class Skip>
    Median median_without(Skip&& skip) const {
        Median m;
        const double tau2 = dl_tau2(y, se, skip, m.count);
        if (m.count == 0) return m;
        auto weight = [&](std::size_t i) { return 1.0 / (se[i] * se[i] + tau2); };
        double total = 0;
        for (std::size_t i = 0; i < y.size(); ++i)
            if (!skip(i)) total += weight(i);
        m.value = median_walk(order, y, weight, total, skip);
        m.standard_error = median_standard_error(total);
        return m;
    }
};

// Aggregate RER (GIQE 3/4 geometric mean; one axis stands for both when the other has no
// edges, as in aggregate_edges) from the two axes' medians of a subset, with its delta-method
// standard error.
EdgeSubsetRer combine_axes(const AxisEdges::Median& mx, const AxisEdges::Median& my) {
    EdgeSubsetRer out;
    out.x_count = mx.count;
    out.y_count = my.count;
    if (mx.count == 0 && my.count == 0) return out;
    if (mx.count == 0 || my.count == 0) {
        const auto& a = mx.count ? mx : my;
        out.rer_gm = std::max(0.0, a.value);
        out.standard_error = a.standard_error;
        return out;
    }
    out.rer_gm = std::sqrt(std::max(0.0, mx.value) * std::max(0.0, my.value));
    if (mx.value > 0 && my.value > 0) {
        const double u = mx.standard_error / mx.value, v = my.standard_error / my.value;
        out.standard_error = 0.5 * out.rer_gm * std::sqrt(u * u + v * v);
    }
    return out;
}

// The same for the usable edges that skip_edge(span index) leaves in.
template <class SkipEdge>
EdgeSubsetRer subset_rer(const AxisEdges& ax, const AxisEdges& ay, SkipEdge&& skip_edge) {
    return combine_axes(ax.median_without([&](std::size_t i) { return skip_edge(ax.edge[i]); }),
                        ay.median_without([&](std::size_t i) { return skip_edge(ay.edge[i]); }));
}

// Shortest distance between two segments (0 when they cross).
double segment_distance(const EdgeSegment& a, const EdgeSegment& b) {
    auto point_seg = [](double px, double py, const EdgeSegment& s) {
        const double dx = s.x1_px - s.x0_px, dy = s.y1_px - s.y0_px, l2 = dx * dx + dy * dy;
        const double t = l2 > 0 ? std::clamp(((px - s.x0_px) * dx + (py - s.y0_px) * dy) / l2, 0.0, 1.0) : 0.0;
        return std::hypot(px - (s.x0_px + t * dx), py - (s.y0_px + t * dy));
    };
    auto cross = [](double ax, double ay, double bx, double by, double cx, double cy) {
        return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    };
    const double d1 = cross(a.x0_px, a.y0_px, a.x1_px, a.y1_px, b.x0_px, b.y0_px);
    const double d2 = cross(a.x0_px, a.y0_px, a.x1_px, a.y1_px, b.x1_px, b.y1_px);
    const double d3 = cross(b.x0_px, b.y0_px, b.x1_px, b.y1_px, a.x0_px, a.y0_px);
    const double d4 = cross(b.x0_px, b.y0_px, b.x1_px, b.y1_px, a.x1_px, a.y1_px);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return 0.0;
    return std::min({point_seg(a.x0_px, a.y0_px, b), point_seg(a.x1_px, a.y1_px, b), point_seg(b.x0_px, b.y0_px, a),
                     point_seg(b.x1_px, b.y1_px, a)});
}

EdgeSplit split(std::span<const EdgeMeasurement> edges, const AxisEdges& ax, const AxisEdges& ay, bool vertical_cut,
                double cut) {
    auto in_first = [&](std::size_t i) {
        const EdgeSegment& s = edges[i].segment;
        return (vertical_cut ? 0.5 * (s.x0_px + s.x1_px) : 0.5 * (s.y0_px + s.y1_px)) < cut;
    };
    EdgeSplit sp;
    sp.first = subset_rer(ax, ay, [&](std::size_t i) { return !in_first(i); });
    sp.second = subset_rer(ax, ay, in_first);
    sp.compared = sp.first.rer_gm > 0 && sp.second.rer_gm > 0;
    if (sp.compared) {
        sp.difference = sp.second.rer_gm - sp.first.rer_gm;
        sp.standard_error = std::hypot(sp.first.standard_error, sp.second.standard_error);
    }
    return sp;
}

// splitmix64 (G. L. Steele, D. Lea, C. H. Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014; the constants of S. Vigna's public-domain reference): one
// platform-independent stream per random deal, so the deals never depend on the thread count.
std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The chance yardstick of a split (EdgeSplit, edges.hpp): `deals` random deals of whole objects
// into two groups sized like the halves, each aggregated like a half. object_of_edge maps a
// span index to its object (0..objects-1; -1 for unusable edges, which subset_rer never asks).
void chance_yardstick(EdgeSplit& sp, const AxisEdges& ax, const AxisEdges& ay,
                      const std::vector<std::int64_t>& object_of_edge, const std::vector<std::int64_t>& object_edges,
                      std::int64_t deals, std::uint64_t seed) {
    if (!sp.compared || deals <= 0) return;
    const std::int64_t target = sp.first.x_count + sp.first.y_count;
    const std::size_t m = object_edges.size();
    // Each axis's edges by object, so a deal's membership test is one lookup.
    auto objects_of = [&](const AxisEdges& a) {
        std::vector<std::size_t> o(a.edge.size());
        for (std::size_t i = 0; i < o.size(); ++i)
            o[i] = static_cast<std::size_t>(object_of_edge[a.edge[i]]);
        return o;
    };
    const std::vector<std::size_t> ox = objects_of(ax), oy = objects_of(ay);
    std::vector<double> diff(static_cast<std::size_t>(deals), -1.0);  // -1: a group without usable edges
    parallel_items(deals, [&](std::int64_t d) {
        std::uint64_t state = seed ^ (0xd1342543de82ef95ULL * static_cast<std::uint64_t>(d + 1));
        std::vector<std::size_t> order(m);
        for (std::size_t i = 0; i < m; ++i)
            order[i] = i;
        // Fisher-Yates shuffle; the index from the top 32 bits by multiply-shift (bias < m / 2^32).
        for (std::size_t i = m; i > 1; --i) {
            const auto j = static_cast<std::size_t>(((splitmix64(state) >> 32) * static_cast<std::uint64_t>(i)) >> 32);
            std::swap(order[i - 1], order[j]);
        }
        std::vector<char> first(m, 0);
        std::int64_t count = 0;
        for (std::size_t o : order)
            if (2 * count + object_edges[o] <= 2 * target) {  // within half the object of the target
                first[o] = 1;
                count += object_edges[o];
            }
        const EdgeSubsetRer a = combine_axes(ax.median_without([&](std::size_t i) { return first[ox[i]] == 0; }),
                                             ay.median_without([&](std::size_t i) { return first[oy[i]] == 0; }));
        const EdgeSubsetRer b = combine_axes(ax.median_without([&](std::size_t i) { return first[ox[i]] != 0; }),
                                             ay.median_without([&](std::size_t i) { return first[oy[i]] != 0; }));
        if (a.rer_gm > 0 && b.rer_gm > 0) diff[static_cast<std::size_t>(d)] = std::abs(b.rer_gm - a.rer_gm);
    });
    std::vector<double> valid;
    for (double v : diff)
        if (v >= 0) valid.push_back(v);
    sp.random_splits = static_cast<std::int64_t>(valid.size());
    if (valid.empty()) return;
    std::sort(valid.begin(), valid.end());
    const std::size_t k = valid.size();
    sp.random_median_abs_difference = k % 2 ? valid[k / 2] : 0.5 * (valid[k / 2 - 1] + valid[k / 2]);
    sp.random_p90_abs_difference = valid[static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(k))) - 1];
    // Permutation p-value with the observed split counted among the deals (Good 2005, section 3.1).
    const double observed = std::abs(sp.difference);
    const auto at_least = static_cast<double>(valid.end() - std::lower_bound(valid.begin(), valid.end(), observed));
    sp.p_value = (1.0 + at_least) / (1.0 + static_cast<double>(k));
}

}  // namespace

EdgeAggregate aggregate_edges(std::span<const EdgeMeasurement> edges) {
    EdgeAggregate agg;
    agg.analysed = static_cast<std::int64_t>(edges.size());
    struct Lists {
        std::vector<double> rer, mtf50, nyq, fwhm, h, se, cpm_all;
        std::vector<const std::vector<float>*> mtf;
    } lx, ly;
    for (const auto& e : edges) {
        ++agg.verdict_counts[static_cast<std::size_t>(e.verdict)];
        if (!is_usable(e.verdict)) continue;
        ++agg.usable_count;
        Lists& l = e.axis == EdgeAxis::x ? lx : ly;
        l.rer.push_back(e.rer);
        l.mtf50.push_back(e.mtf50_cyc_per_px);
        l.nyq.push_back(e.mtf_nyquist);
        l.fwhm.push_back(e.fwhm_px);
        l.h.push_back(e.overshoot_h);
        l.se.push_back(edge_se(e));
        l.cpm_all.push_back(e.mtf50_cyc_per_m);
        l.mtf.push_back(&e.mtf);
    }
    auto fill = [](EdgeAxisSummary& s, Lists& l) {
        s.count = static_cast<std::int64_t>(l.rer.size());
        if (s.count == 0) return;
        const std::vector<double> w = random_effects_weights(l.rer, l.se, s.rer_tau);
        s.rer = statistic(l.rer, w);
        double sw = 0;
        for (double x : w)
            sw += x;
        s.rer.standard_error = median_standard_error(sw);
        s.mtf50_cyc_per_px = statistic(l.mtf50, w);
        s.mtf_nyquist = statistic(l.nyq, w);
        s.fwhm_px = statistic(l.fwhm, w);
        s.overshoot_h = statistic(l.h, w);
        s.mtf_curve = mtf_curve(l.mtf, w);
        std::vector<double> cpm, wcpm;
        for (std::size_t i = 0; i < l.cpm_all.size(); ++i)
            if (l.cpm_all[i] > 0) {
                cpm.push_back(l.cpm_all[i]);
                wcpm.push_back(w[i]);
            }
        s.mtf50_cyc_per_m = statistic(cpm, wcpm).median;
    };
    fill(agg.x, lx);
    fill(agg.y, ly);
    agg.usable = agg.usable_count > 0;
    if (agg.usable) {
        double rx = agg.x.rer.median, ry = agg.y.rer.median, hx = agg.x.overshoot_h.median,
               hy = agg.y.overshoot_h.median;
        if (agg.x.count == 0 || agg.y.count == 0) {
            agg.single_axis = true;
            if (agg.x.count == 0) {
                rx = ry;
                hx = hy;
            } else {
                ry = rx;
                hy = hx;
            }
        }
        // GIQE 3/4 geometric mean; GIQE 5 weighted RER (NGA 2015): the poorer axis counts twice.
        agg.rer_gm = std::sqrt(std::max(0.0, rx) * std::max(0.0, ry));
        const double hi = std::max(rx, ry), lo = std::min(rx, ry);
        agg.rer_weighted = std::cbrt(std::max(0.0, hi) * std::max(0.0, lo) * std::max(0.0, lo));
        agg.overshoot_h_gm = std::sqrt(std::max(0.0, hx) * std::max(0.0, hy));
    } else {
        std::vector<std::pair<std::int64_t, std::size_t>> order;
        for (std::size_t k = 0; k < kEdgeVerdictCount; ++k)
            if (agg.verdict_counts[k] > 0) order.emplace_back(-agg.verdict_counts[k], k);
        std::sort(order.begin(), order.end());
        std::string msg = "no usable edges: " + std::to_string(agg.analysed) + " candidate(s) analysed";
        if (!order.empty()) {
            msg += "; rejected as";
            bool first = true;
            for (const auto& [neg, k] : order) {
                msg += (first ? " " : ", ") + std::string(to_string(static_cast<EdgeVerdict>(k))) + " " +
                       std::to_string(-neg);
                first = false;
            }
        }
        agg.message = msg;
    }
    return agg;
}

EdgeRobustness edge_robustness(std::span<const EdgeMeasurement> edges, std::int64_t width, std::int64_t height,
                               double object_gap_px, std::int64_t random_deals) {
    if (!(object_gap_px >= 0.0) || !std::isfinite(object_gap_px))
        throw Error("edge_robustness: object_gap_px must be a finite number >= 0 (got " +
                    std::to_string(object_gap_px) + ")");
    if (random_deals < 0)
        throw Error("edge_robustness: random_deals must be >= 0 (got " + std::to_string(random_deals) + ")");
    EdgeRobustness r;
    r.object_gap_px = object_gap_px;
    std::vector<std::size_t> usable;
    for (std::size_t i = 0; i < edges.size(); ++i)
        if (is_usable(edges[i].verdict)) usable.push_back(i);
    const auto n = static_cast<std::int64_t>(usable.size());
    AxisEdges ax, ay;
    for (std::size_t i : usable) {
        AxisEdges& a = edges[i].axis == EdgeAxis::x ? ax : ay;
        a.y.push_back(edges[i].rer);
        a.se.push_back(edge_se(edges[i]));
        a.edge.push_back(i);
    }
    ax.finish();
    ay.finish();
    r.top_bottom = split(edges, ax, ay, false, 0.5 * static_cast<double>(height));
    r.left_right = split(edges, ax, ay, true, 0.5 * static_cast<double>(width));
    if (n == 0) return r;
    auto gm_without = [&](auto&& skip_edge) { return subset_rer(ax, ay, skip_edge).rer_gm; };
    const double full = gm_without([](std::size_t) { return false; });

    // Objects: connected components of "segments within object_gap_px", labelled by their
    // lowest usable index (union by index keeps the labels independent of the visiting order).
    std::vector<std::int64_t> parent(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k)
        parent[static_cast<std::size_t>(k)] = k;
    auto find = [&](std::int64_t k) {
        while (parent[static_cast<std::size_t>(k)] != k) {
            parent[static_cast<std::size_t>(k)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(k)])];
            k = parent[static_cast<std::size_t>(k)];
        }
        return k;
    };
    // Sweep over the segments' bounding boxes sorted by their left side: only pairs whose boxes,
    // grown by the gap, overlap get the exact distance (near O(n log n) for scattered edges).
    struct Box {
        double x0, x1, y0, y1;
        std::int64_t k;
    };
    std::vector<Box> boxes;
    boxes.reserve(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k) {
        const EdgeSegment& sg = edges[usable[static_cast<std::size_t>(k)]].segment;
        boxes.push_back({std::min(sg.x0_px, sg.x1_px), std::max(sg.x0_px, sg.x1_px), std::min(sg.y0_px, sg.y1_px),
                         std::max(sg.y0_px, sg.y1_px), k});
    }
    std::sort(boxes.begin(), boxes.end(),
              [](const Box& a, const Box& b) { return a.x0 < b.x0 || (a.x0 == b.x0 && a.k < b.k); });
    for (std::size_t i = 0; i < boxes.size(); ++i)
        for (std::size_t j = i + 1; j < boxes.size() && boxes[j].x0 <= boxes[i].x1 + object_gap_px; ++j) {
            const Box &a = boxes[i], &b = boxes[j];
            if (b.y0 > a.y1 + object_gap_px || a.y0 > b.y1 + object_gap_px) continue;
            if (segment_distance(edges[usable[static_cast<std::size_t>(a.k)]].segment,
                                 edges[usable[static_cast<std::size_t>(b.k)]].segment) > object_gap_px)
                continue;
            const std::int64_t ra = find(a.k), rb = find(b.k);
            if (ra != rb) parent[static_cast<std::size_t>(std::max(ra, rb))] = std::min(ra, rb);
        }
    // Objects numbered 0.. in the order of their lowest usable index (a root is the lowest index
    // of its group, so it is numbered before any other member is visited).
    std::vector<std::int64_t> object(static_cast<std::size_t>(n));  // usable k -> object
    std::vector<std::int64_t> object_of(edges.size(), -1);          // edge index -> object
    std::vector<std::int64_t> object_edges;                         // usable edges per object
    for (std::int64_t k = 0; k < n; ++k) {
        const std::int64_t root = find(k);
        auto& o = object[static_cast<std::size_t>(k)];
        if (root == k) {
            o = static_cast<std::int64_t>(object_edges.size());
            object_edges.push_back(0);
        } else {
            o = object[static_cast<std::size_t>(root)];
        }
        object_of[usable[static_cast<std::size_t>(k)]] = o;
        ++object_edges[static_cast<std::size_t>(o)];
    }
    const auto m = static_cast<std::int64_t>(object_edges.size());
    r.objects = m;
    for (std::int64_t c : object_edges)
        r.largest_object_edges = std::max(r.largest_object_edges, c);

    // Leave one edge out, then one object out (independent subsets: parallel, then a serial
    // maximum with ties to the lowest index, so the result never depends on the thread count).
    std::vector<double> edge_change(static_cast<std::size_t>(n)), object_change(static_cast<std::size_t>(m));
    parallel_items(n, [&](std::int64_t k) {
        const std::size_t skip = usable[static_cast<std::size_t>(k)];
        edge_change[static_cast<std::size_t>(k)] =
            std::abs(gm_without([&](std::size_t i) { return i == skip; }) - full);
    });
    parallel_items(m, [&](std::int64_t o) {
        object_change[static_cast<std::size_t>(o)] =
            std::abs(gm_without([&](std::size_t i) { return object_of[i] == o; }) - full);
    });
    for (double c : edge_change)
        r.max_edge_change = std::max(r.max_edge_change, c);
    std::size_t worst = 0;
    for (std::size_t o = 0; o < object_change.size(); ++o)
        if (object_change[o] > object_change[worst]) worst = o;
    r.max_object_change = object_change[worst];
    double sx = 0, sy = 0;
    for (std::int64_t k = 0; k < n; ++k) {
        if (object[static_cast<std::size_t>(k)] != static_cast<std::int64_t>(worst)) continue;
        const EdgeSegment& s = edges[usable[static_cast<std::size_t>(k)]].segment;
        sx += 0.5 * (s.x0_px + s.x1_px);
        sy += 0.5 * (s.y0_px + s.y1_px);
        ++r.max_object_edges;
    }
    r.max_object_x_px = sx / static_cast<double>(r.max_object_edges);
    r.max_object_y_px = sy / static_cast<double>(r.max_object_edges);

    chance_yardstick(r.top_bottom, ax, ay, object_of, object_edges, random_deals, 0x7361746971000001ULL);
    chance_yardstick(r.left_right, ax, ay, object_of, object_edges, random_deals, 0x7361746971000002ULL);
    return r;
}

}  // namespace satiq
