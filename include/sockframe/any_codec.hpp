// SPDX-License-Identifier: MIT
#pragma once
/// any_codec, a type-erased codec, and parse_codec_spec, which picks a built-in codec from text.

#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/owned.hpp>
#include <sockframe/codec.hpp>
#include <sockframe/delimiter.hpp>
#include <sockframe/fixed_size.hpp>
#include <sockframe/length_prefix.hpp>
#include <sockframe/netstring.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// Holds any codec by value behind the codec interface, to choose a codec at run time.
///
/// Constructing (and copying) allocates once; decode and encode do not. A moved-from any_codec
/// may only be assigned to or destroyed. Copying requires the held codec to be copyable (else it
/// throws system_error(not_supported)).
///
/// Every optional member of the contract (codec.hpp) is forwarded, so a reader or writer takes
/// the held codec's fast paths: decode_frame, decode_eof, encode_prefix and encode_into. Their
/// static sizes are upper bounds (max_prefix_size 32, max_overhead 64); encode_prefix and
/// encode_into return 0 (encode() decides) when the held codec lacks them or needs more room, and
/// decode_frame returns 0 at once, without a virtual call, when the held codec lacks it.
class any_codec {
public:
    /// Longest header encode_prefix writes (a held codec with a longer one is not forwarded).
    static constexpr std::size_t max_prefix_size = 32;
    /// Most bytes encode_into adds to a payload (a held codec needing more is not forwarded).
    static constexpr std::size_t max_overhead = 64;

    /// Holds a copy of `codec` (one allocation). `Codec` must satisfy the codec contract (codec_check).
    template <typename Codec, typename = std::enable_if_t<!std::is_same_v<std::decay_t<Codec>, any_codec>>>
    any_codec(Codec&& codec)  // NOLINT(google-explicit-constructor)
        : self_(detail::make_owned<model<std::decay_t<Codec>>>(std::forward<Codec>(codec))),
          caps_(capabilities<std::decay_t<Codec>>()) {}
    /// A copy of the held codec (one allocation).
    any_codec(const any_codec& other) : self_(other.self_->clone()), caps_(other.caps_) {}
    /// Takes the held codec; `other` is left empty and may only be assigned to or destroyed.
    any_codec(any_codec&&) noexcept = default;
    /// Replaces the held codec with a copy of `other`'s.
    any_codec& operator=(const any_codec& other) {
        if (this != &other) {
            self_ = other.self_->clone();
            caps_ = other.caps_;
        }
        return *this;
    }
    /// Takes the held codec; `other` is left empty and may only be assigned to or destroyed.
    any_codec& operator=(any_codec&&) noexcept = default;
    ~any_codec() = default;

    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const { return self_->max_frame(); }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const { return self_->max_frame_bytes(); }
    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) { return self_->decode(input); }
    /// Forgets scan state and any error, for a new stream.
    void reset() { self_->reset(); }
    /// Frames `payload` into `out` without copying it.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return self_->encode(out);
    }
    /// Wraps the frame in `out`; not_supported if the held codec lacks this overload and `out`
    /// has more than one segment.
    std::error_code encode(frame_parts& out) const { return self_->encode(out); }

    /// The held codec's decode_frame (see codec.hpp); 0 if it has none.
    std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        if ((caps_ & cap_decode_frame) == 0) return 0;
        return self_->decode_frame(input, payload);
    }
    /// The held codec's decode_eof; truncated_stream (size = input.size()) if it has none.
    decode_result decode_eof(const_buffer input) { return self_->decode_eof(input); }
    /// The held codec's encode_prefix (header within 32 bytes); 0: encode() decides.
    std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        if ((caps_ & cap_encode_prefix) == 0) return 0;
        return self_->encode_prefix(payload_size, out);
    }
    /// The whole frame written at `out` (room for payload.size() + 64 bytes) through the held
    /// codec's encode_into or encode_prefix; 0: encode() decides.
    std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept {
        if ((caps_ & cap_encode_into) == 0) return 0;
        return self_->encode_into(payload, out);
    }

    /// The held codec if it is a `Codec`, else nullptr.
    template <typename Codec>
    Codec* target() noexcept {
        if (self_->type() != &type_tag<Codec>) return nullptr;
        return &static_cast<model<Codec>*>(self_.get())->codec;
    }
    /// The held codec if it is a `Codec`, else nullptr.
    template <typename Codec>
    const Codec* target() const noexcept {
        if (self_->type() != &type_tag<Codec>) return nullptr;
        return &static_cast<const model<Codec>*>(self_.get())->codec;
    }

