#include <sockframe/socket.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "support/net.hpp"
#include "support/netns.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
/// The next datagram's text, or what went wrong.
template <typename Socket>
std::string next_text(Socket& s) {
    char out[64];
    std::error_code ec;
    const std::size_t n = s.receive(sf::mutable_buffer(out, sizeof out), 5s, ec);
    return ec ? "error: " + ec.message() : std::string(out, n);
}
}  // namespace

TEST_CASE("broadcast: refused without SO_BROADCAST, delivered to 127.255.255.255 with it") {
    sf::udp_socket rx(sf::ipv4_address::any(0));
    const auto port = rx.local_address().port();
    sf::udp_socket tx(sf::ipv4_address::loopback(0));
    std::error_code ec;
    tx.send_to(std::string("no"), sf::ipv4_address({127, 255, 255, 255}, port), ec);
#if defined(SOCKFRAME_LINUX)
    CHECK(ec == std::errc::permission_denied);
#endif
    tx.set(sf::broadcast{true});
    CHECK(tx.get<sf::broadcast>().value);
    tx.send_to(std::string("to all"), sf::ipv4_address({127, 255, 255, 255}, port), ec);
#if defined(SOCKFRAME_LINUX)
    REQUIRE_FALSE(ec);
    CHECK(next_text(rx) == "to all");
#else
    if (ec) MESSAGE("skipped: receiving the broadcast, because this system refused it: " << ec.message());
#endif
}

#if defined(__linux__)
namespace {
/// A veth pair (sfv0 with 10.77.0.1/24, sfv1) in the namespace: multicast sent on sfv0 comes back
/// to this host only through IP_MULTICAST_LOOP, so the loopback setting can be observed. False
/// (with the test skipped) where iproute2 or veth is missing.
// Whether sfv0 has an IPv6 address that is not tentative: the kernel adds its link-local address
// once the link is up (/proc/net/if_inet6, this namespace's: address, index, prefix length,
// scope, flags, name; IFA_F_TENTATIVE is 0x40).
bool veth_ready() {
    std::ifstream addresses("/proc/net/if_inet6");
    std::string address, index, prefix, scope, flags, name;
    while (addresses >> address >> index >> prefix >> scope >> flags >> name)
        if (name == "sfv0" && (std::stoul(flags, nullptr, 16) & 0x40u) == 0) return true;
    return false;
}

bool make_veth(test_support::netns_report& r) {
    if (FILE* f = std::fopen("/proc/sys/net/ipv6/conf/default/accept_dad", "w")) {
        std::fputs("0", f);  // the link-local address is usable at once
        std::fclose(f);
    }
    const int made = std::system(
        "ip link add sfv0 type veth peer name sfv1 && ip addr add 10.77.0.1/24 dev sfv0 && "
        "ip link set sfv0 up && ip link set sfv1 up");
    if (made != 0) {
        r.skip("'ip link add ... type veth' failed (iproute2 or veth missing)");
        return false;
    }
    // `ip link set up` returns before the kernel has brought the link up and given sfv0 its IPv6
    // link-local address (a loaded machine shows it: sends fail with "network is unreachable").
    // Wait for both, bounded: 5 s at most.
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!veth_ready()) {
        if (std::chrono::steady_clock::now() > until) {
            r.expect(false, "sfv0 did not come up with an IPv6 address within 5 s");
            return false;
        }
        std::this_thread::sleep_for(10ms);  // polling the condition above, not waiting blind
    }
    return true;
}

void multicast_v4(test_support::netns_report& r) {
    const std::uint32_t lo = sf::detail::interface_index("lo");
    const sf::ipv4_address group({239, 1, 2, 3}, 0);
    sf::udp_socket rx(sf::ipv4_address::any(0));
    const auto port = rx.local_address().port();
    rx.join_group(group, lo);
    rx.enable_metadata(sf::metadata::destination);
    sf::udp_socket tx(sf::ipv4_address::loopback(0));
    tx.set_multicast_interface(lo);
    tx.set_multicast_hops(3);
    tx.set_multicast_loopback(true);
    tx.send_to(std::string("to the group"), sf::ipv4_address({239, 1, 2, 3}, port));
    char out[64];
    sf::datagram_info info;
    std::error_code ec;
    const std::size_t n = rx.receive_from(sf::mutable_buffer(out, sizeof out), info, 5s, ec);
    r.expect(!ec && std::string(out, n) == "to the group",
             "v4: the group datagram did not arrive: " + ec.message());
    r.expect(info.destination.to_string() == "239.1.2.3:0",
             "v4: destination " + info.destination.to_string());
    // loopback, on a veth interface: off, this host's members do not get the datagram
    if (!make_veth(r)) return;
    const std::uint32_t veth = sf::detail::interface_index("sfv0");
    const sf::ipv4_address vgroup({239, 7, 7, 7}, 0);
    sf::udp_socket vrx(sf::ipv4_address::any(0));
    const auto vport = vrx.local_address().port();
    vrx.join_group(vgroup, veth);
    sf::udp_socket vtx(sf::ipv4_address({10, 77, 0, 1}, 0));
    vtx.set_multicast_interface(veth);
    vtx.set_multicast_loopback(false);
    vtx.send_to(std::string("not looped"), sf::ipv4_address({239, 7, 7, 7}, vport));
    vtx.set_multicast_loopback(true);
    vtx.send_to(std::string("looped"), sf::ipv4_address({239, 7, 7, 7}, vport));
    r.expect(next_text(vrx) == "looped", "v4: with loopback off the group datagram still arrived");
    // after leaving, nothing for the group arrives
    rx.leave_group(group, lo);
    tx.send_to(std::string("after leave"), sf::ipv4_address({239, 1, 2, 3}, port));
    tx.send_to(std::string("marker 1"), sf::ipv4_address::loopback(port));
    r.expect(next_text(rx) == "marker 1", "v4: a datagram arrived after leave_group");
    rx.leave_group(group, lo, ec);
    r.expect(static_cast<bool>(ec), "v4: leaving a group not joined was not an error");

    // source-specific: only the chosen source's datagrams
    const sf::ipv4_address ssm({232, 1, 1, 1}, 0);
    sf::udp_socket srx(sf::ipv4_address::any(0));
    const auto sport = srx.local_address().port();
    srx.join_source_group(ssm, sf::ipv4_address({127, 0, 0, 1}, 0), lo);
    sf::udp_socket other(sf::ipv4_address({127, 0, 0, 2}, 0));
    other.set_multicast_interface(lo);
    other.send_to(std::string("wrong source"), sf::ipv4_address({232, 1, 1, 1}, sport));
    tx.send_to(std::string("right source"), sf::ipv4_address({232, 1, 1, 1}, sport));
    r.expect(next_text(srx) == "right source", "v4 SSM: the other source's datagram arrived");
    srx.leave_source_group(ssm, sf::ipv4_address({127, 0, 0, 1}, 0), lo);
    tx.send_to(std::string("after leave"), sf::ipv4_address({232, 1, 1, 1}, sport));
    tx.send_to(std::string("marker 2"), sf::ipv4_address::loopback(sport));
    r.expect(next_text(srx) == "marker 2", "v4 SSM: a datagram arrived after leave_source_group");
}

