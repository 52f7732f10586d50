// Strict-warning unit for batched datagrams, per-datagram metadata and socket options: built by
// CI against the single header, never run.
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace sf = sockframe;

namespace {

template <typename Socket>
void use_datagrams(Socket& s, const typename Socket::address_type& to) {
    std::error_code ec;
    s.enable_metadata(sf::metadata::all, true, ec);
    std::byte space[2][64];
    sf::datagram_info info[2];
    sf::message_slot slots[2];
    for (std::size_t i = 0; i < 2; ++i) {
        slots[i].buffer = sf::mutable_buffer(space[i], sizeof space[i]);
        slots[i].info = &info[i];
    }
    (void)s.receive_batch(slots, 2, sf::deadline{}, ec);
    (void)s.receive_from(sf::mutable_buffer(space[0], 64), info[0], sf::deadline{}, ec);
    (void)info[0].ecn();
    sf::datagram_source source;
    (void)s.send_to(sf::const_buffer(space[0], 8), to, source, sf::deadline{}, ec);
    const sf::const_buffer parts[2] = {sf::const_buffer(space[0], 2), sf::const_buffer(space[1], 6)};
    const sf::message_view views[1] = {{parts, 2}};
    (void)s.send_batch(views, 1, sf::deadline{}, ec);
    s.join_group(to, 1, ec);
    s.leave_group(to, 0, ec);
    s.join_source_group(to, to, 2, ec);
    s.leave_source_group(to, to, 2, ec);
    s.set_multicast_interface(1, ec);
    s.set_multicast_hops(4, ec);
    s.set_multicast_loopback(false, ec);
    (void)s.send_segments(sf::const_buffer(space[0], 64), 16, sf::deadline{}, ec);
    (void)s.segmentation_offload();
    s.enable_gro(true, ec);
}

template <typename Endpoint, typename Codec>
void use_framed_datagrams(Endpoint endpoint, Codec codec) {
    sf::framed conn{std::move(endpoint), std::move(codec)};
    std::error_code ec;
    const std::string payload = "payload";
    const sf::const_buffer views[] = {sf::const_buffer(payload), sf::const_buffer(payload)};
    conn.send_batch(views, 2, ec);
    conn.receive_batch([](sf::const_buffer b) { (void)b.size(); }, sf::deadline{}, ec);
    conn.receive_batch([](sf::const_buffer b) { return b.size() > 0; }, sf::deadline{}, ec);
    if (auto m = conn.receive(std::chrono::seconds(1), ec)) (void)m->size();
}

void use_tcp_options(sf::tcp_stream& s) {
    std::error_code ec;
    s.set(sf::linger_reset(), ec);
#if defined(TCP_KEEPIDLE) || defined(_WIN32)
    s.set(sf::keep_alive_idle{std::chrono::seconds(30)}, ec);
    (void)s.get<sf::keep_alive_idle>(ec).value.count();
#endif
#if (defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)) || defined(_WIN32)
    s.set(sf::keep_alive_interval{std::chrono::seconds(5)}, ec);
    s.set(sf::keep_alive_count{3}, ec);
    (void)s.get<sf::keep_alive_count>(ec).value;
#endif
#if defined(TCP_USER_TIMEOUT)
    s.set(sf::user_timeout{std::chrono::milliseconds(1500)}, ec);
    (void)s.get<sf::user_timeout>(ec).value.count();
#endif
#if defined(TCP_FASTOPEN) && defined(TCP_FASTOPEN_CONNECT)
    s.set(sf::fast_open{16}, ec);
    s.set(sf::fast_open_connect{true}, ec);
#endif
#if defined(SOCKFRAME_LINUX)
    const sf::tcp_info info = s.get<sf::tcp_info>(ec);
    (void)info.rtt.count();
#endif
}

#if defined(SOCKFRAME_POSIX)
template <typename Socket>
void use_descriptors(Socket& s) {
    std::error_code ec;
    const int fds[1] = {0};
    const sf::const_buffer data(fds, sizeof fds);
    (void)sf::send_with_descriptors(s, &data, 1, fds, 1, sf::deadline{}, ec);
    sf::received_descriptors got(4);
    int space[4];
    (void)sf::receive_with_descriptors(s, sf::mutable_buffer(space, sizeof space), got, sf::deadline{}, ec);
    (void)sf::peer_credentials(s, ec).uid;
    (void)got.release(0);
}
template <typename Endpoint>
void use_framed_descriptors(Endpoint endpoint) {
    sf::framed f{std::move(endpoint), sf::length_prefix<std::uint32_t>{}};
    std::error_code ec;
    const int fds[1] = {0};
    sf::send_with_descriptors(f, sf::const_buffer(fds, sizeof fds), fds, 1, sf::deadline{}, ec);
    sf::received_descriptors got;
    std::byte space[64];
    if (auto m =
            sf::receive_with_descriptors(f, sf::mutable_buffer(space, sizeof space), got, sf::deadline{}, ec))
        (void)m->size();
}
#endif

void use_file_frame(sf::tcp_stream s) {
    sf::framed f{std::move(s), sf::length_prefix<std::uint32_t>{}};
    std::error_code ec;
    sf::send_file_frame(f, 3, 0, 100, sf::deadline{}, ec);
    (void)f.endpoint().send_file(3, 10, 20, sf::deadline{}, ec);
}

}  // namespace

void strict_datagrams() {
#if defined(SOCKFRAME_HAS_VSOCK)
    std::error_code vec;
    sf::vsock_listener vl(sf::vsock_address(sf::vsock_address::any_cid, 5000), vec);
    auto vs = sf::vsock_stream::connect(sf::vsock_address::local(5000), std::chrono::seconds(1), vec);
    sf::framed vf{std::move(vs), sf::length_prefix<std::uint32_t>{}};
    vf.send("x", vec);
    (void)vl.local_address(vec).port();
#endif
    use_file_frame(sf::tcp_stream{});
#if defined(SOCKFRAME_POSIX)
    sf::unix_stream us;
    use_descriptors(us);
    sf::unix_datagram ud;
    use_descriptors(ud);
    sf::unix_seqpacket_nb useq;
    use_descriptors(useq);
    use_framed_descriptors(sf::unix_datagram{});
    use_framed_descriptors(sf::unix_seqpacket{});
    std::error_code pec;
    char peeked[4];
    (void)us.peek(sf::mutable_buffer(peeked, sizeof peeked), sf::deadline{}, pec);
    (void)ud.peek(sf::mutable_buffer(peeked, sizeof peeked), sf::deadline{}, pec);
#endif
    sf::tcp_stream t;
    use_tcp_options(t);
    sf::udp_socket u;
    use_datagrams(u, sf::ipv4_address::loopback(0));
    sf::udp6_socket u6;
    use_datagrams(u6, sf::ipv6_address::loopback(0));
    sf::udp_socket_nb unb;
    use_datagrams(unb, sf::ipv4_address::loopback(0));
    use_framed_datagrams(sf::udp_socket{}, sf::length_prefix<std::uint16_t>{1200});
    use_framed_datagrams(sf::udp_socket_nb{}, sf::length_prefix<std::uint32_t>{});
#if defined(SOCKFRAME_POSIX)
    use_framed_datagrams(sf::unix_datagram{}, sf::length_prefix<std::uint16_t>{});
    use_framed_datagrams(sf::unix_datagram_nb{}, sf::length_prefix<std::uint32_t>{1 << 20});
#endif
}
