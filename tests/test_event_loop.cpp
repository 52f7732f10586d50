#include <sockframe/event_loop.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
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
constexpr auto limit = 10s;

/// Runs `loop` until `done()` or `limit`; returns whether `done()` became true.
template <typename Loop, typename Done>
bool run_until(Loop& loop, Done done) {
    auto end = sf::deadline::clock::now() + limit;
    while (!done() && sf::deadline::clock::now() < end) loop.run_for(50ms);
    return done();
}
}  // namespace

TEST_CASE("event_loop: post from another thread wakes a blocked run") {
    sf::event_loop loop;
    bool timed_out = false;
    loop.after(limit, [&] {
        timed_out = true;
        loop.stop();
    });
    std::atomic<bool> ran{false};
    {
        test_support::joining_thread poster([&] {
            loop.post([&] {
                ran = true;
                CHECK(loop.running_in_this_thread());
                loop.stop();
            });
        });
        loop.run();
    }
    CHECK(ran.load());
    CHECK_FALSE(timed_out);
    CHECK_FALSE(loop.running_in_this_thread());
}

TEST_CASE("event_loop: stop from another thread ends run; a stop before run is not lost") {
    sf::event_loop loop;
    bool timed_out = false;
    loop.after(limit, [&] {
        timed_out = true;
        loop.stop();
    });
    {
        test_support::joining_thread stopper([&] { loop.stop(); });
        loop.run();
    }
    CHECK_FALSE(timed_out);
    CHECK_FALSE(loop.stop_requested());  // consumed by the run it ended

    loop.stop();
    CHECK(loop.stop_requested());
    loop.run();  // returns at once
    CHECK_FALSE(loop.stop_requested());
}

TEST_CASE("event_loop: many threads post; every callback runs once, each thread's in order") {
    sf::event_loop loop;
    constexpr int threads = 4, per_thread = 2000;
    std::vector<std::vector<int>> seen(threads);
    int total = 0;
    {
        std::vector<test_support::joining_thread> posters;
        for (int t = 0; t < threads; ++t)
            posters.emplace_back([&loop, &seen, &total, t] {
                for (int i = 0; i < per_thread; ++i)
                    loop.post([&seen, &total, t, i] {
                        seen[static_cast<std::size_t>(t)].push_back(i);
                        ++total;
                    });
            });
        CHECK(run_until(loop, [&] { return total == threads * per_thread; }));
    }
    for (const auto& s : seen) {
        REQUIRE(s.size() == static_cast<std::size_t>(per_thread));
        for (int i = 0; i < per_thread; ++i) CHECK(s[static_cast<std::size_t>(i)] == i);
    }
}

TEST_CASE("event_loop: a callback posted by a callback runs in the next iteration") {
    sf::event_loop loop;
    std::vector<int> order;
    loop.post([&] {
        order.push_back(1);
        loop.post([&] { order.push_back(3); });
    });
    loop.post([&] { order.push_back(2); });
    CHECK(loop.run_once() == 2);
    CHECK(order == std::vector<int>{1, 2});
    CHECK(loop.run_once() == 1);
    CHECK(order == std::vector<int>{1, 2, 3});
    CHECK(loop.poll() == 0);
}

TEST_CASE("event_loop: a callback posted by an I/O callback waits, even with a wake-up in the batch") {
    auto pair_a = test_support::stream_pair();
    auto& a = pair_a.first;
    auto& b = pair_a.second;
    sf::event_loop loop;
    int iteration = 0, io_at = -1, before_at = -1, after_at = -1;
    a.write_all(sf::const_buffer("x", 1));  // readable at the first wait (on POSIX)
    sf::io_watch w;
    w = loop.watch(b, sf::interest::read, [&](sf::io_event) {
        io_at = iteration;
        loop.post([&] { after_at = iteration; });
        w.cancel();
    });
    loop.post([&] { before_at = iteration; });  // a wake-up, in the same batch on POSIX
    auto end = sf::deadline::clock::now() + limit;
    while (after_at < 0 && sf::deadline::clock::now() < end) {
        loop.run_once();
        ++iteration;
    }
    CHECK(io_at >= 0);
    CHECK(before_at >= 0);
    CHECK(after_at > io_at);
#if !defined(_WIN32)
    CHECK(io_at == 0);
    CHECK(before_at == 0);
    CHECK(after_at == 1);
#endif
}

