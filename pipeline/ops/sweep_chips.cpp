// The sweep's chips (sweep_chips.hpp): windows, display resampling and PNG encoding (GDAL's PNG
// driver through an in-memory file).
#include "sweep_chips.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

#include <cpl_vsi.h>
#include <fmt/format.h>
#include <gdal_priv.h>

#include "satiq/kernels/error.hpp"

namespace satiq {

namespace {

// Band `band` of `r` over `win`, or the Rec. 601 luminance (0.299 R + 0.587 G + 0.114 B, ITU-R
// BT.601) of bands 1-3 when band is 0 and the image has three or more bands, as assess measures.
Image read_gray(const Raster& r, int band, const Window& win) {
    if (band == 0 && r.band_count() >= 3) {
        Image out(win.width, win.height);
        const float w[3] = {0.299f, 0.587f, 0.114f};
        for (int b = 0; b < 3; ++b) {
            const Image im = r.read(b + 1, win);
            for (std::size_t i = 0; i < out.pixels().size(); ++i)
                out.pixels()[i] += w[b] * im.pixels()[i];
        }
        return out;
    }
    return r.read(std::max(1, band), win);
}

// Display pixel d of n over the source span [a, a + len) (source pixel i covers [i, i + 1)): the
// source pixels whose centres fall inside, or the one under the centre when none does.
struct Span {
    std::int64_t i0, i1;
};
std::vector<Span> spans(double a, double len, int n, std::int64_t limit) {
    std::vector<Span> out(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) {
        const double s0 = a + len * d / n, s1 = a + len * (d + 1) / n;
        auto i0 = static_cast<std::int64_t>(std::ceil(s0 - 0.5));
        auto i1 = static_cast<std::int64_t>(std::ceil(s1 - 0.5));
        if (i1 <= i0) {
            i0 = static_cast<std::int64_t>(std::floor(0.5 * (s0 + s1)));
            i1 = i0 + 1;
        }
        out[static_cast<std::size_t>(d)] = {std::clamp<std::int64_t>(i0, 0, limit - 1),
                                            std::clamp<std::int64_t>(i1, 1, limit)};
    }
    return out;
}

std::vector<unsigned char> encode_png(const std::vector<unsigned char>& gray, int n) {
    init_gdal();
    static std::atomic<int> counter{0};
    const std::string name = fmt::format("/vsimem/satiq_chip_{}.png", counter++);
    GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
    GDALDriver* png = GetGDALDriverManager()->GetDriverByName("PNG");
    if (!mem || !png) throw Error("sweep: GDAL lacks the MEM or PNG driver");
    GDALDataset* ds = mem->Create("", n, n, 1, GDT_Byte, nullptr);
    if (!ds) throw Error("sweep: cannot create an in-memory image for a chip");
    if (ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, n, n, const_cast<unsigned char*>(gray.data()), n, n, GDT_Byte, 0,
                                       0, nullptr) != CE_None) {
        GDALClose(ds);
        throw Error("sweep: cannot fill a chip");
    }
    GDALDataset* out = png->CreateCopy(name.c_str(), ds, FALSE, nullptr, nullptr, nullptr);
    GDALClose(ds);
    if (!out) throw Error("sweep: PNG encoding failed: " + last_gdal_error());
    GDALClose(out);
    vsi_l_offset len = 0;
    GByte* buf = VSIGetMemFileBuffer(name.c_str(), &len, FALSE);
    std::vector<unsigned char> bytes(buf, buf + len);
    VSIUnlink(name.c_str());
    VSIUnlink((name + ".aux.xml").c_str());
    return bytes;
}

// Renders the source window [x0, x0 + w) x [y0, y0 + h) (source pixels) of `src`, whose pixel
// (0, 0) is the source's (ox, oy), at n x n with DN lo -> 0 and hi -> 255.
std::vector<unsigned char> render(const Image& src, double ox, double oy, double x0, double y0, double w, double h,
                                  int n, double lo, double hi) {
    const auto sx = spans(x0 - ox, w, n, src.width());
    const auto sy = spans(y0 - oy, h, n, src.height());
    std::vector<unsigned char> out(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
    const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;
    for (int dy = 0; dy < n; ++dy)
        for (int dx = 0; dx < n; ++dx) {
            double sum = 0;
            std::int64_t cnt = 0;
            for (std::int64_t y = sy[static_cast<std::size_t>(dy)].i0; y < sy[static_cast<std::size_t>(dy)].i1; ++y)
                for (std::int64_t x = sx[static_cast<std::size_t>(dx)].i0; x < sx[static_cast<std::size_t>(dx)].i1;
                     ++x) {
                    const float v = src.at(x, y);
                    if (std::isfinite(v)) {
                        sum += v;
                        ++cnt;
                    }
                }
            const double v = cnt ? (sum / static_cast<double>(cnt) - lo) * scale : 0.0;
            out[static_cast<std::size_t>(dy) * static_cast<std::size_t>(n) + static_cast<std::size_t>(dx)] =
                static_cast<unsigned char>(std::clamp(std::lround(v), 0L, 255L));
        }
    return out;
}

// The integer window of `raster` covering [x0, x0 + w) x [y0, y0 + h).
Window covering(double x0, double y0, double w, double h, std::int64_t width, std::int64_t height) {
    const auto ix0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(x0)), 0, width - 1);
    const auto iy0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(y0)), 0, height - 1);
    const auto ix1 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(x0 + w)), ix0 + 1, width);
    const auto iy1 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(y0 + h)), iy0 + 1, height);
    return {ix0, iy0, ix1 - ix0, iy1 - iy0};
}

