// SPDX-License-Identifier: MIT
#pragma once
/// basic_listener<Family, Type, Mode>: bind + listen + accept for stream and seqpacket sockets.
///
/// Unix listeners (filesystem paths) remove their socket file when they close, as Go's do
/// (listen_options::unlink_on_close, on by default), and can take over the path of a crashed
/// process's socket file (listen_options::replace_stale, off by default: only when nothing
/// listens there). Linux abstract names (local_address::abstract) have no file at all.

#include <sockframe/detail/os.hpp>
#include <sockframe/socket.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// What accept returns: the connected socket and the peer's address (`auto [s, from] = l.accept();`).
template <typename Socket>
struct accepted {
    /// The connected socket.
    Socket socket;
    /// The peer's address.
    typename Socket::address_type from;
};

/// How a listener binds and listens; each member has the usual default.
struct listen_options {
    /// The backlog of pending connections (SOMAXCONN: the system's maximum).
    int backlog = SOMAXCONN;
    /// IP families: SO_REUSEADDR (Windows: SO_EXCLUSIVEADDRUSE), so that a restarted server can
    /// bind while old connections linger in TIME_WAIT.
    bool reuse_address = true;
    /// IPv6 and the runtime `ip` family bound to an IPv6 address: IPV6_V6ONLY. Unset: the
    /// family's default (`ip`: off, one dual-stack socket for IPv4 and IPv6; `ipv6`: the system's).
    std::optional<bool> v6_only;
    /// Unix paths: remove the socket file when the listener closes (only if it is still the file
    /// this listener made).
    bool unlink_on_close = true;
    /// Unix paths: if a socket file is already there and nothing accepts connections on it (a
    /// crashed process left it), remove it and bind. A file that is not a socket, or a socket
    /// somebody listens on, is left alone: bind then fails with address_in_use.
    bool replace_stale = false;
    /// IP families: SO_REUSEPORT where the OS has it (Linux, the BSDs), so that several listeners
    /// (one per thread and event loop) bind the same port and the kernel spreads connections
    /// over them. Elsewhere: errc::not_supported.
    bool reuse_port = false;
};

/// A listening socket: bind, listen, then accept connections (with deadlines). Aliases:
/// tcp_listener, tcp6_listener, ip_tcp_listener, any_listener, unix_listener and their _nb forms.
/// The accepted sockets are `basic_socket<Family, Type, Mode>`, close-on-exec.
template <typename Family, typename Type = stream, typename Mode = blocking>
class basic_listener {
public:
    /// The accepted sockets' type.
    using socket_type = basic_socket<Family, Type, Mode>;
    /// The address type.
    using address_type = typename Family::address_type;
    /// The OS handle type.
    using native_handle_type = detail::native_handle_type;

    /// The backlog used when none is given: the system's maximum (SOMAXCONN).
    static constexpr int default_backlog = SOMAXCONN;

    /// A closed listener.
    basic_listener() noexcept = default;
    /// Opens, sets SO_REUSEADDR (IP families; SO_EXCLUSIVEADDRUSE on Windows), binds and listens.
    /// Port 0 picks an ephemeral port: read it back with local_address().
    explicit basic_listener(const address_type& local, int backlog = default_backlog)
        : basic_listener(local, with_backlog(backlog)) {}
    /// The same with options (backlog, Unix socket file handling, IPV6_V6ONLY).
    basic_listener(const address_type& local, const listen_options& options) {
        std::error_code ec;
        *this = basic_listener(local, options, ec);
        if (ec) throw std::system_error(ec, "sockframe: listen on " + local.to_string());
    }
    /// Never throwing: `ec` says what failed (the listener is then closed).
    basic_listener(const address_type& local, std::error_code& ec) noexcept
        : basic_listener(local, listen_options{}, ec) {}
    /// Binds to `local` and listens with `backlog`, never throwing.
    basic_listener(const address_type& local, int backlog, std::error_code& ec) noexcept
        : basic_listener(local, with_backlog(backlog), ec) {}
    /// Binds to `local` and listens with `options`, never throwing.
    basic_listener(const address_type& local, const listen_options& options, std::error_code& ec) noexcept {
        socket_ = socket_type::open_for(local, 0, ec);
        if (!ec) setup(local, options, ec);
        if (ec) close();
    }

    /// Takes over `s`, a socket already bound and listening (made by other code, or inherited
    /// through socket activation); it is made non-blocking, as every listener's socket is (a
    /// blocking listener waits in poll). Throws std::system_error if that fails.
    explicit basic_listener(socket_type s) {
        std::error_code ec;
        *this = basic_listener(std::move(s), ec);
        detail::throw_if(ec, "sockframe: adopt a listening socket");
    }
    /// The same, never throwing: on failure `ec` is set and the listener closed (with `s`).
    basic_listener(socket_type s, std::error_code& ec) noexcept : socket_(std::move(s)) {
        ec.clear();
        if (socket_.is_open()) ec = detail::set_non_blocking(socket_.native_handle(), true);
        if (ec) close();
    }

