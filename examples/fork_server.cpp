// fork_server: an echo server that serves every client in a child process (Python's
// socketserver.ForkingTCPServer). POSIX only. The parent only accepts; each child serves one
// client and exits; the parent reaps finished children so that none stays a zombie.
//
//   fork_server [port]      prints "READY <port>"
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
// Collects every child that has finished, without waiting for the others.
void reap_children() {
    int status = 0;
    while (::waitpid(-1, &status, WNOHANG) > 0) {
    }
}

void serve(sf::tcp_stream& client) {
    char buffer[4096];
    std::error_code ec;
    while (std::size_t n = client.read_some(sf::mutable_buffer(buffer, sizeof buffer), ec)) {
        client.write_all(sf::const_buffer(buffer, n), ec);
        if (ec) break;
    }
}
}  // namespace

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
    sf::tcp_listener listener{sf::ipv4_address::loopback(port)};
    std::cout << "READY " << listener.local_address().port() << std::endl;

    for (;;) {
        // Wait at most a second for a client, so that finished children are reaped regularly
        // even when nobody connects (no SIGCHLD handler needed).
        std::error_code ec;
        auto [client, from] = listener.accept(1s, ec);
        reap_children();
        if (ec == std::errc::timed_out) continue;
        if (ec) {
            std::cout << "accept: " << ec.message() << std::endl;
            continue;
        }

        std::cout.flush();  // or the child would print the parent's buffered output again
        pid_t child = ::fork();
        if (child == 0) {
            // The child: it does not accept, so it closes its copy of the listening socket.
            listener.close();
            serve(client);
            client.close();
            std::_Exit(0);  // leave without running the parent's exit handlers twice
        }
        if (child < 0)
            std::cout << "fork failed; dropping " << from << std::endl;
        else
            std::cout << from << " served by process " << child << std::endl;
        // The parent: the child has its own copy of the client socket; close ours.
        client.close();
    }
}
