// SPDX-License-Identifier: MIT
#pragma once
/// WebSocket (RFC 6455), sans-IO first: the frame codec (one frame per decode, checked as the RFC
/// requires), a message assembler (fragments joined, control frames, close codes, UTF-8 of text),
/// the opening handshake for server and client (SHA-1 and base64 included), and on top of them a
/// small blocking session (handshake, then messages; pings answered; closing handshake).

#include <sockframe/codec.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/endian.hpp>
#include <sockframe/detail/utf8.hpp>
#include <sockframe/error.hpp>
#include <sockframe/socket.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(SOCKFRAME_WINDOWS)
#include <random>
#endif

SOCKFRAME_NAMESPACE_BEGIN

/// WebSocket framing, handshake and sessions.
namespace websocket {

// ---- errors ------------------------------------------------------------------------------------

/// WebSocket errors (compare with `ec == websocket::error::...`).
enum class error {
    bad_request = 1,  ///< handshake: not a well-formed HTTP/1.1 GET Upgrade request
    bad_version,      ///< handshake: Sec-WebSocket-Version is not 13
    bad_key,          ///< handshake: Sec-WebSocket-Key is missing or not 16 bytes in base64
    head_too_large,   ///< handshake: the HTTP head exceeds its maximum size
    bad_response,     ///< handshake: the server's answer is not a valid 101 response
    bad_accept,       ///< handshake: Sec-WebSocket-Accept does not match the key sent
    protocol_error,   ///< a frame or message breaks RFC 6455 (close code 1002)
    invalid_payload,  ///< text or a close reason that is not UTF-8 (close code 1007)
    message_too_big,  ///< a message above the maximum size (close code 1009)
    closed,           ///< the connection's closing handshake is done: nothing more to send
};

namespace detail {
class category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "websocket"; }
    std::string message(int value) const override {
        switch (static_cast<error>(value)) {
            case error::bad_request: return "not a WebSocket upgrade request";
            case error::bad_version: return "unsupported WebSocket version (13 is required)";
            case error::bad_key: return "missing or malformed Sec-WebSocket-Key";
            case error::head_too_large: return "HTTP head larger than its maximum";
            case error::bad_response: return "not a WebSocket upgrade response";
            case error::bad_accept: return "Sec-WebSocket-Accept does not match the key";
            case error::protocol_error: return "WebSocket protocol error";
            case error::invalid_payload: return "invalid UTF-8 in a WebSocket text message or close reason";
            case error::message_too_big: return "WebSocket message larger than the maximum";
            case error::closed: return "the WebSocket connection is closed";
        }
        return "unknown websocket error";
    }
};
}  // namespace detail

/// The category of websocket::error codes.
inline const std::error_category& websocket_category() noexcept {
    static const detail::category_impl instance;
    return instance;
}
/// A websocket::error as a std::error_code.
inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), websocket_category()};
}

}  // namespace websocket
SOCKFRAME_NAMESPACE_END

namespace std {
template <>
struct is_error_code_enum<sockframe::websocket::error> : true_type {};
}  // namespace std

