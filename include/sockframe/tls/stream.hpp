// SPDX-License-Identifier: MIT
#pragma once
/// tls_stream<Socket, Backend>: TLS over any sockframe stream socket (TCP, Unix), blocking or
/// non-blocking, with the stream calls framed<> needs (read_some, write_some, gathered writes,
/// write_all, timeout), so that framed<tls_stream<...>, Codec> works with every codec, and
/// tls_listener<Listener, Backend> so that framed_server serves TLS.
///
/// The backend is a policy (openssl_backend in <sockframe/tls/openssl.hpp>, mbedtls_backend in
/// <sockframe/tls/mbedtls.hpp>): it owns the TLS engine; this layer owns the socket, the waiting
/// and the deadlines. A backend offers a `context` type and an `engine` type with handshake(),
/// read(), write(), shutdown() returning a tls_status, pending(), alpn_protocol(),
/// kernel_tls_send() / kernel_tls_receive() and feed_input() (bytes read before TLS began).
///
/// Close semantics: the peer's close_notify is end-of-stream (read_some returns 0, as for a plain
/// socket); the transport closing without it is tls_errc::truncated, never end-of-stream.
/// close() and the destructor send close_notify first (without waiting) when the handshake is
/// done; abort() closes without it.
///
/// Non-blocking streams: every call returns std::errc::operation_would_block when the engine waits
/// for the socket; wants_write() then says whether it waits for writability (else readability).
/// The handshake runs inside the first read or write, or explicitly with handshake(). The socket is
/// put in non-blocking mode underneath in both modes: a blocking stream waits in poll(), so that
/// deadlines bound every call.
///
/// Thread safety: one tls_stream is used by one thread at a time (framed's split() halves do not
/// make it safe to read and write from two threads).

#include <sockframe/buffer.hpp>
#include <sockframe/config.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/error.hpp>
#include <sockframe/listener.hpp>
#include <sockframe/socket.hpp>

#include <cstddef>
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

/// Bytes a gathered TLS write copies into one record at most (small buffers are coalesced so that
/// a frame's header and payload leave in one record).
#ifndef SOCKFRAME_TLS_COALESCE_BYTES
#define SOCKFRAME_TLS_COALESCE_BYTES 16384
#endif

SOCKFRAME_NAMESPACE_BEGIN

/// TLS errors that are not the backend's own codes. Compare with `ec == sockframe::tls_errc::...`.
enum class tls_errc {
    truncated = 1,     ///< the transport closed without close_notify (a possible truncation attack)
    handshake_failed,  ///< the handshake failed (details in the backend's code when there is one)
    not_configured,    ///< a context without what its role needs (a server without a certificate)
    no_session         ///< no TLS session on this stream (default-constructed, moved from or closed)
};

namespace detail {
class tls_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "sockframe.tls"; }
    std::string message(int value) const override {
        switch (static_cast<tls_errc>(value)) {
            case tls_errc::truncated: return "TLS stream truncated: the peer closed without close_notify";
            case tls_errc::handshake_failed: return "TLS handshake failed";
            case tls_errc::not_configured: return "TLS context not configured for its role";
            case tls_errc::no_session: return "no TLS session";
        }
        return "unknown TLS error";
    }
};
}  // namespace detail

/// The category of tls_errc codes.
inline const std::error_category& tls_category() noexcept {
    static const detail::tls_category_impl category;
    return category;
}
/// Makes a tls_errc code.
inline std::error_code make_error_code(tls_errc e) noexcept { return {static_cast<int>(e), tls_category()}; }

/// The base of every backend's certificate-verification category: its message() names the
/// verification error ("certificate has expired", "hostname mismatch", ...).
class tls_verify_category : public std::error_category {};

/// Whether `ec` is a failed verification of the peer's certificate (any backend).
inline bool is_tls_verify_error(const std::error_code& ec) noexcept {
    return ec && dynamic_cast<const tls_verify_category*>(&ec.category()) != nullptr;
}

/// The lowest protocol version a context accepts (set_min_version).
enum class tls_version { tls1_2, tls1_3 };

/// Which side of the handshake a stream plays.
enum class tls_role { client, server };

