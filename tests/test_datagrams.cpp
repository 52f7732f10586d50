#include <sockframe/socket.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
std::string be16(std::size_t n) { return {static_cast<char>(n >> 8), static_cast<char>(n)}; }
[[maybe_unused]] std::string frame16(const std::string& payload) { return be16(payload.size()) + payload; }

template <typename Socket>
std::pair<Socket, Socket> connected_udp(const typename Socket::address_type& loopback) {
    Socket a(loopback), b(loopback);
    a.connect_to(b.local_address());
    b.connect_to(a.local_address());
    return {std::move(a), std::move(b)};
}

/// Waits (bounded) until `s` has a datagram queued.
template <typename Socket>
void wait_readable(const Socket& s) {
    REQUIRE_FALSE(
        sf::detail::wait_ready(s.native_handle(), sf::detail::poll_in, sf::deadline::clock::now() + 5s));
}
}  // namespace

#if defined(SOCKFRAME_POSIX)
TEST_CASE("framed over a Unix datagram socket: send_batch then one receive_batch call brings every frame") {
    auto [a, b] = sf::socketpair<sf::unix_datagram>();
    sf::framed tx{std::move(a), sf::length_prefix<std::uint16_t>{1500}};
    sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{1500}};
    std::vector<std::string> sent;
    std::vector<sf::const_buffer> payloads;
    for (int i = 0; i < 40; ++i)
        sent.push_back("frame " + std::to_string(i) + std::string(static_cast<std::size_t>(i * 7), 'x'));
    for (const auto& p : sent) payloads.emplace_back(p);
    tx.send_batch(payloads.data(), payloads.size(), 5s);
    std::vector<std::string> got;
    const std::size_t n = rx.receive_batch([&](sf::const_buffer f) { got.push_back(f.to_string()); }, 5s);
    // a Unix datagram is queued at the receiver when send returns: all 40 are there
    if (sf::unix_datagram::batches_natively) CHECK(n == sent.size());
    while (got.size() < sent.size()) {
        std::size_t k = rx.receive_batch([&](sf::const_buffer f) { got.push_back(f.to_string()); }, 5s);
        REQUIRE(k > 0);
    }
    CHECK(got == sent);
    CHECK(rx.buffered() == 0);
}

TEST_CASE(
    "batched datagrams: a bad one in the middle is reported once, in its turn, and nothing after it is "
    "lost") {
    auto [a, b] = sf::socketpair<sf::unix_datagram>();
    sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{100}};
    a.send(frame16("one"));
    a.send(std::string("\x00\x09short", 7));    // length disagrees with the datagram
    a.send(be16(150) + std::string(150, 'L'));  // larger than the codec allows
    a.send(frame16("two"));
    a.send(frame16("three"));
    std::vector<std::string> got;
    auto keep = [&](sf::const_buffer f) { got.push_back(f.to_string()); };
    std::error_code ec;
    CHECK(rx.receive_batch(keep, 5s, ec) == 1);
    CHECK_FALSE(ec);
    CHECK(rx.receive_batch(keep, 5s, ec) == 0);
    CHECK(ec == sf::errc::frame_size_mismatch);
    CHECK(rx.receive_batch(keep, 5s, ec) == 0);
    CHECK(ec == sf::errc::frame_too_large);
    if (sf::detail::reports_whole_size) CHECK(rx.error_size() == 152);
    CHECK(rx.receive_batch(keep, 5s, ec) == 2);
    CHECK_FALSE(ec);
    CHECK(got == std::vector<std::string>{"one", "two", "three"});
}

TEST_CASE("send_batch over datagrams with a codec that has a trailer: each frame is one datagram") {
    auto [a, b] = sf::socketpair<sf::unix_datagram>();
    sf::framed tx{std::move(a), sf::line{}};
    sf::framed rx{std::move(b), sf::line{}};
    std::vector<std::string> sent;
    std::vector<sf::const_buffer> payloads;
    for (int i = 0; i < 40; ++i) sent.push_back("line " + std::to_string(i));
    for (const auto& p : sent) payloads.emplace_back(p);
    tx.send_batch(payloads.data(), payloads.size(), 5s);
    char raw[16];
    CHECK(rx.endpoint().peek(sf::mutable_buffer(raw, sizeof raw), 5s) == 7);  // "line 0\n"
    std::vector<std::string> got;
    for (int calls = 0; got.size() < sent.size() && calls < 40; ++calls)
        REQUIRE(rx.receive_batch([&](sf::const_buffer f) { got.push_back(f.to_string()); }, 5s) > 0);
    CHECK(got == sent);
}

