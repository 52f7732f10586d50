#include <sockframe/resp.hpp>

#include "support/codec_test.hpp"

#include <sockframe/codec_traits.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace sf = sockframe;
using codec_test::decode_all_ways;
using codec_test::error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

static_assert(sf::codec_check<sf::resp_codec>::ok);
static_assert(sf::codec_traits<sf::resp_codec>::is_codec);

namespace {

auto make_default() {
    return [] { return sf::resp_codec{}; };
}
auto make_with(sf::resp_limits limits) {
    return [limits] { return sf::resp_codec{limits}; };
}
sf::resp_value value_of(std::string_view wire) {
    std::error_code ec;
    sf::resp_value v = sf::resp_value::parse(wire, ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    return v;
}

}  // namespace

TEST_CASE("resp: every RESP2 and RESP3 type is one frame, split at every byte") {
    const std::vector<std::string> values = {
        "+OK\r\n",
        "-ERR unknown command 'foo'\r\n",
        ":0\r\n",
        ":-9223372036854775808\r\n",
        ":9223372036854775807\r\n",
        "$5\r\nhello\r\n",
        "$0\r\n\r\n",
        "$-1\r\n",
        "$4\r\na\r\nb\r\n",  // a bulk string may hold CR LF
        "*-1\r\n",
        "*0\r\n",
        "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        "*3\r\n:1\r\n*2\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n*0\r\n",
        "_\r\n",
        "#t\r\n",
        "#f\r\n",
        ",3.141\r\n",
        ",-inf\r\n",
        ",1.5e-10\r\n",
        "(1234567999999999999999999999999999999\r\n",
        "(-1\r\n",
        "!21\r\nSYNTAX invalid syntax\r\n",
        "=15\r\ntxt:Some string\r\n",
        "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
        "%0\r\n",
        "~3\r\n:1\r\n:2\r\n:3\r\n",
        ">3\r\n+message\r\n+channel\r\n$5\r\nhello\r\n",
        "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:"
        "9543892\r\n",
        "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n",  // an attribute on an element
        "|0\r\n+OK\r\n",
    };
    for (const auto& v : values) {
        CAPTURE(v);
        CHECK(decode_all_ways(make_default(), v) == events{frame(v)});
    }
    // all of them back to back, as a pipelined stream
    std::string stream;
    events expected;
    for (const auto& v : values) {
        stream += v;
        expected.push_back(frame(v));
    }
    CHECK(decode_all_ways(make_default(), stream) == expected);
}

TEST_CASE("resp: inline commands are a line of words") {
    CHECK(decode_all_ways(make_default(), "PING\r\nSET k v\nGET k\r\n") ==
          events{frame("PING\r\n"), frame("SET k v\n"), frame("GET k\r\n")});
    CHECK(decode_all_ways(make_default(), "\r\n*1\r\n$4\r\nPING\r\n") ==
          events{frame("\r\n"), frame("*1\r\n$4\r\nPING\r\n")});
    const sf::resp_value v = value_of("  SET\tkey   value \r\n");
    CHECK(v.type() == sf::resp_type::inline_command);
    CHECK(v.marker() == '\0');
    REQUIRE(v.size() == 3);
    std::vector<std::string> words;
    for (sf::resp_value w : v) {
        CHECK(w.type() == sf::resp_type::bulk_string);
        words.push_back(std::string(w.str()));
    }
    CHECK(words == std::vector<std::string>{"SET", "key", "value"});
    CHECK(value_of("\r\n").empty());
    sf::resp_limits no_inline;
    no_inline.inline_commands = false;
    CHECK(decode_all_ways(make_with(no_inline), "PING\r\n") == events{error(sf::errc::malformed_frame, 0)});
    sf::resp_limits small;
    small.max_inline = 8;
    CHECK(decode_all_ways(make_with(small), "GET abc\n") == events{frame("GET abc\n")});
    CHECK(decode_all_ways(make_with(small), "GET abcd\n") == events{error(sf::errc::frame_too_large, 8)});
    CHECK(decode_all_ways(make_with(small), "GET abcdefghijk") ==
          events{error(sf::errc::frame_too_large, 8)});
}

TEST_CASE("resp: malformed values are errors at the offending byte") {
    auto make = make_default();
    CHECK(decode_all_ways(make, "$3\r\nabcd\r\n") == events{error(sf::errc::malformed_frame, 7)});
    CHECK(decode_all_ways(make, "$3\r\nabc\rx") == events{error(sf::errc::malformed_frame, 8)});
    CHECK(decode_all_ways(make, "$3x\r\nabc\r\n") == events{error(sf::errc::malformed_frame, 2)});
    CHECK(decode_all_ways(make, "$\r\n") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "$3\rxabc\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, "+OK\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, "+O\rK\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, ":12a\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, ":\r\n") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, ":9223372036854775808\r\n") == events{error(sf::errc::malformed_frame, 19)});
    CHECK(decode_all_ways(make, "#x\r\n") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "_x\r\n") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, ",1,5\r\n") == events{error(sf::errc::malformed_frame, 2)});
    CHECK(decode_all_ways(make, "(12x\r\n") == events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make, "=3\r\ntxt\r\n") == events{error(sf::errc::malformed_frame, 7)});
    CHECK(decode_all_ways(make, "=5\r\ntxt;a\r\n") == events{error(sf::errc::malformed_frame, 7)});
    CHECK(decode_all_ways(make, "*2\r\n:1\r\n?x\r\n") == events{error(sf::errc::malformed_frame, 8)});
    CHECK(decode_all_ways(make, "$?\r\n") == events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(make, "|1\r\n+a\r\n+b\r\nPING\r\n") ==
          events{error(sf::errc::malformed_frame, 12)});
    // a frame before the bad one is delivered whole
    CHECK(decode_all_ways(make, "+OK\r\n:x\r\n") ==
          events{frame("+OK\r\n"), error(sf::errc::malformed_frame, 1)});
}

