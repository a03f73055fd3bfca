// Area-integrating reduction. See resample.hpp for the contract.
//
// Method: the footprint of an output pixel is an axis-aligned rectangle, so its overlap with an
// input pixel is the product of the 1-D overlaps along x and y (exact box integration, as in
// GDAL's "average" and OpenCV's INTER_AREA). The mean over the (clipped, valid) footprint is
//   sum_ij wx_i wy_j m_ij v_ij / sum_ij wx_i wy_j m_ij,
// evaluated separably: vertical pass into row buffers, then horizontal pass.
#include "satiq/kernels/resample.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {
namespace {

// Per-output-index weight list along one axis, for output indices [o0, o1).
struct AxisTaps {
    std::int64_t o0 = 0;
    std::vector<std::int64_t> start;   // first input index (global)
    std::vector<std::int32_t> count;   // number of taps (0: footprint outside the image)
    std::vector<std::int64_t> offset;  // index of the first weight in `weights`
    std::vector<float> weights;        // normalized to sum 1 over the in-image part
    std::vector<double> coverage;      // in-image length / footprint length
};

double edge_of(std::int64_t o, double ratio, double phase) {
    return phase + static_cast<double>(o) * ratio;
}

// Everything below depends only on the global output index o, the ratio, the phase and the image
// length, which is what makes tiles bit-identical to the whole image.
AxisTaps build_axis(std::int64_t o0, std::int64_t o1, double ratio, double phase, std::int64_t image_len) {
    AxisTaps t;
    t.o0 = o0;
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(0, o1 - o0));
    t.start.resize(n);
    t.count.resize(n);
    t.offset.resize(n);
    t.coverage.resize(n);
    t.weights.reserve(n * static_cast<std::size_t>(std::ceil(ratio) + 1.0));
    std::vector<double> w;
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t o = o0 + static_cast<std::int64_t>(i);
        const double a = edge_of(o, ratio, phase);
        const double b = edge_of(o + 1, ratio, phase);
        const double lo = std::max(a, 0.0);
        const double hi = std::min(b, static_cast<double>(image_len));
        t.offset[i] = static_cast<std::int64_t>(t.weights.size());
        if (!(hi > lo)) {
            t.start[i] = 0;
            t.count[i] = 0;
            t.coverage[i] = 0.0;
            continue;
        }
        const auto k0 = static_cast<std::int64_t>(std::floor(lo));
        const auto k1 = static_cast<std::int64_t>(std::ceil(hi));  // exclusive
        w.clear();
        double sum = 0.0;
        std::int64_t first = -1;
        for (std::int64_t k = k0; k < k1; ++k) {
            const double ov = std::min(hi, static_cast<double>(k + 1)) - std::max(lo, static_cast<double>(k));
            if (ov <= 0.0) {
                if (first < 0) continue;  // leading empty tap
                break;                    // trailing empty tap
            }
            if (first < 0) first = k;
            w.push_back(ov);
            sum += ov;
        }
        if (first < 0 || sum <= 0.0) {
            t.start[i] = 0;
            t.count[i] = 0;
            t.coverage[i] = 0.0;
            continue;
        }
        t.start[i] = first;
        t.count[i] = static_cast<std::int32_t>(w.size());
        for (double v : w)
            t.weights.push_back(static_cast<float>(v / sum));
        // Snap rounding noise so that a footprint fully inside the image has coverage exactly 1.
        const double cov = (hi - lo) / ratio;
        t.coverage[i] = cov > 1.0 - 1e-9 ? 1.0 : cov;
    }
    return t;
}

// [first, last) input indices used by the output indices of `t`; empty when none has taps.
std::pair<std::int64_t, std::int64_t> axis_span(const AxisTaps& t) {
    std::int64_t lo = 0, hi = 0;
    bool any = false;
    for (std::size_t i = 0; i < t.count.size(); ++i) {
        if (t.count[i] == 0) continue;
        const std::int64_t s = t.start[i], e = t.start[i] + t.count[i];
        if (!any) {
            lo = s;
            hi = e;
            any = true;
        } else {
            lo = std::min(lo, s);
            hi = std::max(hi, e);
        }
    }
    return {lo, hi};
}

std::string num(double v) {
    return std::to_string(v);
}

struct Checked {
    std::int64_t image_w = 0, image_h = 0;
    ResampleWindow out_window;
    ResampleWindow in_window;  // what the input tile holds, global
    bool has_mask = false;
};

