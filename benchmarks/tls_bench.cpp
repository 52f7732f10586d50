// SPDX-License-Identifier: MIT
// tls_bench: framed frames over TLS (tls_stream + framed) against a raw OpenSSL SSL_write /
// SSL_read loop written here, in the same process run, over TCP loopback; full handshakes per
// second of sockframe's TLS server against `openssl s_server`, measured by the same raw client;
// and kernel TLS on vs off. Certificates are made with the openssl command in a temporary
// directory removed at the end.
//
//   tls_bench [--frames N] [--handshakes N] [--repeats N]
//   tls_bench --only raw|framed --size BYTES --frames N    one run of one loop (for callgrind:
//                                                          instructions per frame = the
//                                                          difference of two frame counts)
//
// Ratios are medians of the per-repeat ratios (raw and framed alternate within each repeat).
#include <sockframe/sockframe.hpp>
#include <sockframe/tls.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace sf = sockframe;
using clock_type = std::chrono::steady_clock;

namespace {

std::string dir;
std::string path(const char* name) { return dir + "/" + name; }

void make_certificate() {
    char pattern[] = "/tmp/sockframe-tls-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) std::exit(1);
    dir = pattern;
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -days 1 -keyout " +
        path("key.pem") + " -out " + path("cert.pem") + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
        std::cerr << "tls_bench: the openssl command failed\n";
        std::exit(1);
    }
}

sf::tls_context server_context(bool ktls) {
    auto ctx = sf::tls_context::server();
    ctx.use_certificate_chain_file(path("cert.pem")).use_private_key_file(path("key.pem"));
    if (ktls) ctx.enable_kernel_tls();
    return ctx;
}
sf::tls_context client_context(bool ktls) {
    auto ctx = sf::tls_context::client();
    ctx.load_verify_file(path("cert.pem"));
    if (ktls) ctx.enable_kernel_tls();
    return ctx;
}

// ---- raw OpenSSL: the baseline ------------------------------------------------------------------

SSL_CTX* raw_client_ctx() {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_load_verify_locations(c, path("cert.pem").c_str(), nullptr);
    return c;
}
SSL_CTX* raw_server_ctx() {
    SSL_CTX* c = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(c, path("cert.pem").c_str());
    SSL_CTX_use_PrivateKey_file(c, path("key.pem").c_str(), SSL_FILETYPE_PEM);
    return c;
}
bool ssl_write_all(SSL* s, const unsigned char* p, std::size_t n) {
    while (n > 0) {
        std::size_t w = 0;
        if (SSL_write_ex(s, p, n, &w) != 1) return false;
        p += w;
        n -= w;
    }
    return true;
}

/// Raw sender: each frame (4-byte big-endian length + payload) built in one buffer, one SSL_write.
void raw_send(SSL* s, std::size_t frames, std::size_t size) {
    std::vector<unsigned char> buf(4 + size, 'x');
    const auto n = static_cast<std::uint32_t>(size);
    buf[0] = static_cast<unsigned char>(n >> 24);
    buf[1] = static_cast<unsigned char>(n >> 16);
    buf[2] = static_cast<unsigned char>(n >> 8);
    buf[3] = static_cast<unsigned char>(n);
    for (std::size_t i = 0; i < frames; ++i)
        if (!ssl_write_all(s, buf.data(), buf.size())) std::exit(1);
}
/// Raw receiver: SSL_read into a 64 KiB buffer, frames parsed in place.
std::size_t raw_receive(SSL* s, std::size_t frames) {
    std::vector<unsigned char> buf(1 << 16);
    std::size_t begin = 0, end = 0, got = 0, bytes = 0;
    while (got < frames) {
        while (end - begin >= 4) {
            const std::size_t n = (std::size_t{buf[begin]} << 24) | (std::size_t{buf[begin + 1]} << 16) |
                                  (std::size_t{buf[begin + 2]} << 8) | buf[begin + 3];
            if (end - begin < 4 + n) break;
            bytes += n;
            begin += 4 + n;
            ++got;
        }
        if (got == frames) break;
        if (begin > 0) {
            std::memmove(buf.data(), buf.data() + begin, end - begin);
            end -= begin;
            begin = 0;
        }
        std::size_t r = 0;
        if (SSL_read_ex(s, buf.data() + end, buf.size() - end, &r) != 1) std::exit(1);
        end += r;
    }
    return bytes;
}

