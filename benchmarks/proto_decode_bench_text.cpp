// proto_decode_bench_text: each text / byte-stuffing protocol decoder against a hand-written
// decoder of the same format, in the same process run.
//
//   proto_decode_bench_text [--quick] [--json] [--repeats N]
//
// For each format a wire image of many frames (sizes 16..1024, seeded) is decoded the way a
// reader does (decode, drop `consumed`, again) by the sockframe codec and by a plain loop written
// here for that one format (what a programmer would write by hand: no options, no limits beyond
// the obvious). Both must deliver the same payload bytes (checked). Each repeat times both, in
// alternating order; the table gives the best MB/s of each (the run least disturbed by other
// processes), the ratio of the bests and the median of the per-repeat ratios (codec speed /
// hand-written speed; the target is >= 0.9). --json prints one JSON array of {"format",
// "codec_mb_per_s","hand_mb_per_s","best_ratio","median_ratio","repeats"} instead of the table.
#include <sockframe/chunked.hpp>
#include <sockframe/cobs.hpp>
#include <sockframe/text_length.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace sf = sockframe;
using bench_clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> make_payloads(std::size_t count, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(16, 1024);
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < count; ++i) {
        std::string p(size(rng), '\0');
        for (auto& c : p) c = static_cast<char>(byte(rng));
        out.push_back(std::move(p));
    }
    return out;
}

template <typename Codec>
std::string encode_all(const Codec& codec, const std::vector<std::string>& payloads) {
    std::string wire;
    sf::frame_parts parts;
    for (const auto& p : payloads) {
        if (codec.encode(sf::const_buffer(p), parts)) std::abort();
        std::string frame(parts.size(), '\0');
        parts.copy_to(reinterpret_cast<std::byte*>(frame.data()));
        wire += frame;
    }
    return wire;
}

/// The codec as framed's reader drives it (decode_frame where the codec has it, else decode); returns a
/// checksum of the payloads (so nothing is elided).
template <typename Codec>
std::uint64_t run_codec(Codec& codec, const std::string& wire) {
    sf::const_buffer in(wire);
    std::uint64_t sum = 0;
    while (!in.empty()) {
        sf::const_buffer payload;  // the reader's path: the codec's short cut first, if it has one
        if (const std::size_t n = sf::detail::decode_frame(codec, in, payload)) {
            sum += payload.size();
            if (!payload.empty()) sum += std::to_integer<std::uint8_t>(payload[payload.size() - 1]);
            in = in.subspan(n);
            continue;
        }
        const sf::decode_result r = codec.decode(in);
        if (r.is_frame()) {
            sum += r.payload.size();
            if (!r.payload.empty()) sum += std::to_integer<std::uint8_t>(r.payload[r.payload.size() - 1]);
        } else if (r.is_error() || r.consumed == 0) {
            std::abort();
        }
        in = in.subspan(r.consumed);
    }
    return sum;
}

// ---- the hand-written decoders: one format each, the obvious loop ------------------------------

std::uint64_t hand_octet_counting(const std::string& wire) {
    const char* p = wire.data();
    const char* end = p + wire.size();
    std::uint64_t sum = 0;
    while (p < end) {
        std::size_t n = 0;
        while (*p != ' ') n = n * 10 + static_cast<std::size_t>(*p++ - '0');
        ++p;
        sum += n + static_cast<unsigned char>(p[n - 1]);
        p += n;
    }
    return sum;
}

