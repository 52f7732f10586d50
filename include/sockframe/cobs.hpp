// SPDX-License-Identifier: MIT
#pragma once
/// Byte-stuffing codecs for serial-style links, where a frame ends at a reserved byte that the
/// encoding removes from the payload: COBS (consistent overhead byte stuffing, Cheshire and Baker
/// 1999; frames end with 0x00) and SLIP (RFC 1055; frames end with 0xC0).
///
/// Unlike the other codecs, a decoded payload is not a slice of the input (the bytes are
/// transformed): it views the codec's own decode buffer, valid until the next decode or reset.
/// That buffer grows with the largest frame seen (never beyond max_frame) and is reused, so a
/// steady stream allocates nothing. Likewise encode() writes the frame into the codec's own encode
/// buffer (valid until the next encode); encode_into writes it in place where it fits.
///
/// Both resynchronise after an error, since the delimiter cannot occur inside a frame: the bad
/// frame is skipped up to its delimiter.

#include <sockframe/codec.hpp>
#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/endian.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {

/// What COBS and SLIP decoding share: the scan position kept across need_more results, the
/// decode buffer, the skip of an oversized frame to its delimiter.
class stuffed_decoder {
public:
    explicit stuffed_decoder(std::size_t max_frame) noexcept : max_frame_(max_frame) {}

    /// Payloads are decoded into the codec's own buffer, not views of the input.
    static constexpr bool transformed_payload = true;

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return max_frame_; }
    /// True while decode drops the rest of a frame it reported (up to its delimiter).
    bool discarding() const noexcept { return discarding_; }
    /// Forgets the frame being decoded and any discarding.
    void reset() noexcept {
        restart();
        discarding_ = false;
    }

protected:
    /// Forgets the frame being decoded (the buffer's storage is kept).
    void restart() noexcept {
        scanned_ = 0;
        out_.clear();
        state_ = 0;
        started_ = false;
    }
    /// Drops the rest of a bad frame: `at` is the position after the offending byte.
    decode_result skip_bad(errc e, std::uint64_t size, std::size_t at, bool at_delimiter) noexcept {
        restart();
        discarding_ = !at_delimiter;
        return decode_result::failure(make_error_code(e), size, at);
    }
    /// A frame larger than max_frame: dropped up to its delimiter (`at`: past the offending byte).
    decode_result oversized(std::size_t at) noexcept {
        return skip_bad(errc::frame_too_large, std::uint64_t{max_frame_} + 1, at, false);
    }
    /// No whole frame yet in an input of `size` bytes, `skipped` of them leading delimiters or
    /// discarded bytes: those are consumed; the rest is remembered as scanned.
    decode_result need_more(std::size_t skipped, std::size_t size) noexcept {
        decode_result r;
        r.consumed = skipped;
        if (skipped != 0) {
            restart();  // the input moves: decode these bytes again from the start
        } else {
            scanned_ = size;
        }
        return r;
    }
    /// Appends a decoded byte; false when the frame would pass max_frame.
    bool put(std::byte b) {
        if (out_.size() == max_frame_) return false;
        if (out_.size() == out_.capacity()) {  // grow by doubling, never past max_frame
            std::size_t want = out_.capacity() < 32 ? 64 : out_.capacity() * 2;
            if (want > max_frame_) want = max_frame_;
            out_.reserve(want);
        }
        out_.push_back(b);
        return true;
    }
    /// Appends `n` decoded bytes (the caller checked max_frame).
    void put_run(const std::byte* p, std::size_t n) {
        const std::size_t need = out_.size() + n;
        if (need > out_.capacity()) {
            std::size_t want = out_.capacity() < 32 ? 64 : out_.capacity() * 2;
            if (want < need) want = need;
            if (want > max_frame_) want = max_frame_;
            out_.reserve(want);
        }
        out_.insert(out_.end(), p, p + n);
    }
    /// While discarding: drops everything up to and including the next `delimiter`; returns the
    /// bytes dropped, or SIZE_MAX if the delimiter is not in `input` (all of it dropped).
    std::size_t discard(const_buffer input, std::byte delimiter) noexcept {
        for (std::size_t i = 0; i < input.size(); ++i)
            if (input[i] == delimiter) {
                discarding_ = false;
                return i + 1;
            }
        return SIZE_MAX;
    }

    std::size_t max_frame_;
    std::vector<std::byte> out_;  // the frame decoded so far
    std::size_t scanned_ = 0;     // input bytes of the current frame already decoded into out_
    unsigned state_ = 0;          // the format's own scan state
    bool started_ = false;        // the format's own flag
    bool discarding_ = false;
};

}  // namespace detail

