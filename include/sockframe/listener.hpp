#pragma once
/// basic_listener<Family, Type, Mode>: bind + listen + accept for stream and seqpacket sockets.

#include <sockframe/socket.hpp>

#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// What accept returns: the connected socket and the peer's address (`auto [s, from] = l.accept();`).
template <typename Socket>
struct accepted {
    Socket socket;
    typename Socket::address_type from;
};

template <typename Family, typename Type = stream, typename Mode = blocking>
class basic_listener {
public:
    using socket_type = basic_socket<Family, Type, Mode>;
    using address_type = typename Family::address_type;
    using native_handle_type = detail::native_handle_type;

    /// The backlog used when none is given: the system's maximum (SOMAXCONN).
    static constexpr int default_backlog = SOMAXCONN;

    /// A closed listener.
    basic_listener() noexcept = default;
    /// Opens, sets SO_REUSEADDR (IP families; SO_EXCLUSIVEADDRUSE on Windows), binds and listens.
    /// Port 0 picks an ephemeral port: read it back with local_address().
    explicit basic_listener(const address_type& local, int backlog = default_backlog) {
        std::error_code ec;
        *this = basic_listener(local, backlog, ec);
        if (ec) throw std::system_error(ec, "sockframe: listen on " + local.to_string());
    }
    basic_listener(const address_type& local, std::error_code& ec) noexcept
        : basic_listener(local, default_backlog, ec) {}
    basic_listener(const address_type& local, int backlog, std::error_code& ec) noexcept {
        socket_ = socket_type::open(0, ec);
        if (!ec) setup_(local, backlog, ec);
        if (ec) socket_.close();
    }

    /// Waits for a connection (until `d`), returns it with the peer's address. A non-blocking
    /// listener returns std::errc::operation_would_block when none is pending.
    accepted<socket_type> accept(deadline d = {}) {
        std::error_code ec;
        auto a = accept(d, ec);
        detail::throw_if(ec, "sockframe: accept");
        return a;
    }
    accepted<socket_type> accept(std::error_code& ec) noexcept { return accept(deadline{}, ec); }
    accepted<socket_type> accept(deadline d, std::error_code& ec) noexcept {
        accepted<socket_type> result;
        auto when = d.resolve(socket_.timeout());
        for (;;) {
            detail::socklen_type len = address_type::capacity();
            native_handle_type h = accept_once_(result.from, len, ec);
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
    address_type local_address(std::error_code& ec) const noexcept { return socket_.local_address(ec); }
    /// The default accept deadline (settimeout on a listening socket).
    template <typename Rep, typename Period>
    void set_timeout(std::chrono::duration<Rep, Period> t) noexcept {
        socket_.set_timeout(t);
    }
    void set_timeout(std::nullopt_t) noexcept { socket_.set_timeout(std::nullopt); }
    auto timeout() const noexcept { return socket_.timeout(); }

    bool is_open() const noexcept { return socket_.is_open(); }
    explicit operator bool() const noexcept { return is_open(); }
    native_handle_type native_handle() const noexcept { return socket_.native_handle(); }
    void close() noexcept { socket_.close(); }
    /// The listening socket itself, for options.
    socket_type& socket() noexcept { return socket_; }
    const socket_type& socket() const noexcept { return socket_; }

private:
    static const_buffer one_() noexcept {
        static const int one = 1;
        return {&one, sizeof one};
    }
    void setup_(const address_type& local, int backlog, std::error_code& ec) noexcept {
        if (Family::domain() == AF_INET || Family::domain() == AF_INET6) {
#if defined(SOCKFRAME_WINDOWS)
            socket_.set_option(SOL_SOCKET, SO_EXCLUSIVEADDRUSE, one_(), ec);
#else
            socket_.set(reuse_address{true}, ec);
#endif
            if (ec) return;
        }
        socket_.bind(local, ec);
        if (ec) return;
        if (::listen(socket_.native_handle(), backlog) != 0) {
            ec = detail::last_error();
            return;
        }
        // A blocking listener waits in poll(), so that accept honours deadlines and never hangs
        // on a connection that vanished between readiness and accept.
        if (Mode::is_blocking) {
            ec = detail::set_non_blocking(socket_.native_handle(), true);
            if (ec) return;
        }
        ec.clear();
    }
    native_handle_type accept_once_(address_type& from, detail::socklen_type& len,
                                    std::error_code& ec) noexcept {
        for (;;) {
#if defined(SOCKFRAME_LINUX) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
            int flags = SOCK_CLOEXEC | (Mode::is_blocking ? 0 : SOCK_NONBLOCK);
            native_handle_type h = ::accept4(socket_.native_handle(), from.data(), &len, flags);
            if (h >= 0) {
                ec.clear();
                return h;
            }
#else
            native_handle_type h = ::accept(socket_.native_handle(), from.data(), &len);
            if (h != detail::invalid_handle) {
#if defined(SOCKFRAME_POSIX)
                ::fcntl(h, F_SETFD, FD_CLOEXEC);
#else
                detail::set_no_inherit(h);  // accepted sockets may inherit "inheritable"
#endif
#if defined(SO_NOSIGPIPE)
                int one = 1;
                ::setsockopt(h, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
                // accepted sockets inherit the listener's non-blocking flag here: set it per Mode
                ec = detail::set_non_blocking(h, !Mode::is_blocking);
                if (ec) {
                    detail::close_handle(h);
                    return detail::invalid_handle;
                }
                return h;
            }
#endif
            if (detail::last_was_interrupted()) continue;
            ec = detail::last_error();
            // the connection was reset before accept: try the next one
            if (ec == std::errc::connection_aborted) continue;
            return detail::invalid_handle;
        }
    }

    socket_type socket_;
};

/// Listeners for TCP (IPv4, IPv6) and Unix stream / seqpacket sockets.
using tcp_listener = basic_listener<ipv4, stream>;
using tcp6_listener = basic_listener<ipv6, stream>;
#if defined(SOCKFRAME_HAS_AF_UNIX)
using unix_listener = basic_listener<local, stream>;
#if defined(SOCKFRAME_POSIX)
using unix_seqpacket_listener = basic_listener<local, seqpacket>;  // not Windows: no SOCK_SEQPACKET
#endif
#endif

SOCKFRAME_NAMESPACE_END
