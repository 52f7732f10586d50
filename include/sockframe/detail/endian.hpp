#pragma once
/// Byte-order tags and portable loads/stores of unsigned integers (no alignment assumed).

#include <sockframe/config.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

SOCKFRAME_NAMESPACE_BEGIN

/// Byte-order tag: most significant byte first (network byte order).
struct big_endian {};
/// Byte-order tag: least significant byte first.
struct little_endian {};

namespace detail {

template <typename Endian>
inline constexpr bool is_endian_v =
    std::is_same_v<Endian, big_endian> || std::is_same_v<Endian, little_endian>;

template <typename T>
inline constexpr bool is_length_field_v =
    std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> || std::is_same_v<T, std::uint32_t> ||
    std::is_same_v<T, std::uint64_t>;

template <typename Endian, typename T>
constexpr T load(const std::byte* p) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        const std::size_t at = std::is_same_v<Endian, big_endian> ? i : sizeof(T) - 1 - i;
        v = (v << 8) | std::to_integer<std::uint64_t>(p[at]);
    }
    return static_cast<T>(v);
}

template <typename Endian, typename T>
constexpr void store(T value, std::byte* p) noexcept {
    std::uint64_t v = value;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        const std::size_t at = std::is_same_v<Endian, big_endian> ? sizeof(T) - 1 - i : i;
        p[at] = static_cast<std::byte>(v & 0xFFu);
        v >>= 8;
    }
}

/// A 128-bit unsigned sum of 64-bit terms, enough to evaluate header + length + adjustment exactly.
struct wide {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;

    constexpr wide() noexcept = default;
    constexpr wide(std::uint64_t v) noexcept : lo(v) {}  // NOLINT(google-explicit-constructor)

    constexpr wide& operator+=(std::uint64_t v) noexcept {
        lo += v;
        if (lo < v) ++hi;
        return *this;
    }
    /// Subtracts `v`; the caller guarantees the result is not negative.
    constexpr wide& operator-=(std::uint64_t v) noexcept {
        if (lo < v) --hi;
        lo -= v;
        return *this;
    }
    friend constexpr bool operator<(const wide& a, const wide& b) noexcept {
        return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
    }
    friend constexpr bool operator>(const wide& a, const wide& b) noexcept { return b < a; }
    /// The value, or UINT64_MAX if it does not fit.
    constexpr std::uint64_t saturated() const noexcept { return hi != 0 ? UINT64_MAX : lo; }
};

/// |v| of a negative adjustment as an unsigned value (also for INT64_MIN).
constexpr std::uint64_t magnitude(std::int64_t v) noexcept {
    return v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

constexpr std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

}  // namespace detail

SOCKFRAME_NAMESPACE_END
