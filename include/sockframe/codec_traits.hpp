// SPDX-License-Identifier: MIT
#pragma once
/// The codec contract checked at compile time: codec_traits (which optional members a codec has),
/// codec_check (static_asserts naming a missing or mis-declared member), the C++20 `codec`
/// concept, and the detail helpers a reader or writer calls whether or not a codec has the
/// optional member. The contract itself is described in codec.hpp.

#include <sockframe/codec.hpp>

#include <cstddef>
#include <cstring>
#include <system_error>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {

// ---- exact signatures of the optional members ------------------------------------------------
// Each is checked by converting a pointer to the member to the one accepted type: an overload set
// picks the matching overload, and anything else (another parameter list, a missing const or
// noexcept, another return type) fails the conversion.

template <typename C, typename = void>
inline constexpr bool exact_decode_frame_v = false;
template <typename C>
inline constexpr bool exact_decode_frame_v<
    C, std::void_t<decltype(static_cast<std::size_t (C::*)(const_buffer, const_buffer&) const noexcept>(
           &C::decode_frame))>> = true;

template <typename C, typename = void>
inline constexpr bool exact_encode_prefix_fn_v = false;
template <typename C>
inline constexpr bool exact_encode_prefix_fn_v<
    C, std::void_t<decltype(static_cast<std::size_t (C::*)(std::size_t, std::byte*) const noexcept>(
           &C::encode_prefix))>> = true;

template <typename C, typename = void>
inline constexpr bool exact_max_prefix_size_v = false;
template <typename C>
inline constexpr bool exact_max_prefix_size_v<C, std::void_t<decltype(&C::max_prefix_size)>> =
    std::is_same_v<decltype(&C::max_prefix_size), const std::size_t*>;

template <typename C, typename = void>
inline constexpr bool exact_encode_into_fn_v = false;
template <typename C>
inline constexpr bool exact_encode_into_fn_v<
    C, std::void_t<decltype(static_cast<std::size_t (C::*)(const_buffer, std::byte*) const noexcept>(
           &C::encode_into))>> = true;

template <typename C, typename = void>
inline constexpr bool exact_max_overhead_v = false;
template <typename C>
inline constexpr bool exact_max_overhead_v<C, std::void_t<decltype(&C::max_overhead)>> =
    std::is_same_v<decltype(&C::max_overhead), const std::size_t*>;

// decode_eof may be const or not (a codec keeping scan state needs it non-const).
template <typename C, typename = void>
inline constexpr bool exact_decode_eof_mutable_v = false;
template <typename C>
inline constexpr bool exact_decode_eof_mutable_v<
    C, std::void_t<decltype(static_cast<decode_result (C::*)(const_buffer)>(&C::decode_eof))>> = true;
template <typename C, typename = void>
inline constexpr bool exact_decode_eof_const_v = false;
template <typename C>
inline constexpr bool exact_decode_eof_const_v<
    C, std::void_t<decltype(static_cast<decode_result (C::*)(const_buffer) const>(&C::decode_eof))>> = true;

template <typename C, typename = void>
inline constexpr bool exact_encode_parts_v = false;
template <typename C>
inline constexpr bool exact_encode_parts_v<
    C, std::void_t<decltype(static_cast<std::error_code (C::*)(frame_parts&) const>(&C::encode))>> = true;

// ---- required members (checked by use, any compatible declaration will do) ------------------

template <typename C, typename = void>
inline constexpr bool has_max_frame_v = false;
template <typename C>
inline constexpr bool has_max_frame_v<C, std::void_t<decltype(std::declval<const C&>().max_frame())>> =
    std::is_convertible_v<decltype(std::declval<const C&>().max_frame()), std::size_t>;

template <typename C, typename = void>
inline constexpr bool has_max_frame_bytes_v = false;
template <typename C>
inline constexpr bool
    has_max_frame_bytes_v<C, std::void_t<decltype(std::declval<const C&>().max_frame_bytes())>> =
        std::is_convertible_v<decltype(std::declval<const C&>().max_frame_bytes()), std::size_t>;

template <typename C, typename = void>
inline constexpr bool has_decode_v = false;
template <typename C>
inline constexpr bool has_decode_v<C, std::void_t<decltype(std::declval<C&>().decode(const_buffer{}))>> =
    std::is_same_v<decltype(std::declval<C&>().decode(const_buffer{})), decode_result>;

template <typename C, typename = void>
inline constexpr bool has_reset_v = false;
template <typename C>
inline constexpr bool has_reset_v<C, std::void_t<decltype(std::declval<C&>().reset())>> = true;

template <typename C, typename = void>
inline constexpr bool has_encode_v = false;
template <typename C>
inline constexpr bool has_encode_v<
    C, std::void_t<decltype(std::declval<const C&>().encode(const_buffer{}, std::declval<frame_parts&>()))>> =
    std::is_same_v<decltype(std::declval<const C&>().encode(const_buffer{}, std::declval<frame_parts&>())),
                   std::error_code>;

