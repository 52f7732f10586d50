// Recipes: protocols that need no codec of their own, only a length_prefix configuration (see
// docs/recipes.md). Each is checked against bytes a real encoder wrote:
//   PostgreSQL  psql 15 talking to a stub server (its StartupMessage and a simple Query)
//   Java        DataOutputStream.writeUTF, OpenJDK 17
//   gRPC, DNS over TCP, Kafka   Python's struct.pack, laid out as each specification says
#include <sockframe/length_prefix.hpp>

#include "support/codec_test.hpp"

#include <string>

namespace sf = sockframe;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

namespace {
std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

/// gRPC's Length-Prefixed-Message: a compressed flag byte, a 4-byte big-endian message length,
/// the message. The flag stays in the frame (strip 0), the codec inserts the length after it.
sf::length_prefix<std::uint32_t> grpc_messages(std::size_t max_message = 4 * 1024 * 1024) {
    sf::length_prefix_options o;
    o.offset = 1;  // the compressed flag comes before the length
    o.strip = 0;   // deliver flag + length + message (the flag matters)
    o.max_frame = 5 + max_message;
    return sf::length_prefix<std::uint32_t>{o};
}

/// PostgreSQL's messages after startup: a type byte, an int32 length that counts itself but not
/// the type byte, the body. Delivered whole (type at [0], body from [5]).
sf::length_prefix<std::uint32_t> postgres_typed() {
    sf::length_prefix_options o;
    o.offset = 1;       // the type byte
    o.adjustment = -4;  // the length counts its own 4 bytes
    o.strip = 0;
    return sf::length_prefix<std::uint32_t>{o};
}
/// PostgreSQL's StartupMessage (and SSLRequest, CancelRequest): no type byte.
sf::length_prefix<std::uint32_t> postgres_startup() {
    sf::length_prefix_options o;
    o.adjustment = -4;
    return sf::length_prefix<std::uint32_t>{o};
}
}  // namespace

TEST_CASE("recipe: PostgreSQL, bytes written by psql") {
    const std::string startup = unhex(
        "00000038000300007573657200616c6963650064617461626173650073686f70006170706c69636174696f6e5f6e61"
        "6d65007073716c0000");
    const std::string query = unhex("510000000d53454c454354203100");
    const std::string startup_body = startup.substr(4);
    CHECK(decode_all_ways(postgres_startup, startup) == events{frame(startup_body)});
    CHECK(encode(postgres_startup(), startup_body) == startup);
    // typed messages: two in a row, split anywhere
    CHECK(decode_all_ways(postgres_typed, query + query) == events{frame(query), frame(query)});
    // encode(type + body) inserts the length: psql's bytes again
    CHECK(encode(postgres_typed(), std::string("Q") + "SELECT 1" + std::string(1, '\0')) == query);
    // a length below 4 cannot be: negative_length
    CHECK(decode_all_ways(postgres_typed, unhex("510000000300")) ==
          events{error(sf::errc::negative_length, 3)});
}

TEST_CASE("recipe: Java DataOutputStream.writeUTF, bytes written by OpenJDK") {
    // writeUTF("hello"), writeUTF(""), writeUTF("h\u00e9\u0000\u20ac") (modified UTF-8: NUL is C0 80)
    const std::string wire = unhex("000568656c6c6f0000000868c3a9c080e282ac");
    auto make = [] { return sf::length_prefix<std::uint16_t>{}; };
    CHECK(decode_all_ways(make, wire) == events{frame("hello"), frame(""), frame(unhex("68c3a9c080e282ac"))});
    CHECK(encode(make(), "hello") == wire.substr(0, 7));
    CHECK(make().max_frame() == 65535);  // writeUTF's own limit
    CHECK(codec_test::encode_error(make(), std::string(65536, 'x')) == sf::errc::payload_too_large);
}

TEST_CASE("recipe: gRPC Length-Prefixed-Message") {
    // flag 0, length 4, protobuf message {1: "hi"} (struct.pack('>BI', 0, 4) + b'\x0a\x02hi')
    const std::string wire = unhex("00000000040a026869");
    CHECK(decode_all_ways([] { return grpc_messages(); }, wire + wire) == events{frame(wire), frame(wire)});
    CHECK(encode(grpc_messages(), unhex("000a026869")) == wire);
    // the compressed flag is carried, and the limit is on the message
    const std::string compressed = unhex("0100000002abcd");
    CHECK(decode_all_ways([] { return grpc_messages(); }, compressed) == events{frame(compressed)});
    CHECK(decode_all_ways([] { return grpc_messages(16); }, unhex("0000000011")) ==
          events{error(sf::errc::frame_too_large, 17)});
}

TEST_CASE("recipe: DNS over TCP (RFC 1035 4.2.2, RFC 7766)") {
    // a query for example.com A, id 0x1234, RD: struct.pack('>H', len(q)) + q
    const std::string wire = unhex("001d123401000001000000000000076578616d706c6503636f6d0000010001");
    auto make = [] { return sf::length_prefix<std::uint16_t>{}; };
    CHECK(decode_all_ways(make, wire + wire) == events{frame(wire.substr(2)), frame(wire.substr(2))});
    CHECK(encode(make(), wire.substr(2)) == wire);
}

TEST_CASE("recipe: Kafka (int32 big-endian size)") {
    // ApiVersions v0, correlation id 7, client id "test": struct.pack('>hhih4s', 18, 0, 7, 4, b'test')
    const std::string wire = unhex("0000000e0012000000000007000474657374");
    auto make = [] {
        return sf::length_prefix<std::uint32_t>{100u * 1024 * 1024};
    };  // socket.request.max.bytes
    CHECK(decode_all_ways(make, wire) == events{frame(wire.substr(4))});
    CHECK(encode(make(), wire.substr(4)) == wire);
    // a negative int32 size is above any max_frame: frame_too_large, not a huge allocation
    CHECK(decode_all_ways(make, unhex("ffffffff00")) ==
          events{error(sf::errc::frame_too_large, 0xffffffffu)});
}
