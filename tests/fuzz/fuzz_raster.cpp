// libFuzzer target: the raster open and read path of `satiq info` and `satiq assess`.
//
// The input is written to a GDAL in-memory file (/vsimem/) and opened by content, as any file
// given to satiq: Raster::open, describe_raster (what `satiq info` prints, as text and JSON),
// a decimated read and the block windows, then assess_file (edges, noise, NIIRS) with a GSD
// override when the raster has none. satiq::Error (and std::bad_alloc) are the expected outcome
// of a malformed file; anything else (a crash, a sanitizer report, another exception) is a
// finding. Built with clang -fsanitize=fuzzer by the fuzz preset (scripts/fuzz.sh), and with the
// plain replay driver (replay_main.cpp) in the normal build, where ctest replays the corpus.
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <tbb/global_control.h>

#include <nlohmann/json.hpp>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/ops/info.hpp"

namespace {

// Above this many pixels assess is skipped, so that one input cannot take seconds. In the fuzz
// build (ASan + UBSan + coverage, one thread) assess takes about 2 s on a 1 Mpx image and more
// than the 10 s timeout on a 2 Mpx one.
constexpr std::int64_t kMaxAssessPixels = 1'000'000;

void init_once() {
    static const bool done = [] {
        // Network and sidecar writes are off: a VRT or a URL in the input must never reach the
        // network, and nothing is written beside any file (GDAL PAM .aux.xml).
        CPLSetConfigOption("GDAL_HTTP_PROXY", "127.0.0.1:9");
        CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "1");
        CPLSetConfigOption("GDAL_HTTP_CONNECTTIMEOUT", "1");
        CPLSetConfigOption("GDAL_HTTP_MAX_RETRY", "0");
        CPLSetConfigOption("GDAL_PAM_ENABLED", "NO");
        CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
        CPLSetConfigOption("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".satiq-fuzz-none");
        GDALAllRegister();
        satiq::init_gdal();  // satiq's own set-up (after ours: it keeps options already set)
        CPLSetErrorHandler(CPLQuietErrorHandler);
        GDALSetCacheMax64(static_cast<GIntBig>(32) << 20);
        return true;
    }();
    (void)done;
}

// Inputs that could make GDAL leave the in-memory file: URLs and virtual file systems (a VRT
// source, a /vsicurl/ path) and device files. Not interesting for satiq, and unsafe to fuzz (the
// HTTP proxy set above stops any network access that gets past this test anyway). Long enough
// patterns that compressed pixel data hardly ever holds one by chance.
bool references_outside(const std::uint8_t* data, std::size_t size) {
    std::string s(reinterpret_cast<const char*>(data), size);
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    for (const char* bad : {"/vsi", "://", "/dev/", "/proc/", "/sys/"})
        if (s.find(bad) != std::string::npos) return true;
    return false;
}

// A broken contract is a finding: say which, and abort (libFuzzer saves the input).
[[noreturn]] void finding(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_raster: %s: %s\n", what, detail.c_str());
    std::abort();
}

void exercise(const std::string& path) {
    // Not a raster GDAL opens (or a type satiq does not read): the expected satiq::Error.
    { const satiq::Raster r = satiq::Raster::open(path); }

    // satiq info: once the file opens, describing it does not fail (a missing GSD goes to
    // gsd_error, metadata satiq cannot use is left out), and a look angle found is one.
    satiq::InfoRecord rec;
    try {
        rec = satiq::describe_raster(path, {}, false);
    } catch (const satiq::Error& e) {
        finding("describe_raster failed on a raster that opens", e.what());
    }
    if (const auto& look = rec.acquisition.look;
        look && !(std::isfinite(look->elevation_deg) && look->elevation_deg > 0 && look->elevation_deg <= 90))
        finding("look elevation outside (0, 90]", std::to_string(look->elevation_deg) + " from " + look->source);
    (void)satiq::to_text(rec);
    (void)satiq::to_json(rec).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);

    const std::int64_t pixels = rec.raster.width * rec.raster.height;
    if (rec.raster.width > kMaxAssessPixels || rec.raster.height > kMaxAssessPixels || pixels > kMaxAssessPixels)
        return;

    // The read paths the other commands use: a decimated sample and block-aligned windows.
    {
        satiq::Raster r = satiq::Raster::open(path);
        (void)r.read_decimated(1, 64);
        const auto windows = r.block_aligned_windows(1 << 16);
        if (!windows.empty()) (void)r.read_masked(r.band_count(), windows.back());
    }

    // satiq assess, with a GSD when the raster gives none.
    satiq::AssessParams params;
    if (!rec.gsd) params.gsd.override_m = std::pair{1.0, 1.0};
    params.giqe = satiq::GiqeSelection::all;
    params.all_bands = rec.raster.bands.size() > 1 && rec.raster.bands.size() <= 4 && pixels <= kMaxAssessPixels / 4;
    satiq::AssessResult result;
    try {
        result = satiq::assess_file(path, params);
    } catch (const satiq::Error& e) {
        // assess.hpp: "Throws satiq::Error (naming the file)": the CLI prints this one line.
        if (std::string(e.what()).find(path) == std::string::npos)
            finding("assess error without the file name", e.what());
        throw;
    }
    (void)satiq::to_text(result, true);
    (void)satiq::to_json(result, true).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    init_once();
    // One thread: the fuzzer runs one input at a time and the machine's cores are shared.
    static tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    if (references_outside(data, size)) return -1;  // -1: not added to the corpus

    static std::atomic<unsigned> counter{0};
    const std::string path = "/vsimem/fuzz_" + std::to_string(counter++) + ".tif";
    // The buffer is not copied nor taken over (bTakeOwnership FALSE): it lives through the call.
    VSILFILE* f = VSIFileFromMemBuffer(path.c_str(), const_cast<GByte*>(data), static_cast<vsi_l_offset>(size), FALSE);
    if (!f) return 0;
    VSIFCloseL(f);
    static const bool verbose = std::getenv("SATIQ_FUZZ_VERBOSE") != nullptr;
    try {
        exercise(path);
        if (verbose) std::fprintf(stderr, "  ok\n");
    } catch (const satiq::Error& e) {
        // a malformed or unusable raster: the expected outcome
        if (verbose) std::fprintf(stderr, "  satiq::Error: %s\n", e.what());
    } catch (const std::bad_alloc&) {
        // a declared size too large to allocate: refused, not a crash
        if (verbose) std::fprintf(stderr, "  std::bad_alloc\n");
    }
    VSIUnlink(path.c_str());
    // Sidecars GDAL may have created in /vsimem/ (an .aux.xml, an .ovr) go too.
    char** left = VSIReadDir("/vsimem/");
    for (char** p = left; p && *p; ++p)
        VSIUnlink((std::string("/vsimem/") + *p).c_str());
    CSLDestroy(left);
    return 0;
}
