#pragma once
// The sweep's chips: the same ground at every step, shown at the same screen size (nearest
// neighbour when a step has fewer pixels than the screen, box average when it has more), with
// one display stretch (the input chip's 2nd and 98th percentiles, times each step's output gain).
#include <cstdint>
#include <filesystem>
#include <vector>

#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/assess.hpp"
#include "satiq/pipeline/ops/degrade.hpp"

namespace satiq {

struct ChipLayout {
    int display_px = 320;
    int band = 0;  // as assess: 0 = band 1, or the luminance of an RGB image
    // Ground windows in input pixels (continuous coordinates).
    double x0 = 0, y0 = 0, w = 0, h = 0;
    double zx0 = 0, zy0 = 0, zw = 0, zh = 0;
    double ground_m = 0, zoom_ground_m = 0;
    double lo_dn = 0, hi_dn = 1;  // input DN mapped to black and white
};

/// Chooses the chip (up to 2 x display_px input pixels, centred on the densest cluster of the
/// input's usable edges) and its zoom (a quarter of its side, on the densest cluster inside it).
ChipLayout plan_chips(const Raster& input, const AssessResult& input_assessment, int display_px, int band);
void render_input_chips(const Raster& input, ChipLayout& layout, std::vector<unsigned char>& chip_png,
                        std::vector<unsigned char>& zoom_png);
void render_step_chips(const std::filesystem::path& step_file, const ChipLayout& layout, const DegradePlan& plan,
                       std::vector<unsigned char>& chip_png, std::vector<unsigned char>& zoom_png);

}  // namespace satiq
