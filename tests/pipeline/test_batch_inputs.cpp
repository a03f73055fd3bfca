// satiq::gather_batch_inputs and shard_paths: files, folders, globs, virtual paths, manifests (plain
// and CSV), STAC ItemCollections and static catalogs, de-duplication and sharding.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <cpl_vsi.h>
#include <gtest/gtest.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/ops/batch.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using satiq::BatchInput;
using satiq::BatchInputOptions;
using satiq::GatheredInputs;

namespace {

void write_text(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << p;
}

/// A small GeoTIFF at `p` (written once per test folder, then copied: copies are rasters too).
void write_tif(const fs::path& p) {
    fs::create_directories(p.parent_path());
    satiq::test::write_checkerboard(p, 0.5);
}

std::vector<std::string> paths_of(const GatheredInputs& g) {
    std::vector<std::string> out;
    for (const BatchInput& in : g.inputs)
        out.push_back(in.path);
    return out;
}

std::string reason_for(const GatheredInputs& g, const std::string& path) {
    for (const auto& [p, r] : g.rejected)
        if (p == path) return r;
    return "<not rejected>";
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const satiq::Error& e) {
        return e.what();
    }
    return "<no error>";
}

const BatchInput* find_input(const GatheredInputs& g, const std::string& path) {
    for (const BatchInput& in : g.inputs)
        if (in.path == path) return &in;
    return nullptr;
}

/// Restores the working directory on scope exit.
struct CwdGuard {
    fs::path saved = fs::current_path();
    explicit CwdGuard(const fs::path& to) { fs::current_path(to); }
    ~CwdGuard() { fs::current_path(saved); }
    CwdGuard(const CwdGuard&) = delete;
    CwdGuard& operator=(const CwdGuard&) = delete;
};

class BatchInputs : public ::testing::Test {
protected:
    void SetUp() override {
        tmp_.emplace("batch_inputs");
        dir = tmp_->path();
        // data/ a.tif b.tif README.md .hidden.tif a.tif.aux.xml a.ovr (a TIFF) .cache/x.tif
        //       sub/c.tif sub/notes.txt sub/deeper/d.tif
        write_tif(dir / "data" / "a.tif");
        fs::copy_file(dir / "data" / "a.tif", dir / "data" / "b.tif");
        fs::copy_file(dir / "data" / "a.tif", dir / "data" / ".hidden.tif");
        fs::copy_file(dir / "data" / "a.tif", dir / "data" / "a.ovr");  // an overview sidecar is a TIFF
        write_text(dir / "data" / "README.md", "# Scenes\n\nTwo scenes of the test site.\n");
        write_text(dir / "data" / "a.tif.aux.xml", "<PAMDataset>\n</PAMDataset>\n");
        fs::create_directories(dir / "data" / ".cache");
        fs::copy_file(dir / "data" / "a.tif", dir / "data" / ".cache" / "x.tif");
        fs::create_directories(dir / "data" / "sub" / "deeper");
        fs::copy_file(dir / "data" / "a.tif", dir / "data" / "sub" / "c.tif");
        fs::copy_file(dir / "data" / "a.tif", dir / "data" / "sub" / "deeper" / "d.tif");
        write_text(dir / "data" / "sub" / "notes.txt", "taken on a cloudy day\n");
    }
    std::string p(const fs::path& rel) const { return (dir / rel).string(); }

    std::optional<satiq::test::TempDir> tmp_;  // removed when the fixture is destroyed
    fs::path dir;
};

}  // namespace

TEST(BatchInputsVirtual, RecognisesGdalVirtualPaths) {
    for (const char* v : {"/vsizip/x.zip/a.tif", "/vsigzip/a.tif.gz", "/vsitar/a.tar/b.tif",
                          "/vsicurl/https://example.com/a.tif", "/vsis3/bucket/key.tif", "/vsigs/b/k.tif",
                          "/vsiaz/c/k.tif", "/vsimem/a.tif", "/vsizip//abs/x.zip/a.tif", "/vsicurl?url=http://x/a.tif"})
        EXPECT_TRUE(satiq::is_gdal_virtual_path(v)) << v;
    for (const char* v : {"/tmp/a.tif", "vsizip/x.zip/a.tif", "/vsi", "/vsi/", "/vsi_data/a.tif", "a.tif", ""})
        EXPECT_FALSE(satiq::is_gdal_virtual_path(v)) << v;
}

