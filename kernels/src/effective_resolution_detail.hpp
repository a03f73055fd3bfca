#pragma once
// Private parts of the effective-resolution (upsampling) detector shared by its sources (not
// installed, not public): effective_resolution.cpp holds the periodicity traces, the Welch
// spectrum and the per-axis decisions; effective_resolution_fit.cpp the interpolation model fit
// (the consistency test after Popescu & Farid, IEEE TSP 53(2), 2005, with the kernels of
// cv::resize and GDAL).
#include <cstdint>
#include <vector>

#include "satiq/kernels/effective_resolution.hpp"

namespace satiq::detail {

// The upper median (element n / 2 after a partial sort); 0 for no values.
double upper_median(std::vector<double> v);

struct FitSegment {
    std::int64_t g0 = 0;    // global index of the first output pixel along the axis
    std::vector<double> y;  // values, segment mean removed
};

struct FitData {
    std::vector<FitSegment> segs;  // most active first
    bool integer_valued = true;    // every value used is an integer (re-quantization noise 1/12)
    std::int64_t extent = 0;       // full image extent along the axis
};

struct ModelFit {
    double sigma2 = 1e300;  // residual variance per degree of freedom of the best kernel and offset
    double k = 0.0;         // factor used (k, or extent / round(extent / k) when close and better)
    double offset = 0.0;
    int kernel = -1;
};

// Best kernel and offset for factor k (the whole-image factor extent / n when it differs from k
// by less than 1 %, and k itself), and the residual variance of that model.
ModelFit fit_factor(const FitData& fd, double k);

// The most active fully valid segments of one axis (rows when transpose is false).
FitData gather_fit(ConstImageView<float> img, ConstImageView<std::uint8_t> mask, bool transpose,
                   const SamplingParams& p);

// Factor with a simple numerator and denominator (up to 4) within 1 % of k, else 0.
double snap_factor(double k);

// Name of fitted kernel index `kernel` (ModelFit::kernel) as reported.
const char* kernel_name(int kernel);

}  // namespace satiq::detail