/// What one step of a backend's engine came to.
enum class tls_status {
    done,        ///< finished: `bytes` tells how much was read or written
    want_read,   ///< waits for the socket to become readable
    want_write,  ///< waits for the socket to become writable
    closed,      ///< the peer's close_notify: end-of-stream
    failed       ///< an error (set in the call's error_code)
};

SOCKFRAME_NAMESPACE_END

template <>
struct std::is_error_code_enum<sockframe::tls_errc> : std::true_type {};

SOCKFRAME_NAMESPACE_BEGIN

/// TLS over `Socket` (any stream socket) with the engine of `Backend`. See the top of this header.
template <typename Socket, typename Backend>
class tls_stream {
public:
    /// The socket underneath.
    using next_layer_type = Socket;
    /// The backend policy.
    using backend_type = Backend;
    /// The backend's configuration type.
    using context_type = typename Backend::context;
    /// Policies of the socket underneath (framed reads them).
    using family_type = typename Socket::family_type;
    /// The socket type policy (stream).
    using socket_type = typename Socket::socket_type;
    /// Blocking or non-blocking.
    using mode_type = typename Socket::mode_type;
    /// The address type of the socket underneath.
    using address_type = typename Socket::address_type;
    /// The OS handle type.
    using native_handle_type = typename Socket::native_handle_type;
    /// The type of timeout().
    using duration = typename Socket::duration;

    static_assert(!Socket::socket_type::message_oriented, "tls_stream: TLS runs over stream sockets");

    /// No connection (what framed_server's pool default-constructs).
    tls_stream() noexcept = default;

    /// TLS over the connected `socket` as `role`. A client verifies the server as `ctx` says, the
    /// host name being `host_name` (also sent as SNI; an IP address is checked against the
    /// certificate's IP entries). Throws std::system_error when the engine cannot be set up.
    tls_stream(Socket socket, const context_type& ctx, tls_role role, std::string_view host_name = {})
        : socket_(std::move(socket)) {
        std::error_code ec;
        setup(ctx, role, host_name, ec);
        detail::throw_if(ec, "sockframe: tls_stream");
    }
    /// Never throws: `ec` says whether the engine was set up.
    tls_stream(Socket socket, const context_type& ctx, tls_role role, std::string_view host_name,
               std::error_code& ec)
        : socket_(std::move(socket)) {
        setup(ctx, role, host_name, ec);
    }

    /// A client over `socket` verifying `host_name`.
    static tls_stream client(Socket socket, const context_type& ctx, std::string_view host_name) {
        return tls_stream(std::move(socket), ctx, tls_role::client, host_name);
    }
    /// A server over an accepted `socket`.
    static tls_stream server(Socket socket, const context_type& ctx) {
        return tls_stream(std::move(socket), ctx, tls_role::server);
    }

    /// Resolves and connects to host:service, then completes the handshake, all within `d`.
    static tls_stream connect(std::string_view host, std::string_view service, const context_type& ctx,
                              deadline d = {}) {
        std::error_code ec;
        tls_stream s = connect(host, service, ctx, d, ec);
        if (ec) throw std::system_error(ec, "sockframe: tls connect");
        return s;
    }
    /// Never throws.
    static tls_stream connect(std::string_view host, std::string_view service, const context_type& ctx,
                              deadline d, std::error_code& ec) {
        const auto when = d.resolve(std::nullopt);
        const deadline whole = when ? deadline(*when) : deadline::never();
        Socket s = Socket::connect(host, service, whole, ec);
        if (ec) return {};
        tls_stream t(std::move(s), ctx, tls_role::client, host, ec);
        if (ec) return {};
        t.handshake(whole, ec);
        if (ec) return {};
        return t;
    }

