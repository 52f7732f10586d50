#pragma once
// Test support for codecs: feed a wire image to a decoder the way a socket reader would (a buffer
// that accumulates chunks and drops `consumed` bytes after every decode), split in every possible
// way, and compare what comes out.

#include <sockframe/codec.hpp>
#include <sockframe/codec_traits.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace codec_test {

/// One decode outcome: a frame (its payload bytes) or an error (code and size).
struct event {
    bool is_frame = false;
    std::string payload;
    std::error_code error;
    std::uint64_t size = 0;

    friend bool operator==(const event& a, const event& b) {
        return a.is_frame == b.is_frame && a.payload == b.payload && a.error == b.error && a.size == b.size;
    }
    friend bool operator!=(const event& a, const event& b) { return !(a == b); }
    friend std::ostream& operator<<(std::ostream& os, const event& e) {
        if (e.is_frame) {
            os << "frame[" << e.payload.size() << "] \"";
            for (char c : e.payload) {
                if (c >= 0x20 && c < 0x7F)
                    os << c;
                else
                    os << "\\x"
                       << "0123456789abcdef"[(c >> 4) & 0xF] << "0123456789abcdef"[c & 0xF];
            }
            return os << '"';
        }
        return os << "error " << e.error.message() << " size " << e.size;
    }
};

inline std::ostream& operator<<(std::ostream& os, const std::vector<event>& events) {
    os << "{";
    for (const event& e : events) os << " " << e << ";";
    return os << " }";
}

inline event frame(std::string_view payload) { return {true, std::string(payload), {}, 0}; }
inline event error(std::error_code ec, std::uint64_t size) { return {false, {}, ec, size}; }
inline event error(sockframe::errc e, std::uint64_t size) { return error(make_error_code(e), size); }

/// Codecs whose payload is decoded into their own buffer (byte stuffing: cobs, slip) declare
/// `static constexpr bool transformed_payload = true`.
template <typename C, typename = void>
inline constexpr bool transformed_payload_v = false;
template <typename C>
inline constexpr bool transformed_payload_v<C, std::void_t<decltype(C::transformed_payload)>> =
    C::transformed_payload;

/// What a whole feed produced.
struct feed_result {
    std::vector<event> events;
    std::string left;       ///< bytes still buffered at the end
    bool stopped = false;   ///< stopped at an error
    bool overfull = false;  ///< need_more while holding max_frame_bytes() or more: a codec bug
};

/// Feeds `wire` in chunks of the given sizes (the rest in a last chunk). With stop_on_error the
/// reader gives up at the first error (as framed does for a poisoned codec); otherwise it drops
/// the error's `consumed` bytes and goes on. With at_eof the stream then ends: bytes still
/// buffered go to detail::decode_eof (the codec's decode_eof, else truncated_stream).
template <typename Codec>
feed_result feed(Codec& codec, std::string_view wire, const std::vector<std::size_t>& chunks,
                 bool stop_on_error = true, bool at_eof = false) {
    feed_result out;
    std::string buffer;
    std::size_t at = 0;
    std::size_t chunk = 0;
    while (at < wire.size() || chunk == 0) {
        std::size_t n = chunk < chunks.size() ? chunks[chunk] : wire.size() - at;
        if (n > wire.size() - at) n = wire.size() - at;
        ++chunk;
        buffer.append(wire.substr(at, n));
        at += n;
        for (int guard = 0;; ++guard) {
            REQUIRE(guard < 1000000);
            const sockframe::decode_result r = codec.decode(sockframe::const_buffer{buffer});
            REQUIRE(r.consumed <= buffer.size());
            if (r.is_frame()) {
                if constexpr (!transformed_payload_v<Codec>) {  // a view into the input
                    REQUIRE(r.payload.data() >= reinterpret_cast<const std::byte*>(buffer.data()));
                    REQUIRE(r.payload.end() <=
                            reinterpret_cast<const std::byte*>(buffer.data()) + r.consumed);
                }
                out.events.push_back(frame(r.payload.str()));
            } else if (r.is_error()) {
                out.events.push_back(error(r.error, r.size));
                if (stop_on_error) {
                    out.stopped = true;
                    out.left = buffer;
                    return out;
                }
                REQUIRE(r.consumed > 0);
            } else {
                buffer.erase(0, r.consumed);
                if (buffer.size() >= codec.max_frame_bytes()) out.overfull = true;
                break;
            }
            buffer.erase(0, r.consumed);
        }
        if (wire.empty()) break;
    }
    if (at_eof && !buffer.empty()) {
        const sockframe::decode_result r =
            sockframe::detail::decode_eof(codec, sockframe::const_buffer{buffer});
        REQUIRE(r.consumed <= buffer.size());
        if (r.is_frame()) out.events.push_back(frame(r.payload.str()));
        if (r.is_error()) out.events.push_back(error(r.error, r.size));
        buffer.erase(0, r.consumed);
    }
    out.left = buffer;
    return out;
}

