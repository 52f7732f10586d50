#include <sockframe/mqtt.hpp>

#include <sockframe/sockframe.hpp>

#include "support/codec_test.hpp"
#include "support/net.hpp"

#include <string>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;
using codec_test::bytes;
using codec_test::decode_all_ways;
using codec_test::encode;
using codec_test::encode_error;
using codec_test::error;
using codec_test::frame;
using events = std::vector<codec_test::event>;

namespace {
std::string str(const std::vector<std::byte>& v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}
mqtt::packet parsed(sf::const_buffer frame) {
    mqtt::packet p;
    REQUIRE_FALSE(mqtt::parse(frame, p));
    return p;
}
auto make_311 = [] { return mqtt::codec{}; };
auto make_5 = [] { return mqtt::codec{SOCKFRAME_DEFAULT_MAX_FRAME, mqtt::protocol_version::v5}; };
}  // namespace

static_assert(sf::codec_check<mqtt::codec>::ok);

TEST_CASE("mqtt: the Remaining Length at each of its four sizes and their boundaries") {
    const mqtt::codec codec{mqtt::max_remaining_length};
    // (body size, expected varint) from the spec's table 2.4
    const std::pair<std::size_t, std::string> cases[] = {
        {0, bytes({0x00})},
        {127, bytes({0x7F})},
        {128, bytes({0x80, 0x01})},
        {16383, bytes({0xFF, 0x7F})},
        {16384, bytes({0x80, 0x80, 0x01})},
        {2097151, bytes({0xFF, 0xFF, 0x7F})},
        {2097152, bytes({0x80, 0x80, 0x80, 0x01})},
    };
    for (const auto& c : cases) {
        const std::size_t size = c.first;
        const std::string& varint = c.second;
        INFO("body " << size);
        const std::string body = codec_test::random_bytes(size, static_cast<unsigned>(size));
        const std::string packet = bytes({0x30}) + body;  // PUBLISH QoS 0 (body not parsed here)
        const std::string wire = encode(codec, packet);
        CHECK(wire == bytes({0x30}) + varint + body);
        auto r = mqtt::codec{mqtt::max_remaining_length}.decode(sf::const_buffer{wire});
        REQUIRE(r.is_frame());
        CHECK(r.consumed == wire.size());
        CHECK(r.payload.str() == wire);  // the whole packet
        const mqtt::packet p = parsed(r.payload);
        CHECK(p.type == mqtt::packet_type::publish);
        CHECK(p.flags == 0);
        CHECK(p.body.str() == body);
    }
    // the largest value, without building the packet
    std::byte field[4];
    CHECK(mqtt::detail::write_varint(268435455, field) == 4);
    CHECK(sf::const_buffer(field, 4).str() == bytes({0xFF, 0xFF, 0xFF, 0x7F}));
    CHECK(mqtt::detail::write_varint(268435456, field) == 0);
    CHECK(codec_test::payload_not_copied(codec, bytes({0x30}) + std::string(300, 'p')));
}

TEST_CASE("mqtt: the body is not copied by encode") {
    const mqtt::codec codec;
    std::string packet = bytes({0x30, 0, 1, 't'}) + std::string(1000, 'x');
    sf::frame_parts parts;
    REQUIRE_FALSE(codec.encode(sf::const_buffer{packet}, parts));
    REQUIRE(parts.segment_count() == 3);
    CHECK(parts[0].data() == reinterpret_cast<const std::byte*>(packet.data()));
    CHECK(parts[2].data() == reinterpret_cast<const std::byte*>(packet.data()) + 1);
    CHECK(parts[1].str() == bytes({0xEB, 0x07}));  // 1003 bytes of body: 107 + 7 * 128
}

TEST_CASE("mqtt: packets split at every byte decode the same, back to back") {
    const std::string wire = bytes({0x10, 0x0C, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 0}) +  // CONNECT
                             bytes({0x20, 0x02, 0x00, 0x00}) +                                   // CONNACK
                             bytes({0xC0, 0x00}) + bytes({0xD0, 0x00}) +                         // pings
                             bytes({0x32, 0x80, 0x01}) + std::string(128, 'q') +  // PUBLISH QoS 1
                             bytes({0x40, 0x02, 0x12, 0x34}) +                    // PUBACK
                             bytes({0x82, 0x06, 0, 1, 0, 1, 't', 0}) +            // SUBSCRIBE
                             bytes({0xE0, 0x00});                                 // DISCONNECT
    const events got = decode_all_ways(make_311, wire);
    REQUIRE(got.size() == 8);
    CHECK(got[0] == frame(wire.substr(0, 14)));
    CHECK(got[2] == frame(bytes({0xC0, 0x00})));
    CHECK(got[4] == frame(bytes({0x32, 0x80, 0x01}) + std::string(128, 'q')));
    CHECK(got[7] == frame(bytes({0xE0, 0x00})));
    // a partial packet stays buffered
    CHECK(decode_all_ways(make_311, bytes({0xC0, 0x00, 0x30, 0x05, 0, 1})) ==
          events{frame(bytes({0xC0, 0x00}))});
}

