// Conan test_package: the packaged headers compile, link and exchange bytes over loopback.
#include <sockframe/sockframe.hpp>

#include <cstdio>
#include <string>

int main() {
    namespace sf = sockframe;
    sf::tcp_listener server{sf::ipv4_address::loopback(0)};
    auto client = sf::tcp_stream::connect(server.local_address());
    auto [peer, from] = server.accept();
    (void)from;
    client.write_all(std::string("hello"));
    std::string got(5, '\0');
    peer.read_exact(got);
    std::printf("sockframe %d.%d.%d: %s\n", SOCKFRAME_VERSION_MAJOR, SOCKFRAME_VERSION_MINOR,
                SOCKFRAME_VERSION_PATCH, got.c_str());
    return got == "hello" ? 0 : 1;
}
