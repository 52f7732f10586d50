// SPDX-License-Identifier: MIT
#pragma once
/// Framing for Asio programs (standalone Asio, <asio.hpp>): asio_framed<Stream, Codec> receives
/// and sends whole frames of any sockframe codec over any Asio stream (a TCP or Unix socket, an
/// SSL stream...), with completion tokens (callbacks, use_future, use_awaitable, deferred...), so
/// a program gets framing without giving up Asio. Not part of <sockframe/sockframe.hpp>: include
/// it where Asio is used.
///
///     asio_framed<asio::ip::tcp::socket, sockframe::length_prefix<>> conn(std::move(socket));
///     conn.async_receive([&](std::error_code ec, sockframe::const_buffer frame) { ... });
///     co_await conn.async_send(payload, asio::use_awaitable);
///
/// async_receive completes with (std::error_code, const_buffer payload): the payload views the
/// object's receive buffer (or a transforming codec's own buffer) and stays valid until the next
/// receive. At the end of the stream it completes with sockframe::errc::end_of_stream when
/// nothing was buffered, else with the codec's final frame or truncated_stream. A framing error
/// with consumed 0 stops the object: every later receive completes with the same error. Bytes that
/// arrived after a frame stay buffered for the next receive, which then completes without a read.
///
/// async_send completes with (std::error_code, std::size_t bytes written): the frame is encoded
/// (the payload not copied; it must stay alive until completion) and written whole with one
/// gathered asio::async_write. An encode error completes with that error and nothing written.
///
/// At most one receive and one send may be outstanding at a time (as with Asio's async_read and
/// async_write); the object must not move while one is. Completions never run inside the
/// initiating call (a frame already buffered is delivered through asio::post).

#include <sockframe/codec.hpp>
#include <sockframe/codec_traits.hpp>
#include <sockframe/error.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <system_error>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// Whole frames of `Codec` over the Asio stream `Stream` (see the top of this header).
template <typename Stream, typename Codec>
class asio_framed {
    static_assert(codec_check<Codec>::ok, "asio_framed: Codec must meet the codec contract");

public:
    /// The stream type.
    using stream_type = Stream;
    /// The codec type.
    using codec_type = Codec;
    /// The stream's executor type.
    using executor_type = typename Stream::executor_type;
    /// The first receive buffer (it grows with the frames, up to the codec's max_frame_bytes).
    static constexpr std::size_t initial_capacity = 16 * 1024;

    /// Takes over `stream`; every frame is decoded and encoded by `codec`.
    explicit asio_framed(Stream stream, Codec codec = Codec{})
        : stream_(std::move(stream)), codec_(std::move(codec)) {}
    asio_framed(const asio_framed&) = delete;
    asio_framed& operator=(const asio_framed&) = delete;

    /// The stream (for options, close, shutdown).
    Stream& next_layer() noexcept { return stream_; }
    /// The codec.
    Codec& codec() noexcept { return codec_; }
    /// The stream's executor.
    executor_type get_executor() noexcept { return stream_.get_executor(); }
    /// Bytes received and not yet delivered as frames.
    std::size_t buffered() const noexcept { return end_ - begin_; }

    /// Receives the next frame: completion signature void(std::error_code, const_buffer).
    template <typename Token>
    auto async_receive(Token&& token) {
        return asio::async_compose<Token, void(std::error_code, const_buffer)>(receive_op{this}, token,
                                                                               stream_);
    }

    /// Sends `payload` as one frame: completion signature void(std::error_code, std::size_t).
    template <typename Token>
    auto async_send(const_buffer payload, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this, payload](auto handler) {
                std::error_code ec = detail::encode_parts(codec_, reset_parts(payload));
                if (ec) {
                    auto executor = asio::get_associated_executor(handler, stream_.get_executor());
                    asio::post(executor, [h = std::move(handler), ec]() mutable { h(ec, std::size_t{0}); });
                    return;
                }
                std::size_t n = 0;
                for (const const_buffer& segment : parts_)
                    gather_[n++] = asio::const_buffer(segment.data(), segment.size());
                asio::async_write(stream_, gathered{gather_.data(), gather_.data() + n},
                                  [h = std::move(handler)](const std::error_code& e,
                                                           std::size_t written) mutable { h(e, written); });
            },
            token);
    }

