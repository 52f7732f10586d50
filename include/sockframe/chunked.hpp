// SPDX-License-Identifier: MIT
#pragma once
/// HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1) as a codec: each frame is one chunk's
/// data, and an empty frame is the end of the body (the last-chunk and its trailer section).

#include <sockframe/codec.hpp>
#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/endian.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// Limits of the chunked codec. Every one is checked before a byte beyond it is buffered.
struct chunked_options {
    /// Largest chunk accepted (its data bytes); a larger chunk-size is frame_too_large.
    std::size_t max_chunk = SOCKFRAME_DEFAULT_MAX_FRAME;
    /// Longest chunk-size line (hex digits, extensions and CRLF).
    std::size_t max_line = 4096;
    /// Most bytes of the trailer section (every trailer field line and the final CRLF).
    std::size_t max_trailer_bytes = 8192;
    /// Most trailer fields.
    std::size_t max_trailers = 64;
};

/// The chunked transfer coding: `chunk-size [; extensions] CRLF data CRLF`, repeated, then
/// `0 [; extensions] CRLF`, trailer fields, CRLF.
///
/// decode delivers each chunk's data as a frame (a view into the input; chunks are never empty),
/// then an EMPTY frame for the last-chunk once its trailer section is complete: that empty frame
/// is the end of the body, and the next decode starts a new body (the next message on a
/// persistent connection). extensions() views the current chunk's extensions (after the size, from
/// the first ';' or whitespace), trailers() the trailer section of the body just ended (field lines
/// with their CRLFs, without the final CRLF); both are valid until the next decode and the input
/// stays put. next_trailer() walks the trailer fields.
///
/// encode(payload) writes one chunk (`<hex size>\r\n<payload>\r\n`, the payload not copied), and
/// encode of an empty payload writes the last-chunk without trailers (`0\r\n\r\n`): so the frames
/// decode delivers re-encode to the same body.
///
/// Errors (size = the offending position or value; consumed 0: an HTTP message cannot be
/// resynchronised, the connection must close): malformed_frame for a chunk-size that is not hex,
/// a bare CR or LF, control bytes in an extension, a chunk not followed by CRLF, a trailer line
/// that is not `name: value` (or is an obsolete folded line); frame_too_large for a chunk above
/// max_chunk (size = its size, as soon as the digits say so), a line above max_line, a trailer
/// section above max_trailer_bytes or with more than max_trailers fields.
class chunked {
public:
    /// A codec with the default limits and `max_chunk` as the largest chunk.
    explicit chunked(std::size_t max_chunk = SOCKFRAME_DEFAULT_MAX_FRAME) noexcept {
        options_.max_chunk = max_chunk;
    }
    /// A codec with every limit given.
    explicit chunked(const chunked_options& options) noexcept : options_(options) {
        if (options_.max_line < 3) options_.max_line = 3;
    }

    /// Largest chunk one decode delivers.
    std::size_t max_frame() const noexcept { return options_.max_chunk; }
    /// Most bytes a frame occupies: a chunk's line, data and CRLF, or the last-chunk's line and
    /// trailer section, whichever is larger.
    std::size_t max_frame_bytes() const noexcept {
        const std::size_t chunk =
            detail::saturating_add(options_.max_line, detail::saturating_add(options_.max_chunk, 2));
        const std::size_t last =
            detail::saturating_add(options_.max_line, detail::saturating_add(options_.max_trailer_bytes, 2));
        return chunk > last ? chunk : last;
    }
    /// The limits in force.
    const chunked_options& options() const noexcept { return options_; }
    /// The extensions of the chunk just decoded (see the class comment).
    const_buffer extensions() const noexcept { return extensions_; }
    /// The trailer section of the body that just ended (see the class comment).
    const_buffer trailers() const noexcept { return trailers_; }

    /// One trailer field from the front of `rest` (a trailers() view): `name` and `value` (the
    /// value without surrounding whitespace); advances `rest`; false at the end.
    static bool next_trailer(const_buffer& rest, const_buffer& name, const_buffer& value) noexcept {
        std::size_t end = 0;
        while (end + 1 < rest.size() && !(rest[end] == std::byte{'\r'} && rest[end + 1] == std::byte{'\n'}))
            ++end;
        if (end + 1 >= rest.size()) return false;
        const const_buffer line = rest.first(end);
        std::size_t colon = 0;
        while (colon < line.size() && line[colon] != std::byte{':'}) ++colon;
        if (colon == line.size()) return false;
        name = line.first(colon);
        std::size_t a = colon + 1, b = line.size();
        while (a < b && is_space(line[a])) ++a;
        while (b > a && is_space(line[b - 1])) --b;
        value = line.subspan(a, b - a);
        rest = rest.subspan(end + 2);
        return true;
    }

