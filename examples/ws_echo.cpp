// ws_echo: a WebSocket echo server. Every message (text or binary, fragmented or not) comes back
// as it was sent; pings are answered; a close from the client is answered with the same code.
//
//   ws_echo [--host H] [--port P]      (port 0 or none: the system picks one)
//
// Prints "READY <port>" once listening. One thread per client (the blocking session API): the
// simplest server that serves many clients at once.
#include <sockframe/sockframe.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

namespace sf = sockframe;
namespace ws = sockframe::websocket;

namespace {
void serve(sf::tcp_stream client) {
    std::error_code ec;
    // the handshake must arrive within 10 s; after that a client may stay idle as long as it likes
    auto session = ws::session::accept(std::move(client), {}, std::chrono::seconds(10), ec);
    if (ec) {
        std::cerr << "ws_echo: handshake: " << ec.message() << "\n";
        return;
    }
    while (auto m = session.receive(sf::deadline{}, ec)) {
        session.send(m->data, m->text, std::chrono::seconds(30), ec);
        if (ec) break;
    }
    if (ec) std::cerr << "ws_echo: " << ec.message() << "\n";
}
}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view arg = argv[i];
        if (arg == "--port") {
            port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
        } else if (arg == "--host") {
            host = argv[i + 1];
        } else {
            std::cerr << "usage: ws_echo [--host H] [--port P]\n";
            return 2;
        }
    }
    try {
        sf::tcp_listener listener{sf::ipv4_address::parse(host, port)};
        std::cout << "READY " << listener.local_address().port() << std::endl;
        for (;;) {
            auto accepted = listener.accept();
            std::thread(serve, std::move(accepted.socket)).detach();
        }
    } catch (const std::exception& e) {
        std::cerr << "ws_echo: " << e.what() << "\n";
        return 1;
    }
}