TEST_F(BatchInputs, FolderIsWalkedRecursivelySortedAndFiltered) {
    // A symlinked folder is not followed; a FIFO inside the folder is skipped without opening it.
    fs::create_directory_symlink(dir / "data" / "sub", dir / "data" / "link_to_sub");
    ASSERT_EQ(::mkfifo((dir / "data" / "pipe.tif").c_str(), 0600), 0);

    BatchInputOptions o;
    o.arguments = {p("data")};
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {p("data/a.tif"), p("data/b.tif"), p("data/sub/c.tif"),
                                               p("data/sub/deeper/d.tif")};
    EXPECT_EQ(paths_of(g), expected);
    for (const BatchInput& in : g.inputs)
        EXPECT_EQ(in.source, "folder");
    EXPECT_TRUE(g.duplicates.empty());
    EXPECT_TRUE(g.rejected.empty());
}

TEST_F(BatchInputs, GlobExpandsSortedAndNoMatchIsRejected) {
    BatchInputOptions o;
    o.arguments = {p("data/*.tif"), p("data/sub/*/d.t?f"), p("nothing/*.tif"), p("data/[xyz]*.tif")};
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {p("data/a.tif"), p("data/b.tif"), p("data/sub/deeper/d.tif")};
    EXPECT_EQ(paths_of(g), expected);
    for (const BatchInput& in : g.inputs)
        EXPECT_EQ(in.source, "glob");
    ASSERT_EQ(g.rejected.size(), 2u);
    EXPECT_EQ(reason_for(g, p("nothing/*.tif")), "no file matches");
    EXPECT_EQ(reason_for(g, p("data/[xyz]*.tif")), "no file matches");
}

// "**" as a whole component matches zero or more folders (bash's globstar): the files at the top
// too, not only those one level down as glob(3) alone gave; hidden folders are not entered.
TEST_F(BatchInputs, DoubleStarMatchesAnyDepthIncludingNone) {
    fs::create_directories(dir / "data" / ".hidden");
    std::ofstream(dir / "data" / ".hidden" / "h.tif") << "x";
    std::ofstream(dir / "data" / "sub" / "[odd].tif") << "x";
    BatchInputOptions o;
    o.arguments = {p("data/**/*.tif")};
    GatheredInputs g = satiq::gather_batch_inputs(o);
    std::vector<std::string> expected = {p("data/a.tif"), p("data/b.tif"), p("data/sub/[odd].tif"), p("data/sub/c.tif"),
                                         p("data/sub/deeper/d.tif")};
    EXPECT_EQ(paths_of(g), expected);
    EXPECT_TRUE(g.rejected.empty());
    for (const BatchInput& in : g.inputs)
        EXPECT_EQ(in.source, "glob");
    // A folder pattern before it, "**" in the middle, and "**" last (every file, no folder).
    o.arguments = {p("d*/**/deeper/*.tif"), p("data/sub/**")};
    g = satiq::gather_batch_inputs(o);
    // (a glob's matches are taken as files, as with "*": notes.txt too, to fail as a non-raster)
    expected = {p("data/sub/deeper/d.tif"), p("data/sub/[odd].tif"), p("data/sub/c.tif"), p("data/sub/notes.txt")};
    EXPECT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.duplicates.size(), 1u);  // d.tif matched by both
    o.arguments = {p("data/**/none*.tif")};
    g = satiq::gather_batch_inputs(o);
    ASSERT_EQ(g.rejected.size(), 1u);
    EXPECT_EQ(reason_for(g, p("data/**/none*.tif")), "no file matches");
}

TEST_F(BatchInputs, MissingFileIsRejectedAndNonRasterGivenExplicitlyIsKept) {
    BatchInputOptions o;
    o.arguments = {p("data/missing.tif"), p("data/README.md"), p("data/a.tif")};
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {p("data/README.md"), p("data/a.tif")};
    EXPECT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.inputs[0].source, "argument");
    ASSERT_EQ(g.rejected.size(), 1u);
    EXPECT_EQ(reason_for(g, p("data/missing.tif")), "no such file");
}

TEST_F(BatchInputs, FifoIsRejectedWithoutBlocking) {
    const fs::path fifo = dir / "stream.tif";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);

    BatchInputOptions o;
    o.arguments = {fifo.string(), p("data/a.tif"), (dir / "*.tif").string()};
    auto promise = std::make_shared<std::promise<GatheredInputs>>();
    std::future<GatheredInputs> future = promise->get_future();
    std::thread worker([promise, o] { promise->set_value(satiq::gather_batch_inputs(o)); });
    const bool done = future.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
    if (!done) {
        // It blocked opening the FIFO: open the write end to release it, then fail.
        const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
    }
    worker.join();
    ASSERT_TRUE(done) << "gather_batch_inputs blocked on a FIFO";
    const GatheredInputs g = future.get();
    EXPECT_EQ(paths_of(g), std::vector<std::string>{p("data/a.tif")});
    ASSERT_EQ(g.rejected.size(), 2u);  // given explicitly, and matched by the glob
    EXPECT_EQ(g.rejected[0], std::make_pair(fifo.string(), std::string("not a regular file")));
    EXPECT_EQ(g.rejected[1], std::make_pair(fifo.string(), std::string("not a regular file")));
}

