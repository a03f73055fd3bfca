#include "html_check.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace fs = std::filesystem;

namespace satiq::test {

namespace {

// ---------------------------------------------------------------------------------------------
// A small HTML tokenizer shared by both checkers
// ---------------------------------------------------------------------------------------------

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_alpha(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
}
bool is_alnum(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool istarts_with(std::string_view s, std::size_t at, std::string_view prefix) {
    if (at + prefix.size() > s.size()) return false;
    for (std::size_t k = 0; k < prefix.size(); ++k)
        if (std::tolower(static_cast<unsigned char>(s[at + k])) != std::tolower(static_cast<unsigned char>(prefix[k])))
            return false;
    return true;
}

std::size_t ifind(std::string_view s, std::string_view needle, std::size_t from) {
    for (std::size_t k = from; k + needle.size() <= s.size(); ++k)
        if (istarts_with(s, k, needle)) return k;
    return std::string_view::npos;
}

class Positions {
public:
    explicit Positions(std::string_view s) {
        starts_.push_back(0);
        for (std::size_t k = 0; k < s.size(); ++k)
            if (s[k] == '\n') starts_.push_back(k + 1);
    }
    std::size_t line(std::size_t pos) const {
        return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), pos) - starts_.begin());
    }
    std::size_t col(std::size_t pos) const { return pos - starts_[line(pos) - 1] + 1; }
    std::string at(std::size_t pos) const {
        return "line " + std::to_string(line(pos)) + ", col " + std::to_string(col(pos));
    }

private:
    std::vector<std::size_t> starts_;
};

struct Attr {
    std::string name;  // lower case
    std::string value;
    bool has_value = false;
    bool quoted = false;
    std::size_t pos = 0;
    std::size_t value_pos = 0;
};

struct Tag {
    bool end = false;
    std::string name;  // lower case
    std::vector<Attr> attrs;
    bool self_closing = false;
    std::size_t pos = 0;
};

struct Handlers {
    std::function<void(const Tag&)> tag;
    std::function<void(std::size_t begin, std::size_t end)> text;
    std::function<void(const std::string& element, std::size_t begin, std::size_t end)> raw;
    std::function<void(std::size_t pos, const std::string& message)> error;
};

