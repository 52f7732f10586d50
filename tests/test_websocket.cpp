#include <sockframe/websocket.hpp>

#include <sockframe/sockframe.hpp>

#include "support/codec_test.hpp"
#include "support/net.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sf = sockframe;
namespace ws = sockframe::websocket;
using codec_test::bytes;
using codec_test::decode_all_ways;
using codec_test::error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

static_assert(sf::codec_check<ws::frame_codec>::ok);
static_assert(sf::codec_traits<ws::frame_codec>::has_encode_prefix);

namespace {
std::string hex(const std::array<unsigned char, 20>& digest) {
    std::string s;
    for (unsigned char c : digest) {
        s += "0123456789abcdef"[c >> 4];
        s += "0123456789abcdef"[c & 15];
    }
    return s;
}
std::string sha1_hex(std::string_view text, std::size_t repeat = 1) {
    ws::detail::sha1 h;
    for (std::size_t i = 0; i < repeat; ++i) h.update(text.data(), text.size());
    return hex(h.finish());
}
auto server_codec = [] { return ws::frame_codec{ws::role::server}; };
auto client_codec = [] { return ws::frame_codec{ws::role::client}; };
std::string str(const std::vector<std::byte>& v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}
// A masked frame as a client would send it, with a fixed key so that the bytes are known.
std::string masked(unsigned first, std::string_view payload,
                   std::array<unsigned char, 4> key = {0x37, 0xfa, 0x21, 0x3d}) {
    std::string out(1, static_cast<char>(first));
    const std::size_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(0x80 | n);
    } else if (n <= 0xFFFF) {
        out += bytes({0xFE, static_cast<int>(n >> 8), static_cast<int>(n & 0xFF)});
    } else {
        out += static_cast<char>(0xFF);
        for (int i = 7; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
    }
    for (unsigned char k : key) out += static_cast<char>(k);
    for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(payload[i] ^ key[i % 4]);
    return out;
}
ws::event feed(ws::message_assembler& a, const std::string& wire) {
    static thread_local std::string keep;
    keep = wire;
    return a.feed(sf::const_buffer{keep});
}
}  // namespace

