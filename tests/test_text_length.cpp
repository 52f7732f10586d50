#include <sockframe/text_length.hpp>

#include <sockframe/compose.hpp>
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

TEST_CASE("text_length: RFC 6587 octet counting") {
    const auto codec = sf::make_octet_counting();
    const std::string msg =
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed";
    CHECK(encode(codec, msg) == std::to_string(msg.size()) + " " + msg);
    CHECK(codec_test::payload_not_copied(codec, msg));
    auto make = [] { return sf::make_octet_counting(); };
    CHECK(decode_all_ways(make, "5 hello11 hello world") == events{frame("hello"), frame("hello world")});
    CHECK(decode_all_ways(make, encode(codec, msg) + encode(codec, "x")) == events{frame(msg), frame("x")});
    // MSG-LEN = NONZERO-DIGIT *DIGIT: no zero length, no leading zero, no sign, no space first
    CHECK(decode_all_ways(make, "0 ") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, "05 hello") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "+5 hello") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, " 5 hello") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, "5:hello") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(encode_error(codec, "") == sf::errc::payload_too_large);
}

TEST_CASE("text_length: bounded digits and maximum") {
    auto make = [] { return sf::make_octet_counting(1000); };
    CHECK(decode_all_ways(make, "1000 " + std::string(1000, 'a')) == events{frame(std::string(1000, 'a'))});
    CHECK(decode_all_ways(make, "1001 x") == events{error(sf::errc::frame_too_large, 1001)});
    CHECK(decode_all_ways(make, "99999") == events{error(sf::errc::frame_too_large, 9999)});
    // a flood of digits is refused at once, whatever the maximum
    CHECK(decode_all_ways([] { return sf::make_octet_counting(); }, std::string(40, '9')) ==
          events{error(sf::errc::frame_too_large, 99999999)});
    sf::text_length_options o;
    o.leading_zeros = true;
    o.max_digits = 6;
    o.separator = ':';
    auto padded = [o] { return sf::text_length_prefix{o}; };
    CHECK(decode_all_ways(padded, "000005:hello0:") == events{frame("hello"), frame("")});
    CHECK(decode_all_ways(padded, "0000005:hello") == events{error(sf::errc::malformed_frame, 6)});
    CHECK(sf::text_length_prefix{o}.max_frame_bytes() == 7 + SOCKFRAME_DEFAULT_MAX_FRAME);
    CHECK_THROWS_AS(sf::text_length_prefix(sf::text_length_options{16, 'a'}), std::system_error);
    CHECK_THROWS_AS(sf::text_length_prefix(sf::text_length_options{8}), std::system_error);
}

TEST_CASE("text_length: hexadecimal lengths, either case in, chosen case out") {
    const auto lower = sf::make_hex_length(1 << 20, '\n');
    CHECK(encode(lower, std::string(255, 'z')) == "ff\n" + std::string(255, 'z'));
    sf::text_length_options o;
    o.base = 16;
    o.separator = ';';
    o.uppercase = true;
    CHECK(encode(sf::text_length_prefix{o}, std::string(0xABC, 'q')) == "ABC;" + std::string(0xABC, 'q'));
    auto make = [] { return sf::make_hex_length(1 << 20, '\n'); };
    CHECK(decode_all_ways(make, "a\n0123456789A\nabcdefghij") ==
          events{frame("0123456789"), frame("abcdefghij")});
    CHECK(decode_all_ways(make, "0a\nxxxxxxxxxx") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "g\n") == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, "100001\n") == events{error(sf::errc::frame_too_large, 0x100001)});
}

TEST_CASE("text_length: composes (a suffix after the payload) and frames a socket") {
    sf::suffixed<sf::text_length_prefix> codec{sf::make_octet_counting(), "\n"};
    CHECK(encode(codec, "abc") == "3 abc\n");
    auto sockets = stream_pair();
    sf::framed<stream_pair_socket, sf::text_length_prefix> a(std::move(sockets.first),
                                                             sf::make_octet_counting());
    sf::framed<stream_pair_socket, sf::text_length_prefix> b(std::move(sockets.second),
                                                             sf::make_octet_counting());
    a.send(std::string("first message"));
    a.send(std::string("2nd"));
    CHECK(b.receive_copy<std::string>() == "first message");
    CHECK(b.receive_copy<std::string>() == "2nd");
}