TEST_CASE("event_loop: an exception from a posted callback propagates; the rest run later") {
    sf::event_loop loop;
    std::vector<int> order;
    loop.post([&] { order.push_back(1); });
    loop.post([] { throw std::runtime_error("boom"); });
    loop.post([&] { order.push_back(3); });
    loop.post([&] { order.push_back(4); });
    CHECK_THROWS_AS(loop.run_once(), std::runtime_error);
    CHECK(order == std::vector<int>{1});
    CHECK(run_until(loop, [&] { return order.size() == 3; }));
    CHECK(order == std::vector<int>{1, 3, 4});
}

TEST_CASE("event_loop: run inside a callback is refused") {
    sf::event_loop loop;
    std::error_code inner;
    bool ran = false;
    loop.post([&] {
        ran = true;
        loop.run_once(inner);
    });
    loop.run_once();
    CHECK(ran);
    CHECK(inner == std::errc::resource_deadlock_would_occur);
}

TEST_CASE("event_loop: timers fire in order of due time, ties in the order armed") {
    sf::event_loop loop;
    std::vector<int> order;
    auto base = sf::deadline::clock::now() + 5ms;
    loop.at(base + 20ms, [&] { order.push_back(4); });
    loop.at(base, [&] { order.push_back(1); });
    loop.at(base + 10ms, [&] { order.push_back(2); });
    loop.at(base + 10ms, [&] { order.push_back(3); });
    loop.after(-1s, [&] { order.push_back(0); });  // overdue: the next iteration
    CHECK(loop.timer_count() == 5);
    CHECK(run_until(loop, [&] { return order.size() == 5; }));
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(loop.timer_count() == 0);
    CHECK(sf::deadline::clock::now() >= base + 20ms);
}

TEST_CASE("event_loop: a periodic timer repeats until cancelled from its own callback") {
    sf::event_loop loop;
    int ticks = 0;
    sf::timer t;
    t = loop.every(1ms, [&] {
        ++ticks;
        CHECK(t.active());
        if (ticks == 5) CHECK(t.cancel());
    });
    CHECK(t.active());
    CHECK(run_until(loop, [&] { return ticks == 5; }));
    CHECK_FALSE(t.active());
    CHECK_FALSE(t.cancel());
    CHECK(loop.timer_count() == 0);
    loop.run_for(10ms);
    CHECK(ticks == 5);
    CHECK_THROWS_AS(loop.every(0ms, [] {}), std::system_error);
}

TEST_CASE("event_loop: cancelling timers: before firing, from another's callback, after firing") {
    sf::event_loop loop;
    std::vector<int> fired;
    auto base = sf::deadline::clock::now();
    sf::timer a = loop.at(base, [&] { fired.push_back(1); });
    sf::timer b, c;
    b = loop.at(base, [&] {
        fired.push_back(2);
        CHECK_FALSE(b.active());  // a one-shot timer is over once its callback starts
        CHECK_FALSE(b.cancel());
        CHECK(c.cancel());  // due in the same iteration, cancelled before its turn
    });
    c = loop.at(base, [&] { fired.push_back(3); });
    sf::timer d = loop.after(1h, [&] { fired.push_back(4); });
    CHECK(d.cancel());
    CHECK_FALSE(d.cancel());
    CHECK_FALSE(d.active());
    CHECK(loop.timer_count() == 3);
    CHECK(run_until(loop, [&] { return fired.size() == 2; }));
    CHECK(fired == std::vector<int>{1, 2});
    CHECK_FALSE(a.active());
    CHECK_FALSE(a.cancel());  // fired already
    CHECK(loop.timer_count() == 0);
    CHECK_FALSE(sf::timer{}.cancel());

    // A slot freed by a fired timer is reused: the old handle must not reach the new timer.
    sf::timer e = loop.after(1h, [] {});
    CHECK_FALSE(a.cancel());
    CHECK_FALSE(b.cancel());
    CHECK(e.active());
    CHECK(loop.timer_count() == 1);
}