void multicast_v6(test_support::netns_report& r) {
    // on a veth interface: lo carries no IPv6 multicast
    if (!make_veth(r)) return;
    const std::uint32_t veth = sf::detail::interface_index("sfv0");
    std::error_code ec;
    const auto group = sf::ipv6_address::parse("ff12::1234", 0, ec);
    sf::udp6_socket rx(sf::ipv6_address::any(0));
    const auto port = rx.local_address().port();
    rx.join_group(group, veth);
    sf::udp6_socket tx(sf::ipv6_address::any(0));
    tx.set_multicast_interface(veth);
    tx.set_multicast_hops(1);
    const auto to = sf::ipv6_address::parse("ff12::1234", port, ec);
    tx.set_multicast_loopback(false);
    tx.send_to(std::string("not looped"), to);
    tx.set_multicast_loopback(true);
    tx.send_to(std::string("six group"), to);
    char out[64];
    const auto got = rx.receive_from(sf::mutable_buffer(out, sizeof out), 5s, ec);
    r.expect(
        !ec && std::string(out, got.size) == "six group",
        "v6: the group datagram did not arrive first: " + std::string(out, got.size) + " " + ec.message());
    const sf::ipv6_address sender = got.from;  // sfv0's link-local address
    rx.leave_group(group, veth);
    tx.send_to(std::string("after leave"), to);
    tx.send_to(std::string("marker"), sf::ipv6_address::loopback(port));
    r.expect(next_text(rx) == "marker", "v6: a datagram arrived after leave_group");
    // source-specific over IPv6: the sender's address is the only source accepted
    sf::udp6_socket srx(sf::ipv6_address::any(0));
    const auto sport = srx.local_address().port();
    const auto ssm = sf::ipv6_address::parse("ff32::8000:1", 0, ec);
    srx.join_source_group(ssm, sender, veth);
    tx.send_to(std::string("ssm six"), sf::ipv6_address::parse("ff32::8000:1", sport, ec));
    r.expect(next_text(srx) == "ssm six", "v6 SSM: the source's datagram did not arrive");
    sf::udp6_socket other(sf::ipv6_address::loopback(0));
    other.set_multicast_interface(veth);
    srx.join_source_group(ssm, sf::ipv6_address::loopback(0), veth, ec);  // a second source is allowed
    r.expect(!ec, "v6 SSM: adding a second source failed: " + ec.message());
    srx.leave_source_group(ssm, sf::ipv6_address::loopback(0), veth);
}

void run(void (*check)(test_support::netns_report&), const char* what) {
    const std::string why = test_support::netns_unavailable();
    if (!why.empty()) {
        MESSAGE("skipped: " << what << ", because " << why);
        return;
    }
    bool skipped = false;
    const std::string failures = test_support::run_in_netns(check, skipped);
    if (skipped) {
        MESSAGE("skipped: " << what << ", because " << failures);
        return;
    }
    CHECK_MESSAGE(failures.empty(), failures);
}
}  // namespace

TEST_CASE(
    "IPv4 multicast in a namespace of its own: join, interface, hops, loopback, leave, source-specific") {
    run(multicast_v4, "IPv4 multicast");
}
TEST_CASE("IPv6 multicast in a namespace of its own: join, interface, hops, leave, source-specific") {
    run(multicast_v6, "IPv6 multicast");
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "IPv4 multicast in a namespace of its own: join, interface, hops, loopback, leave, source-specific",
    "the test makes its own network namespace, which is Linux only")
#endif
