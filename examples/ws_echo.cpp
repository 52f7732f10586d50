// ws_echo: a WebSocket echo server. Every message (text or binary, fragmented or not) comes back
// as it was sent; pings are answered; a close from the client is answered with the same code.
//
//   ws_echo [--host H] [--port P]      (port 0 or none: the system picks one)
//
// Prints "READY <port>" once listening. One thread serves every client: a framed_server on an
// event loop reads each connection's upgrade request and then its frames with the sans-IO parts
// of websocket.hpp (frame_codec, message_assembler, the handshake functions), and the replies of
// one wake-up leave in one write per connection.
#include <sockframe/sockframe.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sf = sockframe;
namespace ws = sockframe::websocket;

namespace {

constexpr std::size_t max_message = SOCKFRAME_DEFAULT_MAX_FRAME;  // 16 MiB: above it, close 1009

/// The bytes of a connection: its HTTP upgrade request (one frame: the head), then WebSocket
/// frames. Stateless between frames (the server resets a codec whenever a connection has
/// nothing buffered): a head starts with "GET", which no frame can (0x47 has RSV1 set and a
/// reserved opcode). A decode error is delivered as an empty frame with failure() set, so that
/// the connection can answer it with a close frame before it ends; encode sends bytes already
/// framed (the handler writes whole frames).
class upgrade_codec {
public:
    std::size_t max_frame() const noexcept { return frames_.max_frame(); }
    std::size_t max_frame_bytes() const noexcept { return frames_.max_frame_bytes(); }

    sf::decode_result decode(sf::const_buffer input) noexcept {
        failure_ = {};
        if (input.empty()) return sf::decode_result::need_more();
        if (input[0] == std::byte{'G'}) {
            const std::size_t head = ws::find_head_end(input);
            if (head != 0) return sf::decode_result::frame(input.first(head), head);
            if (input.size() < ws::default_max_head) return sf::decode_result::need_more();
            return fail(input, make_error_code(sf::errc::frame_too_large));
        }
        const sf::decode_result r = frames_.decode(input);
        return r.is_error() ? fail(input, r.error) : r;
    }
    void reset() noexcept { failure_ = {}; }
    std::error_code encode(sf::const_buffer payload, sf::frame_parts& out) const {
        out.reset(payload);
        return {};
    }

    /// Why the empty frame just delivered ended the stream (clear for any other frame).
    std::error_code failure() const noexcept { return failure_; }

private:
    sf::decode_result fail(sf::const_buffer input, std::error_code why) noexcept {
        failure_ = why;
        return sf::decode_result::frame(input.first(0), input.size());  // what is buffered is dropped
    }

    ws::frame_codec frames_{ws::role::server, max_message};
    std::error_code failure_;
};

/// What a connection keeps between frames.
struct client {
    bool upgraded = false;
    ws::message_assembler messages{max_message};
    std::vector<std::byte> out;  // the frame being written
};

/// Queues one unmasked frame.
template <typename Connection>
void send_frame(Connection& c, client& s, ws::opcode op, sf::const_buffer payload) {
    s.out.clear();
    ws::encode_frame(true, op, payload, false, s.out);
    c.send(sf::const_buffer{s.out.data(), s.out.size()});
}

/// Queues a close frame with `code` (none for 0) and `reason`, then closes once it has left.
template <typename Connection>
void close_with(Connection& c, client& s, std::uint16_t code, std::string_view reason = {}) {
    std::string body;
    if (code != 0) {
        body.push_back(static_cast<char>(code >> 8));
        body.push_back(static_cast<char>(code & 0xFF));
        body.append(reason.data(), reason.size());
    }
    send_frame(c, s, ws::opcode::close, sf::const_buffer{body.data(), body.size()});
    c.close();
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view arg = argv[i];
        if (arg == "--port") {
            port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
        } else if (arg == "--host") {
            host = argv[i + 1];
        } else {
            std::cerr << "usage: ws_echo [--host H] [--port P]\n";
            return 2;
        }
    }
    try {
        using listener = sf::basic_listener<sf::ip, sf::stream, sf::non_blocking>;
        sf::event_loop loop;
        sf::server_options options;
        options.high_water_mark = 2 * max_message + 64;  // a whole echo is queued at once
        sf::framed_server<listener, upgrade_codec> server(loop, upgrade_codec{}, options);
        server.on_open([](auto& c) { c.user = new client; });
        server.on_close([](auto& c, std::error_code why) {
            delete static_cast<client*>(c.user);
            c.user = nullptr;
            if (why) std::cerr << "ws_echo: " << why.message() << "\n";
        });
        server.on_frame([](auto& c, sf::const_buffer frame) {
            client& s = *static_cast<client*>(c.user);
            if (const std::error_code why = c.io().codec().failure()) {
                if (!s.upgraded) return c.close(why);  // a head too long: no WebSocket yet
                std::cerr << "ws_echo: " << why.message() << "\n";
                return close_with(c, s,
                                  why == sf::errc::frame_too_large ? ws::close_code::message_too_big
                                                                   : ws::close_code::protocol_error);
            }
            if (!s.upgraded) {  // the opening handshake
                ws::request request;
                const std::error_code ec = ws::parse_request(frame.str(), request);
                const std::string answer = ec ? ws::refusal(ec) : ws::response(request.key);
                c.send(sf::const_buffer{answer.data(), answer.size()});
                if (ec) return c.close(ec);  // on_close reports it
                s.upgraded = true;
                return;
            }
            if (frame[0] == std::byte{'G'})  // a second upgrade request
                return close_with(c, s, ws::close_code::protocol_error);
            const ws::event e = s.messages.feed(frame);
            switch (e.type) {
                case ws::event::kind::none:
                case ws::event::kind::pong: break;
                case ws::event::kind::text:
                case ws::event::kind::binary:
                    send_frame(c, s, e.type == ws::event::kind::text ? ws::opcode::text : ws::opcode::binary,
                               e.data);
                    break;
                case ws::event::kind::ping: send_frame(c, s, ws::opcode::pong, e.data); break;
                case ws::event::kind::close:  // the same code and reason back, then the end
                    close_with(c, s, e.code == ws::close_code::no_status ? 0 : e.code, e.reason);
                    break;
                case ws::event::kind::failure:
                    std::cerr << "ws_echo: " << e.error.message() << "\n";
                    close_with(c, s, e.code);
                    break;
            }
        });
        server.listen(listener(sf::ip_address::parse(host, port)));
        std::cout << "READY " << server.local_address().port() << std::endl;
        loop.run();
    } catch (const std::exception& e) {
        std::cerr << "ws_echo: " << e.what() << "\n";
        return 1;
    }
}
