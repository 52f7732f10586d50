// proto_decode_bench_mqtt_ws: the MQTT and WebSocket decoders against hand-written decoders of
// the same formats with the same checks, in memory, in one process run.
//
//   proto_decode_bench_mqtt_ws [--quick] [--json] [--repeats N]
//
// Each workload is a buffer of many frames of one payload size. A run decodes the whole buffer
// with the codec's decode() the way a reader does (drop `consumed`, call again), and with the
// baseline: a plain function written for the format alone (mqtt: first byte checked against the
// flag table, minimal varint, maximum; websocket: RSV, opcode, control-frame rules, mask bit,
// minimal length, maximum). Repeats alternate which goes first; the reported ratio is the median
// of the per-repeat ratios sockframe/baseline (frames per second), above 1 = sockframe faster.
// The "assembled" WebSocket rows add message_assembler (unmasking into its buffer; UTF-8 checked
// for text) against a baseline that unmasks and validates by hand. --json prints one JSON array of
// {"workload","sockframe_frames_per_s","hand_frames_per_s","ratio","repeats"} instead of the table.
#include <sockframe/mqtt.hpp>
#include <sockframe/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace sf = sockframe;
namespace mqtt = sockframe::mqtt;
namespace ws = sockframe::websocket;

namespace {

using clock_type = std::chrono::steady_clock;
volatile std::uint64_t sink = 0;

// ---- hand-written baselines --------------------------------------------------------------------

/// MQTT 3.1.1: bytes of the packet at p (whole packet), 0 for need-more, SIZE_MAX for an error.
std::size_t hand_mqtt(const unsigned char* p, std::size_t n, std::size_t max) {
    if (n < 2) return 0;
    const unsigned type = p[0] >> 4, flags = p[0] & 15u;
    bool ok;
    if (type == 3) {
        const unsigned qos = (flags >> 1) & 3u;
        ok = qos != 3 && !(qos == 0 && (flags & 8u));
    } else if (type == 6 || type == 8 || type == 10) {
        ok = flags == 2;
    } else {
        ok = type != 0 && type != 15 && flags == 0;
    }
    if (!ok) return SIZE_MAX;
    std::size_t length = 0, i = 1, shift = 0;
    for (;;) {
        if (i == n) return 0;
        const unsigned b = p[i];
        length |= static_cast<std::size_t>(b & 127u) << shift;
        if (!(b & 128u)) {
            if (b == 0 && i > 1) return SIZE_MAX;
            break;
        }
        if (i == 4) return SIZE_MAX;
        shift += 7;
        ++i;
    }
    if (length > max) return SIZE_MAX;
    if ((type == 12 || type == 13 || type == 14) && length != 0) return SIZE_MAX;
    if ((type == 2 || (type >= 4 && type <= 7) || type == 11) && length != 2) return SIZE_MAX;
    if (n - (i + 1) < length) return 0;
    return i + 1 + length;
}

struct hand_frame {
    std::size_t size = 0;  // whole frame; 0 need more, SIZE_MAX error
    std::size_t header = 0;
    bool fin = false;
    unsigned op = 0;
};

/// WebSocket, server side (masked frames expected).
hand_frame hand_ws(const unsigned char* p, std::size_t n, std::size_t max) {
    hand_frame f;
    if (n < 2) return f;
    const unsigned op = p[0] & 15u;
    if ((p[0] & 0x70u) || op > 10 || (op > 2 && op < 8) || ((op & 8u) && !(p[0] & 0x80u)) ||
        !(p[1] & 0x80u)) {
        f.size = SIZE_MAX;
        return f;
    }
    std::uint64_t length = p[1] & 127u;
    std::size_t h = 2;
    if (length == 126) {
        if (n < 4) return f;
        length = static_cast<std::uint64_t>(p[2]) << 8 | p[3];
        if (length < 126) return f.size = SIZE_MAX, f;
        h = 4;
    } else if (length == 127) {
        if (n < 10) return f;
        length = 0;
        for (int i = 2; i < 10; ++i) length = length << 8 | p[i];
        if ((length >> 63) || length <= 0xFFFF) return f.size = SIZE_MAX, f;
        h = 10;
    }
    if (((op & 8u) && length > 125) || length > max) return f.size = SIZE_MAX, f;
    h += 4;
    if (n < h || n - h < length) return f;
    f.size = h + static_cast<std::size_t>(length);
    f.header = h;
    f.fin = (p[0] & 0x80u) != 0;
    f.op = op;
    return f;
}

bool hand_utf8(const unsigned char* s, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
        // ASCII eight bytes at a time
        while (n - i >= 8) {
            std::uint64_t w;
            std::memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i == n) break;
        const unsigned c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t need;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return false;
        if (n - i - 1 < need) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (std::size_t k = 2; k <= need; ++k)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
        i += need + 1;
    }
    return true;
}

