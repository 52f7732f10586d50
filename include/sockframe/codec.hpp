// SPDX-License-Identifier: MIT
#pragma once
/// The codec contract: what a sans-IO codec provides, what decode returns and how encode lays out
/// a frame. codec_traits.hpp checks it at compile time (codec_check<C>, the C++20 `codec` concept)
/// and tells which optional members a codec has (codec_traits<C>).
///
/// Required (built-in and user codecs alike; any declaration callable this way will do):
///
///     std::size_t max_frame() const;                       // max payload bytes a decode delivers
///     std::size_t max_frame_bytes() const;                 // max input bytes one frame occupies
///     decode_result decode(const_buffer input);            // see below
///     void reset();                                        // forget partial-scan state
///     std::error_code encode(const_buffer payload, frame_parts& out) const;
///
/// Optional, each with exactly ONE accepted signature. A member of one of these names declared
/// in any other way is a compile error from codec_check (it would otherwise be silently ignored):
///
///     std::error_code encode(frame_parts& frame) const;    // wrap the segments already in
///                                                          // `frame` (outer of a composition)
///     static constexpr std::size_t max_prefix_size = N;    // header, then the unchanged payload
///     std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept;
///     static constexpr std::size_t max_overhead = N;       // the whole frame, written in place
///     std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept;
///     std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept;
///     decode_result decode_eof(const_buffer input);        // (const allowed)
///
/// encode_prefix writes the header of a `payload_size`-byte frame to `out` (room for
/// max_prefix_size bytes) and returns its size, or 0 when encode() must do it (an error to
/// report, or a layout that is not header + payload); what it writes equals what encode() would
/// put before the payload.
///
/// encode_into writes the WHOLE frame of `payload` (header, a copy of the payload, trailer)
/// contiguously at `out`, which has room for payload.size() + max_overhead bytes, and returns the
/// frame's size; or returns 0 when encode() must decide (an error, or a frame that needs more
/// room). Its bytes equal what encode() produces. detail::encode_into(codec, payload, out) uses
/// it, else encode_prefix and a copy, else returns 0; codec_traits<C>::max_overhead_v is the room
/// it needs beyond the payload.
///
/// decode_frame is decode()'s short cut: when a whole frame of the common case is at the front of
/// `input` it sets `payload` and returns the frame's size (what decode would report as frame and
/// consumed); otherwise it returns 0 and changes nothing, and the reader calls decode(), which
/// decides. It keeps no state.
///
/// decode_eof(input) is called once the peer has closed while `input` (not empty, and on which
/// decode() returned need_more) is still buffered: it returns the final frame those bytes form
/// (a line without its ending, where the codec is configured to accept one), or an error. Without
/// it (detail::decode_eof) the result is truncated_stream with size = input.size().
///
/// max_frame_bytes(): header + payload + trailer of the largest frame decode accepts; a codec
/// decides (frame or error) once it holds that many bytes, so a reader never buffers more.
///
/// decode(input): `input` is every buffered byte not yet consumed. Calls after a `need_more`
/// result pass the same bytes again (minus what that result consumed), extended by what arrived
/// since; a codec may keep scan state across such calls so that it never rescans (the delimiter
/// codec does), and it clears that state itself when it returns a frame or an error. Results:
///   - need_more: no complete frame yet. `consumed` is 0, except while a codec silently discards
///     bytes it will never deliver (the rest of an overlong frame it already reported, or, in
///     length_prefix's discard mode, the oversized frame): then it is the number of bytes to drop;
///   - frame: `payload` views the frame's payload inside `input`, `consumed` input bytes form the
///     frame (the caller drops them before the next decode). A codec that transforms the bytes
///     (byte stuffing: cobs, slip) declares `static constexpr bool transformed_payload = true`
///     and views its own buffer instead, valid until its next decode or reset;
///   - error: `error` says why and `size` carries the offending length or position; `consumed`
///     bytes may be dropped to resynchronise.
/// So a reader's loop is uniform: after every decode, drop `consumed` bytes from the front.
///
/// Poisoning belongs to the reader, not to codecs: an error with consumed == 0 means the stream
/// cannot be resynchronised, and the reader stops decoding and repeats that error itself (until
/// the codec is reset() for a new stream). A codec keeps no "poisoned" state; a codec called
/// again after such an error decodes the same bytes again, typically to the same error.
///
/// encode(payload, out): resets `out` to the payload, then adds the frame's header and trailer
/// around it. The payload is not copied, so a sender gathers header, payload and trailer in one
/// system call; `out` views the payload, which must outlive its use.

