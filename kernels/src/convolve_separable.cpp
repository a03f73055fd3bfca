// Separable convolution and the shared row passes (see convolve_detail.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

#include "convolve_detail.hpp"
#include "satiq/kernels/convolve.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {

std::int64_t border_index(std::int64_t i, std::int64_t n, BorderMode mode) {
    if (n <= 0) throw Error("border_index: axis size n must be >= 1 (got " + std::to_string(n) + ")");
    if (i >= 0 && i < n) return i;
    switch (mode) {
        case BorderMode::Replicate:
            return i < 0 ? 0 : n - 1;
        case BorderMode::Reflect101: {
            if (n == 1) return 0;
            const std::int64_t period = 2 * n - 2;
            std::int64_t m = i % period;
            if (m < 0) m += period;
            return m < n ? m : period - m;
        }
        case BorderMode::Reflect: {
            const std::int64_t period = 2 * n;
            std::int64_t m = i % period;
            if (m < 0) m += period;
            return m < n ? m : period - 1 - m;
        }
    }
    throw Error("border_index: unknown BorderMode");
}

namespace {

void validate_taps(const std::vector<float>& taps, const char* operation, const char* name) {
    if (taps.empty() || taps.size() % 2 == 0)
        throw Error(std::string(operation) + ": " + name + " must have an odd number of taps >= 1 (got " +
                    std::to_string(taps.size()) + ")");
    for (float t : taps)
        if (!std::isfinite(t)) throw Error(std::string(operation) + ": " + name + " holds a non-finite tap");
}

void validate_separable(const SeparableKernel& k, const char* operation) {
    validate_taps(k.taps_x, operation, "taps_x");
    validate_taps(k.taps_y, operation, "taps_y");
}

}  // namespace

ConvolveHalo halo(const SeparableKernel& kernel) {
    validate_separable(kernel, "halo(SeparableKernel)");
    return {static_cast<std::int64_t>(kernel.taps_x.size() - 1) / 2,
            static_cast<std::int64_t>(kernel.taps_y.size() - 1) / 2};
}

