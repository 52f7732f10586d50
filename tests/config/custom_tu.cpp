// A translation unit built with other tunables than the rest of its test program: its sockframe
// types live in another inline namespace, so the two never mix (see test_config.cpp).
#define SOCKFRAME_DEFAULT_MAX_FRAME 1048576u
#define SOCKFRAME_IOSTREAM_BUFFER_SIZE 512
#include <sockframe/iostream.hpp>
#include <sockframe/sockframe.hpp>

#include <cstddef>
#include <string>
#include <typeinfo>

#define SOCKFRAME_CUSTOM_TU_STR_(x) #x
#define SOCKFRAME_CUSTOM_TU_STR(x) SOCKFRAME_CUSTOM_TU_STR_(x)

std::string custom_tu_namespace() { return SOCKFRAME_CUSTOM_TU_STR(SOCKFRAME_ABI_NAMESPACE); }
std::size_t custom_tu_max_frame() { return sockframe::varint_prefix{}.max_frame_bytes(); }
std::size_t custom_tu_iostream_buffer() { return sockframe::socket_streambuf::default_buffer_size; }
const std::type_info& custom_tu_stream_type() { return typeid(sockframe::tcp_stream); }
