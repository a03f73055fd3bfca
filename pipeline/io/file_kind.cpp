// not_a_regular_file (file_kind.hpp).
#include "satiq/pipeline/io/file_kind.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace satiq {

std::string not_a_regular_file(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return errno == ENOENT ? std::string("no such file") : std::string("cannot access: ") + std::strerror(errno);
    if (S_ISREG(st.st_mode)) return {};
    if (S_ISDIR(st.st_mode)) return "a folder, not a file";
    if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe), not a regular file";
    if (S_ISSOCK(st.st_mode)) return "a socket, not a regular file";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device, not a regular file";
    return "not a regular file";
}

}  // namespace satiq
