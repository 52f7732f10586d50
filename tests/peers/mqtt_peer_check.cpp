// Drives a real MQTT broker (mosquitto) through mqtt::codec and the packet builders and parsers:
//
//   mqtt_peer_check --port P unsubscribe   a subscriber receives a message on a topic, unsubscribes
//                                          (UNSUBACK), and then receives a message published later
//                                          on a second topic but not the one published before it
//                                          on the topic it left (one publisher: the broker keeps
//                                          its order)
//
// Prints "OK ..." and exits 0, or "FAIL <reason>" and exits 1.
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;
using connection = sf::framed<sf::tcp_stream, mqtt::codec>;

namespace {

/// The next packet, of the type wanted (a PINGRESP is skipped; anything else fails).
mqtt::packet next(connection& conn, mqtt::packet_type type) {
    for (int i = 0; i < 16; ++i) {
        auto frame = conn.receive(std::chrono::seconds(10));
        if (!frame) throw std::runtime_error("the broker closed the connection");
        mqtt::packet p;
        if (auto ec = mqtt::parse(*frame, p)) throw std::system_error(ec, "packet");
        if (p.type == type) return p;
        if (p.type != mqtt::packet_type::pingresp)
            throw std::runtime_error("unexpected packet type " + std::to_string(static_cast<int>(p.type)));
    }
    throw std::runtime_error("no packet of the type wanted");
}

void send(connection& conn, const std::vector<std::byte>& packet) { conn.send(sf::const_buffer{packet}); }

connection connect(const std::string& port) {
    connection conn{sf::tcp_stream::connect("127.0.0.1", port, std::chrono::seconds(10)), mqtt::codec{}};
    std::vector<std::byte> packet;
    mqtt::connect_options options;
    if (auto ec = mqtt::build_connect(options, packet)) throw std::system_error(ec, "CONNECT");
    send(conn, packet);
    bool present = false;
    std::uint8_t code = 0;
    if (mqtt::parse_connack(next(conn, mqtt::packet_type::connack), present, code) || code != 0)
        throw std::runtime_error("CONNACK refused");
    return conn;
}

void subscribe(connection& conn, std::uint16_t id, std::string_view filter) {
    std::vector<std::byte> packet;
    if (auto ec = mqtt::build_subscribe(id, filter, 1, packet)) throw std::system_error(ec, "SUBSCRIBE");
    send(conn, packet);
    std::uint16_t acked = 0;
    sf::const_buffer codes;
    if (mqtt::parse_suback(next(conn, mqtt::packet_type::suback), acked, codes) || acked != id ||
        codes[0] == std::byte{0x80})
        throw std::runtime_error("SUBACK");
}

void publish(connection& conn, std::uint16_t id, std::string_view topic, std::string_view message) {
    std::vector<std::byte> packet;
    if (auto ec = mqtt::build_publish(topic, sf::const_buffer{message}, 1, id, false, packet))
        throw std::system_error(ec, "PUBLISH");
    send(conn, packet);
    std::uint16_t acked = 0;
    if (mqtt::parse_ack(next(conn, mqtt::packet_type::puback), mqtt::packet_type::puback, acked) ||
        acked != id)
        throw std::runtime_error("PUBACK");
}

/// The next message's topic and payload (acknowledged at QoS 1).
std::string receive(connection& conn) {
    const mqtt::packet p = next(conn, mqtt::packet_type::publish);
    mqtt::publish_message m;
    if (auto ec = mqtt::parse_publish(p, m)) throw std::system_error(ec, "PUBLISH");
    if (m.qos == 1) {
        std::vector<std::byte> packet;
        mqtt::build_puback(m.packet_id, packet);
        send(conn, packet);
    }
    return std::string(m.topic) + " " + std::string(m.payload.str());
}

int unsubscribe(const std::string& port) {
    connection sub = connect(port);
    connection pub = connect(port);
    subscribe(sub, 1, "sockframe/left");
    subscribe(sub, 2, "sockframe/kept");
    publish(pub, 1, "sockframe/left", "one");
    std::string got = receive(sub);
    if (got != "sockframe/left one") throw std::runtime_error("before unsubscribing: " + got);
    std::vector<std::byte> packet;
    if (auto ec = mqtt::build_unsubscribe(3, "sockframe/left", packet))
        throw std::system_error(ec, "UNSUBSCRIBE");
    send(sub, packet);
    std::uint16_t acked = 0;
    if (mqtt::parse_ack(next(sub, mqtt::packet_type::unsuback), mqtt::packet_type::unsuback, acked) ||
        acked != 3)
        throw std::runtime_error("UNSUBACK");
    publish(pub, 2, "sockframe/left", "two");
    publish(pub, 3, "sockframe/kept", "three");
    got = receive(sub);
    if (got != "sockframe/kept three") throw std::runtime_error("after unsubscribing: " + got);
    std::cout << "OK unsubscribe stopped delivery" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 || std::string_view(argv[1]) != "--port" || std::string_view(argv[3]) != "unsubscribe") {
        std::cerr << "usage: mqtt_peer_check --port P unsubscribe\n";
        return 2;
    }
    try {
        return unsubscribe(argv[2]);
    } catch (const std::exception& e) {
        std::cout << "FAIL " << e.what() << std::endl;
        return 1;
    }
}
