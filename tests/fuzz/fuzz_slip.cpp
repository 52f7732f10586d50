// slip: END-delimited SLIP frames; bad escapes, oversized frames, empty frames.
// Input: [max_frame][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/cobs.hpp>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t options = in.byte();
    const std::size_t max_frame = (options & 0x80) ? std::size_t{1} << 20 : options;
    const std::uint64_t seed = in.byte();
    fuzz::differential([&] { return sf::slip{max_frame}; }, in.data, in.size, seed);
    sf::slip codec{max_frame};
    fuzz::round_trip(codec, in.data, in.size);
    return 0;
}
