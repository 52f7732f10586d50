// SPDX-License-Identifier: MIT
// sfcat: netcat for framed protocols.
//
//   sfcat [--listen] [--udp] --codec SPEC [--max-frame N] [--hex|--json] [--count N]
//         [--timeout SECONDS] [--file PATH] [--hex-input] HOST PORT
//   sfcat [--listen] --codec SPEC ... unix:PATH            (unix:@NAME: a Linux abstract name)
//   SPEC: len:W[:be|le] (W = 1, 2, 4, 8) | varint | line | delim:STRING | fixed:N | netstring
//   TLS (when built with the TLS library, OpenSSL): --tls [--cafile FILE] [--servername NAME]
//         [--insecure] to connect; --listen --tls --cert FILE --key FILE to accept
//
// Connects to HOST PORT (or, with --listen, accepts one connection there), then sends each line
// of standard input (or of --file PATH), without its newline, as one frame (--hex-input: each
// line is hex, the frame is the bytes it spells), and prints each frame received as one line:
// the payload as it is, or --hex lowercase hex, or --json {"len":N,"data":"<base64>"}. When the
// input ends, a stream's sending side is shut down (the peer reads end-of-stream) and sfcat keeps
// printing what arrives. At the peer's end-of-stream sfcat still sends the input on its way: it
// exits once the input has ended, or --timeout (1 s without it) after the end-of-stream.
//
// Exit status: 0 after --count N frames were received, or at end-of-stream (the peer closed; over
// UDP, which has no end-of-stream: the input has ended and no datagram came for --timeout, or for
// 1 s without one); 1 on a connection or framing error (a message on stderr); 2 on a usage error;
// 3 when --timeout SECONDS pass while waiting to connect, to accept, or for the next frame.
// With --listen, "sfcat: listening on ADDRESS" is written to stderr once the socket listens.
//
// --tls: a client verifies the server's certificate against the system trust store (and
// --cafile), the name checked being --servername or HOST; --insecure skips verification. A failed
// handshake or verification is exit status 1 with the reason on stderr. A TLS session is used by
// one thread, so over TLS the input thread only queues the lines and the receiving thread sends
// them between short receive waits. Built without TLS, --tls is exit status 1, "built without TLS".
#include <sockframe/sockframe.hpp>
#if defined(SFCAT_HAVE_TLS)
#include <sockframe/tls.hpp>
#endif

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <istream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sf = sockframe;

namespace {

enum exit_code : int { ok = 0, failed = 1, usage_error = 2, timed_out = 3 };
enum class output_format { text, hex, json };

struct options {
    bool listen = false;
    bool udp = false;
    bool hex_input = false;
    output_format format = output_format::text;
    std::string codec;
    std::optional<std::size_t> max_frame;
    std::optional<std::uint64_t> count;
    std::optional<double> timeout;
    std::string file;
    std::string host;
    std::string port;
    std::string unix_path;  // set for unix:PATH
    // TLS: a client verifies against the system store and `cafile`, the name being `servername`
    // or `host` (`insecure`: no verification); a listener presents `cert` and `key`
    bool tls = false;
    bool insecure = false;
    std::string cafile, servername, cert, key;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(
        stderr,
        "sfcat: %s\n"
        "usage: sfcat [--listen] [--udp] --codec SPEC [--max-frame N] [--hex|--json] [--count N]\n"
        "             [--timeout SECONDS] [--file PATH] [--hex-input] (HOST PORT | unix:PATH)\n"
        "TLS:  --tls [--cafile FILE] [--servername NAME] [--insecure]; --listen --tls --cert FILE --key "
        "FILE\n"
        "SPEC: len:W[:be|le] (W = 1, 2, 4, 8) | varint | line | delim:STRING | fixed:N | netstring\n",
        why.c_str());
    std::exit(usage_error);
}

// One place writes the output and ends the process: the input thread may still be blocked reading
// standard input when the receiving side is done, so the process ends without joining it.
std::mutex exit_mutex;

[[noreturn]] void finish(int code, const std::string& message = {}) {
    std::lock_guard<std::mutex> lock(exit_mutex);
    std::fflush(stdout);
    if (!message.empty()) std::fprintf(stderr, "sfcat: %s\n", message.c_str());
    std::fflush(stderr);
    std::_Exit(code);
}

[[noreturn]] void finish_error(const std::string& what, std::error_code ec) {
    if (ec == std::errc::timed_out) finish(timed_out, what + ": timed out");
    finish(failed, what + ": " + ec.message());
}

std::uint64_t parse_number(const std::string& text, const char* what) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        usage(std::string(what) + " needs a non-negative integer, not '" + text + "'");
    try {
        return std::stoull(text);
    } catch (const std::exception&) {
        usage(std::string(what) + " is out of range: " + text);
    }
}

