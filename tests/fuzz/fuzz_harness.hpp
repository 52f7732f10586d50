#pragma once
// Shared libFuzzer harness for sockframe's decoders.
//
// Every codec target runs the same differential check: the stream is decoded once in one piece
// and again fed in chunks whose sizes come from the input itself, the way a socket reader sees
// it; both must give the same frames and errors. On the way it checks the decode contract of
// codec.hpp: `consumed` within the input, payload views inside the consumed bytes, payloads no
// larger than max_frame(), a decision (frame or error) once max_frame_bytes() are buffered,
// decode_frame agreeing with decode, decode_eof at the end of the stream, and no heap allocation
// at all inside decode. Every decode
// sees an exactly-sized heap copy of the buffered bytes, so ASan reports any read past them.

#include <sockframe/codec.hpp>
#include <sockframe/codec_traits.hpp>

#include <sanitizer/allocator_interface.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
    std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, file, line);
    std::abort();
}
#define FUZZ_CHECK(cond)                                      \
    do {                                                      \
        if (!(cond)) ::fuzz::fail(#cond, __FILE__, __LINE__); \
    } while (0)

// ---- allocation watch -----------------------------------------------------------------------

/// Heap allocations made by this thread while `armed`: how many and the largest. Per thread, so
/// that libFuzzer's own threads (the RSS watcher) do not count.
struct allocation_watch {
    bool armed = false;
    std::size_t count = 0;
    std::size_t largest = 0;
};
inline thread_local allocation_watch current_watch;
inline allocation_watch& watch() { return current_watch; }
inline void on_malloc(const volatile void*, std::size_t size) {
    allocation_watch& w = watch();
    if (!w.armed) return;
    ++w.count;
    if (size > w.largest) w.largest = size;
}
inline void on_free(const volatile void*) {}
/// Installs the sanitizer allocator hooks (call from LLVMFuzzerInitialize).
inline void install_allocation_hooks() { __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free); }

/// Counts allocations for the lifetime of the object.
class watching {
public:
    watching() {
        watch() = allocation_watch{};
        watch().armed = true;
    }
    ~watching() { watch().armed = false; }
    watching(const watching&) = delete;
    watching& operator=(const watching&) = delete;
    std::size_t count() const { return watch().count; }
    std::size_t largest() const { return watch().largest; }
};

// ---- input helpers --------------------------------------------------------------------------

/// Reads parameters off the front of the input; what is left is the stream.
struct input {
    const std::uint8_t* data;
    std::size_t size;

    std::uint8_t byte() {
        if (size == 0) return 0;
        --size;
        return *data++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }
};

/// Chunk sizes for a split feed: a splitmix64 stream seeded from the input, sizes 1..limit.
class splitter {
public:
    splitter(std::uint64_t seed, std::size_t limit) : state_(seed), limit_(limit == 0 ? 1 : limit) {}
    std::size_t next(std::size_t remaining) {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        std::size_t n = 1 + static_cast<std::size_t>(z % limit_);
        return n < remaining ? n : remaining;
    }

private:
    std::uint64_t state_;
    std::size_t limit_;
};

// ---- the differential feed ------------------------------------------------------------------

/// Codecs whose payload is decoded into their own buffer (cobs, slip) declare
/// `static constexpr bool transformed_payload = true`.
template <typename C, typename = void>
inline constexpr bool transformed_payload_v = false;
template <typename C>
inline constexpr bool transformed_payload_v<C, std::void_t<decltype(C::transformed_payload)>> =
    C::transformed_payload;

struct event {
    bool is_frame = false;
    std::string payload;     // frame: its bytes
    std::size_t end = 0;     // frame: stream offset just past it
    std::error_code error;   // error: the code
    std::uint64_t size = 0;  // error: the offending size
    bool operator==(const event& o) const {
        return is_frame == o.is_frame && payload == o.payload && end == o.end && error == o.error &&
               size == o.size;
    }
    bool operator!=(const event& o) const { return !(*this == o); }
};

