#pragma once
/// framed<Endpoint, Codec>: whole messages over a socket. send() frames a payload with the codec
/// and writes header, payload and trailer in one gathered system call; receive() returns the next
/// payload as a view into the receive buffer.
///
/// Receiving: one system call may bring many frames; every complete frame already buffered is
/// delivered before the next system call, and bytes after a frame stay buffered for the next
/// receive. The view a receive returns is valid until the next receive (or destruction); the
/// buffer grows only as far as the codec's max_frame_bytes(). receive_batch() hands every
/// buffered frame to a callback in one call: the fastest way to read many small frames.
///
/// Errors and state: end-of-stream at a frame boundary is not an error (receive returns an
/// empty optional with no error code: at_end() is then true). End-of-stream inside a frame is
/// errc::truncated_stream. A framing error the codec cannot resynchronise from (an oversized or
/// malformed length) poisons the connection: that receive and every later one report the same
/// error and the caller should close. A codec that resynchronises (line discarding an overlong
/// line) reports the error once and the next receive continues after it. A timeout or would-block
/// loses nothing: the partial frame stays buffered and the next receive carries on.
///
/// Sending: send() writes the frame at once (blocking mode: all of it; non-blocking mode: what
/// fits, the rest is queued, bounded by a high-water mark). Header, payload and trailer go out in
/// one gathered system call (sendmsg/WSASend); the payload is never copied. queue() only appends the frame to
/// the outgoing buffer (copying it) and flush() writes everything queued in one call: the way to send many
/// small frames with few system calls. A queued frame leaves when flush() (or a later send() or send_batch())
/// runs, or when the queue passes its coalescing limit. send_batch() frames many payloads and gathers them,
/// uncopied, into few writev calls: the way to send many large ones.
///
/// Thread safety: one framed object is used by one thread at a time.

#include <sockframe/buffer.hpp>
#include <sockframe/codec.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/error.hpp>
#include <sockframe/socket.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
template <typename E, typename = void>
struct endpoint_traits {
    static constexpr bool message_oriented = false;
    static constexpr bool connection_oriented = true;
    static constexpr bool is_blocking = true;
};
template <typename E>
struct endpoint_traits<E, std::void_t<typename E::socket_type, typename E::mode_type>> {
    static constexpr bool message_oriented = E::socket_type::message_oriented;
    static constexpr bool connection_oriented = E::socket_type::connection_oriented;
    static constexpr bool is_blocking = E::mode_type::is_blocking;
};

/// Holds a T that only lives within one call: moving the holder makes a fresh T.
template <typename T>
struct transient : T {
    transient() = default;
    transient(transient&&) noexcept {}
    transient& operator=(transient&&) noexcept { return *this; }
};

/// A growable byte buffer that never value-initialises what it grows into and never shrinks.
class byte_buffer {
public:
    std::byte* data() noexcept { return data_.get(); }
    const std::byte* data() const noexcept { return data_.get(); }
    std::size_t capacity() const noexcept { return capacity_; }
    /// Grows to at least `n` bytes, keeping the first `keep` bytes.
    void grow(std::size_t n, std::size_t keep) {
        if (n <= capacity_) return;
        std::unique_ptr<std::byte[]> next(new std::byte[n]);
        if (keep > 0) std::memcpy(next.get(), data_.get(), keep);
        data_ = std::move(next);
        capacity_ = n;
    }

private:
    std::unique_ptr<std::byte[]> data_;
    std::size_t capacity_ = 0;
};
}  // namespace detail

template <typename Endpoint, typename Codec>
class framed {
    using traits = detail::endpoint_traits<Endpoint>;

public:
    using endpoint_type = Endpoint;
    using codec_type = Codec;

    /// Default outgoing high-water mark for non-blocking sends, and coalescing limit of queue().
    static constexpr std::size_t default_high_water_mark = 4u * 1024u * 1024u;
    static constexpr std::size_t default_coalesce_limit = 64u * 1024u;

    explicit framed(Endpoint endpoint, Codec codec = Codec{})
        : endpoint_(std::move(endpoint)), codec_(std::move(codec)) {}

    framed(framed&&) noexcept = default;
    framed& operator=(framed&&) noexcept = default;

