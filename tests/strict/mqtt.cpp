// Strict-warning instantiations of the MQTT codec and packet helpers (built, never run).
#include <sockframe/sockframe.hpp>

#include <string>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;

void strict_mqtt(sf::unix_stream endpoint);
void strict_mqtt(sf::unix_stream endpoint) {
    sf::framed conn{std::move(endpoint), mqtt::codec{1024, mqtt::protocol_version::v5}};
    std::error_code ec;
    std::vector<std::byte> out;
    mqtt::connect_options options;
    options.client_id = "id";
    (void)mqtt::build_connect(options, out);
    conn.send(sf::const_buffer{out}, ec);
    out.clear();
    const std::string payload = "payload";
    (void)mqtt::build_publish_head("t", 1, 7, false, out);
    conn.send({sf::const_buffer{out}, sf::const_buffer{payload}}, ec);
    if (auto frame = conn.receive(ec)) {
        mqtt::packet p;
        if (!mqtt::parse(*frame, p)) {
            mqtt::publish_message m;
            (void)mqtt::parse_publish(p, m);
            mqtt::connect_request c;
            (void)mqtt::parse_connect(p, c);
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
    }
    out.clear();
    mqtt::build_connack(false, 0, out);
    mqtt::build_puback(1, out);
    (void)mqtt::build_subscribe(1, "a/#", 1, out);
    const std::byte codes[] = {std::byte{1}};
    mqtt::build_suback(1, sf::const_buffer{codes, 1}, out);
    mqtt::build_pingreq(out);
    mqtt::build_pingresp(out);
    mqtt::build_disconnect(out);
}
