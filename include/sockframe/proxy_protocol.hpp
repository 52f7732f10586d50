// SPDX-License-Identifier: MIT
#pragma once
/// The PROXY protocol (HAProxy's specification, versions 1 and 2): the header a proxy sends at the
/// start of a connection to tell the server the original client's address. A sans-IO parser
/// (parse_proxy_header), encoders (make_proxy_header_v1, make_proxy_header_v2) and the list of
/// trusted proxy addresses a server accepts headers from (proxy_trust).
///
/// Only a header from a trusted proxy may be believed: anyone else could forge their source
/// address. framed_server applies that rule (server_options::proxy_protocol, server.hpp).

#include <sockframe/address.hpp>
#include <sockframe/codec.hpp>
#include <sockframe/detail/crc32c.hpp>
#include <sockframe/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

/// What the connection is, according to its header.
enum class proxy_command : std::uint8_t {
    /// Made by the proxy itself (a health check): the real endpoints are the connection's own.
    local = 0,
    /// Relayed on behalf of a client: the header carries the original addresses.
    proxy = 1,
};

/// The address family of the relayed connection.
enum class proxy_family : std::uint8_t {
    unspecified = 0,  ///< unknown (v1 UNKNOWN, v2 AF_UNSPEC): use the connection's own addresses
    inet = 1,         ///< IPv4 (v1 TCP4)
    inet6 = 2,        ///< IPv6 (v1 TCP6)
    local = 3,        ///< Unix-domain (v2 only): 108-byte paths
};

/// The transport protocol of the relayed connection.
enum class proxy_transport : std::uint8_t {
    unspecified = 0,  ///< unknown
    stream = 1,       ///< TCP, or a Unix stream socket
    datagram = 2,     ///< UDP, or a Unix datagram socket
};

/// Registered v2 TLV types (the PP2_TYPE_* names of the specification).
namespace proxy_tlv_type {
inline constexpr std::uint8_t alpn = 0x01;       ///< the negotiated application protocol
inline constexpr std::uint8_t authority = 0x02;  ///< the host name the client asked for (SNI)
inline constexpr std::uint8_t crc32c = 0x03;     ///< CRC-32C of the whole header (checked by the parser)
inline constexpr std::uint8_t noop = 0x04;       ///< padding, ignored
inline constexpr std::uint8_t unique_id = 0x05;  ///< an opaque connection identifier (up to 128 bytes)
inline constexpr std::uint8_t ssl = 0x20;        ///< TLS information (with sub-TLVs)
inline constexpr std::uint8_t netns = 0x30;      ///< the network namespace's name
}  // namespace proxy_tlv_type

/// One v2 TLV: its type and a view of its value (inside the parsed input).
struct proxy_tlv {
    std::uint8_t type = 0;  ///< the TLV's type (proxy_tlv_type)
    const_buffer value;     ///< its value bytes
};

/// The v2 signature: the first 12 bytes of every version 2 header.
inline constexpr std::array<std::uint8_t, 12> proxy_v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
/// Most bytes of a v1 header, CRLF included.
inline constexpr std::size_t proxy_v1_max_size = 107;
/// Most bytes of a v2 header: 16 fixed bytes and a 16-bit length.
inline constexpr std::size_t proxy_v2_max_size = 16 + 65535;

/// A parsed PROXY header. Addresses are copies; TLVs and Unix paths are views into the parsed
/// input (valid while it is).
struct proxy_header {
    int version = 2;                                           ///< 1 (text) or 2 (binary)
    proxy_command command = proxy_command::proxy;              ///< local or proxy
    proxy_family family = proxy_family::unspecified;           ///< the relayed connection's family
    proxy_transport transport = proxy_transport::unspecified;  ///< its transport
    std::array<std::uint8_t, 16> source_bytes{};               ///< inet: the first 4 bytes; inet6: all 16
    std::array<std::uint8_t, 16> destination_bytes{};          ///< as source_bytes
    std::uint16_t source_port = 0;                             ///< the client's port
    std::uint16_t destination_port = 0;                        ///< the port the client connected to
    const_buffer source_path;       ///< local family: the source path (up to its first NUL)
    const_buffer destination_path;  ///< local family: the destination path (up to its first NUL)
    const_buffer tlvs;              ///< v2: the TLV area after the addresses (whole TLVs only)
    std::size_t size = 0;           ///< bytes of the header on the wire

