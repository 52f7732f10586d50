// SPDX-License-Identifier: MIT
// Composed and type-erased codecs encoding as programs use them, for the warnings that only an
// optimising build gives (g++'s -Warray-bounds and -Wstringop-overflow follow sizes through
// inlined copies: a header copied from a small local array must be provably no larger than it).
// Built, never run.
#include <sockframe/sockframe.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sf = sockframe;

namespace {

template <typename Codec>
std::size_t encode_both_ways(const Codec& codec, const std::string& payload) {
    std::vector<std::byte> out(payload.size() + 64);
    std::size_t n = sf::detail::encode_into(codec, sf::const_buffer(payload), out.data());
    sf::any_codec erased{codec};
    n += erased.encode_into(sf::const_buffer(payload), out.data());
    sf::frame_parts parts;
    (void)erased.encode(sf::const_buffer(payload), parts);
    return n;
}

}  // namespace

std::size_t composed_encode(const std::string& payload) {
    std::size_t n = 0;
    n += encode_both_ways(sf::nested<sf::length_prefix<std::uint16_t>, sf::varint_prefix>{}, payload);
    n += encode_both_ways(sf::nested<sf::varint_prefix, sf::varint_prefix>{}, payload);
    n += encode_both_ways(
        sf::nested<sf::nested<sf::length_prefix<std::uint16_t>, sf::length_prefix<std::uint8_t>>,
                   sf::varint_prefix>{},
        payload);
    n += encode_both_ways(sf::length_prefix<std::uint32_t>{}, payload);
    n += encode_both_ways(sf::varint_prefix{}, payload);
    return n;
}
