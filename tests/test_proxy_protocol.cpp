#include <sockframe/proxy_protocol.hpp>

#include <sockframe/sockframe.hpp>
#include <sockframe/server.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

namespace sf = sockframe;
using namespace std::chrono_literals;

namespace {
sf::const_buffer view(const std::string& s) { return sf::const_buffer(s.data(), s.size()); }
sf::const_buffer view(const std::vector<std::byte>& v) { return sf::const_buffer(v.data(), v.size()); }

std::vector<std::byte> bytes(std::initializer_list<unsigned> list) {
    std::vector<std::byte> v;
    for (unsigned b : list) v.push_back(static_cast<std::byte>(b));
    return v;
}

/// Parses `wire` fed one byte more at a time: need_more for every proper prefix, then the result
/// on the whole (a header can arrive split anywhere).
sf::decode_result parse_split(sf::const_buffer wire, sf::proxy_header& h) {
    for (std::size_t i = 0; i < wire.size(); ++i) {
        sf::proxy_header scratch;
        auto r = sf::parse_proxy_header(wire.first(i), scratch);
        if (r.is_error()) return r;  // an early verdict (errors may be seen before the end)
        if (r.is_frame()) break;     // complete before the end: what follows is data
    }
    return sf::parse_proxy_header(wire, h);
}
}  // namespace

