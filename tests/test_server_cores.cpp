// framed_server on many cores (one loop per thread: SO_REUSEPORT listeners, or one acceptor
// handing connections round-robin to the other loops) and accept back-off when descriptors run
// out.
#include <sockframe/server.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
/// Every test's upper bound on waiting: a test that reaches it failed.
constexpr auto limit = 20s;

using codec = sf::length_prefix<std::uint32_t>;
using server = sf::framed_server<sf::tcp_listener_nb, codec>;
using client = sf::framed<sf::tcp_stream, codec>;

client connect_client(std::uint16_t port) {
    auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), limit);
    s.set_timeout(limit);
    return client(std::move(s));
}

/// A server on its own loop and thread that answers every frame with "<index>:<frame>", so that
/// a client learns which loop served it. Constructed on the test's thread; served on its own.
struct loop_thread {
    explicit loop_thread(int index) : s(loop), index_(index) {
        s.on_open([this](server::connection&) { ++opened; });
        s.on_frame([this](server::connection& c, sf::const_buffer payload) {
            owner_thread = std::this_thread::get_id();
            c.send(std::to_string(index_) + ":" + std::string(payload.str()));
        });
    }
    void start() {
        thread = std::thread([this] {
            const auto end = sf::deadline::clock::now() + limit;
            while (!quit.load() && sf::deadline::clock::now() < end) loop.run_for(20ms);
        });
    }
    void join() {
        quit = true;
        loop.stop();
        if (thread.joinable()) thread.join();
    }
    ~loop_thread() { join(); }

    sf::event_loop loop;
    server s;
    std::atomic<int> opened{0};
    std::atomic<bool> quit{false};
    std::thread thread;
    std::thread::id owner_thread;

private:
    int index_;
};
}  // namespace

TEST_CASE("framed_server: one acceptor hands connections round-robin to two loops") {
    loop_thread first(0), second(1);
    auto listener = sf::tcp_listener_nb(sf::ipv4_address::loopback(0));
    const auto port = listener.local_address().port();
    // the acceptor is the first server; it serves every other connection itself
    first.s.listen(std::move(listener), {&first.s, &second.s});
    first.start();
    second.start();

    constexpr int clients = 10;
    std::vector<std::string> answers;
    for (int i = 0; i < clients; ++i) {  // one at a time: the order of accepts is the order here
        auto c = connect_client(port);
        c.send(std::to_string(i));
        auto m = c.receive_copy<std::string>();
        answers.push_back(m ? *m : std::string("none"));
    }
    first.join();
    second.join();
    for (int i = 0; i < clients; ++i)
        CHECK(answers[static_cast<std::size_t>(i)] == std::to_string(i % 2) + ":" + std::to_string(i));
    CHECK(first.opened == clients / 2);
    CHECK(second.opened == clients / 2);
    CHECK(first.owner_thread != second.owner_thread);  // served on two threads
}

TEST_CASE("framed_server: the round-robin listener checks its servers; adopt serves a socket") {
    sf::event_loop loop;
    server s(loop);
    CHECK_THROWS_AS(s.listen(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), {}), std::invalid_argument);
    CHECK_THROWS_AS(s.listen(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), {nullptr}),
                    std::invalid_argument);

    // a connection accepted by other code (a blocking listener here) is served like an accepted one
    s.on_frame([](server::connection& c, sf::const_buffer payload) { c.send(payload); });
    sf::tcp_listener plain(sf::ipv4_address::loopback(0));
    std::atomic<bool> done{false};
    std::string got;
    std::thread peer([&] {
        auto c = connect_client(plain.local_address().port());
        c.send(std::string("adopted"));
        auto m = c.receive_copy<std::string>();
        got = m ? *m : "none";
        done = true;
    });
    auto accepted = plain.accept(limit);
    s.adopt(server::stream_type(accepted.socket.release()), accepted.from);
    CHECK(s.connection_count() == 1);
    const auto end = sf::deadline::clock::now() + limit;
    while (!done.load() && sf::deadline::clock::now() < end) loop.run_for(20ms);
    peer.join();
    CHECK(got == "adopted");
}

TEST_CASE("listener: takes over a socket already listening (made by other code)") {
    sf::tcp_listener_nb original(sf::ipv4_address::loopback(0));
    const auto port = original.local_address().port();
    sf::tcp_listener adopted(sf::tcp_listener::socket_type(original.socket().release()));
    CHECK_FALSE(original.is_open());
    REQUIRE(adopted.is_open());
    CHECK(adopted.local_address().port() == port);
    auto c = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), limit);
    auto a = adopted.accept(limit);  // blocking listener over the adopted socket: waits in poll
    CHECK(a.socket.is_open());
    std::error_code ec;
    sf::tcp_listener_nb none(sf::tcp_listener_nb::socket_type{}, ec);  // nothing to adopt: no error
    CHECK_FALSE(ec);
    CHECK_FALSE(none.is_open());
}

