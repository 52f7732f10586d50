// framed_echo: a framed echo server and a pipelining client that checks every echo.
//
//   framed_echo serve --codec SPEC [--max-frame N] [--upper] [--host H] [--port P] [--exit-after N]
//                     [--proxy-protocol [--trusted-proxy ADDR[/BITS]]...]
//   framed_echo send  --codec SPEC [--max-frame N] [--expect-upper] --host H --port P
//                     --count N --sizes A[,B,...] [--seed S]
//   SPEC: len:W[:be|le] (W = 1, 2, 4, 8) | varint | line | delim:STRING | fixed:N
//   TLS (when built with the TLS library): serve ... --tls-cert FILE --tls-key FILE;
//                     send ... --tls [--ca FILE] [--sni NAME] [--insecure]
//
// `serve` prints "READY <port>" once listening and serves every client on one thread with a
// framed_server on an event loop: each connection is a non-blocking framed endpoint, every
// buffered frame is echoed before the next read and the echoes of one wake-up leave in one write;
// a client that does not read its echoes is not read either (back-pressure). A framing error
// closes that connection only. When accept fails (out of descriptors: EMFILE, or memory) the
// server stops accepting for 100 ms at a time, serving its connections meanwhile, rather than
// spinning on the listener. With --exit-after N it exits 0 once N connections have closed.
// With --proxy-protocol every connection must start with a PROXY protocol header (v1 or v2) from a
// trusted proxy (--trusted-proxy, repeatable; default 127.0.0.0/8 and ::1): for each one it prints
// "PROXY <src-ip> <src-port> <dst-ip> <dst-port>" (the original client and the address it
// connected to; a LOCAL or UNKNOWN header gives the connection's own addresses), and a connection
// without a valid header is closed and reported on stderr ("framed_echo: refused ..."). With
// --tls-cert too, the header comes in clear text before the TLS handshake (haproxy's `send-proxy`
// with `ssl`): it is read first, then TLS begins with the bytes that followed it. `send` writes
// COUNT frames while it reads the echoes back, and prints "OK <count>" (exit 0) or "FAIL <reason>" (exit 1).
// Usage errors exit 2.
#include <sockframe/sockframe.hpp>
#if defined(SOCKFRAME_EXAMPLE_TLS)
#include <sockframe/tls.hpp>
#endif

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sf = sockframe;