TEST_CASE("proxy v1: TCP4, TCP6 and UNKNOWN lines, split at every byte") {
    sf::proxy_header h;
    const std::string tcp4 = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /";
    auto r = parse_split(view(tcp4).first(tcp4.size()), h);
    REQUIRE(r.is_frame());
    CHECK(r.consumed == tcp4.find("GET"));
    CHECK(h.version == 1);
    CHECK(h.family == sf::proxy_family::inet);
    CHECK(h.has_addresses());
    CHECK(h.source().host() == "192.168.0.1");
    CHECK(h.destination().host() == "192.168.0.11");
    CHECK(h.source_port == 56324);
    CHECK(h.destination_port == 443);

    const std::string tcp6 = "PROXY TCP6 2001:db8::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 0 65535\r\n";
    r = parse_split(view(tcp6), h);
    REQUIRE(r.is_frame());
    CHECK(h.family == sf::proxy_family::inet6);
    CHECK(h.source().host() == "2001:db8::1");
    CHECK(h.destination().host() == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    CHECK(h.source_port == 0);
    CHECK(h.destination_port == 65535);

    r = parse_split(view(std::string("PROXY UNKNOWN\r\n")), h);
    REQUIRE(r.is_frame());
    CHECK(r.consumed == 15);
    CHECK(!h.has_addresses());
    r = sf::parse_proxy_header(view(std::string("PROXY UNKNOWN ffff:: ffff:: 1 2 and more\r\n")), h);
    REQUIRE(r.is_frame());
    CHECK(!h.has_addresses());
}

TEST_CASE("proxy v1: every deviation from the format is malformed_frame") {
    const char* bad[] = {
        "PROXY TCP4 192.168.0.01 10.0.0.1 1 2\r\n",     // leading zero in the address
        "PROXY TCP4 192.168.0.1 10.0.0.1 01 2\r\n",     // leading zero in the port
        "PROXY TCP4 192.168.0.1 10.0.0.1 1 65536\r\n",  // port out of range
        "PROXY TCP4 192.168.0.256 10.0.0.1 1 2\r\n",    // byte out of range
        "PROXY TCP4 192.168.0 10.0.0.1 1 2\r\n",        // three numbers
        "PROXY TCP4 ::1 10.0.0.1 1 2\r\n",              // family mismatch
        "PROXY TCP6 1::2::3 ::1 1 2\r\n",               // two "::"
        "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",     // too many groups
        "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",          // scope
        "PROXY TCP4  192.168.0.1 10.0.0.1 1 2\r\n",     // two spaces
        "PROXY TCP4 192.168.0.1 10.0.0.1 1 2 3\r\n",    // a field too many
        "PROXY TCP4 192.168.0.1 10.0.0.1 1\r\n",        // a field missing
        "PROXY UDP4 192.168.0.1 10.0.0.1 1 2\r\n",      // not a v1 protocol
        "PROXY TCP4 192.168.0.1 10.0.0.1 1 2\n",        // LF alone
        "PROXY TCP4 192.168.0.1 10.0.0.1 1 2\rX",       // CR alone
        "GET / HTTP/1.1\r\n",                           // no header at all
    };
    for (const char* c_text : bad) {
        const std::string text = c_text;
        CAPTURE(text);
        sf::proxy_header h;
        h.source_port = 7;
        auto r = sf::parse_proxy_header(view(text), h);
        REQUIRE(r.is_error());
        CHECK(r.error == sf::errc::malformed_frame);
        CHECK(r.consumed == 0);
        CHECK(h.source_port == 7);  // untouched on error
    }
    // No CRLF within 107 bytes: an error once 107 bytes are there, not a wait without end.
    std::string endless = "PROXY UNKNOWN " + std::string(200, 'x');
    sf::proxy_header h;
    CHECK(sf::parse_proxy_header(view(endless).first(100), h).needs_more());
    auto r = sf::parse_proxy_header(view(endless), h);
    REQUIRE(r.is_error());
    CHECK(r.error == sf::errc::malformed_frame);
}

TEST_CASE("proxy v1: IPv6 text with an IPv4 tail is read; the encoder writes hex groups that read back") {
    // RFC 4291 allows x:x:x:x:x:x:d.d.d.d; a dual-stack peer writes IPv4-mapped addresses that way.
    sf::proxy_header h;
    const std::string mapped = "PROXY TCP6 ::ffff:192.0.2.1 64:ff9b::10.0.0.1 1 2\r\n";
    auto r = parse_split(view(mapped), h);
    REQUIRE(r.is_frame());
    const std::array<std::uint8_t, 16> want_source{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const std::array<std::uint8_t, 16> want_destination{0, 0x64, 0xff, 0x9b, 0,  0, 0, 0,
                                                        0, 0,    0,    0,    10, 0, 0, 1};
    CHECK(h.source_bytes == want_source);
    CHECK(h.destination_bytes == want_destination);
    const char* bad[] = {
        "PROXY TCP6 ::ffff:192.0.2 ::1 1 2\r\n",         // three numbers in the tail
        "PROXY TCP6 ::ffff:192.0.2.01 ::1 1 2\r\n",      // leading zero in the tail
        "PROXY TCP6 ::192.0.2.1:1 ::1 1 2\r\n",          // the tail not last
        "PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n",  // 144 bits
    };
    for (const char* c_text : bad) {
        const std::string text = c_text;
        CAPTURE(text);
        CHECK(sf::parse_proxy_header(view(text), h).error == sf::errc::malformed_frame);
    }
    REQUIRE(sf::parse_proxy_header(view(std::string("PROXY TCP6 1:2:3:4:5:6:1.2.3.4 ::1 1 2\r\n")), h)
                .is_frame());
    CHECK(h.source_bytes[15] == 4);

    // Whatever the bytes, the encoder's line parses back to the same bytes: the IPv4-mapped,
    // IPv4-compatible and NAT64 forms inet_ntop prints with a dotted tail included. (A header
    // read from a v2 peer may carry a mapped address in the inet6 family; tcp() would unmap it.)
    const char* addresses[] = {"::ffff:192.0.2.1",
                               "::1:1",
                               "::0.0.0.2",
                               "64:ff9b::a00:1",
                               "::",
                               "1:0:0:1:0:0:0:1",
                               "1:0:0:2:0:0:3:4",
                               "2001:db8:0:0:1:0:0:1",
                               "0:1::"};
    for (const char* text : addresses) {
        CAPTURE(text);
        sf::proxy_header six =
            sf::proxy_header::tcp(sf::ipv6_address::parse("::1", 1), sf::ipv6_address::parse("::1", 2));
        six.source_bytes = sf::ipv6_address::parse(text, 1).bytes();
        six.destination_bytes = six.source_bytes;
        const auto line = sf::make_proxy_header_v1(six);
        CAPTURE(line);
        CHECK(line.find('.') == std::string::npos);
        sf::proxy_header back;
        REQUIRE(sf::parse_proxy_header(view(line), back).is_frame());
        CHECK(back.family == sf::proxy_family::inet6);
        CHECK(back.source_bytes == six.source_bytes);
        CHECK(back.destination_bytes == six.source_bytes);
    }
    // RFC 5952 form: the longest run of zero groups is the one compressed, the first if tied.
    auto line = sf::make_proxy_header_v1(sf::proxy_header::tcp(
        sf::ipv6_address::parse("1:0:0:2:0:0:0:3", 1), sf::ipv6_address::parse("2001:db8:0:0:1:0:0:1", 2)));
    CHECK(line == "PROXY TCP6 1:0:0:2::3 2001:db8::1:0:0:1 1 2\r\n");
}

TEST_CASE("proxy v2: TCP over IPv4 and IPv6, LOCAL, UNIX, TLVs; the bytes laid out by the spec") {
    // TCP over IPv4, 192.0.2.1:1234 -> 198.51.100.7:443, then an AUTHORITY TLV "example.com"
    auto wire =
        bytes({0x0D,    0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00,
               12 + 14, 192,  0,    2,    1,    198,  51,   100,  7,    0x04, 0xD2, 0x01, 0xBB, 0x02, 0x00,
               11,      'e',  'x',  'a',  'm',  'p',  'l',  'e',  '.',  'c',  'o',  'm',  'X',  'Y'});
    sf::proxy_header h;
    auto r = parse_split(view(wire), h);
    REQUIRE(r.is_frame());
    CHECK(r.consumed == wire.size() - 2);
    CHECK(h.version == 2);
    CHECK(h.command == sf::proxy_command::proxy);
    CHECK(h.transport == sf::proxy_transport::stream);
    CHECK(h.source().to_string() == "192.0.2.1:1234");
    CHECK(h.destination().to_string() == "198.51.100.7:443");
    auto tlv = h.find_tlv(sf::proxy_tlv_type::authority);
    CHECK(tlv.type == sf::proxy_tlv_type::authority);
    CHECK(tlv.value.str() == "example.com");
    CHECK(h.find_tlv(sf::proxy_tlv_type::alpn).type == 0);

    // Our encoder writes the same bytes.
    auto made = sf::make_proxy_header_v2(h, h.tlvs);
    CHECK(made == std::vector<std::byte>(wire.begin(), wire.end() - 2));

    // LOCAL with an address block anyway: accepted, addresses ignored.
    auto local = bytes({0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x11,
                        0x00, 12,   1,    2,    3,    4,    5,    6,    7,    8,    0,    1,    0,    2});
    r = parse_split(view(local), h);
    REQUIRE(r.is_frame());
    CHECK(h.command == sf::proxy_command::local);
    CHECK(!h.has_addresses());

    // UNIX stream: two 108-byte paths.
    sf::proxy_header u;
    u.command = sf::proxy_command::proxy;
    u.family = sf::proxy_family::local;
    u.transport = sf::proxy_transport::stream;
    const std::string a = "/run/client.sock", b = "/run/server.sock";
    u.source_path = view(a);
    u.destination_path = view(b);
    auto uw = sf::make_proxy_header_v2(u);
    CHECK(uw.size() == 16 + 216);
    r = parse_split(view(uw), h);
    REQUIRE(r.is_frame());
    CHECK(h.family == sf::proxy_family::local);
    CHECK(h.source_path.str() == a);
    CHECK(h.destination_path.str() == b);
    CHECK(!h.has_addresses());

    // IPv6 through the encoder and back, split at every byte.
    auto from = sf::ipv6_address::parse("2001:db8::5", 40000);
    auto to = sf::ipv6_address::parse("::1", 8080);
    auto h6 = sf::proxy_header::tcp(from, to);
    auto w6 = sf::make_proxy_header_v2(h6);
    CHECK(w6.size() == 16 + 36);
    r = parse_split(view(w6), h);
    REQUIRE(r.is_frame());
    CHECK(h.source() == sf::ip_address(from));
    CHECK(h.destination() == sf::ip_address(to));
    CHECK(sf::make_proxy_header_v1(h) == "PROXY TCP6 2001:db8::5 ::1 40000 8080\r\n");
}

TEST_CASE("proxy v2: CRC-32C TLV checked; bad version, command, family, TLVs refused") {
    auto h =
        sf::proxy_header::tcp(sf::ipv4_address::parse("10.1.2.3", 5), sf::ipv4_address::parse("10.9.8.7", 6));
    auto wire = sf::make_proxy_header_v2(h, {}, true);
    sf::proxy_header out;
    auto r = parse_split(view(wire), out);
    REQUIRE(r.is_frame());
    CHECK(out.find_tlv(sf::proxy_tlv_type::crc32c).value.size() == 4);
    // The checksum is CRC-32C over the header with the field zeroed (RFC 4960 B): recompute it.
    auto zeroed = wire;
    for (std::size_t i = wire.size() - 4; i < wire.size(); ++i) zeroed[i] = std::byte{0};
    const std::uint32_t crc = sf::crc32c::compute(view(zeroed));
    CHECK(sf::detail::load<sf::big_endian, std::uint32_t>(wire.data() + wire.size() - 4) == crc);
    CHECK(sf::crc32c::compute(view(std::string("123456789"))) == 0xE3069283u);  // the check value

    for (std::size_t i = 16; i < wire.size(); ++i) {  // any flipped bit after the fixed part
        if (i == wire.size() - 7) continue;           // the TLV's type: no longer a checksum, just a TLV
        CAPTURE(i);
        auto bad = wire;
        bad[i] ^= std::byte{0x01};
        auto e = sf::parse_proxy_header(view(bad), out);
        REQUIRE(e.is_error());
        CHECK((e.error == sf::errc::checksum_mismatch || e.error == sf::errc::malformed_frame));
    }
    auto bad = wire;
    bad[12] = std::byte{0x11};  // version 1 in a v2 header
    CHECK(sf::parse_proxy_header(view(bad), out).error == sf::errc::malformed_frame);
    bad = wire;
    bad[12] = std::byte{0x22};  // command 2
    CHECK(sf::parse_proxy_header(view(bad), out).error == sf::errc::malformed_frame);
    bad = wire;
    bad[13] = std::byte{0x41};  // family 4
    CHECK(sf::parse_proxy_header(view(bad), out).error == sf::errc::malformed_frame);
    bad = wire;
    bad[15] = std::byte{static_cast<unsigned char>(std::to_integer<unsigned>(bad[15]) - 1)};  // TLV cut short
    CHECK(sf::parse_proxy_header(view(bad).first(bad.size() - 1), out).error == sf::errc::malformed_frame);
    // PROXY over IPv6 whose address block is too short.
    auto shortv6 = bytes({0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x21,
                          0x00, 12,   1,    2,    3,    4,    5,    6,    7,    8,    0,    1,    0,    2});
    CHECK(sf::parse_proxy_header(view(shortv6), out).error == sf::errc::malformed_frame);
    // Longer than the limit given: frame_too_large with the length, before the bytes arrive.
    auto big = bytes(
        {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0xFF, 0xFF});
    auto e = sf::parse_proxy_header(view(big), out, 4096);
    REQUIRE(e.is_error());
    CHECK(e.error == sf::errc::frame_too_large);
    CHECK(e.size == 16 + 65535);
}

TEST_CASE("proxy: detection and trust") {
    CHECK(sf::detect_proxy_header(view(std::string("PRO"))) == sf::proxy_detect::need_more);
    CHECK(sf::detect_proxy_header(view(std::string("PROXY "))) == sf::proxy_detect::v1);
    CHECK(sf::detect_proxy_header(view(std::string("PROXX "))) == sf::proxy_detect::none);
    CHECK(sf::detect_proxy_header(view(std::string("\r\n\r\n"))) == sf::proxy_detect::need_more);
    CHECK(sf::detect_proxy_header(view(std::string(""))) == sf::proxy_detect::need_more);
    CHECK(sf::detect_proxy_header(view(std::string("\r\n\r\nX"))) == sf::proxy_detect::none);

    sf::proxy_trust t;
    CHECK(!t.trusts(sf::ipv4_address::loopback()));
    t.add("10.0.0.0/8");
    t.add("2001:db8::/32");
    t.add("192.0.2.7");
    CHECK(t.trusts(sf::ipv4_address::parse("10.200.1.1", 1)));
    CHECK(!t.trusts(sf::ipv4_address::parse("11.0.0.1", 1)));
    CHECK(t.trusts(sf::ipv4_address::parse("192.0.2.7", 1)));
    CHECK(!t.trusts(sf::ipv4_address::parse("192.0.2.8", 1)));
    CHECK(t.trusts(sf::ipv6_address::parse("2001:db8:ffff::1", 1)));
    CHECK(!t.trusts(sf::ipv6_address::parse("2001:db9::1", 1)));
    CHECK(t.trusts(sf::ip_address::parse("::ffff:10.1.1.1", 1)));  // mapped IPv4 matched as IPv4
    CHECK(!t.trusts(sf::local_address()));
    std::error_code ec;
    t.add("10.0.0.0/33", ec);
    CHECK(ec == sf::errc::bad_address);
    t.add("localhost", ec);
    CHECK(ec == sf::errc::bad_address);
    auto lo = sf::proxy_trust::loopback();
    CHECK(lo.trusts(sf::ipv4_address::parse("127.3.4.5", 1)));
    CHECK(lo.trusts(sf::ipv6_address::loopback(1)));
}

namespace {
using codec = sf::length_prefix<std::uint32_t>;
using server = sf::framed_server<sf::tcp_listener_nb, codec>;

struct seen {
    std::string source;  // "" for a direct connection
    std::error_code closed;
    bool opened = false, was_closed = false;
};

/// Runs a server with `options` on this thread while `peer(port)` runs on another.
template <typename Peer>
std::vector<seen> run_server(sf::server_options options, std::size_t connections, Peer peer) {
    sf::event_loop loop;
    server s(loop, codec{}, options);
    std::deque<seen> log;  // stable addresses: a connection's user pointer names its entry
    s.on_open([&](server::connection& c) {
        log.emplace_back();
        log.back().opened = true;
        c.user = &log.back();
        if (const auto* h = c.proxy()) log.back().source = h->source().to_string();
    });
    s.on_frame([](server::connection& c, sf::const_buffer p) { c.send(p); });
    std::size_t closed = 0;
    s.on_close([&](server::connection& c, std::error_code why) {
        if (c.user == nullptr) log.emplace_back();  // never opened
        seen& entry = c.user == nullptr ? log.back() : *static_cast<seen*>(c.user);
        entry.closed = why;
        entry.was_closed = true;
        ++closed;
    });
    s.listen(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)));
    const auto port = s.local_address().port();
    std::thread t([&] { peer(port); });
    const auto end = sf::deadline::clock::now() + 20s;
    while (closed < connections && sf::deadline::clock::now() < end) loop.run_for(20ms);
    t.join();
    return std::vector<seen>(log.begin(), log.end());
}
}  // namespace

