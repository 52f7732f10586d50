// SPDX-License-Identifier: MIT
#pragma once
/// MQTT 3.1.1 and 5.0 framing (OASIS standards, section 2): the fixed header (packet type and
/// flags) and the Remaining Length varint, as a codec; a view of a decoded packet; and builders
/// and parsers for the MQTT 3.1.1 packets a simple client or broker exchanges (CONNECT, CONNACK,
/// PUBLISH, PUBACK, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT).

#include <sockframe/codec.hpp>
#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

/// MQTT framing and packets.
namespace mqtt {

/// The largest Remaining Length the four-byte varint can express (both versions).
inline constexpr std::size_t max_remaining_length = 268435455;

/// The protocol version a codec checks packets against.
enum class protocol_version : std::uint8_t {
    v3_1_1 = 4,  ///< MQTT 3.1.1 (protocol level 4)
    v5 = 5,      ///< MQTT 5.0 (protocol level 5): adds AUTH; variable-length acknowledgements
};

/// Control packet types (the high nibble of the first byte).
enum class packet_type : std::uint8_t {
    connect = 1,       ///< client → server: connection request
    connack = 2,       ///< server → client: connection acknowledgement
    publish = 3,       ///< either way: an application message
    puback = 4,        ///< QoS 1 acknowledgement
    pubrec = 5,        ///< QoS 2, first acknowledgement
    pubrel = 6,        ///< QoS 2, release
    pubcomp = 7,       ///< QoS 2, completion
    subscribe = 8,     ///< client → server: subscription request
    suback = 9,        ///< server → client: subscription acknowledgement
    unsubscribe = 10,  ///< client → server: unsubscription request
    unsuback = 11,     ///< server → client: unsubscription acknowledgement
    pingreq = 12,      ///< client → server: keep-alive
    pingresp = 13,     ///< server → client: keep-alive answer
    disconnect = 14,   ///< disconnection notice
    auth = 15,         ///< MQTT 5 only: authentication exchange
};

/// A decoded packet: its type, the four flag bits of its first byte and its body (variable
/// header and payload). `body` views the codec's input: valid until the next receive.
struct packet {
    packet_type type = packet_type::connect;  ///< the packet's type
    std::uint8_t flags = 0;                   ///< the low nibble of the first byte
    const_buffer body;                        ///< everything after the Remaining Length
};

namespace detail {

/// Checks the first byte of a packet against the spec's table of fixed-header flags (3.1.1 and 5
/// section 2.1.3): reserved flags must have their fixed values; PUBLISH may not have QoS 3, nor
/// DUP with QoS 0; type 0 is reserved, and type 15 (AUTH) exists only in MQTT 5.
constexpr bool valid_first_byte(unsigned byte, protocol_version version) noexcept {
    const unsigned type = byte >> 4;
    const unsigned flags = byte & 0x0Fu;
    switch (type) {
        case 3: {
            const unsigned qos = (flags >> 1) & 3u;
            return qos != 3 && !(qos == 0 && (flags & 8u) != 0);
        }
        case 6:
        case 8:
        case 10: return flags == 2;
        case 15: return version == protocol_version::v5 && flags == 0;
        case 0: return false;
        default: return flags == 0;
    }
}

/// The Remaining Length a packet type must have when the spec fixes it (PINGREQ and PINGRESP
/// always 0; in 3.1.1 also DISCONNECT 0, and CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK
/// 2); SIZE_MAX when it is not fixed.
constexpr std::size_t fixed_remaining_length(unsigned type, protocol_version version) noexcept {
    if (type == 12 || type == 13) return 0;
    if (version == protocol_version::v3_1_1) {
        if (type == 14) return 0;
        if (type == 2 || (type >= 4 && type <= 7) || type == 11) return 2;
    }
    return SIZE_MAX;
}

/// Bytes of the varint for `value` (1..4; 0 above max_remaining_length).
constexpr std::size_t varint_size(std::size_t value) noexcept {
    return value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : value <= max_remaining_length ? 4 : 0;
}

/// Writes the Remaining Length varint of `value` at `out` and returns its size (0 if too large).
inline std::size_t write_varint(std::size_t value, std::byte* out) noexcept {
    const std::size_t n = varint_size(value);
    for (std::size_t i = 0; i < n; ++i) {
        auto digit = static_cast<unsigned>(value % 128);
        value /= 128;
        if (i + 1 < n) digit |= 0x80u;
        out[i] = static_cast<std::byte>(digit);
    }
    return n;
}

}  // namespace detail

/// The MQTT framing codec (3.1.1 or 5): one frame is one control packet.
///
/// decode delivers the WHOLE packet (first byte, Remaining Length and body) so that its type is
/// there; mqtt::parse() splits it into a `packet`. encode takes the packet WITHOUT its Remaining
/// Length (the first byte, then the body: what the build_* helpers write) and inserts the varint
/// after the first byte, the body never copied, like length_prefix with a one-byte header.
///
/// Decode errors all have consumed 0 (an MQTT stream cannot be resynchronised; the reader stops
/// and the connection must be closed, as the spec requires):
///   - malformed_frame, size = the byte's position: a first byte the spec forbids (reserved type,
///     reserved flag bits not as the table says, PUBLISH with QoS 3 or with DUP at QoS 0, AUTH in
///     3.1.1), a varint with a continuation bit on its fourth byte, or a non-minimal varint (a
///     last byte of zero after the first);
///   - frame_too_large, size = the Remaining Length, above this codec's maximum (or, when the
///     varint's bytes so far already say more than the maximum, the least length they can give);
///   - frame_size_mismatch, size = the Remaining Length: a packet whose length the spec fixes
///     (PINGREQ 0; in 3.1.1 PUBACK 2, ...) with another one.
class codec {
public:
    /// A codec for `version` accepting Remaining Lengths up to `max_remaining` (at most
    /// max_remaining_length; more throws system_error(invalid_argument)).
    explicit codec(std::size_t max_remaining = SOCKFRAME_DEFAULT_MAX_FRAME,
                   protocol_version version = protocol_version::v3_1_1)
        : max_remaining_(max_remaining), version_(version) {
        if (max_remaining > max_remaining_length)
            sockframe::detail::throw_error(errc::invalid_argument,
                                           "mqtt::codec: the Remaining Length cannot exceed 268435455");
    }

