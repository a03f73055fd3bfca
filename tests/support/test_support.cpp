#include "test_support.hpp"

#include <cmath>

#include <ogr_spatialref.h>

#include "satiq/kernels/synth.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace satiq::test {

std::string wkt_of_epsg(int epsg) {
    OGRSpatialReference srs;
    if (srs.importFromEPSG(epsg) != OGRERR_NONE) throw Error("unknown EPSG code " + std::to_string(epsg));
    char* w = nullptr;
    srs.exportToWkt(&w);
    std::string s = w;
    CPLFree(w);
    return s;
}

GeoReference north_up(int epsg, double x0, double y0, double gsd) {
    GeoReference g;
    g.crs_wkt = wkt_of_epsg(epsg);
    g.geotransform = std::array<double, 6>{x0, gsd, 0, y0, 0, -gsd};
    return g;
}

Image render_rotated_squares(std::int64_t width, std::int64_t height, double cell_px, double side_px,
                             const std::vector<double>& angles_deg, double sigma_px, double dark_dn, double bright_dn) {
    Image img(width, height, static_cast<float>(dark_dn));
    const auto nx = static_cast<std::int64_t>(width / cell_px), ny = static_cast<std::int64_t>(height / cell_px);
    std::size_t k = 0;
    for (std::int64_t j = 0; j < ny; ++j)
        for (std::int64_t i = 0; i < nx; ++i, ++k) {
            const double a = angles_deg[k % angles_deg.size()] * M_PI / 180.0;
            const double cx = (i + 0.5) * cell_px, cy = (j + 0.5) * cell_px, s = side_px / 2;
            const auto x0 = static_cast<std::int64_t>(i * cell_px), x1 = static_cast<std::int64_t>((i + 1) * cell_px);
            const auto y0 = static_cast<std::int64_t>(j * cell_px), y1 = static_cast<std::int64_t>((j + 1) * cell_px);
            for (std::int64_t y = y0; y < y1; ++y)
                for (std::int64_t x = x0; x < x1; ++x) {
                    double f = 1;
                    for (int e = 0; e < 4; ++e) {
                        const double mx = std::cos(a + e * M_PI / 2),
                                     my = std::sin(a + e * M_PI / 2);  // outward normal
                        // Bright inside: Phi((s - (P - C).m) / sigma); at the pixel corner (x, y).
                        f *= square_pixel_step_fraction(s - ((x - cx) * mx + (y - cy) * my), -mx, -my, sigma_px);
                    }
                    img.at(x, y) = static_cast<float>(dark_dn + (bright_dn - dark_dn) * f);
                }
        }
    return img;
}

fs::path real_data_dir() {
    if (const char* env = std::getenv("SATIQ_REAL_DATA_DIR"); env && *env) return env;
    return SATIQ_REAL_DATA_DIR;
}

// Every file the tests open under real_data_dir() (test_raster, test_noise_real, test_gsd,
// test_assess, test_effective_resolution_real, test_verdicts, test_degrade, test_cli_info,
// test_cli_sweep, test_cli_assess_outputs). Keep this list in step with those tests: a test that
// opens a file missing here would fail instead of skipping when that one file is absent.
static constexpr const char* real_data_files[] = {
    "pan1.tif", "sample_geotiff.tif", "hro_colorado_rgb_0p15m.tif", "UTM2GTIF.tiff", "l8_B8.tif", "s2_B8A.jp2",
};

bool have_real_data() {
    const fs::path dir = real_data_dir();
    if (dir.empty() || !fs::is_directory(dir)) return false;
    for (const char* name : real_data_files)
        if (!fs::is_regular_file(dir / name)) return false;
    return true;
}

TempDir::TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("satiq_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    remove();
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::move(other.path_);
        other.path_.clear();
    }
    return *this;
}

void TempDir::remove() noexcept {
    if (path_.empty()) return;
    if (const char* keep = std::getenv("SATIQ_KEEP_TEST_DIRS"); keep && std::string(keep) == "1") return;
    std::error_code ec;
    fs::remove_all(path_, ec);  // best effort: a destructor does not throw
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int count_entries(const fs::path& dir) {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
        ++n;
    return n;
}

CommandResult run_command(const std::string& command) {
    const TempDir dir("cmd");
    const std::string full = command + " >" + (dir / "out").string() + " 2>" + (dir / "err").string() + " </dev/null";
    const int status = std::system(full.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(dir / "out");
    r.err = read_file(dir / "err");
    return r;
}

std::string satiq_binary() {
    return SATIQ_BINARY;
}

CommandResult run_satiq(const std::string& args) {
    return run_command(shell_quote(satiq_binary()) + " " + args);
}

std::string shell_quote(const fs::path& p) {
    std::string out = "'";
    for (char c : p.string())
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::filesystem::path write_checkerboard(const std::filesystem::path& path, double gsd_m) {
    Image a(240, 160);
    for (std::int64_t y = 0; y < 160; ++y)
        for (std::int64_t x = 0; x < 240; ++x)
            a.at(x, y) = static_cast<float>(100 + ((x / 10 + y / 10) % 2) * 800);
    WriteOptions o;
    o.type = DataType::UInt16;
    write_raster(path, {a.view()}, north_up(32631, 600000, 5700000, gsd_m), o);
    return path;
}

std::filesystem::path write_vrt_with_geotransform(const std::filesystem::path& path, const std::string& geotransform) {
    const std::string src = (std::filesystem::path(SATIQ_SOURCE_DIR) / "samples" / "tribar.tif").string();
    std::ofstream(path) << "<VRTDataset rasterXSize=\"64\" rasterYSize=\"64\"><SRS>EPSG:32652</SRS><GeoTransform>"
                        << geotransform
                        << "</GeoTransform><VRTRasterBand dataType=\"Byte\" band=\"1\"><SimpleSource>"
                           "<SourceFilename relativeToVRT=\"0\">"
                        << src
                        << "</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>";
    return path;
}

}  // namespace satiq::test
