#include "satiq/pipeline/io/raster.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi_error.h>
#include <gdal_priv.h>
#include <sys/stat.h>

#include "raster_detail.hpp"
#include "satiq/pipeline/io/interrupt.hpp"

namespace fs = std::filesystem;

namespace satiq {

using detail::DatasetPtr;
using detail::entry;
using detail::fail;
using detail::from_gdal;
using detail::kTypes;

namespace {

std::map<std::string, std::string> string_list_to_map(char** list) {
    std::map<std::string, std::string> out;
    for (char** p = list; p && *p; ++p) {
        char* key = nullptr;
        const char* value = CPLParseNameValue(*p, &key);
        if (key) {
            out[key] = value ? value : "";
            CPLFree(key);
        }
    }
    return out;
}

// A GeoTIFF whose pixel data was cut off still opens (its header is intact); GDAL only fails
// when the missing block is read. Check every block's byte range against the file size up front
// so `info` and every later command report the damage at once.
void check_tiff_blocks(GDALDataset& ds, const fs::path& path) {
    std::error_code ec;
    const auto file_size = fs::file_size(path, ec);
    if (ec) return;
    GDALRasterBand* band = ds.GetRasterBand(1);
    int bx = 0, by = 0;
    band->GetBlockSize(&bx, &by);
    if (bx <= 0 || by <= 0) return;
    const std::int64_t nbx = (ds.GetRasterXSize() + bx - 1) / bx;
    const std::int64_t nby = (ds.GetRasterYSize() + by - 1) / by;
    if (nbx * nby > 200000) return;  // metadata look-ups stay cheap below this
    for (int b = 1; b <= ds.GetRasterCount(); ++b) {
        GDALRasterBand* rb = ds.GetRasterBand(b);
        for (std::int64_t j = 0; j < nby; ++j)
            for (std::int64_t i = 0; i < nbx; ++i) {
                const std::string key = fmt::format("_{}_{}", i, j);
                const char* off = rb->GetMetadataItem(("BLOCK_OFFSET" + key).c_str(), "TIFF");
                const char* size = rb->GetMetadataItem(("BLOCK_SIZE" + key).c_str(), "TIFF");
                if (!off || !size) continue;  // sparse block: reads as nodata/zero
                const unsigned long long end = std::strtoull(off, nullptr, 10) + std::strtoull(size, nullptr, 10);
                if (end > file_size)
                    throw Error(
                        fmt::format("{}: truncated file: block {},{} of band {} ends at byte {} but the file "
                                    "has {} bytes",
                                    path.string(), i, j, b, end, file_size));
            }
        // Pixel-interleaved files share blocks across bands.
        const char* interleave = ds.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE");
        if (interleave && std::string(interleave) == "PIXEL") break;
    }
}

}  // namespace

std::string to_string(DataType t) {
    return entry(t).name;
}

DataType data_type_from_string(const std::string& name) {
    for (const auto& e : kTypes)
        if (EQUAL(e.name, name.c_str())) return e.type;
    throw Error(
        fmt::format("unknown data type '{}' (use Byte, UInt16, Int16, UInt32, Int32, Float32 or Float64)", name));
}

int data_type_bits(DataType t) {
    return entry(t).bits;
}

std::string last_gdal_error() {
    const char* msg = CPLGetLastErrorMsg();
    if (!msg || !*msg) return "unknown GDAL error";
    std::string s(msg);
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}

bool is_vsi_path(const fs::path& path) {
    return path.native().rfind("/vsi", 0) == 0;
}

void init_gdal() {
    static std::once_flag once;
    std::call_once(once, [] {
        GDALAllRegister();
        // Messages reach the caller as exceptions; nothing is printed by the library.
        CPLSetErrorHandler(CPLQuietErrorHandler);
        // Don't scan the folder for sidecar files on every open.
        CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
        // GDAL's block cache defaults to 5 % of RAM; streaming needs little of it, and a bounded
        // cache keeps the memory of `degrade` bounded whatever the image size. GDAL_CACHEMAX in
        // the environment still wins.
        if (!CPLGetConfigOption("GDAL_CACHEMAX", nullptr)) GDALSetCacheMax64(static_cast<GIntBig>(192) << 20);
        // Network virtual paths (/vsicurl/, /vsis3/, ...) must not hang a batch: 60 s per request,
        // two retries. The environment still wins.
        if (!CPLGetConfigOption("GDAL_HTTP_TIMEOUT", nullptr)) CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "60");
        if (!CPLGetConfigOption("GDAL_HTTP_CONNECTTIMEOUT", nullptr))
            CPLSetConfigOption("GDAL_HTTP_CONNECTTIMEOUT", "20");
        if (!CPLGetConfigOption("GDAL_HTTP_MAX_RETRY", nullptr)) CPLSetConfigOption("GDAL_HTTP_MAX_RETRY", "2");
    });
}