    /// Whether the header carries the original addresses (command proxy, family inet or inet6);
    /// otherwise the connection's own addresses are the real ones.
    bool has_addresses() const noexcept {
        return command == proxy_command::proxy &&
               (family == proxy_family::inet || family == proxy_family::inet6);
    }
    /// The original client's address and port (meaningful when has_addresses()).
    ip_address source() const noexcept { return make(source_bytes, source_port); }
    /// The address and port the client connected to (meaningful when has_addresses()).
    ip_address destination() const noexcept { return make(destination_bytes, destination_port); }

    /// A header relaying a TCP connection from `from` to `to` (both IPv4 or both IPv6; an
    /// IPv4-mapped IPv6 address counts as IPv4).
    static proxy_header tcp(const ip_address& from, const ip_address& to) noexcept {
        proxy_header h;
        h.command = proxy_command::proxy;
        h.transport = proxy_transport::stream;
        const ip_address a = from.unmapped(), b = to.unmapped();
        h.family = a.is_v4() ? proxy_family::inet : proxy_family::inet6;
        store(a, h.source_bytes);
        store(b, h.destination_bytes);
        h.source_port = a.port();
        h.destination_port = b.port();
        return h;
    }
    /// A LOCAL header (a connection the proxy made for itself, e.g. a health check).
    static proxy_header local_command() noexcept {
        proxy_header h;
        h.command = proxy_command::local;
        return h;
    }

    /// The first TLV of `type`, or one with an empty value and type 0 if there is none.
    proxy_tlv find_tlv(std::uint8_t type) const noexcept {
        const_buffer rest = tlvs;
        proxy_tlv t;
        while (next_tlv(rest, t))
            if (t.type == type) return t;
        return {};
    }
    /// Takes the TLV at the front of `rest` into `out` and advances `rest`; false at the end (or
    /// at a truncated TLV, which the parser never leaves in `tlvs`).
    static bool next_tlv(const_buffer& rest, proxy_tlv& out) noexcept {
        if (rest.size() < 3) return false;
        const std::size_t n =
            (std::to_integer<std::size_t>(rest[1]) << 8) | std::to_integer<std::size_t>(rest[2]);
        if (rest.size() - 3 < n) return false;
        out.type = std::to_integer<std::uint8_t>(rest[0]);
        out.value = rest.subspan(3, n);
        rest = rest.subspan(3 + n);
        return true;
    }

private:
    ip_address make(const std::array<std::uint8_t, 16>& b, std::uint16_t port) const noexcept {
        if (family == proxy_family::inet) return ipv4_address({b[0], b[1], b[2], b[3]}, port);
        return ipv6_address(b, port);
    }
    static void store(const ip_address& a, std::array<std::uint8_t, 16>& out) noexcept {
        out = {};
        if (a.is_v4()) {
            const auto v = a.v4().bytes();
            for (std::size_t i = 0; i < 4; ++i) out[i] = v[i];
        } else {
            out = a.v6().bytes();
        }
    }
};

