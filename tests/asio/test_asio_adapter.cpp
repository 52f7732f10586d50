// The Asio adapter: whole frames of sockframe codecs over Asio TCP sockets on loopback, with
// callbacks (C++17) and, where the compiler has coroutines, use_awaitable.
#include <sockframe/asio.hpp>

#include <sockframe/chunked.hpp>
#include <sockframe/cobs.hpp>
#include <sockframe/length_prefix.hpp>

#include <asio.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sf = sockframe;
using tcp = asio::ip::tcp;

namespace {
/// A connected loopback TCP pair.
std::pair<tcp::socket, tcp::socket> tcp_pair(asio::io_context& io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    return {std::move(server), std::move(client)};
}

std::string payload(std::size_t i) {
    std::string s(i * 37 % 5000, static_cast<char>('a' + i % 26));
    if (!s.empty()) s[0] = '\0';  // a zero byte: COBS must stuff it
    return s + std::to_string(i);
}

/// Echoes every frame on `conn` until the stream ends; records how it ended.
template <typename Conn>
struct echoer {
    Conn& conn;
    std::error_code ended;
    std::string keep;
    void start() {
        conn.async_receive([this](std::error_code ec, sf::const_buffer frame) {
            if (ec) {
                ended = ec;
                return;
            }
            keep = frame.str();  // the view is valid until the next receive; the send needs it longer
            conn.async_send(sf::const_buffer(keep), [this](std::error_code e, std::size_t) {
                if (!e) start();
            });
        });
    }
};

/// Sends `count` frames (all at once, one outstanding send at a time) and checks every echo.
template <typename Codec>
void echo_round_trip(Codec codec, std::size_t count) {
    asio::io_context io;
    auto [s, c] = tcp_pair(io);
    sf::asio_framed<tcp::socket, Codec> server(std::move(s), codec);
    sf::asio_framed<tcp::socket, Codec> client(std::move(c), codec);
    echoer<decltype(server)> echo{server, {}, {}};
    echo.start();

    std::vector<std::string> sent;
    for (std::size_t i = 0; i < count; ++i) sent.push_back(payload(i));
    std::size_t next_send = 0, received = 0;
    bool mismatch = false;
    std::function<void()> send_next = [&] {
        if (next_send == sent.size()) return;
        client.async_send(sf::const_buffer(sent[next_send]), [&](std::error_code ec, std::size_t n) {
            REQUIRE(!ec);
            CHECK(n >= sent[next_send].size());
            ++next_send;
            send_next();
        });
    };
    std::function<void()> receive_next = [&] {
        client.async_receive([&](std::error_code ec, sf::const_buffer frame) {
            REQUIRE(!ec);
            if (frame.str() != sent[received]) mismatch = true;
            if (++received < count) {
                receive_next();
            } else {
                client.next_layer().shutdown(tcp::socket::shutdown_send);
            }
        });
    };
    send_next();
    receive_next();
    io.run_for(std::chrono::seconds(30));
    CHECK(received == count);
    CHECK(!mismatch);
    CHECK(echo.ended == sf::errc::end_of_stream);  // the client's shutdown: a clean end
}
}  // namespace

TEST_CASE("asio_framed: length_prefix frames echoed over Asio TCP sockets") {
    echo_round_trip(sf::length_prefix<std::uint32_t>{}, 300);
}

TEST_CASE("asio_framed: COBS and chunked frames too (any codec)") {
    echo_round_trip(sf::cobs{}, 200);
    echo_round_trip(sf::chunked{}, 200);
}