/// COBS: each frame is the COBS encoding of its payload (no 0x00 byte in it) followed by one
/// 0x00. Every run of up to 254 non-zero bytes is preceded by a code byte (run length + 1; 0xFF
/// for a full run not followed by a zero). Overhead: 1 byte per 254 payload bytes, plus the code
/// byte and the delimiter.
///
/// A lone 0x00 (an empty frame, sometimes sent to synchronise) is skipped silently. Decode
/// errors skip the bad frame up to its 0x00 and decoding goes on: a 0x00 inside a run (a truncated
/// run) is malformed_frame (size = its position, consumed = through it); a frame decoding to more
/// than max_frame bytes is frame_too_large (size = max_frame + 1), consumed = the bytes scanned,
/// and the rest of it is dropped silently. At the end of the stream, bytes without their 0x00
/// are truncated_stream.
class cobs : public detail::stuffed_decoder {
public:
    /// A codec delivering at most `max_frame` payload bytes.
    explicit cobs(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME) noexcept
        : stuffed_decoder(max_frame) {}

    /// Bytes of the COBS encoding of `n` payload bytes, without the delimiter.
    static constexpr std::size_t encoded_size(std::size_t n) noexcept { return n + n / 254 + 1; }
    /// Most input bytes one frame occupies: the encoding of max_frame bytes and the delimiter.
    std::size_t max_frame_bytes() const noexcept {
        return detail::saturating_add(max_frame_, max_frame_ / 254 + 2);
    }

    /// Decodes the next frame (see the class comment; the payload views the codec's buffer).
    decode_result decode(const_buffer input) {
        std::size_t skipped = 0;
        if (discarding_) {
            const std::size_t n = discard(input, std::byte{0});
            decode_result r;
            r.consumed = n == SIZE_MAX ? input.size() : n;
            if (n == SIZE_MAX) return r;
            skipped = n;
            input = input.subspan(n);
        }
        if (scanned_ == 0) {  // a new frame (the last one's payload is given up now)
            restart();
            std::size_t k = 0;  // empty frames (delimiters in a row) are skipped
            while (k < input.size() && input[k] == std::byte{0}) ++k;
            skipped += k;
            input = input.subspan(k);
        }
        // state_: data bytes left in the current run; started_: a run ended before a code byte
        // that is not 0xFF (a zero goes between it and the next run)
        for (std::size_t i = scanned_; i < input.size(); ++i) {
            const std::byte b = input[i];
            if (b == std::byte{0}) {
                if (state_ != 0) return skip_bad(errc::malformed_frame, i, skipped + i + 1, true);
                scanned_ = 0;
                return decode_result::frame(const_buffer(out_.data(), out_.size()), skipped + i + 1);
            }
            if (state_ == 0) {  // a code byte
                if (started_ && !put(std::byte{0})) return oversized(skipped + i + 1);
                state_ = std::to_integer<unsigned>(b) - 1;
                started_ = b != std::byte{0xFF};
            } else {  // a run of data bytes: as many at once as are here, up to a zero
                std::size_t take = state_ < input.size() - i ? state_ : input.size() - i;
                const void* zero = std::memchr(input.data() + i, 0, take);
                if (zero != nullptr)
                    take = static_cast<std::size_t>(static_cast<const std::byte*>(zero) - (input.data() + i));
                if (out_.size() + take > max_frame_)
                    return oversized(skipped + i + (max_frame_ - out_.size()) + 1);
                put_run(input.data() + i, take);
                state_ -= static_cast<unsigned>(take);
                i += take - 1;
            }
        }
        return need_more(skipped, input.size());
    }