    /// The largest Remaining Length accepted.
    std::size_t max_remaining() const noexcept { return max_remaining_; }
    /// The protocol version packets are checked against.
    protocol_version version() const noexcept { return version_; }
    /// Most bytes one decode delivers: a whole packet of the largest Remaining Length.
    std::size_t max_frame() const noexcept {
        return 1 + detail::varint_size(max_remaining_) + max_remaining_;
    }
    /// Most input bytes one packet occupies (the same: the frame is the whole packet).
    std::size_t max_frame_bytes() const noexcept { return max_frame(); }

    /// Decodes the packet at the front of `input` (see the class comment for errors).
    decode_result decode(const_buffer input) noexcept {
        const std::size_t size = input.size();
        if (size == 0) return decode_result::need_more();
        const auto first = static_cast<unsigned>(input[0]);
        if (!detail::valid_first_byte(first, version_)) return fatal(errc::malformed_frame, 0);
        std::size_t length = 0;
        std::size_t i = 1;
        for (;; ++i) {
            if (i == size) return decode_result::need_more();
            const auto b = static_cast<unsigned>(input[i]);
            length |= static_cast<std::size_t>(b & 0x7Fu) << (7 * (i - 1));
            if ((b & 0x80u) == 0) {
                if (b == 0 && i > 1) return fatal(errc::malformed_frame, i);  // non-minimal
                break;
            }
            if (i == 4) return fatal(errc::malformed_frame, i);  // a fifth byte would follow
            // more bytes follow: the length is at least this much, already too large?
            const std::size_t at_least = length + (std::size_t{1} << (7 * i));
            if (at_least > max_remaining_) return fatal(errc::frame_too_large, at_least);
        }
        if (length > max_remaining_) return fatal(errc::frame_too_large, length);
        const std::size_t fixed = detail::fixed_remaining_length(first >> 4, version_);
        if (fixed != SIZE_MAX && length != fixed) return fatal(errc::frame_size_mismatch, length);
        const std::size_t header = i + 1;
        if (size - header < length) return decode_result::need_more();
        return decode_result::frame(input.first(header + length), header + length);
    }
    /// Nothing to forget: the codec keeps no state between decodes.
    void reset() noexcept {}

