// SPDX-License-Identifier: MIT
#pragma once
/// MQTT 3.1.1 and 5.0 framing (OASIS standards, section 2): the fixed header (packet type and
/// flags) and the Remaining Length varint, as a codec; a view of a decoded packet; and builders
/// and parsers for the MQTT 3.1.1 packets a client or broker exchanges (CONNECT with its Will,
/// CONNACK, PUBLISH, PUBACK, the QoS 2 flow PUBREC / PUBREL / PUBCOMP, SUBSCRIBE, SUBACK,
/// UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT).

#include <sockframe/codec.hpp>
#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>  // also std::forward_iterator_tag: <iterator> would add <streambuf> and the locales

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

/// What the fixed header of one packet type may hold: bit f of `flags` is set when the flag bits
/// f are allowed (valid_first_byte), and `fixed_length` is the Remaining Length the spec fixes
/// (fixed_remaining_length; 255 when it is not fixed).
struct header_rule {
    std::uint16_t flags;
    std::uint8_t fixed_length;

    /// Whether the flag bits of `first` (a packet's first byte, of this rule's type) are allowed.
    constexpr bool allows(unsigned first) const noexcept { return ((flags >> (first & 0x0Fu)) & 1u) != 0; }
    /// Whether a packet of this type may have a Remaining Length of `length`.
    constexpr bool allows_length(std::size_t length) const noexcept {
        return fixed_length == 255 || length == fixed_length;
    }
};

/// valid_first_byte and fixed_remaining_length as a table per version (row 0 for 3.1.1, row 1 for
/// 5), which the codec's decode and encode read: a packet's first byte is checked with two loads
/// instead of a branch per rule.
/// Flags masks: 0x0001 (flags 0 only), 0x0004 (flags 2 only: PUBREL, SUBSCRIBE, UNSUBSCRIBE) and
/// 0x3C3F for PUBLISH (flags 0-5 and 10-13: any QoS but 3, DUP only with QoS 1 or 2). The tests
/// check every entry against the two functions.
struct header_rules {
    header_rule rule[2][16];
};

/// The table decode reads.
// clang-format off
inline constexpr header_rules header_rule_table = {{
    // 3.1.1: reserved, CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE,
    // SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, (AUTH: 5 only)
    {{0x0000, 255}, {0x0001, 255}, {0x0001, 2}, {0x3C3F, 255}, {0x0001, 2}, {0x0001, 2}, {0x0004, 2},
     {0x0001, 2}, {0x0004, 255}, {0x0001, 255}, {0x0004, 255}, {0x0001, 2}, {0x0001, 0}, {0x0001, 0},
     {0x0001, 0}, {0x0000, 255}},
    // 5: the same flags, AUTH allowed; only PINGREQ and PINGRESP have a fixed length
    {{0x0000, 255}, {0x0001, 255}, {0x0001, 255}, {0x3C3F, 255}, {0x0001, 255}, {0x0001, 255},
     {0x0004, 255}, {0x0001, 255}, {0x0004, 255}, {0x0001, 255}, {0x0004, 255}, {0x0001, 255},
     {0x0001, 0}, {0x0001, 0}, {0x0001, 255}, {0x0001, 255}},
}};
// clang-format on

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
        const detail::header_rule rule = rule_of(first);
        if (!rule.allows(first)) return fatal(errc::malformed_frame, 0);
        std::size_t length = 0;
        std::size_t i = 1;
        for (unsigned shift = 0;; ++i, shift += 7) {
            if (i == size) return decode_result::need_more();
            const auto b = static_cast<unsigned>(input[i]);
            length |= static_cast<std::size_t>(b & 0x7Fu) << shift;
            if ((b & 0x80u) == 0) {
                if (b == 0 && i > 1) return fatal(errc::malformed_frame, i);  // non-minimal
                break;
            }
            if (i == 4) return fatal(errc::malformed_frame, i);  // a fifth byte would follow
            // more bytes follow: the length is at least this much, already too large?
            const std::size_t at_least = length + (std::size_t{1} << (shift + 7));
            if (at_least > max_remaining_) return fatal(errc::frame_too_large, at_least);
        }
        if (length > max_remaining_) return fatal(errc::frame_too_large, length);
        if (!rule.allows_length(length)) return fatal(errc::frame_size_mismatch, length);
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
        const detail::header_rule rule = rule_of(first);
        if (!rule.allows(first)) return make_error_code(errc::invalid_argument);
        const std::size_t body = size - 1;
        if (body > max_remaining_) return make_error_code(errc::payload_too_large);
        if (!rule.allows_length(body)) return make_error_code(errc::invalid_argument);
        std::byte field[4];
        const std::size_t n = detail::write_varint(body, field);
        if (!out.insert_copy(1, const_buffer{field, n})) return sockframe::detail::no_room();
        return {};
    }

private:
    /// The header rule of the packet type `first` (a first byte) gives, in this codec's version.
    detail::header_rule rule_of(unsigned first) const noexcept {
        return detail::header_rule_table.rule[version_ == protocol_version::v5 ? 1 : 0][first >> 4];
    }
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

/// What a CONNECT carries (3.1.1 section 3.1).
struct connect_options {
    std::string_view client_id;     ///< may be empty with clean_session (the server assigns one)
    std::uint16_t keep_alive = 60;  ///< seconds; 0 turns keep-alive off
    bool clean_session = true;      ///< discard any previous session
    std::string_view username;      ///< sent when not empty
    std::string_view password;      ///< sent when not empty (needs a username)
    /// The Will's topic: when not empty, the CONNECT carries a Will, which the server publishes
    /// to this topic if the connection ends without a DISCONNECT (3.1.2.5).
    std::string_view will_topic;
    const_buffer will_message;  ///< the Will's payload (at most 65535 bytes)
    std::uint8_t will_qos = 0;  ///< the Will's QoS (0, 1 or 2)
    bool will_retain = false;   ///< whether the Will is published retained
};