    /// Most bytes encode_into adds: enough for payloads up to 64 KiB.
    static constexpr std::size_t max_overhead = 260;
    /// The whole frame of `payload` at `out` (see codec.hpp); 0 above max_frame or when the
    /// frame needs more than max_overhead extra bytes.
    std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept {
        if (payload.size() > max_frame_ || encoded_size(payload.size()) + 1 - payload.size() > max_overhead)
            return 0;
        return write(payload, out);
    }
    /// The frame of `payload` in the codec's encode buffer (see the top of this header);
    /// payload_too_large above max_frame.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Encodes the segments already in `out` as one payload (copied into the encode buffer).
    std::error_code encode(frame_parts& out) const {
        const std::size_t n = out.size();
        if (n > max_frame_) return make_error_code(errc::payload_too_large);
        joined_.resize(n);
        out.copy_to(joined_.data());
        encoded_.resize(encoded_size(n) + 1);
        const std::size_t size = write(const_buffer(joined_.data(), n), encoded_.data());
        out.reset(const_buffer(encoded_.data(), size));
        return {};
    }

private:
    static std::size_t write(const_buffer payload, std::byte* out) noexcept {
        std::size_t code_at = 0, o = 1;
        unsigned run = 0;
        const std::size_t n = payload.size();
        for (std::size_t i = 0; i < n; ++i) {
            const std::byte b = payload[i];
            if (b == std::byte{0}) {
                out[code_at] = static_cast<std::byte>(run + 1);
                code_at = o++;
                run = 0;
                continue;
            }
            out[o++] = b;
            if (++run == 254) {  // a full run: its code says "no zero follows"
                out[code_at] = std::byte{0xFF};
                run = 0;
                if (i + 1 == n) {  // the data ends with it: no further code byte
                    out[o++] = std::byte{0};
                    return o;
                }
                code_at = o++;
            }
        }
        out[code_at] = static_cast<std::byte>(run + 1);
        out[o++] = std::byte{0};
        return o;
    }

    mutable std::vector<std::byte> joined_;
    mutable std::vector<std::byte> encoded_;
};

/// SLIP (RFC 1055): frames end with END (0xC0); inside a frame END is sent as ESC ESC_END
/// (0xDB 0xDC) and ESC as ESC ESC_ESC (0xDB 0xDD). encode also starts each frame with END (as
/// RFC 1055's send_packet does, flushing line noise), which decode skips as an empty frame.
///
/// Empty frames (END END) are skipped silently, so an empty payload cannot be sent (encode
/// refuses it). Decode errors skip the bad frame up to its END
/// and decoding goes on: ESC followed by anything but ESC_END or ESC_ESC is malformed_frame (size
/// = the position of the byte after the ESC in the frame); a frame above max_frame bytes is frame_too_large
/// (size = max_frame + 1), the rest of it dropped silently. At the end of the stream, bytes without their END
/// are truncated_stream.
class slip : public detail::stuffed_decoder {
public:
    /// RFC 1055's END: the end of a frame.
    static constexpr std::byte end = std::byte{0xC0};
    /// RFC 1055's ESC: the next byte stands for END or ESC.
    static constexpr std::byte esc = std::byte{0xDB};
    /// After ESC: an END byte of the payload.
    static constexpr std::byte esc_end = std::byte{0xDC};
    /// After ESC: an ESC byte of the payload.
    static constexpr std::byte esc_esc = std::byte{0xDD};

    /// A codec delivering at most `max_frame` payload bytes.
    explicit slip(std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME) noexcept
        : stuffed_decoder(max_frame) {}

