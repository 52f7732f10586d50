// The same cases as test_poller.cpp, on the portable poll() backend (WSAPoll on Windows).
#define SOCKFRAME_POLLER_USE_POLL 1
#include <sockframe/poller.hpp>

#if defined(_WIN32)
#define EXPECTED_BACKEND "wsapoll"
#else
#define EXPECTED_BACKEND "poll"
#endif

#include "poller_cases.inl"

#include <map>

TEST_CASE("poll backend: its handle index agrees with std::map through inserts and erases") {
    sf::detail::handle_index index;
    std::map<sf::detail::native_handle_type, std::size_t> model;
    std::uint32_t state = 12345;
    auto next = [&] {
        state = state * 1103515245u + 12345u;
        return state >> 8;
    };
    for (int round = 0; round < 20000; ++round) {
        // Handles close together (as descriptors are) and far apart collide in the table.
        const auto h =
            static_cast<sf::detail::native_handle_type>(next() % 300 + (next() % 4 == 0 ? 4096 : 3));
        const bool present = model.count(h) != 0;
        if (next() % 3 != 0) {
            if (present) {
                *index.find(h) = static_cast<std::size_t>(round);
                model[h] = static_cast<std::size_t>(round);
            } else {
                index.insert(h, static_cast<std::size_t>(round));
                model[h] = static_cast<std::size_t>(round);
            }
        } else if (present) {
            index.erase(h);
            model.erase(h);
        }
        REQUIRE(index.size() == model.size());
    }
    for (sf::detail::native_handle_type h = 0; h < 5000; ++h) {
        const std::size_t* at = index.find(h);
        const auto it = model.find(h);
        REQUIRE((at != nullptr) == (it != model.end()));
        if (at != nullptr) CHECK(*at == it->second);
    }
}
