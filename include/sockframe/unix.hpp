// SPDX-License-Identifier: MIT
#pragma once
/// Unix-domain extras (POSIX): descriptors passed beside data or a frame (SCM_RIGHTS), and the
/// peer's credentials (SO_PEERCRED / getpeereid). Windows has neither: the names are absent there.
///
/// Descriptors are never leaked: the ones a receiver has no room for (received_descriptors'
/// capacity) are closed by the kernel or here, and flagged as truncated(); the ones received
/// stay owned by the received_descriptors object (closed with it) until release()d.

#include <sockframe/buffer.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/error.hpp>
#include <sockframe/framed.hpp>
#include <sockframe/socket.hpp>

#include <cstddef>
#include <optional>
#include <system_error>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

#if defined(SOCKFRAME_POSIX)

/// Descriptors received beside a message, owned until released: the object closes those it still
/// holds when it is destroyed or receives again. `capacity` (at most max_passed_descriptors) is
/// the room the receiver offers; descriptors beyond it are closed and truncated() is set.
class received_descriptors {
public:
    /// The most descriptors one receive takes.
    static constexpr std::size_t max_capacity = detail::max_passed_descriptors;

    /// Room for `capacity` descriptors (at most max_capacity).
    explicit received_descriptors(std::size_t capacity = 8) noexcept
        : capacity_(capacity < max_capacity ? capacity : max_capacity) {}
    received_descriptors(const received_descriptors&) = delete;
    received_descriptors& operator=(const received_descriptors&) = delete;
    /// Closes the descriptors still held.
    ~received_descriptors() { clear(); }

    /// How many are held.
    std::size_t size() const noexcept { return count_; }
    /// Whether none is held.
    bool empty() const noexcept { return count_ == 0; }
    /// The room offered to a receive.
    std::size_t capacity() const noexcept { return capacity_; }
    /// Descriptor `i` (still owned by this object; -1 once released).
    int operator[](std::size_t i) const noexcept { return fds_[i]; }
    /// Takes descriptor `i` out: the caller closes it.
    int release(std::size_t i) noexcept { return std::exchange(fds_[i], -1); }
    /// Whether the last receive brought more than there was room for (the rest were closed).
    bool truncated() const noexcept { return truncated_; }
    /// Closes every descriptor still held.
    void clear() noexcept {
        for (std::size_t i = 0; i < count_; ++i)
            if (fds_[i] >= 0) detail::close_handle(fds_[i]);
        count_ = 0;
        truncated_ = false;
    }

    /// Internal: the storage a receive fills.
    int* data() noexcept { return fds_; }
    /// Internal: records what a receive brought.
    void assign(std::size_t count, bool truncated) noexcept {
        count_ = count;
        truncated_ = truncated;
    }

private:
    int fds_[max_capacity] = {};
    std::size_t capacity_;
    std::size_t count_ = 0;
    bool truncated_ = false;
};

/// Who is at the other end of a connected Unix socket.
struct credentials {
    /// Its process id (-1 where the system does not say: BSD, macOS).
    long pid = -1;
    /// Its effective user id.
    long uid = -1;
    /// Its effective group id.
    long gid = -1;
};

/// The peer's credentials, as the kernel recorded them at connect (or socketpair) time.
template <typename Socket>
credentials peer_credentials(const Socket& s, std::error_code& ec) noexcept {
    credentials c;
    ec = detail::peer_credentials(s.native_handle(), c.pid, c.uid, c.gid);
    return c;
}
/// Throwing form.
template <typename Socket>
credentials peer_credentials(const Socket& s) {
    std::error_code ec;
    auto c = peer_credentials(s, ec);
    detail::throw_if(ec, "sockframe: peer_credentials");
    return c;
}

namespace detail {
/// One call that does not wait, then (blocking sockets) waits for `events` until the deadline.
template <typename Socket, typename Op>
std::ptrdiff_t unix_call(Socket& s, short events, deadline d, std::error_code& ec, Op&& op) noexcept {
    const auto when = d.resolve(s.timeout());
    for (;;) {
        const auto n = op(dont_wait, ec);
        if (n >= 0 || ec != std::errc::operation_would_block || !Socket::mode_type::is_blocking) return n;
        ec = wait_ready(s.native_handle(), events, when);
        if (ec) return -1;
    }
}
}  // namespace detail

