// Strict-warning unit for framed's offloaded UDP paths (GSO runs in send_batch, GRO splitting in
// receive_batch) and the socket calls beneath them: built by CI against the single header, never run.
#include <sockframe/sockframe.hpp>

#include <string>

namespace sf = sockframe;

namespace {

template <typename Socket>
void use_segmented(Socket& s) {
    std::error_code ec;
    const std::string data(64, 'x');
    const sf::const_buffer parts[2] = {sf::const_buffer(data.data(), 2),
                                       sf::const_buffer(data.data() + 2, 30)};
    const sf::message_view views[2] = {{parts, 2}, {parts, 1}};
    (void)s.send_batch_segmented(views, 2, sf::deadline{}, ec);
    (void)s.gro_enabled();
}

template <typename Endpoint, typename Codec>
void use_framed_offload(Endpoint endpoint, Codec codec) {
    std::error_code ec;
    endpoint.enable_gro(true, ec);
    sf::framed conn{std::move(endpoint), std::move(codec)};
    const std::string payload(100, 'p');
    const sf::const_buffer views[] = {sf::const_buffer(payload), sf::const_buffer(payload)};
    conn.send_batch(views, 2, ec);
    conn.receive_batch([](sf::const_buffer b) { (void)b.size(); }, sf::deadline{}, ec);
    (void)conn.buffered();
}

}  // namespace

void strict_udp_offload_framed() {
    sf::udp_socket a;
    sf::udp6_socket b;
    use_segmented(a);
    use_segmented(b);
    use_framed_offload(sf::udp_socket{}, sf::length_prefix<std::uint16_t>{1200});
    use_framed_offload(sf::udp_socket_nb{}, sf::length_prefix<std::uint32_t>{1200});
    use_framed_offload(sf::udp6_socket{}, sf::line{});
#if defined(SOCKFRAME_POSIX)
    sf::unix_datagram u;
    use_segmented(u);
#endif
}
