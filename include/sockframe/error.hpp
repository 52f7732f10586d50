// SPDX-License-Identifier: MIT
#pragma once
/// sockframe's own error codes (framing, end of stream, truncation) and the exception that carries a size.

#include <sockframe/config.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

SOCKFRAME_NAMESPACE_BEGIN

/// Conditions that the operating system has no code for. Compare with `ec == sockframe::errc::...`.
enum class errc {
    end_of_stream = 1,    ///< the peer closed its sending side in an orderly way (no more data)
    truncated_stream,     ///< the peer closed in the middle of a frame or of a read_exact
    frame_too_large,      ///< an announced or accumulated frame exceeds the decoder's max_frame
    negative_length,      ///< a length field, after its adjustment, is smaller than zero
    malformed_frame,      ///< the bytes cannot be a frame of this codec (bad varint, bad digits, ...)
    checksum_mismatch,    ///< a frame's checksum does not match its contents
    message_truncated,    ///< a datagram was larger than the buffer given to receive it (MSG_TRUNC)
    frame_size_mismatch,  ///< a message's size disagrees with its frame (a datagram, a nested frame,
                          ///< fixed_size)
    payload_too_large,    ///< encode: the payload cannot be expressed by the codec (field too narrow, > max)
    invalid_argument,     ///< a codec or address parameter is out of range
    bad_address,          ///< address text that does not parse, or a path too long for sun_path
    not_supported,        ///< the operation is not available on this platform or socket type
    buffer_full,          ///< non-blocking framed send: the outgoing queue is at its high-water mark
    already_registered,   ///< poller: the handle is registered already (use modify)
    not_registered,       ///< poller: the handle is not registered (modify / remove)
    stream_broken,        ///< framed send: an earlier send stopped inside a frame; nothing more can be sent
};

namespace detail {
class sockframe_category_impl : public std::error_category {
public:
    constexpr sockframe_category_impl() noexcept = default;
    const char* name() const noexcept override { return "sockframe"; }
    /// The text message() returns for `value`.
    static const char* describe(int value) noexcept {
        if (value == 0) return "success";
        switch (static_cast<errc>(value)) {
            case errc::end_of_stream: return "end of stream: the peer closed the connection";
            case errc::truncated_stream: return "the peer closed the connection in the middle of a frame";
            case errc::frame_too_large: return "frame larger than the maximum frame size";
            case errc::negative_length: return "frame length is negative after adjustment";
            case errc::malformed_frame: return "malformed frame";
            case errc::checksum_mismatch: return "frame checksum mismatch";
            case errc::message_truncated: return "datagram truncated: larger than the receive buffer";
            case errc::frame_size_mismatch: return "message size disagrees with its frame";
            case errc::payload_too_large: return "payload too large for the codec's length field";
            case errc::invalid_argument: return "invalid argument";
            case errc::bad_address: return "bad address";
            case errc::not_supported: return "operation not supported on this platform or socket type";
            case errc::buffer_full: return "outgoing buffer full";
            case errc::already_registered: return "handle already registered with the poller";
            case errc::not_registered: return "handle not registered with the poller";
            case errc::stream_broken:
                return "an earlier send stopped inside a frame: no further frame can be sent on this stream";
        }
        return "unknown sockframe error";
    }
    std::string message(int value) const override {
        // assign() is a member of the std::string the runtime library compiles; a string made
        // from a literal would compile its constructor template into every unit
        std::string text;
        text.assign(describe(value));
        return text;
    }
    std::error_condition default_error_condition(int value) const noexcept override {
        std::errc generic;
        switch (static_cast<errc>(value)) {
            case errc::invalid_argument: generic = std::errc::invalid_argument; break;
            case errc::not_supported: generic = std::errc::operation_not_supported; break;
            case errc::message_truncated: generic = std::errc::message_size; break;
            case errc::already_registered: generic = std::errc::file_exists; break;            // as EEXIST
            case errc::not_registered: generic = std::errc::no_such_file_or_directory; break;  // ENOENT
            default: return {value, *this};
        }
        // made directly, not through std::errc's converting constructor (a template to compile)
        return {static_cast<int>(generic), std::generic_category()};
    }
};

/// The category object: constant-initialised (a use is a plain address, no initialisation check;
/// decode_result and every error code made on a hot path take it) and never destroyed (codes stay
/// usable while other static objects are destroyed). A function-local static would put a guard
/// and an exit-time registration into every use, and make the codecs' decode too large to inline.
union sockframe_category_storage {
    constexpr sockframe_category_storage() noexcept : impl() {}
    ~sockframe_category_storage() {}
    sockframe_category_impl impl;
};
#if !defined(SOCKFRAME_SEPARATE_COMPILATION)
SOCKFRAME_CONSTINIT inline sockframe_category_storage sockframe_category_object;
#else
// Separate compilation: defined once, in src/sockframe.cpp, so that the other units emit none of
// it (its vtable, its functions, the registration of its destructor: a unit that emits nothing
// else is cheaper to compile). Still constant-initialised, so usable in any static initialiser.
extern sockframe_category_storage sockframe_category_object;
#if SOCKFRAME_HEADER_BODIES
SOCKFRAME_CONSTINIT sockframe_category_storage sockframe_category_object;
#endif
#endif
}  // namespace detail

/// The category of sockframe::errc codes.
inline const std::error_category& sockframe_category() noexcept {
    return detail::sockframe_category_object.impl;
}

/// An error code of sockframe's category (lets `ec == sf::errc::...` and `std::error_code ec = sf::errc::...`
/// work).
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), sockframe_category()};
}
/// An error condition of sockframe's category.
inline std::error_condition make_error_condition(errc e) noexcept {
    return {static_cast<int>(e), sockframe_category()};
}

/// Whether `ec` says "not now" on a non-blocking socket (EAGAIN, EWOULDBLOCK, WSAEWOULDBLOCK):
/// wait for readiness and try again.
inline bool is_would_block(const std::error_code& ec) noexcept {
    if (!ec) return false;  // the common case, without the categories' virtual comparisons
    return ec == std::errc::operation_would_block || ec == std::errc::resource_unavailable_try_again;
}

/// A framing error thrown by the throwing overloads: the code plus the offending size or position.
class frame_error : public std::system_error {
public:
    /// The error `ec` about `size` (the offending length or position), with the message `what`.
    frame_error(std::error_code ec, std::uint64_t size, const std::string& what)
        : std::system_error(ec, what + " (size " + std::to_string(size) + ")"), size_(size) {}
    /// The announced length, accumulated size or byte position that caused the error.
    std::uint64_t size() const noexcept { return size_; }

private:
    std::uint64_t size_;
};

namespace detail {
[[noreturn]] inline void throw_error(const std::error_code& ec, const char* what) {
    throw std::system_error(ec, what);
}
inline void throw_if(const std::error_code& ec, const char* what) {
    if (ec) throw_error(ec, what);
}
/// An empty error code made once: copying it costs no call into the C++ runtime, which
/// std::error_code's default constructor and clear() make (std::system_category()) every time.
SOCKFRAME_ALWAYS_INLINE const std::error_code& no_error() noexcept {
    static const std::error_code none;
    return none;
}
}  // namespace detail

SOCKFRAME_NAMESPACE_END

namespace std {
template <>
struct is_error_code_enum<sockframe::errc> : true_type {};
}  // namespace std
