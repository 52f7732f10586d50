// framed<Endpoint, any_codec> over a scripted endpoint that hands the stream over in chunks whose
// sizes come from the input: what framed::receive delivers (frames, errors, end-of-stream,
// truncated_stream) must equal a one-shot decode of the whole stream by the same codec, and the
// receive buffer must never grow past the codec's max_frame_bytes() (64 bytes at least). The seed's
// high bit reads with receive_batch() instead of receive(), its next bit through the read half of
// split(): the same outcome is required. The first frames are then sent back through a
// recording endpoint as pieces cut by the same splitter (send({...}), one frame from many
// buffers) and whole: the bytes written must be identical.
// Input: [codec][max_frame][seed][chunk limit] stream...
#include "fuzz_harness.hpp"

#include <sockframe/any_codec.hpp>
#include <sockframe/framed.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sf = sockframe;

namespace {

/// A stream endpoint that reads from memory, `split` deciding how much each read returns.
class scripted_endpoint {
public:
    scripted_endpoint(const std::uint8_t* data, std::size_t size, fuzz::splitter split)
        : data_(data), size_(size), split_(split) {}
    std::optional<sf::deadline::clock::duration> timeout() const noexcept { return std::nullopt; }
    std::size_t read_some(sf::mutable_buffer out, sf::deadline, std::error_code& ec) {
        ec.clear();
        FUZZ_CHECK(out.size() > 0);  // framed never reads into a full buffer
        if (at_ == size_) return 0;  // end-of-stream
        std::size_t n = split_.next(size_ - at_);
        if (n > out.size()) n = out.size();
        std::memcpy(out.data(), data_ + at_, n);
        at_ += n;
        return n;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
    fuzz::splitter split_;
};

/// A Unix seqpacket endpoint that hands the stream over as records whose sizes come from the
/// input (empty ones included), then end-of-stream.
class scripted_records {
public:
    using family_type = sf::local;
    using socket_type = sf::seqpacket;
    using mode_type = sf::blocking;

    scripted_records(const std::uint8_t* data, std::size_t size, fuzz::splitter split) : data_(data) {
        std::size_t at = 0, empty = 0;
        while (at < size) {
            std::size_t n = split.next(size - at + 1) - 1;  // 0 to all that is left
            if (n == 0 && ++empty > 16) n = 1;
            records_.push_back({at, n});
            at += n;
        }
        if (split.next(3) > 1) records_.push_back({at, 0});  // sometimes an empty record last
    }
    std::optional<sf::deadline::clock::duration> timeout() const noexcept { return std::nullopt; }
    std::size_t next_message_size(sf::deadline, std::error_code& ec) {
        ec.clear();
        return next_ < records_.size() ? records_[next_].size : 0;
    }
    std::size_t receive(sf::mutable_buffer out, sf::deadline, std::error_code& ec) {
        bool end = false;
        return receive(out, end, sf::deadline{}, ec);
    }
    std::size_t receive(sf::mutable_buffer out, bool& end, sf::deadline, std::error_code& ec) {
        ec.clear();
        end = next_ == records_.size();
        if (end) return 0;
        const record r = records_[next_++];
        const std::size_t n = r.size < out.size() ? r.size : out.size();
        if (n > 0) std::memcpy(out.data(), data_ + r.offset, n);
        if (n < r.size) ec = sf::errc::message_truncated;
        last_ = sf::const_buffer(data_ + r.offset, r.size);
        return n;
    }
    std::size_t send(const sf::const_buffer*, std::size_t, sf::deadline, std::error_code& ec) {
        ec.clear();
        return 0;
    }
    /// The record the last receive took.
    sf::const_buffer last() const noexcept { return last_; }

private:
    struct record {
        std::size_t offset, size;
    };
    const std::uint8_t* data_;
    std::vector<record> records_;
    std::size_t next_ = 0;
    sf::const_buffer last_;
};

/// Reads every record through framed: each frame or error must be what a fresh codec makes of
/// that record alone; errors concern one record; the end comes once every record is read.
void check_records(const sf::any_codec& prototype, const std::uint8_t* data, std::size_t size,
                   std::uint64_t seed, std::size_t chunk_limit) {
    sf::framed<scripted_records, sf::any_codec> reader(
        scripted_records(data, size, fuzz::splitter(seed, chunk_limit)), prototype);
    const std::size_t limit = prototype.max_frame_bytes();
    for (std::size_t guard = 0;; ++guard) {
        FUZZ_CHECK(guard <= size + 32);
        std::error_code ec;
        auto frame = reader.receive(ec);
        if (!frame && !ec) {
            FUZZ_CHECK(reader.at_end());
            break;
        }
        const sf::const_buffer record = reader.endpoint().last();
        sf::any_codec fresh = prototype;
        const sf::decode_result r = fresh.decode(record);
        if (frame) {
            FUZZ_CHECK(record.size() <= limit && r.is_frame() && r.consumed == record.size());
            FUZZ_CHECK(frame->size() == r.payload.size());
            FUZZ_CHECK(frame->empty() || std::memcmp(frame->data(), r.payload.data(), frame->size()) == 0);
        } else if (record.size() > limit) {
            FUZZ_CHECK(ec == sf::errc::frame_too_large && reader.error_size() == record.size());
        } else {
            FUZZ_CHECK(!(r.is_frame() && r.consumed == record.size()));
        }
        FUZZ_CHECK(!reader.at_end());
    }
}

/// A blocking stream endpoint that appends everything written to a string.
class recording_endpoint {
public:
    std::optional<sf::deadline::clock::duration> timeout() const noexcept { return std::nullopt; }
    std::size_t write_all(const sf::const_buffer* buffers, std::size_t count, sf::deadline,
                          std::error_code& ec) {
        ec.clear();
        std::size_t n = 0;
        for (std::size_t i = 0; i < count; ++i) {
            wire.append(reinterpret_cast<const char*>(buffers[i].data()), buffers[i].size());
            n += buffers[i].size();
        }
        return n;
    }
    std::size_t read_some(sf::mutable_buffer, sf::deadline, std::error_code& ec) {
        ec.clear();
        return 0;
    }
    std::string wire;
};

/// Sends `payload` whole through one recorder and in pieces through another; both must agree.
void check_pieces(const sf::any_codec& codec, sf::const_buffer payload, fuzz::splitter split) {
    sf::framed<recording_endpoint, sf::any_codec> whole(recording_endpoint{}, codec);
    sf::framed<recording_endpoint, sf::any_codec> pieces(recording_endpoint{}, codec);
    std::error_code whole_error, pieces_error;
    whole.send(payload, whole_error);
    std::vector<sf::const_buffer> cut;
    for (std::size_t at = 0; at < payload.size() && cut.size() < 60;) {
        std::size_t n = split.next(payload.size() - at);
        if (cut.size() == 59) n = payload.size() - at;
        cut.emplace_back(payload.data() + at, n);
        at += n;
    }
    pieces.send(cut, pieces_error);
    FUZZ_CHECK(whole_error == pieces_error);
    FUZZ_CHECK(whole.endpoint().wire == pieces.endpoint().wire);
}

const char* const specs[] = {"len:1", "len:2",        "len:4:le",  "len:8",   "varint",
                             "line",  "delim:\\r\\n", "delim:aab", "fixed:5", "netstring"};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const char* spec = specs[in.byte() % (sizeof specs / sizeof specs[0])];
    const std::size_t max_frame = 5 + in.byte();  // fixed:5 needs 5
    const std::uint64_t seed = in.byte();
    const std::size_t chunk_limit = 1 + in.byte();
    std::optional<sf::any_codec> made;
    try {
        made.emplace(sf::parse_codec_spec(spec, max_frame));
    } catch (const std::system_error&) {
        return 0;  // len:1 cannot express a max_frame above 255
    }
    const sf::any_codec& prototype = *made;

