// SPDX-License-Identifier: MIT
#pragma once
/// Socket options as types: `s.set(no_delay{true})`, `s.get<no_delay>().value`. A raw
/// level/name pair reaches any other option (basic_socket::set_option / get_option).

#include <sockframe/detail/os.hpp>

#include <chrono>
#include <climits>
#include <cstdint>
#include <system_error>
#include <type_traits>
#include <utility>

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

/// SO_LINGER with reset-on-close: close() drops unsent data and sends a reset (RST) at once.
inline struct linger linger_reset() noexcept { return {true, std::chrono::seconds(0)}; }

namespace detail {
/// An option stored as an int count of seconds.
template <typename Derived>
struct seconds_option {
    std::chrono::seconds value{0};
    constexpr seconds_option() noexcept = default;
    constexpr explicit seconds_option(std::chrono::seconds v) noexcept : value(v) {}
    int to_native() const noexcept {
        return value.count() > INT_MAX ? INT_MAX : value.count() < 0 ? 0 : static_cast<int>(value.count());
    }
    static Derived from_native(int v) noexcept { return Derived{std::chrono::seconds(v)}; }
};
}  // namespace detail

namespace detail {
/// Whether `Option` has another way to be set where its socket option is missing
/// (`Option::set_fallback(handle, option)`, which basic_socket::set calls when setsockopt says
/// errc::no_protocol_option).
template <typename Option, typename = void>
struct has_set_fallback : std::false_type {};
template <typename Option>
struct has_set_fallback<
    Option, std::void_t<decltype(Option::set_fallback(native_handle_type{}, std::declval<const Option&>()))>>
    : std::true_type {};

#if defined(SOCKFRAME_WINDOWS)
// Windows 10 1709 and later have the keep-alive options at IPPROTO_TCP; mingw's headers (and
// older SDKs) may not name them.
#if defined(TCP_KEEPIDLE)
inline constexpr int tcp_keep_idle = TCP_KEEPIDLE;
#else
inline constexpr int tcp_keep_idle = 3;  // TCP_KEEPALIVE, TCP_KEEPIDLE
#endif
#if defined(TCP_KEEPINTVL)
inline constexpr int tcp_keep_interval = TCP_KEEPINTVL;
#else
inline constexpr int tcp_keep_interval = 17;
#endif
#if defined(TCP_KEEPCNT)
inline constexpr int tcp_keep_count = TCP_KEEPCNT;
#else
inline constexpr int tcp_keep_count = 16;
#endif
/// Windows' keep-alive timing where a value is not given: 2 hours idle, probes 1 second apart.
inline constexpr std::chrono::seconds windows_keep_alive_idle{7200}, windows_keep_alive_interval{1};

/// SIO_KEEPALIVE_VALS, what Windows before 10 1709 (and wine 8) has instead of the keep-alive
/// options: keep-alive on, the first probe after `idle`, the next ones `interval` apart.
inline std::error_code keep_alive_values(native_handle_type h, std::chrono::seconds idle,
                                         std::chrono::seconds interval) noexcept {
    auto ms = [](std::chrono::seconds v) -> ULONG {
        const auto n = v.count();
        return n <= 0 ? 0 : n >= 4294967 ? ULONG{4294967295u} : static_cast<ULONG>(n * 1000);
    };
    ::tcp_keepalive values{};
    values.onoff = 1;
    values.keepalivetime = ms(idle);
    values.keepaliveinterval = ms(interval);
    DWORD returned = 0;
    if (::WSAIoctl(h, SIO_KEEPALIVE_VALS, &values, sizeof values, nullptr, 0, &returned, nullptr, nullptr) !=
        0)
        return last_error();
    return {};
}
#endif
}  // namespace detail