TEST_CASE("mqtt: overlong and non-minimal Remaining Lengths are malformed at their byte") {
    // a continuation bit on the fourth byte
    CHECK(decode_all_ways(make_311, bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F})) ==
          events{error(sf::errc::malformed_frame, 4)});
    CHECK(decode_all_ways(make_311, bytes({0x30, 0x80, 0x80, 0x80, 0x80})) ==
          events{error(sf::errc::malformed_frame, 4)});
    // non-minimal: 0 in two, three and four bytes, 1 in two bytes
    CHECK(decode_all_ways(make_311, bytes({0xC0, 0x80, 0x00})) ==
          events{error(sf::errc::malformed_frame, 2)});
    CHECK(decode_all_ways(make_311, bytes({0x30, 0x80, 0x80, 0x00})) ==
          events{error(sf::errc::malformed_frame, 3)});
    CHECK(decode_all_ways(make_311, bytes({0x30, 0x81, 0x80, 0x80, 0x00})) ==
          events{error(sf::errc::malformed_frame, 4)});
    CHECK(decode_all_ways(make_311, bytes({0x30, 0x81, 0x00, 'x'})) ==
          events{error(sf::errc::malformed_frame, 2)});
}

TEST_CASE("mqtt: the maximum Remaining Length, the spec's and a configured lower one") {
    // 268,435,455 is accepted as a length (the packet is not there yet); 256 MiB cannot be said
    mqtt::codec full{mqtt::max_remaining_length};
    CHECK(full.decode(sf::const_buffer{bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F})}).needs_more());
    CHECK(full.max_frame() == 1 + 4 + 268435455u);
    CHECK_THROWS_AS(mqtt::codec{mqtt::max_remaining_length + 1}, std::system_error);
    auto small = [] { return mqtt::codec{100}; };
    CHECK(small().max_frame_bytes() == 1 + 1 + 100);
    CHECK(decode_all_ways(small, bytes({0x30, 0x64}) + std::string(100, 'x')) ==
          events{frame(bytes({0x30, 0x64}) + std::string(100, 'x'))});
    CHECK(decode_all_ways(small, bytes({0x30, 0x65})) == events{error(sf::errc::frame_too_large, 101)});
    // rejected at the first varint byte that makes the length too large, before the rest arrives
    CHECK(decode_all_ways(small, bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F})) ==
          events{error(sf::errc::frame_too_large, 127 + 128)});
    CHECK(decode_all_ways(small, bytes({0x30, 0x80})) == events{error(sf::errc::frame_too_large, 128)});
    auto mid = [] { return mqtt::codec{20000}; };
    CHECK(decode_all_ways(mid, bytes({0x30, 0x80, 0x80})).empty());  // at least 16384: may still fit
    CHECK(decode_all_ways(mid, bytes({0x30, 0x80, 0xFF, 0x80})) ==
          events{error(sf::errc::frame_too_large, 127 * 128 + 16384)});
    CHECK(decode_all_ways(mid, bytes({0x30, 0xA0, 0x9C, 0x01})).empty());  // exactly 20000
    CHECK(decode_all_ways(mid, bytes({0x30, 0xA1, 0x9C, 0x01})) ==
          events{error(sf::errc::frame_too_large, 20001)});
    CHECK(mqtt::codec{16383}.max_frame() == 1 + 2 + 16383u);
    CHECK(encode_error(mqtt::codec{100}, bytes({0x30}) + std::string(101, 'x')) ==
          sf::errc::payload_too_large);
    CHECK(encode(mqtt::codec{100}, bytes({0x30}) + std::string(100, 'x')).size() == 102);
}

TEST_CASE("mqtt: the decoder's header table says what valid_first_byte and fixed_remaining_length say") {
    for (unsigned row = 0; row < 2; ++row) {
        const auto version = row == 0 ? mqtt::protocol_version::v3_1_1 : mqtt::protocol_version::v5;
        for (unsigned type = 0; type < 16; ++type) {
            INFO("row " << row << " type " << type);
            const mqtt::detail::header_rule rule = mqtt::detail::header_rule_table.rule[row][type];
            for (unsigned flags = 0; flags < 16; ++flags)
                CHECK(((rule.flags >> flags) & 1u) ==
                      (mqtt::detail::valid_first_byte(type << 4 | flags, version) ? 1u : 0u));
            const std::size_t fixed = mqtt::detail::fixed_remaining_length(type, version);
            CHECK(rule.fixed_length == (fixed == SIZE_MAX ? 255u : fixed));
        }
    }
}

