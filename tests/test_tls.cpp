// SPDX-License-Identifier: MIT
// TLS streams (tls/stream.hpp) over every backend built: verification on by default and refusal
// of bad certificates, framed echo with every codec, close_notify vs truncation, non-blocking
// handshakes through the poller, framed_server with 1,000 TLS connections, ALPN, SNI, client
// certificates, session resumption, and real peers (openssl s_server / s_client, Python's ssl).
#include <sockframe/tls.hpp>
#if defined(SOCKFRAME_TEST_MBEDTLS)
#include <sockframe/tls/mbedtls.hpp>
#endif

#include <sockframe/sockframe.hpp>

#include "support/net.hpp"
#include "tls/tls_support.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sf = sockframe;
using namespace std::chrono_literals;
using tls_test::child;
using tls_test::pki;

#if defined(SOCKFRAME_TEST_MBEDTLS)
#define TLS_BACKENDS sf::openssl_backend, sf::mbedtls_backend
#else
#define TLS_BACKENDS sf::openssl_backend
#endif

namespace {
constexpr auto limit = 20s;

template <typename B>
typename B::context server_context(const std::string& name = "server") {
    auto ctx = B::context::server();
    ctx.use_certificate_chain_file(pki::get().file(name + ".pem"));
    ctx.use_private_key_file(pki::get().file(name + ".key"));
    return ctx;
}
template <typename B>
typename B::context client_context() {
    auto ctx = B::context::client();
    ctx.load_verify_file(pki::get().file("ca.pem"));
    return ctx;
}

/// A TLS server on 127.0.0.1 that accepts one connection on its own thread and runs `serve`.
template <typename B>
struct one_shot_server {
    using stream = sf::tls_stream<sf::tcp_stream, B>;
    sf::tcp_listener listener{sf::ipv4_address::loopback(0)};
    std::error_code handshake_error;
    std::string serve_error;
    test_support::joining_thread thread;

    template <typename F>
    one_shot_server(typename B::context ctx, F serve)
        : thread([this, ctx, serve]() mutable {
              std::error_code ec;
              auto a = listener.accept(sf::deadline(limit), ec);
              if (ec) return;
              stream s(std::move(a.socket), ctx, sf::tls_role::server);
              s.set_timeout(limit);
              s.handshake(handshake_error);
              try {
                  if (!handshake_error) serve(s);
              } catch (const std::exception& e) {
                  serve_error = e.what();  // the test checks it where it matters
              }
          }) {}
    std::uint16_t port() const { return listener.local_address().port(); }
};

template <typename B>
sf::tls_stream<sf::tcp_stream, B> connect_client(std::uint16_t port, const typename B::context& ctx,
                                                 const std::string& host, std::error_code& ec) {
    auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), limit);
    sf::tls_stream<sf::tcp_stream, B> t(std::move(s), ctx, sf::tls_role::client, host);
    t.set_timeout(limit);
    t.handshake(ec);
    return t;
}

/// The error a client gets connecting to a server presenting `name`.pem.
template <typename B>
std::error_code refusal(const std::string& name, const std::string& host = "localhost") {
    one_shot_server<B> server(server_context<B>(name), [](auto& s) {
        char b[1];
        std::error_code ignored;
        s.read_some(sf::mutable_buffer(b, 1), ignored);
    });
    std::error_code ec;
    auto c = connect_client<B>(server.port(), client_context<B>(), host, ec);
    c.abort();
    return ec;
}
}  // namespace