TEST_CASE("event_loop: a throwing timer callback propagates; a periodic timer stays armed") {
    std::error_code ec;
    sf::event_loop loop(ec);
    REQUIRE_FALSE(ec);
    int ticks = 0;
    sf::timer t = loop.every(1ms, [&] {
        if (++ticks == 1) throw std::runtime_error("tick");
    });
    auto end = sf::deadline::clock::now() + limit;
    bool thrown = false;
    while (!thrown && sf::deadline::clock::now() < end) {
        try {
            loop.run_until(sf::deadline::clock::now() + 50ms);
        } catch (const std::runtime_error&) {
            thrown = true;
        }
    }
    CHECK(thrown);
    CHECK(t.active());
    CHECK(run_until(loop, [&] { return ticks >= 3; }));
    CHECK(t.cancel());

    sf::io_watch none;
    CHECK_FALSE(none.active());
    CHECK_FALSE(none.cancel());
    none.modify(sf::interest::read, ec);
    CHECK(ec == sf::errc::not_registered);
    CHECK_THROWS_AS(none.modify(sf::interest::read), std::system_error);
}

TEST_CASE("event_loop: a timer armed by a timer callback for now waits for the next iteration") {
    sf::event_loop loop;
    int first = 0, second = 0;
    loop.after(0ms, [&] {
        ++first;
        loop.after(0ms, [&] { ++second; });
    });
    CHECK(loop.run_once() == 1);
    CHECK(first == 1);
    CHECK(second == 0);
    CHECK(loop.run_once() == 1);
    CHECK(second == 1);
}

TEST_CASE("event_loop: 100,000 timers armed, half cancelled") {
    sf::event_loop loop;
    constexpr std::size_t count = 100000;
    std::vector<sf::timer> timers;
    timers.reserve(count);
    std::vector<char> fired(count, 0);
    std::size_t fired_count = 0;
    bool in_order = true;
    sf::deadline::clock::time_point last{};
    auto start = sf::deadline::clock::now();
    auto base = start + 2ms;
    for (std::size_t i = 0; i < count; ++i) {
        auto due = base + std::chrono::microseconds((i * 7919) % 5000);
        timers.push_back(loop.at(due, [&, i, due] {
            fired[i] = 1;
            ++fired_count;
            if (due < last) in_order = false;
            last = due;
        }));
    }
    CHECK(loop.timer_count() == count);
    std::size_t cancelled = 0;
    for (std::size_t i = 0; i < count; i += 2) cancelled += timers[i].cancel() ? 1 : 0;
    CHECK(cancelled == count / 2);
    CHECK(loop.timer_count() == count / 2);
    CHECK(run_until(loop, [&] { return fired_count == count / 2; }));
    loop.poll();
    CHECK(fired_count == count / 2);
    CHECK(in_order);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) wrong += (fired[i] != 0) == (i % 2 == 0) ? 1 : 0;
    CHECK(wrong == 0);
    CHECK(loop.timer_count() == 0);
    // a generous bound that only quadratic behaviour exceeds (not a benchmark)
    CHECK(sf::deadline::clock::now() - start < 8s);
}