// Walks `s`, reporting tags, text runs, raw-text element content and syntax errors.
void tokenize(std::string_view s, const Handlers& h) {
    const std::size_t n = s.size();
    int foreign_depth = 0;  // inside <svg> or <math>
    std::size_t i = 0, text_begin = 0;
    const auto flush_text = [&](std::size_t end) {
        if (end > text_begin && h.text) h.text(text_begin, end);
    };
    const auto error = [&](std::size_t pos, const std::string& msg) {
        if (h.error) h.error(pos, msg);
    };
    while (i < n) {
        if (s[i] != '<') {
            ++i;
            continue;
        }
        if (s.compare(i, 4, "<!--") == 0) {
            flush_text(i);
            const std::size_t e = s.find("-->", i + 4);
            if (e == std::string_view::npos) {
                error(i, "unterminated comment <!--");
                i = text_begin = n;
            } else {
                i = text_begin = e + 3;
            }
            continue;
        }
        if (s.compare(i, 9, "<![CDATA[") == 0) {
            flush_text(i);
            const std::size_t e = s.find("]]>", i + 9);
            if (e == std::string_view::npos) {
                error(i, "unterminated <![CDATA[");
                i = text_begin = n;
            } else {
                i = text_begin = e + 3;
            }
            continue;
        }
        if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {  // <!DOCTYPE html>, <?xml ...?>
            flush_text(i);
            const std::size_t e = s.find('>', i + 2);
            if (e == std::string_view::npos) {
                error(i, "unterminated <! or <? declaration");
                i = text_begin = n;
            } else {
                i = text_begin = e + 1;
            }
            continue;
        }
        if (i + 2 < n && s[i + 1] == '/' && is_alpha(s[i + 2])) {  // end tag
            flush_text(i);
            Tag t;
            t.end = true;
            t.pos = i;
            std::size_t j = i + 2;
            while (j < n && !is_space(s[j]) && s[j] != '>' && s[j] != '/')
                ++j;
            t.name = lower(s.substr(i + 2, j - i - 2));
            const std::size_t e = s.find('>', j);
            if (e == std::string_view::npos) {
                error(i, "unterminated end tag </" + t.name);
                i = text_begin = n;
                continue;
            }
            for (std::size_t k = j; k < e; ++k)
                if (!is_space(s[k])) {
                    error(k, "junk in end tag </" + t.name + ">");
                    break;
                }
            if ((t.name == "svg" || t.name == "math") && foreign_depth > 0) --foreign_depth;
            if (h.tag) h.tag(t);
            i = text_begin = e + 1;
            continue;
        }
        if (i + 1 < n && is_alpha(s[i + 1])) {  // start tag
            flush_text(i);
            Tag t;
            t.pos = i;
            std::size_t j = i + 1;
            while (j < n && !is_space(s[j]) && s[j] != '>' && s[j] != '/')
                ++j;
            t.name = lower(s.substr(i + 1, j - i - 1));
            bool closed = false;
            while (j < n) {
                while (j < n && is_space(s[j]))
                    ++j;
                if (j >= n) break;
                if (s[j] == '>') {
                    ++j;
                    closed = true;
                    break;
                }
                if (s[j] == '/') {
                    if (j + 1 < n && s[j + 1] == '>') {
                        t.self_closing = true;
                        j += 2;
                        closed = true;
                        break;
                    }
                    error(j, "stray '/' in <" + t.name + ">");
                    ++j;
                    continue;
                }
                Attr a;
                a.pos = j;
                const std::size_t name_begin = j;
                while (j < n && !is_space(s[j]) && s[j] != '=' && s[j] != '>' && s[j] != '/')
                    ++j;
                if (j == name_begin) ++j;  // a lone '=': consume it as the (odd) name
                a.name = lower(s.substr(name_begin, j - name_begin));
                std::size_t k = j;
                while (k < n && is_space(s[k]))
                    ++k;
                if (k < n && s[k] == '=') {
                    j = k + 1;
                    while (j < n && is_space(s[j]))
                        ++j;
                    a.has_value = true;
                    if (j < n && (s[j] == '"' || s[j] == '\'')) {
                        const std::size_t close = s.find(s[j], j + 1);
                        if (close == std::string_view::npos) {
                            error(j, "unterminated quoted value of " + a.name + " in <" + t.name + ">");
                            j = n;
                            break;
                        }
                        a.quoted = true;
                        a.value_pos = j + 1;
                        a.value = std::string(s.substr(j + 1, close - j - 1));
                        j = close + 1;
                        if (j < n && !is_space(s[j]) && s[j] != '>' && s[j] != '/')
                            error(j, "no space after the value of " + a.name + " in <" + t.name + ">");
                    } else {
                        a.value_pos = j;
                        const std::size_t vb = j;
                        while (j < n && !is_space(s[j]) && s[j] != '>')
                            ++j;
                        a.value = std::string(s.substr(vb, j - vb));
                    }
                }
                t.attrs.push_back(std::move(a));
            }
            if (!closed) {
                error(i, "unterminated start tag <" + t.name);
                i = text_begin = n;
                continue;
            }
            if ((t.name == "svg" || t.name == "math") && !t.self_closing) ++foreign_depth;
            if (h.tag) h.tag(t);
            i = text_begin = j;
            const bool raw = t.name == "script" || t.name == "style" || t.name == "textarea" ||
                             (t.name == "title" && foreign_depth == 0);
            if (raw && !t.self_closing) {
                std::size_t e = j;
                while (true) {
                    e = ifind(s, "</" + t.name, e);
                    if (e == std::string_view::npos) break;
                    const std::size_t after = e + 2 + t.name.size();
                    if (after >= n || is_space(s[after]) || s[after] == '>' || s[after] == '/') break;
                    ++e;
                }
                if (e == std::string_view::npos) {
                    error(i, "<" + t.name + "> content never ends (no </" + t.name + ">)");
                    if (h.raw) h.raw(t.name, j, n);
                    i = text_begin = n;
                } else {
                    if (h.raw) h.raw(t.name, j, e);
                    i = text_begin = e;
                }
            }
            continue;
        }
        ++i;  // a '<' that starts no tag: text (reported by the structure checker)
    }
    flush_text(n);
}

