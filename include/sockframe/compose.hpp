// SPDX-License-Identifier: MIT
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
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
template <typename C, typename = void>
inline constexpr bool has_discarding_v = false;
template <typename C>
inline constexpr bool has_discarding_v<C, std::void_t<decltype(std::declval<const C&>().discarding()),
                                                      decltype(std::declval<const C&>().discard_end())>> =
    true;

template <typename P, typename = void>
inline constexpr bool delimiter_free_v = false;
template <typename P>
inline constexpr bool delimiter_free_v<P, std::void_t<decltype(P::delimiter_free)>> = P::delimiter_free;
}  // namespace detail

/// The CRC-32C (Castagnoli) checksum policy for `checked`: a 4-byte trailer in byte order `Endian`.
///
/// A checksum policy provides `size`, `value_type`, `update(value, bytes)` (from value_type{}),
/// `store(value, out)` and `load(in)`; and `static constexpr bool delimiter_free = true` if its
/// trailer bytes can never form a delimiter-based codec's delimiter (see checked).
template <typename Endian = big_endian>
struct basic_crc32c {
    /// The checksum's type.
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

/// CRC-32C as 8 lowercase hexadecimal digits: a printable trailer with no control bytes, the
/// default of `checked` around delimiter-based codecs (line, delimiter), where binary checksum
/// bytes could contain the delimiter and make encode refuse the payload.
struct crc32c_hex {
    /// Wider than the checksum, so that a trailer that is not hex loads as a value no CRC has.
    using value_type = std::uint64_t;
    /// Bytes of the trailer.
    static constexpr std::size_t size = 8;
    /// Its bytes are '0'-'9' and 'a'-'f' only.
    static constexpr bool delimiter_free = true;

