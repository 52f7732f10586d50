// fixed_size: frames of exactly N bytes.
// Input: [N][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/fixed_size.hpp>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::size_t n = 1 + in.byte() % 64;
    const std::uint64_t seed = in.byte();
    fuzz::differential([&] { return sf::fixed_size{n}; }, in.data, in.size, seed);
    sf::fixed_size codec{n};
    fuzz::round_trip(codec, in.data, in.size);
    return 0;
}