/// A parsed CONNECT (views into the packet's body).
struct connect_request {
    std::string_view protocol_name;   ///< "MQTT"
    std::uint8_t protocol_level = 0;  ///< 4 for 3.1.1
    std::uint8_t connect_flags = 0;   ///< the flag byte as sent
    std::uint16_t keep_alive = 0;     ///< seconds
    std::string_view client_id;       ///< the client identifier
    bool has_will = false;            ///< whether a Will follows (the Will flag)
    std::string_view will_topic;      ///< the Will's topic (has_will)
    const_buffer will_message;        ///< the Will's payload (has_will)
    std::uint8_t will_qos = 0;        ///< the Will's QoS (has_will)
    bool will_retain = false;         ///< the Will's RETAIN flag (has_will)
    bool has_username = false;        ///< whether a user name was sent
    std::string_view username;        ///< the user name (has_username)
    bool has_password = false;        ///< whether a password was sent
    const_buffer password;            ///< the password, binary data (has_password)
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
    /// The whole options byte (MQTT 5: QoS, No Local 0x04, Retain As Published 0x08, Retain
    /// Handling bits 4-5; in 3.1.1 equal to qos).
    std::uint8_t options = 0;
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
SOCKFRAME_DECL bool put_string(std::vector<std::byte>& out, std::string_view s);
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
    /// A binary data field: a 16-bit length, then that many bytes (a view into the packet).
    const_buffer binary() noexcept {
        const std::size_t n = u16();
        if (bad || left() < n) {
            bad = true;
            return {};
        }
        const const_buffer out = in.subspan(at, n);
        at += n;
        return out;
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
/// The head of a PUBLISH, both versions (defined with the bodies below).
SOCKFRAME_DECL bool read_publish_head(const packet& p, publish_message& out, reader& r) noexcept;
/// The connect flags of a CONNECT, both versions (defined with the bodies below).
SOCKFRAME_DECL bool read_connect_flags(connect_request& out) noexcept;
/// The Will, user name and password of a CONNECT, both versions (defined with the bodies below).
SOCKFRAME_DECL bool read_connect_payload(reader& r, connect_request& out) noexcept;
}  // namespace detail

namespace detail {
/// Whether `topic` can be published to: not empty, at most 65535 bytes, no wildcard.
inline bool valid_topic_name(std::string_view topic) noexcept {
    return !topic.empty() && topic.size() <= 0xFFFF && topic.find_first_of("+#") == std::string_view::npos;
}
}  // namespace detail

/// Appends a CONNECT for MQTT 3.1.1; invalid_argument for a string above 65535 bytes, a password
/// without a username, or a Will with a QoS above 2, a topic with a wildcard or a payload above
/// 65535 bytes (Will fields other than the topic are ignored without a Will topic).
SOCKFRAME_DECL std::error_code build_connect(const connect_options& o, std::vector<std::byte>& out);

/// Reads a CONNECT's body (protocol name and level are returned, not checked: a server answers an
/// unknown level with CONNACK return code 1), its Will, user name and password. malformed_frame
/// for the reserved flag set, Will QoS or RETAIN without the Will flag, Will QoS 3, a password
/// without a user name, a Will topic with a wildcard, or a field that overruns the body.
SOCKFRAME_DECL std::error_code parse_connect(const packet& p, connect_request& out) noexcept;

/// Appends a CONNACK (3.1.1: session-present flag and return code, 0 = accepted).
SOCKFRAME_DECL void build_connack(bool session_present, std::uint8_t return_code,
                                  std::vector<std::byte>& out);

/// Reads a CONNACK: its session-present flag and return code.
SOCKFRAME_DECL std::error_code parse_connack(const packet& p, bool& session_present,
                                             std::uint8_t& return_code) noexcept;

/// Appends the first byte, topic and packet identifier of a PUBLISH, without its payload: send
/// them and the payload as one frame (`conn.send({head, payload})`), the payload never copied.
/// invalid_argument for QoS above 2, a packet id of 0 with QoS > 0, a topic that is empty, above
/// 65535 bytes or has a wildcard.
SOCKFRAME_DECL std::error_code build_publish_head(std::string_view topic, std::uint8_t qos,
                                                  std::uint16_t packet_id, bool retain,
                                                  std::vector<std::byte>& out);

/// Appends a whole PUBLISH (head and a copy of the payload); errors as build_publish_head.
SOCKFRAME_DECL std::error_code build_publish(std::string_view topic, const_buffer payload, std::uint8_t qos,
                                             std::uint16_t packet_id, bool retain,
                                             std::vector<std::byte>& out);

/// Reads a PUBLISH: flags, topic (valid UTF-8, no wildcard), packet id (QoS > 0) and payload.
SOCKFRAME_DECL std::error_code parse_publish(const packet& p, publish_message& out) noexcept;

/// Appends a PUBACK for `packet_id`.
inline void build_puback(std::uint16_t packet_id, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x40);
    detail::put_u16(out, packet_id);
}

/// Appends a PUBREC for `packet_id`: QoS 2, first step, the receiver has the message.
inline void build_pubrec(std::uint16_t packet_id, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x50);
    detail::put_u16(out, packet_id);
}

/// Appends a PUBREL for `packet_id`: QoS 2, second step, the sender releases the identifier.
inline void build_pubrel(std::uint16_t packet_id, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x62);  // flags 0010, as the spec fixes them
    detail::put_u16(out, packet_id);
}

/// Appends a PUBCOMP for `packet_id`: QoS 2, last step, the flow is complete.
inline void build_pubcomp(std::uint16_t packet_id, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x70);
    detail::put_u16(out, packet_id);
}

/// Reads the packet identifier of a PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (3.1.1: exactly
/// two body bytes). A packet identifier of 0 is malformed_frame.
SOCKFRAME_DECL std::error_code parse_packet_id(const packet& p, std::uint16_t& packet_id) noexcept;

