#include <sockframe/options.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "support/net.hpp"
#include "support/netns.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
std::pair<sf::tcp_stream, sf::tcp_stream> tcp_pair() {
    sf::tcp_listener listener(sf::ipv4_address::loopback(0));
    auto client = sf::tcp_stream::connect(listener.local_address(), 5s);
    auto accepted = listener.accept(5s);
    return {std::move(client), std::move(accepted.socket)};
}
}  // namespace

#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
TEST_CASE("keep-alive idle, interval and count are set and read back") {
    auto [a, b] = tcp_pair();
    a.set(sf::keep_alive{true});
    a.set(sf::keep_alive_idle{37s});
    a.set(sf::keep_alive_interval{6s});
    a.set(sf::keep_alive_count{4});
    CHECK(a.get<sf::keep_alive>().value);
    CHECK(a.get<sf::keep_alive_idle>().value == 37s);
    CHECK(a.get<sf::keep_alive_interval>().value == 6s);
    CHECK(a.get<sf::keep_alive_count>().value == 4);
    std::error_code ec;
    a.set(sf::keep_alive_count{-1}, ec);  // the kernel refuses: an error, not a crash
    CHECK(ec);
}
#elif defined(SOCKFRAME_WINDOWS)
TEST_CASE("keep-alive idle, interval and count on Windows: the TCP_KEEP* options, else SIO_KEEPALIVE_VALS") {
    auto [a, b] = tcp_pair();
    a.set(sf::keep_alive{true});
    std::error_code probe;  // whether this Windows has the socket options
    const int six = 6;
    a.set_option(IPPROTO_TCP, sf::detail::tcp_keep_interval, sf::const_buffer(&six, sizeof six), probe);
    a.set(sf::keep_alive_interval{6s});  // neither throws: the option, or the ioctl
    a.set(sf::keep_alive_idle{37s});
    std::error_code ec;
    a.set(sf::keep_alive_count{4}, ec);
    if (!probe) {  // Windows 10 1709 and later: real options, read back
        CHECK_FALSE(ec);
        CHECK(a.get<sf::keep_alive_idle>().value == 37s);
        CHECK(a.get<sf::keep_alive_interval>().value == 6s);
        CHECK(a.get<sf::keep_alive_count>().value == 4);
        CHECK(a.get<sf::keep_alive>().value);
    } else {
        // wine 8 and Windows before 10 1709: idle and interval went through SIO_KEEPALIVE_VALS,
        // which nothing reads back; the probe count is fixed
        CHECK(probe == std::errc::no_protocol_option);
        CHECK(ec == std::errc::no_protocol_option);
        a.get<sf::keep_alive_idle>(ec);
        CHECK(ec == std::errc::no_protocol_option);
        MESSAGE(
            "skipped: reading keep-alive timing back and setting the probe count, because this system "
            "has no TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT (set through SIO_KEEPALIVE_VALS instead)");
    }
    // the ioctl itself, as the fallback uses it, and its refusal on a socket that is not TCP
    CHECK_FALSE(sf::detail::keep_alive_values(a.native_handle(), 37s, 6s));
    sf::udp_socket udp(sf::ipv4_address::loopback(0));
    CHECK(sf::detail::keep_alive_values(udp.native_handle(), 37s, 6s));
}
#else
SOCKFRAME_SKIPPED_TEST_CASE("keep-alive idle, interval and count are set and read back",
                            "this system's headers have no TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT")
#endif

#if defined(TCP_USER_TIMEOUT)
TEST_CASE("TCP_USER_TIMEOUT is set and read back in milliseconds") {
    auto [a, b] = tcp_pair();
    a.set(sf::user_timeout{1500ms});
    CHECK(a.get<sf::user_timeout>().value == 1500ms);
    a.set(sf::user_timeout{0ms});
    CHECK(a.get<sf::user_timeout>().value == 0ms);
}
#else
SOCKFRAME_SKIPPED_TEST_CASE("TCP_USER_TIMEOUT is set and read back in milliseconds", "Linux only")
#endif

TEST_CASE("SO_LINGER with reset-on-close: the peer sees a reset, not an orderly end") {
    auto [a, b] = tcp_pair();
    a.set(sf::linger_reset());
    auto l = a.get<sf::linger>();
    CHECK(l.enabled);
    CHECK(l.timeout == 0s);
    a.write_all(std::string("unread by nobody"));
    b.set(sf::linger_reset());
    b.close();  // b never read: its close with reset-on-close sends RST
    std::error_code ec;
    char buffer[64];
    std::size_t total = 0;
    for (int i = 0; i < 10 && !ec; ++i) {
        const std::size_t n = a.read_some(sf::mutable_buffer(buffer, sizeof buffer), 5s, ec);
        if (!ec && n == 0) break;
        total += n;
    }
#if defined(_WIN32)
    if (ec != std::errc::connection_reset &&
        ::GetProcAddress(::GetModuleHandleA("ntdll.dll"), "wine_get_version")) {
        MESSAGE("skipped: the reset check, because wine closes a lingering socket in order");
    } else
#endif
    {
        CHECK(ec == std::errc::connection_reset);
        CHECK(total == 0);
    }
    // and with linger off (the default) the same close is an orderly end
    auto [c, d] = tcp_pair();
    CHECK_FALSE(d.get<sf::linger>().enabled);
    d.close();
    CHECK(c.read_some(sf::mutable_buffer(buffer, sizeof buffer), 5s) == 0);
}

