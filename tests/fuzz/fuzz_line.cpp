// line: '\n' with an optional '\r', small max_frame values, resynchronisation after long lines.
// Input: [max_frame][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/delimiter.hpp>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t options = in.byte();
    const std::size_t max_frame = options & 0x7F;
    const auto ending = (options & 0x80) ? sf::line_ending::crlf : sf::line_ending::lf;
    const std::uint64_t seed = in.byte();
    const bool final_unterminated = (seed & 0x80) != 0;  // decode_eof delivers a last line
    fuzz::differential(
        [&] {
            return sf::line{max_frame, ending}.with_final_unterminated(final_unterminated);
        },
        in.data, in.size, seed);
    sf::line codec{max_frame, ending};
    fuzz::round_trip(codec, in.data, in.size);
    return 0;
}
