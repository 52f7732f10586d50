// chunked_echo_http: a small HTTP/1.1 endpoint that echoes each request's body back with the
// chunked transfer coding, built on sockframe's chunked codec.
//
//   chunked_echo_http [--host H] [--port P] [--chunk N] [--exit-after N]
//
// Prints "READY <port>" once listening, then serves one connection at a time. A request body may
// be chunked (Transfer-Encoding: chunked, decoded by sockframe::chunked: extensions and trailers
// bounded) or have a Content-Length; "Expect: 100-continue" is answered. The reply is 200 with
// `Transfer-Encoding: chunked`, the body cut into chunks of N bytes (default 1000), and
// `Connection: close`. For each request it prints "BODY <bytes> <chunks-received> <chunks-sent>"
// on stdout. A malformed request gets 400 and a line "ERROR <reason>" on stdout. With
// --exit-after N it exits 0 after N connections. Usage errors exit 2.
#include <sockframe/sockframe.hpp>
#include <sockframe/chunked.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "chunked_echo_http: " << why << "\n"
              << "usage: chunked_echo_http [--host H] [--port P] [--chunk N] [--exit-after N]\n";
    std::exit(2);
}

std::uint64_t number(const std::string& text, const char* what) {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
        usage(std::string("bad ") + what + ": '" + text + "'");
    return std::stoull(text);
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

struct request {
    std::string method, target;
    bool chunked = false, expect_continue = false;
    std::optional<std::uint64_t> content_length;
};

constexpr std::size_t max_head = 16 * 1024;
constexpr std::size_t max_body = 64 * 1024 * 1024;

/// Parses the request line and the header fields we act on; false on anything malformed.
bool parse_head(const std::string& head, request& r, std::string& why) {
    std::size_t at = head.find("\r\n");
    const std::string line = head.substr(0, at);
    const auto s1 = line.find(' '), s2 = line.rfind(' ');
    if (s1 == std::string::npos || s1 == s2 || line.substr(s2 + 1) != "HTTP/1.1") {
        why = "bad request line";
        return false;
    }
    r.method = line.substr(0, s1);
    r.target = line.substr(s1 + 1, s2 - s1 - 1);
    while (at + 2 < head.size()) {
        const std::size_t next = head.find("\r\n", at + 2);
        const std::string field = head.substr(at + 2, next - at - 2);
        at = next;
        if (field.empty()) break;
        const auto colon = field.find(':');
        if (colon == std::string::npos || colon == 0) {
            why = "bad header field";
            return false;
        }
        const std::string name = lower(field.substr(0, colon));
        const std::string value = trim(field.substr(colon + 1));
        if (name == "transfer-encoding") {
            if (lower(value) != "chunked") {
                why = "unsupported transfer coding '" + value + "'";
                return false;
            }
            r.chunked = true;
        } else if (name == "content-length") {
            if (value.empty() || value.size() > 18 ||
                value.find_first_not_of("0123456789") != std::string::npos) {
                why = "bad content-length";
                return false;
            }
            r.content_length = std::stoull(value);
        } else if (name == "expect" && lower(value) == "100-continue") {
            r.expect_continue = true;
        }
    }
    if (r.chunked && r.content_length) {
        why = "both content-length and chunked";
        return false;
    }
    return true;
}

void refuse(sf::tcp_stream& s, const std::string& why) {
    std::cout << "ERROR " << why << std::endl;
    const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    std::error_code ec;
    s.write_all(reply, ec);
}

void serve_one(sf::tcp_stream socket, std::size_t chunk) {
    socket.set_timeout(30s);
    // The head, up to its empty line (what follows it is the body's start).
    std::string buffer;
    std::size_t head_end = std::string::npos;
    char scratch[4096];
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (buffer.size() > max_head) return refuse(socket, "request head too long");
        std::error_code ec;
        const std::size_t n = socket.read_some(sf::mutable_buffer(scratch, sizeof scratch), ec);
        if (ec || n == 0) return;
        buffer.append(scratch, n);
    }
    request r;
    std::string why;
    if (!parse_head(buffer.substr(0, head_end + 4), r, why)) return refuse(socket, why);
    const std::string rest = buffer.substr(head_end + 4);
    if (r.expect_continue) socket.write_all(std::string("HTTP/1.1 100 Continue\r\n\r\n"));

    // The body: decoded by the chunked codec through framed (the bytes already read fed first).
    sf::chunked_options limits;
    limits.max_chunk = 16 * 1024 * 1024;
    sf::framed<sf::tcp_stream, sf::chunked> conn(std::move(socket), sf::chunked{limits});
    std::string body;
    std::size_t received = 0;
    if (r.chunked) {
        conn.feed_received(rest);
        for (;;) {
            std::error_code ec;
            auto piece = conn.receive(ec);
            if (!piece)
                return refuse(conn.endpoint(), ec ? "chunked body: " + ec.message() : "body truncated");
            if (piece->empty()) break;  // the last-chunk: the end of the body
            if (body.size() + piece->size() > max_body) return refuse(conn.endpoint(), "body too large");
            body.append(piece->str());
            ++received;
        }
    } else if (r.content_length) {
        if (*r.content_length > max_body) return refuse(conn.endpoint(), "body too large");
        body = rest.substr(0, static_cast<std::size_t>(*r.content_length));
        if (body.size() < *r.content_length) {
            std::string tail(static_cast<std::size_t>(*r.content_length) - body.size(), '\0');
            std::error_code ec;
            conn.endpoint().read_exact(sf::mutable_buffer(tail.data(), tail.size()), ec);
            if (ec) return;
            body += tail;
        }
    }

    // The reply: the body again, chunk by chunk, then the last-chunk (an empty frame).
    conn.endpoint().write_all(
        std::string("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"));
    std::size_t sent = 0;
    for (std::size_t at = 0; at < body.size(); at += chunk) {
        conn.send(sf::const_buffer(body.data() + at, body.size() - at < chunk ? body.size() - at : chunk));
        ++sent;
    }
    conn.send(sf::const_buffer());
    std::cout << "BODY " << body.size() << ' ' << received << ' ' << sent << std::endl;
    std::error_code ec;
    conn.endpoint().shutdown(sf::shutdown_type::send, ec);
    // Drain until the client closes, so that the reply is not cut by a reset.
    while (conn.endpoint().read_some(sf::mutable_buffer(scratch, sizeof scratch), ec) > 0 && !ec) {
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t chunk = 1000;
    std::optional<std::uint64_t> exit_after;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--host")
            host = value();
        else if (arg == "--port")
            port = static_cast<std::uint16_t>(number(value(), "--port"));
        else if (arg == "--chunk")
            chunk = static_cast<std::size_t>(number(value(), "--chunk"));
        else if (arg == "--exit-after")
            exit_after = number(value(), "--exit-after");
        else
            usage("unknown option '" + arg + "'");
    }
    if (chunk == 0) usage("--chunk must be at least 1");
    try {
        sf::tcp_listener listener(sf::ipv4_address::parse(host, port));
        std::cout << "READY " << listener.local_address().port() << std::endl;
        for (std::uint64_t served = 0; !exit_after || served < *exit_after; ++served) {
            auto accepted = listener.accept();
            try {
                serve_one(std::move(accepted.socket), chunk);
            } catch (const std::exception& e) {
                std::cout << "ERROR " << e.what() << std::endl;
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "chunked_echo_http: " << e.what() << std::endl;
        return 1;
    }
    return 0;
}
