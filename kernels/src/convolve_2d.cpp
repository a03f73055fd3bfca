// General 2-D convolution: the direct, folded direct, low-rank separable (SVD) and FFT
// overlap-save paths of a Convolve2dPlan (planned in convolve_2d_plan.cpp), sharpening, and the
// naive double-precision references.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <opencv2/core.hpp>

#include "convolve_detail.hpp"
#include "convolve_fftw.hpp"
#include "satiq/kernels/convolve.hpp"
#include "satiq/kernels/parallel.hpp"

namespace satiq {

using namespace detail;

void Convolve2dPlan::apply(const ConvolveInput& in, const ConvolveOutput& out) const {
    switch (m_method) {
        case Convolve2dMethod::Direct:
        case Convolve2dMethod::Auto:
            apply_direct(in, out);
            return;
        case Convolve2dMethod::LowRank:
            apply_low_rank(in, out);
            return;
        case Convolve2dMethod::Fft:
            apply_fft(in, out);
            return;
    }
}

void Convolve2dPlan::apply(ConstImageView<float> in, ImageView<float> out) const {
    if (in.width != out.width || in.height != out.height)
        throw Error("convolve_2d: output size " + std::to_string(out.width) + "x" + std::to_string(out.height) +
                    " differs from input size " + std::to_string(in.width) + "x" + std::to_string(in.height));
    if (in.empty()) throw Error("convolve_2d: the input image is empty; give a non-empty image");
    apply(ConvolveInput{in, 0, 0, in.width, in.height}, ConvolveOutput{out, 0, 0});
}

void Convolve2dPlan::apply_valid(ConstImageView<float> in_with_halo, ImageView<float> out) const {
    if (in_with_halo.width != out.width + 2 * m_halo.x_px || in_with_halo.height != out.height + 2 * m_halo.y_px)
        throw Error("convolve_2d valid: input must be the output grown by the halo (" + std::to_string(m_halo.x_px) +
                    ", " + std::to_string(m_halo.y_px) + ") px on each side: expected " +
                    std::to_string(out.width + 2 * m_halo.x_px) + "x" + std::to_string(out.height + 2 * m_halo.y_px) +
                    ", got " + std::to_string(in_with_halo.width) + "x" + std::to_string(in_with_halo.height));
    if (out.empty()) throw Error("convolve_2d valid: the output tile is empty; give a non-empty tile");
    apply(ConvolveInput{in_with_halo, 0, 0, in_with_halo.width, in_with_halo.height},
          ConvolveOutput{out, m_halo.x_px, m_halo.y_px});
}

namespace {

template <int NV>
[[gnu::always_inline]] inline void direct_block(const float* const* prow, const float* corr, std::int64_t kw,
                                                std::int64_t kh, std::int64_t x, Vf* acc) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
        acc[v] = Vf{};
    for (std::int64_t j = 0; j < kh; ++j) {
        const float* p = prow[j] + x;
        const float* c = corr + j * kw;
        for (std::int64_t i = 0; i < kw; ++i) {
            const Vf kv = splat(c[i]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                acc[v] += kv * load(p + i + v * kLanes);
        }
    }
}

}  // namespace

void Convolve2dPlan::apply_direct(const ConvolveInput& in, const ConvolveOutput& out) const {
    if (m_folded) {
        apply_direct_folded(in, out);
        return;
    }
    Region g;
    if (!resolve_region(in, out, m_halo, m_params.border, "convolve_2d (direct)", g)) return;
    const std::int64_t kw = m_kernel.width;
    const std::int64_t kh = m_kernel.height;
    const std::int64_t ow = g.dst.width;
    const std::int64_t oh = g.dst.height;
    const std::int64_t band = band_rows(ow, g.ry);
    const std::int64_t bands = (oh + band - 1) / band;
    const std::int64_t len = g.buffer_len();
    const float* corr = m_correlation.data();
    parallel_items(bands, [&](std::int64_t b) {
        // Ring of kh padded rows keyed by mapped global row: the rows one output row needs map
        // to at most kh consecutive values (the border maps are 1-Lipschitz), so "row mod kh"
        // never collides within one output row.
        std::vector<float> ring(static_cast<std::size_t>(kh * len), 0.0f);
        std::vector<std::int64_t> key(static_cast<std::size_t>(kh), -1);
        std::vector<const float*> prow(static_cast<std::size_t>(kh));
        const std::int64_t y_end = std::min(oh, (b + 1) * band);
        for (std::int64_t y = b * band; y < y_end; ++y) {
            const std::int64_t gy = g.out_y0 + y;
            for (std::int64_t j = 0; j < kh; ++j) {
                const std::int64_t mapped = border_index(gy - g.ry + j, g.image_h, g.border);
                const std::size_t slot = static_cast<std::size_t>(mapped % kh);
                float* buf = ring.data() + static_cast<std::int64_t>(slot) * len;
                if (key[slot] != mapped) {
                    const float* s = g.src.row(mapped - g.src_y0) + (g.col_lo - g.src_x0);
                    std::copy(s, s + (g.col_hi - g.col_lo), buf + (g.col_lo - g.gx_lo));
                    g.fill_x_border(buf);
                    key[slot] = mapped;
                }
                prow[static_cast<std::size_t>(j)] = buf;
            }
            float* o = g.dst.row(y);
            if (ow >= kLanes) {
                for_blocks_overlap(ow, [&]<int NV>(std::int64_t x) {
                    Vf acc[NV];
                    direct_block<NV>(prow.data(), corr, kw, kh, x, acc);
#pragma GCC unroll 8
                    for (int v = 0; v < NV; ++v)
                        store(o + x + v * kLanes, acc[v]);
                });
            } else {
                Vf acc[1];
                direct_block<1>(prow.data(), corr, kw, kh, 0, acc);
                float tmp[kLanes];
                store(tmp, acc[0]);
                std::copy(tmp, tmp + ow, o);
            }
        }
    });
}

namespace {

// H_i[p] (+)= sum_{j in chunk} q(i, j) F_j[p] for i in [0, rx], where F_0 = P_ry and
// F_j = P_{ry-j} + P_{ry+j}. kFoldRows folded rows x NV vectors are held in registers per pass:
// 16 x 1 when the (padded) quadrant has a multiple of 16 rows (H then goes to memory once per
// position instead of being stored, reloaded and stored again; 31x31: 5.2 -> 5.7x filter2D at
// 8192^2, measured), else 8 x 2 (16 x 2 or 12 x 2 spill and run 1.4-1.8x slower). Each
// H_i[p] is the same FMA sequence over j = 0..jp-1 either way, so the chunking never changes a
// result.
template <int NV, int kFoldRows>
[[gnu::always_inline]] inline void folded_h_block(const float* const* prow, const float* q, std::int64_t rx,
                                                  std::int64_t ry, std::int64_t jp, float* const* hrow,
                                                  std::int64_t p) {
    for (std::int64_t j0 = 0; j0 < jp; j0 += kFoldRows) {
        Vf f[kFoldRows][NV];
#pragma GCC unroll 16
        for (int jj = 0; jj < kFoldRows; ++jj) {
            const std::int64_t j = j0 + jj;
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) {
                if (j == 0)
                    f[jj][v] = load(prow[ry] + p + v * kLanes);
                else if (j <= ry)
                    f[jj][v] = load(prow[ry - j] + p + v * kLanes) + load(prow[ry + j] + p + v * kLanes);
                else
                    f[jj][v] = Vf{};
            }
        }
        for (std::int64_t i = 0; i <= rx; ++i) {
            const float* qi = q + i * jp + j0;
            float* h = hrow[i] + p;
            Vf acc[NV];
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                acc[v] = j0 == 0 ? Vf{} : load(h + v * kLanes);
#pragma GCC unroll 16
            for (int jj = 0; jj < kFoldRows; ++jj) {
                const Vf k = splat(qi[jj]);
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v)
                    acc[v] += k * f[jj][v];
            }
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                store(h + v * kLanes, acc[v]);
        }
    }
}