TEST_CASE_TEMPLATE("tls: a verified handshake, then bytes both ways and close_notify as end-of-stream", B,
                   TLS_BACKENDS) {
    std::string got_by_server;
    bool server_saw_end = false;
    one_shot_server<B> server(server_context<B>(), [&](auto& s) {
        char b[64];
        std::error_code ec;
        for (;;) {
            const std::size_t n = s.read_some(sf::mutable_buffer(b, sizeof b), ec);
            if (ec || n == 0) break;
            got_by_server.append(b, n);
            s.write_all(sf::const_buffer(b, n), sf::deadline{}, ec);
        }
        server_saw_end = !ec;
        s.close_notify();
    });
    std::error_code ec;
    auto c = connect_client<B>(server.port(), client_context<B>(), "localhost", ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    CHECK(c.handshake_done());
    c.write_all(sf::const_buffer("hello", 5));
    char b[5];
    c.read_exact(sf::mutable_buffer(b, 5));
    CHECK(std::string(b, 5) == "hello");
    c.close_notify();
    CHECK(c.read_some(sf::mutable_buffer(b, 5), ec) == 0);
    CHECK_MESSAGE(!ec, ec.message());  // the server's close_notify: end-of-stream, not an error
    server.thread.join();
    CHECK(got_by_server == "hello");
    CHECK(server_saw_end);
}

TEST_CASE_TEMPLATE("tls: the same certificate verifies by IP address (127.0.0.1 in its names)", B,
                   TLS_BACKENDS) {
    one_shot_server<B> server(server_context<B>(), [](auto& s) { s.write_all(sf::const_buffer("x", 1)); });
    std::error_code ec;
    auto c = connect_client<B>(server.port(), client_context<B>(), "127.0.0.1", ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    char b;
    CHECK(c.read_some(sf::mutable_buffer(&b, 1)) == 1);
    server.thread.join();
    CHECK(server.serve_error.empty());
}

TEST_CASE_TEMPLATE("tls: refuses expired, self-signed, wrong-host and wrong-CA certificates, naming why", B,
                   TLS_BACKENDS) {
    struct expectation {
        const char* cert;
        const char* host;
        const char* words;  // the verification error's message contains this
    };
    const expectation cases[] = {{"expired", "localhost", "expired"},
                                 {"self_signed", "localhost", "self"},
                                 {"wrong_host", "localhost", "host"},
                                 {"server", "not-localhost.test", "host"},
                                 {"wrong_ca", "localhost", "issue"}};
    for (const auto& e : cases) {
        CAPTURE(e.cert);
        CAPTURE(e.host);
        const std::error_code ec = refusal<B>(e.cert, e.host);
        REQUIRE(ec);
        CHECK_MESSAGE(sf::is_tls_verify_error(ec), ec.message());
        std::string message = ec.message();
        for (auto& ch : message) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        CHECK_MESSAGE(message.find(e.words) != std::string::npos, message);
    }
}

TEST_CASE_TEMPLATE("tls: verification is on by default (system store) and off only by insecure_no_verify", B,
                   TLS_BACKENDS) {
    {
        one_shot_server<B> server(server_context<B>(), [](auto&) {});
        std::error_code ec;
        auto c = connect_client<B>(server.port(), B::context::client(), "localhost", ec);
        CHECK(sf::is_tls_verify_error(ec));  // the test CA is not in the system store
        c.abort();
    }
    {
        one_shot_server<B> server(server_context<B>("self_signed"),
                                  [](auto& s) { s.write_all(sf::const_buffer("k", 1)); });
        auto ctx = B::context::client();
        ctx.insecure_no_verify();
        std::error_code ec;
        auto c = connect_client<B>(server.port(), ctx, "localhost", ec);
        CHECK_MESSAGE(!ec, ec.message());
        char b;
        CHECK(c.read_some(sf::mutable_buffer(&b, 1)) == 1);
    }
}

TEST_CASE_TEMPLATE("tls: a stream cut without close_notify is tls_errc::truncated, never end-of-stream", B,
                   TLS_BACKENDS) {
    one_shot_server<B> server(server_context<B>(), [](auto& s) {
        s.write_all(sf::const_buffer("part", 4));
        s.abort();  // the socket closes without close_notify
    });
    std::error_code ec;
    auto c = connect_client<B>(server.port(), client_context<B>(), "localhost", ec);
    REQUIRE(!ec);
    char b[16];
    std::string got;
    for (int i = 0; i < 10 && !ec; ++i) {
        const std::size_t n = c.read_some(sf::mutable_buffer(b, sizeof b), ec);
        if (!ec && n == 0) break;
        got.append(b, n);
    }
    CHECK(got == "part");
    CHECK(ec == sf::tls_errc::truncated);

    // framed reports it as an error too (a system_error), not as at_end()
    one_shot_server<B> server2(server_context<B>(), [](auto& s) {
        sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::length_prefix<std::uint32_t>> f(std::move(s));
        f.send(sf::const_buffer("one", 3));
        f.endpoint().abort();
    });
    auto c2 = connect_client<B>(server2.port(), client_context<B>(), "localhost", ec);
    REQUIRE(!ec);
    sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::length_prefix<std::uint32_t>> f(std::move(c2));
    auto one = f.receive(ec);
    REQUIRE(one);
    CHECK(one->str() == "one");
    CHECK(!f.receive(ec));
    CHECK(ec == sf::tls_errc::truncated);
    CHECK(!f.at_end());
}

TEST_CASE_TEMPLATE("tls: writing to a peer that is gone is an error, never SIGPIPE", B, TLS_BACKENDS) {
    std::atomic<bool> gone{false};
    one_shot_server<B> server(server_context<B>(), [&](auto& s) {
        s.abort();
        gone = true;
    });
    std::error_code ec;
    auto c = connect_client<B>(server.port(), client_context<B>(), "localhost", ec);
    REQUIRE(!ec);
    server.thread.join();
    REQUIRE(gone.load());
    const std::string block(16384, 'p');
    for (int i = 0; i < 200 && !ec; ++i)
        c.write_all(sf::const_buffer(block.data(), block.size()), sf::deadline{}, ec);
    CHECK(ec);  // EPIPE or a reset, reported; the process is still here
}

namespace {
template <typename B, typename Codec>
void framed_echo_round(Codec codec, const std::vector<std::string>& payloads) {
    using stream = sf::tls_stream<sf::tcp_stream, B>;
    one_shot_server<B> server(server_context<B>(), [codec](stream& s) {
        sf::framed<stream, Codec> f(std::move(s), codec);
        std::error_code ec;
        while (auto m = f.receive(ec)) f.send(*m, ec);
        f.endpoint().close_notify();
    });
    std::error_code ec;
    auto c = connect_client<B>(server.port(), client_context<B>(), "localhost", ec);
    REQUIRE(!ec);
    sf::framed<stream, Codec> f(std::move(c), codec);
    for (const auto& p : payloads) f.queue(p);
    f.flush();
    for (const auto& p : payloads) {
        auto m = f.receive(sf::deadline(limit));
        REQUIRE(m);
        CHECK(m->str() == p);
    }
    f.endpoint().close_notify();
    CHECK(!f.receive(ec));
    CHECK_MESSAGE(!ec, ec.message());
    CHECK(f.at_end());
}
std::vector<std::string> payloads(std::size_t fixed = 0) {
    std::vector<std::string> v;
    const std::size_t sizes[] = {0, 1, 16, 100, 5000, 16384, 70000};
    for (int round = 0; round < 3; ++round)
        for (std::size_t size : sizes) {
            const std::size_t n = fixed ? fixed : size;
            std::string p(n, '\0');
            for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>('a' + (i * 7 + size + round) % 26);
            v.push_back(p);
        }
    return v;
}
}  // namespace

TEST_CASE_TEMPLATE("tls: framed echo with every codec", B, TLS_BACKENDS) {
    SUBCASE("length_prefix<uint8_t>") {
        auto p = payloads();
        std::vector<std::string> small;
        for (auto& s : p)
            if (s.size() < 256) small.push_back(s);
        framed_echo_round<B>(sf::length_prefix<std::uint8_t>{}, small);
    }
    SUBCASE("length_prefix<uint16_t>") {
        std::vector<std::string> v;
        for (auto& s : payloads())
            if (s.size() < 65536) v.push_back(s);
        framed_echo_round<B>(sf::length_prefix<std::uint16_t>{}, v);
    }
    SUBCASE("length_prefix<uint32_t>") {
        framed_echo_round<B>(sf::length_prefix<std::uint32_t>{}, payloads());
    }
    SUBCASE("length_prefix<uint64_t, little_endian>") {
        framed_echo_round<B>(sf::length_prefix<std::uint64_t, sf::little_endian>{}, payloads());
    }
    SUBCASE("varint_prefix") { framed_echo_round<B>(sf::varint_prefix{}, payloads()); }
    SUBCASE("line") {
        std::vector<std::string> v;
        for (auto& s : payloads())
            if (!s.empty()) v.push_back(s);  // letters only: never a line end
        framed_echo_round<B>(sf::line{}, v);
    }
    SUBCASE("delimiter") { framed_echo_round<B>(sf::delimiter{"|"}, payloads()); }
    SUBCASE("netstring") { framed_echo_round<B>(sf::make_netstring(), payloads()); }
    SUBCASE("fixed_size") { framed_echo_round<B>(sf::fixed_size{100}, payloads(100)); }
    SUBCASE("checked<length_prefix> (crc32c)") {
        framed_echo_round<B>(sf::checked<sf::length_prefix<std::uint32_t>>{}, payloads());
    }
    SUBCASE("any_codec") { framed_echo_round<B>(sf::parse_codec_spec("len:4"), payloads()); }
}

TEST_CASE_TEMPLATE("tls: framed over TLS over a Unix-domain socket pair", B, TLS_BACKENDS) {
    using stream = sf::tls_stream<sf::unix_stream, B>;
    auto [a, b] = sf::socketpair<sf::unix_stream>();
    stream server(std::move(b), server_context<B>(), sf::tls_role::server);
    test_support::joining_thread t([&] {
        sf::framed<stream, sf::length_prefix<std::uint32_t>> f(std::move(server));
        std::error_code ec;
        while (auto m = f.receive(ec)) f.send(*m, ec);
    });
    stream client(std::move(a), client_context<B>(), sf::tls_role::client, "localhost");
    sf::framed<stream, sf::length_prefix<std::uint32_t>> f(std::move(client));
    f.send(sf::const_buffer("over unix", 9));
    auto m = f.receive(sf::deadline(limit));
    REQUIRE(m);
    CHECK(m->str() == "over unix");
    f.endpoint().close_notify();
}

TEST_CASE_TEMPLATE("tls: a non-blocking handshake and echo driven by the poller", B, TLS_BACKENDS) {
    using stream = sf::tls_stream<sf::tcp_stream_nb, B>;
    sf::tcp_listener_nb listener(sf::ipv4_address::loopback(0));
    std::error_code ec;
    auto raw_client = sf::tcp_stream_nb::connect(listener.local_address(), sf::deadline{}, ec);
    REQUIRE((!ec || ec == std::errc::operation_in_progress));
    sf::poller poll;
    poll.add(listener, sf::interest::read, 0);
    std::vector<sf::poll_event> events(8);
    sf::accepted<sf::tcp_stream_nb> a;
    const auto end = sf::deadline::clock::now() + limit;
    while (!a.socket.is_open() && sf::deadline::clock::now() < end) {
        poll.wait(events, 100ms);
        a = listener.accept(ec);
    }
    REQUIRE(a.socket.is_open());
    stream server(std::move(a.socket), server_context<B>(), sf::tls_role::server);
    stream client(std::move(raw_client), client_context<B>(), sf::tls_role::client, "localhost");
    poll.add(server, sf::interest::read, 1);
    poll.add(client, sf::interest::write, 2);

    int would_block = 0;
    std::error_code client_ec = std::make_error_code(std::errc::operation_would_block);
    std::error_code server_ec = client_ec;
    while ((client_ec || server_ec) && sf::deadline::clock::now() < end) {
        if (client_ec) {
            client.handshake(client_ec);
            if (sf::is_would_block(client_ec)) {
                ++would_block;
                poll.modify(client, client.wants_write() ? sf::interest::write : sf::interest::read, 2);
            } else {
                REQUIRE_MESSAGE(!client_ec, client_ec.message());
            }
        }
        if (server_ec) {
            server.handshake(server_ec);
            if (sf::is_would_block(server_ec)) {
                ++would_block;
                poll.modify(server, server.wants_write() ? sf::interest::write : sf::interest::read, 1);
            } else {
                REQUIRE_MESSAGE(!server_ec, server_ec.message());
            }
        }
        if (client_ec || server_ec) poll.wait(events, 100ms);
    }
    CHECK(!client_ec);
    CHECK(!server_ec);
    CHECK(would_block > 0);  // each side had to wait for the other at least once
    CHECK(client.handshake_done());
    CHECK(server.handshake_done());

    // framed over the non-blocking streams: a frame each way, waiting through the poller
    sf::framed<stream, sf::length_prefix<std::uint32_t>> fc(std::move(client)), fs(std::move(server));
    fc.send(sf::const_buffer("ping", 4));
    std::optional<sf::const_buffer> got;
    while (!got && sf::deadline::clock::now() < end) {
        got = fs.receive(ec);
        if (!got) {
            REQUIRE(sf::is_would_block(ec));
            poll.wait(events, 100ms);
        }
    }
    REQUIRE(got);
    CHECK(got->str() == "ping");
}

TEST_CASE_TEMPLATE("tls: ALPN is negotiated; SNI selects the server's certificate", B, TLS_BACKENDS) {
    auto sctx = server_context<B>();
    sctx.set_alpn({"h2", "sockframe/1"});
    sctx.add_server_name("alt.test", server_context<B>("alt"));
    std::string server_alpn;
    one_shot_server<B> server(sctx, [&](auto& s) {
        server_alpn = s.alpn_protocol();
        s.write_all(sf::const_buffer("a", 1));
        s.close_notify();
    });
    auto cctx = client_context<B>();
    cctx.set_alpn({"sockframe/1", "http/1.1"});
    std::error_code ec;
    auto c = connect_client<B>(server.port(), cctx, "alt.test", ec);  // verified as alt.test: SNI worked
    REQUIRE_MESSAGE(!ec, ec.message());
    CHECK(c.alpn_protocol() == "sockframe/1");
    server.thread.join();
    CHECK(server_alpn == "sockframe/1");
}

TEST_CASE_TEMPLATE("tls: client certificates, required by the server", B, TLS_BACKENDS) {
    auto sctx = server_context<B>();
    sctx.load_verify_file(pki::get().file("ca.pem"));
    sctx.verify_client(true);
    SUBCASE("with a certificate from the CA: accepted") {
        one_shot_server<B> server(sctx, [](auto& s) { s.write_all(sf::const_buffer("y", 1)); });
        auto cctx = client_context<B>();
        cctx.use_certificate_chain(pki::get().read("client.pem"));  // from memory
        cctx.use_private_key(pki::get().read("client.key"));
        std::error_code ec;
        auto c = connect_client<B>(server.port(), cctx, "localhost", ec);
        REQUIRE_MESSAGE(!ec, ec.message());
        char b;
        CHECK(c.read_some(sf::mutable_buffer(&b, 1), ec) == 1);
        server.thread.join();
        CHECK(!server.handshake_error);
    }
    SUBCASE("without one: refused") {
        one_shot_server<B> server(sctx, [](auto&) {});
        std::error_code ec;
        auto c = connect_client<B>(server.port(), client_context<B>(), "localhost", ec);
        char b;
        if (!ec) c.read_some(sf::mutable_buffer(&b, 1), ec);  // TLS 1.3: the refusal comes after
        CHECK(ec);
        server.thread.join();
        CHECK(server.handshake_error);
    }
}

TEST_CASE("tls: a session is resumed (OpenSSL)") {
    using B = sf::openssl_backend;
    auto sctx = server_context<B>();
    auto cctx = client_context<B>();
    sf::openssl_session session;
    for (int round = 0; round < 2; ++round) {
        one_shot_server<B> server(sctx, [](auto& s) {
            s.write_all(sf::const_buffer("s", 1));
            s.close_notify();
        });
        auto raw = sf::tcp_stream::connect(sf::ipv4_address::loopback(server.port()), limit);
        sf::tls_stream<sf::tcp_stream, B> c(std::move(raw), cctx, sf::tls_role::client, "localhost");
        c.set_timeout(limit);
        if (round == 1) REQUIRE(c.engine()->set_session(session));
        c.handshake();
        char b;
        CHECK(c.read_some(sf::mutable_buffer(&b, 1)) == 1);  // TLS 1.3 tickets arrive before it
        CHECK(c.engine()->session_reused() == (round == 1));
        session = c.engine()->session();
        REQUIRE(session);
    }
}

TEST_CASE("tls: kernel TLS (OpenSSL) carries frames; engaged when the kernel offers the tls ULP") {
    using B = sf::openssl_backend;
    std::ifstream ulp("/proc/sys/net/ipv4/tcp_available_ulp");
    std::string ulps;
    std::getline(ulp, ulps);
    const bool kernel_offers = ulps.find("tls") != std::string::npos;
    auto sctx = server_context<B>();
    sctx.enable_kernel_tls();
    one_shot_server<B> server(sctx, [](auto& s) {
        sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::length_prefix<std::uint32_t>> f(std::move(s));
        std::error_code ec;
        while (auto m = f.receive(ec)) f.send(*m, ec);
        f.endpoint().close_notify();
    });
    auto cctx = client_context<B>();
    cctx.enable_kernel_tls();
    std::error_code ec;
    auto c = connect_client<B>(server.port(), cctx, "localhost", ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    if (kernel_offers) CHECK(c.kernel_tls_send());
    sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::length_prefix<std::uint32_t>> f(std::move(c));
    const std::string big(100000, 'k');
    f.send(big);
    auto m = f.receive(sf::deadline(limit));
    REQUIRE(m);
    CHECK(m->str() == big);
    f.endpoint().close_notify();
    CHECK(!f.receive(sf::deadline(limit), ec));
    CHECK_MESSAGE(!ec, ec.message());
}

TEST_CASE_TEMPLATE("tls: framed_server serves 1,000 TLS connections at once", B, TLS_BACKENDS) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2600) {
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 4096);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    REQUIRE(rl.rlim_cur >= 2100);
    using codec = sf::length_prefix<std::uint32_t>;
    using listener = sf::tls_listener<sf::tcp_listener_nb, B>;
    using server_type = sf::framed_server<listener, codec>;
    sf::event_loop loop;
    server_type server(loop, codec{});
    server.on_frame([](typename server_type::connection& c, sf::const_buffer payload) { c.send(payload); });
    std::atomic<int> open{0}, closed{0};
    std::atomic<int> clean_closes{0};
    server.on_open([&](typename server_type::connection&) { ++open; });
    server.on_close([&](typename server_type::connection&, std::error_code why) {
        ++closed;
        if (!why) ++clean_closes;
    });
    server.listen(listener(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), server_context<B>()));
    const std::uint16_t port = server.local_address().port();
    test_support::joining_thread runner([&] { loop.run(); });
    struct stopper {
        sf::event_loop& loop;
        ~stopper() { loop.stop(); }
    } stop{loop};

    constexpr int n = 1000;
    // the clients use OpenSSL whatever the server's backend (the server is under test; Mbed TLS
    // 2.28's elliptic curves would make 1,000 client handshakes slow)
    using C = sf::openssl_backend;
    using stream = sf::tls_stream<sf::tcp_stream, C>;
    auto cctx = client_context<C>();
    std::vector<sf::framed<stream, codec>> clients;
    clients.reserve(n);
    for (int i = 0; i < n; ++i) {
        std::error_code ec;
        auto c = connect_client<C>(port, cctx, "localhost", ec);
        REQUIRE_MESSAGE(!ec, i << ": " << ec.message());
        clients.emplace_back(std::move(c));
    }
    for (int i = 0; i < n; ++i)
        clients[static_cast<std::size_t>(i)].send(std::to_string(i) + std::string(100, 'x'));
    for (int i = 0; i < n; ++i) {
        auto m = clients[static_cast<std::size_t>(i)].receive(sf::deadline(limit));
        REQUIRE(m);
        CHECK(m->str() == std::to_string(i) + std::string(100, 'x'));
    }
    CHECK(open.load() == n);
    for (auto& c : clients) c.endpoint().close_notify();
    for (auto& c : clients) {
        std::error_code ec;
        CHECK(!c.receive(sf::deadline(limit), ec));  // the server closes after our close_notify
        CHECK_MESSAGE(!ec, ec.message());
    }
    clients.clear();
    const auto end = sf::deadline::clock::now() + limit;
    while (closed.load() < n && sf::deadline::clock::now() < end) std::this_thread::yield();
    CHECK(closed.load() == n);
    CHECK(clean_closes.load() == n);
}

