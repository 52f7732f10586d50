// SPDX-License-Identifier: MIT
#pragma once
/// Length-prefixed framing: a fixed-width length field (1, 2, 4 or 8 bytes, either byte order,
/// optionally inside a fixed header) or an unsigned LEB128 varint.

#include <sockframe/detail/convert.hpp>
#include <sockframe/codec.hpp>
#include <sockframe/detail/endian.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// What length_prefix does with a frame whose length is above max_frame (Netty's
/// LengthFieldBasedFrameDecoder: fail, or discardTooLongFrame with and without failFast).
enum class oversized_frame : std::uint8_t {
    /// Report frame_too_large with consumed 0: the stream cannot go on (the default).
    fail,
    /// Drop the frame as its bytes arrive, never buffering it; once it is gone, report
    /// frame_too_large once (size = its length field) and go on with the next frame.
    discard,
    /// As discard, but report frame_too_large as soon as the length is read, then drop the frame.
    discard_fail_fast,
};

/// Layout options of length_prefix (Netty LengthFieldBasedFrameDecoder / tokio LengthDelimitedCodec).
///
/// On the wire a frame is: `offset` header bytes, the length field, then `value + adjustment`
/// bytes. decode delivers the frame minus its first `strip` bytes.
struct length_prefix_options {
    std::size_t offset = 0;                ///< header bytes before the length field
    std::int64_t adjustment = 0;           ///< bytes after the field = field value + adjustment
    std::optional<std::size_t> strip;      ///< bytes cut from the frame's start; default offset + field
    std::optional<std::size_t> max_frame;  ///< max delivered bytes; default 16 MiB or the field's reach
    oversized_frame on_oversized = oversized_frame::fail;  ///< a length above max_frame: stop or skip
};

/// Frames prefixed by a `Field`-sized unsigned length in byte order `Endian`.
///
/// `length_prefix<std::uint32_t>{}` is the 4-byte big-endian payload length of tokio's
/// LengthDelimitedCodec defaults and Python's struct.pack('>I', n).
///
/// encode(payload) writes the length field after the first `offset` bytes of the payload: with a
/// header before the field, the caller supplies those header bytes as the payload's start (Netty's
/// LengthFieldPrepender likewise writes only the field). decode(encode(p)) == p when offset is 0
/// and strip is the default.
///
/// A decode error (negative, oversized or overflowing length; strip beyond the frame) has
/// consumed 0: the stream cannot be resynchronised, and the reader stops there (codec.hpp). The
/// error's size is the length field's value as read. The codec keeps no error state: decoding the
/// same bytes again gives the same error.
///
/// Discard mode (options.on_oversized, see oversized_frame): a frame longer than max_frame whose
/// total size is known is skipped instead. Its bytes are dropped as they arrive (need_more results
/// with consumed > 0, so a reader never buffers it), frame_too_large is reported once (size = the
/// length field), with consumed > 0, before or after the drop, and decoding goes on with the next
/// frame. Other errors (negative length, strip beyond the frame, a total beyond 2^64) still stop.
template <typename Field = std::uint32_t, typename Endian = big_endian>
class length_prefix {
    static_assert(detail::is_length_field_v<Field>,
                  "length_prefix: Field must be std::uint8_t, std::uint16_t, std::uint32_t or std::uint64_t");
    static_assert(detail::is_endian_v<Endian>, "length_prefix: Endian must be big_endian or little_endian");

public:
    /// The length field's unsigned integer type.
    using field_type = Field;
    /// The length field's byte order (big_endian or little_endian).
    using endian_type = Endian;
    /// Bytes of the length field.
    static constexpr std::size_t field_size = sizeof(Field);

