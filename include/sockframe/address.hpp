// SPDX-License-Identifier: MIT
#pragma once
/// Socket addresses: ipv4_address, ipv6_address (address + port), ip_address (either, chosen at
/// run time), local_address (Unix paths and Linux abstract names) and any_address (any of them).

#include <sockframe/detail/os.hpp>
#include <sockframe/error.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <string>
#include <string_view>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
/// Parses a decimal port 0..65535 with no sign, spaces or trailing bytes.
inline bool parse_port(std::string_view text, std::uint16_t& port) noexcept {
    if (text.empty() || text.size() > 5) return false;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}
}  // namespace detail

/// An IPv4 address and port (a sockaddr_in). Default: 0.0.0.0 port 0.
class ipv4_address {
public:
    /// The address's four bytes, in network order (192.0.2.1 is {192, 0, 2, 1}).
    using bytes_type = std::array<std::uint8_t, 4>;

    ipv4_address() noexcept { storage_.sin_family = AF_INET; }
    /// The address `bytes`, port `port`.
    ipv4_address(const bytes_type& bytes, std::uint16_t port) noexcept : ipv4_address() {
        std::memcpy(&storage_.sin_addr, bytes.data(), 4);
        storage_.sin_port = detail::to_network(port);
    }

    /// 0.0.0.0 (every interface).
    static ipv4_address any(std::uint16_t port = 0) noexcept { return {{0, 0, 0, 0}, port}; }
    /// 127.0.0.1.
    static ipv4_address loopback(std::uint16_t port = 0) noexcept { return {{127, 0, 0, 1}, port}; }
    /// 255.255.255.255 (limited broadcast; needs the broadcast option).
    static ipv4_address broadcast(std::uint16_t port = 0) noexcept { return {{255, 255, 255, 255}, port}; }

    /// Parses dotted-quad text ("192.0.2.1"); anything else is errc::bad_address.
    static ipv4_address parse(std::string_view host, std::uint16_t port, std::error_code& ec) noexcept;
    /// parse(host, port, ec), throwing std::system_error(errc::bad_address) instead.
    static ipv4_address parse(std::string_view host, std::uint16_t port);
    /// Parses "host:port" ("127.0.0.1:8080").
    static ipv4_address parse(std::string_view text, std::error_code& ec) noexcept;
    /// parse(text, ec), throwing std::system_error(errc::bad_address) instead.
    static ipv4_address parse(std::string_view text);

    /// The port.
    std::uint16_t port() const noexcept { return detail::from_network(storage_.sin_port); }
    /// Sets the port.
    void port(std::uint16_t p) noexcept { storage_.sin_port = detail::to_network(p); }
    /// The four address bytes, in network order.
    bytes_type bytes() const noexcept {
        bytes_type b{};
        std::memcpy(b.data(), &storage_.sin_addr, 4);
        return b;
    }
    /// Whether this is 127.0.0.0/8.
    bool is_loopback() const noexcept { return bytes()[0] == 127; }
    /// Whether this is 0.0.0.0.
    bool is_any() const noexcept { return bytes() == bytes_type{}; }
    /// The address without the port ("127.0.0.1").
    std::string host() const;
    /// "127.0.0.1:8080".
    std::string to_string() const;

    /// The native sockaddr, for calls sockframe does not wrap.
    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    /// The native sockaddr, for a system call to fill in (see capacity()).
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    /// The size of the native sockaddr.
    detail::socklen_type size() const noexcept { return static_cast<detail::socklen_type>(sizeof storage_); }
    /// The most bytes a system call may write at data().
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_in));
    }
    /// Checks an address the OS filled in (accept, getsockname, recvfrom).
    bool assign_native(detail::socklen_type length) noexcept {
        return length >= static_cast<detail::socklen_type>(sizeof storage_) && storage_.sin_family == AF_INET;
    }

    friend bool operator==(const ipv4_address& a, const ipv4_address& b) noexcept {
        return a.bytes() == b.bytes() && a.port() == b.port();
    }
    friend bool operator!=(const ipv4_address& a, const ipv4_address& b) noexcept { return !(a == b); }
    friend bool operator<(const ipv4_address& a, const ipv4_address& b) noexcept {
        return a.bytes() != b.bytes() ? a.bytes() < b.bytes() : a.port() < b.port();
    }
    template <typename Char, typename Traits>
    friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os,
                                                        const ipv4_address& a) {
        return os << a.to_string();
    }