TEST_CASE("mqtt: reserved flag bits and reserved types are checked per packet type") {
    // the fixed flags of every type (3.1.1 table 2.2): 0, except PUBREL, SUBSCRIBE, UNSUBSCRIBE = 2
    for (unsigned type = 1; type <= 14; ++type) {
        if (type == 3) continue;
        const unsigned good = (type == 6 || type == 8 || type == 10) ? 2u : 0u;
        for (unsigned flags = 0; flags < 16; ++flags) {
            INFO("type " << type << " flags " << flags);
            const std::size_t fixed =
                mqtt::detail::fixed_remaining_length(type, mqtt::protocol_version::v3_1_1);
            const std::size_t body = fixed == SIZE_MAX ? 3 : fixed;
            const std::string wire = bytes({static_cast<int>(type << 4 | flags), static_cast<int>(body)}) +
                                     std::string(body, '\0');
            if (flags == good)
                CHECK(decode_all_ways(make_311, wire) == events{frame(wire)});
            else
                CHECK(decode_all_ways(make_311, wire) == events{error(sf::errc::malformed_frame, 0)});
        }
    }
    // PUBLISH: any DUP/QoS/RETAIN but QoS 3, and DUP needs QoS > 0
    for (unsigned flags = 0; flags < 16; ++flags) {
        INFO("publish flags " << flags);
        const std::string wire = bytes({static_cast<int>(0x30 | flags), 0});
        const unsigned qos = (flags >> 1) & 3;
        const bool ok = qos != 3 && !(qos == 0 && (flags & 8) != 0);
        CHECK(decode_all_ways(make_311, wire) ==
              (ok ? events{frame(wire)} : events{error(sf::errc::malformed_frame, 0)}));
    }
    // type 0 is reserved; type 15 is AUTH in MQTT 5 only
    CHECK(decode_all_ways(make_311, bytes({0x00, 0x00})) == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make_5, bytes({0x00, 0x00})) == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make_311, bytes({0xF0, 0x00})) == events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make_5, bytes({0xF0, 0x01, 0x00})) == events{frame(bytes({0xF0, 0x01, 0x00}))});
    CHECK(decode_all_ways(make_5, bytes({0xF1, 0x00})) == events{error(sf::errc::malformed_frame, 0)});
    // the first byte is judged before the length arrives
    CHECK(mqtt::codec{}.decode(sf::const_buffer{bytes({0x31 | 0x06})}).is_error());
    // encode refuses the same first bytes
    CHECK(encode_error(mqtt::codec{}, bytes({0x82 ^ 0x02, 0, 1})) == sf::errc::invalid_argument);
    CHECK(encode_error(mqtt::codec{}, bytes({0x36})) == sf::errc::invalid_argument);
    CHECK(encode_error(mqtt::codec{}, "") == sf::errc::invalid_argument);
}

TEST_CASE("mqtt: fixed lengths: PINGREQ and PINGRESP 0, and in 3.1.1 the acknowledgements 2") {
    CHECK(decode_all_ways(make_311, bytes({0xC0, 0x01, 0x00})) ==
          events{error(sf::errc::frame_size_mismatch, 1)});
    CHECK(decode_all_ways(make_5, bytes({0xD0, 0x01, 0x00})) ==
          events{error(sf::errc::frame_size_mismatch, 1)});
    CHECK(decode_all_ways(make_311, bytes({0x40, 0x03, 0, 1, 0})) ==
          events{error(sf::errc::frame_size_mismatch, 3)});
    CHECK(decode_all_ways(make_311, bytes({0xE0, 0x01, 0x00})) ==
          events{error(sf::errc::frame_size_mismatch, 1)});
    // MQTT 5 acknowledgements carry a reason code and properties; DISCONNECT may have a body
    CHECK(decode_all_ways(make_5, bytes({0x40, 0x03, 0, 1, 0x10})) ==
          events{frame(bytes({0x40, 0x03, 0, 1, 0x10}))});
    CHECK(decode_all_ways(make_5, bytes({0xE0, 0x01, 0x00})) == events{frame(bytes({0xE0, 0x01, 0x00}))});
    CHECK(encode_error(mqtt::codec{}, bytes({0x40, 0})) == sf::errc::invalid_argument);
}

