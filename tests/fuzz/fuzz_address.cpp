// Address parsing: ipv4_address / ipv6_address parse ("host" with a port, and "host:port" /
// "[host]:port") and local_address (paths, abstract names). Whatever parses must print with
// to_string() and parse back to an equal address; nothing may read past the text.
// Input: [which][port lo][port hi] text...
#include "fuzz_harness.hpp"

#include <sockframe/address.hpp>

#include <string>
#include <string_view>

namespace sf = sockframe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t which = in.byte();
    const std::uint16_t port = in.u16();
    // An exactly-sized heap copy, so ASan sees any read past the text.
    std::unique_ptr<char[]> text(new char[in.size == 0 ? 1 : in.size]);
    if (in.size != 0) std::memcpy(text.get(), in.data, in.size);
    const std::string_view view{text.get(), in.size};
    std::error_code ec;
    switch (which % 6) {
        case 0: {
            auto a = sf::ipv4_address::parse(view, port, ec);
            if (ec) break;
            FUZZ_CHECK(a.port() == port);
            auto b = sf::ipv4_address::parse(a.to_string(), ec);
            FUZZ_CHECK(!ec && a == b);
            auto c = sf::ipv4_address::parse(a.host(), port, ec);
            FUZZ_CHECK(!ec && a == c);
            break;
        }
        case 1: {
            auto a = sf::ipv4_address::parse(view, ec);
            if (ec) break;
            auto b = sf::ipv4_address::parse(a.to_string(), ec);
            FUZZ_CHECK(!ec && a == b);
            break;
        }
        case 2: {
            auto a = sf::ipv6_address::parse(view, port, ec);
            if (ec) break;
            FUZZ_CHECK(a.port() == port);
            auto b = sf::ipv6_address::parse(a.to_string(), ec);
            FUZZ_CHECK(!ec && a == b);
            auto c = sf::ipv6_address::parse(a.host(), port, ec);
            FUZZ_CHECK(!ec && a == c);
            break;
        }
        case 3: {
            auto a = sf::ipv6_address::parse(view, ec);
            if (ec) break;
            auto b = sf::ipv6_address::parse(a.to_string(), ec);
            FUZZ_CHECK(!ec && a == b);
            break;
        }
#if defined(SOCKFRAME_HAS_AF_UNIX)
        case 4: {
            auto a = sf::local_address::path(view, ec);
            if (ec) break;
            FUZZ_CHECK(!a.is_unnamed() && !a.is_abstract());
            FUZZ_CHECK(a.name() == view);
            auto b = sf::local_address::path(a.to_string(), ec);
            FUZZ_CHECK(!ec && a == b);
            break;
        }
        case 5: {
            auto a = sf::local_address::abstract(view, ec);
            if (ec) break;
            FUZZ_CHECK(a.is_abstract() && a.name() == view);
            const std::string printed = a.to_string();
            FUZZ_CHECK(!printed.empty() && printed[0] == '@');
            auto b = sf::local_address::abstract(std::string_view(printed).substr(1), ec);
            FUZZ_CHECK(!ec && a == b);
            break;
        }
#endif
        default: break;
    }
    return 0;
}