    // The reference: the codec alone, on the whole stream.
    sf::any_codec reference = prototype;
    const fuzz::outcome expected = fuzz::feed(reference, in.data, in.size, nullptr);

    sf::framed<scripted_endpoint, sf::any_codec> reader(
        scripted_endpoint(in.data, in.size, fuzz::splitter(seed, chunk_limit)), prototype);
    const std::size_t limit = prototype.max_frame_bytes() < 64 ? 64 : prototype.max_frame_bytes();
    const bool batch = (seed & 0x80) != 0;
    const bool half = (seed & 0x40) != 0;
    auto read_half = reader.split().first;
    std::size_t next = 0;  // index into expected.events
    auto check_frame = [&](sf::const_buffer frame) {
        FUZZ_CHECK(next < expected.events.size() && expected.events[next].is_frame);
        const fuzz::event& e = expected.events[next++];
        FUZZ_CHECK(frame.size() == e.payload.size());
        FUZZ_CHECK(frame.empty() || std::memcmp(frame.data(), e.payload.data(), e.payload.size()) == 0);
    };
    for (std::size_t guard = 0;; ++guard) {
        FUZZ_CHECK(guard <= in.size + 4);
        std::error_code ec;
        bool delivered = false;
        {
            fuzz::watching w;
            if (batch) {
                delivered = reader.receive_batch(check_frame, sf::deadline{}, ec) > 0;
            } else if (auto frame = half ? read_half.receive(ec) : reader.receive(ec)) {
                check_frame(*frame);
                delivered = true;
            }
            FUZZ_CHECK(w.largest() <= limit);  // no allocation sized beyond the codec's limit
        }
        FUZZ_CHECK(reader.receive_capacity() <= limit);
        if (delivered && !ec) continue;
        FUZZ_CHECK(!(delivered && ec == sf::errc::truncated_stream));  // only ever reported alone
        if (!ec) {                                                     // end-of-stream at a frame boundary
            FUZZ_CHECK(!expected.poisoned && next == expected.events.size() && expected.left.empty());
            FUZZ_CHECK(reader.at_end());
            break;
        }
        if (ec == sf::errc::truncated_stream) {  // end-of-stream inside a frame
            FUZZ_CHECK(!expected.poisoned && next == expected.events.size() && !expected.left.empty());
            FUZZ_CHECK(reader.error_size() == expected.left.size());
            std::error_code again;
            FUZZ_CHECK(!reader.receive(again) && again == sf::errc::truncated_stream);
            break;
        }
        // a framing error: the next expected event
        FUZZ_CHECK(next < expected.events.size() && !expected.events[next].is_frame);
        const fuzz::event& e = expected.events[next++];
        FUZZ_CHECK(ec == e.error);
        FUZZ_CHECK(reader.error_size() == e.size);
        if (next == expected.events.size() && expected.poisoned) {
            std::error_code again;
            FUZZ_CHECK(!reader.receive(again) && again == e.error);  // poisoned: the same error again
            break;
        }
    }
    check_records(prototype, in.data, in.size, seed, chunk_limit);
    std::size_t resent = 0;
    for (const fuzz::event& e : expected.events) {
        if (!e.is_frame) continue;
        if (resent++ == 8) break;
        check_pieces(prototype, sf::const_buffer(e.payload.data(), e.payload.size()),
                     fuzz::splitter(seed + resent, chunk_limit));
    }
    return 0;
}
