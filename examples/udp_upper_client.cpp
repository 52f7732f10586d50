// udp_upper_client: sends each word as one datagram to the "upper" server and prints the replies.
// UDP may lose datagrams, so each request is retried a few times if no answer comes.
//
//   udp_upper_client HOST PORT WORD...
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

namespace sf = sockframe;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: udp_upper_client HOST PORT WORD...\n";
        return 2;
    }
    // Resolve the server's address: the first IPv4 address of HOST:PORT.
    auto server = sf::resolve<sf::ipv4>(argv[1], argv[2]).at(0);
    sf::udp_socket socket{sf::ipv4_address::any(0)};  // any local port

    char buffer[65536];
    for (int i = 3; i < argc; ++i) {
        std::string word = argv[i];
        bool answered = false;
        for (int attempt = 0; attempt < 5 && !answered; ++attempt) {
            socket.send_to(word, server);
            std::error_code ec;
            // wait at most one second for the reply (a deadline, not a socket-wide timeout)
            auto [size, from] = socket.receive_from(sf::mutable_buffer(buffer, sizeof buffer), 1s, ec);
            if (ec == std::errc::timed_out) continue;  // lost: ask again
            if (ec) throw std::system_error(ec, "receive_from");
            if (from != server) continue;  // not from our server: ignore it
            std::cout << std::string(buffer, size) << "\n";
            answered = true;
        }
        if (!answered) {
            std::cerr << "no answer for " << word << "\n";
            return 1;
        }
    }
}
