#include <sockframe/coro.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include "support/net.hpp"

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {

/// Every wait in these tests is bounded by this: reaching it is a failure, never a sleep.
constexpr auto limit = 10s;

using conn_type = sf::async_framed<sf::tcp_stream_nb, sf::length_prefix<std::uint32_t>>;

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

/// A connected pair of framed connections on loopback, both bound to `loop`.
sf::task<std::pair<conn_type, conn_type>> connected_pair(sf::event_loop& loop) {
    sf::tcp_listener_nb listener{sf::ipv4_address::loopback(0)};
    auto address = listener.local_address();
    auto client = co_await sf::async_connect(loop, address, limit);
    auto accepted = co_await sf::async_accept(loop, listener, limit);
    co_return std::pair<conn_type, conn_type>{conn_type{loop, std::move(client), {}},
                                              conn_type{loop, std::move(accepted.socket), {}}};
}

std::string text(sf::const_buffer b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

sf::task<int> answer() { co_return 42; }
sf::task<int> twice() { co_return 2 * co_await answer(); }
sf::task<void> fail() {
    co_await std::suspend_never{};
    throw std::logic_error("inside the task");
}
sf::task<int> catches() {
    try {
        co_await fail();
    } catch (const std::logic_error& e) {
        co_return std::string_view(e.what()) == "inside the task" ? 1 : 0;
    }
    co_return -1;
}

}  // namespace

TEST_CASE("coro: task values and exceptions propagate to the awaiter") {
    sf::event_loop loop;
    CHECK(run_bounded(loop, twice()) == 84);
    CHECK(run_bounded(loop, catches()) == 1);
    CHECK_THROWS_AS(run_bounded(loop, fail()), std::logic_error);

    sf::task<int> t = answer();
    CHECK(t.valid());
    CHECK_FALSE(t.done());
    sf::task<int> moved = std::move(t);
    CHECK_FALSE(t.valid());  // NOLINT(bugprone-use-after-move): a moved-from task is empty
    CHECK(run_bounded(loop, std::move(moved)) == 42);

    // a deep chain of tasks that finish at once does not grow the stack
    auto chain = [](int depth) -> sf::task<int> {
        int sum = 0;
        for (int i = 0; i < depth; ++i) sum += co_await answer();
        co_return sum;
    };
    CHECK(run_bounded(loop, chain(100000)) == 4200000);
}

TEST_CASE("coro: co_spawn reports the end of a task to its handler, or rethrows from run") {
    sf::event_loop loop;
    int finished = 0;
    std::exception_ptr error;
    sf::co_spawn(loop, answer(), [&](std::exception_ptr e) {
        ++finished;
        CHECK_FALSE(e);
    });
    sf::co_spawn(loop, fail(), [&](std::exception_ptr e) {
        ++finished;
        error = e;
    });
    while (finished < 2) loop.run_once();
    REQUIRE(error);
    CHECK_THROWS_AS(std::rethrow_exception(error), std::logic_error);

    sf::co_spawn(loop, fail());  // no handler: the exception comes out of the loop's run
    CHECK_THROWS_AS(loop.run_for(limit), std::logic_error);
}

TEST_CASE("coro: co_spawn from another thread starts the task on the loop's thread") {
    sf::event_loop loop;
    std::atomic<int> ran{0};
    std::thread::id where;
    auto body = [&]() -> sf::task<void> {
        where = std::this_thread::get_id();
        co_await sf::async_sleep(loop, 1ms);
        ++ran;
    };
    std::thread other([&] {
        for (int i = 0; i < 4; ++i)
            sf::co_spawn(loop, body(), [&](std::exception_ptr e) {
                CHECK_FALSE(e);
                if (ran == 4) loop.stop();
            });
    });
    auto guard = loop.after(3 * limit, [&] { loop.stop(); });
    loop.run();
    guard.cancel();
    other.join();
    CHECK(ran == 4);
    CHECK(where == std::this_thread::get_id());
}

TEST_CASE("coro: sleeps resume in the order of their ends; a zero sleep yields to the loop") {
    sf::event_loop loop;
    std::vector<int> order;
    auto sleeper = [&](int id, std::chrono::milliseconds d) -> sf::task<void> {
        co_await sf::async_sleep(loop, d);
        order.push_back(id);
    };
    int done = 0;
    auto count = [&](std::exception_ptr e) {
        CHECK_FALSE(e);
        ++done;
    };
    sf::co_spawn(loop, sleeper(3, 60ms), count);
    sf::co_spawn(loop, sleeper(1, 0ms), count);
    sf::co_spawn(loop, sleeper(2, 20ms), count);
    sf::co_spawn(loop, sleeper(0, -5ms), count);
    const auto start = sf::deadline::clock::now();
    while (done < 4) loop.run_once();
    CHECK(sf::deadline::clock::now() - start >= 60ms);
    CHECK(order == std::vector<int>{1, 0, 2, 3});

    // a zero sleep suspends (the loop runs it as a timer in its next iteration)
    CHECK_FALSE(sf::async_sleep(loop, 0ms).await_ready());
    order.clear();
    auto yielder = [&]() -> sf::task<void> {
        loop.after(0ms, [&] { order.push_back(1); });
        co_await sf::async_sleep(loop, 0ms);
        order.push_back(2);
    };
    run_bounded(loop, yielder());
    CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("coro: accept and connect on loopback") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        sf::tcp_listener_nb listener{sf::ipv4_address::loopback(0)};
        auto address = listener.local_address();
        // the connection is pending before accept: it completes without waiting
        auto client = co_await sf::async_connect(loop, address, limit);
        auto [server, from] = co_await sf::async_accept(loop, listener, limit);
        CHECK(server.is_open());
        CHECK(from.port() == client.local_address().port());
        CHECK(client.remote_address().port() == address.port());

        // an accept that waits: a coroutine connects while it is suspended
        sf::co_spawn(loop, [](sf::event_loop& l, sf::ipv4_address a) -> sf::task<void> {
            co_await sf::async_sleep(l, 5ms);
            auto s = co_await sf::async_connect(l, a, limit);
            CHECK(s.is_open());
        }(loop, address));
        auto second = co_await sf::async_accept(loop, listener, limit);
        CHECK(second.socket.is_open());
    };
    run_bounded(loop, body());
}