// ---- is a name declared at all, whatever its signature? -------------------------------------
// A class deriving from both C and a probe that declares the name: taking the name's address is
// ambiguous (a substitution failure) exactly when C declares it too. Final classes cannot be
// derived from; for them a declared name is seen only through its accepted signature.

#define SOCKFRAME_DETAIL_NAME_PROBE(name)                                                               \
    struct probe_##name {                                                                               \
        int name;                                                                                       \
    };                                                                                                  \
    template <typename C>                                                                               \
    struct mix_##name : C, probe_##name {};                                                             \
    template <typename C, typename = void>                                                              \
    inline constexpr bool ambiguous_##name##_v = true;                                                  \
    template <typename C>                                                                               \
    inline constexpr bool ambiguous_##name##_v<C, std::void_t<decltype(&mix_##name<C>::name)>> = false; \
    template <typename C>                                                                               \
    constexpr bool declares_##name() noexcept {                                                         \
        if constexpr (std::is_class_v<C> && !std::is_final_v<C>) {                                      \
            return ambiguous_##name##_v<C>;                                                             \
        } else {                                                                                        \
            return false;                                                                               \
        }                                                                                               \
    }

SOCKFRAME_DETAIL_NAME_PROBE(decode_frame)
SOCKFRAME_DETAIL_NAME_PROBE(encode_prefix)
SOCKFRAME_DETAIL_NAME_PROBE(max_prefix_size)
SOCKFRAME_DETAIL_NAME_PROBE(encode_into)
SOCKFRAME_DETAIL_NAME_PROBE(max_overhead)
SOCKFRAME_DETAIL_NAME_PROBE(decode_eof)

#undef SOCKFRAME_DETAIL_NAME_PROBE

template <typename C>
constexpr std::size_t prefix_size_of() noexcept {
    if constexpr (exact_encode_prefix_fn_v<C> && exact_max_prefix_size_v<C>) {
        return C::max_prefix_size;
    } else {
        return 0;
    }
}
template <typename C>
constexpr std::size_t overhead_of() noexcept {
    if constexpr (exact_encode_into_fn_v<C> && exact_max_overhead_v<C>) {
        return C::max_overhead;
    } else {
        return 0;
    }
}

}  // namespace detail

/// What a codec type provides of the contract in codec.hpp (compile-time constants only).
template <typename Codec>
struct codec_traits {
    /// The codec type without const or volatile.
    using codec_type = std::remove_cv_t<Codec>;

    /// Has every required member (max_frame, max_frame_bytes, decode, reset, encode).
    static constexpr bool is_codec = detail::has_max_frame_v<codec_type> &&
                                     detail::has_max_frame_bytes_v<codec_type> &&
                                     detail::has_decode_v<codec_type> && detail::has_reset_v<codec_type> &&
                                     detail::has_encode_v<codec_type>;
    /// `std::size_t decode_frame(const_buffer, const_buffer&) const noexcept`.
    static constexpr bool has_decode_frame = detail::exact_decode_frame_v<codec_type>;
    /// `static constexpr std::size_t max_prefix_size` and
    /// `std::size_t encode_prefix(std::size_t, std::byte*) const noexcept`.
    static constexpr bool has_encode_prefix =
        detail::exact_encode_prefix_fn_v<codec_type> && detail::exact_max_prefix_size_v<codec_type>;
    /// `std::error_code encode(frame_parts&) const`.
    static constexpr bool has_encode_parts = detail::exact_encode_parts_v<codec_type>;
    /// `decode_result decode_eof(const_buffer)` (const or not).
    static constexpr bool has_decode_eof =
        detail::exact_decode_eof_mutable_v<codec_type> || detail::exact_decode_eof_const_v<codec_type>;
    /// `static constexpr std::size_t max_overhead` and
    /// `std::size_t encode_into(const_buffer, std::byte*) const noexcept`.
    static constexpr bool has_encode_into =
        detail::exact_encode_into_fn_v<codec_type> && detail::exact_max_overhead_v<codec_type>;

    /// The codec's max_prefix_size, 0 without encode_prefix.
    static constexpr std::size_t max_prefix_size = detail::prefix_size_of<codec_type>();
    /// The codec's max_overhead, 0 without encode_into.
    static constexpr std::size_t max_overhead = detail::overhead_of<codec_type>();
    /// Room beyond the payload that detail::encode_into needs at `out`: max_overhead with
    /// encode_into, else max_prefix_size with encode_prefix, else 0 (it cannot write in place).
    static constexpr std::size_t max_overhead_v = has_encode_into ? max_overhead : max_prefix_size;
    /// detail::encode_into can write whole frames in place.
    static constexpr bool can_encode_into = has_encode_into || has_encode_prefix;
};

