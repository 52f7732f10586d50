#include <sockframe/length_prefix.hpp>
#include <sockframe/compose.hpp>

#include "support/codec_test.hpp"

#include <cstdint>
#include <limits>
#include <string>
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

sf::length_prefix_options layout(std::size_t offset, std::int64_t adjustment,
                                 std::optional<std::size_t> strip,
                                 std::optional<std::size_t> max_frame = std::nullopt) {
    sf::length_prefix_options o;
    o.offset = offset;
    o.adjustment = adjustment;
    o.strip = strip;
    o.max_frame = max_frame;
    return o;
}

bool throws_invalid(const sf::length_prefix_options& o) {
    try {
        sf::length_prefix<std::uint16_t> codec{o};
        (void)codec;
    } catch (const std::system_error& e) {
        return e.code() == sf::errc::invalid_argument;
    }
    return false;
}

}  // namespace

TEST_CASE("length_prefix<uint32_t>{} is tokio's LengthDelimitedCodec default and Python struct '>I'") {
    const sf::length_prefix<std::uint32_t> codec;
    CHECK(codec.max_frame() == SOCKFRAME_DEFAULT_MAX_FRAME);
    CHECK(codec.header_size() == 4);
    CHECK(codec.strip() == 4);
    CHECK(codec.max_frame_bytes() == SOCKFRAME_DEFAULT_MAX_FRAME + 4);
    // tokio: FramedWrite with LengthDelimitedCodec::new() sends "hello world" as 00 00 00 0b + bytes.
    CHECK(encode(codec, "hello world") == bytes({0, 0, 0, 0x0B}) + "hello world");
    // Python: struct.pack('>I', len(b)) + b
    CHECK(encode(codec, "") == bytes({0, 0, 0, 0}));
    CHECK(encode(codec, std::string(258, 'x')) == bytes({0, 0, 1, 2}) + std::string(258, 'x'));
    CHECK(codec_test::payload_not_copied(codec, "payload"));
}

TEST_CASE("length_prefix decodes big-endian u32 frames however the input is split") {
    const std::string wire = bytes({0, 0, 0, 5}) + "hello" + bytes({0, 0, 0, 0}) + bytes({0, 0, 0, 3}) +
                             "abc" + bytes({0, 0, 0, 9}) + "pend";
    const events got = decode_all_ways([] { return sf::length_prefix<std::uint32_t>{}; }, wire);
    CHECK(got == events{frame("hello"), frame(""), frame("abc")});
}

TEST_CASE("length_prefix keeps the bytes after a frame for the next decode") {
    sf::length_prefix<std::uint16_t> codec;
    const std::string wire = bytes({0, 2}) + "ab" + bytes({0, 1}) + "c" + bytes({0});
    auto r = codec.decode(wire);
    REQUIRE(r.is_frame());
    CHECK(r.payload.str() == "ab");
    CHECK(r.consumed == 4);
    r = codec.decode(sf::const_buffer{wire}.subspan(4));
    REQUIRE(r.is_frame());
    CHECK(r.payload.str() == "c");
    CHECK(r.consumed == 3);
    r = codec.decode(sf::const_buffer{wire}.subspan(7));
    CHECK(r.needs_more());
    CHECK(r.consumed == 0);
}

TEST_CASE("length_prefix widths and byte orders") {
    const std::string body = "0123456789";
    CHECK(encode(sf::length_prefix<std::uint8_t>{}, body) == bytes({10}) + body);
    CHECK(encode(sf::length_prefix<std::uint16_t>{}, body) == bytes({0, 10}) + body);
    CHECK(encode(sf::length_prefix<std::uint16_t, sf::little_endian>{}, body) == bytes({10, 0}) + body);
    CHECK(encode(sf::length_prefix<std::uint32_t, sf::little_endian>{}, body) == bytes({10, 0, 0, 0}) + body);
    CHECK(encode(sf::length_prefix<std::uint64_t>{}, body) == bytes({0, 0, 0, 0, 0, 0, 0, 10}) + body);
    CHECK(encode(sf::length_prefix<std::uint64_t, sf::little_endian>{}, body) ==
          bytes({10, 0, 0, 0, 0, 0, 0, 0}) + body);
    CHECK(encode(sf::length_prefix<std::uint16_t, sf::little_endian>{}, std::string(0x0102, 'z')) ==
          bytes({2, 1}) + std::string(0x0102, 'z'));

    SUBCASE("each decodes its own encoding, split every way") {
        const std::string a = "first", b(300, 'q');
        auto roundtrip = [&](auto make) {
            const auto codec = make();
            const std::string wire = encode(codec, a) + encode(codec, b) + encode(codec, "");
            CHECK(decode_all_ways(make, wire) == events{frame(a), frame(b), frame("")});
        };
        roundtrip([] { return sf::length_prefix<std::uint16_t>{}; });
        roundtrip([] { return sf::length_prefix<std::uint16_t, sf::little_endian>{}; });
        roundtrip([] { return sf::length_prefix<std::uint32_t, sf::little_endian>{}; });
        roundtrip([] { return sf::length_prefix<std::uint64_t>{}; });
        roundtrip([] { return sf::length_prefix<std::uint64_t, sf::little_endian>{}; });
    }
    SUBCASE("u8 with short frames") {
        const events got = decode_all_ways([] { return sf::length_prefix<std::uint8_t>{}; },
                                           bytes({3}) + "abc" + bytes({0, 1}) + "z");
        CHECK(got == events{frame("abc"), frame(""), frame("z")});
    }
}