/// Reads an acknowledgement of type `type` (puback, pubrec, pubrel, pubcomp or unsuback):
/// malformed_frame for another type, else as parse_packet_id.
inline std::error_code parse_ack(const packet& p, packet_type type, std::uint16_t& packet_id) noexcept {
    if (p.type != type) return detail::malformed();
    return parse_packet_id(p, packet_id);
}

/// Appends a SUBSCRIBE of one topic filter; invalid_argument for an empty or oversized filter,
/// QoS above 2 or packet id 0.
SOCKFRAME_DECL std::error_code build_subscribe(std::uint16_t packet_id, std::string_view topic_filter,
                                               std::uint8_t qos, std::vector<std::byte>& out);

/// Reads a SUBSCRIBE: its packet id and every topic filter (at least one) into `out` (cleared): a
/// std::vector<subscription>, or any container of them with clear(), push_back() and empty().
template <typename Subscriptions>
std::error_code parse_subscribe(const packet& p, std::uint16_t& packet_id, Subscriptions& out) {
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
        s.options = s.qos;
        out.push_back(s);
    }
    if (r.bad || out.empty() || packet_id == 0) return detail::malformed();
    return {};
}

/// Appends a SUBACK: one return code per filter (0, 1, 2 = granted QoS; 0x80 = failure).
SOCKFRAME_DECL void build_suback(std::uint16_t packet_id, const_buffer return_codes,
                                 std::vector<std::byte>& out);

/// Reads a SUBACK: its packet id and a view of its return codes (at least one).
SOCKFRAME_DECL std::error_code parse_suback(const packet& p, std::uint16_t& packet_id,
                                            const_buffer& return_codes) noexcept;

/// Appends an UNSUBSCRIBE of one topic filter; invalid_argument for an empty or oversized filter
/// or packet id 0.
SOCKFRAME_DECL std::error_code build_unsubscribe(std::uint16_t packet_id, std::string_view topic_filter,
                                                 std::vector<std::byte>& out);

/// Reads an UNSUBSCRIBE: its packet id and every topic filter (at least one) into `out` (cleared):
/// a std::vector<std::string_view>, or any container of them with clear(), push_back() and empty().
template <typename Filters>
std::error_code parse_unsubscribe(const packet& p, std::uint16_t& packet_id, Filters& out) {
    out.clear();
    if (p.type != packet_type::unsubscribe) return detail::malformed();
    detail::reader r{p.body};
    packet_id = r.u16();
    while (!r.bad && r.left() > 0) {
        const std::string_view filter = r.string();
        if (r.bad || filter.empty()) return detail::malformed();
        out.push_back(filter);
    }
    if (r.bad || out.empty() || packet_id == 0) return detail::malformed();
    return {};
}

/// Appends an UNSUBACK for `packet_id` (3.1.1: no reason codes).
inline void build_unsuback(std::uint16_t packet_id, std::vector<std::byte>& out) {
    detail::put_byte(out, 0xB0);
    detail::put_u16(out, packet_id);
}

/// Appends a PINGREQ.
inline void build_pingreq(std::vector<std::byte>& out) { detail::put_byte(out, 0xC0); }
/// Appends a PINGRESP.
inline void build_pingresp(std::vector<std::byte>& out) { detail::put_byte(out, 0xD0); }
/// Appends a DISCONNECT (3.1.1: no body).
inline void build_disconnect(std::vector<std::byte>& out) { detail::put_byte(out, 0xE0); }

// ---- MQTT 5 properties --------------------------------------------------------------------------
// MQTT 5 packets carry properties after their variable header (5.0 section 2.2.2): a varint
// length, then identifier + value pairs, each identifier with a fixed value type. `properties` is
// a checked view of them; `property_writer` builds them; the *_v5 helpers build and parse the
// CONNECT, CONNACK, PUBLISH and SUBSCRIBE packets that carry them (codec: protocol_version::v5).

/// MQTT 5 property identifiers (5.0 section 2.2.2.2).
enum class property_id : std::uint8_t {
    payload_format_indicator = 0x01,           ///< byte
    message_expiry_interval = 0x02,            ///< four-byte integer
    content_type = 0x03,                       ///< UTF-8 string
    response_topic = 0x08,                     ///< UTF-8 string
    correlation_data = 0x09,                   ///< binary data
    subscription_identifier = 0x0B,            ///< varint
    session_expiry_interval = 0x11,            ///< four-byte integer
    assigned_client_identifier = 0x12,         ///< UTF-8 string
    server_keep_alive = 0x13,                  ///< two-byte integer
    authentication_method = 0x15,              ///< UTF-8 string
    authentication_data = 0x16,                ///< binary data
    request_problem_information = 0x17,        ///< byte
    will_delay_interval = 0x18,                ///< four-byte integer
    request_response_information = 0x19,       ///< byte
    response_information = 0x1A,               ///< UTF-8 string
    server_reference = 0x1C,                   ///< UTF-8 string
    reason_string = 0x1F,                      ///< UTF-8 string
    receive_maximum = 0x21,                    ///< two-byte integer
    topic_alias_maximum = 0x22,                ///< two-byte integer
    topic_alias = 0x23,                        ///< two-byte integer
    maximum_qos = 0x24,                        ///< byte
    retain_available = 0x25,                   ///< byte
    user_property = 0x26,                      ///< UTF-8 string pair (may repeat)
    maximum_packet_size = 0x27,                ///< four-byte integer
    wildcard_subscription_available = 0x28,    ///< byte
    subscription_identifier_available = 0x29,  ///< byte
    shared_subscription_available = 0x2A,      ///< byte
};