#if defined(SOCKFRAME_POSIX)
TEST_CASE("coro: accept, connect and a frame over a Unix-domain socket") {
    test_support::temp_dir dir;
    const std::string path = dir.file("coro.sock");
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        sf::unix_listener_nb listener{sf::local_address(path)};
        auto client = co_await sf::async_connect<sf::unix_stream_nb>(loop, sf::local_address(path), limit);
        auto accepted = co_await sf::async_accept(loop, listener, limit);
        sf::async_framed a{loop, std::move(client), sf::line{}};
        sf::async_framed b{loop, std::move(accepted.socket), sf::line{}};
        co_await a.send(sf::const_buffer(std::string_view("over a path")), limit);
        auto m = co_await b.receive(limit);
        REQUIRE(m);
        CHECK(text(*m) == "over a path");
    };
    run_bounded(loop, body());
}
#endif

TEST_CASE("coro: echo of many frames between a coroutine server and client on one loop") {
    sf::event_loop loop;
    constexpr int frames = 600;
    auto size_of = [](int i) { return static_cast<std::size_t>((i * 7919) % 70000); };
    auto payload_of = [&](int i) {
        std::string s(size_of(i), '\0');
        for (std::size_t k = 0; k < s.size(); ++k)
            s[k] = static_cast<char>('a' + (static_cast<std::size_t>(i) + k) % 26);
        return s;
    };
    auto body = [&]() -> sf::task<void> {
        sf::tcp_listener_nb listener{sf::ipv4_address::loopback(0)};
        auto address = listener.local_address();
        bool served = false;
        // the server: accept, then echo the way the blocking session reads
        sf::co_spawn(
            loop,
            [](sf::event_loop& l, sf::tcp_listener_nb& lis) -> sf::task<void> {
                auto accepted = co_await sf::async_accept(l, lis, limit);
                conn_type conn{l, std::move(accepted.socket), {}};
                while (auto msg = co_await conn.receive(limit)) co_await conn.send(*msg, limit);
            }(loop, listener),
            [&](std::exception_ptr e) {
                CHECK_FALSE(e);
                served = true;
            });
        conn_type client{loop, co_await sf::async_connect(loop, address, limit), {}};
        client.connection().set_high_water_mark(64 * 1024);  // forces waits for writability

        // a writer coroutine sends everything while this one reads the echoes: one receive and
        // one send wait on the same connection at the same time
        bool written = false;
        sf::co_spawn(
            loop,
            [](conn_type& c, int n, decltype(payload_of)& make) -> sf::task<void> {
                for (int i = 0; i < n; ++i) {
                    const std::string p = make(i);
                    co_await c.send(sf::const_buffer(p), limit);
                }
            }(client, frames, payload_of),
            [&](std::exception_ptr e) {
                CHECK_FALSE(e);
                written = true;
            });
        for (int i = 0; i < frames; ++i) {
            auto msg = co_await client.receive(limit);
            REQUIRE(msg);
            if (text(*msg) != payload_of(i)) {
                FAIL("frame " << i << " differs (" << msg->size() << " bytes, expected " << size_of(i)
                              << ")");
            }
        }
        CHECK(written);
        client.connection().endpoint().shutdown(sf::shutdown_type::send);
        std::error_code ec;
        auto end = co_await client.receive(limit, ec);
        CHECK_FALSE(end);
        CHECK_FALSE(ec);
        CHECK(client.connection().at_end());
        while (!served) co_await sf::async_sleep(loop, 1ms);
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: a buffered frame and a send that fits complete without suspending") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        auto [a, b] = co_await connected_pair(loop);
        // three frames in one write: the first receive reads them all
        a.connection().queue(sf::const_buffer(std::string_view("one")));
        a.connection().queue(sf::const_buffer(std::string_view("two")));
        a.connection().queue(sf::const_buffer(std::string_view("three")));
        co_await a.send(sf::const_buffer(std::string_view("four")), limit);
        auto first = co_await b.receive(limit);
        REQUIRE(first);
        CHECK(text(*first) == "one");
        for (const char* expected : {"two", "three", "four"}) {
            if (b.connection().buffered() == 0) break;
            auto r = b.receive(limit);
            CHECK(r.await_ready());  // buffered: no suspension
            auto m = r.await_resume();
            REQUIRE(m);
            CHECK(text(*m) == expected);
        }
        auto s = a.send(sf::const_buffer(std::string_view("small")), limit);
        CHECK(s.await_ready());
        s.await_resume();
        auto m = co_await b.receive(limit);
        REQUIRE(m);
        CHECK(text(*m) == "small");
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: a connection that waits with nothing buffered lends its receive buffer to the loop") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        auto [a, b] = co_await connected_pair(loop);
        auto [c, d] = co_await connected_pair(loop);
        auto* pool = sf::detail::receive_buffer_pool::of(loop);
        REQUIRE(pool != nullptr);
        const std::size_t spares = pool->spares();

        // b reads a frame: it holds a buffer while it decodes
        co_await a.send(sf::const_buffer(std::string_view("first")), limit);
        auto first = co_await b.receive(limit);
        REQUIRE(first);
        CHECK(text(*first) == "first");
        CHECK(b.connection().receive_capacity() != 0);
        const std::byte* const storage = first->data();

        {  // b's next receive finds nothing: its empty buffer goes to the pool while it would wait
            auto r = b.receive(limit);
            CHECK_FALSE(r.await_ready());
            CHECK(b.connection().receive_capacity() == 0);
            CHECK(pool->spares() == spares + 1);
        }

        // d, another connection, reads into that same buffer
        co_await c.send(sf::const_buffer(std::string_view("second")), limit);
        auto second = co_await d.receive(limit);
        REQUIRE(second);
        CHECK(text(*second) == "second");
        CHECK(second->data() == storage);
        CHECK(pool->spares() == spares);

        // a partial frame keeps its buffer while the connection waits for the rest
        const unsigned char head[] = {0, 0, 0, 5, 'p', 'a'};
        b.connection().feed_received(sf::const_buffer(head, sizeof head));
        {
            auto r = b.receive(limit);
            CHECK_FALSE(r.await_ready());
            CHECK(b.connection().buffered() == sizeof head);
            CHECK(b.connection().receive_capacity() != 0);
        }
        const unsigned char rest[] = {'r', 't', 's'};
        a.connection().endpoint().write_all(sf::const_buffer(rest, sizeof rest));
        auto whole = co_await b.receive(limit);
        REQUIRE(whole);
        CHECK(text(*whole) == "parts");

        // a buffer smaller than a connection's initial capacity is not lent to it
        {
            auto r = d.receive(limit);
            CHECK_FALSE(r.await_ready());  // d's buffer goes to the pool
        }
        CHECK(d.connection().receive_capacity() == 0);
        b.connection().set_initial_receive_capacity(SOCKFRAME_RECEIVE_BUFFER_INITIAL * 2);
        {
            auto r = b.receive(limit);
            CHECK_FALSE(r.await_ready());
        }
        co_await a.send(sf::const_buffer(std::string_view("third")), limit);
        auto third = co_await b.receive(limit);
        REQUIRE(third);
        CHECK(text(*third) == "third");
        CHECK(b.connection().receive_capacity() >= SOCKFRAME_RECEIVE_BUFFER_INITIAL * 2);
        CHECK(third->data() != storage);
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: a receive or send finished at once clears an error_code left from before") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        auto [a, b] = co_await connected_pair(loop);
        a.connection().queue(sf::const_buffer(std::string_view("one")));
        a.connection().queue(sf::const_buffer(std::string_view("two")));
        co_await a.flush(limit);
        std::error_code ec = std::make_error_code(std::errc::timed_out);
        auto first = co_await b.receive(limit, ec);
        REQUIRE(first);
        CHECK_FALSE(ec);
        REQUIRE(b.connection().buffered() > 0);  // "two" came with "one"
        ec = std::make_error_code(std::errc::timed_out);
        co_await b.send(sf::const_buffer(std::string_view("reply")), limit, ec);  // coalesced
        CHECK_FALSE(ec);
        CHECK(b.connection().pending() > 0);
        ec = std::make_error_code(std::errc::timed_out);
        auto second = b.receive(limit, ec);
        CHECK(second.await_ready());  // buffered: no suspension
        auto m = second.await_resume();
        REQUIRE(m);
        CHECK(text(*m) == "two");
        CHECK_FALSE(ec);
        co_await b.flush(limit);
        auto reply = co_await a.receive(limit);
        REQUIRE(reply);
        CHECK(text(*reply) == "reply");
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: a receive deadline expires; the connection then carries on") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        auto [a, b] = co_await connected_pair(loop);
        std::error_code ec;
        const auto start = sf::deadline::clock::now();
        auto m = co_await b.receive(30ms, ec);
        CHECK(sf::deadline::clock::now() - start >= 30ms);
        CHECK_FALSE(m);
        CHECK(ec == std::errc::timed_out);
        bool threw = false;
        try {
            co_await b.receive(10ms);
        } catch (const std::system_error& e) {
            threw = e.code() == std::errc::timed_out;
        }
        CHECK(threw);
        // half a frame, then the deadline: nothing is lost
        const unsigned char half[] = {0, 0, 0, 5, 'h', 'e'};
        a.connection().endpoint().write_all(sf::const_buffer(half, sizeof half));
        m = co_await b.receive(20ms, ec);
        CHECK(ec == std::errc::timed_out);
        const unsigned char rest[] = {'l', 'l', 'o'};
        a.connection().endpoint().write_all(sf::const_buffer(rest, sizeof rest));
        m = co_await b.receive(limit, ec);
        CHECK_FALSE(ec);
        REQUIRE(m);
        CHECK(text(*m) == "hello");
        // the free function form: a deadline in the past tries once and does not wait
        m = co_await sf::async_receive(loop, b.connection(), std::chrono::milliseconds(0), ec);
        CHECK(ec == std::errc::timed_out);
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: cancellation completes waiting operations with operation_canceled") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        auto [a, b] = co_await connected_pair(loop);
        sf::cancel_source source;
        // cancelled from another coroutine while the receive waits
        sf::co_spawn(loop, [](sf::event_loop& l, sf::cancel_source& s) -> sf::task<void> {
            co_await sf::async_sleep(l, 5ms);
            s.cancel();
        }(loop, source));
        std::error_code ec;
        auto m = co_await b.receive(limit, source.token(), ec);
        CHECK_FALSE(m);
        CHECK(ec == std::errc::operation_canceled);
        CHECK(source.cancelled());
        // an operation started with a cancelled token completes at once, even with data there
        co_await a.send(sf::const_buffer(std::string_view("kept")), limit);
        bool threw = false;
        try {
            co_await b.receive(limit, source.token());
        } catch (const std::system_error& e) {
            threw = e.code() == std::errc::operation_canceled;
        }
        CHECK(threw);
        m = co_await b.receive(limit);  // nothing was lost
        REQUIRE(m);
        CHECK(text(*m) == "kept");

        // sleep and accept, cancelled by one source; a token with no source never cancels
        sf::cancel_source second;
        sf::tcp_listener_nb listener{sf::ipv4_address::loopback(0)};
        int cancelled = 0;
        auto waiter = [&](sf::task<void> inner) -> sf::task<void> {
            try {
                co_await std::move(inner);
            } catch (const std::system_error& e) {
                if (e.code() == std::errc::operation_canceled) ++cancelled;
            }
        };
        sf::co_spawn(loop, waiter([](sf::event_loop& l, sf::cancel_token t) -> sf::task<void> {
                         co_await sf::async_sleep(l, 1h, t);
                     }(loop, second.token())));
        sf::co_spawn(loop, waiter([](sf::event_loop& l, sf::tcp_listener_nb& lis,
                                     sf::cancel_token t) -> sf::task<void> {
                         co_await sf::async_accept(l, lis, sf::deadline::never(), t);
                     }(loop, listener, second.token())));
        co_await sf::async_sleep(loop, 1ms);
        second.cancel();
        while (cancelled < 2) co_await sf::async_sleep(loop, 1ms);
        CHECK(cancelled == 2);
        std::error_code sleep_ec;
        co_await sf::async_sleep(loop, 1ms, sf::cancel_token{}, sleep_ec);
        CHECK_FALSE(sleep_ec);
        co_await sf::async_sleep(loop, 1h, second.token(), sleep_ec);
        CHECK(sleep_ec == std::errc::operation_canceled);
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: the no-throw forms report errors in the error_code") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        std::error_code ec;
        // a refused connection: nothing listens on the port
        const test_support::refused_port nobody;
        const sf::ipv4_address dead = nobody.address();
        auto s = co_await sf::async_connect(loop, dead, limit, ec);
        CHECK(ec == std::errc::connection_refused);
        CHECK_FALSE(s.is_open());
        bool threw = false;
        try {
            co_await sf::async_connect(loop, dead, limit);
        } catch (const std::system_error& e) {
            threw = e.code() == std::errc::connection_refused;
        }
        CHECK(threw);

        sf::tcp_listener_nb listener{sf::ipv4_address::loopback(0)};
        auto a = co_await sf::async_accept(loop, listener, 10ms, ec);
        CHECK(ec == std::errc::timed_out);
        CHECK_FALSE(a.socket.is_open());

        // a framing error: an oversized length, reported with its size
        auto [x, y] = co_await connected_pair(loop);
        y.connection().codec() = sf::length_prefix<std::uint32_t>{1024};
        const unsigned char huge[] = {0x7f, 0, 0, 0};
        x.connection().endpoint().write_all(sf::const_buffer(huge, sizeof huge));
        auto m = co_await y.receive(limit, ec);
        CHECK_FALSE(m);
        CHECK(ec == sf::errc::frame_too_large);
        threw = false;
        try {
            co_await y.receive(limit);
        } catch (const sf::frame_error& e) {
            threw = e.size() == 0x7f000000u;
        }
        CHECK(threw);

        // the free functions: send and receive on a framed connection
        co_await sf::async_send(loop, x.connection(), sf::const_buffer(std::string_view("free")), limit, ec);
        CHECK_FALSE(ec);
        x.close();
        auto [p, q] = co_await connected_pair(loop);
        co_await sf::async_send(loop, p.connection(), sf::const_buffer(std::string_view("free")), limit, ec);
        CHECK_FALSE(ec);
        m = co_await sf::async_receive(loop, q.connection(), limit, ec);
        CHECK_FALSE(ec);
        REQUIRE(m);
        CHECK(text(*m) == "free");
        p.close();
        m = co_await sf::async_receive(loop, q.connection(), limit, ec);
        CHECK_FALSE(m);
        CHECK_FALSE(ec);  // end-of-stream is not an error
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: replies to pipelined frames coalesce into one write; a receive that waits writes them") {
    sf::event_loop loop;
    auto body = [&]() -> sf::task<void> {
        auto [a, b] = co_await connected_pair(loop);
        constexpr int frames = 20;
        for (int i = 0; i < frames; ++i) a.connection().queue(sf::const_buffer(std::to_string(i)));
        co_await a.flush(limit);
        CHECK(a.connection().pending() == 0);
        // the echo loop: while more frames are buffered a send only queues (completes at once)
        int echoed = 0;
        std::size_t most_queued = 0;
        while (echoed < frames) {
            auto m = co_await b.receive(limit);
            REQUIRE(m);
            CHECK(text(*m) == std::to_string(echoed));
            const bool more = b.connection().buffered() > 0;
            auto s = b.send(*m, limit);
            CHECK(s.await_ready());  // small replies: no suspension either way
            s.await_resume();
            if (more) CHECK(b.connection().pending() > 0);  // queued, not written
            most_queued = std::max(most_queued, b.connection().pending());
            ++echoed;
        }
        CHECK(b.connection().pending() == 0);  // the last send (nothing buffered) wrote them all
        CHECK(most_queued > 0);                // the first read brought several frames
        for (int i = 0; i < frames; ++i) {
            auto m = co_await a.receive(limit);
            REQUIRE(m);
            CHECK(text(*m) == std::to_string(i));
        }

        // A reply queued behind a partial frame leaves when the next receive has to wait: the
        // peer sends the rest of that frame only once it has the reply.
        const std::string first = std::string("\0\0\0\x01x\0\0\0\x05", 9) + "ab";  // "x", half of "abcde"
        std::error_code ec;
        CHECK(a.connection().endpoint().write_some(sf::const_buffer(first), ec) == first.size());
        auto x = co_await b.receive(limit);
        REQUIRE(x);
        CHECK(text(*x) == "x");
        CHECK(b.connection().buffered() > 0);  // the partial frame
        co_await b.send(*x, limit);
        CHECK(b.connection().pending() > 0);  // queued behind it
        bool peer_ok = false;
        conn_type& other = a;  // a structured binding cannot be captured before C++20's rules
        auto peer = [&]() -> sf::task<void> {
            auto reply = co_await other.receive(limit);
            peer_ok = reply && text(*reply) == "x";
            std::error_code sec;
            other.connection().endpoint().write_some(sf::const_buffer(std::string_view("cde")), sec);
        };
        sf::co_spawn(loop, peer());
        auto rest = co_await b.receive(limit);  // writes "x" before it waits
        REQUIRE(rest);
        CHECK(text(*rest) == "abcde");
        CHECK(peer_ok);
    };
    run_bounded(loop, body());
}

TEST_CASE("coro: echo sessions given a token as a temporary, without a deadline, complete normally") {
    // The shape of the benchmark's coroutine session: the token (a prvalue, a temporary of the
    // co_await expression), no deadline and an error_code, in ping-pong and pipelined traffic,
    // on several connections at once. Nothing is cancelled until the end: every operation must
    // complete with its frame, never with operation_canceled; then a real cancel ends the
    // sessions that wait.
    sf::event_loop loop;
    constexpr int sessions = 4;
    constexpr int rounds = 200;
    constexpr int pipelined = 32;
    sf::cancel_source source;
    int echoed = 0, ended = 0, spurious = 0, cancelled_at_end = 0;
    auto session = [&](sf::tcp_stream_nb socket) -> sf::task<void> {
        conn_type conn{loop, std::move(socket), {}};
        std::error_code ec;
        while (auto frame = co_await conn.receive(sf::deadline{}, source.token(), ec)) {
            co_await conn.send(*frame, sf::deadline{}, source.token(), ec);
            if (ec) break;
            ++echoed;
        }
        if (ec == std::errc::operation_canceled && !source.cancelled()) ++spurious;
        if (ec == std::errc::operation_canceled && source.cancelled()) ++cancelled_at_end;
        ++ended;
    };
    auto body = [&]() -> sf::task<void> {
        sf::tcp_listener_nb listener{sf::ipv4_address::loopback(0)};
        auto address = listener.local_address();
        std::vector<conn_type> clients;
        for (int i = 0; i < sessions; ++i) {
            clients.emplace_back(loop, co_await sf::async_connect(loop, address, limit),
                                 sf::length_prefix<std::uint32_t>{});
            auto accepted = co_await sf::async_accept(loop, listener, limit, source.token());
            sf::co_spawn(loop, session(std::move(accepted.socket)),
                         [](std::exception_ptr e) { CHECK_FALSE(e); });
        }
        std::string payload;
        for (int r = 0; r < rounds; ++r) {
            for (int c = 0; c < sessions; ++c) {
                // ping-pong on even rounds, a pipelined batch on odd ones
                const int batch = r % 2 == 0 ? 1 : pipelined;
                for (int k = 0; k < batch; ++k) {
                    payload = std::to_string(r) + ":" + std::to_string(c) + ":" + std::to_string(k);
                    co_await clients[static_cast<std::size_t>(c)].send(sf::const_buffer(payload), limit);
                }
                for (int k = 0; k < batch; ++k) {
                    auto m = co_await clients[static_cast<std::size_t>(c)].receive(limit);
                    REQUIRE(m);
                    CHECK(text(*m) == std::to_string(r) + ":" + std::to_string(c) + ":" + std::to_string(k));
                }
            }
            REQUIRE(spurious == 0);
            REQUIRE(ended == 0);
        }
        CHECK(echoed == sessions * (rounds / 2) * (1 + pipelined));
        // the end: half the sessions end by the client's close, the rest by a real cancel
        for (int c = 0; c < sessions / 2; ++c) clients[static_cast<std::size_t>(c)].close();
        while (ended < sessions / 2) co_await sf::async_sleep(loop, 1ms);
        source.cancel();
        while (ended < sessions) co_await sf::async_sleep(loop, 1ms);
        CHECK(spurious == 0);
        CHECK(cancelled_at_end == sessions - sessions / 2);
    };
    run_bounded(loop, body());
}

#else

TEST_CASE("coro: skipped") { MESSAGE("skipped: coroutines, because this build is C++17"); }

#endif
