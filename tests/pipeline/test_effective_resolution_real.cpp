// Effective-resolution detector on the project's samples and the real images: every image as it
// is must come out properly sampled (factor 1), and every 1.5x, 2x, 3x copy must give its factor
// within 10 % on both axes: copies made by cv::resize (bilinear, cubic a = -0.75, Lanczos-4,
// re-quantized to integers as a product would be stored) and copies made by GDAL as
// gdal_translate -outsize 150%|200%|300% -r bilinear|cubic|lanczos|cubicspline makes them (Keys
// cubic a = -0.5, Lanczos-3, cubic B-spline; the file's data type, so GDAL rounds and clips).
// Measured with the real folder present: 0 of 108 cv::resize copies and 0 of 144 GDAL copies
// outside tolerance, all 12 originals at 1; the test asserts the originals strictly, prints the
// table and allows 0 failures of either kind. Then 2x and 3x copies warped as gdalwarp -r
// bilinear|cubic|lanczos|cubicspline makes them onto a grid shifted by a fraction of a pixel (the
// phase of an orthorectified or reprojected product): 4 of 96 outside, allowed 4.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gdal.h>
#include <gdal_utils.h>
#include <opencv2/imgproc.hpp>

#include "satiq/kernels/effective_resolution.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;

namespace {

struct Loaded {
    std::string name;
    cv::Mat img;   // CV_32F
    cv::Mat mask;  // CV_8U, empty when all valid
};

Loaded load(const fs::path& p) {
    Raster r = Raster::open(p);
    Loaded L;
    L.name = p.filename().string();
    const auto w = static_cast<int>(r.width()), h = static_cast<int>(r.height());
    if (r.band_count() >= 3) {  // RGB: luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601)
        const Image R = r.read(1), G = r.read(2), B = r.read(3);
        L.img.create(h, w, CV_32F);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                L.img.at<float>(y, x) = std::nearbyint(0.299f * R.at(x, y) + 0.587f * G.at(x, y) + 0.114f * B.at(x, y));
        return L;
    }
    MaskedImage m = r.read_masked(1, {0, 0, r.width(), r.height()});
    L.img = cv::Mat(h, w, CV_32F, m.pixels.data()).clone();
    if (!m.mask.empty()) {
        L.mask = cv::Mat(h, w, CV_8U, m.mask.data()).clone();
        L.img.setTo(0.0f, L.mask == 0);
    }
    return L;
}

SamplingEstimate run(const cv::Mat& img, const cv::Mat& mask) {
    ConstImageView<float> v(img.ptr<float>(0), img.cols, img.rows, static_cast<std::int64_t>(img.step1()));
    ConstImageView<std::uint8_t> m;
    if (!mask.empty())
        m = ConstImageView<std::uint8_t>(mask.ptr<std::uint8_t>(0), mask.cols, mask.rows,
                                         static_cast<std::int64_t>(mask.step1()));
    return estimate_sampling(v, m);
}

// Upsampled copy by `k` with cv::resize, rounded to integers (>= 0) as a stored product; the mask
// is the nearest-neighbour copy eroded by the interpolation kernel's reach, so that interpolated
// nodata never counts as valid.
Loaded upsample(const Loaded& L, double k, int interp) {
    Loaded U;
    const cv::Size sz(static_cast<int>(std::lround(L.img.cols * k)), static_cast<int>(std::lround(L.img.rows * k)));
    cv::resize(L.img, U.img, sz, 0, 0, interp);
    for (int y = 0; y < U.img.rows; ++y) {
        auto* r = U.img.ptr<float>(y);
        for (int x = 0; x < U.img.cols; ++x)
            r[x] = std::max(0.0f, std::nearbyint(r[x]));
    }
    if (!L.mask.empty()) {
        cv::resize(L.mask, U.mask, sz, 0, 0, cv::INTER_NEAREST);
        const int reach = static_cast<int>(std::ceil(4.0 * k)) + 1;
        cv::erode(U.mask, U.mask, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * reach + 1, 2 * reach + 1)));
    }
    return U;
}

// The copy a GDAL utility made at `out` (`made`, its error flag `err`), read back through Raster
// like any input, then removed.
Loaded read_back(const fs::path& out, GDALDatasetH made, int err, const char* what, const fs::path& src) {
    if (made == nullptr || err) throw std::runtime_error(std::string(what) + " failed for " + src.string());
    GDALClose(made);
    Loaded U = load(out);
    fs::remove(out);
    return U;
}

