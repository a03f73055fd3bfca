#pragma once
/// `satiq batch`: rate image sets. Inputs are gathered (files, folders, globs, manifests, STAC,
/// GDAL virtual paths), de-duplicated, sharded, and assessed in parallel; each image's record is
/// appended to DIR/results.jsonl as soon as it is done (flushed, one line, so a kill loses at most
/// the images in flight), then DIR/summary.csv and DIR/report.html are written from the records.
/// `--resume` skips images whose record exists for the same input (path, size, modification time)
/// and the same options. `satiq report` merges the results of several shards or batches.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/ops/degrade.hpp"

namespace satiq {

/// One image to rate, with what its source knows that the raster may lack.
struct BatchInput {
    std::string path;                         ///< a file path or a GDAL virtual path (/vsizip/, /vsicurl/, ...)
    std::optional<double> gsd_m;              ///< manifest `gsd_m` column or STAC `gsd`
    std::optional<double> elevation_deg;      ///< manifest column, or from STAC view angles
    std::string elevation_source;             ///< where a STAC elevation came from (its elevation_source)
    std::optional<double> snr;                ///< manifest column
    std::optional<double> sun_elevation_deg;  ///< STAC `view:sun_elevation` (recorded)
    std::string source;                       ///< "argument", "folder", "glob", "manifest", "stac"
    std::string item_id;                      ///< STAC Item id, when any
    std::string
        origin;  ///< where it was given, for messages: "list.csv line 3", "items.json item 'x'", "the arguments"
};

/// A virtual path GDAL opens itself (/vsizip/, /vsicurl/, /vsis3/, ...).
bool is_gdal_virtual_path(const std::string& path);

struct BatchInputOptions {
    std::vector<std::string> arguments;             ///< files, folders (recursive), globs, virtual paths
    std::optional<std::filesystem::path> manifest;  ///< one path per line, or CSV with a `path` column
    std::optional<std::filesystem::path> stac;      ///< Item, ItemCollection or static catalog on disk
    std::string stac_asset;                         ///< asset key; empty: the first raster-looking asset
};

/// Gathered inputs in a deterministic order, duplicates (same resolved path) removed and listed.
/// The first occurrence of an input is kept with its per-image values (gsd_m, elevation_deg, snr);
/// a later one that gives other values is a conflict, said in `conflicts`.
struct GatheredInputs {
    std::vector<BatchInput> inputs;
    std::vector<std::string> duplicates;  ///< paths given more than once (processed once)
    /// One line per duplicate whose per-image values differ from the first occurrence's, naming the
    /// file, the values and where each was given ("x.tif: given twice with different values, gsd_m
    /// 0.5 then 0.6 (list.csv line 2, then list.csv line 3): the first is used").
    std::vector<std::string> conflicts;
    std::vector<std::pair<std::string, std::string>> rejected;  ///< (path, reason): missing, not a raster, ...
};
GatheredInputs gather_batch_inputs(const BatchInputOptions& options);

struct BatchParams {
    std::filesystem::path output_dir;
    AssessParams assess;
    std::optional<DegradeParams> degrade_to;  ///< --degrade-to: each image degraded in memory first
    int jobs = 0;                             ///< images in flight at once (0: cores)
    std::uint64_t max_memory_bytes = 0;       ///< pixels in flight bound (0: default fraction of RAM)
    bool resume = false;
    int shard_index = 0, shard_count = 1;  ///< 0-based K-1 of N
    std::string options_json;              ///< the options that make a record (resume key)
};

/// The paths of shard `shard_index` (0-based) of `shard_count`: the paths of every input and every
/// rejection, de-duplicated and sorted (byte order), dealt round robin (the i-th path to shard
/// i mod N). The shards of one input list are disjoint, cover it, differ in size by at most one,
/// and do not depend on the order the inputs were given in; each is computed on its own from the
/// same list (adding or removing inputs moves others between shards).
std::set<std::string> shard_paths(const GatheredInputs& gathered, int shard_index, int shard_count);

}  // namespace satiq
