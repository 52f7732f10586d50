// SPDX-License-Identifier: MIT
#pragma once
/// Netstrings (`<decimal length>:<payload>,`, https://cr.yp.to/proto/netstrings.txt), built from
/// two composable parts: a decimal-text length prefix and a ',' suffix.

#include <sockframe/detail/convert.hpp>
#include <sockframe/codec.hpp>
#include <sockframe/compose.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// Frames prefixed by their payload length in decimal ASCII digits and a separator (':').
///
/// Strict like the netstring spec: at least one digit, no leading zero (except "0" itself), no
/// sign or space. Decode errors, all with consumed 0 (the stream cannot be resynchronised; the
/// reader stops, see codec.hpp): a non-digit, a leading zero, or a missing length is malformed_frame (size =
/// the byte's position); a length above max_frame is frame_too_large as soon as its digits exceed it (size =
/// the value of the digits read so far).
class decimal_prefix {
public:
    /// Lengths up to `max_frame`, followed by `separator`.
    explicit decimal_prefix(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME, char separator = ':')
        : max_frame_(max_frame), separator_(static_cast<std::byte>(separator)) {
        if (separator >= '0' && separator <= '9')
            detail::throw_error(errc::invalid_argument, "decimal_prefix: the separator cannot be a digit");
    }

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return max_frame_; }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const noexcept {
        return detail::saturating_add(digits(max_frame_) + 1, max_frame_);
    }
    /// Digits of `value` in decimal.
    static constexpr std::size_t digits(std::uint64_t value) noexcept {
        std::size_t n = 1;
        while (value >= 10) {
            value /= 10;
            ++n;
        }
        return n;
    }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) noexcept {
        std::uint64_t value = 0;
        std::size_t i = 0;
        for (;; ++i) {
            if (i == input.size()) return decode_result::need_more();
            const std::byte b = input[i];
            if (b == separator_) break;
            const int c = std::to_integer<int>(b);
            if (c < '0' || c > '9') return fatal(errc::malformed_frame, i);
            if (i == 1 && input[0] == std::byte{'0'}) return fatal(errc::malformed_frame, i);
            const auto d = static_cast<std::uint64_t>(c - '0');
            if (value > (UINT64_MAX - d) / 10) return fatal(errc::frame_too_large, UINT64_MAX);
            value = value * 10 + d;
            if (value > max_frame_) return fatal(errc::frame_too_large, value);
        }
        if (i == 0) return fatal(errc::malformed_frame, 0);
        const std::size_t header = i + 1;
        if (input.size() - header < value) return decode_result::need_more();
        const auto size = detail::convert<std::size_t>(value);
        return decode_result::frame(input.subspan(header, size), header + size);
    }
    /// Nothing to forget: decimal_prefix keeps no state between decodes.
    void reset() noexcept {}

    /// Prepends the payload size in decimal and the separator; payload_too_large above max_frame.
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
    /// The decimal length and the separator at `out` (see codec.hpp); 0 above max_frame.
    std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        if (payload_size > max_frame_) return 0;
        std::uint64_t value = payload_size;
        const std::size_t n = digits(value);
        for (std::size_t i = n; i-- > 0;) {
            out[i] = static_cast<std::byte>('0' + value % 10);
            value /= 10;
        }
        out[n] = separator_;
        return n + 1;
    }

private:
    static decode_result fatal(errc e, std::uint64_t size) noexcept {
        return decode_result::failure(e, size);
    }

    std::size_t max_frame_;
    std::byte separator_;
};

/// The netstring codec: `decimal_prefix` followed by a ',' suffix.
using netstring = suffixed<decimal_prefix>;

/// A netstring codec delivering at most `max_frame` payload bytes. A missing ',' is
/// malformed_frame at its position; errors cannot be resynchronised (see decimal_prefix, suffixed).
template <typename = void>  // on nothing: the codec is instantiated only where one is made
netstring make_netstring(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME) {
    return netstring{decimal_prefix{max_frame}, ","};
}

SOCKFRAME_NAMESPACE_END
