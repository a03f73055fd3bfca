#pragma once
// The machine's memory, for the default memory bounds (`batch --max-memory`, `degrade`).
#include <cstdint>

namespace satiq {

/// Physical memory in bytes (sysconf); 8 GiB when the system does not say.
std::uint64_t physical_memory_bytes();

}  // namespace satiq
