// What a path is, for the one-line errors of the files satiq reads whole (manifests, STAC
// documents, results.jsonl): "no such file" is not the right answer for a folder or a FIFO.
#pragma once

#include <filesystem>
#include <string>

namespace satiq {

/// Empty when `path` is a regular file (symbolic links followed); otherwise why it cannot be
/// read as one: "no such file", "a folder, not a file", "a FIFO (named pipe), not a regular
/// file", "a socket, ...", "a device, ...", or "cannot access: REASON".
std::string not_a_regular_file(const std::filesystem::path& path);

}  // namespace satiq
