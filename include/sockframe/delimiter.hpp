// SPDX-License-Identifier: MIT
#pragma once
/// Delimiter framing: frames end with a byte string (Netty DelimiterBasedFrameDecoder), and the
/// line codec (Netty LineBasedFrameDecoder, tokio LinesCodec): `'\n'` with an optional `'\r'` before it.

#include <sockframe/codec.hpp>
#include <sockframe/detail/endian.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// Frames that end with a delimiter: any non-empty byte string of up to 32 bytes (`"\r\n"`, "$_",
/// a NUL byte, ...). decode strips the delimiter, encode appends it.
///
/// The search keeps its state across need_more results (a Knuth-Morris-Pratt automaton), so each
/// input byte is examined once however the input is split.
///
/// After an error the stream resynchronises, like Netty's DelimiterBasedFrameDecoder: a frame
/// longer than max_frame is reported once as frame_too_large (size = the bytes counted so far,
/// consumed = the bytes scanned), then the rest of it, up to and including the next delimiter,
/// is dropped silently (need_more results with consumed > 0) and decoding resumes after it.
class delimiter {
public:
    /// Longest delimiter accepted.
    static constexpr std::size_t max_delimiter_size = 32;
    /// Frames end at a byte pattern the payload must not contain (see checked).
    static constexpr bool delimited_payload = true;

