// text_length: decimal or hex lengths and a separator; digit floods, leading zeros, big values.
// Input: [options][max_frame][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/text_length.hpp>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t flags = in.byte();
    const std::uint8_t max = in.byte();
    sf::text_length_options o;
    o.base = (flags & 1) ? 16 : 10;
    o.separator = (flags & 2) ? ' ' : ':';
    o.leading_zeros = (flags & 4) != 0;
    o.allow_empty = (flags & 8) != 0;
    o.uppercase = (flags & 16) != 0;
    o.max_digits = (flags >> 5) & 7;
    o.max_frame = (max & 0x80) ? std::size_t{SOCKFRAME_DEFAULT_MAX_FRAME} : max;
    const std::uint64_t seed = in.byte();
    fuzz::differential([&] { return sf::text_length_prefix{o}; }, in.data, in.size, seed);
    sf::text_length_prefix codec{o};
    fuzz::round_trip(codec, in.data, in.size);
    return 0;
}