TEST_CASE("framed_server: PROXY header required from a trusted proxy, frames after it intact") {
    sf::server_options o;
    o.proxy_protocol = sf::proxy_protocol_mode::require;
    o.trusted_proxies = sf::proxy_trust::loopback();
    std::atomic<int> echoed{0}, refused{0};
    auto log = run_server(o, 3, [&](std::uint16_t port) {
        {  // a v2 header and two frames in one write: the frames after the header are not lost
            auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), 10s);
            s.set_timeout(10s);
            auto h = sf::proxy_header::tcp(sf::ipv4_address::parse("203.0.113.9", 4242),
                                           sf::ipv4_address::parse("198.51.100.1", 80));
            auto wire = sf::make_proxy_header_v2(h, {}, true);
            const std::string frames = std::string("\0\0\0\3abc\0\0\0\2de", 13);
            wire.insert(wire.end(), reinterpret_cast<const std::byte*>(frames.data()),
                        reinterpret_cast<const std::byte*>(frames.data()) + frames.size());
            s.write_all(view(wire));
            sf::framed<sf::tcp_stream, codec> f(std::move(s));
            auto a = f.receive_copy<std::string>();
            auto b = f.receive_copy<std::string>();
            if (a && *a == "abc" && b && *b == "de") ++echoed;
        }
        {  // a v1 header, sent one byte at a time
            auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), 10s);
            s.set_timeout(10s);
            const std::string line = "PROXY TCP4 192.0.2.200 192.0.2.1 9 10\r\n";
            for (char ch : line) s.write_all(sf::const_buffer(&ch, 1));
            sf::framed<sf::tcp_stream, codec> f(std::move(s));
            f.send(std::string("xyz"));
            auto a = f.receive_copy<std::string>();
            if (a && *a == "xyz") ++echoed;
        }
        {  // no header: refused, nothing echoed
            auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), 10s);
            s.set_timeout(10s);
            sf::framed<sf::tcp_stream, codec> f(std::move(s));
            std::error_code ec;
            f.send(std::string("hello"), ec);
            auto a = f.receive(ec);
            if (!a) ++refused;
        }
    });
    CHECK(echoed == 2);
    CHECK(refused == 1);
    REQUIRE(log.size() == 3);
    CHECK(log[0].source == "203.0.113.9:4242");
    CHECK(log[1].source == "192.0.2.200:9");
    CHECK(!log[2].opened);
    CHECK(log[2].closed == sf::errc::malformed_frame);
}