// Upsampled copy by `k` made as gdal_translate -outsize <k*100>% <k*100>% -r <method> makes it
// (GDALTranslate, same data type as the file, so GDAL rounds and clips), written to a temporary
// GeoTIFF and read back through Raster like any input. GDAL's kernels differ from cv::resize's:
// cubic is Keys a = -0.5, lanczos is Lanczos-3, cubicspline the cubic B-spline.
Loaded gdal_copy(const fs::path& src, double k, const char* method) {
    GDALAllRegister();
    const fs::path out =
        fs::temp_directory_path() / ("satiq_effres_gdal_" + src.stem().string() + "_" + method + ".tif");
    char pct[32];
    std::snprintf(pct, sizeof pct, "%g%%", 100.0 * k);
    const char* args[] = {"-of", "GTiff", "-outsize", pct, pct, "-r", method, nullptr};
    GDALTranslateOptions* opt = GDALTranslateOptionsNew(const_cast<char**>(args), nullptr);
    GDALDatasetH in = GDALOpen(src.string().c_str(), GA_ReadOnly);
    if (in == nullptr || opt == nullptr) throw std::runtime_error("gdal_copy: cannot open " + src.string());
    int err = 0;
    GDALDatasetH o = GDALTranslate(out.string().c_str(), in, opt, &err);
    GDALTranslateOptionsFree(opt);
    GDALClose(in);
    return read_back(out, o, err, "GDALTranslate", src);
}

// A warped copy as gdalwarp -r <method> -tr <res/k> -te makes it (GDALWarp), onto a grid shifted
// by a fraction of a source pixel (0.3 in x, 0.45 in y) and cut where no whole number of source
// pixels ends: the output's phase is on no quarter-pixel grid and its extent no multiple of k.
// Empty (no name) for an input without a north-up geotransform.
Loaded gdal_warp_copy(const fs::path& src, double k, const char* method) {
    GDALAllRegister();
    GDALDatasetH in = GDALOpen(src.string().c_str(), GA_ReadOnly);
    if (in == nullptr) throw std::runtime_error("gdal_warp_copy: cannot open " + src.string());
    double gt[6];
    if (GDALGetGeoTransform(in, gt) != CE_None || gt[2] != 0.0 || gt[4] != 0.0 || gt[5] >= 0.0 ||
        GDALGetProjectionRef(in)[0] == '\0') {
        GDALClose(in);
        return {};
    }
    const double w = GDALGetRasterXSize(in), h = GDALGetRasterYSize(in);
    const auto text = [](double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%.17g", v);
        return std::string(b);
    };
    const std::string xmin = text(gt[0] + 0.3 * gt[1]), xmax = text(gt[0] + (w - 1.17) * gt[1]);
    const std::string ymax = text(gt[3] + 0.45 * gt[5]), ymin = text(gt[3] + (h - 1.29) * gt[5]);
    const std::string rx = text(gt[1] / k), ry = text(-gt[5] / k);
    const fs::path out =
        fs::temp_directory_path() / ("satiq_effres_warp_" + src.stem().string() + "_" + method + ".tif");
    const char* args[] = {"-of", "GTiff",      "-r",         method,       "-tr",        rx.c_str(),   ry.c_str(),
                          "-te", xmin.c_str(), ymin.c_str(), xmax.c_str(), ymax.c_str(), "-overwrite", nullptr};
    GDALWarpAppOptions* opt = GDALWarpAppOptionsNew(const_cast<char**>(args), nullptr);
    int err = 0;
    GDALDatasetH o = GDALWarp(out.string().c_str(), nullptr, 1, &in, opt, &err);
    GDALWarpAppOptionsFree(opt);
    GDALClose(in);
    return read_back(out, o, err, "GDALWarp", src);
}

std::vector<fs::path> images() {
    std::vector<fs::path> v;
    const fs::path s = fs::path(SATIQ_SOURCE_DIR) / "samples";
    for (const char* n :
         {"airfield_0p25m.tif", "tribar.tif", "edge_3deg_sigma0_16bit.tif", "edge_43deg_sigma0p7_16bit.tif",
          "edge_5deg_sigma0p5_16bit.tif", "edge_8deg_sigma1p0_noise_8bit.tif"})
        v.push_back(s / n);
    if (test::have_real_data()) {
        const fs::path d = test::real_data_dir();
        for (const char* n : {"pan1.tif", "sample_geotiff.tif", "hro_colorado_rgb_0p15m.tif", "UTM2GTIF.tiff",
                              "l8_B8.tif", "s2_B8A.jp2"})
            v.push_back(d / n);
    }
    return v;
}

