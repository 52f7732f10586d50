// Drives a real MQTT broker (mosquitto) through mqtt::codec and the packet builders and parsers:
//
//   mqtt_peer_check --port P unsubscribe   a subscriber receives a message on a topic, unsubscribes
//                                          (UNSUBACK), and then receives a message published later
//                                          on a second topic but not the one published before it
//                                          on the topic it left (one publisher: the broker keeps
//                                          its order)
//   mqtt_peer_check --port P v5            MQTT 5: CONNECT and CONNACK with properties, a
//                                          SUBSCRIBE with a subscription identifier, a PUBLISH
//                                          with a user property and a content type; the message
//                                          arrives with both and with the subscription identifier
//                                          the broker adds
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

connection connect_v5(const std::string& port) {
    connection conn{sf::tcp_stream::connect("127.0.0.1", port, std::chrono::seconds(10)),
                    mqtt::codec{SOCKFRAME_DEFAULT_MAX_FRAME, mqtt::protocol_version::v5}};
    std::vector<std::byte> packet;
    mqtt::connect_options options;
    mqtt::property_writer props, none;
    if (props.add(mqtt::property_id::session_expiry_interval, 0) ||
        props.add(mqtt::property_id::receive_maximum, 10))
        throw std::runtime_error("properties");
    if (auto ec = mqtt::build_connect_v5(options, props, none, packet))
        throw std::system_error(ec, "CONNECT");
    send(conn, packet);
    bool present = true;
    std::uint8_t code = 1;
    mqtt::properties ack;
    if (auto ec = mqtt::parse_connack_v5(next(conn, mqtt::packet_type::connack), present, code, ack))
        throw std::system_error(ec, "CONNACK");
    if (code != 0 || present) throw std::runtime_error("CONNACK reason " + std::to_string(code));
    mqtt::property assigned;  // an empty client id: the broker names the client
    if (!ack.find(mqtt::property_id::assigned_client_identifier, assigned) || assigned.text().empty())
        throw std::runtime_error("no Assigned Client Identifier in the CONNACK");
    return conn;
}

/// The packet id of an MQTT 5 acknowledgement (a reason code and properties may follow).
std::uint16_t ack_id(const mqtt::packet& p) {
    if (p.body.size() < 2) throw std::runtime_error("short acknowledgement");
    const std::uint16_t id =
        static_cast<std::uint16_t>(static_cast<unsigned>(p.body[0]) << 8 | static_cast<unsigned>(p.body[1]));
    if (p.body.size() > 2 && static_cast<unsigned>(p.body[2]) >= 0x80)
        throw std::runtime_error("reason code " + std::to_string(static_cast<unsigned>(p.body[2])));
    return id;
}

int v5(const std::string& port) {
    connection sub = connect_v5(port);
    connection pub = connect_v5(port);
    std::vector<std::byte> packet;
    mqtt::property_writer props;
    if (props.add(mqtt::property_id::subscription_identifier, 7)) throw std::runtime_error("properties");
    if (auto ec = mqtt::build_subscribe_v5(1, "sockframe/v5", 1, props, packet))
        throw std::system_error(ec, "SUBSCRIBE");
    send(sub, packet);
    if (ack_id(next(sub, mqtt::packet_type::suback)) != 1) throw std::runtime_error("SUBACK");
    packet.clear();
    props.clear();
    if (props.add_user_property("trace", "42") || props.add(mqtt::property_id::content_type, "text/plain"))
        throw std::runtime_error("properties");
    if (auto ec = mqtt::build_publish_head_v5("sockframe/v5", 1, 5, false, props, packet))
        throw std::system_error(ec, "PUBLISH");
    pub.send({sf::const_buffer{packet}, sf::const_buffer{"hello 5"}});
    if (ack_id(next(pub, mqtt::packet_type::puback)) != 5) throw std::runtime_error("PUBACK");
    mqtt::publish_message m;
    mqtt::properties got;
    if (auto ec = mqtt::parse_publish_v5(next(sub, mqtt::packet_type::publish), m, got))
        throw std::system_error(ec, "PUBLISH received");
    if (m.topic != "sockframe/v5" || m.payload.str() != "hello 5" || m.qos != 1)
        throw std::runtime_error("another message: " + std::string(m.payload.str()));
    mqtt::property p;
    if (!got.find(mqtt::property_id::user_property, p) || p.text() != "trace" || p.value() != "42")
        throw std::runtime_error("the user property did not arrive");
    if (!got.find(mqtt::property_id::content_type, p) || p.text() != "text/plain")
        throw std::runtime_error("the content type did not arrive");
    if (!got.find(mqtt::property_id::subscription_identifier, p) || p.number() != 7)
        throw std::runtime_error("no subscription identifier 7");
    packet.clear();
    mqtt::build_puback(m.packet_id, packet);
    send(sub, packet);
    std::cout << "OK MQTT 5 properties both ways" << std::endl;
    return 0;
}

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
    const std::string_view what = argc == 4 ? argv[3] : "";
    if (argc != 4 || std::string_view(argv[1]) != "--port" || (what != "unsubscribe" && what != "v5")) {
        std::cerr << "usage: mqtt_peer_check --port P unsubscribe|v5\n";
        return 2;
    }
    try {
        return what == "v5" ? v5(argv[2]) : unsubscribe(argv[2]);
    } catch (const std::exception& e) {
        std::cout << "FAIL " << e.what() << std::endl;
        return 1;
    }
}