TEST_CASE("length_prefix default max_frame is capped at what the field can express") {
    CHECK(sf::length_prefix<std::uint8_t>{}.max_frame() == 255);
    CHECK(sf::length_prefix<std::uint16_t>{}.max_frame() == 65535);
    CHECK(sf::length_prefix<std::uint64_t>{}.max_frame() == SOCKFRAME_DEFAULT_MAX_FRAME);
    // A length that counts its own 2-byte field can describe at most 65533 payload bytes.
    CHECK(sf::length_prefix<std::uint16_t>{layout(0, -2, std::nullopt)}.max_frame() == 65533);
    CHECK(sf::length_prefix<std::uint8_t>{layout(0, 10, std::nullopt)}.max_frame() == 265);
}

TEST_CASE("length_prefix rejects impossible parameters with invalid_argument") {
    auto invalid = [](auto make) {
        try {
            make();
        } catch (const std::system_error& e) {
            return e.code() == sf::errc::invalid_argument && e.code() == std::errc::invalid_argument;
        }
        return false;
    };
    CHECK(invalid([] { return sf::length_prefix<std::uint8_t>{256}; }));
    CHECK(invalid([] { return sf::length_prefix<std::uint16_t>{65536}; }));
    CHECK(invalid([] { return sf::length_prefix<std::uint32_t>{std::size_t{1} << 32}; }));
    CHECK_NOTHROW(sf::length_prefix<std::uint8_t>{255});
    CHECK_NOTHROW(sf::length_prefix<std::uint16_t>{65535});
    CHECK_NOTHROW(sf::length_prefix<std::uint32_t>{0xFFFFFFFFu});
    CHECK_NOTHROW(sf::length_prefix<std::uint64_t>{std::numeric_limits<std::size_t>::max()});
    CHECK(throws_invalid(layout(0, -2, std::nullopt, 65534)));
    CHECK_FALSE(throws_invalid(layout(0, -2, std::nullopt, 65533)));
    // strip beyond anything the largest frame can hold
    CHECK(throws_invalid(layout(0, 0, 70000)));
    // an adjustment so negative that no value gives a frame
    CHECK(throws_invalid(layout(0, -70000, std::nullopt)));
    CHECK(throws_invalid(layout(0, std::numeric_limits<std::int64_t>::min(), std::nullopt)));
    CHECK(throws_invalid(layout(std::numeric_limits<std::size_t>::max() - 1, 0, std::nullopt)));
}

