#include <sockframe/buffer.hpp>

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <type_traits>
#include <vector>

namespace sf = sockframe;

TEST_CASE("const_buffer views any contiguous range of bytes without copying") {
    std::string s = "hello";
    std::vector<unsigned char> v{1, 2, 3};
    std::array<std::byte, 2> a{std::byte{7}, std::byte{8}};
    std::string_view sv = "view";

    sf::const_buffer bs = s, bv = v, ba = a, bsv = sv, bc = "literal";
    CHECK(static_cast<const void*>(bs.data()) == static_cast<const void*>(s.data()));
    CHECK(bs.size() == 5);
    CHECK(bv.size() == 3);
    CHECK(bv[2] == std::byte{3});
    CHECK(ba.size() == 2);
    CHECK(bsv.str() == "view");
    CHECK(bc.size() == 7);  // no terminating NUL
    CHECK(bs == sf::const_buffer("hello"));
    CHECK(bs != sf::const_buffer("hellO"));
    CHECK(sf::const_buffer{} == sf::const_buffer(s.data(), 0));
}

TEST_CASE("buffers refuse element types that are not byte-sized") {
    CHECK_FALSE(std::is_constructible_v<sf::const_buffer, std::vector<int>>);
    CHECK_FALSE(std::is_constructible_v<sf::mutable_buffer, const std::string&>);
    CHECK(std::is_constructible_v<sf::mutable_buffer, std::string&>);
    CHECK_FALSE(std::is_constructible_v<sf::const_buffer, std::vector<bool>>);
}

TEST_CASE("subspan clamps instead of running past the end") {
    std::string s = "abcdef";
    sf::const_buffer b = s;
    CHECK(b.subspan(2).str() == "cdef");
    CHECK(b.subspan(2, 2).str() == "cd");
    CHECK(b.subspan(4, 100).str() == "ef");
    CHECK(b.subspan(100).empty());
    CHECK(b.first(3).str() == "abc");

    std::vector<char> storage(4, 'x');
    sf::mutable_buffer m = storage;
    m.subspan(1, 2)[0] = std::byte{'y'};
    CHECK(storage[1] == 'y');
    sf::const_buffer c = m;
    CHECK(c.size() == 4);
    CHECK(m.subspan(10).size() == 0);
}