#if defined(SO_REUSEPORT) && defined(__linux__)
TEST_CASE("framed_server: two loops, each with its own SO_REUSEPORT listener on one port") {
    loop_thread first(0), second(1);
    sf::listen_options options;
    options.reuse_port = true;
    auto a = sf::tcp_listener_nb(sf::ipv4_address::loopback(0), options);
    const auto port = a.local_address().port();
    auto b = sf::tcp_listener_nb(sf::ipv4_address::loopback(port), options);
    first.s.listen(std::move(a));
    second.s.listen(std::move(b));
    first.start();
    second.start();
    constexpr int clients = 64;
    int echoed = 0;
    for (int i = 0; i < clients; ++i) {
        auto c = connect_client(port);
        c.send(std::to_string(i));
        auto m = c.receive_copy<std::string>();
        if (m && (*m == "0:" + std::to_string(i) || *m == "1:" + std::to_string(i))) ++echoed;
    }
    first.join();
    second.join();
    CHECK(echoed == clients);
    CHECK(first.opened + second.opened == clients);
    // 64 connections from distinct ports hashed over two listeners: both get some (the chance
    // that one gets none is 2^-63)
    CHECK(first.opened > 0);
    CHECK(second.opened > 0);
}
#endif

#if !defined(_WIN32)
TEST_CASE("framed_server: out of descriptors, accepting backs off, serving goes on, accepting resumes") {
    sf::event_loop loop;
    sf::server_options options;
    options.accept_backoff = 10ms;
    server s(loop, codec{}, options);
    s.on_frame([](server::connection& c, sf::const_buffer payload) { c.send(payload); });
    std::size_t opened = 0;
    s.on_open([&](server::connection&) { ++opened; });
    s.listen(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)));
    const auto port = s.local_address().port();
    auto run_until = [&](auto done) {
        const auto end = sf::deadline::clock::now() + limit;
        while (!done() && sf::deadline::clock::now() < end) loop.run_for(5ms);
        return done();
    };
    // a non-blocking client, driven from this thread between runs of the loop
    auto echo_on = [&](sf::framed<sf::tcp_stream_nb, codec>& c, const std::string& text) {
        std::error_code ec;
        c.send(text, ec);
        REQUIRE(!ec);
        std::string got;
        run_until([&] {
            auto m = c.try_receive(ec);
            if (m) got = std::string(m->str());
            return !got.empty() || (ec && !sf::is_would_block(ec));
        });
        return got;
    };
    auto connect_nb = [&] {
        auto c = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), limit);
        return sf::framed<sf::tcp_stream_nb, codec>(sf::tcp_stream_nb(std::move(c)));
    };

    auto served = connect_nb();
    CHECK(run_until([&] { return opened == 1; }));
    CHECK(echo_on(served, "before") == "before");

    // The next client connects (the kernel completes it; it waits in the backlog), then the
    // descriptor table is filled: the server's accept fails with EMFILE.
    auto waiting = connect_nb();
    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    const int probe = ::dup(0);
    REQUIRE(probe >= 0);
    ::close(probe);
    rlimit lowered = saved;
    lowered.rlim_cur = static_cast<rlim_t>(probe) + 32;  // few descriptors to fill: bounded
    if (lowered.rlim_cur > saved.rlim_cur) lowered.rlim_cur = saved.rlim_cur;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    std::vector<int> filler;
    for (;;) {
        const int fd = ::dup(0);
        if (fd < 0) {
            CHECK(errno == EMFILE);
            break;
        }
        filler.push_back(fd);
        REQUIRE(filler.size() < 4096);
    }
    CHECK(run_until([&] { return s.accept_paused(); }));
    CHECK(opened == 1);
    // the connection already open is still served while accepting is paused
    CHECK(echo_on(served, "during") == "during");
    CHECK(opened == 1);

    for (int fd : filler) ::close(fd);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &saved) == 0);
    // the back-off ends and the waiting connection is accepted and served
    CHECK(run_until([&] { return opened == 2; }));
    CHECK(echo_on(waiting, "after") == "after");
    CHECK(echo_on(served, "still") == "still");
}
#endif