/// Sends `count` buffers (at most 64) with `fds` (at most max_passed_descriptors) attached.
/// A message socket sends one message; a stream sends every byte, the descriptors with the
/// first part (so they arrive with the first byte). The descriptors stay open here: the
/// receiver gets its own. Returns the bytes sent.
template <typename Socket>
std::size_t send_with_descriptors(Socket& s, const const_buffer* buffers, std::size_t count, const int* fds,
                                  std::size_t fd_count, deadline d, std::error_code& ec) noexcept {
    static_assert(std::is_same_v<typename Socket::family_type, local>,
                  "descriptors travel over Unix sockets");
    detail::rights_room control;
    if (count > 64 || fd_count > detail::max_passed_descriptors) {
        ec = errc::invalid_argument;
        return 0;
    }
    const std::size_t control_length =
        detail::rights_control(control.bytes, sizeof control.bytes, fds, fd_count);
    detail::iovec_type vecs[64];
    std::size_t used = 0, total = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (buffers[i].empty()) continue;
        detail::set_iovec(vecs[used++], buffers[i].data(), buffers[i].size());
        total += buffers[i].size();
    }
    if (used == 0 && !Socket::socket_type::message_oriented) {
        ec = errc::invalid_argument;  // a stream cannot carry descriptors without a byte
        return 0;
    }
    detail::message_header h;
    h.vecs = vecs;
    h.vec_count = used;
    h.control = control_length > 0 ? control.bytes : nullptr;
    h.control_length = control_length;
    const auto n = detail::unix_call(s, detail::poll_out, d, ec, [&](int flags, std::error_code& e) {
        return detail::send_headers(s.native_handle(), &h, 1, flags, e);
    });
    if (n < 0) return 0;
    if constexpr (Socket::socket_type::message_oriented) {
        return total;
    } else {
        // the descriptors went with the first bytes; the rest of the data follows without them
        std::size_t done = 0, first = h.size;  // the bytes the first call took
        for (std::size_t i = 0; i < used; ++i) {
            const std::size_t here = detail::iovec_size(vecs[i]);
            const std::size_t skip = first < here ? first : here;
            first -= skip;
            done += skip;
            if (skip == here) continue;
            const auto* p = static_cast<const std::byte*>(detail::iovec_data(vecs[i])) + skip;
            done += s.write_all(const_buffer(p, here - skip), d, ec);
            if (ec) return done;
        }
        return total;
    }
}

/// Receives data and the descriptors sent with it into `fds` (which first closes what it still
/// held). A message socket receives one message (larger than `out`: errc::message_truncated);
/// a stream reads what is there, as read_some, stopping after the bytes the descriptors came
/// with. Returns the bytes received (0 on a stream: end-of-stream). Descriptors beyond
/// fds.capacity() are closed and fds.truncated() is set.
template <typename Socket>
std::size_t receive_with_descriptors(Socket& s, mutable_buffer out, received_descriptors& fds, deadline d,
                                     std::error_code& ec) noexcept {
    static_assert(std::is_same_v<typename Socket::family_type, local>,
                  "descriptors travel over Unix sockets");
    fds.clear();
    detail::rights_room control;
    detail::iovec_type vec;
    detail::set_iovec(vec, out.data(), out.size());
    detail::message_header h;
    h.vecs = &vec;
    h.vec_count = 1;
    h.control = control.bytes;
    h.control_length = detail::rights_space(fds.capacity() == 0 ? 1 : fds.capacity());
    const auto n = detail::unix_call(s, detail::poll_in, d, ec, [&](int flags, std::error_code& e) {
        return detail::receive_headers(s.native_handle(), &h, 1, flags, false, e);
    });
    if (n < 0) return 0;
    std::size_t count = 0;
    const std::size_t closed =
        detail::take_rights(h.control, h.control_length, fds.data(), fds.capacity(), count);
    fds.assign(count, closed > 0 || h.control_truncated);
    if constexpr (Socket::socket_type::message_oriented) {
        if (h.truncated) ec = errc::message_truncated;
    }
    return h.size < out.size() ? h.size : out.size();
}

/// Throwing form of send_with_descriptors.
template <typename Socket>
std::size_t send_with_descriptors(Socket& s, const_buffer data, const int* fds, std::size_t fd_count,
                                  deadline d = {}) {
    std::error_code ec;
    const auto n = send_with_descriptors(s, &data, 1, fds, fd_count, d, ec);
    detail::throw_if(ec, "sockframe: send_with_descriptors");
    return n;
}
/// Throwing form of receive_with_descriptors.
template <typename Socket>
std::size_t receive_with_descriptors(Socket& s, mutable_buffer out, received_descriptors& fds,
                                     deadline d = {}) {
    std::error_code ec;
    const auto n = receive_with_descriptors(s, out, fds, d, ec);
    detail::throw_if(ec, "sockframe: receive_with_descriptors");
    return n;
}

/// Sends one frame of `payload` with `fds` attached (framed over a Unix socket): the codec frames
/// it as send() does; anything queued is flushed first. On a stream the descriptors arrive with
/// the frame's first bytes.
template <typename Endpoint, typename Codec>
void send_with_descriptors(framed<Endpoint, Codec>& f, const_buffer payload, const int* fds,
                           std::size_t fd_count, deadline d, std::error_code& ec) {
    const auto when = d.resolve(f.endpoint().timeout());
    const deadline whole = when ? deadline(*when) : deadline::never();
    if constexpr (!Endpoint::socket_type::message_oriented) {
        f.flush(whole, ec);
        if (ec) return;
    }
    frame_parts parts;
    ec = f.codec().encode(payload, parts);
    if (ec) return;
    send_with_descriptors(f.endpoint(), parts.begin(), parts.segment_count(), fds, fd_count, whole, ec);
}
/// Throwing form.
template <typename Endpoint, typename Codec>
void send_with_descriptors(framed<Endpoint, Codec>& f, const_buffer payload, const int* fds,
                           std::size_t fd_count, deadline d = {}) {
    std::error_code ec;
    send_with_descriptors(f, payload, fds, fd_count, d, ec);
    detail::throw_if(ec, "sockframe: send_with_descriptors");
}

