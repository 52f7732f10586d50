#pragma once
/// sockframe version macros and the versioned inline namespace.

#define SOCKFRAME_VERSION_MAJOR 0
#define SOCKFRAME_VERSION_MINOR 1
#define SOCKFRAME_VERSION_PATCH 0
/// Single number: major * 10000 + minor * 100 + patch.
#define SOCKFRAME_VERSION \
    (SOCKFRAME_VERSION_MAJOR * 10000 + SOCKFRAME_VERSION_MINOR * 100 + SOCKFRAME_VERSION_PATCH)

#define SOCKFRAME_ABI_CONCAT_(a, b, c) v##a##_##b##_##c
#define SOCKFRAME_ABI_CONCAT(a, b, c) SOCKFRAME_ABI_CONCAT_(a, b, c)
/// Inline namespace name, so that two versions linked in one program never mix their types.
#define SOCKFRAME_ABI_NAMESPACE \
    SOCKFRAME_ABI_CONCAT(SOCKFRAME_VERSION_MAJOR, SOCKFRAME_VERSION_MINOR, SOCKFRAME_VERSION_PATCH)

#define SOCKFRAME_NAMESPACE_BEGIN \
    namespace sockframe {         \
    inline namespace SOCKFRAME_ABI_NAMESPACE {
#define SOCKFRAME_NAMESPACE_END \
    }                           \
    }