TEST_CASE("framed_server: an untrusted peer is refused (require) or direct (accept)") {
    sf::server_options o;
    o.proxy_protocol = sf::proxy_protocol_mode::require;
    o.trusted_proxies.add("192.0.2.0/24");  // not loopback
    auto log = run_server(o, 1, [&](std::uint16_t port) {
        auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), 10s);
        s.set_timeout(10s);
        const std::string line = "PROXY TCP4 192.0.2.200 192.0.2.1 9 10\r\n";
        std::error_code ec;
        s.write_all(view(line), ec);
        char b[16];
        s.read_some(sf::mutable_buffer(b, sizeof b), ec);
    });
    REQUIRE(log.size() == 1);
    CHECK(!log[0].opened);
    CHECK(log[0].closed == std::errc::permission_denied);

    o.proxy_protocol = sf::proxy_protocol_mode::accept;
    std::atomic<int> ok{0};
    log = run_server(o, 1, [&](std::uint16_t port) {
        auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), 10s);
        s.set_timeout(10s);
        sf::framed<sf::tcp_stream, codec> f(std::move(s));
        f.send(std::string("direct"));
        auto a = f.receive_copy<std::string>();
        if (a && *a == "direct") ++ok;
    });
    CHECK(ok == 1);
    REQUIRE(log.size() == 1);
    CHECK(log[0].opened);
    CHECK(log[0].source.empty());

    // accept, trusted, no header: a direct connection whose first bytes are the codec's.
    o.trusted_proxies = sf::proxy_trust::loopback();
    log = run_server(o, 1, [&](std::uint16_t port) {
        auto s = sf::tcp_stream::connect(sf::ipv4_address::loopback(port), 10s);
        s.set_timeout(10s);
        sf::framed<sf::tcp_stream, codec> f(std::move(s));
        f.send(std::string("plain"));
        auto a = f.receive_copy<std::string>();
        if (a && *a == "plain") ++ok;
    });
    CHECK(ok == 2);
    REQUIRE(log.size() == 1);
    CHECK(log[0].opened);
    CHECK(log[0].source.empty());
}
