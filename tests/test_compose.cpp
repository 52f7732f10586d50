#include <sockframe/compose.hpp>

#include "support/codec_test.hpp"

#include <sockframe/delimiter.hpp>
#include <sockframe/fixed_size.hpp>
#include <sockframe/length_prefix.hpp>

#include <cstdint>
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

constexpr bool keep_going = false;

// Bit-at-a-time CRC-32C straight from the definition, to check the table-driven one.
std::uint32_t crc32c_reference(const std::string& data) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (char c : data) {
        crc ^= static_cast<std::uint8_t>(c);
        for (int k = 0; k < 8; ++k) crc = (crc & 1u) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

std::string be32(std::uint32_t v) {
    return bytes({static_cast<int>(v >> 24), static_cast<int>((v >> 16) & 0xFF),
                  static_cast<int>((v >> 8) & 0xFF), static_cast<int>(v & 0xFF)});
}

std::string le32(std::uint32_t v) {
    const std::string b = be32(v);
    return std::string(b.rbegin(), b.rend());
}

using crc_frames = sf::checked<sf::length_prefix<std::uint32_t>>;

}  // namespace

TEST_CASE("crc32c matches the published check values") {
    CHECK(sf::crc32c::compute("123456789") == 0xE3069283u);
    CHECK(sf::crc32c::compute("") == 0u);
    // RFC 3720 (iSCSI) appendix B.4
    CHECK(sf::crc32c::compute(std::string(32, '\0')) == 0x8A9136AAu);
    CHECK(sf::crc32c::compute(std::string(32, '\xFF')) == 0x62A8AB43u);
    std::string up, down;
    for (int i = 0; i < 32; ++i) {
        up += static_cast<char>(i);
        down += static_cast<char>(31 - i);
    }
    CHECK(sf::crc32c::compute(up) == 0x46DD794Eu);
    CHECK(sf::crc32c::compute(down) == 0x113FDB5Cu);
}

TEST_CASE("crc32c agrees with a bitwise reference at every length, offset and split") {
    const std::string data = codec_test::random_bytes(300, 99);
    for (std::size_t offset = 0; offset < 9; ++offset) {
        for (std::size_t n = 0; n + offset <= 140; ++n) {
            const std::string piece = data.substr(offset, n);
            const std::uint32_t expected = crc32c_reference(piece);
            REQUIRE(sf::crc32c::compute(piece) == expected);
            const std::size_t half = n / 3;
            const sf::const_buffer all{piece};
            REQUIRE(sf::crc32c::update(sf::crc32c::update(0, all.first(half)), all.subspan(half)) ==
                    expected);
        }
    }
}

TEST_CASE("checked<length_prefix>: the length counts message + CRC-32C trailer") {
    const crc_frames codec;
    CHECK(codec.max_frame() == SOCKFRAME_DEFAULT_MAX_FRAME - 4);
    CHECK(codec.max_frame_bytes() == SOCKFRAME_DEFAULT_MAX_FRAME + 4);
    const std::string hello = "hello";
    const std::string wire = bytes({0, 0, 0, 9}) + hello + be32(crc32c_reference(hello));
    CHECK(encode(codec, hello) == wire);
    CHECK(encode(codec, "") == bytes({0, 0, 0, 4, 0, 0, 0, 0}));
    CHECK(codec_test::payload_not_copied(codec, hello));
    const std::string second = codec_test::random_bytes(200, 5);
    CHECK(decode_all_ways([] { return crc_frames{}; }, wire + encode(codec, second) + encode(codec, "")) ==
          events{frame(hello), frame(second), frame("")});
}

