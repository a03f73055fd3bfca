// satiq info FILE... [--format text|json] [--gsd-m V|X,Y] [--height-m H]
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/pipeline/ops/info.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

void add_info_command(CLI::App& app, Runner& run) {
    struct Args {
        std::vector<std::string> files;
        std::string format = "text";
        std::string gsd_m;
        std::optional<double> height_m;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("info",
                                       "Describe rasters: driver, size, bands, georeferencing, true GSD, "
                                       "acquisition metadata");
    cmd->add_option("files", args->files, "Raster files (any format GDAL reads)")->required();
    add_format_option(cmd, args->format);
    cmd->add_option("--gsd-m", args->gsd_m, "GSD in metres, V or X,Y, used instead of the georeferencing");
    cmd->add_option("--height-m", args->height_m, "Scene height above the ellipsoid for RPC georeferencing (m)");
    cmd->callback([args, &run] {
        run = [args]() -> int {
            GsdOptions gopt;
            if (!args->gsd_m.empty()) gopt.override_m = as_usage_error([&] { return parse_gsd_pair(args->gsd_m); });
            // A place on the Earth's surface, with room either side: the lowest land (the Dead Sea
            // shore, about -430 m) to Everest (8,849 m); the geoid lies within about 110 m of the
            // ellipsoid.
            if (args->height_m && !(*args->height_m >= -1000 && *args->height_m <= 10000))
                throw UsageError(fmt::format(
                    "info: --height-m must lie in [-1000, 10000] m above the ellipsoid (got {})", *args->height_m));
            gopt.height_m = args->height_m;
            int failures = 0;
            nlohmann::json results = nlohmann::json::array();
            for (const auto& f : args->files) {
                try {
                    InfoRecord rec = describe_raster(f, gopt, false);
                    if (args->format == "json")
                        results.push_back(to_json(rec));
                    else
                        std::cout << to_text(rec);
                } catch (const Error& e) {
                    ++failures;
                    std::cerr << "satiq info: " << e.what() << "\n";
                    results.push_back(failed_item(f, e.what()));
                }
            }
            if (args->format == "json") {
                nlohmann::json params = {
                    {"files", args->files},
                    {"gsd_m", args->gsd_m.empty() ? nlohmann::json(nullptr) : nlohmann::json(args->gsd_m)},
                    {"height_m", args->height_m ? nlohmann::json(*args->height_m) : nlohmann::json(nullptr)}};
                print_json(envelope("info", params, results, failures));
            }
            return failures ? 1 : 0;
        };
    });
}

}  // namespace satiq::cli