    /// Any bytes (std::string, string_view, vector, ...); throws system_error(invalid_argument)
    /// if `delim` is empty or longer than 32 bytes.
    explicit delimiter(const_buffer delim, std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME)
        : max_frame_(max_frame) {
        if (delim.empty() || delim.size() > max_delimiter_size)
            detail::throw_error(errc::invalid_argument, "delimiter: must be 1 to 32 bytes");
        size_ = delim.size();
        std::memcpy(delim_.data(), delim.data(), size_);
        std::size_t k = 0;  // fallback_[i]: longest proper border of delim[0..i]
        fallback_[0] = 0;
        for (std::size_t i = 1; i < size_; ++i) {
            while (k > 0 && delim_[i] != delim_[k]) k = fallback_[k - 1];
            if (delim_[i] == delim_[k]) ++k;
            fallback_[i] = static_cast<std::uint8_t>(k);
        }
    }
    /// A NUL-terminated delimiter (`"\r\n"`); for a NUL byte pass `std::string_view{"\0", 1}`.
    explicit delimiter(const char* delim, std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME)
        : delimiter(const_buffer{delim}, max_frame) {}

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return max_frame_; }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const noexcept { return detail::saturating_add(max_frame_, size_); }
    /// The delimiter's bytes (a view into this codec).
    const_buffer bytes() const noexcept { return {delim_.data(), size_}; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) noexcept {
        const std::byte* in = input.data();
        const std::size_t n = input.size();
        std::size_t base = 0;  // where the current frame starts (bytes before it are garbage)
        std::size_t i = scanned_;
        if (discarding_) discard_end_ = SIZE_MAX;
        for (;;) {
            if (!discarding_ && i - base - matched_ > max_frame_) {
                const std::size_t counted = i - base - matched_;
                discarding_ = true;
                scanned_ = 0;
                return decode_result::failure(make_error_code(errc::frame_too_large), counted, i);
            }
            if (i == n) break;
            if (matched_ == 0) {
                // Nothing pending: jump to the next first byte, but not past max_frame + 1 bytes.
                const std::size_t stop = discarding_ || n - base <= max_frame_ ? n : base + max_frame_ + 1;
                const void* hit = std::memchr(in + i, std::to_integer<int>(delim_[0]), stop - i);
                if (hit == nullptr) {
                    i = stop;
                    continue;
                }
                i = static_cast<std::size_t>(static_cast<const std::byte*>(hit) - in);
            }
            const std::byte b = in[i++];
            while (matched_ > 0 && delim_[matched_] != b) matched_ = fallback_[matched_ - 1];
            if (delim_[matched_] == b) ++matched_;
            if (matched_ == size_) {
                matched_ = 0;
                if (discarding_) {
                    discarding_ = false;
                    discard_end_ = i;
                    base = i;
                    continue;
                }
                scanned_ = 0;
                return decode_result::frame(input.subspan(base, i - size_ - base), i);
            }
        }
        decode_result r;
        if (discarding_) {
            scanned_ = 0;  // the automaton state (matched_) is all that is needed of these bytes
            r.consumed = n;
        } else {
            scanned_ = i - base;
            r.consumed = base;
        }
        return r;
    }

    /// True while decode drops the rest of an overlong frame it reported (see the class comment).
    bool discarding() const noexcept { return discarding_; }
    /// In a decode call that began while discarding(): where in its input the drop ended, or
    /// SIZE_MAX if it did not end there.
    std::size_t discard_end() const noexcept { return discard_end_; }

    /// Forgets the scan position and any discarding in progress.
    void reset() noexcept {
        scanned_ = 0;
        matched_ = 0;
        discarding_ = false;
    }

    /// A copy of this codec that, when the peer closes after an unterminated frame, delivers it
    /// (decode_eof returns it as a frame) instead of reporting truncated_stream (the default).
    delimiter with_final_unterminated(bool on = true) const noexcept {
        delimiter copy = *this;
        copy.final_unterminated_ = on;
        return copy;
    }
    /// Whether decode_eof delivers a final unterminated frame.
    bool final_unterminated() const noexcept { return final_unterminated_; }

    /// The end of the stream with `input` buffered (decode() returned need_more on it): with
    /// final_unterminated(), the bytes are the last frame (frame_too_large above
    /// max_frame, consumed = input.size()); otherwise truncated_stream, size = input.size(),
    /// consumed 0. The rest of an overlong frame being dropped is dropped (need_more, consumed =
    /// input.size()). Empty input: need_more.
    decode_result decode_eof(const_buffer input) noexcept {
        if (input.empty()) return decode_result::need_more();
        if (discarding_) {
            reset();
            decode_result r;
            r.consumed = input.size();
            return r;
        }
        if (!final_unterminated_)
            return decode_result::failure(make_error_code(errc::truncated_stream), input.size(), 0);
        reset();
        std::size_t size = input.size();
        if (size > max_frame_)
            return decode_result::failure(make_error_code(errc::frame_too_large), size, input.size());
        return decode_result::frame(input.first(size), input.size());
    }

    /// Appends the delimiter. invalid_argument if the payload contains it (or ends with part of
    /// it so that payload + delimiter would end a frame early); payload_too_large above max_frame.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Most bytes encode_into adds: the longest delimiter.
    static constexpr std::size_t max_overhead = max_delimiter_size;
    /// The payload and the delimiter at `out` (see codec.hpp); 0 where encode() reports an error.
    std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept {
        if (payload.size() > max_frame_) return 0;
        std::size_t m = 0;
        for (std::byte b : payload)
            if (step(m, b) == size_) return 0;
        for (std::size_t i = 0; i + 1 < size_; ++i)
            if (step(m, delim_[i]) == size_) return 0;
        detail::copy_bytes(out, payload.data(), payload.size());
        std::memcpy(out + payload.size(), delim_.data(), size_);
        return payload.size() + size_;
    }
    /// Wraps the segments already in `out` as this codec's payload.
    std::error_code encode(frame_parts& out) const {
        if (out.size() > max_frame_) return make_error_code(errc::payload_too_large);
        std::size_t m = 0;
        for (const const_buffer& segment : out)
            for (std::byte b : segment)
                if (step(m, b) == size_) return make_error_code(errc::invalid_argument);
        for (std::size_t i = 0; i + 1 < size_; ++i)
            if (step(m, delim_[i]) == size_) return make_error_code(errc::invalid_argument);
        if (!out.append_copy(bytes())) return detail::no_room();
        return {};
    }

