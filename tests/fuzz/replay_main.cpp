// Replays fuzz inputs without libFuzzer: calls LLVMFuzzerTestOneInput once on every file given,
// and on every regular file (sorted by name, recursively) of every folder given. Linked with a
// fuzz target in the normal g++ build, so that ctest replays the seed corpus (tests/fuzz/corpus/)
// and every crash ever found stays a regression test. Exit 0 when every input ran; a finding
// crashes or aborts the process (the name of the input is printed before it runs).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path p(argv[i]);
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> in_dir;
            for (const auto& e : fs::recursive_directory_iterator(p, ec))
                if (e.is_regular_file()) in_dir.push_back(e.path());
            std::sort(in_dir.begin(), in_dir.end());
            files.insert(files.end(), in_dir.begin(), in_dir.end());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
            return 2;
        }
    }
    for (const fs::path& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.eof() && in.fail()) {
            std::fprintf(stderr, "%s: cannot read\n", f.c_str());
            return 2;
        }
        std::fprintf(stderr, "replay %s (%zu bytes)\n", f.c_str(), bytes.size());
        std::fflush(stderr);
        // A copy of exactly `size` bytes (no slack), so that a read past the end is caught by ASan.
        // (libFuzzer never passes a null pointer, not even for an empty input.)
        std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
        static std::uint8_t empty = 0;
        LLVMFuzzerTestOneInput(data.empty() ? &empty : data.data(), data.size());
    }
    std::fprintf(stderr, "replayed %zu inputs: no finding\n", files.size());
    return 0;
}