namespace detail {

inline bool proxy_digit(std::byte b) noexcept { return b >= std::byte{'0'} && b <= std::byte{'9'}; }

/// A decimal number of at most `max`, no leading zero ("0" itself allowed).
inline bool proxy_number(std::string_view s, std::uint32_t max, std::uint32_t& out) noexcept {
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
    std::uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (v > max) return false;
    out = v;
    return true;
}

/// Dotted-quad IPv4 text as the specification requires: exactly four numbers 0-255, no leading zero.
SOCKFRAME_DECL bool proxy_ipv4(std::string_view s, std::array<std::uint8_t, 16>& out) noexcept;

inline int proxy_hex(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// IPv6 text as RFC 4291 writes it: groups of 1-4 hex digits separated by ':', at most one "::",
/// optionally ending in a dotted IPv4 tail (two groups: "::ffff:192.0.2.1"), 128 bits in all.
/// No zone ("%eth0"): the header carries addresses, not interfaces.
SOCKFRAME_DECL bool proxy_ipv6(std::string_view s, std::array<std::uint8_t, 16>& out) noexcept;

/// The text of an address's bytes, the same on every platform: dotted quad for IPv4; for IPv6
/// the RFC 5952 form in hex groups only (lower case, the longest run of two or more zero groups,
/// the first if tied, written "::"), which every RFC 4291 reader accepts.
SOCKFRAME_DECL std::string proxy_address_text(proxy_family family, const std::array<std::uint8_t, 16>& b);

inline decode_result proxy_bad(std::size_t at) noexcept {
    return decode_result::failure(make_error_code(errc::malformed_frame), at);
}

SOCKFRAME_DECL decode_result parse_proxy_v1(const_buffer input, proxy_header& out) noexcept;

inline std::uint16_t proxy_load16(const std::byte* p) noexcept {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                      std::to_integer<unsigned>(p[1]));
}

SOCKFRAME_DECL const_buffer proxy_path(const_buffer field) noexcept;

SOCKFRAME_DECL decode_result parse_proxy_v2(const_buffer input, proxy_header& out,
                                            std::size_t max_size) noexcept;

}  // namespace detail

/// What the first bytes of a connection are.
enum class proxy_detect : std::uint8_t {
    need_more,  ///< too few bytes to tell (they match the start of a signature so far)
    v1,         ///< "PROXY " (a version 1 header)
    v2,         ///< the 12-byte version 2 signature
    none,       ///< not a PROXY header
};

/// Tells from the first bytes of a connection whether it starts with a PROXY header.
SOCKFRAME_DECL proxy_detect detect_proxy_header(const_buffer input) noexcept;

/// Parses the PROXY header (v1 or v2) at the front of `input` into `out`.
///
/// Returns need_more until the header is complete; a frame result whose `consumed` is the
/// header's size (the connection's own data follows it); or an error, all with consumed 0 (the
/// specification says to abort the connection): malformed_frame for bytes that are not a header
/// or break its format (size = the offending position; 0 when there is no signature at all),
/// frame_too_large for a v2 header longer than `max_size` (size = its length), checksum_mismatch
/// for a CRC-32C TLV that does not match (size = the TLV value's position). A v1 line without
/// CRLF within 107 bytes is malformed_frame. `out` is written only on success.
inline decode_result parse_proxy_header(const_buffer input, proxy_header& out,
                                        std::size_t max_size = proxy_v2_max_size) noexcept {
    switch (detect_proxy_header(input)) {
        case proxy_detect::need_more: return decode_result::need_more();
        case proxy_detect::v1: return detail::parse_proxy_v1(input, out);
        case proxy_detect::v2: return detail::parse_proxy_v2(input, out, max_size);
        case proxy_detect::none: break;
    }
    return detail::proxy_bad(0);
}

/// The v1 text header for `h`: "PROXY TCP4|TCP6 src dst sport dport\r\n", or "PROXY UNKNOWN\r\n"
/// when `h` has no addresses (v1 has no LOCAL command; UNKNOWN stands for it).
SOCKFRAME_DECL std::string make_proxy_header_v1(const proxy_header& h);

