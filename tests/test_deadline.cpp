#include <sockframe/deadline.hpp>

#include <doctest/doctest.h>

#include <chrono>

namespace sf = sockframe;
using namespace std::chrono_literals;

TEST_CASE("a default deadline follows the socket's timeout") {
    sf::deadline d;
    CHECK(d.is_socket_default());
    CHECK_FALSE(d.resolve(std::nullopt).has_value());
    auto before = sf::deadline::clock::now();
    auto when = d.resolve(std::chrono::duration_cast<sf::deadline::clock::duration>(5s));
    REQUIRE(when.has_value());
    CHECK(*when >= before + 5s);
}

TEST_CASE("an explicit deadline wins over the socket's timeout, never() disables both") {
    auto before = sf::deadline::clock::now();
    sf::deadline d = 250ms;
    auto when = d.resolve(std::chrono::duration_cast<sf::deadline::clock::duration>(1h));
    REQUIRE(when.has_value());
    CHECK(*when >= before + 250ms);
    CHECK(*when < before + 1h);
    CHECK_FALSE(sf::deadline::never().resolve(std::chrono::duration_cast<sf::deadline::clock::duration>(1s)));
    auto point = sf::deadline::clock::now() + 3s;
    CHECK(*sf::deadline(point).resolve(std::nullopt) == point);
}

TEST_CASE("a huge duration saturates instead of overflowing into the past") {
    sf::deadline d = std::chrono::hours::max();
    auto when = d.resolve(std::nullopt);
    REQUIRE(when.has_value());
    CHECK(*when == sf::deadline::clock::time_point::max());
}

TEST_CASE("a huge negative duration is already expired, not a wait") {
    auto before = sf::deadline::clock::now();
    for (sf::deadline d :
         {sf::deadline(std::chrono::hours::min()), sf::deadline(std::chrono::nanoseconds::min()),
          sf::deadline(std::chrono::seconds(-1))}) {
        auto when = d.resolve(std::nullopt);
        REQUIRE(when.has_value());
        CHECK(*when <= sf::deadline::clock::now());
        CHECK(*when >= before);
    }
}