    Endpoint& endpoint() noexcept { return endpoint_; }
    const Endpoint& endpoint() const noexcept { return endpoint_; }
    Codec& codec() noexcept { return codec_; }
    const Codec& codec() const noexcept { return codec_; }

    // ---- receiving -----------------------------------------------------------------------------

    /// The next frame's payload (a view valid until the next receive), or nullopt at end-of-stream.
    /// Throws frame_error for framing errors (with the offending size), std::system_error else.
    std::optional<const_buffer> receive(deadline d = {}) {
        if (auto frame = take_buffered()) return frame;  // the common case, without an error_code
        std::error_code ec(0, *system_category_);
        auto frame = receive_general(d, ec);
        if (ec) raise(ec, "sockframe: receive");
        return frame;
    }
    /// Never throws: nullopt with `ec` clear is end-of-stream; nullopt with `ec` set is an error.
    std::optional<const_buffer> receive(std::error_code& ec) { return receive(deadline{}, ec); }
    /// `d` bounds the whole frame, however many system calls it takes.
    std::optional<const_buffer> receive(deadline d, std::error_code& ec) {
        if (auto frame = take_buffered()) {
            ec.assign(0, *system_category_);
            return frame;
        }
        return receive_general(d, ec);
    }
    /// Never waits: a frame already buffered, or what one read brings now; nothing there is
    /// std::errc::operation_would_block (blocking endpoints included).
    std::optional<const_buffer> try_receive(std::error_code& ec) {
        auto frame = receive(deadline((deadline::clock::time_point::min)()), ec);
        if (ec == std::errc::timed_out) ec = std::make_error_code(std::errc::operation_would_block);
        return frame;
    }
    /// The owning variant: a copy of the next payload in a Container (std::string, std::vector<char>, ...).
    template <typename Container = std::vector<std::byte>>
    std::optional<Container> receive_copy(deadline d = {}) {
        auto frame = receive(d);
        if (!frame) return std::nullopt;
        return to_container<Container>(*frame);
    }
    template <typename Container = std::vector<std::byte>>
    std::optional<Container> receive_copy(deadline d, std::error_code& ec) {
        auto frame = receive(d, ec);
        if (!frame) return std::nullopt;
        return to_container<Container>(*frame);
    }

    /// The batch form of receive(): waits for the next frame as receive() does, then calls
    /// `on_frame(const_buffer payload)` for it and for every further complete frame already
    /// buffered, with no system call in between. Returns how many frames it delivered: 0 is
    /// end-of-stream (at_end()). A framing error after some frames is thrown after they were
    /// delivered. Each view is valid during its call only; a frame counts as received once it is
    /// handed over (if on_frame throws, the frames after it stay buffered). on_frame may send,
    /// queue or flush on this object; it should not receive from it (if it does, the batch ends
    /// after that call, nothing lost or repeated). Message endpoints deliver one frame.
    template <typename F>
    std::size_t receive_batch(F&& on_frame, deadline d = {}) {
        std::error_code ec(0, *system_category_);
        const std::size_t n = receive_batch(on_frame, d, ec);
        if (ec) raise(ec, "sockframe: receive");
        return n;
    }
    /// Never throws (unless on_frame does): 0 with `ec` clear is end-of-stream; `ec` set is an
    /// error met after the frames delivered (the count returned).
    template <typename F>
    std::size_t receive_batch(F&& on_frame, deadline d, std::error_code& ec) {
        auto first = receive(d, ec);
        if (!first) return 0;
        on_frame(*first);
        std::size_t delivered = 1;
        if constexpr (!traits::message_oriented) {
            // The position lives in a local (a register) rather than in begin_, which is only
            // stored: a member re-read per frame would chain every frame behind the last store.
            const std::byte* const base = buffer_.data();
            const std::size_t end = end_;
            std::size_t at = begin_;
            while (at < end) {
                const_buffer payload;
                std::size_t size = 0;
                if constexpr (detail::has_decode_frame_v<Codec>)
                    size = codec_.decode_frame(const_buffer(base + at, end - at), payload);
                if (size == 0) {
                    const decode_result r = codec_.decode(const_buffer(base + at, end - at));
                    if (!r.is_frame()) {
                        if (r.is_error()) {
                            fail(r, ec);
                        } else {
                            begin_ = at + r.consumed;  // a resynchronising codec's garbage, if any
                        }
                        break;
                    }
                    payload = r.payload;
                    size = r.consumed;
                }
                at += size;
                begin_ = at;
                on_frame(payload);
                ++delivered;
                // on_frame received on this object after all (or resized its buffer): what it
                // left in begin_ and end_ is the truth; stop here rather than read stale bytes
                if (begin_ != at || buffer_.data() != base) break;
            }
        }
        return delivered;
    }