Checked check_views(const char* op, const ResampleAreaInput& in, const ResampleAreaOutput& out,
                    const ResampleAreaParams& params) {
    validate(params);
    Checked c;
    if (in.pixels.width < 0 || in.pixels.height < 0 || (in.pixels.data == nullptr && !in.pixels.empty()))
        throw Error(std::string(op) + ": input pixels view is invalid");
    if (in.x0 < 0 || in.y0 < 0) throw Error(std::string(op) + ": input tile origin (x0, y0) must be >= 0");
    c.image_w = in.image_width > 0 ? in.image_width : in.x0 + in.pixels.width;
    c.image_h = in.image_height > 0 ? in.image_height : in.y0 + in.pixels.height;
    if (in.image_width < 0 || in.image_height < 0)
        throw Error(std::string(op) + ": image_width / image_height must be >= 0 (0 = the tile is the image)");
    if (in.x0 + in.pixels.width > c.image_w || in.y0 + in.pixels.height > c.image_h)
        throw Error(std::string(op) + ": input tile extends beyond image_width x image_height");
    c.in_window = {in.x0, in.y0, in.x0 + in.pixels.width, in.y0 + in.pixels.height};
    c.has_mask = in.mask.data != nullptr || in.mask.width != 0 || in.mask.height != 0;
    if (c.has_mask &&
        (in.mask.width != in.pixels.width || in.mask.height != in.pixels.height || in.mask.data == nullptr))
        throw Error(std::string(op) + ": input mask must have the size of the input pixels (or be empty)");
    if (out.pixels.width < 0 || out.pixels.height < 0 || (out.pixels.data == nullptr && !out.pixels.empty()))
        throw Error(std::string(op) + ": output pixels view is invalid");
    if (out.x0 < 0 || out.y0 < 0) throw Error(std::string(op) + ": output tile origin (x0, y0) must be >= 0");
    auto same_or_empty = [&](std::int64_t w, std::int64_t h, const void* d) {
        return (w == 0 && h == 0 && d == nullptr) || (w == out.pixels.width && h == out.pixels.height && d != nullptr);
    };
    if (!same_or_empty(out.mask.width, out.mask.height, out.mask.data))
        throw Error(std::string(op) + ": output mask must have the size of the output pixels (or be empty)");
    if (!same_or_empty(out.coverage.width, out.coverage.height, out.coverage.data))
        throw Error(std::string(op) + ": output coverage must have the size of the output pixels (or be empty)");
    c.out_window = {out.x0, out.y0, out.x0 + out.pixels.width, out.y0 + out.pixels.height};
    const ResampleWindow need = resample_area_input_window(c.out_window, c.image_w, c.image_h, params);
    if (!need.empty() &&
        (need.x0 < c.in_window.x0 || need.y0 < c.in_window.y0 || need.x1 > c.in_window.x1 || need.y1 > c.in_window.y1))
        throw Error(std::string(op) + ": the input tile [" + std::to_string(c.in_window.x0) + ", " +
                    std::to_string(c.in_window.x1) + ") x [" + std::to_string(c.in_window.y0) + ", " +
                    std::to_string(c.in_window.y1) + ") does not contain the needed input window [" +
                    std::to_string(need.x0) + ", " + std::to_string(need.x1) + ") x [" + std::to_string(need.y0) +
                    ", " + std::to_string(need.y1) + "): read resample_area_input_window(...)");
    return c;
}

void write_pixel(const ResampleAreaOutput& out, std::int64_t x, std::int64_t y, float value, double coverage,
                 const ResampleAreaParams& p) {
    const bool ok = coverage > 0.0 && coverage >= p.min_coverage;
    out.pixels.at(x, y) = ok ? value : p.fill_value;
    if (out.mask.data) out.mask.at(x, y) = ok ? 1 : 0;
    if (out.coverage.data) out.coverage.at(x, y) = static_cast<float>(coverage);
}

}  // namespace

