// forwarder: a TCP port forwarder on one thread. Every client that connects is piped to the
// target both ways; when one side closes its sending side (shutdown), the forwarder passes that
// half-close on to the other side once all its bytes are through, so request/response protocols
// that end a request with shutdown(send) work through it. This is the tutorials' PipeThread
// pair of threads, done with non-blocking sockets and a poller instead.
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
    bool client_registered = false, target_registered = false;
};

// Poller keys: session number * 2 + side (0 = client, 1 = target); the listener has its own.
constexpr std::uint64_t listener_key = ~std::uint64_t{0};

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

// What each socket must wait for now. A socket that needs nothing more leaves the poller: it
// would otherwise keep reporting its hang-up on every (level-triggered) wait.
void update(sf::poller& poller, std::uint64_t id, session& s) {
    auto want = [](bool read, bool write) {
        return (read ? sf::interest::read : sf::interest::none) |
               (write ? sf::interest::write : sf::interest::none);
    };
    struct side {
        stream& socket;
        bool& registered;
        sf::interest what;
        bool done;
        std::uint64_t key;
    };
    side sides[2] = {
        // client: read when the up buffer is free, write when down has bytes for it
        {s.client, s.client_registered, want(s.up.empty() && !s.up.source_closed, !s.down.empty()),
         s.up.source_closed && s.down.finished(), id * 2},
        // target: write while connecting or when up has bytes; read when the down buffer is free
        {s.target, s.target_registered,
         want(s.connected && s.down.empty() && !s.down.source_closed, !s.connected || !s.up.empty()),
         s.down.source_closed && s.up.finished(), id * 2 + 1},
    };
    for (auto& x : sides) {
        if (x.done) {
            if (x.registered) poller.remove(x.socket);
            x.registered = false;
        } else if (x.registered) {
            poller.modify(x.socket, x.what, x.key);
        } else {
            poller.add(x.socket, x.what, x.key);
            x.registered = true;
        }
    }
}

void close_session(sf::poller& poller, std::map<std::uint64_t, std::unique_ptr<session>>& sessions,
                   std::uint64_t id) {
    auto& s = *sessions.at(id);
    if (s.client_registered) poller.remove(s.client);
    if (s.target_registered) poller.remove(s.target);
    sessions.erase(id);  // the sockets close in their destructors
    std::cout << "session " << id << " closed" << std::endl;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: forwarder LISTEN_PORT TARGET_HOST TARGET_PORT\n";
        return 2;
    }
    auto target_address = sf::resolve<sf::ipv4>(argv[2], argv[3]).at(0);
    listener server{sf::ipv4_address::loopback(static_cast<std::uint16_t>(std::atoi(argv[1])))};
    std::cout << "READY " << server.local_address().port() << std::endl;

    sf::poller poller;
    poller.add(server, sf::interest::read, listener_key);
    std::map<std::uint64_t, std::unique_ptr<session>> sessions;
    std::uint64_t next_id = 0;
    std::vector<sf::poll_event> events;

    // While accept fails with anything but would-block (out of descriptors: EMFILE), the pending
    // connection keeps the listener readable: stop watching it for 100 ms rather than spin.
    bool accept_paused = false;
    sf::deadline::clock::time_point accept_paused_until{};
    for (;;) {
        if (accept_paused) {
            poller.wait(events, sf::deadline(accept_paused_until));
            if (sf::deadline::clock::now() >= accept_paused_until) {
                accept_paused = false;
                poller.modify(server, sf::interest::read, listener_key);
            }
        } else {
            poller.wait(events);  // no deadline: until something is ready
        }
        for (const auto& event : events) {
            if (event.key == listener_key) {
                // Accept every pending client (until would-block) and start connecting to the target.
                for (;;) {
                    std::error_code ec;
                    auto accepted = server.accept(ec);
                    if (ec) {  // would-block: no more for now; other errors: back off, try later
                        if (!sf::is_would_block(ec)) {
                            poller.modify(server, sf::interest::none, listener_key);
                            accept_paused = true;
                            accept_paused_until = sf::deadline::clock::now() + std::chrono::milliseconds(100);
                        }
                        break;
                    }
                    auto s = std::make_unique<session>();
                    s->client = std::move(accepted.socket);
                    s->target = stream::open();
                    s->target.connect_to(target_address, ec);  // non-blocking: "in progress"
                    if (ec && ec != std::errc::operation_in_progress) {
                        std::cout << "target: " << ec.message() << std::endl;
                        continue;  // `s` is dropped: the client's connection closes
                    }
                    s->connected = !ec;
                    std::uint64_t id = next_id++;
                    update(poller, id, *s);
                    sessions.emplace(id, std::move(s));
                    std::cout << "session " << id << " from " << accepted.from << std::endl;
                }
                continue;
            }

            std::uint64_t id = event.key / 2;
            auto it = sessions.find(id);
            if (it == sessions.end()) continue;  // closed earlier in this batch
            session& s = *it->second;
            bool ok = true;
            if (!s.connected && event.key % 2 == 1) {
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
                close_session(poller, sessions, id);
            else
                update(poller, id, s);
        }
    }
}
