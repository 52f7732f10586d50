#include <sockframe/netstring.hpp>

#include "support/codec_test.hpp"

#include <limits>
#include <string>
#include <system_error>

namespace sf = sockframe;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::encode_error;
using codec_test::error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

TEST_CASE("netstring: the spec's examples") {
    const sf::netstring codec = sf::make_netstring();
    CHECK(encode(codec, "hello world!") == "12:hello world!,");
    CHECK(encode(codec, "") == "0:,");
    CHECK(codec_test::payload_not_copied(codec, "hello world!"));
    CHECK(decode_all_ways([] { return sf::make_netstring(); }, "12:hello world!,0:,") ==
          events{frame("hello world!"), frame("")});
    const std::string big(1234, 'n');
    CHECK(encode(codec, big) == "1234:" + big + ",");
    CHECK(decode_all_ways([] { return sf::make_netstring(); }, encode(codec, big) + "3:a:,,") ==
          events{frame(big), frame("a:,")});
}

TEST_CASE("netstring: leading zeros, signs, spaces and non-digits are malformed") {
    auto make = [] { return sf::make_netstring(); };
    CHECK(decode_all_ways(make, "012:hello world!,") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "00:,") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "1a:x,") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "-1:x,") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, " 1:x,") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, "+1:x,") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, ":,") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, "0:,5:hello,1 :x,") ==
          events{frame(""), frame("hello"), error(sf::errc::malformed_frame, 1)});
}

TEST_CASE("netstring: a missing or wrong ',' is malformed at its position") {
    auto make = [] { return sf::make_netstring(); };
    CHECK(decode_all_ways(make, "3:abc;") == events{error(sf::errc::malformed_frame, 5)});
    CHECK(decode_all_ways(make, "3:abcd,") == events{error(sf::errc::malformed_frame, 5)});
    CHECK(decode_all_ways(make, "0:3:abc,") == events{error(sf::errc::malformed_frame, 2)});
    CHECK(decode_all_ways(make, "2:ok,3:abc") == events{frame("ok")});
}

TEST_CASE("netstring: lengths above max_frame are rejected while the digits arrive") {
    auto make = [] { return sf::make_netstring(999); };
    CHECK(make().max_frame() == 999);
    CHECK(make().max_frame_bytes() == 3 + 1 + 999 + 1);
    CHECK(decode_all_ways(make, "999:" + std::string(999, 'x') + ",") ==
          events{frame(std::string(999, 'x'))});
    CHECK(decode_all_ways(make, "1000:") == events{error(sf::errc::frame_too_large, 1000)});
    CHECK(decode_all_ways(make, "99999999999999999999999999:") ==
          events{error(sf::errc::frame_too_large, 9999)});
    auto unlimited = [] { return sf::make_netstring(std::numeric_limits<std::size_t>::max()); };
    CHECK(decode_all_ways(unlimited, "99999999999999999999:") ==
          events{error(sf::errc::frame_too_large, std::numeric_limits<std::uint64_t>::max())});
    CHECK(encode_error(make(), std::string(1000, 'x')) == sf::errc::payload_too_large);
}

TEST_CASE("netstring: errors cannot be resynchronised; the codec keeps no error state") {
    sf::netstring codec = sf::make_netstring();
    const auto bad = codec.decode("x");
    CHECK(bad.error == sf::errc::malformed_frame);
    CHECK(bad.consumed == 0);  // the reader stops and repeats it
    const auto r = codec.decode("1:a,");
    REQUIRE(r.is_frame());
    CHECK(r.payload.str() == "a");
    CHECK(r.consumed == 4);
}

TEST_CASE("decimal_prefix on its own and with another separator") {
    auto make = [] { return sf::decimal_prefix{100, '#'}; };
    CHECK(encode(make(), "abc") == "3#abc");
    CHECK(decode_all_ways(make, "3#abc0#10#0123456789") ==
          events{frame("abc"), frame(""), frame("0123456789")});
    CHECK(sf::decimal_prefix::digits(0) == 1);
    CHECK(sf::decimal_prefix::digits(std::numeric_limits<std::uint64_t>::max()) == 20);
    bool invalid = false;
    try {
        sf::decimal_prefix bad{10, '7'};
    } catch (const std::system_error& e) {
        invalid = e.code() == sf::errc::invalid_argument;
    }
    CHECK(invalid);
}