#if defined(SO_REUSEPORT)
TEST_CASE("SO_REUSEPORT lets two sockets bind one port; without it the second bind fails") {
    auto first = sf::udp_socket::open();
    first.set(sf::reuse_port{true});
    first.bind(sf::ipv4_address::loopback(0));
    const auto port = first.local_address().port();
    auto second = sf::udp_socket::open();
    second.set(sf::reuse_port{true});
    CHECK(second.get<sf::reuse_port>().value);
    std::error_code ec;
    second.bind(sf::ipv4_address::loopback(port), ec);
    CHECK_FALSE(ec);
    auto third = sf::udp_socket::open();
    third.bind(sf::ipv4_address::loopback(port), ec);
    CHECK(ec == std::errc::address_in_use);
}
#else
SOCKFRAME_SKIPPED_TEST_CASE("SO_REUSEPORT lets two sockets bind one port; without it the second bind fails",
                            "this system has no SO_REUSEPORT")
#endif

#if defined(SOCKFRAME_LINUX) && defined(TCP_INFO)
TEST_CASE("TCP_INFO as a struct: an established connection with an RTT and a congestion window") {
    auto [a, b] = tcp_pair();
    a.write_all(std::string(1000, 'i'));
    char buffer[1000];
    b.read_exact(sf::mutable_buffer(buffer, sizeof buffer), 5s);
    b.write_all(std::string("ack"));
    a.read_exact(sf::mutable_buffer(buffer, 3), 5s);
    const auto info = a.get<sf::tcp_info>();
    CHECK(info.state == 1);  // TCP_ESTABLISHED
    CHECK(info.rtt > 0us);
    CHECK(info.congestion_window >= 1);
    CHECK(info.send_mss > 0);
    CHECK(info.total_retransmits == 0);
    b.close();
    a.read_some(sf::mutable_buffer(buffer, sizeof buffer), 5s);
    CHECK(a.get<sf::tcp_info>().state != 1);  // CLOSE_WAIT once the peer's FIN arrived
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "TCP_INFO as a struct: an established connection with an RTT and a congestion window",
    "TCP_INFO is read as a struct on Linux only")
#endif

#if defined(__linux__) && defined(TCP_FASTOPEN) && defined(TCP_FASTOPEN_CONNECT)
TEST_CASE("TCP Fast Open: the second connection's first write travels in the SYN (own namespace)") {
    bool skipped = false;
    const std::string why = test_support::netns_unavailable();
    if (!why.empty()) {
        MESSAGE("skipped: TCP Fast Open, because " << why);
        return;
    }
    const std::string failures = test_support::run_in_netns(
        [](test_support::netns_report& r) {
            // client and server Fast Open in this namespace only (net.ipv4.tcp_fastopen is per namespace)
            FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_fastopen", "w");
            r.expect(f != nullptr, "cannot write net.ipv4.tcp_fastopen");
            if (f == nullptr) return;
            std::fputs("3", f);
            std::fclose(f);
            sf::tcp_listener listener(sf::ipv4_address::loopback(0));
            listener.socket().set(sf::fast_open{16});  // Linux takes it on a listening socket too
            for (int round = 0; round < 2; ++round) {
                auto client = sf::tcp_stream::open();
                client.set(sf::fast_open_connect{true});
                r.expect(client.get<sf::fast_open_connect>().value, "fast_open_connect not read back");
                client.connect_to(listener.local_address(), 5s);
                client.write_all(std::string("hello in syn"));
                auto accepted = listener.accept(5s);
                char buffer[32];
                const std::size_t n = accepted.socket.read_exact(sf::mutable_buffer(buffer, 12), 5s);
                r.expect(std::string(buffer, n) == "hello in syn", "the server did not read the first write");
                const bool syn_data = client.get<sf::tcp_info>().syn_data_acknowledged;
                if (round == 0) r.expect(!syn_data, "first connection: no cookie yet, yet SYN data");
                if (round == 1) r.expect(syn_data, "second connection: the SYN did not carry the data");
            }
        },
        skipped);
    if (skipped) {
        MESSAGE("skipped: TCP Fast Open, because " << failures);
        return;
    }
    CHECK_MESSAGE(failures.empty(), failures);
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "TCP Fast Open: the second connection's first write travels in the SYN (own namespace)",
    "TCP_FASTOPEN_CONNECT is Linux only")
#endif
