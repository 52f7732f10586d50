// SPDX-License-Identifier: MIT
#pragma once
/// framed<Endpoint, Codec>: whole messages over a socket. send() frames a payload with the codec
/// and writes header, payload and trailer in one gathered system call; receive() returns the next
/// payload as a view into the receive buffer.
///
/// Receiving: one system call may bring many frames; every complete frame already buffered is
/// delivered before the next system call, and bytes after a frame stay buffered for the next
/// receive. The view a receive returns is valid until the next receive (or destruction); the
/// buffer grows only as far as the codec's max_frame_bytes(). receive_batch() hands every
/// buffered frame to a callback in one call: the fastest way to read many small frames. The
/// receive buffer adapts to the traffic: it grows (up to adaptive_receive_limit, bounded by the
/// codec's maximum) while reads keep filling it, and goes back to its initial size once reads
/// are small again and nothing is buffered.
///
/// Errors and state: end-of-stream at a frame boundary is not an error (receive returns an
/// empty optional with no error code: at_end() is then true). End-of-stream inside a frame is
/// errc::truncated_stream, unless the codec's decode_eof() accepts the rest as a final frame. A
/// framing error the codec cannot resynchronise from (an error with nothing to skip: an oversized
/// or malformed length) poisons the receiving side: that receive and every later one report the
/// same error and the caller should close. A codec that resynchronises (line discarding an
/// overlong line) reports the error once and the next receive continues after it. A timeout or
/// would-block loses nothing: the partial frame stays buffered and the next receive carries on.
/// The throwing overloads throw frame_error (with the offending size) for framing errors and
/// std::system_error for everything else.
///
/// Sending: send() writes the frame at once (blocking mode: all of it; non-blocking mode: what
/// fits, the rest is queued). Header, payload and trailer go out in one gathered system call
/// (sendmsg/WSASend); the payload is never copied. A frame may be sent from several buffers
/// (send({header, body})). queue() only appends the frame to the outgoing buffer (copying it) and
/// flush() writes everything queued in one call: the way to send many small frames with few
/// system calls. A queued frame leaves when flush() (or a later send() or send_batch()) runs, or
/// when the queue would pass its coalescing limit, which adapts to the traffic (non-blocking:
/// after a write the full socket cut short, only once another limit's worth has joined what it
/// left, not at every frame). send_batch()
/// frames many payloads and gathers them, uncopied, into few writev calls.
///
/// Back-pressure (non-blocking endpoints), one rule: a frame is accepted whole while fewer than
/// high_water_mark() bytes are queued, and refused with errc::buffer_full (nothing queued) once
/// pending() reaches the mark. So any frame the codec allows can be sent, and the queue never
/// holds more than the mark plus one frame. writable() says which side of the mark the queue is.
///
/// A send that fails after part of a frame reached the socket (a blocking send that times out
/// half-way) leaves the stream inside a frame: every later send, queue and flush then fails with
/// errc::stream_broken and writes nothing. Receiving is not affected.
///
/// Thread safety: one framed object is used by one thread at a time. split() gives a read half
/// and a write half that two threads may use at the same time (one each); the codec's decode()
/// and its const encode() then run concurrently, which every built-in codec allows.
///
/// A moved-from framed behaves as a closed connection: its calls report an error, never crash.

#include <sockframe/buffer.hpp>
#include <sockframe/codec.hpp>
#include <sockframe/codec_traits.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/detail/array_list.hpp>
#include <sockframe/error.hpp>
#include <sockframe/socket.hpp>

#include <cstddef>
#include <cstring>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

template <typename Endpoint, typename Codec>
class framed;
template <typename Endpoint, typename Codec>
class framed_read_half;
template <typename Endpoint, typename Codec>
class framed_write_half;

namespace detail {
template <typename E, typename = void>
struct is_local_family : std::false_type {};
template <typename E>
struct is_local_family<E, std::void_t<typename E::family_type>>
    : std::bool_constant<std::is_same_v<typename E::family_type, local>> {};

template <typename E, typename = void>
struct endpoint_traits {
    static constexpr bool message_oriented = false;
    static constexpr bool connection_oriented = true;
    static constexpr bool is_blocking = true;
    static constexpr bool is_local = false;
};
template <typename E>
struct endpoint_traits<E, std::void_t<typename E::socket_type, typename E::mode_type>> {
    static constexpr bool message_oriented = E::socket_type::message_oriented;
    static constexpr bool connection_oriented = E::socket_type::connection_oriented;
    static constexpr bool is_blocking = E::mode_type::is_blocking;
    /// A Unix-domain message socket: messages may exceed 64 KiB, records may be empty.
    static constexpr bool is_local = is_local_family<E>::value;
};

/// Holds a T that only lives within one call: moving the holder makes a fresh T.
template <typename T>
struct transient : T {
    transient() = default;
    transient(transient&&) noexcept {}
    transient& operator=(transient&&) noexcept { return *this; }
};

/// A growable byte buffer that never value-initialises what it grows into. Moving leaves the
/// source empty.
class byte_buffer {
public:
    byte_buffer() noexcept = default;
    byte_buffer(byte_buffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}
    byte_buffer& operator=(byte_buffer&& other) noexcept {
        if (this != &other) {
            delete[] data_;
            data_ = std::exchange(other.data_, nullptr);
            capacity_ = std::exchange(other.capacity_, 0);
        }
        return *this;
    }
    byte_buffer(const byte_buffer&) = delete;
    byte_buffer& operator=(const byte_buffer&) = delete;
    ~byte_buffer() { delete[] data_; }

    std::byte* data() noexcept { return data_; }
    const std::byte* data() const noexcept { return data_; }
    std::size_t capacity() const noexcept { return capacity_; }
    /// Grows to at least `n` bytes, keeping the first `keep` bytes.
    void grow(std::size_t n, std::size_t keep) {
        if (n > capacity_) reallocate(n, keep);
    }
    /// Replaces the storage with exactly `n` bytes (more or fewer), keeping the first `keep` (<= n).
    void reallocate(std::size_t n, std::size_t keep) {
        auto* next = new std::byte[n];
        if (keep > 0) std::memcpy(next, data_, keep);
        delete[] data_;
        data_ = next;
        capacity_ = n;
    }
    /// Frees the storage.
    void release() noexcept {
        delete[] data_;
        data_ = nullptr;
        capacity_ = 0;
    }

private:
    std::byte* data_ = nullptr;  // owned (new[]): a plain pointer keeps <memory> out of this header
    std::size_t capacity_ = 0;
};

/// Whether `ec` is a framing error (thrown as frame_error by framed's throwing overloads).
inline bool is_framing_error(const std::error_code& ec) noexcept {
    if (ec.category() != sockframe_category()) return false;
    switch (static_cast<errc>(ec.value())) {
        case errc::truncated_stream:
        case errc::frame_too_large:
        case errc::negative_length:
        case errc::malformed_frame:
        case errc::checksum_mismatch:
        case errc::message_truncated:
        case errc::frame_size_mismatch:
        case errc::payload_too_large: return true;
        default: return false;
    }
}

/// Throws frame_error(ec, size) for a framing error, std::system_error(ec) otherwise.
[[noreturn]] inline void throw_framed(const std::error_code& ec, std::uint64_t size, const char* what) {
    if (is_framing_error(ec)) throw frame_error(ec, size, what);
    throw std::system_error(ec, what);
}

/// Whether T is a sequence of buffers (iterable, each element a const_buffer or mutable_buffer).
template <typename T, typename = void>
inline constexpr bool is_buffer_sequence_v = false;
template <typename T>
inline constexpr bool is_buffer_sequence_v<
    T,
    std::enable_if_t<std::is_convertible_v<decltype(*std::begin(std::declval<const T&>())), const_buffer> &&
                     !std::is_convertible_v<const T&, const_buffer>>> = true;

/// The receiving state of a framed connection: the receive buffer, the read position, the
/// end-of-stream and poisoned states, and the one decode step every receive path takes.
template <typename E, typename = void>
struct receives_batches : std::false_type {};
template <typename E>
struct receives_batches<
    E, std::void_t<decltype(std::declval<E&>().receive_batch(std::declval<message_slot*>(), std::size_t{},
                                                             deadline{}, std::declval<std::error_code&>()))>>
    : std::true_type {};

template <typename E, typename = void>
struct sends_message_batches : std::false_type {};
template <typename E>
struct sends_message_batches<
    E, std::void_t<decltype(std::declval<E&>().send_batch(std::declval<const message_view*>(), std::size_t{},
                                                          deadline{}, std::declval<std::error_code&>()))>>
    : std::true_type {};

template <typename E, typename = void>
struct sends_segmented_batches : std::false_type {};
template <typename E>
struct sends_segmented_batches<E, std::void_t<decltype(std::declval<E&>().send_batch_segmented(
                                      std::declval<const message_view*>(), std::size_t{}, deadline{},
                                      std::declval<std::error_code&>()))>> : std::true_type {};

template <typename E, typename = void>
struct reports_gro : std::false_type {};
template <typename E>
struct reports_gro<E, std::void_t<decltype(std::declval<const E&>().gro_enabled())>> : std::true_type {};

/// Datagrams received by one batched call and not yet delivered (datagram endpoints only).
struct datagram_batch_state {
    static constexpr std::size_t most = 64;
    std::size_t next = 0;       // the next slot to deliver
    std::size_t count = 0;      // slots filled by the last call
    std::size_t slot_size = 0;  // bytes per slot in the receive buffer
    std::size_t offset = 0;     // UDP GRO: where the next datagram starts in slot `next`
    std::size_t undo_next = 0;  // next and offset before the last delivery (to report it again)
    std::size_t undo_offset = 0;
    std::uint32_t sizes[most];     // each datagram's whole size (GRO: the coalesced buffer's)
    std::uint32_t segments[most];  // UDP GRO: the size of each datagram in the slot; 0: one
    bool truncated[most];
    datagram_batch_state() noexcept = default;
    datagram_batch_state(datagram_batch_state&& other) noexcept { *this = std::move(other); }
    datagram_batch_state& operator=(datagram_batch_state&& other) noexcept {
        next = std::exchange(other.next, 0);
        count = std::exchange(other.count, 0);
        slot_size = std::exchange(other.slot_size, 0);
        offset = std::exchange(other.offset, 0);
        undo_next = std::exchange(other.undo_next, 0);
        undo_offset = std::exchange(other.undo_offset, 0);
        for (std::size_t i = next; i < count; ++i) {
            sizes[i] = other.sizes[i];
            segments[i] = other.segments[i];
            truncated[i] = other.truncated[i];
        }
        return *this;
    }
};
struct no_batch_state {};

#if defined(SOCKFRAME_POSIX)
/// Descriptors received beside a Unix stream's bytes and not yet handed to a frame (framed over a
/// Unix stream, once a descriptor receive asked for them). Each is recorded at the stream offset
/// of the last byte of the read it came with: Linux detaches a message's descriptors on the read
/// that reaches its first byte, may glue bytes of earlier messages before it, and ends that read
/// within the message, so that byte belongs to the frame sent with them. Closes what it holds.
/// A template (on nothing) so that its bodies are compiled only where a Unix stream is framed.
template <typename = void>
class basic_descriptor_queue {
public:
    /// The most descriptors held for frames not yet delivered; more are closed (and flagged).
    static constexpr std::size_t most = 4 * max_passed_descriptors;