/// The value type of a property.
enum class property_type : std::uint8_t {
    byte,       ///< one byte (number())
    two_byte,   ///< big-endian 16 bits (number())
    four_byte,  ///< big-endian 32 bits (number())
    varint,     ///< a variable byte integer, at most 268435455 (number())
    utf8,       ///< a UTF-8 string (text())
    binary,     ///< binary data (bytes())
    utf8_pair,  ///< two UTF-8 strings (text() the name, value() the value)
    unknown,    ///< not a property identifier
};

/// The value type of the property `id` (unknown for an identifier MQTT 5 does not define).
constexpr property_type type_of(property_id id) noexcept {
    switch (static_cast<unsigned>(id)) {
        case 0x01:
        case 0x17:
        case 0x19:
        case 0x24:
        case 0x25:
        case 0x28:
        case 0x29:
        case 0x2A: return property_type::byte;
        case 0x13:
        case 0x21:
        case 0x22:
        case 0x23: return property_type::two_byte;
        case 0x02:
        case 0x11:
        case 0x18:
        case 0x27: return property_type::four_byte;
        case 0x0B: return property_type::varint;
        case 0x03:
        case 0x08:
        case 0x12:
        case 0x15:
        case 0x1A:
        case 0x1C:
        case 0x1F: return property_type::utf8;
        case 0x09:
        case 0x16: return property_type::binary;
        case 0x26: return property_type::utf8_pair;
        default: return property_type::unknown;
    }
}

/// One property: its identifier and its value, views into the packet.
struct property {
    property_id id = property_id::payload_format_indicator;  ///< the identifier
    std::uint32_t number_value = 0;                          ///< the value of an integer type
    const_buffer data;                                       ///< a string's or binary value's bytes
    const_buffer pair_value;                                 ///< a user property's value

    /// The value type.
    property_type type() const noexcept { return type_of(id); }
    /// An integer property's value (byte, two-byte, four-byte, varint); 0 for the others.
    std::uint32_t number() const noexcept { return number_value; }
    /// A UTF-8 string property's text, or a user property's name.
    std::string_view text() const noexcept { return data.str(); }
    /// A binary property's bytes.
    const_buffer bytes() const noexcept { return data; }
    /// A user property's value.
    std::string_view value() const noexcept { return pair_value.str(); }
};

namespace detail {
/// Reads a variable byte integer (1..4 bytes, minimal or not, as 5.0 section 1.5.5 allows) at
/// `in[at]`; false when it overruns or has a fifth byte.
SOCKFRAME_DECL bool read_varint(const_buffer in, std::size_t& at, std::uint32_t& value) noexcept;
/// Reads the property at `in[at]` into `out` and moves `at` past it; false when it is not one
/// (unknown identifier, overrun, invalid UTF-8 or U+0000 in a string).
SOCKFRAME_DECL bool read_property(const_buffer in, std::size_t& at, property& out) noexcept;
}  // namespace detail

/// A forward iterator over checked properties.
class property_iterator {
public:
    /// Iterator category.
    using iterator_category = std::forward_iterator_tag;
    /// Element type.
    using value_type = property;
    /// Distance type.
    using difference_type = std::ptrdiff_t;
    /// Pointer type.
    using pointer = const property*;
    /// Reference type.
    using reference = const property&;

    property_iterator() noexcept = default;
    /// The property here.
    const property& operator*() const noexcept { return current_; }
    /// The property here, by pointer.
    const property* operator->() const noexcept { return &current_; }
    /// Moves to the next property.
    property_iterator& operator++() noexcept {
        at_ = next_;
        load();
        return *this;
    }
    /// Moves to the next property, returning the previous position.
    property_iterator operator++(int) noexcept {
        property_iterator old = *this;
        ++*this;
        return old;
    }
    /// Same position.
    friend bool operator==(const property_iterator& a, const property_iterator& b) noexcept {
        return a.at_ == b.at_;
    }
    /// Different positions.
    friend bool operator!=(const property_iterator& a, const property_iterator& b) noexcept {
        return a.at_ != b.at_;
    }

private:
    friend class properties;
    property_iterator(const_buffer bytes, std::size_t at) noexcept : bytes_(bytes), at_(at) { load(); }
    void load() noexcept {
        next_ = at_;
        if (at_ < bytes_.size() && !detail::read_property(bytes_, next_, current_))
            next_ = at_ = bytes_.size();
    }

    const_buffer bytes_;
    std::size_t at_ = 0;
    std::size_t next_ = 0;
    property current_;
};

/// A checked view of a packet's MQTT 5 properties (the bytes after their length): iterate it for
/// every property in wire order, or find() one. Valid as long as the packet's bytes.
class properties {
public:
    /// The iterator type.
    using iterator = property_iterator;

    /// No properties.
    properties() noexcept = default;

    /// Checks `bytes` (the properties without their length): every identifier known, every value
    /// inside, strings well-formed UTF-8 without U+0000, no identifier twice but the user
    /// property and the subscription identifier. malformed_frame otherwise (out is then empty).
    static std::error_code parse(const_buffer bytes, properties& out) noexcept {
        out = properties{};
        std::uint64_t seen = 0;  // identifiers are below 64
        std::size_t at = 0;
        property p;
        while (at < bytes.size()) {
            if (!detail::read_property(bytes, at, p)) return make_error_code(errc::malformed_frame);
            const auto id = static_cast<unsigned>(p.id);
            const bool repeats =
                p.id == property_id::user_property || p.id == property_id::subscription_identifier;
            if (!repeats && (seen >> id & 1u) != 0) return make_error_code(errc::malformed_frame);
            seen |= std::uint64_t{1} << id;
        }
        out.bytes_ = bytes;
        return {};
    }