options parse(int argc, char** argv) {
    options o;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* name) -> std::string {
            if (i + 1 >= argc) usage(std::string(name) + " needs a value");
            return argv[++i];
        };
        if (a == "--listen" || a == "-l")
            o.listen = true;
        else if (a == "--udp" || a == "-u")
            o.udp = true;
        else if (a == "--codec")
            o.codec = value("--codec");
        else if (a == "--max-frame")
            o.max_frame = static_cast<std::size_t>(parse_number(value("--max-frame"), "--max-frame"));
        else if (a == "--hex")
            o.format = output_format::hex;
        else if (a == "--json")
            o.format = output_format::json;
        else if (a == "--count")
            o.count = parse_number(value("--count"), "--count");
        else if (a == "--timeout") {
            std::string t = value("--timeout");
            char* end = nullptr;
            double seconds = std::strtod(t.c_str(), &end);
            if (t.empty() || *end != '\0' || !(seconds > 0) || seconds > 1e6)
                usage("--timeout needs a positive number of seconds, not '" + t + "'");
            o.timeout = seconds;
        } else if (a == "--file")
            o.file = value("--file");
        else if (a == "--hex-input")
            o.hex_input = true;
        else if (a == "--tls")
            o.tls = true;
        else if (a == "--cafile")
            o.cafile = value("--cafile");
        else if (a == "--servername")
            o.servername = value("--servername");
        else if (a == "--insecure")
            o.insecure = true;
        else if (a == "--cert")
            o.cert = value("--cert");
        else if (a == "--key")
            o.key = value("--key");
        else if (a == "--help" || a == "-h")
            usage("netcat for framed protocols");
        else if (a.size() > 1 && a[0] == '-')
            usage("unknown option " + a);
        else
            positional.push_back(a);
    }
    if (o.codec.empty()) usage("--codec SPEC is required");
    if (positional.size() == 1 && positional[0].rfind("unix:", 0) == 0) {
        o.unix_path = positional[0].substr(5);
        if (o.unix_path.empty()) usage("unix: needs a path");
        if (o.udp) usage("--udp needs HOST PORT, not a unix: path");
    } else if (positional.size() == 2) {
        o.host = positional[0];
        o.port = positional[1];
    } else {
        usage("expected HOST PORT or unix:PATH");
    }
    if (!o.tls &&
        (o.insecure || !o.cafile.empty() || !o.servername.empty() || !o.cert.empty() || !o.key.empty()))
        usage("--cafile, --servername, --insecure, --cert and --key need --tls");
#if !defined(SFCAT_HAVE_TLS)
    if (o.tls) finish(failed, "--tls: built without TLS");
#endif
    if (o.tls) {
        if (o.udp) usage("--tls runs over streams (TCP, Unix), not --udp");
        if (o.listen) {
            if (o.cert.empty() || o.key.empty()) usage("--listen --tls needs --cert FILE and --key FILE");
            if (o.insecure || !o.cafile.empty() || !o.servername.empty())
                usage("--cafile, --servername and --insecure are for connecting");
        } else {
            if (!o.cert.empty() || !o.key.empty()) usage("--cert and --key are for --listen");
            if (!o.unix_path.empty() && o.servername.empty() && !o.insecure)
                usage("--tls over unix:PATH needs --servername NAME (the name to verify) or --insecure");
        }
    }
    return o;
}