TEST_CASE("websocket: SHA-1 against the FIPS 180 / RFC 3174 test vectors") {
    CHECK(sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(sha1_hex("a", 1000000) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    CHECK(sha1_hex("0123456701234567012345670123456701234567012345670123456701234567", 10) ==
          "dea356a2cddd90c7a7ecedc5ebb563934f460452");
    // lengths around the padding boundary (55, 56, 64 bytes), checked against each other split
    for (std::size_t n : {55u, 56u, 63u, 64u, 65u, 119u}) {
        const std::string text(n, 'x');
        ws::detail::sha1 split;
        split.update(text.data(), 7);
        split.update(text.data() + 7, n - 7);
        CHECK(hex(split.finish()) == sha1_hex(text));
    }
}

TEST_CASE("websocket: base64 against the RFC 4648 test vectors") {
    const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        CHECK(ws::detail::base64_encode(plain.data(), plain.size()) == encoded);
        const auto back = ws::detail::base64_decode(encoded);
        REQUIRE(back);
        CHECK(*back == plain);
    }
    for (const char* bad : {"Zg=", "Zh==", "Zm9=", "Z===", "Zm9v!A==", "Zg==Zg==", "Zm 9"}) {
        INFO(bad);
        CHECK_FALSE(ws::detail::base64_decode(bad));
    }
    const std::string all = codec_test::random_bytes(300, 7);
    CHECK(*ws::detail::base64_decode(ws::detail::base64_encode(all.data(), all.size())) == all);
}

TEST_CASE("websocket: Sec-WebSocket-Accept of RFC 6455's example key, and fresh keys") {
    CHECK(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const std::string a = ws::make_key(), b = ws::make_key();
    CHECK(a.size() == 24);
    CHECK(ws::detail::base64_decode(a)->size() == 16);
    CHECK(a != b);
}

TEST_CASE("websocket: RFC 6455 section 5.7's example frames") {
    const std::string hello_unmasked = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    const std::string hello_masked =
        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    CHECK(masked(0x81, "Hello") == hello_masked);
    CHECK(decode_all_ways(client_codec, hello_unmasked) == events{frame(hello_unmasked)});
    CHECK(decode_all_ways(server_codec, hello_masked) == events{frame(hello_masked)});
    ws::frame f;
    REQUIRE_FALSE(ws::parse_frame(sf::const_buffer{hello_masked}, f));
    CHECK(f.fin);
    CHECK(f.op == ws::opcode::text);
    CHECK(f.masked);
    std::string plain(5, '\0');
    ws::unmask(f.payload.data(), reinterpret_cast<std::byte*>(plain.data()), 5, f.mask);
    CHECK(plain == "Hello");

    // the fragmented "Hel" + "lo", a ping, a masked pong, 256 and 65536 bytes of binary
    const std::string fragments = bytes({0x01, 0x03, 0x48, 0x65, 0x6c}) + bytes({0x80, 0x02, 0x6c, 0x6f});
    ws::message_assembler client;
    CHECK(feed(client, bytes({0x01, 0x03, 0x48, 0x65, 0x6c})).type == ws::event::kind::none);
    const ws::event joined = feed(client, bytes({0x80, 0x02, 0x6c, 0x6f}));
    CHECK(joined.type == ws::event::kind::text);
    CHECK(joined.data.str() == "Hello");
    CHECK(decode_all_ways(client_codec, fragments + hello_unmasked).size() == 3);
    const ws::event ping = feed(client, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    CHECK(ping.type == ws::event::kind::ping);
    CHECK(ping.data.str() == "Hello");
    ws::message_assembler server;
    const ws::event pong =
        feed(server, bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    CHECK(pong.type == ws::event::kind::pong);
    CHECK(pong.data.str() == "Hello");
    const std::string b256 = bytes({0x82, 0x7E, 0x01, 0x00}) + std::string(256, 'b');
    const std::string b64k = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + std::string(65536, 'c');
    CHECK(decode_all_ways(client_codec, b256) == events{frame(b256)});
    const events big = decode_all_ways(client_codec, b64k + b256);
    REQUIRE(big.size() == 2);
    CHECK(big[0] == frame(b64k));
    // encode writes the same headers, the payload not copied
    const ws::frame_codec codec{ws::role::server};
    CHECK(codec_test::encode(codec, std::string(256, 'b')) == b256);
    CHECK(codec_test::encode(codec, std::string(65536, 'c')) == b64k);
    CHECK(codec_test::payload_not_copied(codec, std::string(300, 'p')));
    ws::frame_codec text_codec{ws::role::server, 1000, ws::opcode::text};
    CHECK(codec_test::encode(text_codec, "Hello") == hello_unmasked);
    CHECK(codec_test::encode_error(text_codec, std::string(1001, 'x')) == sf::errc::payload_too_large);
    CHECK(codec_test::encode_error(ws::frame_codec{ws::role::client}, "x") == sf::errc::not_supported);
}

TEST_CASE("websocket: masked frames at 7, 16 and 64-bit lengths, split at every byte") {
    const std::string small = masked(0x82, std::string(125, 's'));
    const std::string medium = masked(0x82, std::string(126, 'm'));
    const std::string edge = masked(0x02, std::string(65535, 'e'));
    const std::string large = masked(0x80, std::string(65536, 'l'));
    const events got = decode_all_ways(server_codec, small + medium + bytes({0x88, 0x80, 1, 2, 3, 4}));
    CHECK(got == events{frame(small), frame(medium), frame(bytes({0x88, 0x80, 1, 2, 3, 4}))});
    ws::frame_codec codec{ws::role::server};
    const std::string both = edge + large;
    auto r = codec.decode(sf::const_buffer{both});
    REQUIRE(r.is_frame());
    CHECK(r.consumed == edge.size());
    r = codec.decode(sf::const_buffer{both}.subspan(edge.size()));
    REQUIRE(r.is_frame());
    CHECK(r.consumed == large.size());
    // client-side encoding masks with a fresh key; the assembler unmasks it back
    std::vector<std::byte> out;
    const std::string payload = codec_test::random_bytes(70000, 3);
    ws::encode_frame(true, ws::opcode::binary, sf::const_buffer{payload}, true, out);
    CHECK(out.size() == 14 + payload.size());
    CHECK(str(out).substr(14) != payload);
    ws::message_assembler a;
    const ws::event e = feed(a, str(out));
    CHECK(e.type == ws::event::kind::binary);
    CHECK(e.data.str() == payload);
}

TEST_CASE("websocket: frames the RFC forbids are errors at their byte") {
    // RSV1, RSV2, RSV3 without an extension
    for (int rsv : {0x40, 0x20, 0x10})
        CHECK(decode_all_ways(client_codec, bytes({0x81 | rsv, 0x00})) ==
              events{error(sf::errc::malformed_frame, 0)});
    // reserved opcodes 3-7 and B-F
    for (int op : {3, 4, 7, 0xB, 0xF})
        CHECK(decode_all_ways(client_codec, bytes({0x80 | op, 0x00})) ==
              events{error(sf::errc::malformed_frame, 0)});
    // a fragmented control frame; a control frame above 125 bytes
    CHECK(decode_all_ways(client_codec, bytes({0x09, 0x00})) == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(client_codec, bytes({0x89, 0x7E, 0x00, 0x7E})) ==
          events{error(sf::errc::frame_too_large, 126)});
    // a server rejects unmasked client frames; a client rejects masked server frames
    CHECK(decode_all_ways(server_codec, bytes({0x81, 0x01, 'x'})) ==
          events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(client_codec, masked(0x81, "x")) == events{error(sf::errc::malformed_frame, 1)});
    // lengths not in their shortest form; a 64-bit length with its top bit set
    CHECK(decode_all_ways(client_codec, bytes({0x82, 0x7E, 0x00, 0x7D})) ==
          events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(client_codec, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF})) ==
          events{error(sf::errc::malformed_frame, 1)});
    CHECK(decode_all_ways(client_codec, bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})) ==
          events{error(sf::errc::malformed_frame, 1)});
    // above the configured maximum, before the payload arrives
    auto small = [] { return ws::frame_codec{ws::role::client, 1000}; };
    CHECK(decode_all_ways(small, bytes({0x82, 0x7E, 0x03, 0xE9})) ==
          events{error(sf::errc::frame_too_large, 1001)});
    CHECK(decode_all_ways(small, bytes({0x82, 0x7E, 0x03, 0xE8}) + std::string(1000, 'x')).size() == 1);
    CHECK(small().max_frame_bytes() == 1014);
}