namespace {
/// Runs `step(ec)` on a non-blocking TLS stream until it does not would-block, waiting in poll()
/// for the direction the stream asks; bounded by `limit`.
template <typename Stream, typename Step>
std::error_code drive(const Stream& s, Step step) {
    const auto end = sf::deadline::clock::now() + limit;
    for (;;) {
        std::error_code ec;
        step(ec);
        if (!sf::is_would_block(ec)) return ec;
        if (sf::deadline::clock::now() >= end) return std::make_error_code(std::errc::timed_out);
        pollfd p{s.native_handle(), static_cast<short>(s.wants_write() ? POLLOUT : POLLIN), 0};
        ::poll(&p, 1, 100);
    }
}
}  // namespace

TEST_CASE_TEMPLATE(
    "tls: framed_server reads a PROXY header (v1, v2) in clear text, then TLS begins with the "
    "bytes that followed it",
    B, TLS_BACKENDS) {
    // haproxy's `send-proxy` with `ssl`: the header, then the ClientHello, on one connection.
    // The client corks its socket so that both leave in one segment: the server's first read
    // takes the header and the start of the handshake together.
    using codec = sf::length_prefix<std::uint32_t>;
    using listener = sf::tls_listener<sf::tcp_listener_nb, B>;
    using server_type = sf::framed_server<listener, codec>;
    sf::event_loop loop;
    sf::server_options options;
    options.proxy_protocol = sf::proxy_protocol_mode::require;
    options.trusted_proxies = sf::proxy_trust::loopback();
    server_type server(loop, codec{}, options);
    std::mutex m;
    std::vector<std::string> sources;
    server.on_open([&](typename server_type::connection& c) {
        std::lock_guard<std::mutex> lock(m);
        sources.push_back(c.proxy() ? c.proxy()->source().to_string() : std::string("none"));
    });
    server.on_frame([](typename server_type::connection& c, sf::const_buffer payload) { c.send(payload); });
    server.listen(listener(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), server_context<B>()));
    const auto address = server.local_address();
    test_support::joining_thread runner([&] { loop.run(); });
    struct stopper {
        sf::event_loop& loop;
        ~stopper() { loop.stop(); }
    } stop{loop};

    const auto header = sf::proxy_header::tcp(sf::ipv4_address::parse("192.0.2.7", 4321), address);
    const std::string v1 = sf::make_proxy_header_v1(header);
    const std::vector<std::byte> v2 = sf::make_proxy_header_v2(header);
    const sf::const_buffer headers[] = {sf::const_buffer(v1.data(), v1.size()),
                                        sf::const_buffer(v2.data(), v2.size())};
    for (const sf::const_buffer& h : headers) {
        std::error_code ec;
        auto raw = sf::tcp_stream_nb::connect(address, sf::deadline{}, ec);
        REQUIRE((!ec || ec == std::errc::operation_in_progress));
        pollfd p{raw.native_handle(), POLLOUT, 0};
        REQUIRE(::poll(&p, 1, 20000) == 1);
        REQUIRE(!raw.connect_result());
        int on = 1;
        REQUIRE(::setsockopt(raw.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0);
        REQUIRE(raw.write_some(h, ec) == h.size());
        using stream = sf::tls_stream<sf::tcp_stream_nb, B>;
        stream tls(std::move(raw), client_context<B>(), sf::tls_role::client, "localhost");
        tls.handshake(ec);  // writes the ClientHello behind the header, then waits
        REQUIRE(sf::is_would_block(ec));
        int off = 0;
        REQUIRE(::setsockopt(tls.native_handle(), IPPROTO_TCP, TCP_CORK, &off, sizeof off) == 0);
        ec = drive(tls, [&](std::error_code& e) { tls.handshake(e); });
        REQUIRE_MESSAGE(!ec, ec.message());

        sf::framed<stream, codec> conn(std::move(tls));
        const std::string big(40000, 'p');  // more than one TLS record
        conn.send(sf::const_buffer(big.data(), big.size()), ec);
        REQUIRE((!ec || sf::is_would_block(ec)));
        ec = drive(conn.endpoint(), [&](std::error_code& e) {
            if (!conn.flush(e) && !e) e = std::make_error_code(std::errc::operation_would_block);
        });
        REQUIRE_MESSAGE(!ec, ec.message());
        std::optional<sf::const_buffer> echo;
        ec = drive(conn.endpoint(), [&](std::error_code& e) { echo = conn.receive(e); });
        REQUIRE_MESSAGE(!ec, ec.message());
        REQUIRE(echo);
        CHECK(echo->str() == big);
    }
    std::lock_guard<std::mutex> lock(m);
    CHECK(sources == std::vector<std::string>{"192.0.2.7:4321", "192.0.2.7:4321"});
}

