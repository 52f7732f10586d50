#include <sockframe/server.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "support/net.hpp"

#if !defined(_WIN32)
#include <pthread.h>
#include <signal.h>
#endif

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
/// Every test's upper bound on waiting: a test that reaches it failed.
constexpr auto limit = 20s;

using codec = sf::length_prefix<std::uint32_t>;
using server = sf::framed_server<sf::tcp_listener_nb, codec>;
using client = sf::framed<sf::tcp_stream, codec>;

/// Runs `loop` until `done()` or `limit`; returns whether `done()` became true.
template <typename Done>
bool run_until(sf::event_loop& loop, Done done) {
    auto end = sf::deadline::clock::now() + limit;
    while (!done() && sf::deadline::clock::now() < end) loop.run_for(20ms);
    return done();
}

sf::tcp_listener_nb loopback_listener(sf::listen_options options = {}, std::uint16_t port = 0) {
    return sf::tcp_listener_nb(sf::ipv4_address::loopback(port), options);
}

client connect_client(std::uint16_t port) {
    auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), limit);
    s.set_timeout(limit);
    return client(std::move(s));
}

void echo(server& s) {
    s.on_frame([](server::connection& c, sf::const_buffer payload) { c.send(payload); });
}

std::string payload_of(std::size_t client_index, std::size_t frame, std::size_t size = 0) {
    std::string p = std::to_string(client_index) + ":" + std::to_string(frame) + ":";
    if (p.size() < size) p.append(size - p.size(), static_cast<char>('a' + frame % 26));
    return p;
}
}  // namespace

TEST_CASE("framed_server: echoes many clients, each frame in order") {
    sf::event_loop loop;
    server s(loop);
    echo(s);
    std::size_t opened = 0, closed = 0;
    s.on_open([&](server::connection&) { ++opened; });
    s.on_close([&](server::connection&, std::error_code why) {
        CHECK(!why);
        ++closed;
    });
    s.listen(loopback_listener());
    const auto port = s.local_address().port();
    constexpr std::size_t clients = 40, frames = 25;
    std::atomic<bool> ok{true}, done{false};
    std::thread peer([&] {
        std::vector<client> conns;
        for (std::size_t i = 0; i < clients; ++i) conns.push_back(connect_client(port));
        for (std::size_t i = 0; i < clients; ++i) {
            for (std::size_t f = 0; f < frames; ++f) conns[i].queue(payload_of(i, f, f * 7));
            conns[i].flush();
        }
        for (std::size_t i = 0; i < clients; ++i)
            for (std::size_t f = 0; f < frames; ++f) {
                auto m = conns[i].receive();
                if (!m || m->str() != payload_of(i, f, f * 7)) ok = false;
            }
        conns.clear();
        done = true;
    });
    CHECK(run_until(loop, [&] { return done.load() && closed == clients; }));
    peer.join();
    CHECK(ok);
    CHECK(opened == clients);
    CHECK(s.connection_count() == 0);
}

TEST_CASE("framed_server: pipelined frames are all answered, in order, in few writes") {
    sf::event_loop loop;
    server s(loop);
    echo(s);
    std::size_t frames_seen = 0, coalesce_limit = 0;
    s.on_frame([&](server::connection& c, sf::const_buffer payload) {
        ++frames_seen;
        c.send(payload);
        coalesce_limit = c.io().coalesce_limit();
    });
    s.listen(loopback_listener());
    const auto port = s.local_address().port();
    constexpr std::size_t frames = 20000;
    std::atomic<bool> ok{true}, done{false};
    std::thread peer([&] {
        client c = connect_client(port);
        auto [in, out] = c.split();
        std::thread writer([&, &out = out] {
            for (std::size_t f = 0; f < frames; ++f) out.queue(payload_of(0, f, f % 100));
            out.flush();
        });
        for (std::size_t f = 0; f < frames; ++f) {
            auto m = in.receive();
            if (!m || m->str() != payload_of(0, f, f % 100)) {
                ok = false;
                break;
            }
        }
        writer.join();
        done = true;
    });
    CHECK(run_until(loop, [&] { return done.load(); }));
    peer.join();
    CHECK(ok);
    CHECK(frames_seen == frames);
    // what one read takes at most is answered in one write after it, not one per 64 KiB
    CHECK(coalesce_limit == server::framed_type::adaptive_receive_limit);
}