/// Seconds to move `frames` frames of `size` bytes one way, raw OpenSSL at both ends.
double run_raw(std::size_t frames, std::size_t size) {
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    SSL_CTX* sc = raw_server_ctx();
    SSL_CTX* cc = raw_client_ctx();
    double seconds = 0;
    std::thread server([&] {
        auto a = l.accept();
        a.socket.set(sf::no_delay{true});
        SSL* s = SSL_new(sc);
        SSL_set_fd(s, a.socket.native_handle());
        if (SSL_accept(s) != 1) std::exit(1);
        unsigned char go = 0;
        ssl_write_all(s, &go, 1);
        const auto start = clock_type::now();
        raw_receive(s, frames);
        seconds = std::chrono::duration<double>(clock_type::now() - start).count();
        SSL_free(s);
    });
    auto c = sf::tcp_stream::connect(l.local_address());
    c.set(sf::no_delay{true});
    SSL* s = SSL_new(cc);
    SSL_set_fd(s, c.native_handle());
    SSL_set1_host(s, "localhost");
    if (SSL_connect(s) != 1) std::exit(1);
    unsigned char go = 0;
    std::size_t r = 0;
    SSL_read_ex(s, &go, 1, &r);
    raw_send(s, frames, size);
    server.join();
    SSL_free(s);
    SSL_CTX_free(sc);
    SSL_CTX_free(cc);
    return seconds;
}

/// The same with tls_stream + framed at both ends (send() per frame; receive_batch()).
double run_framed(std::size_t frames, std::size_t size, bool ktls, bool& engaged) {
    using codec = sf::length_prefix<std::uint32_t>;
    sf::tcp_listener l(sf::ipv4_address::loopback(0));
    const auto sctx = server_context(ktls);
    const auto cctx = client_context(ktls);
    double seconds = 0;
    std::thread server([&] {
        auto a = l.accept();
        a.socket.set(sf::no_delay{true});
        sf::tls_tcp_stream t(std::move(a.socket), sctx, sf::tls_role::server);
        t.handshake();
        sf::framed<sf::tls_tcp_stream, codec> f(std::move(t));
        f.send(sf::const_buffer("g", 1));
        const auto start = clock_type::now();
        std::size_t got = 0;
        while (got < frames) got += f.receive_batch([](sf::const_buffer) {});
        seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    });
    auto c = sf::tcp_stream::connect(l.local_address());
    c.set(sf::no_delay{true});
    sf::tls_tcp_stream t(std::move(c), cctx, sf::tls_role::client, "localhost");
    t.handshake();
    sf::framed<sf::tls_tcp_stream, codec> f(std::move(t));
    (void)f.receive();
    engaged = f.endpoint().kernel_tls_send();
    const std::string payload(size, 'x');
    for (std::size_t i = 0; i < frames; ++i) f.send(payload);
    server.join();
    return seconds;
}

// ---- handshakes ---------------------------------------------------------------------------------