#if defined(TCP_KEEPIDLE) || (defined(__APPLE__) && defined(TCP_KEEPALIVE)) || defined(SOCKFRAME_WINDOWS)
/// TCP_KEEPIDLE (macOS: TCP_KEEPALIVE): idle time before the first keep-alive probe (with
/// keep_alive{true}). Windows: TCP_KEEPIDLE (10 1709 and later); where that is missing (older
/// Windows, wine 8) SIO_KEEPALIVE_VALS, which also turns keep-alive on, sets the probe interval
/// to Windows' default of 1 second and cannot be read back (get: errc::no_protocol_option).
struct keep_alive_idle : detail::seconds_option<keep_alive_idle> {
    using seconds_option::seconds_option;
    /// The option's level.
    static int level() noexcept { return IPPROTO_TCP; }
#if defined(SOCKFRAME_WINDOWS)
    /// The option's name.
    static int name() noexcept { return detail::tcp_keep_idle; }
    /// Where Windows has no TCP_KEEPIDLE: SIO_KEEPALIVE_VALS.
    static std::error_code set_fallback(detail::native_handle_type h, const keep_alive_idle& o) noexcept {
        return detail::keep_alive_values(h, o.value, detail::windows_keep_alive_interval);
    }
#elif defined(TCP_KEEPIDLE)
    /// The option's name.
    static int name() noexcept { return TCP_KEEPIDLE; }
#else
    /// The option's name.
    static int name() noexcept { return TCP_KEEPALIVE; }
#endif
};
#endif
#if defined(TCP_KEEPINTVL) || defined(SOCKFRAME_WINDOWS)
/// TCP_KEEPINTVL: time between keep-alive probes. Windows: TCP_KEEPINTVL (10 1709 and later);
/// where that is missing (older Windows, wine 8) SIO_KEEPALIVE_VALS, which also turns keep-alive
/// on, sets the idle time back to Windows' default of 2 hours (the last of the two fallbacks
/// wins) and cannot be read back.
struct keep_alive_interval : detail::seconds_option<keep_alive_interval> {
    using seconds_option::seconds_option;
    /// The option's level.
    static int level() noexcept { return IPPROTO_TCP; }
#if defined(SOCKFRAME_WINDOWS)
    /// The option's name.
    static int name() noexcept { return detail::tcp_keep_interval; }
    /// Where Windows has no TCP_KEEPINTVL: SIO_KEEPALIVE_VALS.
    static std::error_code set_fallback(detail::native_handle_type h, const keep_alive_interval& o) noexcept {
        return detail::keep_alive_values(h, detail::windows_keep_alive_idle, o.value);
    }
#else
    /// The option's name.
    static int name() noexcept { return TCP_KEEPINTVL; }
#endif
};
#endif
#if defined(TCP_KEEPCNT) || defined(SOCKFRAME_WINDOWS)
/// TCP_KEEPCNT: unanswered probes before the connection is dropped. Windows: 10 1709 and later
/// (before, the count is fixed at 10 and setting it is errc::no_protocol_option, as under wine 8).
struct keep_alive_count : detail::integer_option<keep_alive_count> {
    using integer_option::integer_option;
    /// The option's level.
    static int level() noexcept { return IPPROTO_TCP; }
#if defined(SOCKFRAME_WINDOWS)
    /// The option's name.
    static int name() noexcept { return detail::tcp_keep_count; }
#else
    /// The option's name.
    static int name() noexcept { return TCP_KEEPCNT; }
#endif
};
#endif
#if defined(TCP_USER_TIMEOUT)
/// TCP_USER_TIMEOUT (Linux): how long sent data may stay unacknowledged before the connection
/// is dropped (timed_out); 0 = the system's default.
struct user_timeout {
    std::chrono::milliseconds value{0};
    constexpr user_timeout() noexcept = default;
    constexpr explicit user_timeout(std::chrono::milliseconds v) noexcept : value(v) {}
    static int level() noexcept { return IPPROTO_TCP; }
    static int name() noexcept { return TCP_USER_TIMEOUT; }
    unsigned int to_native() const noexcept {
        return value.count() < 0 ? 0u
               : static_cast<unsigned long long>(value.count()) > UINT_MAX
                   ? UINT_MAX
                   : static_cast<unsigned int>(value.count());
    }
    static user_timeout from_native(unsigned int v) noexcept {
        return user_timeout{std::chrono::milliseconds(v)};
    }
};
#endif
#if defined(TCP_FASTOPEN)
/// TCP_FASTOPEN on a listener (before listen): accept data in SYNs, at most `value` pending
/// Fast Open connections (Linux also needs the server bit of net.ipv4.tcp_fastopen).
struct fast_open : detail::integer_option<fast_open> {
    using integer_option::integer_option;
    static int level() noexcept { return IPPROTO_TCP; }
    static int name() noexcept { return TCP_FASTOPEN; }
};
#endif
#if defined(TCP_FASTOPEN_CONNECT)
/// TCP_FASTOPEN_CONNECT (Linux 4.11+) on a client before connect: connect returns at once and
/// the first write travels in the SYN when the server's cookie is known (an ordinary handshake
/// otherwise). Write first: the connection completes on the first write.
struct fast_open_connect : detail::boolean_option<fast_open_connect> {
    using boolean_option::boolean_option;
    static int level() noexcept { return IPPROTO_TCP; }
    static int name() noexcept { return TCP_FASTOPEN_CONNECT; }
};
#endif

#if defined(SOCKFRAME_LINUX) && defined(TCP_INFO)
/// TCP_INFO (Linux), read with `s.get<tcp_info>()`: the connection's state as the kernel sees
/// it. Read-only (setting it fails).
struct tcp_info {
    std::chrono::microseconds rtt{0};           ///< smoothed round-trip time
    std::chrono::microseconds rtt_variance{0};  ///< its mean deviation
    std::uint32_t retransmits = 0;              ///< retransmissions of the current unacknowledged data
    std::uint32_t total_retransmits = 0;        ///< segments retransmitted over the connection's life
    std::uint32_t congestion_window = 0;        ///< sending congestion window, in segments
    std::uint32_t slow_start_threshold = 0;     ///< slow-start threshold, in segments
    std::uint32_t send_mss = 0;                 ///< maximum segment size sent
    std::uint32_t unacknowledged = 0;           ///< segments sent and not yet acknowledged
    std::uint32_t lost = 0;                     ///< segments thought lost
    std::uint8_t state = 0;                     ///< TCP state (1 = established, as <netinet/tcp.h>)
    bool syn_data_acknowledged = false;         ///< Fast Open: the SYN's data was accepted
    static int level() noexcept { return IPPROTO_TCP; }
    static int name() noexcept { return TCP_INFO; }
    using native_type = struct ::tcp_info;
    native_type to_native() const noexcept { return native_type{}; }
    static tcp_info from_native(const native_type& t) noexcept {
        tcp_info i;
        i.rtt = std::chrono::microseconds(t.tcpi_rtt);
        i.rtt_variance = std::chrono::microseconds(t.tcpi_rttvar);
        i.retransmits = t.tcpi_retransmits;
        i.total_retransmits = t.tcpi_total_retrans;
        i.congestion_window = t.tcpi_snd_cwnd;
        i.slow_start_threshold = t.tcpi_snd_ssthresh;
        i.send_mss = t.tcpi_snd_mss;
        i.unacknowledged = t.tcpi_unacked;
        i.lost = t.tcpi_lost;
        i.state = t.tcpi_state;
#if defined(TCPI_OPT_SYN_DATA)
        i.syn_data_acknowledged = (t.tcpi_options & TCPI_OPT_SYN_DATA) != 0;
#endif
        return i;
    }
};
#endif

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
