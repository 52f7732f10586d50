#include <sockframe/codec.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sf = sockframe;

TEST_CASE("frame_parts gathers header, payload and trailer in wire order without copying the payload") {
    std::string payload = "payload";
    sf::frame_parts parts;
    parts.reset(payload);
    CHECK(parts.segment_count() == 1);
    CHECK(parts[0].data() == reinterpret_cast<const std::byte*>(payload.data()));
    CHECK(parts.prepend_copy("H2"));
    CHECK(parts.prepend_copy("H1"));
    CHECK(parts.append_copy("T1"));
    CHECK(parts.append(sf::const_buffer("T2")));
    CHECK(parts.size() == payload.size() + 8);
    std::vector<std::byte> out(parts.size());
    parts.copy_to(out.data());
    CHECK(sf::const_buffer(out).str() == "H1H2payloadT1T2");
    CHECK(parts[2].data() == reinterpret_cast<const std::byte*>(payload.data()));
}

TEST_CASE("frame_parts refuses, rather than overflows, when segments or scratch run out") {
    sf::frame_parts parts;
    parts.reset("p");
    int prepended = 0;
    while (parts.prepend(sf::const_buffer("h")) && prepended < 100) ++prepended;
    CHECK(prepended == static_cast<int>(sf::frame_parts::max_segments / 2));
    parts.reset("p");
    std::string big(sf::frame_parts::scratch_size + 1, 'x');
    CHECK_FALSE(parts.append_copy(big));
    CHECK(parts.allocate(sf::frame_parts::scratch_size) != nullptr);
    CHECK(parts.allocate(1) == nullptr);
    CHECK(parts.prepend(sf::const_buffer{}));  // an empty view costs no segment
    CHECK(parts.segment_count() == 1);
}

TEST_CASE("decode_result factories say what happened") {
    auto more = sf::decode_result::need_more();
    CHECK(more.needs_more());
    auto frame = sf::decode_result::frame("abc", 7);
    CHECK(frame.is_frame());
    CHECK(frame.consumed == 7);
    CHECK(frame.payload.str() == "abc");
    auto error = sf::decode_result::failure(sf::errc::frame_too_large, 1u << 30, 0);
    CHECK(error.is_error());
    CHECK(error.size == (1u << 30));
    CHECK(error.error == sf::errc::frame_too_large);
}
