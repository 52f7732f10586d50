// SPDX-License-Identifier: MIT
// sockframe_echo_bench: the framed echo over loopback, against a raw system-call echo, in one run.
//
//   sockframe_echo_bench [--repeats N] [--sizes A,B,...] [--megabytes M] [--only sockframe|raw]
//
// For each payload size, each repeat runs two echoes one after the other (the order reversed every
// other repeat, so a machine that speeds up or slows down favours neither):
//   sockframe: a framed_server on an event_loop (one thread) echoes length-prefixed frames; the
//              client is a framed<tcp_stream, length_prefix<>> split into a writer thread that
//              queue()s every frame and a reader thread that receive_batch()es the echoes.
//   raw:       the same three threads written with recv/send: the server recv()s into a 256 KiB
//              buffer, copies every complete frame into one outgoing buffer and send()s it whole;
//              the client's writer copies frames into 64 KiB batches, its reader decodes every
//              complete frame of each recv.
// Every echo is checked (length and sequence number). Prints a table of frames/s and MB/s (payload
// bytes one way), medians of the repeats, and sockframe's ratio to raw (the median of the
// per-repeat ratios). --only runs one side (for a profiler; no ratio then). Linux and POSIX only
// (raw sockets API).
#include <sockframe/sockframe.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sf = sockframe;
using clock_type = std::chrono::steady_clock;

namespace {

struct outcome {
    double seconds = 0;
    std::size_t frames = 0;
};

void put_be32(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v >> 24);
    p[1] = static_cast<unsigned char>(v >> 16);
    p[2] = static_cast<unsigned char>(v >> 8);
    p[3] = static_cast<unsigned char>(v);
}
std::uint32_t get_be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "sockframe_echo_bench: %s\n", what.c_str());
    std::exit(1);
}

// The payload of frame i: its sequence number, then a filler.
void fill_payload(std::vector<unsigned char>& p, std::uint32_t i) { put_be32(p.data(), i); }

// ---- sockframe --------------------------------------------------------------------------------