TEST_CASE("mqtt: the 3.1.1 packets build and parse back") {
    const mqtt::codec codec;
    auto round = [&](const std::vector<std::byte>& built) {
        const std::string wire = encode(codec, str(built));
        mqtt::codec decoder;
        static thread_local std::string keep;
        keep = wire;
        auto r = decoder.decode(sf::const_buffer{keep});
        REQUIRE(r.is_frame());
        REQUIRE(r.consumed == keep.size());
        return parsed(r.payload);
    };
    std::vector<std::byte> out;
    mqtt::connect_options o;
    o.client_id = "client-1";
    o.keep_alive = 30;
    REQUIRE_FALSE(mqtt::build_connect(o, out));
    CHECK(encode(codec, str(out)) ==
          bytes({0x10, 20, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 8}) + "client-1");
    {
        const mqtt::packet p = round(out);
        mqtt::connect_request c;
        REQUIRE_FALSE(mqtt::parse_connect(p, c));
        CHECK(c.protocol_name == "MQTT");
        CHECK(c.protocol_level == 4);
        CHECK(c.keep_alive == 30);
        CHECK(c.client_id == "client-1");
    }
    out.clear();
    o.username = "user";
    o.password = "secret";
    REQUIRE_FALSE(mqtt::build_connect(o, out));
    {
        mqtt::connect_request c;
        REQUIRE_FALSE(mqtt::parse_connect(round(out), c));
        CHECK(c.connect_flags == 0xC2);
        CHECK(c.client_id == "client-1");
    }
    o.username = {};
    out.clear();
    CHECK(mqtt::build_connect(o, out) == sf::errc::invalid_argument);

    out.clear();
    mqtt::build_connack(true, 0, out);
    {
        bool present = false;
        std::uint8_t code = 9;
        REQUIRE_FALSE(mqtt::parse_connack(round(out), present, code));
        CHECK(present);
        CHECK(code == 0);
    }

    out.clear();
    const std::string message = "hello, world";
    REQUIRE_FALSE(mqtt::build_publish("a/b", sf::const_buffer{message}, 1, 77, true, out));
    CHECK(encode(codec, str(out)) == bytes({0x33, 19, 0, 3, 'a', '/', 'b', 0, 77}) + message);
    {
        mqtt::publish_message m;
        REQUIRE_FALSE(mqtt::parse_publish(round(out), m));
        CHECK(m.topic == "a/b");
        CHECK(m.qos == 1);
        CHECK(m.retain);
        CHECK_FALSE(m.dup);
        CHECK(m.packet_id == 77);
        CHECK(m.payload.str() == message);
    }
    out.clear();
    REQUIRE_FALSE(mqtt::build_publish("t", sf::const_buffer{}, 0, 0, false, out));
    {
        mqtt::publish_message m;
        REQUIRE_FALSE(mqtt::parse_publish(round(out), m));
        CHECK(m.qos == 0);
        CHECK(m.payload.empty());
    }
    out.clear();
    CHECK(mqtt::build_publish("a/+", sf::const_buffer{}, 0, 0, false, out) == sf::errc::invalid_argument);
    CHECK(mqtt::build_publish("a", sf::const_buffer{}, 1, 0, false, out) == sf::errc::invalid_argument);
    CHECK(mqtt::build_publish("", sf::const_buffer{}, 0, 0, false, out) == sf::errc::invalid_argument);
    CHECK(mqtt::build_publish("a", sf::const_buffer{}, 3, 1, false, out) == sf::errc::invalid_argument);

    out.clear();
    mqtt::build_puback(0xBEEF, out);
    {
        std::uint16_t id = 0;
        const mqtt::packet p = round(out);
        CHECK(p.type == mqtt::packet_type::puback);
        REQUIRE_FALSE(mqtt::parse_packet_id(p, id));
        CHECK(id == 0xBEEF);
    }

    out.clear();
    REQUIRE_FALSE(mqtt::build_subscribe(5, "sensors/#", 1, out));
    {
        std::uint16_t id = 0;
        std::vector<mqtt::subscription> subs;
        REQUIRE_FALSE(mqtt::parse_subscribe(round(out), id, subs));
        CHECK(id == 5);
        REQUIRE(subs.size() == 1);
        CHECK(subs[0].topic_filter == "sensors/#");
        CHECK(subs[0].qos == 1);
    }
    out.clear();
    CHECK(mqtt::build_subscribe(0, "x", 0, out) == sf::errc::invalid_argument);

    out.clear();
    const std::string codes = bytes({1, 0x80});
    mqtt::build_suback(5, sf::const_buffer{codes}, out);
    {
        std::uint16_t id = 0;
        sf::const_buffer got;
        REQUIRE_FALSE(mqtt::parse_suback(round(out), id, got));
        CHECK(id == 5);
        CHECK(got.str() == codes);
    }

    out.clear();
    mqtt::build_pingreq(out);
    CHECK(round(out).type == mqtt::packet_type::pingreq);
    out.clear();
    mqtt::build_pingresp(out);
    CHECK(round(out).type == mqtt::packet_type::pingresp);
    out.clear();
    mqtt::build_disconnect(out);
    CHECK(round(out).type == mqtt::packet_type::disconnect);
}