// A manifest or STAC document that is a folder or a FIFO is refused by what it is, without
// blocking on the FIFO (it used to read "no such file").
TEST_F(BatchInputs, ManifestOrStacThatIsNotAFileSaysWhatItIs) {
    const fs::path fifo = dir / "list.csv";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const fs::path folder = dir / "data";
    for (const bool stac : {false, true}) {
        for (const auto& [path, why] : {std::pair{fifo, std::string("a FIFO (named pipe), not a regular file")},
                                        std::pair{folder, std::string("a folder, not a file")},
                                        std::pair{dir / "absent.csv", std::string("no such file")}}) {
            BatchInputOptions o;
            if (stac) {
                o.stac = path;
            } else {
                o.manifest = path;
            }
            try {
                (void)satiq::gather_batch_inputs(o);
                ADD_FAILURE() << path << ": accepted";
            } catch (const satiq::Error& e) {
                EXPECT_EQ(std::string(e.what()), path.string() + (stac ? ": STAC: " : ": manifest: ") + why);
            }
        }
    }
}

TEST_F(BatchInputs, DuplicatesAreProcessedOnceAndListed) {
    CwdGuard cwd(dir);
    fs::create_symlink(dir / "data" / "b.tif", dir / "b_link.tif");
    BatchInputOptions o;
    // a.tif: relative, absolute, via ./data/../data/; b.tif: via the folder, explicitly, via a symlink.
    o.arguments = {"data/a.tif", p("data/a.tif"), "./data/../data/a.tif", "data", "data/b.tif", "b_link.tif"};
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {"data/a.tif", "data/b.tif", "data/sub/c.tif", "data/sub/deeper/d.tif"};
    EXPECT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.inputs[0].source, "argument");  // the first occurrence is kept
    EXPECT_EQ(g.inputs[1].source, "folder");
    // data/a.tif from the folder walk is the fourth time a.tif is seen.
    const std::vector<std::string> dups = {p("data/a.tif"), "./data/../data/a.tif", "data/a.tif", "data/b.tif",
                                           "b_link.tif"};
    EXPECT_EQ(g.duplicates, dups);
    EXPECT_TRUE(g.rejected.empty());
}

TEST_F(BatchInputs, VirtualPathsArePassedUnchanged) {
    BatchInputOptions o;
    o.arguments = {"/vsizip/x.zip/a.tif", "/vsicurl/https://example.com/scene.tif", "/vsizip/x.zip/a.tif",
                   "/vsimem/*.tif"};
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {"/vsizip/x.zip/a.tif", "/vsicurl/https://example.com/scene.tif",
                                               "/vsimem/*.tif"};
    EXPECT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.duplicates, std::vector<std::string>{"/vsizip/x.zip/a.tif"});
    EXPECT_TRUE(g.rejected.empty());
    for (const BatchInput& in : g.inputs)
        EXPECT_EQ(in.source, "argument");
}

// Copies the files `rels` of `from` into a new zip archive through GDAL's /vsizip/ writer.
void write_zip(const fs::path& zip, const fs::path& from, const std::vector<std::string>& rels) {
    for (const std::string& rel : rels) {
        const std::string bytes = satiq::test::read_file(from / rel);
        VSILFILE* f = VSIFOpenL(("/vsizip/" + zip.string() + "/" + rel).c_str(), "wb");
        ASSERT_NE(f, nullptr) << rel;
        ASSERT_EQ(VSIFWriteL(bytes.data(), 1, bytes.size(), f), bytes.size());
        VSIFCloseL(f);
    }
}

