// SPDX-License-Identifier: MIT
// Coroutines over TLS (coro.hpp + tls/stream.hpp), over every backend built: async_handshake
// (success, a failure as an error code, a deadline, cancellation), and an echo server and client
// written as coroutines on one event loop: many small frames, frames larger than a TLS record,
// a receive and a send waiting at the same time on one TLS stream, and frames that are already
// decrypted inside the TLS library when no more bytes will arrive on the socket. Built as C++20
// only (tests/CMakeLists.txt).
#include <sockframe/coro.hpp>
#include <sockframe/tls.hpp>
#if defined(SOCKFRAME_TEST_MBEDTLS)
#include <sockframe/tls/mbedtls.hpp>
#endif

#include <sockframe/sockframe.hpp>

#include "support/net.hpp"
#include "tls/tls_support.hpp"

#include <doctest/doctest.h>

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace sf = sockframe;
using namespace std::chrono_literals;
using tls_test::pki;

#if defined(SOCKFRAME_TEST_MBEDTLS)
#define TLS_BACKENDS sf::openssl_backend, sf::mbedtls_backend
#else
#define TLS_BACKENDS sf::openssl_backend
#endif

namespace {

/// Every wait is bounded by this: reaching it is a failure, never a sleep.
constexpr auto limit = 20s;

template <typename B>
typename B::context server_context() {
    auto ctx = B::context::server();
    ctx.use_certificate_chain_file(pki::get().file("server.pem"));
    ctx.use_private_key_file(pki::get().file("server.key"));
    return ctx;
}
template <typename B>
typename B::context client_context() {
    auto ctx = B::context::client();
    ctx.load_verify_file(pki::get().file("ca.pem"));
    return ctx;
}

template <typename B>
using stream_t = sf::tls_stream<sf::tcp_stream_nb, B>;
template <typename B>
using conn_t = sf::async_framed<stream_t<B>, sf::length_prefix<std::uint32_t>>;
template <typename B>
using listener_t = sf::tls_listener<sf::tcp_listener_nb, B>;

/// Runs `t` on `loop`; a guard timer makes a hung test fail instead of hanging.
template <typename T>
T run_bounded(sf::event_loop& loop, sf::task<T> t) {
    auto guard = loop.after(3 * limit, [] { throw std::runtime_error("test did not finish in time"); });
    struct cancel_guard {
        sf::timer& t;
        ~cancel_guard() { t.cancel(); }
    } g{guard};
    return sf::run_task(loop, std::move(t));
}

/// Payload number `i` of size `size`: bytes that depend on both, so that a frame delivered out
/// of order or cut short is seen.
std::string payload(std::size_t i, std::size_t size) {
    std::string s(size, '\0');
    for (std::size_t k = 0; k < size; ++k) s[k] = static_cast<char>('a' + (i * 7 + k * 13) % 26);
    return s;
}

std::string text(sf::const_buffer b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

/// The coroutine echo server: one connection, every frame back until end-of-stream. Reports
/// its end in `result` ("" on a clean end).
template <typename B>
sf::task<void> echo_server(sf::event_loop& loop, listener_t<B>& listener, std::string& result) {
    try {
        auto accepted = co_await sf::async_accept(loop, listener, limit);
        conn_t<B> conn{loop, std::move(accepted.socket)};
        co_await conn.handshake(limit);
        while (auto msg = co_await conn.receive(limit)) co_await conn.send(*msg, limit);
        co_await conn.flush(limit);
        conn.close();
        result.clear();
    } catch (const std::exception& e) {
        result = e.what();
    }
}

/// A client connected and through its handshake.
template <typename B>
sf::task<conn_t<B>> tls_client(sf::event_loop& loop, sf::ipv4_address address) {
    auto socket = co_await sf::async_connect(loop, address, limit);
    conn_t<B> conn{loop,
                   stream_t<B>(std::move(socket), client_context<B>(), sf::tls_role::client, "localhost")};
    co_await conn.handshake(limit);
    co_return conn;
}

/// Sends `sizes.size()` frames, each of its size, from one coroutine while this one reads the
/// echoes (a receive and a send waiting at the same time on one TLS stream); returns the number
/// of echoes that came back equal to what was sent, in order.
template <typename B>
sf::task<std::size_t> pipelined_echo(sf::event_loop& loop, sf::ipv4_address address,
                                     const std::vector<std::size_t>& sizes) {
    conn_t<B> conn = co_await tls_client<B>(loop, address);
    CHECK(conn.connection().endpoint().handshake_done());
    bool writer_done = false;
    std::exception_ptr writer_error;
    auto writer = [](conn_t<B>& c, const std::vector<std::size_t>& all) -> sf::task<void> {
        for (std::size_t i = 0; i < all.size(); ++i) {
            const std::string p = payload(i, all[i]);
            co_await c.send(sf::const_buffer(p.data(), p.size()), limit);
        }
    };
    sf::co_spawn(loop, writer(conn, sizes), [&](std::exception_ptr e) {
        writer_error = e;
        writer_done = true;
    });
    std::size_t good = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        auto echo = co_await conn.receive(limit);
        if (!echo) break;
        if (text(*echo) == payload(i, sizes[i])) ++good;
    }
    // the last echo came back: the writer's last send has completed (its bytes all left)
    CHECK(writer_done);
    if (writer_error) std::rethrow_exception(writer_error);
    conn.close();
    co_return good;
}

}  // namespace

