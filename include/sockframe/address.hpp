#pragma once
/// Socket addresses: ipv4_address, ipv6_address (address + port), local_address (Unix paths and
/// Linux abstract names).

#include <sockframe/detail/os.hpp>
#include <sockframe/error.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <ostream>
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
/// inet_pton on a string_view (copied to a bounded, NUL-terminated buffer).
inline bool text_to_binary(int family, std::string_view text, void* out) noexcept {
    char buffer[64];
    if (text.empty() || text.size() >= sizeof buffer) return false;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    return ::inet_pton(family, buffer, out) == 1;
}
inline std::string binary_to_text(int family, const void* binary) {
    char buffer[64] = {};
    if (::inet_ntop(family, const_cast<void*>(binary), buffer, sizeof buffer) == nullptr) return {};
    return buffer;
}
}  // namespace detail

/// An IPv4 address and port (a sockaddr_in). Default: 0.0.0.0 port 0.
class ipv4_address {
public:
    using bytes_type = std::array<std::uint8_t, 4>;

    ipv4_address() noexcept { storage_.sin_family = AF_INET; }
    ipv4_address(const bytes_type& bytes, std::uint16_t port) noexcept : ipv4_address() {
        std::memcpy(&storage_.sin_addr, bytes.data(), 4);
        storage_.sin_port = htons(port);
    }

    /// 0.0.0.0 (every interface).
    static ipv4_address any(std::uint16_t port = 0) noexcept { return {{0, 0, 0, 0}, port}; }
    /// 127.0.0.1.
    static ipv4_address loopback(std::uint16_t port = 0) noexcept { return {{127, 0, 0, 1}, port}; }
    /// 255.255.255.255 (limited broadcast; needs the broadcast option).
    static ipv4_address broadcast(std::uint16_t port = 0) noexcept { return {{255, 255, 255, 255}, port}; }

    /// Parses dotted-quad text ("192.0.2.1"); anything else is errc::bad_address.
    static ipv4_address parse(std::string_view host, std::uint16_t port, std::error_code& ec) noexcept {
        ipv4_address a;
        a.storage_.sin_port = htons(port);
        if (!detail::text_to_binary(AF_INET, host, &a.storage_.sin_addr)) {
            ec = errc::bad_address;
            return {};
        }
        ec.clear();
        return a;
    }
    static ipv4_address parse(std::string_view host, std::uint16_t port) {
        std::error_code ec;
        auto a = parse(host, port, ec);
        if (ec) throw std::system_error(ec, "sockframe: not an IPv4 address: '" + std::string(host) + "'");
        return a;
    }
    /// Parses "host:port" ("127.0.0.1:8080").
    static ipv4_address parse(std::string_view text, std::error_code& ec) noexcept {
        auto colon = text.rfind(':');
        std::uint16_t port = 0;
        if (colon == std::string_view::npos || !detail::parse_port(text.substr(colon + 1), port)) {
            ec = errc::bad_address;
            return {};
        }
        return parse(text.substr(0, colon), port, ec);
    }
    static ipv4_address parse(std::string_view text) {
        std::error_code ec;
        auto a = parse(text, ec);
        if (ec) throw std::system_error(ec, "sockframe: not an IPv4 host:port: '" + std::string(text) + "'");
        return a;
    }

    std::uint16_t port() const noexcept { return ntohs(storage_.sin_port); }
    void port(std::uint16_t p) noexcept { storage_.sin_port = htons(p); }
    bytes_type bytes() const noexcept {
        bytes_type b{};
        std::memcpy(b.data(), &storage_.sin_addr, 4);
        return b;
    }
    bool is_loopback() const noexcept { return bytes()[0] == 127; }
    bool is_any() const noexcept { return bytes() == bytes_type{}; }
    /// The address without the port ("127.0.0.1").
    std::string host() const { return detail::binary_to_text(AF_INET, &storage_.sin_addr); }
    /// "127.0.0.1:8080".
    std::string to_string() const { return host() + ':' + std::to_string(port()); }

    /// The native sockaddr, for calls sockframe does not wrap.
    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    detail::socklen_type size() const noexcept { return static_cast<detail::socklen_type>(sizeof storage_); }
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
    friend std::ostream& operator<<(std::ostream& os, const ipv4_address& a) { return os << a.to_string(); }

private:
    ::sockaddr_in storage_{};
};

/// An IPv6 address, port and scope id (a sockaddr_in6). Default: :: port 0.
class ipv6_address {
public:
    using bytes_type = std::array<std::uint8_t, 16>;