struct Raster::Impl {
    DatasetPtr ds;
};

Raster::Raster(Raster&&) noexcept = default;
Raster& Raster::operator=(Raster&&) noexcept = default;
Raster::~Raster() = default;

namespace {

// Why VSIStatL failed on a virtual path, in GDAL's words; empty when GDAL gave none (the file
// is absent). A cloud file system records its own error (/vsis3/ without credentials: how to set
// them), /vsicurl/ an HTTP status (0: the server did not answer). Both error states are per
// thread in GDAL, so images opened at once do not mix their reasons.
std::string vsi_stat_reason() {
    if (VSIGetLastErrorNo() != VSIE_None && *VSIGetLastErrorMsg() != '\0')
        return fmt::format("cannot be read: {}", VSIGetLastErrorMsg());
    if (CPLGetLastErrorNo() != CPLE_None && *CPLGetLastErrorMsg() != '\0')
        return fmt::format("no such file, or not reachable ({})", CPLGetLastErrorMsg());
    return {};
}

// The checks every input passes before GDAL sees it, then the dataset: a GDAL virtual path must
// exist and not be a folder; a local path must be a non-empty regular file (a FIFO, device or
// socket is never opened). Throws satiq::Error "<path>: <reason>".
DatasetPtr open_checked(const fs::path& path) {
    init_gdal();
    std::error_code ec;
    if (is_vsi_path(path)) {
        // GDAL virtual paths (/vsizip/, /vsicurl/, /vsimem/, ...) go to GDAL unchanged.
        VSIStatBufL st;
        CPLErrorReset();
        VSIErrorReset();
        int stat = VSIStatL(path.c_str(), &st);
        if (stat != 0 && vsi_stat_reason().empty()) {
            // The network file systems cache a failed stat silently (a batch plans its memory
            // from a first open): ask again, so that the reason is the server's, not the cache's.
            VSICurlPartialClearCache(path.c_str());
            stat = VSIStatL(path.c_str(), &st);
        }
        if (stat != 0) {
            const std::string why = vsi_stat_reason();
            throw Error(fmt::format("{}: {}", path.string(), why.empty() ? "no such file" : why));
        }
        if (VSI_ISDIR(st.st_mode)) throw Error(fmt::format("{}: is a directory, not a raster file", path.string()));
    } else {
        const auto status = fs::status(path, ec);
        if (ec || !fs::exists(status)) throw Error(fmt::format("{}: no such file", path.string()));
        if (fs::is_directory(status)) throw Error(fmt::format("{}: is a directory, not a raster file", path.string()));
        // A FIFO, device or socket is never opened: a FIFO would block until a writer comes.
        if (!fs::is_regular_file(status))
            throw Error(fmt::format("{}: not a regular file (a FIFO, device or socket)", path.string()));
        if (fs::file_size(path, ec) == 0) throw Error(fmt::format("{}: empty file", path.string()));
    }

    // The folder is not listed (GDAL_DISABLE_READDIR_ON_OPEN above), so the sidecars GDAL looks
    // for are named here when they exist: georeferencing (below), and the vendor metadata
    // sidecars GDAL's metadata readers look for: DigitalGlobe /
    // Maxar <stem>.IMD, .RPB, .XML, _RPC.TXT, .TIL (GDALMDReaderDigitalGlobe, ...RPC), and
    // Airbus DIMAP DIM_<name>.XML / RPC_<name>.XML for IMG_<name>[_RnCm].TIF
    // (GDALMDReaderPleiades). Without any, GDAL sees an empty folder as before.
    CPLStringList siblings;
    {
        const std::string stem = path.stem().string();
        std::vector<std::string> names;
        for (const char* ext : {".IMD", ".imd", ".RPB", ".rpb", ".XML", ".xml", "_RPC.TXT", "_rpc.txt", ".TIL", ".til"})
            names.push_back(stem + ext);
        if (stem.size() > 4 && (stem.compare(0, 4, "IMG_") == 0 || stem.compare(0, 4, "img_") == 0)) {
            std::string rest = stem.substr(4);
            const auto under = rest.rfind('_');
            for (const std::string& n : {rest, under == std::string::npos ? rest : rest.substr(0, under)})
                for (const char* pre : {"DIM_", "RPC_"})
                    names.push_back(pre + n + ".XML");
        }
        // Georeferencing sidecars: GDAL's PAM file <name>.aux.xml (what gdal_translate writes for a
        // format that cannot hold a CRS or geotransform) and the world files GDAL's
        // GDALReadWorldFile2 looks for: <stem>.<first and last letter of the extension>w
        // (.tfw, .jgw, .pgw), <stem>.<extension>w (.tifw) and <stem>.wld, either case.
        names.push_back(path.filename().string() + ".aux.xml");
        std::string ext = path.extension().string();
        if (ext.size() > 1) ext.erase(0, 1);
        std::vector<std::string> world;
        if (!ext.empty()) world = {std::string{ext.front(), ext.back(), 'w'}, ext + "w"};
        world.emplace_back("wld");
        for (const std::string& w : world) {
            std::string lower = w, upper = w;
            for (char& c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            for (char& c : upper)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            for (const std::string* e : {&lower, &upper}) {
                std::string n = stem;
                n.append(1, '.').append(*e);
                names.push_back(std::move(n));
            }
        }
        for (const auto& n : names)
            if (fs::is_regular_file(path.parent_path() / n, ec)) siblings.AddString(n.c_str());
    }
    CPLErrorReset();
    DatasetPtr ds(
        GDALDataset::FromHandle(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                           nullptr, nullptr, siblings.empty() ? nullptr : siblings.List())));
    if (!ds) {
        if (CPLGetLastErrorType() == CE_None || CPLGetLastErrorNo() == CPLE_OpenFailed)
            throw Error(fmt::format("{}: not a raster format GDAL recognises", path.string()));
        fail(path, "cannot open as a raster");
    }
    if (ds->GetRasterCount() < 1) throw Error(fmt::format("{}: has no raster bands", path.string()));
    if (ds->GetRasterXSize() < 1 || ds->GetRasterYSize() < 1)
        throw Error(fmt::format("{}: raster has zero size", path.string()));
    return ds;
}

}  // namespace

