// framed's batched UDP paths with segmentation and receive offload: send_batch gathers runs of
// equal-size frames into UDP GSO sends, receive_batch splits UDP GRO buffers back into frames.
#include <sockframe/framed.hpp>
#include <sockframe/length_prefix.hpp>
#include <sockframe/socket.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#if defined(SOCKFRAME_LINUX)
#include <sys/socket.h>
#endif

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

#if defined(SOCKFRAME_LINUX)  // the helpers serve the Linux cases only
namespace {
std::string be16(std::size_t n) { return {static_cast<char>(n >> 8), static_cast<char>(n)}; }

/// Payloads of the given sizes, each with its own bytes.
std::vector<std::string> payloads_of(const std::vector<std::size_t>& sizes) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        std::string s(sizes[i], '\0');
        for (std::size_t k = 0; k < s.size(); ++k) s[k] = static_cast<char>('a' + (i * 5 + k) % 26);
        out.push_back(s);
    }
    return out;
}

struct udp_pair {
    sf::udp_socket tx{sf::ipv4_address::loopback(0)};
    sf::udp_socket rx{sf::ipv4_address::loopback(0)};
    udp_pair() {
        tx.connect_to(rx.local_address());
        rx.connect_to(tx.local_address());
    }
};

/// Sends `payloads` with framed send_batch from `tx`, then reads as many plain datagrams at
/// `rx`: each must be exactly the frame (2-byte length + payload) sendmmsg would have sent.
void send_and_check_datagrams(sf::framed<sf::udp_socket, sf::length_prefix<std::uint16_t>>& tx,
                              sf::udp_socket& rx, const std::vector<std::string>& payloads) {
    std::vector<sf::const_buffer> views;
    for (const auto& p : payloads) views.emplace_back(p);
    tx.send_batch(views.data(), views.size(), 5s);
    std::vector<char> out(70000);
    for (const auto& p : payloads) {
        const std::size_t n = rx.receive(sf::mutable_buffer(out.data(), out.size()), 5s);
        REQUIRE(std::string(out.data(), n) == be16(p.size()) + p);
    }
}
}  // namespace
#endif

#if defined(SOCKFRAME_LINUX)
TEST_CASE("framed send_batch over UDP: equal-size frames leave as one GSO send, each datagram exact") {
    udp_pair p;
    sf::framed tx{std::move(p.tx), sf::length_prefix<std::uint16_t>{60000}};
    // 150 frames of 102 bytes: three GSO sends (64 + 64 + 22 datagrams).
    send_and_check_datagrams(tx, p.rx, payloads_of(std::vector<std::size_t>(150, 100)));
    // a run whose last frame is shorter, as GSO allows
    std::vector<std::size_t> sizes(10, 300);
    sizes.push_back(41);
    send_and_check_datagrams(tx, p.rx, payloads_of(sizes));
    // runs broken by sizes: longer after shorter, singles, empty payloads, a run past 65507 bytes
    send_and_check_datagrams(tx, p.rx,
                             payloads_of({10, 10, 10, 5,     20,    20,    3,     7,  7,  7,  50, 0,
                                          0,  9,  9,  30000, 30000, 30000, 30000, 12, 12, 12, 11, 12}));
    if (!tx.endpoint().segmentation_offload())
        MESSAGE("this kernel refused UDP GSO: the frames went by sendmmsg (checked the same)");
}

TEST_CASE("framed send_batch over UDP: a socket the kernel refuses GSO on falls back to sendmmsg for good") {
    udp_pair p;
    // UDP GSO needs checksums: with SO_NO_CHECK the kernel refuses every GSO send (EINVAL).
    const int on = 1;
    if (::setsockopt(p.tx.native_handle(), SOL_SOCKET, SO_NO_CHECK, &on, sizeof on) != 0) {
        MESSAGE("skipped: GSO refusal, because this system refuses SO_NO_CHECK");
        return;
    }
    sf::framed tx{std::move(p.tx), sf::length_prefix<std::uint16_t>{60000}};
    send_and_check_datagrams(tx, p.rx, payloads_of(std::vector<std::size_t>(70, 200)));
    CHECK_FALSE(tx.endpoint().segmentation_offload());
    std::vector<std::size_t> sizes(5, 64);
    sizes.push_back(1);
    send_and_check_datagrams(tx, p.rx, payloads_of(sizes));
    CHECK_FALSE(tx.endpoint().segmentation_offload());
}