/// The v2 binary header for `h` followed by the TLVs in `tlvs` (whole TLVs, copied as they are),
/// and, with `add_crc32c`, a CRC-32C TLV over the whole header. Throws system_error
/// (payload_too_large) when the header would exceed 65535 + 16 bytes.
inline std::vector<std::byte> make_proxy_header_v2(const proxy_header& h, const_buffer tlvs = {},
                                                   bool add_crc32c = false) {
    const bool addresses = h.command == proxy_command::proxy && h.family != proxy_family::unspecified;
    const std::size_t ip_size = h.family == proxy_family::inet ? 4 : 16;
    const std::size_t address_size = !addresses                        ? 0
                                     : h.family == proxy_family::local ? 2 * 108
                                                                       : 2 * ip_size + 4;
    const std::size_t total = 16 + address_size + tlvs.size() + (add_crc32c ? 7 : 0);
    if (total > proxy_v2_max_size)
        detail::throw_error(make_error_code(errc::payload_too_large),
                            "make_proxy_header_v2: header too long");
    // Sized once and written in place (no push_back: g++ 12 at -O2 misreads a vector grown from
    // a fixed start as written out of bounds, -Warray-bounds).
    std::vector<std::byte> out(total);
    std::byte* p = out.data();
    for (std::size_t i = 0; i < 12; ++i) p[i] = static_cast<std::byte>(proxy_v2_signature[i]);
    p[12] = static_cast<std::byte>(0x20u | static_cast<unsigned>(h.command));
    p[13] = addresses ? static_cast<std::byte>((static_cast<unsigned>(h.family) << 4) |
                                               static_cast<unsigned>(h.transport))
                      : std::byte{0};
    const auto length = static_cast<std::uint16_t>(total - 16);
    p[14] = static_cast<std::byte>(length >> 8);
    p[15] = static_cast<std::byte>(length & 0xFFu);
    std::size_t at = 16;
    auto put16 = [&](std::uint16_t v) {
        p[at++] = static_cast<std::byte>(v >> 8);
        p[at++] = static_cast<std::byte>(v & 0xFFu);
    };
    auto put_path = [&](const_buffer path) {  // 108 bytes, zero-filled (the vector starts zeroed)
        const std::size_t n = path.size() < 107 ? path.size() : 107;
        if (n != 0) std::memcpy(p + at, path.data(), n);
        at += 108;
    };
    if (addresses) {
        if (h.family == proxy_family::local) {
            put_path(h.source_path);
            put_path(h.destination_path);
        } else {
            for (std::size_t i = 0; i < ip_size; ++i) p[at++] = static_cast<std::byte>(h.source_bytes[i]);
            for (std::size_t i = 0; i < ip_size; ++i)
                p[at++] = static_cast<std::byte>(h.destination_bytes[i]);
            put16(h.source_port);
            put16(h.destination_port);
        }
    }
    if (!tlvs.empty()) std::memcpy(p + at, tlvs.data(), tlvs.size());
    at += tlvs.size();
    if (add_crc32c) {
        p[at++] = static_cast<std::byte>(proxy_tlv_type::crc32c);
        put16(4);  // the value stays zero while the checksum is taken
        const std::uint32_t crc = detail::crc32c_update(0, p, total);
        for (std::size_t i = 0; i < 4; ++i) p[at + i] = static_cast<std::byte>((crc >> (24 - 8 * i)) & 0xFFu);
    }
    return out;
}

