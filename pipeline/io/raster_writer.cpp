// Writing GeoTIFFs (RasterWriter, write_raster): split from raster.cpp, which reads.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal_priv.h>
#include <sys/stat.h>

#include "raster_detail.hpp"
#include "satiq/pipeline/io/interrupt.hpp"
#include "satiq/pipeline/io/raster.hpp"

namespace fs = std::filesystem;

namespace satiq {

using detail::DatasetPtr;
using detail::entry;
using detail::fail;

// ---------------------------------------------------------------------------------------------
// Writing

namespace {

fs::path temp_name_for(const fs::path& path) {
    static std::atomic<int> counter{0};
    const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    return dir / fmt::format(".{}.satiq-tmp-{}-{}", path.filename().string(), ::getpid(), counter++);
}

// Can a band of `type` hold `v` exactly (a nodata value)? Floating types hold anything; an integer
// type an integer within its range.
bool holds(DataType type, double v) {
    if (type == DataType::Float32 || type == DataType::Float64) return true;
    if (!std::isfinite(v) || v != std::nearbyint(v)) return false;
    switch (type) {
        case DataType::Byte:
            return v >= 0 && v <= 255;
        case DataType::UInt16:
            return v >= 0 && v <= 65535;
        case DataType::Int16:
            return v >= -32768 && v <= 32767;
        case DataType::UInt32:
            return v >= 0 && v <= 4294967295.0;
        case DataType::Int32:
            return v >= -2147483648.0 && v <= 2147483647.0;
        default:
            return true;
    }
}

template <class T>
void convert_row(const float* in, T* out, std::int64_t n, std::optional<double> nodata) {
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
    // A NaN nodata stays NaN in a floating type; an integer type without a nodata it can hold
    // writes 0 (the mask band says which pixels those are).
    const T nd = nodata && (std::is_floating_point_v<T> || std::isfinite(*nodata))
                     ? static_cast<T>(std::clamp(*nodata, lo, hi))
                     : T{0};
    for (std::int64_t i = 0; i < n; ++i) {
        const double v = in[i];
        if (std::isnan(v)) {
            out[i] = nd;
            continue;
        }
        if constexpr (std::is_integral_v<T>)
            out[i] = static_cast<T>(std::clamp(std::nearbyint(v), lo, hi));
        else
            out[i] = static_cast<T>(v);
    }
}

void validate_options(const fs::path& path, const WriteOptions& o) {
    static const char* kCompressions[] = {"DEFLATE", "LZW", "ZSTD", "NONE"};
    if (std::none_of(std::begin(kCompressions), std::end(kCompressions),
                     [&](const char* c) { return EQUAL(c, o.compression.c_str()); }))
        throw Error(
            fmt::format("{}: compression '{}' is not lossless or not supported (use DEFLATE, LZW, ZSTD or NONE)",
                        path.string(), o.compression));
    if (o.tile_size < 16 || o.tile_size % 16 != 0)
        throw Error(fmt::format("{}: tile size {} must be a positive multiple of 16", path.string(), o.tile_size));
}

}  // namespace

struct RasterWriter::Impl {
    fs::path final_path;
    fs::path temp_path;
    DatasetPtr ds;
    WriteOptions options;
    std::int64_t width = 0, height = 0;
    bool committed = false;
    bool masked = false;  ///< NaN pixels go to a per-dataset mask band (WriteOptions::nodata)
    std::vector<std::uint8_t> mask_scratch;
    std::optional<unsigned> existing_mode;  ///< permission bits of the file this replaces
    std::vector<unsigned char> scratch;
    // The temporary files are removed by a SIGINT/SIGTERM/SIGHUP too (interrupt.hpp).
    std::vector<std::unique_ptr<TempFileGuard>> guards;