    /// Takes over `other`'s socket and session (`other` is left without either).
    tls_stream(tls_stream&& other) noexcept
        : socket_(std::move(other.socket_)),
          engine_(std::move(other.engine_)),
          staging_(std::move(other.staging_)),
          want_write_(std::exchange(other.want_write_, false)),
          shut_(std::exchange(other.shut_, false)) {}
    /// Closes this stream (close_notify first, as close()), then takes over `other`'s.
    tls_stream& operator=(tls_stream&& other) noexcept {
        if (this != &other) {
            close();
            socket_ = std::move(other.socket_);
            engine_ = std::move(other.engine_);
            staging_ = std::move(other.staging_);
            want_write_ = std::exchange(other.want_write_, false);
            shut_ = std::exchange(other.shut_, false);
        }
        return *this;
    }
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;
    /// Sends close_notify (without waiting) if the handshake is done, then closes.
    ~tls_stream() { close(); }

    /// The socket underneath.
    Socket& next_layer() noexcept { return socket_; }
    /// The socket underneath.
    const Socket& next_layer() const noexcept { return socket_; }
    /// The backend's engine (for calls this layer does not wrap); nullopt without a session.
    typename Backend::engine* engine() noexcept { return engine_ ? &*engine_ : nullptr; }

    /// Whether the socket is open.
    bool is_open() const noexcept { return socket_.is_open(); }
    /// The socket's handle (for pollers and event loops).
    native_handle_type native_handle() const noexcept { return socket_.native_handle(); }
    /// The default deadline of blocking calls (the socket's settimeout).
    std::optional<duration> timeout() const noexcept { return socket_.timeout(); }
    /// Sets the default deadline of blocking calls.
    template <typename T>
    void set_timeout(T t) noexcept {
        socket_.set_timeout(t);
    }
    /// Sets a socket option on the socket underneath.
    template <typename Option>
    void set(const Option& option, std::error_code& ec) noexcept {
        socket_.set(option, ec);
    }
    /// Sets a socket option on the socket underneath (throws).
    template <typename Option>
    void set(const Option& option) {
        socket_.set(option);
    }
    /// The outcome of a non-blocking connect of the socket underneath.
    std::error_code connect_result() const noexcept { return socket_.connect_result(); }
    /// The local address.
    address_type local_address() const { return socket_.local_address(); }
    /// The local address, never throwing (`ec` set on failure).
    address_type local_address(std::error_code& ec) const noexcept { return socket_.local_address(ec); }
    /// The peer's address.
    address_type remote_address() const { return socket_.remote_address(); }
    /// The peer's address, never throwing (`ec` set on failure).
    address_type remote_address(std::error_code& ec) const noexcept { return socket_.remote_address(ec); }

    /// Whether the last call that would block waits for writability (else for readability).
    bool wants_write() const noexcept { return want_write_; }
    /// Whether the handshake has completed.
    bool handshake_done() const noexcept { return engine_ && engine_->handshake_done(); }
    /// Decrypted bytes held by the engine, readable without waiting for the socket.
    std::size_t pending_input() const noexcept { return engine_ ? engine_->pending() : 0; }
    /// The protocol ALPN settled on ("" if none).
    std::string alpn_protocol() const { return engine_ ? engine_->alpn_protocol() : std::string(); }
    /// Whether the kernel encrypts what this stream sends (kTLS).
    bool kernel_tls_send() const noexcept { return engine_ && engine_->kernel_tls_send(); }
    /// Whether the kernel decrypts what this stream receives (kTLS).
    bool kernel_tls_receive() const noexcept { return engine_ && engine_->kernel_tls_receive(); }

    /// Bytes of the peer's read from the socket underneath before TLS began — those that
    /// followed a PROXY protocol header in the same read (haproxy's `send-proxy` with `ssl`):
    /// the engine reads them before anything from the socket, so the ClientHello they begin is
    /// not lost. Call before the handshake. Copies them. Fails with tls_errc::no_session
    /// without a session, and operation_not_supported with kernel TLS (OpenSSL).
    void feed_received(const_buffer bytes, std::error_code& ec) {
        ec.clear();
        if (!engine_) {
            ec = tls_errc::no_session;
            return;
        }
        if (!bytes.empty()) engine_->feed_input(bytes.data(), bytes.size(), ec);
    }
    /// The same (throws std::system_error).
    void feed_received(const_buffer bytes) {
        std::error_code ec;
        feed_received(bytes, ec);
        detail::throw_if(ec, "sockframe: tls feed_received");
    }