// An archive is walked as a folder: named as a file (.zip, .tar.gz) or as a virtual folder
// (/vsizip/x.zip, one of its folders), rasters recognised by content, hidden entries and
// sidecars skipped; an archive without a raster is rejected.
TEST_F(BatchInputs, ArchivesAreWalkedAsFolders) {
    const fs::path data = dir / "data";
    write_zip(dir / "d.zip", data, {"a.tif", "README.md", "a.ovr", ".hidden.tif", "sub/c.tif", "sub/deeper/d.tif"});
    write_zip(dir / "text.zip", data, {"README.md"});
    ASSERT_EQ(satiq::test::run_command("tar -czf " + satiq::test::shell_quote(dir / "d.tar.gz") + " -C " +
                                       satiq::test::shell_quote(data) + " b.tif sub/notes.txt sub/c.tif")
                  .exit_code,
              0);
    const std::string zip = "/vsizip/" + p("d.zip"), tar = "/vsitar/" + p("d.tar.gz");
    BatchInputOptions o;
    o.arguments = {p("d.zip"), p("d.tar.gz"), zip + "/sub/deeper", p("text.zip")};
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {zip + "/a.tif", zip + "/sub/c.tif", zip + "/sub/deeper/d.tif",
                                               tar + "/b.tif", tar + "/sub/c.tif"};
    EXPECT_EQ(paths_of(g), expected);
    for (const BatchInput& in : g.inputs)
        EXPECT_EQ(in.source, "archive");
    EXPECT_EQ(g.duplicates, std::vector<std::string>{zip + "/sub/deeper/d.tif"});  // given twice
    EXPECT_EQ(reason_for(g, "/vsizip/" + p("text.zip")), "no raster file in the archive or virtual folder");
    // A corrupt archive says so.
    write_text(dir / "bad.zip", "not a zip archive at all\n");
    o.arguments = {p("bad.zip")};
    EXPECT_EQ(reason_for(satiq::gather_batch_inputs(o), "/vsizip/" + p("bad.zip")),
              "cannot be listed as an archive or folder (corrupt or unreadable)");
    // A virtual path to one file is still passed as it is.
    o.arguments = {zip + "/a.tif"};
    EXPECT_EQ(satiq::gather_batch_inputs(o).inputs.at(0).source, "argument");
}

TEST_F(BatchInputs, PlainManifestWithCommentsResolvesRelativeToItsFolder) {
    write_text(dir / "lists" / "scenes.txt",
               "# scenes of the test site\n"
               "\n"
               "../data/b.tif\n"
               "   # an indented comment\n"
               "../data/sub\n" +
                   p("data/a.tif") +
                   "\r\n"
                   "/vsizip/archive.zip/scene.tif\n"
                   "../data/gone.tif\n"
                   "../data/b.tif\n");
    BatchInputOptions o;
    o.arguments = {p("data/sub/c.tif")};
    o.manifest = dir / "lists" / "scenes.txt";
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::string base = p("lists");
    const std::vector<std::string> expected = {p("data/sub/c.tif"), base + "/../data/b.tif",
                                               base + "/../data/sub/deeper/d.tif", p("data/a.tif"),
                                               "/vsizip/archive.zip/scene.tif"};
    EXPECT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.inputs[0].source, "argument");  // arguments come first
    for (std::size_t i = 1; i < g.inputs.size(); ++i)
        EXPECT_EQ(g.inputs[i].source, "manifest");
    const std::vector<std::string> dups = {base + "/../data/sub/c.tif", base + "/../data/b.tif"};
    EXPECT_EQ(g.duplicates, dups);
    ASSERT_EQ(g.rejected.size(), 1u);
    EXPECT_EQ(reason_for(g, base + "/../data/gone.tif"), "no such file");
}

TEST_F(BatchInputs, CsvManifestWithQuotedFieldsAndMetadata) {
    // A file name holding a comma and a double quote needs RFC 4180 quoting.
    fs::copy_file(dir / "data" / "a.tif", dir / "data" / "my \"best\" scene, v2.tif");
    write_text(dir / "scenes.csv",
               "Path , GSD_M,elevation_deg,snr,notes\r\n"
               "data/a.tif,0.5,60,40,\"first, sunny\"\r\n"
               "\"data/my \"\"best\"\" scene, v2.tif\",,75.5,,\"a note\nover two lines\"\r\n"
               "\r\n"
               "data/b.tif, 1.25 ,90,12\r\n"
               "data/absent.tif,1,45,10\r\n"
               "/vsicurl/https://example.com/x.tif,2\r\n");
    BatchInputOptions o;
    o.manifest = dir / "scenes.csv";
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {p("data/a.tif"), p("data/my \"best\" scene, v2.tif"), p("data/b.tif"),
                                               "/vsicurl/https://example.com/x.tif"};
    ASSERT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.inputs[0].gsd_m, 0.5);
    EXPECT_EQ(g.inputs[0].elevation_deg, 60.0);
    EXPECT_EQ(g.inputs[0].snr, 40.0);
    EXPECT_FALSE(g.inputs[1].gsd_m.has_value());  // empty cell: absent
    EXPECT_EQ(g.inputs[1].elevation_deg, 75.5);
    EXPECT_FALSE(g.inputs[1].snr.has_value());
    EXPECT_EQ(g.inputs[2].gsd_m, 1.25);
    EXPECT_EQ(g.inputs[2].elevation_deg, 90.0);
    EXPECT_EQ(g.inputs[2].snr, 12.0);
    EXPECT_EQ(g.inputs[3].gsd_m, 2.0);  // missing trailing cells: absent
    EXPECT_FALSE(g.inputs[3].elevation_deg.has_value());
    for (const BatchInput& in : g.inputs)
        EXPECT_EQ(in.source, "manifest");
    ASSERT_EQ(g.rejected.size(), 1u);
    EXPECT_EQ(reason_for(g, p("data/absent.tif")), "no such file");
}