    /// Payload-only length at offset 0, default max_frame (16 MiB, or less if the field cannot say more).
    length_prefix() : length_prefix(length_prefix_options{}) {}
    /// Payload-only length at offset 0; throws system_error(invalid_argument) if the field cannot
    /// express `max_frame`.
    explicit length_prefix(std::size_t max_frame) : length_prefix(with_max(max_frame)) {}
    /// Payload-only length at offset 0 with `on_oversized` for lengths above `max_frame`.
    length_prefix(std::size_t max_frame, oversized_frame on_oversized)
        : length_prefix(with_max(max_frame, on_oversized)) {}
    /// Any layout; throws system_error(invalid_argument) on an impossible one.
    explicit length_prefix(const length_prefix_options& options)
        : offset_(options.offset), adjustment_(options.adjustment), on_oversized_(options.on_oversized) {
        if (offset_ > SIZE_MAX - field_size - 1) invalid("length_prefix: offset too large");
        strip_ = options.strip ? *options.strip : header_size();
        // The most a frame can deliver: header + field max + adjustment - strip.
        detail::wide most = header_size();
        most += (std::numeric_limits<Field>::max)();
        if (adjustment_ > 0) most += static_cast<std::uint64_t>(adjustment_);
        detail::wide least = strip_;
        if (adjustment_ < 0) least += detail::magnitude(adjustment_);
        if (most < least) invalid("length_prefix: no length value gives a frame of at least `strip` bytes");
        detail::wide reach = most;
        reach -= strip_;
        if (adjustment_ < 0) reach -= detail::magnitude(adjustment_);
        const std::uint64_t reach64 = reach.saturated();
        if (options.max_frame) {
            if (*options.max_frame > reach64)
                invalid("length_prefix: max_frame is larger than the length field can express");
            max_frame_ = *options.max_frame;
        } else {
            const std::uint64_t fallback = SOCKFRAME_DEFAULT_MAX_FRAME;
            max_frame_ = static_cast<std::size_t>(fallback < reach64 ? fallback : reach64);
        }
        plain_ = offset_ == 0 && adjustment_ == 0 && strip_ == field_size;
        short_cut_ = plain_;
    }

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return max_frame_; }
    /// Most input bytes one frame occupies.
    std::size_t max_frame_bytes() const noexcept {
        const std::size_t frame = detail::saturating_add(strip_, max_frame_);
        return frame > header_size() ? frame : header_size();
    }
    /// Bytes before the end of the length field.
    std::size_t header_size() const noexcept { return offset_ + field_size; }
    /// Header bytes before the length field.
    std::size_t offset() const noexcept { return offset_; }
    /// Frame bytes after the field = field value + adjustment.
    std::int64_t adjustment() const noexcept { return adjustment_; }
    /// Bytes cut from the front of each frame before it is delivered.
    std::size_t strip() const noexcept { return strip_; }
    /// What happens to a frame above max_frame.
    oversized_frame on_oversized() const noexcept { return on_oversized_; }
    /// True while decode drops the rest of an oversized frame (discard modes).
    bool discarding() const noexcept { return discard_left_ > 0; }
    /// In a decode call that began while discarding(): where in its input the drop ended, or
    /// SIZE_MAX if it did not end there.
    std::size_t discard_end() const noexcept { return discard_end_; }

    /// Decodes one frame from the front of `input`; see codec.hpp.
    decode_result decode(const_buffer input) noexcept {
        // The usual layout (the field holds the payload length) with a whole frame there: small
        // enough to be inlined into a reader's loop. Everything else takes decode_any().
        const_buffer payload;
        if (const std::size_t n = decode_frame(input, payload)) return decode_result::frame(payload, n);
        return decode_any(input);
    }
    /// decode()'s short cut (see codec.hpp): the size of the whole plain-layout frame at the front
    /// of `input`, with `payload` set; 0 when decode() must decide (other layouts, errors, a
    /// partial frame).
    std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        if (short_cut_ && input.size() >= field_size) {
            const std::uint64_t length = detail::load<Endian, Field>(input.data());
            if (length <= max_frame_ && input.size() - field_size >= length) {
                const auto n = static_cast<std::size_t>(length);
                payload = const_buffer(input.data() + field_size, n);
                return field_size + n;
            }
        }
        return 0;
    }

    /// Forgets a discard in progress, for a new stream.
    void reset() noexcept {
        discard_left_ = 0;
        short_cut_ = plain_;
        report_pending_ = false;
    }

    /// Frames `payload` (header bytes first when offset > 0); errors: payload_too_large if the
    /// field or max_frame cannot hold it, invalid_argument if it is shorter than the header
    /// before the field or than the adjustment requires.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        if (plain_) {
            if (payload.size() > max_frame_) return make_error_code(errc::payload_too_large);
            std::byte field[field_size];
            detail::store<Endian, Field>(static_cast<Field>(payload.size()), field);
            if (!out.prepend_copy(const_buffer{field, field_size})) return detail::no_room();
            return detail::no_error();
        }
        return encode(out);
    }
    /// The length field alone, for framed's send buffer (see codec.hpp); 0 unless the layout is
    /// the plain one (offset 0, adjustment 0, default strip) and the payload fits max_frame.
    static constexpr std::size_t max_prefix_size = field_size;
    /// Writes the header of a `payload_size`-byte frame at `out` (room for max_prefix_size): its
    /// size, or 0 when encode must decide (a layout with more than the length, or an error).
    std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        if (!plain_ || payload_size > max_frame_) return 0;
        detail::store<Endian, Field>(static_cast<Field>(payload_size), out);
        return field_size;
    }
    /// Inserts the length field into the frame already in `out`, after its first `offset` bytes.
    std::error_code encode(frame_parts& out) const {
        const std::uint64_t size = out.size();
        if (size < offset_) return make_error_code(errc::invalid_argument);
        const std::uint64_t after = size - offset_;
        detail::wide value = after;
        if (adjustment_ >= 0) {
            if (after < static_cast<std::uint64_t>(adjustment_))
                return make_error_code(errc::invalid_argument);
            value -= static_cast<std::uint64_t>(adjustment_);
        } else {
            value += detail::magnitude(adjustment_);
        }
        if (value > detail::wide{(std::numeric_limits<Field>::max)()})
            return make_error_code(errc::payload_too_large);
        detail::wide frame = size;
        frame += field_size;
        if (frame < detail::wide{strip_}) return make_error_code(errc::invalid_argument);
        frame -= strip_;
        if (frame > detail::wide{max_frame_}) return make_error_code(errc::payload_too_large);
        std::byte field[field_size];
        detail::store<Endian, Field>(static_cast<Field>(value.lo), field);
        if (!out.insert_copy(offset_, const_buffer{field, field_size})) return detail::no_room();
        return {};
    }

