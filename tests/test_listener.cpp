#include <sockframe/listener.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <set>
#include <string>

#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

TEST_CASE("a listener on port 0 gets an ephemeral port and accepts many clients") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    auto port = l.local_address().port();
    CHECK(port != 0);
    std::vector<sf::tcp_stream> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(sf::tcp_stream::connect(l.local_address(), 5s));
    std::set<std::uint16_t> peers;
    for (int i = 0; i < 20; ++i) {
        auto [s, from] = l.accept(5s);
        CHECK(s.is_open());
        peers.insert(from.port());
    }
    CHECK(peers.size() == 20);
}

TEST_CASE("accept with a deadline times out when nobody connects") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    std::error_code ec;
    auto start = sf::deadline::clock::now();
    auto a = l.accept(100ms, ec);
    CHECK(ec == std::errc::timed_out);
    CHECK_FALSE(a.socket.is_open());
    CHECK(sf::deadline::clock::now() - start >= 100ms);
    l.set_timeout(50ms);
    CHECK_THROWS_AS(l.accept(), std::system_error);
}

TEST_CASE("a non-blocking listener reports would-block instead of waiting") {
    sf::basic_listener<sf::ipv4, sf::stream, sf::non_blocking> l(sf::ipv4_address::loopback(0));
    std::error_code ec;
    auto a = l.accept(ec);
    CHECK(ec == std::errc::operation_would_block);
    auto c = sf::tcp_stream::connect(l.local_address());
    REQUIRE_FALSE(
        sf::detail::wait_ready(l.native_handle(), sf::detail::poll_in, sf::deadline::clock::now() + 5s));
    auto b = l.accept(ec);
    REQUIRE_FALSE(ec);
    char buffer[1];
    b.socket.read_some(buffer, ec);  // the accepted socket is non-blocking too
    CHECK(ec == std::errc::operation_would_block);
}

TEST_CASE("listening on a bad or busy address is a clear error") {
    std::error_code ec;
    sf::tcp_listener l(sf::ipv4_address::parse("192.0.2.1", 0), ec);  // not an address of this host
    CHECK(ec == std::errc::address_not_available);
    CHECK_FALSE(l.is_open());
#if defined(SOCKFRAME_HAS_AF_UNIX)
    if (!test_support::has_unix<sf::stream>()) {
        MESSAGE(
            "skipped: the busy Unix path half, because this system has no AF_UNIX stream sockets "
            "(Windows before 10 1803, wine)");
        return;
    }
    test_support::temp_dir dir;
    sf::local_address p(dir.file("busy.sock"));
    sf::unix_listener first(p);
    sf::unix_listener second(p, ec);
    CHECK(ec == std::errc::address_in_use);
#else
    MESSAGE("skipped: the busy Unix path half, because this platform has no AF_UNIX");
#endif
}

#if defined(SOCKFRAME_HAS_AF_UNIX)
namespace {
bool file_exists(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f != nullptr) std::fclose(f);
#if defined(SOCKFRAME_POSIX)
    return f != nullptr || ::access(path.c_str(), F_OK) == 0;
#else
    return f != nullptr || ::GetFileAttributesA(path.c_str()) != INVALID_FILE_ATTRIBUTES;
#endif
}
}  // namespace

TEST_CASE("a Unix listener removes its socket file when it closes, unless told not to") {
    if (!test_support::has_unix<sf::stream>()) {
        MESSAGE("skipped: this system has no AF_UNIX stream sockets (Windows before 10 1803, wine)");
        return;
    }
    test_support::temp_dir dir;
    const std::string path = dir.file("own.sock");
    {
        sf::unix_listener l{sf::local_address(path)};
        CHECK(file_exists(path));
        sf::unix_listener moved = std::move(l);  // the file goes with the listener that holds it
        l.close();
        CHECK(file_exists(path));
    }
    CHECK_FALSE(file_exists(path));

    sf::listen_options keep;
    keep.unlink_on_close = false;
    { sf::unix_listener l{sf::local_address(path), keep}; }
    CHECK(file_exists(path));  // left behind, like a crashed process's
    std::error_code ec;
    sf::unix_listener again{sf::local_address(path), ec};
    CHECK(ec == std::errc::address_in_use);
    CHECK(file_exists(path));  // a listener that failed to bind removes nothing
}

TEST_CASE("replace_stale binds over a dead socket file, never over a live listener or another file") {
    if (!test_support::has_unix<sf::stream>()) {
        MESSAGE("skipped: this system has no AF_UNIX stream sockets (Windows before 10 1803, wine)");
        return;
    }
    test_support::temp_dir dir;
    const std::string path = dir.file("stale.sock");
    sf::listen_options keep;
    keep.unlink_on_close = false;
    { sf::unix_listener crashed{sf::local_address(path), keep}; }
    REQUIRE(file_exists(path));

    sf::listen_options replace;
    replace.replace_stale = true;
    sf::unix_listener l{sf::local_address(path), replace};
    auto c = sf::unix_stream::connect(sf::local_address(path), 5s);
    auto a = l.accept(5s);
    CHECK(a.socket.is_open());

    // Somebody listens there now: the path is not stale and stays theirs.
    std::error_code ec;
    sf::unix_listener intruder{sf::local_address(path), replace, ec};
    CHECK(ec == std::errc::address_in_use);
    auto c2 = sf::unix_stream::connect(sf::local_address(path), 5s);
    CHECK(l.accept(5s).socket.is_open());
    l.close();
    CHECK_FALSE(file_exists(path));

    // Not a socket: never removed.
    const std::string plain = dir.file("plain.txt");
    std::FILE* f = std::fopen(plain.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fclose(f);
    sf::unix_listener over_file{sf::local_address(plain), replace, ec};
    CHECK(ec == std::errc::address_in_use);
    CHECK(file_exists(plain));
}
#endif

#if defined(SOCKFRAME_LINUX)
TEST_CASE("abstract names: a listener leaves no file and unlinks nothing") {
    auto name = sf::local_address::abstract(test_support::unique_name("listener"));
    sf::listen_options options;
    options.replace_stale = true;
    sf::unix_listener l(name, options);
    auto c = sf::unix_stream::connect(name, 5s);
    CHECK(l.accept(5s).socket.is_open());
    CHECK(l.local_address() == name);
    CHECK(l.local_address().is_abstract());
}
#else
SOCKFRAME_SKIPPED_TEST_CASE("abstract names: a listener leaves no file and unlinks nothing",
                            "abstract Unix socket names are Linux-only")
#endif
