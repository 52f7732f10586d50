// Drives a real redis-server through resp_codec, resp_writer and resp_value:
//
//   resp_peer_check --port P incr N     pipelines N INCRs of one fresh key (written while the
//                                        replies are read back) and checks every reply is 1..N in
//                                        order, then GETs the key
//   resp_peer_check --port P large MIB  SETs a MIB-mebibyte value of seeded random bytes and
//                                        checks that GET returns it byte for byte
//
// Prints "OK ..." and exits 0, or "FAIL <reason>" and exits 1.
#include <sockframe/resp.hpp>
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>

namespace sf = sockframe;
using stream = sf::tcp_stream;
using connection = sf::framed<stream, sf::resp_codec>;

namespace {

int fail(const std::string& why) {
    std::cout << "FAIL " << why << std::endl;
    return 1;
}

sf::resp_limits large_limits() {
    sf::resp_limits limits;
    limits.max_bulk = std::size_t{64} << 20;
    limits.max_frame = std::size_t{80} << 20;
    return limits;
}

int incr(connection& conn, std::uint64_t n) {
    const std::string key = "resp_peer_check:counter";
    std::string del;
    sf::resp_writer(del).command("DEL", key);
    conn.send(del);
    if (!conn.receive(std::chrono::seconds(30))) return fail("no reply to DEL");

    // The writer has its own view of the descriptor, so writing never waits for reading.
    std::error_code write_error;
    std::thread writer([&] {
        stream view(conn.endpoint().native_handle());
        sf::framed<stream, sf::resp_codec> out(std::move(view), sf::resp_codec{});
        std::string batch;
        for (std::uint64_t i = 0; i < n && !write_error;) {
            batch.clear();
            sf::resp_writer w(batch);
            for (int k = 0; k < 1000 && i < n; ++k, ++i) w.command("INCR", key);
            out.send(batch, write_error);
        }
        out.endpoint().release();
    });
    std::string failure;
    for (std::uint64_t i = 1; i <= n; ++i) {
        std::error_code ec;
        auto frame = conn.receive(std::chrono::seconds(60), ec);
        if (!frame) {
            failure = "reply " + std::to_string(i) + ": " + (ec ? ec.message() : "connection closed");
            break;
        }
        const sf::resp_value v(*frame);
        if (v.type() != sf::resp_type::integer || v.integer() != static_cast<std::int64_t>(i)) {
            failure = "reply " + std::to_string(i) + " is " + frame->to_string();
            break;
        }
    }
    if (!failure.empty()) conn.endpoint().shutdown(sf::shutdown_type::both);
    writer.join();
    if (!failure.empty()) return fail(failure);
    if (write_error) return fail("send: " + write_error.message());
    std::string get;
    sf::resp_writer(get).command("GET", key);
    conn.send(get);
    auto frame = conn.receive(std::chrono::seconds(30));
    if (!frame || sf::resp_value(*frame).str() != std::to_string(n)) return fail("GET after the INCRs");
    std::cout << "OK " << n << " pipelined INCRs" << std::endl;
    return 0;
}

int large(connection& conn, std::size_t mib) {
    std::string value(mib << 20, '\0');
    std::uint64_t state = 42;
    for (auto& c : value) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        c = static_cast<char>(state >> 56);
    }
    const std::string key = "resp_peer_check:large";
    std::string request;
    sf::resp_writer(request).command("SET", key, value).command("GET", key).command("STRLEN", key);
    conn.send(request);
    auto set = conn.receive(std::chrono::seconds(60));
    if (!set || set->str() != "+OK\r\n") return fail("SET of the large value");
    auto get = conn.receive(std::chrono::seconds(60));
    if (!get) return fail("no reply to GET");
    const sf::resp_value v(*get);
    if (v.type() != sf::resp_type::bulk_string || v.str() != value)
        return fail("GET returned " + std::to_string(v.str().size()) + " different bytes");
    auto strlen = conn.receive(std::chrono::seconds(60));
    if (!strlen || sf::resp_value(*strlen).integer() != static_cast<std::int64_t>(value.size()))
        return fail("STRLEN");
    std::cout << "OK " << value.size() << " bytes" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5 || std::string(argv[1]) != "--port") {
        std::cerr << "usage: resp_peer_check --port P (incr N | large MIB)\n";
        return 2;
    }
    try {
        std::error_code ec;
        auto s = stream::connect("127.0.0.1", argv[2], std::chrono::seconds(10), ec);
        if (ec) return fail("connect: " + ec.message());
        connection conn(std::move(s), sf::resp_codec{large_limits()});
        const std::string mode = argv[3];
        const auto n = std::stoull(argv[4]);
        if (mode == "incr") return incr(conn, n);
        if (mode == "large") return large(conn, static_cast<std::size_t>(n));
        return fail("unknown mode " + mode);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}
