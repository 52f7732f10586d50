// mqtt::codec (3.1.1 and 5, small and full maximum Remaining Lengths): split feeds agree, and the
// packet parsers never read outside a decoded packet. Then the input as a packet to encode
// (first byte + body) must decode back to the same packet.
// Input: [options][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/mqtt.hpp>

#include <cstring>
#include <memory>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;

namespace {
void parse_all(sf::const_buffer frame) {
    mqtt::packet p;
    FUZZ_CHECK(!mqtt::parse(frame, p));
    mqtt::connect_request c;
    (void)mqtt::parse_connect(p, c);
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