namespace detail {

Taps prepare_taps(const std::vector<float>& convolution_taps) {
    Taps t;
    t.corr.assign(convolution_taps.rbegin(), convolution_taps.rend());
    t.r = static_cast<std::int64_t>(t.corr.size() - 1) / 2;
    t.symmetric = true;
    for (std::int64_t j = 1; j <= t.r; ++j)
        if (t.corr[static_cast<std::size_t>(t.r - j)] != t.corr[static_cast<std::size_t>(t.r + j)]) t.symmetric = false;
    if (t.symmetric) t.half.assign(t.corr.begin() + t.r, t.corr.end());
    return t;
}

namespace {

template <int NV>
[[gnu::always_inline]] inline void vertical_block(const float* const* rows, const Taps& taps, std::int64_t x,
                                                  float* dst) {
    Vf acc[NV];
    if (taps.symmetric) {
        const std::int64_t r = taps.r;
        const Vf k0 = splat(taps.half[0]);
        const float* c = rows[r] + x;
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[v] = k0 * load(c + v * kLanes);
        for (std::int64_t j = 1; j <= r; ++j) {
            const float* a = rows[r - j] + x;
            const float* b = rows[r + j] + x;
            const Vf kj = splat(taps.half[static_cast<std::size_t>(j)]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                acc[v] = mul_add(kj, load(a + v * kLanes) + load(b + v * kLanes), acc[v]);
        }
    } else {
        const std::int64_t n = 2 * taps.r + 1;
        const Vf k0 = splat(taps.corr[0]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[v] = k0 * load(rows[0] + x + v * kLanes);
        for (std::int64_t t = 1; t < n; ++t) {
            const float* a = rows[t] + x;
            const Vf kt = splat(taps.corr[static_cast<std::size_t>(t)]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                acc[v] = mul_add(kt, load(a + v * kLanes), acc[v]);
        }
    }
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
        store(dst + x + v * kLanes, acc[v]);
}

template <int NV>
[[gnu::always_inline]] inline void horizontal_block(const float* src, const Taps& taps, std::int64_t x, Vf* acc) {
    const float* s = src + x;
    if (taps.symmetric) {
        const std::int64_t r = taps.r;
        const Vf k0 = splat(taps.half[0]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[v] = k0 * load(s + r + v * kLanes);
        for (std::int64_t j = 1; j <= r; ++j) {
            const Vf kj = splat(taps.half[static_cast<std::size_t>(j)]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                acc[v] = mul_add(kj, load(s + r - j + v * kLanes) + load(s + r + j + v * kLanes), acc[v]);
        }
    } else {
        const std::int64_t n = 2 * taps.r + 1;
        const Vf k0 = splat(taps.corr[0]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[v] = k0 * load(s + v * kLanes);
        for (std::int64_t t = 1; t < n; ++t) {
            const Vf kt = splat(taps.corr[static_cast<std::size_t>(t)]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                acc[v] = mul_add(kt, load(s + t + v * kLanes), acc[v]);
        }
    }
}

}  // namespace

namespace {

// Start of the first vector-aligned (kLanes floats) block of row 0 (loads of the other rows are aligned too
// when the row stride is a multiple of kLanes floats, as in packed power-of-two images).
std::int64_t aligned_start(const float* row0) {
    const auto addr = reinterpret_cast<std::uintptr_t>(row0);
    if (addr % sizeof(float) != 0) return 0;
    const auto lane = static_cast<std::int64_t>((addr / sizeof(float)) % kLanes);
    return lane == 0 ? 0 : kLanes - lane;
}

template <int NV>
[[gnu::always_inline]] inline void vertical_block2(const float* const* rows, const Taps& taps, std::int64_t x,
                                                   float* dst0, float* dst1) {
    Vf acc0[NV], acc1[NV];
    if (taps.symmetric) {
        // acc0: centre rows[r], pairs (rows[r-j], rows[r+j]); acc1: centre rows[r+1], pairs
        // (rows[r+1-j], rows[r+1+j]). a = rows[r-j] and b = rows[r+1+j] are loaded once.
        const std::int64_t r = taps.r;
        Vf a_prev[NV], b_prev[NV];
        const Vf k0 = splat(taps.half[0]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
            a_prev[v] = load(rows[r] + x + v * kLanes);
            b_prev[v] = load(rows[r + 1] + x + v * kLanes);
            acc0[v] = k0 * a_prev[v];
            acc1[v] = k0 * b_prev[v];
        }
        for (std::int64_t j = 1; j <= r; ++j) {
            const float* pa = rows[r - j] + x;
            const float* pb = rows[r + 1 + j] + x;
            const Vf kj = splat(taps.half[static_cast<std::size_t>(j)]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) {
                const Vf a = load(pa + v * kLanes);
                const Vf b = load(pb + v * kLanes);
                acc0[v] = mul_add(kj, a + b_prev[v], acc0[v]);
                acc1[v] = mul_add(kj, a_prev[v] + b, acc1[v]);
                a_prev[v] = a;
                b_prev[v] = b;
            }
        }
    } else {
        // acc0 = sum_t corr[t] rows[t], acc1 = sum_t corr[t] rows[t+1], same order as vertical_block.
        const std::int64_t n = 2 * taps.r + 1;
        const Vf c0 = splat(taps.corr[0]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
            const Vf l = load(rows[1] + x + v * kLanes);
            acc0[v] = c0 * load(rows[0] + x + v * kLanes);
            acc1[v] = c0 * l;
            if (n > 1) acc0[v] = mul_add(splat(taps.corr[1]), l, acc0[v]);
        }
        for (std::int64_t t = 2; t <= n; ++t) {
            const float* p = rows[t] + x;
            const Vf cp = splat(taps.corr[static_cast<std::size_t>(t - 1)]);
            if (t < n) {
                const Vf ct = splat(taps.corr[static_cast<std::size_t>(t)]);
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v) {
                    const Vf l = load(p + v * kLanes);
                    acc0[v] = mul_add(ct, l, acc0[v]);
                    acc1[v] = mul_add(cp, l, acc1[v]);
                }
            } else {
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v)
                    acc1[v] = mul_add(cp, load(p + v * kLanes), acc1[v]);
            }
        }
    }
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
        store(dst0 + x + v * kLanes, acc0[v]);
        store(dst1 + x + v * kLanes, acc1[v]);
    }
}

}  // namespace

void vertical_pass2(const float* const* rows, const Taps& taps, std::int64_t n, float* dst0, float* dst1) {
    if (n >= kLanes) {
        for_blocks_overlap(
            n, [&]<int NV>(std::int64_t x) { vertical_block2<NV>(rows, taps, x, dst0, dst1); }, aligned_start(rows[0]));
        return;
    }
    vertical_pass(rows, taps, n, dst0);
    vertical_pass(rows + 1, taps, n, dst1);
}

void vertical_pass(const float* const* rows, const Taps& taps, std::int64_t n, float* dst) {
    if (n >= kLanes) {
        for_blocks_overlap(
            n, [&]<int NV>(std::int64_t x) { vertical_block<NV>(rows, taps, x, dst); }, aligned_start(rows[0]));
        return;
    }
    // Narrow: copy the n columns of each row into zero-padded vectors.
    const std::int64_t count = 2 * taps.r + 1;
    std::vector<float> scratch(static_cast<std::size_t>(count * kLanes), 0.0f);
    std::vector<const float*> local(static_cast<std::size_t>(count));
    for (std::int64_t t = 0; t < count; ++t) {
        float* s = scratch.data() + t * kLanes;
        std::copy(rows[t], rows[t] + n, s);
        local[static_cast<std::size_t>(t)] = s;
    }
    vertical_block<1>(local.data(), taps, 0, dst);  // dst owns kLanes of slack
}

void horizontal_pass(const float* src, const Taps& taps, std::int64_t n, float* out, HMode mode) {
    if (mode == HMode::Accumulate) {
        for_blocks_padded(n, [&]<int NV>(std::int64_t x) {
            Vf acc[NV];
            horizontal_block<NV>(src, taps, x, acc);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                store(out + x + v * kLanes, load(out + x + v * kLanes) + acc[v]);
        });
        return;
    }
    if (n >= kLanes) {
        for_blocks_overlap(n, [&]<int NV>(std::int64_t x) {
            Vf acc[NV];
            horizontal_block<NV>(src, taps, x, acc);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                store(out + x + v * kLanes, acc[v]);
        });
        return;
    }
    Vf acc[1];
    horizontal_block<1>(src, taps, 0, acc);
    float tmp[kLanes];
    store(tmp, acc[0]);
    std::copy(tmp, tmp + n, out);
}

void check_no_overlap(ConstImageView<float> a, ConstImageView<float> b, const char* operation) {
    if (a.empty() || b.empty()) return;
    const auto begin = [](ConstImageView<float> v) { return reinterpret_cast<std::uintptr_t>(v.data); };
    const auto end = [](ConstImageView<float> v) {
        return reinterpret_cast<std::uintptr_t>(v.data + (v.height - 1) * v.stride + v.width);
    };
    if (begin(a) < end(b) && begin(b) < end(a))
        throw Error(std::string(operation) +
                    ": input and output share memory; in-place convolution is not supported, use a separate output");
}

std::int64_t band_rows(std::int64_t width, std::int64_t ry) {
    // At least 256K output pixels per band (well above the ~64K task grain), and at least 64
    // rows and eight times the vertical halo so re-read halo rows stay a small fraction.
    const std::int64_t by_pixels = (std::int64_t{1} << 18) / std::max<std::int64_t>(1, width);
    return std::clamp<std::int64_t>(std::max({by_pixels, std::int64_t{64}, 8 * ry}), 8, 4096);
}

namespace {

void set_columns(Region& g) {
    g.gx_lo = g.out_x0 - g.rx;
    g.col_lo = std::max<std::int64_t>(0, g.gx_lo);
    g.col_hi = std::min(g.image_w, g.out_x0 + g.dst.width + g.rx);
    g.x_border.clear();
    const std::int64_t len = g.dst.width + 2 * g.rx;
    for (std::int64_t i = 0; i < len; ++i) {
        const std::int64_t gx = g.gx_lo + i;
        if (gx < 0 || gx >= g.image_w) g.x_border.emplace_back(i, border_index(gx, g.image_w, g.border) - g.gx_lo);
    }
}

}  // namespace

std::vector<Region> split_strips(const Region& g, std::int64_t window_rows, std::int64_t budget_floats) {
    const std::int64_t want =
        std::max<std::int64_t>(4 * kLanes, budget_floats / std::max<std::int64_t>(1, window_rows));
    const std::int64_t ow = g.dst.width;
    const std::int64_t n = std::max<std::int64_t>(1, (ow + want - 1) / want);
    std::int64_t width = (ow + n - 1) / n;
    width = (width + kLanes - 1) / kLanes * kLanes;
    std::vector<Region> strips;
    for (std::int64_t xs = 0; xs < ow; xs += width) {
        const std::int64_t w = std::min(width, ow - xs);
        Region s;
        s.src = g.src;
        s.dst = ImageView<float>(g.dst.data + xs, w, g.dst.height, g.dst.stride);
        s.image_w = g.image_w;
        s.image_h = g.image_h;
        s.src_x0 = g.src_x0;
        s.src_y0 = g.src_y0;
        s.out_x0 = g.out_x0 + xs;
        s.out_y0 = g.out_y0;
        s.rx = g.rx;
        s.ry = g.ry;
        s.border = g.border;
        set_columns(s);
        strips.push_back(std::move(s));
    }
    return strips;
}

bool resolve_region(const ConvolveInput& in, const ConvolveOutput& out, ConvolveHalo h, BorderMode border,
                    const char* operation, Region& g) {
    const std::string op(operation);
    const auto& s = in.pixels;
    const auto& d = out.pixels;
    if (s.width < 0 || s.height < 0 || d.width < 0 || d.height < 0 || s.stride < s.width || d.stride < d.width)
        throw Error(op + ": negative size or stride smaller than width in an image view");
    const bool whole = in.image_width == 0 && in.image_height == 0;
    g.image_w = whole ? s.width : in.image_width;
    g.image_h = whole ? s.height : in.image_height;
    if (g.image_w <= 0 || g.image_h <= 0)
        throw Error(op + ": the image is empty (image_width " + std::to_string(g.image_w) + ", image_height " +
                    std::to_string(g.image_h) + "); give a non-empty image");
    if (d.empty()) return false;
    if (out.x0 < 0 || out.y0 < 0 || out.x0 + d.width > g.image_w || out.y0 + d.height > g.image_h)
        throw Error(op + ": the output tile at (" + std::to_string(out.x0) + ", " + std::to_string(out.y0) + ") size " +
                    std::to_string(d.width) + "x" + std::to_string(d.height) +
                    " lies outside the image; clip it to the image");
    if (in.x0 < 0 || in.y0 < 0 || in.x0 + s.width > g.image_w || in.y0 + s.height > g.image_h)
        throw Error(op + ": the input tile lies outside the image; clip it to the image");
    g.rx = h.x_px;
    g.ry = h.y_px;
    g.gx_lo = out.x0 - g.rx;
    g.col_lo = std::max<std::int64_t>(0, g.gx_lo);
    g.col_hi = std::min(g.image_w, out.x0 + d.width + g.rx);
    const std::int64_t row_lo = std::max<std::int64_t>(0, out.y0 - g.ry);
    const std::int64_t row_hi = std::min(g.image_h, out.y0 + d.height + g.ry);
    if (g.col_lo < in.x0 || g.col_hi > in.x0 + s.width || row_lo < in.y0 || row_hi > in.y0 + s.height)
        throw Error(op + ": the input tile does not cover the output tile grown by the halo (" + std::to_string(g.rx) +
                    ", " + std::to_string(g.ry) + ") px, clipped to the image; read a larger input tile");
    check_no_overlap(s, d, operation);
    g.src = s;
    g.dst = d;
    g.src_x0 = in.x0;
    g.src_y0 = in.y0;
    g.out_x0 = out.x0;
    g.out_y0 = out.y0;
    g.border = border;
    set_columns(g);
    return true;
}

}  // namespace detail

using namespace detail;

void convolve_separable(const ConvolveInput& in, const ConvolveOutput& out, const SeparableKernel& kernel,
                        BorderMode border) {
    static constexpr const char* kOp = "convolve_separable";
    validate_separable(kernel, kOp);
    const Taps tx = prepare_taps(kernel.taps_x);
    const Taps ty = prepare_taps(kernel.taps_y);
    Region g;
    if (!resolve_region(in, out, {tx.r, ty.r}, border, kOp, g)) return;

    const std::int64_t oh = g.dst.height;
    const std::int64_t band = band_rows(g.dst.width, g.ry);
    const std::int64_t bands = (oh + band - 1) / band;
    const std::int64_t count_y = 2 * g.ry + 1;
    const std::vector<Region> strips = split_strips(g, count_y);
    parallel_items(bands, [&](std::int64_t b) {
        const std::int64_t len = strips.front().buffer_len();
        std::vector<float> row_buffer(static_cast<std::size_t>(2 * len), 0.0f);
        float* buf0 = row_buffer.data();
        float* buf1 = row_buffer.data() + len;
        std::vector<const float*> rows(static_cast<std::size_t>(count_y + 1));
        const std::int64_t y_end = std::min(oh, (b + 1) * band);
        for (const Region& s : strips) {
            const std::int64_t off = s.col_lo - s.gx_lo;
            const std::int64_t n_cols = s.col_hi - s.col_lo;
            std::int64_t y = b * band;
            for (; y + 1 < y_end; y += 2) {
                const std::int64_t gy = s.out_y0 + y;
                for (std::int64_t t = 0; t <= count_y; ++t)
                    rows[static_cast<std::size_t>(t)] = s.src_row(gy - s.ry + t);
                vertical_pass2(rows.data(), ty, n_cols, buf0 + off, buf1 + off);
                s.fill_x_border(buf0);
                s.fill_x_border(buf1);
                horizontal_pass(buf0, tx, s.dst.width, s.dst.row(y), HMode::Store);
                horizontal_pass(buf1, tx, s.dst.width, s.dst.row(y + 1), HMode::Store);
            }
            if (y < y_end) {
                const std::int64_t gy = s.out_y0 + y;
                for (std::int64_t t = 0; t < count_y; ++t)
                    rows[static_cast<std::size_t>(t)] = s.src_row(gy - s.ry + t);
                vertical_pass(rows.data(), ty, n_cols, buf0 + off);
                s.fill_x_border(buf0);
                horizontal_pass(buf0, tx, s.dst.width, s.dst.row(y), HMode::Store);
            }
        }
    });
}

void convolve_separable(ConstImageView<float> in, ImageView<float> out, const SeparableKernel& kernel,
                        BorderMode border) {
    if (in.width != out.width || in.height != out.height)
        throw Error("convolve_separable: output size " + std::to_string(out.width) + "x" + std::to_string(out.height) +
                    " differs from input size " + std::to_string(in.width) + "x" + std::to_string(in.height));
    if (in.empty()) throw Error("convolve_separable: the input image is empty; give a non-empty image");
    convolve_separable(ConvolveInput{in, 0, 0, in.width, in.height}, ConvolveOutput{out, 0, 0}, kernel, border);
}

void convolve_separable_valid(ConstImageView<float> in_with_halo, ImageView<float> out, const SeparableKernel& kernel) {
    const ConvolveHalo h = halo(kernel);
    if (in_with_halo.width != out.width + 2 * h.x_px || in_with_halo.height != out.height + 2 * h.y_px)
        throw Error("convolve_separable_valid: input must be the output grown by the halo (" + std::to_string(h.x_px) +
                    ", " + std::to_string(h.y_px) + ") px on each side: expected " +
                    std::to_string(out.width + 2 * h.x_px) + "x" + std::to_string(out.height + 2 * h.y_px) + ", got " +
                    std::to_string(in_with_halo.width) + "x" + std::to_string(in_with_halo.height));
    if (out.empty()) throw Error("convolve_separable_valid: the output tile is empty; give a non-empty tile");
    convolve_separable(ConvolveInput{in_with_halo, 0, 0, in_with_halo.width, in_with_halo.height},
                       ConvolveOutput{out, h.x_px, h.y_px}, kernel, BorderMode::Reflect101);
}

}  // namespace satiq
