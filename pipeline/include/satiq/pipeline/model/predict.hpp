#pragma once
/// `satiq predict` as a library call: NIIRS (GIQE 5, 4 and 3) and the interpretability verdicts
/// of a sensor model, with one JSON and one text serializer used by `predict` and `sweep`.
///
/// GIQE 5 is fed the weighted GSD and weighted RER (NGA, "General Image Quality Equation v5.0",
/// 2015, eqs. 2, 5, 7); GIQE 4 (Leachtenauer et al., Appl. Opt. 36(32), 1997) the ground-plane
/// GSD and the un-sharpened geometric-mean RER and H with G = 1; GIQE 3 the normal GSD.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/model/giqe.hpp"
#include "satiq/pipeline/model/interpretation.hpp"
#include "satiq/pipeline/model/provenance.hpp"
#include "satiq/pipeline/model/sensor.hpp"

namespace satiq {

struct Prediction {
    std::optional<sensor::SensorModel> model;  ///< always set by predict()
    std::string mode;                          ///< "simple", "preset", "custom"
    std::string preset_name;                   ///< preset form
    double rer_geometric_mean = 0.0, overshoot_h_geometric_mean = 0.0, rer_weighted = 0.0;
    giqe::NiirsPrediction giqe5, giqe4, giqe3;
    interpret::Rule rule = interpret::Rule::niirs_model;
    interpret::Interpretation interpretation;
    std::vector<std::string> warnings;  ///< the model's and every equation's
    /// Input figure (the parameters' JSON key) -> its provenance: a preset's notes, a value that
    /// differs from the preset's marked "given", satiq's defaults "assumed" (custom and simple
    /// forms). mark_given() names the option that set a figure.
    ProvenanceMap provenance;
};

/// The input figures of a sensor model, each with the value the model uses (the parameters' JSON
/// keys; metres, pixels, electrons) and its provenance: a preset's notes (sensors.json), "given"
/// where the value differs from the preset's, satiq's defaults "assumed" (custom and simple forms;
/// the simple form's blur "given", its other expression "derived"). predict() keeps the
/// provenance; degrade and sweep report both (with what they were given marked by the caller).
/// A preset's SNR is one figure, not computed from its optics: when the optics or detector given
/// for this run (aperture, focal length, obscuration, pitch, fill factor) change the light a pixel
/// collects while the SNR stays the preset's, a warning that says so with the ratio of light;
/// nothing otherwise (the simple and custom forms, an SNR given, the radiometric model).
std::optional<std::string> fixed_snr_warning(const sensor::SensorModel& model, const std::string& preset_name);

ResolvedFigures model_figures(const sensor::SensorModel& model, const std::string& preset_name = {});

/// Marks figures as given by the user: figure key -> the option and value ("--aperture-m 0.2").
void mark_given(Prediction& p, const std::map<std::string, std::string>& given);

/// Predicts from a built model. `targets` empty: the whole catalogue. Throws satiq::Error.
Prediction predict(const sensor::SensorModel& model, std::string mode, std::string preset_name = {},
                   const std::vector<interpret::Target>& targets = {},
                   interpret::Rule rule = interpret::Rule::niirs_model);

/// The simple form at a GSD: Gaussian optics x square pixel solved from MTF(Nyquist) or sigma.
sensor::SensorModel simple_model(double gsd_m, std::optional<double> mtf_nyquist, std::optional<double> sigma_px,
                                 double snr);

/// The parameters block (the model's description, or the simple form's figures).
nlohmann::json parameters_json(const Prediction& p);
/// The result document of `predict --format json` (without the envelope's parameters).
nlohmann::json to_json(const Prediction& p);
/// The text of `predict`.
std::string to_text(const Prediction& p);

}  // namespace satiq
