// chat_server: every message a client sends goes to every other client. One thread serves all
// clients with a framed_server on an event loop; each message is a frame (4-byte length, then
// the text), so messages never stick together or break apart.
//
// Protocol: a client's first frame is its name; the server answers "welcome <name>" and tells
// the others "* <name> joined". Each later frame is broadcast as "<name>: <text>".
//
//   chat_server [port]      prints "READY <port>"
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <string_view>

namespace sf = sockframe;

namespace {
using server = sf::framed_server<sf::tcp_listener_nb, sf::length_prefix<std::uint32_t>>;

class chat {
public:
    explicit chat(std::uint16_t port) : server_(loop_, {}, limits()) {
        server_.on_frame([this](server::connection& c, sf::const_buffer frame) { handle(c, frame.str()); });
        server_.on_close([this](server::connection& c, std::error_code) { left(c); });
        server_.listen(sf::tcp_listener_nb(sf::ipv4_address::loopback(port)));
    }
    std::uint16_t port() const { return server_.local_address().port(); }
    void run() { loop_.run(); }

private:
    static sf::server_options limits() {
        sf::server_options o;
        // Back-pressure: a client that reads too slowly is dropped once 1 MiB waits for it,
        // instead of letting its queue grow without bound.
        o.high_water_mark = 1u << 20;
        // Out of descriptors (EMFILE), accepting pauses for 100 ms while the clients are served.
        o.accept_backoff = std::chrono::milliseconds(100);
        return o;
    }

    void handle(server::connection& c, std::string_view text) {
        auto it = names_.find(c.id());
        if (it == names_.end()) {
            std::string name = text.empty() ? "anonymous" : std::string(text);
            names_.emplace(c.id(), member{&c, name});
            send(c, "welcome " + name);
            broadcast(c.id(), "* " + name + " joined");
            std::cout << name << " joined" << std::endl;
        } else {
            broadcast(c.id(), it->second.name + ": " + std::string(text));
        }
    }

    // Queues `text` for one client (it leaves with the rest of this wake-up's replies); a send
    // that cannot even be queued drops that client.
    static void send(server::connection& c, const std::string& text) {
        std::error_code ec;
        if (!c.send(text, ec)) c.abort(ec);  // errc::buffer_full: too slow; or a broken connection
    }
    void broadcast(std::uint64_t from, const std::string& text) {
        for (auto& [id, m] : names_)
            if (id != from && m.conn->is_open()) send(*m.conn, text);
    }

    void left(server::connection& c) {
        auto it = names_.find(c.id());
        if (it == names_.end()) return;
        std::string name = std::move(it->second.name);
        names_.erase(it);
        std::cout << name << " left" << std::endl;
        broadcast(c.id(), "* " + name + " left");
    }

    struct member {
        server::connection* conn;
        std::string name;
    };

    sf::event_loop loop_;
    server server_;
    std::map<std::uint64_t, member> names_;  // the clients that have sent their name
};
}  // namespace

int main(int argc, char** argv) {
    chat server(static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0));
    std::cout << "READY " << server.port() << std::endl;
    server.run();
}