// out[x] = H_0[x + rx] + sum_{i >= 1} (H_i[x + rx - i] + H_i[x + rx + i]).
template <int NV>
[[gnu::always_inline]] inline void folded_out_block(const float* const* hrow, std::int64_t rx, std::int64_t x,
                                                    Vf* acc) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
        acc[v] = load(hrow[0] + x + rx + v * kLanes);
    for (std::int64_t i = 1; i <= rx; ++i) {
        const float* h = hrow[i] + x + rx;
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            acc[v] += load(h - i + v * kLanes) + load(h + i + v * kLanes);
    }
}

}  // namespace

void Convolve2dPlan::apply_direct_folded(const ConvolveInput& in, const ConvolveOutput& out) const {
    Region g;
    if (!resolve_region(in, out, m_halo, m_params.border, "convolve_2d (direct)", g)) return;
    const std::int64_t kh = m_kernel.height;
    const std::int64_t rx = g.rx;
    const std::int64_t ry = g.ry;
    const std::int64_t jp = m_quadrant_rows;  // a multiple of 8
    const bool rows16 = jp % 16 == 0;
    const std::int64_t oh = g.dst.height;
    const std::int64_t band = band_rows(g.dst.width, ry);
    const std::int64_t bands = (oh + band - 1) / band;
    // L2 (2 MB per core) budget: wide strips keep the halo recomputation and ring refills small.
    const std::vector<Region> strips = split_strips(g, kh + rx + 1, std::int64_t{1} << 16);
    // Row buffers: padded positions [0, w + 2 rx) plus slack for whole 2-vector blocks.
    const std::int64_t len = strips.front().buffer_len() + 2 * kLanes;
    const float* q = m_quadrant.data();
    parallel_items(bands, [&](std::int64_t b) {
        std::vector<float> ring(static_cast<std::size_t>(kh * len), 0.0f);
        std::vector<float> hbuf(static_cast<std::size_t>((rx + 1) * len), 0.0f);
        std::vector<std::int64_t> key(static_cast<std::size_t>(kh));
        std::vector<const float*> prow(static_cast<std::size_t>(kh));
        std::vector<float*> hrow(static_cast<std::size_t>(rx + 1));
        for (std::int64_t i = 0; i <= rx; ++i)
            hrow[static_cast<std::size_t>(i)] = hbuf.data() + i * len;
        const std::int64_t y_end = std::min(oh, (b + 1) * band);
        for (const Region& s : strips) {
            std::fill(key.begin(), key.end(), -1);
            const std::int64_t w = s.dst.width;
            const std::int64_t positions = w + 2 * rx;
            for (std::int64_t y = b * band; y < y_end; ++y) {
                const std::int64_t gy = s.out_y0 + y;
                for (std::int64_t j = 0; j < kh; ++j) {
                    const std::int64_t mapped = border_index(gy - ry + j, s.image_h, s.border);
                    const std::size_t slot = static_cast<std::size_t>(mapped % kh);
                    float* buf = ring.data() + static_cast<std::int64_t>(slot) * len;
                    if (key[slot] != mapped) {
                        const float* src = s.src.row(mapped - s.src_y0) + (s.col_lo - s.src_x0);
                        std::copy(src, src + (s.col_hi - s.col_lo), buf + (s.col_lo - s.gx_lo));
                        s.fill_x_border(buf);
                        key[slot] = mapped;
                    }
                    prow[static_cast<std::size_t>(j)] = buf;
                }
                float* o = s.dst.row(y);
                // The output pass trails the H pass by 2 rx positions, so the H values it reads
                // were written a few blocks earlier and are still in L1 (a whole H row set is
                // 16 x the strip width, L2-sized). Every output is the same sum in the same
                // order whichever block computes it.
                std::int64_t x_done = 0;
                auto out_block = [&]<int NV>(std::int64_t x) {
                    Vf acc[NV];
                    folded_out_block<NV>(hrow.data(), rx, x, acc);
#pragma GCC unroll 8
                    for (int v = 0; v < NV; ++v)
                        store(o + x + v * kLanes, acc[v]);
                };
                std::int64_t p = 0;
                for (; p + 2 * kLanes <= positions; p += 2 * kLanes) {
                    if (rows16) {
                        folded_h_block<1, 16>(prow.data(), q, rx, ry, jp, hrow.data(), p);
                        folded_h_block<1, 16>(prow.data(), q, rx, ry, jp, hrow.data(), p + kLanes);
                    } else {
                        folded_h_block<2, 8>(prow.data(), q, rx, ry, jp, hrow.data(), p);
                    }
                    while (x_done + 4 * kLanes <= w && x_done + 4 * kLanes + 2 * rx <= p + 2 * kLanes) {
                        out_block.template operator()<4>(x_done);
                        x_done += 4 * kLanes;
                    }
                }
                for (; p < positions; p += kLanes) {
                    if (rows16)
                        folded_h_block<1, 16>(prow.data(), q, rx, ry, jp, hrow.data(), p);
                    else
                        folded_h_block<1, 8>(prow.data(), q, rx, ry, jp, hrow.data(), p);
                }
                if (w >= kLanes) {
                    const std::int64_t start = std::min(x_done, w - kLanes);
                    for_blocks_overlap(w - start,
                                       [&]<int NV>(std::int64_t xx) { out_block.template operator()<NV>(start + xx); });
                } else {
                    Vf acc[1];
                    folded_out_block<1>(hrow.data(), rx, 0, acc);
                    float tmp[kLanes];
                    store(tmp, acc[0]);
                    std::copy(tmp, tmp + w, o);
                }
            }
        }
    });
}

