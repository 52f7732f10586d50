// echo_server: the first program of every socket tutorial. It accepts one client at a time and
// sends back every byte the client sends, until the client closes its side.
//
//   echo_server [port]        (port 0 or none: the system picks one; printed as "READY <port>")
//
// Python's version:   conn, addr = s.accept()
//                      while data := conn.recv(1024): conn.sendall(data)
#include <sockframe/sockframe.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace sf = sockframe;

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);

    // bind + listen in one step. SO_REUSEADDR is on, so a restart does not fail with "address in use".
    sf::tcp_listener listener{sf::ipv4_address::loopback(port)};
    std::cout << "READY " << listener.local_address().port() << std::endl;  // endl flushes: the test reads it

    for (;;) {
        // accept() waits for the next client and returns its socket and address.
        auto [client, from] = listener.accept();
        std::cout << "client " << from << " connected" << std::endl;

        char buffer[4096];
        std::size_t total = 0;
        std::error_code ec;  // the error_code overloads never throw: one bad client must not stop the server
        for (;;) {
            // read_some is recv(): whatever has arrived, at least one byte; 0 means the client
            // closed its sending side (end-of-stream).
            std::size_t n = client.read_some(sf::mutable_buffer(buffer, sizeof buffer), ec);
            if (ec || n == 0) break;
            // write_all is sendall(): it loops until every byte is written.
            client.write_all(sf::const_buffer(buffer, n), ec);
            if (ec) break;
            total += n;
        }
        if (ec) std::cout << "client " << from << ": " << ec.message() << std::endl;
        std::cout << "client " << from << " done after " << total << " bytes" << std::endl;
        // `client` goes out of scope here: its destructor closes the connection.
    }
}
