#pragma once
// Shared helpers for the GoogleTest suites.
#include <filesystem>
#include <string>
#include <vector>

#include "satiq/kernels/image.hpp"
#include "satiq/pipeline/io/raster.hpp"

namespace satiq::test {

/// WKT of an EPSG code (throws satiq::Error when PROJ does not know it).
std::string wkt_of_epsg(int epsg);

/// North-up georeferencing in EPSG `epsg` with square pixels of `gsd` CRS units, top-left (x0, y0).
GeoReference north_up(int epsg, double x0, double y0, double gsd);

/// A dark background with bright squares rotated by the given angles (cycled over a grid of
/// cells), Gaussian blur sigma_px integrated exactly over square pixels (synth.hpp's closed
/// form, exact away from the corners). Every square has two edges measuring x and two
/// measuring y, each slanted by its rotation angle.
Image render_rotated_squares(std::int64_t width, std::int64_t height, double cell_px, double side_px,
                             const std::vector<double>& angles_deg, double sigma_px, double dark_dn, double bright_dn);

/// A 240 x 160 UInt16 checkerboard of 10 px squares (100 and 900 DN), north-up in UTM 31N with
/// square pixels of `gsd_m`, written to `path`; returns `path`.
std::filesystem::path write_checkerboard(const std::filesystem::path& path, double gsd_m);
/// A 64 x 64 VRT over samples/tribar.tif in EPSG:32652 with the geotransform `geotransform` as
/// GDAL's VRT text gives it ("x0, dx, rx, y0, ry, dy"; "nan" and "1e30" pass through unchecked),
/// written to `path`; returns `path`. For broken-georeferencing cases GDAL refuses to write.
std::filesystem::path write_vrt_with_geotransform(const std::filesystem::path& path, const std::string& geotransform);
/// ../shared/data/real beside the checkout, or an empty path when the folder is absent.
std::filesystem::path real_data_dir();

/// Skips the current test (GTEST_SKIP in the caller) when this returns false.
bool have_real_data();

/// A fresh, empty temporary folder under the system temp dir, unique to this process and call
/// (satiq_test_TAG_PID_N), removed with everything in it when the object goes out of scope: also
/// when the test fails, an ASSERT returns early or an exception unwinds. SATIQ_KEEP_TEST_DIRS=1 in
/// the environment keeps the folders for inspection. Movable, not copyable.
class TempDir {
public:
    explicit TempDir(const std::string& tag);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;

    const std::filesystem::path& path() const { return path_; }
    operator const std::filesystem::path&() const { return path_; }  // NOLINT(google-explicit-constructor)
    std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }
    std::string string() const { return path_.string(); }

private:
    void remove() noexcept;
    std::filesystem::path path_;
};

/// Runs a shell command; returns its exit status and captures stdout and stderr.
struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};
CommandResult run_command(const std::string& command);

/// Path of the built satiq executable.
std::string satiq_binary();

/// Runs `satiq ARGS` (ARGS already shell-quoted where needed).
CommandResult run_satiq(const std::string& args);

/// The whole file as bytes (empty when it cannot be read).
std::string read_file(const std::filesystem::path& p);

/// The number of entries in a folder (hidden ones included): what a test expects to be left.
int count_entries(const std::filesystem::path& dir);

/// Single-quotes a path for the shell.
std::string shell_quote(const std::filesystem::path& p);

}  // namespace satiq::test