TEST_CASE("mqtt: malformed bodies are rejected by the parsers") {
    auto packet_of = [](mqtt::packet_type type, unsigned flags, const std::string& body) {
        static thread_local std::string keep;
        keep = body;
        return mqtt::packet{type, static_cast<std::uint8_t>(flags), sf::const_buffer{keep}};
    };
    mqtt::publish_message m;
    // topic length beyond the body; invalid UTF-8 topic; U+0000 in a topic; wildcard; no packet id
    CHECK(mqtt::parse_publish(packet_of(mqtt::packet_type::publish, 0, bytes({0, 5, 'a'})), m) ==
          sf::errc::malformed_frame);
    CHECK(mqtt::parse_publish(packet_of(mqtt::packet_type::publish, 0, bytes({0, 2, 0xC0, 0x80})), m) ==
          sf::errc::malformed_frame);
    CHECK(mqtt::parse_publish(packet_of(mqtt::packet_type::publish, 0, bytes({0, 2, 'a', 0})), m) ==
          sf::errc::malformed_frame);
    CHECK(mqtt::parse_publish(packet_of(mqtt::packet_type::publish, 0, bytes({0, 1, '#'})), m) ==
          sf::errc::malformed_frame);
    CHECK(mqtt::parse_publish(packet_of(mqtt::packet_type::publish, 2, bytes({0, 1, 'a', 0})), m) ==
          sf::errc::malformed_frame);
    CHECK(mqtt::parse_publish(packet_of(mqtt::packet_type::publish, 2, bytes({0, 1, 'a', 0, 0})), m) ==
          sf::errc::malformed_frame);
    CHECK_FALSE(
        mqtt::parse_publish(packet_of(mqtt::packet_type::publish, 0, bytes({0, 3, 0xC3, 0xA9, 'x'})), m));
    CHECK(m.topic == "\xC3\xA9x");
    std::uint16_t id = 0;
    std::vector<mqtt::subscription> subs;
    CHECK(mqtt::parse_subscribe(packet_of(mqtt::packet_type::subscribe, 2, bytes({0, 1})), id, subs) ==
          sf::errc::malformed_frame);  // no filter
    CHECK(mqtt::parse_subscribe(packet_of(mqtt::packet_type::subscribe, 2, bytes({0, 1, 0, 1, 'a', 3})), id,
                                subs) == sf::errc::malformed_frame);  // QoS 3
    sf::const_buffer codes;
    CHECK(mqtt::parse_suback(packet_of(mqtt::packet_type::suback, 0, bytes({0, 1, 3})), id, codes) ==
          sf::errc::malformed_frame);
    bool present = false;
    std::uint8_t code = 0;
    CHECK(mqtt::parse_connack(packet_of(mqtt::packet_type::connack, 0, bytes({2, 0})), present, code) ==
          sf::errc::malformed_frame);
    mqtt::connect_request c;
    CHECK(mqtt::parse_connect(
              packet_of(mqtt::packet_type::connect, 0, bytes({0, 4, 'M', 'Q', 'T', 'T', 4, 3, 0, 0, 0, 0})),
              c) == sf::errc::malformed_frame);  // reserved connect flag
    mqtt::packet p;
    CHECK(mqtt::parse(sf::const_buffer{bytes({0x30, 0x05, 'a'})}, p) == sf::errc::malformed_frame);
    CHECK(mqtt::parse(sf::const_buffer{bytes({0x30})}, p) == sf::errc::malformed_frame);
}

TEST_CASE("mqtt: packets cross a socket through framed, sent as head + payload") {
    auto [a, b] = test_support::stream_pair();
    sf::framed client{std::move(a), mqtt::codec{}};
    sf::framed server{std::move(b), mqtt::codec{}};
    std::vector<std::byte> head;
    const std::string payload(100000, 'z');
    REQUIRE_FALSE(mqtt::build_publish_head("big/one", 1, 9, false, head));
    client.send({sf::const_buffer{head}, sf::const_buffer{payload}});
    std::vector<std::byte> ping;
    mqtt::build_pingreq(ping);
    client.send(sf::const_buffer{ping});
    auto got = server.receive();
    REQUIRE(got);
    mqtt::publish_message m;
    REQUIRE_FALSE(mqtt::parse_publish(parsed(*got), m));
    CHECK(m.topic == "big/one");
    CHECK(m.packet_id == 9);
    CHECK(m.payload.str() == payload);
    got = server.receive();
    REQUIRE(got);
    CHECK(parsed(*got).type == mqtt::packet_type::pingreq);
    // a malformed packet is an error with its position, and the reader stops
    const std::string bad = bytes({0x30, 0x80, 0x00});
    client.endpoint().write_all(sf::const_buffer{bad});
    std::error_code ec;
    CHECK_FALSE(server.receive(ec));
    CHECK(ec == sf::errc::malformed_frame);
}

namespace {
/// `built` (first byte + body) framed by the codec, then decoded at every split of the wire, as
/// one packet; returned parsed (its body views a copy that lives until the next call).
mqtt::packet framed_and_split(const std::vector<std::byte>& built) {
    static std::string keep;
    keep = encode(mqtt::codec{}, str(built));
    REQUIRE(decode_all_ways(make_311, keep) == events{frame(keep)});
    return parsed(sf::const_buffer{keep});
}
}  // namespace

TEST_CASE("mqtt: the QoS 2 flow: PUBREC, PUBREL and PUBCOMP") {
    std::vector<std::byte> out;
    mqtt::build_pubrec(0x1234, out);
    CHECK(str(out) == bytes({0x50, 0x12, 0x34}));
    out.clear();
    mqtt::build_pubrel(0x1234, out);
    CHECK(str(out) == bytes({0x62, 0x12, 0x34}));  // PUBREL's flags are 0010
    out.clear();
    mqtt::build_pubcomp(0x1234, out);
    CHECK(str(out) == bytes({0x70, 0x12, 0x34}));
    const std::pair<void (*)(std::uint16_t, std::vector<std::byte>&), mqtt::packet_type> acks[] = {
        {mqtt::build_pubrec, mqtt::packet_type::pubrec},
        {mqtt::build_pubrel, mqtt::packet_type::pubrel},
        {mqtt::build_pubcomp, mqtt::packet_type::pubcomp},
        {mqtt::build_puback, mqtt::packet_type::puback},
        {mqtt::build_unsuback, mqtt::packet_type::unsuback}};
    for (const auto& ack : acks) {
        const auto build = ack.first;
        const mqtt::packet_type type = ack.second;
        CAPTURE(static_cast<int>(type));
        out.clear();
        build(7, out);
        const mqtt::packet p = framed_and_split(out);
        std::uint16_t id = 0;
        REQUIRE_FALSE(mqtt::parse_ack(p, type, id));
        CHECK(id == 7);
        // another type, or packet id 0, is malformed
        const auto other =
            type == mqtt::packet_type::pubrec ? mqtt::packet_type::pubcomp : mqtt::packet_type::pubrec;
        CHECK(mqtt::parse_ack(p, other, id) == sf::errc::malformed_frame);
        out.clear();
        build(0, out);
        CHECK(mqtt::parse_ack(parsed(sf::const_buffer{encode(mqtt::codec{}, str(out))}), type, id) ==
              sf::errc::malformed_frame);
    }
    // PUBREL with other flags, and the acknowledgements with another length, are refused by the codec
    CHECK(decode_all_ways(make_311, bytes({0x60, 0x02, 0, 1})) ==
          events{error(sf::errc::malformed_frame, 0)});
    CHECK(decode_all_ways(make_311, bytes({0x50, 0x03, 0, 1, 0})) ==
          events{error(sf::errc::frame_size_mismatch, 3)});
}