/// The addresses whose PROXY headers a server believes: IP addresses and prefixes ("127.0.0.1",
/// "10.0.0.0/8", "::1", "fd00::/8"), and optionally every Unix-domain peer. Empty: nobody.
class proxy_trust {
public:
    /// Trusts nobody.
    proxy_trust() = default;
    /// Trusts 127.0.0.0/8 and ::1 (a proxy on the same host).
    static proxy_trust loopback() {
        proxy_trust t;
        t.add("127.0.0.0/8");
        t.add("::1");
        return t;
    }
    /// Adds an address or an address/prefix-length; throws system_error(bad_address) otherwise.
    void add(std::string_view text) {
        std::error_code ec;
        add(text, ec);
        detail::throw_if(ec, "proxy_trust: bad address or prefix");
    }
    /// The same, never throwing: `ec` is bad_address for text that does not parse.
    void add(std::string_view text, std::error_code& ec) {
        entry e;
        std::string_view host = text;
        std::size_t bits = std::string_view::npos;
        if (const auto slash = text.find('/'); slash != std::string_view::npos) {
            host = text.substr(0, slash);
            std::uint32_t v = 0;
            if (!detail::proxy_number(text.substr(slash + 1), 128, v)) {
                ec = make_error_code(errc::bad_address);
                return;
            }
            bits = v;
        }
        if (detail::proxy_ipv4(host, e.bytes)) {
            e.v4 = true;
            if (bits == std::string_view::npos) bits = 32;
            if (bits > 32) {
                ec = make_error_code(errc::bad_address);
                return;
            }
        } else if (detail::proxy_ipv6(host, e.bytes)) {
            if (bits == std::string_view::npos) bits = 128;
        } else {
            ec = make_error_code(errc::bad_address);
            return;
        }
        e.bits = bits;
        entries_.push_back(e);
        ec.clear();
    }
    /// Trusts (or not) every Unix-domain peer.
    void trust_local(bool yes = true) noexcept { local_ = yes; }
    /// Whether nothing is trusted.
    bool empty() const noexcept { return entries_.empty() && !local_; }

    /// Whether `peer` is trusted (an IPv4-mapped IPv6 address is matched as IPv4).
    bool trusts(const ip_address& peer) const noexcept {
        const ip_address a = peer.unmapped();
        std::array<std::uint8_t, 16> b{};
        if (a.is_v4()) {
            const auto v = a.v4().bytes();
            for (std::size_t i = 0; i < 4; ++i) b[i] = v[i];
        } else {
            b = a.v6().bytes();
        }
        for (const auto& e : entries_)
            if (e.v4 == a.is_v4() && match(e, b)) return true;
        return false;
    }
    /// An IPv4 peer.
    bool trusts(const ipv4_address& peer) const noexcept { return trusts(ip_address(peer)); }
    /// An IPv6 peer.
    bool trusts(const ipv6_address& peer) const noexcept { return trusts(ip_address(peer)); }
    /// A Unix-domain peer: trusted with trust_local().
    bool trusts(const local_address&) const noexcept { return local_; }
    /// A peer of any family.
    bool trusts(const any_address& peer) const noexcept {
        if (peer.is_local()) return local_;
        if (!peer.is_ip()) return false;
        return trusts(peer.ip());
    }

private:
    struct entry {
        std::array<std::uint8_t, 16> bytes{};
        std::size_t bits = 0;
        bool v4 = false;
    };
    static bool match(const entry& e, const std::array<std::uint8_t, 16>& b) noexcept {
        std::size_t bits = e.bits;
        for (std::size_t i = 0; bits > 0; ++i) {
            const unsigned take = bits >= 8 ? 8u : static_cast<unsigned>(bits);
            const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - take));
            if ((e.bytes[i] & mask) != (b[i] & mask)) return false;
            bits -= take;
        }
        return true;
    }

    std::vector<entry> entries_;
    bool local_ = false;
};

#if SOCKFRAME_HEADER_BODIES
// The bodies of the functions declared above (compiled once, in src/sockframe.cpp, with
// SOCKFRAME_SEPARATE_COMPILATION).
namespace detail {

SOCKFRAME_DECL bool proxy_ipv4(std::string_view s, std::array<std::uint8_t, 16>& out) noexcept {
    out = {};
    for (std::size_t part = 0; part < 4; ++part) {
        const std::size_t dot = part < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos || dot > 3) return false;
        std::uint32_t v = 0;
        if (!proxy_number(s.substr(0, dot), 255, v)) return false;
        out[part] = static_cast<std::uint8_t>(v);
        s = part < 3 ? s.substr(dot + 1) : std::string_view{};
    }
    return true;
}