SOCKFRAME_NAMESPACE_BEGIN
namespace websocket {

// ---- SHA-1 and base64 -------------------------------------------------------------------------

namespace detail {

/// SHA-1 (FIPS 180-4), for Sec-WebSocket-Accept only (SHA-1 is not collision resistant).
class sha1 {
public:
    /// Hashes `n` more bytes.
    void update(const void* data, std::size_t n) noexcept {
        const auto* p = static_cast<const unsigned char*>(data);
        total_ += n;
        while (n > 0) {
            const std::size_t take = n < 64 - used_ ? n : 64 - used_;
            std::memcpy(block_.data() + used_, p, take);
            used_ += take;
            p += take;
            n -= take;
            if (used_ == 64) {
                compress();
                used_ = 0;
            }
        }
    }
    /// The 20-byte digest (the object is spent afterwards).
    std::array<unsigned char, 20> finish() noexcept {
        const std::uint64_t bits = total_ * 8;
        const unsigned char pad = 0x80;
        update(&pad, 1);
        const unsigned char zero = 0;
        while (used_ != 56) update(&zero, 1);
        unsigned char length[8];
        for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
        update(length, 8);
        std::array<unsigned char, 20> out{};
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 4; ++j)
                out[4 * i + j] = static_cast<unsigned char>(h_[i] >> (24 - 8 * j));
        return out;
    }

private:
    static constexpr std::uint32_t rotl(std::uint32_t x, int n) noexcept {
        return (x << n) | (x >> (32 - n));
    }
    void compress() noexcept {
        std::uint32_t w[80];
        for (std::size_t t = 0; t < 16; ++t)
            w[t] = static_cast<std::uint32_t>(block_[4 * t]) << 24 |
                   static_cast<std::uint32_t>(block_[4 * t + 1]) << 16 |
                   static_cast<std::uint32_t>(block_[4 * t + 2]) << 8 |
                   static_cast<std::uint32_t>(block_[4 * t + 3]);
        for (std::size_t t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
        for (std::size_t t = 0; t < 80; ++t) {
            std::uint32_t f, k;
            if (t < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (t < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            const std::uint32_t next = rotl(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = next;
        }
        h_[0] += a;
        h_[1] += b;
        h_[2] += c;
        h_[3] += d;
        h_[4] += e;
    }

    std::array<std::uint32_t, 5> h_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    std::array<unsigned char, 64> block_{};
    std::size_t used_ = 0;
    std::uint64_t total_ = 0;
};

inline constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 (RFC 4648 section 4, with padding) of `n` bytes.
SOCKFRAME_DECL std::string base64_encode(const void* data, std::size_t n);

/// Decodes canonical padded base64 (RFC 4648 section 4); nullopt for anything else (a wrong
/// length, a character outside the alphabet, misplaced padding, non-zero bits under the padding).
SOCKFRAME_DECL std::optional<std::string> base64_decode(std::string_view text);

/// `n` bytes from the system's random source (POSIX: the OS layer's; Windows:
/// std::random_device). Throws std::system_error if the system has none.
SOCKFRAME_DECL void random_bytes(unsigned char* out, std::size_t n);

}  // namespace detail

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
SOCKFRAME_DECL std::string accept_key(std::string_view key);

/// A fresh Sec-WebSocket-Key: 16 random bytes in base64.
SOCKFRAME_DECL std::string make_key();

// ---- frames -----------------------------------------------------------------------------------

/// Frame opcodes (RFC 6455 section 5.2).
enum class opcode : std::uint8_t {
    continuation = 0x0,  ///< a later fragment of a message
    text = 0x1,          ///< a UTF-8 text message (or its first fragment)
    binary = 0x2,        ///< a binary message (or its first fragment)
    close = 0x8,         ///< closing handshake
    ping = 0x9,          ///< ping: the peer answers with a pong
    pong = 0xA,          ///< pong: the answer to a ping (or unsolicited heartbeat)
};

/// Which end of the connection a codec or session is: a server receives masked frames and sends
/// unmasked ones, a client the other way round.
enum class role : std::uint8_t {
    server,  ///< accepted the connection
    client,  ///< opened the connection
};

/// Close status codes (RFC 6455 section 7.4.1) a program commonly sends.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;            ///< normal closure
inline constexpr std::uint16_t going_away = 1001;        ///< the endpoint goes away
inline constexpr std::uint16_t protocol_error = 1002;    ///< the peer broke the protocol
inline constexpr std::uint16_t unsupported_data = 1003;  ///< a data type the endpoint cannot take
inline constexpr std::uint16_t no_status = 1005;         ///< (received only) a close without a code
inline constexpr std::uint16_t abnormal = 1006;          ///< (never sent) closed without a close frame
inline constexpr std::uint16_t invalid_payload = 1007;   ///< text that is not UTF-8
inline constexpr std::uint16_t policy_violation = 1008;  ///< a message the endpoint's policy refuses
inline constexpr std::uint16_t message_too_big = 1009;   ///< a message too big to process
inline constexpr std::uint16_t internal_error = 1011;    ///< the server met an unexpected condition
}  // namespace close_code

/// Whether a close frame may carry `code` (section 7.4: 1000-1003, 1007-1014, 3000-4999; 1004,
/// 1005, 1006 and 1015 are never sent, the rest is reserved).
constexpr bool is_valid_close_code(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/// A decoded frame: header fields and the payload as it came on the wire (still masked when
/// `masked`: websocket::unmask gives the data). Views the codec's input.
struct frame {
    bool fin = true;                        ///< the last fragment of its message
    websocket::opcode op = opcode::binary;  ///< what the frame carries
    bool masked = false;                    ///< the payload is masked with `mask`
    std::array<std::byte, 4> mask{};        ///< the masking key (when masked)
    const_buffer payload;                   ///< the payload bytes as sent
};

/// XORs `n` bytes at `in` with the masking key into `out` (which may equal `in`), starting at
/// byte `offset` of the key's cycle. Masking and unmasking are the same operation.
inline void unmask(const std::byte* in, std::byte* out, std::size_t n, const std::array<std::byte, 4>& key,
                   std::size_t offset = 0) noexcept {
    std::size_t i = 0;
    // whole 8-byte words with the key rotated to the right phase
    std::uint64_t word_key;
    if ((offset & 3) == 0) {
        // The key twice, built in a register: the same bytes in memory order on either byte
        // order, and no byte-by-byte stores read back as one word (a store-forwarding stall).
        std::uint32_t k;
        std::memcpy(&k, key.data(), 4);
        word_key = (std::uint64_t{k} << 32) | k;
    } else {
        std::byte rotated[8];
        for (std::size_t j = 0; j < 8; ++j) rotated[j] = key[(offset + j) & 3];
        std::memcpy(&word_key, rotated, 8);
    }
    for (const std::size_t words = n & ~std::size_t{7}; i != words; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, in + i, 8);
        w ^= word_key;
        std::memcpy(out + i, &w, 8);
    }
    for (; i < n; ++i) out[i] = in[i] ^ key[(offset + i) & 3];
}

/// Largest header: 2 bytes, a 64-bit length, a masking key.
inline constexpr std::size_t max_header_size = 14;

/// Writes a frame header at `out` (room for max_header_size) and returns its size: FIN, opcode,
/// the payload length in its shortest form (7, 16 or 64 bits), and the masking key if `mask`.
inline std::size_t encode_header(bool fin, opcode op, std::uint64_t payload_size, const std::byte* mask,
                                 std::byte* out) noexcept {
    out[0] = static_cast<std::byte>((fin ? 0x80u : 0u) | static_cast<unsigned>(op));
    const unsigned mask_bit = mask != nullptr ? 0x80u : 0u;
    std::size_t n = 2;
    if (payload_size < 126) {
        out[1] = static_cast<std::byte>(mask_bit | static_cast<unsigned>(payload_size));
    } else if (payload_size <= 0xFFFF) {
        out[1] = static_cast<std::byte>(mask_bit | 126u);
        out[2] = static_cast<std::byte>(payload_size >> 8);
        out[3] = static_cast<std::byte>(payload_size & 0xFF);
        n = 4;
    } else {
        out[1] = static_cast<std::byte>(mask_bit | 127u);
        for (std::size_t i = 0; i < 8; ++i)
            out[2 + i] = static_cast<std::byte>((payload_size >> (56 - 8 * i)) & 0xFF);
        n = 10;
    }
    if (mask != nullptr) {
        std::memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

/// Appends one whole frame to `out`: header, then the payload, masked with a fresh random key
/// when `masked` (a client's frames must be).
inline void encode_frame(bool fin, opcode op, const_buffer payload, bool masked,
                         std::vector<std::byte>& out) {
    std::byte header[max_header_size];
    std::array<std::byte, 4> key{};
    if (masked) detail::random_bytes(reinterpret_cast<unsigned char*>(key.data()), 4);
    const std::size_t h = encode_header(fin, op, payload.size(), masked ? key.data() : nullptr, header);
    const std::size_t at = out.size();
    out.resize(at + h + payload.size());
    std::memcpy(out.data() + at, header, h);
    if (masked)
        unmask(payload.data(), out.data() + at + h, payload.size(), key);
    else if (!payload.empty())
        std::memcpy(out.data() + at + h, payload.data(), payload.size());
}

namespace detail {
/// parse_frame's work: false if `whole` is not one complete frame.
inline bool split_frame(const_buffer whole, frame& out) noexcept {
    const std::size_t size = whole.size();
    if (size < 2) return false;
    const auto b0 = static_cast<unsigned>(whole[0]);
    const auto b1 = static_cast<unsigned>(whole[1]);
    std::size_t at = 2;
    std::uint64_t length = b1 & 0x7Fu;
    if (length >= 126) {
        const std::size_t extra = length == 126 ? 2 : 8;
        if (size < at + extra) return false;
        length = 0;
        for (std::size_t i = 0; i < extra; ++i) length = length << 8 | static_cast<unsigned>(whole[at + i]);
        at += extra;
    }
    out.fin = (b0 & 0x80u) != 0;
    out.op = static_cast<opcode>(b0 & 0x0Fu);
    out.masked = (b1 & 0x80u) != 0;
    if (out.masked) {
        if (size < at + 4) return false;
        std::memcpy(out.mask.data(), whole.data() + at, 4);
        at += 4;
    }
    if (size - at != length) return false;
    out.payload = const_buffer{whole.data() + at, size - at};
    return true;
}
}  // namespace detail

/// Splits a whole frame (as the codec delivered it) into its fields; malformed_frame if it is not
/// one complete frame.
inline std::error_code parse_frame(const_buffer whole, frame& out) noexcept {
    if (!detail::split_frame(whole, out)) return sockframe::make_error_code(errc::malformed_frame);
    return sockframe::detail::no_error();
}

/// The WebSocket frame codec: one decode = one frame, checked as RFC 6455 section 5 requires.
///
/// decode delivers the WHOLE frame (header included; parse_frame() splits it), the payload still
/// masked as it arrived; message_assembler joins frames into messages. encode writes one final
/// frame of `send_opcode()` around the payload without copying it, UNMASKED: the server's frames.
/// A client must mask (which copies the payload): in the client role encode refuses a payload
/// (not_supported) and encode_frame() is the way to send.
///
/// Decode errors, all consumed 0 (the connection must be failed: send close 1002, or 1009 for
/// frame_too_large, and close):
///   - malformed_frame, size = the byte position: RSV bits set (no extension is negotiated), an
///     unknown opcode, a fragmented control frame (0); a frame masked the wrong way for the role,
///     a length not in its shortest form, a 64-bit length with its top bit set (1);
///   - frame_too_large, size = the payload length: a control frame above 125 bytes or a data
///     frame above max_payload().
class frame_codec {
public:
    /// A codec for `side` accepting frame payloads up to `max_payload` bytes, whose encode sends
    /// `send_opcode` frames.
    explicit frame_codec(role side = role::server, std::size_t max_payload = SOCKFRAME_DEFAULT_MAX_FRAME,
                         opcode send_opcode = opcode::binary) noexcept
        : side_(side), max_payload_(max_payload), send_opcode_(send_opcode) {}

    /// Which end this codec decodes for.
    role side() const noexcept { return side_; }
    /// The largest frame payload accepted.
    std::size_t max_payload() const noexcept { return max_payload_; }
    /// The opcode of the frames encode writes.
    opcode send_opcode() const noexcept { return send_opcode_; }
    /// Sets the opcode of the frames encode writes (text or binary).
    void set_send_opcode(opcode op) noexcept { send_opcode_ = op; }
    /// Most bytes one decode delivers (a whole frame).
    std::size_t max_frame() const noexcept {
        return sockframe::detail::saturating_add(max_header_size, max_payload_);
    }
    /// Most input bytes one frame occupies.
    std::size_t max_frame_bytes() const noexcept { return max_frame(); }

    /// Decodes the frame at the front of `input` (see the class comment for errors).
    decode_result decode(const_buffer input) noexcept {
        const std::size_t size = input.size();
        if (size == 0) return decode_result::need_more();
        const auto b0 = static_cast<unsigned>(input[0]);
        const unsigned op = b0 & 0x0Fu;
        if ((b0 & 0x70u) != 0) return fatal(errc::malformed_frame, 0);
        const bool control = (op & 0x8u) != 0;
        if (op > 0xA || (op > 2 && op < 8)) return fatal(errc::malformed_frame, 0);
        if (control && (b0 & 0x80u) == 0) return fatal(errc::malformed_frame, 0);
        if (size < 2) return decode_result::need_more();
        const auto b1 = static_cast<unsigned>(input[1]);
        const bool masked = (b1 & 0x80u) != 0;
        if (masked != (side_ == role::server)) return fatal(errc::malformed_frame, 1);
        std::uint64_t length = b1 & 0x7Fu;
        std::size_t header = 2;
        if (length == 126) {
            if (size < 4) return decode_result::need_more();
            length = static_cast<unsigned>(input[2]) << 8 | static_cast<unsigned>(input[3]);
            if (length < 126) return fatal(errc::malformed_frame, 1);
            header = 4;
        } else if (length == 127) {
            if (size < 10) return decode_result::need_more();
            length = 0;
            for (std::size_t i = 2; i < 10; ++i) length = length << 8 | static_cast<unsigned>(input[i]);
            if ((length >> 63) != 0 || length <= 0xFFFF) return fatal(errc::malformed_frame, 1);
            header = 10;
        }
        if (control && length > 125) return fatal(errc::frame_too_large, length);
        if (length > max_payload_) return fatal(errc::frame_too_large, length);
        if (masked) header += 4;
        if (size < header || size - header < length) return decode_result::need_more();
        const auto whole = header + sockframe::detail::convert<std::size_t>(length);
        return decode_result::frame(input.first(whole), whole);
    }
    /// Nothing to forget: the codec keeps no state between decodes.
    void reset() noexcept {}

    /// One final, unmasked frame of send_opcode() around `payload` (not copied). Errors:
    /// payload_too_large above max_payload(); not_supported in the client role (see the class
    /// comment).
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        std::byte header[max_prefix_size];
        const std::size_t n = encode_prefix(payload.size(), header);
        if (n == 0)
            return sockframe::make_error_code(side_ == role::client ? errc::not_supported
                                                                    : errc::payload_too_large);
        if (!out.prepend_copy(const_buffer{header, n})) return sockframe::detail::no_room();
        return {};
    }
    /// Longest header encode_prefix writes (unmasked, 64-bit length).
    static constexpr std::size_t max_prefix_size = 10;
    /// The header of an unmasked final frame of send_opcode() (see codec.hpp); 0 in the client
    /// role or above max_payload().
    std::size_t encode_prefix(std::size_t payload_size, std::byte* out) const noexcept {
        if (side_ == role::client || payload_size > max_payload_) return 0;
        return encode_header(true, send_opcode_, payload_size, nullptr, out);
    }

private:
    static decode_result fatal(errc e, std::uint64_t size) noexcept {
        return decode_result::failure(e, size);
    }

    role side_;
    std::size_t max_payload_;
    opcode send_opcode_;
};

// ---- messages ---------------------------------------------------------------------------------

/// What message_assembler::feed made of a frame.
struct event {
    /// The kind of event.
    enum class kind : std::uint8_t {
        none,     ///< a fragment was taken in; the message is not complete yet
        text,     ///< a complete text message (valid UTF-8) in `data`
        binary,   ///< a complete binary message in `data`
        ping,     ///< a ping; `data` is what the pong must carry
        pong,     ///< a pong; `data` is its payload
        close,    ///< a close frame: `code` (1005 if it had none) and `reason`
        failure,  ///< the peer broke the protocol: `error` says how, `code` is the close code to send
    };
    kind type = kind::none;   ///< what happened
    const_buffer data;        ///< text, binary, ping, pong: the (unmasked) payload; valid until the next feed
    std::uint16_t code = 0;   ///< close: the peer's code; failure: the code to close with
    std::string_view reason;  ///< close: the reason text (valid UTF-8)
    std::error_code error{0, sockframe_category()};  ///< failure: why (value 0 otherwise)
};

/// Joins frames into messages (RFC 6455 section 5.4), answers what each control frame is, checks
/// close codes and the UTF-8 of text (across fragments, failing at the first impossible byte),
/// and bounds a message's size. Sans-IO: feed it the frames frame_codec decodes.
///
/// A message in a single unmasked frame is delivered as a view of that frame (no copy); masked or
/// fragmented messages are unmasked into the assembler's buffer, which grows to the largest
/// message and is reused. After a failure event the connection must be closed with its code.
class message_assembler {
public:
    /// An assembler delivering messages of at most `max_message` bytes.
    explicit message_assembler(std::size_t max_message = SOCKFRAME_DEFAULT_MAX_FRAME)
        : max_message_(max_message) {}

    /// The largest message delivered.
    std::size_t max_message() const noexcept { return max_message_; }
    /// True while a fragmented message is incomplete.
    bool in_message() const noexcept { return in_message_; }

    /// Takes one whole frame (as frame_codec::decode delivered it).
    event feed(const_buffer whole) {
        // The common case first: a whole short message in one masked frame, none in progress
        // (what the general path below does for it, without splitting the frame twice).
        const std::size_t size = whole.size();
        if (size >= 6 && size < 6 + 126 && (whole[0] == std::byte{0x81} || whole[0] == std::byte{0x82}) &&
            !in_message_ && static_cast<unsigned>(whole[1]) == (0x80u | (size - 6)) &&
            size - 6 <= max_message_) {
            const std::size_t n = size - 6;
            if (buffer_.size() < 125) buffer_.resize(125);
            std::array<std::byte, 4> key;
            std::memcpy(key.data(), whole.data() + 2, 4);
            unmask(whole.data() + 6, buffer_.data(), n, key);
            const bool text = whole[0] == std::byte{0x81};
            if (text && !sockframe::detail::is_valid_utf8(buffer_.data(), n))
                return fail(error::invalid_payload, close_code::invalid_payload);
            event e;
            e.type = text ? event::kind::text : event::kind::binary;
            e.data = const_buffer{buffer_.data(), n};
            return e;
        }
        return feed_split(whole);
    }
    /// Takes one parsed frame.
    event feed(const frame& f) {
        event e;
        const std::size_t n = f.payload.size();
        switch (f.op) {
            case opcode::ping:
            case opcode::pong:
            case opcode::close: {
                if (!f.fin || n > 125) return fail(error::protocol_error, close_code::protocol_error);
                const_buffer data = f.payload;
                if (f.masked) {
                    unmask(f.payload.data(), control_.data(), n, f.mask);
                    data = const_buffer{control_.data(), n};
                }
                if (f.op == opcode::ping) e.type = event::kind::ping;
                if (f.op == opcode::pong) e.type = event::kind::pong;
                e.data = data;
                if (f.op == opcode::close) return close_event(data);
                return e;
            }
            case opcode::text:
            case opcode::binary:
                if (in_message_) return fail(error::protocol_error, close_code::protocol_error);
                text_ = f.op == opcode::text;
                utf8_.reset();
                size_ = 0;
                if (f.fin) {  // a whole message in one frame: unmasked, a view of it; else unmasked once
                    if (n > max_message_) return fail(error::message_too_big, close_code::message_too_big);
                    e.data = f.payload;
                    if (f.masked) {
                        if (buffer_.size() < n) buffer_.resize(n);
                        unmask(f.payload.data(), buffer_.data(), n, f.mask);
                        e.data = const_buffer{buffer_.data(), n};
                    }
                    if (text_ && !sockframe::detail::is_valid_utf8(e.data.data(), n))
                        return fail(error::invalid_payload, close_code::invalid_payload);
                    e.type = text_ ? event::kind::text : event::kind::binary;
                    return e;
                }
                in_message_ = true;
                return append(f);
            case opcode::continuation:
                if (!in_message_) return fail(error::protocol_error, close_code::protocol_error);
                return append(f);
        }
        return fail(error::protocol_error, close_code::protocol_error);
    }
    /// Forgets a message in progress (a new connection).
    void reset() noexcept {
        in_message_ = false;
        size_ = 0;
        utf8_.reset();
    }

private:
    /// feed(const_buffer) past its fast path: out of line, so that the fast path saves and
    /// restores no more registers than it uses.
    SOCKFRAME_NOINLINE event feed_split(const_buffer whole) {
        frame f;
        if (!detail::split_frame(whole, f)) return fail(error::protocol_error, close_code::protocol_error);
        return feed(f);
    }
    event append(const frame& f) {
        const std::size_t n = f.payload.size();
        if (n > max_message_ - size_) return fail(error::message_too_big, close_code::message_too_big);
        if (buffer_.size() < size_ + n) buffer_.resize(size_ + n);
        std::byte* to = buffer_.data() + size_;
        if (f.masked)
            unmask(f.payload.data(), to, n, f.mask);
        else if (n != 0)
            std::memcpy(to, f.payload.data(), n);
        if (text_ && !utf8_.feed(to, n)) return fail(error::invalid_payload, close_code::invalid_payload);
        size_ += n;
        event e;
        if (!f.fin) return e;
        if (text_ && !utf8_.complete()) return fail(error::invalid_payload, close_code::invalid_payload);
        in_message_ = false;
        e.type = text_ ? event::kind::text : event::kind::binary;
        e.data = const_buffer{buffer_.data(), size_};
        return e;
    }
    event close_event(const_buffer data) {
        event e;
        e.type = event::kind::close;
        if (data.empty()) {
            e.code = close_code::no_status;
            return e;
        }
        if (data.size() == 1) return fail(error::protocol_error, close_code::protocol_error);
        e.code =
            static_cast<std::uint16_t>(static_cast<unsigned>(data[0]) << 8 | static_cast<unsigned>(data[1]));
        if (!is_valid_close_code(e.code)) return fail(error::protocol_error, close_code::protocol_error);
        if (!sockframe::detail::is_valid_utf8(data.data() + 2, data.size() - 2))
            return fail(error::invalid_payload, close_code::invalid_payload);
        e.reason = std::string_view{reinterpret_cast<const char*>(data.data()) + 2, data.size() - 2};
        return e;
    }
    event fail(error why, std::uint16_t code) noexcept {
        in_message_ = false;
        event e;
        e.type = event::kind::failure;
        e.error = make_error_code(why);
        e.code = code;
        return e;
    }

    std::size_t max_message_;
    std::vector<std::byte> buffer_;
    std::size_t size_ = 0;
    bool in_message_ = false;
    bool text_ = false;
    sockframe::detail::utf8_validator utf8_;
    std::array<std::byte, 125> control_{};
};

// ---- the opening handshake (section 4) --------------------------------------------------------

/// The default bound on an HTTP head (request or response line and headers).
inline constexpr std::size_t default_max_head = 8192;

/// Where the HTTP head at the front of `input` ends: the size of the head with its blank line
/// (CR LF CR LF), or 0 if it is not complete yet.
inline std::size_t find_head_end(const_buffer input) noexcept {
    const std::string_view s = input.str();
    const std::size_t at = s.find("\r\n\r\n");
    return at == std::string_view::npos ? 0 : at + 4;
}

namespace detail {
inline char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
SOCKFRAME_DECL bool iequals(std::string_view a, std::string_view b) noexcept;
SOCKFRAME_DECL std::string_view trim(std::string_view s) noexcept;
/// Whether a comma-separated header value lists `token` (case-insensitive).
SOCKFRAME_DECL bool has_token(std::string_view value, std::string_view token) noexcept;
/// Calls `f(name, value)` for each header line of `head` after its first line; false if a line
/// is not `name: value`.
template <typename F>
bool for_each_header(std::string_view head, F&& f) {
    std::size_t at = head.find("\r\n");
    if (at == std::string_view::npos) return false;
    at += 2;
    while (at < head.size()) {
        const std::size_t end = head.find("\r\n", at);
        if (end == std::string_view::npos) return false;
        if (end == at) return true;  // the blank line
        const std::string_view line = head.substr(at, end - at);
        const std::size_t colon = line.find(':');
        if (colon == 0 || colon == std::string_view::npos) return false;
        const std::string_view name = line.substr(0, colon);
        if (name.find_first_of(" \t") != std::string_view::npos) return false;
        f(name, trim(line.substr(colon + 1)));
        at = end + 2;
    }
    return false;
}
}  // namespace detail

/// A client's opening handshake, parsed (views into the head).
struct request {
    std::string_view target;     ///< the request target ("/chat")
    std::string_view host;       ///< the Host header
    std::string_view key;        ///< Sec-WebSocket-Key
    std::string_view origin;     ///< Origin, if sent
    std::string_view protocols;  ///< Sec-WebSocket-Protocol, if sent (not negotiated here)
};

/// Parses and checks an upgrade request (`head` from find_head_end): GET, HTTP/1.1, Host,
/// `Upgrade: websocket`, `Connection: Upgrade`, Sec-WebSocket-Version 13 (else bad_version),
/// and a Sec-WebSocket-Key of 16 bytes in base64 (else bad_key); else bad_request.
SOCKFRAME_DECL std::error_code parse_request(std::string_view head, request& out);

/// The server's 101 answer to a request carrying `key`.
SOCKFRAME_DECL std::string response(std::string_view key);

/// The server's refusal of a bad request: 426 with the supported version for bad_version, else
/// 400.
SOCKFRAME_DECL std::string refusal(const std::error_code& why);

/// A client's upgrade request for `target` on `host` (host[:port]) with `key` (make_key()).
SOCKFRAME_DECL std::string client_request(std::string_view host, std::string_view target,
                                          std::string_view key);

/// Checks a server's answer to a request sent with `key`: status 101, `Upgrade: websocket`,
/// `Connection: Upgrade`, the right Sec-WebSocket-Accept (else bad_accept), and no extension or
/// subprotocol (none was offered); else bad_response.
SOCKFRAME_DECL std::error_code check_response(std::string_view head, std::string_view key);

// ---- a blocking session -----------------------------------------------------------------------

/// Limits of a session.
struct session_options {
    std::size_t max_message = SOCKFRAME_DEFAULT_MAX_FRAME;  ///< largest message received (else close 1009)
    std::size_t max_frame = SOCKFRAME_DEFAULT_MAX_FRAME;    ///< largest frame payload received (else 1009)
    std::size_t max_head = default_max_head;                ///< largest handshake head received
};

/// A received message: text or binary, and its bytes (valid until the next receive).
struct message {
    bool text = false;  ///< a text message (valid UTF-8) rather than binary
    const_buffer data;  ///< its bytes
    /// The bytes as text.
    std::string_view str() const noexcept { return data.str(); }
};

/// A WebSocket connection over a blocking stream socket (tcp_stream, unix_stream, ...): the
/// opening handshake (accept() as a server, connect() as a client), then messages. receive()
/// answers pings and completes a closing handshake the peer starts; close() starts one.
///
/// One object is used by one thread at a time. Every blocking call has a throwing overload and
/// one taking std::error_code&. A protocol error from the peer is answered with a close frame of
/// the matching code (1002, 1007, 1009) and reported as that websocket::error.
template <typename Stream>
class basic_session {
public:
    /// Server side: reads the client's upgrade request and answers it (101, or 400/426 and an
    /// error). `d` bounds the whole handshake.
    static basic_session accept(Stream stream, const session_options& options, deadline d,
                                std::error_code& ec) {
        basic_session s(std::move(stream), role::server, options);
        s.server_handshake(d, ec);
        return s;
    }
    /// Throwing accept.
    static basic_session accept(Stream stream, const session_options& options = {}, deadline d = {}) {
        std::error_code ec;
        auto s = accept(std::move(stream), options, d, ec);
        sockframe::detail::throw_if(ec, "websocket: accept");
        return s;
    }
    /// Client side: sends the upgrade request for `target` with Host `host` and checks the answer.
    static basic_session connect(Stream stream, std::string_view host, std::string_view target,
                                 const session_options& options, deadline d, std::error_code& ec) {
        basic_session s(std::move(stream), role::client, options);
        s.client_handshake(host, target, d, ec);
        return s;
    }
    /// Throwing connect.
    static basic_session connect(Stream stream, std::string_view host, std::string_view target = "/",
                                 const session_options& options = {}, deadline d = {}) {
        std::error_code ec;
        auto s = connect(std::move(stream), host, target, options, d, ec);
        sockframe::detail::throw_if(ec, "websocket: connect");
        return s;
    }

    /// The next message; nullopt with `ec` clear once the closing handshake is complete (the peer
    /// closed: close_code() says how), nullopt with `ec` set on an error. Pings are answered and
    /// pongs counted on the way.
    std::optional<message> receive(deadline d, std::error_code& ec) {
        ec.clear();
        for (;;) {
            if (closed_) return std::nullopt;
            if (start_ == end_ && !fill(d, ec)) return std::nullopt;
            const decode_result r = codec_.decode(const_buffer{buffer_.data() + start_, end_ - start_});
            if (r.needs_more()) {
                if (!fill(d, ec)) return std::nullopt;
                continue;
            }
            if (r.is_error()) {
                fail(r.error == errc::frame_too_large ? close_code::message_too_big
                                                      : close_code::protocol_error,
                     r.error == errc::frame_too_large ? error::message_too_big : error::protocol_error, d,
                     ec);
                return std::nullopt;
            }
            start_ += r.consumed;
            const event e = assembler_.feed(r.payload);
            switch (e.type) {
                case event::kind::none: break;
                case event::kind::text:
                case event::kind::binary: return message{e.type == event::kind::text, e.data};
                case event::kind::ping:
                    send_frame(true, opcode::pong, e.data, d, ec);
                    if (ec) return std::nullopt;
                    break;
                case event::kind::pong:
                    ++pongs_;
                    last_pong_.assign(e.data.str());
                    break;
                case event::kind::close:
                    peer_code_ = e.code;
                    peer_reason_.assign(e.reason);
                    if (!close_sent_) {  // echo the code and reason, then the connection is over
                        send_close(e.code == close_code::no_status ? 0 : e.code, e.reason, d, ec);
                        if (ec) return std::nullopt;
                    }
                    finish(d);
                    return std::nullopt;
                case event::kind::failure:
                    fail(e.code, static_cast<error>(e.error.value()), d, ec);
                    return std::nullopt;
            }
        }
    }
    /// Throwing receive; nullopt once the connection is closed.
    std::optional<message> receive(deadline d = {}) {
        std::error_code ec;
        auto m = receive(d, ec);
        sockframe::detail::throw_if(ec, "websocket: receive");
        return m;
    }

    /// Sends a whole message in one frame (text must be UTF-8: invalid_argument otherwise).
    void send(const_buffer data, bool text, deadline d, std::error_code& ec) {
        if (text && !sockframe::detail::is_valid_utf8(data.data(), data.size())) {
            ec = sockframe::make_error_code(errc::invalid_argument);
            return;
        }
        send_frame(true, text ? opcode::text : opcode::binary, data, d, ec);
    }
    /// Throwing send.
    void send(const_buffer data, bool text, deadline d = {}) {
        std::error_code ec;
        send(data, text, d, ec);
        sockframe::detail::throw_if(ec, "websocket: send");
    }
    /// Sends a text message.
    void send_text(std::string_view text, deadline d = {}) {
        send(const_buffer{text.data(), text.size()}, true, d);
    }
    /// Sends a text message; never throws.
    void send_text(std::string_view text, deadline d, std::error_code& ec) {
        send(const_buffer{text.data(), text.size()}, true, d, ec);
    }
    /// Sends a binary message.
    void send_binary(const_buffer data, deadline d = {}) { send(data, false, d); }
    /// Sends a binary message; never throws.
    void send_binary(const_buffer data, deadline d, std::error_code& ec) { send(data, false, d, ec); }
    /// Sends one frame as it is (a fragment: opcode text/binary then continuation, fin on the
    /// last; or a control frame, final and at most 125 bytes, else invalid_argument). The caller
    /// keeps the fragmentation rules.
    void send_frame(bool fin, opcode op, const_buffer payload, deadline d, std::error_code& ec) {
        if ((static_cast<unsigned>(op) & 0x8u) != 0 && (!fin || payload.size() > 125)) {
            ec = sockframe::make_error_code(errc::invalid_argument);
            return;
        }
        if (close_sent_) {
            ec = error::closed;
            return;
        }
        if (role_ == role::server) {  // unmasked: header and payload gathered, the payload not copied
            std::byte header[max_header_size];
            const std::size_t h = encode_header(fin, op, payload.size(), nullptr, header);
            const const_buffer parts[2] = {const_buffer{header, h}, payload};
            stream_.write_all(parts, 2, d, ec);
        } else {
            out_.clear();
            encode_frame(fin, op, payload, true, out_);
            stream_.write_all(const_buffer{out_.data(), out_.size()}, d, ec);
        }
    }
    /// Throwing send_frame.
    void send_frame(bool fin, opcode op, const_buffer payload, deadline d = {}) {
        std::error_code ec;
        send_frame(fin, op, payload, d, ec);
        sockframe::detail::throw_if(ec, "websocket: send_frame");
    }
    /// Sends a ping (payload at most 125 bytes, else invalid_argument).
    void ping(const_buffer payload, deadline d, std::error_code& ec) {
        if (payload.size() > 125) {
            ec = sockframe::make_error_code(errc::invalid_argument);
            return;
        }
        send_frame(true, opcode::ping, payload, d, ec);
    }
    /// Throwing ping.
    void ping(const_buffer payload = {}, deadline d = {}) {
        std::error_code ec;
        ping(payload, d, ec);
        sockframe::detail::throw_if(ec, "websocket: ping");
    }

    /// Starts the closing handshake with `code` (a valid close code, or 0 for none) and `reason`
    /// (at most 123 bytes of UTF-8), then reads, dropping data messages, until the peer's close
    /// arrives; then the connection is closed. `d` bounds it all.
    void close(std::uint16_t code, std::string_view reason, deadline d, std::error_code& ec) {
        ec.clear();
        if (closed_) return;
        if ((code != 0 && !is_valid_close_code(code)) || reason.size() > 123 ||
            (code == 0 && !reason.empty()) ||
            !sockframe::detail::is_valid_utf8(reinterpret_cast<const std::byte*>(reason.data()),
                                              reason.size())) {
            ec = sockframe::make_error_code(errc::invalid_argument);
            return;
        }
        if (!close_sent_) send_close(code, reason, d, ec);
        if (ec) return;
        while (!closed_) {
            (void)receive(d, ec);
            if (ec) return;
        }
    }
    /// Throwing close.
    void close(std::uint16_t code = close_code::normal, std::string_view reason = {}, deadline d = {}) {
        std::error_code ec;
        close(code, reason, d, ec);
        sockframe::detail::throw_if(ec, "websocket: close");
    }

    /// The code of the peer's close frame (1005 if it had none; 0 before one arrived).
    std::uint16_t close_code() const noexcept { return peer_code_; }
    /// The reason text of the peer's close frame.
    const std::string& close_reason() const noexcept { return peer_reason_; }
    /// Whether the closing handshake is complete (or the connection failed).
    bool is_closed() const noexcept { return closed_; }
    /// Pongs received so far.
    std::size_t pongs() const noexcept { return pongs_; }
    /// The payload of the last pong received.
    const std::string& last_pong() const noexcept { return last_pong_; }
    /// The request target the client asked for (server side, after accept).
    const std::string& target() const noexcept { return target_; }
    /// The underlying stream.
    Stream& stream() noexcept { return stream_; }

private:
    basic_session(Stream stream, role side, const session_options& options)
        : stream_(std::move(stream)),
          role_(side),
          options_(options),
          codec_(side, options.max_frame),
          assembler_(options.max_message) {}

    /// Reads more bytes into the buffer; false with `ec` set on error or at end-of-stream
    /// (end-of-stream without a close frame is truncated_stream).
    bool fill(deadline d, std::error_code& ec) {
        if (start_ == end_) start_ = end_ = 0;
        if (start_ > 0 && buffer_.size() - end_ < 4096) {  // slide the partial frame down
            std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
            end_ -= start_;
            start_ = 0;
        }
        if (buffer_.size() - end_ < 4096) {
            const std::size_t limit = codec_.max_frame_bytes() + 4096;
            std::size_t want = buffer_.size() < 16384 ? 16384 : buffer_.size() * 2;
            if (want > limit) want = limit;
            if (want > buffer_.size()) buffer_.resize(want);
        }
        const std::size_t n =
            stream_.read_some(mutable_buffer{buffer_.data() + end_, buffer_.size() - end_}, d, ec);
        if (ec) {
            if (ec != std::errc::timed_out) closed_ = true;  // after a timeout the session goes on
            return false;
        }
        if (n == 0) {
            closed_ = true;
            if (peer_code_ == 0) {
                peer_code_ = close_code::abnormal;
                ec = sockframe::make_error_code(errc::truncated_stream);
            }
            return false;
        }
        end_ += n;
        return true;
    }

    void send_close(std::uint16_t code, std::string_view reason, deadline d, std::error_code& ec) {
        std::byte payload[125];
        std::size_t n = 0;
        if (code != 0) {
            payload[0] = static_cast<std::byte>(code >> 8);
            payload[1] = static_cast<std::byte>(code & 0xFF);
            if (!reason.empty()) std::memcpy(payload + 2, reason.data(), reason.size());
            n = 2 + reason.size();
        }
        send_frame(true, opcode::close, const_buffer{payload, n}, d, ec);
        close_sent_ = true;
    }

    /// The closing handshake is complete: a server closes the TCP connection at once; a client
    /// waits (within `d`) for the server to close first, as section 7.1.1 asks.
    void finish(deadline d) {
        closed_ = true;
        std::error_code ignored;
        if (role_ == role::client) {
            std::byte sink[512];
            while (stream_.read_some(mutable_buffer{sink, sizeof sink}, d, ignored) > 0 && !ignored) {
            }
        }
        stream_.shutdown(shutdown_type::both, ignored);
    }

    /// Fails the connection: a close frame with `code`, then the end; `ec` = `why`.
    void fail(std::uint16_t code, error why, deadline d, std::error_code& ec) {
        std::error_code ignored;
        if (!close_sent_) send_close(code, {}, d, ignored);
        closed_ = true;
        stream_.shutdown(shutdown_type::both, ignored);
        ec = why;
    }

    void server_handshake(deadline d, std::error_code& ec) {
        const std::size_t head = read_head(d, ec);
        if (ec) return;
        request r;
        ec = parse_request(std::string_view{reinterpret_cast<const char*>(buffer_.data()), head}, r);
        if (ec) {
            const std::string no = refusal(ec);
            std::error_code ignored;
            stream_.write_all(const_buffer{no.data(), no.size()}, d, ignored);
            closed_ = true;
            return;
        }
        target_.assign(r.target);
        const std::string yes = response(r.key);
        start_ = head;  // frames may follow the request in the same read
        stream_.write_all(const_buffer{yes.data(), yes.size()}, d, ec);
    }

    void client_handshake(std::string_view host, std::string_view target, deadline d, std::error_code& ec) {
        const std::string key = make_key();
        const std::string upgrade = client_request(host, target, key);
        stream_.write_all(const_buffer{upgrade.data(), upgrade.size()}, d, ec);
        if (ec) return;
        const std::size_t head = read_head(d, ec);
        if (ec) return;
        ec = check_response(std::string_view{reinterpret_cast<const char*>(buffer_.data()), head}, key);
        if (ec) {
            closed_ = true;
            return;
        }
        target_.assign(target);
        start_ = head;
    }

    /// Reads until the HTTP head is complete; its size.
    std::size_t read_head(deadline d, std::error_code& ec) {
        buffer_.resize(options_.max_head + 4096);
        for (;;) {
            if (const std::size_t head = find_head_end(const_buffer{buffer_.data(), end_})) {
                if (head > options_.max_head) break;
                return head;
            }
            if (end_ >= options_.max_head) break;
            const std::size_t n =
                stream_.read_some(mutable_buffer{buffer_.data() + end_, buffer_.size() - end_}, d, ec);
            if (ec) return 0;
            if (n == 0) {
                ec = sockframe::make_error_code(end_ == 0 ? errc::end_of_stream : errc::truncated_stream);
                return 0;
            }
            end_ += n;
        }
        ec = error::head_too_large;
        closed_ = true;
        return 0;
    }

    Stream stream_;
    role role_;
    session_options options_;
    frame_codec codec_;
    message_assembler assembler_;
    std::vector<std::byte> buffer_;
    std::size_t start_ = 0, end_ = 0;  // unconsumed bytes are buffer_[start_, end_)
    std::vector<std::byte> out_;       // a client's masked frame
    bool close_sent_ = false;
    bool closed_ = false;
    std::uint16_t peer_code_ = 0;
    std::string peer_reason_;
    std::size_t pongs_ = 0;
    std::string last_pong_;
    std::string target_;
};

/// A WebSocket session over TCP (IPv4).
using session = basic_session<tcp_stream>;

}  // namespace websocket

#if SOCKFRAME_HEADER_BODIES
// The bodies of the functions declared above (compiled once, in src/sockframe.cpp, with
// SOCKFRAME_SEPARATE_COMPILATION).
namespace websocket {
namespace detail {

SOCKFRAME_DECL std::string base64_encode(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const unsigned v =
            static_cast<unsigned>(p[i]) << 16 | static_cast<unsigned>(p[i + 1]) << 8 | p[i + 2];
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += base64_alphabet[v & 63];
    }
    if (n - i == 1) {
        const unsigned v = static_cast<unsigned>(p[i]) << 16;
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += "==";
    } else if (n - i == 2) {
        const unsigned v = static_cast<unsigned>(p[i]) << 16 | static_cast<unsigned>(p[i + 1]) << 8;
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

SOCKFRAME_DECL std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t pad = last ? (text[i + 3] == '=' ? (text[i + 2] == '=' ? 2 : 1) : 0) : 0;
        int v[4] = {0, 0, 0, 0};
        for (std::size_t j = 0; j < 4 - pad; ++j) {
            v[j] = value(text[i + j]);
            if (v[j] < 0) return std::nullopt;
        }
        const unsigned bits = static_cast<unsigned>(v[0]) << 18 | static_cast<unsigned>(v[1]) << 12 |
                              static_cast<unsigned>(v[2]) << 6 | static_cast<unsigned>(v[3]);
        out += static_cast<char>((bits >> 16) & 0xFF);
        if (pad < 2) out += static_cast<char>((bits >> 8) & 0xFF);
        if (pad < 1) out += static_cast<char>(bits & 0xFF);
        if ((pad == 1 && (bits & 0xFF) != 0) || (pad == 2 && (bits & 0xFFFF) != 0)) return std::nullopt;
    }
    return out;
}

SOCKFRAME_DECL void random_bytes(unsigned char* out, std::size_t n) {
#if defined(SOCKFRAME_WINDOWS)
    std::random_device source;
    for (std::size_t i = 0; i < n; i += 4) {
        const auto v = sockframe::detail::convert<std::uint32_t>(source());
        for (std::size_t j = 0; j < 4 && i + j < n; ++j)
            out[i + j] = static_cast<unsigned char>(v >> (8 * j));
    }
#else
    std::error_code ec;
    if (!sockframe::detail::system_random(out, n, ec))
        throw std::system_error(ec, "sockframe: no system random source");
#endif
}
}  // namespace detail

SOCKFRAME_DECL std::string accept_key(std::string_view key) {
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    detail::sha1 h;
    h.update(key.data(), key.size());
    h.update(guid.data(), guid.size());
    const auto digest = h.finish();
    return detail::base64_encode(digest.data(), digest.size());
}

SOCKFRAME_DECL std::string make_key() {
    unsigned char nonce[16];
    detail::random_bytes(nonce, sizeof nonce);
    return detail::base64_encode(nonce, sizeof nonce);
}
namespace detail {

SOCKFRAME_DECL bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

SOCKFRAME_DECL std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

SOCKFRAME_DECL bool has_token(std::string_view value, std::string_view token) noexcept {
    while (!value.empty()) {
        const std::size_t comma = value.find(',');
        if (iequals(trim(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}
}  // namespace detail

SOCKFRAME_DECL std::error_code parse_request(std::string_view head, request& out) {
    out = request{};
    const std::size_t eol = head.find("\r\n");
    if (eol == std::string_view::npos) return error::bad_request;
    const std::string_view line = head.substr(0, eol);
    if (line.size() < 14 || line.substr(0, 4) != "GET " || line.substr(line.size() - 9) != " HTTP/1.1")
        return error::bad_request;
    out.target = line.substr(4, line.size() - 13);
    if (out.target.empty() || out.target.find(' ') != std::string_view::npos) return error::bad_request;
    bool upgrade = false, connection = false, version_seen = false, version_ok = false, key_twice = false;
    bool host_seen = false;
    const bool ok = detail::for_each_header(head, [&](std::string_view name, std::string_view value) {
        if (detail::iequals(name, "host")) {
            host_seen = true;
            out.host = value;
        } else if (detail::iequals(name, "upgrade")) {
            upgrade = upgrade || detail::has_token(value, "websocket");
        } else if (detail::iequals(name, "connection")) {
            connection = connection || detail::has_token(value, "upgrade");
        } else if (detail::iequals(name, "sec-websocket-version")) {
            version_seen = true;
            version_ok = value == "13";
        } else if (detail::iequals(name, "sec-websocket-key")) {
            key_twice = !out.key.empty();
            out.key = value;
        } else if (detail::iequals(name, "origin")) {
            out.origin = value;
        } else if (detail::iequals(name, "sec-websocket-protocol")) {
            out.protocols = value;
        }
    });
    if (!ok || !host_seen || !upgrade || !connection) return error::bad_request;
    if (!version_seen || !version_ok) return error::bad_version;
    if (key_twice || out.key.empty()) return error::bad_key;
    const auto nonce = detail::base64_decode(out.key);
    if (!nonce || nonce->size() != 16) return error::bad_key;
    return {};
}

SOCKFRAME_DECL std::string response(std::string_view key) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           accept_key(key) + "\r\n\r\n";
}

SOCKFRAME_DECL std::string refusal(const std::error_code& why) {
    if (why == error::bad_version)
        return "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n"
               "Connection: close\r\n\r\n";
    return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

SOCKFRAME_DECL std::string client_request(std::string_view host, std::string_view target,
                                          std::string_view key) {
    std::string r;
    r.reserve(160 + host.size() + target.size());
    r.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
    r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
    r.append("\r\nSec-WebSocket-Version: 13\r\n\r\n");
    return r;
}

SOCKFRAME_DECL std::error_code check_response(std::string_view head, std::string_view key) {
    const std::size_t eol = head.find("\r\n");
    if (eol == std::string_view::npos) return error::bad_response;
    const std::string_view line = head.substr(0, eol);
    if (line.substr(0, 13) != "HTTP/1.1 101 " && line != "HTTP/1.1 101") return error::bad_response;
    bool upgrade = false, connection = false, unasked = false;
    std::string_view accept;
    const bool ok = detail::for_each_header(head, [&](std::string_view name, std::string_view value) {
        if (detail::iequals(name, "upgrade"))
            upgrade = upgrade || detail::has_token(value, "websocket");
        else if (detail::iequals(name, "connection"))
            connection = connection || detail::has_token(value, "upgrade");
        else if (detail::iequals(name, "sec-websocket-accept"))
            accept = value;
        else if (detail::iequals(name, "sec-websocket-extensions") ||
                 detail::iequals(name, "sec-websocket-protocol"))
            unasked = true;
    });
    if (!ok || !upgrade || !connection || unasked) return error::bad_response;
    if (accept != accept_key(key)) return error::bad_accept;
    return {};
}
}  // namespace websocket
#endif  // SOCKFRAME_HEADER_BODIES

SOCKFRAME_NAMESPACE_END
