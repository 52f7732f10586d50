// The protocol codecs (text lengths, chunked, COBS, SLIP) and the PROXY protocol under the
// strictest warnings, instantiated as programs use them. Built, never run.
#include <sockframe/sockframe.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sf = sockframe;

namespace {

template <typename Codec>
void use_codec(Codec codec) {
    (void)sf::codec_check<Codec>::ok;
    const std::string payload = "payload";
    sf::frame_parts parts;
    (void)codec.encode(sf::const_buffer(payload), parts);
    auto r = codec.decode(sf::const_buffer(payload));
    (void)r.consumed;
    (void)codec.max_frame_bytes();
    codec.reset();
    std::vector<std::byte> out(payload.size() + sf::codec_traits<Codec>::max_overhead_v + 1);
    (void)sf::detail::encode_into(codec, sf::const_buffer(payload), out.data());
    auto [a, b] = sf::socketpair<sf::unix_stream>();
    sf::framed<sf::unix_stream, Codec> conn(std::move(a), codec);
    std::error_code ec;
    conn.send(payload, ec);
    if (auto m = conn.try_receive(ec)) (void)m->size();
    conn.feed_received(sf::const_buffer(payload));
    (void)b;
}

void use_proxy() {
    sf::proxy_header h;
    const std::string line = "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n";
    auto r = sf::parse_proxy_header(sf::const_buffer(line), h);
    (void)r;
    (void)sf::make_proxy_header_v1(h);
    auto v2 = sf::make_proxy_header_v2(h, {}, true);
    sf::proxy_tlv t = h.find_tlv(sf::proxy_tlv_type::authority);
    (void)t;
    (void)v2.size();
    sf::proxy_trust trust = sf::proxy_trust::loopback();
    (void)trust.trusts(h.source());
    sf::event_loop loop;
    sf::server_options o;
    o.proxy_protocol = sf::proxy_protocol_mode::require;
    o.trusted_proxies = trust;
    sf::framed_server<sf::tcp_listener_nb, sf::length_prefix<std::uint32_t>> s(loop, {}, o);
    s.on_open([](auto& c) {
        if (const sf::proxy_header* p = c.proxy()) (void)p->source_port;
    });
}

}  // namespace

void strict_protocols() {
    use_codec(sf::make_octet_counting());
    use_codec(sf::make_hex_length());
    use_codec(sf::chunked{});
    use_codec(sf::cobs{});
    use_codec(sf::slip{});
    use_proxy();
    sf::chunked c;
    sf::const_buffer rest = c.trailers(), name, value;
    (void)sf::chunked::next_trailer(rest, name, value);
}