TEST_CASE("mqtt: a CONNECT with a Will, user name and password builds and parses back") {
    std::vector<std::byte> out;
    mqtt::connect_options o;
    o.client_id = "c";
    o.keep_alive = 10;
    o.will_topic = "status/c";
    const std::string will = std::string("gone\0!", 6);
    o.will_message = sf::const_buffer{will};
    o.will_qos = 2;
    o.will_retain = true;
    o.username = "user";
    o.password = "pw";
    REQUIRE_FALSE(mqtt::build_connect(o, out));
    CHECK(str(out) ==
          bytes({0x10, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x80 | 0x40 | 0x20 | 0x10 | 0x04 | 0x02, 0, 10, 0, 1}) +
              "c" + bytes({0, 8}) + "status/c" + bytes({0, 6}) + will + bytes({0, 4}) + "user" +
              bytes({0, 2}) + "pw");
    mqtt::connect_request r;
    REQUIRE_FALSE(mqtt::parse_connect(framed_and_split(out), r));
    CHECK(r.has_will);
    CHECK(r.will_topic == "status/c");
    CHECK(r.will_message.str() == will);
    CHECK(r.will_qos == 2);
    CHECK(r.will_retain);
    CHECK(r.has_username);
    CHECK(r.username == "user");
    CHECK(r.has_password);
    CHECK(r.password.str() == "pw");
    CHECK(r.client_id == "c");
    // without a Will topic the Will fields are not sent
    o.will_topic = {};
    out.clear();
    REQUIRE_FALSE(mqtt::build_connect(o, out));
    REQUIRE_FALSE(mqtt::parse_connect(framed_and_split(out), r));
    CHECK_FALSE(r.has_will);
    CHECK(r.will_qos == 0);
    // refused Wills
    out.clear();
    o.will_topic = "a/#";
    CHECK(mqtt::build_connect(o, out) == sf::errc::invalid_argument);
    o.will_topic = "a";
    o.will_qos = 3;
    CHECK(mqtt::build_connect(o, out) == sf::errc::invalid_argument);
    o.will_qos = 0;
    const std::string big(70000, 'x');
    o.will_message = sf::const_buffer{big};
    CHECK(mqtt::build_connect(o, out) == sf::errc::invalid_argument);
    // malformed flag combinations: Will QoS or RETAIN without the Will flag, Will QoS 3, a
    // password without a user name, a Will topic with a wildcard, a truncated Will
    const std::string head = bytes({0, 4, 'M', 'Q', 'T', 'T', 4});
    for (const std::string& body :
         {head + bytes({0x08, 0, 0, 0, 0}), head + bytes({0x20, 0, 0, 0, 0}),
          head + bytes({0x40, 0, 0, 0, 0}), head + bytes({0x1C, 0, 0, 0, 0, 0, 1, 't', 0, 0}),
          head + bytes({0x04, 0, 0, 0, 0, 0, 1, '#', 0, 0}),
          head + bytes({0x04, 0, 0, 0, 0, 0, 1, 't', 0, 5, 'a'})}) {
        CAPTURE(body);
        mqtt::packet p;
        p.type = mqtt::packet_type::connect;
        p.body = sf::const_buffer{body};
        CHECK(mqtt::parse_connect(p, r) == sf::errc::malformed_frame);
    }
}

