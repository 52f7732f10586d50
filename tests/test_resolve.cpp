#include <sockframe/resolve.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <algorithm>

#include "support/net.hpp"

namespace sf = sockframe;

TEST_CASE("resolving localhost returns the loopback address with the service's port") {
    auto all = sf::resolve<sf::ipv4>("localhost", "7000");
    REQUIRE_FALSE(all.empty());
    CHECK(std::find(all.begin(), all.end(), sf::ipv4_address::loopback(7000)) != all.end());
    for (const auto& a : all) CHECK(a.port() == 7000);
}

TEST_CASE("numeric hosts resolve without a lookup; named services map to their port") {
    auto v4 = sf::resolve<sf::ipv4>("127.0.0.1", "0");
    REQUIRE(v4.size() == 1);
    CHECK(v4[0] == sf::ipv4_address::loopback(0));
    std::error_code ec;
    auto v6 = sf::resolve<sf::ipv6>("::1", "80", ec);
    if (!ec) {
        REQUIRE(v6.size() == 1);
        CHECK(v6[0] == sf::ipv6_address::loopback(80));
    }
    auto passive = sf::resolve<sf::ipv4>("", "1234", ec, true);
    REQUIRE_FALSE(ec);
    CHECK(passive[0].is_any());
}

TEST_CASE("resolution failures are error codes with a readable message") {
    std::error_code ec;
    auto none = sf::resolve<sf::ipv4>("localhost", "no-such-service-sockframe", ec);
    CHECK(ec);
    CHECK(none.empty());
    CHECK(ec.category() == sf::resolver_category());
    CHECK_FALSE(ec.message().empty());
    CHECK_THROWS_AS(sf::resolve<sf::ipv4>("localhost", "no-such-service-sockframe"), std::system_error);
    sf::resolve<sf::ipv4>(std::string_view("local\0host", 10), "80", ec);
    CHECK(ec == sf::errc::bad_address);
}

TEST_CASE("connecting by host name tries the candidates until one connects") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    auto port = std::to_string(l.local_address().port());
    auto c = sf::tcp_stream::connect("localhost", port, std::chrono::seconds(5));
    auto [s, from] = l.accept();
    CHECK(c.remote_address() == l.local_address());
    std::error_code ec;
    auto bad = sf::tcp_stream::connect("localhost", "no-such-service-sockframe", ec);
    CHECK(ec);
    CHECK_FALSE(bad.is_open());
}

TEST_CASE("an out-of-range or malformed numeric service is a clear error, never a wrapped port") {
    for (const char* service : {"99999", "65536", "-1", "+80", " 80", "80 ", "8o", "123456"}) {
        CAPTURE(service);
        std::error_code ec;
        auto all = sf::resolve<sf::ipv4>("127.0.0.1", service, ec);
        CHECK(ec == sf::errc::bad_address);
        CHECK(all.empty());
        auto s = sf::tcp_stream::connect("127.0.0.1", service, std::chrono::seconds(5), ec);
        CHECK(ec == sf::errc::bad_address);
        CHECK_FALSE(s.is_open());
    }
    CHECK_THROWS_AS(sf::resolve<sf::ipv4>("localhost", "99999"), std::system_error);
    auto edge = sf::resolve<sf::ipv4>("127.0.0.1", "65535");
    REQUIRE(edge.size() == 1);
    CHECK(edge[0].port() == 65535);
    CHECK(sf::resolve<sf::ipv4>("127.0.0.1", "00080")[0].port() == 80);
}
