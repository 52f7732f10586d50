// SPDX-License-Identifier: MIT
// Second translation unit of the separate-compilation test (see main.cpp).
#include <sockframe/sockframe.hpp>

static_assert(SOCKFRAME_HEADER_BODIES == 0, "built without SOCKFRAME_SEPARATE_COMPILATION");

sockframe::any_codec two_byte_prefix() { return sockframe::parse_codec_spec("len:2"); }