TEST_CASE_TEMPLATE("tls coro: echo of many small frames, pipelined, over one TLS stream", B, TLS_BACKENDS) {
    sf::event_loop loop;
    listener_t<B> listener(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), server_context<B>());
    std::string server_result = "not finished";
    sf::co_spawn(loop, echo_server<B>(loop, listener, server_result));
    const std::vector<std::size_t> sizes(5000, 16);
    const std::size_t good = run_bounded(loop, pipelined_echo<B>(loop, listener.local_address(), sizes));
    CHECK(good == sizes.size());
    for (int i = 0; i < 1000 && server_result == "not finished"; ++i) loop.run_for(10ms);
    CHECK(server_result == "");
}

TEST_CASE_TEMPLATE("tls coro: echo of frames larger than a TLS record (16 KiB), both ways at once", B,
                   TLS_BACKENDS) {
    sf::event_loop loop;
    listener_t<B> listener(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), server_context<B>());
    std::string server_result = "not finished";
    sf::co_spawn(loop, echo_server<B>(loop, listener, server_result));
    // record-sized, just over it, several records, and a mix with small ones: more than the
    // socket buffers hold, so both sides wait for writability while the other reads
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i < 60; ++i) {
        const std::size_t choice[] = {16384, 16385, 70000, 3, 1 << 20, 40000};
        sizes.push_back(choice[i % 6]);
    }
    const std::size_t good = run_bounded(loop, pipelined_echo<B>(loop, listener.local_address(), sizes));
    CHECK(good == sizes.size());
    for (int i = 0; i < 1000 && server_result == "not finished"; ++i) loop.run_for(10ms);
    CHECK(server_result == "");
}

TEST_CASE_TEMPLATE(
    "tls coro: frames already decrypted inside the TLS library are delivered without waiting "
    "for the socket",
    B, TLS_BACKENDS) {
    // The client writes 400 frames in one TLS record and then nothing (it waits for the
    // echoes). The server reads through a 64-byte receive buffer: most of the record stays
    // decrypted inside the TLS library, where no readiness event announces it.
    sf::event_loop loop;
    listener_t<B> listener(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), server_context<B>());
    constexpr std::size_t frames = 400;
    std::size_t served = 0, held = 0;
    auto server = [&]() -> sf::task<void> {
        auto accepted = co_await sf::async_accept(loop, listener, limit);
        conn_t<B> conn{loop, std::move(accepted.socket)};
        conn.connection().set_initial_receive_capacity(64);
        co_await conn.handshake(limit);
        for (std::size_t i = 0; i < frames; ++i) {
            auto msg = co_await conn.receive(limit);
            REQUIRE(msg);
            CHECK(text(*msg) == payload(i, 16));
            ++served;
            if (conn.connection().endpoint().pending_input() > 0) ++held;
        }
        CHECK(held > 0);  // frames did wait inside the TLS library
        CHECK(conn.connection().endpoint().pending_input() == 0);
        co_await conn.send(sf::const_buffer("done", 4), limit);
        co_await conn.flush(limit);
    };
    sf::co_spawn(loop, server());
    auto client = [&]() -> sf::task<std::string> {
        conn_t<B> conn = co_await tls_client<B>(loop, listener.local_address());
        for (std::size_t i = 0; i < frames; ++i) {
            const std::string p = payload(i, 16);
            conn.connection().queue(sf::const_buffer(p.data(), p.size()));
        }
        co_await conn.flush(limit);  // 8 KB: one write, one record
        auto reply = co_await conn.receive(limit);
        co_return reply ? text(*reply) : std::string("end of stream");
    };
    CHECK(run_bounded(loop, client()) == "done");
    CHECK(served == frames);
}