TEST_CASE("mqtt: UNSUBSCRIBE and UNSUBACK build and parse back") {
    std::vector<std::byte> out;
    REQUIRE_FALSE(mqtt::build_unsubscribe(9, "sensors/+/t", out));
    CHECK(str(out) == bytes({0xA2, 0, 9, 0, 11}) + "sensors/+/t");
    std::uint16_t id = 0;
    std::vector<std::string_view> filters;
    REQUIRE_FALSE(mqtt::parse_unsubscribe(framed_and_split(out), id, filters));
    CHECK(id == 9);
    REQUIRE(filters.size() == 1);
    CHECK(filters[0] == "sensors/+/t");
    // several filters
    mqtt::packet p;
    p.type = mqtt::packet_type::unsubscribe;
    const std::string two = bytes({0, 3, 0, 1}) + "a" + bytes({0, 2}) + "b/";
    p.body = sf::const_buffer{two};
    REQUIRE_FALSE(mqtt::parse_unsubscribe(p, id, filters));
    CHECK(filters == std::vector<std::string_view>{"a", "b/"});
    // none, an empty one, a truncated one, packet id 0
    for (const std::string& body :
         {bytes({0, 3}), bytes({0, 3, 0, 0}), bytes({0, 3, 0, 2, 'a'}), bytes({0, 0, 0, 1}) + "a"}) {
        CAPTURE(body);
        p.body = sf::const_buffer{body};
        CHECK(mqtt::parse_unsubscribe(p, id, filters) == sf::errc::malformed_frame);
    }
    CHECK(mqtt::build_unsubscribe(0, "a", out) == sf::errc::invalid_argument);
    CHECK(mqtt::build_unsubscribe(1, "", out) == sf::errc::invalid_argument);
    out.clear();
    mqtt::build_unsuback(9, out);
    CHECK(str(out) == bytes({0xB0, 0, 9}));
}

TEST_CASE("mqtt 5: properties are written, checked and read back by type") {
    mqtt::property_writer w;
    REQUIRE_FALSE(w.add(mqtt::property_id::session_expiry_interval, 0x01020304));
    REQUIRE_FALSE(w.add(mqtt::property_id::receive_maximum, 20));
    REQUIRE_FALSE(w.add(mqtt::property_id::maximum_qos, 1));
    REQUIRE_FALSE(w.add(mqtt::property_id::subscription_identifier, 200000));
    REQUIRE_FALSE(w.add(mqtt::property_id::content_type, "text/plain"));
    REQUIRE_FALSE(w.add(mqtt::property_id::correlation_data, std::string_view("\0\1", 2)));
    REQUIRE_FALSE(w.add_user_property("k", "v"));
    REQUIRE_FALSE(w.add_user_property("k", "w"));  // user properties may repeat
    CHECK(str(std::vector<std::byte>(w.bytes().begin(), w.bytes().end())) ==
          bytes({0x11, 1, 2, 3, 4, 0x21, 0, 20, 0x24, 1, 0x0B, 0xC0, 0x9A, 0x0C, 0x03, 0, 10}) +
              "text/plain" +
              bytes({0x09, 0, 2, 0, 1, 0x26, 0, 1, 'k', 0, 1, 'v', 0x26, 0, 1, 'k', 0, 1, 'w'}));
    mqtt::properties props;
    REQUIRE_FALSE(mqtt::properties::parse(w.bytes(), props));
    std::vector<mqtt::property_id> ids;
    for (const mqtt::property& p : props) ids.push_back(p.id);
    CHECK(ids.size() == 8);
    mqtt::property p;
    REQUIRE(props.find(mqtt::property_id::session_expiry_interval, p));
    CHECK(p.number() == 0x01020304);
    REQUIRE(props.find(mqtt::property_id::subscription_identifier, p));
    CHECK(p.number() == 200000);
    CHECK(p.type() == mqtt::property_type::varint);
    REQUIRE(props.find(mqtt::property_id::content_type, p));
    CHECK(p.text() == "text/plain");
    REQUIRE(props.find(mqtt::property_id::correlation_data, p));
    CHECK(p.bytes().size() == 2);
    REQUIRE(props.find(mqtt::property_id::user_property, p));
    CHECK(p.text() == "k");
    CHECK(p.value() == "v");
    CHECK_FALSE(props.find(mqtt::property_id::topic_alias, p));
    // the writer refuses a value of the wrong type or size
    CHECK(w.add(mqtt::property_id::maximum_qos, 256) == sf::errc::invalid_argument);
    CHECK(w.add(mqtt::property_id::topic_alias, 70000) == sf::errc::invalid_argument);
    CHECK(w.add(mqtt::property_id::content_type, 1) == sf::errc::invalid_argument);
    CHECK(w.add(mqtt::property_id::topic_alias, "x") == sf::errc::invalid_argument);
    CHECK(w.add(static_cast<mqtt::property_id>(0x7F), 1) == sf::errc::invalid_argument);
    // malformed: unknown identifier, a value cut short, a repeated identifier, bad UTF-8, U+0000,
    // a varint with a fifth byte
    for (const std::string& bad :
         {bytes({0x7F, 0}), bytes({0x11, 0, 0}), bytes({0x21, 0, 1, 0x21, 0, 2}), bytes({0x03, 0, 1, 0xFF}),
          bytes({0x03, 0, 1, 0}), bytes({0x0B, 0x80, 0x80, 0x80, 0x80, 1}), bytes({0x26, 0, 1, 'k'})}) {
        CAPTURE(bad);
        CHECK(mqtt::properties::parse(sf::const_buffer{bad}, props) == sf::errc::malformed_frame);
        CHECK(props.empty());
    }
}

