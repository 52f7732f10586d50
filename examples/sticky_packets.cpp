// sticky_packets: why TCP needs framing, and the fix.
//
// TCP carries a stream of bytes, not messages. Three send() calls may arrive as one recv()
// ("sticky packets"), and one large send() arrives as several recv()s. A receiver that treats
// each recv() as one message is wrong in both cases. This program shows both on loopback, then
// does the same with sf::framed and a 4-byte length prefix, which gives back exactly the
// messages that were sent.
//
//   sticky_packets          (no arguments: it talks to itself over 127.0.0.1)
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
struct connection {
    sf::tcp_stream sender, receiver;
};
// A fresh connected pair of TCP sockets over loopback.
connection connect_pair() {
    sf::tcp_listener listener{sf::ipv4_address::loopback(0)};
    connection c;
    c.sender = sf::tcp_stream::connect(listener.local_address(), 5s);
    c.receiver = std::move(listener.accept(5s).socket);
    c.receiver.set_timeout(10s);
    c.sender.set_timeout(10s);
    return c;
}

// Waits until the sender's close has reached `s`: everything sent before it has arrived too
// (TCP keeps order). Only so that the demonstration does the same on every run. (Where a close
// behind unread data is not reported, as with WSAPoll, it gives up after a second.)
void wait_until_all_arrived(const sf::tcp_stream& s) {
    sf::poller poller;
    poller.add(s, sf::interest::read, 0);
    std::vector<sf::poll_event> events;
    auto until = std::chrono::steady_clock::now() + 1s;
    while (poller.wait(events, sf::deadline(until)) > 0) {
        if (events[0].hangup) return;
        // Readable, but no close yet: stop asking for readability (it would be reported again
        // at once) and wait for the hang-up alone.
        poller.modify(s, sf::interest::none, 0);
    }
}

const std::size_t big = 200000;

void naive() {
    {
        // Three messages, three sends...
        auto c = connect_pair();
        c.sender.write_all("hello");
        c.sender.write_all("sticky");
        c.sender.write_all("world");
        c.sender.close();
        wait_until_all_arrived(c.receiver);
        // ... and the naive receiver's one recv() returns all of them glued together.
        char buffer[1024];
        std::size_t n = c.receiver.read_some(sf::mutable_buffer(buffer, sizeof buffer));
        std::cout << "naive: 3 messages sent, 1 recv returned '" << std::string(buffer, n) << "'\n";
    }
    {
        // One large message, one send...
        auto c = connect_pair();
        std::string message(big, 'x');
        std::thread sender([&] { c.sender.write_all(message); });
        // ... arrives in pieces: each recv() returns only a part of it.
        char buffer[65536];
        std::size_t total = 0;
        int calls = 0;
        while (total < big) {
            total += c.receiver.read_some(sf::mutable_buffer(buffer, sizeof buffer));
            ++calls;
        }
        sender.join();
        std::cout << "naive: 1 message of " << big << " bytes arrived in " << calls << " recv calls\n";
    }
}

void framed() {
    // The fix: every message travels behind its length (4 bytes, big-endian). The receiver reads
    // the length, then exactly that many bytes, whatever pieces the bytes arrive in.
    using frames = sf::framed<sf::tcp_stream, sf::length_prefix<std::uint32_t>>;
    {
        auto c = connect_pair();
        frames out{std::move(c.sender)};
        frames in{std::move(c.receiver)};
        out.send("hello");
        out.send("sticky");
        out.send("world");
        out.endpoint().close();
        wait_until_all_arrived(in.endpoint());  // the same conditions as the naive receiver's
        std::cout << "framed:";
        // receive() returns one whole message (a view into the receive buffer), or nullopt at
        // the end of the stream.
        while (auto message = in.receive()) std::cout << " '" << message->str() << "'";
        std::cout << "\n";
    }
    {
        auto c = connect_pair();
        frames out{std::move(c.sender)};
        frames in{std::move(c.receiver)};
        std::string message(big, 'x');
        std::thread sender([&] { out.send(message); });
        auto got = in.receive();
        sender.join();
        bool intact = got && got->str() == message;
        std::cout << "framed: 1 message of " << (got ? got->size() : 0) << " bytes, "
                  << (intact ? "intact" : "BROKEN") << "\n";
    }
}
}  // namespace

int main() {
    try {
        naive();
        framed();
    } catch (const std::exception& e) {
        std::cerr << "sticky_packets: " << e.what() << "\n";
        return 1;
    }
}
