#include <sockframe/iostream.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;
using test_support::connected_tcp;
using test_support::joining_thread;

namespace {
std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
}  // namespace

#if defined(SOCKFRAME_HAS_AF_UNIX) && defined(SOCKFRAME_POSIX)
TEST_CASE("a line protocol both ways over a socketpair") {
    auto [a, b] = sf::socketpair<sf::unix_stream>();
    sf::unix_iostream left{std::move(a)};
    sf::basic_socket_iostream right{std::move(b)};  // deduced: owns a unix_stream
    static_assert(std::is_same_v<decltype(right), sf::unix_iostream>);

    left << "hello " << 42 << '\n' << std::flush;
    std::string line;
    REQUIRE(std::getline(right, line));
    CHECK(line == "hello 42");
    right << "back at you\n" << 3.5 << ' ' << -7 << '\n' << std::flush;
    REQUIRE(std::getline(left, line));
    CHECK(line == "back at you");
    double d = 0;
    int i = 0;
    left >> d >> i;
    CHECK(left);
    CHECK(d == 3.5);
    CHECK(i == -7);
}
#else
SOCKFRAME_SKIPPED_TEST_CASE("a line protocol both ways over a socketpair",
                            "Windows has no socketpair (the TCP loopback tests below cover the same paths)")
#endif

TEST_CASE("a line protocol over TCP loopback; reading sends pending output without an explicit flush") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    joining_thread server([&] {
        sf::socket_iostream ios{std::move(l.accept(5s).socket)};
        ios.socket().set_timeout(5s);
        std::string line;
        while (std::getline(ios, line)) ios << upper(line) << '\n' << std::flush;
    });
    auto s = sf::tcp_stream::connect(l.local_address(), 5s);
    s.set_timeout(5s);
    sf::socket_iostream ios{std::move(s)};
    std::string line;
    for (const char* word : {"alpha", "beta", "gamma"}) {
        ios << word << '\n';  // no flush: the getline below sends it
        REQUIRE(std::getline(ios, line));
        CHECK(line == upper(word));
    }
    ios.close();
    CHECK_FALSE(ios.socket().is_open());
}

TEST_CASE("a large transfer through both the buffered and the direct paths") {
    auto pair = connected_tcp();  // not a structured binding: the lambda below captures it
    auto& client = pair.client;
    auto& server = pair.server;
    client.set_timeout(10s);
    server.set_timeout(10s);
    const std::size_t size = 8u << 20;
    std::string blob(size, '\0');
    for (std::size_t i = 0; i < size; ++i) blob[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    const int numbers = 50000;

    joining_thread writer([&] {
        sf::socket_iostream out{std::move(client)};
        out.write(blob.data(), static_cast<std::streamsize>(blob.size()));  // larger than the buffer: direct
        for (int i = 0; i < numbers; ++i) out << i << ' ';                  // many small writes: buffered
        out << std::flush;
        CHECK(out);
        out.socket().shutdown(sf::shutdown_type::send);
    });
    sf::socket_iostream in{std::move(server)};
    std::string got(size, '\0');
    // read in uneven pieces: part from the buffer, part directly
    std::size_t done = 0;
    std::size_t piece = 1;
    while (done < size) {
        std::size_t n = std::min(piece, size - done);
        REQUIRE(in.read(&got[done], static_cast<std::streamsize>(n)));
        done += n;
        piece = piece * 3 + 1;
    }
    CHECK(got == blob);
    int value = -1;
    int count = 0;
    while (in >> value) {
        if (value != count) break;
        ++count;
    }
    CHECK(count == numbers);
    CHECK(in.eof());
    CHECK_FALSE(in.bad());
    CHECK_FALSE(in.error());
}

TEST_CASE("end-of-stream is eofbit, not an error") {
    auto [client, server] = connected_tcp();
    sf::socket_iostream in{std::move(server)};
    client.write_all("last line\nunterminated");
    client.close();
    std::string line;
    REQUIRE(std::getline(in, line));
    CHECK(line == "last line");
    REQUIRE(std::getline(in, line));  // the last piece, ended by end-of-stream
    CHECK(line == "unterminated");
    CHECK(in.eof());
    CHECK_FALSE(std::getline(in, line));
    CHECK(in.eof());
    CHECK(in.fail());
    CHECK_FALSE(in.bad());
    CHECK_FALSE(in.error());
}

TEST_CASE("the socket's timeout sets badbit and error(); nothing is lost, reading can go on") {
    auto [client, server] = connected_tcp();
    server.set_timeout(100ms);
    sf::socket_iostream in{std::move(server)};
    std::string line;
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(std::getline(in, line));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(in.bad());
    CHECK(in.error() == std::errc::timed_out);
    CHECK(took >= 90ms);
    CHECK(took < 5s);

    client.write_all("late\n");
    in.clear();
    in.socket().set_timeout(5s);
    REQUIRE(std::getline(in, line));
    CHECK(line == "late");
    CHECK_FALSE(in.error());

    SUBCASE("with exceptions(badbit), the timeout is thrown as the system_error") {
        in.socket().set_timeout(50ms);
        in.exceptions(std::ios_base::badbit);
        try {
            std::getline(in, line);
            FAIL("no exception");
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::errc::timed_out);
        }
        CHECK(in.bad());
    }
}