TEST_CASE("websocket: the assembler joins fragments, checks UTF-8 across them and bounds messages") {
    ws::message_assembler a{20};
    // "é" (C3 A9) and "€" (E2 82 AC) split across fragments, a ping between fragments
    CHECK(feed(a, masked(0x01, "a\xC3")).type == ws::event::kind::none);
    CHECK(a.in_message());
    CHECK(feed(a, masked(0x89, "p")).type == ws::event::kind::ping);
    CHECK(feed(a, masked(0x00, "\xA9\xE2\x82")).type == ws::event::kind::none);
    ws::event e = feed(a, masked(0x80, "\xAC!"));
    CHECK(e.type == ws::event::kind::text);
    CHECK(e.data.str() == "a\xC3\xA9\xE2\x82\xAC!");
    // binary fragments are not checked
    CHECK(feed(a, masked(0x02, "\xFF")).type == ws::event::kind::none);
    e = feed(a, masked(0x80, "\xFE"));
    CHECK(e.type == ws::event::kind::binary);
    CHECK(e.data.str() == "\xFF\xFE");
    // invalid UTF-8: in one frame, at the fragment where it breaks, or cut at the final fragment
    for (const char* bad : {"\xFF", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\x80"}) {
        INFO(bad);
        e = feed(a, masked(0x81, bad));
        CHECK(e.type == ws::event::kind::failure);
        CHECK(e.code == ws::close_code::invalid_payload);
        CHECK(e.error == ws::error::invalid_payload);
    }
    CHECK(feed(a, masked(0x01, "ok\xE2")).type == ws::event::kind::none);
    e = feed(a, masked(0x00, "\x28"));  // not a continuation byte: fails before the final fragment
    CHECK(e.type == ws::event::kind::failure);
    CHECK(e.code == 1007);
    CHECK(feed(a, masked(0x01, "ok\xE2\x82")).type == ws::event::kind::none);
    CHECK(feed(a, masked(0x80, "")).code == 1007);  // the message ends inside a character
    // continuation without a message; a new message inside a fragmented one
    CHECK(feed(a, masked(0x80, "x")).code == 1002);
    CHECK(feed(a, masked(0x01, "x")).type == ws::event::kind::none);
    CHECK(feed(a, masked(0x81, "y")).code == 1002);
    // size bound, whole and fragmented
    CHECK(feed(a, masked(0x82, std::string(20, 'z'))).type == ws::event::kind::binary);
    CHECK(feed(a, masked(0x82, std::string(21, 'z'))).code == 1009);
    CHECK(feed(a, masked(0x02, std::string(15, 'z'))).type == ws::event::kind::none);
    e = feed(a, masked(0x80, std::string(6, 'z')));
    CHECK(e.code == 1009);
    CHECK(e.error == ws::error::message_too_big);
    // an unmasked single frame is delivered as a view of the frame itself
    ws::message_assembler view;
    const std::string frame_bytes = bytes({0x82, 0x03}) + "abc";
    const sf::const_buffer wire{frame_bytes};
    e = view.feed(wire);
    CHECK(e.data.data() == wire.data() + 2);
}

TEST_CASE("websocket: close frames: codes, reasons, lengths") {
    ws::message_assembler a;
    ws::event e = feed(a, masked(0x88, ""));
    CHECK(e.type == ws::event::kind::close);
    CHECK(e.code == ws::close_code::no_status);
    e = feed(a, masked(0x88, bytes({0x0F, 0xA0}) + "bye"));
    CHECK(e.type == ws::event::kind::close);
    CHECK(e.code == 4000);
    CHECK(e.reason == "bye");
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999}) {
        INFO(code);
        CHECK(feed(a, masked(0x88, bytes({code >> 8, code & 0xFF}))).type == ws::event::kind::close);
    }
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        INFO(code);
        e = feed(a, masked(0x88, bytes({code >> 8, code & 0xFF})));
        CHECK(e.type == ws::event::kind::failure);
        CHECK(e.code == 1002);
    }
    CHECK(feed(a, masked(0x88, bytes({0x03}))).code == 1002);              // one byte
    CHECK(feed(a, masked(0x88, bytes({0x03, 0xE8, 0xFF}))).code == 1007);  // reason not UTF-8
    CHECK(ws::is_valid_close_code(1000));
    CHECK_FALSE(ws::is_valid_close_code(1005));
}