    /// The properties' bytes on the wire (their length excluded).
    const_buffer bytes() const noexcept { return bytes_; }
    /// Whether there are none.
    bool empty() const noexcept { return bytes_.empty(); }
    /// The first property.
    iterator begin() const noexcept { return iterator(bytes_, 0); }
    /// Past the last property.
    iterator end() const noexcept { return iterator(bytes_, bytes_.size()); }
    /// The first property with identifier `id` into `out`; false when there is none.
    bool find(property_id id, property& out) const noexcept {
        for (const property& p : *this) {
            if (p.id == id) {
                out = p;
                return true;
            }
        }
        return false;
    }

private:
    const_buffer bytes_;
};

/// Builds MQTT 5 properties (without their length: the *_v5 builders write it). Each add
/// checks that the identifier has that value type, and returns invalid_argument otherwise (or
/// for a string above 65535 bytes, a varint above 268435455).
class property_writer {
public:
    /// An integer property (byte, two-byte, four-byte or varint, as `id` has).
    std::error_code add(property_id id, std::uint32_t value) {
        switch (type_of(id)) {
            case property_type::byte:
                if (value > 0xFF) return make_error_code(errc::invalid_argument);
                put_id(id);
                detail::put_byte(bytes_, value);
                return {};
            case property_type::two_byte:
                if (value > 0xFFFF) return make_error_code(errc::invalid_argument);
                put_id(id);
                detail::put_u16(bytes_, static_cast<std::uint16_t>(value));
                return {};
            case property_type::four_byte:
                put_id(id);
                detail::put_u16(bytes_, static_cast<std::uint16_t>(value >> 16));
                detail::put_u16(bytes_, static_cast<std::uint16_t>(value & 0xFFFFu));
                return {};
            case property_type::varint: {
                if (value > max_remaining_length) return make_error_code(errc::invalid_argument);
                put_id(id);
                std::byte field[4];
                detail::put_bytes(bytes_, field, detail::write_varint(value, field));
                return {};
            }
            default: return make_error_code(errc::invalid_argument);
        }
    }
    /// A UTF-8 string property, or a binary one (as `id` has).
    std::error_code add(property_id id, std::string_view text) {
        const property_type type = type_of(id);
        if ((type != property_type::utf8 && type != property_type::binary) || text.size() > 0xFFFF)
            return make_error_code(errc::invalid_argument);
        put_id(id);
        detail::put_string(bytes_, text);
        return {};
    }
    /// A user property (name and value).
    std::error_code add_user_property(std::string_view name, std::string_view value) {
        if (name.size() > 0xFFFF || value.size() > 0xFFFF) return make_error_code(errc::invalid_argument);
        put_id(property_id::user_property);
        detail::put_string(bytes_, name);
        detail::put_string(bytes_, value);
        return {};
    }
    /// The properties written (their length excluded).
    const_buffer bytes() const noexcept { return const_buffer{bytes_}; }
    /// Forgets them.
    void clear() noexcept { bytes_.clear(); }

private:
    void put_id(property_id id) { detail::put_byte(bytes_, static_cast<unsigned>(id)); }
    std::vector<std::byte> bytes_;
};

namespace detail {
/// Appends the properties' length and bytes; false above the varint's maximum.
SOCKFRAME_DECL bool put_properties(std::vector<std::byte>& out, const_buffer props);
/// Reads a properties field (varint length, then the properties) at r.at into `out`.
SOCKFRAME_DECL bool read_properties(reader& r, properties& out) noexcept;
}  // namespace detail

/// Appends an MQTT 5 CONNECT: connect_options (the Will as in 3.1.1), the CONNECT's properties and
/// the Will's properties (used only with a Will). Errors as build_connect.
SOCKFRAME_DECL std::error_code build_connect_v5(const connect_options& o, const property_writer& props,
                                                const property_writer& will_props,
                                                std::vector<std::byte>& out);

/// Reads an MQTT 5 CONNECT: as parse_connect (protocol level 5 expected: malformed_frame
/// otherwise), with its properties and the Will's (empty without a Will).
SOCKFRAME_DECL std::error_code parse_connect_v5(const packet& p, connect_request& out, properties& props,
                                                properties& will_props) noexcept;

/// Appends an MQTT 5 CONNACK: session-present flag, reason code (0 = success) and properties.
SOCKFRAME_DECL void build_connack_v5(bool session_present, std::uint8_t reason_code,
                                     const property_writer& props, std::vector<std::byte>& out);

/// Reads an MQTT 5 CONNACK: session-present flag, reason code and properties.
SOCKFRAME_DECL std::error_code parse_connack_v5(const packet& p, bool& session_present,
                                                std::uint8_t& reason_code, properties& props) noexcept;

/// Appends the head of an MQTT 5 PUBLISH (as build_publish_head, then the properties), without
/// its payload. A topic may be empty here when a Topic Alias property names it.
SOCKFRAME_DECL std::error_code build_publish_head_v5(std::string_view topic, std::uint8_t qos,
                                                     std::uint16_t packet_id, bool retain,
                                                     const property_writer& props,
                                                     std::vector<std::byte>& out);

/// Reads an MQTT 5 PUBLISH: as parse_publish (an empty topic allowed: a Topic Alias names it),
/// with its properties.
SOCKFRAME_DECL std::error_code parse_publish_v5(const packet& p, publish_message& out,
                                                properties& props) noexcept;

/// Appends an MQTT 5 SUBSCRIBE of one topic filter with its options byte (QoS in bits 0-1, No
/// Local 0x04, Retain As Published 0x08, Retain Handling bits 4-5) and properties;
/// invalid_argument for an empty or oversized filter, packet id 0, QoS 3, Retain Handling 3 or
/// reserved bits set.
SOCKFRAME_DECL std::error_code build_subscribe_v5(std::uint16_t packet_id, std::string_view topic_filter,
                                                  std::uint8_t options, const property_writer& props,
                                                  std::vector<std::byte>& out);