    basic_descriptor_queue() noexcept = default;
    basic_descriptor_queue(basic_descriptor_queue&& other) noexcept
        : entries_(std::move(other.entries_)),
          held_(std::exchange(other.held_, 0)),
          received_(std::exchange(other.received_, 0)),
          room_(std::exchange(other.room_, 0)) {
        other.entries_.clear();
    }
    basic_descriptor_queue& operator=(basic_descriptor_queue&& other) noexcept {
        if (this != &other) {
            close_before((std::numeric_limits<std::uint64_t>::max)());
            entries_ = std::move(other.entries_);
            other.entries_.clear();
            held_ = std::exchange(other.held_, 0);
            received_ = std::exchange(other.received_, 0);
            room_ = std::exchange(other.room_, 0);
        }
        return *this;
    }
    basic_descriptor_queue(const basic_descriptor_queue&) = delete;
    basic_descriptor_queue& operator=(const basic_descriptor_queue&) = delete;
    ~basic_descriptor_queue() { close_before((std::numeric_limits<std::uint64_t>::max)()); }

    /// Descriptors each read makes room for (0: reads take none, the kernel closes them).
    std::size_t room() const noexcept { return room_; }
    void set_room(std::size_t n) noexcept { room_ = n < max_passed_descriptors ? n : max_passed_descriptors; }
    /// Stream bytes received so far (the offset of the next byte to arrive).
    std::uint64_t received() const noexcept { return received_; }
    void add_received(std::size_t n) noexcept { received_ += n; }
    /// Descriptors (and truncation marks) held.
    std::size_t size() const noexcept { return entries_.size(); }

    /// Records what one read brought: the descriptors in `control` at `offset`; a mark there when
    /// the kernel or the bound closed some. Never throws: without memory, they are closed.
    void record(void* control, std::size_t length, bool truncated, std::uint64_t offset) noexcept {
        int fds[max_passed_descriptors];
        std::size_t count = 0;
        bool closed = take_rights(control, length, fds, max_passed_descriptors, count) > 0 || truncated;
        for (std::size_t i = 0; i < count; ++i) {
            if (held_ >= most || !push(offset, fds[i])) {
                close_handle(fds[i]);
                closed = true;
            }
        }
        if (closed && !push(offset, -1) && !entries_.empty() && entries_.back().fd >= 0) {
            close_handle(entries_.back().fd);  // no room for the mark: the last one becomes it
            entries_.back().fd = -1;
            --held_;
        }
    }

    /// Moves the descriptors recorded before offset `end` into `out` (at most `capacity`, in
    /// arrival order); closes the rest. Returns whether any was closed (here or earlier).
    bool take_before(std::uint64_t end, int* out, std::size_t capacity, std::size_t& count) noexcept {
        bool closed = false;
        std::size_t i = 0;
        for (; i < entries_.size() && entries_[i].offset < end; ++i) {
            const int fd = entries_[i].fd;
            if (fd < 0) {
                closed = true;
            } else if (count < capacity) {
                out[count++] = fd;
                --held_;
            } else {
                close_handle(fd);
                --held_;
                closed = true;
            }
        }
        entries_.erase_front(i);
        return closed;
    }
    /// Closes the descriptors recorded before offset `end` (frames delivered without them).
    void close_before(std::uint64_t end) noexcept {
        std::size_t i = 0;
        for (; i < entries_.size() && entries_[i].offset < end; ++i)
            if (entries_[i].fd >= 0) {
                close_handle(entries_[i].fd);
                --held_;
            }
        entries_.erase_front(i);
    }

private:
    struct entry {
        std::uint64_t offset;  // the stream offset the descriptor is attributed to
        int fd;                // -1: a mark that descriptors were closed here
    };
    bool push(std::uint64_t offset, int fd) noexcept {
        if (entries_.size() >= 2 * most) return false;  // marks too are bounded
        try {
            entries_.push_back(entry{offset, fd});
            if (fd >= 0) ++held_;
            return true;
        } catch (...) {
            return false;
        }
    }