sf::deadline deadline_of(const options& o) {
    if (!o.timeout) return sf::deadline::never();
    return sf::deadline(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(*o.timeout)));
}

// --timeout as a duration (the longest wait for the next frame); without it, no limit.
std::chrono::steady_clock::duration limit_of(const options& o) {
    using clock = std::chrono::steady_clock;
    return o.timeout ? std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(*o.timeout))
                     : clock::duration::max();
}

// --timeout, or 1 s without it: how long the input may still come once nothing more will be
// received (a stream's peer reached end-of-stream), and UDP's quiet period.
std::chrono::steady_clock::duration grace_of(const options& o) {
    return o.timeout ? limit_of(o) : std::chrono::seconds(1);
}

// ---- output ---------------------------------------------------------------------------------

void print_frame(output_format format, sf::const_buffer payload) {
    static const char hex_digits[] = "0123456789abcdef";
    static const char base64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
    const std::size_t n = payload.size();
    std::string line;
    switch (format) {
        case output_format::text: line.assign(reinterpret_cast<const char*>(p), n); break;
        case output_format::hex:
            line.reserve(2 * n);
            for (std::size_t i = 0; i < n; ++i) {
                line += hex_digits[p[i] >> 4];
                line += hex_digits[p[i] & 15];
            }
            break;
        case output_format::json:
            line = "{\"len\":" + std::to_string(n) + ",\"data\":\"";
            for (std::size_t i = 0; i < n; i += 3) {
                const std::uint32_t b0 = p[i], b1 = i + 1 < n ? p[i + 1] : 0u, b2 = i + 2 < n ? p[i + 2] : 0u;
                const std::uint32_t v = (b0 << 16) | (b1 << 8) | b2;
                line += base64[(v >> 18) & 63];
                line += base64[(v >> 12) & 63];
                line += i + 1 < n ? base64[(v >> 6) & 63] : '=';
                line += i + 2 < n ? base64[v & 63] : '=';
            }
            line += "\"}";
            break;
    }
    line += '\n';
    std::lock_guard<std::mutex> lock(exit_mutex);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

// ---- input ----------------------------------------------------------------------------------

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The payload an input line stands for. --hex-input: pairs of hex digits, spaces ignored.
std::string payload_of(const std::string& line, bool hex, std::uint64_t line_number) {
    if (!hex) return line;
    std::string out;
    int high = -1;
    for (char c : line) {
        if (c == ' ' || c == '\t' || c == '\r') continue;
        const int v = hex_value(c);
        if (v < 0) finish(failed, "input line " + std::to_string(line_number) + ": not hex: '" + line + "'");
        if (high < 0) {
            high = v;
        } else {
            out += static_cast<char>((high << 4) | v);
            high = -1;
        }
    }
    if (high >= 0)
        finish(failed, "input line " + std::to_string(line_number) + ": an odd number of hex digits");
    return out;
}

// Reads the input and sends each line as one frame through `send(payload, ec)`; `done()` after
// the last one. Errors end the process.
template <typename Send, typename Done>
void pump_input(const options& o, Send send, Done done) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (!o.file.empty()) {
        file.open(o.file, std::ios::binary);
        if (!file) finish(failed, "cannot open " + o.file);
        in = &file;
    }
    std::string line;
    std::uint64_t number = 0;
    while (std::getline(*in, line)) {
        ++number;
        std::string payload = payload_of(line, o.hex_input, number);
        std::error_code ec;
        send(sf::const_buffer(payload.data(), payload.size()), ec);
        if (ec) finish_error("send (input line " + std::to_string(number) + ")", ec);
    }
    done();
}

// ---- streams (TCP, Unix) --------------------------------------------------------------------