/// Reads an MQTT 5 SUBSCRIBE: packet id, properties and every topic filter with its options (`out`
/// as for parse_subscribe).
template <typename Subscriptions>
std::error_code parse_subscribe_v5(const packet& p, std::uint16_t& packet_id, Subscriptions& out,
                                   properties& props) {
    out.clear();
    props = properties{};
    if (p.type != packet_type::subscribe) return detail::malformed();
    detail::reader r{p.body};
    packet_id = r.u16();
    if (r.bad || packet_id == 0 || !detail::read_properties(r, props)) return detail::malformed();
    while (!r.bad && r.left() > 0) {
        subscription s;
        s.topic_filter = r.string();
        const unsigned options = r.byte();
        if (r.bad || s.topic_filter.empty() || (options & 3u) == 3 || (options & 0x30u) == 0x30 ||
            (options & 0xC0u) != 0)
            return detail::malformed();
        s.qos = static_cast<std::uint8_t>(options & 3u);
        s.options = static_cast<std::uint8_t>(options);
        out.push_back(s);
    }
    if (r.bad || out.empty()) return detail::malformed();
    return {};
}

}  // namespace mqtt

#if SOCKFRAME_HEADER_BODIES
// The bodies of the functions declared above (compiled once, in src/sockframe.cpp, with
// SOCKFRAME_SEPARATE_COMPILATION).
namespace mqtt {
namespace detail {

SOCKFRAME_DECL bool put_string(std::vector<std::byte>& out, std::string_view s) {
    if (s.size() > 0xFFFF) return false;
    put_u16(out, static_cast<std::uint16_t>(s.size()));
    put_bytes(out, s.data(), s.size());
    return true;
}

/// Reads a PUBLISH's flags, topic and packet identifier into `out` (both versions), leaving `r` at
/// what follows (MQTT 5's properties, or the payload): false for another packet type, QoS 3, a
/// field that overruns the body, a topic with a wildcard, or a packet identifier 0 with QoS > 0.
SOCKFRAME_DECL bool read_publish_head(const packet& p, publish_message& out, reader& r) noexcept {
    if (p.type != packet_type::publish) return false;
    out.qos = static_cast<std::uint8_t>((p.flags >> 1) & 3u);
    out.retain = (p.flags & 1u) != 0;
    out.dup = (p.flags & 8u) != 0;
    if (out.qos == 3) return false;
    out.topic = r.string();
    out.packet_id = out.qos > 0 ? r.u16() : std::uint16_t{0};
    if (r.bad || out.topic.find_first_of("+#") != std::string_view::npos) return false;
    return out.qos == 0 || out.packet_id != 0;
}

/// Reads the connect flags of a CONNECT already in `out` (both versions, section 3.1.2.3):
/// false for the reserved bit set, a Will QoS of 3, or Will QoS or RETAIN without the Will flag.
/// Empties the Will, user name and password fields, which read_connect_payload fills.
SOCKFRAME_DECL bool read_connect_flags(connect_request& out) noexcept {
    const unsigned flags = out.connect_flags;
    if ((flags & 0x01u) != 0) return false;  // reserved bit
    out.has_will = (flags & 0x04u) != 0;
    out.will_qos = static_cast<std::uint8_t>((flags >> 3) & 3u);
    out.will_retain = (flags & 0x20u) != 0;
    if (out.will_qos == 3 || (!out.has_will && (out.will_qos != 0 || out.will_retain))) return false;
    out.has_username = (flags & 0x80u) != 0;
    out.has_password = (flags & 0x40u) != 0;
    out.will_topic = {};
    out.will_message = {};
    out.username = {};
    out.password = {};
    return true;
}

/// Reads the rest of a CONNECT's body (after MQTT 5's Will properties): the Will topic and
/// message, the user name and the password, each where its flag says; false if a field overruns
/// the body, the Will topic is not a valid topic name, or bytes are left over.
SOCKFRAME_DECL bool read_connect_payload(reader& r, connect_request& out) noexcept {
    if (out.has_will) {
        out.will_topic = r.string();
        out.will_message = r.binary();
        if (r.bad || !valid_topic_name(out.will_topic)) return false;
    }
    if (out.has_username) out.username = r.string();
    if (out.has_password) out.password = r.binary();
    return !r.bad && r.left() == 0;
}
}  // namespace detail

SOCKFRAME_DECL std::error_code build_connect(const connect_options& o, std::vector<std::byte>& out) {
    if (!o.password.empty() && o.username.empty()) return make_error_code(errc::invalid_argument);
    if (o.client_id.size() > 0xFFFF || o.username.size() > 0xFFFF || o.password.size() > 0xFFFF)
        return make_error_code(errc::invalid_argument);
    const bool will = !o.will_topic.empty();
    if (will && (o.will_qos > 2 || !detail::valid_topic_name(o.will_topic) || o.will_message.size() > 0xFFFF))
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x10);
    detail::put_string(out, "MQTT");
    detail::put_byte(out, 4);
    unsigned flags = o.clean_session ? 0x02u : 0u;
    if (will) flags |= 0x04u | (static_cast<unsigned>(o.will_qos) << 3) | (o.will_retain ? 0x20u : 0u);
    if (!o.username.empty()) flags |= 0x80u;
    if (!o.password.empty()) flags |= 0x40u;
    detail::put_byte(out, flags);
    detail::put_u16(out, o.keep_alive);
    detail::put_string(out, o.client_id);
    if (will) {
        detail::put_string(out, o.will_topic);
        detail::put_u16(out, static_cast<std::uint16_t>(o.will_message.size()));
        detail::put_bytes(out, o.will_message.data(), o.will_message.size());
    }
    if (!o.username.empty()) detail::put_string(out, o.username);
    if (!o.password.empty()) detail::put_string(out, o.password);
    return {};
}