    array_list<entry> entries_;
    std::size_t held_ = 0;  // descriptors (not marks) in entries_
    std::uint64_t received_ = 0;
    std::size_t room_ = 0;
};
/// The descriptor queue.
using descriptor_queue = basic_descriptor_queue<>;
/// The descriptor state of a framed Unix stream (a template on nothing, like the queue: a
/// complete type only where a Unix stream is framed).
template <typename T = void>
struct basic_stream_descriptor_state {
    basic_descriptor_queue<T> descriptors;
};
/// The descriptor state.
using stream_descriptor_state = basic_stream_descriptor_state<>;
#endif
struct no_descriptor_state {};
#if defined(SOCKFRAME_POSIX)
/// Whether framed over `E` records descriptors passed beside its bytes (a Unix stream).
template <typename E>
inline constexpr bool stream_carries_descriptors_v =
    endpoint_traits<E>::is_local && !endpoint_traits<E>::message_oriented;
#else
template <typename E>
inline constexpr bool stream_carries_descriptors_v = false;
struct stream_descriptor_state {};
#endif

template <typename Endpoint, typename Codec>
class frame_reader : private std::conditional_t<endpoint_traits<Endpoint>::message_oriented &&
                                                    !endpoint_traits<Endpoint>::connection_oriented &&
                                                    receives_batches<Endpoint>::value,
                                                datagram_batch_state, no_batch_state>,
                     private std::conditional_t<stream_carries_descriptors_v<Endpoint>,
                                                stream_descriptor_state, no_descriptor_state> {
    using traits = endpoint_traits<Endpoint>;
    /// A Unix stream: descriptors received beside its bytes are attributed to frames.
    static constexpr bool descriptors_v = stream_carries_descriptors_v<Endpoint>;
    static constexpr bool is_local_v = traits::is_local;
    /// Datagram endpoints receive many datagrams per system call (recvmmsg) into slots of the
    /// receive buffer, each checked by the codec on its own as it is delivered.
    static constexpr bool batches_v =
        traits::message_oriented && !traits::connection_oriented && receives_batches<Endpoint>::value;

public:
    /// Bytes the receive buffer may grow to while reads keep filling it (bounded by the codec).
    static constexpr std::size_t adaptive_limit = std::size_t{1} << 20;

    frame_reader() noexcept = default;
    frame_reader(frame_reader&& other) noexcept { take(other); }
    frame_reader& operator=(frame_reader&& other) noexcept {
        if (this != &other) take(other);
        return *this;
    }

    /// A whole buffered frame through the codec's decode_frame short cut (stream endpoints,
    /// nothing poisoned); nullopt: the general path decides.
    std::optional<const_buffer> take_buffered(Codec& codec) noexcept {
        if constexpr (!traits::message_oriented && has_decode_frame_v<Codec>) {
            if (poisoned_) return std::nullopt;
            const_buffer payload;
            if (const std::size_t n = codec.decode_frame(buffered(), payload)) {
                begin_ += n;  // the view stays valid: nothing moves before the next receive
                return payload;
            }
        }
        return std::nullopt;
    }

    /// The next frame, reading as needed until `d`; nullopt with `ec` clear is end-of-stream.
    std::optional<const_buffer> receive(Endpoint& endpoint, Codec& codec, deadline d, std::error_code& ec) {
        if (poisoned_) {
            ec = poisoned_;
            return std::nullopt;
        }
        if constexpr (traits::message_oriented) {
            return receive_message(endpoint, codec, d, ec);
        } else {
            if (end_ > begin_) {  // a buffered frame decode() must decide (small enough to inline)
                const_buffer payload;
                bool failed = false;
                if (const std::size_t n =
                        decode_step(codec, buffered(), payload, [&](const decode_result& r) {
                            settle(r, ec);
                            failed = r.is_error();
                        })) {
                    begin_ += n;
                    ec = no_error();
                    return payload;
                }
                if (failed) return std::nullopt;
            }
            return receive_more(endpoint, codec, d, ec);
        }
    }

    /// receive(), then every further complete buffered frame, each to `on_frame`.
    template <typename F>
    std::size_t receive_batch(Endpoint& endpoint, Codec& codec, F& on_frame, deadline d,
                              std::error_code& ec) {
        std::optional<const_buffer> first = take_buffered(codec);
        if (first) {
            ec = no_error();
        } else {
            first = receive(endpoint, codec, d, ec);
            if (!first) return 0;
        }
        std::size_t delivered = 1;
        if constexpr (std::is_same_v<decltype(on_frame(*first)), bool>) {
            if (!on_frame(*first)) return delivered;
        } else {
            on_frame(*first);
        }
        if constexpr (batches_v) {
            while (this->next < this->count) {
                std::optional<const_buffer> payload = take_slot(codec, ec);
                if (!payload) {  // a bad datagram waits for the next call, which reports it
                    this->next = this->undo_next;
                    this->offset = this->undo_offset;
                    ec = no_error();
                    break;
                }
                ++delivered;
                if constexpr (std::is_same_v<decltype(on_frame(*payload)), bool>) {
                    if (!on_frame(*payload)) break;
                } else {
                    on_frame(*payload);
                }
            }
        }
        if constexpr (!traits::message_oriented) {
            // The position lives in a local (a register) rather than in begin_, which is only
            // stored: a member re-read per frame would chain every frame behind the last store.
            const std::byte* const base = buffer_.data();
            const std::size_t end = end_;
            std::size_t at = begin_;
            while (at < end) {
                const_buffer payload;
                const std::size_t n = decode_step(codec, const_buffer(base + at, end - at), payload,
                                                  [&](const decode_result& r) { settle(r, ec); });
                if (n == 0) break;
                at += n;
                begin_ = at;
                ++delivered;
                if constexpr (std::is_same_v<decltype(on_frame(payload)), bool>) {
                    if (!on_frame(payload)) break;  // the caller asked for the rest to stay buffered
                } else {
                    on_frame(payload);
                }
                // on_frame received on this object after all (or resized its buffer): what it
                // left in begin_ and end_ is the truth; stop here rather than read stale bytes
                if (begin_ != at || buffer_.data() != base) break;
            }
        }
        return delivered;
    }

    bool at_end() const noexcept { return at_end_; }
    bool drained() const noexcept { return drained_; }
    std::uint64_t error_size() const noexcept { return error_size_; }
    std::size_t buffered_size() const noexcept {
        if constexpr (batches_v) {
            std::size_t n = 0;
            for (std::size_t i = this->next; i < this->count; ++i) n += this->sizes[i];
            return n - (this->next < this->count ? this->offset : 0);
        } else {
            return end_ - begin_;
        }
    }
    std::size_t capacity() const noexcept { return buffer_.capacity(); }
    void set_initial_capacity(std::size_t bytes) noexcept { initial_capacity_ = bytes < 64 ? 64 : bytes; }
    /// Frees the storage when it holds no byte; whether there was any to free.
    bool release() noexcept { return take_storage().capacity() != 0; }  // freed on return
    /// Takes the storage out when it holds no byte (an empty buffer otherwise); the reader then
    /// has none, and its next read allocates (or adopts) one.
    byte_buffer take_storage() noexcept {
        byte_buffer out;
        if (end_ != begin_ || buffer_.capacity() == 0) return out;
        if constexpr (batches_v) {
            if (this->next < this->count) return out;
            this->next = this->count = this->offset = 0;
        }
        out = std::move(buffer_);
        begin_ = end_ = 0;
        full_reads_ = 0;
        return out;
    }
    /// Gives storage to a reader that has none (after take_storage or release, or before its
    /// first read); false, and `b` untouched, if it has some or `b` is below its initial capacity.
    bool adopt_storage(byte_buffer& b) noexcept {
        if constexpr (batches_v) {
            return false;
        } else {
            if (buffer_.capacity() != 0 || b.capacity() < initial_capacity_) return false;
            buffer_ = std::move(b);
            begin_ = end_ = 0;
            return true;
        }
    }
    /// After a move: every receive reports not_connected.
    void close_moved_from() noexcept { poisoned_ = std::make_error_code(std::errc::not_connected); }
    /// Appends `bytes` after the buffered ones, as if a read had brought them.
    void feed(const_buffer bytes) {
        if (bytes.empty()) return;
        compact();
        if (buffer_.capacity() - end_ < bytes.size()) {
            const std::size_t want = end_ + bytes.size();
            buffer_.grow(want > initial_capacity_ ? want : initial_capacity_, end_);
        }
        std::memcpy(buffer_.data() + end_, bytes.data(), bytes.size());
        end_ += bytes.size();
        if constexpr (descriptors_v) this->descriptors.add_received(bytes.size());
    }
    void reserve(std::size_t bytes) {
        if (bytes <= buffer_.capacity()) return;
        compact();
        buffer_.grow(bytes, end_);
        if (bytes > initial_capacity_) initial_capacity_ = bytes;  // the floor the buffer shrinks to
    }

#if defined(SOCKFRAME_POSIX)
    /// The next frame and the descriptors that came with its bytes (Unix streams): from now on
    /// every read makes room for `capacity` descriptors (at least one) and records them; the
    /// frame takes those recorded within its bytes (or within bytes skipped before it), the first
    /// `capacity` into `out`, closing the rest (`truncated`). Descriptors of frames delivered
    /// before are closed.
    std::optional<const_buffer> receive_with_descriptors(Endpoint& endpoint, Codec& codec, int* out,
                                                         std::size_t capacity, std::size_t& count,
                                                         bool& truncated, deadline d, std::error_code& ec) {
        count = 0;
        truncated = false;
        if constexpr (descriptors_v) {
            auto& q = this->descriptors;
            q.set_room(capacity == 0 ? 1 : capacity);
            q.close_before(stream_offset());
            std::optional<const_buffer> frame = receive(endpoint, codec, d, ec);
            if (frame) truncated = q.take_before(stream_offset(), out, capacity, count);
            return frame;
        } else {
            (void)endpoint;
            (void)codec;
            (void)out;
            (void)d;
            ec = std::make_error_code(std::errc::operation_not_supported);
            return std::nullopt;
        }
    }
#endif

private:
    static const std::error_code& no_error() noexcept { return detail::no_error(); }

    /// The stream offset of the first byte not yet delivered (Unix streams).
    std::uint64_t stream_offset() const noexcept {
        if constexpr (descriptors_v) {
            return this->descriptors.received() - (end_ - begin_);
        } else {
            return 0;
        }
    }

    /// One read into `into`. On a Unix stream once descriptors were asked for: one recvmsg with
    /// room for them, recording those that came (descriptors of frames already delivered are
    /// closed first).
    std::size_t read_chunk(Endpoint& endpoint, mutable_buffer into, deadline d, std::error_code& ec) {
#if defined(SOCKFRAME_POSIX)
        if constexpr (descriptors_v) return read_with_descriptors(endpoint, into, d, ec);
#endif
        return endpoint.read_some(into, d, ec);
    }
#if defined(SOCKFRAME_POSIX)
    /// read_chunk on a Unix stream.
    std::size_t read_with_descriptors(Endpoint& endpoint, mutable_buffer into, deadline d,
                                      std::error_code& ec) {
        auto& q = this->descriptors;
        if (q.room() == 0) {
            const std::size_t n = endpoint.read_some(into, d, ec);
            if (!ec) q.add_received(n);
            return n;
        }
        q.close_before(stream_offset());
        rights_room control;
        iovec_type vec;
        set_iovec(vec, into.data(), into.size());
        message_header h;
        h.vecs = &vec;
        h.vec_count = 1;
        h.control = control.bytes;
        h.control_length = rights_space(q.room());
        const auto when = d.resolve(endpoint.timeout());
        for (;;) {
            if (receive_headers(endpoint.native_handle(), &h, 1, dont_wait, false, ec) >= 0) break;
            if (ec != std::errc::operation_would_block || !traits::is_blocking) return 0;
            ec = wait_ready(endpoint.native_handle(), poll_in, when);
            if (ec) return 0;
        }
        ec = no_error();
        const std::size_t n = h.size < into.size() ? h.size : into.size();
        // Linux ends a read that brings descriptors within the message they were sent with
        // (it may begin with earlier messages' bytes): its last byte belongs to that message.
        q.record(h.control, h.control_length, h.control_truncated, q.received() + (n > 0 ? n - 1 : 0));
        q.add_received(n);
        return n;
    }
#endif

    const_buffer buffered() const noexcept { return const_buffer(buffer_.data() + begin_, end_ - begin_); }

    /// The one decode step: the codec's stateless short cut where it has one, else decode().
    /// A frame: its size, with `payload` set. Anything else: 0, after `on_other(result)` (need
    /// more, garbage to skip, or an error). The frame's path builds no decode_result, so a
    /// reader's loop keeps everything in registers.
    template <typename OnOther>
    static std::size_t decode_step(Codec& codec, const_buffer input, const_buffer& payload,
                                   OnOther&& on_other) {
        if constexpr (has_decode_frame_v<Codec>) {
            if (const std::size_t n = codec.decode_frame(input, payload)) return n;
        }
        const decode_result r = codec.decode(input);
        if (r.is_frame() && r.consumed > 0) {
            payload = r.payload;
            return r.consumed;
        }
        on_other(r);
        return 0;
    }

    /// A result that is not a frame: drops the bytes a resynchronising codec skips, records an
    /// error (poisoning when nothing can be skipped).
    void settle(const decode_result& r, std::error_code& ec) noexcept {
        if (r.is_error()) {
            ec = r.error;
            error_size_ = r.size;
            if (r.consumed == 0) poisoned_ = r.error;
        }
        begin_ += r.consumed;
    }

    /// Reads until a frame is complete (a codec may see the same bytes again: codec.hpp allows it).
    SOCKFRAME_NOINLINE std::optional<const_buffer> receive_more(Endpoint& endpoint, Codec& codec, deadline d,
                                                                std::error_code& ec) {
        std::optional<deadline::clock::time_point> when;
        bool when_known = false;
        for (;;) {
            if (begin_ == end_) begin_ = end_ = 0;
            if (end_ > begin_) {
                const_buffer payload;
                bool failed = false, skipped = false;
                if (const std::size_t n =
                        decode_step(codec, buffered(), payload, [&](const decode_result& r) {
                            settle(r, ec);
                            failed = r.is_error();
                            skipped = r.consumed > 0;
                        })) {
                    begin_ += n;
                    ec = no_error();
                    return payload;
                }
                if (failed) return std::nullopt;
                if (skipped) continue;  // skipped garbage: decode what is left
            }
            if (at_end_) return finish(codec, ec);
            if (!make_room(codec, ec)) return std::nullopt;
            if (!when_known) {
                when = d.resolve(endpoint.timeout());
                when_known = true;
            }
            const std::size_t space = buffer_.capacity() - end_;
            const std::size_t n = read_chunk(endpoint, mutable_buffer(buffer_.data() + end_, space),
                                             when ? deadline(*when) : deadline::never(), ec);
            if (ec) {
                drained_ = is_would_block(ec);
                return std::nullopt;
            }
            if (n == 0) {
                at_end_ = true;
                continue;
            }
            end_ += n;
            drained_ = n < space;
            // Adapting: reads that fill what was free ask for a larger buffer; small ones let it shrink.
            full_reads_ = n == space ? full_reads_ + 1 : 0;
            quiet_reads_ = n < buffer_.capacity() / 8 ? quiet_reads_ + 1 : 0;
        }
    }

    /// The peer closed: nothing buffered is end-of-stream; a partial frame goes to the codec's
    /// decode_eof() if it has one, else it is truncated_stream. Either way nothing can follow.
    std::optional<const_buffer> finish(Codec& codec, std::error_code& ec) {
        if (end_ == begin_) {
            ec = no_error();
            return std::nullopt;
        }
        const decode_result r = detail::decode_eof(codec, buffered());
        if (r.is_frame() && r.consumed > 0) {
            begin_ += r.consumed;
            ec = no_error();
            return r.payload;
        }
        if (r.is_error()) {
            ec = r.error;
            error_size_ = r.size;
            poisoned_ = ec;
            return std::nullopt;
        }
        ec = errc::truncated_stream;
        error_size_ = end_ - begin_;
        poisoned_ = ec;
        return std::nullopt;
    }

    std::size_t receive_limit(const Codec& codec) const noexcept {
        const std::size_t limit = codec.max_frame_bytes();
        return limit < 64 ? 64 : limit;
    }

    void compact() noexcept {
        const std::size_t live = end_ - begin_;
        if (begin_ > 0 && live > 0) std::memmove(buffer_.data(), buffer_.data() + begin_, live);
        begin_ = 0;
        end_ = live;
    }

    /// Makes free space after end_: compacts, grows while reads fill the buffer (up to the
    /// adaptive limit) or while a frame needs it (up to the codec's limit), shrinks back once
    /// reads are small and nothing is buffered.
    bool make_room(const Codec& codec, std::error_code& ec) {
        const std::size_t live = end_ - begin_;
        const std::size_t capacity = buffer_.capacity();
        if (live == 0 && quiet_reads_ >= shrink_after && capacity > initial_capacity_) {
            buffer_.release();  // idle again: back to the initial size below
            begin_ = end_ = 0;
            full_reads_ = 0;
            quiet_reads_ = 0;
        }
        // A short partial frame moves to the front at once: copying a few bytes is cheaper than
        // the ever smaller reads into what is left at the end of the buffer.
        if (begin_ > 0 && live <= compact_below) compact();
        const std::size_t limit = receive_limit(codec);
        if (full_reads_ >= grow_after && buffer_.capacity() != 0 && buffer_.capacity() < limit) {
            const std::size_t cap = limit < adaptive_limit ? limit : adaptive_limit;
            if (buffer_.capacity() < cap) {
                full_reads_ = 0;
                compact();
                buffer_.grow(buffer_.capacity() * 2 < cap ? buffer_.capacity() * 2 : cap, end_);
                return true;
            }
        }
        if (end_ < buffer_.capacity()) return true;
        if (begin_ > 0 && (live < buffer_.capacity() / 2 || buffer_.capacity() >= limit)) {
            compact();
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
        compact();
        buffer_.grow(next, end_);
        return true;
    }

    /// Bytes per slot of a batched datagram receive: the codec's limit (a larger datagram is
    /// truncated, and reported with its whole size where the OS says), else any IP datagram.
    std::size_t datagram_slot_size(const Codec& codec) const noexcept {
        const std::size_t limit = codec.max_frame_bytes();
        std::size_t slot = detail::reports_whole_size && limit < max_datagram ? limit : max_datagram;
        if (slot < 64) slot = 64;
        return (slot + 63) / 64 * 64;
    }
    /// Whether the endpoint has UDP GRO on: its coalesced buffers are split back into datagrams.
    static bool gro_on(const Endpoint& endpoint) noexcept {
        if constexpr (reports_gro<Endpoint>::value) {
            return endpoint.gro_enabled();
        } else {
            (void)endpoint;
            return false;
        }
    }
    /// Whether datagrams are received in batches here: a Unix datagram larger than 64 KiB
    /// within the codec's limit goes through the one-at-a-time path, which sizes it first.
    bool batching(const Codec& codec) const noexcept {
        if constexpr (batches_v) {
            return !is_local_v || codec.max_frame_bytes() <= max_datagram;
        } else {
            (void)codec;
            return false;
        }
    }

    /// The next received datagram as a frame: from the batch buffered, else from one batched
    /// receive of as many as are queued (up to batch_bytes of slots, at most 64).
    std::optional<const_buffer> receive_datagram(Endpoint& endpoint, Codec& codec, deadline d,
                                                 std::error_code& ec) {
        if constexpr (batches_v) {
            if (this->next == this->count) {
                const bool gro = gro_on(endpoint);
                const std::size_t slot = gro ? max_datagram : datagram_slot_size(codec);
                std::size_t slots = gro ? gro_slots : batch_bytes / slot;
                if (slots < 1) slots = 1;
                if (slots > datagram_batch_state::most) slots = datagram_batch_state::most;
                if (buffer_.capacity() < slot * slots) buffer_.reallocate(slot * slots, 0);
                message_slot batch[datagram_batch_state::most];
                datagram_info infos[reports_gro<Endpoint>::value ? gro_slots : 1];
                for (std::size_t i = 0; i < slots; ++i) {
                    batch[i].buffer = mutable_buffer(buffer_.data() + i * slot, slot);
                    if (gro) batch[i].info = &infos[i];
                }
                this->next = this->count = this->offset = 0;
                const std::size_t n = endpoint.receive_batch(batch, slots, d, ec);
                if (ec || n == 0) return std::nullopt;
                for (std::size_t i = 0; i < n; ++i) {
                    const std::size_t whole =
                        batch[i].whole_size > batch[i].size ? batch[i].whole_size : batch[i].size;
                    this->sizes[i] = whole > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(whole);
                    this->truncated[i] = batch[i].truncated;
                    const std::size_t segment = gro ? infos[i].segment_size : 0;
                    this->segments[i] = segment != 0 && segment < batch[i].size && !batch[i].truncated
                                            ? static_cast<std::uint32_t>(segment)
                                            : 0;
                }
                this->slot_size = slot;
                this->count = n;
            }
            return take_slot(codec, ec);
        } else {
            (void)endpoint;
            (void)codec;
            (void)d;
            (void)ec;
            return std::nullopt;
        }
    }

    /// Delivers the next buffered datagram of the batch (the codec checks it).
    std::optional<const_buffer> take_slot(Codec& codec, std::error_code& ec) {
        if constexpr (batches_v) {
            this->undo_next = this->next;
            this->undo_offset = this->offset;
            const std::size_t i = this->next;
            if (const std::size_t segment = this->segments[i]) {  // the next of a GRO buffer's datagrams
                const std::size_t at = this->offset, size = this->sizes[i];
                const std::size_t piece = size - at < segment ? size - at : segment;
                this->offset = at + piece;
                if (this->offset >= size) {
                    ++this->next;
                    this->offset = 0;
                }
                if (piece > codec.max_frame_bytes()) {
                    ec = errc::frame_too_large;
                    error_size_ = piece;
                    return std::nullopt;
                }
                return check_datagram(codec, buffer_.data() + i * this->slot_size + at, piece, ec);
            }
            ++this->next;
            const std::size_t size = this->sizes[i];
            if (this->truncated[i] || size > codec.max_frame_bytes()) {
                ec = errc::frame_too_large;
                error_size_ = size;
                return std::nullopt;
            }
            return check_datagram(codec, buffer_.data() + i * this->slot_size, size, ec);
        } else {
            (void)codec;
            (void)ec;
            return std::nullopt;
        }
    }

    /// One received message through the codec: a frame only if it fills the message exactly.
    std::optional<const_buffer> check_datagram(Codec& codec, const std::byte* data, std::size_t n,
                                               std::error_code& ec) {
        codec.reset();
        const decode_result r = codec.decode(const_buffer(data, n));
        codec.reset();
        if (r.is_frame() && r.consumed == n) {
            ec = no_error();
            return r.payload;
        }
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

    std::optional<const_buffer> receive_message(Endpoint& endpoint, Codec& codec, deadline d,
                                                std::error_code& ec) {
        if (at_end_) {
            ec = no_error();
            return std::nullopt;
        }
        if (batching(codec)) return receive_datagram(endpoint, codec, d, ec);
        const std::size_t limit = codec.max_frame_bytes();
        std::size_t n = 0;
        if constexpr (is_local_v) {
            // Unix messages can be larger than 64 KiB: learn the next one's size first, so the
            // buffer fits it (within the codec's limit) and an oversized one is reported with
            // its true size. A 0 on seqpacket is an empty record or the end: ask which.
            const std::size_t size = endpoint.next_message_size(d, ec);
            if (ec) return std::nullopt;
            const std::size_t room = size < limit ? size : limit;
            buffer_.grow(room < 64 ? 64 : room, 0);
            const mutable_buffer into(buffer_.data(), buffer_.capacity());
            bool end = false;
            if constexpr (traits::connection_oriented) {
                n = size == 0 ? endpoint.receive(into, end, d, ec) : endpoint.receive(into, d, ec);
            } else {
                n = endpoint.receive(into, d, ec);
            }
            if (ec == errc::message_truncated || (!ec && size > limit)) {
                ec = errc::frame_too_large;
                error_size_ = size > n ? size : n;
                return std::nullopt;
            }
            if (ec) return std::nullopt;
            if (end) {
                at_end_ = true;
                return std::nullopt;
            }
        } else {
            // A datagram larger than the codec allows must still be received whole to learn its
            // size: the buffer holds any IP datagram (64 KiB), whatever the codec's limit.
            std::size_t capacity = limit < max_datagram ? max_datagram : limit;
            if constexpr (!traits::connection_oriented) {
                if (capacity > max_datagram) capacity = max_datagram;
            }
            buffer_.grow(capacity, 0);
            n = endpoint.receive(mutable_buffer(buffer_.data(), buffer_.capacity()), d, ec);
            if (ec == errc::message_truncated) {
                ec = errc::frame_too_large;
                error_size_ = n;
                return std::nullopt;
            }
            if (ec) return std::nullopt;
            if constexpr (traits::connection_oriented) {
                if (n == 0) {  // seqpacket outside the Unix family: 0 is end-of-stream
                    at_end_ = true;
                    return std::nullopt;
                }
            }
        }
        if (n > limit) {
            ec = errc::frame_too_large;
            error_size_ = n;
            return std::nullopt;
        }
        return check_datagram(codec, buffer_.data(), n, ec);
    }

    void take(frame_reader& other) noexcept {
        if constexpr (batches_v) static_cast<datagram_batch_state&>(*this) = std::move(other);
        if constexpr (descriptors_v) this->descriptors = std::move(other.descriptors);
        buffer_ = std::move(other.buffer_);
        begin_ = std::exchange(other.begin_, 0);
        end_ = std::exchange(other.end_, 0);
        at_end_ = std::exchange(other.at_end_, false);
        poisoned_ = std::exchange(other.poisoned_, std::error_code{});
        error_size_ = std::exchange(other.error_size_, 0);
        initial_capacity_ = other.initial_capacity_;
        full_reads_ = std::exchange(other.full_reads_, 0);
        quiet_reads_ = std::exchange(other.quiet_reads_, 0);
        drained_ = std::exchange(other.drained_, false);
    }

    static constexpr std::size_t max_datagram = 65536;
    static constexpr std::size_t batch_bytes = std::size_t{256} << 10;  // slots of one batched receive
    static constexpr std::size_t gro_slots = 4;  // 64 KiB slots of one batched receive with UDP GRO
    static constexpr std::size_t compact_below = 4096;
    static constexpr unsigned grow_after = 2;     // reads in a row that filled the free space
    static constexpr unsigned shrink_after = 32;  // small reads in a row before the buffer shrinks

    byte_buffer buffer_;
    std::size_t begin_ = 0;  // first byte not yet delivered
    std::size_t end_ = 0;    // one past the last received byte
    bool at_end_ = false;
    unsigned quiet_reads_ = 0;  // reads in a row that filled less than an eighth of the buffer
    unsigned full_reads_ = 0;
    bool drained_ = false;  // the last read took less than it had room for, or would have blocked
    std::error_code poisoned_;
    std::uint64_t error_size_ = 0;
    std::size_t initial_capacity_ = SOCKFRAME_RECEIVE_BUFFER_INITIAL;
};

/// The sending state of a framed connection: the outgoing queue, its limits, the broken state,
/// and the one gathered write every send path takes.
template <typename Endpoint, typename Codec>
class frame_writer {
    using traits = endpoint_traits<Endpoint>;

public:
    /// Default outgoing high-water mark (non-blocking) and initial coalescing limit of queue().
    static constexpr std::size_t default_high_water_mark = 4u * 1024u * 1024u;
    static constexpr std::size_t default_coalesce_limit = 64u * 1024u;
    /// The coalescing limit grows up to this while queue() keeps reaching it.
    static constexpr std::size_t adaptive_coalesce_limit = 256u * 1024u;
    /// The most buffers one gathered write takes (the queue included).
    static constexpr std::size_t gather_max = 64;
    static constexpr std::size_t small_frame_max = 1024;  // send_small's stack frame

    frame_writer() noexcept = default;
    frame_writer(frame_writer&& other) noexcept { take(other); }
    frame_writer& operator=(frame_writer&& other) noexcept {
        if (this != &other) take(other);
        return *this;
    }

    void send(Endpoint& endpoint, const Codec& codec, const_buffer payload, deadline d, std::error_code& ec) {
        if (refused(ec)) return;
        if constexpr (!traits::is_blocking && !traits::message_oriented &&
                      codec_traits<Codec>::can_encode_into &&
                      codec_traits<Codec>::max_overhead_v < small_frame_max) {
            if (pending() == 0 && payload.size() <= small_frame_max - codec_traits<Codec>::max_overhead_v &&
                send_small(endpoint, codec, payload, ec))
                return;
        }
        ec = codec.encode(payload, parts_);
        if (ec) {
            error_size_ = payload.size();
            return;
        }
        write_frame(endpoint, parts_.begin(), parts_.segment_count(), parts_.size(), d, ec);
    }

    /// One frame whose payload is the concatenation of `count` buffers, none copied where the
    /// codec's shape allows (a header before the payload, or room in frame_parts).
    void send_gathered(Endpoint& endpoint, const Codec& codec, const const_buffer* buffers, std::size_t count,
                       deadline d, std::error_code& ec) {
        if (count == 1) return send(endpoint, codec, buffers[0], d, ec);
        if (refused(ec)) return;
        std::size_t total = 0;
        for (std::size_t i = 0; i < count; ++i) total += buffers[i].size();
        if constexpr (has_encode_prefix_v<Codec>) {
            if (count < gather_max - 1) {
                std::byte header[Codec::max_prefix_size];
                if (const std::size_t h = codec.encode_prefix(total, header)) {
                    detail::buffer_list<const_buffer, gather_max> list;
                    const_buffer* all = list.items;
                    all[0] = const_buffer(header, h);
                    for (std::size_t i = 0; i < count; ++i) all[i + 1] = buffers[i];
                    write_frame(endpoint, all, count + 1, h + total, d, ec);
                    return;
                }
            }
        }
        if (count <= frame_parts::max_segments / 2 - 1) {
            parts_.reset(buffers[0]);
            bool room = true;
            for (std::size_t i = 1; i < count; ++i) room = room && parts_.append(buffers[i]);
            if (room) {
                ec = encode_parts(codec, parts_);
                if (!ec) {
                    write_frame(endpoint, parts_.begin(), parts_.segment_count(), parts_.size(), d, ec);
                    return;
                }
                if (ec != std::errc::no_buffer_space && ec != errc::not_supported) {
                    error_size_ = total;
                    return;
                }
            }
        }
        // A codec that cannot frame the pieces where they are: one contiguous copy.
        scratch_.grow(total, 0);
        std::size_t at = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (!buffers[i].empty()) std::memcpy(scratch_.data() + at, buffers[i].data(), buffers[i].size());
            at += buffers[i].size();
        }
        send(endpoint, codec, const_buffer(scratch_.data(), total), d, ec);
    }

    void send_batch(Endpoint& endpoint, const Codec& codec, const const_buffer* payloads, std::size_t count,
                    deadline d, std::error_code& ec) {
        ec = no_error();
        if (refused(ec)) return;
        if constexpr (!traits::message_oriented && traits::is_blocking && has_encode_prefix_v<Codec>) {
            constexpr std::size_t per_call = (gather_max - 1) / 2;  // headers + payloads + the queue
            const auto when = d.resolve(endpoint.timeout());
            const deadline whole = when ? deadline(*when) : deadline::never();
            std::byte headers[per_call][Codec::max_prefix_size];
            const_buffer parts[2 * per_call];
            std::size_t done = 0;
            while (done < count) {
                std::size_t n = 0, used = 0, bytes = 0;
                for (; n < per_call && done + n < count; ++n) {
                    const const_buffer payload = payloads[done + n];
                    const std::size_t header = codec.encode_prefix(payload.size(), headers[n]);
                    if (header == 0) break;  // refused or not header + payload: send() says why
                    parts[used++] = const_buffer(headers[n], header);
                    if (!payload.empty()) parts[used++] = payload;
                    bytes += header + payload.size();
                }
                if (used > 0) {
                    write_blocking(endpoint, parts, used, bytes, whole, ec);
                    if (ec) return;
                }
                done += n;
                if (done < count && n < per_call) {
                    send(endpoint, codec, payloads[done], whole, ec);
                    if (ec) return;
                    ++done;
                }
            }
        } else if constexpr (!traits::message_oriented && traits::is_blocking) {
            // Any other layout: each frame encoded into its own frame_parts, many gathered per call.
            constexpr std::size_t per_call = 16;
            const auto when = d.resolve(endpoint.timeout());
            const deadline whole = when ? deadline(*when) : deadline::never();
            frame_parts frames[per_call];
            detail::buffer_list<const_buffer, gather_max - 1> part_list;
            const_buffer* parts = part_list.items;
            std::size_t done = 0;
            while (done < count) {
                std::size_t n = 0, used = 0, bytes = 0;
                std::error_code refused;
                for (; n < per_call && done + n < count; ++n) {
                    refused = codec.encode(payloads[done + n], frames[n]);
                    if (refused) {
                        error_size_ = payloads[done + n].size();
                        break;
                    }
                    if (used + frames[n].segment_count() > gather_max - 1) break;  // the next call's
                    for (const const_buffer& segment : frames[n]) parts[used++] = segment;
                    bytes += frames[n].size();
                }
                if (used > 0) {
                    write_blocking(endpoint, parts, used, bytes, whole, ec);
                    if (ec) return;
                }
                done += n;
                if (refused && done < count) {
                    ec = refused;
                    return;
                }
            }
        } else if constexpr (traits::message_oriented && sends_message_batches<Endpoint>::value &&
                             has_encode_prefix_v<Codec>) {
            // One datagram per frame, header and payload, up to 64 frames per sendmmsg.
            constexpr std::size_t per_call = 64;
            const auto when = d.resolve(endpoint.timeout());
            const deadline whole = when ? deadline(*when) : deadline::never();
            std::byte headers[per_call][Codec::max_prefix_size];
            const_buffer parts[2 * per_call];
            message_view views[per_call];
            std::size_t done = 0;
            while (done < count) {
                std::size_t n = 0;
                for (; n < per_call && done + n < count; ++n) {
                    const const_buffer payload = payloads[done + n];
                    const std::size_t header = codec.encode_prefix(payload.size(), headers[n]);
                    if (header == 0) break;  // refused or not header + payload: send() says why
                    parts[2 * n] = const_buffer(headers[n], header);
                    parts[2 * n + 1] = payload;
                    views[n] = message_view{&parts[2 * n], payload.empty() ? std::size_t{1} : std::size_t{2}};
                }
                if (n > 0) {
                    const std::size_t sent = send_views(endpoint, views, n, whole, ec);
                    if (ec) return;
                    if (sent < n) {  // non-blocking: the rest did not fit now
                        ec = std::make_error_code(std::errc::operation_would_block);
                        return;
                    }
                    done += n;
                } else {
                    send(endpoint, codec, payloads[done], whole, ec);
                    if (ec) return;
                    ++done;
                }
            }
        } else if constexpr (traits::message_oriented && sends_message_batches<Endpoint>::value) {
            // One datagram per frame, up to 16 frames per sendmmsg (each encoded in its own parts).
            constexpr std::size_t per_call = 16;
            const auto when = d.resolve(endpoint.timeout());
            const deadline whole = when ? deadline(*when) : deadline::never();
            frame_parts frames[per_call];
            message_view views[per_call];
            std::size_t done = 0;
            while (done < count) {
                std::size_t n = 0;
                std::error_code refused;
                for (; n < per_call && done + n < count; ++n) {
                    refused = codec.encode(payloads[done + n], frames[n]);
                    if (refused) {
                        error_size_ = payloads[done + n].size();
                        break;
                    }
                    views[n] = message_view{frames[n].begin(), frames[n].segment_count()};
                }
                std::size_t sent = 0;
                if (n > 0) {
                    sent = send_views(endpoint, views, n, whole, ec);
                    if (ec) return;
                    if (sent < n) {  // non-blocking: the rest did not fit now
                        ec = std::make_error_code(std::errc::operation_would_block);
                        return;
                    }
                }
                done += n;
                if (refused) {
                    ec = refused;
                    return;
                }
            }
        } else {
            for (std::size_t i = 0; i < count && !ec; ++i) send(endpoint, codec, payloads[i], d, ec);
        }
    }

    /// One datagram per view: runs of equal sizes by UDP GSO where the endpoint offers it.
    static std::size_t send_views(Endpoint& endpoint, const message_view* views, std::size_t n, deadline d,
                                  std::error_code& ec) {
        if constexpr (sends_segmented_batches<Endpoint>::value) {
            return endpoint.send_batch_segmented(views, n, d, ec);
        } else {
            return endpoint.send_batch(views, n, d, ec);
        }
    }

    void queue(Endpoint& endpoint, const Codec& codec, const_buffer payload, deadline d,
               std::error_code& ec) {
        static_assert(!traits::message_oriented, "queue() coalesces frames on stream endpoints only");
        if (refused(ec)) return;
        if (queue_in_place(codec, payload)) {
            ec = no_error();
            return;
        }
        ec = codec.encode(payload, parts_);
        if (ec) {
            error_size_ = payload.size();
            return;
        }
        const std::size_t size = parts_.size();
        if (pending() + size > write_point()) {  // the queue leaves now, this frame uncopied
            reached_limit();
            write_frame(endpoint, parts_.begin(), parts_.segment_count(), size, d, ec);
            return;
        }
        append(parts_.begin(), parts_.segment_count(), 0);
        ec = no_error();
    }

    /// The short cut of queue() for codecs that write whole frames in place (encode_into or
    /// encode_prefix): the frame straight into the queue when it fits there without passing the
    /// coalescing limit. False: nothing was queued.
    bool queue_in_place(const Codec& codec, const_buffer payload) noexcept {
        return queue_in_place_inline(codec, payload);
    }
    /// queue_in_place, always inlined: for framed::try_queue, the first step of a coroutine's
    /// send, whose caller (a coroutine body) is too large for the compiler to inline it otherwise.
    SOCKFRAME_ALWAYS_INLINE bool queue_in_place_inline(const Codec& codec, const_buffer payload) noexcept {
        if constexpr (codec_traits<Codec>::can_encode_into) {
            const std::size_t most = codec_traits<Codec>::max_overhead_v + payload.size();
            // in_place_limit_ is where queue() writes (past the backlog), or 0 once broken: one test
            if (out_end_ + most > out_.capacity() || pending() + most > in_place_limit_ || !accepting())
                return false;
            const std::size_t size = detail::encode_into(codec, payload, out_.data() + out_end_);
            out_end_ += size;
            return size != 0;
        } else {
            (void)codec;
            (void)payload;
            return false;
        }
    }

    bool flush(Endpoint& endpoint, deadline d, std::error_code& ec) {
        ec = no_error();
        if (broken_) {
            ec = broken_;
            return false;
        }
        if (pending() == 0) return true;
        if (pending() < coalesce_limit_ / 4) quieter();
        if constexpr (traits::is_blocking) {
            write_blocking(endpoint, nullptr, 0, 0, d, ec);
        } else {
            (void)d;
            drain(endpoint, ec);
        }
        return pending() == 0;
    }

    std::size_t pending() const noexcept { return out_end_ - out_begin_; }
    bool release() noexcept {
        if (pending() != 0 || (out_.capacity() == 0 && scratch_.capacity() == 0)) return false;
        out_.release();
        scratch_.release();
        out_begin_ = out_end_ = 0;
        return true;
    }
    bool accepting() const noexcept { return traits::is_blocking || pending() < high_water_; }
    bool broken() const noexcept { return static_cast<bool>(broken_); }
    std::uint64_t error_size() const noexcept { return error_size_; }
    std::size_t high_water_mark() const noexcept { return high_water_; }
    void set_high_water_mark(std::size_t bytes) noexcept { high_water_ = bytes; }
    std::size_t coalesce_limit() const noexcept { return coalesce_limit_; }
    void set_coalesce_limit(std::size_t bytes) noexcept {
        coalesce_limit_ = bytes;
        adaptive_ = false;
        set_in_place_limit();
    }
    /// After a move: every call reports not_connected.
    void close_moved_from() noexcept {
        broken_ = std::make_error_code(std::errc::not_connected);
        in_place_limit_ = 0;
    }

private:
    static const std::error_code& no_error() noexcept { return detail::no_error(); }

    /// Sending is refused: the stream is broken, or (non-blocking) the queue is at its mark.
    bool refused(std::error_code& ec) noexcept {
        if (broken_) {
            ec = broken_;
            return true;
        }
        if (!accepting()) {
            ec = errc::buffer_full;
            return true;
        }
        return false;
    }

    /// What queue() fills the queue to before it writes (queue_in_place too): the coalescing
    /// limit past the backlog; nothing once broken.
    void set_in_place_limit() noexcept {
        if (broken_) return;  // 0 already
        in_place_limit_ = write_point();
    }
    /// The backlog plus the coalescing limit, saturating (a limit set to the maximum: never).
    std::size_t write_point() const noexcept {
        const std::size_t most = (std::numeric_limits<std::size_t>::max)();
        return coalesce_limit_ > most - backlog_ ? most : backlog_ + coalesce_limit_;
    }
    /// Non-blocking: what a write left queued because the socket was full (0: it emptied the
    /// queue). queue() writes again only once another coalescing limit's worth has joined it: a
    /// write per frame while the socket stays full would fail once per frame. flush() and send()
    /// always write.
    void set_backlog(std::size_t bytes) noexcept {
        if (backlog_ == bytes) return;
        backlog_ = bytes;
        set_in_place_limit();
    }

    void reached_limit() noexcept {
        if (adaptive_ && ++limit_hits_ >= 4 && coalesce_limit_ < adaptive_coalesce_limit) {
            coalesce_limit_ *= 2;
            set_in_place_limit();
            limit_hits_ = 0;
        }
        quiet_flushes_ = 0;
    }
    void quieter() noexcept {
        if (adaptive_ && ++quiet_flushes_ >= 16 && coalesce_limit_ > default_coalesce_limit) {
            coalesce_limit_ /= 2;
            set_in_place_limit();
            quiet_flushes_ = 0;
        }
        limit_hits_ = 0;
    }

    /// The one way a frame leaves: after the queue, in one gathered write (message endpoints:
    /// one message).
    void write_frame(Endpoint& endpoint, const const_buffer* segments, std::size_t count, std::size_t bytes,
                     deadline d, std::error_code& ec) {
        if constexpr (traits::message_oriented) {
            (void)bytes;
            endpoint.send(segments, count, d, ec);
        } else if constexpr (traits::is_blocking) {
            write_blocking(endpoint, segments, count, bytes, d, ec);
        } else {
            (void)d;
            write_non_blocking(endpoint, segments, count, ec);
        }
    }

    /// Blocking: the queue, then `count` (< gather_max) buffers of `bytes`, all written. If the
    /// write stops inside those buffers, the stream is broken: nothing more may be sent.
    void write_blocking(Endpoint& endpoint, const const_buffer* extra, std::size_t count, std::size_t bytes,
                        deadline d, std::error_code& ec) {
        detail::buffer_list<const_buffer, gather_max> list;
        const_buffer* all = list.items;
        const std::size_t queued = pending();
        const std::size_t written = endpoint.write_all(all, gather_after_queue(extra, count, all), d, ec);
        const std::size_t from_queue = written < queued ? written : queued;
        out_begin_ += from_queue;
        if (out_begin_ == out_end_) out_begin_ = out_end_ = 0;
        if (ec && written > queued && written < queued + bytes) {
            broken_ = errc::stream_broken;
            in_place_limit_ = 0;
        }
    }

    /// Non-blocking, nothing queued, a small frame: encoded on the stack and written in one plain
    /// send (cheaper in the kernel than a gathered sendmsg of header and payload); what the
    /// socket does not take is queued. False: the codec left it to encode() (nothing done).
    bool send_small(Endpoint& endpoint, const Codec& codec, const_buffer payload, std::error_code& ec) {
        std::byte frame[small_frame_max];
        const std::size_t size = detail::encode_into(codec, payload, frame);
        if (size == 0) return false;
        std::size_t written = endpoint.write_some(const_buffer(frame, size), deadline{}, ec);
        if (ec) {
            if (!is_would_block(ec)) return true;  // nothing was written
            written = 0;
        }
        ec = no_error();
        if (written < size) {
            const const_buffer rest(frame + written, size - written);
            append(&rest, 1, 0);
            set_backlog(pending());
        }
        return true;
    }

    /// Non-blocking: the queue and the frame in one gathered write of what fits now; what is
    /// left of the frame joins the queue (accepted whole: the caller checked the mark).
    void write_non_blocking(Endpoint& endpoint, const const_buffer* segments, std::size_t count,
                            std::error_code& ec) {
        detail::buffer_list<const_buffer, gather_max> list;
        const_buffer* all = list.items;
        const std::size_t queued = pending();
        std::size_t written =
            endpoint.write_some(all, gather_after_queue(segments, count, all), deadline{}, ec);
        if (ec) {
            if (!is_would_block(ec)) return;  // nothing was written
            written = 0;
        }
        ec = no_error();
        const std::size_t from_queue = written < queued ? written : queued;
        out_begin_ += from_queue;
        append(segments, count, written - from_queue);
        if (out_begin_ == out_end_) out_begin_ = out_end_ = 0;
        set_backlog(pending());
    }

    /// Fills `all` with the queued bytes (if any), then the `count` buffers; returns how many.
    std::size_t gather_after_queue(const const_buffer* buffers, std::size_t count,
                                   const_buffer* all) noexcept {
        std::size_t n = 0;
        if (pending() > 0) all[n++] = const_buffer(out_.data() + out_begin_, pending());
        for (std::size_t i = 0; i < count; ++i) all[n++] = buffers[i];
        return n;
    }

    /// Copies `count` segments, less their first `skip` bytes, to the end of the queue.
    void append(const const_buffer* segments, std::size_t count, std::size_t skip) {
        std::size_t size = 0;
        for (std::size_t i = 0; i < count; ++i) size += segments[i].size();
        if (skip >= size) return;
        size -= skip;
        if (out_end_ + size > out_.capacity()) {
            const std::size_t live = pending();
            if (out_begin_ > 0) {
                if (live > 0) std::memmove(out_.data(), out_.data() + out_begin_, live);
                out_begin_ = 0;
                out_end_ = live;
            }
            if (live + size > out_.capacity()) {
                std::size_t next = out_.capacity() == 0 ? std::size_t{16384} : out_.capacity() * 2;
                while (next < live + size) next *= 2;
                out_.grow(next, live);
            }
        }
        for (std::size_t i = 0; i < count; ++i) {
            const_buffer s = segments[i];
            if (skip >= s.size()) {
                skip -= s.size();
                continue;
            }
            s = s.subspan(skip);
            skip = 0;
            copy_bytes(out_.data() + out_end_, s.data(), s.size());
            out_end_ += s.size();
        }
    }

    void drain(Endpoint& endpoint, std::error_code& ec) {
        while (pending() > 0) {
            const std::size_t n =
                endpoint.write_some(const_buffer(out_.data() + out_begin_, pending()), deadline{}, ec);
            if (ec) {
                if (is_would_block(ec)) {
                    ec = no_error();
                    set_backlog(pending());
                }
                return;
            }
            out_begin_ += n;
        }
        out_begin_ = out_end_ = 0;
        set_backlog(0);
    }

    void take(frame_writer& other) noexcept {
        out_ = std::move(other.out_);
        scratch_ = std::move(other.scratch_);
        out_begin_ = std::exchange(other.out_begin_, 0);
        out_end_ = std::exchange(other.out_end_, 0);
        broken_ = std::exchange(other.broken_, std::error_code{});
        error_size_ = std::exchange(other.error_size_, 0);
        high_water_ = other.high_water_;
        coalesce_limit_ = other.coalesce_limit_;
        in_place_limit_ = std::exchange(other.in_place_limit_, other.coalesce_limit_);
        adaptive_ = other.adaptive_;
        backlog_ = std::exchange(other.backlog_, 0);
        limit_hits_ = std::exchange(other.limit_hits_, 0);
        quiet_flushes_ = std::exchange(other.quiet_flushes_, 0);
    }

    byte_buffer out_;
    std::size_t out_begin_ = 0;
    std::size_t out_end_ = 0;
    std::error_code broken_;
    std::uint64_t error_size_ = 0;
    std::size_t high_water_ = default_high_water_mark;
    std::size_t coalesce_limit_ = default_coalesce_limit;
    std::size_t in_place_limit_ = default_coalesce_limit;  // backlog_ + coalesce_limit_, or 0 once broken
    std::size_t backlog_ = 0;                              // see set_backlog
    bool adaptive_ = true;                                 // the coalescing limit adapts until set by hand
    unsigned limit_hits_ = 0;
    unsigned quiet_flushes_ = 0;
    transient<frame_parts> parts_;
    byte_buffer scratch_;
};

/// The receiving calls of framed and of its read half. `Derived` lends its endpoint, codec and
/// frame_reader through io_endpoint(), io_codec() and io_reader().
template <typename Derived, typename Endpoint, typename Codec>
class framed_receiving {
public:
    /// The next frame's payload (a view valid until the next receive), or nullopt at end-of-stream.
    /// Throws frame_error for framing errors (with the offending size), std::system_error else.
    std::optional<const_buffer> receive(deadline d = {}) {
        if (auto frame = reader().take_buffered(codec())) return frame;  // without an error_code
        std::error_code ec = detail::no_error();
        auto frame = reader().receive(endpoint(), codec(), d, ec);
        if (ec) throw_framed(ec, reader().error_size(), "sockframe: receive");
        return frame;
    }
    /// A frame already whole in the receive buffer, taken without a system call through the
    /// codec's fast path (stream endpoints, codecs with decode_frame). nullopt says only that
    /// receive() must decide: it may still find a frame, an error or end-of-stream. Never throws.
    std::optional<const_buffer> take_buffered() noexcept { return reader().take_buffered(codec()); }
    /// Never throws: nullopt with `ec` clear is end-of-stream; nullopt with `ec` set is an error.
    std::optional<const_buffer> receive(std::error_code& ec) { return receive(deadline{}, ec); }
    /// `d` bounds the whole frame, however many system calls it takes.
    std::optional<const_buffer> receive(deadline d, std::error_code& ec) {
        if (auto frame = reader().take_buffered(codec())) {
            ec = detail::no_error();
            return frame;
        }
        return reader().receive(endpoint(), codec(), d, ec);
    }
    /// Never waits: a frame already buffered, or what one read brings now; nothing there is
    /// std::errc::operation_would_block (blocking endpoints included).
    std::optional<const_buffer> try_receive(std::error_code& ec) {
        auto frame = receive(deadline((deadline::clock::time_point::min)()), ec);
        if (ec && ec == std::errc::timed_out) ec = std::make_error_code(std::errc::operation_would_block);
        return frame;
    }
    /// The owning variant: a copy of the next payload in the Container named
    /// (`receive_copy<std::string>()`, `receive_copy<std::vector<std::byte>>()`, ...).
    template <typename Container>
    std::optional<Container> receive_copy(deadline d = {}) {
        auto frame = receive(d);
        if (!frame) return std::nullopt;
        return to_container<Container>(*frame);
    }
    template <typename Container>
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
    /// after that call, nothing lost or repeated). Message endpoints deliver one frame. An
    /// on_frame that returns bool ends the batch when it returns false: the frames after that one
    /// stay buffered for the next receive (a server pausing a connection at its high-water mark).
    template <typename F>
    std::size_t receive_batch(F&& on_frame, deadline d = {}) {
        std::error_code ec = detail::no_error();
        const std::size_t n = reader().receive_batch(endpoint(), codec(), on_frame, d, ec);
        if (ec) throw_framed(ec, reader().error_size(), "sockframe: receive");
        return n;
    }
    /// Never throws (unless on_frame does): 0 with `ec` clear is end-of-stream; `ec` set is an
    /// error met after the frames delivered (the count returned).
    template <typename F>
    std::size_t receive_batch(F&& on_frame, deadline d, std::error_code& ec) {
        return reader().receive_batch(endpoint(), codec(), on_frame, d, ec);
    }

    /// True once the peer has closed at a frame boundary (receive returned nullopt without error).
    bool at_end() const noexcept { return reader().at_end(); }
    /// The offending length or position of the last framing error met while receiving (0 if none).
    std::uint64_t error_size() const noexcept { return reader().error_size(); }
    /// The receive buffer's first allocation (made by the first receive; default
    /// SOCKFRAME_RECEIVE_BUFFER_INITIAL = 64 KiB), and the size it shrinks back to when idle.
    void set_initial_receive_capacity(std::size_t bytes) noexcept { reader().set_initial_capacity(bytes); }
    /// Bytes the receive buffer holds now.
    std::size_t receive_capacity() const noexcept { return reader().capacity(); }
    /// Grows the receive buffer to at least `bytes` now (and never shrinks it below that).
    /// Buffered bytes are kept.
    void reserve_receive(std::size_t bytes) { reader().reserve(bytes); }
    /// Bytes received but not yet delivered as frames.
    std::size_t buffered() const noexcept { return reader().buffered_size(); }
    /// Whether the last read emptied the socket (it took less than it had room for, or found
    /// nothing): with nothing buffered, the next receive can wait for readability without
    /// trying a read first. A hint only (more may have arrived since).
    bool input_drained() const noexcept { return reader().drained(); }
    /// Appends `bytes` to the receive buffer as if the endpoint had delivered them: bytes a
    /// protocol layer read before framing began (those after a PROXY header, say) are decoded by
    /// the next receive. Copies them; may allocate.
    void feed_received(const_buffer bytes) { reader().feed(bytes); }
    /// Frees the receive buffer when it holds no byte of a frame (buffered() == 0); the next
    /// receive allocates it again (initial capacity). Returns whether anything was freed. For
    /// servers with many idle connections: an idle one then holds no receive buffer.
    bool release_receive_buffer() noexcept { return reader().release(); }
    /// Internal (coro.hpp's async_framed): the receive buffer's storage, taken out when it holds
    /// no byte (an empty buffer otherwise), and given back to a connection that has none.
    detail::byte_buffer take_receive_storage() noexcept { return reader().take_storage(); }
    /// Internal: see take_receive_storage. False, and `b` untouched, if not taken.
    bool adopt_receive_storage(detail::byte_buffer& b) noexcept { return reader().adopt_storage(b); }

#if defined(SOCKFRAME_POSIX)
    /// Internal (unix.hpp's receive_with_descriptors over a Unix stream): the next frame and the
    /// descriptors that came with its bytes, the first `capacity` into `out` (`count`), the rest
    /// closed (`truncated`).
    std::optional<const_buffer> receive_frame_descriptors(int* out, std::size_t capacity, std::size_t& count,
                                                          bool& truncated, deadline d, std::error_code& ec) {
        return reader().receive_with_descriptors(endpoint(), codec(), out, capacity, count, truncated, d, ec);
    }
#endif

private:
    template <typename Container>
    static Container to_container(const_buffer b) {
        using value_type = typename Container::value_type;
        const auto* first = reinterpret_cast<const value_type*>(b.data());
        return Container(first, first + b.size());
    }
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
    Endpoint& endpoint() noexcept { return self().io_endpoint(); }
    Codec& codec() noexcept { return self().io_codec(); }
    frame_reader<Endpoint, Codec>& reader() noexcept { return self().io_reader(); }
    const frame_reader<Endpoint, Codec>& reader() const noexcept { return self().io_reader(); }
};

/// The sending calls of framed and of its write half. `Derived` lends its endpoint, codec and
/// frame_writer through io_endpoint(), io_codec() and io_writer().
template <typename Derived, typename Endpoint, typename Codec>
class framed_sending {
    using writer_type = frame_writer<Endpoint, Codec>;

public:
    /// Frames and sends `payload` (any contiguous bytes: string_view, vector, array...). Frames
    /// queued before it leave first. Blocking: returns once all is written. Non-blocking: writes
    /// what fits and queues the rest; errc::buffer_full (nothing queued) once pending() has
    /// reached the high-water mark.
    void send(const_buffer payload, deadline d = {}) {
        std::error_code ec = detail::no_error();
        send(payload, d, ec);
        if (ec) throw_framed(ec, writer().error_size(), "sockframe: send");
    }
    void send(const_buffer payload, std::error_code& ec) { send(payload, deadline{}, ec); }
    void send(const_buffer payload, deadline d, std::error_code& ec) {
        writer().send(endpoint(), codec(), payload, d, ec);
    }

    /// One frame whose payload is these buffers one after another (a header struct and a body,
    /// say), gathered without copying where the codec's layout allows: `send({head, body})`.
    /// At most 62 buffers (more is errc::invalid_argument).
    void send(std::initializer_list<const_buffer> buffers, deadline d = {}) {
        std::error_code ec = detail::no_error();
        send(buffers, d, ec);
        if (ec) throw_framed(ec, writer().error_size(), "sockframe: send");
    }
    void send(std::initializer_list<const_buffer> buffers, std::error_code& ec) {
        send(buffers, deadline{}, ec);
    }
    void send(std::initializer_list<const_buffer> buffers, deadline d, std::error_code& ec) {
        send_pieces(buffers.begin(), buffers.end(), d, ec);
    }
    /// The same for any sequence of buffers (std::array, std::vector of const_buffer, ...).
    template <typename Buffers, typename = std::enable_if_t<is_buffer_sequence_v<Buffers>>>
    void send(const Buffers& buffers, deadline d = {}) {
        std::error_code ec = detail::no_error();
        send(buffers, d, ec);
        if (ec) throw_framed(ec, writer().error_size(), "sockframe: send");
    }
    template <typename Buffers, typename = std::enable_if_t<is_buffer_sequence_v<Buffers>>>
    void send(const Buffers& buffers, std::error_code& ec) {
        send(buffers, deadline{}, ec);
    }
    template <typename Buffers, typename = std::enable_if_t<is_buffer_sequence_v<Buffers>>>
    void send(const Buffers& buffers, deadline d, std::error_code& ec) {
        send_pieces(std::begin(buffers), std::end(buffers), d, ec);
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
        if (ec) throw_framed(ec, writer().error_size(), "sockframe: send_batch");
    }
    void send_batch(const const_buffer* payloads, std::size_t count, std::error_code& ec) {
        send_batch(payloads, count, deadline{}, ec);
    }
    void send_batch(const const_buffer* payloads, std::size_t count, deadline d, std::error_code& ec) {
        writer().send_batch(endpoint(), codec(), payloads, count, d, ec);
    }

    /// Appends a frame to the outgoing buffer without writing it (stream endpoints). It leaves
    /// when flush() or a later send() runs, or at once (with what was queued, the frame uncopied)
    /// when it would take the queue past the coalescing limit. Non-blocking: errc::buffer_full
    /// once pending() has reached the high-water mark, as send().
    void queue(const_buffer payload, deadline d = {}) {
        if (try_queue(payload)) return;
        std::error_code ec = detail::no_error();
        queue(payload, d, ec);
        if (ec) throw_framed(ec, writer().error_size(), "sockframe: queue");
    }
    void queue(const_buffer payload, std::error_code& ec) { queue(payload, deadline{}, ec); }
    /// Queues the frame only if the codec can write it straight into the outgoing buffer now:
    /// no allocation, no system call, within the coalescing limit and below the high-water mark
    /// (stream endpoints, codecs with encode_into or encode_prefix). False: nothing was done
    /// (queue() or send() then decide). Never throws.
    bool try_queue(const_buffer payload) noexcept {
        if constexpr (endpoint_traits<Endpoint>::message_oriented) {
            (void)payload;
            return false;
        } else {
            return writer().queue_in_place_inline(codec(), payload);
        }
    }
    void queue(const_buffer payload, deadline d, std::error_code& ec) {
        writer().queue(endpoint(), codec(), payload, d, ec);
    }
    /// Writes every queued byte. Blocking: waits (until `d`). Non-blocking: what fits now;
    /// returns true when nothing is left queued (else poll for writability and call again).
    bool flush(deadline d = {}) {
        std::error_code ec = detail::no_error();
        const bool done = flush(d, ec);
        if (ec) throw_framed(ec, 0, "sockframe: flush");
        return done;
    }
    bool flush(std::error_code& ec) { return flush(deadline{}, ec); }
    bool flush(deadline d, std::error_code& ec) { return writer().flush(endpoint(), d, ec); }

    /// Bytes queued and not yet written.
    std::size_t pending() const noexcept { return writer().pending(); }
    /// Frees the outgoing buffer when nothing is queued (pending() == 0); the next queue()
    /// allocates it again. Returns whether anything was freed.
    bool release_send_buffer() noexcept { return writer().release(); }
    /// Whether queued bytes wait for writability (register for write readiness when true).
    bool wants_write() const noexcept { return writer().pending() > 0; }
    /// Whether a frame would be accepted now: always for blocking endpoints; for non-blocking
    /// ones, while pending() is below the high-water mark (Netty's isWritable). False also once
    /// the stream is broken.
    bool writable() const noexcept { return writer().accepting() && !writer().broken(); }
    /// Non-blocking: sends and queues are refused (errc::buffer_full) once this many bytes are
    /// queued; a frame accepted below the mark is taken whole, whatever its size.
    std::size_t high_water_mark() const noexcept { return writer().high_water_mark(); }
    void set_high_water_mark(std::size_t bytes) noexcept { writer().set_high_water_mark(bytes); }
    /// queue() writes what is queued rather than let it pass this many bytes. It starts at
    /// default_coalesce_limit and adapts (up to adaptive_coalesce_limit while queue() keeps
    /// reaching it, back down while flushes find little queued) until set by hand.
    std::size_t coalesce_limit() const noexcept { return writer().coalesce_limit(); }
    void set_coalesce_limit(std::size_t bytes) noexcept { writer().set_coalesce_limit(bytes); }

private:
    template <typename It>
    void send_pieces(It first, It last, deadline d, std::error_code& ec) {
        const_buffer pieces[writer_type::gather_max - 2];
        std::size_t count = 0;
        for (; first != last; ++first) {
            if (count == writer_type::gather_max - 2) {
                ec = errc::invalid_argument;
                return;
            }
            pieces[count++] = *first;
        }
        if (count == 0) return writer().send(endpoint(), codec(), const_buffer{}, d, ec);
        writer().send_gathered(endpoint(), codec(), pieces, count, d, ec);
    }
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
    Endpoint& endpoint() noexcept { return self().io_endpoint(); }
    const Codec& codec() noexcept { return self().io_codec(); }
    writer_type& writer() noexcept { return self().io_writer(); }
    const writer_type& writer() const noexcept { return self().io_writer(); }
};
}  // namespace detail

/// Whole messages over `Endpoint` (a socket, or any type with the same calls), framed by `Codec`.
/// See the top of this header for the receiving, sending, error and back-pressure rules.
template <typename Endpoint, typename Codec>
class framed : public detail::framed_receiving<framed<Endpoint, Codec>, Endpoint, Codec>,
               public detail::framed_sending<framed<Endpoint, Codec>, Endpoint, Codec> {
    static_assert(codec_check<Codec>::ok, "framed: Codec does not meet the codec contract (codec.hpp)");
    using writer_type = detail::frame_writer<Endpoint, Codec>;

public:
    /// The endpoint (socket) type.
    using endpoint_type = Endpoint;
    /// The codec type.
    using codec_type = Codec;
    /// The receiving half (split()).
    using read_half = framed_read_half<Endpoint, Codec>;
    /// The sending half (split()).
    using write_half = framed_write_half<Endpoint, Codec>;

    /// Default outgoing high-water mark for non-blocking sends, and first coalescing limit of queue().
    static constexpr std::size_t default_high_water_mark = writer_type::default_high_water_mark;
    /// The first coalescing limit of queue(), in bytes.
    static constexpr std::size_t default_coalesce_limit = writer_type::default_coalesce_limit;
    /// The most the coalescing limit adapts to on its own.
    static constexpr std::size_t adaptive_coalesce_limit = writer_type::adaptive_coalesce_limit;
    /// The most the receive buffer adapts to on its own (a frame that needs more still gets it).
    static constexpr std::size_t adaptive_receive_limit =
        detail::frame_reader<Endpoint, Codec>::adaptive_limit;

    /// Frames `codec`'s way over `endpoint` (taken over). No system call.
    explicit framed(Endpoint endpoint, Codec codec = Codec{})
        : endpoint_(std::move(endpoint)), codec_(std::move(codec)) {}

    /// Moving leaves `other` as a closed connection: its calls report std::errc::not_connected.
    framed(framed&& other) noexcept
        : endpoint_(std::move(other.endpoint_)),
          codec_(std::move(other.codec_)),
          reader_(std::move(other.reader_)),
          writer_(std::move(other.writer_)) {
        other.mark_moved_from();
    }
    /// Takes `other`'s endpoint, codec and buffers; frames buffered in `other` stay buffered here.
    framed& operator=(framed&& other) noexcept {
        if (this != &other) {
            endpoint_ = std::move(other.endpoint_);
            codec_ = std::move(other.codec_);
            reader_ = std::move(other.reader_);
            writer_ = std::move(other.writer_);
            other.mark_moved_from();
        }
        return *this;
    }
    framed(const framed&) = delete;
    framed& operator=(const framed&) = delete;
    ~framed() = default;

    /// The endpoint, for options, addresses and shutdown (reading or writing it directly bypasses the
    /// buffers).
    Endpoint& endpoint() noexcept { return endpoint_; }
    /// The endpoint.
    const Endpoint& endpoint() const noexcept { return endpoint_; }
    /// The codec.
    Codec& codec() noexcept { return codec_; }
    /// The codec.
    const Codec& codec() const noexcept { return codec_; }

    /// A read half and a write half of this connection, for a reader thread and a writer thread
    /// (each half used by one thread at a time). They refer to this object, which must outlive
    /// them and must not be used itself meanwhile (but for endpoint() calls that are thread-safe
    /// at the OS level, such as shutdown).
    std::pair<read_half, write_half> split() noexcept { return {read_half(*this), write_half(*this)}; }

private:
    friend class detail::framed_receiving<framed, Endpoint, Codec>;
    friend class detail::framed_sending<framed, Endpoint, Codec>;
    friend class framed_read_half<Endpoint, Codec>;
    friend class framed_write_half<Endpoint, Codec>;

    void mark_moved_from() noexcept {
        reader_.close_moved_from();
        writer_.close_moved_from();
    }

    Endpoint& io_endpoint() noexcept { return endpoint_; }
    Codec& io_codec() noexcept { return codec_; }
    detail::frame_reader<Endpoint, Codec>& io_reader() noexcept { return reader_; }
    const detail::frame_reader<Endpoint, Codec>& io_reader() const noexcept { return reader_; }
    writer_type& io_writer() noexcept { return writer_; }
    const writer_type& io_writer() const noexcept { return writer_; }

    Endpoint endpoint_;
    Codec codec_;
    detail::frame_reader<Endpoint, Codec> reader_;
    writer_type writer_;
};

/// The receiving side of a framed connection (framed::split()): receive, receive_batch,
/// try_receive, receive_copy and the receive buffer's state.
template <typename Endpoint, typename Codec>
class framed_read_half : public detail::framed_receiving<framed_read_half<Endpoint, Codec>, Endpoint, Codec> {
public:
    /// The connection this half belongs to.
    framed<Endpoint, Codec>& connection() noexcept { return *owner_; }

private:
    friend class framed<Endpoint, Codec>;
    friend class detail::framed_receiving<framed_read_half, Endpoint, Codec>;
    explicit framed_read_half(framed<Endpoint, Codec>& owner) noexcept : owner_(&owner) {}
    Endpoint& io_endpoint() noexcept { return owner_->endpoint_; }
    Codec& io_codec() noexcept { return owner_->codec_; }
    detail::frame_reader<Endpoint, Codec>& io_reader() noexcept { return owner_->reader_; }
    const detail::frame_reader<Endpoint, Codec>& io_reader() const noexcept { return owner_->reader_; }

    framed<Endpoint, Codec>* owner_;
};

/// The sending side of a framed connection (framed::split()): send, send_batch, queue, flush and
/// the outgoing queue's state.
template <typename Endpoint, typename Codec>
class framed_write_half : public detail::framed_sending<framed_write_half<Endpoint, Codec>, Endpoint, Codec> {
public:
    /// The connection this half belongs to.
    framed<Endpoint, Codec>& connection() noexcept { return *owner_; }

private:
    friend class framed<Endpoint, Codec>;
    friend class detail::framed_sending<framed_write_half, Endpoint, Codec>;
    explicit framed_write_half(framed<Endpoint, Codec>& owner) noexcept : owner_(&owner) {}
    Endpoint& io_endpoint() noexcept { return owner_->endpoint_; }
    Codec& io_codec() noexcept { return owner_->codec_; }
    detail::frame_writer<Endpoint, Codec>& io_writer() noexcept { return owner_->writer_; }
    const detail::frame_writer<Endpoint, Codec>& io_writer() const noexcept { return owner_->writer_; }

    framed<Endpoint, Codec>* owner_;
};

SOCKFRAME_NAMESPACE_END
