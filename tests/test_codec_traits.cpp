// The compile-time codec contract: codec_traits for every built-in codec, codec_check, the C++20
// concept, and the detail helpers that work whether or not a codec has an optional member.
#include <sockframe/any_codec.hpp>
#include <sockframe/codec_traits.hpp>
#include <sockframe/compose.hpp>
#include <sockframe/delimiter.hpp>
#include <sockframe/fixed_size.hpp>
#include <sockframe/length_prefix.hpp>
#include <sockframe/netstring.hpp>

#include "support/codec_test.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <type_traits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sf = sockframe;

namespace {

// Required members only.
struct minimal_codec {
    std::size_t max_frame() const { return 100; }
    std::size_t max_frame_bytes() const { return 101; }
    sf::decode_result decode(sf::const_buffer) { return sf::decode_result::need_more(); }
    void reset() {}
    std::error_code encode(sf::const_buffer payload, sf::frame_parts& out) const {
        out.reset(payload);
        return {};
    }
};

// Every optional member, declared as accepted (decode_eof const).
struct full_codec : minimal_codec {
    std::error_code encode(sf::const_buffer payload, sf::frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    std::error_code encode(sf::frame_parts& out) const {
        return out.prepend_copy("#") ? std::error_code{} : sf::detail::no_room();
    }
    static constexpr std::size_t max_prefix_size = 1;
    std::size_t encode_prefix(std::size_t, std::byte* out) const noexcept {
        *out = std::byte{'#'};
        return 1;
    }
    static constexpr std::size_t max_overhead = 2;
    std::size_t encode_into(sf::const_buffer payload, std::byte* out) const noexcept {
        out[0] = std::byte{'#'};
        sf::detail::copy_bytes(out + 1, payload.data(), payload.size());
        return payload.size() + 1;
    }
    std::size_t decode_frame(sf::const_buffer, sf::const_buffer&) const noexcept { return 0; }
    sf::decode_result decode_eof(sf::const_buffer input) const {
        return sf::decode_result::frame(input, input.size());
    }
};

// Mis-declared optional members: never taken as the optional member (and codec_check rejects
// them, see tests/compile_fail/).
struct wrong_decode_frame : minimal_codec {
    std::size_t decode_frame(sf::const_buffer, sf::const_buffer&) noexcept { return 0; }  // not const
};
struct wrong_encode_prefix : minimal_codec {
    static constexpr std::size_t max_prefix_size = 4;
    int encode_prefix(std::size_t, std::byte*) const noexcept { return 0; }  // returns int
};
struct wrong_max_overhead : minimal_codec {
    static constexpr int max_overhead = 4;  // not std::size_t
    std::size_t encode_into(sf::const_buffer, std::byte*) const noexcept { return 0; }
};
struct wrong_decode_eof : minimal_codec {
    void decode_eof(sf::const_buffer) {}
};
struct final_codec final : minimal_codec {
    std::size_t decode_frame(sf::const_buffer, sf::const_buffer&) const noexcept { return 0; }
};

struct missing_reset {
    std::size_t max_frame() const { return 1; }
    std::size_t max_frame_bytes() const { return 1; }
    sf::decode_result decode(sf::const_buffer) { return {}; }
    std::error_code encode(sf::const_buffer, sf::frame_parts&) const { return {}; }
};

template <typename C>
constexpr bool checked_ok = sf::codec_check<C>::ok;

}  // namespace

// Every built-in codec passes the contract.
static_assert(checked_ok<sf::length_prefix<>>);
static_assert(checked_ok<sf::length_prefix<std::uint8_t, sf::little_endian>>);
static_assert(checked_ok<sf::varint_prefix>);
static_assert(checked_ok<sf::delimiter>);
static_assert(checked_ok<sf::line>);
static_assert(checked_ok<sf::fixed_size>);
static_assert(checked_ok<sf::decimal_prefix>);
static_assert(checked_ok<sf::netstring>);
static_assert(checked_ok<sf::checked<sf::length_prefix<>>>);
static_assert(checked_ok<sf::nested<sf::length_prefix<>, sf::varint_prefix>>);
static_assert(checked_ok<sf::suffixed<sf::line>>);
static_assert(checked_ok<sf::any_codec>);
static_assert(checked_ok<minimal_codec>);
static_assert(checked_ok<full_codec>);
static_assert(checked_ok<final_codec>);

static_assert(sf::codec_traits<minimal_codec>::is_codec);
static_assert(!sf::codec_traits<missing_reset>::is_codec);
static_assert(!sf::codec_traits<int>::is_codec);

#if defined(__cpp_concepts) && __cpp_concepts >= 201907L
static_assert(sf::codec<sf::length_prefix<>>);
static_assert(sf::codec<sf::any_codec>);
static_assert(sf::codec<full_codec>);
static_assert(!sf::codec<missing_reset>);
static_assert(!sf::codec<wrong_decode_frame>);
static_assert(!sf::codec<wrong_encode_prefix>);
static_assert(!sf::codec<wrong_max_overhead>);
static_assert(!sf::codec<wrong_decode_eof>);
#endif

// The optional members of the plain codecs.
using lp_traits = sf::codec_traits<sf::length_prefix<>>;
static_assert(lp_traits::has_decode_frame && lp_traits::has_encode_prefix && lp_traits::has_encode_parts);
static_assert(lp_traits::max_prefix_size == 4 && lp_traits::max_overhead_v == 4);
static_assert(sf::codec_traits<sf::length_prefix<std::uint64_t>>::max_prefix_size == 8);
static_assert(!sf::codec_traits<sf::varint_prefix>::has_decode_frame);
static_assert(sf::codec_traits<sf::varint_prefix>::has_encode_parts);
static_assert(sf::codec_traits<sf::fixed_size>::has_decode_frame);
static_assert(!sf::codec_traits<sf::fixed_size>::has_encode_prefix);
static_assert(sf::codec_traits<sf::delimiter>::has_encode_parts);
static_assert(!sf::codec_traits<sf::delimiter>::has_encode_prefix);
static_assert(sf::codec_traits<sf::line>::has_encode_parts);
static_assert(!sf::codec_traits<minimal_codec>::has_encode_parts);
static_assert(!sf::codec_traits<minimal_codec>::has_decode_frame);
static_assert(!sf::codec_traits<minimal_codec>::has_decode_eof);
static_assert(!sf::codec_traits<minimal_codec>::can_encode_into);
static_assert(sf::codec_traits<minimal_codec>::max_overhead_v == 0);

// Every accepted declaration is found; the kept detail names agree.
using full_traits = sf::codec_traits<full_codec>;
static_assert(full_traits::has_decode_frame && full_traits::has_encode_prefix &&
              full_traits::has_encode_parts && full_traits::has_decode_eof && full_traits::has_encode_into);
static_assert(full_traits::max_prefix_size == 1 && full_traits::max_overhead == 2 &&
              full_traits::max_overhead_v == 2);
static_assert(sf::detail::has_decode_frame_v<full_codec> && sf::detail::has_encode_prefix_v<full_codec> &&
              sf::detail::has_parts_encode_v<full_codec>);
static_assert(sf::codec_traits<const full_codec>::has_decode_frame);
static_assert(sf::codec_traits<final_codec>::has_decode_frame);

// A mis-declared member is not taken for the optional one, and is seen as declared.
static_assert(!sf::codec_traits<wrong_decode_frame>::has_decode_frame);
static_assert(sf::detail::declares_decode_frame<wrong_decode_frame>());
static_assert(!sf::detail::declares_decode_frame<minimal_codec>());
static_assert(!sf::codec_traits<wrong_encode_prefix>::has_encode_prefix);
static_assert(sf::detail::declares_encode_prefix<wrong_encode_prefix>());
static_assert(!sf::codec_traits<wrong_max_overhead>::has_encode_into);
static_assert(sf::detail::declares_max_overhead<wrong_max_overhead>());
static_assert(!sf::codec_traits<wrong_decode_eof>::has_decode_eof);
static_assert(sf::detail::declares_decode_eof<wrong_decode_eof>());
static_assert(!sf::detail::declares_decode_frame<final_codec>());  // final: seen by its signature only

TEST_CASE("detail::decode_frame is 0 without the member and the member's answer with it") {
    const std::string wire = codec_test::bytes({0, 0, 0, 2}) + "hi";
    sf::const_buffer payload;
    minimal_codec minimal;
    CHECK(sf::detail::decode_frame(minimal, sf::const_buffer{wire}, payload) == 0);
    CHECK(payload.data() == nullptr);
    sf::length_prefix<> lp;
    CHECK(sf::detail::decode_frame(lp, sf::const_buffer{wire}, payload) == 6);
    CHECK(payload.str() == "hi");
}

TEST_CASE("detail::decode_eof is truncated_stream without the member") {
    minimal_codec minimal;
    const sf::decode_result r = sf::detail::decode_eof(minimal, sf::const_buffer{"abc"});
    CHECK(r.is_error());
    CHECK(r.error == sf::errc::truncated_stream);
    CHECK(r.size == 3);
    CHECK(r.consumed == 0);
    full_codec full;
    const sf::decode_result f = sf::detail::decode_eof(full, sf::const_buffer{"abc"});
    REQUIRE(f.is_frame());
    CHECK(f.payload.str() == "abc");
}

TEST_CASE("detail::encode_into: encode_into, else encode_prefix and a copy, else 0") {
    std::vector<std::byte> out(64);
    CHECK(sf::detail::encode_into(minimal_codec{}, sf::const_buffer{"abc"}, out.data()) == 0);
    full_codec full;
    REQUIRE(sf::detail::encode_into(full, sf::const_buffer{"abc"}, out.data()) == 4);
    CHECK(sf::const_buffer(out.data(), 4).str() == "#abc");
    sf::length_prefix<std::uint16_t> lp;
    REQUIRE(sf::detail::encode_into(lp, sf::const_buffer{"abc"}, out.data()) == 5);
    CHECK(sf::const_buffer(out.data(), 5).str() == codec_test::encode(lp, "abc"));
    sf::length_prefix<std::uint16_t> small{2};
    CHECK(sf::detail::encode_into(small, sf::const_buffer{"abc"}, out.data()) == 0);  // encode() reports
}

// ---- composition and type erasure forward every capability the shape allows ----

using checked_lp = sf::checked<sf::length_prefix<>>;
static_assert(sf::codec_traits<checked_lp>::has_decode_frame);
static_assert(sf::codec_traits<checked_lp>::has_encode_into);
static_assert(sf::codec_traits<checked_lp>::max_overhead == 8);
static_assert(!sf::codec_traits<checked_lp>::has_encode_prefix);  // a trailer: not header + payload
static_assert(!sf::codec_traits<sf::checked<sf::varint_prefix>>::has_decode_frame);
static_assert(sf::codec_traits<sf::checked<sf::varint_prefix>>::has_encode_into);  // varint has encode_prefix
static_assert(!sf::codec_traits<sf::checked<sf::line>>::has_encode_into);  // a trailer inside a trailer
static_assert(sf::codec_traits<sf::checked<full_codec>>::has_decode_eof);
using nested_lp = sf::nested<sf::length_prefix<std::uint16_t>, sf::length_prefix<std::uint8_t>>;
static_assert(sf::codec_traits<nested_lp>::has_decode_frame &&
              sf::codec_traits<nested_lp>::has_encode_prefix);
static_assert(sf::codec_traits<nested_lp>::max_prefix_size == 3);
static_assert(!sf::codec_traits<sf::nested<sf::length_prefix<>, sf::line>>::has_decode_frame);
using suffixed_lp = sf::suffixed<sf::length_prefix<>>;
static_assert(sf::codec_traits<suffixed_lp>::has_decode_frame &&
              sf::codec_traits<suffixed_lp>::has_encode_into);
static_assert(sf::codec_traits<sf::any_codec>::has_decode_frame &&
              sf::codec_traits<sf::any_codec>::has_encode_into &&
              sf::codec_traits<sf::any_codec>::has_encode_prefix &&
              sf::codec_traits<sf::any_codec>::has_decode_eof);
static_assert(checked_ok<sf::checked<sf::line>>);
static_assert(std::is_same_v<sf::default_checksum_t<sf::line>, sf::crc32c_hex>);
static_assert(std::is_same_v<sf::default_checksum_t<sf::suffixed<sf::delimiter>>, sf::crc32c_hex>);
static_assert(std::is_same_v<sf::default_checksum_t<sf::length_prefix<>>, sf::crc32c>);

namespace {

// A stream of frames of `make()`'s codec around random payloads, with a corrupted byte or two
// now and then, so that prefixes end everywhere: inside headers, payloads, trailers.
template <typename Make>
std::string random_stream(Make make, unsigned seed) {
    std::mt19937 rng(seed);
    const auto codec = make();
    std::string wire;
    for (int i = 0; i < 12; ++i) {
        const std::string payload = codec_test::random_bytes(rng() % 40, static_cast<unsigned>(rng()));
        wire += codec_test::encode(codec, payload);
    }
    if (seed % 2 == 1) wire[rng() % wire.size()] ^= 0x20;
    return wire;
}

// encode_into writes the bytes encode() gathers, or declines exactly when encode() fails.
template <typename Codec>
void encode_into_matches_encode(const Codec& codec, unsigned seed, std::size_t max_payload) {
    std::mt19937 rng(seed);
    std::vector<std::byte> out(max_payload + sf::codec_traits<Codec>::max_overhead_v);
    for (int i = 0; i < 200; ++i) {
        const std::string payload =
            codec_test::random_bytes(rng() % (max_payload + 1), static_cast<unsigned>(rng()));
        const std::size_t n = sf::detail::encode_into(codec, sf::const_buffer{payload}, out.data());
        if (codec_test::encode_error(codec, payload)) {
            CHECK(n == 0);
            continue;
        }
        REQUIRE(n != 0);
        CHECK(sf::const_buffer(out.data(), n).str() == codec_test::encode(codec, payload));
    }
}

}  // namespace

TEST_CASE(
    "checked<length_prefix<>> and any_codec(length_prefix<>): decode_frame agrees with decode on every "
    "prefix") {
    auto make_checked = [] { return checked_lp{}; };
    auto make_any = [] { return sf::any_codec{sf::length_prefix<>{}}; };
    auto make_any_checked = [] { return sf::any_codec{checked_lp{}}; };
    auto make_nested = [] { return nested_lp{}; };
    auto make_suffixed = [] { return suffixed_lp{sf::length_prefix<>{}, "\r\n"}; };
    for (unsigned seed = 1; seed <= 6; ++seed) {
        std::size_t declined = 0;
        INFO("seed " << seed);
        const std::size_t a =
            codec_test::check_decode_frame(make_checked, random_stream(make_checked, seed), declined);
        if (seed % 2 == 0) CHECK(declined == 0);  // an intact stream: every frame takes the short cut
        CHECK(a > 0);
        CHECK(codec_test::check_decode_frame(make_any, random_stream(make_any, seed), declined) > 0);
        if (seed % 2 == 0) CHECK(declined == 0);
        codec_test::check_decode_frame(make_any_checked, random_stream(make_any_checked, seed), declined);
        if (seed % 2 == 0) CHECK(declined == 0);
        codec_test::check_decode_frame(make_nested, random_stream(make_nested, seed), declined);
        codec_test::check_decode_frame(make_suffixed, random_stream(make_suffixed, seed), declined);
        if (seed % 2 == 0) CHECK(declined == 0);
    }
}

TEST_CASE("encode_into of composed and type-erased codecs equals encode") {
    encode_into_matches_encode(checked_lp{}, 1, 300);
    encode_into_matches_encode(sf::checked<sf::length_prefix<std::uint8_t>>{}, 2, 300);  // some too large
    encode_into_matches_encode(nested_lp{}, 3, 300);
    encode_into_matches_encode(suffixed_lp{sf::length_prefix<>{}, "!"}, 4, 300);
    encode_into_matches_encode(sf::any_codec{sf::length_prefix<>{}}, 5, 300);
    encode_into_matches_encode(sf::any_codec{checked_lp{}}, 6, 300);
    encode_into_matches_encode(sf::any_codec{sf::length_prefix<std::uint8_t>{}}, 7, 300);
    // Every built-in codec writes whole frames in place.
    encode_into_matches_encode(sf::line{}, 8, 300);
    encode_into_matches_encode(sf::line{100, sf::line_ending::crlf}, 9, 120);
    encode_into_matches_encode(sf::delimiter{"\r\n", 200}, 10, 300);
    encode_into_matches_encode(sf::delimiter{std::string_view{"\0", 1}}, 11, 300);
    encode_into_matches_encode(sf::varint_prefix{250}, 12, 300);
    encode_into_matches_encode(sf::make_netstring(250), 13, 300);
    encode_into_matches_encode(sf::decimal_prefix{}, 14, 300);
    // (payloads up to 20 bytes, not 5: with a 5-byte buffer g++ 12 at -O3 warns about copies of
    // 8 and 17 bytes on paths a 3-byte frame never takes, -Warray-bounds/-Wstringop-overflow)
    encode_into_matches_encode(sf::fixed_size{3}, 15, 20);
    encode_into_matches_encode(sf::fixed_size{12}, 19, 20);
    encode_into_matches_encode(sf::suffixed<sf::line>{sf::line{}, "!"}, 16, 300);
    encode_into_matches_encode(sf::checked<sf::varint_prefix>{}, 17, 300);
    encode_into_matches_encode(sf::any_codec{sf::line{}}, 18, 300);
    // No fast path: 0, and encode() decides.
    std::vector<std::byte> out(128);
    CHECK(sf::detail::encode_into(sf::any_codec{minimal_codec{}}, sf::const_buffer{"abc"}, out.data()) == 0);
    CHECK(sf::any_codec{sf::line{}}.encode_prefix(3, out.data()) == 0);
    sf::const_buffer payload;
    CHECK(sf::any_codec{sf::line{}}.decode_frame(sf::const_buffer{"abc\n"}, payload) == 0);
    sf::any_codec erased{sf::line{}};
    const sf::decode_result eof = erased.decode_eof(sf::const_buffer{"abc"});
    CHECK(eof.error == sf::errc::truncated_stream);
    CHECK(eof.size == 3);
}

static_assert(sf::codec_traits<sf::line>::has_decode_eof && sf::codec_traits<sf::delimiter>::has_decode_eof);
static_assert(sf::codec_traits<sf::checked<sf::line>>::has_decode_eof);
static_assert(!sf::codec_traits<sf::length_prefix<>>::has_decode_eof);

TEST_CASE("nested decode_frame declines when the inner codec declines (an empty outer frame)") {
    std::size_t declined = 0;
    // {00 00}: an empty outer frame, which decode() reports as frame_size_mismatch.
    CHECK(codec_test::check_decode_frame([] { return nested_lp{}; }, codec_test::bytes({0, 0, 0, 2, 1, 'x'}),
                                         declined) == 0);
    nested_lp codec;
    sf::const_buffer payload;
    const std::string wire = codec_test::bytes({0, 0});
    CHECK(codec.decode_frame(sf::const_buffer{wire}, payload) == 0);
    CHECK(codec.decode(sf::const_buffer{wire}).error == sf::errc::frame_size_mismatch);
}

TEST_CASE("checked forwards decode_eof: a final unterminated line is verified like any other") {
    auto make = [] { return sf::checked<sf::line>{sf::line{}.with_final_unterminated()}; };
    std::string last = codec_test::encode(make(), "last");
    REQUIRE(last.back() == '\n');
    last.pop_back();  // the peer closed without the line ending
    const std::string wire = codec_test::encode(make(), "first") + last;
    CHECK(codec_test::decode_all_ways(make, wire, true, true) ==
          std::vector<codec_test::event>{codec_test::frame("first"), codec_test::frame("last")});
    std::string bad = wire;
    bad[bad.size() - 9] ^= 1;  // a byte of "last"
    CHECK(codec_test::decode_all_ways(make, bad, true, true) ==
          std::vector<codec_test::event>{codec_test::frame("first"),
                                         codec_test::error(sf::errc::checksum_mismatch, 4)});
}