SOCKFRAME_DECL std::error_code parse_connect(const packet& p, connect_request& out) noexcept {
    if (p.type != packet_type::connect) return detail::malformed();
    detail::reader r{p.body};
    out.protocol_name = r.string();
    out.protocol_level = static_cast<std::uint8_t>(r.byte());
    out.connect_flags = static_cast<std::uint8_t>(r.byte());
    out.keep_alive = r.u16();
    out.client_id = r.string();
    if (r.bad || !detail::read_connect_flags(out)) return detail::malformed();
    if (out.has_password && !out.has_username) return detail::malformed();  // 3.1.1 section 3.1.2.9
    if (!detail::read_connect_payload(r, out)) return detail::malformed();
    return {};
}

SOCKFRAME_DECL void build_connack(bool session_present, std::uint8_t return_code,
                                  std::vector<std::byte>& out) {
    detail::put_byte(out, 0x20);
    detail::put_byte(out, session_present ? 1u : 0u);
    detail::put_byte(out, return_code);
}

SOCKFRAME_DECL std::error_code parse_connack(const packet& p, bool& session_present,
                                             std::uint8_t& return_code) noexcept {
    if (p.type != packet_type::connack || p.body.size() != 2) return detail::malformed();
    const auto flags = static_cast<unsigned>(p.body[0]);
    if ((flags & 0xFEu) != 0) return detail::malformed();
    session_present = flags != 0;
    return_code = static_cast<std::uint8_t>(p.body[1]);
    return {};
}

SOCKFRAME_DECL std::error_code build_publish_head(std::string_view topic, std::uint8_t qos,
                                                  std::uint16_t packet_id, bool retain,
                                                  std::vector<std::byte>& out) {
    if (qos > 2 || (qos > 0 && packet_id == 0) || topic.empty() || topic.size() > 0xFFFF ||
        topic.find_first_of("+#") != std::string_view::npos)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x30u | (static_cast<unsigned>(qos) << 1) | (retain ? 1u : 0u));
    detail::put_string(out, topic);
    if (qos > 0) detail::put_u16(out, packet_id);
    return {};
}

SOCKFRAME_DECL std::error_code build_publish(std::string_view topic, const_buffer payload, std::uint8_t qos,
                                             std::uint16_t packet_id, bool retain,
                                             std::vector<std::byte>& out) {
    if (auto ec = build_publish_head(topic, qos, packet_id, retain, out)) return ec;
    detail::put_bytes(out, payload.data(), payload.size());
    return {};
}

SOCKFRAME_DECL std::error_code parse_publish(const packet& p, publish_message& out) noexcept {
    detail::reader r{p.body};
    if (!detail::read_publish_head(p, out, r)) return detail::malformed();
    out.payload = p.body.subspan(r.at);
    return {};
}

SOCKFRAME_DECL std::error_code parse_packet_id(const packet& p, std::uint16_t& packet_id) noexcept {
    if (p.body.size() != 2) return detail::malformed();
    detail::reader r{p.body};
    packet_id = r.u16();
    if (packet_id == 0) return detail::malformed();
    return {};
}

SOCKFRAME_DECL std::error_code build_subscribe(std::uint16_t packet_id, std::string_view topic_filter,
                                               std::uint8_t qos, std::vector<std::byte>& out) {
    if (qos > 2 || packet_id == 0 || topic_filter.empty() || topic_filter.size() > 0xFFFF)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x82);
    detail::put_u16(out, packet_id);
    detail::put_string(out, topic_filter);
    detail::put_byte(out, qos);
    return {};
}

SOCKFRAME_DECL void build_suback(std::uint16_t packet_id, const_buffer return_codes,
                                 std::vector<std::byte>& out) {
    detail::put_byte(out, 0x90);
    detail::put_u16(out, packet_id);
    detail::put_bytes(out, return_codes.data(), return_codes.size());
}

SOCKFRAME_DECL std::error_code parse_suback(const packet& p, std::uint16_t& packet_id,
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

SOCKFRAME_DECL std::error_code build_unsubscribe(std::uint16_t packet_id, std::string_view topic_filter,
                                                 std::vector<std::byte>& out) {
    if (packet_id == 0 || topic_filter.empty() || topic_filter.size() > 0xFFFF)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0xA2);
    detail::put_u16(out, packet_id);
    detail::put_string(out, topic_filter);
    return {};
}

namespace detail {

SOCKFRAME_DECL bool read_varint(const_buffer in, std::size_t& at, std::uint32_t& value) noexcept {
    value = 0;
    for (unsigned i = 0; i < 4; ++i) {
        if (at >= in.size()) return false;
        const auto b = static_cast<unsigned>(in[at++]);
        value |= (b & 0x7Fu) << (7 * i);
        if ((b & 0x80u) == 0) return true;
    }
    return false;
}

SOCKFRAME_DECL bool read_property(const_buffer in, std::size_t& at, property& out) noexcept {
    std::uint32_t id = 0;
    if (!read_varint(in, at, id) || id > 0x7F) return false;
    out.id = static_cast<property_id>(id);
    out.number_value = 0;
    out.data = {};
    out.pair_value = {};
    reader r{in, at};
    switch (type_of(out.id)) {
        case property_type::byte: out.number_value = r.byte(); break;
        case property_type::two_byte: out.number_value = r.u16(); break;
        case property_type::four_byte: {
            const std::uint32_t hi = r.u16();
            out.number_value = (hi << 16) | r.u16();
            break;
        }
        case property_type::varint: {
            std::size_t pos = at;
            if (!read_varint(in, pos, out.number_value)) return false;
            r.at = pos;
            break;
        }
        case property_type::utf8: out.data = const_buffer{r.string()}; break;
        case property_type::binary: out.data = r.binary(); break;
        case property_type::utf8_pair:
            out.data = const_buffer{r.string()};
            out.pair_value = const_buffer{r.string()};
            break;
        case property_type::unknown: return false;
    }
    if (r.bad) return false;
    at = r.at;
    return true;
}

SOCKFRAME_DECL bool put_properties(std::vector<std::byte>& out, const_buffer props) {
    std::byte field[4];
    const std::size_t n = write_varint(props.size(), field);
    if (n == 0) return false;
    put_bytes(out, field, n);
    put_bytes(out, props.data(), props.size());
    return true;
}

SOCKFRAME_DECL bool read_properties(reader& r, properties& out) noexcept {
    std::uint32_t length = 0;
    std::size_t at = r.at;
    if (r.bad || !read_varint(r.in, at, length) || r.in.size() - at < length) return false;
    r.at = at + length;
    return !properties::parse(r.in.subspan(at, length), out);
}
}  // namespace detail

