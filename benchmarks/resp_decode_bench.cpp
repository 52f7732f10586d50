// resp_decode_bench: sockframe's RESP decoder against a hand-written RESP decoder of the same
// format with the same checks, in one process run.
//
//   resp_decode_bench [--rounds R] [--json] [--only WORKLOAD:MEASURE]
//
// Each workload is a buffer of pipelined values (commands as redis-benchmark sends them, typical
// replies, nested aggregates) decoded frame after frame, the way a server's read loop sees a full
// receive buffer; the same buffer is also fed in 1500-byte chunks (a partial frame waits for the
// next chunk: sockframe keeps its place, the hand-written decoder starts the frame again). Two
// measures per workload:
//   frames: finding each frame's end (resp_codec's decode_frame short cut, then decode, as
//           framed's reader calls them, vs the hand-written recursive descent);
//   args:   the frame and every child's bytes (the same, then resp_value::strings on a view built
//           with the codec's index of the children it recorded while checking the frame, vs the
//           hand-written decoder filling an array of views as it parses).
// Each round times both decoders back to back; a row gives the median over R rounds (default
// 21) of ns per frame and of the per-round ratio hand-written / sockframe time (>= 1: sockframe
// is as fast or faster); --json prints JSON rows instead. --only runs one workload and measure
// (e.g. replies:args), for valgrind --tool=callgrind instruction counts per frame.
#include <sockframe/resp.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sf = sockframe;

namespace {

// ---- the baseline: a hand-written RESP decoder --------------------------------------------------
// Recursive descent over a complete buffer, written the straightforward way: it returns the end
// of the value at p, nullptr when more bytes are needed, or sets `bad`. Same checks as resp_codec
// (CRLF, digits, integer range, booleans, nulls, limits on bulk, elements and depth).
struct hand_decoder {
    std::size_t max_bulk = SOCKFRAME_DEFAULT_MAX_FRAME;
    std::size_t max_elements = std::size_t{1} << 20;
    int max_depth = 32;
    std::string_view* args = nullptr;  // where top-level children's bytes go (args measure)
    std::size_t nargs = 0;

    static const char* number(const char* p, const char* end, std::int64_t& v, bool& bad) {
        bool negative = false;
        if (p < end && *p == '-') negative = true, ++p;
        const char* first = p;
        std::uint64_t u = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (p - first == 18) return bad = true, nullptr;
            u = u * 10 + static_cast<std::uint64_t>(*p++ - '0');
        }
        if (end - p < 2) return nullptr;
        if (p == first || p[0] != '\r' || p[1] != '\n') return bad = true, nullptr;
        v = negative ? -static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
        return p + 2;
    }