    /// True once the peer has closed at a frame boundary (receive returned nullopt without error).
    bool at_end() const noexcept { return at_end_; }
    /// The offending length or position of the last framing error (0 if none).
    std::uint64_t error_size() const noexcept { return error_size_; }
    /// The receive buffer's first allocation (made by the first receive; default
    /// SOCKFRAME_RECEIVE_BUFFER_INITIAL = 64 KiB). Smaller saves memory per idle connection, larger
    /// saves system calls; the buffer still grows as far as a frame needs.
    void set_initial_receive_capacity(std::size_t bytes) noexcept {
        initial_capacity_ = bytes < 64 ? 64 : bytes;
    }
    /// Bytes the receive buffer holds now (never more than the codec's max_frame_bytes(), or 64 KiB
    /// for datagrams, unless the initial capacity is larger).
    std::size_t receive_capacity() const noexcept { return buffer_.capacity(); }
    /// Grows the receive buffer to at least `bytes` now. It otherwise starts at
    /// SOCKFRAME_RECEIVE_BUFFER_INITIAL and grows only when a frame needs it; a larger buffer
    /// means fewer, larger reads on a stream of many frames. Buffered bytes are kept.
    void reserve_receive(std::size_t bytes) {
        if (bytes > buffer_.capacity()) buffer_.grow(bytes, end_);
    }
    /// Bytes received but not yet delivered as frames.
    std::size_t buffered() const noexcept { return end_ - begin_; }

    // ---- sending -------------------------------------------------------------------------------

    /// Frames and sends `payload` (any contiguous bytes: string_view, vector, array...). Frames
    /// queued before it leave first. Blocking: returns once all is written. Non-blocking: writes
    /// what fits and queues the rest; errc::buffer_full (nothing queued) past the high-water mark.
    void send(const_buffer payload, deadline d = {}) {
        std::error_code ec = detail::no_error();
        send(payload, d, ec);
        if (ec) raise(ec, "sockframe: send");
    }
    void send(const_buffer payload, std::error_code& ec) { send(payload, deadline{}, ec); }
    void send(const_buffer payload, deadline d, std::error_code& ec) {
        ec = codec_.encode(payload, parts_);
        if (ec) return;
        if constexpr (traits::message_oriented) {
            endpoint_.send(parts_.begin(), parts_.segment_count(), d, ec);
        } else if constexpr (traits::is_blocking) {
            write_with_queue(parts_.begin(), parts_.segment_count(), d, ec);
        } else {
            send_non_blocking(ec);
        }
    }

    /// Frames and sends `count` payloads, in order, after whatever is queued, gathering headers
    /// and payloads into as few system calls as the OS allows (writev of up to 64 buffers): the
    /// way to send many large payloads without copying them. The payloads are only read during
    /// the call. Blocking stream endpoints gather; others send each frame as send() would.
    /// Errors as send(): a payload the codec refuses stops the batch before it (those before it
    /// are sent).
    void send_batch(const const_buffer* payloads, std::size_t count, deadline d = {}) {
        std::error_code ec = detail::no_error();
        send_batch(payloads, count, d, ec);
        if (ec) raise(ec, "sockframe: send_batch");
    }
    void send_batch(const const_buffer* payloads, std::size_t count, std::error_code& ec) {
        send_batch(payloads, count, deadline{}, ec);
    }
    void send_batch(const const_buffer* payloads, std::size_t count, deadline d, std::error_code& ec) {
        ec = detail::no_error();
        if constexpr (!traits::message_oriented && traits::is_blocking &&
                      detail::has_encode_prefix_v<Codec>) {
            constexpr std::size_t per_call = 31;  // 31 headers + 31 payloads + the queue: 63 buffers
            auto when = d.resolve(endpoint_.timeout());
            const deadline whole = when ? deadline(*when) : deadline::never();
            std::byte headers[per_call][Codec::max_prefix_size];
            const_buffer parts[2 * per_call];
            std::size_t done = 0;
            while (done < count) {
                std::size_t n = 0, used = 0;
                for (; n < per_call && done + n < count; ++n) {
                    const const_buffer payload = payloads[done + n];
                    const std::size_t header = codec_.encode_prefix(payload.size(), headers[n]);
                    if (header == 0) break;  // refused or not header + payload: send() says why
                    parts[used++] = const_buffer(headers[n], header);
                    if (!payload.empty()) parts[used++] = payload;
                }
                if (used > 0) {
                    write_gathered(parts, used, whole, ec);
                    if (ec) return;
                }
                done += n;
                if (done < count && n < per_call) {
                    send(payloads[done], whole, ec);
                    if (ec) return;
                    ++done;
                }
            }
        } else {
            for (std::size_t i = 0; i < count && !ec; ++i) send(payloads[i], d, ec);
        }
    }

