#include <sockframe/vsock.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

#if defined(SOCKFRAME_HAS_VSOCK)
TEST_CASE("vsock: a listener and a stream over the loopback transport carry frames") {
    std::error_code ec;
    sf::vsock_listener listener(sf::vsock_address(sf::vsock_address::any_cid, sf::vsock_address::any_port),
                                ec);
    if (ec) {
        MESSAGE("skipped: vsock, because no vsock listener can bind here (" << ec.message() << ")");
        return;
    }
    const auto at = listener.local_address();
    CHECK(at.port() != sf::vsock_address::any_port);
    auto client = sf::vsock_stream::connect(sf::vsock_address::local(at.port()), 2s, ec);
    if (ec) {
        MESSAGE(
            "skipped: vsock, because the loopback transport (VMADDR_CID_LOCAL, vsock_loopback) does "
            "not connect here ("
            << ec.message() << ")");
        return;
    }
    auto accepted = listener.accept(5s);
    sf::framed a{std::move(client), sf::length_prefix<std::uint32_t>{}};
    sf::framed b{std::move(accepted.socket), sf::length_prefix<std::uint32_t>{}};
    a.send("over vsock");
    CHECK(b.receive(5s)->str() == "over vsock");
    b.send(std::string(100000, 'v'));
    CHECK(a.receive(5s)->size() == 100000);
}
#endif

TEST_CASE("vsock addresses: CID and port, text, equality") {
#if defined(SOCKFRAME_HAS_VSOCK)
    const sf::vsock_address a(3, 1024);
    CHECK(a.cid() == 3);
    CHECK(a.port() == 1024);
    CHECK(a.to_string() == "vsock:3:1024");
    CHECK(a == sf::vsock_address(3, 1024));
    CHECK(a != sf::vsock_address::local(1024));
    CHECK(sf::vsock_address::local(7).cid() == 1);
#else
    MESSAGE("skipped: vsock addresses, because this system has no AF_VSOCK");
#endif
}
