// Output paths never destroy data: devices, FIFOs and folders are refused, symbolic links are
// written through, an output is never one of the inputs (a VRT's sources included), and a
// replaced file keeps its permissions. Device nodes and FIFOs are made inside a temporary folder.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace fs = std::filesystem;
namespace test = satiq::test;

namespace {

const fs::path kSample = fs::path(SATIQ_SOURCE_DIR) / "samples" / "tribar.tif";

test::CommandResult degrade(const fs::path& in, const fs::path& out) {
    return test::run_satiq("-q degrade " + test::shell_quote(in) + " " + test::shell_quote(out) +
                           " --target-gsd-m 2 --sigma-px 0");
}

}  // namespace

TEST(OutputPaths, DevicesFifosAndFoldersAreRefused) {
    const satiq::test::TempDir dir("out_special");
    const fs::path fifo = dir / "fifo.tif";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto r = degrade(kSample, fifo);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_fifo(fifo));
    r = test::run_satiq("-q assess " + test::shell_quote(kSample) + " --edges-csv " + test::shell_quote(fifo));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_TRUE(fs::is_fifo(fifo));
    // A character device of our own (the numbers of /dev/full), inside the temporary folder.
    const fs::path dev = dir / "full";
    if (::mknod(dev.c_str(), S_IFCHR | 0600, makedev(1, 7)) == 0) {
        r = degrade(kSample, dev);
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("device"), std::string::npos) << r.err;
        EXPECT_TRUE(fs::is_character_file(dev));
        r = test::run_satiq("-q assess " + test::shell_quote(kSample) + " --edges-csv " + test::shell_quote(dev));
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_TRUE(fs::is_character_file(dev));
    }
    fs::create_directory(dir / "folder.tif");
    r = degrade(kSample, dir / "folder.tif");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(fs::is_directory(dir / "folder.tif"));
}

TEST(OutputPaths, SymlinkIsWrittenThroughAndPermissionsKept) {
    const satiq::test::TempDir dir("out_link");
    std::ofstream(dir / "real.tif") << "old";
    fs::permissions(dir / "real.tif", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    fs::create_symlink("real.tif", dir / "link.tif");
    const auto r = degrade(kSample, dir / "link.tif");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::is_symlink(dir / "link.tif"));
    EXPECT_GT(fs::file_size(dir / "real.tif"), 100u);  // the GeoTIFF, through the link
    EXPECT_EQ(fs::status(dir / "real.tif").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    for (const auto& e : fs::directory_iterator(dir))  // no temporary file left
        EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

TEST(OutputPaths, AnOutputIsNeverAnInput) {
    const satiq::test::TempDir dir("out_input");
    fs::copy_file(kSample, dir / "src.tif");
    const std::string before = test::read_file(dir / "src.tif");
    ASSERT_EQ(test::run_command("gdal_translate -q -of VRT " + test::shell_quote(dir / "src.tif") + " " +
                                test::shell_quote(dir / "wrap.vrt"))
                  .exit_code,
              0);
    auto r = degrade(dir / "wrap.vrt", dir / "src.tif");  // the VRT's own source
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("which the input"), std::string::npos) << r.err;
    r = degrade(dir / "src.tif", dir / "src.tif");
    EXPECT_EQ(r.exit_code, 1);
    r = test::run_satiq("-q assess " + test::shell_quote(dir / "src.tif") + " --edges-csv " +
                        test::shell_quote(dir / "src.tif"));
    EXPECT_EQ(r.exit_code, 1);  // as degrade: an output that cannot be used
    EXPECT_NE(r.err.find("output would overwrite the input"), std::string::npos) << r.err;
    // assess's outputs over a file a VRT input reads: --edges-csv, --edges-geojson, and a plot
    // whose name is the source's.
    const std::string vrt = test::shell_quote(dir / "wrap.vrt");
    for (const char* opt : {"--edges-csv", "--edges-geojson"}) {
        r = test::run_satiq("-q assess " + vrt + " " + std::string(opt) + " " + test::shell_quote(dir / "src.tif"));
        EXPECT_EQ(r.exit_code, 1) << opt;
        EXPECT_NE(r.err.find("which the input"), std::string::npos) << opt << r.err;
    }
    fs::create_directories(dir / "plots");
    fs::copy_file(kSample, dir / "plots" / "wrap_esf.svg");  // a raster named like a plot...
    ASSERT_EQ(
        test::run_command("gdal_translate -q -of VRT " + test::shell_quote(dir / "plots" / "wrap_esf.svg") + " " + vrt)
            .exit_code,
        0);  // ... that the VRT reads
    const std::string plot_before = test::read_file(dir / "plots" / "wrap_esf.svg");
    r = test::run_satiq("-q assess " + vrt + " --plots " + test::shell_quote(dir / "plots"));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(test::read_file(dir / "plots" / "wrap_esf.svg"), plot_before);
    EXPECT_EQ(test::read_file(dir / "src.tif"), before);
}

// Two inputs with the same file stem get plots of their own, neither replacing the other's.
TEST(OutputPaths, SameStemInputsKeepTheirOwnPlots) {
    const satiq::test::TempDir dir("out_plots");
    fs::create_directories(dir / "a");
    fs::create_directories(dir / "b");
    const fs::path airfield = fs::path(SATIQ_SOURCE_DIR) / "samples" / "airfield_0p25m.tif";
    ASSERT_EQ(test::run_command("gdal_translate -q -srcwin 0 0 512 512 " + test::shell_quote(airfield) + " " +
                                test::shell_quote(dir / "a" / "x.tif"))
                  .exit_code,
              0);
    ASSERT_EQ(test::run_command("gdal_translate -q -srcwin 512 512 512 512 " + test::shell_quote(airfield) + " " +
                                test::shell_quote(dir / "b" / "x.tif"))
                  .exit_code,
              0);
    const auto r =
        test::run_satiq("-q assess " + test::shell_quote(dir / "a" / "x.tif") + " " +
                        test::shell_quote(dir / "b" / "x.tif") + " --plots " + test::shell_quote(dir / "plots"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* f : {"x_1_esf.svg", "x_1_mtf.svg", "x_2_esf.svg", "x_2_mtf.svg"})
        EXPECT_TRUE(fs::is_regular_file(dir / "plots" / f)) << f;
    EXPECT_NE(test::read_file(dir / "plots" / "x_1_esf.svg"), test::read_file(dir / "plots" / "x_2_esf.svg"));
}
