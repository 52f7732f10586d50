#include <sockframe/cobs.hpp>

#include <sockframe/framed.hpp>
#include <sockframe/socket.hpp>

#include "support/codec_test.hpp"
#include "support/net.hpp"

#include <string>

namespace sf = sockframe;
using codec_test::bytes;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::encode_error;
using codec_test::error;
using codec_test::frame;
using test_support::stream_pair;
using test_support::stream_pair_socket;
using events = std::vector<codec_test::event>;

namespace {
/// COBS written out by the definition (runs of up to 254 non-zero bytes, each after its length
/// + 1), independently of the codec's encoder.
std::string reference_cobs(const std::string& p) {
    std::string out, run;
    std::size_t i = 0;
    for (;;) {
        if (run.size() == 254) {  // a full run, no zero implied
            out += '\xFF';
            out += run;
            run.clear();
            if (i == p.size()) return out + std::string(1, '\0');
            continue;
        }
        if (i == p.size() || p[i] == '\0') {
            out += static_cast<char>(run.size() + 1);
            out += run;
            run.clear();
            if (i == p.size()) return out + std::string(1, '\0');
            ++i;
            continue;
        }
        run += p[i++];
    }
}
}  // namespace

TEST_CASE("cobs: the examples of the COBS paper and Wikipedia's table") {
    sf::cobs codec;
    CHECK(encode(codec, bytes({0x00})) == bytes({0x01, 0x01, 0x00}));
    CHECK(encode(codec, bytes({0x00, 0x00})) == bytes({0x01, 0x01, 0x01, 0x00}));
    CHECK(encode(codec, bytes({0x00, 0x11, 0x00})) == bytes({0x01, 0x02, 0x11, 0x01, 0x00}));
    CHECK(encode(codec, bytes({0x11, 0x22, 0x00, 0x33})) == bytes({0x03, 0x11, 0x22, 0x02, 0x33, 0x00}));
    CHECK(encode(codec, bytes({0x11, 0x22, 0x33, 0x44})) == bytes({0x05, 0x11, 0x22, 0x33, 0x44, 0x00}));
    CHECK(encode(codec, bytes({0x11, 0x00, 0x00, 0x00})) == bytes({0x02, 0x11, 0x01, 0x01, 0x01, 0x00}));
    CHECK(encode(codec, "") == bytes({0x01, 0x00}));
    std::string run254;
    for (int i = 1; i <= 254; ++i) run254 += static_cast<char>(i);
    CHECK(encode(codec, run254) == std::string(1, '\xFF') + run254 + bytes({0x00}));
    CHECK(encode(codec, std::string(1, '\0') + run254) == bytes({0x01, 0xFF}) + run254 + bytes({0x00}));
    CHECK(encode(codec, run254 + std::string(1, '\xFF')) ==
          std::string(1, '\xFF') + run254 + bytes({0x02, 0xFF, 0x00}));
    CHECK(encode(codec, run254 + std::string(1, '\0')) ==
          std::string(1, '\xFF') + run254 + bytes({0x01, 0x01, 0x00}));
    for (std::size_t n : {0u, 1u, 253u, 254u, 255u, 508u, 509u, 1000u, 70000u}) {
        const std::string p = codec_test::random_bytes(n, static_cast<unsigned>(n) + 1);
        CAPTURE(n);
        CHECK(encode(codec, p) == reference_cobs(p));
        if (n <= 1000) {  // split at every byte: quadratic, so small frames only
            CHECK(decode_all_ways([] { return sf::cobs{}; }, reference_cobs(p) + reference_cobs("ab")) ==
                  events{frame(p), frame("ab")});
        } else {
            sf::cobs decoder;
            const std::string wire = reference_cobs(p);
            auto r = decoder.decode(sf::const_buffer(wire));
            REQUIRE(r.is_frame());
            CHECK(r.consumed == wire.size());
            CHECK(r.payload.str() == p);
        }
    }
}