void Convolve2dPlan::apply_low_rank(const ConvolveInput& in, const ConvolveOutput& out) const {
    Region g;
    if (!resolve_region(in, out, m_halo, m_params.border, "convolve_2d (low-rank)", g)) return;
    std::vector<Taps> tx, ty;
    for (const auto& t : m_terms) {
        tx.push_back(prepare_taps(t.taps_x));
        ty.push_back(prepare_taps(t.taps_y));
    }
    const std::int64_t kh = m_kernel.height;
    const std::int64_t ow = g.dst.width;
    const std::int64_t oh = g.dst.height;
    const std::int64_t band = band_rows(ow, g.ry);
    const std::int64_t bands = (oh + band - 1) / band;
    const std::int64_t n_cols = g.col_hi - g.col_lo;
    parallel_items(bands, [&](std::int64_t b) {
        std::vector<float> row_buffer(static_cast<std::size_t>(g.buffer_len()), 0.0f);
        std::vector<float> acc(static_cast<std::size_t>(ow + kLanes), 0.0f);
        std::vector<const float*> rows(static_cast<std::size_t>(kh));
        float* vdst = row_buffer.data() + (g.col_lo - g.gx_lo);
        const std::int64_t y_end = std::min(oh, (b + 1) * band);
        for (std::int64_t y = b * band; y < y_end; ++y) {
            const std::int64_t gy = g.out_y0 + y;
            for (std::int64_t t = 0; t < kh; ++t)
                rows[static_cast<std::size_t>(t)] = g.src_row(gy - g.ry + t);
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (std::size_t r = 0; r < tx.size(); ++r) {
                vertical_pass(rows.data(), ty[r], n_cols, vdst);
                g.fill_x_border(row_buffer.data());
                horizontal_pass(row_buffer.data(), tx[r], ow, acc.data(), HMode::Accumulate);
            }
            std::copy(acc.begin(), acc.begin() + ow, g.dst.row(y));
        }
    });
}

