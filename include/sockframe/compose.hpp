#pragma once
/// Codec composition: a checksum trailer inside another codec's frame (checked), a codec decoding
/// the payload of another's frame (nested), and a fixed byte string after each frame (suffixed).
///
/// A wrapped codec must round-trip (decode(encode(p)) == p), as every built-in codec does except
/// length_prefix with a header before its field or a non-default strip.

#include <sockframe/codec.hpp>
#include <sockframe/detail/crc32c.hpp>
#include <sockframe/detail/endian.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// The CRC-32C (Castagnoli) checksum policy for `checked`: a 4-byte trailer in byte order `Endian`.
///
/// A checksum policy provides `size`, `value_type`, `update(value, bytes)` (from 0),
/// `store(value, out)` and `load(in)`.
template <typename Endian = big_endian>
struct basic_crc32c {
    using value_type = std::uint32_t;
    /// Bytes of the trailer.
    static constexpr std::size_t size = 4;

    /// Continues the checksum `crc` (0 to start) over `data`.
    static value_type update(value_type crc, const_buffer data) noexcept {
        return detail::crc32c_update(crc, data.data(), data.size());
    }
    /// The checksum of `data`.
    static value_type compute(const_buffer data) noexcept { return update(0, data); }
    /// Writes `value` as the trailer at `out`.
    static void store(value_type value, std::byte* out) noexcept { detail::store<Endian>(value, out); }
    /// Reads the trailer at `in`.
    static value_type load(const std::byte* in) noexcept { return detail::load<Endian, value_type>(in); }
};

/// CRC-32C with a big-endian trailer.
using crc32c = basic_crc32c<big_endian>;

/// A checksum trailer inside the frames of `Codec`: each frame's payload is the message followed
/// by `Checksum::size` bytes of checksum over the message (e.g. `checked<length_prefix<>>`, whose
/// length counts message + CRC). decode verifies and strips it; encode appends it.
///
/// Errors: a frame shorter than the trailer is malformed_frame, a wrong checksum is
/// checksum_mismatch (size = the message bytes); both skip the bad frame (consumed = its bytes),
/// so the stream stays in sync. Errors of `Codec` pass through unchanged.
template <typename Codec, typename Checksum = crc32c>
class checked {
public:
    /// Throws system_error(invalid_argument) if the codec's max_frame cannot hold the trailer.
    explicit checked(Codec codec = Codec{}) : codec_(std::move(codec)) {
        if (codec_.max_frame() < Checksum::size)
            detail::throw_error(errc::invalid_argument, "checked: max_frame smaller than the checksum");
    }

    /// Most message bytes: the inner max_frame less the trailer.
    std::size_t max_frame() const noexcept { return codec_.max_frame() - Checksum::size; }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const noexcept { return codec_.max_frame_bytes(); }
    /// The wrapped codec.
    const Codec& inner() const noexcept { return codec_; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) {
        decode_result r = codec_.decode(input);
        if (!r.is_frame()) return r;
        const const_buffer payload = r.payload;
        if (payload.size() < Checksum::size)
            return decode_result::failure(make_error_code(errc::malformed_frame), payload.size(), r.consumed);
        const const_buffer message = payload.first(payload.size() - Checksum::size);
        if (Checksum::compute(message) != Checksum::load(payload.data() + message.size()))
            return decode_result::failure(make_error_code(errc::checksum_mismatch), message.size(),
                                          r.consumed);
        return decode_result::frame(message, r.consumed);
    }
    /// Forgets scan state and any error, for a new stream.
    void reset() { codec_.reset(); }

    /// Frames `payload` into `out` without copying it.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Appends the checksum of the segments in `out`, then lets the inner codec frame them.
    std::error_code encode(frame_parts& out) const {
        typename Checksum::value_type sum{};
        for (const const_buffer& segment : out) sum = Checksum::update(sum, segment);
        std::byte trailer[Checksum::size];
        Checksum::store(sum, trailer);
        if (!out.append_copy(const_buffer{trailer, Checksum::size})) return detail::no_room();
        return detail::encode_parts(codec_, out);
    }

private:
    Codec codec_;
};

