// chat_server: every message a client sends goes to every other client. One thread serves all
// clients with a poller and non-blocking sockets; each message is a frame (4-byte length, then
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
#include <optional>
#include <string>
#include <vector>

namespace sf = sockframe;

namespace {
using stream = sf::tcp_stream_nb;
using listener = sf::tcp_listener_nb;
using connection = sf::framed<stream, sf::length_prefix<std::uint32_t>>;

struct client {
    connection conn;
    std::string name;  // empty until the first frame
};

class chat {
public:
    explicit chat(std::uint16_t port) : listener_(sf::ipv4_address::loopback(port)) {
        poller_.add(listener_, sf::interest::read, listener_key);
    }
    std::uint16_t port() const { return listener_.local_address().port(); }

    void run() {
        std::vector<sf::poll_event> events;
        for (;;) {
            if (accept_paused_until_) {
                poller_.wait(events, sf::deadline(*accept_paused_until_));
                if (sf::deadline::clock::now() >= *accept_paused_until_) {
                    accept_paused_until_.reset();
                    poller_.modify(listener_, sf::interest::read, listener_key);
                }
            } else {
                poller_.wait(events);
            }
            for (const auto& e : events) {
                if (e.key == listener_key)
                    accept_all();
                else
                    serve(e);
            }
            drop_pending();
        }
    }

private:
    static constexpr std::uint64_t listener_key = ~std::uint64_t{0};

    void accept_all() {
        for (;;) {
            std::error_code ec;
            auto accepted = listener_.accept(ec);
            if (ec) {
                // would-block: no more pending connections. Anything else (out of descriptors:
                // EMFILE) leaves the connection pending and the listener readable: stop watching
                // it for 100 ms rather than spin, and keep serving the clients meanwhile.
                if (!sf::is_would_block(ec)) {
                    poller_.modify(listener_, sf::interest::none, listener_key);
                    accept_paused_until_ = sf::deadline::clock::now() + std::chrono::milliseconds(100);
                }
                return;
            }
            std::uint64_t id = next_id_++;
            poller_.add(accepted.socket, sf::interest::read, id);
            auto& c = clients_.emplace(id, client{connection{std::move(accepted.socket)}, {}}).first->second;
            // Back-pressure: a client that reads too slowly is dropped once 1 MiB waits for it,
            // instead of letting its queue grow without bound.
            c.conn.set_high_water_mark(1u << 20);
        }
    }

    void serve(const sf::poll_event& e) {
        auto it = clients_.find(e.key);
        if (it == clients_.end()) return;  // dropped earlier in this batch
        client& c = it->second;
        if (e.writable) {
            // Its queue can move on: write what fits; stop asking for writability once empty.
            std::error_code ec;
            if (c.conn.flush(sf::deadline{}, ec))
                poller_.modify(c.conn.endpoint(), sf::interest::read, e.key);
            if (ec) return drop_later(e.key);
        }
        if (e.readable || e.hangup || e.error) {
            // Every complete frame that has arrived; a frame still incomplete stays buffered.
            for (;;) {
                std::error_code ec;
                auto frame = c.conn.try_receive(ec);
                if (frame) {
                    handle(e.key, c, frame->str());
                    continue;
                }
                if (!sf::is_would_block(ec)) drop_later(e.key);  // end-of-stream, or an error
                break;
            }
        }
    }

    void handle(std::uint64_t id, client& c, std::string_view text) {
        if (c.name.empty()) {
            c.name = text.empty() ? "anonymous" : std::string(text);
            send(id, "welcome " + c.name);
            broadcast(id, "* " + c.name + " joined");
            std::cout << c.name << " joined" << std::endl;
        } else {
            broadcast(id, c.name + ": " + std::string(text));
        }
    }

    // Queues `text` for one client; a send that cannot even be queued drops that client.
    void send(std::uint64_t id, const std::string& text) {
        client& c = clients_.at(id);
        std::error_code ec;
        c.conn.send(text, sf::deadline{}, ec);  // non-blocking: writes what fits, queues the rest
        if (ec) return drop_later(id);          // errc::buffer_full: too slow; or a broken connection
        if (c.conn.wants_write())
            poller_.modify(c.conn.endpoint(), sf::interest::read | sf::interest::write, id);
    }
    void broadcast(std::uint64_t from, const std::string& text) {
        for (auto& [id, c] : clients_)
            if (id != from && !c.name.empty()) send(id, text);
    }

    // Clients are dropped after the batch of events, never while a loop walks over them.
    void drop_later(std::uint64_t id) { to_drop_.push_back(id); }
    void drop_pending() {
        while (!to_drop_.empty()) {
            std::uint64_t id = to_drop_.back();
            to_drop_.pop_back();
            auto it = clients_.find(id);
            if (it == clients_.end()) continue;
            std::string name = it->second.name;
            poller_.remove(it->second.conn.endpoint());
            clients_.erase(it);  // closes the socket
            if (!name.empty()) {
                std::cout << name << " left" << std::endl;
                broadcast(id, "* " + name + " left");  // may drop more clients: the loop goes on
            }
        }
    }

    listener listener_;
    sf::poller poller_;
    std::map<std::uint64_t, client> clients_;
    std::vector<std::uint64_t> to_drop_;
    std::optional<sf::deadline::clock::time_point> accept_paused_until_;
    std::uint64_t next_id_ = 0;
};
}  // namespace

int main(int argc, char** argv) {
    chat server(static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0));
    std::cout << "READY " << server.port() << std::endl;
    server.run();
}