private:
    /// Every layout and outcome: need more, frame, error; and the rest of a discarded frame.
    SOCKFRAME_NOINLINE decode_result decode_any(const_buffer input) noexcept {
        if (discard_left_ == 0) return decode_one(input);
        const std::size_t k =
            discard_left_ < input.size() ? detail::convert<std::size_t>(discard_left_) : input.size();
        discard_left_ -= k;
        short_cut_ = plain_ && discard_left_ == 0;
        decode_result r;
        r.consumed = k;
        discard_end_ = SIZE_MAX;
        if (discard_left_ > 0) return r;  // still dropping: all of it
        discard_end_ = k;
        if (report_pending_) {
            report_pending_ = false;
            return decode_result::failure(make_error_code(errc::frame_too_large), discard_value_, k);
        }
        r = decode_one(input.subspan(k));
        if (r.consumed > 0 || !r.is_error()) r.consumed += k;  // an error that stops stays at 0
        return r;
    }

    /// One frame from the front of `input` (no discard in progress).
    decode_result decode_one(const_buffer input) noexcept {
        if (input.size() < header_size()) return decode_result::need_more();
        const std::uint64_t value = detail::load<Endian, Field>(input.data() + offset_);
        detail::wide total = header_size();
        total += value;
        if (adjustment_ >= 0) {
            total += static_cast<std::uint64_t>(adjustment_);
        } else {
            const std::uint64_t down = detail::magnitude(adjustment_);
            if (value < down) return fatal(errc::negative_length, value);
            total -= down;
        }
        if (total < detail::wide{strip_}) return fatal(errc::malformed_frame, value);
        detail::wide payload = total;
        payload -= strip_;
        if (payload > detail::wide{max_frame_} || total > detail::wide{SIZE_MAX}) {
            if (on_oversized_ == oversized_frame::fail || total.hi != 0)
                return fatal(errc::frame_too_large, value);
            return oversized(input, total.lo, value);
        }
        const auto frame = detail::convert<std::size_t>(total.lo);
        if (input.size() < frame) return decode_result::need_more();
        return decode_result::frame(input.subspan(strip_, frame - strip_), frame);
    }

    /// Starts skipping the `frame`-byte frame at the front of `input` (discard modes).
    decode_result oversized(const_buffer input, std::uint64_t frame, std::uint64_t value) noexcept {
        if (input.size() >= frame)  // all buffered: drop it with the report
            return decode_result::failure(make_error_code(errc::frame_too_large), value,
                                          detail::convert<std::size_t>(frame));
        discard_left_ = frame - input.size();
        short_cut_ = false;
        if (on_oversized_ == oversized_frame::discard_fail_fast)
            return decode_result::failure(make_error_code(errc::frame_too_large), value, input.size());
        report_pending_ = true;
        discard_value_ = value;
        decode_result r;
        r.consumed = input.size();
        return r;
    }

    static length_prefix_options with_max(std::size_t max_frame,
                                          oversized_frame on_oversized = oversized_frame::fail) {
        length_prefix_options o;
        o.max_frame = max_frame;
        o.on_oversized = on_oversized;
        return o;
    }
    [[noreturn]] static void invalid(const char* what) { detail::throw_error(errc::invalid_argument, what); }
    static decode_result fatal(errc e, std::uint64_t value) noexcept {
        return decode_result::failure(e, value);
    }

    std::size_t offset_ = 0;
    std::int64_t adjustment_ = 0;
    std::size_t strip_ = 0;
    std::size_t max_frame_ = 0;
    oversized_frame on_oversized_ = oversized_frame::fail;
    bool plain_ = false;  // offset 0, adjustment 0, default strip: decode and encode take a short cut
    bool report_pending_ = false;      // discard: frame_too_large is reported once the drop is done
    std::uint64_t discard_left_ = 0;   // bytes of an oversized frame still to drop
    bool short_cut_ = false;           // plain_ and not discarding: decode_frame's one test per frame
    std::uint64_t discard_value_ = 0;  // its length field, for the deferred report
    std::size_t discard_end_ = 0;
};