TEST_CASE_TEMPLATE("tls coro: a handshake that fails is an error code (no-throw form) or an exception", B,
                   TLS_BACKENDS) {
    sf::event_loop loop;
    listener_t<B> listener(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), server_context<B>());
    std::error_code server_ec;
    int server_failures = 0;
    bool server_done = false;  // the coroutine has ended: nothing is left suspended on the loop
    auto server = [&]() -> sf::task<void> {
        for (int round = 0; round < 2; ++round) {
            auto accepted = co_await sf::async_accept(loop, listener, limit);
            co_await sf::async_handshake(loop, accepted.socket, limit, server_ec);
            if (!server_ec) break;  // cannot happen: the client refuses the server
            ++server_failures;
        }
        server_done = true;
    };
    sf::co_spawn(loop, server());
    // a client that trusts another CA: the server's certificate does not verify
    auto client = [&](bool no_throw) -> sf::task<std::error_code> {
        auto ctx = B::context::client();
        ctx.load_verify_file(pki::get().file("other_ca.pem"));
        auto socket = co_await sf::async_connect(loop, listener.local_address(), limit);
        stream_t<B> s(std::move(socket), ctx, sf::tls_role::client, "localhost");
        std::error_code ec;
        if (no_throw) {
            co_await sf::async_handshake(loop, s, limit, ec);
        } else {
            try {
                co_await sf::async_handshake(loop, s, limit);
            } catch (const std::system_error& e) {
                ec = e.code();
            }
        }
        s.abort();
        co_return ec;
    };
    const std::error_code no_throw = run_bounded(loop, client(true));
    CHECK(no_throw);
    CHECK_MESSAGE(sf::is_tls_verify_error(no_throw), no_throw.message());
    const std::error_code thrown = run_bounded(loop, client(false));
    CHECK_MESSAGE(sf::is_tls_verify_error(thrown), thrown.message());
    for (int i = 0; i < 1000 && !server_done; ++i) loop.run_for(10ms);
    REQUIRE(server_done);
    CHECK(server_failures == 2);  // the server's handshakes failed too (the client's alert, or the cut)
}

TEST_CASE_TEMPLATE(
    "tls coro: a handshake with a peer that never answers ends at its deadline, or when cancelled", B,
    TLS_BACKENDS) {
    sf::event_loop loop;
    // a plain TCP listener: the connection is accepted by the kernel, and nobody speaks TLS
    sf::tcp_listener_nb silent(sf::ipv4_address::loopback(0));
    sf::cancel_source source;
    auto canceller = [&]() -> sf::task<void> {
        co_await sf::async_sleep(loop, 0ms);  // the handshake has suspended by now
        source.cancel();
    };
    auto attempt = [&](sf::deadline d, sf::cancel_token token) -> sf::task<std::error_code> {
        auto socket = co_await sf::async_connect(loop, silent.local_address(), limit);
        stream_t<B> s(std::move(socket), client_context<B>(), sf::tls_role::client, "localhost");
        if (token.can_be_cancelled() && !token.cancelled()) sf::co_spawn(loop, canceller());
        std::error_code ec;
        co_await sf::async_handshake(loop, s, d, std::move(token), ec);
        CHECK(!s.handshake_done());
        co_return ec;
    };
    const auto start = sf::deadline::clock::now();
    CHECK(run_bounded(loop, attempt(sf::deadline(200ms), {})) == std::errc::timed_out);
    CHECK(sf::deadline::clock::now() - start >= 200ms);

    CHECK(run_bounded(loop, attempt(sf::deadline::never(), source.token())) == std::errc::operation_canceled);
    // an already cancelled token: not even tried
    CHECK(run_bounded(loop, attempt(sf::deadline::never(), source.token())) == std::errc::operation_canceled);
}

#endif
