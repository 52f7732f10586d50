// mqtt_sub: subscribes to one topic on an MQTT 3.1.1 broker and prints each message's payload on
// its own line, then exits after N messages.
//
//   mqtt_sub [--host H] --port P --topic T --count N [--qos 0|1|2]
//            [--will-topic W --will-message M]
//
// Nothing is printed on stdout before the subscription is acknowledged; once it is, the line
// "SUBSCRIBED" goes to stderr (a script can wait for it before publishing). The subscription asks
// for QoS 1 (or --qos), so QoS 1 messages arrive at QoS 1 and are acknowledged, and at --qos 2 QoS
// 2 messages go through PUBREC, PUBREL and PUBCOMP (printed when they arrive, once). With
// --will-topic the CONNECT carries a Will (QoS 1) that the broker publishes if the connection
// drops without a DISCONNECT. Exit 0 after N messages, 1 on any error (the broker closing before N
// included).
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;

namespace {
int usage() {
    std::cerr << "usage: mqtt_sub [--host H] --port P --topic T --count N [--qos 0|1|2] "
                 "[--will-topic W --will-message M]\n";
    return 2;
}
}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", port, topic, will_topic, will_message;
    long count = -1;
    int qos = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view arg = argv[i];
        if (arg == "--host")
            host = argv[i + 1];
        else if (arg == "--port")
            port = argv[i + 1];
        else if (arg == "--topic")
            topic = argv[i + 1];
        else if (arg == "--count")
            count = std::atol(argv[i + 1]);
        else if (arg == "--qos")
            qos = std::atoi(argv[i + 1]);
        else if (arg == "--will-topic")
            will_topic = argv[i + 1];
        else if (arg == "--will-message")
            will_message = argv[i + 1];
        else
            return usage();
    }
    if (argc % 2 == 0 || port.empty() || topic.empty() || count < 0 || qos < 0 || qos > 2) return usage();

    constexpr std::uint16_t keep_alive = 60;  // seconds; a PINGREQ goes out after half of it idle
    try {
        sf::framed conn{sf::tcp_stream::connect(host, port, std::chrono::seconds(10)), mqtt::codec{}};
        std::vector<std::byte> packet;
        mqtt::connect_options options;
        options.keep_alive = keep_alive;
        options.will_topic = will_topic;
        options.will_message = sf::const_buffer{will_message};
        options.will_qos = 1;
        if (auto ec = mqtt::build_connect(options, packet)) throw std::system_error(ec, "CONNECT");
        conn.send(sf::const_buffer{packet});
        packet.clear();
        if (auto ec = mqtt::build_subscribe(1, topic, static_cast<std::uint8_t>(qos), packet))
            throw std::system_error(ec, "SUBSCRIBE");
        conn.send(sf::const_buffer{packet});  // the broker handles it after the CONNECT

        bool connected = false, subscribed = false;
        long received = 0, releasing = 0;  // QoS 2 messages whose PUBREL has not come yet
        while (received < count || !subscribed || releasing > 0) {
            std::error_code ec;
            auto frame = conn.receive(std::chrono::seconds(keep_alive / 2), ec);
            if (ec == std::errc::timed_out && connected) {  // idle: keep the session alive
                packet.clear();
                mqtt::build_pingreq(packet);
                conn.send(sf::const_buffer{packet});
                continue;
            }
            if (ec) throw std::system_error(ec, "receive");
            if (!frame) throw std::runtime_error("the broker closed the connection");
            mqtt::packet p;
            if (auto e = mqtt::parse(*frame, p)) throw std::system_error(e, "packet");
            switch (p.type) {
                case mqtt::packet_type::connack: {
                    bool present = false;
                    std::uint8_t code = 0;
                    if (auto e = mqtt::parse_connack(p, present, code)) throw std::system_error(e, "CONNACK");
                    if (code != 0)
                        throw std::runtime_error("the broker refused the connection, code " +
                                                 std::to_string(code));
                    connected = true;
                    break;
                }
                case mqtt::packet_type::suback: {
                    std::uint16_t id = 0;
                    sf::const_buffer codes;
                    if (auto e = mqtt::parse_suback(p, id, codes)) throw std::system_error(e, "SUBACK");
                    if (id != 1 || codes.size() != 1 || codes[0] == std::byte{0x80})
                        throw std::runtime_error("the broker refused the subscription");
                    subscribed = true;
                    std::cerr << "SUBSCRIBED" << std::endl;
                    break;
                }
                case mqtt::packet_type::publish: {
                    mqtt::publish_message m;
                    if (auto e = mqtt::parse_publish(p, m)) throw std::system_error(e, "PUBLISH");
                    std::fwrite(m.payload.data(), 1, m.payload.size(), stdout);
                    std::fputc('\n', stdout);
                    std::fflush(stdout);
                    ++received;
                    if (m.qos == 1) {
                        packet.clear();
                        mqtt::build_puback(m.packet_id, packet);
                        conn.send(sf::const_buffer{packet});
                    } else if (m.qos == 2) {  // printed now; the broker releases the id (PUBREL)
                        packet.clear();
                        mqtt::build_pubrec(m.packet_id, packet);
                        conn.send(sf::const_buffer{packet});
                        ++releasing;
                    }
                    break;
                }
                case mqtt::packet_type::pubrel: {
                    std::uint16_t id = 0;
                    if (auto e = mqtt::parse_ack(p, mqtt::packet_type::pubrel, id))
                        throw std::system_error(e, "PUBREL");
                    packet.clear();
                    mqtt::build_pubcomp(id, packet);
                    conn.send(sf::const_buffer{packet});
                    --releasing;
                    break;
                }
                case mqtt::packet_type::pingresp: break;
                default: throw std::runtime_error("unexpected packet from the broker");
            }
        }
        packet.clear();
        mqtt::build_disconnect(packet);
        conn.send(sf::const_buffer{packet});
    } catch (const std::exception& e) {
        std::cerr << "mqtt_sub: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