TEST_CASE("event_loop: an I/O callback sees a readable socket; modify and cancel") {
    auto pair_a = test_support::stream_pair();
    auto& a = pair_a.first;
    auto& b = pair_a.second;
    sf::event_loop loop;
    std::string received;
    int writable = 0;
    sf::io_watch w = loop.watch(b, sf::interest::read, [&](sf::io_event e) {
        CHECK(e.readable);
        CHECK_FALSE(e.writable);
        char buffer[64];
        std::error_code ec;
        auto n = b.read_some(sf::mutable_buffer(buffer, sizeof buffer), ec);
        REQUIRE_FALSE(ec);
        received.append(buffer, n);
    });
    CHECK(w.active());
    CHECK(loop.watch_count() == 1);
    CHECK(loop.poll() == 0);
    a.write_all(sf::const_buffer("hello", 5));
    CHECK(run_until(loop, [&] { return received == "hello"; }));

    std::error_code ec;
    loop.watch(
        b, sf::interest::read, [](sf::io_event) {}, ec);
    CHECK(ec == sf::errc::already_registered);

    // no read interest: data waits
    w.modify(sf::interest::none);
    a.write_all(sf::const_buffer("more", 4));
    loop.run_for(20ms);
    CHECK(received == "hello");
    auto copy = w;  // a copy refers to the same registration
    copy.modify(sf::interest::read);
    CHECK(run_until(loop, [&] { return received == "hellomore"; }));

    sf::io_watch wa;
    wa = loop.watch(a, sf::interest::write, [&](sf::io_event e) {
        CHECK(e.writable);
        CHECK_FALSE(e.readable);
        if (++writable == 3) wa.modify(sf::interest::none);
    });
    CHECK(run_until(loop, [&] { return writable >= 3; }));
    loop.poll();
    CHECK(writable == 3);
    CHECK(loop.watch_count() == 2);
    CHECK(wa.cancel());
    CHECK_FALSE(wa.cancel());
    CHECK_FALSE(wa.active());
    wa.modify(sf::interest::read, ec);
    CHECK(ec == sf::errc::not_registered);
    CHECK(copy.cancel());
    CHECK_FALSE(w.active());
    CHECK(loop.watch_count() == 0);
}

TEST_CASE("event_loop: a watch cancelled by another callback of the same batch is not called") {
    auto pair_a1 = test_support::stream_pair();
    auto& a1 = pair_a1.first;
    auto& b1 = pair_a1.second;
    auto pair_a2 = test_support::stream_pair();
    auto& a2 = pair_a2.first;
    auto& b2 = pair_a2.second;
    sf::event_loop loop;
    int calls = 0;
    sf::io_watch w1, w2;
    w1 = loop.watch(b1, sf::interest::read, [&](sf::io_event) {
        ++calls;
        w1.cancel();
        CHECK(w2.cancel());
    });
    w2 = loop.watch(b2, sf::interest::read, [&](sf::io_event) {
        ++calls;
        w2.cancel();
        CHECK(w1.cancel());
    });
    // both readable before the loop waits: one poller batch holds both events
    a1.write_all(sf::const_buffer("x", 1));
    a2.write_all(sf::const_buffer("y", 1));
    loop.run_for(20ms);
    CHECK(calls == 1);
    CHECK(loop.watch_count() == 0);

    // a slot freed by a cancel is reused, and the old handle does not reach the new watch
    int new_calls = 0;
    sf::io_watch w3 = loop.watch(b1, sf::interest::read, [&](sf::io_event) { ++new_calls; });
    CHECK_FALSE(w1.cancel());
    CHECK_FALSE(w2.cancel());
    CHECK(w3.active());
    CHECK(run_until(loop, [&] { return new_calls > 0; }));
    CHECK(w3.cancel());
}

TEST_CASE("event_loop: a peer's close is reported to the watch") {
    auto pair_a = test_support::stream_pair();
    auto& a = pair_a.first;
    auto& b = pair_a.second;
    sf::event_loop loop;
    bool closed = false;
    sf::io_watch w = loop.watch(b, sf::interest::read, [&](sf::io_event e) {
        CHECK((e.readable || e.hangup));
        char buffer[16];
        std::error_code ec;
        auto n = b.read_some(sf::mutable_buffer(buffer, sizeof buffer), ec);
        if (n == 0 || ec) {
            closed = true;
            w.cancel();
        }
    });
    a.close();
    CHECK(run_until(loop, [&] { return closed; }));
    CHECK_FALSE(w.active());
}