    const char* value(const char* p, const char* end, int depth, bool top, bool& bad) {
        if (p == end) return nullptr;
        const char type = *p++;
        std::int64_t n = 0;
        switch (type) {
            case '$':
            case '!':
            case '=': {
                p = number(p, end, n, bad);
                if (!p) return nullptr;
                if (n < 0) return n == -1 && type == '$' ? p : (bad = true, nullptr);
                if (static_cast<std::uint64_t>(n) > max_bulk) return bad = true, nullptr;
                if (end - p < n + 2) return nullptr;
                if (p[n] != '\r' || p[n + 1] != '\n') return bad = true, nullptr;
                if (top) args[nargs++] = std::string_view(p, static_cast<std::size_t>(n));
                return p + n + 2;
            }
            case '*':
            case '%':
            case '~':
            case '>':
            case '|': {
                p = number(p, end, n, bad);
                if (!p) return nullptr;
                if (n < 0) return n == -1 && type == '*' ? p : (bad = true, nullptr);
                const std::uint64_t count =
                    static_cast<std::uint64_t>(n) * (type == '%' || type == '|' ? 2 : 1);
                if (count > max_elements || depth == max_depth) return bad = true, nullptr;
                const bool fill = args && depth == 0 && count <= 1024;
                if (fill) nargs = 0;
                for (std::uint64_t i = 0; i < count; ++i) {
                    p = value(p, end, depth + 1, fill, bad);
                    if (!p) return nullptr;
                }
                return type == '|' ? value(p, end, depth, top, bad) : p;
            }
            case '+':
            case '-':
            case ':':
            case ',':
            case '(':
            case '#':
            case '_': {
                const char* nl =
                    static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
                if (!nl) return nullptr;
                if (nl == p || nl[-1] != '\r') return bad = true, nullptr;
                const char* stop = nl - 1;
                if (std::memchr(p, '\r', static_cast<std::size_t>(stop - p))) return bad = true, nullptr;
                if (type == ':') {
                    const char* q = p;
                    if (q < stop && (*q == '-' || *q == '+')) ++q;
                    if (q == stop || stop - q > 19) return bad = true, nullptr;
                    for (; q < stop; ++q)
                        if (*q < '0' || *q > '9') return bad = true, nullptr;
                } else if (type == '#') {
                    if (stop - p != 1 || (*p != 't' && *p != 'f')) return bad = true, nullptr;
                } else if (type == '_') {
                    if (stop != p) return bad = true, nullptr;
                }
                if (top) args[nargs++] = std::string_view(p, static_cast<std::size_t>(stop - p));
                return nl + 1;
            }
            default: bad = true; return nullptr;
        }
    }
};

// ---- workloads ---------------------------------------------------------------------------------

std::string commands() {
    std::string s;
    sf::resp_writer w(s);
    char key[32];
    for (int i = 0; i < 20000; ++i) {
        std::snprintf(key, sizeof key, "key:%012d", i * 7919 % 100000);
        if (i % 2)
            w.command("SET", key, "xxx");
        else
            w.command("GET", key);
    }
    return s;
}

std::string replies() {
    std::string s;
    sf::resp_writer w(s);
    const std::string value(100, 'v');
    for (int i = 0; i < 10000; ++i) {
        w.simple_string("OK").integer(std::int64_t{i} * 1234567).bulk_string(value).null_bulk_string();
        w.array(10);
        for (int k = 0; k < 10; ++k) w.bulk_string(std::string_view(value).substr(0, 10));
    }
    return s;
}

std::string nested() {
    std::string s;
    sf::resp_writer w(s);
    for (int i = 0; i < 5000; ++i) {
        w.array(3).integer(i).array(2).bulk_string("field").array(2).integer(1).double_number(2.5);
        w.map(2).simple_string("a").integer(1).simple_string("b").array(3).integer(1).integer(2).integer(3);
    }
    return s;
}

using clock_type = std::chrono::steady_clock;