TEST_CASE("framed_server: a slow reader pauses reading, memory stays bounded, reading resumes") {
    sf::event_loop loop;
    sf::server_options options;
    options.high_water_mark = 64 * 1024;
    server s(loop, codec{}, options);
    std::size_t most_pending = 0, frames_seen = 0;
    bool paused_seen = false;
    server::connection* conn = nullptr;
    s.on_open([&](server::connection& c) {
        conn = &c;
        c.socket().set(sf::send_buffer_size{16 * 1024});  // small kernel buffers: the
    });                                                   // queue fills sooner
    s.on_frame([&](server::connection& c, sf::const_buffer payload) {
        ++frames_seen;
        CHECK(c.send(payload));
        most_pending = std::max(most_pending, c.pending());
    });
    s.on_close([&](server::connection&, std::error_code) { conn = nullptr; });
    s.listen(loopback_listener());
    const auto port = s.local_address().port();
    constexpr std::size_t frames = 4000, size = 1024;  // 4 MiB each way: far past every buffer
    std::atomic<bool> ok{true}, done{false}, start_reading{false};
    std::thread peer([&] {
        client c = connect_client(port);
        c.endpoint().set(sf::receive_buffer_size{16 * 1024});
        auto [in, out] = c.split();
        std::thread writer([&, &out = out] {
            for (std::size_t f = 0; f < frames; ++f) out.queue(payload_of(0, f, size));
            out.flush();
        });
        while (!start_reading.load()) std::this_thread::yield();
        for (std::size_t f = 0; f < frames; ++f) {
            auto m = in.receive();
            if (!m || m->str() != payload_of(0, f, size)) {
                ok = false;
                break;
            }
        }
        writer.join();
        done = true;
    });
    // The peer reads nothing: the server must pause reading it, its queue at the mark.
    CHECK(run_until(loop, [&] { return conn != nullptr && conn->reading_paused(); }));
    paused_seen = conn != nullptr && conn->reading_paused();
    const std::size_t frames_at_pause = frames_seen;
    loop.run_for(50ms);  // nothing more is read while paused
    CHECK(frames_seen == frames_at_pause);
    CHECK(frames_at_pause < frames);
    start_reading = true;
    CHECK(run_until(loop, [&] { return done.load(); }));
    peer.join();
    CHECK(paused_seen);
    CHECK(ok);
    CHECK(frames_seen == frames);
    CHECK(most_pending <= options.high_water_mark + size + 64);
}

TEST_CASE("framed_server: idle timeout closes a silent connection; the frame deadline a slowloris") {
    sf::event_loop loop;
    sf::server_options options;
    options.frame_timeout = 100ms;
    server s(loop, codec{}, options);
    echo(s);
    std::vector<std::error_code> reasons;
    s.on_close([&](server::connection&, std::error_code why) { reasons.push_back(why); });
    s.listen(loopback_listener());
    const auto port = s.local_address().port();
    auto quiet = connect_client(port);  // no partial frame: the frame deadline does not apply
    auto slow = connect_client(port);
    const unsigned char half_header[2] = {0, 0};
    slow.endpoint().write_all(sf::const_buffer(half_header, 2));
    CHECK(run_until(loop, [&] { return !reasons.empty(); }));
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0] == std::errc::timed_out);
    std::error_code ec;
    CHECK(!slow.receive(ec));  // closed by the server
    CHECK(s.connection_count() == 1);

    sf::event_loop loop2;
    sf::server_options idle;
    idle.idle_timeout = 100ms;
    server s2(loop2, codec{}, idle);
    echo(s2);
    std::vector<std::error_code> reasons2;
    s2.on_close([&](server::connection&, std::error_code why) { reasons2.push_back(why); });
    s2.listen(loopback_listener());
    auto silent = connect_client(s2.local_address().port());
    CHECK(run_until(loop2, [&] { return !reasons2.empty(); }));
    CHECK(reasons2.at(0) == std::errc::timed_out);
    CHECK(!silent.receive(ec));
    CHECK(!ec);  // end-of-stream
}