    /// Most input bytes one frame occupies: every byte escaped, an ESC pending, and the END.
    std::size_t max_frame_bytes() const noexcept {
        return detail::saturating_add(detail::saturating_add(max_frame_, max_frame_), 2);
    }

    /// Decodes the next frame (see the class comment; the payload views the codec's buffer).
    decode_result decode(const_buffer input) {
        std::size_t skipped = 0;
        if (discarding_) {
            const std::size_t n = discard(input, end);
            decode_result r;
            r.consumed = n == SIZE_MAX ? input.size() : n;
            if (n == SIZE_MAX) return r;
            skipped = n;
            input = input.subspan(n);
        }
        if (scanned_ == 0) {  // a new frame (the last one's payload is given up now)
            restart();
            std::size_t k = 0;  // empty frames (delimiters in a row) are skipped
            while (k < input.size() && input[k] == end) ++k;
            skipped += k;
            input = input.subspan(k);
        }
        // state_: 1 after an ESC
        for (std::size_t i = scanned_; i < input.size(); ++i) {
            const std::byte b = input[i];
            if (state_ == 1) {
                state_ = 0;
                if (b != esc_end && b != esc_esc)
                    return skip_bad(errc::malformed_frame, i, skipped + i + 1, b == end);
                if (!put(b == esc_end ? end : esc)) return oversized(skipped + i + 1);
                continue;
            }
            if (b == end) {
                scanned_ = 0;
                return decode_result::frame(const_buffer(out_.data(), out_.size()), skipped + i + 1);
            }
            if (b == esc) {
                state_ = 1;
                continue;
            }
            std::size_t j = i + 1;  // a run of plain bytes, copied at once
            while (j < input.size() && input[j] != end && input[j] != esc) ++j;
            const std::size_t take = j - i;
            if (out_.size() + take > max_frame_)
                return oversized(skipped + i + (max_frame_ - out_.size()) + 1);
            put_run(input.data() + i, take);
            i = j - 1;
        }
        return need_more(skipped, input.size());
    }

    /// Most bytes encode_into adds: the two ENDs and up to 254 escapes.
    static constexpr std::size_t max_overhead = 256;
    /// The whole frame of `payload` at `out` (see codec.hpp); 0 above max_frame or when it needs
    /// more than max_overhead extra bytes.
    std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept {
        if (payload.empty() || payload.size() > max_frame_ || 2 + escapes(payload) > max_overhead) return 0;
        return write(payload, out);
    }
    /// The frame of `payload` in the codec's encode buffer; payload_too_large above max_frame,
    /// invalid_argument for an empty payload (an empty frame, which receivers skip).
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Encodes the segments already in `out` as one payload (copied into the encode buffer).
    std::error_code encode(frame_parts& out) const {
        const std::size_t n = out.size();
        if (n > max_frame_) return make_error_code(errc::payload_too_large);
        if (n == 0) return make_error_code(errc::invalid_argument);
        joined_.resize(n);
        out.copy_to(joined_.data());
        const const_buffer payload(joined_.data(), n);
        encoded_.resize(n + escapes(payload) + 2);
        const std::size_t size = write(payload, encoded_.data());
        out.reset(const_buffer(encoded_.data(), size));
        return {};
    }

private:
    static std::size_t escapes(const_buffer payload) noexcept {
        std::size_t k = 0;
        for (std::byte b : payload) k += (b == end || b == esc) ? 1 : 0;
        return k;
    }
    static std::size_t write(const_buffer payload, std::byte* out) noexcept {
        std::size_t o = 0;
        out[o++] = end;
        for (std::byte b : payload) {
            if (b == end) {
                out[o++] = esc;
                out[o++] = esc_end;
            } else if (b == esc) {
                out[o++] = esc;
                out[o++] = esc_esc;
            } else {
                out[o++] = b;
            }
        }
        out[o++] = end;
        return o;
    }

    mutable std::vector<std::byte> joined_;
    mutable std::vector<std::byte> encoded_;
};

SOCKFRAME_NAMESPACE_END
