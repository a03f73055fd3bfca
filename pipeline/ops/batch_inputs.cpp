// `satiq batch` inputs: arguments (files, folders, globs, GDAL virtual paths), manifests (plain
// lists or CSV with per-image metadata) and STAC documents on disk, gathered in a deterministic
// order, de-duplicated by resolved path, and split into shards: the sorted paths dealt round robin.
#include <glob.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <fmt/format.h>
#include <gdal.h>
#include <nlohmann/json.hpp>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/io/file_kind.hpp"
#include "satiq/pipeline/io/raster.hpp"
#include "satiq/pipeline/ops/batch.hpp"

namespace satiq {

namespace fs = std::filesystem;

namespace {

std::string to_lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string_view trim(std::string_view s) {
    const auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
    };
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

bool ends_with_ci(const std::string& s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    return to_lower(s.substr(s.size() - suffix.size())) == suffix;
}

bool has_glob_chars(const std::string& s) {
    return s.find_first_of("*?[") != std::string::npos;
}

/// Metadata sidecars GDAL may identify as rasters (an .ovr or .msk is a TIFF; a DIMAP .XML is
/// identified by the DIMAP driver) but that belong to another image: never taken from a folder.
bool is_sidecar(const fs::path& p) {
    const std::string name = p.filename().string();
    for (std::string_view ext : {".aux.xml", ".ovr", ".msk", ".imd", ".rpb", ".xml"})
        if (ends_with_ci(name, ext)) return true;
    return false;
}

/// Does GDAL recognise the content of this (regular) file as a raster? Identification only: the
/// file is not opened as a dataset. GDAL's messages are silenced for the call.
bool gdal_identifies_raster(const fs::path& p) {
    init_gdal();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDriverH driver = GDALIdentifyDriverEx(p.c_str(), GDAL_OF_RASTER, nullptr, nullptr);
    CPLPopErrorHandler();
    CPLErrorReset();
    return driver != nullptr;
}

/// GDAL's file system for an archive named like `path` (https://gdal.org/user/virtual_file_systems.html):
/// "/vsizip/" for .zip, "/vsitar/" for .tar, .tgz, .tar.gz; null for anything else.
const char* archive_file_system(const std::string& path) {
    if (ends_with_ci(path, ".zip")) return "/vsizip/";
    for (std::string_view ext : {".tar", ".tgz", ".tar.gz"})
        if (ends_with_ci(path, ext)) return "/vsitar/";
    return nullptr;
}

/// A virtual path naming a folder: a folder of an archive (/vsizip/, /vsitar/, its root
/// included), or any virtual path ending in '/' (a /vsis3/ prefix). Other virtual paths are not
/// looked at here (a /vsicurl/ file costs a request).
bool is_virtual_folder(const std::string& path) {
    const bool archive = path.rfind("/vsizip/", 0) == 0 || path.rfind("/vsitar/", 0) == 0;
    if (!archive && path.back() != '/') return false;
    VSIStatBufL st{};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const bool dir = VSIStatL(path.c_str(), &st) == 0 && VSI_ISDIR(st.st_mode);
    CPLPopErrorHandler();
    CPLErrorReset();
    return dir;
}

/// A URL or a local path where a STAC href or manifest line holds a remote location: GDAL's
/// network file systems (https://gdal.org/user/virtual_file_systems.html).
std::optional<std::string> url_to_vsi(const std::string& ref) {
    const std::string lower = to_lower(ref.substr(0, std::min<std::size_t>(ref.size(), 8)));
    if (lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0) return "/vsicurl/" + ref;
    if (lower.rfind("s3://", 0) == 0) return "/vsis3/" + ref.substr(5);
    if (lower.rfind("gs://", 0) == 0) return "/vsigs/" + ref.substr(5);
    return std::nullopt;
}

/// Resolves a reference found in a file (manifest line, STAC href or link) against the folder of
/// that file: virtual paths and URLs are kept (URLs mapped to /vsicurl/, /vsis3/, /vsigs/),
/// `file://` is stripped, absolute paths are kept, relative ones are joined to `base_dir`.
/// `uri`: the reference is a URI reference (STAC hrefs): "." and ".." segments are removed
/// lexically, as RFC 3986 section 5.2.4 (remove_dot_segments) resolves them.
std::string resolve_reference(const std::string& ref, const fs::path& base_dir, bool uri) {
    if (is_gdal_virtual_path(ref)) return ref;
    if (auto vsi = url_to_vsi(ref)) return *vsi;
    std::string local = ref;
    if (to_lower(local.substr(0, std::min<std::size_t>(local.size(), 7))) == "file://") local = local.substr(7);
    fs::path p(local);
    if (!p.is_absolute() && !base_dir.empty()) p = base_dir / p;
    return uri ? p.lexically_normal().string() : p.string();
}

/// Collects inputs in order of first occurrence, de-duplicated by resolved path.
// `s` with the characters glob(3) gives a meaning escaped: a folder name taken as it is.
std::string glob_escape(const std::string& s) {
    std::string out;
    for (const char c : s) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// The matches of a pattern, sorted and without repeats. glob(3) (POSIX.1-2017, "glob") matches
// *, ? and [...] within a path component, and a leading '.' only when the pattern spells it; on
// top of it, a component that is "**" matches zero or more folders (as bash's globstar), hidden
// folders and symbolic links to folders not entered; what it matches is files only ("a/**": every
// file below a). `rc`: 0, GLOB_NOMATCH, or the error of
// glob(3) (GLOB_ABORTED: a folder could not be read).
std::vector<std::string> expand_glob(const std::string& pattern, int& rc) {
    std::vector<std::string> out;
    // The first "**" component: what comes before it is expanded by glob(3), then the rest is
    // matched in each folder below those.
    std::size_t star2 = std::string::npos;
    for (std::size_t at = 0; (at = pattern.find("**", at)) != std::string::npos; at += 2) {
        const bool starts = at == 0 || pattern[at - 1] == '/';
        const bool ends = at + 2 == pattern.size() || pattern[at + 2] == '/';
        if (starts && ends) {
            star2 = at;
            break;
        }
    }
    if (star2 == std::string::npos) {
        glob_t g{};
        rc = ::glob(pattern.c_str(), 0, nullptr, &g);
        if (rc == 0)
            for (std::size_t i = 0; i < g.gl_pathc; ++i)
                out.emplace_back(g.gl_pathv[i]);
        ::globfree(&g);
        return out;
    }
    const std::string head = pattern.substr(0, star2);  // "" or ending in '/'
    std::string tail = star2 + 3 <= pattern.size() ? pattern.substr(star2 + 3) : std::string();
    if (tail.empty()) tail = "*";  // "a/**": every file below a
    std::vector<std::string> bases;
    if (head.empty()) {
        bases.emplace_back(".");
    } else if (has_glob_chars(head)) {
        bases = expand_glob(head, rc);
        if (rc != 0 && rc != GLOB_NOMATCH) return {};
    } else {
        bases.push_back(head);
    }
    rc = 0;
    std::set<std::string> found;
    for (const std::string& base : bases) {
        std::error_code ec;
        if (!fs::is_directory(base, ec)) continue;
        std::vector<fs::path> folders{fs::path(base)};
        fs::recursive_directory_iterator it(base, fs::directory_options::skip_permission_denied, ec);
        if (ec) {
            rc = GLOB_ABORTED;
            return {};
        }
        for (const fs::recursive_directory_iterator end{}; it != end; it.increment(ec)) {
            if (ec) {
                rc = GLOB_ABORTED;
                return {};
            }
            std::error_code e2;
            if (!it->is_directory(e2) || it->is_symlink(e2)) continue;
            if (it->path().filename().string().front() == '.') {
                it.disable_recursion_pending();
                continue;
            }
            folders.push_back(it->path());
        }
        for (const fs::path& f : folders) {
            // Within `base` as the user wrote it: "a/" + "b/x.tif", "./" left out for a bare "**".
            std::string prefix = head.empty() && f == fs::path(".") ? std::string() : f.generic_string();
            if (head.empty() && prefix.rfind("./", 0) == 0) prefix.erase(0, 2);
            if (!prefix.empty() && prefix.back() != '/') prefix += '/';
            int sub_rc = 0;
            for (std::string& m : expand_glob(glob_escape(prefix) + tail, sub_rc))
                if (!fs::is_directory(m, ec)) found.insert(std::move(m));  // "**" reaches every folder itself
            if (sub_rc != 0 && sub_rc != GLOB_NOMATCH) {
                rc = sub_rc;
                return {};
            }
        }
    }
    out.assign(found.begin(), found.end());
    rc = out.empty() ? GLOB_NOMATCH : 0;
    return out;
}

class Gatherer {
public:
    GatheredInputs result;

    /// A file, folder, glob or virtual path, with the metadata its source knows (`tmpl`).
    void add_argument(const std::string& arg, const BatchInput& tmpl) {
        if (is_gdal_virtual_path(arg)) {
            if (is_virtual_folder(arg))
                add_virtual_folder(arg, tmpl);
            else
                add_input(arg, tmpl);
            return;
        }
        std::error_code ec;
        const fs::file_status literal = fs::status(arg, ec);
        // A name that exists as written is taken literally even when it holds glob characters
        // (a file named "scene [1].tif").
        if (has_glob_chars(arg) && !fs::exists(literal)) {
            add_glob(arg, tmpl);
            return;
        }
        if (!arg.empty() && fs::is_directory(literal)) {
            add_folder(arg, tmpl);
            return;
        }
        add_file(arg, tmpl);
    }

    /// A single file path: kept when it is a regular file (recognised as a raster later, when it
    /// is assessed). Only stat(2) is used: a FIFO or a device is never opened.
    void add_file(const std::string& path, const BatchInput& tmpl) {
        if (path.empty()) {
            result.rejected.emplace_back(path, "empty path");
            return;
        }
        std::error_code ec;
        const fs::file_status st = fs::status(path, ec);
        if (st.type() == fs::file_type::not_found) {
            result.rejected.emplace_back(path, "no such file");
            return;
        }
        if (ec) {
            result.rejected.emplace_back(path, "cannot access: " + ec.message());
            return;
        }
        if (!fs::is_regular_file(st)) {
            result.rejected.emplace_back(path,
                                         fs::is_directory(st) ? "not a regular file (a folder)" : "not a regular file");
            return;
        }
        // An archive named as a file (delivery.zip, scenes.tar.gz) is walked as a folder through
        // GDAL's /vsizip/ or /vsitar/, unless GDAL reads the file itself as a raster.
        if (const char* fs_prefix = archive_file_system(path); fs_prefix && !gdal_identifies_raster(path)) {
            add_virtual_folder(fs_prefix + path, tmpl);
            return;
        }
        add_input(path, tmpl);
    }

    /// Every file under a virtual folder (an archive, or a /vsis3/-style prefix ending in '/')
    /// that GDAL identifies as a raster, sorted by path; hidden entries and sidecars are skipped
    /// as in a folder on disk. The listing is GDAL's (VSIReadDirRecursive).
    void add_virtual_folder(const std::string& dir, const BatchInput& tmpl) {
        const std::string base = dir.back() == '/' ? dir : dir + "/";
        CPLPushErrorHandler(CPLQuietErrorHandler);
        char** list = VSIReadDirRecursive(dir.c_str());
        CPLPopErrorHandler();
        CPLErrorReset();
        if (list == nullptr) {  // a corrupt or truncated archive, or an unreachable prefix
            result.rejected.emplace_back(dir, "cannot be listed as an archive or folder (corrupt or unreadable)");
            return;
        }
        std::vector<std::string> files;
        for (char** e = list; *e; ++e) {
            const std::string rel = *e;
            if (rel.empty() || rel.back() == '/') continue;  // a folder
            bool hidden = false;
            for (const fs::path& part : fs::path(rel))
                hidden |= part.string().front() == '.';
            if (hidden || is_sidecar(fs::path(rel))) continue;
            VSIStatBufL st{};
            if (VSIStatL((base + rel).c_str(), &st) != 0 || !VSI_ISREG(st.st_mode)) continue;
            files.push_back(base + rel);
        }
        CSLDestroy(list);
        std::sort(files.begin(), files.end());
        BatchInput t = tmpl;
        if (t.source == "argument" || t.source == "glob") t.source = "archive";
        std::size_t taken = 0;
        for (const std::string& f : files) {
            if (!gdal_identifies_raster(f)) continue;
            add_input(f, t);
            ++taken;
        }
        if (taken == 0) result.rejected.emplace_back(dir, "no raster file in the archive or virtual folder");
    }

    /// A pattern's matches, sorted (byte order); each match is taken as a file.
    void add_glob(const std::string& pattern, const BatchInput& tmpl) {
        int rc = 0;
        const std::vector<std::string> matches = expand_glob(pattern, rc);
        if (rc == GLOB_NOMATCH || (rc == 0 && matches.empty())) {
            result.rejected.emplace_back(pattern, "no file matches");
            return;
        }
        if (rc != 0) {
            result.rejected.emplace_back(
                pattern, rc == GLOB_ABORTED ? "cannot read a folder of the pattern" : "cannot expand the pattern");
            return;
        }
        BatchInput t = tmpl;
        if (t.source == "argument") t.source = "glob";
        for (const std::string& m : matches)
            add_file(m, t);
    }

    /// Every regular file under `dir` whose content GDAL identifies as a raster, sorted by path.
    /// Hidden entries (a name starting with '.') are skipped, and symlinked folders are not
    /// followed (a symlink to a file is taken).
    void add_folder(const std::string& dir, const BatchInput& tmpl) {
        std::vector<fs::path> files;
        std::error_code ec;
        fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
        if (ec) {
            result.rejected.emplace_back(dir, "cannot read folder: " + ec.message());
            return;
        }
        for (const fs::recursive_directory_iterator end{}; it != end; it.increment(ec)) {
            if (ec) break;
            const fs::directory_entry& entry = *it;
            const std::string name = entry.path().filename().string();
            std::error_code ec_entry;
            if (!name.empty() && name.front() == '.') {
                if (entry.is_directory(ec_entry) && !entry.is_symlink(ec_entry)) it.disable_recursion_pending();
                continue;
            }
            // Follows a symlink to its target: a FIFO, a socket, a device, a folder is skipped.
            if (!entry.is_regular_file(ec_entry) || ec_entry) continue;
            if (is_sidecar(entry.path())) continue;
            files.push_back(entry.path());
        }
        if (ec) {
            result.rejected.emplace_back(dir, "cannot read folder: " + ec.message());
            return;
        }
        std::sort(files.begin(), files.end());
        BatchInput t = tmpl;
        if (t.source == "argument") t.source = "folder";
        std::size_t taken = 0;
        for (const fs::path& f : files) {
            if (!gdal_identifies_raster(f)) continue;  // READMEs, notes, checksums ...
            add_input(f.string(), t);
            ++taken;
        }
        if (taken == 0) result.rejected.emplace_back(dir, "no raster file in the folder");
    }

private:
    std::map<std::string, std::size_t> m_seen;  // identity -> index in result.inputs

    static std::string identity(const std::string& path) {
        if (is_gdal_virtual_path(path)) return path;
        std::error_code ec;
        fs::path resolved = fs::weakly_canonical(fs::path(path), ec);
        if (ec) resolved = fs::absolute(fs::path(path), ec).lexically_normal();
        return resolved.string();
    }

    void add_input(const std::string& path, const BatchInput& tmpl) {
        const auto [seen, first_time] = m_seen.emplace(identity(path), result.inputs.size());
        if (!first_time) {
            result.duplicates.push_back(path);
            if (std::string c = conflict(result.inputs[seen->second], tmpl, path); !c.empty())
                result.conflicts.push_back(std::move(c));
            return;
        }
        BatchInput in = tmpl;
        in.path = path;
        result.inputs.push_back(std::move(in));
    }

    // What a duplicate `again` of `first` gives otherwise (the per-image values that reach the
    // assessment), as one line; empty when nothing differs.
    static std::string conflict(const BatchInput& first, const BatchInput& again, const std::string& path) {
        auto text = [](const std::optional<double>& v) { return v ? fmt::format("{:g}", *v) : std::string("none"); };
        std::string diff;
        for (const auto& [name, a, b] : {std::tuple{"gsd_m", &first.gsd_m, &again.gsd_m},
                                         std::tuple{"elevation_deg", &first.elevation_deg, &again.elevation_deg},
                                         std::tuple{"snr", &first.snr, &again.snr}}) {
            if (*a == *b) continue;
            diff += fmt::format("{}{} {} then {}", diff.empty() ? "" : ", ", name, text(*a), text(*b));
        }
        if (diff.empty()) return {};
        return fmt::format("{}: given twice with different values, {} ({}, then {}): the first is used", path, diff,
                           first.origin, again.origin);
    }
};

// ---------------------------------------------------------------------------------------------
// Manifests

std::string read_text_file(const fs::path& p, const char* what) {
    if (const std::string why = not_a_regular_file(p); !why.empty())
        throw Error(fmt::format("{}: {}: {}", p.string(), what, why));
    std::ifstream in(p, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: {}: cannot open", p.string(), what));
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 byte order mark (spreadsheets)
    return text;
}

/// One CSV field: its text and whether it was double-quoted (a quoted field is taken verbatim).
struct CsvField {
    std::string text;
    bool quoted = false;
};
struct CsvRecord {
    std::vector<CsvField> fields;
    int line = 0;  ///< 1-based line where the record starts
};

/// RFC 4180 (Common Format and MIME Type for CSV Files), section 2: records separated by line
/// breaks (CRLF or LF accepted), fields by commas; a field may be enclosed in double quotes, and
/// then may hold commas and line breaks, a double quote inside being written as two ("").
/// Spaces around an unquoted field are trimmed (a common leniency beyond the RFC).
std::vector<CsvRecord> parse_csv(const std::string& text, const fs::path& file) {
    std::vector<CsvRecord> records;
    std::size_t i = 0;
    int line = 1;
    const std::size_t n = text.size();
    while (i < n) {
        CsvRecord rec;
        rec.line = line;
        bool end_of_record = false;
        while (!end_of_record) {
            CsvField field;
            // Leading blanks before an opening quote.
            std::size_t j = i;
            while (j < n && (text[j] == ' ' || text[j] == '\t'))
                ++j;
            if (j < n && text[j] == '"') {
                field.quoted = true;
                const int start_line = line;
                i = j + 1;
                bool closed = false;
                while (i < n) {
                    const char c = text[i];
                    if (c == '"') {
                        if (i + 1 < n && text[i + 1] == '"') {
                            field.text += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        closed = true;
                        break;
                    }
                    if (c == '\n') ++line;
                    field.text += c;
                    ++i;
                }
                if (!closed)
                    throw Error(fmt::format("{}: line {}: a quoted field is not closed", file.string(), start_line));
                while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
                    ++i;
                if (i < n && text[i] != ',' && text[i] != '\n')
                    throw Error(fmt::format("{}: line {}: text after a closing quote", file.string(), line));
            } else {
                std::string raw;
                while (i < n && text[i] != ',' && text[i] != '\n')
                    raw += text[i++];
                field.text = std::string(trim(raw));
            }
            rec.fields.push_back(std::move(field));
            if (i >= n) {
                end_of_record = true;
            } else if (text[i] == ',') {
                ++i;
            } else {  // '\n'
                ++i;
                ++line;
                end_of_record = true;
            }
        }
        // A blank line, or a row of empty cells (spreadsheets export ",,,"), holds no record.
        const bool blank = std::all_of(rec.fields.begin(), rec.fields.end(),
                                       [](const CsvField& f) { return !f.quoted && f.text.empty(); });
        if (!blank) records.push_back(std::move(rec));
    }
    return records;
}

/// A positive finite number in a manifest cell; std::nullopt for an empty cell.
std::optional<double> parse_positive(const CsvField& cell, const fs::path& file, int line, const std::string& column) {
    const std::string_view s = trim(cell.text);
    if (s.empty()) return std::nullopt;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size())
        throw Error(fmt::format("{}: line {}: column {}: '{}' is not a number", file.string(), line, column, s));
    if (!std::isfinite(v) || v <= 0)
        throw Error(
            fmt::format("{}: line {}: column {}: '{}' must be a finite number > 0", file.string(), line, column, s));
    return v;
}

void gather_manifest(const fs::path& manifest, Gatherer& g) {
    const std::string text = read_text_file(manifest, "manifest");
    const fs::path base = manifest.parent_path();

    // The first non-empty line decides: a field named `path` makes it a CSV with a header.
    std::string first;
    {
        std::istringstream ls(text);
        std::string l;
        while (std::getline(ls, l))
            if (!trim(l).empty()) {
                first = l;
                break;
            }
    }
    bool is_csv = false;
    if (!first.empty()) {
        std::vector<CsvRecord> head;
        try {
            head = parse_csv(first, manifest);
        } catch (const Error&) {
            head.clear();  // an unbalanced quote on a plain line: not a CSV header
        }
        if (!head.empty())
            for (const CsvField& f : head.front().fields)
                if (to_lower(std::string(trim(f.text))) == "path") is_csv = true;
    }

    BatchInput tmpl;
    tmpl.source = "manifest";
    if (!is_csv) {
        // One path per line; blank lines and lines starting with '#' are ignored.
        std::istringstream ls(text);
        std::string l;
        int number = 0;
        while (std::getline(ls, l)) {
            ++number;
            const std::string entry(trim(l));
            if (entry.empty() || entry.front() == '#') continue;
            BatchInput t = tmpl;
            t.origin = fmt::format("{} line {}", manifest.string(), number);
            g.add_argument(resolve_reference(entry, base, false), t);
        }
        return;
    }

    const std::vector<CsvRecord> records = parse_csv(text, manifest);
    const CsvRecord& header = records.front();
    int col_path = -1, col_gsd = -1, col_elev = -1, col_snr = -1;
    for (std::size_t c = 0; c < header.fields.size(); ++c) {
        const std::string name = to_lower(std::string(trim(header.fields[c].text)));
        const int ci = static_cast<int>(c);
        if (name == "path" && col_path < 0) col_path = ci;
        if (name == "gsd_m" && col_gsd < 0) col_gsd = ci;
        if (name == "elevation_deg" && col_elev < 0) col_elev = ci;
        if (name == "snr" && col_snr < 0) col_snr = ci;
    }
    const auto cell = [](const CsvRecord& r, int c) -> CsvField {
        if (c < 0 || static_cast<std::size_t>(c) >= r.fields.size()) return {};
        return r.fields[static_cast<std::size_t>(c)];
    };
    for (std::size_t r = 1; r < records.size(); ++r) {
        const CsvRecord& rec = records[r];
        const std::string path = cell(rec, col_path).text;
        if (path.empty()) throw Error(fmt::format("{}: line {}: column path is empty", manifest.string(), rec.line));
        BatchInput t = tmpl;
        t.origin = fmt::format("{} line {}", manifest.string(), rec.line);
        t.gsd_m = parse_positive(cell(rec, col_gsd), manifest, rec.line, "gsd_m");
        t.elevation_deg = parse_positive(cell(rec, col_elev), manifest, rec.line, "elevation_deg");
        if (t.elevation_deg && *t.elevation_deg > 90)
            throw Error(fmt::format("{}: line {}: column elevation_deg: {} must be in (0, 90] degrees",
                                    manifest.string(), rec.line, *t.elevation_deg));
        t.snr = parse_positive(cell(rec, col_snr), manifest, rec.line, "snr");
        g.add_argument(resolve_reference(path, base, false), t);
    }
}

// ---------------------------------------------------------------------------------------------
// STAC (SpatioTemporal Asset Catalog) 1.0.0, static documents on disk:
//   item-spec/item-spec.md: an Item is a GeoJSON Feature ("type": "Feature") with `id`,
//     `properties` (common metadata such as `gsd`, in metres) and `assets` (key -> Asset Object
//     with `href`, `type` media type, `roles`; an asset may override `gsd`); relative hrefs are
//     resolved against the document that holds them.
//   catalog-spec / collection-spec: `links` with `rel` "child" (a catalog or collection) and
//     "item" (an item), hrefs relative to the catalog file.
//   ItemCollection: a GeoJSON FeatureCollection whose `features` are Items (STAC API, and the
//     common static form).
//   View Geometry extension v1.0.0 (stac-extensions/view): `view:off_nadir` (degrees, 0..90,
//     angle at the sensor from nadir to the scene centre), `view:incidence_angle` (degrees, 0..90,
//     angle at the scene centre between the ground's vertical and the line of sight to the
//     sensor), `view:sun_elevation` (degrees).

using ojson = nlohmann::ordered_json;  // document order: "the first raster asset" is the first written

constexpr int kStacMaxDepth = 16;

std::optional<double> finite_number(const ojson& obj, const char* key) {
    if (!obj.is_object()) return std::nullopt;
    const auto it = obj.find(key);
    if (it == obj.end() || !it->is_number()) return std::nullopt;
    const double v = it->get<double>();
    if (!std::isfinite(v)) return std::nullopt;
    return v;
}

bool looks_like_raster_asset(const ojson& asset) {
    if (!asset.is_object()) return false;
    const auto type = asset.find("type");
    if (type != asset.end() && type->is_string()) {
        const std::string t = to_lower(type->get<std::string>());
        if (t.find("image/tiff") != std::string::npos || t.find("geotiff") != std::string::npos ||
            t.find("jp2") != std::string::npos)
            return true;
    }
    const auto roles = asset.find("roles");
    if (roles != asset.end() && roles->is_array())
        for (const ojson& r : *roles)
            if (r.is_string() && r.get<std::string>() == "data") return true;
    return false;
}

// Where and why `text` is not JSON (RFC 8259): "line L, column C: what", from nlohmann's parse
// error ("[json.exception.parse_error.101] parse error at line 1, column 2: syntax error while
// parsing value - invalid literal; last read: 'x'; expected ...") without its tag and the token
// read (raw bytes of the file: they may not be text).
std::string json_error_at(const std::string& text) {
    std::string why;
    try {
        [[maybe_unused]] const ojson doc = ojson::parse(text);
    } catch (const ojson::exception& e) {  // parse_error, or out_of_range: "number overflow parsing '8e84145'"
        why = e.what();
    }
    if (const auto tag = why.find("] "); why.rfind("[json.exception.", 0) == 0 && tag != std::string::npos)
        why.erase(0, tag + 2);
    if (why.rfind("parse error at line ", 0) == 0) why.erase(0, std::string_view("parse error at ").size());
    if (const auto last = why.find("; last read: "); last != std::string::npos) {
        const auto expected = why.find("; expected ", last);
        why.erase(last, expected == std::string::npos ? std::string::npos : expected - last);
    }
    return why.empty() ? std::string("a syntax error") : why;
}

class StacReader {
public:
    StacReader(Gatherer& g, std::string asset_key) : m_g(g), m_asset_key(std::move(asset_key)) {}

    void read_file(const fs::path& file, int depth) {
        if (depth > kStacMaxDepth)
            throw Error(fmt::format("{}: STAC catalog nested deeper than {} levels", file.string(), kStacMaxDepth));
        std::error_code ec;
        fs::path key = fs::weakly_canonical(file, ec);
        if (ec) key = fs::absolute(file, ec).lexically_normal();
        if (!m_visited.insert(key.string()).second) return;  // each file once (cycles, shared children)

        const std::string text = read_text_file(file, "STAC");
        ojson doc = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded()) throw Error(fmt::format("{}: not valid JSON ({})", file.string(), json_error_at(text)));
        if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_string())
            throw Error(fmt::format("{}: not a STAC document (no \"type\")", file.string()));
        const std::string type = doc["type"].get<std::string>();
        const fs::path base = file.parent_path();
        try {
            if (type == "Feature") {
                read_item(doc, file, base);
            } else if (type == "FeatureCollection") {
                const auto features = doc.find("features");
                if (features == doc.end() || !features->is_array())
                    throw Error(fmt::format("{}: a FeatureCollection without a \"features\" array", file.string()));
                for (const ojson& f : *features) {
                    if (!f.is_object() || f.value("type", std::string()) != "Feature")
                        throw Error(
                            fmt::format("{}: a feature is not a STAC Item (\"type\": \"Feature\")", file.string()));
                    read_item(f, file, base);
                }
            } else if (type == "Catalog" || type == "Collection") {
                read_links(doc, file, base, depth);
            } else {
                throw Error(fmt::format("{}: STAC type \"{}\" is not an Item, ItemCollection, Catalog or Collection",
                                        file.string(), type));
            }
        } catch (const ojson::exception& e) {
            // A member of the wrong JSON type (e.g. a numeric "rel" or "type"): nlohmann's text
            // without its "[json.exception.type_error.302] " tag.
            std::string what = e.what();
            if (const auto tag = what.find("] "); what.rfind("[json.exception.", 0) == 0 && tag != std::string::npos)
                what.erase(0, tag + 2);
            throw Error(fmt::format("{}: not a valid STAC document: {}", file.string(), what));
        }
    }

private:
    Gatherer& m_g;
    std::string m_asset_key;
    std::set<std::string> m_visited;

    void read_links(const ojson& doc, const fs::path& file, const fs::path& base, int depth) {
        const auto links = doc.find("links");
        if (links == doc.end()) return;
        if (!links->is_array()) throw Error(fmt::format("{}: \"links\" is not an array", file.string()));
        for (const ojson& link : *links) {
            if (!link.is_object()) throw Error(fmt::format("{}: a link is not an object", file.string()));
            const std::string rel = link.value("rel", std::string());
            if (rel != "item" && rel != "child") continue;  // self, root, parent, license, ...
            const auto href = link.find("href");
            if (href == link.end() || !href->is_string())
                throw Error(fmt::format("{}: a \"{}\" link without an href", file.string(), rel));
            const std::string target = href->get<std::string>();
            const std::string resolved = resolve_reference(target, base, true);
            if (is_gdal_virtual_path(resolved)) {
                m_g.result.rejected.emplace_back(target,
                                                 "remote STAC links are not followed (static catalogs on disk)");
                continue;
            }
            std::error_code ec;
            if (!fs::is_regular_file(resolved, ec)) {
                m_g.result.rejected.emplace_back(
                    resolved, fmt::format("STAC {} link of {}: no such file", rel, file.filename().string()));
                continue;
            }
            read_file(resolved, depth + 1);
        }
    }

    void read_item(const ojson& item, const fs::path& file, const fs::path& base) {
        const auto id_it = item.find("id");
        if (id_it == item.end() || !id_it->is_string())
            throw Error(fmt::format("{}: a STAC Item without a string \"id\"", file.string()));
        const std::string id = id_it->get<std::string>();
        const auto assets = item.find("assets");
        if (assets != item.end() && !assets->is_object())
            throw Error(fmt::format("{}: item '{}': \"assets\" is not an object", file.string(), id));

        const ojson* asset = nullptr;
        if (!m_asset_key.empty()) {
            if (assets != item.end()) {
                const auto a = assets->find(m_asset_key);
                if (a != assets->end()) asset = &*a;
            }
            if (!asset) {
                m_g.result.rejected.emplace_back(file.string(),
                                                 fmt::format("STAC item '{}' has no asset '{}'", id, m_asset_key));
                return;
            }
        } else if (assets != item.end()) {
            for (auto a = assets->begin(); a != assets->end(); ++a)
                if (looks_like_raster_asset(*a)) {
                    asset = &*a;
                    break;
                }
            if (!asset) {
                m_g.result.rejected.emplace_back(
                    file.string(), fmt::format("STAC item '{}' has no raster asset (GeoTIFF, JPEG 2000 or role "
                                               "\"data\"); name one with --asset",
                                               id));
                return;
            }
        }
        if (!asset) {
            m_g.result.rejected.emplace_back(file.string(), fmt::format("STAC item '{}' has no assets", id));
            return;
        }
        if (!asset->is_object() || !asset->contains("href") || !(*asset)["href"].is_string())
            throw Error(fmt::format("{}: item '{}': an asset without a string \"href\"", file.string(), id));

        BatchInput t;
        t.source = "stac";
        t.item_id = id;
        t.origin = fmt::format("{} item '{}'", file.string(), id);
        const ojson properties = item.contains("properties") ? item["properties"] : ojson::object();
        // Item-spec common metadata `gsd` (metres); an asset's own `gsd` overrides the item's.
        std::optional<double> gsd = finite_number(*asset, "gsd");
        if (!gsd) gsd = finite_number(properties, "gsd");
        if (gsd && *gsd > 0) t.gsd_m = gsd;
        // View extension: the incidence angle is measured at the ground from the vertical, so the
        // elevation is 90 - incidence. The off-nadir angle is measured at the satellite: on the
        // curved Earth the incidence exceeds it (sin i = (R + h) / R sin o, h unknown here), so
        // 90 - off_nadir overstates the elevation (by 2 deg at 20 deg off-nadir from 600 km) and
        // is used only without an incidence angle, and said so in elevation_source.
        if (const auto inc = finite_number(properties, "view:incidence_angle"); inc && *inc >= 0 && *inc < 90) {
            t.elevation_deg = 90.0 - *inc;
            t.elevation_source = "stac view:incidence_angle";
        } else if (const auto off = finite_number(properties, "view:off_nadir"); off && *off >= 0 && *off < 90) {
            t.elevation_deg = 90.0 - *off;
            t.elevation_source = "stac view:off_nadir (flat Earth)";
        }
        if (const auto sun = finite_number(properties, "view:sun_elevation"); sun && *sun >= -90 && *sun <= 90)
            t.sun_elevation_deg = sun;
        m_g.add_argument(resolve_reference((*asset)["href"].get<std::string>(), base, true), t);
    }
};

}  // namespace

bool is_gdal_virtual_path(const std::string& path) {
    // GDAL virtual file systems are all named /vsiNAME/ (https://gdal.org/user/virtual_file_systems.html);
    // /vsicurl? takes its options in a query string.
    if (path.rfind("/vsi", 0) != 0) return false;
    std::size_t i = 4;
    while (i < path.size() &&
           (std::islower(static_cast<unsigned char>(path[i])) || std::isdigit(static_cast<unsigned char>(path[i]))))
        ++i;
    return i > 4 && i < path.size() && (path[i] == '/' || path[i] == '?');
}

GatheredInputs gather_batch_inputs(const BatchInputOptions& options) {
    Gatherer g;
    BatchInput arg_tmpl;
    arg_tmpl.source = "argument";
    arg_tmpl.origin = "the arguments";
    for (const std::string& a : options.arguments)
        g.add_argument(a, arg_tmpl);
    if (options.manifest) gather_manifest(*options.manifest, g);
    if (options.stac) {
        StacReader reader(g, options.stac_asset);
        reader.read_file(*options.stac, 0);
    }
    return std::move(g.result);
}

std::set<std::string> shard_paths(const GatheredInputs& gathered, int shard_index, int shard_count) {
    if (shard_count < 1) throw Error(fmt::format("shard_paths: the shard count must be >= 1 (got {})", shard_count));
    if (shard_index < 0 || shard_index >= shard_count)
        throw Error(fmt::format("shard_paths: shard {} lies outside 0..{}", shard_index, shard_count - 1));
    // Sorted and de-duplicated (a set), so that the deal depends on the list alone, not on the
    // order of the arguments; dealt round robin, so that the shards differ by at most one path.
    std::set<std::string> all;
    for (const BatchInput& in : gathered.inputs)
        all.insert(in.path);
    for (const auto& [path, reason] : gathered.rejected)
        all.insert(path);
    std::set<std::string> mine;
    std::size_t i = 0;
    for (const std::string& p : all)
        if (i++ % static_cast<std::size_t>(shard_count) == static_cast<std::size_t>(shard_index)) mine.insert(p);
    return mine;
}

}  // namespace satiq