private:
    ::sockaddr_in storage_{};
};

/// An IPv6 address, port and scope id (a sockaddr_in6). Default: :: port 0.
class ipv6_address {
public:
    /// The address's sixteen bytes, in network order.
    using bytes_type = std::array<std::uint8_t, 16>;

    ipv6_address() noexcept { storage_.sin6_family = AF_INET6; }
    /// The address `bytes`, port `port`, and the zone (interface index) `scope_id` of a link-local address.
    ipv6_address(const bytes_type& bytes, std::uint16_t port, std::uint32_t scope_id = 0) noexcept
        : ipv6_address() {
        std::memcpy(&storage_.sin6_addr, bytes.data(), 16);
        storage_.sin6_port = detail::to_network(port);
        storage_.sin6_scope_id = scope_id;
    }

    /// :: (every interface).
    static ipv6_address any(std::uint16_t port = 0) noexcept { return {bytes_type{}, port}; }
    /// ::1.
    static ipv6_address loopback(std::uint16_t port = 0) noexcept {
        bytes_type b{};
        b[15] = 1;
        return {b, port};
    }

    /// Parses IPv6 text ("::1", "fe80::1%2" or "fe80::1%eth0" with a scope); else errc::bad_address.
    static ipv6_address parse(std::string_view host, std::uint16_t port, std::error_code& ec) noexcept;
    /// parse(host, port, ec), throwing std::system_error(errc::bad_address) instead.
    static ipv6_address parse(std::string_view host, std::uint16_t port);
    /// Parses "[host]:port" ("[::1]:8080").
    static ipv6_address parse(std::string_view text, std::error_code& ec) noexcept;
    /// parse(text, ec), throwing std::system_error(errc::bad_address) instead.
    static ipv6_address parse(std::string_view text);

    /// The port.
    std::uint16_t port() const noexcept { return detail::from_network(storage_.sin6_port); }
    /// Sets the port.
    void port(std::uint16_t p) noexcept { storage_.sin6_port = detail::to_network(p); }
    /// The scope (interface) id; 0 for none.
    std::uint32_t scope_id() const noexcept { return storage_.sin6_scope_id; }
    /// Sets the scope id.
    void scope_id(std::uint32_t id) noexcept { storage_.sin6_scope_id = id; }
    /// The sixteen address bytes, in network order.
    bytes_type bytes() const noexcept {
        bytes_type b{};
        std::memcpy(b.data(), &storage_.sin6_addr, 16);
        return b;
    }
    /// Whether this is ::1.
    bool is_loopback() const noexcept { return *this == loopback(port()); }
    /// Whether this is ::.
    bool is_any() const noexcept { return bytes() == bytes_type{}; }
    /// Whether this is an IPv4-mapped address (`0:0:0:0:0:ffff:a.b.c.d`).
    bool is_v4_mapped() const noexcept {
        auto b = bytes();
        for (std::size_t i = 0; i < 10; ++i)
            if (b[i] != 0) return false;
        return b[10] == 0xff && b[11] == 0xff;
    }
    /// The address without the port ("::1", "fe80::1%2").
    std::string host() const;
    /// "[::1]:8080".
    std::string to_string() const;

    /// The native sockaddr (sockaddr_in6), for a system call.
    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    /// The native sockaddr, for a system call to fill in (see capacity()).
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    /// The size of the native sockaddr.
    detail::socklen_type size() const noexcept { return static_cast<detail::socklen_type>(sizeof storage_); }
    /// The most bytes a system call may write at data().
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_in6));
    }
    /// Takes the `length` bytes a system call wrote at data(); false if they are not an IPv6 address.
    bool assign_native(detail::socklen_type length) noexcept {
        return length >= static_cast<detail::socklen_type>(sizeof storage_) &&
               storage_.sin6_family == AF_INET6;
    }

    friend bool operator==(const ipv6_address& a, const ipv6_address& b) noexcept {
        return a.bytes() == b.bytes() && a.port() == b.port() && a.scope_id() == b.scope_id();
    }
    friend bool operator!=(const ipv6_address& a, const ipv6_address& b) noexcept { return !(a == b); }
    friend bool operator<(const ipv6_address& a, const ipv6_address& b) noexcept {
        if (a.bytes() != b.bytes()) return a.bytes() < b.bytes();
        if (a.port() != b.port()) return a.port() < b.port();
        return a.scope_id() < b.scope_id();
    }
    template <typename Char, typename Traits>
    friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os,
                                                        const ipv6_address& a) {
        return os << a.to_string();
    }