    /// Appends a frame to the outgoing buffer without writing it (stream endpoints). Leaves when
    /// flush() or a later send() runs, or at once (with what was queued) once the queue would
    /// pass the coalescing limit; payloads larger than that limit are not copied but gathered.
    void queue(const_buffer payload, deadline d = {}) {
        if constexpr (detail::has_encode_prefix_v<Codec>) {
            if (queue_in_place(payload)) return;
        }
        std::error_code ec(0, *system_category_);
        queue(payload, d, ec);
        if (ec) raise(ec, "sockframe: queue");
    }
    void queue(const_buffer payload, std::error_code& ec) { queue(payload, deadline{}, ec); }
    void queue(const_buffer payload, deadline d, std::error_code& ec) {
        static_assert(!traits::message_oriented, "queue() coalesces frames on stream endpoints only");
        if constexpr (detail::has_encode_prefix_v<Codec>) {
            if (queue_in_place(payload)) {
                ec.assign(0, *system_category_);
                return;
            }
        }
        ec = codec_.encode(payload, parts_);
        if (ec) return;
        std::size_t size = parts_.size();
        if constexpr (!traits::is_blocking) {
            (void)d;
            append_out(size, ec);
            return;
        } else {
            if (pending() + size > coalesce_limit_) {
                write_with_queue(parts_.begin(), parts_.segment_count(), d, ec);
                return;
            }
            append_out(size, ec);
        }
    }
    /// Writes every queued byte. Blocking: waits (until `d`). Non-blocking: what fits now;
    /// returns true when nothing is left queued (else poll for writability and call again).
    bool flush(deadline d = {}) {
        std::error_code ec;
        bool done = flush(d, ec);
        if (ec) raise(ec, "sockframe: flush");
        return done;
    }
    bool flush(std::error_code& ec) { return flush(deadline{}, ec); }
    bool flush(deadline d, std::error_code& ec) {
        ec.clear();
        if (pending() == 0) return true;
        if constexpr (traits::is_blocking) {
            write_with_queue(nullptr, 0, d, ec);
        } else {
            (void)d;
            drain_non_blocking(ec);
        }
        return pending() == 0;
    }
    /// Bytes queued and not yet written.
    std::size_t pending() const noexcept { return out_end_ - out_begin_; }
    /// Whether queued bytes wait for writability (register for write readiness when true).
    bool wants_write() const noexcept { return pending() > 0; }
    /// Non-blocking sends past this many queued bytes fail with errc::buffer_full.
    std::size_t high_water_mark() const noexcept { return high_water_; }
    void set_high_water_mark(std::size_t bytes) noexcept { high_water_ = bytes; }
    /// queue() writes once this many bytes are queued.
    std::size_t coalesce_limit() const noexcept { return coalesce_limit_; }
    void set_coalesce_limit(std::size_t bytes) noexcept { coalesce_limit_ = bytes; }

private:
    [[noreturn]] void raise(const std::error_code& ec, const char* what) const {
        if (ec.category() == sockframe_category() && error_size_ != 0)
            throw frame_error(ec, error_size_, what);
        throw std::system_error(ec, what);
    }

    template <typename Container>
    static Container to_container(const_buffer b) {
        using value_type = typename Container::value_type;
        const auto* first = reinterpret_cast<const value_type*>(b.data());
        return Container(first, first + b.size());
    }