TEST_CASE("websocket: the opening handshake, server and client side") {
    const std::string request =
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, "
        "Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n"
        "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
    CHECK(ws::find_head_end(sf::const_buffer{request + "\x81"}) == request.size());
    CHECK(ws::find_head_end(sf::const_buffer{request.substr(0, request.size() - 1)}) == 0);
    ws::request r;
    REQUIRE_FALSE(ws::parse_request(request, r));
    CHECK(r.target == "/chat");
    CHECK(r.host == "server.example.com");
    CHECK(r.key == "dGhlIHNhbXBsZSBub25jZQ==");
    CHECK(r.origin == "http://example.com");
    const std::string answer = ws::response(r.key);
    CHECK(answer.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
    CHECK_FALSE(ws::check_response(answer, "dGhlIHNhbXBsZSBub25jZQ=="));
    CHECK(ws::check_response(answer, "AAAAAAAAAAAAAAAAAAAAAA==") == ws::error::bad_accept);
    CHECK(ws::check_response("HTTP/1.1 200 OK\r\n\r\n", "dGhlIHNhbXBsZSBub25jZQ==") ==
          ws::error::bad_response);
    std::string with_ext = answer;
    with_ext.insert(with_ext.size() - 2, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    CHECK(ws::check_response(with_ext, "dGhlIHNhbXBsZSBub25jZQ==") == ws::error::bad_response);
    // header names and tokens are case-insensitive
    std::string lower = request;
    for (auto [from, to] : {std::pair<std::string, std::string>{"Upgrade: websocket", "upgrade: WebSocket"},
                            {"Connection:", "CONNECTION:"}}) {
        lower.replace(lower.find(from), from.size(), to);
    }
    CHECK_FALSE(ws::parse_request(lower, r));
    auto without = [&](const std::string& header) {
        std::string s = request;
        const std::size_t at = s.find(header);
        s.erase(at, s.find("\r\n", at) + 2 - at);
        return s;
    };
    CHECK(ws::parse_request(without("Host:"), r) == ws::error::bad_request);
    CHECK(ws::parse_request(without("Upgrade:"), r) == ws::error::bad_request);
    CHECK(ws::parse_request(without("Connection:"), r) == ws::error::bad_request);
    CHECK(ws::parse_request(without("Sec-WebSocket-Version:"), r) == ws::error::bad_version);
    CHECK(ws::parse_request(without("Sec-WebSocket-Key:"), r) == ws::error::bad_key);
    std::string v8 = request;
    v8.replace(v8.find("Version: 13"), 11, "Version: 8");
    CHECK(ws::parse_request(v8, r) == ws::error::bad_version);
    CHECK(ws::refusal(ws::error::bad_version).find("426") != std::string::npos);
    std::string short_key = request;
    short_key.replace(short_key.find("dGhlIHNhbXBsZSBub25jZQ=="), 24, "c2hvcnQ=");
    CHECK(ws::parse_request(short_key, r) == ws::error::bad_key);
    std::string post = request;
    post.replace(0, 3, "PUT");
    CHECK(ws::parse_request(post, r) == ws::error::bad_request);
    CHECK(ws::parse_request("GET / HTTP/1.0\r\n\r\n", r) == ws::error::bad_request);
    CHECK(ws::parse_request("GET / HTTP/1.1\r\nbad line\r\n\r\n", r) == ws::error::bad_request);
    // the client's request is what the server parses
    const std::string key = ws::make_key();
    const std::string mine = ws::client_request("localhost:80", "/x?y=1", key);
    REQUIRE_FALSE(ws::parse_request(mine, r));
    CHECK(r.target == "/x?y=1");
    CHECK(r.key == key);
}

TEST_CASE("websocket: a session's client and server talk over TCP") {
    sf::tcp_listener listener{sf::ipv4_address::loopback(0)};
    const auto address = listener.local_address();
    std::string server_log;
    std::uint16_t server_saw_code = 0;
    std::string server_saw_reason;
    test_support::joining_thread server([&] {
        auto accepted = listener.accept(std::chrono::seconds(10));
        auto s = ws::session::accept(std::move(accepted.socket), {}, std::chrono::seconds(20));
        server_log = s.target();
        while (auto m = s.receive(std::chrono::seconds(20)))
            s.send(m->data, m->text, std::chrono::seconds(20));
        server_saw_code = s.close_code();
        server_saw_reason = s.close_reason();
    });
    auto c = ws::session::connect(sf::tcp_stream::connect(address, std::chrono::seconds(10)), "127.0.0.1",
                                  "/echo");
    c.send_text("hello");
    auto m = c.receive(std::chrono::seconds(10));
    REQUIRE(m);
    CHECK(m->text);
    CHECK(m->str() == "hello");
    const std::string blob = codec_test::random_bytes(1 << 20, 11);
    c.send_binary(sf::const_buffer{blob});
    m = c.receive(std::chrono::seconds(10));
    REQUIRE(m);
    CHECK_FALSE(m->text);
    CHECK(m->str() == blob);
    // a fragmented text message, a ping in the middle
    std::error_code ec;
    c.send_frame(false, ws::opcode::text, sf::const_buffer{"fr\xC3", 3}, {}, ec);
    c.ping(sf::const_buffer{"are you there", 13});
    c.send_frame(true, ws::opcode::continuation, sf::const_buffer{"\xA9!", 2}, {}, ec);
    REQUIRE_FALSE(ec);
    m = c.receive(std::chrono::seconds(10));
    REQUIRE(m);
    CHECK(m->str() == "fr\xC3\xA9!");
    CHECK(c.pongs() == 1);
    CHECK(c.last_pong() == "are you there");
    c.send(sf::const_buffer{"\xFF", 1}, true, {}, ec);
    CHECK(ec == sf::errc::invalid_argument);
    c.send_frame(false, ws::opcode::ping, sf::const_buffer{}, {}, ec);  // a fragmented control frame
    CHECK(ec == sf::errc::invalid_argument);
    c.send_frame(true, ws::opcode::pong, sf::const_buffer{std::string(126, 'p')}, {}, ec);
    CHECK(ec == sf::errc::invalid_argument);
    c.close(4000, "bye", std::chrono::seconds(10));
    CHECK(c.is_closed());
    CHECK(c.close_code() == 4000);  // the server echoed it
    server.join();
    CHECK(server_log == "/echo");
    CHECK(server_saw_code == 4000);
    CHECK(server_saw_reason == "bye");
}

TEST_CASE("websocket: a session fails a peer's invalid UTF-8 with close 1007, and refuses a bad handshake") {
    auto [a, b] = test_support::stream_pair();
    std::error_code server_ec;
    test_support::joining_thread server([&, sock = std::move(b)]() mutable {
        auto s = ws::basic_session<test_support::stream_pair_socket>::accept(std::move(sock), {},
                                                                             std::chrono::seconds(20));
        while (s.receive(std::chrono::seconds(20), server_ec)) {
        }
    });
    const std::string key = ws::make_key();
    const std::string request = ws::client_request("x", "/", key);
    a.write_all(sf::const_buffer{request});
    // the first frame follows the request at once, in the same write as a second one
    const std::string frames = masked(0x81, "fine") + masked(0x81, "bad \xC3\x28");
    a.write_all(sf::const_buffer{frames});
    std::string got;
    char chunk[4096];
    for (;;) {
        const std::size_t n = a.read_some(sf::mutable_buffer{chunk, sizeof chunk}, std::chrono::seconds(10));
        if (n == 0) break;
        got.append(chunk, n);
    }
    server.join();
    CHECK(server_ec == ws::error::invalid_payload);
    const std::size_t head = ws::find_head_end(sf::const_buffer{got});
    REQUIRE(head > 0);
    CHECK_FALSE(ws::check_response(got.substr(0, head), key));
    CHECK(got.substr(head) == bytes({0x88, 0x02, 0x03, 0xEF}));  // close 1007, unmasked

    auto [c, d] = test_support::stream_pair();
    std::error_code refused;
    test_support::joining_thread refuser([&, sock = std::move(d)]() mutable {
        (void)ws::basic_session<test_support::stream_pair_socket>::accept(std::move(sock), {},
                                                                          std::chrono::seconds(20), refused);
    });
    c.write_all(
        sf::const_buffer{"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                         "Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"});
    const std::size_t n = c.read_some(sf::mutable_buffer{chunk, sizeof chunk}, std::chrono::seconds(10));
    refuser.join();
    CHECK(refused == ws::error::bad_version);
    CHECK(std::string(chunk, n).rfind("HTTP/1.1 426 ", 0) == 0);

    // an endless head is cut at its maximum
    auto [e, f] = test_support::stream_pair();
    std::error_code too_long;
    test_support::joining_thread bounded([&, sock = std::move(f)]() mutable {
        ws::session_options o;
        o.max_head = 1024;
        (void)ws::basic_session<test_support::stream_pair_socket>::accept(std::move(sock), o,
                                                                          std::chrono::seconds(20), too_long);
    });
    std::error_code write_ec;
    e.write_all(sf::const_buffer{"GET / HTTP/1.1\r\nX: " + std::string(2000, 'x')}, std::chrono::seconds(10),
                write_ec);
    bounded.join();
    CHECK(too_long == ws::error::head_too_large);
}

TEST_CASE("websocket: the frame codec with framed (server side) and the assembler") {
    auto [a, b] = test_support::stream_pair();
    sf::framed server{std::move(a), ws::frame_codec{ws::role::server, 1 << 20, ws::opcode::text}};
    sf::framed client{std::move(b), ws::frame_codec{ws::role::client}};
    server.send(std::string("hi there"));
    server.send({sf::const_buffer{"two ", 4}, sf::const_buffer{"parts", 5}});
    ws::message_assembler assembler;
    for (const char* expected : {"hi there", "two parts"}) {
        auto f = client.receive(std::chrono::seconds(10));
        REQUIRE(f);
        const ws::event e = assembler.feed(*f);
        CHECK(e.type == ws::event::kind::text);
        CHECK(e.data.str() == expected);
    }
    // client frames, masked, into a server-side framed
    std::vector<std::byte> out;
    ws::encode_frame(false, ws::opcode::binary, sf::const_buffer{"ab", 2}, true, out);
    ws::encode_frame(true, ws::opcode::continuation, sf::const_buffer{"cd", 2}, true, out);
    client.endpoint().write_all(sf::const_buffer{out});
    ws::message_assembler server_side;
    auto f = server.receive(std::chrono::seconds(10));
    REQUIRE(f);
    CHECK(server_side.feed(*f).type == ws::event::kind::none);
    f = server.receive(std::chrono::seconds(10));
    REQUIRE(f);
    const ws::event e = server_side.feed(*f);
    CHECK(e.type == ws::event::kind::binary);
    CHECK(e.data.str() == "abcd");
}

TEST_CASE("websocket: a receive that times out leaves the session usable") {
    auto [a, b] = test_support::stream_pair();
    using session = ws::basic_session<test_support::stream_pair_socket>;
    std::optional<session> server;
    test_support::joining_thread accepting([&, sock = std::move(b)]() mutable {
        server.emplace(session::accept(std::move(sock), {}, std::chrono::seconds(20)));
    });
    auto client = session::connect(std::move(a), "x", "/", {}, std::chrono::seconds(20));
    accepting.join();
    REQUIRE(server);
    std::error_code ec;
    CHECK_FALSE(server->receive(std::chrono::milliseconds(1), ec));  // nothing sent yet
    CHECK(ec == std::errc::timed_out);
    CHECK_FALSE(server->is_closed());
    client.send_text("late");
    auto m = server->receive(std::chrono::seconds(10), ec);
    REQUIRE(m);
    CHECK(m->str() == "late");
}
