// `satiq degrade`: the JSON of the parameters and the result, and the text report.
#include <fmt/format.h>

#include "satiq/pipeline/ops/degrade.hpp"

namespace satiq {

nlohmann::json to_json(const DegradeParams& p) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"input", p.input.string()},
            {"output", (p.recorded_output.empty() ? p.output : p.recorded_output).string()},
            {"sensor", opt(p.sensor)},
            {"off_nadir_deg", opt(p.off_nadir_deg)},
            {"sensor_overrides", p.sensor_overrides},
            {"target_gsd_m", opt(p.target_gsd_m)},
            {"mtf_nyquist", opt(p.mtf_nyquist)},
            {"sigma_px", opt(p.sigma_px)},
            {"snr", opt(p.snr)},
            {"bits", opt(p.bits)},
            {"seed", p.seed},
            {"input_sigma_px", opt(p.input_sigma_px)},
            {"input_mtf_nyquist", opt(p.input_mtf_nyquist)},
            {"measure_input", p.measure_input},
            {"gsd_m", p.gsd.override_m ? nlohmann::json({p.gsd.override_m->first, p.gsd.override_m->second})
                                       : nlohmann::json(nullptr)},
            {"min_coverage", p.min_coverage},
            {"strip_rows", p.strip_rows},
            {"cloud_optimized", p.cloud_optimized},
            {"compression", p.compression}};
}

nlohmann::json to_json(const DegradeResult& r) {
    const DegradePlan& pl = r.plan;
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    nlohmann::json plan = {
        {"input_gsd_x_m", pl.input_gsd_x_m},
        {"input_gsd_y_m", pl.input_gsd_y_m},
        {"input_effective_gsd_x_m", opt(pl.input_effective_gsd_x_m)},
        {"input_noise_gain", pl.input_noise_gain},
        {"input_effective_gsd_y_m", opt(pl.input_effective_gsd_y_m)},
        {"target_gsd_m", pl.target_gsd_m},
        {"ratio_x", pl.ratio_x},
        {"ratio_y", pl.ratio_y},
        {"width_px", pl.out_width},
        {"height_px", pl.out_height},
        {"target", pl.target_description},
        {"view", pl.view_elevation_deg ? nlohmann::json{{"altitude_m", opt(pl.view_altitude_m)},
                                                        {"off_nadir_deg", opt(pl.view_off_nadir_deg)},
                                                        {"elevation_deg", *pl.view_elevation_deg}}
                                       : nlohmann::json(nullptr)},
        {"sensor_overrides", pl.sensor_overrides},
        {"psf_method", pl.psf_method},
        {"applied_sigma_x_px", opt(pl.applied_sigma_x_px)},
        {"applied_sigma_y_px", opt(pl.applied_sigma_y_px)},
        {"kernel_size_px", pl.kernel_size_px},
        {"snr", opt(pl.snr)},
        {"noise_model", to_string(pl.noise_model)},
        // Electrons belong to the shot-and-read model: null under the others.
        {"electrons_per_dn",
         pl.noise_model == NoiseModel::shot_read ? nlohmann::json(pl.electrons_per_dn) : nlohmann::json(nullptr)},
        {"read_noise_e",
         pl.noise_model == NoiseModel::shot_read ? nlohmann::json(pl.read_noise_e) : nlohmann::json(nullptr)},
        {"noise_sigma_dn_at_15", pl.noise_sigma_dn_at_15},
        {"bits", opt(pl.bits)},
        {"output_gain", pl.output_gain},
        {"output_data_type", to_string(pl.output_type)},
        {"assumptions", pl.assumptions},
        {"warnings", pl.warnings}};
    return {{"plan", plan},
            {"resolved_parameters", r.resolved.values},
            {"provenance", provenance_json(r.resolved.provenance)},
            {"seconds", r.seconds},
            {"strips", r.strips}};
}

std::string to_text(const DegradeResult& r, const std::string& input, const std::string& output) {
    const auto& pl = r.plan;
    std::string out = fmt::format(
        "{} -> {}\n  target: {}\n  input GSD {:.4f} x {:.4f} m -> {:.4f} m "
        "(ratio {:.3f} x {:.3f}), {} x {} px\n  PSF: {}\n  noise: {}{}\n",
        input, output, pl.target_description, pl.input_gsd_x_m, pl.input_gsd_y_m, pl.target_gsd_m, pl.ratio_x,
        pl.ratio_y, pl.out_width, pl.out_height, pl.psf_method, to_string(pl.noise_model),
        pl.snr ? fmt::format(" (SNR {:.1f}, {:.3f} DN at the 15 % level)", *pl.snr, pl.noise_sigma_dn_at_15)
               : std::string());
    for (const auto& s : pl.assumptions)
        out += "  assumed: " + s + "\n";
    for (const auto& s : pl.warnings)
        out += "  warning: " + s + "\n";
    out += resolved_text(r.resolved, "  ");
    out += fmt::format("  {:.2f} s\n", r.seconds);
    return out;
}

}  // namespace satiq
