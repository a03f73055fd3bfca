#pragma once
/// The inverse question: what does a task need? For a NIIRS criterion, a bare NIIRS level or a
/// Johnson task on a catalogue target: the NIIRS it needs (interpretation.hpp, the one model that
/// `predict` and `assess` use), the coarsest GSD at which GIQE 5 reaches that NIIRS at a given RER
/// and SNR, and, at a given altitude, the smallest aperture that delivers that GSD at a given Q.
///
///  - NIIRS needed: the criterion's level; for a Johnson task the NIIRS at which the model gives
///    P = 0.5 (interpret::niirs_for_task), so that `predict` of the sized sensor meets it.
///  - GSD: GIQE 5 (NGA, "General Image Quality Equation v5.0", 2015, eq. 2) inverted numerically
///    (bisection on log GSD; NIIRS falls monotonically with GSD) at nadir, where the weighted GSD
///    (eq. 5) is the GSD. A task that needs a GSD finer than GIQE 5's validated range (about
///    0.08 m) is reported as met by no (validated) GSD, with the extrapolated value beside it.
///  - Aperture: GSD = p H / f and Q = lambda f / (D p) (Fiete, "Image quality and lambda FN/p for
///    remote sensing systems", Opt. Eng. 38(7), 1999) give D = lambda H / (Q GSD) at nadir.
///  - RER: when not given, the RER of an ideal diffraction-limited system at that Q (unobscured
///    circular aperture, 100 % fill square detector, no jitter, smear or aberration), from the
///    same sensor model as `predict` (sensor.hpp), so a sensor built to the answer and run through
///    `predict` reaches the NIIRS needed.
/// Pure and thread-safe; invalid input throws satiq::Error naming what is wrong.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/model/interpretability.hpp"
#include "satiq/pipeline/model/provenance.hpp"

