// connect by host name / candidate list: in order with one shared deadline, or Happy Eyeballs.
#include <sockframe/socket.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
sf::connect_options racing(std::chrono::milliseconds delay = 250ms) {
    sf::connect_options o;
    o.happy_eyeballs = true;
    o.attempt_delay = delay;
    return o;
}

#if defined(SOCKFRAME_LINUX)
/// A listener whose accept queue is full, so that a new connect to it gets no answer (Linux drops
/// the SYN): a peer that never answers, on loopback. Holds the connections that fill it.
struct unanswered {
    sf::tcp_listener listener;
    std::vector<sf::tcp_stream_nb> fillers;
    bool works = false;
};
void make_unanswered(unanswered& u) {
    sf::listen_options o;
    o.backlog = 0;
    u.listener = sf::tcp_listener(sf::ipv4_address::loopback(0), o);
    for (int i = 0; i < 16; ++i) {
        std::error_code ec;
        auto s = sf::tcp_stream_nb::connect(u.listener.local_address(), ec);
        if (ec && ec != std::errc::operation_in_progress) return;
        // a probe, not synchronisation: does this connect complete within 200 ms?
        ec = sf::detail::wait_connected(s.native_handle(), sf::deadline::clock::now() + 200ms);
        u.fillers.push_back(std::move(s));
        if (ec == std::errc::timed_out) {
            u.works = true;
            return;
        }
    }
}
#endif
}  // namespace

TEST_CASE("every candidate is tried in order; the first that accepts wins, with or without racing") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    const test_support::refused_port nobody;
    const auto refused = nobody.address();
    std::vector<sf::ipv4_address> candidates{refused, refused, l.local_address()};
    for (bool race : {false, true}) {
        CAPTURE(race);
        sf::connect_options o;
        o.happy_eyeballs = race;
        std::error_code ec;
        auto s = sf::tcp_stream::connect(candidates, o, 5s, ec);
        REQUIRE_FALSE(ec);
        CHECK(s.remote_address() == l.local_address());
        auto a = l.accept(5s);
        CHECK(a.from == s.local_address());
        // the socket is in its mode: a blocking read with a deadline times out
        char c;
        s.read_some(sf::mutable_buffer(&c, 1), 10ms, ec);
        CHECK(ec == std::errc::timed_out);
    }
}

TEST_CASE("when every candidate fails, the error is the last one's and no socket is left open") {
    const test_support::refused_port nobody;
    const auto refused = nobody.address();
    for (bool race : {false, true}) {
        CAPTURE(race);
        sf::connect_options o;
        o.happy_eyeballs = race;
        std::error_code ec;
        auto s = sf::tcp_stream::connect(std::vector<sf::ipv4_address>{refused, refused}, o, 5s, ec);
        CHECK(ec == std::errc::connection_refused);
        CHECK_FALSE(s.is_open());
        s = sf::tcp_stream::connect(std::vector<sf::ipv4_address>{}, o, 5s, ec);
        CHECK(ec == sf::errc::invalid_argument);
        CHECK_THROWS_AS(sf::tcp_stream::connect(std::vector<sf::ipv4_address>{refused}, o, 5s),
                        std::system_error);
    }
    std::error_code ec;
    auto s = sf::tcp_stream::connect("127.0.0.1", std::to_string(refused.port()), racing(), 5s, ec);
    CHECK(ec == std::errc::connection_refused);
}

TEST_CASE("a non-blocking socket connects by name and comes back non-blocking") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    auto port = std::to_string(l.local_address().port());
    for (bool race : {false, true}) {
        sf::connect_options o;
        o.happy_eyeballs = race;
        auto s = sf::tcp_stream_nb::connect("127.0.0.1", port, o, 5s);
        CHECK(s.remote_address() == l.local_address());
        std::error_code ec;
        char c;
        s.read_some(sf::mutable_buffer(&c, 1), ec);
        CHECK(ec == std::errc::operation_would_block);
        l.accept(5s);
    }
}