outcome run_sockframe(std::size_t size, std::size_t count) {
    using server_type = sf::framed_server<sf::tcp_listener_nb, sf::length_prefix<std::uint32_t>>;
    sf::event_loop loop;
    server_type server(loop);
    server.on_frame([](server_type::connection& c, sf::const_buffer payload) { c.send(payload); });
    sf::tcp_listener_nb listener(sf::ipv4_address::loopback(0));
    const auto address = listener.local_address();
    server.listen(std::move(listener));
    std::thread server_thread([&] { loop.run(); });

    auto stream = sf::tcp_stream::connect(address, std::chrono::seconds(10));
    stream.set(sf::no_delay{true});
    sf::framed conn{std::move(stream), sf::length_prefix<std::uint32_t>{}};
    auto [rx, tx] = conn.split();

    const auto start = clock_type::now();
    std::thread writer([&tx = tx, size, count] {
        std::vector<unsigned char> payload(size, 0x5a);
        for (std::uint32_t i = 0; i < count; ++i) {
            fill_payload(payload, i);
            tx.queue(sf::const_buffer(payload.data(), payload.size()));
        }
        tx.flush();
    });
    std::size_t received = 0;
    while (received < count) {
        auto n = rx.receive_batch([&](sf::const_buffer m) {
            if (m.size() != size || get_be32(reinterpret_cast<const unsigned char*>(m.data())) != received)
                fail("sockframe: echo " + std::to_string(received) + " is wrong");
            ++received;
        });
        if (n == 0) fail("sockframe: the server closed early");
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    writer.join();
    conn.endpoint().close();
    loop.stop();
    server_thread.join();
    return {seconds, count};
}

// ---- raw --------------------------------------------------------------------------------------

void send_all(int fd, const unsigned char* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) fail(std::string("raw: send: ") + std::strerror(errno));
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void raw_server(int fd) {
    std::vector<unsigned char> in(256 * 1024), out;
    out.reserve(256 * 1024);
    std::size_t have = 0;
    for (;;) {
        ssize_t r = ::recv(fd, in.data() + have, in.size() - have, 0);
        if (r <= 0) break;
        have += static_cast<std::size_t>(r);
        std::size_t pos = 0;
        out.clear();
        while (have - pos >= 4) {
            std::size_t len = get_be32(in.data() + pos);
            if (len > in.size() - 4) fail("raw server: frame too large");
            if (have - pos < 4 + len) break;
            out.insert(out.end(), in.data() + pos, in.data() + pos + 4 + len);
            pos += 4 + len;
        }
        if (!out.empty()) send_all(fd, out.data(), out.size());
        std::memmove(in.data(), in.data() + pos, have - pos);
        have -= pos;
    }
    ::close(fd);
}

outcome run_raw(std::size_t size, std::size_t count) {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &alen) != 0)
        fail(std::string("raw: listen: ") + std::strerror(errno));
    std::thread server_thread([listener] {
        int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) fail(std::string("raw: accept: ") + std::strerror(errno));
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        raw_server(fd);
    });
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        fail(std::string("raw: connect: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    const auto start = clock_type::now();
    std::thread writer([fd, size, count] {
        std::vector<unsigned char> batch;
        batch.reserve(64 * 1024 + 4 + size);
        std::vector<unsigned char> payload(size, 0x5a);
        for (std::uint32_t i = 0; i < count; ++i) {
            fill_payload(payload, i);
            unsigned char header[4];
            put_be32(header, static_cast<std::uint32_t>(size));
            batch.insert(batch.end(), header, header + 4);
            batch.insert(batch.end(), payload.begin(), payload.end());
            if (batch.size() >= 64 * 1024) {
                send_all(fd, batch.data(), batch.size());
                batch.clear();
            }
        }
        if (!batch.empty()) send_all(fd, batch.data(), batch.size());
    });
    std::vector<unsigned char> in(256 * 1024);
    std::size_t have = 0, received = 0;
    while (received < count) {
        ssize_t r = ::recv(fd, in.data() + have, in.size() - have, 0);
        if (r <= 0) fail("raw: the server closed early");
        have += static_cast<std::size_t>(r);
        std::size_t pos = 0;
        while (have - pos >= 4) {
            std::size_t len = get_be32(in.data() + pos);
            if (have - pos < 4 + len) break;
            if (len != size || get_be32(in.data() + pos + 4) != received)
                fail("raw: echo " + std::to_string(received) + " is wrong");
            ++received;
            pos += 4 + len;
        }
        std::memmove(in.data(), in.data() + pos, have - pos);
        have -= pos;
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    writer.join();
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    server_thread.join();
    ::close(listener);
    return {seconds, count};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string human(double x) {
    char b[32];
    if (x >= 1e6)
        std::snprintf(b, sizeof b, "%.2f M", x / 1e6);
    else if (x >= 1e3)
        std::snprintf(b, sizeof b, "%.1f k", x / 1e3);
    else
        std::snprintf(b, sizeof b, "%.0f", x);
    return b;
}

std::vector<std::size_t> parse_sizes(const std::string& s) {
    std::vector<std::size_t> out;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        auto comma = s.find(',', pos);
        if (comma == std::string::npos) comma = s.size();
        out.push_back(static_cast<std::size_t>(std::stoul(s.substr(pos, comma - pos))));
        pos = comma + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int repeats = 5;
    double megabytes = 64;
    std::vector<std::size_t> sizes{64, 4096};
    std::string only;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--repeats" && i + 1 < argc)
                repeats = std::max(1, std::atoi(argv[++i]));
            else if (a == "--sizes" && i + 1 < argc)
                sizes = parse_sizes(argv[++i]);
            else if (a == "--megabytes" && i + 1 < argc)
                megabytes = std::max(0.1, std::atof(argv[++i]));
            else if (a == "--only" && i + 1 < argc &&
                     (std::string(argv[i + 1]) == "sockframe" || std::string(argv[i + 1]) == "raw"))
                only = argv[++i];
            else
                throw std::invalid_argument(a);
        }
        for (auto s : sizes)
            if (s < 4 || s > 1024 * 1024) throw std::invalid_argument("sizes must be 4 to 1048576");
    } catch (const std::exception&) {
        std::fprintf(stderr,
                     "usage: sockframe_echo_bench [--repeats N] [--sizes A,B,...] [--megabytes M] "
                     "[--only sockframe|raw]\n");
        return 2;
    }

    std::printf(
        "Framed echo over loopback TCP (4-byte length prefix, pipelined, every echo checked),\n"
        "%d repeats per size, medians; raw = the same echo written with recv/send in this program:\n\n",
        repeats);
    std::printf("| %-8s | %-18s | %-14s | %-16s | %-14s | %-13s |\n", "payload", "sockframe frames/s",
                "sockframe MB/s", "raw frames/s", "raw MB/s", "sockframe/raw");
    std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(10, '-').c_str(), std::string(20, '-').c_str(),
                std::string(16, '-').c_str(), std::string(18, '-').c_str(), std::string(16, '-').c_str(),
                std::string(15, '-').c_str());
    for (auto size : sizes) {
        const auto count = static_cast<std::size_t>(std::max(1000.0, megabytes * 1024 * 1024 / double(size)));
        std::vector<double> sf_rate, raw_rate, ratio;
        for (int r = 0; r < repeats; ++r) {
            outcome a{1, 0}, b{1, 0};
            if (only == "sockframe") {
                a = run_sockframe(size, count);
            } else if (only == "raw") {
                b = run_raw(size, count);
            } else if (r % 2 == 0) {
                a = run_sockframe(size, count);
                b = run_raw(size, count);
            } else {
                b = run_raw(size, count);
                a = run_sockframe(size, count);
            }
            sf_rate.push_back(double(a.frames) / a.seconds);
            raw_rate.push_back(double(b.frames) / b.seconds);
            if (only.empty()) ratio.push_back(sf_rate.back() / raw_rate.back());
        }
        const double s = median(sf_rate), w = median(raw_rate);
        char label[16];
        std::snprintf(label, sizeof label, "%zu B", size);
        std::printf("| %-8s | %18s | %14.0f | %16s | %14.0f | %13.2f |\n", label, human(s).c_str(),
                    s * double(size) / 1e6, human(w).c_str(), w * double(size) / 1e6,
                    ratio.empty() ? 0.0 : median(ratio));
    }
    std::printf(
        "\nsockframe/raw is the median of the per-repeat ratios (each pair runs back to back), so on a busy\n"
        "machine it can differ from the ratio of the two medians.\n");
    return 0;
}
