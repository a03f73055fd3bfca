// Uses satiq::kernels and satiq::pipeline from an installed satiq (tests/install/run_consumer_test.sh
// checks each line of the output).
#include <cstdio>
#include <exception>

#include "satiq/kernels/image.hpp"
#include "satiq/kernels/statistics.hpp"
#include "satiq/pipeline/io/gsd.hpp"
#include "satiq/pipeline/model/predict.hpp"
#include "satiq/pipeline/model/sensor.hpp"
#include "satiq/version.hpp"

int main() {
    try {
        std::printf("version %s %d.%d.%d\n", SATIQ_VERSION_STRING, SATIQ_VERSION_MAJOR, SATIQ_VERSION_MINOR,
                    SATIQ_VERSION_PATCH);

        // Kernels: statistics of a 4 x 4 ramp 0..15.
        satiq::Image img(4, 4);
        for (int i = 0; i < 16; ++i)
            img.pixels()[static_cast<std::size_t>(i)] = static_cast<float>(i);
        const satiq::ImageStats s = satiq::compute_stats(img.view());
        std::printf("stats count=%lld min=%g max=%g mean=%g\n", static_cast<long long>(s.valid_count), s.min, s.max,
                    s.mean);

        // Pipeline: the GSD parser and a NIIRS prediction of a built-in sensor preset.
        const auto [gx, gy] = satiq::parse_gsd_pair("0.5,0.75");
        std::printf("gsd %g %g\n", gx, gy);
        const auto names = satiq::sensor::sensor_preset_names();
        if (names.empty()) {
            std::printf("no presets\n");
            return 1;
        }
        const auto& preset = satiq::sensor::find_sensor_preset(names.front());
        const auto model = satiq::sensor::SensorModel::physical(preset.description);
        const satiq::Prediction p = satiq::predict(model, "preset", preset.name);
        const double niirs = p.giqe5.value;
        std::printf("preset %s niirs %.2f\n", preset.name.c_str(), niirs);
        std::printf("niirs_in_range %s\n", (niirs > 0.0 && niirs < 10.0) ? "yes" : "no");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "satiq_consumer: %s\n", e.what());
        return 1;
    }
}