namespace {

struct options {
    std::string mode, codec, host = "127.0.0.1", port = "0";
    std::optional<std::size_t> max_frame;
    bool upper = false, expect_upper = false;
    std::size_t count = 0;
    std::optional<std::uint64_t> exit_after;
    std::vector<std::size_t> sizes;
    std::uint64_t seed = 1;
    bool proxy = false;
    std::vector<std::string> trusted;
    // TLS: serve with a certificate and key; send over TLS verifying against the system store or
    // --ca, the host name being --sni or --host (--insecure: no verification)
    std::string tls_cert, tls_key, ca, sni;
    bool tls = false, insecure = false;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "framed_echo: " << why << "\n"
              << "usage: framed_echo serve --codec SPEC [--max-frame N] [--upper] [--host H] [--port P]\n"
              << "                         [--exit-after N]   (exit 0 once N connections have closed)\n"
              << "                         [--proxy-protocol [--trusted-proxy ADDR[/BITS]]...]\n"
              << "       framed_echo send  --codec SPEC [--max-frame N] [--expect-upper] --host H --port P\n"
              << "                         --count N --sizes A[,B,...] [--seed S]\n"
              << "  TLS:  serve ... --tls-cert FILE --tls-key FILE;  send ... --tls [--ca FILE] [--sni NAME] "
                 "[--insecure]\n";
    std::exit(2);
}

std::uint64_t number(const std::string& text, const char* what) {
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
        usage(std::string("bad ") + what + ": '" + text + "'");
    return std::stoull(text);
}

options parse(int argc, char** argv) {
    if (argc < 2) usage("missing mode");
    options o;
    o.mode = argv[1];
    if (o.mode != "serve" && o.mode != "send") usage("mode must be serve or send");
    bool have_host = false, have_port = false;
    for (int i = 2; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--codec")
            o.codec = value();
        else if (arg == "--max-frame")
            o.max_frame = number(value(), "--max-frame");
        else if (arg == "--upper" && o.mode == "serve")
            o.upper = true;
        else if (arg == "--exit-after" && o.mode == "serve")
            o.exit_after = number(value(), "--exit-after");
        else if (arg == "--proxy-protocol" && o.mode == "serve")
            o.proxy = true;
        else if (arg == "--trusted-proxy" && o.mode == "serve")
            o.trusted.push_back(value());
        else if (arg == "--expect-upper" && o.mode == "send")
            o.expect_upper = true;
        else if (arg == "--host")
            o.host = value(), have_host = true;
        else if (arg == "--port")
            o.port = value(), have_port = true;
        else if (arg == "--count" && o.mode == "send")
            o.count = number(value(), "--count");
        else if (arg == "--seed" && o.mode == "send")
            o.seed = number(value(), "--seed");
        else if (arg == "--tls-cert" && o.mode == "serve")
            o.tls_cert = value();
        else if (arg == "--tls-key" && o.mode == "serve")
            o.tls_key = value();
        else if (arg == "--tls" && o.mode == "send")
            o.tls = true;
        else if (arg == "--ca" && o.mode == "send")
            o.ca = value();
        else if (arg == "--sni" && o.mode == "send")
            o.sni = value();
        else if (arg == "--insecure" && o.mode == "send")
            o.insecure = true;
        else if (arg == "--sizes" && o.mode == "send") {
            std::string list = value();
            std::size_t start = 0;
            for (;;) {
                auto comma = list.find(',', start);
                o.sizes.push_back(number(list.substr(start, comma - start), "--sizes"));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else
            usage("unknown option '" + arg + "'");
    }
    if (o.codec.empty()) usage("--codec is required");
    if (!o.trusted.empty() && !o.proxy) usage("--trusted-proxy needs --proxy-protocol");
    // --proxy-protocol with --tls-cert: the PROXY header comes in clear text before the TLS
    // handshake (haproxy's send-proxy with ssl); the server reads it, then starts TLS.
    if (o.tls_cert.empty() != o.tls_key.empty()) usage("--tls-cert and --tls-key go together");
    if (!o.tls && (!o.ca.empty() || !o.sni.empty() || o.insecure))
        usage("--ca, --sni and --insecure need --tls");
#if !defined(SOCKFRAME_EXAMPLE_TLS)
    if (o.tls || !o.tls_cert.empty()) usage("built without TLS");
#endif
    number(o.port, "--port");
    if (o.mode == "send" && (!have_host || !have_port || o.sizes.empty() || o.count == 0))
        usage("send needs --host, --port, --count and --sizes");
    return o;
}

sf::any_codec make_codec(const options& o) {
    try {
        return o.max_frame ? sf::parse_codec_spec(o.codec, *o.max_frame) : sf::parse_codec_spec(o.codec);
    } catch (const std::exception& e) {
        usage(e.what());
    }
}

void to_upper(std::string& s) {
    for (auto& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
}

// ---- serve ----------------------------------------------------------------------------------

template <typename Listener, typename Address>
Listener make_listener(const options&, const Address& address) {
    return Listener(address);
}
#if defined(SOCKFRAME_EXAMPLE_TLS)
template <typename Family>
using tls_listener_of =
    sf::tls_listener<sf::basic_listener<Family, sf::stream, sf::non_blocking>, sf::openssl_backend>;
template <>
tls_listener_of<sf::ipv4> make_listener(const options& o, const sf::ipv4_address& address) {
    auto ctx = sf::tls_context::server();
    ctx.use_certificate_chain_file(o.tls_cert).use_private_key_file(o.tls_key);
    return {typename tls_listener_of<sf::ipv4>::listener_type(address), ctx};
}
template <>
tls_listener_of<sf::ipv6> make_listener(const options& o, const sf::ipv6_address& address) {
    auto ctx = sf::tls_context::server();
    ctx.use_certificate_chain_file(o.tls_cert).use_private_key_file(o.tls_key);
    return {typename tls_listener_of<sf::ipv6>::listener_type(address), ctx};
}
#endif

template <typename Family, typename Listener = sf::basic_listener<Family, sf::stream, sf::non_blocking>>
int serve(const options& o, const typename Family::address_type& address) {
    using listener = Listener;
    using server = sf::framed_server<listener, sf::any_codec>;

    sf::event_loop loop;
    sf::server_options limits;
    limits.initial_receive_capacity = 4096;  // small first buffer: it grows with the frames
    limits.accept_backoff = std::chrono::milliseconds(100);
    if (o.proxy) {
        limits.proxy_protocol = sf::proxy_protocol_mode::require;
        if (o.trusted.empty()) limits.trusted_proxies = sf::proxy_trust::loopback();
        for (const auto& t : o.trusted) {
            std::error_code ec;
            limits.trusted_proxies.add(t, ec);
            if (ec) usage("bad --trusted-proxy: '" + t + "'");
        }
    }
    server echo(loop, make_codec(o), limits);
    std::string scratch;
    echo.on_frame([&](auto& c, sf::const_buffer frame) {
        if (!o.upper) {
            c.send(frame);
            return;
        }
        scratch.assign(frame.str());
        to_upper(scratch);
        c.send(scratch);
    });
    static int opened_marker = 0;
    echo.on_open([&](auto& c) {
        c.user = &opened_marker;
        if (!o.proxy) return;
        const sf::proxy_header* h = c.proxy();
        if (h != nullptr && h->has_addresses()) {
            std::cout << "PROXY " << h->source().host() << ' ' << h->source_port << ' '
                      << h->destination().host() << ' ' << h->destination_port << std::endl;
        } else {
            std::error_code ec;
            auto local = c.socket().local_address(ec);
            std::cout << "PROXY " << c.peer().host() << ' ' << c.peer().port() << ' ' << local.host() << ' '
                      << local.port() << std::endl;
        }
    });
    std::uint64_t closed = 0;
    echo.on_close([&](auto& c, std::error_code why) {
        if (o.proxy && c.user == nullptr)
            std::cerr << "framed_echo: refused " << c.peer().to_string()
                      << ": no valid PROXY protocol header from a trusted proxy ("
                      << (why ? why.message() : std::string("closed")) << ")" << std::endl;
        if (o.exit_after && ++closed >= *o.exit_after) loop.stop();
    });
    echo.listen(make_listener<listener>(o, address));
    std::cout << "READY " << echo.local_address().port() << std::endl;
    loop.run();
    return 0;
}

// ---- send -----------------------------------------------------------------------------------

/// splitmix64: a small seeded generator, so a run can be repeated exactly.
struct generator {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

/// Bytes a payload must avoid so that the codec can carry it.
std::string forbidden_bytes(const std::string& codec) {
    if (codec == "line") return "\r\n";
    if (codec.rfind("delim:", 0) == 0)
        return sf::parse_codec_spec(codec).target<sf::delimiter>()->bytes().to_string();
    return {};
}

std::string make_payload(generator& g, std::size_t size, const std::string& avoid) {
    std::string s(size, '\0');
    for (auto& c : s) {
        char v;
        do v = static_cast<char>(g.next() & 0xFF);
        while (!avoid.empty() && avoid.find(v) != std::string::npos);
        c = v;
    }
    return s;
}

template <typename Family>
int send(const options& o) {
    using stream = sf::basic_socket<Family, sf::stream>;
    std::error_code ec;
    auto socket = stream::connect(o.host, o.port, std::chrono::seconds(10), ec);
    if (ec) {
        std::cout << "FAIL connect: " << ec.message() << std::endl;
        return 1;
    }
    socket.set(sf::no_delay{true});
    // The writer gets its own descriptor, so reading and writing run in parallel.
    sf::framed<stream, sf::any_codec> reader(std::move(socket), make_codec(o));

    std::string avoid = forbidden_bytes(o.codec);
    std::vector<std::string> payloads;
    payloads.reserve(o.count);
    generator g{o.seed};
    for (std::size_t i = 0; i < o.count; ++i)
        payloads.push_back(make_payload(g, o.sizes[i % o.sizes.size()], avoid));

    std::error_code write_error;
    std::thread writer([&] {
        // a second framed over a duplicate view of the same socket: only its send side is used
        stream view(reader.endpoint().native_handle());
        sf::framed<stream, sf::any_codec> out(std::move(view), make_codec(o));
        for (const auto& p : payloads) {
            out.queue(p, write_error);
            if (write_error) break;
        }
        if (!write_error) out.flush(write_error);
        std::error_code ignored;
        if (write_error) out.endpoint().shutdown(sf::shutdown_type::both, ignored);  // wake the reader
        out.endpoint().release();  // the reader owns the descriptor
    });

    std::size_t done = 0;
    std::string failure;
    for (; done < o.count; ++done) {
        auto frame = reader.receive(std::chrono::seconds(60), ec);
        if (!frame) {
            failure = ec ? "receive frame " + std::to_string(done) + ": " + ec.message()
                         : "peer closed after " + std::to_string(done) + " of " + std::to_string(o.count) +
                               " frames";
            break;
        }
        std::string expected = payloads[done];
        if (o.expect_upper) to_upper(expected);
        if (frame->str() != expected) {
            failure = "frame " + std::to_string(done) + " differs (" + std::to_string(frame->size()) +
                      " bytes, expected " + std::to_string(expected.size()) + ")";
            break;
        }
    }
    if (!failure.empty()) reader.endpoint().shutdown(sf::shutdown_type::both, ec);  // unblock the writer
    writer.join();
    if (write_error) failure = "send: " + write_error.message();
    if (!failure.empty()) {
        std::cout << "FAIL " << failure << std::endl;
        return 1;
    }
    std::cout << "OK " << o.count << std::endl;
    return 0;
}

#if defined(SOCKFRAME_EXAMPLE_TLS)
/// send over TLS: one thread (one TLS session cannot be read and written from two), pipelining
/// with a bounded window of unanswered bytes.
template <typename Family>
int send_tls(const options& o) {
    using stream = sf::tls_stream<sf::basic_socket<Family, sf::stream>, sf::openssl_backend>;
    auto ctx = sf::tls_context::client();
    if (!o.ca.empty()) ctx.load_verify_file(o.ca);
    if (o.insecure) ctx.insecure_no_verify();
    std::error_code ec;
    auto socket = sf::basic_socket<Family, sf::stream>::connect(o.host, o.port, std::chrono::seconds(10), ec);
    if (ec) {
        std::cout << "FAIL connect: " << ec.message() << std::endl;
        return 1;
    }
    socket.set(sf::no_delay{true});
    stream tls(std::move(socket), ctx, sf::tls_role::client, o.sni.empty() ? o.host : o.sni, ec);
    if (!ec) tls.handshake(std::chrono::seconds(10), ec);
    if (ec) {
        std::cout << "FAIL tls handshake: " << ec.message() << std::endl;
        return 1;
    }
    sf::framed<stream, sf::any_codec> conn(std::move(tls), make_codec(o));
    const std::string avoid = forbidden_bytes(o.codec);
    std::vector<std::string> payloads;
    generator g{o.seed};
    for (std::size_t i = 0; i < o.count; ++i)
        payloads.push_back(make_payload(g, o.sizes[i % o.sizes.size()], avoid));
    constexpr std::size_t window = 256 * 1024;  // unanswered bytes at most (then read echoes)
    std::size_t sent = 0, done = 0, outstanding = 0;
    std::string failure;
    auto receive_one = [&]() -> bool {
        auto frame = conn.receive(std::chrono::seconds(60), ec);
        if (!frame) {
            failure = ec ? "receive frame " + std::to_string(done) + ": " + ec.message()
                         : "peer closed after " + std::to_string(done) + " of " + std::to_string(o.count) +
                               " frames";
            return false;
        }
        std::string expected = payloads[done];
        if (o.expect_upper) to_upper(expected);
        if (frame->str() != expected) {
            failure = "frame " + std::to_string(done) + " differs";
            return false;
        }
        outstanding -= payloads[done].size() + 1;
        ++done;
        return true;
    };
    while (done < o.count && failure.empty()) {
        while (sent < o.count && outstanding < window) {
            conn.queue(payloads[sent], ec);
            if (ec) break;
            outstanding += payloads[sent].size() + 1;
            ++sent;
        }
        if (!ec) conn.flush(ec);
        if (ec) {
            failure = "send: " + ec.message();
            break;
        }
        while (done < sent && (outstanding >= window / 2 || sent == o.count) && receive_one()) {
        }
    }
    if (!failure.empty()) {
        std::cout << "FAIL " << failure << std::endl;
        return 1;
    }
    conn.endpoint().close_notify(std::chrono::seconds(5), ec);
    std::cout << "OK " << o.count << std::endl;
    return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    bool v6 = o.host.find(':') != std::string::npos;
    try {
        if (o.mode == "serve") {
            auto port = static_cast<std::uint16_t>(number(o.port, "--port"));
#if defined(SOCKFRAME_EXAMPLE_TLS)
            if (!o.tls_cert.empty()) {
                if (v6)
                    return serve<sf::ipv6, tls_listener_of<sf::ipv6>>(o,
                                                                      sf::ipv6_address::parse(o.host, port));
                return serve<sf::ipv4, tls_listener_of<sf::ipv4>>(o, sf::ipv4_address::parse(o.host, port));
            }
#endif
            if (v6) return serve<sf::ipv6>(o, sf::ipv6_address::parse(o.host, port));
            return serve<sf::ipv4>(o, sf::ipv4_address::parse(o.host, port));
        }
        if (o.codec.rfind("fixed:", 0) == 0)
            for (auto size : o.sizes)
                if (size != make_codec(o).max_frame()) usage("every --sizes value must be N for fixed:N");
#if defined(SOCKFRAME_EXAMPLE_TLS)
        if (o.tls) return v6 ? send_tls<sf::ipv6>(o) : send_tls<sf::ipv4>(o);
#endif
        return v6 ? send<sf::ipv6>(o) : send<sf::ipv4>(o);
    } catch (const std::exception& e) {
        std::cout << "FAIL " << e.what() << std::endl;
        return 1;
    }
}