TEST_CASE("mqtt 5: CONNECT, CONNACK, PUBLISH and SUBSCRIBE carry their properties, split at every byte") {
    auto make5 = [] { return mqtt::codec{SOCKFRAME_DEFAULT_MAX_FRAME, mqtt::protocol_version::v5}; };
    static std::string keep;
    auto round = [&](const std::vector<std::byte>& built) {
        keep = encode(make5(), str(built));
        REQUIRE(decode_all_ways(make5, keep) == events{frame(keep)});
        return parsed(sf::const_buffer{keep});
    };
    mqtt::property_writer props, will_props;
    REQUIRE_FALSE(props.add(mqtt::property_id::session_expiry_interval, 3600));
    REQUIRE_FALSE(will_props.add(mqtt::property_id::will_delay_interval, 5));
    mqtt::connect_options o;
    o.client_id = "c5";
    o.will_topic = "w";
    o.will_message = sf::const_buffer{"bye"};
    o.username = "u";
    o.password = "p";
    std::vector<std::byte> out;
    REQUIRE_FALSE(mqtt::build_connect_v5(o, props, will_props, out));
    CHECK(str(out) ==
          bytes({0x10, 0, 4, 'M', 'Q', 'T', 'T', 5, 0xC6, 0, 60, 5, 0x11, 0, 0, 0x0E, 0x10, 0, 2}) + "c5" +
              bytes({5, 0x18, 0, 0, 0, 5, 0, 1, 'w', 0, 3}) + "bye" + bytes({0, 1, 'u', 0, 1, 'p'}));
    {
        mqtt::connect_request r;
        mqtt::properties cp, wp;
        REQUIRE_FALSE(mqtt::parse_connect_v5(round(out), r, cp, wp));
        CHECK(r.client_id == "c5");
        CHECK(r.will_message.str() == "bye");
        CHECK(r.password.str() == "p");
        mqtt::property p;
        REQUIRE(cp.find(mqtt::property_id::session_expiry_interval, p));
        CHECK(p.number() == 3600);
        REQUIRE(wp.find(mqtt::property_id::will_delay_interval, p));
        CHECK(p.number() == 5);
        // a 3.1.1 CONNECT is not one
        out.clear();
        REQUIRE_FALSE(mqtt::build_connect(o, out));
        CHECK(mqtt::parse_connect_v5(round(out), r, cp, wp) == sf::errc::malformed_frame);
    }
    out.clear();
    mqtt::property_writer ack;
    REQUIRE_FALSE(ack.add(mqtt::property_id::assigned_client_identifier, "auto-1"));
    mqtt::build_connack_v5(false, 0, ack, out);
    {
        bool present = true;
        std::uint8_t code = 1;
        mqtt::properties cp;
        REQUIRE_FALSE(mqtt::parse_connack_v5(round(out), present, code, cp));
        CHECK_FALSE(present);
        CHECK(code == 0);
        mqtt::property p;
        REQUIRE(cp.find(mqtt::property_id::assigned_client_identifier, p));
        CHECK(p.text() == "auto-1");
    }
    out.clear();
    mqtt::property_writer pub;
    REQUIRE_FALSE(pub.add(mqtt::property_id::topic_alias, 3));
    REQUIRE_FALSE(pub.add_user_property("trace", "42"));
    REQUIRE_FALSE(mqtt::build_publish_head_v5("a/b", 2, 7, true, pub, out));
    mqtt::detail::put_bytes(out, "payload", 7);
    {
        mqtt::publish_message m;
        mqtt::properties pp;
        REQUIRE_FALSE(mqtt::parse_publish_v5(round(out), m, pp));
        CHECK(m.topic == "a/b");
        CHECK(m.qos == 2);
        CHECK(m.packet_id == 7);
        CHECK(m.retain);
        CHECK(m.payload.str() == "payload");
        mqtt::property p;
        REQUIRE(pp.find(mqtt::property_id::user_property, p));
        CHECK(p.value() == "42");
    }
    out.clear();
    mqtt::property_writer sub;
    REQUIRE_FALSE(sub.add(mqtt::property_id::subscription_identifier, 9));
    REQUIRE_FALSE(mqtt::build_subscribe_v5(4, "a/#", 0x04 | 0x08 | 0x10 | 1, sub, out));
    {
        std::uint16_t id = 0;
        std::vector<mqtt::subscription> subs;
        mqtt::properties sp;
        REQUIRE_FALSE(mqtt::parse_subscribe_v5(round(out), id, subs, sp));
        CHECK(id == 4);
        REQUIRE(subs.size() == 1);
        CHECK(subs[0].topic_filter == "a/#");
        CHECK(subs[0].qos == 1);
        CHECK(subs[0].options == 0x1D);
        mqtt::property p;
        REQUIRE(sp.find(mqtt::property_id::subscription_identifier, p));
        CHECK(p.number() == 9);
    }
    CHECK(mqtt::build_subscribe_v5(4, "a", 0x30, sub, out) ==
          sf::errc::invalid_argument);  // Retain Handling 3
    CHECK(mqtt::build_subscribe_v5(4, "a", 0x40, sub, out) == sf::errc::invalid_argument);  // reserved bit
    // a properties length past the body is malformed
    mqtt::packet p;
    p.type = mqtt::packet_type::connack;
    const std::string cut = bytes({0, 0, 5, 0x24, 1});
    p.body = sf::const_buffer{cut};
    bool present = false;
    std::uint8_t code = 0;
    mqtt::properties none;
    CHECK(mqtt::parse_connack_v5(p, present, code, none) == sf::errc::malformed_frame);
}
