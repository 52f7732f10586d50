// SPDX-License-Identifier: MIT
#pragma once
/// sockframe version macros. The versioned inline namespace they name is made in config.hpp.

// Two different sockframe versions in one translation unit: a clear error, not a mix of both.
#if defined(SOCKFRAME_VERSION_MAJOR) && \
    (SOCKFRAME_VERSION_MAJOR != 0 || SOCKFRAME_VERSION_MINOR != 1 || SOCKFRAME_VERSION_PATCH != 0)
#error "sockframe: two different sockframe versions are included in one translation unit"
#endif

#define SOCKFRAME_VERSION_MAJOR 0
#define SOCKFRAME_VERSION_MINOR 1
#define SOCKFRAME_VERSION_PATCH 0
/// Single number: major * 10000 + minor * 100 + patch.
#define SOCKFRAME_VERSION \
    (SOCKFRAME_VERSION_MAJOR * 10000 + SOCKFRAME_VERSION_MINOR * 100 + SOCKFRAME_VERSION_PATCH)
