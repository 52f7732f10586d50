// delimiter: a delimiter of 1 to 8 bytes taken from the input (self-overlapping ones included),
// small max_frame values, resynchronisation after overlong frames.
// Input: [delimiter length][delimiter bytes...][max_frame][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/delimiter.hpp>

#include <string>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t first = in.byte();
    const std::size_t length = 1 + first % 8;
    const bool final_unterminated = (first & 0x80) != 0;  // decode_eof delivers a last frame
    std::string delim;
    for (std::size_t i = 0; i < length; ++i) delim += static_cast<char>(in.byte());
    const std::size_t max_frame = in.byte();
    const std::uint64_t seed = in.byte();
    auto make = [&] {
        return sf::delimiter{sf::const_buffer{delim}, max_frame}.with_final_unterminated(final_unterminated);
    };
    fuzz::differential(make, in.data, in.size, seed);
    auto codec = make();
    fuzz::round_trip(codec, in.data, in.size);
    return 0;
}