struct outcome {
    std::vector<event> events;
    std::string left;       // bytes buffered at the end of the stream (not poisoned)
    bool poisoned = false;  // stopped at an error the codec cannot resynchronise from
};

/// Feeds `stream` to `codec` in chunks from `split` (one chunk when null), as a reader would;
/// with `at_eof`, the stream then ends and what is still buffered goes to decode_eof.
template <typename Codec>
outcome feed(Codec& codec, const std::uint8_t* stream, std::size_t size, splitter* split,
             bool at_eof = false) {
    outcome out;
    std::string buffer;      // the reader's receive buffer
    std::size_t offset = 0;  // stream offset of buffer[0]
    std::size_t at = 0;
    const std::size_t max_frame = codec.max_frame();
    const std::size_t max_bytes = codec.max_frame_bytes();
    do {
        const std::size_t n = split ? split->next(size - at) : size - at;
        buffer.append(reinterpret_cast<const char*>(stream) + at, n);
        at += n;
        for (std::size_t guard = 0;; ++guard) {
            FUZZ_CHECK(guard <= size + 2);  // every round consumes bytes or stops
            const std::size_t live = buffer.size();
            std::unique_ptr<std::byte[]> exact(new std::byte[live == 0 ? 1 : live]);
            if (live != 0) std::memcpy(exact.get(), buffer.data(), live);
            const sockframe::const_buffer in{exact.get(), live};
            sockframe::decode_result r;
            sockframe::const_buffer quick_payload;
            std::size_t quick = 0;
            {
                watching w;
                // decode_frame, where the codec has it, must agree with decode when it answers
                quick = sockframe::detail::decode_frame(codec, in, quick_payload);
                r = codec.decode(in);
                // decode never allocates (a transforming codec: only to grow its decode buffer,
                // never beyond max_frame)
                if constexpr (transformed_payload_v<Codec>)
                    FUZZ_CHECK(w.largest() <= max_frame);
                else
                    FUZZ_CHECK(w.count() == 0);
            }
            if (quick != 0) {
                FUZZ_CHECK(r.is_frame() && r.consumed == quick);
                FUZZ_CHECK(r.payload.data() == quick_payload.data() &&
                           r.payload.size() == quick_payload.size());
            }
            FUZZ_CHECK(r.consumed <= live);
            if (r.is_frame()) {
                FUZZ_CHECK(r.consumed > 0);
                FUZZ_CHECK(r.payload.size() <= max_frame);
                if constexpr (!transformed_payload_v<Codec>) {  // a view into the input
                    FUZZ_CHECK(r.payload.data() >= exact.get() || r.payload.empty());
                    FUZZ_CHECK(r.payload.empty() ||
                               r.payload.data() + r.payload.size() <= exact.get() + r.consumed);
                    // The frame itself (bytes a resynchronising codec skipped before it aside)
                    // fits in max_frame_bytes().
                    FUZZ_CHECK(r.payload.empty() || exact.get() + r.consumed - r.payload.data() <=
                                                        static_cast<std::ptrdiff_t>(max_bytes));
                }
                event e;
                e.is_frame = true;
                e.payload.assign(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
                e.end = offset + r.consumed;
                out.events.push_back(std::move(e));
            } else if (r.is_error()) {
                FUZZ_CHECK(r.error);
                event e;
                e.error = r.error;
                e.size = r.size;
                out.events.push_back(e);
                if (r.consumed == 0) {
                    // the stream cannot be resynchronised: the reader stops here (codec.hpp)
                    out.poisoned = true;
                    return out;
                }
            } else {
                // need_more: the codec must have decided once it holds max_frame_bytes()
                FUZZ_CHECK(live - r.consumed < max_bytes);
            }
            buffer.erase(0, r.consumed);
            offset += r.consumed;
            if (r.needs_more()) break;
        }
    } while (at < size);
    // The peer closes: what is still buffered goes to decode_eof (the codec's, or truncated_stream).
    if (at_eof && !buffer.empty()) {
        const std::size_t live = buffer.size();
        std::unique_ptr<std::byte[]> exact(new std::byte[live]);
        std::memcpy(exact.get(), buffer.data(), live);
        const sockframe::decode_result r =
            sockframe::detail::decode_eof(codec, sockframe::const_buffer{exact.get(), live});
        FUZZ_CHECK(r.consumed <= live);
        event e;
        if (r.is_frame()) {
            FUZZ_CHECK(r.payload.size() <= max_frame);
            FUZZ_CHECK(r.payload.empty() ||
                       (r.payload.data() >= exact.get() &&
                        r.payload.data() + r.payload.size() <= exact.get() + r.consumed));
            e.is_frame = true;
            e.payload.assign(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
            e.end = offset + r.consumed;
            out.events.push_back(std::move(e));
        } else if (r.is_error()) {
            FUZZ_CHECK(r.error);
            e.error = r.error;
            e.size = r.size;
            out.events.push_back(e);
        }
        buffer.erase(0, r.consumed);
    }
    out.left = buffer;
    return out;
}

/// The differential check: one-shot vs split feeds of two fresh codecs from `make`.
template <typename Make>
void differential(Make make, const std::uint8_t* stream, std::size_t size, std::uint64_t seed) {
    auto whole_codec = make();
    const outcome whole = feed(whole_codec, stream, size, nullptr, true);
    // random chunks, then byte by byte
    for (std::size_t limit : {std::size_t{1} + (seed % 17), std::size_t{1}}) {
        auto codec = make();
        splitter split(seed, limit);
        const outcome parts = feed(codec, stream, size, &split, true);
        FUZZ_CHECK(parts.events.size() == whole.events.size());
        for (std::size_t i = 0; i < parts.events.size(); ++i) FUZZ_CHECK(parts.events[i] == whole.events[i]);
        FUZZ_CHECK(parts.poisoned == whole.poisoned);
        if (!whole.poisoned) FUZZ_CHECK(parts.left == whole.left);
    }
    // After reset(), a codec decodes a fresh stream as a new one would.
    whole_codec.reset();
    const outcome again = feed(whole_codec, stream, size, nullptr, true);
    FUZZ_CHECK(again.events.size() == whole.events.size());
    for (std::size_t i = 0; i < again.events.size(); ++i) FUZZ_CHECK(again.events[i] == whole.events[i]);
}

/// Checks that encode(payload) decodes back to payload when encode accepts it, and that
/// detail::encode_into agrees with encode.
template <typename Codec>
void round_trip(Codec& codec, const std::uint8_t* payload, std::size_t size) {
    sockframe::frame_parts parts;
    // encode_into (or encode_prefix and a copy), where it answers, writes what encode gathers.
    std::unique_ptr<std::byte[]> in_place(
        new std::byte[size + sockframe::codec_traits<Codec>::max_overhead_v + 1]);
    const std::size_t whole =
        sockframe::detail::encode_into(codec, sockframe::const_buffer{payload, size}, in_place.get());
    if (codec.encode(sockframe::const_buffer{payload, size}, parts)) {
        FUZZ_CHECK(whole == 0);
        return;
    }
    if (whole != 0) {
        FUZZ_CHECK(whole == parts.size());
        std::unique_ptr<std::byte[]> gathered(new std::byte[whole]);
        parts.copy_to(gathered.get());
        FUZZ_CHECK(std::memcmp(gathered.get(), in_place.get(), whole) == 0);
    }
    std::unique_ptr<std::byte[]> wire(new std::byte[parts.size() == 0 ? 1 : parts.size()]);
    parts.copy_to(wire.get());
    codec.reset();
    const sockframe::decode_result r = codec.decode(sockframe::const_buffer{wire.get(), parts.size()});
    FUZZ_CHECK(r.is_frame());
    FUZZ_CHECK(r.consumed == parts.size());
    FUZZ_CHECK(r.payload.size() == size);
    FUZZ_CHECK(size == 0 || std::memcmp(r.payload.data(), payload, size) == 0);
    codec.reset();
}

}  // namespace fuzz
