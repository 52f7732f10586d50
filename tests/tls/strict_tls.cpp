// SPDX-License-Identifier: MIT
// The TLS headers' templates instantiated under strict warnings (compiled by .ci/jobs/67-tls.sh
// with -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast -Werror, both backends).
#include <sockframe/tls.hpp>
#include <sockframe/tls/mbedtls.hpp>

#include <sockframe/sockframe.hpp>

namespace sf = sockframe;

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L
// coroutines over TLS (coro.hpp): the handshake awaitables and a framed echo session
template <typename Backend>
sf::task<void> coro_session(sf::event_loop& loop, sf::tls_stream<sf::tcp_stream_nb, Backend> s) {
    std::error_code ec;
    co_await sf::async_handshake(loop, s, sf::deadline{}, ec);
    sf::async_framed<sf::tls_stream<sf::tcp_stream_nb, Backend>, sf::length_prefix<std::uint32_t>> conn{
        loop, std::move(s)};
    co_await conn.handshake(sf::deadline{}, sf::cancel_token{});
    while (auto m = co_await conn.receive()) co_await conn.send(*m);
    co_await conn.flush();
}
#endif

template <typename Backend>
void instantiate() {
    using codec = sf::length_prefix<std::uint32_t>;
    std::error_code ec;
    sf::framed<sf::tls_stream<sf::tcp_stream, Backend>, codec> blocking(
        sf::tls_stream<sf::tcp_stream, Backend>{});
    blocking.send(sf::const_buffer("x", 1), ec);
    blocking.send({sf::const_buffer("a", 1), sf::const_buffer("b", 1)}, ec);
    blocking.queue(sf::const_buffer("x", 1), ec);
    blocking.flush(ec);
    (void)blocking.receive(ec);
    blocking.endpoint().close_notify(sf::deadline{}, ec);
    blocking.endpoint().shutdown(sf::shutdown_type::send, ec);
    char b[4];
    (void)blocking.endpoint().read_exact(sf::mutable_buffer(b, 4), sf::deadline{}, ec);
    sf::framed<sf::tls_stream<sf::unix_stream_nb, Backend>, sf::line> nb(
        sf::tls_stream<sf::unix_stream_nb, Backend>{});
    nb.send(sf::const_buffer("x", 1), ec);
    nb.flush(ec);
    (void)nb.receive(ec);
    nb.endpoint().handshake(ec);
    nb.endpoint().feed_received(sf::const_buffer("x", 1), ec);
    sf::event_loop loop;
#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L
    (void)coro_session<Backend>(loop, {});
#endif
    using listener = sf::tls_listener<sf::tcp_listener_nb, Backend>;
    sf::server_options options;
    options.proxy_protocol = sf::proxy_protocol_mode::require;
    sf::framed_server<listener, codec> server(loop, codec{}, options);
    server.on_frame([](auto& c, sf::const_buffer p) { c.send(p); });
    auto ctx = Backend::context::client();
    ctx.insecure_no_hostname_check().set_alpn({"a"});
    (void)sf::tls_stream<sf::tcp_stream, Backend>::connect("localhost", "1", ctx, sf::deadline{}, ec);
}

void instantiate_all() {
    instantiate<sf::openssl_backend>();
    instantiate<sf::mbedtls_backend>();
}
