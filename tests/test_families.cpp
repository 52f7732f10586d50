// The runtime families: ip (IPv4 or IPv6 chosen at run time, dual-stack listeners) and
// any_family (any_stream: a TCP or a Unix stream behind one type).
#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <type_traits>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

TEST_CASE("ip_address holds either family, parses both, and unmaps IPv4-mapped addresses") {
    sf::ip_address a = sf::ipv4_address::loopback(80);
    CHECK(a.is_v4());
    CHECK(a.family() == AF_INET);
    CHECK(a.port() == 80);
    CHECK(a.to_string() == "127.0.0.1:80");
    CHECK(a.is_loopback());
    sf::ip_address b = sf::ipv6_address::loopback(81);
    CHECK(b.is_v6());
    CHECK(b.to_string() == "[::1]:81");
    CHECK(a != b);
    CHECK(a < b);
    CHECK(sf::ip_address::parse("192.0.2.1", 7).v4() == sf::ipv4_address::parse("192.0.2.1", 7));
    CHECK(sf::ip_address::parse("::1", 7) == sf::ip_address(sf::ipv6_address::loopback(7)));
    CHECK(sf::ip_address::parse("[::1]:9").port() == 9);
    CHECK(sf::ip_address::parse("10.0.0.1:9").is_v4());
    std::error_code ec;
    sf::ip_address::parse("not an address", 1, ec);
    CHECK(ec == sf::errc::bad_address);
    auto mapped = sf::ip_address::parse("::ffff:192.0.2.7", 5);
    CHECK(mapped.is_v6());
    CHECK(mapped.unmapped() == sf::ip_address(sf::ipv4_address::parse("192.0.2.7", 5)));
    CHECK(b.unmapped() == b);
    CHECK(sf::ip_address::any(3).is_any());
    a.port(8080);
    CHECK(a.port() == 8080);
    CHECK(sf::ip_address().is_v6());
}

TEST_CASE("resolve<ip> returns both families; an ip_tcp_stream connects to either") {
    auto v4 = sf::resolve<sf::ip>("127.0.0.1", "1");
    REQUIRE(v4.size() == 1);
    CHECK(v4[0].is_v4());
    sf::tcp_listener l4(sf::ipv4_address::loopback(0));
    auto s4 = sf::ip_tcp_stream::connect("127.0.0.1", std::to_string(l4.local_address().port()), 5s);
    CHECK(s4.remote_address().is_v4());
    CHECK(s4.local_address().is_v4());
    CHECK(l4.accept(5s).socket.is_open());
    if (!test_support::has_ipv6_loopback()) {
        MESSAGE("skipped: the IPv6 half, because ::1 cannot be bound here");
        return;
    }
    auto v6 = sf::resolve<sf::ip>("::1", "1");
    REQUIRE(v6.size() == 1);
    CHECK(v6[0].is_v6());
    sf::tcp6_listener l6(sf::ipv6_address::loopback(0));
    auto s6 = sf::ip_tcp_stream::connect("::1", std::to_string(l6.local_address().port()), 5s);
    CHECK(s6.remote_address().is_v6());
    CHECK(l6.accept(5s).socket.is_open());
}

TEST_CASE("a dual-stack ip_tcp_listener on :: accepts IPv4 and IPv6 clients") {
    if (!test_support::has_ipv6_loopback()) {
        MESSAGE("skipped: ::1 cannot be bound here");
        return;
    }
    sf::ip_tcp_listener l(sf::ip_address::any(0));
    CHECK(l.local_address().is_v6());
    CHECK_FALSE(l.socket().get<sf::v6_only>().value);
    const auto port = l.local_address().port();
    auto c4 = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), 5s);
    auto a4 = l.accept(5s);
    CHECK(a4.from.unmapped() == sf::ip_address(c4.local_address()));
    auto c6 = sf::tcp6_stream::connect(sf::ipv6_address::loopback(port), 5s);
    auto a6 = l.accept(5s);
    CHECK(a6.from == sf::ip_address(c6.local_address()));
    a4.socket.write_all("4");
    a6.socket.write_all("6");
    char b4, b6;
    c4.read_exact(sf::mutable_buffer(&b4, 1), 5s);
    c6.read_exact(sf::mutable_buffer(&b6, 1), 5s);
    CHECK(b4 == '4');
    CHECK(b6 == '6');

    sf::listen_options only;
    only.v6_only = true;
    sf::ip_tcp_listener l6(sf::ip_address::any(0), only);
    CHECK(l6.socket().get<sf::v6_only>().value);
    std::error_code ec;
    sf::tcp_stream::connect(sf::ipv4_address::loopback(l6.local_address().port()), 5s, ec);
    CHECK(ec == std::errc::connection_refused);
}

