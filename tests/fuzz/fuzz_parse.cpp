// libFuzzer target: argument and metadata parsing.
//
// The first byte chooses the parser (byte % kModes); the rest is its text. Each parsed value is
// then used the way satiq uses it (a ROI is measured on an edge image, a target is interpreted,
// a task is sized, a manifest is gathered, metadata gives the acquisition and the GSD), so that
// a value the parser lets through but the code after it cannot take is found too.
//
//   0 parse_gsd_pair            (--gsd-m of info, assess, degrade)
//   1 --roi, --band, --seed     (the CLI's own parsers, cli_assess_parsers.cpp) + analyse_edge_rois
//   2 interpret::parse_target   (--target) + interpret_image
//   3 interpret::parse_rule     (--resolution-rule) + interpret_image
//   4 parse_giqe_selection, data_type_from_string
//   5 sensor::find_sensor_preset, interpret::find_target
//   6 parse_gsd_steps           (sweep --gsd-m)
//   7 require::parse_task       (require TASK) + resolve/evaluate
//   8 batch manifest            (--manifest: plain list or CSV)
//   9 batch STAC document       (--stac: Item, ItemCollection, Catalog)
//  10 raster metadata           find_acquisition, compute_gsd, info text/JSON on a RasterInfo
//  11 metadata in a GeoTIFF     TIFFTAG_IMAGEDESCRIPTION + domains, written to /vsimem/, describe_raster
//  12 `satiq predict ARGS`      CLI11 parse of the real command, then its runner (prints only)
//  13 `satiq require ARGS`      idem
//  14 sensor::parse_sensor_presets (a sensors.json document)
//  15 results.jsonl records     parse_records, collect_records, then summary.csv and report.html
//                               (what `satiq report` and `batch --resume` read back)
//
// Metadata lines (modes 10, 11): "gt=a,b,c,d,e,f", "size=W,H", "crs=N" (N indexes a fixed list
// of CRSs), "gcp=pixel,line,x,y,z", "height=H", and "DOMAIN|KEY=VALUE" (domain RPC: the RPCs;
// no '|': the default domain). Arguments (modes 12, 13): one per line.
//
// satiq::Error (and UsageError), CLI11's parse errors and std::bad_alloc are expected outcomes;
// anything else (a crash, a sanitizer report, another exception, a broken invariant below) is a
// finding.
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <tbb/global_control.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "cli_assess_parsers.hpp"
#include "commands.hpp"
#include "satiq/kernels/edges.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/kernels/synth.hpp"
#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/model/interpretability.hpp"
#include "satiq/pipeline/model/interpretation.hpp"
#include "satiq/pipeline/model/require.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/ops/batch.hpp"
#include "satiq/pipeline/ops/batch_run.hpp"
#include "satiq/pipeline/ops/info.hpp"
#include "satiq/pipeline/ops/sweep.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kModes = 16;

// A broken invariant is a finding: say which, and abort (libFuzzer saves the input).
#define FUZZ_CHECK(cond)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            std::fprintf(stderr, "fuzz_parse: invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                                  \
        }                                                                                                  \
    } while (0)