void validate(const ResampleAreaParams& p) {
    auto ratio_ok = [](double r) { return std::isfinite(r) && r >= 1.0; };
    if (!ratio_ok(p.in_px_per_out_px_x))
        throw Error("resample_area: in_px_per_out_px_x must be finite and >= 1 (this kernel only reduces; got " +
                    num(p.in_px_per_out_px_x) + "); use an interpolating resampler to enlarge");
    if (!ratio_ok(p.in_px_per_out_px_y))
        throw Error("resample_area: in_px_per_out_px_y must be finite and >= 1 (this kernel only reduces; got " +
                    num(p.in_px_per_out_px_y) + "); use an interpolating resampler to enlarge");
    if (!std::isfinite(p.phase_x_in_px) || !std::isfinite(p.phase_y_in_px))
        throw Error("resample_area: phase_x_in_px / phase_y_in_px must be finite");
    if (!(p.min_coverage >= 0.0 && p.min_coverage <= 1.0))
        throw Error("resample_area: min_coverage must be in [0, 1] (got " + num(p.min_coverage) + ")");
}

ResampleWindow resample_area_output_size(std::int64_t in_width, std::int64_t in_height, const ResampleAreaParams& p) {
    validate(p);
    if (in_width < 0 || in_height < 0) throw Error("resample_area_output_size: negative input size");
    // A tiny relative tolerance so that e.g. 99 / 0.99 * ... rounding never drops a full pixel.
    auto count = [](std::int64_t len, double ratio, double phase) -> std::int64_t {
        const double n = (static_cast<double>(len) - phase) / ratio;
        if (!(n > 0.0)) return 0;
        return static_cast<std::int64_t>(std::floor(n * (1.0 + 1e-12) + 1e-9));
    };
    return {0, 0, count(in_width, p.in_px_per_out_px_x, p.phase_x_in_px),
            count(in_height, p.in_px_per_out_px_y, p.phase_y_in_px)};
}

ResampleWindow resample_area_input_window(const ResampleWindow& w, std::int64_t image_width, std::int64_t image_height,
                                          const ResampleAreaParams& p) {
    validate(p);
    if (image_width < 0 || image_height < 0) throw Error("resample_area_input_window: negative image size");
    if (w.x1 < w.x0 || w.y1 < w.y0 || w.x0 < 0 || w.y0 < 0)
        throw Error("resample_area_input_window: output window must have x0 <= x1, y0 <= y1 and x0, y0 >= 0");
    if (w.empty()) return {};
    // Start indices are monotonic in o: the first and last non-empty footprints bound the span.
    // Building the whole axis keeps this trivially consistent with resample_area itself.
    const AxisTaps tx = build_axis(w.x0, w.x1, p.in_px_per_out_px_x, p.phase_x_in_px, image_width);
    const AxisTaps ty = build_axis(w.y0, w.y1, p.in_px_per_out_px_y, p.phase_y_in_px, image_height);
    const auto [x0, x1] = axis_span(tx);
    const auto [y0, y1] = axis_span(ty);
    if (x1 <= x0 || y1 <= y0) return {};
    return {x0, y0, x1, y1};
}

