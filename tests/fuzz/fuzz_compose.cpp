// Composed codecs: checked<...> (CRC-32C trailer, hex around line), nested<Outer, Inner>,
// suffixed<...> (also resynchronising after overlong or discarded frames) and any_codec, with
// small max_frame values so limits are reached; decode_eof and decode_frame via the harness.
// Input: [which][max_frame][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/any_codec.hpp>
#include <sockframe/compose.hpp>
#include <sockframe/delimiter.hpp>
#include <sockframe/fixed_size.hpp>
#include <sockframe/length_prefix.hpp>
#include <sockframe/netstring.hpp>

#include <cstdint>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

namespace {
template <typename Make>
void both(Make make, fuzz::input in, std::uint64_t seed) {
    fuzz::differential(make, in.data, in.size, seed);
    auto codec = make();
    fuzz::round_trip(codec, in.data, in.size);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t which = in.byte();
    const std::size_t max = 4 + in.byte();  // checked needs room for its trailer
    const std::uint64_t seed = in.byte();
    switch (which % 14) {
        case 0:
            both(
                [&] {
                    return sf::checked<sf::length_prefix<std::uint16_t>>{
                        sf::length_prefix<std::uint16_t>{max}};
                },
                in, seed);
            break;
        case 1: both([&] { return sf::checked<sf::varint_prefix>{sf::varint_prefix{max}}; }, in, seed); break;
        case 2:
            both([&] { return sf::checked<sf::line>{sf::line{max + 4}}; }, in, seed);
            break;  // hex: 8 bytes
        case 3:
            both(
                [&] {
                    return sf::nested<sf::length_prefix<std::uint32_t>, sf::varint_prefix>{
                        sf::length_prefix<std::uint32_t>{max}, sf::varint_prefix{max}};
                },
                in, seed);
            break;
        case 4:
            both(
                [&] {
                    return sf::nested<sf::delimiter, sf::decimal_prefix>{sf::delimiter{"$_", max},
                                                                         sf::decimal_prefix{max}};
                },
                in, seed);
            break;
        case 5:
            both(
                [&] {
                    return sf::nested<sf::length_prefix<std::uint64_t, sf::little_endian>,
                                      sf::checked<sf::fixed_size>>{
                        sf::length_prefix<std::uint64_t, sf::little_endian>{max},
                        sf::checked<sf::fixed_size>{sf::fixed_size{8}}};
                },
                in, seed);
            break;
        case 6:
            both(
                [&] {
                    return sf::suffixed<sf::length_prefix<std::uint8_t>>{
                        sf::length_prefix<std::uint8_t>{max > 255 ? 255 : max}, "\r\n"};
                },
                in, seed);
            break;
        case 7:
            both(
                [&] {
                    return sf::checked<sf::nested<sf::varint_prefix, sf::netstring>>{
                        sf::nested<sf::varint_prefix, sf::netstring>{sf::varint_prefix{max},
                                                                     sf::make_netstring(max)}};
                },
                in, seed);
            break;
        // Resynchronisation through a suffix: overlong lines and discarded length-prefixed frames.
        case 8: both([&] { return sf::suffixed<sf::line>{sf::line{max}, "!"}; }, in, seed); break;
        case 9:
            both([&] { return sf::suffixed<sf::delimiter>{sf::delimiter{"$$", max}, "#;"}; }, in, seed);
            break;
        case 10:
            both(
                [&] {
                    return sf::suffixed<sf::length_prefix<std::uint8_t>>{
                        sf::length_prefix<std::uint8_t>{
                            max > 255 ? 255 : max, (seed & 1) != 0 ? sf::oversized_frame::discard
                                                                   : sf::oversized_frame::discard_fail_fast},
                        "\r\n"};
                },
                in, seed);
            break;
        // decode_eof forwarded through checked; the hex checksum of checked<line>.
        case 11:
            both([&] { return sf::checked<sf::line>{sf::line{max + 4}.with_final_unterminated()}; }, in,
                 seed);
            break;
        // Type erasure: every optional member through any_codec.
        case 12:
            both(
                [&] {
                    return sf::any_codec{
                        sf::checked<sf::length_prefix<std::uint16_t>>{sf::length_prefix<std::uint16_t>{max}}};
                },
                in, seed);
            break;
        case 13:
            both(
                [&] {
                    return sf::nested<sf::length_prefix<std::uint16_t>, sf::length_prefix<std::uint8_t>>{
                        sf::length_prefix<std::uint16_t>{max, sf::oversized_frame::discard},
                        sf::length_prefix<std::uint8_t>{max > 255 ? 255 : max}};
                },
                in, seed);
            break;
    }
    return 0;
}