TEST_CASE("length_prefix: a length above max_frame is frame_too_large before the payload arrives") {
    auto make = [] { return sf::length_prefix<std::uint32_t>{16}; };
    CHECK(decode_all_ways(make, bytes({0, 0, 0, 16}) + std::string(16, 'a')) ==
          events{frame(std::string(16, 'a'))});
    CHECK(decode_all_ways(make, bytes({0, 0, 0, 17})) == events{error(sf::errc::frame_too_large, 17)});
    CHECK(decode_all_ways(make, bytes({0, 0, 0, 2}) + "ok" + bytes({0xFF, 0xFF, 0xFF, 0xFF}) + "xyz") ==
          events{frame("ok"), error(sf::errc::frame_too_large, 0xFFFFFFFFu)});

    SUBCASE("the error needs only the header and names the announced size") {
        sf::length_prefix<std::uint32_t> codec{1000};
        const auto r = codec.decode(bytes({0x7F, 0xFF, 0xFF, 0xFF}));
        REQUIRE(r.is_error());
        CHECK(r.error == sf::errc::frame_too_large);
        CHECK(r.size == 0x7FFFFFFFu);
        CHECK(r.consumed == 0);
    }
    SUBCASE("the codec keeps no error state: poisoning is the reader's") {
        sf::length_prefix<std::uint32_t> codec{1000};
        const auto first = codec.decode(bytes({0x7F, 0xFF, 0xFF, 0xFF}));
        CHECK(first.is_error());
        CHECK(first.consumed == 0);  // cannot be resynchronised: the reader stops and repeats it
        // The same bytes give the same error; other bytes decode as on a fresh codec.
        const auto same = codec.decode(bytes({0x7F, 0xFF, 0xFF, 0xFF}));
        CHECK(same.error == sf::errc::frame_too_large);
        CHECK(same.size == 0x7FFFFFFFu);
        const std::string wire = bytes({0, 0, 0, 1}) + "x";
        const auto next = codec.decode(wire);
        REQUIRE(next.is_frame());
        CHECK(next.payload.str() == "x");
    }
    SUBCASE("8-byte lengths of 2^63 and 2^64-1") {
        auto make8 = [] { return sf::length_prefix<std::uint64_t>{}; };
        CHECK(decode_all_ways(make8, bytes({0x80, 0, 0, 0, 0, 0, 0, 0})) ==
              events{error(sf::errc::frame_too_large, std::uint64_t{1} << 63)});
        CHECK(decode_all_ways(make8, std::string(8, '\xFF')) ==
              events{error(sf::errc::frame_too_large, std::numeric_limits<std::uint64_t>::max())});
        auto make8le = [] { return sf::length_prefix<std::uint64_t, sf::little_endian>{}; };
        CHECK(decode_all_ways(make8le, bytes({0, 0, 0, 0, 0, 0, 0, 0x80})) ==
              events{error(sf::errc::frame_too_large, std::uint64_t{1} << 63)});
    }
    SUBCASE("positive adjustments that would wrap around 2^64") {
        auto make = [] {
            return sf::length_prefix<std::uint64_t>{layout(0, std::numeric_limits<std::int64_t>::max(), 8)};
        };
        CHECK(decode_all_ways(make, std::string(8, '\xFF')) ==
              events{error(sf::errc::frame_too_large, std::numeric_limits<std::uint64_t>::max())});
        CHECK(decode_all_ways(make, bytes({0, 0, 0, 0, 0, 0, 0, 0})) ==
              events{error(sf::errc::frame_too_large, 0)});
    }
}

TEST_CASE("length_prefix: a length below a negative adjustment is negative_length") {
    // Netty: LengthFieldBasedFrameDecoder(max, 0, 2, -2, 0) given a length of 1.
    auto make = [] { return sf::length_prefix<std::uint16_t>{layout(0, -2, 0)}; };
    CHECK(decode_all_ways(make, bytes({0, 1, 'x'})) == events{error(sf::errc::negative_length, 1)});
    CHECK(decode_all_ways(make, bytes({0, 0})) == events{error(sf::errc::negative_length, 0)});
    CHECK(decode_all_ways(make, bytes({0, 2})) == events{frame(bytes({0, 2}))});
    auto make64 = [] {
        return sf::length_prefix<std::uint64_t>{
            layout(0, std::numeric_limits<std::int64_t>::min() + 1, 0, 16)};
    };
    CHECK(decode_all_ways(make64, bytes({0, 0, 0, 0, 0, 0, 0, 5})) ==
          events{error(sf::errc::negative_length, 5)});
}

TEST_CASE("length_prefix: a frame shorter than the bytes to strip is malformed") {
    // Netty's example with an extra header byte after the field (offset 1, adjustment 1, strip 3)
    // but strip 5: a length of 0 leaves a 4-byte frame.
    auto make = [] { return sf::length_prefix<std::uint16_t>{layout(1, 1, 5)}; };
    CHECK(decode_all_ways(make, bytes({0xCA, 0, 0, 0xFE})) == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make, bytes({0xCA, 0, 1, 0xFE, 'a'})) == events{frame("")});
    CHECK(decode_all_ways(make, bytes({0xCA, 0, 3, 0xFE, 'a', 'b', 'c'})) == events{frame("bc")});
}