TEST_CASE("batched datagrams: on_frame returning false keeps the rest for receive()") {
    auto [a, b] = sf::socketpair<sf::unix_datagram>();
    sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{100}};
    for (const char* p : {"a", "b", "c", "d"}) a.send(frame16(p));
    std::vector<std::string> got;
    CHECK(rx.receive_batch(
              [&](sf::const_buffer f) {
                  got.push_back(f.to_string());
                  return got.size() < 2;
              },
              5s) == 2);
    CHECK(rx.receive(5s)->str() == "c");
    CHECK(rx.receive(5s)->str() == "d");
    CHECK(got == std::vector<std::string>{"a", "b"});
    std::error_code ec;
    auto nb =
        sf::framed{sf::unix_datagram_nb{std::move(rx.endpoint())}, sf::length_prefix<std::uint16_t>{100}};
    CHECK_FALSE(nb.try_receive(ec));
    CHECK(sf::is_would_block(ec));
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "framed over a Unix datagram socket: send_batch then one receive_batch call brings every frame",
    "Windows has no Unix datagram sockets")
#endif

TEST_CASE("framed over UDP: batched frames arrive whole and in order; an oversized one has its true size") {
    auto [a, b] = connected_udp<sf::udp_socket>(sf::ipv4_address::loopback(0));
    sf::framed tx{std::move(a), sf::length_prefix<std::uint16_t>{1200}};
    sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{1200}};
    std::vector<std::string> sent;
    std::vector<sf::const_buffer> payloads;
    for (int i = 0; i < 100; ++i)
        sent.push_back(std::string(static_cast<std::size_t>(i * 11 % 1190), static_cast<char>('a' + i % 26)));
    for (const auto& p : sent) payloads.emplace_back(p);
    tx.send_batch(payloads.data(), payloads.size(), 5s);
    std::vector<std::string> got;
    for (int calls = 0; got.size() < sent.size() && calls < 200; ++calls)
        REQUIRE(rx.receive_batch([&](sf::const_buffer f) { got.push_back(f.to_string()); }, 5s) > 0);
    CHECK(got == sent);
    tx.endpoint().send(be16(3000) + std::string(3000, 'u'));
    std::error_code ec;
    CHECK_FALSE(rx.receive(5s, ec));
    CHECK(ec == sf::errc::frame_too_large);
    if (sf::detail::reports_whole_size) CHECK(rx.error_size() == 3002);
    tx.send("after");
    CHECK(rx.receive(5s)->str() == "after");
}

TEST_CASE("receive_batch with datagram_info: each datagram's sender, size and truncation") {
    sf::udp_socket rx(sf::ipv4_address::loopback(0));
    sf::udp_socket s1(sf::ipv4_address::loopback(0)), s2(sf::ipv4_address::loopback(0));
    s1.send_to(std::string("from one"), rx.local_address());
    s2.send_to(std::string(40, 'T'), rx.local_address());
    std::byte space[2][16];
    sf::datagram_info info[2];
    sf::message_slot slots[2];
    for (int i = 0; i < 2; ++i) {
        slots[i].buffer = sf::mutable_buffer(space[i], sizeof space[i]);
        slots[i].info = &info[i];
    }
    std::size_t got = 0;
    for (int calls = 0; got < 2 && calls < 2; ++calls) {
        wait_readable(rx);
        got += rx.receive_batch(slots + got, 2 - got, 5s);
    }
    REQUIRE(got == 2);
    CHECK(info[0].source == sf::any_address(s1.local_address()));
    CHECK(info[1].source == sf::any_address(s2.local_address()));
    CHECK(slots[0].size == 8);
    CHECK_FALSE(slots[0].truncated);
    CHECK(slots[1].truncated);
    CHECK(slots[1].size == 16);
    CHECK(info[1].truncated);
    if (sf::detail::reports_whole_size) {
        CHECK(info[1].size == 40);
        CHECK(slots[1].whole_size == 40);
    }
}

