// Second translation unit that includes sockframe (a missing `inline` would fail to link), with a
// UDP exchange over loopback; then the TCP one from exchange.cpp.
#include <sockframe/sockframe.hpp>

#include "exchange.hpp"

#include <cstdio>
#include <string>

int main() {
    namespace sf = sockframe;
    try {
        sf::udp_socket a{sf::ipv4_address::loopback(0)};
        sf::udp_socket b{sf::ipv4_address::loopback(0)};
        a.send_to(std::string("datagram"), b.local_address());
        std::string buffer(64, '\0');
        auto got = b.receive_from(buffer);
        buffer.resize(got.size);
        if (buffer != "datagram") {
            std::fprintf(stderr, "udp: got '%s'\n", buffer.c_str());
            return 1;
        }
        std::string echoed = tcp_round_trip("stream bytes");
        if (echoed != "stream bytes") {
            std::fprintf(stderr, "tcp: got '%s'\n", echoed.c_str());
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
    std::printf("consumer ok: sockframe %d.%d.%d, C++ %ld\n", SOCKFRAME_VERSION_MAJOR,
                SOCKFRAME_VERSION_MINOR, SOCKFRAME_VERSION_PATCH, static_cast<long>(__cplusplus));
    return 0;
}