    /// Continues the checksum `crc` (0 to start) over `data`.
    static value_type update(value_type crc, const_buffer data) noexcept {
        return detail::crc32c_update(static_cast<std::uint32_t>(crc), data.data(), data.size());
    }
    /// The checksum of `data`.
    static value_type compute(const_buffer data) noexcept { return update(0, data); }
    /// Writes `value` as 8 hex digits, most significant first, at `out`.
    static void store(value_type value, std::byte* out) noexcept {
        for (std::size_t i = 0; i < size; ++i)
            out[i] = static_cast<std::byte>("0123456789abcdef"[(value >> (4 * (size - 1 - i))) & 0xFu]);
    }
    /// Reads 8 hex digits at `in`; anything else gives 2^32 (never a checksum).
    static value_type load(const std::byte* in) noexcept {
        value_type value = 0;
        for (std::size_t i = 0; i < size; ++i) {
            const int c = std::to_integer<int>(in[i]);
            int digit = -1;
            if (c >= '0' && c <= '9') digit = c - '0';
            if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
            if (digit < 0) return value_type{1} << 32;
            value = value * 16 + static_cast<value_type>(digit);
        }
        return value;
    }
};

/// The checksum policy `checked<Codec>` uses by default: crc32c_hex when Codec's frames end at a
/// delimiter (Codec::delimited_payload), else the binary crc32c.
template <typename Codec>
using default_checksum_t = std::conditional_t<detail::delimited_payload_v<Codec>, crc32c_hex, crc32c>;

/// A checksum trailer inside the frames of `Codec`: each frame's payload is the message followed
/// by `Checksum::size` bytes of checksum over the message (e.g. `checked<length_prefix<>>`, whose
/// length counts message + CRC). decode verifies and strips it; encode appends it.
///
/// Around a delimiter-based codec (line, delimiter, or a wrapper of one) the default checksum is
/// crc32c_hex, so that the trailer never contains the delimiter and checked<line> carries every
/// payload line carries; a binary checksum there is a compile error. (With a delimiter that
/// itself contains lowercase hex digits, a payload may still be refused.)
///
/// Errors: a frame shorter than the trailer is malformed_frame, a wrong checksum is
/// checksum_mismatch (size = the message bytes); both skip the bad frame (consumed = its bytes),
/// so the stream stays in sync. Errors of `Codec` pass through unchanged.
///
/// Forwards the inner codec's decode_frame (a frame whose checksum fails is left to decode(),
/// which reports it) and decode_eof, and has encode_into where the inner codec has encode_prefix.
template <typename Codec, typename Checksum = default_checksum_t<Codec>>
class checked
    : public detail::optional_decode_frame<checked<Codec, Checksum>, codec_traits<Codec>::has_decode_frame>,
      public detail::optional_decode_eof<checked<Codec, Checksum>, codec_traits<Codec>::has_decode_eof>,
      public detail::optional_encode_into<checked<Codec, Checksum>, codec_traits<Codec>::has_encode_prefix,
                                          codec_traits<Codec>::max_prefix_size + Checksum::size> {
    static_assert(codec_check<Codec>::ok, "checked: the wrapped type is not a codec");
    static_assert(!detail::delimited_payload_v<Codec> || detail::delimiter_free_v<Checksum>,
                  "checked: the inner codec ends frames at a delimiter, and this checksum's binary "
                  "trailer may contain it (encode would then refuse the payload); use crc32c_hex, the "
                  "default for delimiter-based codecs");

public:
    /// Frames end at a delimiter where the inner codec's do.
    static constexpr bool delimited_payload = detail::delimited_payload_v<Codec>;

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
    decode_result decode(const_buffer input) { return verify(codec_.decode(input)); }
    /// Forgets scan state, for a new stream.
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
    friend struct detail::optional_decode_frame<checked, true>;
    friend struct detail::optional_decode_eof<checked, true>;
    friend struct detail::optional_encode_into<checked, true,
                                               codec_traits<Codec>::max_prefix_size + Checksum::size>;

    static bool matches(const_buffer message, const std::byte* trailer) noexcept {
        return Checksum::update(typename Checksum::value_type{}, message) == Checksum::load(trailer);
    }
    decode_result verify(const decode_result& r) const noexcept {
        if (!r.is_frame()) return r;
        const const_buffer payload = r.payload;
        if (payload.size() < Checksum::size)
            return decode_result::failure(make_error_code(errc::malformed_frame), payload.size(), r.consumed);
        const const_buffer message = payload.first(payload.size() - Checksum::size);
        if (!matches(message, payload.data() + message.size()))
            return decode_result::failure(make_error_code(errc::checksum_mismatch), message.size(),
                                          r.consumed);
        return decode_result::frame(message, r.consumed);
    }
    std::size_t forward_decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        const_buffer framed;
        const std::size_t n = codec_.decode_frame(input, framed);
        if (n == 0 || framed.size() < Checksum::size) return 0;
        const const_buffer message = framed.first(framed.size() - Checksum::size);
        if (!matches(message, framed.data() + message.size())) return 0;  // decode() reports it
        payload = message;
        return n;
    }
    decode_result forward_decode_eof(const_buffer input) { return verify(codec_.decode_eof(input)); }
    std::size_t forward_encode_into(const_buffer payload, std::byte* out) const noexcept {
        if (payload.size() > max_frame()) return 0;
        const std::size_t header = codec_.encode_prefix(payload.size() + Checksum::size, out);
        if (header == 0) return 0;
        detail::copy_bytes(out + header, payload.data(), payload.size());
        Checksum::store(Checksum::update(typename Checksum::value_type{}, payload),
                        out + header + payload.size());
        return header + payload.size() + Checksum::size;
    }

    Codec codec_;
};