SOCKFRAME_DECL bool proxy_ipv6(std::string_view s, std::array<std::uint8_t, 16>& out) noexcept {
    out = {};
    std::array<std::uint16_t, 8> head{}, tail{};
    std::size_t nh = 0, nt = 0;
    bool gap = false;
    auto push = [&](std::uint32_t v) noexcept {
        if (nh + nt == 8) return false;
        (gap ? tail[nt++] : head[nh++]) = static_cast<std::uint16_t>(v);
        return true;
    };
    if (s.size() < 2 || s.size() > 45) return false;
    std::size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':') return false;
        gap = true;
        i = 2;
    }
    while (i < s.size()) {
        const std::size_t start = i;
        std::uint32_t v = 0;
        std::size_t digits = 0;
        bool dotted = false;
        while (i < s.size() && s[i] != ':') {
            if (s[i] == '.') {
                dotted = true;
                break;
            }
            const int h = proxy_hex(s[i]);
            if (h < 0 || ++digits > 4) return false;
            v = v * 16 + static_cast<std::uint32_t>(h);
            ++i;
        }
        if (dotted) {  // the IPv4 tail is the rest of the text
            std::array<std::uint8_t, 16> v4{};
            if (!proxy_ipv4(s.substr(start), v4)) return false;
            if (!push((std::uint32_t{v4[0]} << 8) | v4[1]) || !push((std::uint32_t{v4[2]} << 8) | v4[3]))
                return false;
            break;
        }
        if (digits == 0 || !push(v)) return false;
        if (i == s.size()) break;
        ++i;  // ':'
        if (i < s.size() && s[i] == ':') {
            if (gap) return false;
            gap = true;
            ++i;
        } else if (i == s.size()) {
            return false;  // a single trailing ':'
        }
    }
    if (gap ? nh + nt > 7 : nh != 8) return false;
    std::array<std::uint16_t, 8> groups{};
    for (std::size_t k = 0; k < nh; ++k) groups[k] = head[k];
    for (std::size_t k = 0; k < nt; ++k) groups[8 - nt + k] = tail[k];
    for (std::size_t k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<std::uint8_t>(groups[k] >> 8);
        out[2 * k + 1] = static_cast<std::uint8_t>(groups[k] & 0xFFu);
    }
    return true;
}

SOCKFRAME_DECL std::string proxy_address_text(proxy_family family, const std::array<std::uint8_t, 16>& b) {
    std::string s;
    if (family == proxy_family::inet) {
        for (std::size_t k = 0; k < 4; ++k) {
            if (k != 0) s += '.';
            s += std::to_string(b[k]);
        }
        return s;
    }
    std::array<unsigned, 8> g{};
    for (std::size_t k = 0; k < 8; ++k) g[k] = (unsigned{b[2 * k]} << 8) | b[2 * k + 1];
    std::size_t best = 8, best_length = 1;
    for (std::size_t k = 0; k < 8;) {
        std::size_t run = 0;
        while (k + run < 8 && g[k + run] == 0) ++run;
        if (run > best_length) {
            best = k;
            best_length = run;
        }
        k += run == 0 ? 1 : run;
    }
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t k = 0; k < 8; ++k) {
        if (k == best) {
            s += "::";
            k += best_length - 1;
            continue;
        }
        if (k != 0 && k != best + best_length) s += ':';
        bool any = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned d = (g[k] >> shift) & 0xFu;
            if (d == 0 && !any && shift != 0) continue;
            any = true;
            s += digits[d];
        }
    }
    return s;
}