TEST_F(BatchInputs, CsvManifestBadValuesNameTheLineAndColumn) {
    struct Case {
        std::string row;
        std::string column;
    };
    const std::vector<Case> cases = {{"data/b.tif,NaN,45,10", "gsd_m"},  {"data/b.tif,0.5,-1,10", "elevation_deg"},
                                     {"data/b.tif,0.5,45,abc", "snr"},   {"data/b.tif,inf,45,10", "gsd_m"},
                                     {"data/b.tif,0,45,10", "gsd_m"},    {"data/b.tif,0.5,95,10", "elevation_deg"},
                                     {"data/b.tif,0.5 m,45,10", "gsd_m"}};
    for (const Case& c : cases) {
        const fs::path m = dir / "bad.csv";
        // No comments in CSV: line 2 is a row (a missing file, rejected); line 4 is the bad one.
        write_text(m, "path,gsd_m,elevation_deg,snr\n# line 2 is a path\ndata/a.tif,0.5,45,10\n" + c.row + "\n");
        BatchInputOptions o;
        o.manifest = m;
        const std::string msg = error_of([&] { satiq::gather_batch_inputs(o); });
        EXPECT_NE(msg.find(m.string()), std::string::npos) << c.row << ": " << msg;
        EXPECT_NE(msg.find("line 4"), std::string::npos) << c.row << ": " << msg;
        EXPECT_NE(msg.find(c.column), std::string::npos) << c.row << ": " << msg;
    }
    write_text(dir / "open.csv", "path,snr\n\"data/a.tif,3\n");
    BatchInputOptions o;
    o.manifest = dir / "open.csv";
    EXPECT_NE(error_of([&] { satiq::gather_batch_inputs(o); }).find("line 2"), std::string::npos);
    o.manifest = dir / "no_such_manifest.txt";
    EXPECT_NE(error_of([&] { satiq::gather_batch_inputs(o); }).find("no_such_manifest.txt"), std::string::npos);
}

TEST_F(BatchInputs, StacItemCollectionWithRelativeAssets) {
    write_tif(dir / "stac" / "scenes" / "s1.tif");
    fs::copy_file(dir / "stac" / "scenes" / "s1.tif", dir / "stac" / "scenes" / "s2_pan.tif");
    write_text(dir / "stac" / "items.json", R"({
  "type": "FeatureCollection",
  "features": [
    {"type": "Feature", "stac_version": "1.0.0", "id": "s1", "geometry": null,
     "properties": {"datetime": "2024-05-01T10:00:00Z", "gsd": 0.5, "view:off_nadir": 20,
                    "view:sun_elevation": 48.5},
     "assets": {
       "thumbnail": {"href": "scenes/s1.png", "type": "image/png", "roles": ["thumbnail"]},
       "visual": {"href": "scenes/s1.tif", "type": "image/tiff; application=geotiff; profile=cloud-optimized"}
     }},
    {"type": "Feature", "stac_version": "1.0.0", "id": "s2", "geometry": null,
     "properties": {"datetime": "2024-05-02T10:00:00Z", "gsd": 1.0},
     "assets": {
       "metadata": {"href": "scenes/s2.xml", "type": "application/xml", "roles": ["metadata"]},
       "pan": {"href": "./scenes/s2_pan.tif", "roles": ["data"], "gsd": 0.3}
     }},
    {"type": "Feature", "stac_version": "1.0.0", "id": "s3", "geometry": null,
     "properties": {"view:off_nadir": 95},
     "assets": {
       "visual": {"href": "https://example.com/s3.tif", "type": "image/tiff; application=geotiff"}
     }},
    {"type": "Feature", "stac_version": "1.0.0", "id": "s4", "geometry": null, "properties": {},
     "assets": {"visual": {"href": "s3://bucket/path/s4.tif", "type": "image/jp2"}}}
  ]
})");
    BatchInputOptions o;
    o.stac = dir / "stac" / "items.json";
    GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::string base = p("stac");
    // STAC hrefs are URI references: dot segments are removed (RFC 3986 5.2.4).
    const std::vector<std::string> expected = {base + "/scenes/s1.tif", base + "/scenes/s2_pan.tif",
                                               "/vsicurl/https://example.com/s3.tif", "/vsis3/bucket/path/s4.tif"};
    ASSERT_EQ(paths_of(g), expected);
    const BatchInput& s1 = g.inputs[0];
    EXPECT_EQ(s1.source, "stac");
    EXPECT_EQ(s1.item_id, "s1");
    EXPECT_EQ(s1.gsd_m, 0.5);
    ASSERT_TRUE(s1.elevation_deg.has_value());
    EXPECT_DOUBLE_EQ(*s1.elevation_deg, 70.0);  // 90 - view:off_nadir
    EXPECT_EQ(s1.sun_elevation_deg, 48.5);
    EXPECT_FALSE(s1.snr.has_value());
    const BatchInput& s2 = g.inputs[1];
    EXPECT_EQ(s2.item_id, "s2");
    EXPECT_EQ(s2.gsd_m, 0.3);  // the asset's own gsd wins
    EXPECT_FALSE(s2.elevation_deg.has_value());
    EXPECT_FALSE(s2.sun_elevation_deg.has_value());
    EXPECT_FALSE(g.inputs[2].elevation_deg.has_value());  // off_nadir 95 is out of range: ignored
    EXPECT_TRUE(g.rejected.empty());

    // --asset visual: s2 has none and is rejected, naming the item and the key.
    o.stac_asset = "visual";
    g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected_visual = {base + "/scenes/s1.tif", "/vsicurl/https://example.com/s3.tif",
                                                      "/vsis3/bucket/path/s4.tif"};
    EXPECT_EQ(paths_of(g), expected_visual);
    ASSERT_EQ(g.rejected.size(), 1u);
    EXPECT_NE(g.rejected[0].second.find("'s2'"), std::string::npos) << g.rejected[0].second;
    EXPECT_NE(g.rejected[0].second.find("'visual'"), std::string::npos) << g.rejected[0].second;

    // --asset thumbnail: the file does not exist: rejected like any missing file.
    o.stac_asset = "thumbnail";
    g = satiq::gather_batch_inputs(o);
    EXPECT_EQ(reason_for(g, base + "/scenes/s1.png"), "no such file");
}