private:
    static bool parse_scope(std::string_view scope, std::uint32_t& id) noexcept;

    ::sockaddr_in6 storage_{};
};

/// An IPv4 or IPv6 address with a port, the family chosen at run time (what the runtime `ip`
/// family uses): from a parsed text, a resolved name, or either fixed-family address. Default:
/// :: port 0 (every interface, both families on a dual-stack socket).
class ip_address {
public:
    ip_address() noexcept : ip_address(ipv6_address::any(0)) {}
    /// An IPv4 address.
    ip_address(const ipv4_address& a) noexcept {  // NOLINT(google-explicit-constructor)
        std::memcpy(&storage_, a.data(), sizeof(::sockaddr_in));
    }
    /// An IPv6 address.
    ip_address(const ipv6_address& a) noexcept {  // NOLINT(google-explicit-constructor)
        std::memcpy(&storage_, a.data(), sizeof(::sockaddr_in6));
    }

    /// :: (every interface; with IPV6_V6ONLY off, IPv4 ones too).
    static ip_address any(std::uint16_t port = 0) noexcept { return ipv6_address::any(port); }

    /// Parses IPv4 ("192.0.2.1") or IPv6 ("::1", "fe80::1%eth0") text; else errc::bad_address.
    static ip_address parse(std::string_view host, std::uint16_t port, std::error_code& ec) noexcept;
    /// Throwing parse(host, port).
    static ip_address parse(std::string_view host, std::uint16_t port);
    /// Parses "192.0.2.1:80" or "[::1]:80".
    static ip_address parse(std::string_view text, std::error_code& ec) noexcept;
    /// Throwing parse(text).
    static ip_address parse(std::string_view text);

    /// AF_INET or AF_INET6.
    int family() const noexcept { return storage_.v4.sin_family; }
    /// Whether this is an IPv4 address.
    bool is_v4() const noexcept { return family() == AF_INET; }
    /// Whether this is an IPv6 address (IPv4-mapped ones included).
    bool is_v6() const noexcept { return family() == AF_INET6; }
    /// The IPv4 address (meaningful when is_v4()).
    ipv4_address v4() const noexcept {
        ipv4_address a;
        if (is_v4()) std::memcpy(a.data(), &storage_.v4, sizeof(::sockaddr_in));
        return a;
    }
    /// The IPv6 address (meaningful when is_v6()).
    ipv6_address v6() const noexcept {
        ipv6_address a;
        if (is_v6()) std::memcpy(a.data(), &storage_.v6, sizeof(::sockaddr_in6));
        return a;
    }
    /// An IPv4-mapped IPv6 address (`0:0:0:0:0:ffff:192.0.2.1`, how a dual-stack socket sees IPv4 peers)
    /// as the IPv4 address it stands for; any other address unchanged.
    ip_address unmapped() const noexcept;

    /// The port.
    std::uint16_t port() const noexcept { return is_v4() ? v4().port() : v6().port(); }
    /// Sets the port.
    void port(std::uint16_t p) noexcept {
        if (is_v4())
            storage_.v4.sin_port = detail::to_network(p);
        else
            storage_.v6.sin6_port = detail::to_network(p);
    }
    /// Whether this is a loopback address (127.0.0.0/8 or ::1).
    bool is_loopback() const noexcept { return is_v4() ? v4().is_loopback() : v6().is_loopback(); }
    /// Whether this is the wildcard address (0.0.0.0 or ::).
    bool is_any() const noexcept { return is_v4() ? v4().is_any() : v6().is_any(); }
    /// The address without the port.
    std::string host() const { return is_v4() ? v4().host() : v6().host(); }
    /// "192.0.2.1:80" or "[::1]:80".
    std::string to_string() const { return is_v4() ? v4().to_string() : v6().to_string(); }