// Output of the CLI runners goes here: formatted, counted, dropped.
class NullBuffer : public std::streambuf {
protected:
    int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

struct Fixture {
    fs::path dir;                      // per-process folder for manifests and STAC documents
    std::vector<std::string> crs_wkt;  // the CRSs "crs=N" picks from
    satiq::Image edge;                 // a slanted edge for the ROIs
};

void write_tiny_tiff(const std::string& path) {
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    if (!drv) return;
    GDALDataset* ds = drv->Create(path.c_str(), 8, 8, 1, GDT_Byte, nullptr);
    if (!ds) return;
    double gt[6] = {500000, 1, 0, 4000000, 0, -1};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(32652);
    ds->SetSpatialRef(&srs);
    GDALClose(ds);
}

const Fixture& fixture() {
    static const Fixture* f = [] {
        CPLSetConfigOption("GDAL_HTTP_PROXY", "127.0.0.1:9");
        CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "1");
        CPLSetConfigOption("GDAL_HTTP_CONNECTTIMEOUT", "1");
        CPLSetConfigOption("GDAL_HTTP_MAX_RETRY", "0");
        CPLSetConfigOption("GDAL_PAM_ENABLED", "NO");
        GDALAllRegister();
        satiq::init_gdal();
        CPLSetErrorHandler(CPLQuietErrorHandler);
        GDALSetCacheMax64(static_cast<GIntBig>(16) << 20);
        auto* fx = new Fixture;
        // Per-process folder: a.tif, sub/b.tif, notes.txt (what a manifest or a STAC href can
        // name; references are confined to it, see confine()).
        std::string tmpl = (fs::temp_directory_path() / "satiq_fuzz_parse_XXXXXX").string();
        if (char* d = mkdtemp(tmpl.data())) fx->dir = d;
        if (!fx->dir.empty()) {
            fs::create_directories(fx->dir / "sub");
            write_tiny_tiff((fx->dir / "a.tif").string());
            write_tiny_tiff((fx->dir / "sub" / "b.tif").string());
            std::ofstream(fx->dir / "notes.txt") << "not a raster\n";
            std::atexit([] {
                std::error_code ec;
                fs::remove_all(fixture().dir, ec);
            });
        }
        for (const char* def : {"EPSG:4326", "EPSG:32652", "EPSG:2263", "EPSG:3857", "EPSG:4258", "ESRI:54009",
                                "EPSG:4978", "EPSG:7405", "EPSG:3413", "IAU_2015:49900"}) {
            OGRSpatialReference srs;
            char* wkt = nullptr;
            const char* opts[] = {"FORMAT=WKT2_2019", nullptr};
            if (srs.SetFromUserInput(def) == OGRERR_NONE && srs.exportToWkt(&wkt, opts) == OGRERR_NONE && wkt)
                fx->crs_wkt.emplace_back(wkt);
            CPLFree(wkt);
        }
        fx->crs_wkt.emplace_back("LOCAL_CS[\"local\",UNIT[\"metre\",1]]");
        fx->crs_wkt.emplace_back("");  // none
        satiq::EdgeTargetParams ep;
        ep.angle_deg = 5.0;
        ep.edge_x_px = 32;
        ep.edge_y_px = 32;
        ep.dark_dn = 20;
        ep.bright_dn = 220;
        ep.sigma_px = 0.6;
        ep.noise_sigma_dn = 1.0;
        fx->edge = satiq::render_edge(ep, 64, 64);
        return fx;
    }();
    return *f;
}

std::vector<std::string> split_lines(std::string_view s) {
    std::vector<std::string> out;
    std::size_t a = 0;
    while (a <= s.size()) {
        const std::size_t b = s.find('\n', a);
        out.emplace_back(s.substr(a, b == std::string_view::npos ? std::string_view::npos : b - a));
        if (b == std::string_view::npos) break;
        a = b + 1;
    }
    return out;
}

std::vector<double> numbers(const std::string& s) {
    std::vector<double> v;
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, ','))
        v.push_back(std::strtod(part.c_str(), nullptr));
    return v;
}

// Keeps manifest and STAC references inside the fixture folder: no '/' or '\' (no absolute path,
// no URL, no /vsicurl/, no JSON escape that would make one) and no "..".
std::string confine(std::string s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '/' || s[i] == '\\') s[i] = '_';
        if (i > 0 && s[i] == '.' && s[i - 1] == '.') s[i] = '_';
    }
    return s;
}

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

satiq::interpret::ImageQuality quality(unsigned k) {
    satiq::interpret::ImageQuality q;
    switch (k % 3) {
        case 0:
            q.niirs = 4.2, q.niirs_sigma = 0.3, q.gsd_m = 1.0, q.rer = 0.5, q.mtf50_cyc_per_px = 0.2;
            break;
        case 1:
            q.niirs = -1.5, q.niirs_sigma = 1.0, q.gsd_m = 100.0;
            break;
        default:
            q.niirs = 9.6, q.niirs_sigma = 0.1, q.gsd_m = 0.05, q.rer = 1.3, q.mtf50_cyc_per_px = 0.45;
            break;
    }
    q.basis = "fuzz";
    return q;
}