TEST_CASE("framed_server: beyond max_connections a connection is closed at once") {
    sf::event_loop loop;
    sf::server_options options;
    options.max_connections = 3;
    server s(loop, codec{}, options);
    echo(s);
    std::size_t opened = 0;
    s.on_open([&](server::connection&) { ++opened; });
    s.listen(loopback_listener());
    const auto port = s.local_address().port();
    std::atomic<int> echoed{0}, refused{0};
    std::atomic<bool> done{false};
    std::thread peer([&] {
        std::vector<client> conns;
        for (int i = 0; i < 3; ++i) {
            conns.push_back(connect_client(port));
            conns.back().send(std::string("hello"));
            auto m = conns.back().receive();  // accepted and served before the next one connects
            if (m && m->str() == "hello") ++echoed;
        }
        for (int i = 0; i < 2; ++i) {
            auto extra = connect_client(port);
            std::error_code ec;
            auto m = extra.receive(ec);
            if (!m) ++refused;  // end-of-stream or reset: closed by the server
        }
        done = true;
    });
    CHECK(run_until(loop, [&] { return done.load(); }));
    peer.join();
    CHECK(echoed == 3);
    CHECK(refused == 2);
    CHECK(opened == 3);
}

TEST_CASE("framed_server: a graceful stop flushes what is queued, then closes") {
    sf::event_loop loop;
    server s(loop);
    const std::string big(3 * 1024 * 1024, 'z');
    bool stopped = false;
    s.on_frame([&](server::connection& c, sf::const_buffer) {
        CHECK(c.send(big));
        c.send(std::string("last"));
        s.stop(10s, [&] { stopped = true; });
    });
    s.listen(loopback_listener());
    const auto port = s.local_address().port();
    std::atomic<bool> ok{false}, done{false};
    std::thread peer([&] {
        auto c = connect_client(port);
        c.send(std::string("go"));
        auto first = c.receive_copy<std::string>();
        auto second = c.receive_copy<std::string>();
        std::error_code ec;
        auto end = c.receive(ec);
        ok = first && *first == big && second && *second == "last" && !end && !ec;
        done = true;
    });
    CHECK(run_until(loop, [&] { return done.load() && stopped; }));
    peer.join();
    CHECK(ok);
    CHECK(s.connection_count() == 0);
    CHECK(s.stopping());
}

TEST_CASE("framed_server: the client side connects on the same loop, with the same handlers") {
    sf::event_loop loop;
    server echo_server(loop);
    echo(echo_server);
    echo_server.listen(loopback_listener());
    const auto port = echo_server.local_address().port();

    server clients(loop);
    std::vector<std::string> got;
    std::vector<std::error_code> closes;
    std::size_t opened = 0;
    clients.on_open([&](server::connection& c) {
        ++opened;
        c.send(std::string("one"));
        c.send(std::string("two"));
    });
    clients.on_frame([&](server::connection& c, sf::const_buffer payload) {
        got.emplace_back(payload.str());
        if (got.size() == 2) c.close();
    });
    clients.on_close([&](server::connection&, std::error_code why) { closes.push_back(why); });
    clients.connect(sf::ipv4_address::loopback(port), 5s);
    CHECK(run_until(loop, [&] { return closes.size() == 1; }));
    CHECK(opened == 1);
    CHECK(got == std::vector<std::string>{"one", "two"});
    CHECK(!closes.at(0));

    // Nothing listens there: on_close with the error, on_open never.
    const test_support::refused_port nobody;
    clients.connect(nobody.address(), 5s);
    CHECK(run_until(loop, [&] { return closes.size() == 2; }));
    CHECK(opened == 1);
    CHECK(closes.at(1));
}

