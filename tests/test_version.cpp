#include <sockframe/version.hpp>

#include <sockframe/config.hpp>

#include <doctest/doctest.h>

#include <string>

namespace sockframe {
inline namespace SOCKFRAME_ABI_NAMESPACE {
inline int version_probe() { return SOCKFRAME_VERSION; }
}  // namespace SOCKFRAME_ABI_NAMESPACE
}  // namespace sockframe

TEST_CASE("version macros agree with each other and name the inline namespace") {
    CHECK(SOCKFRAME_VERSION ==
          SOCKFRAME_VERSION_MAJOR * 10000 + SOCKFRAME_VERSION_MINOR * 100 + SOCKFRAME_VERSION_PATCH);
    CHECK(sockframe::version_probe() == SOCKFRAME_VERSION);
#define SOCKFRAME_TEST_STR_(x) #x
#define SOCKFRAME_TEST_STR(x) SOCKFRAME_TEST_STR_(x)
    std::string ns = SOCKFRAME_TEST_STR(SOCKFRAME_ABI_NAMESPACE);
    // built with += (g++ 12 at -O3 -std=c++20 warns -Wrestrict inside `"v" + std::string`)
    std::string expected = "v";
    expected += std::to_string(SOCKFRAME_VERSION_MAJOR);
    expected += '_';
    expected += std::to_string(SOCKFRAME_VERSION_MINOR);
    expected += '_';
    expected += std::to_string(SOCKFRAME_VERSION_PATCH);
    CHECK(ns == expected);
}