TEST_CASE("basic_event_loop over the poll() backend: a raw handle, a timer, a post") {
    using poll_loop = sf::basic_event_loop<sf::basic_poller<sf::detail::poll_backend>>;
    auto pair_a = test_support::stream_pair();
    auto& a = pair_a.first;
    auto& b = pair_a.second;
    poll_loop loop;
    std::vector<std::string> log;
    poll_loop::io_watch w = loop.watch(b.native_handle(), sf::interest::read, [&](sf::io_event e) {
        CHECK(e.readable);
        char buffer[16];
        auto n = b.read_some(sf::mutable_buffer(buffer, sizeof buffer));
        log.emplace_back(buffer, n);
        w.cancel();
    });
    poll_loop::timer t = loop.after(1ms, [&] {
        log.emplace_back("timer");
        a.write_all(sf::const_buffer("io", 2));
    });
    loop.post([&] { log.emplace_back("post"); });
    CHECK(t.active());
    CHECK(run_until(loop, [&] { return log.size() == 3; }));
    // "io" follows "timer"; the post is unordered with both (on Windows the wake-up is a TCP byte)
    CHECK(log.back() == "io");
    std::sort(log.begin(), log.end());
    CHECK(log == std::vector<std::string>{"io", "post", "timer"});
    CHECK(loop.watch_count() == 0);
}

namespace {
/// The poll() backend, counting the loop's waits by kind and calling a hook before each: what
/// busy polling does shows in the calls the loop makes, not in timings.
struct counting_backend : sf::detail::poll_backend {
    static inline int zero_waits = 0;      // looks that do not wait
    static inline int blocking_waits = 0;  // waits with a timeout, or none
    static inline std::function<void(bool blocking)> before;
    static void reset() {
        zero_waits = blocking_waits = 0;
        before = nullptr;
    }
    template <typename Emit>
    int wait(int timeout_ms, std::size_t max_events, Emit&& emit, std::error_code& ec) noexcept {
        ++(timeout_ms == 0 ? zero_waits : blocking_waits);
        if (before) before(timeout_ms != 0);
        return sf::detail::poll_backend::wait(timeout_ms, max_events, std::forward<Emit>(emit), ec);
    }
};
using counting_loop = sf::basic_event_loop<sf::basic_poller<counting_backend>>;

/// A loop watching the read end of a stream pair, reading whatever arrives.
struct busy_fixture {
    busy_fixture() {
        counting_backend::reset();
        watch = loop.watch(pair.second.native_handle(), sf::interest::read, [this](sf::io_event) {
            char buffer[16];
            std::error_code ec;
            received += pair.second.read_some(sf::mutable_buffer(buffer, sizeof buffer), ec);
        });
    }
    ~busy_fixture() { counting_backend::reset(); }
    /// The peer writes one byte.
    void send() { pair.first.write_all(sf::const_buffer("x", 1)); }
    /// One iteration that runs the read callback (work done), then counters cleared.
    void work() {
        send();
        CHECK(loop.run_once() == 1);
        counting_backend::zero_waits = counting_backend::blocking_waits = 0;
    }

    std::pair<test_support::stream_pair_socket, test_support::stream_pair_socket> pair =
        test_support::stream_pair();
    counting_loop loop;
    counting_loop::io_watch watch;
    std::size_t received = 0;
};
}  // namespace

TEST_CASE("event_loop: set_busy_poll clamps its window; off by default") {
    sf::event_loop loop;
    CHECK(loop.busy_poll() == sf::deadline::clock::duration::zero());
    loop.set_busy_poll(50us);
    CHECK(loop.busy_poll() == 50us);
    loop.set_busy_poll(-5ms);
    CHECK(loop.busy_poll() == sf::deadline::clock::duration::zero());
    loop.set_busy_poll(std::chrono::hours(48));
    CHECK(loop.busy_poll() == std::chrono::hours(24));
    loop.set_busy_poll((std::chrono::hours::max)());
    CHECK(loop.busy_poll() == std::chrono::hours(24));
    loop.set_busy_poll(std::chrono::duration<double>(0.5));
    CHECK(loop.busy_poll() == 500ms);
}

TEST_CASE("event_loop without busy polling: after work the next iteration blocks at once") {
    busy_fixture f;
    f.work();
    // the peer writes only once the loop is about to sleep
    counting_backend::before = [&](bool blocking) {
        if (blocking) f.send();
    };
    CHECK(f.loop.run_once() == 1);
    CHECK(f.received == 2);
    CHECK(counting_backend::zero_waits == 0);
    CHECK(counting_backend::blocking_waits == 1);
}

