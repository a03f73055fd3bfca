// satiq synth edge|tribar|airfield OUT.tif [options]: synthetic samples with a truth file beside them.
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/ops/samples.hpp"

namespace satiq::cli {
namespace {

// "W,H" or "N" (square), pixels.
std::pair<std::int64_t, std::int64_t> parse_size(const std::string& text) {
    auto parse = [&](const std::string& s) {
        std::size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(s, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != s.size() || v < 1)
            throw UsageError(fmt::format("synth: --size wants W,H or N in pixels (got '{}')", text));
        return static_cast<std::int64_t>(v);
    };
    const auto comma = text.find(',');
    if (comma == std::string::npos) {
        const auto n = parse(text);
        return {n, n};
    }
    return {parse(text.substr(0, comma)), parse(text.substr(comma + 1))};
}

std::pair<double, double> parse_pair(const std::string& text, const char* flag) {
    const auto comma = text.find(',');
    try {
        if (comma != std::string::npos) {
            std::size_t u1 = 0, u2 = 0;
            const std::string a = text.substr(0, comma), b = text.substr(comma + 1);
            const double x = std::stod(a, &u1), y = std::stod(b, &u2);
            if (u1 == a.size() && u2 == b.size() && std::isfinite(x) && std::isfinite(y)) return {x, y};
        }
    } catch (const std::exception&) {
    }
    throw UsageError(fmt::format("synth: {} wants two numbers X,Y (got '{}')", flag, text));
}

// Options every synth target shares.
struct Common {
    std::string output;
    int bits = 16;
    std::string size;
    std::optional<double> gsd_m;
    std::optional<double> noise_dn;
    std::uint64_t seed = 1;
    int epsg = 32652;
    std::string origin_m;
    std::string format = "json";
};

void add_common(CLI::App* cmd, Common& c, const char* default_size, const char* default_gsd) {
    cmd->add_option("output,-o,--output", c.output,
                    "Output GeoTIFF (positional or -o); the truth goes beside it as <stem>.json")
        ->required();
    cmd->add_option("--bits", c.bits, "Output bits per pixel: 8 (Byte) or 16 (UInt16)")
        ->check(CLI::IsMember({8, 16}))
        ->capture_default_str();
    cmd->add_option("--size", c.size, fmt::format("Image size in pixels, W,H or N (default {})", default_size));
    cmd->add_option("--gsd-m", c.gsd_m, fmt::format("Ground sample distance in metres (default {})", default_gsd));
    cmd->add_option("--noise-dn", c.noise_dn, "Additive Gaussian noise sigma in output DN")
        ->check(non_negative_validator());
    cmd->add_option("--seed", c.seed, "Noise seed (same seed, same bytes)")
        ->capture_default_str()
        ->check(seed_validator());
    cmd->add_option("--epsg", c.epsg, "WGS 84 / UTM EPSG code of the georeferencing")->capture_default_str();
    cmd->add_option("--origin-m", c.origin_m,
                    "Easting,northing of the image's top-left corner (default 400000,4300000)");
    cmd->add_option("--format", c.format, "Output: json (default; one document on stdout) or text")
        ->check(CLI::IsMember({"text", "json"}));
}

SampleOutput make_output(const Common& c, double default_gsd) {
    SampleOutput o;
    o.image_path = c.output;
    o.bits = c.bits;
    o.gsd_m = c.gsd_m.value_or(default_gsd);
    o.epsg = c.epsg;
    if (!c.origin_m.empty()) std::tie(o.origin_easting_m, o.origin_northing_m) = parse_pair(c.origin_m, "--origin-m");
    return o;
}

int report(const Common& c, const char* target, const SampleResult& r, const nlohmann::json& params) {
    const auto& raster = r.truth["raster"];
    const auto w = raster["width_px"].get<std::int64_t>(), h = raster["height_px"].get<std::int64_t>();
    const double gsd = r.truth["georeference"]["gsd_m"].get<double>();
    if (c.format == "text") {
        std::cout << fmt::format("wrote {} ({}x{} px, {} m GSD, {}-bit, {}) and {}\n", r.image_path.string(), w, h, gsd,
                                 c.bits, r.truth["georeference"]["crs"].get<std::string>(), r.truth_path.string());
        return 0;
    }
    nlohmann::json item = {{"target", target},
                           {"image", r.image_path.string()},
                           {"truth", r.truth_path.string()},
                           {"width_px", w},
                           {"height_px", h},
                           {"gsd_m", gsd},
                           {"bits", c.bits},
                           {"status", "ok"}};
    print_json(envelope(fmt::format("synth {}", target), params, nlohmann::json::array({item}), 0));
    return 0;
}

nlohmann::json common_params(const Common& c, const SampleOutput& o, std::int64_t w, std::int64_t h) {
    return {{"output", c.output},
            {"bits", o.bits},
            {"width_px", w},
            {"height_px", h},
            {"gsd_m", o.gsd_m},
            {"epsg", o.epsg},
            {"origin_easting_m", o.origin_easting_m},
            {"origin_northing_m", o.origin_northing_m},
            {"seed", c.seed}};
}

void add_edge(CLI::App* synth, Runner& run) {
    struct Args {
        Common c;
        double angle_deg = 5.0;
        double sigma_px = 0.5;
        std::optional<double> dark_dn, bright_dn;
        std::string edge_px;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = synth->add_subcommand(
        "edge", "Slanted edge: a Gaussian-blurred step integrated over square pixels, with its analytic ESF/RER/MTF");
    add_common(cmd, a->c, "256", "0.5");
    cmd->add_option("--angle-deg", a->angle_deg,
                    "Edge normal angle from the +x axis towards +y, degrees (0 = vertical edge, dark left)")
        ->capture_default_str();
    cmd->add_option("--sigma-px", a->sigma_px, "Gaussian blur sigma in pixels, 0..20 (0 = pixel-integrated step)")
        ->check(CLI::Range(0.0, 20.0))
        ->capture_default_str();
    cmd->add_option("--dark-dn", a->dark_dn, "Dark plateau in DN (default 50 for 8-bit, 4000 for 16-bit)");
    cmd->add_option("--bright-dn", a->bright_dn, "Bright plateau in DN (default 200 for 8-bit, 12000 for 16-bit)");
    cmd->add_option("--edge-px", a->edge_px, "A point on the edge, X,Y in pixel coordinates (default: image centre)");
    cmd->callback([a, &run] {
        run = [a]() -> int {
            const auto& c = a->c;
            const SampleOutput o = make_output(c, 0.5);
            EdgeSample s;
            std::tie(s.width_px, s.height_px) =
                c.size.empty() ? std::pair<std::int64_t, std::int64_t>{256, 256} : parse_size(c.size);
            s.edge.angle_deg = a->angle_deg;
            s.edge.sigma_px = a->sigma_px;
            s.edge.dark_dn = a->dark_dn.value_or(c.bits == 8 ? 50.0 : 4000.0);
            s.edge.bright_dn = a->bright_dn.value_or(c.bits == 8 ? 200.0 : 12000.0);
            s.edge.noise_sigma_dn = c.noise_dn.value_or(0.0);
            s.edge.seed = c.seed;
            if (!a->edge_px.empty()) {
                const auto [x, y] = parse_pair(a->edge_px, "--edge-px");
                s.edge_x_px = x;
                s.edge_y_px = y;
            }
            const SampleResult r = write_edge_sample(s, o);
            auto params = common_params(c, o, s.width_px, s.height_px);
            params["angle_deg"] = s.edge.angle_deg;
            params["sigma_px"] = s.edge.sigma_px;
            params["dark_dn"] = s.edge.dark_dn;
            params["bright_dn"] = s.edge.bright_dn;
            params["noise_dn"] = s.edge.noise_sigma_dn;
            params["edge_px"] = {r.truth["edge"]["point_px"][0], r.truth["edge"]["point_px"][1]};
            return report(c, "edge", r, params);
        };
    });
}

void add_tribar(CLI::App* synth, Runner& run) {
    struct Args {
        Common c;
        double sigma_px = 0.5;
        double largest_bar_px = 8.0;
        int elements = 12;
        std::optional<double> background_dn, bar_dn;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = synth->add_subcommand(
        "tribar", "USAF-1951-like tri-bar target: groups of three bars, both orientations, bar widths in the truth");
    add_common(cmd, a->c, "512,128", "0.5");
    cmd->add_option("--sigma-px", a->sigma_px, "Gaussian blur sigma in pixels, 0..20")
        ->check(CLI::Range(0.0, 20.0))
        ->capture_default_str();
    cmd->add_option("--largest-bar-px", a->largest_bar_px, "Bar width of the first element in pixels")
        ->check(CLI::Range(0.25, 1000.0))
        ->capture_default_str();
    cmd->add_option("--elements", a->elements, "Number of elements; each is 2^(1/6) finer than the one before")
        ->check(CLI::Range(1, 48))
        ->capture_default_str();
    cmd->add_option("--background-dn", a->background_dn, "Background in DN (default 40 for 8-bit, 3000 for 16-bit)");
    cmd->add_option("--bar-dn", a->bar_dn, "Bars in DN (default 200 for 8-bit, 13000 for 16-bit)");
    cmd->callback([a, &run] {
        run = [a]() -> int {
            const auto& c = a->c;
            const SampleOutput o = make_output(c, 0.5);
            TribarSample s;
            std::tie(s.width_px, s.height_px) =
                c.size.empty() ? std::pair<std::int64_t, std::int64_t>{512, 128} : parse_size(c.size);
            s.tribar.sigma_px = a->sigma_px;
            s.tribar.largest_bar_px = a->largest_bar_px;
            s.tribar.element_count = a->elements;
            s.tribar.background_dn = a->background_dn.value_or(c.bits == 8 ? 40.0 : 3000.0);
            s.tribar.bar_dn = a->bar_dn.value_or(c.bits == 8 ? 200.0 : 13000.0);
            s.tribar.noise_sigma_dn = c.noise_dn.value_or(0.0);
            s.tribar.seed = c.seed;
            const SampleResult r = write_tribar_sample(s, o);
            auto params = common_params(c, o, s.width_px, s.height_px);
            params["sigma_px"] = s.tribar.sigma_px;
            params["largest_bar_px"] = s.tribar.largest_bar_px;
            params["elements"] = s.tribar.element_count;
            params["background_dn"] = s.tribar.background_dn;
            params["bar_dn"] = s.tribar.bar_dn;
            params["noise_dn"] = s.tribar.noise_sigma_dn;
            return report(c, "tribar", r, params);
        };
    });
}

void add_airfield(CLI::App* synth, Runner& run) {
    struct Args {
        Common c;
        double sigma_px = 0.6;
        double sun_azimuth_deg = 145.0;
        double sun_elevation_deg = 40.0;
        int supersample = 4;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = synth->add_subcommand(
        "airfield",
        "Airfield scene at real dimensions: runway, taxiways, aircraft, tanks, trucks, TELs, hangars, "
        "shadows, blur and noise; the object list goes to the truth");
    add_common(cmd, a->c, "2048", "0.25");
    cmd->add_option("--sigma-px", a->sigma_px, "Optical blur sigma in output pixels, 0..5")
        ->check(CLI::Range(0.0, 5.0))
        ->capture_default_str();
    cmd->add_option("--sun-azimuth-deg", a->sun_azimuth_deg, "Sun azimuth, degrees clockwise from north")
        ->capture_default_str();
    cmd->add_option("--sun-elevation-deg", a->sun_elevation_deg, "Sun elevation, degrees (5..90)")
        ->check(CLI::Range(5.0, 90.0))
        ->capture_default_str();
    cmd->add_option("--supersample", a->supersample, "Scene samples per pixel along each axis (1..8)")
        ->check(CLI::Range(1, 8))
        ->capture_default_str();
    cmd->callback([a, &run] {
        run = [a]() -> int {
            const auto& c = a->c;
            const SampleOutput o = make_output(c, 0.25);
            if (!(o.gsd_m > 0 && o.gsd_m <= 10))  // the scene model's range (synth_scene.cpp)
                throw UsageError(fmt::format("synth airfield: --gsd-m must be in (0, 10] metres (got {})", o.gsd_m));
            AirfieldSample s;
            std::tie(s.scene.width_px, s.scene.height_px) =
                c.size.empty() ? std::pair<std::int64_t, std::int64_t>{2048, 2048} : parse_size(c.size);
            s.scene.sigma_px = a->sigma_px;
            s.scene.sun_azimuth_deg = a->sun_azimuth_deg;
            s.scene.sun_elevation_deg = a->sun_elevation_deg;
            s.scene.supersample = a->supersample;
            // 6 DN of the 11-bit scale; the same in 8-bit output units.
            s.scene.noise_sigma_dn = c.noise_dn.value_or(c.bits == 8 ? 0.75 : 6.0);
            s.scene.seed = c.seed;
            const SampleResult r = write_airfield_sample(s, o);
            auto params = common_params(c, o, s.scene.width_px, s.scene.height_px);
            params["sigma_px"] = s.scene.sigma_px;
            params["sun_azimuth_deg"] = s.scene.sun_azimuth_deg;
            params["sun_elevation_deg"] = s.scene.sun_elevation_deg;
            params["supersample"] = s.scene.supersample;
            params["noise_dn"] = s.scene.noise_sigma_dn;
            return report(c, "airfield", r, params);
        };
    });
}

}  // namespace

void add_synth_command(CLI::App& app, Runner& run) {
    CLI::App* synth = app.add_subcommand(
        "synth", "Write synthetic test images with known truth (GeoTIFF + <stem>.json): edge, tribar, airfield");
    synth->require_subcommand(1);
    add_edge(synth, run);
    add_tribar(synth, run);
    add_airfield(synth, run);
}

}  // namespace satiq::cli