#if defined(SOCKFRAME_LINUX)
TEST_CASE("per-datagram metadata over IPv4: destination, interface, TOS/ECN, TTL and kernel timestamp") {
    sf::udp_socket rx(sf::ipv4_address::any(0));
    rx.enable_metadata(sf::metadata::all);
    const auto port = rx.local_address().port();
    sf::udp_socket tx(sf::ipv4_address::loopback(0));
    tx.set_option(IPPROTO_IP, IP_TOS, 0x28 | 0x01);  // DSCP 10, ECT(1)
    tx.set_option(IPPROTO_IP, IP_TTL, 7);
    const auto before = std::chrono::system_clock::now();
    tx.send_to(std::string("meta"), sf::ipv4_address::loopback(port));
    char out[16];
    sf::datagram_info info;
    const std::size_t n = rx.receive_from(sf::mutable_buffer(out, sizeof out), info, 5s);
    const auto after = std::chrono::system_clock::now();
    CHECK(n == 4);
    CHECK(info.size == 4);
    CHECK_FALSE(info.truncated);
    REQUIRE(info.has_destination);
    CHECK(info.destination.to_string() == "127.0.0.1:0");
    CHECK(info.interface_index == sf::detail::interface_index("lo"));
    CHECK(info.traffic_class == 0x29);
    CHECK(info.ecn() == 1);
    CHECK(info.hop_limit == 7);
    REQUIRE(info.has_timestamp);
    CHECK(info.timestamp >=
          std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch()) - 1ms);
    CHECK(info.timestamp <=
          std::chrono::duration_cast<std::chrono::nanoseconds>(after.time_since_epoch()) + 1ms);
    CHECK(info.source == sf::any_address(tx.local_address()));
    // turned off: nothing reported any more
    rx.enable_metadata(sf::metadata::all, false);
    tx.send_to(std::string("plain"), sf::ipv4_address::loopback(port));
    sf::datagram_info none;
    CHECK(rx.receive_from(sf::mutable_buffer(out, sizeof out), none, 5s) == 5);
    CHECK_FALSE(none.has_destination);
    CHECK(none.traffic_class == -1);
    CHECK(none.hop_limit == -1);
    CHECK_FALSE(none.has_timestamp);
}