// The point among `pts` with the most others inside a square of side `side` around it.
std::pair<double, double> densest(const std::vector<std::pair<double, double>>& pts, double side,
                                  std::pair<double, double> fallback) {
    std::size_t best = 0;
    std::pair<double, double> at = fallback;
    for (const auto& a : pts) {
        std::size_t c = 0;
        for (const auto& b : pts)
            c += std::abs(a.first - b.first) <= side / 2 && std::abs(a.second - b.second) <= side / 2;
        if (c > best) {
            best = c;
            at = a;
        }
    }
    return at;
}

}  // namespace

ChipLayout plan_chips(const Raster& input, const AssessResult& a, int display_px, int band) {
    ChipLayout c;
    c.display_px = display_px;
    c.band = band;
    const double W = static_cast<double>(input.width()), H = static_cast<double>(input.height());
    const double gx = a.gsd.x_m > 0 ? a.gsd.x_m : 1.0, gy = a.gsd.y_m > 0 ? a.gsd.y_m : 1.0;
    // Same ground on both axes: a square of side S metres, at most 2 screen px per input px.
    c.ground_m = std::min({W * gx, H * gy, 2.0 * display_px * std::min(gx, gy)});
    c.w = c.ground_m / gx;
    c.h = c.ground_m / gy;
    c.zoom_ground_m = c.ground_m / 4;
    c.zw = c.w / 4;
    c.zh = c.h / 4;
    std::vector<std::pair<double, double>> mids;
    for (const EdgeMeasurement& e : a.edges.edges)
        if (is_usable(e.verdict))
            mids.emplace_back(0.5 * (e.segment.x0_px + e.segment.x1_px), 0.5 * (e.segment.y0_px + e.segment.y1_px));
    auto [cx, cy] = densest(mids, c.w * 0.8, {W / 2, H / 2});
    c.x0 = std::clamp(cx - c.w / 2, 0.0, W - c.w);
    c.y0 = std::clamp(cy - c.h / 2, 0.0, H - c.h);
    std::vector<std::pair<double, double>> inside;
    for (const auto& m : mids)
        if (m.first >= c.x0 && m.first < c.x0 + c.w && m.second >= c.y0 && m.second < c.y0 + c.h) inside.push_back(m);
    auto [zx, zy] = densest(inside, c.zw, {c.x0 + c.w / 2, c.y0 + c.h / 2});
    c.zx0 = std::clamp(zx - c.zw / 2, c.x0, c.x0 + c.w - c.zw);
    c.zy0 = std::clamp(zy - c.zh / 2, c.y0, c.y0 + c.h - c.zh);
    return c;
}

void render_input_chips(const Raster& input, ChipLayout& c, std::vector<unsigned char>& chip_png,
                        std::vector<unsigned char>& zoom_png) {
    const Window win = covering(c.x0, c.y0, c.w, c.h, input.width(), input.height());
    const Image im = read_gray(input, c.band, win);
    std::vector<float> v;
    v.reserve(im.pixels().size());
    for (float x : im.pixels())
        if (std::isfinite(x)) v.push_back(x);
    if (!v.empty()) {  // display stretch: 2nd to 98th percentile
        auto at = [&](double q) {
            auto it = v.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(v.size() - 1));
            std::nth_element(v.begin(), it, v.end());
            return static_cast<double>(*it);
        };
        c.lo_dn = at(0.02);
        c.hi_dn = at(0.98);
        if (c.hi_dn <= c.lo_dn) c.hi_dn = c.lo_dn + 1;
    }
    const auto ox = static_cast<double>(win.x), oy = static_cast<double>(win.y);
    chip_png = encode_png(render(im, ox, oy, c.x0, c.y0, c.w, c.h, c.display_px, c.lo_dn, c.hi_dn), c.display_px);
    zoom_png = encode_png(render(im, ox, oy, c.zx0, c.zy0, c.zw, c.zh, c.display_px, c.lo_dn, c.hi_dn), c.display_px);
}

void render_step_chips(const std::filesystem::path& step_file, const ChipLayout& c, const DegradePlan& plan,
                       std::vector<unsigned char>& chip_png, std::vector<unsigned char>& zoom_png) {
    const Raster r = Raster::open(step_file);
    // Output pixel j covers input pixels [j r, (j + 1) r) on each axis (degrade's grid).
    const double rx = plan.ratio_x, ry = plan.ratio_y;
    const Window win = covering(c.x0 / rx, c.y0 / ry, c.w / rx, c.h / ry, r.width(), r.height());
    const Image im = read_gray(r, c.band, win);
    const auto ox = static_cast<double>(win.x), oy = static_cast<double>(win.y);
    const double lo = c.lo_dn * plan.output_gain, hi = c.hi_dn * plan.output_gain;
    chip_png =
        encode_png(render(im, ox, oy, c.x0 / rx, c.y0 / ry, c.w / rx, c.h / ry, c.display_px, lo, hi), c.display_px);
    zoom_png = encode_png(render(im, ox, oy, c.zx0 / rx, c.zy0 / ry, c.zw / rx, c.zh / ry, c.display_px, lo, hi),
                          c.display_px);
}

}  // namespace satiq