SOCKFRAME_DECL decode_result parse_proxy_v1(const_buffer input, proxy_header& out) noexcept {
    std::size_t end = 0;
    for (;; ++end) {
        if (end >= input.size()) {
            if (input.size() >= proxy_v1_max_size) return proxy_bad(proxy_v1_max_size);
            return decode_result::need_more();
        }
        if (end + 2 > proxy_v1_max_size) return proxy_bad(end);
        const std::byte b = input[end];
        if (b == std::byte{'\n'} || b == std::byte{0}) return proxy_bad(end);
        if (b == std::byte{'\r'}) {
            if (end + 1 >= input.size()) return decode_result::need_more();
            if (input[end + 1] != std::byte{'\n'}) return proxy_bad(end + 1);
            break;
        }
    }
    const std::string_view line(reinterpret_cast<const char*>(input.data()), end);
    std::array<std::string_view, 6> field{};
    std::size_t count = 0, start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i) {
        if (i == line.size() || line[i] == ' ') {
            if (count == field.size()) {
                if (field[1] == "UNKNOWN") break;  // anything may follow UNKNOWN
                return proxy_bad(i);
            }
            field[count++] = line.substr(start, i - start);
            start = i + 1;
        }
    }
    if (field[0] != "PROXY") return proxy_bad(0);
    proxy_header h;
    h.version = 1;
    h.command = proxy_command::proxy;
    h.size = end + 2;
    if (count >= 2 && field[1] == "UNKNOWN") {
        h.family = proxy_family::unspecified;
        out = h;
        return decode_result::frame(input.first(h.size), h.size);
    }
    if (count != 6) return proxy_bad(end);
    h.transport = proxy_transport::stream;
    bool ok = false;
    if (field[1] == "TCP4") {
        h.family = proxy_family::inet;
        ok = proxy_ipv4(field[2], h.source_bytes) && proxy_ipv4(field[3], h.destination_bytes);
    } else if (field[1] == "TCP6") {
        h.family = proxy_family::inet6;
        ok = proxy_ipv6(field[2], h.source_bytes) && proxy_ipv6(field[3], h.destination_bytes);
    } else {
        return proxy_bad(6);
    }
    if (!ok) return proxy_bad(6 + field[1].size());
    std::uint32_t sp = 0, dp = 0;
    if (!proxy_number(field[4], 65535, sp) || !proxy_number(field[5], 65535, dp)) return proxy_bad(end);
    h.source_port = static_cast<std::uint16_t>(sp);
    h.destination_port = static_cast<std::uint16_t>(dp);
    out = h;
    return decode_result::frame(input.first(h.size), h.size);
}

SOCKFRAME_DECL const_buffer proxy_path(const_buffer field) noexcept {
    std::size_t n = 0;
    while (n < field.size() && field[n] != std::byte{0}) ++n;
    return field.first(n);
}