// The end of the input, announced on `cv`: `ended` once the input thread has read the last line
// (for a plain stream: sent it and shut the sending side down).
struct input_state {
    std::mutex m;
    std::condition_variable cv;
    bool ended = false;
};

// The Unix address of `unix:PATH` (`unix:@NAME`: Linux's abstract namespace); exits on a bad one.
sf::local_address unix_address(const options& o) {
    std::error_code ec;
    const bool abstract = o.unix_path[0] == '@';
    auto address = abstract ? sf::local_address::abstract(o.unix_path.substr(1), ec)
                            : sf::local_address::path(o.unix_path, ec);
    if (ec) finish_error("unix:" + o.unix_path, ec);
    return address;
}

sf::any_stream open_stream(const options& o) {
    const sf::deadline d = deadline_of(o);
    std::error_code ec;
    if (!o.unix_path.empty()) {
        const auto address = unix_address(o);
        if (!o.listen) {
            auto s = sf::unix_stream::connect(address, d, ec);
            if (ec) finish_error("connect to unix:" + o.unix_path, ec);
            return sf::any_stream(std::move(s));
        }
        sf::unix_listener listener(address, ec);
        if (ec) finish_error("listen on unix:" + o.unix_path, ec);
        std::fprintf(stderr, "sfcat: listening on unix:%s\n", o.unix_path.c_str());
        std::fflush(stderr);
        auto accepted = listener.accept(d, ec);
        if (ec) finish_error("accept", ec);
        return sf::any_stream(std::move(accepted.socket));
    }
    if (!o.listen) {
        auto s = sf::ip_tcp_stream::connect(o.host, o.port, d, ec);
        if (ec) finish_error("connect to " + o.host + " " + o.port, ec);
        return sf::any_stream(std::move(s));
    }
    auto addresses = sf::resolve<sf::ip>(o.host, o.port, ec);
    if (ec || addresses.empty()) finish_error("resolve " + o.host + " " + o.port, ec);
    sf::ip_tcp_listener listener(addresses.front(), ec);
    if (ec) finish_error("listen on " + addresses.front().to_string(), ec);
    std::fprintf(stderr, "sfcat: listening on %s\n", listener.local_address().to_string().c_str());
    std::fflush(stderr);
    auto accepted = listener.accept(d, ec);
    if (ec) finish_error("accept", ec);
    return sf::any_stream(std::move(accepted.socket));
}

[[noreturn]] void run_stream(const options& o, sf::any_codec codec) {
    sf::framed conn{open_stream(o), std::move(codec)};
    auto [rx, tx] = conn.split();
    std::uint64_t received = 0;
    if (o.count && *o.count == 0) finish(ok);
    // shared: the process may end while the input thread still runs
    auto input_ended = std::make_shared<input_state>();
    std::thread input([&o, &tx = tx, input_ended] {
        pump_input(
            o, [&](sf::const_buffer payload, std::error_code& ec) { tx.send(payload, ec); },
            [&] {
                std::error_code
                    ignored;  // the peer reads end-of-stream; a peer already gone is no error here
                tx.connection().endpoint().shutdown(sf::shutdown_type::send, ignored);
                std::lock_guard<std::mutex> lock(input_ended->m);
                input_ended->ended = true;
                input_ended->cv.notify_all();
            });
    });
    input.detach();
    for (;;) {
        std::error_code ec;
        auto frame = rx.receive(deadline_of(o), ec);
        if (!frame) {
            if (ec) finish_error("receive", ec);
            // end-of-stream: the peer has sent all it will but may still read, so the input that
            // is on its way is sent before the exit (for up to --timeout or 1 s; a send error
            // ends the process from the input thread)
            std::unique_lock<std::mutex> lock(input_ended->m);
            input_ended->cv.wait_for(lock, grace_of(o), [&] { return input_ended->ended; });
            finish(ok);
        }
        print_frame(o.format, *frame);
        if (o.count && ++received == *o.count) finish(ok);
    }
}