/// Frames prefixed by their payload length as an unsigned LEB128 varint (protobuf's
/// writeDelimitedTo / parseDelimitedFrom, Netty's ProtobufVarint32 codecs for lengths < 2^32).
///
/// Decode errors: a varint longer than 10 bytes or above 2^64 - 1 is malformed_frame (size = the
/// bytes read); a length above max_frame is frame_too_large (size = the length). Non-minimal
/// encodings are accepted, as protobuf does. Errors have consumed 0: the stream cannot be
/// resynchronised (the reader stops, codec.hpp); the codec keeps no error state.
class varint_prefix {
public:
    /// Most bytes of a 64-bit varint.
    static constexpr std::size_t max_varint_size = 10;

    /// A codec delivering at most `max_frame` payload bytes.
    explicit varint_prefix(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME) noexcept
        : max_frame_(max_frame) {}

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return max_frame_; }
    /// max_frame plus 10: a peer may send a non-minimal (longer) varint.
    std::size_t max_frame_bytes() const noexcept {
        return detail::saturating_add(max_varint_size, max_frame_);
    }
    /// Bytes of the minimal varint encoding of `value`.
    static constexpr std::size_t varint_size(std::uint64_t value) noexcept {
        std::size_t n = 1;
        while (value >= 0x80) {
            value >>= 7;
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
            const auto b = std::to_integer<std::uint64_t>(input[i]);
            if (i == max_varint_size - 1 && b > 1) return fatal(errc::malformed_frame, i + 1);
            value |= (b & 0x7Fu) << (7 * i);
            if ((b & 0x80u) == 0) break;
        }
        if (value > max_frame_) return fatal(errc::frame_too_large, value);
        const std::size_t header = i + 1;
        if (input.size() - header < value) return decode_result::need_more();
        const auto size = detail::convert<std::size_t>(value);
        return decode_result::frame(input.subspan(header, size), header + size);
    }

    /// Nothing to forget: varint_prefix keeps no state between decodes.
    void reset() noexcept {}

    /// Prepends the minimal varint of the payload size; payload_too_large above max_frame.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Wraps the segments already in `out` as this codec's payload.
    std::error_code encode(frame_parts& out) const {
        std::byte bytes[max_varint_size];
        const std::size_t n = encode_prefix(out.size(), bytes);
        if (n == 0) return make_error_code(errc::payload_too_large);
        if (!out.prepend_copy(const_buffer{bytes, n})) return detail::no_room();
        return {};
    }
    /// The longest header encode_prefix writes.
    static constexpr std::size_t max_prefix_size = max_varint_size;
    /// The minimal varint of `payload_size` at `out` (see codec.hpp); 0 above max_frame.
    std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        if (payload_size > max_frame_) return 0;
        std::uint64_t value = payload_size;
        std::size_t n = 0;
        do {
            auto b = static_cast<std::uint8_t>(value & 0x7Fu);
            value >>= 7;
            if (value != 0) b |= 0x80u;
            out[n++] = static_cast<std::byte>(b);
        } while (value != 0);
        return n;
    }

private:
    static decode_result fatal(errc e, std::uint64_t size) noexcept {
        return decode_result::failure(e, size);
    }

    std::size_t max_frame_;
};

SOCKFRAME_NAMESPACE_END