RasterShape Raster::shape(const fs::path& path) {
    const DatasetPtr ds = open_checked(path);
    return {ds->GetRasterXSize(), ds->GetRasterYSize(), ds->GetRasterCount()};
}

Raster Raster::open(const fs::path& path) {
    DatasetPtr ds = open_checked(path);
    Raster r;
    RasterInfo& info = r.m_info;
    info.path = path;
    info.driver = ds->GetDriver() ? ds->GetDriver()->GetDescription() : "";
    info.driver_long = ds->GetDriver() ? (ds->GetDriver()->GetMetadataItem(GDAL_DMD_LONGNAME)
                                              ? ds->GetDriver()->GetMetadataItem(GDAL_DMD_LONGNAME)
                                              : "")
                                       : "";
    info.width = ds->GetRasterXSize();
    info.height = ds->GetRasterYSize();

    for (int b = 1; b <= ds->GetRasterCount(); ++b) {
        GDALRasterBand* band = ds->GetRasterBand(b);
        BandInfo bi;
        bi.type = from_gdal(band->GetRasterDataType(), path.string());
        int has_nodata = 0;
        const double nd = band->GetNoDataValue(&has_nodata);
        if (has_nodata) bi.nodata = nd;
        const int mask_flags = band->GetMaskFlags();
        bi.has_mask = !(mask_flags & GMF_ALL_VALID) && !(mask_flags & GMF_NODATA);
        bi.color_interpretation = GDALGetColorInterpretationName(band->GetColorInterpretation());
        bi.description = band->GetDescription();
        band->GetBlockSize(&bi.block_x, &bi.block_y);
        info.bands.push_back(bi);
    }

    // Georeferencing.
    double gt[6];
    if (ds->GetGeoTransform(gt) == CE_None) {
        const bool is_default = gt[0] == 0 && gt[1] == 1 && gt[2] == 0 && gt[3] == 0 && gt[4] == 0 && gt[5] == 1;
        // A broken geotransform is dropped with the reason: the pixels are still readable, and
        // the GSD then says why it is unknown (GsdOptions::override_m can still give one).
        if (!is_default) {
            if (const double* bad = std::find_if(gt, gt + 6, [](double v) { return !std::isfinite(v); }); bad != gt + 6)
                info.geo.geotransform_problem = fmt::format("the geotransform holds a non-finite value ({})", *bad);
            else if (gt[1] * gt[5] - gt[2] * gt[4] == 0.0)
                info.geo.geotransform_problem = fmt::format(
                    "invalid geotransform: zero pixel size (column and row vectors ({}, {}) and ({}, {}) "
                    "span no area)",
                    gt[1], gt[4], gt[2], gt[5]);
            else
                info.geo.geotransform = std::array<double, 6>{gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]};
        }
    }
    if (const OGRSpatialReference* srs = ds->GetSpatialRef()) {
        char* wkt = nullptr;
        const char* opts[] = {"FORMAT=WKT2_2019", nullptr};
        if (srs->exportToWkt(&wkt, opts) == OGRERR_NONE && wkt) info.geo.crs_wkt = wkt;
        CPLFree(wkt);
    }
    if (ds->GetGCPCount() > 0) {
        const GDAL_GCP* gcps = ds->GetGCPs();
        for (int i = 0; i < ds->GetGCPCount(); ++i)
            info.geo.gcps.push_back({gcps[i].dfGCPPixel, gcps[i].dfGCPLine, gcps[i].dfGCPX, gcps[i].dfGCPY,
                                     gcps[i].dfGCPZ, gcps[i].pszId ? gcps[i].pszId : ""});
        if (const OGRSpatialReference* gsrs = ds->GetGCPSpatialRef()) {
            char* wkt = nullptr;
            if (gsrs->exportToWkt(&wkt) == OGRERR_NONE && wkt) info.geo.gcp_crs_wkt = wkt;
            CPLFree(wkt);
        }
    }
    info.geo.rpc = string_list_to_map(ds->GetMetadata("RPC"));

    // Metadata domains that matter here; XML blobs and subdataset lists are left out.
    char** domains = ds->GetMetadataDomainList();
    for (char** d = domains; d && *d; ++d) {
        const std::string dom = *d;
        if (dom.rfind("xml:", 0) == 0 || dom == "DERIVED_SUBDATASETS" || dom == "SUBDATASETS") continue;
        auto items = string_list_to_map(ds->GetMetadata(dom.c_str()));
        if (!items.empty()) info.metadata[dom] = std::move(items);
    }
    CSLDestroy(domains);

    if (info.driver == "GTiff") check_tiff_blocks(*ds, path);

    r.m_impl = std::make_unique<Impl>();
    r.m_impl->ds = std::move(ds);
    return r;
}

