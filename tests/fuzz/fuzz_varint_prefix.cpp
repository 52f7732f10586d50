// varint_prefix: LEB128 lengths, overlong and overflowing varints, small max_frame values.
// Input: [max_frame lo][max_frame hi][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/length_prefix.hpp>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint16_t max = in.u16();
    const std::uint64_t seed = in.byte();
    // max_frame 0..1023, or the default (16 MiB) when the top bit is set
    const std::size_t max_frame = (max & 0x8000) ? std::size_t{SOCKFRAME_DEFAULT_MAX_FRAME} : max % 1024u;
    sf::varint_prefix codec{max_frame};
    fuzz::differential([&] { return sf::varint_prefix{max_frame}; }, in.data, in.size, seed);
    fuzz::round_trip(codec, in.data, in.size);
    return 0;
}
