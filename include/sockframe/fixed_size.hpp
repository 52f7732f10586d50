// SPDX-License-Identifier: MIT
#pragma once
/// Fixed-size framing: every frame is exactly N bytes (Netty FixedLengthFrameDecoder).

#include <sockframe/codec.hpp>

#include <cstddef>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// Frames of exactly `size` bytes with no header. decode never fails; encode of a payload of any
/// other size returns frame_size_mismatch.
class fixed_size {
public:
    /// Throws system_error(invalid_argument) if `size` is 0.
    explicit fixed_size(std::size_t size) : size_(size) {
        if (size_ == 0) detail::throw_error(errc::invalid_argument, "fixed_size: size must be at least 1");
    }

    /// The frame size (also the max frame).
    std::size_t size() const noexcept { return size_; }
    /// Most payload bytes one decode delivers.
    std::size_t max_frame() const noexcept { return size_; }
    /// Most input bytes one frame occupies on the wire.
    std::size_t max_frame_bytes() const noexcept { return size_; }

    /// Decodes the frame at the front of `input` (see codec.hpp and the class comment for errors).
    decode_result decode(const_buffer input) const noexcept {
        if (input.size() < size_) return decode_result::need_more();
        return decode_result::frame(input.first(size_), size_);
    }
    /// decode()'s short cut (see codec.hpp): `size` with `payload` set when a whole frame is there.
    std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        if (input.size() < size_) return 0;
        payload = input.first(size_);
        return size_;
    }
    /// Nothing to forget: fixed_size keeps no state.
    void reset() noexcept {}

    /// Frames `payload` into `out` without copying it.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        out.reset(payload);
        return encode(out);
    }
    /// Nothing is added to a frame.
    static constexpr std::size_t max_overhead = 0;
    /// Copies a `size`-byte payload to `out` (see codec.hpp); 0 for any other size.
    std::size_t encode_into(const_buffer payload, std::byte* out) const noexcept {
        if (payload.size() != size_) return 0;
        detail::copy_bytes(out, payload.data(), size_);
        return size_;
    }
    /// Wraps the segments already in `out` as this codec's payload.
    std::error_code encode(frame_parts& out) const {
        if (out.size() != size_) return make_error_code(errc::frame_size_mismatch);
        return {};
    }

private:
    std::size_t size_;
};

SOCKFRAME_NAMESPACE_END
