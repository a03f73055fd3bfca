#pragma once
// Internals of `satiq degrade` shared by degrade.cpp (plan, streaming) and degrade_psf.cpp (the
// PSF applied on the input grid); not installed.
#include <cstdint>
#include <optional>
#include <string>

#include "satiq/kernels/convolve.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/pipeline/ops/degrade.hpp"

namespace satiq::detail {

// The target system, resolved from the parameters.
struct DegradeTarget {
    std::optional<sensor::SensorModel> model;
    std::string description;
    double gsd_m = 0;
    std::optional<double> snr;
    NoiseModel noise_model = NoiseModel::none;
    double read_noise_e = 0;
    std::optional<double> altitude_m;  // preset form
};

// The PSF to apply on the input grid.
struct Psf {
    std::optional<SeparableKernel> separable;
    std::optional<Convolve2dPlan> plan;
    std::int64_t halo_y = 0;
    std::int64_t fft_block_y = 0;  // > 0: conv output rows must align to this grid
};

/// The PSF that takes the input (Gaussian blur sigma_in px integrated over its pixel) to the
/// target system on the input grid, and its noise gain with the area integration; fills
/// out_plan's psf_method, applied sigmas, kernel size, input_noise_gain and warnings.
Psf build_psf(const DegradeTarget& t, const DegradePlan& plan, double sigma_in, DegradePlan& out_plan);

// Sigma (px) of the Gaussian-x-pixel-box model whose RER = ESF(+0.5) - ESF(-0.5) equals `rer`
// (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010); RER falls monotonically with sigma,
// so bisection. RER >= 1 (no blur) gives 0.
double sigma_from_rer(double rer);

}  // namespace satiq::detail