/// Decodes `wire` with a fresh codec from `make()` in one piece, split at every byte position,
/// byte by byte and in seeded random chunks; checks that every way gives the same events (and,
/// unless stopped at an error, leaves the same bytes buffered) and returns the events.
template <typename Make>
std::vector<event> decode_all_ways(Make make, std::string_view wire, bool stop_on_error = true,
                                   bool at_eof = false) {
    auto whole_codec = make();
    const feed_result whole = feed(whole_codec, wire, {wire.size()}, stop_on_error, at_eof);
    CHECK_FALSE(whole.overfull);
    auto same = [&](const feed_result& r) {
        CHECK(r.events == whole.events);
        CHECK_FALSE(r.overfull);
        if (!whole.stopped) CHECK(r.left == whole.left);
    };
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        INFO("split at byte " << cut);
        auto codec = make();
        same(feed(codec, wire, {cut}, stop_on_error, at_eof));
    }
    {
        INFO("byte by byte");
        auto codec = make();
        same(feed(codec, wire, std::vector<std::size_t>(wire.size(), 1), stop_on_error, at_eof));
    }
    std::mt19937 rng(20240601u);
    for (int round = 0; round < 16; ++round) {
        std::vector<std::size_t> chunks;
        std::uniform_int_distribution<std::size_t> size(1, 1 + wire.size() / 3);
        for (std::size_t total = 0; total < wire.size();) {
            chunks.push_back(size(rng));
            total += chunks.back();
        }
        INFO("random chunks, round " << round);
        auto codec = make();
        same(feed(codec, wire, chunks, stop_on_error, at_eof));
    }
    return whole.events;
}

/// The bytes of a list of small integers ({0x00, 0x0C}).
inline std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values) s += static_cast<char>(v);
    return s;
}

/// The frame `codec` encodes around `payload`, as one string; fails the test on an encode error.
template <typename Codec>
std::string encode(const Codec& codec, std::string_view payload) {
    sockframe::frame_parts parts;
    const std::error_code ec = codec.encode(sockframe::const_buffer{payload.data(), payload.size()}, parts);
    REQUIRE_MESSAGE(!ec, ec.message());
    std::string out(parts.size(), '\0');
    parts.copy_to(reinterpret_cast<std::byte*>(out.data()));
    return out;
}

/// The error encode returns for `payload` (empty if it succeeded).
template <typename Codec>
std::error_code encode_error(const Codec& codec, std::string_view payload) {
    sockframe::frame_parts parts;
    return codec.encode(sockframe::const_buffer{payload.data(), payload.size()}, parts);
}

/// Checks that the payload view of `encode` is the caller's memory, not a copy.
template <typename Codec>
bool payload_not_copied(const Codec& codec, std::string_view payload) {
    sockframe::frame_parts parts;
    if (codec.encode(sockframe::const_buffer{payload.data(), payload.size()}, parts)) return false;
    for (const auto& segment : parts)
        if (segment.data() == reinterpret_cast<const std::byte*>(payload.data())) return true;
    return false;
}

/// `n` seeded pseudo-random bytes avoiding the bytes in `avoid`.
inline std::string random_bytes(std::size_t n, unsigned seed, std::string_view avoid = {}) {
    std::mt19937 rng(seed);
    std::string s;
    s.reserve(n);
    while (s.size() < n) {
        const char c = static_cast<char>(rng() & 0xFF);
        if (avoid.find(c) == std::string_view::npos) s += c;
    }
    return s;
}

/// Checks a codec's optional decode_frame short cut against decode on every prefix of `input`
/// (fresh codecs from `make`): where it answers, it must be decode's frame (same payload bytes in
/// place, same size). Returns how many prefixes it answered; `declined_frames` counts prefixes
/// where decode gives a frame and decode_frame declined.
template <typename MakeCodec>
std::size_t check_decode_frame(MakeCodec make, const std::string& input, std::size_t& declined_frames) {
    std::size_t answered = 0;
    declined_frames = 0;
    const auto* data = reinterpret_cast<const std::byte*>(input.data());
    for (std::size_t k = 0; k <= input.size(); ++k) {
        const sockframe::const_buffer in(data, k);
        auto quick = make();
        auto full = make();
        sockframe::const_buffer payload;
        const std::size_t n = quick.decode_frame(in, payload);
        const sockframe::decode_result r = full.decode(in);
        if (n == 0) {
            CHECK(payload.data() == nullptr);  // nothing changed
            if (r.is_frame()) ++declined_frames;
            continue;
        }
        ++answered;
        REQUIRE(r.is_frame());
        CHECK(r.consumed == n);
        CHECK(r.payload.data() == payload.data());
        CHECK(r.payload.size() == payload.size());
    }
    return answered;
}

}  // namespace codec_test
