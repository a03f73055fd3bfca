#include "satiq/kernels/blur.hpp"

#include <cstdio>
#include <string>

namespace satiq {

namespace {

// printf's "%.Nf" (the same digits as fmt's "{:.Nf}": both round the exact binary value).
std::string fixed(double v, int decimals) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return b;
}

}  // namespace

void keep_confirmed_upsampling(SamplingEstimate& sampling) {
    std::string notes;
    for (SamplingEstimate::Axis* a : {&sampling.x, &sampling.y})
        if (a->upsampled && a->kernel.empty()) {
            notes += "; along " + std::string(a == &sampling.x ? "x" : "y") + " a period of " +
                     fixed(a->period_cyc_per_px, 3) + " cycles/px and a spectral drop of " + fixed(a->drop_db, 1) +
                     " dB suggest " + fixed(a->factor, 2) +
                     "x, not confirmed by an interpolation model fit (resampling by a non-integer ratio leaves the "
                     "same period): factor 1 kept";
            a->upsampled = false;
            a->factor = 1.0;
            a->cutoff_cyc_per_px = 0.5;
        }
    if (notes.empty()) return;
    // The summary with the factors that stand (it named the reset ones too).
    sampling.message =
        (sampling.x.upsampled || sampling.y.upsampled ? upsampled_message(sampling)
                                                      : std::string("no confirmed interpolation trace")) +
        notes;
}

EdgeSfrParams blur_sfr_params(const BlurOptions& options, const NoiseEstimate& noise) {
    EdgeSfrParams sfr;
    sfr.gsd_x_m = options.gsd_x_m;
    sfr.gsd_y_m = options.gsd_y_m;
    sfr.saturation_dn = options.saturation_dn;
    sfr.noise_sigma_dn = noise.valid ? noise.sigma_dn : 0.0;
    sfr.keep_profiles = options.keep_profiles;
    sfr.roi_half_width_px = options.roi_half_width_px;
    return sfr;
}

BlurMeasurement measure_blur(ConstImageView<float> image, ConstImageView<std::uint8_t> valid,
                             const BlurOptions& options) {
    BlurMeasurement m;
    m.sampling = estimate_sampling(image, valid);
    keep_confirmed_upsampling(m.sampling);
    m.noise = estimate_noise(image, valid);
    const EdgeSfrParams sfr = blur_sfr_params(options, m.noise);
    EdgeFindParams fp;
    fp.noise_sigma_dn = sfr.noise_sigma_dn;
    fp.saturation_dn = options.saturation_dn;
    m.edges = analyse_edges(image, valid, fp, sfr);
    return m;
}

}  // namespace satiq
