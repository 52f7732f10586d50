// chat_client: joins the chat server under a name, sends some messages and prints what the
// others say. Blocking sockets are enough here: one connection, one thread.
//
//   chat_client HOST PORT NAME [--expect N] [MESSAGE...]
//     prints "JOINED" once the server has welcomed it, sends each MESSAGE, then prints the next
//     N messages from the others (default 0) and leaves.
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

namespace sf = sockframe;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: chat_client HOST PORT NAME [--expect N] [MESSAGE...]\n";
        return 2;
    }
    int first_message = 4, expect = 0;
    if (argc > 5 && std::string(argv[4]) == "--expect") {
        expect = std::atoi(argv[5]);
        first_message = 6;
    }
    try {
        auto socket = sf::tcp_stream::connect(argv[1], argv[2], 5s);
        socket.set_timeout(20s);  // no receive below waits longer than this
        // Same framing as the server: 4-byte big-endian length, then the text.
        sf::framed chat{std::move(socket), sf::length_prefix<std::uint32_t>{}};

        chat.send(std::string_view(argv[3]));  // our name
        auto welcome = chat.receive();
        if (!welcome) throw std::runtime_error("the server closed the connection");
        std::cout << "JOINED (" << welcome->str() << ")" << std::endl;

        for (int i = first_message; i < argc; ++i) chat.send(std::string_view(argv[i]));
        for (int i = 0; i < expect; ++i) {
            auto message = chat.receive();
            if (!message) throw std::runtime_error("the server closed the connection");
            std::cout << message->str() << std::endl;
        }
        // Leave politely: no more sending, then read until the server closes, so that nothing
        // we sent is lost to a reset.
        chat.endpoint().shutdown(sf::shutdown_type::send);
        while (chat.receive()) {
        }
    } catch (const std::exception& e) {
        std::cerr << "chat_client: " << e.what() << "\n";
        return 1;
    }
}
