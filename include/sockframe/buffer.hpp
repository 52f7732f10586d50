// SPDX-License-Identifier: MIT
#pragma once
/// Non-owning byte views used by every I/O call and codec: const_buffer and mutable_buffer.

#include <sockframe/config.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {

template <typename T>
inline constexpr bool is_byte_like_v = sizeof(T) == 1 && std::is_trivially_copyable_v<T> &&
                                       !std::is_same_v<std::remove_cv_t<T>, bool>;

template <typename R, typename = void>
struct contiguous_element {};

template <typename R>
struct contiguous_element<
    R, std::void_t<decltype(std::data(std::declval<R&>())), decltype(std::size(std::declval<R&>()))>> {
    using pointer = decltype(std::data(std::declval<R&>()));
    using type = std::remove_pointer_t<pointer>;
};

/// True for a contiguous range (string, string_view, vector, array, C array) of byte-sized elements.
template <typename R, typename = void>
inline constexpr bool is_byte_range_v = false;
template <typename R>
inline constexpr bool is_byte_range_v<R, std::void_t<typename contiguous_element<R>::type>> =
    is_byte_like_v<typename contiguous_element<R>::type>;

template <typename R, typename = void>
inline constexpr bool is_mutable_byte_range_v = false;
template <typename R>
inline constexpr bool is_mutable_byte_range_v<R, std::void_t<typename contiguous_element<R>::type>> =
    is_byte_like_v<typename contiguous_element<R>::type> &&
    !std::is_const_v<typename contiguous_element<R>::type>;

}  // namespace detail

/// A view of read-only bytes; never owns them, so it is valid as long as what it views.
class const_buffer {
public:
    constexpr const_buffer() noexcept = default;
    /// The `size` bytes at `data`, which must stay valid while the view is used.
    constexpr const_buffer(const void* data, std::size_t size) noexcept
        : data_(static_cast<const std::byte*>(data)), size_(size) {}
    /// Views any contiguous range of byte-sized elements: std::string, std::vector<char>, ...
    template <typename R, typename = std::enable_if_t<detail::is_byte_range_v<const R> &&
                                                      !std::is_same_v<R, const_buffer>>>
    constexpr const_buffer(const R& range) noexcept  // NOLINT(google-explicit-constructor)
        : data_(reinterpret_cast<const std::byte*>(std::data(range))),
          size_(std::size(range) * sizeof(*std::data(range))) {}
    /// Views a NUL-terminated string without its terminator.
    const_buffer(const char* text) noexcept  // NOLINT(google-explicit-constructor)
        : data_(reinterpret_cast<const std::byte*>(text)), size_(std::strlen(text)) {}

    /// The first byte.
    constexpr const std::byte* data() const noexcept { return data_; }
    /// The number of bytes.
    constexpr std::size_t size() const noexcept { return size_; }
    /// Whether there are no bytes.
    constexpr bool empty() const noexcept { return size_ == 0; }
    /// The first byte, for range-for.
    constexpr const std::byte* begin() const noexcept { return data_; }
    /// One past the last byte.
    constexpr const std::byte* end() const noexcept { return data_ + size_; }
    /// Byte `i` (unchecked).
    constexpr std::byte operator[](std::size_t i) const noexcept { return data_[i]; }

    /// The bytes from `offset` on (clamped to the size).
    constexpr const_buffer subspan(std::size_t offset) const noexcept {
        return offset >= size_ ? const_buffer{data_ + size_, 0}
                               : const_buffer{data_ + offset, size_ - offset};
    }
    /// At most `count` bytes from `offset` on (both clamped to the size).
    constexpr const_buffer subspan(std::size_t offset, std::size_t count) const noexcept {
        const_buffer rest = subspan(offset);
        return {rest.data_, count < rest.size_ ? count : rest.size_};
    }
    /// The first `count` bytes (at most size()).
    constexpr const_buffer first(std::size_t count) const noexcept { return subspan(0, count); }

    /// The same bytes as characters.
    std::string_view str() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }
    /// The bytes as characters (the same as str()).
    operator std::string_view() const noexcept { return str(); }  // NOLINT(google-explicit-constructor)
    /// An owning copy of the bytes.
    std::string to_string() const { return std::string(str()); }

    friend bool operator==(const_buffer a, const_buffer b) noexcept {
        return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
    }
    friend bool operator!=(const_buffer a, const_buffer b) noexcept { return !(a == b); }

private:
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

/// A view of writable bytes; never owns them.
class mutable_buffer {
public:
    constexpr mutable_buffer() noexcept = default;
    /// The `size` writable bytes at `data`, which must stay valid while the view is used.
    constexpr mutable_buffer(void* data, std::size_t size) noexcept
        : data_(static_cast<std::byte*>(data)), size_(size) {}
    /// Views any contiguous, non-const range of byte-sized elements.
    template <typename R, typename = std::enable_if_t<detail::is_mutable_byte_range_v<R> &&
                                                      !std::is_same_v<R, mutable_buffer>>>
    constexpr mutable_buffer(R& range) noexcept  // NOLINT(google-explicit-constructor)
        : data_(reinterpret_cast<std::byte*>(std::data(range))),
          size_(std::size(range) * sizeof(*std::data(range))) {}

    /// The first byte.
    constexpr std::byte* data() const noexcept { return data_; }
    /// The number of bytes.
    constexpr std::size_t size() const noexcept { return size_; }
    /// Whether there are no bytes.
    constexpr bool empty() const noexcept { return size_ == 0; }
    /// The first byte, for range-for.
    constexpr std::byte* begin() const noexcept { return data_; }
    /// One past the last byte.
    constexpr std::byte* end() const noexcept { return data_ + size_; }
    /// Byte `i` (unchecked).
    constexpr std::byte& operator[](std::size_t i) const noexcept { return data_[i]; }

    /// The bytes from `offset` on (clamped to the size).
    constexpr mutable_buffer subspan(std::size_t offset) const noexcept {
        return offset >= size_ ? mutable_buffer{data_ + size_, 0}
                               : mutable_buffer{data_ + offset, size_ - offset};
    }
    /// At most `count` bytes from `offset` on (both clamped to the size).
    constexpr mutable_buffer subspan(std::size_t offset, std::size_t count) const noexcept {
        mutable_buffer rest = subspan(offset);
        return {rest.data_, count < rest.size_ ? count : rest.size_};
    }
    /// The first `count` bytes (at most size()).
    constexpr mutable_buffer first(std::size_t count) const noexcept { return subspan(0, count); }

    /// The same bytes, read-only.
    constexpr operator const_buffer() const noexcept { return {data_, size_}; }  // NOLINT
    /// The bytes as characters.
    std::string_view str() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }

private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

namespace detail {
/// `N` buffers on the stack left unset until written (a gather list is filled before it is
/// read): declaring `const_buffer list[64]` would zero all 64 entries on every write.
template <typename Buffer, std::size_t N>
struct buffer_list {
    buffer_list() noexcept {}
    union {
        Buffer items[N];
    };
};
}  // namespace detail

SOCKFRAME_NAMESPACE_END
