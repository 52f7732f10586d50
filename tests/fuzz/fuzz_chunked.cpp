// chunked: HTTP/1.1 chunked bodies; sizes, extensions, trailers, bare CR/LF, every limit.
// Input: [limits][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/chunked.hpp>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t limits = in.byte();
    sf::chunked_options o;
    if (limits & 0x80) {
        o.max_chunk = limits & 0x3F;
        o.max_line = 3 + (limits & 0x0F);
        o.max_trailer_bytes = 2 + (limits & 0x1F);
        o.max_trailers = limits & 3;
    }
    const std::uint64_t seed = in.byte();
    fuzz::differential([&] { return sf::chunked{o}; }, in.data, in.size, seed);
    sf::chunked codec{o};
    fuzz::round_trip(codec, in.data, in.size);
    return 0;
}
