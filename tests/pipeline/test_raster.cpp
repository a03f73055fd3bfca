#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/info.hpp"
#include "test_support.hpp"

using namespace satiq;
namespace fs = std::filesystem;

namespace {

std::pair<double, double> type_range(DataType t) {
    switch (t) {
        case DataType::Byte:
            return {0, 255};
        case DataType::UInt16:
            return {0, 65535};
        case DataType::Int16:
            return {-32768, 32767};
        case DataType::UInt32:
            return {0, 4294967295.0};
        case DataType::Int32:
            return {-2147483648.0, 2147483647.0};
        default:
            return {-1e6, 1e6};
    }
}

}  // namespace

class RoundTrip : public ::testing::TestWithParam<DataType> {};

TEST_P(RoundTrip, PreservesPixelsCrsGeotransformNodata) {
    const DataType type = GetParam();
    const test::TempDir dir("roundtrip");
    const fs::path path = dir / "out.tif";
    Image a(173, 91), b(173, 91);
    std::mt19937 rng(11);
    auto [lo, hi] = type_range(type);
    // Values a float holds exactly: integers up to 2^24 for 32-bit types.
    const double span_lo = std::max(lo, -16777216.0), span_hi = std::min(hi, 16777216.0);
    std::uniform_real_distribution<double> d(span_lo, span_hi);
    for (auto* img : {&a, &b})
        for (auto& v : img->pixels()) {
            double x = d(rng);
            if (type != DataType::Float32 && type != DataType::Float64) x = std::round(x);
            v = static_cast<float>(x);
        }
    GeoReference geo;
    geo.crs_wkt = test::wkt_of_epsg(32631);
    geo.geotransform = std::array<double, 6>{594000.25, 0.5, 0, 5748000.75, 0, -0.5};
    WriteOptions opt;
    opt.type = type;
    opt.nodata = type == DataType::Byte ? 0.0 : 1.0;
    opt.metadata["SATIQ_TEST"] = "yes";
    write_raster(path, {a.view(), b.view()}, geo, opt);

    Raster r = Raster::open(path);
    ASSERT_EQ(r.width(), 173);
    ASSERT_EQ(r.height(), 91);
    ASSERT_EQ(r.band_count(), 2);
    EXPECT_EQ(r.info().bands[0].type, type);
    ASSERT_TRUE(r.info().bands[1].nodata.has_value());
    EXPECT_EQ(*r.info().bands[1].nodata, *opt.nodata);
    ASSERT_TRUE(r.info().geo.geotransform.has_value());
    EXPECT_EQ(*r.info().geo.geotransform, *geo.geotransform);
    OGRSpatialReference got;
    got.importFromWkt(r.info().geo.crs_wkt.c_str());
    EXPECT_STREQ(got.GetAuthorityCode(nullptr), "32631");
    EXPECT_EQ(r.info().metadata.at("").at("SATIQ_TEST"), "yes");
    EXPECT_EQ(r.info().bands[0].block_x, 256 > 173 ? r.info().bands[0].block_x : 256);
    for (int band = 1; band <= 2; ++band) {
        const Image back = r.read(band);
        const Image& want = band == 1 ? a : b;
        for (std::size_t i = 0; i < want.pixels().size(); ++i)
            ASSERT_EQ(back.pixels()[i], want.pixels()[i]) << i;
    }
    // Nodata becomes a mask.
    const MaskedImage m = r.read_masked(1, {0, 0, 173, 91});
    for (std::int64_t y = 0; y < 91; ++y)
        for (std::int64_t x = 0; x < 173; ++x)
            EXPECT_EQ(m.valid(x, y), a.at(x, y) != static_cast<float>(*opt.nodata));
}

INSTANTIATE_TEST_SUITE_P(AllTypes, RoundTrip,
                         ::testing::Values(DataType::Byte, DataType::UInt16, DataType::Int16, DataType::UInt32,
                                           DataType::Int32, DataType::Float32, DataType::Float64),
                         [](const auto& p) { return to_string(p.param); });