// ---- workloads ---------------------------------------------------------------------------------

std::string mqtt_stream(std::size_t payload, std::size_t bytes) {
    std::string out;
    const mqtt::codec codec{mqtt::max_remaining_length};
    const std::string body(payload, 'p');
    std::vector<std::byte> packet;
    mqtt::build_publish("sensors/room1/temperature", sf::const_buffer{body}, 0, 0, false, packet);
    sf::frame_parts parts;
    codec.encode(sf::const_buffer{packet}, parts);
    std::string one(parts.size(), '\0');
    parts.copy_to(reinterpret_cast<std::byte*>(one.data()));
    while (out.size() < bytes) out += one;
    return out;
}

std::string ws_stream(std::size_t payload, std::size_t bytes, bool text) {
    std::string out;
    std::string body(payload, 'w');
    if (text)
        for (std::size_t i = 0; i + 2 <= payload; i += 16)
            body.replace(i, 2, "\xC3\xA9");  // some two-byte characters
    std::vector<std::byte> frame;
    ws::encode_frame(true, text ? ws::opcode::text : ws::opcode::binary, sf::const_buffer{body}, true, frame);
    const std::string one(reinterpret_cast<const char*>(frame.data()), frame.size());
    while (out.size() < bytes) out += one;
    return out;
}

template <typename F>
double frames_per_second(F&& run, double seconds) {
    std::size_t frames = 0;
    const auto start = clock_type::now();
    const auto end =
        start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    auto now = start;
    do {
        frames += run();
        now = clock_type::now();
    } while (now < end);
    return static_cast<double>(frames) / std::chrono::duration<double>(now - start).count();
}

struct row {
    std::string name;
    double sockframe = 0, hand = 0, ratio = 0;
};