    /// Takes `other`'s socket.
    basic_listener(basic_listener&& other) noexcept
        : socket_(std::move(other.socket_)), file_(std::exchange(other.file_, socket_file{})) {}
    /// Closes this listener, then takes `other`'s socket.
    basic_listener& operator=(basic_listener&& other) noexcept {
        if (this != &other) {
            close();
            socket_ = std::move(other.socket_);
            file_ = std::exchange(other.file_, socket_file{});
        }
        return *this;
    }
    /// Closes, removing a Unix socket file as close() does.
    ~basic_listener() { close(); }

    /// Waits for a connection (until `d`), returns it with the peer's address. A non-blocking
    /// listener returns std::errc::operation_would_block when none is pending.
    accepted<socket_type> accept(deadline d = {}) {
        std::error_code ec;
        auto a = accept(d, ec);
        detail::throw_if(ec, "sockframe: accept");
        return a;
    }
    /// accept(), never throwing.
    accepted<socket_type> accept(std::error_code& ec) noexcept { return accept(deadline{}, ec); }
    /// accept(d), never throwing: std::errc::timed_out when `d` passes first.
    accepted<socket_type> accept(deadline d, std::error_code& ec) noexcept {
        accepted<socket_type> result;
        auto when = d.resolve(socket_.timeout());
        for (;;) {
            detail::socklen_type len = address_type::capacity();
            native_handle_type h = detail::accept_socket(socket_.native_handle(), result.from.data(), &len,
                                                         !Mode::is_blocking, ec);
            if (h != detail::invalid_handle) {
                result.socket = socket_type(h);
                if (!result.from.assign_native(len)) result.from = address_type{};
                return result;
            }
            if (!Mode::is_blocking || ec != std::errc::operation_would_block) return result;
            ec = detail::wait_ready(socket_.native_handle(), detail::poll_in, when);
            if (ec) return result;
        }
    }

    /// The bound address (the real port when bound to port 0).
    address_type local_address() const { return socket_.local_address(); }
    /// local_address(), never throwing.
    address_type local_address(std::error_code& ec) const noexcept { return socket_.local_address(ec); }
    /// The default accept deadline (settimeout on a listening socket).
    template <typename Rep, typename Period>
    void set_timeout(std::chrono::duration<Rep, Period> t) noexcept {
        socket_.set_timeout(t);
    }
    /// No default accept deadline.
    void set_timeout(std::nullopt_t) noexcept { socket_.set_timeout(std::nullopt); }
    /// The default accept deadline (nullopt: none).
    auto timeout() const noexcept { return socket_.timeout(); }

    /// Whether the listener holds a socket.
    bool is_open() const noexcept { return socket_.is_open(); }
    /// is_open().
    explicit operator bool() const noexcept { return is_open(); }
    /// The listening descriptor, still owned by this object.
    native_handle_type native_handle() const noexcept { return socket_.native_handle(); }
    /// Stops listening; a Unix listener also removes its socket file (unless unlink_on_close was
    /// off, or the file is no longer the one it made).
    void close() noexcept {
        socket_.close();
        if (!file_.path.empty()) {
            std::uint64_t device = 0, inode = 0;
            if (detail::socket_file_identity(file_.path.c_str(), device, inode) && device == file_.device &&
                inode == file_.inode)
                detail::remove_file(file_.path.c_str());
            file_ = socket_file{};
        }
    }
    /// The listening socket itself, for options.
    socket_type& socket() noexcept { return socket_; }
    /// The listening socket itself, for options.
    const socket_type& socket() const noexcept { return socket_; }

private:
    /// The socket file a Unix listener made, to remove when it closes.
    struct socket_file {
        std::string path;
        std::uint64_t device = 0, inode = 0;
    };

    static listen_options with_backlog(int backlog) noexcept {
        listen_options o;
        o.backlog = backlog;
        return o;
    }