    /// The native sockaddr, for calls sockframe does not wrap.
    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    /// The native sockaddr, for calls sockframe does not wrap.
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    /// The native length of this address.
    detail::socklen_type size() const noexcept {
        return static_cast<detail::socklen_type>(is_v4() ? sizeof(::sockaddr_in) : sizeof(::sockaddr_in6));
    }
    /// The most a native address of this type takes.
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_in6));
    }
    /// Checks an address the OS filled in.
    bool assign_native(detail::socklen_type length) noexcept {
        if (is_v4()) return length >= static_cast<detail::socklen_type>(sizeof(::sockaddr_in));
        return is_v6() && length >= static_cast<detail::socklen_type>(sizeof(::sockaddr_in6));
    }

    /// Same family, address, port (and scope).
    friend bool operator==(const ip_address& a, const ip_address& b) noexcept {
        if (a.family() != b.family()) return false;
        return a.is_v4() ? a.v4() == b.v4() : a.v6() == b.v6();
    }
    /// Not equal.
    friend bool operator!=(const ip_address& a, const ip_address& b) noexcept { return !(a == b); }
    /// IPv4 before IPv6, then by address and port.
    friend bool operator<(const ip_address& a, const ip_address& b) noexcept {
        if (a.family() != b.family()) return a.is_v4();
        return a.is_v4() ? a.v4() < b.v4() : a.v6() < b.v6();
    }
    /// Prints to_string().
    template <typename Char, typename Traits>
    friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os,
                                                        const ip_address& a) {
        return os << a.to_string();
    }

private:
    union storage {
        ::sockaddr_in v4;
        ::sockaddr_in6 v6;
    } storage_{};
};

#if defined(SOCKFRAME_HAS_AF_UNIX)
/// A Unix-domain address: a filesystem path, a Linux abstract name, or unnamed (an unbound or
/// socketpair socket). Paths longer than sun_path are errc::bad_address, never cut.
class local_address {
public:
    /// The unnamed address.
    local_address() noexcept;
    /// A filesystem path; throws std::system_error(errc::bad_address) if too long or it holds NUL.
    explicit local_address(std::string_view path);
    /// A filesystem path, never throwing.
    static local_address path(std::string_view path, std::error_code& ec) noexcept;
    /// A Linux abstract-namespace name (no file; vanishes with the last socket). Elsewhere:
    /// errc::not_supported.
    static local_address abstract(std::string_view name, std::error_code& ec) noexcept;
    /// abstract(name, ec), throwing std::system_error(errc::bad_address) instead.
    static local_address abstract(std::string_view name);

    /// Whether the address is unnamed (an unbound or socketpair socket).
    bool is_unnamed() const noexcept { return length_ <= path_offset(); }
    /// Whether this is a Linux abstract name.
    bool is_abstract() const noexcept { return !is_unnamed() && storage_.sun_path[0] == '\0'; }
    /// The filesystem path, or the abstract name (without its leading NUL); empty when unnamed.
    std::string_view name() const noexcept;
    /// The path, "@name" for an abstract name, or "" for unnamed.
    std::string to_string() const;

    /// The native sockaddr (sockaddr_un), for a system call.
    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    /// The native sockaddr, for a system call to fill in (see capacity()).
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    /// The length of the native sockaddr that names this address (path or abstract name included).
    detail::socklen_type size() const noexcept { return length_; }
    /// The most bytes a system call may write at data().
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_un));
    }
    /// Takes the `length` bytes a system call wrote at data(); false if they are not a Unix-domain address.
    bool assign_native(detail::socklen_type length) noexcept {
        if (length > capacity()) return false;
        length_ = length < path_offset() ? path_offset() : length;
#if defined(SOCKFRAME_WINDOWS)
        if (storage_.sun_path[0] == '\0') length_ = path_offset();  // no abstract names: unnamed
#endif
        storage_.sun_family = AF_UNIX;
        return true;
    }

    friend bool operator==(const local_address& a, const local_address& b) noexcept {
        return a.is_abstract() == b.is_abstract() && a.name() == b.name();
    }
    friend bool operator!=(const local_address& a, const local_address& b) noexcept { return !(a == b); }
    template <typename Char, typename Traits>
    friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os,
                                                        const local_address& a) {
        return os << a.to_string();
    }

private:
    static constexpr detail::socklen_type path_offset() noexcept {
        return static_cast<detail::socklen_type>(offsetof(::sockaddr_un, sun_path));
    }
    void assign_path(std::string_view path, std::error_code& ec) noexcept;

    ::sockaddr_un storage_{};
    detail::socklen_type length_;
};
#endif