    /// Frames a packet given as its first byte then its body (see the class comment). Errors:
    /// invalid_argument for an empty payload or a first byte the spec forbids, payload_too_large
    /// for a body above max_remaining().
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Inserts the Remaining Length after the first byte of the packet already in `out`.
    std::error_code encode(frame_parts& out) const {
        const std::size_t size = out.size();
        if (size == 0) return make_error_code(errc::invalid_argument);
        unsigned first = 0;
        for (const const_buffer& segment : out) {
            if (!segment.empty()) {
                first = static_cast<unsigned>(segment[0]);
                break;
            }
        }
        if (!detail::valid_first_byte(first, version_)) return make_error_code(errc::invalid_argument);
        const std::size_t body = size - 1;
        if (body > max_remaining_) return make_error_code(errc::payload_too_large);
        const std::size_t fixed = detail::fixed_remaining_length(first >> 4, version_);
        if (fixed != SIZE_MAX && body != fixed) return make_error_code(errc::invalid_argument);
        std::byte field[4];
        const std::size_t n = detail::write_varint(body, field);
        if (!out.insert_copy(1, const_buffer{field, n})) return sockframe::detail::no_room();
        return {};
    }

private:
    static decode_result fatal(errc e, std::uint64_t size) noexcept {
        return decode_result::failure(e, size);
    }

