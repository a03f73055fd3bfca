#pragma once
// Private building blocks shared by the convolution sources (not installed, not public).
//
// Every pass is written with GCC/Clang vector extensions, kLanes floats per vector, so that each
// output pixel is computed by exactly the same instruction sequence wherever it falls in a row
// (no scalar tail with a different rounding/FMA contraction): rows shorter than a vector go
// through a scratch copy, and the last partial vector of a row is recomputed as an overlapping
// full vector. That is what makes tiled output bit-identical to whole-image output.
//
// Every multiply-add of the 1-D passes goes through mul_add (an explicit FMA where the CPU has
// one): out = fma(k_n, x_n, ... fma(k_1, x_1, k_0 * x_0)), taps in a fixed order. The passes
// must not leave `a * b + c` to the compiler's FMA contraction: when both operands of an add
// are products (`acc = k0 * x0; acc += k1 * x1` once a loop is peeled), GCC fuses whichever
// product it meets first, and with 16-float vectors split into 256-bit halves on an AVX2-only
// CPU (AMD EPYC) that choice differed between halves and between vertical_pass2's NV=4 and
// NV=1 blocks, so tiled output was not bit-identical there; contraction heuristics
// (-mtune=znver*: avoid FMA chains in loops) can also differ between code paths. An explicit
// FMA intrinsic is not an add, so nothing is left for the compiler to choose.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "satiq/kernels/convolve.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// One vector is one native register: 16 floats with AVX-512, else 8. (16-float generic
// vectors on an AVX2-only CPU are split by GCC into 256-bit halves that go through the stack
// and ran 3-4x slower on AMD EPYC.) The lane count does not change any output value: each
// output is the same chain of mul_add in the same tap order for any kLanes.
#ifndef SATIQ_CONV_LANES
#if defined(__AVX512F__)
#define SATIQ_CONV_LANES 16
#else
#define SATIQ_CONV_LANES 8
#endif
#endif