TEST_CASE("the deadline is shared: a silent first candidate uses it up; racing goes past it") {
#if defined(SOCKFRAME_LINUX)
    unanswered silent;
    make_unanswered(silent);
    if (!silent.works) {
        MESSAGE("skipped: could not make a loopback peer that does not answer (accept queue not full)");
        return;
    }
    sf::tcp_listener good(sf::ipv4_address::loopback(0));
    std::vector<sf::ipv4_address> candidates{silent.listener.local_address(), good.local_address()};

    auto start = sf::deadline::clock::now();
    std::error_code ec;
    auto s = sf::tcp_stream::connect(candidates, sf::connect_options{}, 300ms, ec);
    auto took = sf::deadline::clock::now() - start;
    CHECK(ec == std::errc::timed_out);
    CHECK_FALSE(s.is_open());
    CHECK(took >= 290ms);
    CHECK(took < 900ms);  // one deadline for all, not 300 ms per candidate

    start = sf::deadline::clock::now();
    s = sf::tcp_stream::connect(candidates, racing(100ms), 5s, ec);
    took = sf::deadline::clock::now() - start;
    REQUIRE_FALSE(ec);
    CHECK(s.remote_address() == good.local_address());
    CHECK(took >= 95ms);  // the second attempt starts one stagger after the first
    CHECK(took < 900ms);  // long before the first's SYN is sent again (1 s)
    CHECK(good.accept(5s).socket.is_open());
#else
    MESSAGE("skipped: a peer that never answers is made by filling a Linux accept queue");
#endif
}

TEST_CASE("connect takes any contiguous list of candidates: a std::array, racing or not") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    const test_support::refused_port nobody;
    const std::array<sf::ipv4_address, 2> candidates{nobody.address(), l.local_address()};
    for (bool race : {false, true}) {
        CAPTURE(race);
        sf::connect_options o;
        o.happy_eyeballs = race;
        std::error_code ec;
        auto s = sf::tcp_stream::connect(candidates, o, sf::deadline(10s), ec);
        REQUIRE_FALSE(ec);
        CHECK(s.remote_address() == l.local_address());
        auto accepted = l.accept();
        CHECK(accepted.from == s.local_address());
    }
    // an empty list is an invalid argument, not a crash
    const std::array<sf::ipv4_address, 0> none{};
    std::error_code ec;
    auto s = sf::tcp_stream::connect(none, sf::connect_options{}, sf::deadline(1s), ec);
    CHECK(ec == sf::errc::invalid_argument);
    CHECK_FALSE(s.is_open());
}

TEST_CASE("detail::array_list: growth, appending one of its own elements, erase_front, moves") {
    sf::detail::array_list<std::size_t> a;
    CHECK(a.empty());
    for (std::size_t i = 0; i < 1000; ++i) a.push_back(i);
    REQUIRE(a.size() == 1000);
    for (std::size_t i = 0; i < 1000; ++i) CHECK(a[i] == i);
    // appending an element of the list itself while it grows (capacity is a power of two here)
    sf::detail::array_list<std::size_t> b;
    b.push_back(7);
    for (int i = 0; i < 20; ++i) b.push_back(b.back());
    CHECK(b.size() == 21);
    CHECK(b[20] == 7);
    a.erase_front(990);
    REQUIRE(a.size() == 10);
    CHECK(a[0] == 990);
    CHECK(a.back() == 999);
    a.resize(12);
    CHECK(a[11] == 0);  // value-initialised
    sf::detail::array_list<std::size_t> c(std::move(a));
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty, by contract
    CHECK(c.size() == 12);
    c.resize(14, 5);
    CHECK(c[11] == 0);
    CHECK(c[13] == 5);
    c = std::move(b);
    CHECK(c.size() == 21);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
    sf::detail::array_list<int> zeros(5);
    std::size_t sum = 0;
    for (int v : zeros) sum += static_cast<std::size_t>(v);
    CHECK(sum == 0);
}