bool valid_char_ref(std::string_view s, std::size_t amp) {
    std::size_t k = amp + 1;
    if (k < s.size() && s[k] == '#') {
        ++k;
        const bool hex = k < s.size() && (s[k] == 'x' || s[k] == 'X');
        if (hex) ++k;
        const std::size_t b = k;
        while (k < s.size() && (hex ? std::isxdigit(static_cast<unsigned char>(s[k])) != 0
                                    : std::isdigit(static_cast<unsigned char>(s[k])) != 0))
            ++k;
        return k > b && k < s.size() && s[k] == ';';
    }
    if (k >= s.size() || !is_alpha(s[k])) return false;
    while (k < s.size() && is_alnum(s[k]))
        ++k;
    return k < s.size() && s[k] == ';';
}

const std::vector<std::string_view> kVoid = {"area",  "base", "br",   "col",   "embed",  "hr",    "img",
                                             "input", "link", "meta", "param", "source", "track", "wbr"};
const std::vector<std::string_view> kOptionalEnd = {"p",        "li",      "td",       "tr", "th",   "thead", "tbody",
                                                    "tfoot",    "option",  "dt",       "dd", "html", "head",  "body",
                                                    "colgroup", "caption", "optgroup", "rb", "rt",   "rp"};

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::vector<std::string> html_structure_errors(std::string_view html) {
    const Positions where(html);
    std::vector<std::string> errors;
    struct Open {
        std::string name;
        std::size_t pos;
    };
    std::vector<Open> stack;
    const auto report = [&](std::size_t pos, const std::string& msg) { errors.push_back(where.at(pos) + ": " + msg); };
    const auto opened = [&](const Open& o) { return "<" + o.name + "> opened at " + where.at(o.pos); };
    const auto note = [](const std::string& name) {
        return contains(kOptionalEnd, name) ? std::string(" (HTML lets its end tag be omitted; our reports close it)")
                                            : std::string();
    };
    const auto check_amps = [&](std::string_view text, std::size_t base) {
        for (std::size_t k = text.find('&'); k != std::string_view::npos; k = text.find('&', k + 1))
            if (!valid_char_ref(text, k)) report(base + k, "'&' that starts no character reference (write &amp;)");
    };
    const auto in_foreign = [&] {
        return std::any_of(stack.begin(), stack.end(),
                           [](const Open& o) { return o.name == "svg" || o.name == "math"; });
    };

    Handlers h;
    h.error = report;
    h.text = [&](std::size_t b, std::size_t e) {
        const std::string_view text = html.substr(b, e - b);
        for (std::size_t k = text.find('<'); k != std::string_view::npos; k = text.find('<', k + 1))
            report(b + k, "'<' in text that starts no tag (write &lt;)");
        check_amps(text, b);
    };
    h.tag = [&](const Tag& t) {
        if (!t.end) {
            std::vector<std::string> seen;
            for (const auto& a : t.attrs) {
                if (std::find(seen.begin(), seen.end(), a.name) != seen.end())
                    report(a.pos, "duplicate attribute " + a.name + " in <" + t.name + ">");
                seen.push_back(a.name);
                if (a.has_value && !a.quoted)
                    report(a.value_pos, "unquoted value of " + a.name + " in <" + t.name + ">");
                if (a.quoted) check_amps(a.value, a.value_pos);
            }
            if (contains(kVoid, t.name)) return;
            if (t.self_closing) {
                if (!(in_foreign() || t.name == "svg" || t.name == "math"))
                    report(t.pos, "<" + t.name +
                                      "/>: HTML ignores the '/' on a non-void HTML element, so it stays open; "
                                      "write <" +
                                      t.name + "></" + t.name + ">");
                return;
            }
            stack.push_back({t.name, t.pos});
            return;
        }
        if (contains(kVoid, t.name)) {
            report(t.pos, "end tag </" + t.name + "> of a void element");
            return;
        }
        if (!stack.empty() && stack.back().name == t.name) {
            stack.pop_back();
            return;
        }
        const auto it = std::find_if(stack.rbegin(), stack.rend(), [&](const Open& o) { return o.name == t.name; });
        if (it == stack.rend()) {
            report(t.pos, "stray </" + t.name + "> (no open <" + t.name + ">)");
            return;
        }
        const std::size_t keep = static_cast<std::size_t>(stack.rend() - it) - 1;  // index of the match
        for (std::size_t k = stack.size(); k-- > keep + 1;)
            report(t.pos, "mismatched nesting: </" + t.name + "> while " + opened(stack[k]) + " is still open" +
                              note(stack[k].name));
        stack.resize(keep);
    };
    tokenize(html, h);
    for (const auto& o : stack)
        report(o.pos, "unclosed <" + o.name + "> (never closed)" + note(o.name));
    return errors;
}