/// `Inner` decodes the payload of each `Outer` frame as one whole message: Outer finds the frame
/// boundaries, Inner interprets (and strips) what is inside. Encode runs Inner, then Outer around
/// the result.
///
/// Errors: Inner wanting more bytes than the frame holds, or leaving some unread, is
/// frame_size_mismatch (size = the outer payload's bytes); Inner's own errors keep their code and
/// size. Both skip the outer frame (consumed = its bytes), so the stream stays in sync. Errors of
/// Outer pass through unchanged.
///
/// Has decode_frame and encode_prefix (both headers) where both codecs have them, and forwards
/// Outer's decode_eof.
template <typename Outer, typename Inner>
class nested
    : public detail::optional_decode_frame<nested<Outer, Inner>, codec_traits<Outer>::has_decode_frame &&
                                                                     codec_traits<Inner>::has_decode_frame>,
      public detail::optional_decode_eof<nested<Outer, Inner>, codec_traits<Outer>::has_decode_eof>,
      public detail::optional_encode_prefix<
          nested<Outer, Inner>,
          codec_traits<Outer>::has_encode_prefix && codec_traits<Inner>::has_encode_prefix,
          codec_traits<Outer>::max_prefix_size + codec_traits<Inner>::max_prefix_size> {
    static_assert(codec_check<Outer>::ok, "nested: Outer is not a codec");
    static_assert(codec_check<Inner>::ok, "nested: Inner is not a codec");

public:
    /// Frames end at a delimiter where either codec's do (the inner frame is the outer payload).
    static constexpr bool delimited_payload =
        detail::delimited_payload_v<Outer> || detail::delimited_payload_v<Inner>;

    /// `outer`'s frame around `inner`'s (invalid_argument if the two cannot nest).
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
    /// The codec finding frame boundaries.
    const Outer& outer() const noexcept { return outer_; }
    /// The codec decoding each outer payload.
    const Inner& inner() const noexcept { return inner_; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) { return unwrap(outer_.decode(input)); }
    /// Forgets scan state, for a new stream.
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
    static constexpr std::size_t prefix_room = codec_traits<Inner>::max_prefix_size + 1;
    friend struct detail::optional_decode_frame<nested, true>;
    friend struct detail::optional_decode_eof<nested, true>;
    friend struct detail::optional_encode_prefix<
        nested, true, codec_traits<Outer>::max_prefix_size + codec_traits<Inner>::max_prefix_size>;

    decode_result unwrap(const decode_result& r) {
        if (!r.is_frame()) return r;
        inner_.reset();
        decode_result m = inner_.decode(r.payload);
        if (m.is_error()) return decode_result::failure(m.error, m.size, r.consumed);
        if (!m.is_frame() || m.consumed != r.payload.size())
            return decode_result::failure(make_error_code(errc::frame_size_mismatch), r.payload.size(),
                                          r.consumed);
        return decode_result::frame(m.payload, r.consumed);
    }
    std::size_t forward_decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        const_buffer outer_payload;
        const std::size_t n = outer_.decode_frame(input, outer_payload);
        if (n == 0) return 0;
        const_buffer message;
        const std::size_t m = inner_.decode_frame(outer_payload, message);
        if (m == 0 || m != outer_payload.size()) return 0;  // declined, or not the whole payload
        payload = message;
        return n;
    }
    decode_result forward_decode_eof(const_buffer input) { return unwrap(outer_.decode_eof(input)); }
    std::size_t forward_encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        std::array<std::byte, prefix_room> header{};
        const std::size_t inner = inner_.encode_prefix(payload_size, header.data());
        if (inner == 0 || inner > prefix_room || payload_size > SIZE_MAX - inner) return 0;
        const std::size_t outer = outer_.encode_prefix(inner + payload_size, out);
        if (outer == 0) return 0;
        detail::copy_bytes(out + outer, header.data(), inner);
        return outer + inner;
    }

    Outer outer_;
    Inner inner_;
};