TEST_CASE("cobs: empty frames skipped; bad frames skipped up to their zero") {
    auto make = [] { return sf::cobs{}; };
    CHECK(decode_all_ways(make, bytes({0x00, 0x00, 0x02, 0x41, 0x00})) == events{frame("A")});
    // a run cut short by a zero: malformed at the zero, then decoding goes on
    CHECK(decode_all_ways(make, bytes({0x05, 0x41, 0x00, 0x02, 0x42, 0x00}), false) ==
          events{error(sf::errc::malformed_frame, 2), frame("B")});
    auto small = [] { return sf::cobs{4}; };
    CHECK(decode_all_ways(small, bytes({0x05, 1, 2, 3, 4, 0x00})) == events{frame(bytes({1, 2, 3, 4}))});
    CHECK(decode_all_ways(small, bytes({0x06, 1, 2, 3, 4, 5, 0x00, 0x02, 0x43, 0x00}), false) ==
          events{error(sf::errc::frame_too_large, 5), frame("C")});
    CHECK(decode_all_ways(small, bytes({0x02, 1, 0x02, 2, 0x02, 3, 0x02, 4, 0x02, 5, 0x00, 0x02, 0x44, 0x00}),
                          false) == events{error(sf::errc::frame_too_large, 5), frame("D")});
    CHECK(encode_error(sf::cobs{4}, "12345") == sf::errc::payload_too_large);
    // end of stream inside a frame
    auto r = decode_all_ways(make, bytes({0x03, 0x41}), true, true);
    CHECK(r == events{error(sf::errc::truncated_stream, 2)});
}

TEST_CASE("slip: RFC 1055 escapes; empty frames skipped; bad escapes skipped") {
    sf::slip codec;
    CHECK(encode_error(codec, "") == sf::errc::invalid_argument);
    CHECK(encode(codec, bytes({0x01, 0xC0, 0x02, 0xDB, 0x03})) ==
          bytes({0xC0, 0x01, 0xDB, 0xDC, 0x02, 0xDB, 0xDD, 0x03, 0xC0}));
    auto make = [] { return sf::slip{}; };
    CHECK(decode_all_ways(make, bytes({0xC0, 0x01, 0xDB, 0xDC, 0x02, 0xDB, 0xDD, 0x03, 0xC0, 0x41, 0xC0})) ==
          events{frame(bytes({0x01, 0xC0, 0x02, 0xDB, 0x03})), frame("A")});
    CHECK(decode_all_ways(make, bytes({0x41, 0xDB, 0x41, 0x42, 0xC0, 0x43, 0xC0}), false) ==
          events{error(sf::errc::malformed_frame, 2), frame("C")});
    CHECK(decode_all_ways(make, bytes({0x41, 0xDB, 0xC0, 0x43, 0xC0}), false) ==
          events{error(sf::errc::malformed_frame, 2), frame("C")});
    auto small = [] { return sf::slip{3}; };
    CHECK(decode_all_ways(small, bytes({0x41, 0x42, 0x43, 0x44, 0x45, 0xC0, 0x46, 0xC0}), false) ==
          events{error(sf::errc::frame_too_large, 4), frame("F")});
    for (std::size_t n : {1u, 100u, 300u, 1000u}) {
        std::string p = codec_test::random_bytes(n, static_cast<unsigned>(n) + 7);
        CHECK(decode_all_ways(make, encode(codec, p) + encode(codec, "z")) == events{frame(p), frame("z")});
    }
}

TEST_CASE("cobs and slip over a socket, through framed (in place and through the encode buffer)") {
    auto [x, y] = stream_pair();
    sf::framed<stream_pair_socket, sf::cobs> a(std::move(x));
    sf::framed<stream_pair_socket, sf::cobs> b(std::move(y));
    const std::string big = codec_test::random_bytes(200000, 3);
    a.send(std::string("with\0zero", 9));
    a.send(big);
    CHECK(b.receive_copy<std::string>() == std::string("with\0zero", 9));
    CHECK(b.receive_copy<std::string>() == big);

    auto [u, v] = stream_pair();
    sf::framed<stream_pair_socket, sf::slip> c(std::move(u));
    sf::framed<stream_pair_socket, sf::slip> d(std::move(v));
    const std::string escapes(1000, '\xC0');
    c.send(escapes);
    c.send(big);
    CHECK(d.receive_copy<std::string>() == escapes);
    CHECK(d.receive_copy<std::string>() == big);
}