TEST_CASE("per-datagram metadata over IPv6: destination, traffic class and hop limit") {
    std::error_code ec;
    sf::udp6_socket rx(sf::ipv6_address::loopback(0), ec);
    if (ec) {
        MESSAGE("skipped: no IPv6 loopback here (" << ec.message() << ")");
        return;
    }
    rx.enable_metadata(sf::metadata::destination | sf::metadata::traffic_class | sf::metadata::hop_limit);
    sf::udp6_socket tx(sf::ipv6_address::loopback(0));
    tx.set_option(IPPROTO_IPV6, IPV6_TCLASS, 0xb8 | 0x02);
    tx.set_option(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
    tx.send_to(std::string("six"), rx.local_address());
    char out[8];
    sf::datagram_info info;
    CHECK(rx.receive_from(sf::mutable_buffer(out, sizeof out), info, 5s) == 3);
    REQUIRE(info.has_destination);
    CHECK(info.destination.to_string() == "[::1]:0");
    CHECK(info.traffic_class == 0xba);
    CHECK(info.ecn() == 2);
    CHECK(info.hop_limit == 9);
    CHECK_FALSE(info.has_timestamp);
}

TEST_CASE("send_to from a chosen source address (IP_PKTINFO): the receiver sees that source") {
    sf::udp_socket rx(sf::ipv4_address::loopback(0));
    sf::udp_socket tx(sf::ipv4_address::any(0));
    sf::datagram_source from;
    from.address = sf::ipv4_address({127, 0, 0, 2}, 0);
    tx.send_to(std::string("spoof-free"), rx.local_address(), from, 5s);
    char out[16];
    auto r = rx.receive_from(sf::mutable_buffer(out, sizeof out), 5s);
    CHECK(r.size == 10);
    CHECK(r.from.to_string() == "127.0.0.2:" + std::to_string(tx.local_address().port()));
    // the same with the interface only
    sf::datagram_source via_lo;
    via_lo.address = sf::ipv4_address({127, 0, 0, 1}, 0);
    via_lo.interface_index = sf::detail::interface_index("lo");
    tx.send_to(std::string("lo"), rx.local_address(), via_lo, 5s);
    r = rx.receive_from(sf::mutable_buffer(out, sizeof out), 5s);
    CHECK(r.from.to_string() == "127.0.0.1:" + std::to_string(tx.local_address().port()));
}
#elif defined(SOCKFRAME_WINDOWS)
TEST_CASE("per-datagram metadata over IPv4 on Windows (WSARecvMsg): destination, interface, TOS and TTL") {
    sf::udp_socket rx(sf::ipv4_address::any(0));
    rx.enable_metadata(sf::metadata::destination | sf::metadata::traffic_class | sf::metadata::hop_limit);
    std::error_code ec;
    rx.enable_metadata(sf::metadata::timestamp, true, ec);  // Windows has no kernel receive times
    CHECK(ec == std::errc::operation_not_supported);
    const auto port = rx.local_address().port();
    sf::udp_socket tx(sf::ipv4_address::loopback(0));
    tx.set_option(IPPROTO_IP, IP_TTL, 7);
    tx.send_to(std::string("meta"), sf::ipv4_address::loopback(port));
    char out[16];
    sf::datagram_info info;
    CHECK(rx.receive_from(sf::mutable_buffer(out, sizeof out), info, 5s) == 4);
    CHECK(info.size == 4);
    CHECK_FALSE(info.truncated);
    REQUIRE(info.has_destination);
    CHECK(info.destination.to_string() == "127.0.0.1:0");
    CHECK(info.interface_index > 0);
    CHECK(info.traffic_class >= 0);  // reported (Windows sends TOS 0 unless QoS policy sets it)
    CHECK(info.hop_limit == 7);
    CHECK_FALSE(info.has_timestamp);
    CHECK(info.source == sf::any_address(tx.local_address()));
    // a datagram larger than the buffer: truncated, with the metadata still there
    tx.send_to(std::string(40, 'T'), sf::ipv4_address::loopback(port));
    sf::datagram_info big;
    rx.receive_from(sf::mutable_buffer(out, sizeof out), big, 5s, ec);
    CHECK(ec == sf::errc::message_truncated);
    CHECK(big.truncated);
    CHECK(big.has_destination);
    // turned off: nothing reported any more
    rx.enable_metadata(sf::metadata::destination | sf::metadata::traffic_class | sf::metadata::hop_limit,
                       false);
    tx.send_to(std::string("plain"), sf::ipv4_address::loopback(port));
    sf::datagram_info none;
    CHECK(rx.receive_from(sf::mutable_buffer(out, sizeof out), none, 5s) == 5);
    CHECK_FALSE(none.has_destination);
    CHECK(none.traffic_class == -1);
    CHECK(none.hop_limit == -1);
}

TEST_CASE("per-datagram metadata over IPv6 on Windows: destination and hop limit") {
    std::error_code ec;
    sf::udp6_socket rx(sf::ipv6_address::loopback(0), ec);
    if (ec) {
        MESSAGE("skipped: no IPv6 loopback here (" << ec.message() << ")");
        return;
    }
    rx.enable_metadata(sf::metadata::destination | sf::metadata::hop_limit);
    sf::udp6_socket tx(sf::ipv6_address::loopback(0));
    tx.set_option(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
    tx.send_to(std::string("six"), rx.local_address());
    char out[8];
    sf::datagram_info info;
    CHECK(rx.receive_from(sf::mutable_buffer(out, sizeof out), info, 5s) == 3);
    REQUIRE(info.has_destination);
    CHECK(info.destination.to_string() == "[::1]:0");
    CHECK(info.hop_limit == 9);
    CHECK(info.traffic_class == -1);  // not asked for
}

TEST_CASE("send_to from a chosen source address on Windows (WSASendMsg with IP_PKTINFO)") {
    sf::udp_socket rx(sf::ipv4_address::loopback(0));
    sf::udp_socket tx(sf::ipv4_address::any(0));
    sf::datagram_source from;
    from.address = sf::ipv4_address({127, 0, 0, 2}, 0);
    tx.send_to(std::string("spoof-free"), rx.local_address(), from, 5s);
    char out[16];
    auto r = rx.receive_from(sf::mutable_buffer(out, sizeof out), 5s);
    CHECK(r.size == 10);
    const std::string expected = "127.0.0.2:" + std::to_string(tx.local_address().port());
    if (r.from.to_string() != expected &&
        ::GetProcAddress(::GetModuleHandleA("ntdll.dll"), "wine_get_version") != nullptr) {
        // wine 8 accepts the control message and sends from the routed address
        MESSAGE("skipped: the source address check, because wine ignores IP_PKTINFO on a send (got "
                << r.from.to_string() << ")");
    } else {
        CHECK(r.from.to_string() == expected);
    }
}
#endif