    /// Completes the handshake. Blocking: waits (until `d`). Non-blocking: one step;
    /// operation_would_block until it is done. Verification failures carry the backend's
    /// verification category (is_tls_verify_error()); message() names the reason.
    void handshake(deadline d = {}) {
        std::error_code ec;
        handshake(d, ec);
        detail::throw_if(ec, "sockframe: tls handshake");
    }
    /// Never throws.
    void handshake(std::error_code& ec) { handshake(deadline{}, ec); }
    /// Never throws.
    void handshake(deadline d, std::error_code& ec) {
        std::size_t ignored = 0;
        run(d, ec, ignored,
            [](typename Backend::engine& e, std::size_t&, std::error_code& c) { return e.handshake(c); });
    }

    /// Reads what is there (decrypted), at least one byte, waiting if needed. 0: the peer's
    /// close_notify (end-of-stream) or `out` empty. A transport closed without close_notify is
    /// tls_errc::truncated.
    std::size_t read_some(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        const std::size_t n = read_some(out, d, ec);
        detail::throw_if(ec, "sockframe: tls read");
        return n;
    }
    /// Never throws.
    std::size_t read_some(mutable_buffer out, std::error_code& ec) { return read_some(out, deadline{}, ec); }
    /// Never throws. Non-blocking: after the first record, goes on reading while the engine has
    /// bytes, so that no decrypted byte waits unseen behind a socket that is not readable.
    std::size_t read_some(mutable_buffer out, deadline d, std::error_code& ec) {
        ec.clear();
        if (out.empty()) return 0;
        std::size_t n = 0;
        const tls_status st =
            run(d, ec, n, [&](typename Backend::engine& e, std::size_t& bytes, std::error_code& c) {
                return e.read(out.data(), out.size(), bytes, c);
            });
        if (st == tls_status::closed) {
            ec.clear();
            return 0;
        }
        if (ec) return 0;
        while (n < out.size() && engine_->pending() > 0) {
            std::size_t more = 0;
            std::error_code c;
            if (engine_->read(out.data() + n, out.size() - n, more, c) != tls_status::done) break;
            n += more;
        }
        return n;
    }

    /// Reads exactly out.size() bytes; end-of-stream before the first is errc::end_of_stream,
    /// after it errc::truncated_stream.
    std::size_t read_exact(mutable_buffer out, deadline d, std::error_code& ec) {
        const auto when = d.resolve(timeout());
        const deadline whole = when ? deadline(*when) : deadline::never();
        std::size_t total = 0;
        ec.clear();
        while (total < out.size()) {
            const std::size_t n = read_some(out.subspan(total), whole, ec);
            if (ec) return total;
            if (n == 0) {
                ec = total == 0 ? errc::end_of_stream : errc::truncated_stream;
                return total;
            }
            total += n;
        }
        return total;
    }
    /// Reads exactly out.size() bytes (throws).
    std::size_t read_exact(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        const std::size_t n = read_exact(out, d, ec);
        detail::throw_if(ec, "sockframe: tls read_exact");
        return n;
    }

