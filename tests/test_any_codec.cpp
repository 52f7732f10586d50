#include <sockframe/any_codec.hpp>

#include "support/codec_test.hpp"

#include <sockframe/compose.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

namespace sf = sockframe;
using codec_test::bytes;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

namespace {

std::string spec_error(const std::string& spec) {
    try {
        (void)sf::parse_codec_spec(spec);
    } catch (const std::system_error& e) {
        if (e.code() != sf::errc::invalid_argument) return "wrong code";
        return e.what();
    }
    return "no error";
}

bool rejected(const std::string& spec, std::size_t max_frame) {
    try {
        (void)sf::parse_codec_spec(spec, max_frame);
    } catch (const std::system_error& e) {
        return e.code() == sf::errc::invalid_argument;
    }
    return false;
}

// A user codec: frames are two bytes, the second the first's complement.
struct pair_codec {
    int decodes = 0;
    std::size_t max_frame() const { return 1; }
    std::size_t max_frame_bytes() const { return 2; }
    sf::decode_result decode(sf::const_buffer in) {
        ++decodes;
        if (in.size() < 2) return sf::decode_result::need_more();
        if ((std::to_integer<int>(in[0]) ^ 0xFF) != std::to_integer<int>(in[1]))
            return sf::decode_result::failure(make_error_code(sf::errc::malformed_frame), 1);
        return sf::decode_result::frame(in.first(1), 2);
    }
    void reset() {}
    std::error_code encode(sf::const_buffer payload, sf::frame_parts& out) const {
        if (payload.size() != 1) return make_error_code(sf::errc::frame_size_mismatch);
        out.reset(payload);
        const auto complement = static_cast<std::byte>(std::to_integer<int>(payload[0]) ^ 0xFF);
        out.append_copy(sf::const_buffer{&complement, 1});
        return {};
    }
};

// A user codec without encode(frame_parts&): frames end with '!'.
struct bang_codec {
    std::size_t max_frame() const { return 100; }
    std::size_t max_frame_bytes() const { return 101; }
    sf::decode_result decode(sf::const_buffer) { return sf::decode_result::need_more(); }
    void reset() {}
    std::error_code encode(sf::const_buffer payload, sf::frame_parts& out) const {
        out.reset(payload);
        out.append_copy("!");
        return {};
    }
};

}  // namespace

TEST_CASE("parse_codec_spec: length prefixes") {
    CHECK(encode(sf::parse_codec_spec("len:4"), "abc") == bytes({0, 0, 0, 3}) + "abc");
    CHECK(encode(sf::parse_codec_spec("len:4:be"), "abc") == bytes({0, 0, 0, 3}) + "abc");
    CHECK(encode(sf::parse_codec_spec("len:4:le"), "abc") == bytes({3, 0, 0, 0}) + "abc");
    CHECK(encode(sf::parse_codec_spec("len:2"), "abc") == bytes({0, 3}) + "abc");
    CHECK(encode(sf::parse_codec_spec("len:2:le"), "abc") == bytes({3, 0}) + "abc");
    CHECK(encode(sf::parse_codec_spec("len:1"), "abc") == bytes({3}) + "abc");
    CHECK(encode(sf::parse_codec_spec("len:8"), "abc") == bytes({0, 0, 0, 0, 0, 0, 0, 3}) + "abc");
    CHECK(encode(sf::parse_codec_spec("len:8:le"), "abc") == bytes({3, 0, 0, 0, 0, 0, 0, 0}) + "abc");
    const sf::any_codec four = sf::parse_codec_spec("len:4");
    CHECK(four.target<sf::length_prefix<std::uint32_t>>() != nullptr);
    CHECK(four.target<sf::length_prefix<std::uint32_t, sf::little_endian>>() == nullptr);
    CHECK(four.max_frame() == SOCKFRAME_DEFAULT_MAX_FRAME);
    CHECK(sf::parse_codec_spec("len:1").max_frame() == 255);
    CHECK(sf::parse_codec_spec("len:2").max_frame() == 65535);
    CHECK(sf::parse_codec_spec("len:4", 1000).max_frame() == 1000);
    CHECK(sf::parse_codec_spec("len:1", 255).max_frame() == 255);
    CHECK(rejected("len:1", 256));
    CHECK(rejected("len:2", 65536));
}