namespace {

std::string decode_basic_entities(std::string_view v) {
    std::string out;
    for (std::size_t k = 0; k < v.size(); ++k) {
        if (v[k] == '&') {
            static const std::pair<std::string_view, char> kEnt[] = {
                {"&amp;", '&'},  {"&quot;", '"'},  {"&#39;", '\''}, {"&apos;", '\''}, {"&lt;", '<'}, {"&gt;", '>'},
                {"&#x3a;", ':'}, {"&colon;", ':'}, {"&sol;", '/'},  {"&#47;", '/'},   {"&#58;", ':'}};
            bool done = false;
            for (const auto& [e, c] : kEnt)
                if (istarts_with(v, k, e)) {
                    out += c;
                    k += e.size() - 1;
                    done = true;
                    break;
                }
            if (done) continue;
        }
        out += v[k];
    }
    return out;
}

std::string trim(std::string_view v) {
    std::size_t b = 0, e = v.size();
    while (b < e && is_space(v[b]))
        ++b;
    while (e > b && is_space(v[e - 1]))
        --e;
    return std::string(v.substr(b, e - b));
}

// Inside the document: a data: URI or a same-document fragment.
bool is_local(std::string_view value) {
    const std::string v = trim(value);
    return !v.empty() && (v.front() == '#' || istarts_with(v, 0, "data:"));
}

// url(...) values and @import "..." strings in CSS text (a style attribute, a <style> element or
// a presentation attribute such as fill="url(#g)"); calls found(value, offset in css).
void css_references(std::string_view css, const std::function<void(const std::string&, std::size_t, bool)>& found) {
    for (std::size_t k = ifind(css, "url(", 0); k != std::string_view::npos; k = ifind(css, "url(", k + 4)) {
        std::size_t j = k + 4;
        while (j < css.size() && is_space(css[j]))
            ++j;
        std::string value;
        if (j < css.size() && (css[j] == '"' || css[j] == '\'')) {
            const std::size_t close = css.find(css[j], j + 1);
            value = std::string(css.substr(j + 1, (close == std::string_view::npos ? css.size() : close) - j - 1));
        } else {
            const std::size_t close = css.find(')', j);
            value = trim(css.substr(j, (close == std::string_view::npos ? css.size() : close) - j));
        }
        found(value, k, false);
    }
    for (std::size_t k = ifind(css, "@import", 0); k != std::string_view::npos; k = ifind(css, "@import", k + 7)) {
        std::size_t j = k + 7;
        while (j < css.size() && is_space(css[j]))
            ++j;
        if (j < css.size() && (css[j] == '"' || css[j] == '\'')) {
            const std::size_t close = css.find(css[j], j + 1);
            found(std::string(css.substr(j + 1, (close == std::string_view::npos ? css.size() : close) - j - 1)), k,
                  true);
        }
        // @import url(...) is reported by the url( scan.
    }
}

}  // namespace