TEST_CASE("resp: negative lengths other than the nulls are rejected") {
    auto make = make_default();
    CHECK(decode_all_ways(make, "$-2\r\n") == events{error(sf::errc::negative_length, 2)});
    CHECK(decode_all_ways(make, "*-5\r\n") == events{error(sf::errc::negative_length, 5)});
    CHECK(decode_all_ways(make, "!-1\r\n") == events{error(sf::errc::negative_length, 1)});
    CHECK(decode_all_ways(make, "%-1\r\n") == events{error(sf::errc::negative_length, 1)});
    CHECK(decode_all_ways(make, "$-1\r\n*-1\r\n") == events{frame("$-1\r\n"), frame("*-1\r\n")});
}

TEST_CASE("resp: limits on bulk length, elements, depth and frame size") {
    sf::resp_limits limits;
    limits.max_bulk = 10;
    limits.max_elements = 4;
    limits.max_depth = 3;
    limits.max_frame = 60;
    auto make = make_with(limits);
    CHECK(decode_all_ways(make, "$10\r\n0123456789\r\n") == events{frame("$10\r\n0123456789\r\n")});
    // the announced length is rejected before its bytes arrive
    CHECK(decode_all_ways(make, "$11\r\n") == events{error(sf::errc::frame_too_large, 11)});
    CHECK(decode_all_ways(make, "$99999999999999999999\r\n") ==
          events{error(sf::errc::frame_too_large, UINT64_MAX)});
    CHECK(decode_all_ways(make, "+0123456789\r\n") == events{frame("+0123456789\r\n")});
    CHECK(decode_all_ways(make, "+0123456789A") == events{error(sf::errc::frame_too_large, 10)});
    CHECK(decode_all_ways(make, "+0123456789AB") == events{error(sf::errc::frame_too_large, 10)});
    CHECK(decode_all_ways(make, "*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n") ==
          events{frame("*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n")});
    CHECK(decode_all_ways(make, "*5\r\n") == events{error(sf::errc::frame_too_large, 5)});
    CHECK(decode_all_ways(make, "%3\r\n") == events{error(sf::errc::frame_too_large, 6)});
    CHECK(decode_all_ways(make, "*1\r\n*1\r\n*1\r\n:1\r\n") == events{frame("*1\r\n*1\r\n*1\r\n:1\r\n")});
    CHECK(decode_all_ways(make, "*1\r\n*1\r\n*1\r\n*1\r\n") == events{error(sf::errc::frame_too_large, 4)});
    CHECK(decode_all_ways(make, "*1\r\n*0\r\n*1\r\n") == events{frame("*1\r\n*0\r\n")});
    // a frame larger than max_frame: by its announced size where a length tells it, else at max_frame
    const std::string bulk = "$10\r\n0123456789\r\n";
    CHECK(decode_all_ways(make, "*3\r\n" + bulk + bulk + bulk) ==
          events{frame("*3\r\n" + bulk + bulk + bulk)});
    CHECK(decode_all_ways(make, "*4\r\n" + bulk + bulk + bulk + "$10\r\n") ==
          events{error(sf::errc::frame_too_large, 72)});
    limits.max_bulk = 20;
    const std::string number = ":12345678901\r\n";
    CHECK(decode_all_ways(make_with(limits), "*4\r\n" + number + number + number + number) ==
          events{frame("*4\r\n" + number + number + number + number)});
    const std::string longer = ":123456789012\r\n";
    CHECK(decode_all_ways(make_with(limits), "*4\r\n" + longer + longer + longer + longer) ==
          events{error(sf::errc::frame_too_large, 60)});
    CHECK(make().max_frame_bytes() == 60);
    sf::resp_limits deep;
    deep.max_depth = sf::resp_codec::depth_capacity + 1;
    CHECK_THROWS_AS(sf::resp_codec{deep}, std::system_error);
    deep.max_depth = sf::resp_codec::depth_capacity;
    std::string nested;
    for (std::size_t i = 0; i < deep.max_depth; ++i) nested += "*1\r\n";
    CHECK(decode_all_ways(make_with(deep), nested + ":1\r\n") == events{frame(nested + ":1\r\n")});
    CHECK(decode_all_ways(make_with(deep), nested + "*1\r\n") ==
          events{error(sf::errc::frame_too_large, deep.max_depth + 1)});
}