/// ns per frame of one run of `run`, which must decode `frames` frames.
template <typename F>
double time_ns(std::size_t frames, F&& run) {
    const auto start = clock_type::now();
    const std::size_t got = run();
    const double ns = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
    if (got != frames) {
        std::fprintf(stderr, "decoded %zu frames, expected %zu\n", got, frames);
        std::exit(1);
    }
    return ns / static_cast<double>(frames);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

volatile std::size_t sink;

/// Frames found by resp_codec in `wire`, fed in chunks of `chunk` bytes (0: all at once).
std::size_t codec_frames(const std::string& wire, std::size_t chunk, bool args) {
    sf::resp_codec codec;
    std::size_t frames = 0, start = 0, have = chunk ? std::min(chunk, wire.size()) : wire.size();
    std::size_t bytes = 0;
    std::string_view views[1024];
    for (;;) {
        // as framed's reader does: the short cut first, then decode()
        const sf::const_buffer input(wire.data() + start, have - start);
        sf::const_buffer payload;
        std::size_t size = codec.decode_frame(input, payload);
        sf::decode_result r;
        if (size == 0) {
            r = codec.decode(input);
            if (r.is_frame()) size = r.consumed, payload = r.payload;
        }
        if (size != 0) {
            ++frames;
            start += size;
            if (args) {
                const sf::resp_value v(payload, codec);
                const std::size_t n = std::min<std::size_t>(v.strings(views, 1024), 1024);
                for (std::size_t i = 0; i < n; ++i) bytes += views[i].size();
            }
            continue;
        }
        if (r.is_error()) std::exit(1);
        if (have == wire.size()) break;
        have = std::min(have + chunk, wire.size());
    }
    sink = bytes;
    return frames;
}

std::size_t hand_frames(const std::string& wire, std::size_t chunk, bool args) {
    hand_decoder d;
    std::string_view views[1024];
    if (args) d.args = views;
    std::size_t frames = 0, bytes = 0;
    const char* p = wire.data();
    const char* all = wire.data() + wire.size();
    const char* end = chunk ? std::min(p + chunk, all) : all;
    for (;;) {
        bool bad = false;
        d.nargs = 0;
        const char* next = d.value(p, end, 0, false, bad);
        if (bad) std::exit(1);
        if (next) {
            ++frames;
            p = next;
            for (std::size_t i = 0; i < d.nargs; ++i) bytes += views[i].size();
            continue;
        }
        if (end == all) break;
        end = std::min(end + chunk, all);
    }
    sink = bytes;
    return frames;
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 21;
    bool json = false;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--rounds" && i + 1 < argc)
            rounds = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--json")
            json = true;
        else if (arg == "--only" && i + 1 < argc)
            only = argv[++i];
        else {
            std::fprintf(stderr,
                         "usage: resp_decode_bench [--rounds R] [--json] [--only WORKLOAD:MEASURE]\n");
            return 2;
        }
    }
    struct workload {
        const char* name;
        std::string wire;
    };
    const workload workloads[] = {{"commands", commands()}, {"replies", replies()}, {"nested", nested()}};
    if (!json)
        std::printf("%-10s %-7s %-6s %12s %12s %8s\n", "workload", "measure", "feed", "hand ns",
                    "sockframe ns", "ratio");
    for (const auto& w : workloads) {
        std::size_t frames = 0;  // counted apart, so that a profile's per-function counts are the measures
        {
            sf::resp_codec codec;
            for (sf::const_buffer rest(w.wire); !rest.empty(); ++frames)
                rest = rest.subspan(codec.decode(rest).consumed);
        }
        for (bool args : {false, true}) {
            if (!only.empty() && only != std::string(w.name) + (args ? ":args" : ":frames")) continue;
            for (std::size_t chunk : {std::size_t{0}, std::size_t{1500}}) {
                std::vector<double> hands, ourses, ratios;
                for (int r = 0; r < rounds; ++r) {
                    hands.push_back(time_ns(frames, [&] { return hand_frames(w.wire, chunk, args); }));
                    ourses.push_back(time_ns(frames, [&] { return codec_frames(w.wire, chunk, args); }));
                    ratios.push_back(hands.back() / ourses.back());
                }
                const double hand = median(hands), ours = median(ourses), ratio = median(ratios);
                const char* measure = args ? "args" : "frames";
                const char* feed = chunk ? "1500B" : "whole";
                if (json)
                    std::printf(
                        "{\"bench\":\"resp_decode\",\"workload\":\"%s\",\"measure\":\"%s\",\"feed\":\"%s\","
                        "\"frames\":%zu,\"hand_ns_per_frame\":%.2f,\"sockframe_ns_per_frame\":%.2f,"
                        "\"ratio_hand_to_sockframe_time\":%.3f}\n",
                        w.name, measure, feed, frames, hand, ours, ratio);
                else
                    std::printf("%-10s %-7s %-6s %12.2f %12.2f %8.3f\n", w.name, measure, feed, hand, ours,
                                ratio);
            }
        }
    }
    return 0;
}
