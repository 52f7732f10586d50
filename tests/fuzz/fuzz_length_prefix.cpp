// length_prefix in many layouts: 1, 2, 4 and 8-byte fields, both byte orders, header bytes before
// the field, positive and negative adjustments, strip, and small max_frame values; and each of
// the oversized_frame modes (fail, discard, discard_fail_fast).
// Input: [layout][max_frame lo][max_frame hi][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/length_prefix.hpp>

#include <optional>
#include <system_error>

namespace sf = sockframe;

namespace {

template <typename Field, typename Endian>
void run(const sf::length_prefix_options& options, fuzz::input in, std::uint64_t seed) {
    std::optional<sf::length_prefix<Field, Endian>> probe;
    try {
        probe.emplace(options);
    } catch (const std::system_error&) {
        return;  // an impossible layout is rejected up front: nothing to decode
    }
    fuzz::differential([&] { return *probe; }, in.data, in.size, seed);
    if (options.offset == 0 && options.adjustment == 0 && !options.strip)
        fuzz::round_trip(*probe, in.data, in.size);
}

template <typename Field>
void by_endian(bool little, const sf::length_prefix_options& options, fuzz::input in, std::uint64_t seed) {
    if (little)
        run<Field, sf::little_endian>(options, in, seed);
    else
        run<Field, sf::big_endian>(options, in, seed);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t layout = in.byte();
    const std::uint16_t max = in.u16();
    const std::uint64_t seed = in.byte();

    sf::length_prefix_options o;
    o.max_frame = static_cast<std::size_t>(max % 1024);
    switch (layout >> 6) {  // what a length above max_frame does
        case 1: o.on_oversized = sf::oversized_frame::discard; break;
        case 2: o.on_oversized = sf::oversized_frame::discard_fail_fast; break;
        default: break;  // fail
    }
    switch ((layout >> 3) & 7) {
        case 0: break;                     // payload length only
        case 1: o.offset = 2; break;       // header before the field
        case 2: o.adjustment = -4; break;  // the length counts itself
        case 3: o.adjustment = 3; break;   // a trailer after the payload
        case 4:
            o.offset = 1;
            o.strip = 0;
            break;  // deliver the whole frame
        case 5:
            o.offset = 3;
            o.adjustment = -2;
            o.strip = 1;
            break;                                // Netty-style mixed layout
        case 6: o.max_frame.reset(); break;       // default max_frame (16 MiB)
        case 7: o.adjustment = INT64_MIN; break;  // extreme adjustment
    }
    const bool little = (layout & 4) != 0;
    switch (layout & 3) {
        case 0: by_endian<std::uint8_t>(little, o, in, seed); break;
        case 1: by_endian<std::uint16_t>(little, o, in, seed); break;
        case 2: by_endian<std::uint32_t>(little, o, in, seed); break;
        case 3: by_endian<std::uint64_t>(little, o, in, seed); break;
    }
    return 0;
}