void Raster::read_into(int band, const Window& w, ImageView<float> out) const {
    if (band < 1 || band > band_count())
        throw Error(
            fmt::format("{}: band {} does not exist (the file has {})", m_info.path.string(), band, band_count()));
    if (w.x < 0 || w.y < 0 || w.width < 0 || w.height < 0 || w.x + w.width > m_info.width ||
        w.y + w.height > m_info.height)
        throw Error(fmt::format("{}: window {},{} {}x{} lies outside the {}x{} raster", m_info.path.string(), w.x, w.y,
                                w.width, w.height, m_info.width, m_info.height));
    if (out.width != w.width || out.height != w.height)
        throw Error("Raster::read_into: output view size differs from the window");
    if (w.width == 0 || w.height == 0) return;
    CPLErrorReset();
    GDALRasterBand* rb = m_impl->ds->GetRasterBand(band);
    const CPLErr err =
        rb->RasterIO(GF_Read, static_cast<int>(w.x), static_cast<int>(w.y), static_cast<int>(w.width),
                     static_cast<int>(w.height), out.data, static_cast<int>(w.width), static_cast<int>(w.height),
                     GDT_Float32, sizeof(float), static_cast<GSpacing>(out.stride * sizeof(float)), nullptr);
    if (err != CE_None) fail(m_info.path, fmt::format("read error in band {}", band));
    // GDAL 3.6 has no Int8 type: signed bytes are Byte with PIXELTYPE=SIGNEDBYTE (GDAL's GTiff
    // driver docs), read as 0..255 by RasterIO. Their true values are -128..127.
    if (rb->GetRasterDataType() == GDT_Byte) {
        const char* pt = rb->GetMetadataItem("PIXELTYPE", "IMAGE_STRUCTURE");
        if (pt && EQUAL(pt, "SIGNEDBYTE"))
            for (std::int64_t y = 0; y < w.height; ++y) {
                float* row = out.data + y * out.stride;
                for (std::int64_t x = 0; x < w.width; ++x)
                    if (row[x] > 127.5f) row[x] -= 256.0f;
            }
    }
}

std::vector<std::string> Raster::file_list() const {
    std::vector<std::string> out;
    char** files = m_impl->ds->GetFileList();
    for (char** f = files; f && *f; ++f)
        out.emplace_back(*f);
    CSLDestroy(files);
    return out;
}

Image Raster::read(int band, const Window& w) const {
    Image img(w.width, w.height);
    read_into(band, w, img.view());
    return img;
}

