#include <sockframe/poller.hpp>

// The platform's own backend.
#if defined(_WIN32)
#define EXPECTED_BACKEND "wsapoll"
#elif defined(__linux__)
#define EXPECTED_BACKEND "epoll"
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define EXPECTED_BACKEND "kqueue"
#else
#define EXPECTED_BACKEND "poll"
#endif

#include "poller_cases.inl"
