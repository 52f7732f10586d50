// forwarder: a TCP port forwarder on one thread. Every client that connects is piped to the
// target both ways; when one side closes its sending side (shutdown), the forwarder passes that
// half-close on to the other side once all its bytes are through, so request/response protocols
// that end a request with shutdown(send) work through it. This is the tutorials' PipeThread
// pair of threads, done with non-blocking sockets on an event loop instead; a side is read only
// while what it sent before has been written to the other (back-pressure in both directions).
//
//   forwarder LISTEN_PORT TARGET_HOST TARGET_PORT      prints "READY <port>"
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

namespace sf = sockframe;

namespace {
// Non-blocking sockets: calls never wait; "not now" is an error code that is_would_block() spots.
using stream = sf::tcp_stream_nb;
using listener = sf::tcp_listener_nb;

// Bytes on their way from one socket to the other.
struct direction {
    char data[64 * 1024];
    std::size_t begin = 0, end = 0;  // data[begin, end) is still to be written
    bool source_closed = false;      // the source sent end-of-stream
    bool shut_down = false;          // ... and we passed it on: shutdown(send) on the destination
    bool empty() const { return begin == end; }
    bool finished() const { return shut_down; }
};

// One client and its connection to the target.
struct session {
    stream client, target;
    bool connected = false;  // the target's non-blocking connect has completed
    direction up, down;      // up: client -> target, down: target -> client
    sf::io_watch client_watch, target_watch;
};

// Moves bytes from `from` to `to` until one of them would block. Returns false on an error.
bool pump(stream& from, stream& to, direction& d) {
    std::error_code ec;
    for (;;) {
        if (!d.empty()) {  // first write out what we hold
            std::size_t n = to.write_some(sf::const_buffer(d.data + d.begin, d.end - d.begin), ec);
            if (sf::is_would_block(ec)) return true;  // the destination is full: wait for writability
            if (ec) return false;
            d.begin += n;
            continue;
        }
        if (d.source_closed) {  // everything written: pass the half-close on, once
            if (!d.shut_down) {
                to.shutdown(sf::shutdown_type::send, ec);
                d.shut_down = true;
            }
            return true;
        }
        d.begin = d.end = 0;
        std::size_t n = from.read_some(sf::mutable_buffer(d.data, sizeof d.data), ec);
        if (sf::is_would_block(ec)) return true;  // nothing more for now: wait for readability
        if (ec) return false;
        if (n == 0) d.source_closed = true;  // end-of-stream
        d.end = n;
    }
}

class forwarder {
public:
    forwarder(std::uint16_t port, const sf::ipv4_address& target)
        : listener_(sf::ipv4_address::loopback(port)), target_(target) {
        listener_watch_ = loop_.watch(listener_, sf::interest::read, [this](sf::io_event) { accept_all(); });
    }
    std::uint16_t port() const { return listener_.local_address().port(); }
    void run() { loop_.run(); }

private:
    // Accepts every pending client (until would-block) and starts connecting to the target.
    void accept_all() {
        for (;;) {
            std::error_code ec;
            auto accepted = listener_.accept(ec);
            if (ec) {
                // would-block: no more for now. Anything else (out of descriptors: EMFILE) leaves
                // the connection pending and the listener readable: stop watching it for 100 ms
                // rather than spin, and keep forwarding meanwhile.
                if (!sf::is_would_block(ec)) {
                    listener_watch_.modify(sf::interest::none);
                    loop_.after(std::chrono::milliseconds(100),
                                [this] { listener_watch_.modify(sf::interest::read); });
                }
                return;
            }
            auto s = std::make_unique<session>();
            s->client = std::move(accepted.socket);
            s->target = stream::open();
            s->target.connect_to(target_, ec);  // non-blocking: "in progress"
            if (ec && ec != std::errc::operation_in_progress) {
                std::cout << "target: " << ec.message() << std::endl;
                continue;  // `s` is dropped: the client's connection closes
            }
            s->connected = !ec;
            std::uint64_t id = next_id_++;
            session& ref = *s;
            sessions_.emplace(id, std::move(s));
            ref.client_watch = loop_.watch(ref.client, sf::interest::none,
                                           [this, id](sf::io_event e) { step(id, e, false); });
            ref.target_watch = loop_.watch(ref.target, sf::interest::none,
                                           [this, id](sf::io_event e) { step(id, e, true); });
            update(ref);
            std::cout << "session " << id << " from " << accepted.from << std::endl;
        }
    }

    void step(std::uint64_t id, sf::io_event event, bool target_side) {
        auto it = sessions_.find(id);
        if (it == sessions_.end()) return;
        session& s = *it->second;
        bool ok = true;
        if (!s.connected && target_side) {
            // The target socket became writable (or failed): the connect is over.
            if (auto ec = s.target.connect_result()) {
                std::cout << "session " << id << ": target " << ec.message() << std::endl;
                ok = false;
            } else {
                s.connected = true;
            }
        }
        // A socket error (a reset) ends the session: the connection is broken both ways.
        if (event.error && s.connected) ok = false;
        if (ok && s.connected) ok = pump(s.client, s.target, s.up) && pump(s.target, s.client, s.down);
        if (!ok || (s.up.finished() && s.down.finished()))
            close(id);
        else
            update(s);
    }

    // What each socket must wait for now. Back-pressure both ways: a side is read only while the
    // buffer towards the other side is empty. A socket that needs nothing more waits for nothing
    // (its hang-up is still reported, so it is dropped from the loop instead).
    static void update(session& s) {
        auto want = [](bool read, bool write) {
            return (read ? sf::interest::read : sf::interest::none) |
                   (write ? sf::interest::write : sf::interest::none);
        };
        // client: read when the up buffer is free, write when down has bytes for it
        if (s.up.source_closed && s.down.finished())
            s.client_watch.cancel();
        else
            s.client_watch.modify(want(s.up.empty() && !s.up.source_closed, !s.down.empty()));
        // target: write while connecting or when up has bytes; read when the down buffer is free
        if (s.down.source_closed && s.up.finished())
            s.target_watch.cancel();
        else
            s.target_watch.modify(
                want(s.connected && s.down.empty() && !s.down.source_closed, !s.connected || !s.up.empty()));
    }

    void close(std::uint64_t id) {
        auto it = sessions_.find(id);
        it->second->client_watch.cancel();  // cancel, then close
        it->second->target_watch.cancel();
        sessions_.erase(it);  // the sockets close in their destructors
        std::cout << "session " << id << " closed" << std::endl;
    }

    sf::event_loop loop_;
    listener listener_;
    sf::ipv4_address target_;
    sf::io_watch listener_watch_;
    std::map<std::uint64_t, std::unique_ptr<session>> sessions_;
    std::uint64_t next_id_ = 0;
};
}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: forwarder LISTEN_PORT TARGET_HOST TARGET_PORT\n";
        return 2;
    }
    auto target_address = sf::resolve<sf::ipv4>(argv[2], argv[3]).at(0);
    forwarder f(static_cast<std::uint16_t>(std::atoi(argv[1])), target_address);
    std::cout << "READY " << f.port() << std::endl;
    f.run();
}
