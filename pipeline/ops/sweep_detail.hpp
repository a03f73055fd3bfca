#pragma once
// Helpers shared by the sweep's files (sweep.cpp, sweep_outputs.cpp).
#include "satiq/pipeline/ops/sweep.hpp"

namespace satiq::detail {

// The NIIRS to use for a step: measured when both axes have enough edges, else the prediction.
inline double niirs_to_use(const SweepStep& s) {
    if (s.measurement_reliable && s.assessed && s.assessed->giqe5) return s.assessed->giqe5->value;
    return s.prediction.giqe5.value;
}

}  // namespace satiq::detail
