#include <sockframe/delimiter.hpp>

#include "support/codec_test.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace sf = sockframe;
using codec_test::bytes;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::encode_error;
using codec_test::error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

namespace {
constexpr bool keep_going = false;  // decode_all_ways: go on after an error (these codecs resynchronise)
}

TEST_CASE("delimiter: Netty DelimiterBasedFrameDecoder with \"$_\"") {
    auto make = [] { return sf::delimiter{"$_"}; };
    CHECK(decode_all_ways(make, "hello$_world$_$_tail") == events{frame("hello"), frame("world"), frame("")});
    CHECK(encode(make(), "hello") == "hello$_");
    CHECK(codec_test::payload_not_copied(make(), "hello"));
    CHECK(make().bytes() == sf::const_buffer{"$_"});
    CHECK(make().max_frame() == SOCKFRAME_DEFAULT_MAX_FRAME);
    CHECK(make().max_frame_bytes() == SOCKFRAME_DEFAULT_MAX_FRAME + 2);
}

TEST_CASE("delimiter: \"\\r\\n\", NUL and single bytes") {
    CHECK(decode_all_ways([] { return sf::delimiter{"\r\n"}; }, "a\rb\r\n\n\r\r\nx") ==
          events{frame("a\rb"), frame("\n\r")});
    const std::string_view nul{"\0", 1};
    CHECK(decode_all_ways([nul] { return sf::delimiter{nul}; }, bytes({'a', 'b', 0, 0, 'c', 0})) ==
          events{frame("ab"), frame(""), frame("c")});
    CHECK(encode(sf::delimiter{nul}, "abc") == bytes({'a', 'b', 'c', 0}));
    CHECK(decode_all_ways([] { return sf::delimiter{"|"}; }, "||a|bc|") ==
          events{frame(""), frame(""), frame("a"), frame("bc")});
    const std::string binary = bytes({0xFF, 0x00, 0xFE});
    CHECK(decode_all_ways([&] { return sf::delimiter{sf::const_buffer{binary}}; },
                          "x" + binary + bytes({0xFF, 0x00}) + "y" + binary) ==
          events{frame("x"), frame(bytes({0xFF, 0x00}) + "y")});
}

TEST_CASE("delimiter: self-overlapping delimiters end each frame at the first occurrence") {
    CHECK(decode_all_ways([] { return sf::delimiter{"aab"}; }, "xaaabyaab") ==
          events{frame("xa"), frame("y")});
    CHECK(decode_all_ways([] { return sf::delimiter{"abab"}; },
                          "xabacabababababx"
                          "abab") == events{frame("xabac"), frame(""), frame("abx")});
    CHECK(decode_all_ways([] { return sf::delimiter{"aa"}; }, "aaaaa") == events{frame(""), frame("")});
}

TEST_CASE(
    "delimiter: a frame longer than max_frame is reported once, then skipped through the next delimiter") {
    auto make = [] { return sf::delimiter{"$_", 5}; };
    CHECK(make().max_frame_bytes() == 7);
    CHECK(decode_all_ways(make, "abcde$_") == events{frame("abcde")});
    CHECK(decode_all_ways(make, "abcdef$_ok$_", keep_going) ==
          events{error(sf::errc::frame_too_large, 6), frame("ok")});
    CHECK(decode_all_ways(make, "abcdefghijklmnop$$$_ok$_123456789$_$_", keep_going) ==
          events{error(sf::errc::frame_too_large, 6), frame("ok"), error(sf::errc::frame_too_large, 6),
                 frame("")});
    // A partial delimiter that fails to complete turns back into frame bytes.
    CHECK(decode_all_ways(
              [] {
                  return sf::delimiter{"$_", 3};
              },
              "abc$x$_z$_", keep_going) == events{error(sf::errc::frame_too_large, 5), frame("z")});
    CHECK(decode_all_ways([] { return sf::delimiter{"$_", 3}; }, "ab$$_") == events{frame("ab$")});
    // The discarded part may end with a delimiter split across reads and across the error.
    CHECK(decode_all_ways(
              [] {
                  return sf::delimiter{"abc", 2};
              },
              "xyzab"
              "cq"
              "abc",
              keep_going) == events{error(sf::errc::frame_too_large, 3), frame("q")});
    // max_frame 0 admits only empty frames.
    CHECK(decode_all_ways(
              [] {
                  return sf::delimiter{";", 0};
              },
              ";;x;;",
              keep_going) == events{frame(""), frame(""), error(sf::errc::frame_too_large, 1), frame("")});
}