    /// Decodes the next chunk (or the end of the body) at the front of `input`; see codec.hpp and
    /// the class comment.
    decode_result decode(const_buffer input) noexcept {
        // chunk-size: 1*HEXDIG
        std::uint64_t size = 0;
        std::size_t i = 0;
        for (; i < input.size(); ++i) {
            const int d = hex(input[i]);
            if (d < 0) break;
            if (size > (UINT64_MAX >> 4)) return fatal(errc::frame_too_large, UINT64_MAX);
            size = (size << 4) | static_cast<std::uint64_t>(d);
            if (size > options_.max_chunk) return fatal(errc::frame_too_large, size);
            if (i + 1 >= options_.max_line) return fatal(errc::frame_too_large, i + 1);
        }
        if (i == input.size()) return decode_result::need_more();
        if (i == 0) return fatal(errc::malformed_frame, 0);
        // chunk-ext up to CRLF: visible bytes, spaces and tabs; no control bytes, no bare CR/LF
        const std::size_t ext_begin = i;
        for (; input[i] != std::byte{'\r'}; ++i) {
            if (i + 2 > options_.max_line) return fatal(errc::frame_too_large, i + 2);
            if (!is_field_byte(input[i])) return fatal(errc::malformed_frame, i);
            if (i + 1 == input.size()) return decode_result::need_more();
        }
        if (i + 2 > options_.max_line) return fatal(errc::frame_too_large, i + 2);
        if (i > ext_begin && !is_space(input[ext_begin]) && input[ext_begin] != std::byte{';'})
            return fatal(errc::malformed_frame, ext_begin);
        if (i + 1 == input.size()) return decode_result::need_more();
        if (input[i + 1] != std::byte{'\n'}) return fatal(errc::malformed_frame, i + 1);
        const const_buffer ext = input.subspan(ext_begin, i - ext_begin);
        const std::size_t data = i + 2;
        if (size != 0) {
            const auto n = detail::convert<std::size_t>(size);
            if (input.size() - data < n + 2) return decode_result::need_more();
            if (input[data + n] != std::byte{'\r'}) return fatal(errc::malformed_frame, data + n);
            if (input[data + n + 1] != std::byte{'\n'}) return fatal(errc::malformed_frame, data + n + 1);
            extensions_ = ext;
            return decode_result::frame(input.subspan(data, n), data + n + 2);
        }
        // last-chunk: trailer-section, then CRLF
        std::size_t at = data, count = 0;
        for (;;) {
            // one line from `at`
            std::size_t end = at;
            for (;; ++end) {
                if (end + 2 - data > options_.max_trailer_bytes)
                    return fatal(errc::frame_too_large, end + 2 - data);
                if (end == input.size()) return decode_result::need_more();
                const std::byte b = input[end];
                if (b == std::byte{'\r'}) break;
                if (!is_field_byte(b)) return fatal(errc::malformed_frame, end);
            }
            if (end + 1 == input.size()) return decode_result::need_more();
            if (input[end + 1] != std::byte{'\n'}) return fatal(errc::malformed_frame, end + 1);
            if (end == at) {  // the empty line: the end of the body
                extensions_ = ext;
                trailers_ = input.subspan(data, at - data);
                return decode_result::frame(input.subspan(at, 0), end + 2);
            }
            if (++count > options_.max_trailers) return fatal(errc::frame_too_large, count);
            if (!valid_field(input.subspan(at, end - at))) return fatal(errc::malformed_frame, at);
            at = end + 2;
        }
    }
    /// Nothing to forget: the codec rescans a partial chunk's line (at most max_line bytes).
    void reset() noexcept {
        extensions_ = {};
        trailers_ = {};
    }

    /// One chunk of `payload` (not copied), or the last-chunk for an empty payload;
    /// payload_too_large above max_chunk (or when its size line would pass max_line).
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Wraps the segments already in `out` as one chunk (the last-chunk when they are empty).
    std::error_code encode(frame_parts& out) const {
        const std::size_t n = out.size();
        if (n > options_.max_chunk) return make_error_code(errc::payload_too_large);
        if (n == 0) {
            if (!out.append_copy(const_buffer("0\r\n\r\n", 5))) return detail::no_room();
            return {};
        }
        std::byte head[18];
        std::size_t digits = 0;
        for (std::size_t v = n; v != 0; v >>= 4) ++digits;
        for (std::size_t k = 0, v = n; k < digits; ++k, v >>= 4)
            head[digits - 1 - k] = static_cast<std::byte>("0123456789abcdef"[v & 0xFu]);
        if (digits + 2 > options_.max_line) return make_error_code(errc::payload_too_large);
        head[digits] = std::byte{'\r'};
        head[digits + 1] = std::byte{'\n'};
        if (!out.prepend_copy(const_buffer(head, digits + 2)) || !out.append_copy(const_buffer("\r\n", 2)))
            return detail::no_room();
        return {};
    }

private:
    /// The value of each byte as a hex digit, -1 for the others.
    struct hex_table {
        signed char value[256];
        constexpr hex_table() noexcept : value{} {
            for (int c = 0; c < 256; ++c)
                value[c] = static_cast<signed char>(c >= '0' && c <= '9'   ? c - '0'
                                                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                           : -1);
        }
    };
    /// A byte's hex value, or -1: one load (sizes mix digits and letters, which compares would
    /// branch on unpredictably).
    static int hex(std::byte b) noexcept {
        static constexpr hex_table table{};
        return table.value[std::to_integer<unsigned char>(b)];
    }
    static bool is_space(std::byte b) noexcept { return b == std::byte{' '} || b == std::byte{'\t'}; }
    /// A byte allowed in an extension or a field line: visible, space, tab, or obs-text.
    static bool is_field_byte(std::byte b) noexcept {
        const int c = std::to_integer<int>(b);
        return c == '\t' || (c >= 0x20 && c != 0x7F);
    }
    /// `token ":" ...`: a non-empty name of token characters, then a colon.
    static bool valid_field(const_buffer line) noexcept {
        std::size_t k = 0;
        for (; k < line.size() && line[k] != std::byte{':'}; ++k) {
            const int c = std::to_integer<int>(line[k]);
            const bool token =
                (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c > 0x20 && c < 0x7F &&
                 std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos);
            if (!token) return false;
        }
        return k > 0 && k < line.size();
    }
    static decode_result fatal(errc e, std::uint64_t size) noexcept {
        return decode_result::failure(e, size);
    }

    chunked_options options_;
    const_buffer extensions_;
    const_buffer trailers_;
};

SOCKFRAME_NAMESPACE_END