TEST_CASE("resp: the view of a value") {
    const sf::resp_value get = value_of("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    CHECK(get.type() == sf::resp_type::array);
    CHECK(get.marker() == '*');
    CHECK(get.size() == 2);
    CHECK(get[0].str() == "GET");
    CHECK(get[1].str() == "key");
    CHECK(get[2].is_null());
    CHECK(get.str().empty());

    const std::string wire = "%2\r\n+a\r\n*2\r\n:1\r\n#t\r\n$1\r\nb\r\n_\r\n";
    const sf::resp_value map = value_of(wire);
    CHECK(map.type() == sf::resp_type::map);
    CHECK(map.size() == 4);
    CHECK(map.encoded().str() == wire);
    auto it = map.begin();
    CHECK((*it).str() == "a");
    ++it;
    const sf::resp_value inner = *it;
    CHECK(inner.type() == sf::resp_type::array);
    CHECK(inner.encoded().str() == "*2\r\n:1\r\n#t\r\n");
    CHECK(inner[0].integer() == 1);
    CHECK(inner[1].boolean());
    ++it;
    CHECK((*it).type() == sf::resp_type::bulk_string);
    ++it;
    CHECK((*it).type() == sf::resp_type::null);
    CHECK((*it).marker() == '_');
    ++it;
    CHECK(it == map.end());

    CHECK(value_of("$-1\r\n").is_null());
    CHECK(value_of("$-1\r\n").marker() == '$');
    CHECK(value_of("*-1\r\n").is_null());
    CHECK(value_of("*-1\r\n").size() == 0);
    CHECK(value_of(":-42\r\n").integer() == -42);
    CHECK(value_of(":+7\r\n").integer() == 7);
    CHECK(value_of(":-9223372036854775808\r\n").integer() == INT64_MIN);
    CHECK(value_of("-ERR no\r\n").is_error());
    CHECK(value_of("-ERR no\r\n").str() == "ERR no");
    CHECK(value_of("!3\r\nbad\r\n").is_error());
    CHECK(value_of(",2.5\r\n").str() == "2.5");
    CHECK(value_of("(123\r\n").type() == sf::resp_type::big_number);
    CHECK_FALSE(value_of("#f\r\n").boolean());
    const sf::resp_value verbatim = value_of("=10\r\nmkd:a\r\nb c\r\n");
    CHECK(verbatim.type() == sf::resp_type::verbatim_string);
    CHECK(verbatim.format() == "mkd");
    CHECK(verbatim.str() == "a\r\nb c");

    const sf::resp_value annotated = value_of("|1\r\n+ttl\r\n:30\r\n~2\r\n+x\r\n|1\r\n+a\r\n+b\r\n+y\r\n");
    CHECK(annotated.type() == sf::resp_type::set);
    CHECK(annotated.size() == 2);
    CHECK(annotated.attributes().type() == sf::resp_type::attribute);
    CHECK(annotated.attributes()[0].str() == "ttl");
    CHECK(annotated.attributes()[1].integer() == 30);
    CHECK(annotated[0].str() == "x");
    CHECK(annotated[0].attributes().size() == 0);
    CHECK(annotated[1].str() == "y");
    CHECK(annotated[1].attributes()[1].str() == "b");

    const sf::resp_value twice = value_of("|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n+OK\r\n");
    CHECK(twice.str() == "OK");
    CHECK(twice.attributes()[0].str() == "a");
    CHECK(twice.encoded().str() == "+OK\r\n");

    std::error_code ec;
    std::uint64_t at = 0;
    CHECK(sf::resp_value::parse("+OK\r\n+x\r\n", ec).is_null());
    CHECK(ec == sf::errc::frame_size_mismatch);
    CHECK(sf::resp_value::parse("$5\r\nab", ec).is_null());
    CHECK(ec == sf::errc::truncated_stream);
    (void)sf::resp_value::parse(":1x\r\n", ec, {}, &at);
    CHECK(ec == sf::errc::malformed_frame);
    CHECK(at == 2);
}

TEST_CASE("resp: the writer encodes every type, and the codec decodes it back") {
    std::string out;
    sf::resp_writer w(out);
    w.command("SET", std::string("key"), std::string_view("a\r\nb"));
    CHECK(out == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$4\r\na\r\nb\r\n");
    out.clear();
    const std::vector<std::string> args = {"MGET", "a", "b"};
    w.command_range(args);
    CHECK(out == "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n");
    out.clear();
    w.array(11)
        .simple_string("OK")
        .error("ERR x")
        .integer(INT64_MIN)
        .bulk_string("")
        .null_bulk_string()
        .null_array()
        .null()
        .boolean(true)
        .double_number(0.1)
        .big_number("-12345678901234567890")
        .verbatim_string("txt", "hi");
    CHECK(out ==
          "*11\r\n+OK\r\n-ERR x\r\n:-9223372036854775808\r\n$0\r\n\r\n$-1\r\n*-1\r\n_\r\n#t\r\n"
          ",0.10000000000000001\r\n(-12345678901234567890\r\n=6\r\ntxt:hi\r\n");
    const sf::resp_value v = value_of(out);
    CHECK(v.size() == 11);
    CHECK(v[2].integer() == INT64_MIN);
    std::string more;
    sf::resp_writer(more).map(1).bulk_error("E").set(0).push(1).attribute(1).integer(1).integer(2).integer(3);
    CHECK(more == "%1\r\n!1\r\nE\r\n~0\r\n>1\r\n|1\r\n:1\r\n:2\r\n:3\r\n");
    CHECK(decode_all_ways(make_default(), more) ==
          events{frame("%1\r\n!1\r\nE\r\n~0\r\n"), frame(">1\r\n|1\r\n:1\r\n:2\r\n:3\r\n")});
    std::string doubles;
    sf::resp_writer(doubles).double_number(1.0 / 0.0).double_number(-1.0 / 0.0).double_number(2.5);
    CHECK(doubles == ",inf\r\n,-inf\r\n,2.5\r\n");
    CHECK_THROWS_AS(w.simple_string("a\r\nb"), std::system_error);
    CHECK_THROWS_AS(w.error("a\nb"), std::system_error);
    CHECK_THROWS_AS(w.verbatim_string("text", "x"), std::system_error);
    // values of every length around the writer's one-append limit, appended after what is there
    for (std::size_t n = 0; n <= 140; ++n) {
        const std::string text(n, static_cast<char>('a' + n % 26));
        std::string line = "x", bulk = "y";
        sf::resp_writer(line).simple_string(text);
        sf::resp_writer(bulk).bulk_string(text);
        CHECK(line == "x+" + text + "\r\n");
        CHECK(bulk == "y$" + std::to_string(n) + "\r\n" + text + "\r\n");
        std::string bad = text + "\n";
        std::string kept = "z";
        CHECK_THROWS_AS(sf::resp_writer(kept).simple_string(bad), std::system_error);
        CHECK(kept == "z");  // nothing written when refused
    }

    // encode sends the value as it is, without a copy
    const sf::resp_codec codec;
    CHECK(codec_test::encode(codec, out) == out);
    CHECK(codec_test::payload_not_copied(codec, out));
    sf::resp_limits small;
    small.max_frame = 4;
    CHECK(codec_test::encode_error(sf::resp_codec{small}, "+OK\r\n") == sf::errc::payload_too_large);
}

TEST_CASE("resp: a large pipelined stream scanned once, byte by byte") {
    std::string stream;
    sf::resp_writer w(stream);
    for (int i = 0; i < 200; ++i) w.command("INCRBY", "counter", std::to_string(i));
    w.array(1000);
    for (int i = 0; i < 1000; ++i) w.integer(i);
    sf::resp_codec codec;
    std::size_t frames = 0, start = 0;
    for (std::size_t end = 1; end <= stream.size(); ++end) {
        const sf::decode_result r = codec.decode(sf::const_buffer(stream.data() + start, end - start));
        REQUIRE_FALSE(r.is_error());
        if (r.is_frame()) {
            ++frames;
            start += r.consumed;
        }
    }
    CHECK(frames == 201);
    CHECK(start == stream.size());
    const sf::resp_value last = value_of(std::string_view(stream).substr(stream.find("*1000")));
    CHECK(last.size() == 1000);
    CHECK(last[999].integer() == 999);
}

TEST_CASE("resp: decode_frame answers for commands and bulk strings, as decode would") {
    static_assert(sf::codec_traits<sf::resp_codec>::has_decode_frame);
    std::size_t declined = 0;
    const std::string command = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    CHECK(codec_test::check_decode_frame(make_default(), command, declined) == 1);
    CHECK(declined == 0);
    CHECK(codec_test::check_decode_frame(make_default(), "$5\r\nhello\r\n+OK\r\n", declined) == 6);
    // everything else is decode()'s: other types, nulls, empty arrays, nested arrays, bad bytes
    for (const char* other : {"+OK\r\n", "$-1\r\n", "*0\r\n", "*1\r\n*1\r\n$1\r\na\r\n", "*1\r\n:1\r\n",
                              "$3\r\nabcd\r\n", "*1\r\n$1\r\na\n\n", "PING\r\n", "$0003\r\nabc\r\n"}) {
        CAPTURE(other);
        CHECK(codec_test::check_decode_frame(make_default(), other, declined) <= 1);
    }
    // within the limits only
    sf::resp_limits limits;
    limits.max_bulk = 4;
    limits.max_elements = 2;
    CHECK(codec_test::check_decode_frame(make_with(limits), "$5\r\nhello\r\n", declined) == 0);
    CHECK(codec_test::check_decode_frame(make_with(limits), "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
                                         declined) == 0);
    limits.max_depth = 0;
    CHECK(codec_test::check_decode_frame(make_with(limits), "*1\r\n$1\r\na\r\n", declined) == 0);
    // not while a frame is partly scanned
    sf::resp_codec codec;
    CHECK(codec.decode(sf::const_buffer(command.data(), 10)).needs_more());
    sf::const_buffer payload;
    CHECK(codec.decode_frame(command, payload) == 0);
    CHECK(codec.decode(command).consumed == command.size());
    // the arguments of a command in one pass
    std::string_view args[2];
    CHECK(sf::resp_value(command).strings(args, 2) == 3);
    CHECK(args[0] == "SET");
    CHECK(args[1] == "key");
    std::string_view words[4];
    CHECK(sf::resp_value(sf::const_buffer("GET  k\r\n")).strings(words, 4) == 2);
    CHECK(words[1] == "k");
    const std::string mixed = "*3\r\n:1\r\n$-1\r\n+x\r\n";
    bool only_bulk = true;
    CHECK(sf::resp_value(mixed).strings(words, 4, &only_bulk) == 3);
    CHECK_FALSE(only_bulk);
    CHECK(words[2] == "x");
    CHECK(sf::resp_value(command).strings(words, 4, &only_bulk) == 3);
    CHECK(only_bulk);
}

TEST_CASE("resp: strings() agrees with every child's str(), nulls and nested values included") {
    // every kind of child, each read by length only: views equal to what the children report
    const std::string wire =
        "*14\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n_\r\n+ok\r\n-ERR x\r\n:-12\r\n,2.5\r\n#t\r\n(123\r\n"
        "!2\r\nno\r\n=7\r\ntxt:hey\r\n*2\r\n$1\r\na\r\n%1\r\n+k\r\n*-1\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nz\r\n";
    const sf::resp_value v = value_of(wire);
    std::string_view texts[16];
    bool only_bulk = true;
    REQUIRE(v.strings(texts, 16, &only_bulk) == 14);
    CHECK_FALSE(only_bulk);
    std::size_t i = 0;
    for (const sf::resp_value child : v) {
        INFO("child " << i);
        CHECK(texts[i].data() == child.str().data());
        CHECK(texts[i].size() == child.str().size());
        ++i;
    }
    CHECK(i == 14);
    CHECK(texts[0] == "abc");
    CHECK(texts[1].empty());
    CHECK(texts[11] == "hey");
    CHECK(texts[12].empty());  // a nested array has no text
    CHECK(texts[13] == "z");   // the attribute before it is skipped
    // a capacity below the count: the first views, the whole count returned
    CHECK(v.strings(texts, 2) == 14);
    CHECK(texts[1].data() == v[1].str().data());
}

namespace {

/// A view built with the codec's index of the frame it has just decoded reads the same children
/// as a view that walks the frame, and the recorded places are the children's own.
void check_index(sf::const_buffer payload, const sf::resp_codec& codec) {
    const sf::resp_value walked(payload);
    const sf::resp_value indexed(payload, codec);
    REQUIRE(indexed.type() == walked.type());
    REQUIRE(indexed.size() == walked.size());
    CHECK(indexed.encoded().data() == walked.encoded().data());
    CHECK(indexed.encoded().size() == walked.encoded().size());
    const sf::resp_index& index = codec.index();
    const bool recorded = walked.is_aggregate() && walked.type() != sf::resp_type::inline_command &&
                          !walked.empty();  // an attribute before the value included
    CHECK(index.describes(reinterpret_cast<const char*>(walked.encoded().data()), walked.size()) == recorded);
    std::size_t i = 0;
    for (auto a = walked.begin(), b = indexed.begin(); a != walked.end(); ++a, ++b, ++i) {
        INFO("child " << i);
        REQUIRE(b != indexed.end());
        CHECK(a->type() == b->type());
        CHECK(a->str().data() == b->str().data());
        CHECK(a->str().size() == b->str().size());
        CHECK(a->encoded().data() == b->encoded().data());
        CHECK(a->encoded().size() == b->encoded().size());
        CHECK(a->attributes().encoded().data() == b->attributes().encoded().data());
        CHECK(indexed[i].encoded().data() == a->encoded().data());
        CHECK(indexed[i].encoded().size() == a->encoded().size());
        if (recorded && i < index.recorded()) {
            const char* end = reinterpret_cast<const char*>(a->encoded().data()) + a->encoded().size();
            CHECK(index.end(i) == end);
            if (!a->is_aggregate() && !a->is_null()) {
                const char* text = a->str().data();
                CHECK(index.body(i) == (a->type() == sf::resp_type::verbatim_string ? text - 4 : text));
            }
        }
    }
    CHECK(i == walked.size());
    CHECK(indexed[walked.size()].type() == sf::resp_type::null);
    std::string_view a[24], b[24];
    bool bulk_a = false, bulk_b = true;
    REQUIRE(walked.strings(a, 24, &bulk_a) == indexed.strings(b, 24, &bulk_b));
    CHECK(bulk_a == bulk_b);
    for (std::size_t k = 0; k < walked.size() && k < 24; ++k) {
        CHECK(a[k].data() == b[k].data());
        CHECK(a[k].size() == b[k].size());
    }
}

}  // namespace

TEST_CASE("resp: the children's places recorded while decoding agree with a walk, split at every byte") {
    std::string many;
    sf::resp_writer(many).command_range(std::vector<std::string>(20, "arg"));  // past the index
    std::string mixed = "*21\r\n";
    for (int i = 0; i < 21; ++i)
        mixed += i % 3 == 0   ? "*2\r\n:1\r\n%1\r\n+k\r\n$1\r\nv\r\n"
                 : i % 3 == 1 ? "=7\r\ntxt:hey\r\n"
                              : "$-1\r\n";
    const std::vector<std::string> values = {
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",  // decode_frame's
        "*14\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n_\r\n+ok\r\n-ERR x\r\n:-12\r\n,2.5\r\n#t\r\n(123\r\n"
        "!2\r\nno\r\n=7\r\ntxt:hey\r\n*2\r\n$1\r\na\r\n%1\r\n+k\r\n*-1\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nz\r\n",
        "*3\r\n:1\r\n*2\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n*0\r\n",
        "%2\r\n+first\r\n:1\r\n+second\r\n*1\r\n:2\r\n",
        "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n|0\r\n:2\r\n",
        "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n",
        "|1\r\n+a\r\n+b\r\n+OK\r\n",
        ">2\r\n+message\r\n$5\r\nhello\r\n",
        "*0\r\n",
        "*-1\r\n",
        "*5\r\n$-0\r\n\r\n*-0\r\n$-01\r\n*-01\r\n--\r\n",  // "-0" is not a null, "-01" is
        "+OK\r\n",
        "$5\r\nhello\r\n",
        "GET key\r\n",
        many,
        mixed,
    };
    std::string stream;
    for (const auto& v : values) stream += v;
    // byte by byte, as a reader whose buffer grows; and whole, decode_frame first as framed does
    for (int whole = 0; whole < 2; ++whole) {
        sf::resp_codec codec;
        std::size_t frames = 0, start = 0;
        for (std::size_t end = whole ? stream.size() : 1; end <= stream.size() && start < stream.size();) {
            const sf::const_buffer input(stream.data() + start, end - start);
            sf::const_buffer payload;
            std::size_t size = whole ? codec.decode_frame(input, payload) : 0;
            if (size == 0) {
                const sf::decode_result r = codec.decode(input);
                REQUIRE_FALSE(r.is_error());
                if (r.is_frame()) size = r.consumed, payload = r.payload;
            }
            if (size == 0) {
                ++end;
                continue;
            }
            CAPTURE(values[frames]);
            CHECK(payload.size() == values[frames].size());
            check_index(payload, codec);
            ++frames;
            start += size;
        }
        CHECK(frames == values.size());
    }
}

TEST_CASE("resp: a view keeps to its own frame once the codec has decoded another") {
    sf::resp_codec codec;
    std::string buffer = "*2\r\n$1\r\na\r\n*1\r\n:7\r\n*3\r\n:1\r\n:2\r\n:3\r\n";
    const sf::decode_result first = codec.decode(buffer);
    REQUIRE(first.is_frame());
    const sf::resp_value kept(first.payload, codec);
    // the next frame of the same buffer: the first value no longer uses the index
    const sf::decode_result second = codec.decode(sf::const_buffer(buffer).subspan(first.consumed));
    REQUIRE(second.is_frame());
    CHECK(kept.size() == 2);
    CHECK(kept[0].str() == "a");
    CHECK(kept[1].size() == 1);
    CHECK(kept[1][0].integer() == 7);
    std::string_view texts[2];
    CHECK(kept.strings(texts, 2) == 2);
    CHECK(texts[0] == "a");
    // a reader that moved its bytes to the front: a frame without children at the address of one
    // with children reads as itself
    buffer = "*2\r\n$1\r\na\r\n$1\r\nb\r\n";
    REQUIRE(codec.decode(buffer).is_frame());
    buffer.replace(0, 11, "$9\r\nabcdefghi\r\n");
    buffer.resize(15);
    const sf::decode_result bulk = codec.decode(buffer);
    REQUIRE(bulk.is_frame());
    const sf::resp_value v(bulk.payload, codec);
    CHECK(v.type() == sf::resp_type::bulk_string);
    CHECK(v.str() == "abcdefghi");
    CHECK(v.size() == 0);
    // an error forgets the index too
    REQUIRE(codec.decode(sf::const_buffer("*1\r\n$1\r\nx\r\n")).is_frame());
    CHECK(codec.decode(sf::const_buffer("*1\r\n$1\r\nxy\r\n")).is_error());
    CHECK(codec.index().recorded() == 1);
    const std::string again = "*1\r\n$1\r\nx\r\n";
    CHECK_FALSE(codec.index().describes(again.data(), 1));
}

TEST_CASE("resp: a view of a whole scalar frame: nulls, \"-0\" lengths and lines") {
    for (const char* wire : {"$-1\r\n", "$-01\r\n", "_\r\n"}) {
        CAPTURE(wire);
        const sf::resp_value v(sf::const_buffer{wire});
        CHECK(v.type() == sf::resp_type::null);
        CHECK(v.str().empty());
        CHECK(v.encoded().size() == std::string_view(wire).size());
    }
    const sf::resp_value empty(sf::const_buffer{"$-0\r\n\r\n"});
    CHECK(empty.type() == sf::resp_type::bulk_string);
    CHECK(empty.str().empty());
    CHECK(empty.encoded().size() == 7);
    const sf::resp_value line(sf::const_buffer{"-ERR no\r\n"});
    CHECK(line.type() == sf::resp_type::simple_error);
    CHECK(line.str() == "ERR no");
    const sf::resp_value bulk(sf::const_buffer{"$4\r\na\r\nb\r\n"});
    CHECK(bulk.str() == "a\r\nb");
}

TEST_CASE(
    "resp: decode_frame answers for simple strings, errors, integers and RESP2's null, as decode would") {
    std::size_t declined = 0;
    for (const char* line :
         {"+OK\r\n", "-ERR unknown\r\n", ":-9223372036854775808\r\n", ":0\r\n", "$-1\r\n"}) {
        CAPTURE(std::string(line));
        CHECK(codec_test::check_decode_frame(make_default(), line, declined) == 1);
        CHECK(declined == 0);
    }
    // what decode() rejects or takes otherwise is left to it
    for (const char* other :
         {":12a\r\n", ":9223372036854775808\r\n", "+a\nb\r\n", "+ab\r\r\n", "$-01\r\n", "$-2\r\n"}) {
        CAPTURE(std::string(other));
        CHECK(codec_test::check_decode_frame(make_default(), other, declined) == 0);
    }
    // within max_bulk only: a line of max_bulk bytes is answered, one byte more is not
    sf::resp_limits limits;
    limits.max_bulk = 3;
    CHECK(codec_test::check_decode_frame(make_with(limits), "+abc\r\n", declined) == 1);
    CHECK(codec_test::check_decode_frame(make_with(limits), "+abcd\r\n", declined) == 0);
    CHECK(declined == 0);
}
