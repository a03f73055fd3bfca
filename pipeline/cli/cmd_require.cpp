// satiq require: what a task needs (NIIRS, coarsest GSD, smallest aperture at an altitude).
// Parses flags, calls the library (satiq/pipeline/model/require.hpp), prints. Nothing else.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format.hpp"
#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/provenance.hpp"
#include "satiq/pipeline/model/require.hpp"
#include "sensor_options.hpp"

namespace satiq::cli {

namespace {

struct RequireOptions {
    std::vector<std::string> tasks;
    bool list = false;
    std::string format = "text";
    NumOpt altitude_m{"--altitude-m"}, wavelength_um{"--wavelength-um"}, q{"--q"}, rer{"--rer"}, snr{"--snr"},
        pitch_um{"--pitch-um"};
    std::vector<NumOpt*> numbers() { return {&altitude_m, &wavelength_um, &q, &rer, &snr, &pitch_um}; }
};

int list_tasks(const RequireOptions& o) {
    const auto& tasks = require::task_catalogue();
    const std::vector<std::pair<std::string, std::string>> patterns = {
        {"detect|orient|recognise|identify:NAME:LENGTH_M:WIDTH_M", "a Johnson task on a target of your own"},
        {"niirs:N", "reach NIIRS N, 0 < N <= 9"},
    };
    if (o.format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& t : tasks)
            arr.push_back({{"task", t.id},
                           {"kind", require::to_string(t.kind)},
                           {"description", t.description},
                           {"niirs_needed", t.kind == require::TaskKind::johnson ? nlohmann::json(nullptr)
                                                                                 : nlohmann::json(t.niirs_level)}});
        nlohmann::json j = envelope("require --list", nlohmann::json::object(), arr, 0);
        nlohmann::json pj = nlohmann::json::array();
        for (const auto& [p, d] : patterns)
            pj.push_back({{"pattern", p}, {"description", d}});
        j["patterns"] = pj;
        print_json(j);
        return 0;
    }
    std::string out = "Tasks for satiq require (ids are case-insensitive; recognize = recognise):\n";
    for (const auto& t : tasks)
        out += fmt::format("  {:<48} {}\n", t.id, t.description);
    for (const auto& [p, d] : patterns)
        out += fmt::format("  {:<48} {}\n", p, d);
    std::cout << out;
    return 0;
}

require::RequireParams params_from(const RequireOptions& o) {
    require::RequireParams p;
    if (o.altitude_m.given()) p.altitude_m = o.altitude_m.get();
    if (o.wavelength_um.given()) p.wavelength_m = o.wavelength_um.get() * 1e-6;
    if (o.q.given()) p.q = o.q.get();
    if (o.rer.given()) p.rer = o.rer.get();
    if (o.snr.given()) p.snr = o.snr.get();
    if (o.pitch_um.given()) p.pitch_m = o.pitch_um.get() * 1e-6;
    return p;
}

// The options given, by the figure each sets: the provenance says "given" with the option and
// its value.
std::map<std::string, std::string> given_figures(const RequireOptions& o) {
    return given_figure_texts({&o.altitude_m, &o.wavelength_um, &o.q, &o.rer, &o.snr, &o.pitch_um});
}

int run_require(RequireOptions& o) {
    if (o.list) return list_tasks(o);
    if (o.tasks.empty()) throw UsageError("require: give at least one TASK (satiq require --list shows them)");
    // Every option and task is checked before anything is computed (exit 2, nothing on stdout).
    require::Conditions c = as_usage_error([&] { return require::resolve(params_from(o)); });
    mark(c.provenance, "given", given_figures(o));
    std::vector<require::RequireTask> tasks;
    for (const std::string& t : o.tasks) {
        try {
            tasks.push_back(require::parse_task(t));
        } catch (const Error& e) {
            throw UsageError(fmt::format("require: {}; satiq require --list shows every task", e.what()));
        }
    }
    std::vector<require::Requirement> results;
    results.reserve(tasks.size());
    for (const auto& t : tasks)
        results.push_back(as_usage_error([&] { return require::evaluate(t, c); }));  // options alone
    if (o.format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& r : results)
            arr.push_back(require::to_json(r));
        nlohmann::json j = envelope("require", require::to_json(c), arr, 0);
        j["notes"] = require::notes(c);
        j["provenance"] = provenance_json(c.provenance);  // as predict's: figure -> {kind: text}
        print_json(j);
        return 0;
    }
    std::string out = require::to_text(c) + provenance_text(c.provenance);
    for (const auto& r : results)
        out += require::to_text(r, c);
    for (const auto& n : require::notes(c))
        out += "(" + n + ")\n";
    std::cout << out;
    return 0;
}

}  // namespace

void add_require_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<RequireOptions>();
    CLI::App* cmd = app.add_subcommand(
        "require",
        "What a task needs: the NIIRS, the coarsest GSD that meets it at an RER and SNR (GIQE 5), and at an "
        "altitude the smallest aperture that delivers that GSD at a Q (diffraction). TASK: detect:KEY, "
        "recognise:KEY, identify:KEY, niirs:N, a NIIRS criterion id or slug (see --list)");
    cmd->add_option("TASK", o->tasks, "Tasks to size (see --list)");
    cmd->add_flag("--list", o->list, "List every accepted task id with a one-line description");
    add_format_option(cmd, o->format);
    struct Spec {
        NumOpt* n;
        std::string help;
    };
    const std::vector<Spec> specs = {
        {&o->altitude_m, "Orbit altitude, metres: gives the smallest aperture (nadir)"},
        {&o->wavelength_um,
         fmt::format("Band centre wavelength, micrometres (default {:g})", require::default_wavelength_m * 1e6)},
        {&o->q,
         fmt::format("Q = lambda F# / pitch of the design (default {:g}; GIQE 5 assumes 1..2)", require::default_q)},
        {&o->rer, "Un-sharpened RER, at most 1 (default: an ideal diffraction-limited system at Q)"},
        {&o->snr, fmt::format("GIQE SNR (default {:g})", require::default_snr)},
        {&o->pitch_um, "Detector pitch, micrometres: gives the focal length and F-number"},
    };
    for (const Spec& s : specs) {
        s.n->command = "require";
        s.n->opt = cmd->add_option(s.n->flag, s.n->value, s.help);
    }
    cmd->callback([o, &run]() { run = [o]() { return run_require(*o); }; });
}

}  // namespace satiq::cli