void Convolve2dPlan::apply_fft(const ConvolveInput& in, const ConvolveOutput& out) const {
    Region g;
    if (!resolve_region(in, out, m_halo, m_params.border, "convolve_2d (fft)", g)) return;
    const std::int64_t n = m_fft_size;
    const std::int64_t bx = fft_block_x_px();
    const std::int64_t by = fft_block_y_px();
    const std::int64_t ow = g.dst.width;
    const std::int64_t oh = g.dst.height;
    // Blocks of a grid anchored at global (0, 0): fixed by the image, not by threads or tiles.
    const std::int64_t bx_first = g.out_x0 / bx;
    const std::int64_t bx_last = (g.out_x0 + ow - 1) / bx;
    const std::int64_t by_first = g.out_y0 / by;
    const std::int64_t by_last = (g.out_y0 + oh - 1) / by;
    const std::int64_t nbx = bx_last - bx_first + 1;
    const std::int64_t nby = by_last - by_first + 1;
#ifndef SATIQ_HAVE_FFTW
    const cv::Mat spectrum(static_cast<int>(n), static_cast<int>(n), CV_32F, const_cast<float*>(m_spectrum.data()));
#endif
    // One task per block (at least a 64^2 transform pair: far above the task grain).
    parallel_items(nbx * nby, [&](std::int64_t item) {
#ifdef SATIQ_HAVE_FFTW
        FftwBuffer tile_buffer = fftw_buffer(static_cast<std::size_t>(n * n));
        FftwBuffer freq_buffer = fftw_buffer(complex_floats(n));
        float* tile = tile_buffer.get();
#else
        std::unique_ptr<float[]> tile_buffer(new float[static_cast<std::size_t>(n * n)]);
        float* tile = tile_buffer.get();
        cv::Mat freq;
#endif
        {
            const std::int64_t bxi = bx_first + item % nbx;
            const std::int64_t byi = by_first + item / nbx;
            // Output clip of this block, global coordinates.
            const std::int64_t cx0 = std::max(bxi * bx, g.out_x0);
            const std::int64_t cx1 = std::min((bxi + 1) * bx, g.out_x0 + ow);
            const std::int64_t cy0 = std::max(byi * by, g.out_y0);
            const std::int64_t cy1 = std::min((byi + 1) * by, g.out_y0 + oh);
            // Tile position p holds global column bxi*bx - rx + p; fill the clip grown by the halo.
            const std::int64_t tx0 = bxi * bx - g.rx;
            const std::int64_t ty0 = byi * by - g.ry;
            const std::int64_t p0 = cx0 - g.rx - tx0;
            const std::int64_t p1 = cx1 + g.rx - tx0;
            const std::int64_t q0 = cy0 - g.ry - ty0;
            const std::int64_t q1 = cy1 + g.ry - ty0;
            std::fill(tile, tile + n * n, 0.0f);
            const std::int64_t in_lo = std::max<std::int64_t>(0, tx0 + p0);  // in-image columns
            const std::int64_t in_hi = std::min(g.image_w, tx0 + p1);
            for (std::int64_t q = q0; q < q1; ++q) {
                const float* s = g.src.row(border_index(ty0 + q, g.image_h, g.border) - g.src_y0);
                float* t = tile + q * n;
                if (in_lo < in_hi) std::copy(s + (in_lo - g.src_x0), s + (in_hi - g.src_x0), t + (in_lo - tx0));
                for (std::int64_t p = p0; p < p1; ++p) {
                    const std::int64_t gx = tx0 + p;
                    if (gx < 0 || gx >= g.image_w) t[p] = s[border_index(gx, g.image_w, g.border) - g.src_x0];
                }
            }
#ifdef SATIQ_HAVE_FFTW
            const auto* plans = static_cast<const FftwPlans*>(m_fft_plans.get());
            auto* freq = reinterpret_cast<fftwf_complex*>(freq_buffer.get());
            fftwf_execute_dft_r2c(plans->forward, tile, freq);
            const std::size_t bins = complex_floats(n) / 2;
            const float* ks = m_spectrum.data();
            float* f = freq_buffer.get();
            for (std::size_t b = 0; b < bins; ++b) {
                const float re = f[2 * b] * ks[2 * b] - f[2 * b + 1] * ks[2 * b + 1];
                const float im = f[2 * b] * ks[2 * b + 1] + f[2 * b + 1] * ks[2 * b];
                f[2 * b] = re;
                f[2 * b + 1] = im;
            }
            fftwf_execute_dft_c2r(plans->inverse, freq, tile);
#else
            cv::Mat tile_mat(static_cast<int>(n), static_cast<int>(n), CV_32F, tile);
            cv::dft(tile_mat, freq, 0, static_cast<int>(q1));
            cv::mulSpectrums(freq, spectrum, freq, 0);
            cv::dft(freq, tile_mat, cv::DFT_INVERSE | cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
            if (tile_mat.data != reinterpret_cast<uchar*>(tile))
                throw Error("convolve_2d (fft): internal error, cv::dft reallocated the tile");
#endif
            // Circular convolution: output global x sits at tile index x - tx0 + rx (see header).
            for (std::int64_t y = cy0; y < cy1; ++y) {
                const float* r = tile + (y - ty0 + g.ry) * n;
                std::copy(r + (cx0 - tx0 + g.rx), r + (cx1 - tx0 + g.rx), g.dst.row(y - g.out_y0) + (cx0 - g.out_x0));
            }
        }
    });
}

Convolve2dMethod convolve_2d(ConstImageView<float> in, ImageView<float> out, const Kernel2d& kernel,
                             const Convolve2dParams& params) {
    const Convolve2dPlan plan(kernel, params);
    plan.apply(in, out);
    return plan.method();
}

// ---------------------------------------------------------------------------------------------
// Sharpening

Kernel2d sharpen_kernel(const SharpenParams& p) {
    if (!std::isfinite(p.strength) || p.strength < 0.0)
        throw Error("sharpen: strength must be finite and >= 0 (got " + std::to_string(p.strength) + ")");
    // Unsharp mask as an MTF-compensation kernel: (1 + s) delta - s * blur, which sums to 1.
    const std::vector<double> b3{1.0, 2.0, 1.0};
    const std::vector<double> b5{1.0, 4.0, 6.0, 4.0, 1.0};
    const std::vector<double>& b = p.blur == SharpenBlur::Binomial3x3 ? b3 : b5;
    const double norm = p.blur == SharpenBlur::Binomial3x3 ? 16.0 : 256.0;
    const std::int64_t n = static_cast<std::int64_t>(b.size());
    Kernel2d k{n, n, std::vector<float>(static_cast<std::size_t>(n * n))};
    for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < n; ++i) {
            double v = -p.strength * b[static_cast<std::size_t>(i)] * b[static_cast<std::size_t>(j)] / norm;
            if (i == n / 2 && j == n / 2) v += 1.0 + p.strength;
            k.taps[static_cast<std::size_t>(j * n + i)] = static_cast<float>(v);
        }
    return k;
}