// ---- UDP ------------------------------------------------------------------------------------

[[noreturn]] void run_udp(const options& o, sf::any_codec codec) {
    std::error_code ec;
    auto addresses = sf::resolve<sf::ip>(o.host, o.port, ec);
    if (ec || addresses.empty()) finish_error("resolve " + o.host + " " + o.port, ec);
    std::uint64_t received = 0;
    if (o.count && *o.count == 0) finish(ok);

    sf::ip_udp_socket socket;
    std::optional<std::string> first;  // listen: the datagram that named the peer
    if (o.listen) {
        socket = sf::ip_udp_socket(addresses.front(), 0);
        std::fprintf(stderr, "sfcat: listening on %s (udp)\n", socket.local_address().to_string().c_str());
        std::fflush(stderr);
        std::vector<char> buffer(65536);
        auto got = socket.receive_from(sf::mutable_buffer(buffer.data(), buffer.size()), deadline_of(o), ec);
        if (ec) finish_error("receive", ec);
        socket.connect_to(got.from, ec);  // from now on, datagrams from that peer only
        if (ec) finish_error("connect to " + got.from.to_string(), ec);
        first.emplace(buffer.data(), got.size);
    } else {
        socket = sf::ip_udp_socket::connect(addresses.front(), deadline_of(o), ec);
        if (ec) finish_error("connect to " + addresses.front().to_string(), ec);
    }

    // Each datagram is one frame; the codec checks it whole.
    if (first) {
        sf::any_codec check = codec;
        auto r = check.decode(sf::const_buffer(first->data(), first->size()));
        if (!r.is_frame() || r.consumed != first->size())
            finish(failed, "receive: the first datagram (" + std::to_string(first->size()) +
                               " bytes) is not one whole frame of " + o.codec);
        print_frame(o.format, r.payload);
        if (o.count && ++received == *o.count) finish(ok);
    }
    sf::framed conn{std::move(socket), std::move(codec)};
    auto [rx, tx] = conn.split();
    std::mutex m;
    bool input_done = false;
    std::thread input([&o, &tx = tx, &m, &input_done] {
        pump_input(
            o, [&](sf::const_buffer payload, std::error_code& ec2) { tx.send(payload, ec2); },
            [&] {
                std::lock_guard<std::mutex> lock(m);
                input_done = true;
            });
    });
    input.detach();
    // UDP has no end-of-stream: once the input has ended (and no --count is set), a quiet period
    // (--timeout, or 1 s) without a datagram ends the session. Receives wait in short slices so
    // that the end of the input is noticed.
    using clock = std::chrono::steady_clock;
    const auto limit = limit_of(o);
    const auto quiet = grace_of(o);
    auto last = clock::now();  // the last frame, or the end of the input
    bool was_ended = false;
    for (;;) {
        bool ended;
        {
            std::lock_guard<std::mutex> lock(m);
            ended = input_done;
        }
        const auto now = clock::now();
        if (ended && !was_ended) {
            was_ended = true;
            last = now;
        }
        if (ended && !o.count && now - last >= quiet) finish(ok);
        if (o.timeout && now - last >= limit) finish(timed_out, "receive: timed out");
        auto frame = rx.receive(sf::deadline(std::chrono::milliseconds(100)), ec);
        if (!frame) {
            if (ec && ec != std::errc::timed_out) finish_error("receive", ec);
            continue;
        }
        last = clock::now();
        print_frame(o.format, *frame);
        if (o.count && ++received == *o.count) finish(ok);
    }
}

// ---- TLS (TCP, Unix) ------------------------------------------------------------------------

#if defined(SFCAT_HAVE_TLS)
// The lines the input thread has read, waiting for the receiving thread to send them (one TLS
// session is used by one thread); `cv` also announces each line queued.
struct line_queue : input_state {
    std::deque<std::pair<std::uint64_t, std::string>> lines;  // input line number, payload
};