TEST_CASE("parse_codec_spec: varint, line, delim, fixed, netstring") {
    CHECK(encode(sf::parse_codec_spec("varint"), std::string(300, 'v')) ==
          bytes({0xAC, 0x02}) + std::string(300, 'v'));
    CHECK(encode(sf::parse_codec_spec("line"), "hi") == "hi\n");
    CHECK(encode(sf::parse_codec_spec("delim:$_"), "hi") == "hi$_");
    CHECK(encode(sf::parse_codec_spec("delim:\\r\\n"), "hi") == "hi\r\n");
    CHECK(encode(sf::parse_codec_spec("delim:\\0"), "hi") == bytes({'h', 'i', 0}));
    CHECK(encode(sf::parse_codec_spec("delim:\\x7F\\t\\\\"), "hi") == "hi\x7F\t\\");
    CHECK(encode(sf::parse_codec_spec("delim::"), "hi") == "hi:");
    CHECK(encode(sf::parse_codec_spec("fixed:2"), "hi") == "hi");
    CHECK(encode(sf::parse_codec_spec("netstring"), "hi") == "2:hi,");
    CHECK(sf::parse_codec_spec("line", 10).max_frame() == 10);
    CHECK(sf::parse_codec_spec("varint", 10).max_frame() == 10);
    CHECK(sf::parse_codec_spec("delim:;", 10).max_frame() == 10);
    CHECK(sf::parse_codec_spec("fixed:7").max_frame() == 7);
    CHECK(sf::parse_codec_spec("line").target<sf::line>() != nullptr);
    CHECK(sf::parse_codec_spec("fixed:7").target<sf::fixed_size>()->size() == 7);
    CHECK(rejected("fixed:11", 10));
    CHECK_FALSE(rejected("fixed:10", 10));
}

TEST_CASE("parse_codec_spec: bad specs are invalid_argument naming the spec") {
    for (const char* spec : {"",
                             "len",
                             "len:",
                             "len:3",
                             "len:16",
                             "len:4:xx",
                             "len:4:be:x",
                             "varint:1",
                             "line:x",
                             "delim:",
                             "delim:\\q",
                             "delim:\\x4",
                             "delim:\\",
                             "fixed",
                             "fixed:",
                             "fixed:0",
                             "fixed:x",
                             "fixed:-1",
                             "fixed:99999999999999999999",
                             "bogus",
                             "LINE",
                             "netstring:"}) {
        INFO("spec " << spec);
        const std::string what = spec_error(spec);
        CHECK(what.find("bad codec spec '" + std::string(spec) + "'") != std::string::npos);
    }
    CHECK(spec_error("delim:" + std::string(33, ';')).find("1 to 32 bytes") != std::string::npos);
}

TEST_CASE("any_codec decodes like the codec it holds, split every way") {
    auto lines = [] { return sf::parse_codec_spec("line", 8); };
    CHECK(decode_all_ways(lines, "one\r\ntwo\ntoo long line\nok\n", false) ==
          events{frame("one"), frame("two"), error(sf::errc::frame_too_large, 9), frame("ok")});
    auto lengths = [] { return sf::parse_codec_spec("len:2:le", 100); };
    CHECK(decode_all_ways(lengths, bytes({3, 0}) + "abc" + bytes({101, 0})) ==
          events{frame("abc"), error(sf::errc::frame_too_large, 101)});
    CHECK(sf::parse_codec_spec("len:2:le", 100).max_frame_bytes() == 102);
}

TEST_CASE("any_codec copies are independent") {
    sf::any_codec a = sf::parse_codec_spec("delim:$_");
    CHECK(a.decode("abc$").needs_more());
    sf::any_codec b = a;  // copies the pending '$'
    auto rb = b.decode("abc$_");
    REQUIRE(rb.is_frame());
    CHECK(rb.payload.str() == "abc");
    a.reset();
    auto ra = a.decode("xy$_");
    REQUIRE(ra.is_frame());
    CHECK(ra.payload.str() == "xy");
    sf::any_codec c = sf::parse_codec_spec("line");
    c = b;
    CHECK(c.target<sf::delimiter>() != nullptr);
    sf::any_codec d = std::move(c);
    CHECK(d.target<sf::delimiter>() != nullptr);
}

TEST_CASE("any_codec holds a user codec and composes") {
    sf::any_codec any = pair_codec{};
    CHECK(encode(any, "A") == bytes({'A', 0xBE}));
    CHECK(
        decode_all_ways([] { return sf::any_codec{pair_codec{}}; }, bytes({'A', 0xBE, 'B', 0xBD, 'C', 0})) ==
        events{frame("A"), frame("B"), error(sf::errc::malformed_frame, 1)});
    CHECK(any.decode("A").needs_more());
    CHECK(any.target<pair_codec>()->decodes == 1);
    CHECK(any.target<sf::line>() == nullptr);

    // A user codec without encode(frame_parts&) still works as the inner codec of a composition.
    using layered = sf::nested<sf::length_prefix<std::uint8_t>, sf::any_codec>;
    const layered nested{sf::length_prefix<std::uint8_t>{}, sf::any_codec{pair_codec{}}};
    CHECK(encode(nested, "A") == bytes({2, 'A', 0xBE}));
    // An outer codec reached through any_codec keeps its frame_parts overload...
    const sf::checked<sf::any_codec> outer{sf::any_codec{sf::fixed_size{5}}};
    std::string crc(4, '\0');
    sf::crc32c::store(sf::crc32c::compute("x"), reinterpret_cast<std::byte*>(crc.data()));
    CHECK(encode(outer, "x") == "x" + crc);
    // ...but a user codec without it cannot wrap several segments.
    const sf::checked<sf::any_codec> user{sf::any_codec{bang_codec{}}};
    CHECK(codec_test::encode_error(user, "") == sf::errc::not_supported);
}