std::vector<std::string> html_external_references(std::string_view html) {
    const Positions where(html);
    std::vector<std::string> refs;
    const auto line = [&](std::size_t pos) { return "line " + std::to_string(where.line(pos)) + ": "; };
    const auto css = [&](std::string_view text, std::size_t base) {
        css_references(text, [&](const std::string& value, std::size_t off, bool import) {
            if (is_local(value)) return;
            refs.push_back(line(base + off) + (import ? "@import \"" + value + "\"" : "url(" + value + ")"));
        });
    };
    static const std::vector<std::string_view> kUrlAttrs = {
        "src",      "href", "xlink:href", "srcset", "poster", "action",   "formaction", "background",
        "manifest", "ping", "longdesc",   "lowsrc", "dynsrc", "codebase", "archive",    "profile"};
    Handlers h;
    h.tag = [&](const Tag& t) {
        if (t.end) return;
        if (t.name == "script") refs.push_back(line(t.pos) + "<script> element");
        for (const auto& a : t.attrs) {
            const std::string value = decode_basic_entities(a.value);
            if (a.name.size() > 2 && a.name.compare(0, 2, "on") == 0) {
                refs.push_back(line(a.pos) + "<" + t.name + "> event handler " + a.name + "=\"" + value + "\"");
                continue;
            }
            bool url_attr = contains(kUrlAttrs, a.name) || (t.name == "object" && a.name == "data");
            if (t.name == "meta" && a.name == "content") {
                const auto eq = std::find_if(t.attrs.begin(), t.attrs.end(), [](const Attr& x) {
                    return x.name == "http-equiv" && lower(trim(x.value)) == "refresh";
                });
                const std::size_t u = ifind(value, "url=", 0);
                if (eq != t.attrs.end() && u != std::string::npos && !is_local(value.substr(u + 4)))
                    refs.push_back(line(a.pos) + "<meta> refresh to " + value.substr(u + 4));
            }
            if (url_attr) {
                if (a.name == "srcset") {  // "a.png 1x, b.png 2x"
                    std::stringstream ss(value);
                    std::string item;
                    while (std::getline(ss, item, ',')) {
                        const std::string url = trim(item).substr(0, trim(item).find(' '));
                        if (!is_local(url)) refs.push_back(line(a.pos) + "<" + t.name + "> srcset=\"" + url + "\"");
                    }
                } else if (!is_local(value) || !a.has_value) {
                    refs.push_back(line(a.pos) + "<" + t.name + "> " + a.name + "=\"" + value + "\"");
                }
                continue;
            }
            css(value, a.value_pos);
        }
    };
    h.raw = [&](const std::string& element, std::size_t b, std::size_t e) {
        if (element == "style") css(html.substr(b, e - b), b);
    };
    tokenize(html, h);
    return refs;
}

// ---------------------------------------------------------------------------------------------
// headless Chromium
// ---------------------------------------------------------------------------------------------

namespace {

constexpr auto kChromiumTimeout = std::chrono::seconds(60);

std::optional<fs::path> find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) continue;
        const fs::path p = fs::path(dir) / name;
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
    }
    return std::nullopt;
}

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct Run {
    bool started = false;
    bool timed_out = false;
    int exit_code = -1;
    std::string out, err;
};