    std::size_t max_remaining_;
    protocol_version version_;
};

/// Splits a whole packet (a frame the codec delivered) into type, flags and body. A frame that
/// is not a complete packet (not from the codec) gives malformed_frame.
inline std::error_code parse(const_buffer frame, packet& out) noexcept {
    if (frame.size() < 2) return make_error_code(errc::malformed_frame);
    const auto first = static_cast<unsigned>(frame[0]);
    std::size_t length = 0;
    std::size_t i = 1;
    for (;; ++i) {
        if (i == frame.size() || i > 4) return make_error_code(errc::malformed_frame);
        const auto b = static_cast<unsigned>(frame[i]);
        length |= static_cast<std::size_t>(b & 0x7Fu) << (7 * (i - 1));
        if ((b & 0x80u) == 0) break;
    }
    if (frame.size() - (i + 1) != length) return make_error_code(errc::malformed_frame);
    out.type = static_cast<packet_type>(first >> 4);
    out.flags = static_cast<std::uint8_t>(first & 0x0Fu);
    out.body = frame.subspan(i + 1);
    return sockframe::detail::no_error();
}

// ---- MQTT 3.1.1 packets ------------------------------------------------------------------------
// Each build_* appends a packet WITHOUT its Remaining Length (first byte, then body) to `out`: what
// codec::encode (and so framed::send) takes. Each parse_* reads the body of a `packet` and returns
// malformed_frame when it is not a well-formed packet of that type.

/// What a CONNECT carries (3.1.1 section 3.1; no Will message).
struct connect_options {
    std::string_view client_id;     ///< may be empty with clean_session (the server assigns one)
    std::uint16_t keep_alive = 60;  ///< seconds; 0 turns keep-alive off
    bool clean_session = true;      ///< discard any previous session
    std::string_view username;      ///< sent when not empty
    std::string_view password;      ///< sent when not empty (needs a username)
};

/// A parsed CONNECT (views into the packet's body).
struct connect_request {
    std::string_view protocol_name;   ///< "MQTT"
    std::uint8_t protocol_level = 0;  ///< 4 for 3.1.1
    std::uint8_t connect_flags = 0;   ///< the flag byte as sent
    std::uint16_t keep_alive = 0;     ///< seconds
    std::string_view client_id;       ///< the client identifier
};

/// A parsed PUBLISH (views into the packet's body).
struct publish_message {
    std::string_view topic;       ///< the topic name (no wildcards)
    std::uint8_t qos = 0;         ///< 0, 1 or 2
    bool retain = false;          ///< the RETAIN flag
    bool dup = false;             ///< the DUP flag
    std::uint16_t packet_id = 0;  ///< QoS > 0 only
    const_buffer payload;         ///< the application message
};

/// One topic filter of a SUBSCRIBE.
struct subscription {
    std::string_view topic_filter;  ///< the filter (wildcards allowed)
    std::uint8_t qos = 0;           ///< the maximum QoS requested
};

namespace detail {
inline void put_byte(std::vector<std::byte>& out, unsigned b) {
    out.push_back(static_cast<std::byte>(b & 0xFFu));
}
inline void put_u16(std::vector<std::byte>& out, std::uint16_t v) {
    put_byte(out, static_cast<unsigned>(v >> 8));
    put_byte(out, v);
}
inline void put_bytes(std::vector<std::byte>& out, const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
}
/// A UTF-8 string field: two-byte length, then the bytes; false above 65535 bytes.
inline bool put_string(std::vector<std::byte>& out, std::string_view s) {
    if (s.size() > 0xFFFF) return false;
    put_u16(out, static_cast<std::uint16_t>(s.size()));
    put_bytes(out, s.data(), s.size());
    return true;
}
/// Reads the body field by field; any overrun sets `bad`.
struct reader {
    const_buffer in;
    std::size_t at = 0;
    bool bad = false;

    std::size_t left() const noexcept { return in.size() - at; }
    unsigned byte() noexcept {
        if (left() < 1) {
            bad = true;
            return 0;
        }
        return static_cast<unsigned>(in[at++]);
    }
    std::uint16_t u16() noexcept {
        if (left() < 2) {
            bad = true;
            return 0;
        }
        const auto hi = static_cast<unsigned>(in[at]);
        const auto lo = static_cast<unsigned>(in[at + 1]);
        at += 2;
        return static_cast<std::uint16_t>((hi << 8) | lo);
    }
    /// A UTF-8 string field: well-formed UTF-8 without U+0000 (3.1.1 section 1.5.3).
    std::string_view string() noexcept {
        const std::size_t n = u16();
        if (bad || left() < n) {
            bad = true;
            return {};
        }
        const std::byte* p = in.data() + at;
        at += n;
        if (!sockframe::detail::is_valid_utf8(p, n) || std::memchr(p, 0, n) != nullptr) bad = true;
        return {reinterpret_cast<const char*>(p), n};
    }
};
inline std::error_code malformed() noexcept { return make_error_code(errc::malformed_frame); }
}  // namespace detail

/// Appends a CONNECT for MQTT 3.1.1; invalid_argument for a string above 65535 bytes or a
/// password without a username.
inline std::error_code build_connect(const connect_options& o, std::vector<std::byte>& out) {
    if (!o.password.empty() && o.username.empty()) return make_error_code(errc::invalid_argument);
    if (o.client_id.size() > 0xFFFF || o.username.size() > 0xFFFF || o.password.size() > 0xFFFF)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x10);
    detail::put_string(out, "MQTT");
    detail::put_byte(out, 4);
    unsigned flags = o.clean_session ? 0x02u : 0u;
    if (!o.username.empty()) flags |= 0x80u;
    if (!o.password.empty()) flags |= 0x40u;
    detail::put_byte(out, flags);
    detail::put_u16(out, o.keep_alive);
    detail::put_string(out, o.client_id);
    if (!o.username.empty()) detail::put_string(out, o.username);
    if (!o.password.empty()) detail::put_string(out, o.password);
    return {};
}

