// SPDX-License-Identifier: MIT
#pragma once
/// Length fields written as text: a decimal or hexadecimal length, then a separator, then the
/// payload (RFC 6587 syslog octet counting `123 <msg>`, hex-length protocols). netstring.hpp's
/// decimal_prefix is the strict netstring flavour; text_length_prefix has every knob.

#include <sockframe/codec.hpp>
#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/endian.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// Options of text_length_prefix.
struct text_length_options {
    /// 10 (decimal digits) or 16 (hex digits, either case on decode).
    unsigned base = 10;
    /// The byte after the digits (not a digit of the base).
    char separator = ' ';
    /// Most payload bytes one frame may announce.
    std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME;
    /// Most digits before the separator; 0: as many as max_frame needs (20 when leading zeros
    /// are accepted).
    std::size_t max_digits = 0;
    /// Accept "007" (true) or refuse a leading zero before another digit (false).
    bool leading_zeros = false;
    /// Accept a length of 0 (RFC 6587's MSG-LEN starts with a non-zero digit: false there).
    bool allow_empty = true;
    /// encode writes hex digits in upper case.
    bool uppercase = false;
};

/// Frames prefixed by their payload length as text in base 10 or 16 and a separator.
///
/// Decode errors, all with consumed 0 (a text stream cannot be resynchronised; the reader stops,
/// codec.hpp): a byte that is neither a digit nor the separator, a missing length, a leading zero
/// (unless accepted), a zero length (unless allowed), or more than max_digits digits is
/// malformed_frame (size = the byte's position); a length above max_frame is frame_too_large as
/// soon as the digits read exceed it (size = their value).
class text_length_prefix {
public:
    /// Decimal lengths, ' ' separator, no leading zeros, `max_frame` the most a frame announces.
    explicit text_length_prefix(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME)
        : text_length_prefix(with_max(max_frame)) {}
    /// Any layout; throws system_error(invalid_argument) for a base other than 10 or 16, or a
    /// separator that is a digit of the base.
    explicit text_length_prefix(const text_length_options& options) : options_(options) {
        if (options_.base != 10 && options_.base != 16)
            detail::throw_error(errc::invalid_argument, "text_length_prefix: base must be 10 or 16");
        if (digit(static_cast<std::byte>(options_.separator)) >= 0)
            detail::throw_error(errc::invalid_argument,
                                "text_length_prefix: the separator cannot be a digit");
        if (options_.max_digits == 0)
            options_.max_digits = options_.leading_zeros ? 20 : digits(options_.max_frame, options_.base);
        if (options_.max_digits > 64) options_.max_digits = 64;
    }

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return options_.max_frame; }
    /// Most input bytes one frame occupies: the digits, the separator and the payload.
    std::size_t max_frame_bytes() const noexcept {
        return detail::saturating_add(options_.max_digits + 1, options_.max_frame);
    }
    /// The options in force (max_digits resolved).
    const text_length_options& options() const noexcept { return options_; }
    /// Digits of `value` in `base`.
    static constexpr std::size_t digits(std::uint64_t value, unsigned base = 10) noexcept {
        std::size_t n = 1;
        while (value >= base) {
            value /= base;
            ++n;
        }
        return n;
    }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment).
    decode_result decode(const_buffer input) noexcept {
        const_buffer payload;
        if (const std::size_t n = decode_frame(input, payload)) return decode_result::frame(payload, n);
        const std::byte separator = static_cast<std::byte>(options_.separator);
        std::uint64_t value = 0;
        std::size_t i = 0;
        for (;; ++i) {
            if (i == input.size()) return decode_result::need_more();
            const std::byte b = input[i];
            if (b == separator) break;
            const int d = digit(b);
            if (d < 0 || i == options_.max_digits) return fatal(errc::malformed_frame, i);
            if (i == 1 && !options_.leading_zeros && input[0] == std::byte{'0'})
                return fatal(errc::malformed_frame, i);
            const auto dv = static_cast<std::uint64_t>(d);
            if (value > (UINT64_MAX - dv) / options_.base) return fatal(errc::frame_too_large, UINT64_MAX);
            value = value * options_.base + dv;
            if (value > options_.max_frame) return fatal(errc::frame_too_large, value);
        }
        if (i == 0 || (value == 0 && !options_.allow_empty)) return fatal(errc::malformed_frame, 0);
        const std::size_t header = i + 1;
        if (input.size() - header < value) return decode_result::need_more();
        const auto size = detail::convert<std::size_t>(value);
        return decode_result::frame(input.subspan(header, size), header + size);
    }
    /// decode()'s short cut (see codec.hpp): the size of the whole well-formed frame at the front
    /// of `input`, with `payload` set; 0 when decode() must decide (errors, a partial frame).
    std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        const std::byte* p = input.data();
        const std::size_t n = input.size();
        const std::size_t digits_max = options_.max_digits < n ? options_.max_digits : n;
        std::uint64_t value = 0;
        std::size_t i = 0;
        if (options_.base == 10) {
            for (; i < digits_max; ++i) {
                const unsigned d = std::to_integer<unsigned>(p[i]) - unsigned{'0'};
                if (d > 9) break;
                value = value * 10 + d;
            }
        } else {
            for (; i < digits_max; ++i) {
                const int d = digit(p[i]);
                if (d < 0) break;
                value = value * 16 + static_cast<unsigned>(d);
            }
        }
        // Up to 19 decimal or 16 hex digits the value cannot have wrapped; longer runs (max_digits
        // raised) go to decode(), which checks every step.
        const std::size_t safe = options_.base == 10 ? 19 : 16;
        if (i == 0 || i == n || p[i] != static_cast<std::byte>(options_.separator) || i > safe) return 0;
        if (value > options_.max_frame || (value == 0 && !options_.allow_empty)) return 0;
        if (i > 1 && p[0] == std::byte{'0'} && !options_.leading_zeros) return 0;
        if (n - i - 1 < value) return 0;
        const auto size = detail::convert<std::size_t>(value);
        payload = const_buffer(p + i + 1, size);
        return i + 1 + size;
    }
    /// Nothing to forget: the codec keeps no state between decodes.
    void reset() noexcept {}

    /// Prepends the length as text and the separator; payload_too_large above max_frame (or
    /// empty when allow_empty is false).
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Wraps the segments already in `out` as this codec's payload.
    std::error_code encode(frame_parts& out) const {
        std::byte text[max_prefix_size];
        const std::size_t n = encode_prefix(out.size(), text);
        if (n == 0) return make_error_code(errc::payload_too_large);
        if (!out.prepend_copy(const_buffer{text, n})) return detail::no_room();
        return {};
    }
    /// The longest header encode_prefix writes: 20 digits and the separator.
    static constexpr std::size_t max_prefix_size = 21;
    /// The length as text (minimal, no leading zero) and the separator at `out` (see codec.hpp);
    /// 0 above max_frame, beyond max_digits, or for an empty payload that is not allowed.
    std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        if (payload_size > options_.max_frame || (payload_size == 0 && !options_.allow_empty)) return 0;
        const char* digit_chars = options_.uppercase ? "0123456789ABCDEF" : "0123456789abcdef";
        std::uint64_t value = payload_size;
        const std::size_t n = digits(value, options_.base);
        if (n > options_.max_digits) return 0;  // the decoder would refuse it
        for (std::size_t i = n; i-- > 0;) {
            out[i] = static_cast<std::byte>(digit_chars[value % options_.base]);
            value /= options_.base;
        }
        out[n] = static_cast<std::byte>(options_.separator);
        return n + 1;
    }

private:
    int digit(std::byte b) const noexcept {
        const int c = std::to_integer<int>(b);
        if (c >= '0' && c <= '9') return c - '0';
        if (options_.base == 16) {
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        }
        return -1;
    }
    static text_length_options with_max(std::size_t max_frame) noexcept {
        text_length_options o;
        o.max_frame = max_frame;
        return o;
    }
    static decode_result fatal(errc e, std::uint64_t size) noexcept {
        return decode_result::failure(e, size);
    }

    text_length_options options_;
};

/// RFC 6587 octet counting (syslog over TCP): `MSG-LEN SP SYSLOG-MSG`, MSG-LEN decimal without a
/// leading zero and at least 1.
inline text_length_prefix make_octet_counting(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME) {
    text_length_options o;
    o.max_frame = max_frame;
    o.allow_empty = false;
    return text_length_prefix{o};
}

/// Hexadecimal lengths followed by `separator` (lower-case on encode, either case on decode).
inline text_length_prefix make_hex_length(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME,
                                          char separator = '\n') {
    text_length_options o;
    o.base = 16;
    o.separator = separator;
    o.max_frame = max_frame;
    return text_length_prefix{o};
}

SOCKFRAME_NAMESPACE_END