std::string cell(const SamplingEstimate& e) {
    char b[320];
    std::snprintf(
        b, sizeof b,
        "%4.2f/%4.2f | fit %6.2f/%6.2f %-8s/%-8s segs %2lld/%2lld | ev %6.0f/%6.0f gmin %6.1f/%6.1f coh %4.2f/%4.2f "
        "drop %4.1f/%4.1f",
        e.x.factor, e.y.factor, e.x.fit_noise, e.y.fit_noise, e.x.kernel.empty() ? "-" : e.x.kernel.c_str(),
        e.y.kernel.empty() ? "-" : e.y.kernel.c_str(), static_cast<long long>(e.x.fit_segments),
        static_cast<long long>(e.y.fit_segments), e.x.evidence, e.y.evidence, e.x.group_min, e.y.group_min,
        e.x.coherence, e.y.coherence, e.x.drop_db, e.y.drop_db);
    return b;
}

}  // namespace

TEST(EffectiveResolutionReal, OriginalsNotFlaggedAndUpsampledCopiesMeasured) {
    if (!test::have_real_data()) std::printf("note: ../shared/data/real is absent; samples only\n");
    struct Interp {
        const char* name;
        int code;
    };
    const Interp interps[] = {
        {"linear", cv::INTER_LINEAR}, {"cubic", cv::INTER_CUBIC}, {"lanczos", cv::INTER_LANCZOS4}};
    const double factors[] = {1.5, 2.0, 3.0};
    int failures = 0, upsampled_failures = 0, gdal_failures = 0, warp_failures = 0, cases = 0;
    for (const auto& p : images()) {
        const Loaded L = load(p);
        const SamplingEstimate e0 = run(L.img, L.mask);
        ++cases;
        const bool ok0 = e0.valid && !e0.x.upsampled && !e0.y.upsampled && std::abs(e0.x.factor - 1.0) <= 0.05 &&
                         std::abs(e0.y.factor - 1.0) <= 0.05;
        std::printf("%-36s original        %s %s\n", L.name.c_str(), cell(e0).c_str(), ok0 ? "" : "FAIL");
        EXPECT_TRUE(ok0) << L.name << " original: " << e0.message;
        failures += ok0 ? 0 : 1;
        // One copy at factor k: its estimate within 10 % on both axes, and its line of the table.
        const auto within = [&](const Loaded& U, double k, const std::string& label) {
            const SamplingEstimate e = run(U.img, U.mask);
            ++cases;
            const bool ok = e.valid && std::abs(e.x.factor / k - 1.0) <= 0.10 && std::abs(e.y.factor / k - 1.0) <= 0.10;
            std::printf("%-36s %-16s x%3.1f  %s %s\n", L.name.c_str(), label.c_str(), k, cell(e).c_str(),
                        ok ? "" : "FAIL");
            return ok;
        };
        for (const auto& in : interps)
            for (double k : factors)
                upsampled_failures += within(upsample(L, k, in.code), k, in.name) ? 0 : 1;
        for (const char* method : {"bilinear", "cubic", "lanczos", "cubicspline"})
            for (double k : factors)
                gdal_failures += within(gdal_copy(p, k, method), k, std::string("gdal-") + method) ? 0 : 1;
        for (const char* method : {"bilinear", "cubic", "lanczos", "cubicspline"})
            for (double k : {2.0, 3.0}) {
                const Loaded U = gdal_warp_copy(p, k, method);
                if (U.name.empty()) break;  // not georeferenced north-up
                warp_failures += within(U, k, std::string("warp-") + method) ? 0 : 1;
            }
    }
    std::printf(
        "%d originals flagged, %d cv::resize copies, %d GDAL copies and %d shifted warps outside 10 %% (of %d cases)\n",
        failures, upsampled_failures, gdal_failures, warp_failures, cases);
    // Measured: 0 of 108 cv::resize copies outside tolerance with the real folder present (airfield,
    // pan1, sample_geotiff, hro, UTM2GTIF, l8, s2 and the samples; was 47 before the model fit) and
    // 0 of 144 GDAL copies (before GDAL's kernels were fitted, satiq assess gave 1.5 for the airfield's
    // gdal_translate cubic and lanczos 3x copies).
    constexpr int kAllowedFailures = 0;
    std::printf("allowed upsampled failures: %d\n", kAllowedFailures);
    EXPECT_LE(upsampled_failures, kAllowedFailures);
    constexpr int kAllowedGdalFailures = 0;
    EXPECT_LE(gdal_failures, kAllowedGdalFailures);
    // Shifted warps, measured with the real folder present: 4 of 96 outside, all 3x (two cubic
    // B-spline copies read as 1.5x or 2x: that kernel smooths so much that a smaller factor's model
    // fits nearly as well; two axes of the tri-bar, whose flat bars leave few informative lines). Before the offset was
    // refined between the quarter-pixel grid's points and k fitted beside extent / round(extent / k): 57 (27 on the
    // natural images, most 3x copies read as 1.5x).
    constexpr int kAllowedWarpFailures = 4;
    EXPECT_LE(warp_failures, kAllowedWarpFailures);
}
