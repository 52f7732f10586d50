// Platform glue: Winsock starts by itself, system errors compare equal to the portable conditions,
// and <windows.h>'s macros do not reach the user's code.
#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;

// Declared by the user after including sockframe: none of these may be a macro.
namespace user_code {
[[maybe_unused]] constexpr int ERROR = 1;
[[maybe_unused]] constexpr int min = 2;
[[maybe_unused]] constexpr int max = 3;
}  // namespace user_code

#if defined(min) || defined(max) || defined(ERROR)
#error "sockframe leaked a min, max or ERROR macro (from <windows.h>)"
#endif

// First in this file so that it is the program's first Winsock use: no WSAStartup by the user.
TEST_CASE("the first sockets of a program need no start-up call, even when made by many threads at once") {
    constexpr int threads = 8;
    std::atomic<int> opened{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
        pool.emplace_back([&] {
            while (!go) std::this_thread::yield();
            std::error_code ec;
            auto s = sf::udp_socket::open(ec);
            if (!ec && s.is_open()) ++opened;
        });
    go = true;
    for (auto& t : pool) t.join();
    CHECK(opened == threads);
    CHECK_FALSE(sf::detail::ensure_started());
}

TEST_CASE("std::min, std::max and a variable named ERROR work after including sockframe") {
    int ERROR = std::min(4, 7);
    int most = std::max(ERROR, 5);
    CHECK(ERROR == 4);
    CHECK(most == 5);
    CHECK(user_code::ERROR + user_code::min + user_code::max == 6);
    CHECK((std::numeric_limits<int>::max)() == std::numeric_limits<int>::max());
}

TEST_CASE("system error numbers compare equal to the portable std::errc conditions") {
#if defined(SOCKFRAME_WINDOWS)
    const std::pair<int, std::errc> table[] = {
        {WSAEWOULDBLOCK, std::errc::operation_would_block},
        {WSAEINPROGRESS, std::errc::operation_in_progress},
        {WSAECONNREFUSED, std::errc::connection_refused},
        {WSAECONNRESET, std::errc::connection_reset},
        {WSAECONNABORTED, std::errc::connection_aborted},
        {WSAETIMEDOUT, std::errc::timed_out},
        {WSAEADDRINUSE, std::errc::address_in_use},
        {WSAEADDRNOTAVAIL, std::errc::address_not_available},
        {WSAEAFNOSUPPORT, std::errc::address_family_not_supported},
        {WSAESOCKTNOSUPPORT, std::errc::not_supported},
        {WSAENOTCONN, std::errc::not_connected},
        {WSAENETUNREACH, std::errc::network_unreachable},
        {WSAEHOSTUNREACH, std::errc::host_unreachable},
        {WSAEMSGSIZE, std::errc::message_size},
        {WSAENOTSOCK, std::errc::not_a_socket},
        {WSAEACCES, std::errc::permission_denied},
        {WSAESHUTDOWN, std::errc::broken_pipe},
    };
    for (const auto& entry : table) {
        int value = entry.first;
        CAPTURE(value);
        std::error_code ec = sf::detail::error_from(value);
        CHECK(std::string(ec.category().name()) == "winsock");
        CHECK(ec == entry.second);
        CHECK_FALSE(ec.message().empty());  // the system's text, or ours with the number
    }
    CHECK(sf::is_would_block(sf::detail::error_from(WSAEWOULDBLOCK)));
    CHECK(sf::detail::error_from(WSAECONNREFUSED) != std::errc::timed_out);
#else
    const std::pair<int, std::errc> table[] = {
        {EWOULDBLOCK, std::errc::operation_would_block},
        {ECONNREFUSED, std::errc::connection_refused},
        {ETIMEDOUT, std::errc::timed_out},
        {EADDRINUSE, std::errc::address_in_use},
        {EPIPE, std::errc::broken_pipe},
    };
    for (const auto& entry : table) {
        int value = entry.first;
        CAPTURE(value);
        CHECK(sf::detail::error_from(value) == entry.second);
    }
    CHECK(sf::is_would_block(sf::detail::error_from(EAGAIN)));
#endif
}