// The examples of Netty 4.1's LengthFieldBasedFrameDecoder javadoc, byte for byte. Netty's
// maxFrameLength counts the whole frame before stripping; here max_frame counts what is delivered,
// so max_frame = maxFrameLength - initialBytesToStrip.
TEST_CASE("Netty LengthFieldBasedFrameDecoder javadoc examples") {
    const std::string hello = "HELLO, WORLD";
    SUBCASE("offset 0, length 2, adjustment 0, strip 0") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(0, 0, 0)}; };
        const std::string wire = bytes({0x00, 0x0C}) + hello;
        CHECK(decode_all_ways(make, wire + wire) == events{frame(wire), frame(wire)});
    }
    SUBCASE("offset 0, length 2, adjustment 0, strip 2") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(0, 0, 2)}; };
        CHECK(decode_all_ways(make, bytes({0x00, 0x0C}) + hello) == events{frame(hello)});
    }
    SUBCASE("offset 0, length 2, adjustment -2, strip 0 (length counts the header)") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(0, -2, 0)}; };
        const std::string wire = bytes({0x00, 0x0E}) + hello;
        CHECK(decode_all_ways(make, wire) == events{frame(wire)});
    }
    SUBCASE("offset 2 after a 2-byte header, strip 0") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(2, 0, 0)}; };
        const std::string wire = bytes({0xCA, 0xFE, 0x00, 0x0C}) + hello;
        CHECK(decode_all_ways(make, wire) == events{frame(wire)});
    }
    SUBCASE("length before a 2-byte header: adjustment 2, strip 0") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(0, 2, 0)}; };
        const std::string wire = bytes({0x00, 0x0C, 0xCA, 0xFE}) + hello;
        CHECK(decode_all_ways(make, wire) == events{frame(wire)});
    }
    SUBCASE("offset 1, length 2, adjustment 1, strip 3") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(1, 1, 3)}; };
        CHECK(decode_all_ways(make, bytes({0xCA, 0x00, 0x0C, 0xFE}) + hello) ==
              events{frame(bytes({0xFE}) + hello)});
    }
    SUBCASE("offset 1, length 2, adjustment -3, strip 3 (length counts the whole message)") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(1, -3, 3)}; };
        CHECK(decode_all_ways(make, bytes({0xCA, 0x00, 0x10, 0xFE}) + hello) ==
              events{frame(bytes({0xFE}) + hello)});
    }
    SUBCASE("maxFrameLength 14 with strip 2 is max_frame 12") {
        auto make = [] { return sf::length_prefix<std::uint16_t>{layout(0, 0, 2, 12)}; };
        CHECK(decode_all_ways(make, bytes({0x00, 0x0C}) + hello) == events{frame(hello)});
        CHECK(decode_all_ways(make, bytes({0x00, 0x0D}) + hello + "!") ==
              events{error(sf::errc::frame_too_large, 13)});
    }
}

TEST_CASE("Netty LengthFieldPrepender wire format") {
    const std::string hello = "HELLO, WORLD";
    // new LengthFieldPrepender(2)
    CHECK(encode(sf::length_prefix<std::uint16_t>{}, hello) == bytes({0x00, 0x0C}) + hello);
    // new LengthFieldPrepender(2, true): the length includes the field itself
    CHECK(encode(sf::length_prefix<std::uint16_t>{layout(0, -2, std::nullopt)}, hello) ==
          bytes({0x00, 0x0E}) + hello);
    // new LengthFieldPrepender(4, 3): length adjustment +3 on the prepender is -3 on the decoder side
    CHECK(encode(sf::length_prefix<std::uint32_t>{layout(0, -3, std::nullopt)}, hello) ==
          bytes({0, 0, 0, 0x0F}) + hello);
    // new LengthFieldPrepender(ByteOrder.LITTLE_ENDIAN, 4, 0, false)
    CHECK(encode(sf::length_prefix<std::uint32_t, sf::little_endian>{}, hello) ==
          bytes({0x0C, 0, 0, 0}) + hello);
    // new LengthFieldPrepender(1) and (8)
    CHECK(encode(sf::length_prefix<std::uint8_t>{}, hello) == bytes({0x0C}) + hello);
    CHECK(encode(sf::length_prefix<std::uint64_t>{}, hello) == bytes({0, 0, 0, 0, 0, 0, 0, 0x0C}) + hello);
}