/// Any socket address: IPv4, IPv6 or (where the system has it) Unix domain, the family known
/// only at run time. The address type of the `any_family` family, so that one listener, stream
/// or handler type serves TCP and Unix sockets alike (any_stream). Default: unspecified.
class any_address {
public:
    any_address() noexcept { storage_.ss_family = AF_UNSPEC; }
    /// From an IPv4 address.
    any_address(const ipv4_address& a) noexcept { assign(a.data(), a.size()); }  // NOLINT
    /// From an IPv6 address.
    any_address(const ipv6_address& a) noexcept { assign(a.data(), a.size()); }  // NOLINT
    /// From an IPv4 or IPv6 address.
    any_address(const ip_address& a) noexcept { assign(a.data(), a.size()); }  // NOLINT
#if defined(SOCKFRAME_HAS_AF_UNIX)
    /// From a Unix-domain address.
    any_address(const local_address& a) noexcept { assign(a.data(), a.size()); }  // NOLINT
#endif

    /// AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC.
    int family() const noexcept { return storage_.ss_family; }
    /// Whether this is an IPv4 or IPv6 address.
    bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
    /// The IP address (meaningful when is_ip()).
    ip_address ip() const noexcept {
        if (family() == AF_INET) return as<ipv4_address>();
        if (family() == AF_INET6) return as<ipv6_address>();
        return {};
    }
#if defined(SOCKFRAME_HAS_AF_UNIX)
    /// Whether this is a Unix-domain address.
    bool is_local() const noexcept { return family() == AF_UNIX; }
    /// The Unix-domain address (meaningful when is_local()).
    local_address local() const noexcept {
        local_address a;
        if (is_local() && length_ <= local_address::capacity()) {
            std::memcpy(a.data(), &storage_, static_cast<std::size_t>(length_));
            a.assign_native(length_);
        }
        return a;
    }
#endif
    /// The address as text, as its own type prints it ("" when unspecified).
    std::string to_string() const;

    /// The native sockaddr.
    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    /// The native sockaddr.
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    /// The native length.
    detail::socklen_type size() const noexcept { return length_; }
    /// The most a native address takes (sockaddr_storage).
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_storage));
    }
    /// Checks an address the OS filled in.
    bool assign_native(detail::socklen_type length) noexcept {
        if (length > capacity()) return false;
        length_ = length;
        switch (family()) {
            case AF_INET: return length >= static_cast<detail::socklen_type>(sizeof(::sockaddr_in));
            case AF_INET6: return length >= static_cast<detail::socklen_type>(sizeof(::sockaddr_in6));
#if defined(SOCKFRAME_HAS_AF_UNIX)
            case AF_UNIX: return length <= local_address::capacity();
#endif
            default: return false;
        }
    }

    /// Same family and address.
    friend bool operator==(const any_address& a, const any_address& b) noexcept {
        if (a.family() != b.family()) return false;
        if (a.is_ip()) return a.ip() == b.ip();
#if defined(SOCKFRAME_HAS_AF_UNIX)
        if (a.is_local()) return a.local() == b.local();
#endif
        return true;
    }
    /// Not equal.
    friend bool operator!=(const any_address& a, const any_address& b) noexcept { return !(a == b); }
    /// Prints to_string().
    template <typename Char, typename Traits>
    friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os,
                                                        const any_address& a) {
        return os << a.to_string();
    }

private:
    template <typename Address>
    Address as() const noexcept {
        Address a;
        std::memcpy(a.data(), &storage_, static_cast<std::size_t>(Address::capacity()));
        return a;
    }
    void assign(const ::sockaddr* address, detail::socklen_type length) noexcept {
        std::memcpy(&storage_, address, static_cast<std::size_t>(length));
        length_ = length;
    }

    ::sockaddr_storage storage_{};
    detail::socklen_type length_ = 0;
};

#if SOCKFRAME_HEADER_BODIES
// The bodies of the parsers and printers declared above: compiled in every unit when header-only,
// and once, in src/sockframe.cpp, with SOCKFRAME_SEPARATE_COMPILATION.

SOCKFRAME_DECL std::string ipv4_address::host() const {
    return detail::binary_to_text(AF_INET, &storage_.sin_addr);
}

SOCKFRAME_DECL std::string ipv4_address::to_string() const { return host() + ':' + std::to_string(port()); }

SOCKFRAME_DECL std::string ipv6_address::to_string() const {
    return '[' + host() + "]:" + std::to_string(port());
}

