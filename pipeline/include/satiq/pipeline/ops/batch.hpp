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
struct GatheredInputs {
    std::vector<BatchInput> inputs;
    std::vector<std::string> duplicates;                        ///< paths given more than once (processed once)
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

/// The shard an input belongs to: a hash of its path (FNV-1a), so that the split does not depend
/// on the order or the number of other inputs.
int shard_of(const std::string& path, int shard_count);

}  // namespace satiq