private:
    std::size_t step(std::size_t& m, std::byte b) const noexcept {
        while (m > 0 && delim_[m] != b) m = fallback_[m - 1];
        if (delim_[m] == b) ++m;
        return m;
    }

    std::array<std::byte, max_delimiter_size> delim_{};
    std::array<std::uint8_t, max_delimiter_size> fallback_{};
    std::size_t size_ = 0;
    std::size_t max_frame_;
    std::size_t scanned_ = 0;  // input bytes already examined (relative to the frame start)
    std::size_t matched_ = 0;  // delimiter bytes matched at the end of what was scanned
    std::size_t discard_end_ = 0;
    bool discarding_ = false;
    bool final_unterminated_ = false;
};

/// How line::encode ends a line.
enum class line_ending : std::uint8_t { lf, crlf };

/// Text lines: a frame ends at `'\n'`; a `'\r'` just before it is stripped too, so `"\n"` and `"\r\n"`
/// peers both work (Netty LineBasedFrameDecoder, tokio LinesCodec, Python readline). max_frame
/// counts the line without its ending.
///
/// After an overlong line the stream resynchronises as tokio's LinesCodec does: frame_too_large
/// is reported once (size = the bytes counted so far, consumed = the bytes scanned), the rest of
/// the line through its `'\n'` is dropped silently, and decoding resumes with the next line.
class line {
public:
    /// Frames end at a byte pattern the payload must not contain (see checked).
    static constexpr bool delimited_payload = true;