SOCKFRAME_DECL ipv4_address ipv4_address::parse(std::string_view host, std::uint16_t port,
                                                std::error_code& ec) noexcept {
    ipv4_address a;
    a.storage_.sin_port = detail::to_network(port);
    if (!detail::text_to_binary(AF_INET, host, &a.storage_.sin_addr)) {
        ec = errc::bad_address;
        return {};
    }
    ec.clear();
    return a;
}

SOCKFRAME_DECL ipv4_address ipv4_address::parse(std::string_view host, std::uint16_t port) {
    std::error_code ec;
    auto a = parse(host, port, ec);
    if (ec) throw std::system_error(ec, "sockframe: not an IPv4 address: '" + std::string(host) + "'");
    return a;
}

SOCKFRAME_DECL ipv4_address ipv4_address::parse(std::string_view text, std::error_code& ec) noexcept {
    auto colon = text.rfind(':');
    std::uint16_t port = 0;
    if (colon == std::string_view::npos || !detail::parse_port(text.substr(colon + 1), port)) {
        ec = errc::bad_address;
        return {};
    }
    return parse(text.substr(0, colon), port, ec);
}

SOCKFRAME_DECL ipv4_address ipv4_address::parse(std::string_view text) {
    std::error_code ec;
    auto a = parse(text, ec);
    if (ec) throw std::system_error(ec, "sockframe: not an IPv4 host:port: '" + std::string(text) + "'");
    return a;
}

SOCKFRAME_DECL ipv6_address ipv6_address::parse(std::string_view host, std::uint16_t port,
                                                std::error_code& ec) noexcept {
    ipv6_address a;
    a.storage_.sin6_port = detail::to_network(port);
    auto percent = host.find('%');
    std::string_view ip = host.substr(0, percent);
    if (!detail::text_to_binary(AF_INET6, ip, &a.storage_.sin6_addr)) {
        ec = errc::bad_address;
        return {};
    }
    if (percent != std::string_view::npos) {
        std::string_view scope = host.substr(percent + 1);
        std::uint32_t id = 0;  // sin6_scope_id is a u_long on Windows
        if (!parse_scope(scope, id)) {
            ec = errc::bad_address;
            return {};
        }
        a.storage_.sin6_scope_id = id;
    }
    ec.clear();
    return a;
}

SOCKFRAME_DECL ipv6_address ipv6_address::parse(std::string_view host, std::uint16_t port) {
    std::error_code ec;
    auto a = parse(host, port, ec);
    if (ec) throw std::system_error(ec, "sockframe: not an IPv6 address: '" + std::string(host) + "'");
    return a;
}

SOCKFRAME_DECL ipv6_address ipv6_address::parse(std::string_view text, std::error_code& ec) noexcept {
    auto close = text.rfind(']');
    std::uint16_t port = 0;
    if (text.empty() || text[0] != '[' || close == std::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':' || !detail::parse_port(text.substr(close + 2), port)) {
        ec = errc::bad_address;
        return {};
    }
    return parse(text.substr(1, close - 1), port, ec);
}

SOCKFRAME_DECL ipv6_address ipv6_address::parse(std::string_view text) {
    std::error_code ec;
    auto a = parse(text, ec);
    if (ec) throw std::system_error(ec, "sockframe: not an [IPv6]:port: '" + std::string(text) + "'");
    return a;
}

SOCKFRAME_DECL std::string ipv6_address::host() const {
    std::string text = detail::binary_to_text(AF_INET6, &storage_.sin6_addr);
    if (storage_.sin6_scope_id != 0) text += '%' + std::to_string(storage_.sin6_scope_id);
    return text;
}

