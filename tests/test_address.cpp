#include <sockframe/address.hpp>

#include <doctest/doctest.h>

#include <sstream>
#include <string>

namespace sf = sockframe;

TEST_CASE("ipv4_address parses and formats dotted quads and ports") {
    auto a = sf::ipv4_address::parse("192.0.2.17", 8080);
    CHECK(a.host() == "192.0.2.17");
    CHECK(a.port() == 8080);
    CHECK(a.to_string() == "192.0.2.17:8080");
    CHECK(a.bytes() == sf::ipv4_address::bytes_type{192, 0, 2, 17});
    CHECK(sf::ipv4_address::parse("10.1.2.3:65535") == sf::ipv4_address({10, 1, 2, 3}, 65535));
    CHECK(sf::ipv4_address::loopback(9).to_string() == "127.0.0.1:9");
    CHECK(sf::ipv4_address::loopback().is_loopback());
    CHECK(sf::ipv4_address::any(1).is_any());
    CHECK(sf::ipv4_address::broadcast().host() == "255.255.255.255");
    std::ostringstream os;
    os << a;
    CHECK(os.str() == "192.0.2.17:8080");
}

TEST_CASE("bad IPv4 text is errc::bad_address, never a guess") {
    for (const char* bad :
         {"256.1.1.1", "1.2.3", "", "1.2.3.4 ", "a.b.c.d", "1.2.3.4.5", "::1", "-1.2.3.4"}) {
        CAPTURE(bad);
        std::error_code ec;
        sf::ipv4_address::parse(bad, 80, ec);
        CHECK(ec == sf::errc::bad_address);
        CHECK_THROWS_AS(sf::ipv4_address::parse(bad, 80), std::system_error);
    }
    for (const char* bad : {"1.2.3.4", "1.2.3.4:", "1.2.3.4:70000", "1.2.3.4:-1", "1.2.3.4:8a", ":80"}) {
        CAPTURE(bad);
        std::error_code ec;
        sf::ipv4_address::parse(std::string_view(bad), ec);
        CHECK(ec == sf::errc::bad_address);
    }
}

TEST_CASE("ipv6_address parses, formats, and keeps the scope id") {
    auto a = sf::ipv6_address::parse("::1", 443);
    CHECK(a.is_loopback());
    CHECK(a.to_string() == "[::1]:443");
    auto b = sf::ipv6_address::parse("[2001:db8::5]:80");
    CHECK(b.host() == "2001:db8::5");
    CHECK(b.port() == 80);
    auto c = sf::ipv6_address::parse("fe80::1%3", 1);
    CHECK(c.scope_id() == 3);
    CHECK(c.host() == "fe80::1%3");
    CHECK(sf::ipv6_address::parse("::ffff:127.0.0.1", 0).is_v4_mapped());
    CHECK_FALSE(a.is_v4_mapped());
    CHECK(sf::ipv6_address::any().is_any());
    CHECK(a != c);
    CHECK((a < c || c < a));
}

TEST_CASE("bad IPv6 text is errc::bad_address") {
    for (const char* bad :
         {"::g", "1:2:3:4:5:6:7:8:9", "", "12345::", "fe80::1%", "fe80::1%99999999999", "1.2.3.4"}) {
        CAPTURE(bad);
        std::error_code ec;
        sf::ipv6_address::parse(bad, 1, ec);
        CHECK(ec == sf::errc::bad_address);
    }
    for (const char* bad : {"::1", "[::1]", "[::1]:", "[::1]80", "[::1]:99999", "::1]:80"}) {
        CAPTURE(bad);
        std::error_code ec;
        sf::ipv6_address::parse(std::string_view(bad), ec);
        CHECK(ec == sf::errc::bad_address);
        CHECK_THROWS_AS(sf::ipv6_address::parse(std::string_view(bad)), std::system_error);
    }
}

#if defined(SOCKFRAME_HAS_AF_UNIX)
TEST_CASE("local_address holds a path, refuses one longer than sun_path, never cuts it") {
    sf::local_address p("/tmp/x.sock");
    CHECK(p.name() == "/tmp/x.sock");
    CHECK(p.to_string() == "/tmp/x.sock");
    CHECK_FALSE(p.is_abstract());
    CHECK_FALSE(p.is_unnamed());
    CHECK(sf::local_address().is_unnamed());

    std::string longest(sizeof(sockaddr_un::sun_path) - 1, 'a');
    std::error_code ec;
    auto ok = sf::local_address::path(longest, ec);
    CHECK_FALSE(ec);
    CHECK(ok.name() == longest);
    sf::local_address::path(longest + "a", ec);
    CHECK(ec == sf::errc::bad_address);
    CHECK_THROWS_AS(sf::local_address(longest + "a"), std::system_error);
    sf::local_address::path(std::string("a\0b", 3), ec);
    CHECK(ec == sf::errc::bad_address);
    sf::local_address::path("", ec);
    CHECK(ec == sf::errc::bad_address);
}

TEST_CASE("local_address abstract names (Linux) are named with a leading @") {
    std::error_code ec;
    auto a = sf::local_address::abstract("sockframe-abc", ec);
#if defined(SOCKFRAME_LINUX)
    CHECK_FALSE(ec);
    CHECK(a.is_abstract());
    CHECK(a.name() == "sockframe-abc");
    CHECK(a.to_string() == "@sockframe-abc");
    CHECK(a == sf::local_address::abstract("sockframe-abc"));
    CHECK(a != sf::local_address("sockframe-abc"));
    sf::local_address::abstract(std::string(sizeof(sockaddr_un::sun_path), 'x'), ec);
    CHECK(ec == sf::errc::bad_address);
#else
    MESSAGE("abstract names are Linux-only: elsewhere local_address::abstract is errc::not_supported");
    CHECK(ec == sf::errc::not_supported);
    CHECK(a.is_unnamed());
    CHECK_THROWS_AS(sf::local_address::abstract("sockframe-abc"), std::system_error);
#endif
}
#endif
