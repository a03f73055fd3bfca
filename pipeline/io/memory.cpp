#include "satiq/pipeline/io/memory.hpp"

#include <unistd.h>

namespace satiq {

std::uint64_t physical_memory_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size) : (8ULL << 30);
}

}  // namespace satiq
