// udp_upper_server: receives datagrams and sends each one back in upper case to whoever sent it.
// UDP has no connections: every datagram carries its sender's address.
//
//   udp_upper_server [port]      prints "READY <port>"
#include <sockframe/sockframe.hpp>

#include <cctype>
#include <cstdlib>
#include <iostream>

namespace sf = sockframe;

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
    sf::udp_socket socket{sf::ipv4_address::loopback(port)};  // socket(AF_INET, SOCK_DGRAM) + bind
    std::cout << "READY " << socket.local_address().port() << std::endl;

    char buffer[65536];  // the largest UDP payload fits
    for (;;) {
        std::error_code ec;
        // recvfrom(): one whole datagram and the sender's address.
        auto [size, from] = socket.receive_from(sf::mutable_buffer(buffer, sizeof buffer), ec);
        if (ec) {
            std::cout << "receive: " << ec.message() << std::endl;
            continue;
        }
        for (std::size_t i = 0; i < size; ++i)
            buffer[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buffer[i])));
        socket.send_to(sf::const_buffer(buffer, size), from, ec);  // sendto(): back to the sender
        std::cout << from << ": " << size << " bytes" << std::endl;
    }
}