TEST_CASE("connect by name over both families: the one that refuses is passed over") {
    // "localhost" is ::1 and 127.0.0.1 on many systems; a listener on one family only.
    sf::tcp_listener l4(sf::ipv4_address::loopback(0));
    const auto port = l4.local_address().port();
    for (bool race : {false, true}) {
        CAPTURE(race);
        sf::connect_options o;
        o.happy_eyeballs = race;
        auto s = sf::ip_tcp_stream::connect("localhost", std::to_string(port), o, 5s);
        CHECK(s.remote_address() == sf::ip_address(l4.local_address()));
        CHECK(l4.accept(5s).socket.is_open());
    }
    auto names = sf::resolve<sf::ip>("localhost", std::to_string(port));
    bool both = false;
    for (const auto& a : names) both = both || a.is_v6();
    if (!both) MESSAGE("note: localhost is IPv4 only here; the explicit lists below cover both families");
    if (!test_support::has_ipv6_loopback()) {
        MESSAGE("skipped: the mixed-family lists, because ::1 cannot be bound here");
        return;
    }
    // ::1 first, refused there (nothing listens on ::1 at that port); 127.0.0.1 accepts.
    std::vector<sf::ip_address> v6_first{sf::ipv6_address::loopback(port), sf::ipv4_address::loopback(port)};
    sf::tcp6_listener l6(sf::ipv6_address::loopback(0));
    const auto port6 = l6.local_address().port();
    std::vector<sf::ip_address> v4_first{sf::ipv4_address::loopback(port6),
                                         sf::ipv6_address::loopback(port6)};
    for (bool race : {false, true}) {
        CAPTURE(race);
        sf::connect_options o;
        o.happy_eyeballs = race;
        auto s = sf::ip_tcp_stream::connect(v6_first, o, 5s);
        CHECK(s.remote_address().is_v4());
        CHECK(l4.accept(5s).socket.is_open());
        auto t = sf::ip_tcp_stream::connect(v4_first, o, 5s);
        CHECK(t.remote_address().is_v6());
        CHECK(l6.accept(5s).socket.is_open());
    }
}

TEST_CASE("ip_udp_socket: the family follows the bound address") {
    sf::ip_udp_socket a(sf::ip_address(sf::ipv4_address::loopback(0)));
    sf::ip_udp_socket b(sf::ip_address(sf::ipv4_address::loopback(0)));
    a.send_to("hi", b.local_address());
    char buffer[4];
    auto r = b.receive_from(buffer, 5s);
    CHECK(r.size == 2);
    CHECK(r.from == a.local_address());
}

namespace {
/// One handler for TCP and Unix clients alike.
std::string echo_once(sf::any_stream s) {
    char buffer[16];
    std::size_t n = s.read_some(buffer, 5s);
    s.write_all(sf::const_buffer(buffer, n), 5s);
    return s.local_address().to_string();
}
}  // namespace

TEST_CASE("any_stream holds a TCP or a Unix stream; an any_listener listens on either") {
    static_assert(std::is_convertible_v<sf::tcp_stream&&, sf::any_stream>);
    static_assert(std::is_convertible_v<sf::tcp6_stream&&, sf::ip_tcp_stream>);
    static_assert(std::is_convertible_v<sf::ip_tcp_stream&&, sf::any_stream>);
    static_assert(!std::is_convertible_v<sf::any_stream&&, sf::tcp_stream>);
    static_assert(!std::is_convertible_v<sf::tcp_stream&&, sf::tcp6_stream>);

    sf::tcp_listener tcp(sf::ipv4_address::loopback(0));
    auto client = sf::tcp_stream::connect(tcp.local_address(), 5s);
    client.write_all("tcp");
    CHECK(echo_once(std::move(tcp.accept(5s).socket)) == tcp.local_address().to_string());
    char buffer[8];
    CHECK(client.read_some(buffer, 5s) == 3);

    sf::any_listener any_tcp(sf::any_address(sf::ipv4_address::loopback(0)));
    CHECK(any_tcp.local_address().is_ip());
    auto c2 = sf::any_stream::connect(any_tcp.local_address(), 5s);
    c2.write_all("any");
    CHECK(echo_once(std::move(any_tcp.accept(5s).socket)) == any_tcp.local_address().to_string());
    CHECK(c2.read_some(buffer, 5s) == 3);

#if defined(SOCKFRAME_HAS_AF_UNIX)
    if (!test_support::has_unix<sf::stream>()) {
        MESSAGE("skipped: the Unix half, because this system has no AF_UNIX stream sockets");
        return;
    }
    test_support::temp_dir dir;
    const std::string path = dir.file("any.sock");
    sf::unix_listener unix_l{sf::local_address(path)};
    auto u = sf::unix_stream::connect(sf::local_address(path), 5s);
    u.write_all("unix");
    CHECK(echo_once(std::move(unix_l.accept(5s).socket)) == path);
    CHECK(u.read_some(buffer, 5s) == 4);

    const std::string path2 = dir.file("any2.sock");
    {
        sf::any_listener any_unix{sf::any_address(sf::local_address(path2))};
        CHECK(any_unix.local_address().is_local());
        auto c3 = sf::any_stream::connect(sf::any_address(sf::local_address(path2)), 5s);
        auto accepted = any_unix.accept(5s);
        CHECK(accepted.from.is_local());
        c3.write_all("x");
        CHECK(accepted.socket.read_some(buffer, 5s) == 1);
    }
#endif
}