double noise_gain(const Kernel2d& kernel) {
    validate_kernel(kernel, "noise_gain");
    double sum = 0.0;
    double sum2 = 0.0;
    for (float t : kernel.taps) {
        sum += t;
        sum2 += static_cast<double>(t) * t;
    }
    if (std::abs(sum - 1.0) > 1e-4)
        throw Error("noise_gain: the kernel must sum to 1 (got " + std::to_string(sum) +
                    "); normalize the MTF-compensation kernel");
    // G = sqrt(sum k_ij^2), Leachtenauer et al., Appl. Opt. 36(32), 1997 (GIQE 4, Leachtenauer et al. 1997).
    return std::sqrt(sum2);
}

double sharpen(ConstImageView<float> in, ImageView<float> out, const Kernel2d& kernel, BorderMode border) {
    const double gain = noise_gain(kernel);
    Convolve2dParams p;
    p.method = Convolve2dMethod::Direct;
    p.border = border;
    const Convolve2dPlan plan(kernel, p);
    plan.apply(in, out);
    return gain;
}

double sharpen(ConstImageView<float> in, ImageView<float> out, const SharpenParams& params) {
    return sharpen(in, out, sharpen_kernel(params), params.border);
}

// ---------------------------------------------------------------------------------------------
// Naive references

