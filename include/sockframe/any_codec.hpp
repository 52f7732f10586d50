#pragma once
/// any_codec, a type-erased codec, and parse_codec_spec, which picks a built-in codec from text.

#include <sockframe/codec.hpp>
#include <sockframe/delimiter.hpp>
#include <sockframe/fixed_size.hpp>
#include <sockframe/length_prefix.hpp>
#include <sockframe/netstring.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
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
class any_codec {
public:
    template <typename Codec, typename = std::enable_if_t<!std::is_same_v<std::decay_t<Codec>, any_codec>>>
    any_codec(Codec&& codec)  // NOLINT(google-explicit-constructor)
        : self_(std::make_unique<model<std::decay_t<Codec>>>(std::forward<Codec>(codec))) {}
    any_codec(const any_codec& other) : self_(other.self_->clone()) {}
    any_codec(any_codec&&) noexcept = default;
    any_codec& operator=(const any_codec& other) {
        if (this != &other) self_ = other.self_->clone();
        return *this;
    }
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

    /// The held codec if it is a `Codec`, else nullptr.
    template <typename Codec>
    Codec* target() noexcept {
        if (self_->type() != &type_tag<Codec>) return nullptr;
        return &static_cast<model<Codec>*>(self_.get())->codec;
    }
    template <typename Codec>
    const Codec* target() const noexcept {
        if (self_->type() != &type_tag<Codec>) return nullptr;
        return &static_cast<const model<Codec>*>(self_.get())->codec;
    }

private:
    template <typename Codec>
    static constexpr char type_tag = 0;

    struct concept_t {
        virtual ~concept_t() = default;
        virtual const void* type() const noexcept = 0;
        virtual std::unique_ptr<concept_t> clone() const = 0;
        virtual std::size_t max_frame() const = 0;
        virtual std::size_t max_frame_bytes() const = 0;
        virtual decode_result decode(const_buffer input) = 0;
        virtual void reset() = 0;
        virtual std::error_code encode(frame_parts& out) const = 0;
    };
    template <typename Codec>
    struct model final : concept_t {
        template <typename C>
        explicit model(C&& c) : codec(std::forward<C>(c)) {}
        std::unique_ptr<concept_t> clone() const override {
            if constexpr (std::is_copy_constructible_v<Codec>) {
                return std::make_unique<model>(codec);
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
        Codec codec;
    };

    std::unique_ptr<concept_t> self_;
};

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
    return static_cast<std::size_t>(v);
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

inline any_codec parse_codec_spec(std::string_view spec, std::optional<std::size_t> max_frame) {
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

/// The codec named by `spec`: `len:W[:be|le]` (payload length in W = 1, 2, 4 or 8 bytes, big
/// endian by default), `varint`, `line`, `delim:STRING` (escapes \r \n \t \0 \\ \xHH),
/// `fixed:N` or `netstring`, each with its default max_frame (len:1 and len:2 cap it at what the
/// field can express). Throws system_error(invalid_argument) naming the problem on a bad spec.
inline any_codec parse_codec_spec(std::string_view spec) {
    return detail::parse_codec_spec(spec, std::nullopt);
}

/// As parse_codec_spec(spec), with `max_frame` payload bytes; also throws
/// system_error(invalid_argument) if the codec cannot express it (len:1 above 255, fixed:N above it).
inline any_codec parse_codec_spec(std::string_view spec, std::size_t max_frame) {
    return detail::parse_codec_spec(spec, max_frame);
}

SOCKFRAME_NAMESPACE_END
