// SPDX-License-Identifier: MIT
#pragma once
/// Socket options as types: `s.set(no_delay{true})`, `s.get<no_delay>().value`. A raw
/// level/name pair reaches any other option (basic_socket::set_option / get_option).

#include <sockframe/detail/os.hpp>

#include <chrono>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
/// An option stored as an int that reads as a bool.
template <typename Derived>
struct boolean_option {
    bool value = false;
    constexpr boolean_option() noexcept = default;
    constexpr explicit boolean_option(bool v) noexcept : value(v) {}
    int to_native() const noexcept { return value ? 1 : 0; }
    static Derived from_native(int v) noexcept { return Derived{v != 0}; }
    explicit operator bool() const noexcept { return value; }
};
/// An option stored as an int.
template <typename Derived>
struct integer_option {
    int value = 0;
    constexpr integer_option() noexcept = default;
    constexpr explicit integer_option(int v) noexcept : value(v) {}
    int to_native() const noexcept { return value; }
    static Derived from_native(int v) noexcept { return Derived{v}; }
};
}  // namespace detail

/// SO_REUSEADDR: bind to a port that has connections in TIME_WAIT. On by default for listeners
/// (on Windows, listeners use SO_EXCLUSIVEADDRUSE instead, which is what SO_REUSEADDR means on POSIX).
struct reuse_address : detail::boolean_option<reuse_address> {
    using boolean_option::boolean_option;
    /// The option's level.
    static int level() noexcept { return SOL_SOCKET; }
    /// The option's name.
    static int name() noexcept { return SO_REUSEADDR; }
};
#if defined(SO_REUSEPORT)
/// SO_REUSEPORT: several sockets bind the same port; the kernel spreads connections (not on Windows).
struct reuse_port : detail::boolean_option<reuse_port> {
    using boolean_option::boolean_option;
    /// The option's level.
    static int level() noexcept { return SOL_SOCKET; }
    /// The option's name.
    static int name() noexcept { return SO_REUSEPORT; }
};
#endif
#if defined(SO_EXCLUSIVEADDRUSE)
/// SO_EXCLUSIVEADDRUSE (Windows): no other socket may bind the same address and port; what
/// listeners set there instead of SO_REUSEADDR.
struct exclusive_address_use : detail::boolean_option<exclusive_address_use> {
    using boolean_option::boolean_option;
    static int level() noexcept { return SOL_SOCKET; }
    static int name() noexcept { return SO_EXCLUSIVEADDRUSE; }
};
#endif
/// TCP_NODELAY: send small segments at once (disable Nagle's algorithm).
struct no_delay : detail::boolean_option<no_delay> {
    using boolean_option::boolean_option;
    /// The option's level.
    static int level() noexcept { return IPPROTO_TCP; }
    /// The option's name.
    static int name() noexcept { return TCP_NODELAY; }
};
/// SO_KEEPALIVE: probe idle connections.
struct keep_alive : detail::boolean_option<keep_alive> {
    using boolean_option::boolean_option;
    /// The option's level.
    static int level() noexcept { return SOL_SOCKET; }
    /// The option's name.
    static int name() noexcept { return SO_KEEPALIVE; }
};
/// SO_BROADCAST: allow sending datagrams to broadcast addresses.
struct broadcast : detail::boolean_option<broadcast> {
    using boolean_option::boolean_option;
    /// The option's level.
    static int level() noexcept { return SOL_SOCKET; }
    /// The option's name.
    static int name() noexcept { return SO_BROADCAST; }
};
/// IPV6_V6ONLY: an IPv6 socket that does not also accept IPv4-mapped traffic.
struct v6_only : detail::boolean_option<v6_only> {
    using boolean_option::boolean_option;
    /// The option's level.
    static int level() noexcept { return IPPROTO_IPV6; }
    /// The option's name.
    static int name() noexcept { return IPV6_V6ONLY; }
};
/// SO_RCVBUF: kernel receive buffer size in bytes (Linux reports double what was set).
struct receive_buffer_size : detail::integer_option<receive_buffer_size> {
    using integer_option::integer_option;
    /// The option's level.
    static int level() noexcept { return SOL_SOCKET; }
    /// The option's name.
    static int name() noexcept { return SO_RCVBUF; }
};
/// SO_SNDBUF: kernel send buffer size in bytes (Linux reports double what was set).
struct send_buffer_size : detail::integer_option<send_buffer_size> {
    using integer_option::integer_option;
    /// The option's level.
    static int level() noexcept { return SOL_SOCKET; }
    /// The option's name.
    static int name() noexcept { return SO_SNDBUF; }
};

/// SO_LINGER: on close, wait up to `timeout` for unsent data (enabled with 0 s: reset at once).
struct linger {
    /// Whether close waits (or, with a zero timeout, resets the connection).
    bool enabled = false;
    /// How long close waits.
    std::chrono::seconds timeout{0};
    /// The option's level.
    static int level() noexcept { return SOL_SOCKET; }
#if defined(SO_LINGER_SEC)
    static int name() noexcept { return SO_LINGER_SEC; }  // macOS: SO_LINGER counts clock ticks
#else
    /// The option's name.
    static int name() noexcept { return SO_LINGER; }
#endif
    /// The OS's struct linger.
    using native_type = ::linger;
    /// The OS's form of this value.
    native_type to_native() const noexcept {
        native_type l{};
        l.l_onoff = enabled ? 1 : 0;
        l.l_linger = static_cast<decltype(l.l_linger)>(timeout.count());
        return l;
    }
    /// This value, from the OS's form.
    static struct linger from_native(const native_type& l) noexcept {
        return {l.l_onoff != 0, std::chrono::seconds(l.l_linger)};
    }
};

namespace detail {
/// SO_RCVTIMEO / SO_SNDTIMEO: a kernel timeout per system call (sockframe's own deadlines,
/// basic_socket::set_timeout, are usually what you want: they bound a whole operation).
template <typename Derived, int Name>
struct kernel_timeout_option {
    std::chrono::milliseconds value{0};
    constexpr kernel_timeout_option() noexcept = default;
    constexpr explicit kernel_timeout_option(std::chrono::milliseconds v) noexcept : value(v) {}
    static int level() noexcept { return SOL_SOCKET; }
    static int name() noexcept { return Name; }
#if defined(SOCKFRAME_WINDOWS)
    using native_type = DWORD;
    native_type to_native() const noexcept { return static_cast<DWORD>(value.count()); }
    static Derived from_native(native_type v) noexcept { return Derived{std::chrono::milliseconds(v)}; }
#else
    using native_type = ::timeval;
    native_type to_native() const noexcept {
        native_type t{};
        t.tv_sec = static_cast<decltype(t.tv_sec)>(value.count() / 1000);
        t.tv_usec = static_cast<decltype(t.tv_usec)>((value.count() % 1000) * 1000);
        return t;
    }
    static Derived from_native(const native_type& t) noexcept {
        return Derived{std::chrono::milliseconds(static_cast<long long>(t.tv_sec) * 1000 + t.tv_usec / 1000)};
    }
#endif
};
}  // namespace detail

/// SO_RCVTIMEO: kernel receive timeout per system call (0 = none).
struct receive_timeout : detail::kernel_timeout_option<receive_timeout, SO_RCVTIMEO> {
    using kernel_timeout_option::kernel_timeout_option;
};
/// SO_SNDTIMEO: kernel send timeout per system call (0 = none).
struct send_timeout : detail::kernel_timeout_option<send_timeout, SO_SNDTIMEO> {
    using kernel_timeout_option::kernel_timeout_option;
};

SOCKFRAME_NAMESPACE_END