void resample_area(const ResampleAreaInput& in, const ResampleAreaOutput& out, const ResampleAreaParams& p) {
    const Checked c = check_views("resample_area", in, out, p);
    if (c.out_window.empty()) return;
    const AxisTaps tx = build_axis(c.out_window.x0, c.out_window.x1, p.in_px_per_out_px_x, p.phase_x_in_px, c.image_w);
    const AxisTaps ty = build_axis(c.out_window.y0, c.out_window.y1, p.in_px_per_out_px_y, p.phase_y_in_px, c.image_h);
    const auto [gx0, gx1] = axis_span(tx);  // global input columns used
    const std::int64_t out_w = c.out_window.width();
    const std::int64_t buf_w = std::max<std::int64_t>(0, gx1 - gx0);
    // Buffer column b holds global input column gx0 + b; input tile column = gx0 + b - in.x0.
    const std::int64_t col_in_tile = gx0 - in.x0;
    const double work_w = static_cast<double>(buf_w) * std::ceil(p.in_px_per_out_px_y) + static_cast<double>(out_w);

    // Horizontal taps padded to a fixed count kx and stored tap-major, so that the horizontal
    // pass vectorizes over output columns (gathers). A padding tap repeats the last real tap with
    // weight 0, which adds exactly +0 to a finite sum (so values equal the unpadded sums; an
    // infinite input may turn inf into NaN). Columns without taps read buffer column 0 with
    // weight 0. Everything depends on global columns only: tiles stay bit-identical.
    std::int32_t kx = 1;
    for (std::int32_t n : tx.count)
        kx = std::max(kx, n);
    const auto plane = static_cast<std::size_t>(out_w);
    std::vector<std::int32_t> hidx(static_cast<std::size_t>(kx) * plane, 0);
    std::vector<float> hw(static_cast<std::size_t>(kx) * plane, 0.0f);
    bool all_columns_full = true;
    for (std::size_t x = 0; x < plane; ++x) {
        const std::int32_t n = tx.count[x];
        all_columns_full = all_columns_full && tx.coverage[x] == 1.0;
        if (n == 0) continue;
        const auto b0 = static_cast<std::int32_t>(tx.start[x] - gx0);
        for (std::int32_t k = 0; k < kx; ++k) {
            const auto i = static_cast<std::size_t>(k) * plane + x;
            hidx[i] = b0 + std::min(k, n - 1);
            hw[i] = k < n ? tx.weights[static_cast<std::size_t>(tx.offset[x] + k)] : 0.0f;
        }
    }
    // Fully covered rows of fully covered columns are valid whatever min_coverage is.
    const bool fast_rows = all_columns_full && !c.has_mask;

    // out[x] = sum_k w[k][x] buf[idx[k][x]], k ascending (fixed order).
    auto horizontal = [&](const float* __restrict buf, float* __restrict acc) {
        const std::int32_t* __restrict id0 = hidx.data();
        const float* __restrict w0 = hw.data();
        for (std::int64_t x = 0; x < out_w; ++x)
            acc[x] = w0[x] * buf[id0[x]];
        for (std::int32_t k = 1; k < kx; ++k) {
            const std::int32_t* __restrict id = hidx.data() + static_cast<std::size_t>(k) * plane;
            const float* __restrict w = hw.data() + static_cast<std::size_t>(k) * plane;
            for (std::int64_t x = 0; x < out_w; ++x)
                acc[x] += w[x] * buf[id[x]];
        }
    };

    parallel_rows(c.out_window.height(), static_cast<std::int64_t>(work_w), [&](std::int64_t r0, std::int64_t r1) {
        std::vector<float> vnum(static_cast<std::size_t>(buf_w));
        std::vector<float> vden(c.has_mask ? static_cast<std::size_t>(buf_w) : 0);
        std::vector<float> hnum(plane);
        std::vector<float> hden(c.has_mask ? plane : 0);
        for (std::int64_t r = r0; r < r1; ++r) {
            const auto ri = static_cast<std::size_t>(r);
            const std::int32_t ny = ty.count[ri];
            if (ny == 0 || buf_w == 0) {
                for (std::int64_t x = 0; x < out_w; ++x)
                    write_pixel(out, x, r, 0.0f, 0.0, p);
                continue;
            }
            const float* wy = ty.weights.data() + ty.offset[ri];
            const std::int64_t row0 = ty.start[ri] - in.y0;  // first input row, tile coordinates
            float* __restrict num_b = vnum.data();
            // Vertical pass: fixed order j = 0..ny-1 for every column (deterministic).
            if (!c.has_mask) {
                const float* __restrict src0 = in.pixels.row(row0) + col_in_tile;
                const float w0 = wy[0];
                for (std::int64_t b = 0; b < buf_w; ++b)
                    num_b[b] = w0 * src0[b];
                for (std::int32_t j = 1; j < ny; ++j) {
                    const float* __restrict src = in.pixels.row(row0 + j) + col_in_tile;
                    const float wj = wy[j];
                    for (std::int64_t b = 0; b < buf_w; ++b)
                        num_b[b] += wj * src[b];
                }
            } else {
                float* __restrict den_b = vden.data();
                for (std::int64_t b = 0; b < buf_w; ++b) {
                    num_b[b] = 0.0f;
                    den_b[b] = 0.0f;
                }
                for (std::int32_t j = 0; j < ny; ++j) {
                    const float* __restrict src = in.pixels.row(row0 + j) + col_in_tile;
                    const std::uint8_t* __restrict msk = in.mask.row(row0 + j) + col_in_tile;
                    const float wj = wy[j];
                    for (std::int64_t b = 0; b < buf_w; ++b) {
                        // Select before the multiply: an invalid NaN never enters the sum, and the
                        // multiply-add has the same (contractible) form in vector and scalar code.
                        const bool valid = msk[b] != 0;
                        const float v = valid ? src[b] : 0.0f;
                        num_b[b] += wj * v;
                        den_b[b] += valid ? wj : 0.0f;
                    }
                }
            }
            // Horizontal pass, then validity and coverage per output pixel.
            horizontal(vnum.data(), hnum.data());
            const double cov_y = ty.coverage[ri];
            if (fast_rows && cov_y == 1.0) {
                std::copy(hnum.begin(), hnum.end(), out.pixels.row(r));
                if (out.mask.data) std::fill_n(out.mask.row(r), out_w, std::uint8_t{1});
                if (out.coverage.data) std::fill_n(out.coverage.row(r), out_w, 1.0f);
                continue;
            }
            if (c.has_mask) horizontal(vden.data(), hden.data());
            for (std::int64_t x = 0; x < out_w; ++x) {
                const auto xi = static_cast<std::size_t>(x);
                if (tx.count[xi] == 0) {
                    write_pixel(out, x, r, 0.0f, 0.0, p);
                    continue;
                }
                const float sum = hnum[xi];
                const double cov_xy = tx.coverage[xi] * cov_y;
                if (!c.has_mask) {
                    write_pixel(out, x, r, sum, cov_xy, p);
                } else {
                    const float d = hden[xi];
                    const float value = d > 0.0f ? sum / d : 0.0f;
                    // d is the valid fraction of the in-image footprint, up to float rounding
                    // (about 1e-6): snap a fully valid footprint to exactly 1.
                    const double valid = d > 1.0f - 2e-6f ? 1.0 : static_cast<double>(d);
                    write_pixel(out, x, r, value, d > 0.0f ? cov_xy * valid : 0.0, p);
                }
            }
        }
    });
}

