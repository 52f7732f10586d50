#include <sockframe/fixed_size.hpp>

#include "support/codec_test.hpp"

#include <string>
#include <system_error>

namespace sf = sockframe;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::encode_error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

TEST_CASE("fixed_size: Netty FixedLengthFrameDecoder(3)") {
    // The javadoc's "A | BC | DEFG | HI" arrives as ABC, DEF, GHI.
    auto make = [] { return sf::fixed_size{3}; };
    CHECK(decode_all_ways(make, "ABCDEFGHI") == events{frame("ABC"), frame("DEF"), frame("GHI")});
    CHECK(decode_all_ways(make, "ABCDEFGH") == events{frame("ABC"), frame("DEF")});
    CHECK(decode_all_ways(make, "") == events{});
    const sf::fixed_size codec{3};
    CHECK(codec.size() == 3);
    CHECK(codec.max_frame() == 3);
    CHECK(codec.max_frame_bytes() == 3);
}

TEST_CASE("fixed_size: one-byte and large frames") {
    CHECK(decode_all_ways([] { return sf::fixed_size{1}; }, "xyz") ==
          events{frame("x"), frame("y"), frame("z")});
    const std::string big = codec_test::random_bytes(1000, 3);
    CHECK(decode_all_ways([] { return sf::fixed_size{500}; }, big) ==
          events{frame(big.substr(0, 500)), frame(big.substr(500))});
}

TEST_CASE("fixed_size encode adds nothing and checks the size") {
    const sf::fixed_size codec{4};
    CHECK(encode(codec, "abcd") == "abcd");
    CHECK(codec_test::payload_not_copied(codec, "abcd"));
    CHECK(encode_error(codec, "abc") == sf::errc::frame_size_mismatch);
    CHECK(encode_error(codec, "abcde") == sf::errc::frame_size_mismatch);
    CHECK(encode_error(codec, "") == sf::errc::frame_size_mismatch);
}

TEST_CASE("fixed_size rejects size 0") {
    bool invalid = false;
    try {
        sf::fixed_size codec{0};
        (void)codec;
    } catch (const std::system_error& e) {
        invalid = e.code() == sf::errc::invalid_argument;
    }
    CHECK(invalid);
}

TEST_CASE("fixed_size decode_frame is decode's frame wherever it answers") {
    std::size_t declined = 0;
    CHECK(codec_test::check_decode_frame([] { return sf::fixed_size{3}; }, "abcdefg", declined) == 5);
    CHECK(declined == 0);
}