sf::tls_context tls_context_of(const options& o) {
    if (o.listen) {
        auto ctx = sf::tls_context::server();
        ctx.use_certificate_chain_file(o.cert).use_private_key_file(o.key);
        return ctx;
    }
    auto ctx = sf::tls_context::client();
    if (!o.cafile.empty()) ctx.load_verify_file(o.cafile);
    if (o.insecure) ctx.insecure_no_verify();
    return ctx;
}

// Completes the handshake of `stream` (within --timeout): a failure, a refused certificate
// included, ends the process with the reason.
template <typename Stream>
Stream handshake(const options& o, Stream stream, const std::string& peer) {
    std::error_code ec;
    stream.handshake(deadline_of(o), ec);
    if (ec) {
        if (ec == std::errc::timed_out) finish(timed_out, "TLS handshake with " + peer + ": timed out");
        finish(failed, "TLS handshake with " + peer + ": " + ec.message());
    }
    return stream;
}

template <typename Socket>
sf::tls_stream<Socket, sf::openssl_backend> tls_client(const options& o, const sf::tls_context& ctx,
                                                       Socket socket, const std::string& peer) {
    std::error_code ec;
    const std::string name = o.servername.empty() ? o.host : o.servername;
    sf::tls_stream<Socket, sf::openssl_backend> s(std::move(socket), ctx, sf::tls_role::client, name, ec);
    if (ec) finish_error("TLS with " + peer, ec);
    return handshake(o, std::move(s), peer);
}

template <typename Listener>
auto tls_accept(const options& o, const sf::tls_context& ctx, Listener listener) {
    sf::tls_listener<Listener, sf::openssl_backend> tls(std::move(listener), ctx);
    std::error_code ec;
    auto accepted = tls.accept(deadline_of(o), ec);
    if (ec) finish_error("accept", ec);
    return handshake(o, std::move(accepted.socket), accepted.from.to_string());
}

// Starts the thread that reads the input into a queue.
std::shared_ptr<line_queue> start_input(const options& o) {
    auto queue = std::make_shared<line_queue>();  // shared: the process may end before the thread
    std::thread input([&o, queue] {
        pump_input(
            o,
            [&, number = std::uint64_t{0}](sf::const_buffer payload, std::error_code&) mutable {
                std::lock_guard<std::mutex> lock(queue->m);
                queue->lines.emplace_back(
                    ++number, std::string(reinterpret_cast<const char*>(payload.data()), payload.size()));
                queue->cv.notify_all();
            },
            [&] {
                std::lock_guard<std::mutex> lock(queue->m);
                queue->ended = true;
                queue->cv.notify_all();
            });
    });
    input.detach();
    return queue;
}

