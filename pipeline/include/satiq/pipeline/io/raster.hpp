#pragma once
/// Raster input and output through GDAL.
///
/// Any format GDAL reads opens, identified by content (a GeoTIFF named `.jp2` opens as a
/// GeoTIFF). Pixels come out as float images (the one working type of the kernels); every GDAL
/// data type from Byte to Float64 is converted at this boundary. Nodata becomes a mask.
///
/// Writing goes to a temporary name beside the target and is renamed only when complete, so an
/// error or a crash never leaves a half-written file behind.
///
/// Threading: a `Raster` wraps one GDAL dataset handle, which is not thread-safe: use one
/// `Raster` per thread, or read from one thread only.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "satiq/kernels/image.hpp"

namespace satiq {

enum class DataType { Byte, UInt16, Int16, UInt32, Int32, Float32, Float64 };

/// "Byte", "UInt16", ... (GDAL's names). Throws satiq::Error for an unknown name.
std::string to_string(DataType t);
DataType data_type_from_string(const std::string& name);
/// Bits of the type (8 for Byte, 16 for UInt16/Int16, ...).
int data_type_bits(DataType t);

/// A pixel rectangle [x, x+width) x [y, y+height).
struct Window {
    std::int64_t x = 0;
    std::int64_t y = 0;
    std::int64_t width = 0;
    std::int64_t height = 0;
};

/// Georeferencing that travels with the pixels.
struct GeoReference {
    std::string crs_wkt;                                ///< empty when there is none
    std::optional<std::array<double, 6>> geotransform;  ///< GDAL order: x0, dx/dcol, dx/drow, y0, dy/dcol, dy/drow
    /// Ground control points (pixel, line) -> (x, y, z) in `gcp_crs_wkt`; used when there is no geotransform.
    struct Gcp {
        double pixel = 0, line = 0, x = 0, y = 0, z = 0;
        std::string id;
    };
    std::vector<Gcp> gcps;
    std::string gcp_crs_wkt;
    /// RPC metadata domain, key -> value, empty when absent.
    std::map<std::string, std::string> rpc;
    /// Set by Raster::open when the file's geotransform is unusable (a non-finite value, or a
    /// zero pixel area): why, e.g. "invalid geotransform: zero pixel size (...)". `geotransform` is
    /// then absent, so the pixels stay readable and a GSD can still be given (--gsd-m).
    std::string geotransform_problem;
};

struct BandInfo {
    DataType type = DataType::Byte;
    std::optional<double> nodata;
    /// Valid pixels marked by a mask band (an internal or .msk mask, or an alpha band) rather
    /// than a nodata value: GDAL's mask flags are neither "all valid" nor "nodata".
    bool has_mask = false;
    std::string color_interpretation;  ///< GDAL's name: "Gray", "Red", "Undefined", ...
    std::string description;
    int block_x = 0;
    int block_y = 0;
};

struct RasterInfo {
    std::filesystem::path path;
    std::string driver;       ///< GDAL short name, e.g. "GTiff"
    std::string driver_long;  ///< e.g. "GeoTIFF"
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::vector<BandInfo> bands;
    GeoReference geo;
    /// Metadata domains that matter here: "" (default), "IMD", "RPC", "IMAGE_STRUCTURE", ...
    std::map<std::string, std::map<std::string, std::string>> metadata;
};

/// An image band read into float with its validity mask (1 = valid, 0 = nodata or outside).
struct MaskedImage {
    Image pixels;
    std::vector<std::uint8_t> mask;  ///< empty when every pixel is valid
    [[nodiscard]] bool valid(std::int64_t x, std::int64_t y) const {
        return mask.empty() || mask[static_cast<std::size_t>(y * pixels.width() + x)] != 0;
    }
};

/// Size and band count of a raster, without its georeferencing or metadata.
struct RasterShape {
    std::int64_t width = 0, height = 0;
    int bands = 0;
};

/// An open raster. Move-only; closes its dataset on destruction.
class Raster {
public:
    /// Width, height and band count only, after the same checks as open(): much cheaper than
    /// open() (no coordinate system is parsed), for planning memory before the real read.
    static RasterShape shape(const std::filesystem::path& path);

    /// Opens any raster GDAL can read. Throws satiq::Error "<path>: <reason>" when the file is
    /// missing, a directory, empty, not a raster, or unreadable.
    static Raster open(const std::filesystem::path& path);

