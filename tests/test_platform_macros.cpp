// sockframe compiles in code where min and max are function-like macros, as they are after
// <windows.h> without NOMINMAX on MSVC: every header writes (std::numeric_limits<T>::max)().
// The macros are defined by hand so that the check runs with every compiler, on every system.

// The standard and system headers first: they are not written for these macros.
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <istream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>
#if defined(__has_include)
#if __has_include(<coroutine>) && __cplusplus >= 202002L
#include <coroutine>
#endif
#endif
#include <doctest/doctest.h>
#include <sockframe/config.hpp>
#if defined(SOCKFRAME_WINDOWS)
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <io.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__linux__) && __has_include(<sys/random.h>)
#include <sys/random.h>
#endif
#endif

#define min(a, b) (((a) < (b)) ? (a) : (b))
#define max(a, b) (((a) > (b)) ? (a) : (b))

#include <sockframe/iostream.hpp>
#include <sockframe/sockframe.hpp>

TEST_CASE("sockframe compiles and works where min and max are macros (<windows.h> without NOMINMAX)") {
    CHECK(min(1, 2) == 1);
    CHECK(max(1, 2) == 2);
    namespace sf = sockframe;
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    auto c = sf::tcp_stream::connect(l.local_address(), std::chrono::seconds(5));
    auto [s, from] = l.accept(std::chrono::seconds(5));
    c.write_all("minmax");
    char buffer[6];
    s.read_exact(buffer, std::chrono::seconds(5));
    CHECK(std::string(buffer, 6) == "minmax");
}