private:
    template <typename Codec>
    static constexpr char type_tag = 0;

    static constexpr unsigned cap_decode_frame = 1;
    static constexpr unsigned cap_encode_prefix = 2;
    static constexpr unsigned cap_encode_into = 4;
    template <typename Codec>
    static constexpr bool prefix_fits =
        codec_traits<Codec>::has_encode_prefix&& codec_traits<Codec>::max_prefix_size <= max_prefix_size;
    template <typename Codec>
    static constexpr bool into_fits =
        codec_traits<Codec>::can_encode_into&& codec_traits<Codec>::max_overhead_v <= max_overhead;
    template <typename Codec>
    static constexpr unsigned capabilities() noexcept {
        return (codec_traits<Codec>::has_decode_frame ? cap_decode_frame : 0u) |
               (prefix_fits<Codec> ? cap_encode_prefix : 0u) | (into_fits<Codec> ? cap_encode_into : 0u);
    }

    struct concept_t {
        virtual ~concept_t() = default;
        virtual const void* type() const noexcept = 0;
        virtual detail::owned<concept_t> clone() const = 0;
        virtual std::size_t max_frame() const = 0;
        virtual std::size_t max_frame_bytes() const = 0;
        virtual decode_result decode(const_buffer input) = 0;
        virtual void reset() = 0;
        virtual std::error_code encode(frame_parts& out) const = 0;
        virtual std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept = 0;
        virtual decode_result decode_eof(const_buffer input) = 0;
        virtual std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept = 0;
        virtual std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept = 0;
    };
    template <typename Codec>
    struct model final : concept_t {
        static_assert(codec_check<Codec>::ok, "any_codec: the held type is not a codec");
        template <typename C>
        explicit model(C&& c) : codec(std::forward<C>(c)) {}
        detail::owned<concept_t> clone() const override {
            if constexpr (std::is_copy_constructible_v<Codec>) {
                return detail::make_owned<model>(codec);
            } else {
                detail::throw_error(errc::not_supported, "any_codec: the held codec cannot be copied");
            }
        }
        const void* type() const noexcept override { return &type_tag<Codec>; }
        std::size_t max_frame() const override { return codec.max_frame(); }
        std::size_t max_frame_bytes() const override { return codec.max_frame_bytes(); }
        decode_result decode(const_buffer input) override { return codec.decode(input); }
        void reset() override { codec.reset(); }
        std::error_code encode(frame_parts& out) const override { return detail::encode_parts(codec, out); }
        std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept override {
            return detail::decode_frame(codec, input, payload);
        }
        decode_result decode_eof(const_buffer input) override { return detail::decode_eof(codec, input); }
        std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept override {
            if constexpr (prefix_fits<Codec>) {
                return codec.encode_prefix(payload_size, out);
            } else {
                (void)payload_size;
                (void)out;
                return 0;
            }
        }
        std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept override {
            if constexpr (into_fits<Codec>) {
                return detail::encode_into(codec, payload, out);
            } else {
                (void)payload;
                (void)out;
                return 0;
            }
        }
        Codec codec;
    };

    detail::owned<concept_t> self_;
    unsigned caps_ = 0;  // which optional members the held codec has (no virtual call to find out)
};

namespace detail {
/// The codec spec parser behind parse_codec_spec(). A template (on nothing) so that a
/// translation unit that never parses a spec never instantiates every codec it can name; in
/// separate compilation its one instantiation is in src/sockframe.cpp.
template <typename = void>
any_codec parse_codec_spec(std::string_view spec, std::optional<std::size_t> max_frame);
#if defined(SOCKFRAME_SEPARATE_COMPILATION)
extern template any_codec parse_codec_spec<void>(std::string_view spec, std::optional<std::size_t> max_frame);
#endif
}  // namespace detail

#if SOCKFRAME_HEADER_BODIES
namespace detail {

[[noreturn]] inline void bad_spec(std::string_view spec, const char* why) {
    throw std::system_error(make_error_code(errc::invalid_argument),
                            "bad codec spec '" + std::string(spec) + "': " + why +
                                " (expected len:W[:be|le] with W = 1, 2, 4 or 8, varint, line, "
                                "delim:STRING, fixed:N or netstring)");
}

inline std::optional<std::size_t> parse_size(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > SIZE_MAX) return std::nullopt;
    return detail::convert<std::size_t>(v);
}

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Decodes \r \n \t \0 \\ and \xHH escapes.
inline std::string unescape(std::string_view spec, std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (++i == text.size()) bad_spec(spec, "the delimiter ends with a lone backslash");
        switch (text[i]) {
            case 'r': out += '\r'; break;
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case '0': out += '\0'; break;
            case '\\': out += '\\'; break;
            case 'x': {
                const int hi = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
                const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
                if (hi < 0 || lo < 0) bad_spec(spec, "\\x needs two hex digits");
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                break;
            }
            default: bad_spec(spec, "unknown escape in the delimiter (use \\r \\n \\t \\0 \\\\ \\xHH)");
        }
    }
    return out;
}