    std::size_t receive_limit() const noexcept {
        std::size_t limit = codec_.max_frame_bytes();
        return limit < 64 ? 64 : limit;
    }

    void fail(const decode_result& r, std::error_code& ec) noexcept {
        ec = r.error;
        error_size_ = r.size;
        if (r.consumed == 0) {
            poisoned_ = r.error;
        } else {
            begin_ += r.consumed;  // the codec skipped past the bad bytes: carry on from there
        }
    }

    /// A whole buffered frame through the codec's decode_frame short cut, if it has one (stream
    /// endpoints, connection not poisoned); nullopt: the general path decides.
    std::optional<const_buffer> take_buffered() noexcept {
        if constexpr (!traits::message_oriented && detail::has_decode_frame_v<Codec>) {
            const_buffer payload;
            if (poisoned_) return std::nullopt;
            if (const std::size_t n =
                    codec_.decode_frame(const_buffer(buffer_.data() + begin_, end_ - begin_), payload)) {
                begin_ += n;  // the view stays valid: nothing moves before the next receive
                error_size_ = 0;
                return payload;
            }
        }
        return std::nullopt;
    }

    /// Everything take_buffered() left: a poisoned connection, a datagram, a frame decode() must
    /// decide, or a read.
    std::optional<const_buffer> receive_general(deadline d, std::error_code& ec) {
        if (poisoned_) {
            ec = poisoned_;
            return std::nullopt;
        }
        if constexpr (traits::message_oriented) {
            return receive_message(d, ec);
        } else {
            return receive_stream(d, ec);
        }
    }

    /// A stream frame through the codec's decode() (small enough to inline), else a read.
    std::optional<const_buffer> receive_stream(deadline d, std::error_code& ec) {
        error_size_ = 0;
        if (end_ > begin_) {
            decode_result r = codec_.decode(const_buffer(buffer_.data() + begin_, end_ - begin_));
            if (r.is_frame()) {
                begin_ += r.consumed;  // the view stays valid: nothing moves before the next receive
                ec.assign(0, *system_category_);
                return r.payload;
            }
            if (r.is_error()) {
                fail(r, ec);
                return std::nullopt;
            }
            begin_ += r.consumed;  // bytes a resynchronising codec discards while it waits
        }
        return receive_more(d, ec);
    }

    /// Reads until a frame is complete (a codec may see the same bytes again: codec.hpp allows it).
    SOCKFRAME_NOINLINE std::optional<const_buffer> receive_more(deadline d, std::error_code& ec) {
        std::optional<deadline::clock::time_point> when;
        bool when_known = false;
        for (;;) {
            if (begin_ == end_) begin_ = end_ = 0;
            if (end_ > begin_ || at_end_) {
                decode_result r = codec_.decode(const_buffer(buffer_.data() + begin_, end_ - begin_));
                if (r.is_frame()) {
                    begin_ += r.consumed;
                    ec = detail::no_error();
                    return r.payload;
                }
                if (r.is_error()) {
                    fail(r, ec);
                    return std::nullopt;
                }
                begin_ += r.consumed;  // bytes a resynchronising codec discards while it waits
            }
            if (at_end_) {
                if (end_ == begin_) {
                    ec.clear();
                    return std::nullopt;
                }
                ec = errc::truncated_stream;
                error_size_ = end_ - begin_;
                poisoned_ = ec;
                return std::nullopt;
            }
            if (!make_room(ec)) return std::nullopt;
            if (!when_known) {
                when = d.resolve(endpoint_.timeout());
                when_known = true;
            }
            std::size_t n =
                endpoint_.read_some(mutable_buffer(buffer_.data() + end_, buffer_.capacity() - end_),
                                    when ? deadline(*when) : deadline::never(), ec);
            if (ec) return std::nullopt;
            if (n == 0) {
                at_end_ = true;
                continue;
            }
            end_ += n;
        }
    }