namespace detail {
/// One message, one frame (datagram and seqpacket), with its descriptors.
template <typename Endpoint, typename Codec>
std::optional<const_buffer> receive_message_with_descriptors(framed<Endpoint, Codec>& f, mutable_buffer space,
                                                             received_descriptors& fds, deadline d,
                                                             std::error_code& ec) {
    fds.clear();
    if (f.buffered() > 0) return f.receive(d, ec);
    const std::size_t n = receive_with_descriptors(f.endpoint(), space, fds, d, ec);
    if (ec == errc::message_truncated) {
        ec = errc::frame_too_large;
        fds.clear();
        return std::nullopt;
    }
    if (ec) return std::nullopt;
    if (n == 0 && Endpoint::socket_type::connection_oriented && fds.empty()) return std::nullopt;
    if (n > f.codec().max_frame_bytes()) {
        ec = errc::frame_too_large;
        fds.clear();
        return std::nullopt;
    }
    Codec& codec = f.codec();
    codec.reset();
    const decode_result r = codec.decode(const_buffer(space.data(), n));
    codec.reset();
    if (r.is_frame() && r.consumed == n) {
        ec.clear();
        return r.payload;
    }
    fds.clear();
    ec = r.is_error() ? r.error : make_error_code(errc::frame_size_mismatch);
    return std::nullopt;
}

}  // namespace detail

/// Receives one frame and the descriptors sent with it (framed over a Unix socket).
///
/// Datagram and seqpacket (one message, one frame): the message goes into `space` and the codec
/// checks it as receive() does; the payload returned is a view into `space`. A frame framed
/// already holds (received in an earlier batch) comes without descriptors: the kernel closed
/// those, as for every receive made without room for them.
///
/// Stream (Linux; elsewhere errc::operation_not_supported): `space` is unused, the frame comes
/// from framed's receive buffer as receive() returns it. From the first such call on, every read
/// of this framed object (receive() too) makes room for fds.capacity() descriptors and records
/// each set with the stream offset of the last byte of its read (Linux ends a read that brings
/// descriptors within the message that carried them), so a frame sent by send_with_descriptors
/// gets exactly its own, however the frames were split or pipelined. Descriptors of frames
/// delivered by receive() are closed; those of frames not yet delivered are closed when the
/// framed object is destroyed.
///
/// Descriptors beyond fds.capacity() are closed and fds.truncated() is set. nullopt: see `ec`
/// (clear: end-of-stream).
template <typename Endpoint, typename Codec>
std::optional<const_buffer> receive_with_descriptors(framed<Endpoint, Codec>& f, mutable_buffer space,
                                                     received_descriptors& fds, deadline d,
                                                     std::error_code& ec) {
    if constexpr (!Endpoint::socket_type::message_oriented) {
        (void)space;
        fds.clear();
#if defined(SOCKFRAME_LINUX)
        std::size_t count = 0;
        bool truncated = false;
        auto frame = f.receive_frame_descriptors(fds.data(), fds.capacity(), count, truncated, d, ec);
        fds.assign(count, truncated);
        return frame;
#else
        (void)f;
        (void)d;
        ec = std::make_error_code(std::errc::operation_not_supported);
        return std::nullopt;
#endif
    } else {
        return receive_message_with_descriptors(f, space, fds, d, ec);
    }
}

/// Throwing form (frame_error for framing errors).
template <typename Endpoint, typename Codec>
std::optional<const_buffer> receive_with_descriptors(framed<Endpoint, Codec>& f, mutable_buffer space,
                                                     received_descriptors& fds, deadline d = {}) {
    std::error_code ec;
    auto frame = receive_with_descriptors(f, space, fds, d, ec);
    if (ec) detail::throw_framed(ec, f.error_size(), "sockframe: receive_with_descriptors");
    return frame;
}

/// The stream form without `space`: the next frame over a framed Unix stream and the
/// descriptors that came with its bytes (see above).
template <typename Endpoint, typename Codec>
std::optional<const_buffer> receive_with_descriptors(framed<Endpoint, Codec>& f, received_descriptors& fds,
                                                     deadline d, std::error_code& ec) {
    static_assert(!Endpoint::socket_type::message_oriented,
                  "a message socket receives its frame into caller's space: pass a mutable_buffer");
    return receive_with_descriptors(f, mutable_buffer(), fds, d, ec);
}
/// Throwing form (frame_error for framing errors).
template <typename Endpoint, typename Codec>
std::optional<const_buffer> receive_with_descriptors(framed<Endpoint, Codec>& f, received_descriptors& fds,
                                                     deadline d = {}) {
    return receive_with_descriptors(f, mutable_buffer(), fds, d);
}

#endif

SOCKFRAME_NAMESPACE_END