template <typename Field, typename Endian>
any_codec make_length_prefix(std::optional<std::size_t> max_frame) {
    length_prefix_options o;
    o.max_frame = max_frame;
    return length_prefix<Field, Endian>{o};
}

template <typename Endian>
any_codec make_length_prefix(std::string_view spec, std::string_view width,
                             std::optional<std::size_t> max_frame) {
    if (width == "1") return make_length_prefix<std::uint8_t, Endian>(max_frame);
    if (width == "2") return make_length_prefix<std::uint16_t, Endian>(max_frame);
    if (width == "4") return make_length_prefix<std::uint32_t, Endian>(max_frame);
    if (width == "8") return make_length_prefix<std::uint64_t, Endian>(max_frame);
    bad_spec(spec, "the length field width must be 1, 2, 4 or 8");
}

template <typename>
any_codec parse_codec_spec(std::string_view spec, std::optional<std::size_t> max_frame) {
    const std::size_t colon = spec.find(':');
    const std::string_view kind = spec.substr(0, colon);
    const std::string_view rest =
        colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
    const bool has_rest = colon != std::string_view::npos;
    const std::size_t limit = max_frame ? *max_frame : SOCKFRAME_DEFAULT_MAX_FRAME;
    if (kind == "len") {
        if (!has_rest) bad_spec(spec, "len needs a width");
        const std::size_t colon2 = rest.find(':');
        const std::string_view width = rest.substr(0, colon2);
        if (colon2 == std::string_view::npos || rest.substr(colon2 + 1) == "be")
            return make_length_prefix<big_endian>(spec, width, max_frame);
        if (rest.substr(colon2 + 1) == "le") return make_length_prefix<little_endian>(spec, width, max_frame);
        bad_spec(spec, "the byte order must be be or le");
    }
    if (kind == "varint" && !has_rest) return varint_prefix{limit};
    if (kind == "line" && !has_rest) return line{limit};
    if (kind == "netstring" && !has_rest) return make_netstring(limit);
    if (kind == "delim") {
        const std::string bytes = unescape(spec, rest);
        if (bytes.empty() || bytes.size() > delimiter::max_delimiter_size)
            bad_spec(spec, "the delimiter must be 1 to 32 bytes");
        return delimiter{std::string_view{bytes}, limit};
    }
    if (kind == "fixed") {
        const std::optional<std::size_t> n = parse_size(rest);
        if (!has_rest || !n || *n == 0) bad_spec(spec, "fixed needs a size of at least 1");
        if (max_frame && *n > *max_frame) bad_spec(spec, "the fixed size exceeds max_frame");
        return fixed_size{*n};
    }
    bad_spec(spec, "unknown codec");
}

}  // namespace detail
#if defined(SOCKFRAME_SEPARATE_COMPILATION)
template any_codec detail::parse_codec_spec<void>(std::string_view spec,
                                                  std::optional<std::size_t> max_frame);
#endif
#endif  // SOCKFRAME_HEADER_BODIES

/// The codec named by `spec`: `len:W[:be|le]` (payload length in W = 1, 2, 4 or 8 bytes, big
/// endian by default), `varint`, `line`, `delim:STRING` (escapes `\r \n \t \0 \\ \xHH`),
/// `fixed:N` or `netstring`, each with its default max_frame (len:1 and len:2 cap it at what the
/// field can express). Throws system_error(invalid_argument) naming the problem on a bad spec.
/// (A template over anything convertible to std::string_view, so that only the translation
/// units that call it pay for compiling the parser.)
template <typename String,
          typename = std::enable_if_t<std::is_convertible_v<const String&, std::string_view>>>
any_codec parse_codec_spec(const String& spec) {
    return detail::parse_codec_spec<>(std::string_view(spec), std::nullopt);
}

/// As parse_codec_spec(spec), with `max_frame` payload bytes; also throws
/// system_error(invalid_argument) if the codec cannot express it (len:1 above 255, fixed:N above it).
template <typename String,
          typename = std::enable_if_t<std::is_convertible_v<const String&, std::string_view>>>
any_codec parse_codec_spec(const String& spec, std::size_t max_frame) {
    return detail::parse_codec_spec<>(std::string_view(spec), max_frame);
}

SOCKFRAME_NAMESPACE_END