std::uint64_t hand_hex_length(const std::string& wire) {
    const char* p = wire.data();
    const char* end = p + wire.size();
    std::uint64_t sum = 0;
    while (p < end) {
        std::size_t n = 0;
        while (*p != '\n') {
            const char c = *p++;
            n = n * 16 + static_cast<std::size_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        ++p;
        sum += n + static_cast<unsigned char>(p[n - 1]);
        p += n;
    }
    return sum;
}

std::uint64_t hand_chunked(const std::string& wire) {
    const char* p = wire.data();
    const char* end = p + wire.size();
    std::uint64_t sum = 0;
    while (p < end) {
        std::size_t n = 0;
        while (*p != '\r') {
            const char c = *p++;
            n = n * 16 + static_cast<std::size_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        p += 2;
        sum += n + static_cast<unsigned char>(p[n - 1]);
        p += n + 2;
    }
    return sum;
}

std::uint64_t hand_cobs(const std::string& wire, std::vector<unsigned char>& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(wire.data());
    const auto* end = p + wire.size();
    std::uint64_t sum = 0;
    while (p < end) {
        out.clear();
        for (;;) {
            const unsigned code = *p++;
            if (code == 0) break;
            for (unsigned i = 1; i < code; ++i) out.push_back(*p++);
            if (code != 0xFF && *p != 0) out.push_back(0);
        }
        sum += out.size() + out.back();
    }
    return sum;
}

std::uint64_t hand_slip(const std::string& wire, std::vector<unsigned char>& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(wire.data());
    const auto* end = p + wire.size();
    std::uint64_t sum = 0;
    while (p < end) {
        out.clear();
        while (p < end && *p == 0xC0) ++p;
        if (p == end) break;
        for (;;) {
            unsigned char c = *p++;
            if (c == 0xC0) break;
            if (c == 0xDB) c = *p++ == 0xDC ? 0xC0 : 0xDB;
            out.push_back(c);
        }
        sum += out.size() + out.back();
    }
    return sum;
}

struct row {
    const char* format;
    double codec_mbps, hand_mbps, best_ratio, median_ratio;
};

double seconds_of(const std::function<std::uint64_t()>& f, std::uint64_t& check) {
    const auto t0 = bench_clock::now();
    check = f();
    return std::chrono::duration<double>(bench_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

row measure(const char* format, const std::string& wire, std::function<std::uint64_t()> codec_run,
            std::function<std::uint64_t()> hand_run, int repeats) {
    std::vector<double> codec_mbps, hand_mbps, ratios;
    const double mb = static_cast<double>(wire.size()) / 1e6;
    for (int r = 0; r < repeats; ++r) {
        std::uint64_t a = 0, b = 0;
        double ta = 0, tb = 0;
        if (r % 2 == 0) {
            ta = seconds_of(codec_run, a);
            tb = seconds_of(hand_run, b);
        } else {
            tb = seconds_of(hand_run, b);
            ta = seconds_of(codec_run, a);
        }
        if (a != b) {
            std::fprintf(stderr, "%s: the codec and the hand-written decoder disagree\n", format);
            std::exit(1);
        }
        codec_mbps.push_back(mb / ta);
        hand_mbps.push_back(mb / tb);
        ratios.push_back(tb / ta);
    }
    const double best_codec = *std::max_element(codec_mbps.begin(), codec_mbps.end());
    const double best_hand = *std::max_element(hand_mbps.begin(), hand_mbps.end());
    return {format, best_codec, best_hand, best_codec / best_hand, median(ratios)};
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false, json = false;
    int repeats = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick")
            quick = true;
        else if (a == "--json")
            json = true;
        else if (a == "--repeats" && i + 1 < argc)
            repeats = std::max(1, std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: proto_decode_bench_text [--quick] [--json] [--repeats N]\n");
            return 2;
        }
    }
    const std::size_t frames = quick ? 2000 : 20000;
    if (repeats == 0) repeats = quick ? 3 : 31;
    const auto payloads = make_payloads(frames, 7);
    std::vector<unsigned char> scratch;
    std::vector<row> rows;

    {
        auto codec = sf::make_octet_counting();
        const std::string wire = encode_all(codec, payloads);
        rows.push_back(measure(
            "octet counting (decimal)", wire, [&] { return run_codec(codec, wire); },
            [&] { return hand_octet_counting(wire); }, repeats));
    }
    {
        auto codec = sf::make_hex_length();
        const std::string wire = encode_all(codec, payloads);
        rows.push_back(measure(
            "hex length + LF", wire, [&] { return run_codec(codec, wire); },
            [&] { return hand_hex_length(wire); }, repeats));
    }
    {
        sf::chunked codec;
        const std::string wire = encode_all(codec, payloads);
        rows.push_back(measure(
            "HTTP chunked", wire, [&] { return run_codec(codec, wire); }, [&] { return hand_chunked(wire); },
            repeats));
    }
    {
        sf::cobs codec;
        const std::string wire = encode_all(codec, payloads);
        rows.push_back(measure(
            "COBS", wire, [&] { return run_codec(codec, wire); }, [&] { return hand_cobs(wire, scratch); },
            repeats));
    }
    {
        sf::slip codec;
        const std::string wire = encode_all(codec, payloads);
        rows.push_back(measure(
            "SLIP", wire, [&] { return run_codec(codec, wire); }, [&] { return hand_slip(wire, scratch); },
            repeats));
    }
    if (json) {
        std::printf("[");
        for (std::size_t k = 0; k < rows.size(); ++k) {
            const row& r = rows[k];
            std::printf(
                "%s\n  {\"format\": \"%s\", \"codec_mb_per_s\": %.1f, \"hand_mb_per_s\": %.1f, "
                "\"best_ratio\": %.3f, \"median_ratio\": %.3f, \"repeats\": %d}",
                k ? "," : "", r.format, r.codec_mbps, r.hand_mbps, r.best_ratio, r.median_ratio, repeats);
        }
        std::printf("\n]\n");
        return 0;
    }
    std::printf("%-26s %12s %12s %11s %12s\n", "format", "codec MB/s", "hand MB/s", "best ratio",
                "median ratio");
    for (const row& r : rows)
        std::printf("%-26s %12.0f %12.0f %11.2f %12.2f\n", r.format, r.codec_mbps, r.hand_mbps, r.best_ratio,
                    r.median_ratio);
    return 0;
}