TEST_CASE("length_prefix with a header before the field: {u16 magic, u8 type, u32 length}") {
    const std::string header = bytes({0xBE, 0xEF, 0x07});
    const std::string body = "payload!";
    const std::string wire = header + bytes({0, 0, 0, 8}) + body;
    SUBCASE("strip 0 delivers header and body; encode takes the bytes before the field from the payload") {
        auto make = [] { return sf::length_prefix<std::uint32_t>{layout(3, 0, 0)}; };
        CHECK(decode_all_ways(make, wire + wire) == events{frame(wire), frame(wire)});
        CHECK(encode(make(), header + body) == wire);
        CHECK(make().header_size() == 7);
    }
    SUBCASE("default strip delivers the body") {
        auto make = [] { return sf::length_prefix<std::uint32_t>{layout(3, 0, std::nullopt)}; };
        CHECK(make().strip() == 7);
        CHECK(decode_all_ways(make, wire) == events{frame(body)});
    }
    SUBCASE("strip 3 delivers the length field and body") {
        auto make = [] { return sf::length_prefix<std::uint32_t>{layout(3, 0, 3)}; };
        CHECK(decode_all_ways(make, wire) == events{frame(bytes({0, 0, 0, 8}) + body)});
    }
    SUBCASE("a length counting the whole 7-byte header") {
        auto make = [] { return sf::length_prefix<std::uint32_t>{layout(3, -7, 0)}; };
        const std::string counted = header + bytes({0, 0, 0, 15}) + body;
        CHECK(decode_all_ways(make, counted) == events{frame(counted)});
        CHECK(encode(make(), header + body) == counted);
    }
    SUBCASE("a payload shorter than the header before the field cannot be encoded") {
        const sf::length_prefix<std::uint32_t> codec{layout(3, 0, 0)};
        CHECK(encode_error(codec, "ab") == sf::errc::invalid_argument);
        CHECK(encode(codec, "abc") == bytes({'a', 'b', 'c', 0, 0, 0, 0}));
    }
}

TEST_CASE("length_prefix encode errors") {
    CHECK(encode_error(sf::length_prefix<std::uint8_t>{}, std::string(255, 'a')) == std::error_code{});
    CHECK(encode_error(sf::length_prefix<std::uint8_t>{}, std::string(256, 'a')) ==
          sf::errc::payload_too_large);
    CHECK(encode_error(sf::length_prefix<std::uint16_t>{100}, std::string(100, 'a')) == std::error_code{});
    CHECK(encode_error(sf::length_prefix<std::uint16_t>{100}, std::string(101, 'a')) ==
          sf::errc::payload_too_large);
    // A length counting the 1-byte field: 254 payload bytes at most.
    const sf::length_prefix<std::uint8_t> counted{layout(0, -1, std::nullopt)};
    CHECK(counted.max_frame() == 254);
    CHECK(encode(counted, std::string(254, 'a')) == bytes({255}) + std::string(254, 'a'));
    CHECK(encode_error(counted, std::string(255, 'a')) == sf::errc::payload_too_large);
    // A positive adjustment the payload is too short for.
    const sf::length_prefix<std::uint8_t> extra{layout(0, 2, 0)};
    CHECK(encode_error(extra, "") == sf::errc::invalid_argument);
    CHECK(encode(extra, "ab") == bytes({0, 'a', 'b'}));
}

TEST_CASE("length_prefix max_frame_bytes bounds what a reader buffers") {
    CHECK(sf::length_prefix<std::uint16_t>{100}.max_frame_bytes() == 102);
    CHECK(sf::length_prefix<std::uint16_t>{layout(0, 0, 0, 100)}.max_frame_bytes() == 100);
    CHECK(sf::length_prefix<std::uint32_t>{layout(3, 0, 0, 0)}.max_frame_bytes() == 7);
    CHECK(sf::length_prefix<std::uint64_t>{std::numeric_limits<std::size_t>::max()}.max_frame_bytes() ==
          std::numeric_limits<std::size_t>::max());
}