private:
    /// A buffer sequence over the gather array (copied by async_write without allocating).
    struct gathered {
        const asio::const_buffer* first;
        const asio::const_buffer* last;
        const asio::const_buffer* begin() const noexcept { return first; }
        const asio::const_buffer* end() const noexcept { return last; }
    };

    frame_parts& reset_parts(const_buffer payload) {
        parts_.reset(payload);
        return parts_;
    }

    /// One decode step on what is buffered: true when the receive is over (a frame, or an
    /// error in `ec`); false when more bytes are needed.
    bool try_decode(const_buffer& payload, std::error_code& ec) {
        if (poisoned_) {
            ec = poisoned_;
            return true;
        }
        for (;;) {
            const const_buffer in(buffer_.get() + begin_, end_ - begin_);
            const decode_result r = codec_.decode(in);
            begin_ += r.consumed;
            if (r.is_frame()) {
                payload = r.payload;
                ec = {};
                return true;
            }
            if (r.is_error()) {
                ec = r.error;
                if (r.consumed == 0) poisoned_ = ec;
                return true;
            }
            if (r.consumed == 0 || begin_ == end_) return false;  // need more (after any skip)
        }
    }

    /// Room after end_ for a read; false (frame_too_large) when the codec's limit is reached.
    bool make_room(std::error_code& ec) {
        const std::size_t live = end_ - begin_;
        if (begin_ > 0) {
            if (live > 0) std::memmove(buffer_.get(), buffer_.get() + begin_, live);
            begin_ = 0;
            end_ = live;
        }
        if (end_ < capacity_) return true;
        const std::size_t limit = codec_.max_frame_bytes();
        if (capacity_ >= limit && capacity_ != 0) {
            ec = make_error_code(errc::frame_too_large);
            poisoned_ = ec;
            return false;
        }
        std::size_t grown = capacity_ == 0 ? initial_capacity : capacity_ * 2;
        if (grown > limit && limit >= live + 1) grown = limit < 64 ? 64 : limit;
        if (grown <= capacity_) grown = capacity_ + 64;
        std::unique_ptr<std::byte[]> bigger(new std::byte[grown]);
        if (end_ > 0) std::memcpy(bigger.get(), buffer_.get(), end_);
        buffer_ = std::move(bigger);
        capacity_ = grown;
        return true;
    }

    struct receive_op {
        asio_framed* f;
        const_buffer payload{};
        std::error_code result{};
        int state = 0;  // 0 start, 1 reading, 2 done (posted)

        template <typename Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
            const bool initiating = state == 0;
            if (state == 2) return self.complete(result, payload);
            if (state == 1) {
                if (ec == asio::error::eof) return self.complete(f->at_eof(payload), payload);
                if (ec) return self.complete(ec, const_buffer{});
                f->end_ += n;
                if (f->try_decode(payload, result)) return self.complete(result, payload);
            } else if (f->try_decode(payload, result)) {
                state = 2;  // never complete inside the initiating call
                asio::post(f->stream_.get_executor(), std::move(self));
                return;
            }
            state = 1;
            std::error_code room;
            if (!f->make_room(room)) {
                state = 2;
                result = room;
                payload = {};
                if (initiating) {
                    asio::post(f->stream_.get_executor(), std::move(self));
                    return;
                }
                return self.complete(result, payload);
            }
            f->stream_.async_read_some(asio::buffer(f->buffer_.get() + f->end_, f->capacity_ - f->end_),
                                       std::move(self));
        }
    };

    /// The peer closed: end_of_stream with nothing buffered, else the codec's final frame.
    std::error_code at_eof(const_buffer& payload) {
        payload = {};
        if (begin_ == end_) return make_error_code(errc::end_of_stream);
        const decode_result r =
            detail::decode_eof(codec_, const_buffer(buffer_.get() + begin_, end_ - begin_));
        begin_ += r.consumed;
        if (r.is_frame()) {
            payload = r.payload;
            return {};
        }
        poisoned_ = r.is_error() ? r.error : make_error_code(errc::truncated_stream);
        return poisoned_;
    }

    Stream stream_;
    Codec codec_;
    std::unique_ptr<std::byte[]> buffer_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::error_code poisoned_;
    frame_parts parts_;
    std::array<asio::const_buffer, frame_parts::max_segments> gather_{};
};

SOCKFRAME_NAMESPACE_END