// ---- real peers ---------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("tls peers: our client against openssl s_server", B, TLS_BACKENDS) {
    if (!tls_test::shell("command -v openssl")) return;
    child server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", pki::get().file("server.pem"),
                  "-key", pki::get().file("server.key"), "-naccept", "1", "-rev"});
    const std::string ready = server.line_starting("ACCEPT");
    REQUIRE(!ready.empty());
    const auto port = static_cast<std::uint16_t>(std::stoi(ready.substr(ready.rfind(':') + 1)));
    std::error_code ec;
    auto c = connect_client<B>(port, client_context<B>(), "localhost", ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::line> f(std::move(c), sf::line{1024});
    f.send(sf::const_buffer("sockframe", 9));
    std::optional<sf::const_buffer> m;
    // s_server -rev greets first; its reversed echo of our line is what we wait for
    for (int i = 0; i < 20; ++i) {
        m = f.receive(sf::deadline(limit));
        REQUIRE(m);
        if (m->str() == "emarfkcos") break;
    }
    CHECK(m->str() == "emarfkcos");
}

TEST_CASE_TEMPLATE("tls peers: openssl s_client against our server (close_notify from the peer)", B,
                   TLS_BACKENDS) {
    if (!tls_test::shell("command -v openssl")) return;
    bool saw_end = false;
    std::string line;
    std::error_code end_ec;
    one_shot_server<B> server(server_context<B>(), [&](auto& s) {
        sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::line> f(std::move(s), sf::line{1024});
        auto m = f.receive(sf::deadline(limit));
        if (!m) return;
        line = m->to_string();
        f.send("pong:" + line);
        auto next = f.receive(sf::deadline(limit), end_ec);  // s_client's close_notify
        saw_end = !next && !end_ec && f.at_end();
        f.endpoint().close_notify();
    });
    child client({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()), "-CAfile",
                  pki::get().file("ca.pem"), "-verify_return_error", "-verify_hostname", "localhost",
                  "-servername", "localhost", "-quiet", "-no_ign_eof"});
    client.write("ping\n");
    CHECK(client.line_starting("pong:") == "pong:ping");
    client.close_input();
    client.rest();
    CHECK(client.wait() == 0);
    server.thread.join();
    CHECK(line == "ping");
    CHECK_MESSAGE(saw_end, end_ec.message());
}