TEST_CASE("delimiter: consumed bytes while discarding") {
    sf::delimiter codec{"$_", 3};
    auto r = codec.decode("abcdefg");
    REQUIRE(r.is_error());
    CHECK(r.error == sf::errc::frame_too_large);
    CHECK(r.size == 4);
    CHECK(r.consumed == 4);
    r = codec.decode("efg$");
    CHECK(r.needs_more());
    CHECK(r.consumed == 4);  // all garbage; the automaton remembers the pending '$'
    r = codec.decode("_ok$_");
    REQUIRE(r.is_frame());
    CHECK(r.payload.str() == "ok");
    CHECK(r.consumed == 5);
    r = codec.decode("$_x");  // after the garbage the next frame starts fresh
    REQUIRE(r.is_frame());
    CHECK(r.payload.str() == "");
    r = codec.decode("ab");
    CHECK(r.needs_more());
    CHECK(r.consumed == 0);
    codec.reset();
    r = codec.decode("ab$_");
    REQUIRE(r.is_frame());
    CHECK(r.payload.str() == "ab");
}

TEST_CASE("delimiter: scanning is linear however the input is split") {
    // One byte at a time over a 2 MiB frame: rescanning from the frame start would take ~2e12 steps.
    const std::string body = codec_test::random_bytes(2u << 20, 7, "\r");
    sf::delimiter codec{"\r\n", 4u << 20};
    std::string buffer;
    for (char c : body) {
        buffer += c;
        REQUIRE(codec.decode(buffer).needs_more());
    }
    buffer += "\r";
    REQUIRE(codec.decode(buffer).needs_more());
    buffer += "\n";
    const auto r = codec.decode(buffer);
    REQUIRE(r.is_frame());
    CHECK(r.payload.size() == body.size());
    CHECK(r.consumed == body.size() + 2);
}

TEST_CASE("delimiter encode") {
    const sf::delimiter codec{"$_", 8};
    CHECK(encode(codec, "") == "$_");
    CHECK(encode(codec, "$") == "$$_");  // decodes back as "$"
    CHECK(encode(codec, "_$") == "_$$_");
    CHECK(encode_error(codec, "a$_b") == sf::errc::invalid_argument);
    CHECK(encode_error(codec, "$_") == sf::errc::invalid_argument);
    CHECK(encode_error(codec, "123456789") == sf::errc::payload_too_large);
    CHECK(encode(codec, "12345678") == "12345678$_");
    // "xa" + "aa" would end at "xaa": the payload would come back as "x".
    CHECK(encode_error(sf::delimiter{"aa"}, "xa") == sf::errc::invalid_argument);
    CHECK(encode_error(sf::delimiter{"abab"}, "xab") == sf::errc::invalid_argument);
    CHECK(encode(sf::delimiter{"aab"}, "xa") == "xaaab");
    auto roundtrip = [](const char* delim, const std::string& payload) {
        const sf::delimiter d{delim};
        return decode_all_ways([&] { return d; }, encode(d, payload) + encode(d, payload)) ==
               events{frame(payload), frame(payload)};
    };
    CHECK(roundtrip("aab", "xa"));
    CHECK(roundtrip("$_", "$"));
    CHECK(roundtrip("\r\n", "a\rb\n"));
}

TEST_CASE("delimiter rejects an empty or overlong delimiter") {
    auto invalid = [](auto make) {
        try {
            make();
        } catch (const std::system_error& e) {
            return e.code() == sf::errc::invalid_argument;
        }
        return false;
    };
    CHECK(invalid([] { return sf::delimiter{""}; }));
    CHECK(invalid([] { return sf::delimiter{std::string(33, ';')}; }));
    CHECK_NOTHROW(sf::delimiter{std::string(32, ';')});
}

TEST_CASE("line: Netty LineBasedFrameDecoder, tokio LinesCodec, Python readline") {
    auto make = [] { return sf::line{}; };
    CHECK(decode_all_ways(make, "first\r\nsecond\nthird") == events{frame("first"), frame("second")});
    CHECK(decode_all_ways(make, "ABC\nDEF\r\n") == events{frame("ABC"), frame("DEF")});
    CHECK(decode_all_ways(make, "\n\r\n\r\r\na\rb\n") ==
          events{frame(""), frame(""), frame("\r"), frame("a\rb")});
    CHECK(make().max_frame_bytes() == SOCKFRAME_DEFAULT_MAX_FRAME + 2);
    CHECK(encode(make(), "hello") == "hello\n");
    CHECK(encode(sf::line{100, sf::line_ending::crlf}, "hello") == "hello\r\n");
    CHECK(codec_test::payload_not_copied(make(), "hello"));
}

TEST_CASE("line: an overlong line is reported once and skipped through its '\\n'") {
    auto make = [] { return sf::line{4}; };
    CHECK(decode_all_ways(make, "abcd\nabcd\r\n") == events{frame("abcd"), frame("abcd")});
    CHECK(decode_all_ways(make, "abcde\nok\n", keep_going) ==
          events{error(sf::errc::frame_too_large, 5), frame("ok")});
    CHECK(decode_all_ways(make, "abcdefghijkl\r\nok\r\nxxxxxxxxx", keep_going) ==
          events{error(sf::errc::frame_too_large, 5), frame("ok"), error(sf::errc::frame_too_large, 5)});
    // A '\r' at the limit may still be the line's ending...
    CHECK(decode_all_ways(make, "abcd\r\n") == events{frame("abcd")});
    // ...but not if something else follows it.
    CHECK(decode_all_ways(make, "abcd\rx\nz\n", keep_going) ==
          events{error(sf::errc::frame_too_large, 6), frame("z")});
    CHECK(decode_all_ways(make, "abcd\r\r\nz\n", keep_going) ==
          events{error(sf::errc::frame_too_large, 6), frame("z")});
    CHECK(decode_all_ways([] { return sf::line{0}; }, "\n\r\nx\n\n", keep_going) ==
          events{frame(""), frame(""), error(sf::errc::frame_too_large, 1), frame("")});
}