TEST_CASE("varint_prefix: protobuf delimited messages") {
    const sf::varint_prefix codec;
    CHECK(codec.max_frame() == SOCKFRAME_DEFAULT_MAX_FRAME);
    CHECK(encode(codec, "") == bytes({0x00}));
    CHECK(encode(codec, std::string(1, 'a')) == bytes({0x01, 'a'}));
    CHECK(encode(codec, std::string(127, 'a')) == bytes({0x7F}) + std::string(127, 'a'));
    CHECK(encode(codec, std::string(128, 'a')) == bytes({0x80, 0x01}) + std::string(128, 'a'));
    CHECK(encode(codec, std::string(300, 'a')) == bytes({0xAC, 0x02}) + std::string(300, 'a'));
    CHECK(encode(codec, std::string(16384, 'a')) == bytes({0x80, 0x80, 0x01}) + std::string(16384, 'a'));
    CHECK(codec_test::payload_not_copied(codec, "abc"));
    CHECK(sf::varint_prefix::varint_size(0) == 1);
    CHECK(sf::varint_prefix::varint_size(300) == 2);
    CHECK(sf::varint_prefix::varint_size(std::numeric_limits<std::uint64_t>::max()) == 10);

    auto make = [] { return sf::varint_prefix{}; };
    const std::string big(300, 'b');
    CHECK(decode_all_ways(make, bytes({0xAC, 0x02}) + big + bytes({0x00, 0x03}) + "xyz" + bytes({0x80})) ==
          events{frame(big), frame(""), frame("xyz")});
    // A non-minimal encoding of 3 is accepted, as protobuf does.
    CHECK(decode_all_ways(make, bytes({0x83, 0x80, 0x00}) + "xyz") == events{frame("xyz")});
}

TEST_CASE("varint_prefix errors") {
    auto make = [] { return sf::varint_prefix{300}; };
    CHECK(decode_all_ways(make, bytes({0xAD, 0x02})) == events{error(sf::errc::frame_too_large, 301)});
    CHECK(encode_error(make(), std::string(301, 'x')) == sf::errc::payload_too_large);
    CHECK(encode_error(make(), std::string(300, 'x')) == std::error_code{});
    auto unlimited = [] { return sf::varint_prefix{std::numeric_limits<std::size_t>::max()}; };
    // 11 bytes: the 10th still has its continuation bit.
    CHECK(decode_all_ways(unlimited, std::string(10, '\x80') + bytes({0x01})) ==
          events{error(sf::errc::malformed_frame, 10)});
    // 10 bytes whose value needs more than 64 bits.
    CHECK(decode_all_ways(unlimited, std::string(9, '\xFF') + bytes({0x02})) ==
          events{error(sf::errc::malformed_frame, 10)});
    // 2^64 - 1 is a valid varint, far above any max_frame here.
    CHECK(decode_all_ways(make, std::string(9, '\xFF') + bytes({0x01})) ==
          events{error(sf::errc::frame_too_large, std::numeric_limits<std::uint64_t>::max())});
    CHECK(decode_all_ways(make, bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})) ==
          events{frame("")});
    sf::varint_prefix stateless{10};  // errors have consumed 0; the codec keeps no error state
    const auto bad = stateless.decode(bytes({0x0B}));
    CHECK(bad.is_error());
    CHECK(bad.consumed == 0);
    CHECK(stateless.decode(bytes({0x01, 'a'})).is_frame());
    CHECK(sf::varint_prefix{300}.max_frame_bytes() == 310);
    // A non-minimal length still fits in what a reader buffers.
    const std::string padded =
        bytes({0xAC, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}) + std::string(300, 'p');
    CHECK(decode_all_ways(make, padded) == events{frame(std::string(300, 'p'))});
}

TEST_CASE(
    "varint_prefix{0}: ten-byte varints of 0 are decided within max_frame_bytes (fuzz_varint_prefix "
    "regression)") {
    // A length of 0 may take all ten varint bytes: a reader holding max_frame_bytes() must have
    // a decision, so the bound is 10 + max_frame, not the minimal varint's size + max_frame.
    auto make = [] { return sf::varint_prefix{0}; };
    CHECK(make().max_frame_bytes() == 10);
    CHECK(decode_all_ways(make, bytes({0x80, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x00})) == events{frame(""), frame("")});
    CHECK(decode_all_ways(make, bytes({0xC8, 0x01, 'y'})) == events{error(sf::errc::frame_too_large, 200)});
}