/// Full handshakes per second by one raw client (connect, SSL_connect, close_notify) against
/// 127.0.0.1:port.
double handshakes_per_second(std::uint16_t port, int count) {
    SSL_CTX* cc = raw_client_ctx();
    SSL_CTX_set_session_cache_mode(cc, SSL_SESS_CACHE_OFF);  // every handshake a full one
    const auto start = clock_type::now();
    for (int i = 0; i < count; ++i) {
        auto c = sf::tcp_stream::connect(sf::ipv4_address::loopback(port));
        SSL* s = SSL_new(cc);
        SSL_set_fd(s, c.native_handle());
        SSL_set1_host(s, "localhost");
        if (SSL_connect(s) != 1) {
            std::cerr << "tls_bench: handshake " << i << " to port " << port
                      << " failed: " << ERR_error_string(ERR_get_error(), nullptr) << "\n";
            std::exit(1);
        }
        SSL_shutdown(s);
        SSL_free(s);
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    SSL_CTX_free(cc);
    return count / seconds;
}

double sockframe_server_handshakes(int count) {
    sf::tls_tcp_listener l(sf::tcp_listener(sf::ipv4_address::loopback(0)), server_context(false));
    std::thread server([&] {
        for (int i = 0; i < count; ++i) {
            auto a = l.accept();
            std::error_code ec;
            a.socket.set(sf::no_delay{true}, ec);
            a.socket.handshake(ec);
            char b;
            a.socket.read_some(sf::mutable_buffer(&b, 1), ec);  // the client's close_notify
        }
    });
    const double rate = handshakes_per_second(l.local_address().port(), count);
    server.join();
    return rate;
}

double s_server_handshakes(int count) {
    int out[2], in[2];  // s_server stops at end of its input: the input stays open meanwhile
    if (::pipe(out) != 0 || ::pipe(in) != 0) std::exit(1);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    std::string cert = path("cert.pem"), key = path("key.pem");
    std::vector<std::string> args = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                                     cert,      "-key",     key,       "-naccept",    std::to_string(count)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawnp(&pid, "openssl", &actions, nullptr, argv.data(), environ) != 0) std::exit(1);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(in[0]);
    std::string line;
    for (;;) {  // "ACCEPT 127.0.0.1:port", after whatever comes first
        line.clear();
        char ch;
        bool more = false;
        while ((more = ::read(out[0], &ch, 1) == 1) && ch != '\n') line += ch;
        if (!more || line.rfind("ACCEPT", 0) == 0) break;
    }
    const auto colon = line.rfind(':');
    if (line.rfind("ACCEPT", 0) != 0 || colon == std::string::npos) {
        std::cerr << "tls_bench: s_server said '" << line << "'\n";
        ::kill(pid, SIGKILL);
        std::exit(1);
    }
    std::thread drain([fd = out[0]] {  // what s_server says about each connection
        char sink[4096];
        while (::read(fd, sink, sizeof sink) > 0) {
        }
    });
    const double rate =
        handshakes_per_second(static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1))), count);
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    ::close(in[1]);
    drain.join();
    ::close(out[0]);
    return rate;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t frames_small = 400000, frames_large = 20000, only_size = 16;
    int handshakes = 300, repeats = 5;
    std::string only;   // --only raw|framed: one loop alone (for callgrind)
    bool json = false;  // --json: one JSON array of the rows below instead of the text
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--json") {
            json = true;
        } else if (a == "--frames" && i + 1 < argc) {
            frames_small = std::stoul(argv[++i]);
            frames_large = frames_small / 20;
        } else if (a == "--handshakes" && i + 1 < argc) {
            handshakes = std::stoi(argv[++i]);
        } else if (a == "--repeats" && i + 1 < argc) {
            repeats = std::max(1, std::stoi(argv[++i]));
        } else if (a == "--only" && i + 1 < argc) {
            only = argv[++i];
        } else if (a == "--size" && i + 1 < argc) {
            only_size = std::stoul(argv[++i]);
        }
    }
    std::string rows;  // the JSON rows
    char row[512];
    ::signal(SIGPIPE, SIG_IGN);  // the kTLS rows use OpenSSL's socket BIO (see tls/openssl.hpp)
    make_certificate();
    if (!only.empty()) {
        bool engaged = false;
        const double seconds = only == "raw" ? run_raw(frames_small, only_size)
                                             : run_framed(frames_small, only_size, false, engaged);
        std::printf("%s %zu frames of %zu B: %.3f s\n", only.c_str(), frames_small, only_size, seconds);
        std::system(("rm -rf '" + dir + "'").c_str());
        return 0;
    }
    if (!json) {
        std::printf("tls_bench: %s, one-way frames over TCP loopback, TLS 1.3, P-256, %d repeats\n",
                    OpenSSL_version(OPENSSL_VERSION), repeats);
        std::printf("%-8s %10s %14s %14s %8s %16s\n", "frame", "frames", "raw MB/s", "framed MB/s", "ratio",
                    "ratio min..max");
    }
    for (std::size_t size : {std::size_t{16}, std::size_t{16384}}) {
        const std::size_t frames = size == 16 ? frames_small : frames_large;
        std::vector<double> raw, framed, ratio;
        for (int round = 0; round < repeats; ++round) {  // alternate; each repeat gives a ratio
            bool engaged = false;
            raw.push_back(run_raw(frames, size));
            framed.push_back(run_framed(frames, size, false, engaged));
            ratio.push_back(raw.back() / framed.back());
        }
        const double mb = static_cast<double>(frames * size) / 1e6;
        const double lo = *std::min_element(ratio.begin(), ratio.end());
        const double hi = *std::max_element(ratio.begin(), ratio.end());
        if (!json)
            std::printf("%-8zu %10zu %14.1f %14.1f %7.2fx %7.2f..%.2f\n", size, frames, mb / median(raw),
                        mb / median(framed), median(ratio), lo, hi);
        std::snprintf(row, sizeof row,
                      "%s\n  {\"row\": \"frames\", \"size\": %zu, \"frames\": %zu, \"raw_mb_per_s\": %.1f, "
                      "\"framed_mb_per_s\": %.1f, \"ratio\": %.3f, \"ratio_min\": %.3f, \"ratio_max\": %.3f, "
                      "\"repeats\": %d}",
                      rows.empty() ? "" : ",", size, frames, mb / median(raw), mb / median(framed),
                      median(ratio), lo, hi, repeats);
        rows += row;
    }
    {
        double off = 1e30, on = 1e30;
        bool engaged = false;
        for (int round = 0; round < 3; ++round) {
            bool e = false;
            off = std::min(off, run_framed(frames_large, 16384, false, e));
            on = std::min(on, run_framed(frames_large, 16384, true, engaged));
        }
        const double mb = static_cast<double>(frames_large * 16384) / 1e6;
        if (!json)
            std::printf(
                "kTLS 16384 B frames: off %.1f MB/s, on %.1f MB/s (%.2fx); kernel TLS %s\n", mb / off,
                mb / on, off / on,
                engaged ? "engaged" : "NOT engaged (no tls ULP in this kernel: the on row is a fallback)");
        std::snprintf(
            row, sizeof row,
            ",\n  {\"row\": \"ktls\", \"size\": 16384, \"off_mb_per_s\": %.1f, \"on_mb_per_s\": %.1f, "
            "\"ratio\": %.3f, \"engaged\": %s}",
            mb / off, mb / on, off / on, engaged ? "true" : "false");
        rows += row;
    }
    const double ours = sockframe_server_handshakes(handshakes);
    const double theirs = s_server_handshakes(handshakes);
    if (!json)
        std::printf(
            "full handshakes/s, one client: sockframe tls_listener %.0f, openssl s_server %.0f (%.2fx)\n",
            ours, theirs, ours / theirs);
    std::snprintf(row, sizeof row,
                  ",\n  {\"row\": \"handshakes\", \"sockframe_per_s\": %.0f, \"s_server_per_s\": %.0f, "
                  "\"ratio\": %.3f, \"openssl\": \"%s\"}",
                  ours, theirs, ours / theirs, OpenSSL_version(OPENSSL_VERSION));
    rows += row;
    if (json) std::printf("[%s\n]\n", rows.c_str());
    std::system(("rm -rf '" + dir + "'").c_str());
    return 0;
}