/// Instantiating `codec_check<C>::ok` checks `C` against the contract: a static_assert names each
/// missing required member, and each optional member that is declared with another signature
/// than the one accepted (a silently slower path otherwise).
template <typename Codec>
struct codec_check {
    /// The codec type checked, without const or volatile.
    using C = std::remove_cv_t<Codec>;
    static_assert(detail::has_max_frame_v<C>,
                  "sockframe codec: missing required member `std::size_t max_frame() const`");
    static_assert(detail::has_max_frame_bytes_v<C>,
                  "sockframe codec: missing required member `std::size_t max_frame_bytes() const`");
    static_assert(detail::has_decode_v<C>,
                  "sockframe codec: missing required member `decode_result decode(const_buffer)`");
    static_assert(detail::has_reset_v<C>, "sockframe codec: missing required member `void reset()`");
    static_assert(detail::has_encode_v<C>,
                  "sockframe codec: missing required member "
                  "`std::error_code encode(const_buffer, frame_parts&) const`");
    static_assert(!detail::declares_decode_frame<C>() || detail::exact_decode_frame_v<C>,
                  "sockframe codec: decode_frame is declared with the wrong signature; the one accepted "
                  "is `std::size_t decode_frame(const_buffer, const_buffer&) const noexcept`");
    static_assert(!detail::declares_encode_prefix<C>() || detail::exact_encode_prefix_fn_v<C>,
                  "sockframe codec: encode_prefix is declared with the wrong signature; the one accepted "
                  "is `std::size_t encode_prefix(std::size_t, std::byte*) const noexcept`");
    static_assert(!detail::declares_encode_prefix<C>() || detail::exact_max_prefix_size_v<C>,
                  "sockframe codec: encode_prefix needs `static constexpr std::size_t max_prefix_size`");
    static_assert(!detail::declares_max_prefix_size<C>() || detail::exact_max_prefix_size_v<C>,
                  "sockframe codec: max_prefix_size must be `static constexpr std::size_t`");
    static_assert(!detail::declares_max_prefix_size<C>() || detail::exact_encode_prefix_fn_v<C>,
                  "sockframe codec: max_prefix_size needs "
                  "`std::size_t encode_prefix(std::size_t, std::byte*) const noexcept`");
    static_assert(!detail::declares_encode_into<C>() || detail::exact_encode_into_fn_v<C>,
                  "sockframe codec: encode_into is declared with the wrong signature; the one accepted "
                  "is `std::size_t encode_into(const_buffer, std::byte*) const noexcept`");
    static_assert(!detail::declares_encode_into<C>() || detail::exact_max_overhead_v<C>,
                  "sockframe codec: encode_into needs `static constexpr std::size_t max_overhead`");
    static_assert(!detail::declares_max_overhead<C>() || detail::exact_max_overhead_v<C>,
                  "sockframe codec: max_overhead must be `static constexpr std::size_t`");
    static_assert(!detail::declares_max_overhead<C>() || detail::exact_encode_into_fn_v<C>,
                  "sockframe codec: max_overhead needs "
                  "`std::size_t encode_into(const_buffer, std::byte*) const noexcept`");
    static_assert(!detail::declares_decode_eof<C>() || codec_traits<C>::has_decode_eof,
                  "sockframe codec: decode_eof is declared with the wrong signature; the one accepted "
                  "is `decode_result decode_eof(const_buffer)` (const allowed)");
    /// True; reaching it means every assertion above held.
    static constexpr bool ok = true;
};

#if defined(__cpp_concepts) && __cpp_concepts >= 201907L
/// A type meeting the codec contract of codec.hpp (required members; optional ones, where
/// declared, with their accepted signatures).
template <typename C>
concept codec = codec_traits<C>::is_codec &&
                (!detail::declares_decode_frame<C>() || codec_traits<C>::has_decode_frame) &&
                (!detail::declares_encode_prefix<C>() || codec_traits<C>::has_encode_prefix) &&
                (!detail::declares_max_prefix_size<C>() || codec_traits<C>::has_encode_prefix) &&
                (!detail::declares_encode_into<C>() || codec_traits<C>::has_encode_into) &&
                (!detail::declares_max_overhead<C>() || codec_traits<C>::has_encode_into) &&
                (!detail::declares_decode_eof<C>() || codec_traits<C>::has_decode_eof);
#endif

