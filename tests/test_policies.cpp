#include <sockframe/policies.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;

namespace {
// A family written outside the library: IPv4 under another name, with its own address type
// reused. It plugs into basic_socket and basic_listener like the built-in ones.
struct my_inet {
    using address_type = sf::ipv4_address;
    static int domain() noexcept { return sf::ipv4::domain(); }
};
// A type written outside the library: reliable messages, spelled by hand.
struct my_seqpacket {
    static int value() noexcept { return sf::seqpacket::value(); }
    [[maybe_unused]] static constexpr bool message_oriented = true;
    [[maybe_unused]] static constexpr bool connection_oriented = true;
};
}  // namespace

TEST_CASE("the built-in policies describe their family, type and mode") {
    CHECK(sf::ipv4::domain() != sf::ipv6::domain());
    CHECK_FALSE(sf::stream::message_oriented);
    CHECK(sf::datagram::message_oriented);
    CHECK_FALSE(sf::datagram::connection_oriented);
    CHECK(sf::seqpacket::connection_oriented);
    CHECK(sf::blocking::is_blocking);
    CHECK_FALSE(sf::non_blocking::is_blocking);
    CHECK(std::is_same_v<sf::tcp_stream, sf::basic_socket<sf::ipv4, sf::stream, sf::blocking>>);
}

TEST_CASE("a user-written family plugs into basic_socket and basic_listener") {
    sf::basic_listener<my_inet> listener(sf::ipv4_address::loopback(0));
    auto client = sf::basic_socket<my_inet, sf::stream>::connect(listener.local_address());
    auto [server, from] = listener.accept();
    client.write_all("ping");
    char buffer[4];
    server.read_exact(buffer);
    CHECK(std::string(buffer, 4) == "ping");
    CHECK(from == client.local_address());
}

#if defined(SOCKFRAME_POSIX)
TEST_CASE("a user-written type plugs into basic_socket (seqpacket spelled by hand)") {
    if (!test_support::has_unix<my_seqpacket>()) {
        MESSAGE("skipped: this system has no AF_UNIX SOCK_SEQPACKET (macOS)");
        return;
    }
    using socket = sf::basic_socket<sf::local, my_seqpacket>;
    auto [a, b] = sf::socketpair<socket>();
    a.send("one");
    a.send("three");
    char buffer[16];
    CHECK(b.receive(buffer) == 3);
    CHECK(b.receive(buffer) == 5);
}
#else
TEST_CASE("a user-written type plugs into basic_socket (seqpacket spelled by hand)") {
    // Windows has no SOCK_SEQPACKET: the type still plugs in, and opening says why it cannot be.
    std::error_code ec;
    auto s = sf::basic_socket<sf::ipv4, my_seqpacket>::open(ec);
    CHECK(ec == std::errc::not_supported);
    CHECK_FALSE(s.is_open());
    MESSAGE("skipped: the message exchange, because Windows has no SOCK_SEQPACKET and no socketpair");
}
#endif

TEST_CASE("raw sockets are reachable through the protocol parameter") {
    std::error_code ec;
    auto s = sf::basic_socket<sf::ipv4, sf::raw>::open(IPPROTO_ICMP, ec);
    if (ec == std::errc::operation_not_permitted || ec == std::errc::permission_denied) {
        MESSAGE("skipped: raw sockets need CAP_NET_RAW (administrator rights on Windows) here ("
                << ec.message() << ")");
        return;
    }
    REQUIRE_FALSE(ec);
    CHECK(s.is_open());
    CHECK(s.get_option(SOL_SOCKET, SO_TYPE) == SOCK_RAW);
#if defined(SO_PROTOCOL)
    CHECK(s.get_option(SOL_SOCKET, SO_PROTOCOL) == IPPROTO_ICMP);
#else
    MESSAGE("skipped: the SO_PROTOCOL check, because this system has no SO_PROTOCOL (Windows, macOS)");
#endif
}

TEST_CASE("the _nb aliases are the non-blocking forms of the blocking names") {
    static_assert(
        std::is_same_v<sf::tcp_stream_nb, sf::basic_socket<sf::ipv4, sf::stream, sf::non_blocking>>);
    static_assert(
        std::is_same_v<sf::tcp6_stream_nb, sf::basic_socket<sf::ipv6, sf::stream, sf::non_blocking>>);
    static_assert(
        std::is_same_v<sf::udp_socket_nb, sf::basic_socket<sf::ipv4, sf::datagram, sf::non_blocking>>);
    static_assert(std::is_same_v<sf::tcp_listener_nb::socket_type, sf::tcp_stream_nb>);
    static_assert(std::is_same_v<sf::tcp6_listener_nb::socket_type, sf::tcp6_stream_nb>);
    static_assert(!sf::tcp_stream_nb::mode_type::is_blocking);
#if defined(SOCKFRAME_HAS_AF_UNIX)
    static_assert(std::is_same_v<sf::unix_listener_nb::socket_type, sf::unix_stream_nb>);
#endif
    sf::tcp_listener_nb l(sf::ipv4_address::loopback(0));
    std::error_code ec;
    auto none = l.accept(ec);
    CHECK(ec == std::errc::operation_would_block);
    CHECK_FALSE(none.socket.is_open());
    auto c = sf::tcp_stream::connect(l.local_address(), std::chrono::seconds(5));
    sf::poller p;
    p.add(l, sf::interest::read, 0);
    std::vector<sf::poll_event> events;
    for (int i = 0; i < 100 && events.empty(); ++i) p.wait(events, std::chrono::seconds(5));
    REQUIRE(events.size() == 1);
    auto a = l.accept(ec);
    REQUIRE_FALSE(ec);
    sf::tcp_stream_nb& s = a.socket;
    char b[1];
    s.read_some(b, ec);
    CHECK(ec == std::errc::operation_would_block);
}