TEST_CASE("line: consumed bytes while discarding") {
    sf::line codec{4};
    auto r = codec.decode("abcdefgh");
    REQUIRE(r.is_error());
    CHECK(r.size == 5);
    CHECK(r.consumed == 5);
    r = codec.decode("fgh");
    CHECK(r.needs_more());
    CHECK(r.consumed == 3);
    r = codec.decode("xy\nok\nz");
    REQUIRE(r.is_frame());
    CHECK(r.payload.str() == "ok");
    CHECK(r.consumed == 6);
    r = codec.decode("z");
    CHECK(r.needs_more());
    CHECK(r.consumed == 0);
}

TEST_CASE("line: scanning is linear however the input is split") {
    const std::string body = codec_test::random_bytes(2u << 20, 11, "\n");
    sf::line codec{4u << 20};
    std::string buffer;
    for (char c : body) {
        buffer += c;
        REQUIRE(codec.decode(buffer).needs_more());
    }
    buffer += "\n";
    const auto r = codec.decode(buffer);
    REQUIRE(r.is_frame());
    CHECK(r.consumed == body.size() + 1);
}

TEST_CASE("line encode") {
    const sf::line lf{5};
    CHECK(encode(lf, "") == "\n");
    CHECK(encode(lf, "a\rb") == "a\rb\n");
    CHECK(encode_error(lf, "a\nb") == sf::errc::invalid_argument);
    CHECK(encode_error(lf, "ab\r") == sf::errc::invalid_argument);  // the decoder would strip the '\r'
    CHECK(encode_error(lf, "abcdef") == sf::errc::payload_too_large);
    const sf::line crlf{5, sf::line_ending::crlf};
    CHECK(crlf.ending() == sf::line_ending::crlf);
    CHECK(encode(crlf, "ab\r") == "ab\r\r\n");
    CHECK(decode_all_ways([&] { return crlf; }, encode(crlf, "ab\r") + encode(lf, "xy")) ==
          events{frame("ab\r"), frame("xy")});
    CHECK(encode_error(crlf, "\n") == sf::errc::invalid_argument);
}

// ---- end of stream inside a frame: decode_eof ----

TEST_CASE("line and delimiter at end of stream: truncated by default, a final frame when asked") {
    constexpr bool stop = true;
    constexpr bool at_eof = true;
    // Default: a final unterminated line is truncated_stream with the bytes left as its size.
    auto plain = [] { return sf::line{}; };
    CHECK(decode_all_ways(plain, "a\nb\r\nlast", stop, at_eof) ==
          events{frame("a"), frame("b"), error(sf::errc::truncated_stream, 4)});
    CHECK_FALSE(sf::line{}.final_unterminated());
    // with_final_unterminated: it is the last frame (a '\r' before the end is stripped, as before '\n').
    auto lenient = [] { return sf::line{}.with_final_unterminated(); };
    CHECK(lenient().final_unterminated());
    CHECK(decode_all_ways(lenient, "a\nb\r\nlast", stop, at_eof) ==
          events{frame("a"), frame("b"), frame("last")});
    CHECK(decode_all_ways(lenient, "a\nlast\r", stop, at_eof) == events{frame("a"), frame("last")});
    CHECK(decode_all_ways(lenient, "a\n", stop, at_eof) ==
          events{frame("a")});  // nothing left: no extra frame
    // Still bounded by max_frame.
    auto small = [] { return sf::line{4}.with_final_unterminated(); };
    CHECK(decode_all_ways(small, "ab\nabcd", stop, at_eof) == events{frame("ab"), frame("abcd")});
    // The same for any delimiter; a partial delimiter at the end is payload.
    auto crlf = [] { return sf::delimiter{"\r\n"}.with_final_unterminated(); };
    CHECK(decode_all_ways(crlf, "x\r\ny\r", stop, at_eof) == events{frame("x"), frame("y\r")});
    auto strict = [] { return sf::delimiter{"\r\n"}; };
    CHECK(decode_all_ways(strict, "x\r\ny\r", stop, at_eof) ==
          events{frame("x"), error(sf::errc::truncated_stream, 2)});
    // Direct calls.
    sf::line codec = sf::line{8}.with_final_unterminated();
    CHECK(codec.decode_eof(sf::const_buffer{}).needs_more());
    const sf::decode_result r = codec.decode_eof(sf::const_buffer{"123456789"});
    CHECK(r.error == sf::errc::frame_too_large);
    CHECK(r.consumed == 9);
}