// Counts every allocation in the test program, to show that codecs do not allocate per frame.
namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// Out of line, so that no caller sees malloc paired with operator delete (g++ -Wmismatched-new-delete).
#if defined(__GNUC__)
#define TEST_NOINLINE __attribute__((noinline))
#else
#define TEST_NOINLINE
#endif
TEST_NOINLINE void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc{};
}
TEST_NOINLINE void operator delete(void* p) noexcept { std::free(p); }
TEST_NOINLINE void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

template <typename Codec>
std::size_t allocations_while_framing(Codec& codec, const std::string& payload, int rounds) {
    sf::frame_parts parts;
    std::string wire;
    wire.reserve(1 << 16);
    const std::size_t before = allocations.load();
    std::size_t frames = 0;
    for (int i = 0; i < rounds; ++i) {
        wire.clear();
        for (int k = 0; k < 3; ++k) {
            if (codec.encode(sf::const_buffer{payload}, parts)) return SIZE_MAX;
            for (const auto& segment : parts) wire.append(segment.str());
        }
        // decode in two pieces, dropping consumed bytes like a reader
        std::size_t begin = 0;
        const std::size_t half = wire.size() / 2;
        for (std::size_t end : {half, wire.size()}) {
            for (;;) {
                const auto r = codec.decode(sf::const_buffer{wire.data() + begin, end - begin});
                begin += r.consumed;
                if (!r.is_frame()) break;
                ++frames;
            }
        }
    }
    const std::size_t after = allocations.load();
    if (frames != static_cast<std::size_t>(rounds) * 3) return SIZE_MAX;
    return after - before;
}

}  // namespace

TEST_CASE("encode and decode do not allocate") {
    const std::string payload = codec_test::random_bytes(1000, 17, "\n$");
    sf::length_prefix<std::uint32_t> length;
    sf::varint_prefix varint;
    sf::delimiter delim{"$_"};
    sf::line lines;
    sf::fixed_size fixed{1000};
    sf::netstring net = sf::make_netstring();
    sf::nested<sf::checked<sf::length_prefix<std::uint16_t>>, sf::varint_prefix> layered;
    sf::any_codec any = sf::parse_codec_spec("len:4:le");
    CHECK(allocations_while_framing(length, payload, 100) == 0);
    CHECK(allocations_while_framing(varint, payload, 100) == 0);
    CHECK(allocations_while_framing(delim, payload, 100) == 0);
    CHECK(allocations_while_framing(lines, payload, 100) == 0);
    CHECK(allocations_while_framing(fixed, payload, 100) == 0);
    CHECK(allocations_while_framing(net, payload, 100) == 0);
    CHECK(allocations_while_framing(layered, payload, 100) == 0);
    CHECK(allocations_while_framing(any, payload, 100) == 0);
    // the counter works
    const std::size_t before = allocations.load();
    static std::string* volatile sink = nullptr;
    sink = new std::string(100, 'x');
    delete sink;
    CHECK(allocations.load() > before);
}

TEST_CASE("every codec gives the same frames and errors on random input however it is split") {
    // Bytes from a small alphabet, so that lengths, digits and delimiters occur often.
    const std::string alphabet =
        bytes({0, 1, 2, 3, 0x80, '\n', '\r', '$', '_', ':', ',', '0', '1', '2', '9', 'a'});
    std::mt19937 rng(4242u);
    for (int round = 0; round < 40; ++round) {
        std::string wire;
        for (int i = 0; i < 48; ++i) wire += alphabet[rng() % alphabet.size()];
        INFO("round " << round);
        for (const char* spec :
             {"len:1", "len:2:le", "varint", "line", "delim:$_", "delim:\\r\\n", "fixed:3", "netstring"}) {
            INFO("spec " << spec);
            const bool resync =
                std::string_view{spec} == "line" || std::string_view{spec}.substr(0, 5) == "delim";
            (void)decode_all_ways([spec] { return sf::parse_codec_spec(spec, 6); }, wire, !resync);
        }
        (void)decode_all_ways([] { return sf::checked<sf::length_prefix<std::uint8_t>>{}; }, wire, false);
        (void)decode_all_ways([] { return sf::nested<sf::length_prefix<std::uint8_t>, sf::line>{}; }, wire,
                              false);
    }
}
