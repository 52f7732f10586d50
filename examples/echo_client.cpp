// echo_client: connects to an echo server, sends a message, closes its sending side and prints
// everything that comes back until the server closes too.
//
//   echo_client HOST PORT WORD...                    sends "WORD WORD...\n", prints the echo
//   echo_client HOST PORT --bytes N [--clients K]    K clients at once each send N bytes and
//                                                    check that exactly those bytes come back
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
// Sends `message`, then shutdown(send) so that the server reads end-of-stream, and returns all
// that the server sent back. Sending runs on its own thread: a large message could otherwise
// fill both directions' kernel buffers while nobody reads, and both sides would wait forever.
std::string round_trip(const std::string& host, const std::string& port, const std::string& message) {
    // ip_tcp_stream: IPv4 or IPv6, whichever the name gives; every address is tried within 5 s
    auto socket = sf::ip_tcp_stream::connect(host, port, 5s);
    socket.set_timeout(30s);  // settimeout(): no later call may wait longer than this

    // One thread writes while this one reads (a socket may have one reader and one writer at once).
    std::error_code send_error;  // an exception must not escape a thread: keep the error instead
    std::thread sender([&] {
        socket.write_all(message, send_error);
        if (!send_error) socket.shutdown(sf::shutdown_type::send, send_error);  // "I am done sending"
    });
    std::string echoed;
    char buffer[65536];
    std::error_code ec;
    while (std::size_t n = socket.read_some(sf::mutable_buffer(buffer, sizeof buffer), ec))
        echoed.append(buffer, n);
    sender.join();
    if (send_error) throw std::system_error(send_error, "send");
    if (ec) throw std::system_error(ec, "receive");
    return echoed;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: echo_client HOST PORT WORD... | --bytes N [--clients K]\n";
        return 2;
    }
    std::string host = argv[1], port = argv[2];
    try {
        if (std::string(argv[3]) != "--bytes") {
            std::string message;
            for (int i = 3; i < argc; ++i) {
                if (i > 3) message += ' ';
                message += argv[i];
            }
            message += '\n';
            std::cout << round_trip(host, port, message) << std::flush;
            return 0;
        }

        std::size_t size = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1000000;
        int clients = argc > 6 && std::string(argv[5]) == "--clients" ? std::atoi(argv[6]) : 1;
        std::string message(size, '\0');
        for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<char>(i * 31 + i / 977);

        std::vector<std::thread> threads;
        std::vector<int> ok(static_cast<std::size_t>(clients), 0);
        for (int c = 0; c < clients; ++c) {
            threads.emplace_back([&, c] {
                try {
                    ok[static_cast<std::size_t>(c)] = round_trip(host, port, message) == message;
                } catch (const std::exception& e) {
                    std::cerr << "client " << c << ": " << e.what() << "\n";
                }
            });
        }
        for (auto& t : threads) t.join();
        int failures = 0;
        for (int good : ok) {
            if (good)
                std::cout << "OK " << size << " bytes echoed\n";
            else
                ++failures;
        }
        return failures == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "echo_client: " << e.what() << "\n";
        return 1;
    }
}