    /// Encrypts and writes what fits now (at least one byte, waiting if needed).
    std::size_t write_some(const_buffer in, deadline d = {}) {
        std::error_code ec;
        const std::size_t n = write_some(in, d, ec);
        detail::throw_if(ec, "sockframe: tls write");
        return n;
    }
    /// Never throws.
    std::size_t write_some(const_buffer in, std::error_code& ec) { return write_some(in, deadline{}, ec); }
    /// Never throws.
    std::size_t write_some(const_buffer in, deadline d, std::error_code& ec) {
        ec.clear();
        if (in.empty()) return 0;
        std::size_t n = 0;
        run(d, ec, n, [&](typename Backend::engine& e, std::size_t& bytes, std::error_code& c) {
            return e.write(in.data(), in.size(), bytes, c);
        });
        return ec ? 0 : n;
    }
    /// Gathered write: small buffers are coalesced (up to SOCKFRAME_TLS_COALESCE_BYTES) so that a
    /// frame's header and payload leave in one record; a large buffer is written in place.
    /// Returns the bytes written (a prefix of the sequence).
    std::size_t write_some(const const_buffer* buffers, std::size_t count, deadline d, std::error_code& ec) {
        ec.clear();
        std::size_t i = 0;
        while (i < count && buffers[i].empty()) ++i;
        if (i == count) return 0;
        if (i + 1 == count || buffers[i].size() >= coalesce_bytes) return write_some(buffers[i], d, ec);
        if (!staging_) staging_.reset(new std::byte[coalesce_bytes]);  // the first gathered write
        std::size_t used = 0;
        for (; i < count && used < coalesce_bytes; ++i) {
            const std::size_t take = std::min(buffers[i].size(), coalesce_bytes - used);
            if (take > 0) std::memcpy(staging_.get() + used, buffers[i].data(), take);
            used += take;
        }
        return write_some(const_buffer(staging_.get(), used), d, ec);
    }
    /// Writes every byte of `in` (blocking streams; a non-blocking one writes what fits and
    /// reports operation_would_block for the rest). Returns the bytes written.
    std::size_t write_all(const_buffer in, deadline d, std::error_code& ec) {
        return write_all(&in, 1, d, ec);
    }
    /// Writes every byte (throws).
    std::size_t write_all(const_buffer in, deadline d = {}) {
        std::error_code ec;
        const std::size_t n = write_all(in, d, ec);
        detail::throw_if(ec, "sockframe: tls write_all");
        return n;
    }
    /// Writes every byte of the `count` buffers (gathered as write_some does).
    std::size_t write_all(const const_buffer* buffers, std::size_t count, deadline d, std::error_code& ec) {
        const auto when = d.resolve(timeout());
        const deadline whole = when ? deadline(*when) : deadline::never();
        std::size_t total = 0, first = 0, skip = 0;
        ec.clear();
        detail::buffer_list<const_buffer, 64> window_list;
        const_buffer* window = window_list.items;
        while (first < count) {
            std::size_t used = 0;
            for (std::size_t k = first; k < count && used < 64; ++k)
                window[used++] = k == first ? buffers[k].subspan(skip) : buffers[k];
            std::size_t n = write_some(window, used, whole, ec);
            if (ec) return total;
            total += n;
            while (first < count) {
                const std::size_t left = buffers[first].size() - skip;
                if (n < left) {
                    skip += n;
                    break;
                }
                n -= left;
                skip = 0;
                ++first;
            }
        }
        return total;
    }

    /// Sends close_notify: the peer reads end-of-stream. Blocking: waits until it is written
    /// (until `d`). Reading stays possible until the peer's close_notify arrives.
    void close_notify(deadline d, std::error_code& ec) {
        ec.clear();
        if (!engine_ || shut_) return;
        std::size_t ignored = 0;
        run(d, ec, ignored,
            [](typename Backend::engine& e, std::size_t&, std::error_code& c) { return e.shutdown(c); });
        if (!ec) shut_ = true;
    }
    /// Sends close_notify (throws).
    void close_notify(deadline d = {}) {
        std::error_code ec;
        close_notify(d, ec);
        detail::throw_if(ec, "sockframe: tls close_notify");
    }
    /// Half-close: `send` (or both) sends close_notify, then shuts the socket down as asked.
    void shutdown(shutdown_type what, std::error_code& ec) {
        if (what != shutdown_type::receive) {
            close_notify(deadline{}, ec);
            if (ec && !is_would_block(ec)) return;
        }
        socket_.shutdown(what, ec);
    }
    /// Half-close (throws).
    void shutdown(shutdown_type what) {
        std::error_code ec;
        shutdown(what, ec);
        detail::throw_if(ec, "sockframe: tls shutdown");
    }

    /// Sends close_notify if the handshake is done (one attempt, never waiting), then closes.
    void close() noexcept {
        if (engine_ && socket_.is_open() && !shut_ && engine_->handshake_done()) {
            std::error_code ignored;
            engine_->shutdown(ignored);
        }
        engine_.reset();
        socket_.close();
        shut_ = false;
        want_write_ = false;
    }
    /// Closes the socket without close_notify: the peer reads tls_errc::truncated.
    void abort() noexcept {
        engine_.reset();
        socket_.close();
    }

private:
    static constexpr std::size_t coalesce_bytes = SOCKFRAME_TLS_COALESCE_BYTES;