TEST_CASE("event_loop with busy polling: after work it looks without sleeping until the next message") {
    busy_fixture f;
    f.loop.set_busy_poll(limit);  // a window longer than the test: only the message ends it
    f.work();
    counting_backend::before = [&](bool blocking) {
        if (!blocking && counting_backend::zero_waits == 3) f.send();
    };
    CHECK(f.loop.run_once() == 1);
    CHECK(f.received == 2);
    CHECK(counting_backend::zero_waits == 3);  // the third look found the byte
    CHECK(counting_backend::blocking_waits == 0);
}

TEST_CASE("event_loop with busy polling: an idle loop does not spin, and the window ends") {
    busy_fixture f;
    f.loop.set_busy_poll(limit);
    counting_backend::before = [&](bool blocking) {
        if (blocking) f.send();
    };
    // no work before this iteration: it blocks at once, however long the window
    CHECK(f.loop.run_once() == 1);
    CHECK(counting_backend::zero_waits == 0);
    CHECK(counting_backend::blocking_waits == 1);

    // a short window: looks at least once, then sleeps until the peer writes
    f.loop.set_busy_poll(1ms);
    counting_backend::before = nullptr;
    f.work();
    counting_backend::before = [&](bool blocking) {
        if (blocking) f.send();
    };
    CHECK(f.loop.run_once() == 1);
    CHECK(f.received == 3);
    CHECK(counting_backend::zero_waits >= 1);
    CHECK(counting_backend::blocking_waits == 1);
}

TEST_CASE("event_loop with busy polling: the spin ends at the earliest timer; posts are seen") {
    busy_fixture f;
    f.loop.set_busy_poll(limit);
    f.work();
    bool fired = false;
    const auto start = sf::deadline::clock::now();
    f.loop.after(1ms, [&] { fired = true; });
    CHECK(f.loop.run_once() == 1);
    CHECK(fired);
    CHECK(sf::deadline::clock::now() - start < limit);
    CHECK(counting_backend::blocking_waits == 0);

    // the timer's iteration ran a callback: the next spins, and sees a post from another thread
    bool posted = false;
    counting_backend::zero_waits = 0;
    {
        test_support::joining_thread poster([&] { f.loop.post([&] { posted = true; }); });
        CHECK(f.loop.run_once() == 1);
    }
    CHECK(posted);
    CHECK(counting_backend::zero_waits >= 1);
    CHECK(counting_backend::blocking_waits == 0);
}

#if defined(_WIN32)
TEST_CASE("event_loop: signals are not supported on Windows") {
    sf::event_loop loop;
    std::error_code ec;
    loop.on_signal(
        SIGINT, [](int) {}, ec);
    CHECK(ec == sf::errc::not_supported);
    loop.stop_on_signals(ec);
    CHECK(ec == sf::errc::not_supported);
}
SOCKFRAME_SKIPPED_TEST_CASE("event_loop: a raised signal reaches its callback",
                            "Windows has no POSIX signals")
SOCKFRAME_SKIPPED_TEST_CASE("event_loop: stop_on_signals ends run on SIGTERM", "Windows has no POSIX signals")
SOCKFRAME_SKIPPED_TEST_CASE("event_loop: destruction restores the signal mask and handlers",
                            "Windows has no POSIX signals")
SOCKFRAME_SKIPPED_TEST_CASE(
    "event_loop over the portable POSIX mechanisms: a pipe wake-up, a self-pipe signal handler",
    "Windows has neither pipes that WSAPoll accepts nor POSIX signals")
#else
// Whether the default loop reads signals from a signalfd (and block_signals blocks them).
#if defined(__linux__) && !defined(SOCKFRAME_EVENT_LOOP_USE_PIPES)
#define SIGNALS_BY_SIGNALFD 1
#else
#define SIGNALS_BY_SIGNALFD 0
#endif

namespace {
bool blocked_here(int signo) {
    sigset_t current;
    sigemptyset(&current);
    pthread_sigmask(SIG_BLOCK, nullptr, &current);
    return sigismember(&current, signo) == 1;
}
void unblock_here(int signo) {
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
}
using handler_type = void (*)(int);
handler_type current_handler(int signo) {
    struct sigaction now {};
    sigaction(signo, nullptr, &now);
    return now.sa_handler;
}
}  // namespace

