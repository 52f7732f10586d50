// SPDX-License-Identifier: MIT
#pragma once
/// Every tunable of sockframe (define before including any sockframe header to change it), the
/// versioned inline namespace, and platform detection.
///
/// The tunables that change what a type holds or how an inline function behaves are part of the
/// inline namespace's name when they differ from their defaults: `sockframe::v0_1_0` with the
/// defaults, e.g. `sockframe::v0_1_0_c1048576_65536_1024_8192` otherwise. Two translation units
/// built with different values then use different types, and passing a sockframe object from
/// one to the other fails to link instead of silently breaking the one-definition rule. The
/// same holds for two sockframe versions in one program; in one translation unit they are a
/// compile error (version.hpp). Define these as plain integer literals (`1048576`, `0x100000`,
/// `1048576u`): they become part of a name.

#include <sockframe/version.hpp>

/// Default maximum payload size of every decoder, in bytes (16 MiB).
#ifndef SOCKFRAME_DEFAULT_MAX_FRAME
#define SOCKFRAME_DEFAULT_MAX_FRAME 16777216u
#endif

/// Initial capacity of a framed endpoint's receive buffer, in bytes (64 KiB).
#ifndef SOCKFRAME_RECEIVE_BUFFER_INITIAL
#define SOCKFRAME_RECEIVE_BUFFER_INITIAL 65536u
#endif

/// The most events one poller::wait returns; the others stay ready for the next wait.
#ifndef SOCKFRAME_POLLER_MAX_EVENTS
#define SOCKFRAME_POLLER_MAX_EVENTS 1024
#endif

/// The size of each of a socket streambuf's two buffers (get and put), in bytes.
#ifndef SOCKFRAME_IOSTREAM_BUFFER_SIZE
#define SOCKFRAME_IOSTREAM_BUFFER_SIZE 8192
#endif

// SOCKFRAME_POLLER_USE_POLL (defined, no value): `poller` uses poll() instead of epoll/kqueue.
// Not part of the namespace name: each backend is a distinct type (basic_poller<Backend>).

#define SOCKFRAME_ABI_CONCAT_(a, b, c) v##a##_##b##_##c
#define SOCKFRAME_ABI_CONCAT(a, b, c) SOCKFRAME_ABI_CONCAT_(a, b, c)
#define SOCKFRAME_ABI_CONFIG_(base, f, r, p, i) base##_c##f##_##r##_##p##_##i
#define SOCKFRAME_ABI_CONFIG(base, f, r, p, i) SOCKFRAME_ABI_CONFIG_(base, f, r, p, i)
/// The version part of the inline namespace's name (v0_1_0).
#define SOCKFRAME_ABI_VERSION_NAME \
    SOCKFRAME_ABI_CONCAT(SOCKFRAME_VERSION_MAJOR, SOCKFRAME_VERSION_MINOR, SOCKFRAME_VERSION_PATCH)
#if SOCKFRAME_DEFAULT_MAX_FRAME != 16777216 || SOCKFRAME_RECEIVE_BUFFER_INITIAL != 65536 || \
    SOCKFRAME_POLLER_MAX_EVENTS != 1024 || SOCKFRAME_IOSTREAM_BUFFER_SIZE != 8192
/// Whether a tunable differs from its default (the namespace's name then carries them all).
#define SOCKFRAME_CUSTOM_CONFIG 1
/// Inline namespace name, so that two versions or configurations linked in one program never mix
/// their types.
#define SOCKFRAME_ABI_NAMESPACE                                                         \
    SOCKFRAME_ABI_CONFIG(SOCKFRAME_ABI_VERSION_NAME, SOCKFRAME_DEFAULT_MAX_FRAME,       \
                         SOCKFRAME_RECEIVE_BUFFER_INITIAL, SOCKFRAME_POLLER_MAX_EVENTS, \
                         SOCKFRAME_IOSTREAM_BUFFER_SIZE)
#else
#define SOCKFRAME_ABI_NAMESPACE SOCKFRAME_ABI_VERSION_NAME
#endif

/// Opens the library's namespace (sockframe and its versioned inline namespace).
#define SOCKFRAME_NAMESPACE_BEGIN \
    namespace sockframe {         \
    inline namespace SOCKFRAME_ABI_NAMESPACE {
/// Closes what SOCKFRAME_NAMESPACE_BEGIN opened.
#define SOCKFRAME_NAMESPACE_END \
    }                           \
    }

#if defined(_WIN32)
#define SOCKFRAME_WINDOWS 1
#else
#define SOCKFRAME_POSIX 1
#endif

#if defined(__linux__)
#define SOCKFRAME_LINUX 1
#endif

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define SOCKFRAME_BSD 1
#endif

/// Asks the compiler to prove that a static object is initialised at compile time.
#if defined(__cpp_constinit) && __cpp_constinit >= 201907L
#define SOCKFRAME_CONSTINIT constinit
#elif defined(__clang__)
#define SOCKFRAME_CONSTINIT [[clang::require_constant_initialization]]
#else
#define SOCKFRAME_CONSTINIT
#endif

/// Keeps a rarely taken path out of line, so that the hot path around it stays small enough to
/// be inlined.
#if defined(__GNUC__) || defined(__clang__)
#define SOCKFRAME_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define SOCKFRAME_NOINLINE __declspec(noinline)
#else
#define SOCKFRAME_NOINLINE
#endif

/// Inlines a tiny function the compiler would otherwise call (one with a function-local static).
#if defined(__GNUC__) || defined(__clang__)
#define SOCKFRAME_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define SOCKFRAME_ALWAYS_INLINE __forceinline
#else
#define SOCKFRAME_ALWAYS_INLINE inline
#endif

// SOCKFRAME_SEPARATE_COMPILATION (defined, no value; the same in every translation unit and in
// the library): the code that can be compiled once is compiled in src/sockframe.cpp (CMake:
// sockframe::sockframe_compiled; it defines SOCKFRAME_SOURCE), and the headers only declare it.
// SOCKFRAME_HEADER_BODIES is 1 where those definitions are compiled: every translation unit when
// header-only, only that source file otherwise.
#if defined(SOCKFRAME_SEPARATE_COMPILATION) && !defined(SOCKFRAME_SOURCE)
#define SOCKFRAME_HEADER_BODIES 0
#else
#define SOCKFRAME_HEADER_BODIES 1
#endif
// SOCKFRAME_DECL begins the declaration and the definition of a function compiled once in
// separate compilation: `inline` when header-only, nothing (external linkage) otherwise.
#if defined(SOCKFRAME_SEPARATE_COMPILATION)
#define SOCKFRAME_DECL
#else
#define SOCKFRAME_DECL inline
#endif