TEST_F(BatchInputs, StacStaticCatalogFollowsChildAndItemLinks) {
    const fs::path root = dir / "catalog";
    write_tif(root / "coll" / "items" / "i1" / "i1.tif");
    fs::copy_file(root / "coll" / "items" / "i1" / "i1.tif", root / "shared.tif");
    write_text(root / "catalog.json", R"({
  "type": "Catalog", "stac_version": "1.0.0", "id": "root", "description": "test",
  "links": [
    {"rel": "root", "href": "./catalog.json"},
    {"rel": "self", "href": "./catalog.json"},
    {"rel": "child", "href": "./coll/collection.json"},
    {"rel": "child", "href": "coll/collection.json"},
    {"rel": "item", "href": "./loose/i3.json"}
  ]
})");
    write_text(root / "coll" / "collection.json", R"({
  "type": "Collection", "stac_version": "1.0.0", "id": "coll", "description": "test", "license": "proprietary",
  "extent": {}, "links": [
    {"rel": "parent", "href": "../catalog.json"},
    {"rel": "child", "href": "../catalog.json"},
    {"rel": "item", "href": "./items/i1/i1.json"},
    {"rel": "item", "href": "./items/i2/i2.json"}
  ]
})");
    write_text(root / "coll" / "items" / "i1" / "i1.json", R"({
  "type": "Feature", "stac_version": "1.0.0", "id": "i1", "geometry": null,
  "properties": {"gsd": 0.8},
  "assets": {"image": {"href": "./i1.tif", "type": "image/tiff; application=geotiff"}}
})");
    write_text(root / "coll" / "items" / "i2" / "i2.json", R"({
  "type": "Feature", "stac_version": "1.0.0", "id": "i2", "geometry": null, "properties": {},
  "assets": {"image": {"href": "../../../shared.tif", "type": "image/tiff"}}
})");
    write_text(root / "loose" / "i3.json", R"({
  "type": "Feature", "stac_version": "1.0.0", "id": "i3", "geometry": null, "properties": {},
  "assets": {"image": {"href": "../shared.tif", "type": "image/tiff"}}
})");
    BatchInputOptions o;
    o.stac = root / "catalog.json";
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {(root / "coll/items/i1/i1.tif").string(),
                                               (root / "shared.tif").string()};
    ASSERT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.inputs[0].item_id, "i1");
    EXPECT_EQ(g.inputs[0].gsd_m, 0.8);
    EXPECT_EQ(g.inputs[1].item_id, "i2");
    EXPECT_EQ(g.duplicates, std::vector<std::string>{(root / "shared.tif").string()});  // i3: the same file
    EXPECT_TRUE(g.rejected.empty());
}

