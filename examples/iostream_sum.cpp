// iostream_sum: a line-based text protocol spoken through std::iostream, like Python's
// sock.makefile(). The client writes lines of numbers with <<, the server reads them with
// std::getline and >>, and answers "<line> = <sum>".
//
//   iostream_sum serve                    prints "READY <port>", serves clients one by one
//   iostream_sum ask HOST PORT LINE...    sends each LINE, prints each answer
#include <sockframe/iostream.hpp>
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <iostream>
#include <sstream>
#include <string>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
int serve() {
    sf::tcp_listener listener{sf::ipv4_address::loopback(0)};
    std::cout << "READY " << listener.local_address().port() << std::endl;
    for (;;) {
        auto [client, from] = listener.accept();
        client.set_timeout(30s);  // a silent client cannot hold the server longer than this
        // The stream owns the socket (it was moved in) and closes it at the end of the scope.
        sf::socket_iostream stream{std::move(client)};
        std::string line;
        while (std::getline(stream, line)) {
            std::istringstream numbers(line);
            double sum = 0, x = 0;
            while (numbers >> x) sum += x;
            if (!numbers.eof())
                stream << line << " = error: not a number\n";
            else
                stream << line << " = " << sum << "\n";
            stream.flush();  // send the answer now: the client is waiting for it
        }
        // getline failed: eof() is the client's orderly close; bad() an error such as the timeout.
        std::cout << from << ": " << (stream.bad() ? stream.error().message() : "closed") << std::endl;
    }
}

int ask(const char* host, const char* port, int count, char** lines) {
    sf::socket_iostream stream(host, port, 5s);  // connects; on failure the stream is in failbit
    if (!stream) {
        std::cerr << "connect: " << stream.error().message() << "\n";
        return 1;
    }
    stream.socket().set_timeout(10s);
    for (int i = 0; i < count; ++i) {
        // No explicit flush needed before reading: a read that has to wait sends pending output first.
        stream << lines[i] << '\n';
        std::string answer;
        if (!std::getline(stream, answer)) {
            std::cerr << "no answer: " << (stream.bad() ? stream.error().message() : "connection closed")
                      << "\n";
            return 1;
        }
        std::cout << answer << "\n";
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "serve") return serve();
    if (mode == "ask" && argc >= 4) return ask(argv[2], argv[3], argc - 4, argv + 4);
    std::cerr << "usage: iostream_sum serve | iostream_sum ask HOST PORT LINE...\n";
    return 2;
}