template <typename A, typename B>
row measure(const std::string& name, A&& library, B&& baseline, int repeats, double seconds) {
    std::vector<double> ratios, lib, base;
    for (int r = 0; r < repeats; ++r) {
        double x, y;
        if (r % 2 == 0) {
            x = frames_per_second(library, seconds);
            y = frames_per_second(baseline, seconds);
        } else {
            y = frames_per_second(baseline, seconds);
            x = frames_per_second(library, seconds);
        }
        lib.push_back(x);
        base.push_back(y);
        ratios.push_back(x / y);
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    return {name, median(lib), median(base), median(ratios)};
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false, json = false;
    int repeats = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (std::strcmp(argv[i], "--json") == 0)
            json = true;
        else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
            repeats = std::max(1, std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: proto_decode_bench_mqtt_ws [--quick] [--json] [--repeats N]\n");
            return 2;
        }
    }
    if (repeats == 0) repeats = quick ? 3 : 9;
    const double seconds = quick ? 0.05 : 0.3;
    const std::size_t bytes = 1 << 20;
    std::vector<row> rows;

    for (std::size_t size : {16u, 128u, 1024u, 16384u}) {
        const std::string wire = mqtt_stream(size, bytes);
        const sf::const_buffer all{wire};
        auto library = [&] {
            mqtt::codec codec{mqtt::max_remaining_length};
            std::size_t at = 0, frames = 0;
            for (;;) {
                const sf::decode_result r = codec.decode(all.subspan(at));
                if (!r.is_frame()) break;
                sink = sink + r.payload.size();
                at += r.consumed;
                ++frames;
            }
            return frames;
        };
        auto baseline = [&] {
            const auto* p = reinterpret_cast<const unsigned char*>(wire.data());
            std::size_t at = 0, frames = 0;
            for (;;) {
                const std::size_t n = hand_mqtt(p + at, wire.size() - at, mqtt::max_remaining_length);
                if (n == 0 || n == SIZE_MAX) break;
                sink = sink + n;
                at += n;
                ++frames;
            }
            return frames;
        };
        rows.push_back(
            measure("mqtt publish " + std::to_string(size) + " B", library, baseline, repeats, seconds));
    }

    for (std::size_t size : {16u, 125u, 1024u, 16384u, 70000u}) {
        const std::string wire = ws_stream(size, bytes, false);
        const sf::const_buffer all{wire};
        auto library = [&] {
            ws::frame_codec codec{ws::role::server};
            std::size_t at = 0, frames = 0;
            for (;;) {
                const sf::decode_result r = codec.decode(all.subspan(at));
                if (!r.is_frame()) break;
                sink = sink + r.payload.size();
                at += r.consumed;
                ++frames;
            }
            return frames;
        };
        auto baseline = [&] {
            const auto* p = reinterpret_cast<const unsigned char*>(wire.data());
            std::size_t at = 0, frames = 0;
            for (;;) {
                const hand_frame f = hand_ws(p + at, wire.size() - at, SOCKFRAME_DEFAULT_MAX_FRAME);
                if (f.size == 0 || f.size == SIZE_MAX) break;
                sink = sink + f.size;
                at += f.size;
                ++frames;
            }
            return frames;
        };
        rows.push_back(
            measure("websocket frame " + std::to_string(size) + " B", library, baseline, repeats, seconds));
    }

    for (bool text : {false, true}) {
        for (std::size_t size : {16u, 1024u, 16384u}) {
            const std::string wire = ws_stream(size, bytes, text);
            const sf::const_buffer all{wire};
            ws::message_assembler assembler;
            auto library = [&] {
                ws::frame_codec codec{ws::role::server};
                std::size_t at = 0, frames = 0;
                for (;;) {
                    const sf::decode_result r = codec.decode(all.subspan(at));
                    if (!r.is_frame()) break;
                    const ws::event e = assembler.feed(r.payload);
                    if (e.type == ws::event::kind::failure) return frames;
                    sink = sink + e.data.size() + static_cast<unsigned>(e.data[0]);
                    at += r.consumed;
                    ++frames;
                }
                return frames;
            };
            std::vector<unsigned char> message;
            auto baseline = [&] {
                const auto* p = reinterpret_cast<const unsigned char*>(wire.data());
                std::size_t at = 0, frames = 0;
                for (;;) {
                    const hand_frame f = hand_ws(p + at, wire.size() - at, SOCKFRAME_DEFAULT_MAX_FRAME);
                    if (f.size == 0 || f.size == SIZE_MAX || !f.fin) break;
                    const unsigned char* key = p + at + f.header - 4;
                    const std::size_t n = f.size - f.header;
                    if (message.size() < n) message.resize(n);
                    // unmask eight bytes at a time, then the tail
                    std::uint64_t key8;
                    const unsigned char k8[8] = {key[0], key[1], key[2], key[3],
                                                 key[0], key[1], key[2], key[3]};
                    std::memcpy(&key8, k8, 8);
                    const unsigned char* from = p + at + f.header;
                    std::size_t i = 0;
                    for (; i + 8 <= n; i += 8) {
                        std::uint64_t w;
                        std::memcpy(&w, from + i, 8);
                        w ^= key8;
                        std::memcpy(message.data() + i, &w, 8);
                    }
                    for (; i < n; ++i) message[i] = from[i] ^ key[i & 3];
                    if (f.op == 1 && !hand_utf8(message.data(), n)) return frames;
                    sink = sink + n + message[0];
                    at += f.size;
                    ++frames;
                }
                return frames;
            };
            rows.push_back(measure(std::string("websocket assembled ") + (text ? "text " : "binary ") +
                                       std::to_string(size) + " B",
                                   library, baseline, repeats, seconds));
        }
    }

    if (json) {
        std::printf("[");
        for (std::size_t k = 0; k < rows.size(); ++k) {
            const row& r = rows[k];
            std::printf(
                "%s\n  {\"workload\": \"%s\", \"sockframe_frames_per_s\": %.0f, "
                "\"hand_frames_per_s\": %.0f, \"ratio\": %.3f, \"repeats\": %d}",
                k ? "," : "", r.name.c_str(), r.sockframe, r.hand, r.ratio, repeats);
        }
        std::printf("\n]\n");
        return 0;
    }
    std::printf("%-36s %16s %16s %8s\n", "workload (1 MiB of frames)", "sockframe fr/s", "hand-written fr/s",
                "ratio");
    for (const row& r : rows)
        std::printf("%-36s %16.0f %16.0f %8.2f\n", r.name.c_str(), r.sockframe, r.hand, r.ratio);
    std::printf(
        "ratio = median over %d repeats of sockframe / hand-written (same process, alternating order)\n",
        repeats);
    return 0;
}
