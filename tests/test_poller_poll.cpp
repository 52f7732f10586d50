// The same cases as test_poller.cpp, on the portable poll() backend (WSAPoll on Windows).
#define SOCKFRAME_POLLER_USE_POLL 1
#include <sockframe/poller.hpp>

#if defined(_WIN32)
#define EXPECTED_BACKEND "wsapoll"
#else
#define EXPECTED_BACKEND "poll"
#endif

#include "poller_cases.inl"
