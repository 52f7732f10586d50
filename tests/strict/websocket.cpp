// Strict-warning instantiations of the WebSocket codec, assembler, handshake and session (built,
// never run).
#include <sockframe/sockframe.hpp>

#include <string>
#include <vector>

namespace sf = sockframe;
namespace ws = sockframe::websocket;

void strict_websocket_framed(sf::unix_stream endpoint);
void strict_websocket_framed(sf::unix_stream endpoint) {
    sf::framed conn{std::move(endpoint), ws::frame_codec{ws::role::server, 1 << 20, ws::opcode::text}};
    std::error_code ec;
    conn.send(std::string("hello"), ec);
    ws::message_assembler assembler;
    if (auto frame = conn.receive(ec)) {
        const ws::event e = assembler.feed(*frame);
        (void)e.data.size();
        ws::frame f;
        if (!ws::parse_frame(*frame, f)) {
            std::vector<std::byte> copy(f.payload.size());
            ws::unmask(f.payload.data(), copy.data(), copy.size(), f.mask, 3);
        }
    }
    std::vector<std::byte> out;
    ws::encode_frame(true, ws::opcode::ping, sf::const_buffer{"x", 1}, true, out);
    std::byte header[ws::max_header_size];
    (void)ws::encode_header(false, ws::opcode::binary, 70000, nullptr, header);
    ws::request r;
    (void)ws::parse_request("GET / HTTP/1.1\r\n\r\n", r);
    (void)ws::check_response(ws::response(ws::make_key()), ws::make_key());
    (void)ws::client_request("h", "/", ws::make_key());
    (void)ws::refusal(ws::error::bad_key);
}

void strict_websocket_session(sf::tcp_stream a, sf::unix_stream b);
void strict_websocket_session(sf::tcp_stream a, sf::unix_stream b) {
    std::error_code ec;
    auto server = ws::session::accept(std::move(a), {}, std::chrono::seconds(1), ec);
    if (auto m = server.receive(std::chrono::seconds(1), ec)) server.send(m->data, m->text, {}, ec);
    server.ping(sf::const_buffer{}, {}, ec);
    server.close(ws::close_code::going_away, "bye", std::chrono::seconds(1), ec);
    auto client = ws::basic_session<sf::unix_stream>::connect(std::move(b), "host", "/", {}, {}, ec);
    client.send_frame(false, ws::opcode::text, sf::const_buffer{"a", 1}, {}, ec);
    client.send_frame(true, ws::opcode::continuation, sf::const_buffer{"b", 1}, {}, ec);
    (void)client.close_code();
    (void)client.close_reason();
    (void)client.pongs();
    (void)client.is_closed();
}