#include <sockframe/buffer.hpp>
#include <sockframe/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// The outcome of one decode call.
struct decode_result {
    /// What a decode found.
    enum class status : std::uint8_t { need_more, frame, error };

    /// need_more, frame or error.
    status state = status::need_more;
    const_buffer payload;      ///< frame: the payload, a view into the decoded input
    std::size_t consumed = 0;  ///< input bytes to drop: the frame, the bytes to skip, or garbage
    std::error_code error{0, sockframe_category()};  ///< error: why (value 0 otherwise)
    std::uint64_t size = 0;                          ///< error: the offending length, or the byte position

    /// More input is needed; nothing to drop.
    static decode_result need_more() noexcept { return {}; }
    /// A frame: `payload` (a view into the input) in the first `consumed` input bytes.
    static decode_result frame(const_buffer payload, std::size_t consumed) noexcept {
        decode_result r;
        r.state = status::frame;
        r.payload = payload;
        r.consumed = consumed;
        return r;
    }
    /// An error `ec` about `size` (the offending length or position); `skip` bytes may be dropped to
    /// resynchronise (0: the stream cannot be).
    static decode_result failure(std::error_code ec, std::uint64_t size, std::size_t skip = 0) noexcept {
        decode_result r;
        r.state = status::error;
        r.error = ec;
        r.size = size;
        r.consumed = skip;
        return r;
    }
    /// Whether a frame was decoded.
    bool is_frame() const noexcept { return state == status::frame; }
    /// Whether the input is in error.
    bool is_error() const noexcept { return state == status::error; }
    /// Whether more input is needed.
    bool needs_more() const noexcept { return state == status::need_more; }
};

namespace detail {
/// memcpy, with the small sizes of headers and short payloads done inline (no library call).
SOCKFRAME_ALWAYS_INLINE void copy_bytes(std::byte* to, const std::byte* from, std::size_t n) noexcept {
    if (n > 16) {
        std::memcpy(to, from, n);
    } else if (n >= 8) {
        std::memcpy(to, from, 8);
        std::memcpy(to + n - 8, from + n - 8, 8);
    } else if (n >= 4) {
        std::memcpy(to, from, 4);
        std::memcpy(to + n - 4, from + n - 4, 4);
    } else {
        for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
    }
}
}  // namespace detail

/// A frame being encoded: up to `max_segments` views in wire order (header(s), payload,
/// trailer(s)), plus a small scratch area that owns header and trailer bytes a codec computes.
/// Views into the scratch area stay valid as long as this object lives and is not moved.
///
/// Views that are contiguous in memory are merged into one segment (so the headers and trailers
/// of any depth of composition take one segment each: appended scratch bytes are allocated
/// upwards, prepended ones downwards), and the segments re-centre when one end runs out.
class frame_parts {
public:
    /// The most segments (views) one frame has.
    static constexpr std::size_t max_segments = 8;
    /// Bytes of scratch space for headers and trailers.
    static constexpr std::size_t scratch_size = 128;

    frame_parts() noexcept = default;
    frame_parts(const frame_parts&) = delete;
    frame_parts& operator=(const frame_parts&) = delete;