TEST(Raster, WindowedReadsAndBlockAlignedWindows) {
    const test::TempDir dir("window");
    Image a(600, 500);
    for (std::int64_t y = 0; y < 500; ++y)
        for (std::int64_t x = 0; x < 600; ++x)
            a.at(x, y) = static_cast<float>(x + 1000 * (y % 50));
    GeoReference geo;
    write_raster(dir / "w.tif", {a.view()}, geo, {});
    Raster r = Raster::open(dir / "w.tif");
    const Image w = r.read(1, {37, 41, 100, 60});
    for (std::int64_t y = 0; y < 60; ++y)
        for (std::int64_t x = 0; x < 100; ++x)
            ASSERT_EQ(w.at(x, y), a.at(x + 37, y + 41));
    EXPECT_THROW((void)r.read(1, {550, 0, 100, 10}), Error);
    EXPECT_THROW((void)r.read(2, {0, 0, 10, 10}), Error);
    const auto windows = r.block_aligned_windows(256 * 256 * 4);
    std::int64_t covered = 0;
    for (const auto& win : windows) {
        EXPECT_EQ(win.x % 256, 0);
        EXPECT_EQ(win.y % 256, 0);
        covered += win.width * win.height;
    }
    EXPECT_EQ(covered, 600 * 500);
}

TEST(Raster, IntegerOutputRoundsAndClamps) {
    const test::TempDir dir("clamp");
    Image a(4, 1);
    a.at(0, 0) = -5.f;
    a.at(1, 0) = 2.5f;
    a.at(2, 0) = 3.49f;
    a.at(3, 0) = 300.f;
    WriteOptions opt;
    opt.type = DataType::Byte;
    write_raster(dir / "c.tif", {a.view()}, {}, opt);
    const Image back = Raster::open(dir / "c.tif").read(1);
    EXPECT_EQ(back.at(0, 0), 0.f);
    EXPECT_EQ(back.at(1, 0), 2.f);  // round half to even (nearbyint)
    EXPECT_EQ(back.at(2, 0), 3.f);
    EXPECT_EQ(back.at(3, 0), 255.f);
}

TEST(Raster, UncommittedWriterLeavesNothingBehind) {
    const test::TempDir dir("atomic");
    {
        RasterWriter w(dir / "half.tif", 64, 64, 1, {}, {});
        Image a(64, 32, 1.f);
        w.write(1, 0, 0, a.view());
        // destroyed without commit: as after an error mid-way
    }
    EXPECT_TRUE(fs::is_empty(dir)) << "temporary or partial file left behind";
    EXPECT_THROW(RasterWriter(dir / "nofolder" / "x.tif", 8, 8, 1, {}, {}), Error);
    WriteOptions lossy;
    lossy.compression = "JPEG";
    EXPECT_THROW(RasterWriter(dir / "x.tif", 8, 8, 1, {}, lossy), Error);
    EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Raster, CloudOptimizedOption) {
    const test::TempDir dir("cog");
    Image a(700, 650, 7.f);
    GeoReference geo;
    geo.crs_wkt = test::wkt_of_epsg(32616);
    geo.geotransform = std::array<double, 6>{733601, 0.5, 0, 3725139, 0, -0.5};
    WriteOptions opt;
    opt.type = DataType::UInt16;
    opt.cloud_optimized = true;
    opt.nodata = 0;
    write_raster(dir / "cog.tif", {a.view()}, geo, opt);
    Raster r = Raster::open(dir / "cog.tif");
    EXPECT_EQ(r.info().metadata.at("IMAGE_STRUCTURE").at("LAYOUT"), "COG");
    EXPECT_EQ(*r.info().geo.geotransform, *geo.geotransform);
    EXPECT_EQ(r.read(1).at(699, 649), 7.f);
    EXPECT_EQ(test::count_entries(dir), 1) << "intermediate files left behind";
}