#if defined(SO_REUSEPORT) && defined(__linux__)
TEST_CASE("framed_server: two loops on two threads share a port with SO_REUSEPORT") {
    sf::listen_options options;
    options.reuse_port = true;
    auto first = loopback_listener(options);
    const auto port = first.local_address().port();
    auto second = loopback_listener(options, port);

    std::atomic<int> served[2] = {{0}, {0}};
    std::atomic<bool> quit{false};
    auto run = [&](sf::tcp_listener_nb listener, int index) {
        sf::event_loop loop;
        server s(loop);
        s.on_frame([&served, index](server::connection& c, sf::const_buffer payload) {
            ++served[index];
            c.send(payload);
        });
        s.listen(std::move(listener));
        auto end = sf::deadline::clock::now() + limit;
        while (!quit.load() && sf::deadline::clock::now() < end) loop.run_for(20ms);
    };
    std::thread a(run, std::move(first), 0);
    std::thread b(run, std::move(second), 1);
    constexpr int clients = 64;
    int echoed = 0;
    for (int i = 0; i < clients; ++i) {
        auto c = connect_client(port);
        c.send(std::to_string(i));
        auto m = c.receive_copy<std::string>();
        if (m && *m == std::to_string(i)) ++echoed;
    }
    quit = true;
    a.join();
    b.join();
    CHECK(echoed == clients);
    CHECK(served[0] + served[1] == clients);
    // 64 connections from distinct ports hashed over two listeners: both get some (the chance
    // that one gets none is 2^-63).
    CHECK(served[0] > 0);
    CHECK(served[1] > 0);
}
#endif

TEST_CASE("framed: receive_batch stops when on_frame returns false; released buffers") {
    auto [a, b] = test_support::stream_pair();
    sf::framed<test_support::stream_pair_socket, codec> out(std::move(a)), in(std::move(b));
    for (const char* p : {"one", "two", "three"}) out.queue(std::string(p));
    out.flush();
    CHECK(out.release_send_buffer());
    CHECK(!out.release_send_buffer());  // nothing left to free
    std::vector<std::string> got;
    auto first = [&](sf::const_buffer p) -> bool {
        got.emplace_back(p.str());
        return false;  // the rest stays buffered
    };
    // the three frames may arrive in more than one read: bounded by their count
    for (int i = 0; i < 3 && got.empty(); ++i) in.receive_batch(first, limit);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "one");
    auto all = [&](sf::const_buffer p) { got.emplace_back(p.str()); };
    while (got.size() < 3) {
        if (in.buffered() > 0) CHECK(!in.release_receive_buffer());  // a frame is buffered: kept
        REQUIRE(in.receive_batch(all, limit) > 0);
    }
    CHECK(got == std::vector<std::string>{"one", "two", "three"});
    CHECK(in.buffered() == 0);
    CHECK(in.release_receive_buffer());
    CHECK(in.receive_capacity() == 0);
    out.send(std::string("four"));  // the buffers come back when needed
    auto m = in.receive(limit);
    REQUIRE(m);
    CHECK(m->str() == "four");
}