TEST_F(BatchInputs, StacMalformedOrWrongTypeIsAnErrorNamingTheFile) {
    BatchInputOptions o;
    write_text(dir / "broken.json", R"({"type": "Feature", "id": )");
    o.stac = dir / "broken.json";
    // One line: the file, "not valid JSON", where and why; not nlohmann's exception text.
    EXPECT_EQ(error_of([&] { satiq::gather_batch_inputs(o); }),
              (dir / "broken.json").string() +
                  ": not valid JSON (line 1, column 27: syntax error while parsing value - unexpected end of input; "
                  "expected '[', '{', or a literal)");
    // A number beyond the double range is the parser's out_of_range, not a parse_error.
    write_text(dir / "huge.json", R"({"type": "Feature", "gsd": 8e84145})");
    o.stac = dir / "huge.json";
    EXPECT_EQ(error_of([&] { satiq::gather_batch_inputs(o); }),
              (dir / "huge.json").string() + ": not valid JSON (number overflow parsing '8e84145')");
    write_text(dir / "text.json", "type: Feature\n");
    o.stac = dir / "text.json";
    EXPECT_EQ(error_of([&] { satiq::gather_batch_inputs(o); }),
              (dir / "text.json").string() +
                  ": not valid JSON (line 1, column 2: syntax error while parsing value - invalid literal)");
    write_text(dir / "point.json", R"({"type": "Point", "coordinates": [0, 0]})");
    o.stac = dir / "point.json";
    EXPECT_NE(error_of([&] { satiq::gather_batch_inputs(o); }).find("point.json"), std::string::npos);
    write_text(dir / "array.json", R"([1, 2, 3])");
    o.stac = dir / "array.json";
    EXPECT_NE(error_of([&] { satiq::gather_batch_inputs(o); }).find("array.json"), std::string::npos);
    // A member of the wrong JSON type is an error too, not an escaping JSON exception.
    write_text(dir / "typed.json", R"({"type": "Catalog", "id": "c", "links": [{"rel": 5, "href": "x.json"}]})");
    o.stac = dir / "typed.json";
    EXPECT_EQ(error_of([&] { satiq::gather_batch_inputs(o); }),
              (dir / "typed.json").string() + ": not a valid STAC document: type must be string, but is number");
    // A catalog linking to a malformed item names the item file.
    write_text(dir / "cat" / "catalog.json",
               R"({"type": "Catalog", "id": "c", "links": [{"rel": "item", "href": "bad/item.json"}]})");
    write_text(dir / "cat" / "bad" / "item.json", R"({"type": "Feature", "id": 7, "assets": {}})");
    o.stac = dir / "cat" / "catalog.json";
    EXPECT_NE(error_of([&] { satiq::gather_batch_inputs(o); }).find("item.json"), std::string::npos);
}

TEST_F(BatchInputs, OrderIsArgumentsThenManifestThenStac) {
    write_text(dir / "list.txt", "data/b.tif\ndata/a.tif\n");
    write_text(dir / "item.json", R"({"type": "Feature", "id": "x", "properties": {"gsd": 9},
      "assets": {"d": {"href": "data/sub/c.tif", "roles": ["data"]}, "e": {"href": "data/a.tif", "roles": ["data"]}}})");
    BatchInputOptions o;
    o.arguments = {p("data/sub/c.tif")};
    o.manifest = dir / "list.txt";
    o.stac = dir / "item.json";
    const GatheredInputs g = satiq::gather_batch_inputs(o);
    const std::vector<std::string> expected = {p("data/sub/c.tif"), p("data/b.tif"), p("data/a.tif")};
    EXPECT_EQ(paths_of(g), expected);
    EXPECT_EQ(g.inputs[0].source, "argument");
    EXPECT_FALSE(g.inputs[0].gsd_m.has_value());  // the first occurrence keeps its (absent) metadata
    EXPECT_EQ(g.duplicates, std::vector<std::string>{p("data/sub/c.tif")});
    // Deterministic: the same call gives the same result.
    const GatheredInputs again = satiq::gather_batch_inputs(o);
    EXPECT_EQ(paths_of(again), paths_of(g));
    EXPECT_EQ(again.duplicates, g.duplicates);
    ASSERT_NE(find_input(g, p("data/a.tif")), nullptr);
}