/// `Inner` decodes the payload of each `Outer` frame as one whole message: Outer finds the frame
/// boundaries, Inner interprets (and strips) what is inside. Encode runs Inner, then Outer around
/// the result.
///
/// Errors: Inner wanting more bytes than the frame holds, or leaving some unread, is
/// frame_size_mismatch (size = the outer payload's bytes); Inner's own errors keep their code and
/// size. Both skip the outer frame (consumed = its bytes), so the stream stays in sync. Errors of
/// Outer pass through unchanged (with Outer's state after error).
template <typename Outer, typename Inner>
class nested {
public:
    explicit nested(Outer outer = Outer{}, Inner inner = Inner{})
        : outer_(std::move(outer)), inner_(std::move(inner)) {}

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept {
        const std::size_t a = outer_.max_frame();
        const std::size_t b = inner_.max_frame();
        return a < b ? a : b;
    }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const noexcept { return outer_.max_frame_bytes(); }
    const Outer& outer() const noexcept { return outer_; }
    const Inner& inner() const noexcept { return inner_; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) {
        decode_result r = outer_.decode(input);
        if (!r.is_frame()) return r;
        inner_.reset();
        decode_result m = inner_.decode(r.payload);
        if (m.is_error()) return decode_result::failure(m.error, m.size, r.consumed);
        if (!m.is_frame() || m.consumed != r.payload.size())
            return decode_result::failure(make_error_code(errc::frame_size_mismatch), r.payload.size(),
                                          r.consumed);
        return decode_result::frame(m.payload, r.consumed);
    }
    /// Forgets scan state and any error, for a new stream.
    void reset() {
        outer_.reset();
        inner_.reset();
    }

    /// Frames `payload` into `out` without copying it.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Wraps the segments already in `out` as this codec's payload.
    std::error_code encode(frame_parts& out) const {
        if (std::error_code ec = detail::encode_parts(inner_, out)) return ec;
        return detail::encode_parts(outer_, out);
    }

private:
    Outer outer_;
    Inner inner_;
};

/// A fixed byte string (1 to 16 bytes) that must follow each frame of `Codec`, outside the frame
/// (netstrings' ','). decode checks and consumes it, encode appends it.
///
/// A wrong byte where the suffix belongs is malformed_frame (size = its position in the input)
/// with consumed 0: the framing is no longer trustworthy, the reader stops (codec.hpp). Errors of
/// `Codec` pass through unchanged.
template <typename Codec>
class suffixed {
public:
    static constexpr std::size_t max_suffix_size = 16;

    /// Throws system_error(invalid_argument) if `suffix` is empty or longer than 16 bytes.
    suffixed(Codec codec, std::string_view suffix) : codec_(std::move(codec)) {
        if (suffix.empty() || suffix.size() > max_suffix_size)
            detail::throw_error(errc::invalid_argument, "suffixed: the suffix must be 1 to 16 bytes");
        size_ = suffix.size();
        std::memcpy(suffix_.data(), suffix.data(), size_);
    }

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return codec_.max_frame(); }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const noexcept {
        return detail::saturating_add(codec_.max_frame_bytes(), size_);
    }
    const Codec& inner() const noexcept { return codec_; }
    /// The suffix's bytes (a view into this codec).
    const_buffer suffix() const noexcept { return {suffix_.data(), size_}; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) {
        decode_result r = codec_.decode(input);
        if (!r.is_frame()) return r;
        const std::size_t end = r.consumed;
        const std::size_t have = input.size() - end < size_ ? input.size() - end : size_;
        for (std::size_t i = 0; i < have; ++i) {
            if (input[end + i] != suffix_[i])
                return decode_result::failure(make_error_code(errc::malformed_frame), end + i);
        }
        if (have < size_) return decode_result::need_more();
        return decode_result::frame(r.payload, end + size_);
    }
    /// Forgets scan state and any error, for a new stream.
    void reset() { codec_.reset(); }

    /// Frames `payload` into `out` without copying it.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Wraps the segments already in `out` as this codec's payload.
    std::error_code encode(frame_parts& out) const {
        if (std::error_code ec = detail::encode_parts(codec_, out)) return ec;
        if (!out.append_copy(suffix())) return detail::no_room();
        return {};
    }

private:
    Codec codec_;
    std::array<std::byte, max_suffix_size> suffix_{};
    std::size_t size_ = 0;
};

SOCKFRAME_NAMESPACE_END