TEST_CASE("event_loop: a raised signal reaches its callback") {
    // Blocked first, as a program does before starting threads: then only the loop sees it.
    sf::block_signals({SIGUSR1});
    {
        sf::event_loop loop;
        std::vector<int> seen;
        loop.on_signal(SIGUSR1, [&](int s) { seen.push_back(s); });
        loop.on_signal(SIGUSR1, [&](int s) { seen.push_back(-s); });
        REQUIRE(::raise(SIGUSR1) == 0);
        CHECK(run_until(loop, [&] { return seen.size() == 2; }));
        CHECK(seen == std::vector<int>{SIGUSR1, -SIGUSR1});

        loop.cancel_signal(SIGUSR1);
        int again = 0;
        loop.on_signal(SIGUSR1, [&](int) { ++again; });
        REQUIRE(::raise(SIGUSR1) == 0);
        CHECK(run_until(loop, [&] { return again == 1; }));
        CHECK(seen.size() == 2);
    }
#if SIGNALS_BY_SIGNALFD
    CHECK(blocked_here(SIGUSR1));  // blocked before the loop: left blocked
#endif
    unblock_here(SIGUSR1);
}

TEST_CASE("event_loop: stop_on_signals ends run on SIGTERM") {
    sf::block_signals({SIGTERM});
    {
        sf::event_loop loop;
        loop.stop_on_signals();
        bool timed_out = false;
        loop.after(limit, [&] {
            timed_out = true;
            loop.stop();
        });
        loop.post([] { ::raise(SIGTERM); });
        loop.run();
        CHECK_FALSE(timed_out);
    }
#if SIGNALS_BY_SIGNALFD
    CHECK(blocked_here(SIGTERM));
#endif
    unblock_here(SIGTERM);
}

TEST_CASE("event_loop: destruction restores the signal mask and handlers") {
    unblock_here(SIGUSR2);
    auto before = current_handler(SIGUSR2);
    {
        sf::event_loop loop;
        int seen = 0;
        loop.on_signal(SIGUSR2, [&](int) { ++seen; });
        REQUIRE(::raise(SIGUSR2) == 0);
        CHECK(run_until(loop, [&] { return seen == 1; }));
        // One more, never read by the loop: the destructor consumes it instead of letting the
        // default action (ending the process) run.
        REQUIRE(::raise(SIGUSR2) == 0);
    }
    CHECK_FALSE(blocked_here(SIGUSR2));
    CHECK((current_handler(SIGUSR2) == before));
}
TEST_CASE("event_loop over the portable POSIX mechanisms: a pipe wake-up, a self-pipe signal handler") {
    using posix_loop = sf::basic_event_loop<sf::poller, sf::detail::posix_loop_os>;
    unblock_here(SIGUSR1);  // the handler runs where the signal is not blocked
    auto before = current_handler(SIGUSR1);
    {
        posix_loop loop;
        std::atomic<bool> posted{false};
        {
            test_support::joining_thread poster([&] { loop.post([&] { posted = true; }); });
            CHECK(run_until(loop, [&] { return posted.load(); }));
        }
        int seen = 0;
        loop.on_signal(SIGUSR1, [&](int s) {
            CHECK(s == SIGUSR1);
            ++seen;
        });
        CHECK((current_handler(SIGUSR1) != before));
        posix_loop other;
        std::error_code ec;
        other.on_signal(
            SIGUSR1, [](int) {}, ec);
        CHECK(ec == std::errc::device_or_resource_busy);  // a handler is process-wide
        REQUIRE(::raise(SIGUSR1) == 0);
        CHECK(run_until(loop, [&] { return seen == 1; }));

        loop.cancel_signal(SIGUSR1);
        CHECK((current_handler(SIGUSR1) == before));
        other.on_signal(
            SIGUSR1, [](int) {}, ec);  // free again
        CHECK_FALSE(ec);
        CHECK((current_handler(SIGUSR1) != before));
    }
    CHECK((current_handler(SIGUSR1) == before));
}
#endif
