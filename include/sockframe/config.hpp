#pragma once
/// Tunables (define before including sockframe to change them) and platform detection.

#include <sockframe/version.hpp>

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

/// Default maximum payload size of every decoder, in bytes (16 MiB).
#ifndef SOCKFRAME_DEFAULT_MAX_FRAME
#define SOCKFRAME_DEFAULT_MAX_FRAME (16u * 1024u * 1024u)
#endif

/// Initial capacity of a framed endpoint's receive buffer, in bytes.
#ifndef SOCKFRAME_RECEIVE_BUFFER_INITIAL
#define SOCKFRAME_RECEIVE_BUFFER_INITIAL (64u * 1024u)
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