namespace {
const char* python_server = R"(
import socket, ssl, struct, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
print('PORT', s.getsockname()[1], flush=True)
s.settimeout(20)
c, _ = s.accept()
t = ctx.wrap_socket(c, server_side=True)
def exact(n):
    b = b''
    while len(b) < n:
        d = t.recv(n - len(b))
        if not d: return None
        b += d
    return b
n = 0
while True:
    h = exact(4)
    if h is None: break
    p = exact(struct.unpack('>I', h)[0])
    t.sendall(h + p[::-1])
    n += 1
t.unwrap()
print('FRAMES', n, flush=True)
)";
const char* python_client = R"(
import socket, ssl, struct, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
t = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=20), server_hostname='localhost')
for i in range(50):
    p = (str(i) * (i * 37 + 1)).encode()
    t.sendall(struct.pack('>I', len(p)) + p)
    h = b''
    while len(h) < 4: h += t.recv(4 - len(h))
    n = struct.unpack('>I', h)[0]; b = b''
    while len(b) < n: b += t.recv(n - len(b))
    assert b == p.upper(), (i, b[:20])
v = t.version()
t.unwrap()
print('OK', v, flush=True)
)";
}  // namespace

TEST_CASE_TEMPLATE("tls peers: Python's ssl module as the server", B, TLS_BACKENDS) {
    if (!tls_test::shell("command -v python3")) return;
    child py({"python3", "-c", python_server, pki::get().file("server.pem"), pki::get().file("server.key")});
    const std::string ready = py.line_starting("PORT ");
    REQUIRE(!ready.empty());
    std::error_code ec;
    auto c = connect_client<B>(static_cast<std::uint16_t>(std::stoi(ready.substr(5))), client_context<B>(),
                               "localhost", ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::length_prefix<std::uint32_t>> f(std::move(c));
    for (int i = 0; i < 20; ++i) {
        std::string p(static_cast<std::size_t>(i * 1000 + 1), static_cast<char>('a' + i));
        p[0] = 'Z';
        f.send(p);
        auto m = f.receive(sf::deadline(limit));
        REQUIRE(m);
        CHECK(m->str() == std::string(p.rbegin(), p.rend()));
    }
    f.endpoint().close_notify();
    CHECK(!f.receive(sf::deadline(limit), ec));  // Python's unwrap(): its close_notify
    CHECK_MESSAGE(!ec, ec.message());
    CHECK(py.line_starting("FRAMES") == "FRAMES 20");
    py.rest();
    CHECK(py.wait() == 0);
}

TEST_CASE_TEMPLATE("tls peers: Python's ssl module as the client", B, TLS_BACKENDS) {
    if (!tls_test::shell("command -v python3")) return;
    std::error_code end_ec;
    int frames = 0;
    one_shot_server<B> server(server_context<B>(), [&](auto& s) {
        sf::framed<sf::tls_stream<sf::tcp_stream, B>, sf::length_prefix<std::uint32_t>> f(std::move(s));
        while (auto m = f.receive(sf::deadline(limit), end_ec)) {
            std::string p = m->to_string();
            for (auto& ch : p) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            f.send(p);
            ++frames;
        }
        f.endpoint().close_notify();
    });
    child py({"python3", "-c", python_client, pki::get().file("ca.pem"), std::to_string(server.port())});
    const std::string ok = py.line_starting("OK");
    CHECK(ok.rfind("OK TLSv1.", 0) == 0);
    py.rest();
    CHECK(py.wait() == 0);
    server.thread.join();
    CHECK(frames == 50);
    CHECK_MESSAGE(!end_ec, end_ec.message());
}