    /// Makes free space after end_: compacts, else grows up to the codec's limit.
    bool make_room(std::error_code& ec) {
        std::size_t live = end_ - begin_;
        // A short partial frame moves to the front at once: copying a few bytes is cheaper than
        // the ever smaller reads into what is left at the end of the buffer.
        if (begin_ > 0 && live <= compact_below) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, live);
            begin_ = 0;
            end_ = live;
        }
        if (end_ < buffer_.capacity()) return true;
        std::size_t limit = receive_limit();
        if (begin_ > 0 && (live < buffer_.capacity() / 2 || buffer_.capacity() >= limit)) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, live);
            begin_ = 0;
            end_ = live;
            return true;
        }
        if (buffer_.capacity() >= limit) {
            // A codec must report a frame larger than its limit; this guards codecs that do not.
            ec = errc::frame_too_large;
            error_size_ = live;
            poisoned_ = ec;
            return false;
        }
        std::size_t next = buffer_.capacity() == 0 ? initial_capacity_ : buffer_.capacity() * 2;
        if (next > limit) next = limit;
        if (begin_ > 0) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, live);
            begin_ = 0;
            end_ = live;
        }
        buffer_.grow(next, live);
        return true;
    }

    std::optional<const_buffer> receive_message(deadline d, std::error_code& ec) {
        error_size_ = 0;
        if (at_end_) {
            ec.clear();
            return std::nullopt;
        }
        std::size_t capacity = receive_limit();
        if constexpr (!traits::connection_oriented) {
            if (capacity > max_datagram) capacity = max_datagram;
        }
        buffer_.grow(capacity, 0);
        std::size_t n = endpoint_.receive(mutable_buffer(buffer_.data(), buffer_.capacity()), d, ec);
        if (ec == errc::message_truncated) {
            ec = errc::frame_too_large;
            error_size_ = n;
            return std::nullopt;
        }
        if (ec) return std::nullopt;
        if constexpr (traits::connection_oriented) {
            if (n == 0) {  // seqpacket: end-of-stream
                at_end_ = true;
                return std::nullopt;
            }
        }
        codec_.reset();
        decode_result r = codec_.decode(const_buffer(buffer_.data(), n));
        codec_.reset();
        if (r.is_frame() && r.consumed == n) return r.payload;
        if (r.is_error()) {
            ec = r.error;
            error_size_ = r.size;
            return std::nullopt;
        }
        // a frame that ends before the datagram does, or a datagram too short for its frame
        ec = errc::frame_size_mismatch;
        error_size_ = n;
        return std::nullopt;
    }

    // ---- outgoing queue ----

    /// The short cut of queue() for header + payload codecs: writes the header and copies the
    /// payload straight into the send buffer when they fit there without passing the coalescing
    /// limit (or the high-water mark). False: nothing was queued, take the general path.
    bool queue_in_place(const_buffer payload) noexcept {
        const std::size_t most = Codec::max_prefix_size + payload.size();
        const std::size_t limit = traits::is_blocking ? coalesce_limit_ : high_water_;
        if (out_end_ + most > out_.capacity() || pending() + most > limit) return false;
        std::byte* at = out_.data() + out_end_;
        const std::size_t header = codec_.encode_prefix(payload.size(), at);
        if (header == 0) return false;
        detail::copy_bytes(at + header, payload.data(), payload.size());
        out_end_ += header + payload.size();
        return true;
    }

    /// Copies the encoded frame in parts_ (size bytes) to the end of the outgoing buffer.
    void append_out(std::size_t size, std::error_code& ec) {
        if (!traits::is_blocking && pending() + size > high_water_) {
            ec = errc::buffer_full;
            return;
        }
        if (out_end_ + size > out_.capacity()) {
            std::size_t live = pending();
            if (out_begin_ > 0) {
                std::memmove(out_.data(), out_.data() + out_begin_, live);
                out_begin_ = 0;
                out_end_ = live;
            }
            if (live + size > out_.capacity()) {
                std::size_t next = out_.capacity() == 0 ? std::size_t{16384} : out_.capacity() * 2;
                while (next < live + size) next *= 2;
                out_.grow(next, live);
            }
        }
        parts_.copy_to(out_.data() + out_end_);
        out_end_ += size;
        ec = detail::no_error();
    }

    /// Blocking: writes the queue, then `count` extra buffers, in one gathered sequence.
    void write_with_queue(const const_buffer* extra, std::size_t count, deadline d, std::error_code& ec) {
        std::size_t written;
        if (count == 0) {  // the queue alone
            const const_buffer queued(out_.data() + out_begin_, pending());
            written = endpoint_.write_all(&queued, 1, d, ec);
        } else {
            const_buffer all[frame_parts::max_segments + 1];
            std::size_t n = 0;
            if (pending() > 0) all[n++] = const_buffer(out_.data() + out_begin_, pending());
            for (std::size_t i = 0; i < count; ++i) all[n++] = extra[i];
            written = endpoint_.write_all(all, n, d, ec);
        }
        std::size_t from_queue = written < pending() ? written : pending();
        out_begin_ += from_queue;
        if (out_begin_ == out_end_) out_begin_ = out_end_ = 0;
        if (ec && written > from_queue) {
            // part of an unqueued frame left: the stream is now mid-frame, nothing can repair it
            poisoned_ = ec;
        }
    }

    /// Blocking: writes the queue, then `count` (<= 63) buffers, in one gathered sequence.
    void write_gathered(const const_buffer* extra, std::size_t count, deadline d, std::error_code& ec) {
        const_buffer all[64];
        std::size_t n = 0;
        const std::size_t queued = pending();
        if (queued > 0) all[n++] = const_buffer(out_.data() + out_begin_, queued);
        for (std::size_t i = 0; i < count; ++i) all[n++] = extra[i];
        std::size_t written = endpoint_.write_all(all, n, d, ec);
        std::size_t from_queue = written < queued ? written : queued;
        out_begin_ += from_queue;
        if (out_begin_ == out_end_) out_begin_ = out_end_ = 0;
        if (ec && written > from_queue) poisoned_ = ec;  // part of an unqueued frame left: mid-frame
    }

    void send_non_blocking(std::error_code& ec) {
        std::size_t size = parts_.size();
        if (pending() > 0) {
            append_out(size, ec);
            if (ec) return;
            drain_non_blocking(ec);
            return;
        }
        std::size_t written = endpoint_.write_some(parts_.begin(), parts_.segment_count(), deadline{}, ec);
        if (ec && !is_would_block(ec)) return;
        ec.clear();
        if (written == size) return;
        // queue the rest of this frame (always accepted: it is already partly on the wire)
        const_buffer rest[frame_parts::max_segments];
        std::size_t count = 0, skip = written;
        for (const auto& segment : parts_) {
            if (skip >= segment.size()) {
                skip -= segment.size();
                continue;
            }
            rest[count++] = segment.subspan(skip);
            skip = 0;
        }
        std::size_t left = size - written;
        if (out_end_ + left > out_.capacity())
            out_.grow(out_end_ + left < 16384 ? 16384 : out_end_ + left, out_end_);
        for (std::size_t i = 0; i < count; ++i) {
            std::memcpy(out_.data() + out_end_, rest[i].data(), rest[i].size());
            out_end_ += rest[i].size();
        }
    }

    void drain_non_blocking(std::error_code& ec) {
        while (pending() > 0) {
            std::size_t n =
                endpoint_.write_some(const_buffer(out_.data() + out_begin_, pending()), deadline{}, ec);
            if (ec) {
                if (is_would_block(ec)) ec.clear();
                return;
            }
            out_begin_ += n;
        }
        out_begin_ = out_end_ = 0;
    }

    static constexpr std::size_t max_datagram = 65536;
    static constexpr std::size_t compact_below = 4096;

    Endpoint endpoint_;
    Codec codec_;
    detail::byte_buffer buffer_;
    std::size_t begin_ = 0;  // first byte not yet delivered
    std::size_t end_ = 0;    // one past the last received byte
    bool at_end_ = false;
    std::error_code poisoned_;
    std::uint64_t error_size_ = 0;
    detail::transient<frame_parts> parts_;
    detail::byte_buffer out_;
    std::size_t out_begin_ = 0;
    std::size_t out_end_ = 0;
    std::size_t initial_capacity_ = SOCKFRAME_RECEIVE_BUFFER_INITIAL;
    std::size_t high_water_ = default_high_water_mark;
    std::size_t coalesce_limit_ = default_coalesce_limit;
    // std::system_category() is a call into the C++ runtime: made once here, not per frame.
    const std::error_category* system_category_ = &std::system_category();
};

SOCKFRAME_NAMESPACE_END