MaskedImage Raster::read_masked(int band, const Window& w) const {
    MaskedImage m;
    m.pixels = read(band, w);
    GDALRasterBand* rb = m_impl->ds->GetRasterBand(band);
    const int flags = rb->GetMaskFlags();
    const bool is_float = m_info.bands[static_cast<std::size_t>(band - 1)].type == DataType::Float32 ||
                          m_info.bands[static_cast<std::size_t>(band - 1)].type == DataType::Float64;
    const std::size_t n = static_cast<std::size_t>(w.width * w.height);
    if (!(flags & GMF_ALL_VALID)) {
        m.mask.resize(n);
        CPLErrorReset();
        if (rb->GetMaskBand()->RasterIO(GF_Read, static_cast<int>(w.x), static_cast<int>(w.y),
                                        static_cast<int>(w.width), static_cast<int>(w.height), m.mask.data(),
                                        static_cast<int>(w.width), static_cast<int>(w.height), GDT_Byte, 0, 0,
                                        nullptr) != CE_None)
            fail(m_info.path, fmt::format("read error in the mask of band {}", band));
        for (auto& v : m.mask)
            v = v != 0;
    }
    if (is_float) {
        const float* p = m.pixels.data();
        for (std::size_t i = 0; i < n; ++i)
            if (!std::isfinite(p[i])) {
                if (m.mask.empty()) m.mask.assign(n, 1);
                m.mask[i] = 0;
            }
    }
    return m;
}

Image Raster::read_decimated(int band, std::int64_t max_side_px) const {
    if (band < 1 || band > band_count())
        throw Error(
            fmt::format("{}: band {} does not exist (the file has {})", m_info.path.string(), band, band_count()));
    const std::int64_t w = m_info.width, h = m_info.height;
    const double f = std::max(
        1.0, static_cast<double>(std::max(w, h)) / static_cast<double>(std::max<std::int64_t>(1, max_side_px)));
    const std::int64_t ow = std::max<std::int64_t>(1, static_cast<std::int64_t>(w / f));
    const std::int64_t oh = std::max<std::int64_t>(1, static_cast<std::int64_t>(h / f));
    Image img(ow, oh);
    std::vector<std::uint8_t> mask;
    GDALRasterBand* rb = m_impl->ds->GetRasterBand(band);
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = GRIORA_NearestNeighbour;
    CPLErrorReset();
    if (rb->RasterIO(GF_Read, 0, 0, static_cast<int>(w), static_cast<int>(h), img.data(), static_cast<int>(ow),
                     static_cast<int>(oh), GDT_Float32, 0, 0, &extra) != CE_None)
        fail(m_info.path, fmt::format("read error in band {}", band));
    if (!(rb->GetMaskFlags() & GMF_ALL_VALID)) {
        mask.resize(static_cast<std::size_t>(ow * oh));
        if (rb->GetMaskBand()->RasterIO(GF_Read, 0, 0, static_cast<int>(w), static_cast<int>(h), mask.data(),
                                        static_cast<int>(ow), static_cast<int>(oh), GDT_Byte, 0, 0, &extra) != CE_None)
            fail(m_info.path, fmt::format("read error in the mask of band {}", band));
        for (std::size_t i = 0; i < mask.size(); ++i)
            if (!mask[i]) img.data()[i] = std::numeric_limits<float>::quiet_NaN();
    }
    return img;
}

std::vector<Window> Raster::block_aligned_windows(std::int64_t target_pixels) const {
    const auto& b = m_info.bands.front();
    const std::int64_t bx = std::max(1, b.block_x), by = std::max(1, b.block_y);
    // Whole blocks per window: grow rows of blocks first (strips), then columns.
    std::int64_t wx = bx, wy = by;
    if (bx >= m_info.width) {
        wx = m_info.width;
        wy = std::max<std::int64_t>(by, (target_pixels / std::max<std::int64_t>(1, wx)) / by * by);
    } else {
        const std::int64_t blocks = std::max<std::int64_t>(1, target_pixels / (bx * by));
        const auto side = static_cast<std::int64_t>(std::max(1.0, std::floor(std::sqrt(static_cast<double>(blocks)))));
        wx = bx * side;
        wy = by * side;
    }
    std::vector<Window> out;
    for (std::int64_t y = 0; y < m_info.height; y += wy)
        for (std::int64_t x = 0; x < m_info.width; x += wx)
            out.push_back({x, y, std::min(wx, m_info.width - x), std::min(wy, m_info.height - y)});
    return out;
}

}  // namespace satiq
