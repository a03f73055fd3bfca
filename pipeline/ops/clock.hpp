#pragma once
// Time helpers shared by the pipeline's commands: elapsed seconds and a UTC timestamp.
#include <chrono>
#include <ctime>
#include <string>

namespace satiq::detail {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

/// "2026-12-06T21:16:30Z" (ISO 8601, UTC).
inline std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace satiq::detail