namespace satiq::detail {

inline constexpr std::int64_t kLanes = SATIQ_CONV_LANES;
using Vf = float __attribute__((vector_size(kLanes * 4)));

inline Vf load(const float* p) {
    Vf v;
    std::memcpy(&v, p, sizeof(Vf));
    return v;
}
inline void store(float* p, Vf v) {
    std::memcpy(p, &v, sizeof(Vf));
}
template <std::size_t... I>
inline Vf splat_lanes(float k, std::index_sequence<I...>) {
    return Vf{((void)I, k)...};
}
inline Vf splat(float k) {
    return splat_lanes(k, std::make_index_sequence<kLanes>{});
}

/// a * b + c per lane with one rounding (FMA) where the target has FMA, else two roundings;
/// never left to FMA contraction (see the top of this file).
inline Vf mul_add(Vf a, Vf b, Vf c) {
#if defined(__AVX512F__) && SATIQ_CONV_LANES == 16
    return reinterpret_cast<Vf>(
        _mm512_fmadd_ps(reinterpret_cast<__m512>(a), reinterpret_cast<__m512>(b), reinterpret_cast<__m512>(c)));
#elif defined(__FMA__) && SATIQ_CONV_LANES == 16
    // Two 256-bit halves (AVX2 + FMA without AVX-512, e.g. AMD Zen 1-3).
    struct Halves {
        __m256 lo, hi;
    };
    Halves x, y, z;
    std::memcpy(&x, &a, sizeof(Vf));
    std::memcpy(&y, &b, sizeof(Vf));
    std::memcpy(&z, &c, sizeof(Vf));
    const Halves f{_mm256_fmadd_ps(x.lo, y.lo, z.lo), _mm256_fmadd_ps(x.hi, y.hi, z.hi)};
    Vf r;
    std::memcpy(&r, &f, sizeof(Vf));
    return r;
#elif defined(__FMA__) && SATIQ_CONV_LANES == 8
    return reinterpret_cast<Vf>(
        _mm256_fmadd_ps(reinterpret_cast<__m256>(a), reinterpret_cast<__m256>(b), reinterpret_cast<__m256>(c)));
#elif (defined(__x86_64__) || defined(__i386__)) && !defined(__FMA__) && !defined(__FMA4__)
    // x86 without FMA: no fused instruction to contract to, so this is mul then add.
    return a * b + c;
#else
    Vf r;
    for (std::int64_t i = 0; i < kLanes; ++i)
        r[i] = __builtin_fmaf(a[i], b[i], c[i]);
    return r;
#endif
}

/// Calls block.template operator()<NV>(x) for vector blocks covering [0, n), n >= kLanes. The
/// last block may overlap the previous one (it recomputes identical values).
/// `first`: where aligned blocks start (0..kLanes-1); a leading unaligned block covers [0, first).
template <class Block>
inline void for_blocks_overlap(std::int64_t n, Block&& block, std::int64_t first = 0) {
    std::int64_t x = 0;
    if (first > 0 && first + kLanes <= n) {
        block.template operator()<1>(0);
        x = first;
    }
    for (; x + 4 * kLanes <= n; x += 4 * kLanes)
        block.template operator()<4>(x);
    for (; x + kLanes <= n; x += kLanes)
        block.template operator()<1>(x);
    if (x < n) block.template operator()<1>(n - kLanes);
}

/// Calls blocks covering [0, round_up(n, kLanes)): for buffers that own kLanes floats of slack.
template <class Block>
inline void for_blocks_padded(std::int64_t n, Block&& block) {
    std::int64_t x = 0;
    for (; x + 4 * kLanes <= n; x += 4 * kLanes)
        block.template operator()<4>(x);
    for (; x < n; x += kLanes)
        block.template operator()<1>(x);
}

/// 1-D taps prepared for the passes: correlation order (flipped), symmetric ones folded.
struct Taps {
    std::vector<float> corr;  ///< correlation taps, size 2r+1
    std::vector<float> half;  ///< half[0] centre, half[j] distance j (only when symmetric)
    std::int64_t r = 0;
    bool symmetric = false;
};
Taps prepare_taps(const std::vector<float>& convolution_taps);

/// Vertical pass over n columns: dst[x] = sum_t corr[t] * rows[t][x] (or folded symmetric).
/// rows[t] point at column 0; dst must have n + kLanes floats. Handles any n >= 1.
void vertical_pass(const float* const* rows, const Taps& taps, std::int64_t n, float* dst);

/// Two consecutive output rows at once: rows[0..2r+1] (2r+2 pointers); dst0 uses rows[0..2r],
/// dst1 rows[1..2r+1]. Each input vector is loaded once for both. Bit-identical to two calls of
/// vertical_pass (same operations in the same order per output value).
void vertical_pass2(const float* const* rows, const Taps& taps, std::int64_t n, float* dst0, float* dst1);

/// Horizontal pass: out[x] = sum_t corr[t] * src[x + t], x in [0, n); src holds n + 2r + kLanes
/// floats. mode Store writes out directly (out has exactly n floats); Accumulate adds into out
/// (out has n + kLanes floats of which the slack is scratch).
enum class HMode { Store, Accumulate };
void horizontal_pass(const float* src, const Taps& taps, std::int64_t n, float* out, HMode mode);

/// Resolved geometry of a region call (global coordinates).
struct Region {
    ConstImageView<float> src;
    ImageView<float> dst;
    std::int64_t image_w = 0, image_h = 0;
    std::int64_t src_x0 = 0, src_y0 = 0;
    std::int64_t out_x0 = 0, out_y0 = 0;
    std::int64_t rx = 0, ry = 0;
    std::int64_t gx_lo = 0;   ///< global column of row-buffer index 0 (out_x0 - rx)
    std::int64_t col_lo = 0;  ///< first in-image column needed
    std::int64_t col_hi = 0;  ///< one past the last in-image column needed
    /// (buffer index, buffer index to copy from) for out-of-image columns of the row buffer
    std::vector<std::pair<std::int64_t, std::int64_t>> x_border;
    BorderMode border = BorderMode::Reflect101;
    [[nodiscard]] std::int64_t buffer_len() const { return dst.width + 2 * rx + kLanes; }
    /// Local source row (pointer at column col_lo) for global row gy (any integer).
    [[nodiscard]] const float* src_row(std::int64_t gy) const {
        return src.row(border_index(gy, image_h, border) - src_y0) + (col_lo - src_x0);
    }
    void fill_x_border(float* buffer) const {
        for (const auto& [to, from] : x_border)
            buffer[to] = buffer[from];
    }
};

/// Validates a region call and resolves its geometry. Returns false when the output is empty.
bool resolve_region(const ConvolveInput& in, const ConvolveOutput& out, ConvolveHalo halo, BorderMode border,
                    const char* operation, Region& region);

/// Throws when the two views share memory.
void check_no_overlap(ConstImageView<float> a, ConstImageView<float> b, const char* operation);

/// Fixed row bands over [0, height): identical for any thread count.
std::int64_t band_rows(std::int64_t width, std::int64_t ry);

/// Column strips: the output is processed in strips narrow enough that the `window_rows`
/// rows of working set one output row needs stay within `budget_floats` (default: about half
/// of the 48 KB L1) while the band slides down (each input pixel is
/// then read from memory about once). Returns one sub-region per strip (the same rows).
std::vector<Region> split_strips(const Region& g, std::int64_t window_rows, std::int64_t budget_floats = 6144);

}  // namespace satiq::detail