TEST_CASE("checked: a corrupt frame is checksum_mismatch and skipped; the stream stays in sync") {
    const crc_frames codec;
    std::string bad = encode(codec, "payload");
    bad[6] ^= 0x20;
    CHECK(decode_all_ways([] { return crc_frames{}; }, bad + encode(codec, "next"), keep_going) ==
          events{error(sf::errc::checksum_mismatch, 7), frame("next")});
    std::string bad_crc = encode(codec, "payload");
    bad_crc.back() ^= 1;
    CHECK(decode_all_ways([] { return crc_frames{}; }, bad_crc) ==
          events{error(sf::errc::checksum_mismatch, 7)});
    // A frame too short to hold the trailer.
    CHECK(decode_all_ways([] { return crc_frames{}; }, bytes({0, 0, 0, 3, 1, 2, 3}) + encode(codec, "ok"),
                          keep_going) == events{error(sf::errc::malformed_frame, 3), frame("ok")});
    // The inner codec's errors pass through (consumed 0: the reader stops there).
    CHECK(decode_all_ways([] { return crc_frames{sf::length_prefix<std::uint32_t>{100}}; },
                          bytes({0, 0, 1, 0})) == events{error(sf::errc::frame_too_large, 256)});
}

TEST_CASE("checked: limits and other framings") {
    const crc_frames small{sf::length_prefix<std::uint32_t>{10}};
    CHECK(small.max_frame() == 6);
    CHECK(encode_error(small, "123456") == std::error_code{});
    CHECK(encode_error(small, "1234567") == sf::errc::payload_too_large);
    bool invalid = false;
    try {
        sf::checked<sf::fixed_size> tiny{sf::fixed_size{3}};
    } catch (const std::system_error& e) {
        invalid = e.code() == sf::errc::invalid_argument;
    }
    CHECK(invalid);

    using fixed_crc = sf::checked<sf::fixed_size>;
    const fixed_crc fixed{sf::fixed_size{8}};
    CHECK(fixed.max_frame() == 4);
    CHECK(encode(fixed, "abcd") == "abcd" + be32(crc32c_reference("abcd")));
    CHECK(encode_error(fixed, "abc") == sf::errc::frame_size_mismatch);
    CHECK(decode_all_ways([&] { return fixed; }, encode(fixed, "abcd") + encode(fixed, "wxyz")) ==
          events{frame("abcd"), frame("wxyz")});

    using le_crc =
        sf::checked<sf::length_prefix<std::uint16_t, sf::little_endian>, sf::basic_crc32c<sf::little_endian>>;
    const le_crc le;
    CHECK(encode(le, "abc") == bytes({7, 0}) + "abc" + le32(crc32c_reference("abc")));
    CHECK(decode_all_ways([] { return le_crc{}; }, encode(le, "abc")) == events{frame("abc")});
}

TEST_CASE("nested: a line inside each length-prefixed frame") {
    using codec = sf::nested<sf::length_prefix<std::uint32_t>, sf::line>;
    const codec c;
    CHECK(encode(c, "abc") == bytes({0, 0, 0, 4}) + "abc\n");
    CHECK(encode_error(c, "a\nb") == sf::errc::invalid_argument);
    CHECK(decode_all_ways([] { return codec{}; }, encode(c, "abc") + bytes({0, 0, 0, 5}) + "xyz\r\n") ==
          events{frame("abc"), frame("xyz")});
    SUBCASE("the inner codec must consume exactly the outer payload") {
        // leftover after the line
        CHECK(decode_all_ways([] { return codec{}; }, bytes({0, 0, 0, 5}) + "ab\ncd" + encode(c, "ok"),
                              keep_going) == events{error(sf::errc::frame_size_mismatch, 5), frame("ok")});
        // the line never ends inside the frame
        CHECK(decode_all_ways([] { return codec{}; }, bytes({0, 0, 0, 2}) + "ab" + encode(c, "ok"),
                              keep_going) == events{error(sf::errc::frame_size_mismatch, 2), frame("ok")});
    }
    SUBCASE("inner errors keep their code and skip the outer frame") {
        auto make = [] { return codec{sf::length_prefix<std::uint32_t>{}, sf::line{2}}; };
        CHECK(decode_all_ways(make, bytes({0, 0, 0, 5}) + "abcd\n" + encode(c, "ok"), keep_going) ==
              events{error(sf::errc::frame_too_large, 3), frame("ok")});
    }
    CHECK(c.max_frame() == SOCKFRAME_DEFAULT_MAX_FRAME);
    CHECK(codec{sf::length_prefix<std::uint32_t>{}, sf::line{10}}.max_frame() == 10);
    CHECK(c.max_frame_bytes() == SOCKFRAME_DEFAULT_MAX_FRAME + 4);
}