// Shards deal the sorted, de-duplicated paths round robin: disjoint, covering the list, sizes
// within one of each other, whatever the order the inputs came in. Before, a hash of the path
// split 5 inputs 4/1/0 over 3 shards and 30 inputs 7/16/7.
TEST(ShardPaths, BalancedDisjointCoveringAndOrderFree) {
    for (int m = 0; m <= 31; ++m) {
        GatheredInputs g, reversed;
        for (int i = 0; i < m; ++i) {
            BatchInput in;
            in.path = "/data/scenes/scene_" + std::to_string(i) + ".tif";
            if (i % 7 == 3)
                g.rejected.emplace_back(in.path, "no such file");
            else
                g.inputs.push_back(in);
        }
        reversed.inputs.assign(g.inputs.rbegin(), g.inputs.rend());
        reversed.rejected.assign(g.rejected.rbegin(), g.rejected.rend());
        for (int n : {1, 2, 3, 5, 8}) {
            std::set<std::string> seen;
            std::size_t smallest = SIZE_MAX, largest = 0;
            for (int k = 0; k < n; ++k) {
                const std::set<std::string> shard = satiq::shard_paths(g, k, n);
                EXPECT_EQ(shard, satiq::shard_paths(reversed, k, n)) << m << " " << n << " " << k;
                smallest = std::min(smallest, shard.size());
                largest = std::max(largest, shard.size());
                for (const std::string& p : shard)
                    EXPECT_TRUE(seen.insert(p).second) << p << " in two shards";
            }
            EXPECT_EQ(seen.size(), static_cast<std::size_t>(m)) << m << " " << n;
            EXPECT_LE(largest - smallest, 1u) << m << " inputs, " << n << " shards";
        }
    }
    // The UAT's cases: 5 inputs over 3 shards are 2/2/1, 30 are 10/10/10.
    for (const auto& [m, expected] : {std::pair{5, std::vector<std::size_t>{2, 2, 1}}, {30, {10, 10, 10}}}) {
        GatheredInputs g;
        for (int i = 0; i < m; ++i) {
            BatchInput in;
            in.path = "img" + std::to_string(i) + ".tif";
            g.inputs.push_back(in);
        }
        std::vector<std::size_t> sizes;
        sizes.reserve(3);
        for (int k = 0; k < 3; ++k)
            sizes.push_back(satiq::shard_paths(g, k, 3).size());
        EXPECT_EQ(sizes, expected) << m;
    }
    // A path given twice, once rejected: one shard.
    GatheredInputs twice;
    twice.rejected = {{"x.tif", "no such file"}, {"x.tif", "no such file"}};
    EXPECT_EQ(satiq::shard_paths(twice, 0, 2), std::set<std::string>{"x.tif"});
    EXPECT_TRUE(satiq::shard_paths(twice, 1, 2).empty());
    EXPECT_THROW(satiq::shard_paths(twice, 0, 0), satiq::Error);
    EXPECT_THROW(satiq::shard_paths(twice, 2, 2), satiq::Error);
}

// The same file twice with different per-image values (a manifest's gsd_m 0.5 and 0.6, or a
// folder's copy without the manifest's value): the first is kept and the conflict is said, naming
// the file, the values and where each came from; identical duplicates are only listed. Before,
// the second row was dropped silently.
TEST_F(BatchInputs, ConflictingDuplicatesAreSaid) {
    write_text(dir / "list.csv",
               "path,gsd_m,snr\ndata/a.tif,0.5,\ndata/b.tif,0.7,30\ndata/a.tif,0.6,\n"
               "data/b.tif,0.7,30\n");
    BatchInputOptions o;
    o.manifest = dir / "list.csv";
    GatheredInputs g = satiq::gather_batch_inputs(o);
    ASSERT_EQ(g.inputs.size(), 2u);
    EXPECT_EQ(*g.inputs[0].gsd_m, 0.5);
    EXPECT_EQ(g.duplicates, (std::vector<std::string>{p("data/a.tif"), p("data/b.tif")}));
    const std::string list = (dir / "list.csv").string();
    EXPECT_EQ(g.conflicts,
              std::vector<std::string>{p("data/a.tif") + ": given twice with different values, gsd_m 0.5 then 0.6 (" +
                                       list + " line 2, then " + list + " line 4): the first is used"});
    // The folder first (no values), then the manifest's: every differing value is named.
    o.arguments = {p("data/sub")};
    write_text(dir / "list.csv", "path,gsd_m,snr,elevation_deg\ndata/sub/c.tif,0.5,25,60\n");
    g = satiq::gather_batch_inputs(o);
    ASSERT_EQ(g.conflicts.size(), 1u);
    EXPECT_EQ(g.conflicts[0], p("data/sub/c.tif") +
                                  ": given twice with different values, gsd_m none then 0.5, elevation_deg none "
                                  "then 60, snr none then 25 (the arguments, then " +
                                  list + " line 2): the first is used");
}
