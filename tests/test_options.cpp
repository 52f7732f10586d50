#include <sockframe/options.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

TEST_CASE("boolean options round-trip through set and get") {
    auto s = sf::tcp_stream::open();
    s.set(sf::reuse_address{true});
    CHECK(s.get<sf::reuse_address>().value);
    s.set(sf::reuse_address{false});
    CHECK_FALSE(s.get<sf::reuse_address>().value);
    s.set(sf::no_delay{true});
    CHECK(s.get<sf::no_delay>().value);
    s.set(sf::keep_alive{true});
    CHECK(s.get<sf::keep_alive>().value);
    s.set(sf::keep_alive{false});
    CHECK_FALSE(static_cast<bool>(s.get<sf::keep_alive>()));
#if defined(SO_REUSEPORT)
    s.set(sf::reuse_port{true});
    CHECK(s.get<sf::reuse_port>().value);
#else
    MESSAGE("skipped: reuse_port, because this system has no SO_REUSEPORT (the option is not declared)");
#endif
}

TEST_CASE("listeners have SO_REUSEADDR on by default") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
#if defined(SOCKFRAME_WINDOWS)
    // Windows' SO_REUSEADDR lets another socket steal a bound port; its POSIX meaning is the
    // default there, and SO_EXCLUSIVEADDRUSE keeps the port ours.
    CHECK_FALSE(l.socket().get<sf::reuse_address>().value);
    CHECK(l.socket().get_option(SOL_SOCKET, SO_EXCLUSIVEADDRUSE) != 0);
#else
    CHECK(l.socket().get<sf::reuse_address>().value);
#endif
}

TEST_CASE("linger, buffer sizes and kernel timeouts round-trip") {
    auto s = sf::tcp_stream::open();
    s.set(sf::linger{true, 3s});
    auto l = s.get<sf::linger>();
    CHECK(l.enabled);
    CHECK(l.timeout == 3s);
    s.set(sf::receive_buffer_size{65536});
    CHECK(s.get<sf::receive_buffer_size>().value >= 65536);
    s.set(sf::send_buffer_size{32768});
    CHECK(s.get<sf::send_buffer_size>().value >= 32768);
    s.set(sf::receive_timeout{1500ms});
    CHECK(s.get<sf::receive_timeout>().value == 1500ms);
    s.set(sf::send_timeout{2s});
    CHECK(s.get<sf::send_timeout>().value == 2s);
}

TEST_CASE("v6_only on IPv6 sockets and broadcast on UDP sockets") {
    std::error_code ec;
    auto s6 = sf::udp6_socket::open(ec);
    if (ec) {
        MESSAGE("skipped v6_only: no IPv6 here (" << ec.message() << ")");
    } else {
        s6.set(sf::v6_only{true});
        CHECK(s6.get<sf::v6_only>().value);
        s6.set(sf::v6_only{false});
        CHECK_FALSE(s6.get<sf::v6_only>().value);
    }
    auto u = sf::udp_socket::open();
    CHECK_FALSE(u.get<sf::broadcast>().value);
    u.set(sf::broadcast{true});
    CHECK(u.get<sf::broadcast>().value);
}

TEST_CASE("raw get/setsockopt reaches any option; a bad one is an error code, not a crash") {
    auto s = sf::tcp_stream::open();
    s.set_option(SOL_SOCKET, SO_KEEPALIVE, 1);
    CHECK(s.get_option(SOL_SOCKET, SO_KEEPALIVE) != 0);
    CHECK(s.get<sf::keep_alive>().value);
    int value = 1;
    std::error_code ec;
    s.set_option(SOL_SOCKET, 987654, sf::const_buffer(&value, sizeof value), ec);
    CHECK(ec);
    CHECK_THROWS_AS(s.set_option(SOL_SOCKET, 987654, 1), std::system_error);
    sf::tcp_stream closed;
    closed.get<sf::no_delay>(ec);
    CHECK(ec);
}