TEST(Raster, OpenErrorsNameTheFileAndReason) {
    const test::TempDir dir("bad");
    auto expect_error = [](const fs::path& p, const std::string& reason) {
        try {
            (void)Raster::open(p);
            ADD_FAILURE() << "no error for " << p;
        } catch (const Error& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
            EXPECT_NE(msg.find(reason), std::string::npos) << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << "error is not one line: " << msg;
        }
    };
    expect_error(dir / "missing.tif", "no such file");
    expect_error(dir, "is a directory");
    std::ofstream(dir / "empty.tif").close();
    expect_error(dir / "empty.tif", "empty file");
    std::ofstream(dir / "text.tif") << "this is not an image\n";
    expect_error(dir / "text.tif", "not a raster");
    // A truncated GeoTIFF: write a valid one, then cut it.
    Image a(512, 512);
    for (std::size_t i = 0; i < a.pixels().size(); ++i)
        a.pixels()[i] = static_cast<float>((i * 7919) % 65521);
    WriteOptions opt;
    opt.type = DataType::UInt16;
    opt.compression = "NONE";
    write_raster(dir / "full.tif", {a.view()}, {}, opt);
    fs::copy_file(dir / "full.tif", dir / "cut.tif");
    fs::resize_file(dir / "cut.tif", fs::file_size(dir / "full.tif") / 2);
    expect_error(dir / "cut.tif", "truncated");
}