    /// Lines of at most `max_frame` bytes (without the line end), written with `ending`.
    explicit line(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME,
                  line_ending ending = line_ending::lf) noexcept
        : max_frame_(max_frame), ending_(ending) {}

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return max_frame_; }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const noexcept { return detail::saturating_add(max_frame_, 2); }
    /// How encode ends a line.
    line_ending ending() const noexcept { return ending_; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) noexcept {
        const std::byte* in = input.data();
        const std::size_t n = input.size();
        std::size_t base = 0;
        std::size_t i = scanned_;
        if (discarding_) discard_end_ = SIZE_MAX;
        for (;;) {
            if (!discarding_ && i > base) {
                // The line so far has i - base bytes; a final '\r' may still turn out to be its ending.
                const std::size_t counted = i - base;
                const bool cr = in[i - 1] == std::byte{'\r'};
                if (counted - (cr ? 1 : 0) > max_frame_) {
                    discarding_ = true;
                    scanned_ = 0;
                    return decode_result::failure(make_error_code(errc::frame_too_large), counted, i);
                }
            }
            if (i == n) break;
            std::size_t stop = n;
            if (!discarding_) {
                // Look no further than where the length check must run again.
                const std::size_t room = detail::saturating_add(max_frame_, i - base <= max_frame_ ? 1 : 2);
                if (n - base > room) stop = base + room;
            }
            const void* hit = std::memchr(in + i, '\n', stop - i);
            if (hit == nullptr) {
                i = stop;
                continue;
            }
            const auto eol = static_cast<std::size_t>(static_cast<const std::byte*>(hit) - in);
            i = eol + 1;
            if (discarding_) {
                discarding_ = false;
                discard_end_ = i;
                base = i;
                continue;
            }
            std::size_t size = eol - base;
            if (size > 0 && in[eol - 1] == std::byte{'\r'}) --size;
            scanned_ = 0;
            if (size > max_frame_)
                return decode_result::failure(make_error_code(errc::frame_too_large), size, i);
            return decode_result::frame(input.subspan(base, size), i);
        }
        decode_result r;
        if (discarding_) {
            scanned_ = 0;
            r.consumed = n;
        } else {
            scanned_ = i - base;
            r.consumed = base;
        }
        return r;
    }

    /// True while decode drops the rest of an overlong frame it reported (see the class comment).
    bool discarding() const noexcept { return discarding_; }
    /// In a decode call that began while discarding(): where in its input the drop ended, or
    /// SIZE_MAX if it did not end there.
    std::size_t discard_end() const noexcept { return discard_end_; }

    /// Forgets scan state and any discarding in progress, for a new stream.
    void reset() noexcept {
        scanned_ = 0;
        discarding_ = false;
    }

    /// A copy of this codec that, when the peer closes after an unterminated frame, delivers it
    /// (decode_eof returns it as a frame) instead of reporting truncated_stream (the default).
    line with_final_unterminated(bool on = true) const noexcept {
        line copy = *this;
        copy.final_unterminated_ = on;
        return copy;
    }
    /// Whether decode_eof delivers a final unterminated frame.
    bool final_unterminated() const noexcept { return final_unterminated_; }

    /// The end of the stream with `input` buffered (decode() returned need_more on it): with
    /// final_unterminated(), the bytes are the last frame without a final `'\r'` (frame_too_large above
    /// max_frame, consumed = input.size()); otherwise truncated_stream, size = input.size(),
    /// consumed 0. The rest of an overlong frame being dropped is dropped (need_more, consumed =
    /// input.size()). Empty input: need_more.
    decode_result decode_eof(const_buffer input) noexcept {
        if (input.empty()) return decode_result::need_more();
        if (discarding_) {
            reset();
            decode_result r;
            r.consumed = input.size();
            return r;
        }
        if (!final_unterminated_)
            return decode_result::failure(make_error_code(errc::truncated_stream), input.size(), 0);
        reset();
        std::size_t size = input.size();
        if (input[size - 1] == std::byte{'\r'}) --size;
        if (size > max_frame_)
            return decode_result::failure(make_error_code(errc::frame_too_large), size, input.size());
        return decode_result::frame(input.first(size), input.size());
    }

    /// Appends `"\n"` (or `"\r\n"`). invalid_argument if the payload contains `'\n'`, or, with the lf
    /// ending, ends with `'\r'` (the decoder would strip it); payload_too_large above max_frame.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Most bytes encode_into adds: `"\r\n"`.
    static constexpr std::size_t max_overhead = 2;
    /// The payload and the line ending at `out` (see codec.hpp); 0 where encode() reports an error.
    std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept {
        const std::size_t n = payload.size();
        if (n > max_frame_) return 0;
        if (n > 0 && std::memchr(payload.data(), '\n', n) != nullptr) return 0;
        if (ending_ == line_ending::lf && n > 0 && payload[n - 1] == std::byte{'\r'}) return 0;
        detail::copy_bytes(out, payload.data(), n);
        if (ending_ == line_ending::lf) {
            out[n] = std::byte{'\n'};
            return n + 1;
        }
        out[n] = std::byte{'\r'};
        out[n + 1] = std::byte{'\n'};
        return n + 2;
    }
    /// Wraps the segments already in `out` as this codec's payload.
    std::error_code encode(frame_parts& out) const {
        if (out.size() > max_frame_) return make_error_code(errc::payload_too_large);
        std::byte last{0};
        for (const const_buffer& segment : out) {
            if (segment.empty()) continue;
            if (std::memchr(segment.data(), '\n', segment.size()) != nullptr)
                return make_error_code(errc::invalid_argument);
            last = segment[segment.size() - 1];
        }
        if (ending_ == line_ending::lf && last == std::byte{'\r'})
            return make_error_code(errc::invalid_argument);
        const bool ok = ending_ == line_ending::lf ? out.append_copy("\n") : out.append_copy("\r\n");
        if (!ok) return detail::no_room();
        return {};
    }

private:
    std::size_t max_frame_;
    line_ending ending_;
    std::size_t scanned_ = 0;
    std::size_t discard_end_ = 0;
    bool discarding_ = false;
    bool final_unterminated_ = false;
};

SOCKFRAME_NAMESPACE_END
