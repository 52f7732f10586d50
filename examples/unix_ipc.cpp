// unix_ipc: two processes on one machine talking over a Unix-domain stream socket, which is named
// by a filesystem path instead of a host and port. Each message is one line ('\n'-terminated);
// sf::framed with the line codec cuts the byte stream back into those lines.
//
//   unix_ipc serve PATH          listens at PATH, prints "READY PATH", answers each line
//                                with "reply: " and the line in upper case
//   unix_ipc send PATH LINE...   sends each LINE, prints each reply
#include <sockframe/sockframe.hpp>

#include <cctype>
#include <cstdio>
#include <iostream>
#include <string>

namespace sf = sockframe;

#if defined(SOCKFRAME_HAS_AF_UNIX)
namespace {
int serve(const std::string& path) {
    // The listener removes its socket file when it closes. A file left by an earlier run that
    // crashed would make bind() fail with "address in use": replace_stale removes it first, but
    // only if nobody listens there any more (and only if it is a socket).
    sf::listen_options options;
    options.replace_stale = true;
    sf::unix_listener listener{sf::local_address(path), options};
    std::cout << "READY " << path << std::endl;

    for (;;) {
        auto [client, from] = listener.accept();
        (void)from;  // a Unix client is usually unnamed
        // framed + line: receive() returns one whole line (without its '\n'), however the
        // bytes were split or merged on the way; send() appends the '\n'.
        sf::framed connection{std::move(client), sf::line{}};
        std::error_code ec;
        while (auto line = connection.receive(sf::deadline{}, ec)) {
            std::string reply = "reply: ";
            for (char c : line->str())
                reply += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            connection.send(reply, sf::deadline{}, ec);
            if (ec) break;
        }
        // receive() gave nullopt: end-of-stream (ec clear) or an error
        if (ec) std::cout << "client: " << ec.message() << std::endl;
    }
}

int send(const std::string& path, int count, char** lines) {
    auto socket = sf::unix_stream::connect(sf::local_address(path));
    socket.set_timeout(std::chrono::seconds(10));
    sf::framed connection{std::move(socket), sf::line{}};
    for (int i = 0; i < count; ++i) {
        connection.send(std::string_view(lines[i]));
        auto reply = connection.receive();  // a view into the receive buffer, valid until the next receive
        if (!reply) {
            std::cerr << "the server closed the connection\n";
            return 1;
        }
        std::cout << reply->str() << "\n";
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 2 ? argv[1] : "";
    try {
        if (mode == "serve") return serve(argv[2]);
        if (mode == "send") return send(argv[2], argc - 3, argv + 3);
    } catch (const std::exception& e) {
        std::cerr << "unix_ipc: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: unix_ipc serve PATH | unix_ipc send PATH LINE...\n";
    return 2;
}
#else
int main() {
    std::cerr << "unix_ipc: this system has no Unix-domain sockets\n";
    return 1;
}
#endif