Image resample_area(ConstImageView<float> in, const ResampleAreaParams& params) {
    const ResampleWindow size = resample_area_output_size(in.width, in.height, params);
    Image out(size.width(), size.height());
    ResampleAreaInput src;
    src.pixels = in;
    ResampleAreaOutput dst;
    dst.pixels = out.view();
    resample_area(src, dst, params);
    return out;
}

void resample_area_reference(const ResampleAreaInput& in, const ResampleAreaOutput& out, const ResampleAreaParams& p) {
    const Checked c = check_views("resample_area_reference", in, out, p);
    const double fx = p.in_px_per_out_px_x, fy = p.in_px_per_out_px_y;
    for (std::int64_t y = 0; y < c.out_window.height(); ++y) {
        for (std::int64_t x = 0; x < c.out_window.width(); ++x) {
            // Footprint rectangle, clipped to the image.
            const double ax = p.phase_x_in_px + static_cast<double>(c.out_window.x0 + x) * fx;
            const double bx = p.phase_x_in_px + static_cast<double>(c.out_window.x0 + x + 1) * fx;
            const double ay = p.phase_y_in_px + static_cast<double>(c.out_window.y0 + y) * fy;
            const double by = p.phase_y_in_px + static_cast<double>(c.out_window.y0 + y + 1) * fy;
            const double lx = std::max(ax, 0.0), hx = std::min(bx, static_cast<double>(c.image_w));
            const double ly = std::max(ay, 0.0), hy = std::min(by, static_cast<double>(c.image_h));
            double sum = 0.0, area = 0.0;
            if (hx > lx && hy > ly) {
                for (auto gy = static_cast<std::int64_t>(std::floor(ly)); static_cast<double>(gy) < hy; ++gy) {
                    for (auto gx = static_cast<std::int64_t>(std::floor(lx)); static_cast<double>(gx) < hx; ++gx) {
                        // Overlap of two axis-aligned rectangles = product of the 1-D overlaps.
                        const double ox =
                            std::min(hx, static_cast<double>(gx + 1)) - std::max(lx, static_cast<double>(gx));
                        const double oy =
                            std::min(hy, static_cast<double>(gy + 1)) - std::max(ly, static_cast<double>(gy));
                        if (ox <= 0.0 || oy <= 0.0) continue;
                        const std::int64_t tx = gx - in.x0, tyy = gy - in.y0;
                        if (c.has_mask && in.mask.at(tx, tyy) == 0) continue;
                        sum += ox * oy * static_cast<double>(in.pixels.at(tx, tyy));
                        area += ox * oy;
                    }
                }
            }
            double coverage = area / (fx * fy);
            if (coverage > 1.0 - 1e-9) coverage = 1.0;
            write_pixel(out, x, y, area > 0.0 ? static_cast<float>(sum / area) : 0.0f, area > 0.0 ? coverage : 0.0, p);
        }
    }
}

}  // namespace satiq