SOCKFRAME_DECL std::error_code build_connect_v5(const connect_options& o, const property_writer& props,
                                                const property_writer& will_props,
                                                std::vector<std::byte>& out) {
    std::vector<std::byte> v311;
    if (auto ec = build_connect(o, v311)) return ec;
    if (props.bytes().size() > max_remaining_length || will_props.bytes().size() > max_remaining_length)
        return make_error_code(errc::invalid_argument);
    // the 3.1.1 layout (first byte, "MQTT", level, flags, keep-alive, client id, Will, user name,
    // password) with level 5, the properties after keep-alive and the Will's before its topic
    detail::put_bytes(out, v311.data(), 7);  // first byte, "MQTT" with its length
    detail::put_byte(out, 5);
    detail::put_bytes(out, v311.data() + 8, 3);  // flags, keep-alive
    detail::put_properties(out, props.bytes());
    std::size_t at = 11 + 2 + o.client_id.size();
    detail::put_bytes(out, v311.data() + 11, at - 11);  // the client id
    if (!o.will_topic.empty()) {
        detail::put_properties(out, will_props.bytes());
        const std::size_t will = 2 + o.will_topic.size() + 2 + o.will_message.size();
        detail::put_bytes(out, v311.data() + at, will);
        at += will;
    }
    detail::put_bytes(out, v311.data() + at, v311.size() - at);  // user name, password
    return {};
}

SOCKFRAME_DECL std::error_code parse_connect_v5(const packet& p, connect_request& out, properties& props,
                                                properties& will_props) noexcept {
    props = will_props = properties{};
    if (p.type != packet_type::connect) return detail::malformed();
    detail::reader r{p.body};
    out.protocol_name = r.string();
    out.protocol_level = static_cast<std::uint8_t>(r.byte());
    out.connect_flags = static_cast<std::uint8_t>(r.byte());
    out.keep_alive = r.u16();
    if (r.bad || out.protocol_level != 5 || !detail::read_properties(r, props)) return detail::malformed();
    out.client_id = r.string();
    // MQTT 5 allows a password without a user name
    if (r.bad || !detail::read_connect_flags(out)) return detail::malformed();
    if (out.has_will && !detail::read_properties(r, will_props)) return detail::malformed();
    if (!detail::read_connect_payload(r, out)) return detail::malformed();
    return {};
}

SOCKFRAME_DECL void build_connack_v5(bool session_present, std::uint8_t reason_code,
                                     const property_writer& props, std::vector<std::byte>& out) {
    detail::put_byte(out, 0x20);
    detail::put_byte(out, session_present ? 1u : 0u);
    detail::put_byte(out, reason_code);
    detail::put_properties(out, props.bytes());
}

SOCKFRAME_DECL std::error_code parse_connack_v5(const packet& p, bool& session_present,
                                                std::uint8_t& reason_code, properties& props) noexcept {
    props = properties{};
    if (p.type != packet_type::connack) return detail::malformed();
    detail::reader r{p.body};
    const unsigned flags = r.byte();
    reason_code = static_cast<std::uint8_t>(r.byte());
    if (r.bad || (flags & 0xFEu) != 0) return detail::malformed();
    session_present = flags != 0;
    if (r.left() == 0) return {};  // no properties field: none (5.0 section 3.2.2.3)
    if (!detail::read_properties(r, props) || r.left() != 0) return detail::malformed();
    return {};
}

SOCKFRAME_DECL std::error_code build_publish_head_v5(std::string_view topic, std::uint8_t qos,
                                                     std::uint16_t packet_id, bool retain,
                                                     const property_writer& props,
                                                     std::vector<std::byte>& out) {
    if (qos > 2 || (qos > 0 && packet_id == 0) || topic.size() > 0xFFFF ||
        topic.find_first_of("+#") != std::string_view::npos || props.bytes().size() > max_remaining_length)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x30u | (static_cast<unsigned>(qos) << 1) | (retain ? 1u : 0u));
    detail::put_string(out, topic);
    if (qos > 0) detail::put_u16(out, packet_id);
    detail::put_properties(out, props.bytes());
    return {};
}

SOCKFRAME_DECL std::error_code parse_publish_v5(const packet& p, publish_message& out,
                                                properties& props) noexcept {
    props = properties{};
    detail::reader r{p.body};
    if (!detail::read_publish_head(p, out, r)) return detail::malformed();
    if (!detail::read_properties(r, props)) return detail::malformed();
    out.payload = p.body.subspan(r.at);
    return {};
}

SOCKFRAME_DECL std::error_code build_subscribe_v5(std::uint16_t packet_id, std::string_view topic_filter,
                                                  std::uint8_t options, const property_writer& props,
                                                  std::vector<std::byte>& out) {
    if ((options & 3u) == 3 || (options & 0x30u) == 0x30 || (options & 0xC0u) != 0 || packet_id == 0 ||
        topic_filter.empty() || topic_filter.size() > 0xFFFF || props.bytes().size() > max_remaining_length)
        return make_error_code(errc::invalid_argument);
    detail::put_byte(out, 0x82);
    detail::put_u16(out, packet_id);
    detail::put_properties(out, props.bytes());
    detail::put_string(out, topic_filter);
    detail::put_byte(out, options);
    return {};
}

}  // namespace mqtt
#endif  // SOCKFRAME_HEADER_BODIES

SOCKFRAME_NAMESPACE_END
