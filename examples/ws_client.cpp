// ws_client: sends messages to a WebSocket server and prints each reply on its own line (an
// echo server sends each message back).
//
//   ws_client [--host H] --port P [--path /p] [--binary] [--fragment N] [--ping DATA]
//             [--close CODE] [--reason TEXT] MESSAGE...
//
// --binary sends binary messages (text otherwise); --fragment N sends each message in frames of
// N bytes; --ping sends a ping first, and prints "PONG <data>" once its pong has come back
// (before the first reply: the server answers in order). Then the client closes with CODE
// (default 1000) and prints "CLOSED <code> <reason>" as the server answered. Exit 0, or 1 on any
// error.
#include <sockframe/sockframe.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace sf = sockframe;
namespace ws = sockframe::websocket;

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", port, path = "/", ping, reason;
    bool binary = false, send_ping = false;
    std::size_t fragment = 0;
    int code = ws::close_code::normal;
    std::vector<std::string_view> messages;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--binary")
            binary = true;
        else if (arg == "--host" && has_value)
            host = argv[++i];
        else if (arg == "--port" && has_value)
            port = argv[++i];
        else if (arg == "--path" && has_value)
            path = argv[++i];
        else if (arg == "--fragment" && has_value)
            fragment = static_cast<std::size_t>(std::atol(argv[++i]));
        else if (arg == "--ping" && has_value)
            send_ping = true, ping = argv[++i];
        else if (arg == "--close" && has_value)
            code = std::atoi(argv[++i]);
        else if (arg == "--reason" && has_value)
            reason = argv[++i];
        else
            messages.push_back(arg);
    }
    if (port.empty()) {
        std::cerr
            << "usage: ws_client [--host H] --port P [--path /p] [--binary] [--fragment N] [--ping DATA]"
               " [--close CODE] [--reason TEXT] MESSAGE...\n";
        return 2;
    }
    try {
        const auto timeout = std::chrono::seconds(30);
        auto session = ws::session::connect(sf::tcp_stream::connect(host, port, timeout), host + ":" + port,
                                            path, {}, timeout);
        if (send_ping) session.ping(sf::const_buffer{ping.data(), ping.size()}, timeout);
        for (std::string_view message : messages) {
            const sf::const_buffer data{message.data(), message.size()};
            if (fragment == 0 || message.size() <= fragment) {
                session.send(data, !binary, timeout);
            } else {  // first frame text/binary, then continuations; FIN on the last
                std::error_code ec;
                for (std::size_t at = 0; at < message.size() && !ec; at += fragment) {
                    const bool last = message.size() - at <= fragment;
                    const auto op =
                        at == 0 ? (binary ? ws::opcode::binary : ws::opcode::text) : ws::opcode::continuation;
                    session.send_frame(last, op, data.subspan(at, last ? message.size() - at : fragment),
                                       timeout, ec);
                }
                if (ec) throw std::system_error(ec, "send");
            }
            auto reply = session.receive(timeout);
            if (!reply) throw std::runtime_error("the server closed the connection");
            if (send_ping && session.pongs() == 1) {
                std::cout << "PONG " << session.last_pong() << "\n";
                send_ping = false;
            }
            std::cout.write(reply->str().data(), static_cast<std::streamsize>(reply->str().size()));
            std::cout << "\n";
        }
        session.close(static_cast<std::uint16_t>(code), reason, timeout);
        if (send_ping && session.pongs() == 1) std::cout << "PONG " << session.last_pong() << "\n";
        std::cout << "CLOSED " << session.close_code() << " " << session.close_reason() << std::endl;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "ws_client: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
