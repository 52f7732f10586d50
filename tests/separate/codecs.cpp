// SPDX-License-Identifier: MIT
// Second translation unit of the separate-compilation test (see main.cpp).
#include <sockframe/sockframe.hpp>

#include <system_error>

static_assert(SOCKFRAME_HEADER_BODIES == 0, "built without SOCKFRAME_SEPARATE_COMPILATION");

sockframe::any_codec two_byte_prefix() { return sockframe::parse_codec_spec("len:2"); }
// An error code made in this unit: its category is the one object the compiled part defines.
std::error_code frame_too_large_here() { return sockframe::errc::frame_too_large; }
