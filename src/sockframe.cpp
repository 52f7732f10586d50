// SPDX-License-Identifier: MIT
// The compiled part of sockframe, for programs built with SOCKFRAME_SEPARATE_COMPILATION (CMake:
// sockframe::sockframe_compiled): the definitions the headers only declare in that mode.
#include <sockframe/impl/src.hpp>
