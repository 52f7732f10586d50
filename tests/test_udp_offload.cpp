#include <sockframe/socket.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 100) % 26);
    return s;
}
}  // namespace

TEST_CASE("send_segments: one buffer leaves as datagrams of the segment size, the last one shorter") {
    sf::udp_socket rx(sf::ipv4_address::loopback(0)), tx(sf::ipv4_address::loopback(0));
    tx.connect_to(rx.local_address());
    const std::string data = pattern(100 * 150 + 37);  // 151 datagrams: more than one GSO call
    CHECK(tx.send_segments(data, 100, 5s) == 151);
    if (sf::detail::has_udp_offload && !tx.segmentation_offload())
        MESSAGE("this kernel refused UDP GSO: the datagrams went one by one");
    std::string got;
    char out[200];
    for (int i = 0; i < 151; ++i) {
        const std::size_t n = rx.receive(sf::mutable_buffer(out, sizeof out), 5s);
        CHECK(n == (i == 150 ? 37u : 100u));
        got.append(out, n);
    }
    CHECK(got == data);
    std::error_code ec;
    tx.send_segments(data, 0, sf::deadline{}, ec);
    CHECK(ec == sf::errc::invalid_argument);
}

#if defined(SOCKFRAME_LINUX)
TEST_CASE("UDP GRO: equal-size datagrams arrive coalesced, their size in datagram_info::segment_size") {
    sf::udp_socket rx(sf::ipv4_address::loopback(0)), tx(sf::ipv4_address::loopback(0));
    std::error_code ec;
    rx.enable_gro(true, ec);
    if (ec) {
        MESSAGE("skipped: UDP GRO, because this kernel refuses UDP_GRO (" << ec.message() << ")");
        return;
    }
    if (!tx.segmentation_offload()) {
        MESSAGE("skipped: UDP GRO, because this system has no UDP GSO to send with");
        return;
    }
    tx.connect_to(rx.local_address());
    const std::string data = pattern(1000 * 20);
    CHECK(tx.send_segments(data, 1000, 5s) == 20);
    if (!tx.segmentation_offload()) {
        MESSAGE("skipped: UDP GRO, because this kernel refused UDP GSO");
        return;
    }
    static std::byte space[4][65536];
    sf::datagram_info info[4];
    sf::message_slot slots[4];
    for (int i = 0; i < 4; ++i) {
        slots[i].buffer = sf::mutable_buffer(space[i], sizeof space[i]);
        slots[i].info = &info[i];
    }
    std::string got;
    std::size_t datagrams = 0, coalesced = 0;
    for (int calls = 0; got.size() < data.size() && calls < 20; ++calls) {
        const std::size_t n = rx.receive_batch(slots, 4, 5s);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t segment = info[i].segment_size != 0 ? info[i].segment_size : slots[i].size;
            if (info[i].segment_size != 0) {
                CHECK(info[i].segment_size == 1000);
                ++coalesced;
            }
            datagrams += (slots[i].size + segment - 1) / segment;
            got.append(reinterpret_cast<const char*>(space[i]), slots[i].size);
        }
    }
    CHECK(got == data);
    CHECK(datagrams == 20);
    CHECK(coalesced >= 1);  // one GSO send over loopback reaches a GRO socket as one buffer
    rx.enable_gro(false);
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "UDP GRO: equal-size datagrams arrive coalesced, their size in datagram_info::segment_size",
    "UDP GRO is Linux only")
#endif