TEST_CASE("framed receive_batch with UDP GRO: coalesced buffers split back into the frames sent") {
    udp_pair p;
    std::error_code ec;
    p.rx.enable_gro(true, ec);
    if (ec) {
        MESSAGE("skipped: framed GRO receive, because this kernel refuses UDP_GRO (" << ec.message() << ")");
        return;
    }
    CHECK(p.rx.gro_enabled());
    sf::framed tx{std::move(p.tx), sf::length_prefix<std::uint16_t>{2000}};
    sf::framed rx{std::move(p.rx), sf::length_prefix<std::uint16_t>{2000}};

    std::vector<std::size_t> sizes(40, 998);  // 1000-byte datagrams
    sizes.push_back(100);
    sizes.push_back(7);
    sizes.push_back(7);
    for (int i = 0; i < 20; ++i) sizes.push_back(500);
    const std::vector<std::string> sent = payloads_of(sizes);
    std::vector<sf::const_buffer> views;
    for (const auto& s : sent) views.emplace_back(s);
    tx.send_batch(views.data(), views.size(), 5s);
    std::vector<std::string> got;
    for (int calls = 0; got.size() < sent.size() && calls < 200; ++calls)
        REQUIRE(rx.receive_batch([&](sf::const_buffer f) { got.push_back(f.to_string()); }, 5s) > 0);
    CHECK(got == sent);

    // One GSO buffer of 1000-byte datagrams, the sixth with a bad length: the codec checks each
    // datagram on its own, so the sixth is reported and the others arrive, in order.
    std::string wire;
    std::vector<std::string> good;
    for (int i = 0; i < 12; ++i) {
        const std::string payload(998, static_cast<char>('A' + i));
        wire += be16(i == 5 ? 500 : 998);
        wire += payload;
        if (i != 5) good.push_back(payload);
    }
    CHECK(tx.endpoint().send_segments(wire, 1000, 5s) == 12);
    got.clear();
    bool reported = false;
    for (int calls = 0; got.size() < good.size() && calls < 50; ++calls) {
        rx.receive_batch([&](sf::const_buffer f) { got.push_back(f.to_string()); }, 5s, ec);
        if (ec) {
            CHECK(ec == sf::errc::frame_size_mismatch);
            CHECK(got.size() == 5);
            reported = true;
        }
    }
    CHECK(reported);
    CHECK(got == good);
    CHECK(rx.buffered() == 0);
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "framed send_batch over UDP: equal-size frames leave as one GSO send, each datagram exact",
    "UDP GSO is Linux only")
SOCKFRAME_SKIPPED_TEST_CASE(
    "framed send_batch over UDP: a socket the kernel refuses GSO on falls back to sendmmsg for good",
    "UDP GSO is Linux only")
SOCKFRAME_SKIPPED_TEST_CASE(
    "framed receive_batch with UDP GRO: coalesced buffers split back into the frames sent",
    "UDP GRO is Linux only")
#endif

#if defined(SOCKFRAME_LINUX)
TEST_CASE("framed send_batch over UDP: equal-size frames reach a GRO socket as one coalesced buffer") {
    udp_pair p;
    std::error_code ec;
    p.rx.enable_gro(true, ec);
    if (ec) {
        MESSAGE("skipped: coalescing check, because this kernel refuses UDP_GRO (" << ec.message() << ")");
        return;
    }
    sf::framed tx{std::move(p.tx), sf::length_prefix<std::uint16_t>{2000}};
    const std::vector<std::string> sent = payloads_of(std::vector<std::size_t>(20, 998));
    std::vector<sf::const_buffer> views;
    for (const auto& s : sent) views.emplace_back(s);
    tx.send_batch(views.data(), views.size(), 5s);
    if (!tx.endpoint().segmentation_offload()) {
        MESSAGE("skipped: coalescing check, because this kernel refused UDP GSO");
        return;
    }
    static std::byte space[4][65536];
    sf::datagram_info info[4];
    sf::message_slot slots[4];
    for (int i = 0; i < 4; ++i) {
        slots[i].buffer = sf::mutable_buffer(space[i], sizeof space[i]);
        slots[i].info = &info[i];
    }
    std::string got, expected;
    for (const auto& s : sent) expected += be16(s.size()) + s;
    std::size_t coalesced = 0;
    for (int calls = 0; got.size() < expected.size() && calls < 20; ++calls) {
        const std::size_t n = p.rx.receive_batch(slots, 4, 5s);
        for (std::size_t i = 0; i < n; ++i) {
            if (info[i].segment_size != 0) {
                CHECK(info[i].segment_size == 1000);
                ++coalesced;
            }
            got.append(reinterpret_cast<const char*>(space[i]), slots[i].size);
        }
    }
    CHECK(got == expected);
    CHECK(coalesced >= 1);  // the frames left in one GSO send, not datagram by datagram
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "framed send_batch over UDP: equal-size frames reach a GRO socket as one coalesced buffer",
    "UDP GSO is Linux only")
#endif