void convolve_2d_reference(ConstImageView<float> in, ImageView<float> out, const Kernel2d& kernel, BorderMode border) {
    validate_kernel(kernel, "convolve_2d_reference");
    if (in.width != out.width || in.height != out.height || in.empty())
        throw Error("convolve_2d_reference: sizes differ or the image is empty");
    const std::int64_t rx = (kernel.width - 1) / 2;
    const std::int64_t ry = (kernel.height - 1) / 2;
    for (std::int64_t y = 0; y < in.height; ++y)
        for (std::int64_t x = 0; x < in.width; ++x) {
            double s = 0.0;
            for (std::int64_t j = 0; j < kernel.height; ++j)
                for (std::int64_t i = 0; i < kernel.width; ++i)
                    s += static_cast<double>(kernel.at(i, j)) *
                         in.at(border_index(x + rx - i, in.width, border), border_index(y + ry - j, in.height, border));
            out.at(x, y) = static_cast<float>(s);
        }
}

void convolve_separable_reference(ConstImageView<float> in, ImageView<float> out, const SeparableKernel& kernel,
                                  BorderMode border) {
    const ConvolveHalo h = halo(kernel);
    if (in.width != out.width || in.height != out.height || in.empty())
        throw Error("convolve_separable_reference: sizes differ or the image is empty");
    for (std::int64_t y = 0; y < in.height; ++y)
        for (std::int64_t x = 0; x < in.width; ++x) {
            double s = 0.0;
            for (std::int64_t j = 0; j <= 2 * h.y_px; ++j) {
                double row = 0.0;
                const std::int64_t sy = border_index(y + h.y_px - j, in.height, border);
                for (std::int64_t i = 0; i <= 2 * h.x_px; ++i)
                    row += static_cast<double>(kernel.taps_x[static_cast<std::size_t>(i)]) *
                           in.at(border_index(x + h.x_px - i, in.width, border), sy);
                s += static_cast<double>(kernel.taps_y[static_cast<std::size_t>(j)]) * row;
            }
            out.at(x, y) = static_cast<float>(s);
        }
}

}  // namespace satiq
