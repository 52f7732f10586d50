// SPDX-License-Identifier: MIT
#pragma once
/// The compiled part of sockframe in separate compilation: include this in exactly one source
/// file of a program built with SOCKFRAME_SEPARATE_COMPILATION defined everywhere (CMake's
/// sockframe::sockframe_compiled compiles src/sockframe.cpp, which does just that). With the
/// single header, define SOCKFRAME_SOURCE before including it in that one file instead.

#if !defined(SOCKFRAME_SEPARATE_COMPILATION)
#error "sockframe/impl/src.hpp is for SOCKFRAME_SEPARATE_COMPILATION builds only"
#endif
#if defined(SOCKFRAME_VERSION_MAJOR)
#error "sockframe/impl/src.hpp must come before every other sockframe header in its source file"
#endif
#define SOCKFRAME_SOURCE 1

#include <sockframe/sockframe.hpp>
