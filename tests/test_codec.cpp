#include <sockframe/codec.hpp>

#include <doctest/doctest.h>

#include <ostream>
#include <string>
#include <vector>
#include <system_error>

namespace sf = sockframe;

namespace {
std::string flatten(const sf::frame_parts& parts) {
    std::string out(parts.size(), '\0');
    parts.copy_to(reinterpret_cast<std::byte*>(out.data()));
    return out;
}

// A minimal user codec without the frame_parts overload of encode.
struct plain_codec {
    std::size_t max_frame() const { return 100; }
    std::size_t max_frame_bytes() const { return 101; }
    sf::decode_result decode(sf::const_buffer) { return sf::decode_result::need_more(); }
    void reset() {}
    std::error_code encode(sf::const_buffer payload, sf::frame_parts& out) const {
        out.reset(payload);
        out.append_copy("!");
        return {};
    }
};
}  // namespace

TEST_CASE("decode_result factories") {
    const std::string data = "abc";
    const auto f = sf::decode_result::frame(sf::const_buffer{data}.subspan(1), 3);
    CHECK(f.is_frame());
    CHECK(f.payload.str() == "bc");
    CHECK(f.consumed == 3);
    const auto e = sf::decode_result::failure(make_error_code(sf::errc::frame_too_large), 99, 4);
    CHECK(e.is_error());
    CHECK(e.size == 99);
    CHECK(e.consumed == 4);
    CHECK(sf::decode_result::need_more().needs_more());
}

TEST_CASE("frame_parts: prepend, append and insert_copy keep the payload uncopied") {
    const std::string payload = "HELLOWORLD";
    sf::frame_parts parts;
    parts.reset(payload);
    CHECK(parts.segment_count() == 1);
    CHECK(parts.prepend_copy("[h]"));
    CHECK(parts.append_copy("[t]"));
    CHECK(flatten(parts) == "[h]HELLOWORLD[t]");
    SUBCASE("inside a segment") {
        CHECK(parts.insert_copy(8, "_"));
        CHECK(flatten(parts) == "[h]HELLO_WORLD[t]");
        CHECK(parts.segment_count() == 5);
        bool payload_viewed = false;
        for (const auto& s : parts)
            if (s.data() == reinterpret_cast<const std::byte*>(payload.data())) payload_viewed = true;
        CHECK(payload_viewed);
    }
    SUBCASE("at boundaries and ends") {
        CHECK(parts.insert_copy(3, "<"));
        CHECK(parts.insert_copy(0, "^"));
        CHECK(parts.insert_copy(parts.size(), "$"));
        CHECK(flatten(parts) == "^[h]<HELLOWORLD[t]$");
        CHECK_FALSE(parts.insert_copy(parts.size() + 1, "?"));
    }
    SUBCASE("running out of segments") {
        int inserted = 0;
        while (parts.insert_copy(5, "x")) ++inserted;
        CHECK(parts.segment_count() <= sf::frame_parts::max_segments);
        CHECK(inserted >= 1);
        CHECK(flatten(parts).substr(0, 5 + inserted) ==
              "[h]HE" + std::string(static_cast<std::size_t>(inserted), 'x'));
    }
}

TEST_CASE("frame_parts: scratch space is bounded") {
    sf::frame_parts parts;
    parts.reset("p");
    const std::string big(sf::frame_parts::scratch_size + 1, 'x');
    CHECK_FALSE(parts.append_copy(big));
    CHECK(parts.append_copy(std::string(sf::frame_parts::scratch_size, 'y')));
    CHECK_FALSE(parts.prepend_copy("z"));
    CHECK(parts.allocate(1) == nullptr);
}

TEST_CASE("encode_parts falls back to encode(payload, out) for one-segment frames") {
    const plain_codec codec;
    sf::frame_parts parts;
    parts.reset("abc");
    CHECK_FALSE(sf::detail::encode_parts(codec, parts));
    CHECK(flatten(parts) == "abc!");
    CHECK(sf::detail::encode_parts(codec, parts) == sf::errc::not_supported);
}

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
    // "H1" and "H2" were copied next to each other in the scratch area: one segment
    CHECK(parts[1].data() == reinterpret_cast<const std::byte*>(payload.data()));
}

TEST_CASE("frame_parts refuses, rather than overflows, when segments or scratch run out") {
    sf::frame_parts parts;
    parts.reset("p");
    int prepended = 0;
    const std::string hs(100, 'h');
    // views of separate bytes (not contiguous in memory, so never merged): the segments re-centre
    // until every slot is used
    for (std::size_t i = 0;
         i < hs.size() && parts.prepend(sf::const_buffer(hs.data() + 99 - 2 * (i % 40), 1)); ++i)
        ++prepended;
    CHECK(prepended == static_cast<int>(sf::frame_parts::max_segments - 1));
    parts.reset("p");
    std::string big(sf::frame_parts::scratch_size + 1, 'x');
    CHECK_FALSE(parts.append_copy(big));
    CHECK(parts.allocate(sf::frame_parts::scratch_size) != nullptr);
    CHECK(parts.allocate(1) == nullptr);
    CHECK(parts.prepend(sf::const_buffer{}));  // an empty view costs no segment
    CHECK(parts.segment_count() == 1);
}

TEST_CASE("frame_parts merges contiguous views and re-centres when one end is full") {
    const std::string payload = "payload";
    sf::frame_parts parts;
    parts.reset(payload);
    // Any number of small headers and trailers copied in: one segment on each side.
    for (int i = 0; i < 10; ++i) {
        CHECK(parts.prepend_copy("<"));
        CHECK(parts.append_copy(">"));
    }
    CHECK(parts.segment_count() == 3);
    CHECK(flatten(parts) == std::string(10, '<') + payload + std::string(10, '>'));
    // Separate views: appends use the free slots at the front too.
    parts.reset(payload);
    const std::string t = "0123456789";
    int appended = 0;
    for (std::size_t i = 0;
         i < t.size() && parts.append(sf::const_buffer(t.data() + (i % 2 == 0 ? i : 9 - i), 1)); ++i)
        ++appended;
    CHECK(appended == static_cast<int>(sf::frame_parts::max_segments - 1));
    CHECK(parts[0].data() == reinterpret_cast<const std::byte*>(payload.data()));
}

TEST_CASE("decode_result factories say what happened, with sizes beyond 32 bits") {
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
