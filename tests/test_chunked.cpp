#include <sockframe/chunked.hpp>

#include <sockframe/framed.hpp>
#include <sockframe/socket.hpp>

#include "support/codec_test.hpp"
#include "support/net.hpp"

#include <string>

namespace sf = sockframe;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::encode_error;
using codec_test::error;
using codec_test::frame;
using test_support::stream_pair;
using test_support::stream_pair_socket;
using events = std::vector<codec_test::event>;

namespace {
sf::chunked small_limits() {
    sf::chunked_options o;
    o.max_chunk = 100;
    o.max_line = 32;
    o.max_trailer_bytes = 64;
    o.max_trailers = 3;
    return sf::chunked{o};
}
}  // namespace

TEST_CASE("chunked: RFC 9112's example body, extensions and trailers") {
    // "Wikipedia in\r\n\r\nchunks." as the classic three-chunk example, plus an extension and a trailer.
    const std::string wire =
        "4\r\nWiki\r\n5;name=value;flag\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX-Sum: "
        " 42 \r\n\r\n";
    auto make = [] { return sf::chunked{}; };
    CHECK(decode_all_ways(make, wire + "3\r\nabc\r\n0\r\n\r\n") ==
          events{frame("Wiki"), frame("pedia"), frame(" in\r\n\r\nchunks."), frame(""), frame("abc"),
                 frame("")});

    sf::chunked codec;
    sf::const_buffer input(wire);
    auto r = codec.decode(input);
    REQUIRE(r.is_frame());
    CHECK(codec.extensions().empty());
    input = input.subspan(r.consumed);
    r = codec.decode(input);
    REQUIRE(r.is_frame());
    CHECK(codec.extensions().str() == ";name=value;flag");
    input = input.subspan(r.consumed);
    r = codec.decode(input);
    input = input.subspan(r.consumed);
    r = codec.decode(input);
    REQUIRE(r.is_frame());
    CHECK(r.payload.empty());
    CHECK(r.consumed == input.size());
    sf::const_buffer rest = codec.trailers(), name, value;
    REQUIRE(sf::chunked::next_trailer(rest, name, value));
    CHECK(name.str() == "Expires");
    CHECK(value.str() == "never");
    REQUIRE(sf::chunked::next_trailer(rest, name, value));
    CHECK(name.str() == "X-Sum");
    CHECK(value.str() == "42");
    CHECK(!sf::chunked::next_trailer(rest, name, value));
}

TEST_CASE("chunked: encode writes chunks (payload not copied) and the last-chunk") {
    sf::chunked codec;
    CHECK(encode(codec, "hello") == "5\r\nhello\r\n");
    CHECK(encode(codec, std::string(300, 'x')) == "12c\r\n" + std::string(300, 'x') + "\r\n");
    CHECK(encode(codec, "") == "0\r\n\r\n");
    CHECK(codec_test::payload_not_copied(codec, "hello"));
    CHECK(encode_error(small_limits(), std::string(101, 'x')) == sf::errc::payload_too_large);
    // what decode delivers re-encodes to the same body
    const std::string body = encode(codec, "one") + encode(codec, "two!") + encode(codec, "");
    CHECK(decode_all_ways([] { return sf::chunked{}; }, body) ==
          events{frame("one"), frame("two!"), frame("")});
}

TEST_CASE("chunked: malformed bodies are clear errors, never a wait without end") {
    auto make = [] { return sf::chunked{}; };
    CHECK(decode_all_ways(make, "x\r\n") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, "\r\n") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, "5\nhello\r\n") == events{error(sf::errc::malformed_frame, 1)});  // bare LF
    CHECK(decode_all_ways(make, "5\rhello\r\n") == events{error(sf::errc::malformed_frame, 2)});  // bare CR
    CHECK(decode_all_ways(make, "5x\r\nhello\r\n") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "5;a\x01\r\nhello\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, "5\r\nhelloXY") == events{error(sf::errc::malformed_frame, 8)});
    CHECK(decode_all_ways(make, "5\r\nhello\rX") == events{error(sf::errc::malformed_frame, 9)});
    CHECK(decode_all_ways(make, "0\r\nno colon\r\n\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, "0\r\n folded: x\r\n\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, "0\r\n: x\r\n\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, "ffffffffffffffffff\r\n") ==
          events{error(sf::errc::frame_too_large, 0xfffffff)});
}

TEST_CASE("chunked: every limit holds") {
    auto make = [] { return small_limits(); };
    CHECK(decode_all_ways(make, "64\r\n" + std::string(100, 'a') + "\r\n") ==
          events{frame(std::string(100, 'a'))});
    CHECK(decode_all_ways(make, "65\r\n") == events{error(sf::errc::frame_too_large, 101)});
    // the chunk-size line: leading zeros and extensions count against max_line
    CHECK(decode_all_ways(make, std::string(40, '0') + "1\r\nx\r\n") ==
          events{error(sf::errc::frame_too_large, 32)});
    CHECK(decode_all_ways(make, "1;" + std::string(40, 'e') + "\r\nx\r\n") ==
          events{error(sf::errc::frame_too_large, 33)});
    // the trailers: their count and their bytes
    CHECK(decode_all_ways(make, "0\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n") == events{frame("")});
    CHECK(decode_all_ways(make, "0\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n") ==
          events{error(sf::errc::frame_too_large, 4)});
    CHECK(decode_all_ways(make, "0\r\nlong: " + std::string(100, 'v') + "\r\n\r\n") ==
          events{error(sf::errc::frame_too_large, 65)});
    CHECK(small_limits().max_frame_bytes() == 32 + 100 + 2);
}

TEST_CASE("chunked: a body over a socket, through framed") {
    auto [x, y] = stream_pair();
    sf::framed<stream_pair_socket, sf::chunked> a(std::move(x));
    sf::framed<stream_pair_socket, sf::chunked> b(std::move(y));
    a.send(std::string("first chunk"));
    a.send(std::string(70000, 'z'));
    a.send(sf::const_buffer());
    CHECK(b.receive_copy<std::string>() == "first chunk");
    CHECK(b.receive_copy<std::string>() == std::string(70000, 'z'));
    CHECK(b.receive_copy<std::string>() == "");
}