namespace detail {

/// Kept names (the reader and writer use them): the traits above.
template <typename Codec>
inline constexpr bool has_parts_encode_v = codec_traits<Codec>::has_encode_parts;
template <typename Codec>
inline constexpr bool has_encode_prefix_v = codec_traits<Codec>::has_encode_prefix;
template <typename Codec>
inline constexpr bool has_decode_frame_v = codec_traits<Codec>::has_decode_frame;

/// Calls codec.encode(frame) where the codec offers it; otherwise encodes a one-segment frame
/// through encode(payload, out) and reports not_supported for anything else.
template <typename Codec>
std::error_code encode_parts(const Codec& codec, frame_parts& frame) {
    if constexpr (has_parts_encode_v<Codec>) {
        return codec.encode(frame);
    } else {
        if (frame.segment_count() != 1) return make_error_code(errc::not_supported);
        const const_buffer payload = frame[0];
        return codec.encode(payload, frame);
    }
}

/// codec.decode_frame(input, payload) where the codec has it, else 0 (decode() decides).
template <typename Codec>
std::size_t decode_frame(Codec& codec, const_buffer input, const_buffer& payload) noexcept {
    if constexpr (has_decode_frame_v<Codec>) {
        return codec.decode_frame(input, payload);
    } else {
        (void)codec;
        (void)input;
        (void)payload;
        return 0;
    }
}

/// codec.decode_eof(input) where the codec has it; else truncated_stream (size = the bytes left).
template <typename Codec>
decode_result decode_eof(Codec& codec, const_buffer input) {
    if constexpr (codec_traits<Codec>::has_decode_eof) {
        return codec.decode_eof(input);
    } else {
        (void)codec;
        return decode_result::failure(make_error_code(errc::truncated_stream), input.size(), 0);
    }
}

/// Writes the whole frame of `payload` at `out` (room for payload.size() plus
/// codec_traits<Codec>::max_overhead_v bytes) through encode_into, else encode_prefix and a copy
/// of the payload; returns the frame's size, or 0 when encode() must do it. Always inlined: it is
/// the body of every in-place queueing, and a call would cost as much as the copy of a short frame.
template <typename Codec>
SOCKFRAME_ALWAYS_INLINE std::size_t encode_into(const Codec& codec, const_buffer payload,
                                                std::byte* out) noexcept {
    if constexpr (codec_traits<Codec>::has_encode_into) {
        return codec.encode_into(payload, out);
    } else if constexpr (has_encode_prefix_v<Codec>) {
        const std::size_t header = codec.encode_prefix(payload.size(), out);
        if (header == 0) return 0;
        copy_bytes(out + header, payload.data(), payload.size());
        return header + payload.size();
    } else {
        (void)codec;
        (void)payload;
        (void)out;
        return 0;
    }
}

// ---- optional members for wrappers ----------------------------------------------------------
// A wrapping codec (checked, nested, suffixed) derives from these to have an optional member
// exactly when the shape allows it: with Enable false the base is empty and the name is not
// declared at all (a member that is declared but unusable would trip codec_check). Each calls
// the wrapper's private forward_* function, which the wrapper makes visible by friendship.

template <typename D, bool Enable>
struct optional_decode_frame {};
template <typename D>
struct optional_decode_frame<D, true> {
    /// decode()'s short cut (see codec.hpp), from the wrapped codec's.
    std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        return static_cast<const D&>(*this).forward_decode_frame(input, payload);
    }
};

template <typename D, bool Enable>
struct optional_decode_eof {};
template <typename D>
struct optional_decode_eof<D, true> {
    /// The final frame of a closed stream (see codec.hpp), from the wrapped codec's.
    decode_result decode_eof(const_buffer input) { return static_cast<D&>(*this).forward_decode_eof(input); }
};

template <typename D, bool Enable, std::size_t Prefix>
struct optional_encode_prefix {};
template <typename D, std::size_t Prefix>
struct optional_encode_prefix<D, true, Prefix> {
    /// The longest header encode_prefix writes.
    static constexpr std::size_t max_prefix_size = Prefix;
    /// The header of a `payload_size`-byte frame (see codec.hpp); 0: encode() decides.
    std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        return static_cast<const D&>(*this).forward_encode_prefix(payload_size, out);
    }
};

template <typename D, bool Enable, std::size_t Overhead>
struct optional_encode_into {};
template <typename D, std::size_t Overhead>
struct optional_encode_into<D, true, Overhead> {
    /// Most bytes encode_into adds to the payload.
    static constexpr std::size_t max_overhead = Overhead;
    /// The whole frame of `payload` written at `out` (see codec.hpp); 0: encode() decides.
    std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept {
        return static_cast<const D&>(*this).forward_encode_into(payload, out);
    }
};

/// True when C declares `static constexpr bool delimited_payload = true`: its frames end at a
/// byte pattern that must not occur in the payload (delimiter, line, and wrappers around them).
template <typename C, typename = void>
inline constexpr bool delimited_payload_v = false;
template <typename C>
inline constexpr bool delimited_payload_v<C, std::void_t<decltype(C::delimited_payload)>> =
    C::delimited_payload;

}  // namespace detail

SOCKFRAME_NAMESPACE_END
