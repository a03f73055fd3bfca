#include "satiq/pipeline/report/html.hpp"

#include <cstdint>

namespace satiq::html {

// escape, base64 and data_uri; the chart renderer (render_svg) is in html_svg.cpp.

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool is_cont(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence (RFC 3629 section 4, the well-formed byte sequences table)
// starting at s[i], or 0 when the bytes there are not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c0 = b(0);
    const std::size_t left = s.size() - i;
    if (c0 >= 0xC2 && c0 <= 0xDF) return left >= 2 && is_cont(b(1)) ? 2 : 0;
    if (c0 >= 0xE0 && c0 <= 0xEF) {
        if (left < 3) return 0;
        const unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80;  // no overlongs
        const unsigned char hi = c0 == 0xED ? 0x9F : 0xBF;  // no surrogates
        if (b(1) < lo || b(1) > hi || !is_cont(b(2))) return 0;
        // U+FFFE and U+FFFF are not XML characters.
        if (c0 == 0xEF && b(1) == 0xBF && (b(2) == 0xBE || b(2) == 0xBF)) return 0;
        return 3;
    }
    if (c0 >= 0xF0 && c0 <= 0xF4) {
        if (left < 4) return 0;
        const unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80;  // no overlongs
        const unsigned char hi = c0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
        if (b(1) < lo || b(1) > hi || !is_cont(b(2)) || !is_cont(b(3))) return 0;
        return 4;
    }
    return 0;
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
                case '&':
                    out += "&amp;";
                    break;
                case '<':
                    out += "&lt;";
                    break;
                case '>':
                    out += "&gt;";
                    break;
                case '"':
                    out += "&quot;";
                    break;
                case '\'':
                    out += "&#39;";
                    break;
                case '\t':
                case '\n':
                case '\r':
                    out += static_cast<char>(c);
                    break;
                default:
                    if (c < 0x20 || c == 0x7F) {
                        out += kReplacement;  // not an XML 1.0 character
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        const std::size_t n = utf8_sequence_length(text, i);
        if (n == 0) {
            out += kReplacement;
            ++i;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string base64(std::span<const unsigned char> bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string data_uri(std::string_view mime, std::span<const unsigned char> bytes) {
    return "data:" + escape(mime) + ";base64," + base64(bytes);
}

}  // namespace satiq::html