/// Reads a CONNECT's body (protocol name and level are returned, not checked: a server answers an
/// unknown level with CONNACK return code 1). Will, username and password fields are skipped.
inline std::error_code parse_connect(const packet& p, connect_request& out) noexcept {
    if (p.type != packet_type::connect) return detail::malformed();
    detail::reader r{p.body};
    out.protocol_name = r.string();
    out.protocol_level = static_cast<std::uint8_t>(r.byte());
    out.connect_flags = static_cast<std::uint8_t>(r.byte());
    out.keep_alive = r.u16();
    out.client_id = r.string();
    if (r.bad || (out.connect_flags & 0x01u) != 0) return detail::malformed();  // reserved bit
    if ((out.connect_flags & 0x04u) != 0) {                                     // Will topic and message
        (void)r.string();
        const std::size_t n = r.u16();
        if (r.bad || r.left() < n) return detail::malformed();
        r.at += n;
    }
    if ((out.connect_flags & 0x80u) != 0) (void)r.string();
    if ((out.connect_flags & 0x40u) != 0) {
        const std::size_t n = r.u16();
        if (r.bad || r.left() < n) return detail::malformed();
        r.at += n;
    }
    if (r.bad || r.left() != 0) return detail::malformed();
    return {};
}

/// Appends a CONNACK (3.1.1: session-present flag and return code, 0 = accepted).
inline void build_connack(bool session_present, std::uint8_t return_code, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x20);
    detail::put_byte(out, session_present ? 1u : 0u);
    detail::put_byte(out, return_code);
}

/// Reads a CONNACK: its session-present flag and return code.
inline std::error_code parse_connack(const packet& p, bool& session_present,
                                     std::uint8_t& return_code) noexcept {
    if (p.type != packet_type::connack || p.body.size() != 2) return detail::malformed();
    const auto flags = static_cast<unsigned>(p.body[0]);
    if ((flags & 0xFEu) != 0) return detail::malformed();
    session_present = flags != 0;
    return_code = static_cast<std::uint8_t>(p.body[1]);
    return {};
}

/// Appends the first byte, topic and packet identifier of a PUBLISH, without its payload: send
/// them and the payload as one frame (`conn.send({head, payload})`), the payload never copied.
/// invalid_argument for QoS above 2, a packet id of 0 with QoS > 0, a topic that is empty, above
/// 65535 bytes or has a wildcard.
inline std::error_code build_publish_head(std::string_view topic, std::uint8_t qos, std::uint16_t packet_id,
                                          bool retain, std::vector<std::byte>& out) {
    if (qos > 2 || (qos > 0 && packet_id == 0) || topic.empty() || topic.size() > 0xFFFF ||
        topic.find_first_of("+#") != std::string_view::npos)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x30u | (static_cast<unsigned>(qos) << 1) | (retain ? 1u : 0u));
    detail::put_string(out, topic);
    if (qos > 0) detail::put_u16(out, packet_id);
    return {};
}

/// Appends a whole PUBLISH (head and a copy of the payload); errors as build_publish_head.
inline std::error_code build_publish(std::string_view topic, const_buffer payload, std::uint8_t qos,
                                     std::uint16_t packet_id, bool retain, std::vector<std::byte>& out) {
    if (auto ec = build_publish_head(topic, qos, packet_id, retain, out)) return ec;
    detail::put_bytes(out, payload.data(), payload.size());
    return {};
}