TEST_CASE("a write to a closed peer sets badbit, never SIGPIPE") {
    auto [client, server] = connected_tcp();
    server.close();
    client.set_timeout(5s);
    sf::socket_iostream out{std::move(client)};
    std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 200 && out; ++i) out << chunk << std::flush;
    CHECK(out.bad());
    CHECK((out.error() == std::errc::broken_pipe || out.error() == std::errc::connection_reset));
}

TEST_CASE("referring to a socket: it stays open, and the stream's destructor sends pending output") {
    auto [client, server] = connected_tcp();
    {
        sf::socket_iostream ios{client};  // refers
        static_assert(std::is_same_v<decltype(sf::basic_socket_iostream{client}), sf::socket_iostream>);
        ios << "pending";
        CHECK(&ios.socket() == &client);
    }
    CHECK(client.is_open());
    char buffer[16];
    std::size_t n = server.read_exact(sf::mutable_buffer(buffer, 7), 5s);
    CHECK(std::string(buffer, n) == "pending");
}

TEST_CASE("connecting by host and service; a failed connect is failbit with error()") {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    auto port = std::to_string(l.local_address().port());
    sf::socket_iostream ios("127.0.0.1", port, 5s);
    REQUIRE(ios);
    auto peer = l.accept(5s);
    ios << "hi\n" << std::flush;
    char buffer[3];
    peer.socket.read_exact(sf::mutable_buffer(buffer, 3), 5s);
    CHECK(std::string(buffer, 3) == "hi\n");

    sf::ipv4_address refused;
    {
        sf::tcp_listener probe(sf::ipv4_address::loopback(0));
        refused = probe.local_address();
    }
    sf::socket_iostream bad("127.0.0.1", std::to_string(refused.port()), 5s);
    CHECK(bad.fail());
    CHECK(bad.error() == std::errc::connection_refused);
    CHECK_FALSE(bad.socket().is_open());
}

TEST_CASE("the streambuf alone: sgetc, snextc, sputn, a small buffer") {
    auto [client, server] = connected_tcp();
    sf::socket_streambuf out(client, 4);
    sf::socket_streambuf in(server, 4);
    CHECK(out.sputn("abcdefghij", 10) == 10);
    CHECK(out.pubsync() == 0);
    std::string got;
    for (int i = 0; i < 10; ++i) got += static_cast<char>(in.sbumpc());
    CHECK(got == "abcdefghij");
    client.set_timeout(1s);
    server.set_timeout(50ms);
    CHECK_THROWS_AS(in.sgetc(), std::system_error);
    CHECK(in.error() == std::errc::timed_out);
}

TEST_CASE("bytes that arrived before a read timeout are returned by the next read") {
    auto [client, server] = connected_tcp();
    server.set_timeout(100ms);
    sf::socket_iostream in{std::move(server)};
    client.write_all("abc");
    char buffer[6] = {};
    CHECK_FALSE(in.read(buffer, 6));
    CHECK(in.bad());
    CHECK(in.error() == std::errc::timed_out);

    client.write_all("def");
    in.clear();
    in.socket().set_timeout(5s);
    REQUIRE(in.read(buffer, 6));
    CHECK(std::string(buffer, 6) == "abcdef");

    SUBCASE("more than the stream's buffer: read straight into the caller's memory, then given back") {
        sf::socket_iostream small{in.socket(), 4};
        in.socket().set_timeout(100ms);
        std::string part(10, 'x'), rest(6, 'y');
        client.write_all(part);
        std::string got(16, '\0');
        CHECK_FALSE(small.read(&got[0], 16));
        CHECK(small.error() == std::errc::timed_out);
        client.write_all(rest);
        small.clear();
        in.socket().set_timeout(5s);
        REQUIRE(small.read(&got[0], 16));
        CHECK(got == part + rest);
    }
    SUBCASE("a getline cut by the timeout keeps its characters; the rest of the line follows") {
        in.socket().set_timeout(100ms);
        client.write_all("ear");
        std::string first, second;
        CHECK_FALSE(std::getline(in, first));
        client.write_all("ly\n");
        in.clear();
        in.socket().set_timeout(5s);
        REQUIRE(std::getline(in, second));
        CHECK(first + second == "early");
    }
}