    void setup(const address_type& local, const listen_options& options, std::error_code& ec) noexcept {
        const int domain = detail::domain_of(local.data());
        if (domain == AF_INET || domain == AF_INET6) {
            if (options.reuse_address) {
#if defined(SOCKFRAME_WINDOWS)
                socket_.set(exclusive_address_use{true}, ec);
#else
                socket_.set(reuse_address{true}, ec);
#endif
                if (ec) return;
            }
            if (options.reuse_port) {
#if defined(SO_REUSEPORT)
                socket_.set(sockframe::reuse_port{true}, ec);
#else
                ec = errc::not_supported;
#endif
                if (ec) return;
            }
            std::optional<bool> only = options.v6_only;
            if (!only && detail::dual_stack_by_default<Family>()) only = false;
            if (domain == AF_INET6 && only) {
                socket_.set(v6_only{*only}, ec);
                if (ec) return;
            }
        }
        std::string path = unix_path(local);
        if (!path.empty() && options.replace_stale) remove_stale(local, path);
        socket_.bind(local, ec);
        if (ec) return;
        if (!path.empty() && options.unlink_on_close) {
            file_.path = path;
            detail::socket_file_identity(path.c_str(), file_.device, file_.inode);
        }
        ec = detail::listen_socket(socket_.native_handle(), options.backlog);
        if (ec) return;
        // A blocking listener waits in poll(), so that accept honours deadlines and never hangs
        // on a connection that vanished between readiness and accept.
        if (Mode::is_blocking) ec = detail::set_non_blocking(socket_.native_handle(), true);
    }

#if defined(SOCKFRAME_HAS_AF_UNIX)
    static std::string unix_path_of(const sockframe::local_address& local) {
        if (local.is_abstract() || local.is_unnamed()) return {};
        try {
            return std::string(local.name());
        } catch (...) {
            return {};
        }
    }
#endif
    /// The filesystem path of a Unix address ("" for other families, abstract and unnamed ones).
    static std::string unix_path(const address_type& local) {
#if defined(SOCKFRAME_HAS_AF_UNIX)
        if constexpr (std::is_same_v<address_type, sockframe::local_address>) {
            return unix_path_of(local);
        } else if constexpr (std::is_same_v<address_type, any_address>) {
            return local.is_local() ? unix_path_of(local.local()) : std::string();
        }
#endif
        (void)local;
        return {};
    }

    /// Removes a socket file at `path` that nobody listens on (a connect to it is refused).
    static void remove_stale(const address_type& local, const std::string& path) noexcept {
        std::uint64_t device = 0, inode = 0;
        if (!detail::socket_file_identity(path.c_str(), device, inode)) return;  // absent, or not a socket
        std::error_code ec;
        auto probe = basic_socket<Family, Type, non_blocking>::open_for(local, 0, ec);
        if (ec) return;
        ec = detail::connect_socket(probe.native_handle(), local.data(), local.size());
        if (ec == std::errc::connection_refused) detail::remove_file(path.c_str());
    }

    socket_type socket_;
    socket_file file_;
};

/// TCP listener over IPv4.
using tcp_listener = basic_listener<ipv4, stream>;
/// TCP listener over IPv6.
using tcp6_listener = basic_listener<ipv6, stream>;
/// TCP listener over IPv4 or IPv6; bound to ip_address::any(port) (::) it is dual-stack.
using ip_tcp_listener = basic_listener<ip, stream>;
/// A stream listener bound to any family's address (TCP or Unix); accept gives any_stream.
using any_listener = basic_listener<any_family, stream>;
#if defined(SOCKFRAME_HAS_AF_UNIX)
/// Unix-domain stream listener (paths; abstract names on Linux).
using unix_listener = basic_listener<local, stream>;
#if defined(SOCKFRAME_POSIX)
/// Unix-domain seqpacket listener (not Windows: no SOCK_SEQPACKET).
using unix_seqpacket_listener = basic_listener<local, seqpacket>;
#endif
#endif

// Non-blocking listeners (`_nb`): accept() returns operation_would_block when no connection is
// pending, and the sockets it returns are non-blocking too (tcp_listener_nb gives tcp_stream_nb).

/// Non-blocking TCP listener over IPv4.
using tcp_listener_nb = basic_listener<ipv4, stream, non_blocking>;
/// Non-blocking TCP listener over IPv6.
using tcp6_listener_nb = basic_listener<ipv6, stream, non_blocking>;
/// Non-blocking TCP listener over IPv4 or IPv6.
using ip_tcp_listener_nb = basic_listener<ip, stream, non_blocking>;
/// Non-blocking stream listener of any family.
using any_listener_nb = basic_listener<any_family, stream, non_blocking>;
#if defined(SOCKFRAME_HAS_AF_UNIX)
/// Non-blocking Unix-domain stream listener.
using unix_listener_nb = basic_listener<local, stream, non_blocking>;
#if defined(SOCKFRAME_POSIX)
/// Non-blocking Unix-domain seqpacket listener.
using unix_seqpacket_listener_nb = basic_listener<local, seqpacket, non_blocking>;
#endif
#endif

SOCKFRAME_NAMESPACE_END