    void guard(const fs::path& p) { guards.push_back(std::make_unique<TempFileGuard>(p)); }
    void discard() {
        ds.reset();
        if (!temp_path.empty()) {
            std::error_code ec;
            fs::remove(temp_path, ec);
        }
    }
};

RasterWriter::RasterWriter(const fs::path& path, std::int64_t width, std::int64_t height, int bands,
                           const GeoReference& geo, const WriteOptions& options)
    : m_impl(std::make_unique<Impl>()) {
    init_gdal();
    validate_options(path, options);
    if (width < 1 || height < 1 || bands < 1)
        throw Error(
            fmt::format("{}: cannot write an empty raster ({}x{}, {} bands)", path.string(), width, height, bands));
    if (width > std::numeric_limits<int>::max() || height > std::numeric_limits<int>::max())
        throw Error(fmt::format("{}: raster {}x{} is larger than GDAL supports", path.string(), width, height));
    if (!is_vsi_path(path)) {
        std::error_code ec;
        const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
        if (!fs::is_directory(dir, ec))
            throw Error(fmt::format("{}: output folder {} does not exist", path.string(), dir.string()));
        if (fs::is_directory(path, ec)) throw Error(fmt::format("{}: is a directory", path.string()));
    }
    Impl& m = *m_impl;
    m.final_path = path;
    // A device, FIFO, socket or folder is never replaced; a symbolic link is written through
    // (the file it points to is replaced, the link stays); a replaced file keeps its permissions.
    if (!is_vsi_path(path)) {
        const OutputTarget t = resolve_output_target(path);
        m.final_path = t.path;
        m.existing_mode = t.existing_mode;
    }
    // A GDAL in-memory path (/vsimem/) is written in place: there is nothing to protect.
    m.temp_path = is_vsi_path(path) ? path : temp_name_for(m.final_path);
    if (!is_vsi_path(path)) m.guard(m.temp_path);
    m.options = options;
    m.width = width;
    m.height = height;

    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    if (!drv) throw Error("GDAL has no GTiff driver");
    const auto& te = entry(options.type);
    const bool is_float = options.type == DataType::Float32 || options.type == DataType::Float64;
    const double raw_bytes = static_cast<double>(width) * height * bands * (te.bits / 8);
    CPLStringList co;
    co.SetNameValue("TILED", "YES");
    co.SetNameValue("BLOCKXSIZE", std::to_string(options.tile_size).c_str());
    co.SetNameValue("BLOCKYSIZE", std::to_string(options.tile_size).c_str());
    co.SetNameValue("COMPRESS", options.compression.c_str());
    if (!EQUAL(options.compression.c_str(), "NONE"))
        co.SetNameValue("PREDICTOR", is_float ? "3" : "2");  // floating-point / horizontal differencing
    // BigTIFF when the uncompressed payload could reach the 4 GB classic-TIFF limit.
    co.SetNameValue("BIGTIFF", raw_bytes > 3.9e9 ? "YES" : "NO");
    if (bands > 1) co.SetNameValue("INTERLEAVE", "BAND");
    CPLErrorReset();
    m.ds.reset(
        drv->Create(m.temp_path.c_str(), static_cast<int>(width), static_cast<int>(height), bands, te.gdal, co.List()));
    if (!m.ds) {
        m.discard();
        fail(path, "cannot create the output file");
    }
    if (geo.geotransform) {
        double gt[6];
        std::copy(geo.geotransform->begin(), geo.geotransform->end(), gt);
        m.ds->SetGeoTransform(gt);
    }
    if (!geo.crs_wkt.empty()) {
        OGRSpatialReference srs;
        if (srs.importFromWkt(geo.crs_wkt.c_str()) == OGRERR_NONE) m.ds->SetSpatialRef(&srs);
    }
    if (!geo.geotransform && !geo.gcps.empty()) {
        std::vector<GDAL_GCP> g(geo.gcps.size());
        std::vector<std::string> ids(geo.gcps.size());
        for (std::size_t i = 0; i < g.size(); ++i) {
            ids[i] = geo.gcps[i].id.empty() ? std::to_string(i + 1) : geo.gcps[i].id;
            g[i].pszId = ids[i].data();
            g[i].pszInfo = const_cast<char*>("");
            g[i].dfGCPPixel = geo.gcps[i].pixel;
            g[i].dfGCPLine = geo.gcps[i].line;
            g[i].dfGCPX = geo.gcps[i].x;
            g[i].dfGCPY = geo.gcps[i].y;
            g[i].dfGCPZ = geo.gcps[i].z;
        }
        OGRSpatialReference gsrs;
        const bool have = !geo.gcp_crs_wkt.empty() && gsrs.importFromWkt(geo.gcp_crs_wkt.c_str()) == OGRERR_NONE;
        m.ds->SetGCPs(static_cast<int>(g.size()), g.data(), have ? &gsrs : nullptr);
    }
    if (!geo.rpc.empty()) {
        CPLStringList rpc;
        for (const auto& [k, v] : geo.rpc)
            rpc.SetNameValue(k.c_str(), v.c_str());
        m.ds->SetMetadata(rpc.List(), "RPC");
    }
    for (const auto& [k, v] : options.metadata)
        m.ds->SetMetadataItem(k.c_str(), v.c_str());
    const bool nodata_held = options.nodata && holds(options.type, *options.nodata);
    m.masked = !is_float && ((options.nodata && !nodata_held) || (!options.nodata && options.mask_invalid));
    if (m.masked) {
        m.options.nodata.reset();  // NaN pixels: 0 in the band, 0 in the mask
        // Inside the TIFF (GDAL 3.6 would otherwise write a .msk sidecar beside the temporary name).
        const std::string before = CPLGetThreadLocalConfigOption("GDAL_TIFF_INTERNAL_MASK", "");
        CPLSetThreadLocalConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES");
        const CPLErr made = m.ds->CreateMaskBand(GMF_PER_DATASET);
        CPLSetThreadLocalConfigOption("GDAL_TIFF_INTERNAL_MASK", before.empty() ? nullptr : before.c_str());
        if (made != CE_None) {
            m.discard();
            fail(path, "cannot create the nodata mask band");
        }
    }
    for (int b = 1; b <= bands; ++b)
        if (nodata_held) m.ds->GetRasterBand(b)->SetNoDataValue(*options.nodata);
}

RasterWriter::RasterWriter(RasterWriter&&) noexcept = default;
RasterWriter& RasterWriter::operator=(RasterWriter&&) noexcept = default;

RasterWriter::~RasterWriter() {
    if (m_impl && !m_impl->committed) m_impl->discard();
}

void RasterWriter::write(int band, std::int64_t x0, std::int64_t y0, ConstImageView<float> px) {
    Impl& m = *m_impl;
    if (m.committed || !m.ds) throw Error(fmt::format("{}: write after commit", m.final_path.string()));
    if (band < 1 || band > m.ds->GetRasterCount())
        throw Error(fmt::format("{}: band {} out of range", m.final_path.string(), band));
    if (x0 < 0 || y0 < 0 || x0 + px.width > m.width || y0 + px.height > m.height)
        throw Error(fmt::format("{}: tile {},{} {}x{} lies outside the {}x{} output", m.final_path.string(), x0, y0,
                                px.width, px.height, m.width, m.height));
    if (px.empty()) return;
    const auto& te = entry(m.options.type);
    const std::size_t bytes = static_cast<std::size_t>(te.bits / 8);
    m.scratch.resize(static_cast<std::size_t>(px.width * px.height) * bytes);
    for (std::int64_t y = 0; y < px.height; ++y) {
        void* dst = m.scratch.data() + static_cast<std::size_t>(y * px.width) * bytes;
        const float* src = px.row(y);
        switch (m.options.type) {
            case DataType::Byte:
                convert_row(src, static_cast<std::uint8_t*>(dst), px.width, m.options.nodata);
                break;
            case DataType::UInt16:
                convert_row(src, static_cast<std::uint16_t*>(dst), px.width, m.options.nodata);
                break;
            case DataType::Int16:
                convert_row(src, static_cast<std::int16_t*>(dst), px.width, m.options.nodata);
                break;
            case DataType::UInt32:
                convert_row(src, static_cast<std::uint32_t*>(dst), px.width, m.options.nodata);
                break;
            case DataType::Int32:
                convert_row(src, static_cast<std::int32_t*>(dst), px.width, m.options.nodata);
                break;
            case DataType::Float32:
                convert_row(src, static_cast<float*>(dst), px.width, m.options.nodata);
                break;
            case DataType::Float64:
                convert_row(src, static_cast<double*>(dst), px.width, m.options.nodata);
                break;
        }
    }
    CPLErrorReset();
    if (m.ds->GetRasterBand(band)->RasterIO(GF_Write, static_cast<int>(x0), static_cast<int>(y0),
                                            static_cast<int>(px.width), static_cast<int>(px.height), m.scratch.data(),
                                            static_cast<int>(px.width), static_cast<int>(px.height), te.gdal, 0, 0,
                                            nullptr) != CE_None)
        fail(m.final_path, "write error");
    if (m.masked && band == 1) {  // GTiff masks are per dataset: band 1's validity stands for every band
        m.mask_scratch.resize(static_cast<std::size_t>(px.width * px.height));
        for (std::int64_t y = 0; y < px.height; ++y) {
            const float* src = px.row(y);
            std::uint8_t* dst = m.mask_scratch.data() + static_cast<std::size_t>(y * px.width);
            for (std::int64_t x = 0; x < px.width; ++x)
                dst[x] = std::isnan(src[x]) ? 0 : 255;
        }
        if (m.ds->GetRasterBand(1)->GetMaskBand()->RasterIO(
                GF_Write, static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(px.width),
                static_cast<int>(px.height), m.mask_scratch.data(), static_cast<int>(px.width),
                static_cast<int>(px.height), GDT_Byte, 0, 0, nullptr) != CE_None)
            fail(m.final_path, "write error in the nodata mask");
    }
}

void RasterWriter::commit() {
    Impl& m = *m_impl;
    if (m.committed) return;
    CPLErrorReset();
    m.ds->FlushCache(false);
    if (CPLGetLastErrorType() >= CE_Failure) {
        m.discard();
        fail(m.final_path, "write error while flushing");
    }
    fs::path ready = m.temp_path;
    if (m.options.cloud_optimized) {
        // COG: copy the finished tiled GeoTIFF through GDAL's COG driver (overviews, IFDs first).
        GDALDriver* cog = GetGDALDriverManager()->GetDriverByName("COG");
        if (!cog) {
            m.discard();
            throw Error("GDAL has no COG driver");
        }
        const fs::path cog_tmp = temp_name_for(m.final_path);
        m.guard(cog_tmp);
        m.guard(fs::path(cog_tmp.string() + ".ovr.tmp"));  // the COG driver's overview scratch file
        CPLStringList co;
        co.SetNameValue("COMPRESS", m.options.compression.c_str());
        co.SetNameValue("BLOCKSIZE", std::to_string(std::max(m.options.tile_size, 64)).c_str());
        const bool is_float = m.options.type == DataType::Float32 || m.options.type == DataType::Float64;
        if (!EQUAL(m.options.compression.c_str(), "NONE"))
            co.SetNameValue("PREDICTOR", is_float ? "FLOATING_POINT" : "YES");
        co.SetNameValue("BIGTIFF", "IF_SAFER");
        co.SetNameValue("OVERVIEW_RESAMPLING", "AVERAGE");
        DatasetPtr out(cog->CreateCopy(cog_tmp.c_str(), m.ds.get(), FALSE, co.List(), nullptr, nullptr));
        if (!out) {
            std::error_code ec;
            fs::remove(cog_tmp, ec);
            m.discard();
            fail(m.final_path, "cannot write the Cloud Optimized GeoTIFF");
        }
        out.reset();
        m.discard();
        ready = cog_tmp;
        m.temp_path = cog_tmp;
    } else {
        m.ds.reset();  // GDALClose writes the last blocks and the directory
        if (CPLGetLastErrorType() >= CE_Failure) {
            m.discard();
            fail(m.final_path, "write error while closing");
        }
    }
    std::error_code ec;
    if (is_vsi_path(m.final_path)) {
        m.committed = true;
        m.temp_path.clear();
        return;
    }
    if (m.existing_mode) ::chmod(ready.c_str(), static_cast<mode_t>(*m.existing_mode));
    if (const int err = rename_into_place(ready, m.final_path); err != 0) {
        fs::remove(ready, ec);
        throw Error(fmt::format("{}: cannot rename the finished file into place: {}", m.final_path.string(),
                                std::strerror(err)));
    }
    // An .aux.xml left from an earlier file of the same name would override what we wrote.
    fs::remove(fs::path(m.final_path.string() + ".aux.xml"), ec);
    m.committed = true;
    m.temp_path.clear();
    for (auto& g : m.guards)
        g->release();
}

void write_raster(const fs::path& path, const std::vector<ConstImageView<float>>& bands, const GeoReference& geo,
                  const WriteOptions& options) {
    if (bands.empty()) throw Error(fmt::format("{}: nothing to write (no bands)", path.string()));
    for (const auto& b : bands)
        if (b.width != bands.front().width || b.height != bands.front().height)
            throw Error(fmt::format("{}: bands differ in size", path.string()));
    RasterWriter w(path, bands.front().width, bands.front().height, static_cast<int>(bands.size()), geo, options);
    // Write in strips so the type-conversion scratch stays small.
    const std::int64_t strip = std::max<std::int64_t>(options.tile_size, 1);
    for (std::size_t b = 0; b < bands.size(); ++b)
        for (std::int64_t y = 0; y < bands[b].height; y += strip) {
            const std::int64_t h = std::min(strip, bands[b].height - y);
            w.write(static_cast<int>(b + 1), 0, y, bands[b].sub(0, y, bands[b].width, h));
        }
    w.commit();
}

}  // namespace satiq