TEST_CASE("asio_framed: a buffered frame completes without a read, never inside the call") {
    asio::io_context io;
    auto [s, c] = tcp_pair(io);
    // two frames in one write: the second is buffered after the first receive
    const std::string wire = std::string("\0\0\0\3abc\0\0\0\2de", 13);
    asio::write(c, asio::buffer(wire));
    sf::asio_framed<tcp::socket, sf::length_prefix<std::uint32_t>> conn(std::move(s));
    std::vector<std::string> got;
    bool inside = false;
    conn.async_receive([&](std::error_code ec, sf::const_buffer f) {
        REQUIRE(!ec);
        got.push_back(std::string(f.str()));
        inside = true;
        conn.async_receive([&](std::error_code e, sf::const_buffer g) {
            REQUIRE(!e);
            got.push_back(std::string(g.str()));
        });
        CHECK(got.size() == 1);  // not completed inside async_receive
        inside = false;
    });
    io.run_for(std::chrono::seconds(10));
    CHECK(got == std::vector<std::string>{"abc", "de"});
    CHECK(!inside);
}

TEST_CASE("asio_framed: errors: oversized frame, truncated stream, encode refused") {
    asio::io_context io;
    {
        auto [s, c] = tcp_pair(io);
        asio::write(c, asio::buffer(std::string("\0\0\1\0", 4)));  // 256 > 100
        sf::asio_framed<tcp::socket, sf::length_prefix<std::uint32_t>> conn(
            std::move(s), sf::length_prefix<std::uint32_t>{100});
        std::error_code first, second;
        conn.async_receive([&](std::error_code ec, sf::const_buffer) {
            first = ec;
            conn.async_receive([&](std::error_code e, sf::const_buffer) { second = e; });
        });
        io.restart();
        io.run_for(std::chrono::seconds(10));
        CHECK(first == sf::errc::frame_too_large);
        CHECK(second == sf::errc::frame_too_large);  // the stream stays stopped
    }
    {
        auto [s, c] = tcp_pair(io);
        asio::write(c, asio::buffer(std::string("\0\0\0\5ab", 6)));
        c.shutdown(tcp::socket::shutdown_send);
        sf::asio_framed<tcp::socket, sf::length_prefix<std::uint32_t>> conn(std::move(s));
        std::error_code ended;
        conn.async_receive([&](std::error_code ec, sf::const_buffer) { ended = ec; });
        io.restart();
        io.run_for(std::chrono::seconds(10));
        CHECK(ended == sf::errc::truncated_stream);
    }
    {
        auto [s, c] = tcp_pair(io);
        sf::asio_framed<tcp::socket, sf::length_prefix<std::uint8_t>> conn(std::move(c));
        std::error_code sent;
        std::size_t written = 99;
        const std::string big(300, 'x');
        conn.async_send(sf::const_buffer(big), [&](std::error_code ec, std::size_t n) {
            sent = ec;
            written = n;
        });
        CHECK(written == 99);  // not inside the call
        io.restart();
        io.run_for(std::chrono::seconds(10));
        CHECK(sent == sf::errc::payload_too_large);
        CHECK(written == 0);
        (void)s;
    }
}

#if defined(ASIO_HAS_CO_AWAIT) && defined(__cpp_impl_coroutine)
TEST_CASE("asio_framed: use_awaitable") {
    asio::io_context io;
    auto [s, c] = tcp_pair(io);
    sf::asio_framed<tcp::socket, sf::length_prefix<std::uint32_t>> server(std::move(s));
    sf::asio_framed<tcp::socket, sf::length_prefix<std::uint32_t>> client(std::move(c));
    std::vector<std::string> got;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 3; ++i) {
                sf::const_buffer f = co_await server.async_receive(asio::use_awaitable);
                std::string copy(f.str());
                co_await server.async_send(sf::const_buffer(copy), asio::use_awaitable);
            }
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (std::string p : {"one", "two", "three"}) {
                co_await client.async_send(sf::const_buffer(p), asio::use_awaitable);
                sf::const_buffer f = co_await client.async_receive(asio::use_awaitable);
                got.push_back(std::string(f.str()));
            }
        },
        asio::detached);
    io.run_for(std::chrono::seconds(10));
    CHECK(got == std::vector<std::string>{"one", "two", "three"});
}
#endif