// Runs argv[0] (a full path) in its own process group with stdin from /dev/null and stdout and
// stderr captured through files in `dir`; kills the whole group (Chromium's renderer, GPU and
// zygote children included) after `timeout`, and whatever of the group is left once it exits.
Run run_with_timeout(const std::vector<std::string>& args, std::chrono::seconds timeout, const fs::path& dir) {
    Run r;
    const fs::path out_path = dir / "stdout", err_path = dir / "stderr";
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string out_s = out_path.string(), err_s = err_path.string();
    const pid_t pid = ::fork();
    if (pid < 0) return r;
    if (pid == 0) {  // child: async-signal-safe calls only
        ::setpgid(0, 0);
        const int in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(out_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err = ::open(err_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // also here, so the group exists before we may signal it
    r.started = true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (true) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0) {
            status = -1;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            r.timed_out = true;
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid, SIGKILL);  // leftovers of our own process group, if any (ESRCH otherwise)
    r.exit_code = (status >= 0 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    return r;
}

// file:// URL of a local path, percent-encoding all but unreserved characters and '/'.
std::string file_url(const fs::path& p) {
    const std::string s = fs::absolute(p).lexically_normal().string();
    std::string url = "file://";
    for (unsigned char c : s) {
        if (is_alnum(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            url += static_cast<char>(c);
        } else {
            static constexpr char kHex[] = "0123456789ABCDEF";
            url += '%';
            url += kHex[c >> 4];
            url += kHex[c & 15];
        }
    }
    return url;
}

// Chromium's stderr without the D-Bus chatter of a container, last `max_chars`.
std::string stderr_tail(const std::string& err, std::size_t max_chars = 1500) {
    std::stringstream ss(err);
    std::string line, kept;
    while (std::getline(ss, line))
        if (line.find("dbus") == std::string::npos && line.find("unexpected operator") == std::string::npos)
            kept += line + "\n";
    return kept.size() > max_chars ? kept.substr(kept.size() - max_chars) : kept;
}

fs::path private_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    const fs::path p = fs::temp_directory_path() /
                       ("satiq_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

// Chromium with the flags that work headless as root in a container, a private profile folder
// under `dir`, then `extra` and the page URL.
std::vector<std::string> chromium_args(const fs::path& chromium, const fs::path& dir,
                                       const std::vector<std::string>& extra, const fs::path& html) {
    std::vector<std::string> a = {chromium.string(),
                                  "--headless",
                                  "--no-sandbox",  // required as root
                                  "--disable-gpu",
                                  "--hide-scrollbars",
                                  "--disable-dev-shm-usage",  // small /dev/shm in containers
                                  "--no-first-run",
                                  "--no-default-browser-check",
                                  "--disable-extensions",
                                  "--disable-background-networking",
                                  "--force-device-scale-factor=1",
                                  "--user-data-dir=" + (dir / "profile").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back(file_url(html));
    return a;
}

}  // namespace

bool chromium_available() {
    static const bool available = [] {
        const auto chromium = find_on_path("chromium");
        if (!chromium) return false;
        const fs::path dir = private_dir("chromium_version");
        const Run r = run_with_timeout({chromium->string(), "--version"}, std::chrono::seconds(30), dir);
        fs::remove_all(dir);
        return r.started && !r.timed_out && r.exit_code == 0 && r.out.find("Chromium") != std::string::npos;
    }();
    return available;
}

Screenshot chromium_screenshot(const fs::path& html, const fs::path& png, int width, int height) {
    Screenshot shot;
    const auto chromium = find_on_path("chromium");
    if (!chromium) {
        shot.error = "chromium not found on PATH";
        return shot;
    }
    if (!fs::exists(html)) {
        shot.error = "no such file: " + html.string();
        return shot;
    }
    const fs::path dir = private_dir("chromium");
    const fs::path out_png = fs::absolute(png);
    fs::remove(out_png);
    const Run r =
        run_with_timeout(chromium_args(*chromium, dir,
                                       {"--screenshot=" + out_png.string(),
                                        "--window-size=" + std::to_string(width) + "," + std::to_string(height)},
                                       html),
                         kChromiumTimeout, dir);
    fs::remove_all(dir);
    if (!r.started || r.timed_out || r.exit_code != 0) {
        shot.error = !r.started    ? std::string("could not start chromium")
                     : r.timed_out ? std::string("chromium timed out after 60 s")
                                   : "chromium exited with status " + std::to_string(r.exit_code);
        shot.error += "\n" + stderr_tail(r.err);
        return shot;
    }
    const cv::Mat img = cv::imread(out_png.string(), cv::IMREAD_COLOR);
    if (img.empty() || img.type() != CV_8UC3) {
        shot.error = "chromium wrote no readable PNG at " + out_png.string() + "\n" + stderr_tail(r.err);
        return shot;
    }
    shot.width = img.cols;
    shot.height = img.rows;
    double sum = 0, sum2 = 0;
    std::vector<bool> seen(std::size_t{1} << 24, false);
    int distinct = 0;
    for (int y = 0; y < img.rows; ++y) {
        const auto* row = img.ptr<cv::Vec3b>(y);
        for (int x = 0; x < img.cols; ++x) {
            const cv::Vec3b& p = row[x];                                     // B, G, R
            const double luma = 0.299 * p[2] + 0.587 * p[1] + 0.114 * p[0];  // ITU-R BT.601
            sum += luma;
            sum2 += luma * luma;
            const std::size_t key = (std::size_t{p[2]} << 16) | (std::size_t{p[1]} << 8) | p[0];
            if (!seen[key]) {
                seen[key] = true;
                ++distinct;
            }
        }
    }
    const double count = static_cast<double>(img.total());
    const double mean = sum / count;
    shot.luminance_stddev = std::sqrt(std::max(0.0, sum2 / count - mean * mean));
    shot.distinct_colors = distinct;
    shot.ok = true;
    return shot;
}

std::string chromium_dump_dom(const fs::path& html) {
    const auto chromium = find_on_path("chromium");
    if (!chromium) throw std::runtime_error("chromium not found on PATH");
    if (!fs::exists(html)) throw std::runtime_error("no such file: " + html.string());
    const fs::path dir = private_dir("chromium");
    const Run r = run_with_timeout(chromium_args(*chromium, dir, {"--dump-dom"}, html), kChromiumTimeout, dir);
    fs::remove_all(dir);
    if (!r.started || r.timed_out || r.exit_code != 0)
        throw std::runtime_error((r.timed_out
                                      ? std::string("chromium --dump-dom timed out after 60 s")
                                      : "chromium --dump-dom failed with status " + std::to_string(r.exit_code)) +
                                 "\n" + stderr_tail(r.err));
    return r.out;
}

}  // namespace satiq::test
