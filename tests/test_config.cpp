// config.hpp: the tunables, and the inline namespace that keeps different configurations apart.
#include <sockframe/config.hpp>

#include <sockframe/iostream.hpp>
#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <typeinfo>

// tests/config/custom_tu.cpp, built with SOCKFRAME_DEFAULT_MAX_FRAME 1048576u and
// SOCKFRAME_IOSTREAM_BUFFER_SIZE 512.
std::string custom_tu_namespace();
std::size_t custom_tu_max_frame();
std::size_t custom_tu_iostream_buffer();
const std::type_info& custom_tu_stream_type();

#define SOCKFRAME_TEST_STR_(x) #x
#define SOCKFRAME_TEST_STR(x) SOCKFRAME_TEST_STR_(x)

TEST_CASE("the defaults, and the plain version name for the inline namespace") {
    CHECK(SOCKFRAME_DEFAULT_MAX_FRAME == 16u * 1024u * 1024u);
    CHECK(SOCKFRAME_RECEIVE_BUFFER_INITIAL == 64u * 1024u);
    CHECK(SOCKFRAME_POLLER_MAX_EVENTS == 1024);
    CHECK(SOCKFRAME_IOSTREAM_BUFFER_SIZE == 8192);
#if defined(SOCKFRAME_CUSTOM_CONFIG)
    FAIL("the default configuration must not be marked custom");
#endif
    CHECK(std::string(SOCKFRAME_TEST_STR(SOCKFRAME_ABI_NAMESPACE)) == "v0_1_0");
    // a whole frame: the default payload limit plus the largest header
    CHECK(sockframe::varint_prefix{}.max_frame_bytes() >= SOCKFRAME_DEFAULT_MAX_FRAME);
    CHECK(sockframe::varint_prefix{}.max_frame_bytes() < SOCKFRAME_DEFAULT_MAX_FRAME + 64);
}

TEST_CASE("two translation units with different tunables use different types, in one program") {
    CHECK(custom_tu_namespace() == "v0_1_0_c1048576u_65536u_1024_512");
    CHECK(custom_tu_max_frame() >= 1048576u);  // payload limit plus the largest header
    CHECK(custom_tu_max_frame() < 1048576u + 64);
    CHECK(custom_tu_iostream_buffer() == 512);
    CHECK(sockframe::socket_streambuf::default_buffer_size == 8192);
    CHECK(sockframe::varint_prefix{}.max_frame_bytes() >= 16777216u);
    CHECK(custom_tu_stream_type() != typeid(sockframe::tcp_stream));
}