// A GDAL virtual path that cannot be stat'ed says why when GDAL knows: /vsis3/ without
// credentials names them, /vsicurl/ to a closed port says the server did not answer, an absent
// member of a /vsizip/ archive is simply absent. No network is needed: the credentials check comes
// first, and the port is on the loopback.
TEST(Raster, VirtualPathErrorsSayWhyInGdalsWords) {
    const test::TempDir dir("vsi");
    auto message = [](const std::string& p) -> std::string {
        try {
            (void)Raster::open(p);
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    };
    // No credentials anywhere GDAL looks (environment, files, EC2 instance metadata).
    for (const char* key :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
          "AWS_NO_SIGN_REQUEST", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"})
        CPLSetConfigOption(key, nullptr);
    CPLSetConfigOption("CPL_AWS_CREDENTIALS_FILE", (dir / "no_credentials").c_str());
    CPLSetConfigOption("AWS_CONFIG_FILE", (dir / "no_config").c_str());
    CPLSetConfigOption("CPL_AWS_AUTODETECT_EC2", "NO");
    const std::string s3 = message("/vsis3/satiq-test-no-such-bucket/scene.tif");
    EXPECT_NE(s3.find("/vsis3/satiq-test-no-such-bucket/scene.tif: cannot be read: "), std::string::npos) << s3;
    EXPECT_NE(s3.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << s3;
    EXPECT_EQ(s3.find('\n'), std::string::npos) << s3;
    for (const char* key : {"CPL_AWS_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "CPL_AWS_AUTODETECT_EC2"})
        CPLSetConfigOption(key, nullptr);

    // A loopback port nothing listens on: bound, its number read, closed.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    ::close(fd);
    const std::string url = fmt::format("/vsicurl/http://127.0.0.1:{}/scene.tif", ntohs(addr.sin_port));
    // Twice: GDAL caches the failed stat, and a batch opens each input twice (plan, then read).
    for (int attempt = 0; attempt < 2; ++attempt) {
        const std::string curl = message(url);
        EXPECT_NE(curl.find(url + ": no such file, or not reachable ("), std::string::npos) << attempt << ": " << curl;
    }

    const std::string zip = message("/vsizip/" + (dir / "absent.zip").string() + "/scene.tif");
    EXPECT_NE(zip.find("absent.zip/scene.tif: no such file"), std::string::npos) << zip;
    EXPECT_EQ(zip.find("reachable"), std::string::npos) << zip;
}

TEST(RealData, OpensByContentAndReportsNodata) {
    if (!test::have_real_data()) GTEST_SKIP() << "../shared/data/real is absent";
    const fs::path d = test::real_data_dir();
    Raster jp2 = Raster::open(d / "s2_B8A.jp2");
    EXPECT_EQ(jp2.info().driver, "GTiff");
    Raster s = Raster::open(d / "sample_geotiff.tif");
    ASSERT_TRUE(s.info().bands[0].nodata.has_value());
    EXPECT_EQ(*s.info().bands[0].nodata, 0.0);
    const MaskedImage m = s.read_masked(1, {0, 0, 50, 50});
    EXPECT_FALSE(m.mask.empty());
    Raster rgb = Raster::open(d / "hro_colorado_rgb_0p15m.tif");
    EXPECT_EQ(rgb.band_count(), 3);
    EXPECT_EQ(rgb.info().bands[0].type, DataType::Byte);
}

// A FIFO is refused at once, never opened (an open would block until a writer comes).
TEST(Raster, FifoInputIsRefusedWithoutBlocking) {
    const test::TempDir dir("fifo");
    const fs::path fifo = dir / "pipe.tif";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    try {
        (void)Raster::open(fifo);
        ADD_FAILURE() << "a FIFO was opened";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
}

// GDAL 3.6 signed bytes (Byte with PIXELTYPE=SIGNEDBYTE) are read with their true values.
TEST(Raster, SignedByteReadsNegativeValues) {
    const test::TempDir dir("int8");
    const fs::path path = dir / "s8.tif";
    init_gdal();
    {
        char** opts = CSLSetNameValue(nullptr, "PIXELTYPE", "SIGNEDBYTE");
        GDALDataset* ds =
            GetGDALDriverManager()->GetDriverByName("GTiff")->Create(path.c_str(), 4, 1, 1, GDT_Byte, opts);
        CSLDestroy(opts);
        ASSERT_NE(ds, nullptr);
        unsigned char raw[4] = {0x80, 0xFF, 0x7F, 0x00};  // -128, -1, 127, 0 as two's complement
        ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, 4, 1, raw, 4, 1, GDT_Byte, 0, 0, nullptr), CE_None);
        GDALClose(ds);
    }
    const Image im = Raster::open(path).read(1);
    EXPECT_FLOAT_EQ(im.at(0, 0), -128.0f);
    EXPECT_FLOAT_EQ(im.at(1, 0), -1.0f);
    EXPECT_FLOAT_EQ(im.at(2, 0), 127.0f);
    EXPECT_FLOAT_EQ(im.at(3, 0), 0.0f);
}

// Georeferencing sidecars GDAL reads are read: world files (<stem>.pgw, .PGW, .pngw, .wld) and
// the PAM file <name>.aux.xml. The folder is not listed on open (GDAL_DISABLE_READDIR_ON_OPEN),
// so before they were named to GDAL none of them was seen: a PNG with its world file read as
// "no georeferencing".
TEST(Raster, WorldFilesAndAuxXmlGeoreferenceAnImage) {
    const test::TempDir dir("sidecars");
    init_gdal();
    auto make_png = [&](const fs::path& path) {
        GDALDataset* mem = GetGDALDriverManager()->GetDriverByName("MEM")->Create("", 8, 8, 1, GDT_Byte, nullptr);
        ASSERT_NE(mem, nullptr);
        GDALDataset* png = GetGDALDriverManager()->GetDriverByName("PNG")->CreateCopy(path.c_str(), mem, FALSE, nullptr,
                                                                                      nullptr, nullptr);
        ASSERT_NE(png, nullptr);
        GDALClose(png);
        GDALClose(mem);
        fs::remove(fs::path(path.string() + ".aux.xml"));
    };
    // A world file gives the centre of the upper-left pixel: the geotransform's origin is half a
    // pixel up and left of it.
    const std::array<double, 6> expected{99.0, 2.0, 0.0, 201.0, 0.0, -2.0};
    for (const char* world : {"a.pgw", "b.PGW", "c.pngw", "d.wld"}) {
        const fs::path png = dir / (fs::path(world).stem().string() + ".png");
        make_png(png);
        EXPECT_FALSE(Raster::open(png).info().geo.geotransform.has_value()) << world;
        std::ofstream(dir / world) << "2\n0\n0\n-2\n100\n200\n";
        const Raster r = Raster::open(png);
        ASSERT_TRUE(r.info().geo.geotransform.has_value()) << world;
        EXPECT_EQ(*r.info().geo.geotransform, expected) << world;
        EXPECT_TRUE(r.info().geo.crs_wkt.empty()) << world;  // a world file has no CRS
    }
    const fs::path png = dir / "e.png";
    make_png(png);
    std::ofstream(png.string() + ".aux.xml")
        << "<PAMDataset>\n  <SRS>EPSG:32633</SRS>\n"
           "  <GeoTransform>500000, 0.5, 0, 4000000, 0, -0.5</GeoTransform>\n</PAMDataset>\n";
    const Raster r = Raster::open(png);
    const RasterInfo& info = r.info();
    ASSERT_TRUE(info.geo.geotransform);
    EXPECT_EQ((*info.geo.geotransform)[1], 0.5);
    EXPECT_FALSE(info.geo.crs_wkt.empty());
    EXPECT_NEAR(compute_gsd(info).mean_m, 0.5, 1e-12);
}