/// Reads a PUBLISH: flags, topic (valid UTF-8, no wildcard), packet id (QoS > 0) and payload.
inline std::error_code parse_publish(const packet& p, publish_message& out) noexcept {
    if (p.type != packet_type::publish) return detail::malformed();
    out.qos = static_cast<std::uint8_t>((p.flags >> 1) & 3u);
    out.retain = (p.flags & 1u) != 0;
    out.dup = (p.flags & 8u) != 0;
    if (out.qos == 3) return detail::malformed();
    detail::reader r{p.body};
    out.topic = r.string();
    out.packet_id = out.qos > 0 ? r.u16() : std::uint16_t{0};
    if (r.bad || out.topic.find_first_of("+#") != std::string_view::npos) return detail::malformed();
    if (out.qos > 0 && out.packet_id == 0) return detail::malformed();
    out.payload = p.body.subspan(r.at);
    return {};
}

/// Appends a PUBACK for `packet_id`.
inline void build_puback(std::uint16_t packet_id, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x40);
    detail::put_u16(out, packet_id);
}

/// Reads the packet identifier of a PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (3.1.1: exactly
/// two body bytes).
inline std::error_code parse_packet_id(const packet& p, std::uint16_t& packet_id) noexcept {
    if (p.body.size() != 2) return detail::malformed();
    detail::reader r{p.body};
    packet_id = r.u16();
    return {};
}

/// Appends a SUBSCRIBE of one topic filter; invalid_argument for an empty or oversized filter,
/// QoS above 2 or packet id 0.
inline std::error_code build_subscribe(std::uint16_t packet_id, std::string_view topic_filter,
                                       std::uint8_t qos, std::vector<std::byte>& out) {
    if (qos > 2 || packet_id == 0 || topic_filter.empty() || topic_filter.size() > 0xFFFF)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x82);
    detail::put_u16(out, packet_id);
    detail::put_string(out, topic_filter);
    detail::put_byte(out, qos);
    return {};
}

/// Reads a SUBSCRIBE: its packet id and every topic filter (at least one) into `out` (cleared).
inline std::error_code parse_subscribe(const packet& p, std::uint16_t& packet_id,
                                       std::vector<subscription>& out) {
    out.clear();
    if (p.type != packet_type::subscribe) return detail::malformed();
    detail::reader r{p.body};
    packet_id = r.u16();
    while (!r.bad && r.left() > 0) {
        subscription s;
        s.topic_filter = r.string();
        const unsigned qos = r.byte();
        if (r.bad || qos > 2 || s.topic_filter.empty()) return detail::malformed();
        s.qos = static_cast<std::uint8_t>(qos);
        out.push_back(s);
    }
    if (r.bad || out.empty() || packet_id == 0) return detail::malformed();
    return {};
}

/// Appends a SUBACK: one return code per filter (0, 1, 2 = granted QoS; 0x80 = failure).
inline void build_suback(std::uint16_t packet_id, const_buffer return_codes, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x90);
    detail::put_u16(out, packet_id);
    detail::put_bytes(out, return_codes.data(), return_codes.size());
}

/// Reads a SUBACK: its packet id and a view of its return codes (at least one).
inline std::error_code parse_suback(const packet& p, std::uint16_t& packet_id,
                                    const_buffer& return_codes) noexcept {
    if (p.type != packet_type::suback || p.body.size() < 3) return detail::malformed();
    detail::reader r{p.body};
    packet_id = r.u16();
    return_codes = p.body.subspan(2);
    for (std::byte b : return_codes) {
        const auto code = static_cast<unsigned>(b);
        if (code > 2 && code != 0x80) return detail::malformed();
    }
    return {};
}

/// Appends a PINGREQ.
inline void build_pingreq(std::vector<std::byte>& out) { detail::put_byte(out, 0xC0); }
/// Appends a PINGRESP.
inline void build_pingresp(std::vector<std::byte>& out) { detail::put_byte(out, 0xD0); }
/// Appends a DISCONNECT (3.1.1: no body).
inline void build_disconnect(std::vector<std::byte>& out) { detail::put_byte(out, 0xE0); }

}  // namespace mqtt

SOCKFRAME_NAMESPACE_END
