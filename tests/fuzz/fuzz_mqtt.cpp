// mqtt::codec (3.1.1 and 5, small and full maximum Remaining Lengths): split feeds agree, and the
// packet parsers (CONNECT with its Will, the acknowledgements of QoS 1 and 2, UNSUBSCRIBE...)
// never read outside a decoded packet. Then the input as a packet to encode
// (first byte + body) must decode back to the same packet.
// Input: [options][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/mqtt.hpp>

#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;

namespace {
void parse_all(sf::const_buffer frame) {
    mqtt::packet p;
    FUZZ_CHECK(!mqtt::parse(frame, p));
    mqtt::connect_request c;
    if (!mqtt::parse_connect(p, c)) {  // the Will and password lie inside the packet
        if (c.has_will)
            FUZZ_CHECK(c.will_message.data() >= frame.data() && c.will_message.end() <= frame.end());
        if (c.has_password) FUZZ_CHECK(c.password.data() >= frame.data() && c.password.end() <= frame.end());
        FUZZ_CHECK(c.will_qos < 3 && (c.has_username || !c.has_password));
    }
    mqtt::publish_message m;
    if (!mqtt::parse_publish(p, m)) FUZZ_CHECK(m.payload.end() == frame.end());
    bool present = false;
    std::uint8_t code = 0;
    (void)mqtt::parse_connack(p, present, code);
    std::uint16_t id = 0;
    (void)mqtt::parse_packet_id(p, id);
    std::vector<mqtt::subscription> subs;
    (void)mqtt::parse_subscribe(p, id, subs);
    sf::const_buffer codes;
    (void)mqtt::parse_suback(p, id, codes);
    std::vector<std::string_view> filters;
    if (!mqtt::parse_unsubscribe(p, id, filters)) FUZZ_CHECK(!filters.empty() && id != 0);
    // MQTT 5: every property of a parsed packet lies inside it, and the body's bytes as properties
    auto inside = [&](const mqtt::properties& props) {
        std::size_t n = 0;
        for (const mqtt::property& q : props) {
            FUZZ_CHECK(q.type() != mqtt::property_type::unknown);
            if (!q.data.empty()) FUZZ_CHECK(q.data.data() >= frame.data() && q.data.end() <= frame.end());
            if (!q.pair_value.empty())
                FUZZ_CHECK(q.pair_value.data() >= frame.data() && q.pair_value.end() <= frame.end());
            FUZZ_CHECK(++n <= frame.size());
        }
    };
    mqtt::properties props, will_props;
    if (!mqtt::parse_connect_v5(p, c, props, will_props)) {
        inside(props);
        inside(will_props);
    }
    if (!mqtt::parse_connack_v5(p, present, code, props)) inside(props);
    if (!mqtt::parse_publish_v5(p, m, props)) {
        inside(props);
        FUZZ_CHECK(m.payload.end() == frame.end());
    }
    if (!mqtt::parse_subscribe_v5(p, id, subs, props)) inside(props);
    if (!mqtt::properties::parse(p.body, props)) inside(props);
    for (auto type : {mqtt::packet_type::puback, mqtt::packet_type::pubrec, mqtt::packet_type::pubrel,
                      mqtt::packet_type::pubcomp, mqtt::packet_type::unsuback})
        if (!mqtt::parse_ack(p, type, id)) FUZZ_CHECK(p.type == type && id != 0);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t options = in.byte();
    const auto version = (options & 1) ? mqtt::protocol_version::v5 : mqtt::protocol_version::v3_1_1;
    const std::size_t max =
        (options & 2) ? mqtt::max_remaining_length : static_cast<std::size_t>(options >> 2);
    const std::uint64_t seed = in.byte();
    auto make = [&] { return mqtt::codec{max, version}; };
    fuzz::differential(make, in.data, in.size, seed);

    // every packet the codec delivers parses, whatever its body
    mqtt::codec codec = make();
    sf::const_buffer rest{in.data, in.size};
    for (;;) {
        const sf::decode_result r = codec.decode(rest);
        if (!r.is_frame()) break;
        FUZZ_CHECK(r.payload.data() == rest.data() && r.payload.size() == r.consumed);
        parse_all(r.payload);
        rest = rest.subspan(r.consumed);
    }

    // encode(first byte + body) gives a packet that decodes to itself
    sf::frame_parts parts;
    if (!codec.encode(sf::const_buffer{in.data, in.size}, parts)) {
        std::unique_ptr<std::byte[]> wire(new std::byte[parts.size()]);
        parts.copy_to(wire.get());
        codec.reset();
        const sf::decode_result r = codec.decode(sf::const_buffer{wire.get(), parts.size()});
        FUZZ_CHECK(r.is_frame() && r.consumed == parts.size());
        mqtt::packet p;
        FUZZ_CHECK(!mqtt::parse(r.payload, p));
        FUZZ_CHECK(p.body.size() == in.size - 1);
        FUZZ_CHECK(p.body.empty() || std::memcmp(p.body.data(), in.data + 1, p.body.size()) == 0);
        FUZZ_CHECK((static_cast<unsigned>(p.type) << 4 | p.flags) == in.data[0]);
    }
    return 0;
}
