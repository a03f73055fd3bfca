#pragma once
// Private FFTW helpers shared by the FFT convolution sources (convolve_2d_plan.cpp plans and
// transforms the kernel, convolve_2d.cpp runs the overlap-save blocks). Only with
// SATIQ_WITH_FFTW (SATIQ_HAVE_FFTW defined for those sources); empty otherwise.
#ifdef SATIQ_HAVE_FFTW
#include <fftw3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "satiq/kernels/error.hpp"

namespace satiq::detail {

// FFTW's planner is not thread-safe; execution with the new-array interface is. One mutex for
// the program (an inline function's static is shared by every translation unit).
inline std::mutex& fftw_planner_mutex() {
    static std::mutex m;
    return m;
}

struct FftwPlans {
    fftwf_plan forward = nullptr;
    fftwf_plan inverse = nullptr;
    FftwPlans() = default;
    FftwPlans(const FftwPlans&) = delete;
    FftwPlans& operator=(const FftwPlans&) = delete;
    ~FftwPlans() {
        const std::lock_guard lock(fftw_planner_mutex());
        if (forward) fftwf_destroy_plan(forward);
        if (inverse) fftwf_destroy_plan(inverse);
    }
};

struct FftwFree {
    void operator()(float* p) const { fftwf_free(p); }
};
using FftwBuffer = std::unique_ptr<float[], FftwFree>;

inline FftwBuffer fftw_buffer(std::size_t floats) {
    auto* p = static_cast<float*>(fftwf_malloc(floats * sizeof(float)));
    if (!p) throw Error("convolve_2d (fft): out of memory for an FFT tile");
    return FftwBuffer(p);
}

inline std::size_t complex_floats(std::int64_t n) {
    return static_cast<std::size_t>(n * (n / 2 + 1) * 2);
}

}  // namespace satiq::detail
#endif