// Sends the queued lines and prints what arrives, from this one thread: receives wait in short
// slices while input may still come, then (the input ended: close_notify sent) until --timeout.
// After the peer's close_notify it only sends the input that comes within --timeout (or 1 s).
template <typename Stream>
[[noreturn]] void run_tls_session(const options& o, sf::any_codec codec,
                                  const std::shared_ptr<line_queue>& queue, Stream stream) {
    if (o.count && *o.count == 0) finish(ok);
    sf::framed<Stream, sf::any_codec> conn{std::move(stream), std::move(codec)};
    using clock = std::chrono::steady_clock;
    const auto limit = limit_of(o);
    auto last = clock::now();  // the last frame received (or the start)
    bool shut = false;
    // set at the peer's close_notify (nothing more to receive): the input may come until then
    std::optional<clock::time_point> input_until;
    std::uint64_t received = 0;
    for (;;) {
        std::deque<std::pair<std::uint64_t, std::string>> lines;
        bool ended;
        {
            std::unique_lock<std::mutex> lock(queue->m);
            if (input_until && !queue->cv.wait_until(lock, *input_until,
                                                     [&] { return !queue->lines.empty() || queue->ended; }))
                finish(ok);  // the input did not end in time: the session ends at end-of-stream
            lines.swap(queue->lines);
            ended = queue->ended;
        }
        std::error_code ec;
        for (const auto& [number, payload] : lines) {
            conn.send(sf::const_buffer(payload.data(), payload.size()), ec);
            if (ec) finish_error("send (input line " + std::to_string(number) + ")", ec);
        }
        if (ended && !shut) {
            std::error_code ignored;  // the peer reads end-of-stream; a peer already gone is no error here
            conn.endpoint().shutdown(sf::shutdown_type::send, ignored);
            shut = true;
        }
        if (input_until) {
            if (shut) finish(ok);  // both directions have ended
            continue;
        }
        const auto now = clock::now();
        if (o.timeout && now - last >= limit) finish(timed_out, "receive: timed out");
        sf::deadline d = sf::deadline(std::chrono::milliseconds(20));
        if (shut) d = o.timeout ? sf::deadline(last + limit) : sf::deadline::never();
        auto frame = conn.receive(d, ec);
        if (!frame) {
            if (!ec) {  // end-of-stream: the input on its way is still sent (the peer may read on)
                if (shut) finish(ok);
                input_until = clock::now() + grace_of(o);
                continue;
            }
            if (ec != std::errc::timed_out) finish_error("receive", ec);
            continue;
        }
        last = clock::now();
        print_frame(o.format, *frame);
        if (o.count && ++received == *o.count) finish(ok);
    }
}

[[noreturn]] void run_tls(const options& o, sf::any_codec codec) {
    const sf::tls_context ctx = tls_context_of(o);
    // the input is read from the start (as the other modes do), so that lines already waiting are
    // sent right after the handshake
    const auto queue = start_input(o);
    const sf::deadline d = deadline_of(o);
    std::error_code ec;
    if (!o.unix_path.empty()) {
        const auto address = unix_address(o);
        if (!o.listen) {
            auto s = sf::unix_stream::connect(address, d, ec);
            if (ec) finish_error("connect to unix:" + o.unix_path, ec);
            run_tls_session(o, std::move(codec), queue,
                            tls_client(o, ctx, std::move(s), "unix:" + o.unix_path));
        }
        sf::unix_listener listener(address, ec);
        if (ec) finish_error("listen on unix:" + o.unix_path, ec);
        std::fprintf(stderr, "sfcat: listening on unix:%s (tls)\n", o.unix_path.c_str());
        std::fflush(stderr);
        run_tls_session(o, std::move(codec), queue, tls_accept(o, ctx, std::move(listener)));
    }
    if (!o.listen) {
        auto s = sf::ip_tcp_stream::connect(o.host, o.port, d, ec);
        if (ec) finish_error("connect to " + o.host + " " + o.port, ec);
        run_tls_session(o, std::move(codec), queue, tls_client(o, ctx, std::move(s), o.host + " " + o.port));
    }
    auto addresses = sf::resolve<sf::ip>(o.host, o.port, ec);
    if (ec || addresses.empty()) finish_error("resolve " + o.host + " " + o.port, ec);
    sf::ip_tcp_listener listener(addresses.front(), ec);
    if (ec) finish_error("listen on " + addresses.front().to_string(), ec);
    std::fprintf(stderr, "sfcat: listening on %s (tls)\n", listener.local_address().to_string().c_str());
    std::fflush(stderr);
    run_tls_session(o, std::move(codec), queue, tls_accept(o, ctx, std::move(listener)));
}
#endif

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    std::optional<sf::any_codec> codec;
    try {
        codec = o.max_frame ? sf::parse_codec_spec(o.codec, *o.max_frame) : sf::parse_codec_spec(o.codec);
    } catch (const std::system_error& e) {
        usage(e.what());
    }
    try {
#if defined(SFCAT_HAVE_TLS)
        if (o.tls) run_tls(o, std::move(*codec));
#endif
        if (o.udp) run_udp(o, std::move(*codec));
        run_stream(o, std::move(*codec));
    } catch (const std::exception& e) {
        finish(failed, e.what());
    }
}
