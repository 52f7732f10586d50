#include <sockframe/listener.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <set>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

TEST_CASE("a listener on port 0 gets an ephemeral port and accepts many clients") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    auto port = l.local_address().port();
    CHECK(port != 0);
    std::vector<sf::tcp_stream> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(sf::tcp_stream::connect(l.local_address(), 5s));
    std::set<std::uint16_t> peers;
    for (int i = 0; i < 20; ++i) {
        auto [s, from] = l.accept(5s);
        CHECK(s.is_open());
        peers.insert(from.port());
    }
    CHECK(peers.size() == 20);
}

TEST_CASE("accept with a deadline times out when nobody connects") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    std::error_code ec;
    auto start = sf::deadline::clock::now();
    auto a = l.accept(100ms, ec);
    CHECK(ec == std::errc::timed_out);
    CHECK_FALSE(a.socket.is_open());
    CHECK(sf::deadline::clock::now() - start >= 100ms);
    l.set_timeout(50ms);
    CHECK_THROWS_AS(l.accept(), std::system_error);
}

TEST_CASE("a non-blocking listener reports would-block instead of waiting") {
    sf::basic_listener<sf::ipv4, sf::stream, sf::non_blocking> l(sf::ipv4_address::loopback(0));
    std::error_code ec;
    auto a = l.accept(ec);
    CHECK(ec == std::errc::operation_would_block);
    auto c = sf::tcp_stream::connect(l.local_address());
    REQUIRE_FALSE(
        sf::detail::wait_ready(l.native_handle(), sf::detail::poll_in, sf::deadline::clock::now() + 5s));
    auto b = l.accept(ec);
    REQUIRE_FALSE(ec);
    char buffer[1];
    b.socket.read_some(buffer, ec);  // the accepted socket is non-blocking too
    CHECK(ec == std::errc::operation_would_block);
}

TEST_CASE("listening on a bad or busy address is a clear error") {
    std::error_code ec;
    sf::tcp_listener l(sf::ipv4_address::parse("192.0.2.1", 0), ec);  // not an address of this host
    CHECK(ec == std::errc::address_not_available);
    CHECK_FALSE(l.is_open());
#if defined(SOCKFRAME_HAS_AF_UNIX)
    if (!test_support::has_unix<sf::stream>()) {
        MESSAGE(
            "skipped: the busy Unix path half, because this system has no AF_UNIX stream sockets "
            "(Windows before 10 1803, wine)");
        return;
    }
    test_support::temp_dir dir;
    sf::local_address p(dir.file("busy.sock"));
    sf::unix_listener first(p);
    sf::unix_listener second(p, ec);
    CHECK(ec == std::errc::address_in_use);
#else
    MESSAGE("skipped: the busy Unix path half, because this platform has no AF_UNIX");
#endif
}
