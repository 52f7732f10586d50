// thread_per_client_server: an echo server that serves every client on its own thread, so a slow
// or idle client does not hold up the others (Python's socketserver.ThreadingTCPServer).
//
//   thread_per_client_server [port]      prints "READY <port>"
#include <sockframe/sockframe.hpp>

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

namespace sf = sockframe;

namespace {
std::mutex output_mutex;  // threads share std::cout: one line at a time

void log(const sf::ipv4_address& who, const std::string& what) {
    std::lock_guard<std::mutex> lock(output_mutex);
    std::cout << who << ": " << what << std::endl;
}

// Runs on the client's own thread. The socket was moved in: this thread alone owns it now.
void serve(sf::tcp_stream client, sf::ipv4_address from) {
    char buffer[4096];
    std::error_code ec;
    std::size_t total = 0;
    while (std::size_t n = client.read_some(sf::mutable_buffer(buffer, sizeof buffer), ec)) {
        client.write_all(sf::const_buffer(buffer, n), ec);
        if (ec) break;
        total += n;
    }
    log(from, ec ? ec.message() : "done after " + std::to_string(total) + " bytes");
}
}  // namespace

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
    sf::tcp_listener listener{sf::ipv4_address::loopback(port)};
    std::cout << "READY " << listener.local_address().port() << std::endl;

    for (;;) {
        auto [client, from] = listener.accept();
        log(from, "connected");
        // A new thread per client. It is detached because this server never stops accepting;
        // a server that shuts down would keep the threads and join them instead.
        std::thread(serve, std::move(client), from).detach();
    }
}