#if defined(__linux__)  // abstract Unix names
TEST_CASE("framed_server: one server on TCP and Unix listeners (any_listener_nb)") {
    using any_server = sf::framed_server<sf::any_listener_nb, codec>;
    sf::event_loop loop;
    any_server s(loop);
    s.on_frame([](any_server::connection& c, sf::const_buffer payload) { c.send(payload); });
    s.listen(sf::any_listener_nb(sf::any_address(sf::ipv4_address::loopback(0))));
    const std::string name = test_support::unique_name("server");
    s.listen(sf::any_listener_nb(sf::any_address(sf::local_address::abstract(name))));
    const auto tcp_port = s.local_address(0).ip().port();
    std::atomic<int> echoed{0};
    std::atomic<bool> done{false};
    std::thread peer([&] {
        auto t = connect_client(tcp_port);
        t.send(std::string("tcp"));
        if (auto m = t.receive_copy<std::string>(); m && *m == "tcp") ++echoed;
        sf::framed<sf::unix_stream, codec> u(
            sf::unix_stream::connect(sf::local_address::abstract(name), limit));
        u.send(std::string("unix"));
        if (auto m = u.receive_copy<std::string>(limit); m && *m == "unix") ++echoed;
        done = true;
    });
    CHECK(run_until(loop, [&] { return done.load(); }));
    peer.join();
    CHECK(echoed == 2);
}
#endif

#if !defined(_WIN32)
TEST_CASE("framed_server: SIGTERM stops it gracefully (queued replies sent), then the loop") {
    sf::block_signals({SIGINT, SIGTERM});  // before the peer thread starts: it inherits the mask
    {
        sf::event_loop loop;
        server s(loop);
        const std::string reply(1024 * 1024, 'r');
        s.on_frame([&](server::connection& c, sf::const_buffer) {
            c.send(reply);
            loop.post([] { ::raise(SIGTERM); });
        });
        s.listen(loopback_listener());
        s.stop_on_signals(10s);
        const auto port = s.local_address().port();
        std::atomic<bool> ok{false};
        std::thread peer([&] {
            auto c = connect_client(port);
            c.send(std::string("go"));
            auto m = c.receive_copy<std::string>();
            std::error_code ec;
            auto end = c.receive(ec);
            ok = m && *m == reply && !end && !ec;
        });
        bool timed_out = false;
        loop.after(limit, [&] {
            timed_out = true;
            loop.stop();
        });
        loop.run();
        peer.join();
        CHECK_FALSE(timed_out);
        CHECK(ok);
        CHECK(s.stopping());
        CHECK(s.connection_count() == 0);
    }
    sigset_t both;
    sigemptyset(&both);
    sigaddset(&both, SIGINT);
    sigaddset(&both, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &both, nullptr);
}
#endif

TEST_CASE("framed_server: a graceful stop aborts what has not left after the grace period") {
    sf::event_loop loop;
    server s(loop);
    const std::string big(8 * 1024 * 1024, 'b');
    bool stopped = false;
    std::vector<std::error_code> reasons;
    s.on_open([](server::connection& c) { c.socket().set(sf::send_buffer_size{16 * 1024}); });
    s.on_frame([&](server::connection& c, sf::const_buffer) {
        c.send(big);
        s.stop(100ms, [&] { stopped = true; });
    });
    s.on_close([&](server::connection&, std::error_code why) { reasons.push_back(why); });
    s.listen(loopback_listener());
    const auto port = s.local_address().port();
    std::atomic<bool> read_now{false};
    std::size_t received = 0;
    bool cut_short = false;
    std::thread peer([&] {
        auto c = connect_client(port);
        c.endpoint().set(sf::receive_buffer_size{16 * 1024});
        c.send(std::string("go"));
        while (!read_now.load()) std::this_thread::yield();  // reads nothing until the server gave up
        std::error_code ec;
        auto m = c.receive(ec);  // cut short: a truncated frame or a reset, never the whole reply
        cut_short = !m && ec;
        received = c.buffered();
    });
    CHECK(run_until(loop, [&] { return stopped; }));
    read_now = true;
    peer.join();
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0] == std::errc::timed_out);
    CHECK(cut_short);
    CHECK(received < big.size());
    CHECK(s.connection_count() == 0);
}