namespace satiq::require {

/// Defaults (stated in every output):
///  - Q = 1: the lower end of the 1..2 range GIQE 5 assumes (NGA 2015 sec. 2.2); for a given GSD
///    the aperture is lambda H / (Q GSD), so Q = 1 is the largest aperture GIQE 5 still covers
///    and the sharpest image it rates (Fiete 1999 discusses the trade).
///  - SNR = 50: the nominal GIQE SNR of the large-aperture presets (worldview-3, worldview-2 in
///    pipeline/data/sensors.json, an assumption there); GIQE 5's top SNR bin (>= 30, standard
///    error 0.21, NGA 2015 Table 4).
///  - wavelength 0.6 um: the visible pan band centre, `predict`'s custom default.
inline constexpr double default_q = 1.0;
inline constexpr double default_snr = 50.0;
inline constexpr double default_wavelength_m = 0.6e-6;

enum class TaskKind { johnson, niirs_criterion, niirs_level };
const char* to_string(TaskKind k);

/// One task: a Johnson task on a target, a published NIIRS criterion or a bare NIIRS level.
struct RequireTask {
    std::string id;  ///< "identify:tel", "niirs:military:5:3", "distinguish-tel-from-support-vans", "niirs:5.5"
    std::string description;  ///< one line
    TaskKind kind = TaskKind::niirs_level;
    interpret::JohnsonTask johnson_task = interpret::JohnsonTask::detection;  ///< kind johnson
    std::optional<interpret::Target> target;                                  ///< kind johnson
    std::optional<interpret::NiirsCriterion> criterion;                       ///< kind niirs_criterion
    double niirs_level = 0.0;                                                 ///< kind niirs_level
};

/// Every catalogue task: Johnson detect / orient / recognise / identify on every catalogue
/// target, every NIIRS criterion of both scales (niirs:SCALE:LEVEL:INDEX, INDEX from 1 in the
/// scale's order) and the slugs of the criteria that calibrate the model.
const std::vector<RequireTask>& task_catalogue();
/// Parses a task id: detect:KEY, orient:KEY, recognise:KEY (or recognize:KEY), identify:KEY with
/// KEY a catalogue target or NAME:LENGTH_M:WIDTH_M; niirs:N (0 < N <= 9);
/// niirs:military|civil:LEVEL:INDEX; or a criterion slug. Case-insensitive. Throws satiq::Error.
RequireTask parse_task(std::string_view id);

/// The conditions a task is sized for (metres; absent = not given).
struct RequireParams {
    std::optional<double> altitude_m;  ///< no aperture without it
    double wavelength_m = default_wavelength_m;
    double q = default_q;
    std::optional<double> rer;  ///< absent: ideal_rer(q)
    double snr = default_snr;
    std::optional<double> pitch_m;  ///< gives the focal length and F-number
};

/// The resolved conditions: the parameters, the RER used and where it comes from.
struct Conditions {
    RequireParams params;
    double rer = 0.0;
    bool rer_given = false;
    std::string rer_source;
    double niirs_standard_error = 0.0;  ///< GIQE 5 at that SNR (NGA 2015 Table 4)
    /// Where each figure of the parameters comes from (provenance.hpp; the parameters' JSON keys):
    /// a default "assumed" with its reasoning, the RER "derived" when not given, any other value
    /// "given" (set for this run; the command marks the option that set it). Figures not given and
    /// without a default (altitude, pitch) are absent.
    ProvenanceMap provenance;
};
/// Validates (every number finite and > 0, RER <= 1) and fills in the RER. Throws satiq::Error.
Conditions resolve(const RequireParams& p);

/// RER (weighted, NGA 2015 eq. 7; both axes equal here) of an ideal diffraction-limited system at
/// Q: unobscured circular aperture, 100 % fill square detector, nothing else (sensor.hpp).
double ideal_rer(double q);
/// GIQE 5 NIIRS at nadir for a GSD (metres), RER and SNR.
double niirs_at_gsd(double gsd_m, double rer, double snr);
/// The coarsest GSD (metres) at which GIQE 5 at nadir gives at least `niirs` at that RER and SNR,
/// by bisection on log10 GSD over 1e-4..1e4 m; nullopt when even 1e-4 m does not reach it.
std::optional<double> gsd_for_niirs(double niirs, double rer, double snr);
/// D = lambda H / (Q GSD) (Fiete 1999; nadir).
double aperture_for_gsd(double gsd_m, double altitude_m, double wavelength_m, double q);

struct Requirement {
    RequireTask task;
    double niirs_needed = 0.0;
    /// niirs_needed inside the NIIRS scale (0, 9] (NGA 2015 §1), as niirs:N demands. A Johnson
    /// task outside it is answered but flagged: the figure is the interpretability model
    /// extrapolated, not a NIIRS.
    bool niirs_needed_on_scale = true;
    // Johnson tasks
    std::optional<double> cycles_needed;         ///< N50 (Johnson 1958)
    std::optional<double> critical_dimension_m;  ///< sqrt(L W)
    std::optional<double> kappa;                 ///< the model's metres per cycle over GRD for the target
    std::optional<double> grd_m;                 ///< GRD at the NIIRS needed
    std::string calibrated_on;                   ///< anchor criterion, when the target has one
    // GSD
    bool met_by_any_gsd = false;  ///< some GSD inside GIQE 5's validated range, or coarser, meets it
    std::optional<double> gsd_max_m;
    bool gsd_extrapolated = false;  ///< gsd_max_m above the validated range
    /// GIQE 5 is still met at the search's coarsest GSD (10 km): gsd_max_m is that limit, not a
    /// root of the equation; any GSD up to it meets the task.
    bool gsd_max_at_search_limit = false;
    std::optional<double> gsd_max_unvalidated_m;  ///< not met: the GSD the equation, extrapolated, would ask
    double niirs_at_finest_validated_gsd = 0.0;   ///< GIQE 5 at 0.08 m, RER and SNR
    std::optional<double> gsd_with_margin_m;      ///< GSD giving NIIRS needed + one standard error
    // Optics (with altitude_m)
    std::optional<double> aperture_diameter_min_m;
    std::optional<double> aperture_diameter_with_margin_m;
    std::optional<double> focal_length_over_pitch;  ///< H / GSD
    std::optional<double> focal_length_m;           ///< with pitch_m
    std::optional<double> f_number;                 ///< Q p / lambda, with pitch_m
    std::vector<std::string> warnings;
    std::string verdict;  ///< one sentence
};

Requirement evaluate(const RequireTask& task, const Conditions& c);

/// The "parameters" block (resolved, defaults included).
nlohmann::json to_json(const Conditions& c);
/// One result object: task, kind, description, niirs_needed, cycles_needed, gsd_max_m,
/// met_by_any_gsd, aperture_diameter_min_m, ... (README "satiq require").
nlohmann::json to_json(const Requirement& r);
/// Notes printed once: the defaults, the RER's source, the validated range, the model's limits.
std::vector<std::string> notes(const Conditions& c);
/// Header line for text output.
std::string to_text(const Conditions& c);
/// Lines for one task in text output.
std::string to_text(const Requirement& r, const Conditions& c);

}  // namespace satiq::require