void use(const satiq::interpret::Interpretation& it) {
    (void)satiq::interpret::to_text(it);
    (void)satiq::interpret::to_json(it).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Modes 10 and 11: the metadata lines.
struct MetadataSpec {
    satiq::RasterInfo info;
    satiq::GsdOptions gsd;
};

MetadataSpec parse_metadata(std::string_view text) {
    const Fixture& fx = fixture();
    MetadataSpec m;
    m.info.path = "fuzz.tif";
    m.info.driver = "GTiff";
    m.info.width = 64;
    m.info.height = 64;
    m.info.bands.push_back({});
    for (const std::string& line : split_lines(text)) {
        if (line.rfind("gt=", 0) == 0) {
            auto v = numbers(line.substr(3));
            v.resize(6, 0.0);
            m.info.geo.geotransform = std::array<double, 6>{v[0], v[1], v[2], v[3], v[4], v[5]};
        } else if (line.rfind("size=", 0) == 0) {
            auto v = numbers(line.substr(5));
            v.resize(2, 1.0);
            // Raster::open never gives less than 1 x 1, nor more than GDAL's int range.
            for (double& d : v)
                d = std::isfinite(d) ? std::min(std::max(d, 1.0), 2147483647.0) : 1.0;
            m.info.width = static_cast<std::int64_t>(v[0]);
            m.info.height = static_cast<std::int64_t>(v[1]);
        } else if (line.rfind("crs=", 0) == 0) {
            const auto i = static_cast<std::size_t>(std::strtoul(line.c_str() + 4, nullptr, 10));
            m.info.geo.crs_wkt = fx.crs_wkt[i % fx.crs_wkt.size()];
        } else if (line.rfind("gcpcrs=", 0) == 0) {
            const auto i = static_cast<std::size_t>(std::strtoul(line.c_str() + 7, nullptr, 10));
            m.info.geo.gcp_crs_wkt = fx.crs_wkt[i % fx.crs_wkt.size()];
        } else if (line.rfind("gcp=", 0) == 0) {
            auto v = numbers(line.substr(4));
            v.resize(5, 0.0);
            m.info.geo.gcps.push_back({v[0], v[1], v[2], v[3], v[4], std::to_string(m.info.geo.gcps.size())});
        } else if (line.rfind("height=", 0) == 0) {
            m.gsd.height_m = std::strtod(line.c_str() + 7, nullptr);
        } else {
            const auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            const auto bar = line.find('|');
            std::string domain, key;
            if (bar != std::string::npos && bar < eq) {
                domain = line.substr(0, bar);
                key = line.substr(bar + 1, eq - bar - 1);
            } else {
                key = line.substr(0, eq);
            }
            const std::string value = line.substr(eq + 1);
            if (domain == "RPC")
                m.info.geo.rpc[key] = value;
            else
                m.info.metadata[domain][key] = value;
        }
    }
    if (!m.info.geo.gcps.empty() && m.info.geo.gcp_crs_wkt.empty()) m.info.geo.gcp_crs_wkt = fx.crs_wkt[0];
    return m;
}

void check_gsd(const satiq::Gsd& g) {
    FUZZ_CHECK(std::isfinite(g.x_m) && g.x_m > 0);
    FUZZ_CHECK(std::isfinite(g.y_m) && g.y_m > 0);
    FUZZ_CHECK(std::isfinite(g.mean_m) && g.mean_m > 0);
}

// find_acquisition reads what it can and leaves the rest out: it does not fail, and a look angle
// it gives is one.
satiq::Acquisition acquisition_checked(const satiq::RasterInfo& info) {
    satiq::Acquisition a;
    try {
        a = satiq::find_acquisition(info);
    } catch (const satiq::Error& e) {
        std::fprintf(stderr, "fuzz_parse: find_acquisition failed: %s\n", e.what());
        std::abort();
    }
    if (a.look)
        FUZZ_CHECK(std::isfinite(a.look->elevation_deg) && a.look->elevation_deg > 0 && a.look->elevation_deg <= 90);
    return a;
}

void describe_metadata(const MetadataSpec& m) {
    satiq::InfoRecord rec;
    rec.raster = m.info;
    rec.acquisition = acquisition_checked(rec.raster);
    try {
        rec.gsd = satiq::compute_gsd(rec.raster, m.gsd);
        check_gsd(*rec.gsd);
    } catch (const satiq::Error& e) {
        rec.gsd_error = e.what();
    }
    (void)satiq::to_text(rec);
    (void)satiq::to_json(rec).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void metadata_in_geotiff(const MetadataSpec& m, const std::string& text) {
    static std::atomic<unsigned> counter{0};
    const std::string path = "/vsimem/fuzz_parse_md_" + std::to_string(counter++) + ".tif";
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    if (!drv) return;
    GDALDataset* ds = drv->Create(path.c_str(), 16, 16, 1, GDT_Byte, nullptr);
    if (!ds) return;
    ds->SetMetadataItem("TIFFTAG_IMAGEDESCRIPTION", text.c_str());
    for (const auto& [domain, items] : m.info.metadata)
        for (const auto& [k, v] : items)
            if (!k.empty()) ds->SetMetadataItem(k.c_str(), v.c_str(), domain.c_str());
    if (!m.info.geo.rpc.empty()) {
        CPLStringList rpc;
        for (const auto& [k, v] : m.info.geo.rpc)
            if (!k.empty()) rpc.SetNameValue(k.c_str(), v.c_str());
        ds->SetMetadata(rpc.List(), "RPC");
    }
    if (m.info.geo.geotransform) {
        auto gt = *m.info.geo.geotransform;
        ds->SetGeoTransform(gt.data());
    }
    if (!m.info.geo.crs_wkt.empty()) {
        OGRSpatialReference srs;
        if (srs.importFromWkt(m.info.geo.crs_wkt.c_str()) == OGRERR_NONE) ds->SetSpatialRef(&srs);
    }
    GDALClose(ds);
    // Raster::open may refuse the file (a geotransform of zero area): expected. Once it opens,
    // describing it does not fail, whatever its metadata says.
    try {
        const satiq::Raster r = satiq::Raster::open(path);
    } catch (const satiq::Error&) {
        VSIUnlink(path.c_str());
        throw;
    }
    satiq::InfoRecord rec;
    try {
        rec = satiq::describe_raster(path, m.gsd, false);
    } catch (const satiq::Error& e) {
        std::fprintf(stderr, "fuzz_parse: describe_raster failed on a GeoTIFF that opens: %s\n", e.what());
        std::abort();
    }
    VSIUnlink(path.c_str());
    if (rec.gsd) check_gsd(*rec.gsd);
    (void)acquisition_checked(rec.raster);
    (void)satiq::to_text(rec);
    (void)satiq::to_json(rec).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Modes 12, 13: one CLI command, parsed by CLI11 as the satiq binary parses it, then its runner.
void run_cli(void (*add)(CLI::App&, satiq::cli::Runner&), const char* name, std::string_view text) {
    std::vector<std::string> args = {"satiq", name};
    if (!text.empty())
        for (std::string& a : split_lines(text))
            args.push_back(std::move(a));
    if (args.size() > 64) return;  // a command line, not a file
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    CLI::App app{"satiq"};
    app.require_subcommand(1);
    satiq::cli::Runner run;
    add(app, run);
    app.parse(static_cast<int>(argv.size()), argv.data());
    if (!run) return;
    static NullBuffer null;
    std::streambuf* old = std::cout.rdbuf(&null);
    try {
        (void)run();
    } catch (...) {
        std::cout.rdbuf(old);
        throw;
    }
    std::cout.rdbuf(old);
}

void run_mode(int mode, std::string_view text, unsigned variant) {
    const Fixture& fx = fixture();
    const std::string s(text);
    switch (mode) {
        case 0: {
            const auto [x, y] = satiq::parse_gsd_pair(s);
            FUZZ_CHECK(std::isfinite(x) && x > 0 && std::isfinite(y) && y > 0);
            break;
        }
        case 1: {
            const auto lines = split_lines(text);
            std::vector<satiq::EdgeRoi> rois;
            for (std::size_t i = 0; i < lines.size() && i < 4; ++i) {
                if (i == 0) {
                    (void)satiq::fuzz::cli_check_seed(lines[0]);
                    try {
                        (void)satiq::fuzz::cli_parse_band(lines[0]);
                    } catch (const satiq::Error&) {
                    }
                }
                rois.push_back(satiq::fuzz::cli_parse_roi(lines[i]));
            }
            satiq::EdgeSfrParams sfr;
            sfr.gsd_x_m = sfr.gsd_y_m = 0.5;
            sfr.keep_profiles = (variant & 1) != 0;
            const satiq::EdgeAnalysis a = satiq::analyse_edge_rois(fx.edge.view(), {}, rois, sfr);
            FUZZ_CHECK(a.edges.size() == rois.size());
            break;
        }
        case 2: {
            const satiq::interpret::Target t = satiq::interpret::parse_target(text);
            FUZZ_CHECK(std::isfinite(t.length_m) && t.length_m > 0 && std::isfinite(t.width_m) && t.width_m > 0);
            for (auto task : satiq::interpret::all_johnson_tasks)
                (void)satiq::interpret::niirs_for_task(t, task);
            use(satiq::interpret::interpret_image(quality(variant), {t}));
            break;
        }
        case 3: {
            const auto rule = satiq::interpret::parse_rule(text);
            use(satiq::interpret::interpret_image(quality(variant), satiq::interpret::target_catalogue(), rule));
            break;
        }
        case 4: {
            try {
                (void)satiq::parse_giqe_selection(s);
            } catch (const satiq::Error&) {
            }
            const satiq::DataType t = satiq::data_type_from_string(s);
            FUZZ_CHECK(strcasecmp(satiq::to_string(t).c_str(), s.c_str()) == 0);
            break;
        }
        case 5: {
            try {
                const auto& p = satiq::sensor::find_sensor_preset(text);
                (void)p.description.altitude_m;
            } catch (const satiq::Error&) {
            }
            (void)satiq::interpret::find_target(text);
            break;
        }
        case 6: {
            const std::vector<double> steps = satiq::parse_gsd_steps(s);
            FUZZ_CHECK(!steps.empty());
            for (double g : steps)
                FUZZ_CHECK(std::isfinite(g) && g > 0);
            break;
        }
        case 7: {
            const satiq::require::RequireTask task = satiq::require::parse_task(text);
            satiq::require::RequireParams p;
            p.altitude_m = 500e3;
            p.pitch_m = 8e-6;
            const auto c = satiq::require::resolve(p);
            const auto r = satiq::require::evaluate(task, c);
            (void)satiq::require::to_text(r, c);
            (void)satiq::require::to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            break;
        }
        case 8:
        case 9: {
            if (fx.dir.empty()) return;
            satiq::BatchInputOptions o;
            const fs::path doc = fx.dir / (mode == 8 ? "manifest.csv" : "stac.json");
            write_file(doc, confine(s));
            if (mode == 8)
                o.manifest = doc;
            else
                o.stac = doc;
            if (variant & 1) o.stac_asset = "data";
            const satiq::GatheredInputs g = satiq::gather_batch_inputs(o);
            for (const auto& in : g.inputs) {
                FUZZ_CHECK(!in.path.empty());
                if (in.gsd_m) FUZZ_CHECK(std::isfinite(*in.gsd_m) && *in.gsd_m > 0);
                if (in.elevation_deg) FUZZ_CHECK(*in.elevation_deg > 0 && *in.elevation_deg <= 90);
            }
            std::size_t in_shards = 0;  // the shards cover the list, each path once
            for (int k = 0; k < 7; ++k)
                in_shards += satiq::shard_paths(g, k, 7).size();
            std::set<std::string> all;
            for (const auto& in : g.inputs)
                all.insert(in.path);
            for (const auto& [path, reason] : g.rejected)
                all.insert(path);
            FUZZ_CHECK(in_shards == all.size());
            break;
        }
        case 10:
            describe_metadata(parse_metadata(text));
            break;
        case 11:
            metadata_in_geotiff(parse_metadata(text), s);
            break;
        case 12:
            run_cli(&satiq::cli::add_predict_command, "predict", text);
            break;
        case 13:
            run_cli(&satiq::cli::add_require_command, "require", text);
            break;
        case 14: {
            const auto presets = satiq::sensor::parse_sensor_presets(s);
            for (const auto& p : presets)
                (void)p.description.altitude_m;
            break;
        }
        case 15: {
            satiq::RecordFileCheck check;
            const std::vector<nlohmann::json> records = satiq::parse_records(text, &check);
            std::int64_t lines = 0;
            for (const std::string& l : split_lines(text))
                lines += l.empty() ? 0 : 1;
            FUZZ_CHECK(static_cast<std::int64_t>(records.size()) + check.bad_lines + (check.cut_last_line ? 1 : 0) ==
                       lines);
            FUZZ_CHECK((check.bad_lines > 0) == !check.first_problem.empty());
            if (!fx.dir.empty()) {  // the file reader (line by line) agrees with the text reader
                const fs::path file = fx.dir / "results.jsonl";
                write_file(file, s);
                satiq::RecordFileCheck file_check;
                std::size_t n = 0;
                satiq::for_each_record(
                    file, &file_check, [&](nlohmann::json& r, std::string_view line, std::uint64_t offset) {
                        FUZZ_CHECK(n < records.size() && r == records[n]);
                        FUZZ_CHECK(offset + line.size() < s.size() && s[offset + line.size()] == '\n');
                        FUZZ_CHECK(s.compare(offset, line.size(), line) == 0);
                        ++n;
                    });
                FUZZ_CHECK(n == records.size());
                FUZZ_CHECK(file_check.bad_lines == check.bad_lines &&
                           file_check.first_bad_line == check.first_bad_line &&
                           file_check.cut_last_line == check.cut_last_line);
            }
            for (const auto& r : records) {
                const nlohmann::json& path = satiq::record_field(r, "path");
                FUZZ_CHECK(path.is_string() && !path.get<std::string>().empty());
            }
            std::istringstream in(s);
            std::istream* streams[] = {&in};
            const std::filesystem::path name = "results.jsonl";
            satiq::RecordCollection collected = satiq::collect_records(streams, std::span(&name, 1));
            FUZZ_CHECK(collected.latest.size() <= records.size() && (records.empty() || !collected.latest.empty()));
            FUZZ_CHECK(collected.warnings.size() == ((check.bad_lines > 0 || check.cut_last_line) ? 1u : 0u));
            for (const auto& [key, kept] : collected.latest)  // the kept line is that record's
                FUZZ_CHECK(kept.offset + kept.length < s.size() && s[kept.offset + kept.length] == '\n');
            const std::vector<satiq::RecordRow> rows = collected.take_rows();
            (void)satiq::batch_summary_csv(rows, collected.sets);
            const std::string html = satiq::batch_report_html(rows, collected.sets, "fuzz");
            FUZZ_CHECK(html.find("</html>") != std::string::npos);
            (void)check.message("results.jsonl");
            break;
        }
        default:
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)fixture();
    static tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    if (size < 1) return 0;
    if (size > 8192) return -1;  // arguments and metadata are short
    const int mode = data[0] % kModes;
    const unsigned variant = data[0] / kModes;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    static const bool verbose = std::getenv("SATIQ_FUZZ_VERBOSE") != nullptr;
    try {
        run_mode(mode, text, variant);
        if (verbose) std::fprintf(stderr, "  mode %d: ok\n", mode);
    } catch (const satiq::Error& e) {
        // refused with a message: the expected outcome
        if (verbose) std::fprintf(stderr, "  mode %d: satiq::Error: %s\n", mode, e.what());
    } catch (const CLI::Error& e) {
        // CLI11's parse errors (exit 2 in satiq), --help
        if (verbose) std::fprintf(stderr, "  mode %d: CLI::Error: %s\n", mode, e.what());
    } catch (const std::bad_alloc&) {
        if (verbose) std::fprintf(stderr, "  mode %d: std::bad_alloc\n", mode);
    }
    return 0;
}
