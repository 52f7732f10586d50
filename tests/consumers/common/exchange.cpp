// First translation unit that includes sockframe: a TCP exchange over loopback.
#include <sockframe/sockframe.hpp>

#include "exchange.hpp"

#include <string>

std::string tcp_round_trip(const std::string& message) {
    namespace sf = sockframe;
    sf::tcp_listener server{sf::ipv4_address::loopback(0)};
    auto client = sf::tcp_stream::connect(server.local_address());
    auto [peer, from] = server.accept();
    (void)from;
    client.write_all(message);
    client.shutdown(sf::shutdown_type::send);
    std::string got(message.size(), '\0');
    peer.read_exact(got);
    return got;
}
