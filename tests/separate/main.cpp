// SPDX-License-Identifier: MIT
// A program of two translation units built with SOCKFRAME_SEPARATE_COMPILATION against
// sockframe::sockframe_compiled: the headers only declare the compiled code (checked below), both
// units include everything, and it links and runs. Exit status 0 when every check holds.
#include <sockframe/sockframe.hpp>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>
#include <system_error>

static_assert(SOCKFRAME_HEADER_BODIES == 0, "built without SOCKFRAME_SEPARATE_COMPILATION");

sockframe::any_codec two_byte_prefix();  // codecs.cpp
std::error_code frame_too_large_here();  // codecs.cpp

// Made during static initialisation: the category, defined in the compiled part, is constant-
// initialised, so it is usable before any dynamic initialiser runs, whatever the order of units.
static const std::error_code early = sockframe::errc::bad_address;

namespace {
int failures = 0;
void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}
}  // namespace

int main() {
    namespace sf = sockframe;
    check(two_byte_prefix().max_frame() == 65535, "len:2 from the other unit caps frames at 65535");
    check(sf::parse_codec_spec("line", 100).max_frame() == 100, "line with max_frame 100");
    bool threw = false;
    try {
        (void)sf::parse_codec_spec("len:3");
    } catch (const std::system_error& e) {
        threw = e.code() == sf::errc::invalid_argument;
    }
    check(threw, "a bad spec throws invalid_argument");
    const std::error_code other = frame_too_large_here();
    check(&other.category() == &sf::sockframe_category() && other == sf::errc::frame_too_large,
          "one category object: a code from the other unit compares equal to one made here");
    check(other.message() == "frame larger than the maximum frame size" &&
              std::string(other.category().name()) == "sockframe",
          "the category's message and name");
    check(&early.category() == &sf::sockframe_category() && early.message() == "bad address",
          "a code made in a static initialiser");

    // The codec goes through a framed pair of connected sockets (TCP on loopback: Windows has no
    // socketpair).
    sf::tcp_listener listener(sf::ipv4_address::loopback(0));
    auto a = sf::tcp_stream::connect(listener.local_address());
    auto b = listener.accept().socket;
    sf::framed<sf::tcp_stream, sf::any_codec> left(std::move(a), two_byte_prefix());
    sf::framed<sf::tcp_stream, sf::any_codec> right(std::move(b), sf::parse_codec_spec("len:2"));
    left.send(sf::const_buffer("hello", 5));
    const auto got = right.receive();
    check(got && got->size() == 5 && std::to_integer<char>((*got)[0]) == 'h', "a frame crosses a connection");
    // Protocol functions whose bodies are in the compiled part.
    check(sf::websocket::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
          "the WebSocket accept key of RFC 6455's example");
    std::vector<std::byte> connect;
    sf::mqtt::connect_options options;
    options.client_id = "c1";
    check(!sf::mqtt::build_connect(options, connect) && connect.size() > 1, "an MQTT CONNECT is built");
    sf::mqtt::packet packet;
    packet.type = sf::mqtt::packet_type::connect;
    packet.body = sf::const_buffer(connect.data() + 1, connect.size() - 1);
    sf::mqtt::connect_request request;
    check(!sf::mqtt::parse_connect(packet, request) && request.client_id == "c1", "and read back");
    const char v1[] = "PROXY TCP4 192.0.2.1 192.0.2.2 5000 80\r\n";
    sf::proxy_header header;
    const auto parsed = sf::parse_proxy_header(sf::const_buffer(v1, sizeof v1 - 1), header);
    check(parsed.consumed == sizeof v1 - 1 && sf::make_proxy_header_v1(header) == v1,
          "a PROXY v1 header round trip");
    if (failures == 0) std::puts("separate compilation: OK");
    return failures == 0 ? 0 : 1;
}
