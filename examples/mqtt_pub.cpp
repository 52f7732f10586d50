// mqtt_pub: publishes messages to an MQTT 3.1.1 broker (mosquitto, say), one PUBLISH per
// argument, and waits for each PUBACK at QoS 1, or goes through PUBREC, PUBREL and PUBCOMP at
// QoS 2.
//
//   mqtt_pub [--host H] --port P --topic T [--qos 0|1|2] MESSAGE...
//
// Exit 0 once every message is published (and, at QoS 1 and 2, acknowledged), 1 on any error.
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;

namespace {
int usage() {
    std::cerr << "usage: mqtt_pub [--host H] --port P --topic T [--qos 0|1|2] MESSAGE...\n";
    return 2;
}

// The next packet from the broker, of the type wanted (anything else is a protocol error here).
mqtt::packet expect(sf::framed<sf::tcp_stream, mqtt::codec>& conn, mqtt::packet_type type) {
    auto frame = conn.receive(std::chrono::seconds(10));
    if (!frame) throw std::runtime_error("the broker closed the connection");
    mqtt::packet p;
    if (auto ec = mqtt::parse(*frame, p)) throw std::system_error(ec, "mqtt_pub");
    if (p.type != type) throw std::runtime_error("unexpected packet from the broker");
    return p;
}
}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", port, topic;
    int qos = 0;
    std::vector<std::string_view> messages;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--host" || arg == "--port" || arg == "--topic" || arg == "--qos") && i + 1 < argc) {
            const char* value = argv[++i];
            if (arg == "--host") host = value;
            if (arg == "--port") port = value;
            if (arg == "--topic") topic = value;
            if (arg == "--qos") qos = std::atoi(value);
        } else {
            messages.push_back(arg);
        }
    }
    if (port.empty() || topic.empty() || (qos < 0 || qos > 2) || messages.empty()) return usage();

    try {
        sf::framed conn{sf::tcp_stream::connect(host, port, std::chrono::seconds(10)), mqtt::codec{}};
        std::vector<std::byte> packet;
        mqtt::connect_options options;  // empty client id, clean session: the broker names us
        options.keep_alive = 60;
        if (auto ec = mqtt::build_connect(options, packet)) throw std::system_error(ec, "CONNECT");
        conn.send(sf::const_buffer{packet});
        bool session_present = false;
        std::uint8_t code = 0;
        if (auto ec = mqtt::parse_connack(expect(conn, mqtt::packet_type::connack), session_present, code))
            throw std::system_error(ec, "CONNACK");
        if (code != 0)
            throw std::runtime_error("the broker refused the connection, code " + std::to_string(code));

        std::uint16_t packet_id = 0;
        for (std::string_view message : messages) {
            if (qos > 0 && ++packet_id == 0) packet_id = 1;
            packet.clear();
            // The head (first byte, topic, packet id) and the message go out as one frame; the
            // message is not copied.
            if (auto ec =
                    mqtt::build_publish_head(topic, static_cast<std::uint8_t>(qos), packet_id, false, packet))
                throw std::system_error(ec, "PUBLISH");
            conn.send({sf::const_buffer{packet}, sf::const_buffer{message}});
            if (qos == 1) {
                std::uint16_t acknowledged = 0;
                if (auto ec = mqtt::parse_packet_id(expect(conn, mqtt::packet_type::puback), acknowledged))
                    throw std::system_error(ec, "PUBACK");
                if (acknowledged != packet_id) throw std::runtime_error("PUBACK for another packet");
            } else if (qos == 2) {  // the broker has it (PUBREC); release the id (PUBREL, PUBCOMP)
                std::uint16_t acknowledged = 0;
                if (auto ec = mqtt::parse_ack(expect(conn, mqtt::packet_type::pubrec),
                                              mqtt::packet_type::pubrec, acknowledged))
                    throw std::system_error(ec, "PUBREC");
                if (acknowledged != packet_id) throw std::runtime_error("PUBREC for another packet");
                packet.clear();
                mqtt::build_pubrel(packet_id, packet);
                conn.send(sf::const_buffer{packet});
                if (auto ec = mqtt::parse_ack(expect(conn, mqtt::packet_type::pubcomp),
                                              mqtt::packet_type::pubcomp, acknowledged))
                    throw std::system_error(ec, "PUBCOMP");
                if (acknowledged != packet_id) throw std::runtime_error("PUBCOMP for another packet");
            }
        }
        packet.clear();
        mqtt::build_disconnect(packet);
        conn.send(sf::const_buffer{packet});
        conn.endpoint().shutdown(sf::shutdown_type::send);
        // wait for the broker to close its side: every message has been handed over
        std::error_code ec;
        while (conn.receive(std::chrono::seconds(5), ec)) {
        }
    } catch (const std::exception& e) {
        std::cerr << "mqtt_pub: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