SOCKFRAME_DECL bool ipv6_address::parse_scope(std::string_view scope, std::uint32_t& id) noexcept {
    if (scope.empty() || scope.size() > 15) return false;
    bool digits = true;
    std::uint64_t value = 0;
    for (char c : scope) {
        if (c < '0' || c > '9') {
            digits = false;
            break;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (digits) {
        if (value > 0xFFFFFFFFu) return false;
        id = static_cast<std::uint32_t>(value);
        return true;
    }
    id = detail::interface_index(scope);
    return id != 0;
}

SOCKFRAME_DECL ip_address ip_address::parse(std::string_view host, std::uint16_t port,
                                            std::error_code& ec) noexcept {
    auto v4 = ipv4_address::parse(host, port, ec);
    if (!ec) return v4;
    auto v6 = ipv6_address::parse(host, port, ec);
    if (!ec) return v6;
    return {};
}

SOCKFRAME_DECL ip_address ip_address::parse(std::string_view host, std::uint16_t port) {
    std::error_code ec;
    auto a = parse(host, port, ec);
    if (ec) throw std::system_error(ec, "sockframe: not an IP address: '" + std::string(host) + "'");
    return a;
}

SOCKFRAME_DECL ip_address ip_address::parse(std::string_view text, std::error_code& ec) noexcept {
    if (!text.empty() && text.front() == '[') {
        auto v6 = ipv6_address::parse(text, ec);
        return ec ? ip_address{} : ip_address(v6);
    }
    auto v4 = ipv4_address::parse(text, ec);
    return ec ? ip_address{} : ip_address(v4);
}

SOCKFRAME_DECL ip_address ip_address::parse(std::string_view text) {
    std::error_code ec;
    auto a = parse(text, ec);
    if (ec) throw std::system_error(ec, "sockframe: not an IP host:port: '" + std::string(text) + "'");
    return a;
}

SOCKFRAME_DECL ip_address ip_address::unmapped() const noexcept {
    if (!is_v6() || !v6().is_v4_mapped()) return *this;
    auto b = v6().bytes();
    return ipv4_address({b[12], b[13], b[14], b[15]}, port());
}

SOCKFRAME_DECL local_address::local_address() noexcept {
    storage_.sun_family = AF_UNIX;
    length_ = path_offset();
}

SOCKFRAME_DECL local_address::local_address(std::string_view path) : local_address() {
    std::error_code ec;
    assign_path(path, ec);
    if (ec) throw std::system_error(ec, "sockframe: bad Unix socket path '" + std::string(path) + "'");
}

SOCKFRAME_DECL local_address local_address::path(std::string_view path, std::error_code& ec) noexcept {
    local_address a;
    a.assign_path(path, ec);
    return ec ? local_address{} : a;
}

SOCKFRAME_DECL local_address local_address::abstract(std::string_view name, std::error_code& ec) noexcept {
    local_address a;
#if defined(SOCKFRAME_LINUX)
    if (name.size() + 1 > sizeof(a.storage_.sun_path)) {
        ec = errc::bad_address;
        return {};
    }
    a.storage_.sun_path[0] = '\0';
    std::memcpy(a.storage_.sun_path + 1, name.data(), name.size());
    a.length_ = static_cast<detail::socklen_type>(path_offset() + 1 + name.size());
    ec.clear();
#else
    (void)name;
    ec = errc::not_supported;
#endif
    return a;
}

SOCKFRAME_DECL local_address local_address::abstract(std::string_view name) {
    std::error_code ec;
    auto a = abstract(name, ec);
    if (ec) throw std::system_error(ec, "sockframe: bad abstract Unix socket name");
    return a;
}

SOCKFRAME_DECL std::string_view local_address::name() const noexcept {
    if (is_unnamed()) return {};
    std::size_t n = static_cast<std::size_t>(length_) - path_offset();
    const char* p = storage_.sun_path;
    if (p[0] == '\0') return {p + 1, n - 1};
    std::size_t len = 0;
    while (len < n && p[len] != '\0') ++len;
    return {p, len};
}

SOCKFRAME_DECL std::string local_address::to_string() const {
    if (is_abstract()) return '@' + std::string(name());
    return std::string(name());
}

SOCKFRAME_DECL void local_address::assign_path(std::string_view path, std::error_code& ec) noexcept {
    if (path.empty() || path.size() >= sizeof(storage_.sun_path) ||
        path.find('\0') != std::string_view::npos) {
        ec = errc::bad_address;
        return;
    }
    std::memcpy(storage_.sun_path, path.data(), path.size());
    storage_.sun_path[path.size()] = '\0';
    length_ = static_cast<detail::socklen_type>(path_offset() + path.size() + 1);
#if defined(SOCKFRAME_BSD)
    storage_.sun_len = static_cast<unsigned char>(length_);
#endif
    ec.clear();
}

SOCKFRAME_DECL std::string any_address::to_string() const {
    if (is_ip()) return ip().to_string();
#if defined(SOCKFRAME_HAS_AF_UNIX)
    if (is_local()) return local().to_string();
#endif
    return {};
}

#endif  // SOCKFRAME_HEADER_BODIES

SOCKFRAME_NAMESPACE_END