TEST_CASE("nested: protobuf-delimited message inside a checked length frame, three layers deep") {
    using codec = sf::nested<sf::checked<sf::length_prefix<std::uint16_t>>, sf::varint_prefix>;
    const codec c;
    const std::string message(300, 'm');
    const std::string inner = bytes({0xAC, 0x02}) + message;
    const std::string wire =
        bytes({0x01, 0x32}) + inner + be32(crc32c_reference(inner));  // 0x132 = 2 + 300 + 4
    CHECK(encode(c, message) == wire);
    CHECK(codec_test::payload_not_copied(c, message));
    CHECK(decode_all_ways([] { return codec{}; }, wire + encode(c, "") + encode(c, "x")) ==
          events{frame(message), frame(""), frame("x")});
}

TEST_CASE("suffixed: a fixed trailer after each frame, outside its length") {
    using codec = sf::suffixed<sf::length_prefix<std::uint8_t>>;
    auto make = [] { return codec{sf::length_prefix<std::uint8_t>{}, "\r\n"}; };
    CHECK(make().max_frame_bytes() == 1 + 255 + 2);
    CHECK(make().suffix() == sf::const_buffer{"\r\n"});
    CHECK(encode(make(), "abc") == bytes({3}) + "abc\r\n");
    CHECK(decode_all_ways(make, bytes({3}) + "abc\r\n" + bytes({0}) + "\r\n" + bytes({1}) + "x\r") ==
          events{frame("abc"), frame("")});
    // A wrong byte is reported as soon as it arrives, at its position, with consumed 0.
    CHECK(decode_all_ways(make, bytes({3}) + "abc\rX") == events{error(sf::errc::malformed_frame, 5)});
    CHECK(decode_all_ways(make, bytes({3}) + "abcd\r\n") == events{error(sf::errc::malformed_frame, 4)});
    auto stateless = make();  // no error state: poisoning is the reader's
    const auto bad = stateless.decode(bytes({1}) + "ab");
    CHECK(bad.is_error());
    CHECK(bad.consumed == 0);
    CHECK(stateless.decode(bytes({1}) + "a\r\n").is_frame());
    bool invalid = false;
    try {
        codec bad{sf::length_prefix<std::uint8_t>{}, ""};
    } catch (const std::system_error& e) {
        invalid = e.code() == sf::errc::invalid_argument;
    }
    CHECK(invalid);
}

TEST_CASE(
    "CRC-32C: the hardware path (where the processor has one) equals the table, at every length and "
    "alignment") {
    CHECK(sf::crc32c::compute("123456789") == 0xE3069283u);  // the check value of the CRC catalogue
    std::mt19937 rng(5);
    std::vector<std::byte> data(300);
    for (auto& b : data) b = static_cast<std::byte>(rng() & 0xFF);
    for (std::size_t offset = 0; offset < 8; ++offset) {
        for (std::size_t n = 0; n + offset <= data.size(); n += 1 + n / 8) {
            CAPTURE(offset);
            CAPTURE(n);
            const std::uint32_t start = n % 3 == 0 ? 0u : 0x12345678u;
            CHECK(sf::detail::crc32c_update(start, data.data() + offset, n) ==
                  sf::detail::crc32c_software(start, data.data() + offset, n));
        }
    }
}