SOCKFRAME_DECL decode_result parse_proxy_v2(const_buffer input, proxy_header& out,
                                            std::size_t max_size) noexcept {
    if (input.size() < 16) return decode_result::need_more();
    const unsigned ver_cmd = std::to_integer<unsigned>(input[12]);
    if ((ver_cmd >> 4) != 2) return proxy_bad(12);
    if ((ver_cmd & 0xFu) > 1) return proxy_bad(12);
    const unsigned fam = std::to_integer<unsigned>(input[13]);
    if ((fam >> 4) > 3 || (fam & 0xFu) > 2) return proxy_bad(13);
    const std::size_t total = 16 + std::size_t{proxy_load16(input.data() + 14)};
    if (total > max_size) return decode_result::failure(make_error_code(errc::frame_too_large), total);
    if (input.size() < total) return decode_result::need_more();
    proxy_header h;
    h.version = 2;
    h.command = static_cast<proxy_command>(ver_cmd & 0xFu);
    h.family = static_cast<proxy_family>(fam >> 4);
    h.transport = static_cast<proxy_transport>(fam & 0xFu);
    h.size = total;
    const_buffer block = input.subspan(16, total - 16);
    std::size_t addresses = 0;
    switch (h.family) {
        case proxy_family::inet: addresses = 12; break;
        case proxy_family::inet6: addresses = 36; break;
        case proxy_family::local: addresses = 216; break;
        case proxy_family::unspecified: addresses = block.size(); break;  // no known layout: skip all
    }
    if (block.size() < addresses) {
        if (h.command == proxy_command::proxy) return proxy_bad(16 + block.size());
        addresses = block.size();  // LOCAL: the address block is ignored anyway
        h.family = proxy_family::unspecified;
    }
    const std::byte* a = block.data();
    if (h.family == proxy_family::inet) {
        for (std::size_t i = 0; i < 4; ++i) {
            h.source_bytes[i] = std::to_integer<std::uint8_t>(a[i]);
            h.destination_bytes[i] = std::to_integer<std::uint8_t>(a[4 + i]);
        }
        h.source_port = proxy_load16(a + 8);
        h.destination_port = proxy_load16(a + 10);
    } else if (h.family == proxy_family::inet6) {
        for (std::size_t i = 0; i < 16; ++i) {
            h.source_bytes[i] = std::to_integer<std::uint8_t>(a[i]);
            h.destination_bytes[i] = std::to_integer<std::uint8_t>(a[16 + i]);
        }
        h.source_port = proxy_load16(a + 32);
        h.destination_port = proxy_load16(a + 34);
    } else if (h.family == proxy_family::local) {
        h.source_path = proxy_path(block.subspan(0, 108));
        h.destination_path = proxy_path(block.subspan(108, 108));
    }
    h.tlvs = block.subspan(addresses);
    // Every TLV whole; a CRC-32C TLV checked over the header with its value taken as zero.
    const_buffer rest = h.tlvs;
    proxy_tlv t;
    while (proxy_header::next_tlv(rest, t)) {
        if (t.type != proxy_tlv_type::crc32c) continue;
        const std::size_t at = static_cast<std::size_t>(t.value.data() - input.data());
        if (t.value.size() != 4) return proxy_bad(at);
        const std::byte zero[4] = {};
        std::uint32_t crc = crc32c_update(0, input.data(), at);
        crc = crc32c_update(crc, zero, 4);
        crc = crc32c_update(crc, input.data() + at + 4, total - at - 4);
        const std::uint32_t sent =
            (std::uint32_t{proxy_load16(t.value.data())} << 16) | proxy_load16(t.value.data() + 2);
        if (crc != sent) return decode_result::failure(make_error_code(errc::checksum_mismatch), at);
    }
    if (!rest.empty()) return proxy_bad(total - rest.size());
    out = h;
    return decode_result::frame(input.first(total), total);
}
}  // namespace detail

SOCKFRAME_DECL proxy_detect detect_proxy_header(const_buffer input) noexcept {
    static constexpr char v1[] = "PROXY ";
    bool v1_ok = true, v2_ok = true;
    for (std::size_t i = 0; i < input.size() && (v1_ok || v2_ok); ++i) {
        const auto b = std::to_integer<std::uint8_t>(input[i]);
        if (i >= 6 || static_cast<char>(b) != v1[i]) v1_ok = v1_ok && i >= 6;
        if (i < 12 && b != proxy_v2_signature[i]) v2_ok = false;
        if (i >= 12) break;
    }
    if (v1_ok && input.size() >= 6) return proxy_detect::v1;
    if (v2_ok && input.size() >= 12) return proxy_detect::v2;
    if (v1_ok || v2_ok) return proxy_detect::need_more;
    return proxy_detect::none;
}

SOCKFRAME_DECL std::string make_proxy_header_v1(const proxy_header& h) {
    if (!h.has_addresses()) return "PROXY UNKNOWN\r\n";
    std::string s = h.family == proxy_family::inet ? "PROXY TCP4 " : "PROXY TCP6 ";
    s += detail::proxy_address_text(h.family, h.source_bytes);
    s += ' ';
    s += detail::proxy_address_text(h.family, h.destination_bytes);
    s += ' ';
    s += std::to_string(h.source_port);
    s += ' ';
    s += std::to_string(h.destination_port);
    s += "\r\n";
    return s;
}
#endif  // SOCKFRAME_HEADER_BODIES

SOCKFRAME_NAMESPACE_END
