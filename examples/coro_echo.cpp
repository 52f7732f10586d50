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
#include <csignal>
#include <exception>
#include <system_error>
#include <utility>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {

using connection = sf::async_framed<sf::tcp_stream_nb, sf::length_prefix<std::uint32_t>>;

// One client: every frame back as it came, until the client closes (or the server stops).
sf::task<void> session(connection conn, sf::cancel_token stopping) {
    while (auto msg = co_await conn.receive(sf::deadline::never(), stopping))
        co_await conn.send(*msg, sf::deadline::never(), stopping);
}

// What the server shares between its coroutines.
struct server_state {
    explicit server_state(sf::event_loop& l) : loop(l) {}
    sf::event_loop& loop;
    sf::cancel_source stopping;  // cancelled by SIGINT / SIGTERM
    int sessions = 0;
    bool accepting = true;
    void session_ended() {
        if (--sessions == 0 && !accepting) loop.stop();
    }
};

// Accepts until stopped; each connection gets its own coroutine on the same loop.
sf::task<void> serve(server_state& server, sf::tcp_listener_nb& listener) {
    for (;;) {
        std::error_code ec;
        auto [socket, from] = co_await sf::async_accept(server.loop, listener, sf::deadline::never(),
                                                        server.stopping.token(), ec);
        if (ec == std::errc::operation_canceled) break;
        if (ec) {  // out of descriptors, say: keep serving, try again a little later
            std::cerr << "accept: " << ec.message() << '\n';
            co_await sf::async_sleep(server.loop, 100ms);
            continue;
        }
        ++server.sessions;
        auto on_end = [&server, from = from](std::exception_ptr e) {
            server.session_ended();
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::system_error& error) {  // a framing error or a reset: that client only
                if (error.code() != std::errc::operation_canceled)
                    std::cerr << "client " << from << ": " << error.what() << '\n';
            } catch (const std::exception& error) {
                std::cerr << "client " << from << ": " << error.what() << '\n';
            }
        };
        sf::co_spawn(server.loop,
                     session(connection{server.loop, std::move(socket), {}}, server.stopping.token()),
                     on_end);
    }
    server.accepting = false;
    if (server.sessions == 0) server.loop.stop();
}

sf::task<int> client(sf::event_loop& loop, std::uint16_t port, int count, char** messages) {
    connection conn{loop, co_await sf::async_connect(loop, sf::ipv4_address::loopback(port), 5s), {}};
    for (int i = 0; i < count; ++i) {
        co_await conn.send(std::string_view(messages[i]), 5s);
        auto echo = co_await conn.receive(5s);
        if (!echo) {
            std::cerr << "coro_echo: the server closed the connection\n";
            co_return 1;
        }
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
        server_state server(loop);
        // a graceful stop: every coroutine ends (cancelled), then run() returns
        std::error_code ec;
        for (int signo : {SIGINT, SIGTERM})
            loop.on_signal(
                signo, [&](int) { server.stopping.cancel(); }, ec);
        std::cout << "READY " << listener.local_address().port() << std::endl;
        sf::co_spawn(loop, serve(server, listener));
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