TEST_CASE("length_prefix encode_prefix writes what encode puts before the payload, or declines") {
    std::byte out[8] = {};
    sf::length_prefix<std::uint32_t> be;
    CHECK(be.encode_prefix(0x00102030, out) == 4);
    CHECK(sf::const_buffer(out, 4).str() == bytes({0, 0x10, 0x20, 0x30}));
    sf::length_prefix<std::uint16_t, sf::little_endian> le;
    CHECK(le.encode_prefix(0x0102, out) == 2);
    CHECK(sf::const_buffer(out, 2).str() == bytes({2, 1}));
    CHECK(decltype(le)::max_prefix_size == 2);
    sf::length_prefix<std::uint32_t> small(100);
    CHECK(small.encode_prefix(101, out) == 0);  // too large: encode() reports it
    sf::length_prefix_options o;
    o.offset = 2;
    CHECK(sf::length_prefix<std::uint32_t>{o}.encode_prefix(3, out) == 0);  // not header + payload
}

TEST_CASE("length_prefix decode_frame is decode's frame wherever it answers, and declines the rest") {
    const std::string wire = bytes({0, 0, 0, 3}) + "abc" + bytes({0, 0, 0, 0}) + bytes({0, 0, 0, 2}) + "de";
    std::size_t declined = 0;
    // the plain layout answers every prefix that holds a whole first frame
    CHECK(codec_test::check_decode_frame([] { return sf::length_prefix<std::uint32_t>{}; }, wire, declined) ==
          wire.size() - 7 + 1);
    CHECK(declined == 0);
    CHECK(codec_test::check_decode_frame([] { return sf::length_prefix<std::uint16_t, sf::little_endian>{}; },
                                         bytes({2, 0}) + "xy" + bytes({1, 0}), declined) == 3);
    CHECK(declined == 0);
    // other layouts always decline: decode() decides
    CHECK(codec_test::check_decode_frame([] { return sf::length_prefix<std::uint32_t>{layout(2, 0, 0)}; },
                                         bytes({9, 9, 0, 0, 0, 1}) + "z", declined) == 0);
    CHECK(declined == 1);
    // a length above max_frame declines (decode reports the error)
    CHECK(codec_test::check_decode_frame([] { return sf::length_prefix<std::uint32_t>{2}; }, wire,
                                         declined) == 0);
    // no error state: after an error the short cut still answers (the reader stops, not the codec)
    sf::length_prefix<std::uint32_t> codec{2};
    CHECK(codec.decode(sf::const_buffer(wire)).is_error());
    sf::const_buffer payload;
    const std::string good = bytes({0, 0, 0, 1}) + "q";
    CHECK(codec.decode_frame(sf::const_buffer(good), payload) == 5);
    CHECK(payload.str() == "q");
}

TEST_CASE("loads and stores of every width and byte order round-trip") {
    std::byte b[8];
    sf::detail::store<sf::big_endian, std::uint64_t>(0x0102030405060708u, b);
    CHECK(std::to_integer<int>(b[0]) == 1);
    CHECK(std::to_integer<int>(b[7]) == 8);
    CHECK((sf::detail::load<sf::big_endian, std::uint64_t>(b)) == 0x0102030405060708u);
    CHECK((sf::detail::load<sf::little_endian, std::uint64_t>(b)) == 0x0807060504030201u);
    sf::detail::store<sf::little_endian, std::uint16_t>(0xA1B2, b);
    CHECK(std::to_integer<int>(b[0]) == 0xB2);
    CHECK((sf::detail::load<sf::little_endian, std::uint16_t>(b)) == 0xA1B2);
    CHECK((sf::detail::load<sf::big_endian, std::uint8_t>(b)) == 0xB2);
}

// ---- discard mode (Netty's discardTooLongFrame, with and without failFast) ----