    /// Starts a new frame around `payload` (drops whatever was there).
    void reset(const_buffer payload) noexcept {
        first_ = last_ = max_segments / 2;
        segments_[first_] = payload;
        ++last_;
        low_ = 0;
        high_ = scratch_size;
    }
    /// Bytes of every segment together.
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (std::size_t i = first_; i < last_; ++i) n += segments_[i].size();
        return n;
    }
    /// Segments in the frame.
    std::size_t segment_count() const noexcept { return last_ - first_; }
    /// The first segment.
    const const_buffer* begin() const noexcept { return segments_.data() + first_; }
    /// Past the last segment.
    const const_buffer* end() const noexcept { return segments_.data() + last_; }
    /// Segment `i` in wire order.
    const const_buffer& operator[](std::size_t i) const noexcept { return segments_[first_ + i]; }

    /// Reserves `n` scratch bytes, returns where to write them; nullptr if the scratch is full.
    std::byte* allocate(std::size_t n) noexcept {
        if (n > high_ - low_) return nullptr;
        std::byte* p = scratch_.data() + low_;
        low_ += n;
        return p;
    }
    /// Puts a view before every segment; false if there is no room.
    bool prepend(const_buffer b) noexcept {
        if (b.empty()) return true;
        if (first_ < last_ && b.data() + b.size() == segments_[first_].data()) {
            segments_[first_] = const_buffer{b.data(), b.size() + segments_[first_].size()};
            return true;
        }
        if (first_ == 0 && !recentre(true)) return false;
        segments_[--first_] = b;
        return true;
    }
    /// Puts a view after every segment; false if there is no room.
    bool append(const_buffer b) noexcept {
        if (b.empty()) return true;
        if (first_ < last_ && segments_[last_ - 1].data() + segments_[last_ - 1].size() == b.data()) {
            segments_[last_ - 1] =
                const_buffer{segments_[last_ - 1].data(), segments_[last_ - 1].size() + b.size()};
            return true;
        }
        if (last_ == max_segments && !recentre(false)) return false;
        segments_[last_++] = b;
        return true;
    }
    /// Copies `b` into the scratch area and inserts it `at` bytes into the frame (splitting the
    /// segment there); false if there is no room or `at` > size().
    bool insert_copy(std::size_t at, const_buffer b) noexcept {
        if (at == 0) return prepend_copy(b);
        if (b.empty()) return at <= size();
        std::size_t index = first_;
        std::size_t skip = at;
        while (index < last_ && skip >= segments_[index].size()) {
            skip -= segments_[index].size();
            ++index;
        }
        if (index == last_) return skip == 0 && append_copy(b);
        if (skip == 0) {  // a segment boundary: one new segment
            if (segment_count() + 1 > max_segments) return false;
        } else if (segment_count() + 2 > max_segments) {
            return false;
        }
        std::byte* p = allocate(b.size());
        if (p == nullptr) return false;
        std::memcpy(p, b.data(), b.size());
        std::array<const_buffer, max_segments> rebuilt{};
        std::size_t count = 0;
        for (std::size_t i = first_; i < index; ++i) rebuilt[count++] = segments_[i];
        if (skip != 0) rebuilt[count++] = segments_[index].first(skip);
        rebuilt[count++] = const_buffer{p, b.size()};
        rebuilt[count++] = segments_[index].subspan(skip);
        for (std::size_t i = index + 1; i < last_; ++i) rebuilt[count++] = segments_[i];
        first_ = (max_segments - count) / 2;
        last_ = first_ + count;
        for (std::size_t i = 0; i < count; ++i) segments_[first_ + i] = rebuilt[i];
        return true;
    }
    /// Copies `b` into the scratch area and prepends it; false if there is no room.
    bool prepend_copy(const_buffer b) noexcept {
        if (b.empty()) return true;
        if (b.size() > high_ - low_) return false;
        high_ -= b.size();
        std::memcpy(scratch_.data() + high_, b.data(), b.size());
        if (prepend(const_buffer{scratch_.data() + high_, b.size()})) return true;
        high_ += b.size();
        return false;
    }
    /// Copies `b` into the scratch area and appends it; false if there is no room.
    bool append_copy(const_buffer b) noexcept {
        if (b.empty()) return true;
        std::byte* p = allocate(b.size());
        if (p == nullptr) return false;
        std::memcpy(p, b.data(), b.size());
        if (append(const_buffer{p, b.size()})) return true;
        low_ -= b.size();
        return false;
    }

    /// Copies every segment, in order, into `out` (which must hold size() bytes).
    void copy_to(std::byte* out) const noexcept {
        for (const auto& s : *this) {
            detail::copy_bytes(out, s.data(), s.size());
            out += s.size();
        }
    }

private:
    /// Moves the segments to the middle so that the `front` (else back) end has a free slot.
    bool recentre(bool front) noexcept {
        const std::size_t count = last_ - first_;
        if (count >= max_segments) return false;
        std::size_t to = (max_segments - count + (front ? 1 : 0)) / 2;
        if (front && to == 0) to = 1;
        if (!front && to + count == max_segments) to = max_segments - count - 1;
        std::array<const_buffer, max_segments> moved{};
        for (std::size_t i = 0; i < count; ++i) moved[i] = segments_[first_ + i];
        for (std::size_t i = 0; i < count; ++i) segments_[to + i] = moved[i];
        first_ = to;
        last_ = to + count;
        return true;
    }

    std::array<const_buffer, max_segments> segments_{};
    std::array<std::byte, scratch_size> scratch_{};
    std::size_t first_ = max_segments / 2;
    std::size_t last_ = max_segments / 2;
    std::size_t low_ = 0;              // scratch bytes [0, low_) hold appended copies
    std::size_t high_ = scratch_size;  // scratch bytes [high_, scratch_size) hold prepended copies
};

namespace detail {
/// The error a codec returns when a frame does not fit in frame_parts' segments or scratch.
inline std::error_code no_room() noexcept { return std::make_error_code(std::errc::no_buffer_space); }
}  // namespace detail

SOCKFRAME_NAMESPACE_END

// The compile-time contract (codec_traits, codec_check, the detail helpers) comes with this header.
#include <sockframe/codec_traits.hpp>