    void setup(const context_type& ctx, tls_role role, std::string_view host_name, std::error_code& ec) {
        ec.clear();
        if (!socket_.is_open()) {
            ec = std::make_error_code(std::errc::bad_file_descriptor);
            return;
        }
        // the engine does the socket I/O itself: never let it block outside our deadlines
        ec = detail::set_non_blocking(socket_.native_handle(), true);
        if (ec) return;
        engine_.emplace(ctx, socket_.native_handle(), role, host_name, ec);
        if (ec) engine_.reset();
    }

    /// Runs `step` until it is done, waiting for the socket as the engine asks (blocking mode,
    /// until `d`), or once (non-blocking mode: operation_would_block when it would wait).
    template <typename Step>
    tls_status run(deadline d, std::error_code& ec, std::size_t& bytes, Step&& step) {
        ec.clear();
        if (!engine_) {
            ec = tls_errc::no_session;
            return tls_status::failed;
        }
        std::optional<deadline::clock::time_point> when;
        bool resolved = false;
        for (;;) {
            const tls_status st = step(*engine_, bytes, ec);
            if (st == tls_status::done || st == tls_status::closed || st == tls_status::failed) {
                want_write_ = false;
                return st;
            }
            want_write_ = st == tls_status::want_write;
            if constexpr (!mode_type::is_blocking) {
                (void)d;
                ec = detail::would_block_error();
                return st;
            } else {
                if (!resolved) {
                    when = d.resolve(timeout());
                    resolved = true;
                }
                ec = detail::wait_ready(socket_.native_handle(),
                                        want_write_ ? detail::poll_out : detail::poll_in, when);
                if (ec) return tls_status::failed;
            }
        }
    }

    Socket socket_;
    std::optional<typename Backend::engine> engine_;
    std::unique_ptr<std::byte[]> staging_;
    bool want_write_ = false;
    bool shut_ = false;
};

/// A listener whose accept() gives tls_stream servers over `Listener`'s connections (the
/// handshake runs in the first read or write, or in handshake()). For framed_server: its
/// socket_type is the TLS stream.
template <typename Listener, typename Backend>
class tls_listener {
public:
    /// The listener underneath.
    using listener_type = Listener;
    /// The streams accept() gives.
    using socket_type = tls_stream<typename Listener::socket_type, Backend>;
    /// The address type.
    using address_type = typename Listener::address_type;
    /// The OS handle type.
    using native_handle_type = typename Listener::native_handle_type;
    /// The backend's configuration type.
    using context_type = typename Backend::context;

    /// No listener.
    tls_listener() = default;
    /// Accepts on `listener`, each connection a TLS server configured by `ctx`.
    tls_listener(Listener listener, context_type ctx)
        : listener_(std::move(listener)), ctx_(std::move(ctx)) {}

    /// The next connection, as a TLS server stream.
    accepted<socket_type> accept(deadline d = {}) {
        std::error_code ec;
        auto a = accept(d, ec);
        detail::throw_if(ec, "sockframe: tls accept");
        return a;
    }
    /// Never throws.
    accepted<socket_type> accept(std::error_code& ec) { return accept(deadline{}, ec); }
    /// Never throws.
    accepted<socket_type> accept(deadline d, std::error_code& ec) {
        auto a = listener_.accept(d, ec);
        if (ec) return {};
        socket_type s(std::move(a.socket), ctx_, tls_role::server, {}, ec);
        if (ec) return {};
        return {std::move(s), a.from};
    }

    /// The listener underneath.
    Listener& next_layer() noexcept { return listener_; }
    /// The TLS configuration of accepted streams.
    context_type& context() noexcept { return ctx_; }
    /// Whether the listener is open.
    bool is_open() const noexcept { return listener_.is_open(); }
    /// The listening handle.
    native_handle_type native_handle() const noexcept { return listener_.native_handle(); }
    /// The bound address (port 0 resolved).
    address_type local_address() const { return listener_.local_address(); }
    /// Stops listening.
    void close() noexcept { listener_.close(); }

private:
    Listener listener_;
    context_type ctx_;
};

SOCKFRAME_NAMESPACE_END
