// coro_echo: a length-prefixed echo server written with C++20 coroutines on one event loop, and
// its client. Each session reads like the blocking one; the loop serves every client at once.
//
//   coro_echo [port]                       serve (port 0 or none: the system picks one; printed
//                                          as "READY <port>"); SIGINT / SIGTERM stop it
//   coro_echo client <port> <message>...   send each message as a frame, print each echo
//
// Frames: a 4-byte big-endian length, then the payload (Python: struct.pack('>I', len(p)) + p).
// Built as C++17 it only says that it needs C++20.
#include <sockframe/sockframe.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L

#include <chrono>
#include <exception>
#include <system_error>
#include <utility>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {

using connection = sf::async_framed<sf::tcp_stream_nb, sf::length_prefix<std::uint32_t>>;

// One client: every frame back as it came, until the client closes.
sf::task<void> session(connection conn) {
    while (auto msg = co_await conn.receive()) co_await conn.send(*msg);
}

// Accepts forever; each connection gets its own coroutine on the same loop.
sf::task<void> serve(sf::event_loop& loop, sf::tcp_listener_nb& listener) {
    for (;;) {
        std::error_code ec;
        auto [socket, from] = co_await sf::async_accept(loop, listener, sf::deadline::never(), ec);
        if (ec) {  // out of descriptors, say: keep serving, try again a little later
            std::cerr << "accept: " << ec.message() << '\n';
            co_await sf::async_sleep(loop, 100ms);
            continue;
        }
        sf::co_spawn(
            loop, session(connection{loop, std::move(socket), {}}), [from = from](std::exception_ptr e) {
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& error) {  // a framing error or a reset: that client only
                    std::cerr << "client " << from << ": " << error.what() << '\n';
                }
            });
    }
}

sf::task<int> client(sf::event_loop& loop, std::uint16_t port, int count, char** messages) {
    connection conn{loop, co_await sf::async_connect(loop, sf::ipv4_address::loopback(port), 5s), {}};
    for (int i = 0; i < count; ++i) {
        co_await conn.send(std::string_view(messages[i]), 5s);
        auto echo = co_await conn.receive(5s);
        if (!echo) co_return 1;
        std::cout << std::string_view(reinterpret_cast<const char*>(echo->data()), echo->size()) << '\n';
    }
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        sf::event_loop loop;
        if (argc > 2 && std::string_view(argv[1]) == "client")
            return sf::run_task(
                loop, client(loop, static_cast<std::uint16_t>(std::atoi(argv[2])), argc - 3, argv + 3));

        auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
        sf::tcp_listener_nb listener{sf::ipv4_address::loopback(port)};
        std::error_code ec;
        loop.stop_on_signals(ec);  // not on Windows: there the process just ends
        std::cout << "READY " << listener.local_address().port() << std::endl;
        sf::co_spawn(loop, serve(loop, listener));
        loop.run();
        std::cout << "stopped" << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "coro_echo: " << e.what() << '\n';
        return 1;
    }
}

#else

int main() {
    std::cout << "coro_echo: needs C++20 (coroutines); this build is C++17" << std::endl;
    return 0;
}

#endif