    ipv6_address() noexcept { storage_.sin6_family = AF_INET6; }
    ipv6_address(const bytes_type& bytes, std::uint16_t port, std::uint32_t scope_id = 0) noexcept
        : ipv6_address() {
        std::memcpy(&storage_.sin6_addr, bytes.data(), 16);
        storage_.sin6_port = htons(port);
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
    static ipv6_address parse(std::string_view host, std::uint16_t port, std::error_code& ec) noexcept {
        ipv6_address a;
        a.storage_.sin6_port = htons(port);
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
    static ipv6_address parse(std::string_view host, std::uint16_t port) {
        std::error_code ec;
        auto a = parse(host, port, ec);
        if (ec) throw std::system_error(ec, "sockframe: not an IPv6 address: '" + std::string(host) + "'");
        return a;
    }
    /// Parses "[host]:port" ("[::1]:8080").
    static ipv6_address parse(std::string_view text, std::error_code& ec) noexcept {
        auto close = text.rfind(']');
        std::uint16_t port = 0;
        if (text.empty() || text[0] != '[' || close == std::string_view::npos || close + 1 >= text.size() ||
            text[close + 1] != ':' || !detail::parse_port(text.substr(close + 2), port)) {
            ec = errc::bad_address;
            return {};
        }
        return parse(text.substr(1, close - 1), port, ec);
    }
    static ipv6_address parse(std::string_view text) {
        std::error_code ec;
        auto a = parse(text, ec);
        if (ec) throw std::system_error(ec, "sockframe: not an [IPv6]:port: '" + std::string(text) + "'");
        return a;
    }

    std::uint16_t port() const noexcept { return ntohs(storage_.sin6_port); }
    void port(std::uint16_t p) noexcept { storage_.sin6_port = htons(p); }
    std::uint32_t scope_id() const noexcept { return storage_.sin6_scope_id; }
    void scope_id(std::uint32_t id) noexcept { storage_.sin6_scope_id = id; }
    bytes_type bytes() const noexcept {
        bytes_type b{};
        std::memcpy(b.data(), &storage_.sin6_addr, 16);
        return b;
    }
    bool is_loopback() const noexcept { return *this == loopback(port()); }
    bool is_any() const noexcept { return bytes() == bytes_type{}; }
    bool is_v4_mapped() const noexcept {
        auto b = bytes();
        for (int i = 0; i < 10; ++i)
            if (b[i] != 0) return false;
        return b[10] == 0xff && b[11] == 0xff;
    }
    /// The address without the port ("::1", "fe80::1%2").
    std::string host() const {
        std::string text = detail::binary_to_text(AF_INET6, &storage_.sin6_addr);
        if (storage_.sin6_scope_id != 0) text += '%' + std::to_string(storage_.sin6_scope_id);
        return text;
    }
    /// "[::1]:8080".
    std::string to_string() const { return '[' + host() + "]:" + std::to_string(port()); }

    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    detail::socklen_type size() const noexcept { return static_cast<detail::socklen_type>(sizeof storage_); }
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_in6));
    }
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
    friend std::ostream& operator<<(std::ostream& os, const ipv6_address& a) { return os << a.to_string(); }

private:
    static bool parse_scope(std::string_view scope, std::uint32_t& id) noexcept {
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
#if defined(SOCKFRAME_POSIX)
        char name[16] = {};
        std::memcpy(name, scope.data(), scope.size());
        id = ::if_nametoindex(name);
        return id != 0;
#else
        return false;
#endif
    }

    ::sockaddr_in6 storage_{};
};

#if defined(SOCKFRAME_HAS_AF_UNIX)
/// A Unix-domain address: a filesystem path, a Linux abstract name, or unnamed (an unbound or
/// socketpair socket). Paths longer than sun_path are errc::bad_address, never cut.
class local_address {
public:
    /// The unnamed address.
    local_address() noexcept {
        storage_.sun_family = AF_UNIX;
        length_ = path_offset();
    }
    /// A filesystem path; throws std::system_error(errc::bad_address) if too long or it holds NUL.
    explicit local_address(std::string_view path) : local_address() {
        std::error_code ec;
        assign_path(path, ec);
        if (ec) throw std::system_error(ec, "sockframe: bad Unix socket path '" + std::string(path) + "'");
    }
    /// A filesystem path, never throwing.
    static local_address path(std::string_view path, std::error_code& ec) noexcept {
        local_address a;
        a.assign_path(path, ec);
        return ec ? local_address{} : a;
    }
    /// A Linux abstract-namespace name (no file; vanishes with the last socket). Elsewhere:
    /// errc::not_supported.
    static local_address abstract(std::string_view name, std::error_code& ec) noexcept {
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
    static local_address abstract(std::string_view name) {
        std::error_code ec;
        auto a = abstract(name, ec);
        if (ec) throw std::system_error(ec, "sockframe: bad abstract Unix socket name");
        return a;
    }

    bool is_unnamed() const noexcept { return length_ <= path_offset(); }
    bool is_abstract() const noexcept { return !is_unnamed() && storage_.sun_path[0] == '\0'; }
    /// The filesystem path, or the abstract name (without its leading NUL); empty when unnamed.
    std::string_view name() const noexcept {
        if (is_unnamed()) return {};
        std::size_t n = static_cast<std::size_t>(length_) - path_offset();
        const char* p = storage_.sun_path;
        if (p[0] == '\0') return {p + 1, n - 1};
        std::size_t len = 0;
        while (len < n && p[len] != '\0') ++len;
        return {p, len};
    }
    /// The path, "@name" for an abstract name, or "" for unnamed.
    std::string to_string() const {
        if (is_abstract()) return '@' + std::string(name());
        return std::string(name());
    }

    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    detail::socklen_type size() const noexcept { return length_; }
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_un));
    }
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
    friend std::ostream& operator<<(std::ostream& os, const local_address& a) { return os << a.to_string(); }

private:
    static constexpr detail::socklen_type path_offset() noexcept {
        return static_cast<detail::socklen_type>(offsetof(::sockaddr_un, sun_path));
    }
    void assign_path(std::string_view path, std::error_code& ec) noexcept {
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

    ::sockaddr_un storage_{};
    detail::socklen_type length_;
};
#endif

SOCKFRAME_NAMESPACE_END
