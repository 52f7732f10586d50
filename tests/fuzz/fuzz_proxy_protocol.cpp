// proxy_protocol: PROXY v1 lines and v2 headers; every prefix of the input must give need_more or
// the same verdict as the whole, a parsed header must re-encode and parse back to the same one.
// Input: [max_size] header bytes...
#include "fuzz_harness.hpp"

#include <sockframe/proxy_protocol.hpp>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::size_t max_size = (in.byte() & 0x80) ? sf::proxy_v2_max_size : 64;
    const sf::const_buffer all(reinterpret_cast<const std::byte*>(in.data), in.size);
    sf::proxy_header whole;
    sf::decode_result r;
    {
        fuzz::watching w;
        r = sf::parse_proxy_header(all, whole, max_size);
        FUZZ_CHECK(w.count() == 0);  // parsing never allocates
    }
    FUZZ_CHECK(r.consumed <= all.size());
    if (r.is_error()) FUZZ_CHECK(r.consumed == 0);
    // A prefix never decides otherwise than the whole: need_more, or the same outcome.
    for (std::size_t cut = 0; cut < all.size(); ++cut) {
        sf::proxy_header part;
        const auto p = sf::parse_proxy_header(all.first(cut), part, max_size);
        if (p.needs_more()) continue;
        FUZZ_CHECK(p.state == r.state);
        FUZZ_CHECK(p.consumed == r.consumed);
        FUZZ_CHECK(p.error == r.error);
        if (p.is_frame()) FUZZ_CHECK(cut >= r.consumed);
    }
    if (!r.is_frame()) return 0;
    FUZZ_CHECK(whole.size == r.consumed);
    // Re-encode in its own version and parse back: the same addresses.
    if (whole.version == 1) {
        const std::string line = sf::make_proxy_header_v1(whole);
        sf::proxy_header again;
        FUZZ_CHECK(sf::parse_proxy_header(sf::const_buffer(line), again).is_frame());
        FUZZ_CHECK(again.has_addresses() == whole.has_addresses());
        if (whole.has_addresses()) {
            FUZZ_CHECK(again.source() == whole.source());
            FUZZ_CHECK(again.destination() == whole.destination());
        }
    } else {
        const auto bytes = sf::make_proxy_header_v2(whole, whole.tlvs);
        sf::proxy_header again;
        const auto a = sf::parse_proxy_header(sf::const_buffer(bytes.data(), bytes.size()), again);
        FUZZ_CHECK(a.is_frame());
        FUZZ_CHECK(again.has_addresses() == whole.has_addresses());
        if (whole.has_addresses()) {
            FUZZ_CHECK(again.source() == whole.source());
            FUZZ_CHECK(again.destination() == whole.destination());
        }
    }
    return 0;
}