TEST_CASE("length_prefix discard mode: an oversized frame is reported once with its length and skipped") {
    constexpr bool keep_going = false;
    const std::string big = bytes({0, 0, 0, 20}) + std::string(20, 'B');
    const std::string wire =
        bytes({0, 0, 0, 2}) + "ok" + big + bytes({0, 0, 0, 3}) + "yes" + big + big + bytes({0, 0, 0, 0});
    const events expected{frame("ok"),
                          error(sf::errc::frame_too_large, 20),
                          frame("yes"),
                          error(sf::errc::frame_too_large, 20),
                          error(sf::errc::frame_too_large, 20),
                          frame("")};
    for (auto mode : {sf::oversized_frame::discard, sf::oversized_frame::discard_fail_fast}) {
        INFO("fail fast: " << (mode == sf::oversized_frame::discard_fail_fast));
        auto make = [mode] { return sf::length_prefix<std::uint32_t>{8, mode}; };
        CHECK(decode_all_ways(make, wire, keep_going) == expected);
        // Other layouts too: a 2-byte header before the field, a length that counts itself.
        auto netty = [mode] {
            sf::length_prefix_options o = layout(2, -4, 0, 16);
            o.on_oversized = mode;
            return sf::length_prefix<std::uint32_t>{o};
        };
        const std::string small = "HH" + bytes({0, 0, 0, 6}) + "ab";
        const std::string large = "HH" + bytes({0, 0, 0, 40}) + std::string(36, 'L');
        CHECK(decode_all_ways(netty, small + large + small, keep_going) ==
              events{frame("HH" + bytes({0, 0, 0, 6}) + "ab"), error(sf::errc::frame_too_large, 40),
                     frame("HH" + bytes({0, 0, 0, 6}) + "ab")});
    }
    // The default stays fail-and-stop: consumed 0.
    sf::length_prefix<std::uint32_t> strict{8};
    CHECK(strict.on_oversized() == sf::oversized_frame::fail);
    const sf::decode_result r = strict.decode(sf::const_buffer{big});
    CHECK(r.error == sf::errc::frame_too_large);
    CHECK(r.consumed == 0);
}

TEST_CASE("length_prefix discard mode never buffers the oversized frame; fail-fast reports at the header") {
    // A 4 GiB frame: its bytes are dropped as they come (consumed = everything buffered).
    const std::string start = bytes({0xFF, 0xFF, 0xFF, 0xFF}) + std::string(100, 'x');
    sf::length_prefix<std::uint32_t> quiet{1024, sf::oversized_frame::discard};
    sf::decode_result r = quiet.decode(sf::const_buffer{start});
    CHECK(r.needs_more());
    CHECK(r.consumed == start.size());
    CHECK(quiet.discarding());
    const std::string more(500, 'y');
    r = quiet.decode(sf::const_buffer{more});
    CHECK(r.needs_more());
    CHECK(r.consumed == more.size());
    sf::const_buffer payload;
    CHECK(quiet.decode_frame(sf::const_buffer{bytes({0, 0, 0, 1}) + "z"}, payload) ==
          0);  // not while dropping

    sf::length_prefix<std::uint32_t> fast{1024, sf::oversized_frame::discard_fail_fast};
    r = fast.decode(sf::const_buffer{start.substr(0, 4)});
    REQUIRE(r.is_error());
    CHECK(r.error == sf::errc::frame_too_large);
    CHECK(r.size == 0xFFFFFFFFu);
    CHECK(r.consumed == 4);
    CHECK(fast.discarding());
    r = fast.decode(sf::const_buffer{more});
    CHECK(r.needs_more());
    CHECK(r.consumed == more.size());
    fast.reset();  // a new stream
    CHECK_FALSE(fast.discarding());
    const std::string good = bytes({0, 0, 0, 1}) + "z";
    CHECK(fast.decode(sf::const_buffer{good}).is_frame());

    // Errors whose frame size is unknown still stop the stream.
    sf::length_prefix_options o = layout(0, -4, std::nullopt, 100);
    o.on_oversized = sf::oversized_frame::discard;
    sf::length_prefix<std::uint32_t> negative{o};
    const sf::decode_result n = negative.decode(sf::const_buffer{bytes({0, 0, 0, 1})});
    CHECK(n.error == sf::errc::negative_length);
    CHECK(n.consumed == 0);
    sf::length_prefix<std::uint64_t> huge{1024, sf::oversized_frame::discard};
    const sf::decode_result h = huge.decode(sf::const_buffer{std::string(8, '\xFF')});
    CHECK(h.error == sf::errc::frame_too_large);
    CHECK(h.consumed == 0);  // 8 + 2^64 - 1 bytes: no size to skip
}

TEST_CASE("suffixed<length_prefix> in discard mode drops the oversized frame's suffix too") {
    constexpr bool keep_going = false;
    for (auto mode : {sf::oversized_frame::discard, sf::oversized_frame::discard_fail_fast}) {
        auto make = [mode] {
            return sf::suffixed<sf::length_prefix<std::uint8_t>>{sf::length_prefix<std::uint8_t>{4, mode},
                                                                 "\r\n"};
        };
        CHECK(decode_all_ways(
                  make, bytes({2}) + "ab\r\n" + bytes({9}) + "123456789\r\n" + bytes({1}) + "c\r\n",
                  keep_going) == events{frame("ab"), error(sf::errc::frame_too_large, 9), frame("c")});
    }
}