    Raster(Raster&&) noexcept;
    Raster& operator=(Raster&&) noexcept;
    ~Raster();

    [[nodiscard]] const RasterInfo& info() const { return m_info; }
    [[nodiscard]] std::int64_t width() const { return m_info.width; }
    [[nodiscard]] std::int64_t height() const { return m_info.height; }
    [[nodiscard]] int band_count() const { return static_cast<int>(m_info.bands.size()); }
    /// Every file the dataset reads (GDAL's GetFileList): the file itself, a VRT's sources, sidecars.
    [[nodiscard]] std::vector<std::string> file_list() const;

    /// Reads band `band` (1-based, as GDAL) over `window` into float. Throws on an I/O error or a
    /// window outside the raster.
    [[nodiscard]] Image read(int band, const Window& window) const;
    /// Reads into caller memory (`out` must be window.width x window.height).
    void read_into(int band, const Window& window, ImageView<float> out) const;
    /// Reads with the nodata mask.
    [[nodiscard]] MaskedImage read_masked(int band, const Window& window) const;
    /// Whole band.
    [[nodiscard]] Image read(int band) const { return read(band, {0, 0, m_info.width, m_info.height}); }

    /// The whole band reduced by nearest-neighbour decimation so that neither side exceeds
    /// `max_side_px` (the full band when it already fits): a cheap, deterministic sample for
    /// statistics. Nodata and non-finite pixels are NaN.
    [[nodiscard]] Image read_decimated(int band, std::int64_t max_side_px) const;

    /// Windows aligned to the file's block grid covering the raster, each at most about
    /// `target_pixels` pixels (whole blocks, whole block rows when blocks are strips).
    [[nodiscard]] std::vector<Window> block_aligned_windows(std::int64_t target_pixels) const;

private:
    Raster() = default;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    RasterInfo m_info;
};

struct WriteOptions {
    DataType type = DataType::Float32;
    std::string compression = "DEFLATE";  ///< lossless: DEFLATE, LZW, ZSTD, or NONE
    int tile_size = 256;
    bool cloud_optimized = false;  ///< write a COG (tiled, with overviews, IFDs first)
    /// The value NaN pixels (nodata) are written as. When the output type cannot hold it (NaN or
    /// an infinity, a fraction or a value outside an integer type's range), NaN pixels are
    /// marked in a per-dataset mask band instead (GDAL's internal TIFF mask, 0 = nodata) and
    /// written as 0: no valid-looking pixel stands for nodata.
    std::optional<double> nodata;
    /// NaN pixels may occur without a nodata value (the input's validity came from a mask band):
    /// an integer output marks them in a per-dataset mask band as above.
    bool mask_invalid = false;
    /// Default-domain metadata items to write (e.g. SATIQ_* provenance), key -> value.
    std::map<std::string, std::string> metadata;
    /// Values are rounded to nearest and clamped to the type's range for integer types.
};

/// Streaming GeoTIFF writer: write tiles in any order, then `commit()`. Until commit the data
/// lives under a temporary name; destroying an uncommitted writer deletes it. BigTIFF is chosen
/// automatically when the uncompressed size may exceed 4 GB.
class RasterWriter {
public:
    RasterWriter(const std::filesystem::path& path, std::int64_t width, std::int64_t height, int bands,
                 const GeoReference& geo, const WriteOptions& options);
    RasterWriter(RasterWriter&&) noexcept;
    RasterWriter& operator=(RasterWriter&&) noexcept;
    ~RasterWriter();

    /// Writes `pixels` at (x0, y0) of band `band` (1-based). Thread-compatible, not thread-safe.
    void write(int band, std::int64_t x0, std::int64_t y0, ConstImageView<float> pixels);
    /// Flushes, builds the COG if asked, and renames to the final path.
    void commit();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Writes whole bands in one call (all the same size). Same guarantees as RasterWriter.
void write_raster(const std::filesystem::path& path, const std::vector<ConstImageView<float>>& bands,
                  const GeoReference& geo, const WriteOptions& options);

/// The GDAL error message of the last failed call on this thread, or "unknown GDAL error".
std::string last_gdal_error();

/// Registers GDAL drivers once (thread-safe) and routes GDAL's messages away from stderr.
void init_gdal();
/// A GDAL virtual file system path (/vsimem/, /vsizip/, /vsicurl/, ...), passed to GDAL unchanged.
bool is_vsi_path(const std::filesystem::path& path);

}  // namespace satiq
