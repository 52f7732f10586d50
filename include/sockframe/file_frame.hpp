// SPDX-License-Identifier: MIT
#pragma once
/// A frame whose payload is a range of a file: the codec's header is written, then the file's
/// bytes go from the page cache to the socket without passing through user space (Linux
/// sendfile; Windows TransmitFile when the send has no deadline; other POSIX systems, and
/// Windows with a deadline, read and send them).

#include <sockframe/codec_traits.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/error.hpp>
#include <sockframe/framed.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// Sends one frame whose payload is `length` bytes of the open file `file` (a POSIX descriptor;
/// Windows: a C runtime descriptor) from `offset`, over a
/// blocking stream: anything queued is flushed, the codec's header is written, then the file's
/// bytes (send_file). The codec must put a header before the payload and nothing after it
/// (encode_prefix: length_prefix, varint, ...); others: errc::not_supported, nothing sent. A range
/// past the file's end is errc::invalid_argument, nothing sent. An error after the header left
/// leaves the stream inside a frame: close the connection.
template <typename Endpoint, typename Codec>
void send_file_frame(framed<Endpoint, Codec>& f, detail::file_handle_type file, std::uint64_t offset,
                     std::size_t length, deadline d, std::error_code& ec) {
    static_assert(!Endpoint::socket_type::message_oriented && Endpoint::mode_type::is_blocking,
                  "a file frame goes over a blocking stream");
    if constexpr (!detail::has_encode_prefix_v<Codec>) {
        (void)file;
        (void)offset;
        (void)length;
        (void)d;
        ec = errc::not_supported;
    } else {
        const std::int64_t size = detail::file_size(file, ec);
        if (ec) return;
        if (offset > static_cast<std::uint64_t>(size) || length > static_cast<std::uint64_t>(size) - offset) {
            ec = errc::invalid_argument;
            return;
        }
        if (length > f.codec().max_frame_bytes()) {
            ec = errc::payload_too_large;
            return;
        }
        std::byte header[Codec::max_prefix_size];
        const std::size_t h = f.codec().encode_prefix(length, header);
        if (h == 0) {
            ec = errc::payload_too_large;
            return;
        }
        const auto when = d.resolve(f.endpoint().timeout());
        const deadline whole = when ? deadline(*when) : deadline::never();
        f.flush(whole, ec);
        if (ec) return;
        f.endpoint().write_all(const_buffer(header, h), whole, ec);
        if (ec) return;
        f.endpoint().send_file(file, offset, length, whole, ec);
    }
}
/// Throwing form.
template <typename Endpoint, typename Codec>
void send_file_frame(framed<Endpoint, Codec>& f, detail::file_handle_type file, std::uint64_t offset,
                     std::size_t length, deadline d = {}) {
    std::error_code ec;
    send_file_frame(f, file, offset, length, d, ec);
    detail::throw_if(ec, "sockframe: send_file_frame");
}

SOCKFRAME_NAMESPACE_END