/// A fixed byte string (1 to 16 bytes) that must follow each frame of `Codec`, outside the frame
/// (netstrings' ','). decode checks and consumes it, encode appends it.
///
/// A wrong byte where the suffix belongs is malformed_frame (size = its offset from the frame's start)
/// with consumed 0: the framing is no longer trustworthy, the reader stops (codec.hpp). Errors of
/// `Codec` pass through unchanged. When `Codec` skips a bad frame to resynchronise (an overlong
/// line or delimited frame, a discarded length_prefix frame: codecs with discarding() and
/// discard_end()), the suffix that followed the bad frame is checked and dropped too, so the next
/// frame delivered is the next one the peer sent (a wrong byte there is malformed_frame with
/// consumed 0, size = its offset from the end of the skipped frame).
///
/// Forwards the inner codec's decode_frame, and has encode_into where the inner codec has
/// encode_into or encode_prefix.
template <typename Codec>
class suffixed : public detail::optional_decode_frame<suffixed<Codec>, codec_traits<Codec>::has_decode_frame>,
                 public detail::optional_encode_into<suffixed<Codec>, codec_traits<Codec>::can_encode_into,
                                                     codec_traits<Codec>::max_overhead_v + 16> {
    static_assert(codec_check<Codec>::ok, "suffixed: the wrapped type is not a codec");

public:
    /// The longest suffix, in bytes.
    static constexpr std::size_t max_suffix_size = 16;
    /// Frames end at a delimiter where the inner codec's do.
    static constexpr bool delimited_payload = detail::delimited_payload_v<Codec>;

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
    /// The wrapped codec.
    const Codec& inner() const noexcept { return codec_; }
    /// The suffix's bytes (a view into this codec).
    const_buffer suffix() const noexcept { return {suffix_.data(), size_}; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) {
        std::size_t skipped = 0;  // bytes of a bad frame's suffix already dropped in this call
        for (int round = 0; round < 4; ++round) {
            if (owed_ > 0) {
                // The suffix of a frame the inner codec skipped: check it and drop it.
                const std::size_t left = input.size() - skipped;
                const std::size_t k = owed_ < left ? owed_ : left;
                const std::size_t from = size_ - owed_;
                for (std::size_t i = 0; i < k; ++i)
                    if (input[skipped + i] !=
                        suffix_[from + i])  // size: counted from the skipped frame's end
                        return decode_result::failure(make_error_code(errc::malformed_frame), from + i);
                owed_ -= k;
                skipped += k;
                if (owed_ > 0) return shifted(decode_result::need_more(), skipped);
            }
            const const_buffer rest = input.subspan(skipped);
            decode_result r = codec_.decode(rest);
            if constexpr (detail::has_discarding_v<Codec>) {
                if (resyncing_) {
                    const std::size_t end = codec_.discard_end();
                    if (end == SIZE_MAX) return shifted(r, skipped);  // still dropping the bad frame
                    // The drop ended inside this call: the bad frame's suffix starts there.
                    resyncing_ = false;
                    owed_ = size_;
                    codec_.reset();  // it may have scanned past the suffix: decode again after it
                    skipped += end;
                    continue;
                }
                if (r.is_error() && r.consumed > 0) {
                    if (codec_.discarding())
                        resyncing_ = true;
                    else
                        owed_ = size_;
                    return shifted(r, skipped);
                }
            }
            if (!r.is_frame()) return shifted(r, skipped);
            const std::size_t end = r.consumed;
            const std::size_t have = rest.size() - end < size_ ? rest.size() - end : size_;
            for (std::size_t i = 0; i < have; ++i)
                if (rest[end + i] != suffix_[i])
                    return decode_result::failure(make_error_code(errc::malformed_frame),
                                                  end + i);  // from the frame's start
            if (have < size_) return shifted(decode_result::need_more(), skipped);
            return decode_result::frame(r.payload, skipped + end + size_);
        }
        return shifted(decode_result::need_more(), skipped);  // not reached: two rounds suffice
    }
    /// Forgets scan state, for a new stream.
    void reset() {
        codec_.reset();
        owed_ = 0;
        resyncing_ = false;
    }

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
    friend struct detail::optional_decode_frame<suffixed, true>;
    friend struct detail::optional_encode_into<suffixed, true, codec_traits<Codec>::max_overhead_v + 16>;

    static decode_result shifted(decode_result r, std::size_t skipped) noexcept {
        if (r.consumed > 0 || !r.is_error()) r.consumed += skipped;  // an unrecoverable error stays at 0
        return r;
    }
    std::size_t forward_decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        if (owed_ > 0 || resyncing_) return 0;
        const_buffer inner;
        const std::size_t n = codec_.decode_frame(input, inner);
        if (n == 0 || input.size() - n < size_ || std::memcmp(input.data() + n, suffix_.data(), size_) != 0)
            return 0;
        payload = inner;
        return n + size_;
    }
    std::size_t forward_encode_into(const_buffer payload, std::byte* out) const noexcept {
        const std::size_t n = detail::encode_into(codec_, payload, out);
        if (n == 0) return 0;
        std::memcpy(out + n, suffix_.data(), size_);
        return n + size_;
    }

    Codec codec_;
    std::array<std::byte, max_suffix_size> suffix_{};
    std::size_t size_ = 0;
    std::size_t owed_ = 0;    // bytes of a skipped frame's suffix still to check and drop
    bool resyncing_ = false;  // the inner codec is dropping the rest of a bad frame
};

SOCKFRAME_NAMESPACE_END
