// SPDX-License-Identifier: MIT
#pragma once
/// Byte-order tags and portable loads/stores of unsigned integers (no alignment assumed).

#include <sockframe/config.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

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

/// The shift of byte `i` of an `n`-byte value in byte order `Endian`.
template <typename Endian>
constexpr unsigned byte_shift(std::size_t i, std::size_t n) noexcept {
    return static_cast<unsigned>(8 * (std::is_same_v<Endian, big_endian> ? n - 1 - i : i));
}

// Written as one expression over every byte (no loop), which compilers turn into a single load or
// store plus a byte swap where needed.
template <typename Endian, typename T, std::size_t... I>
constexpr T load_bytes(const std::byte* p, std::index_sequence<I...>) noexcept {
    return static_cast<T>(
        ((std::to_integer<std::uint64_t>(p[I]) << byte_shift<Endian>(I, sizeof...(I))) | ...));
}
template <typename Endian, typename T, std::size_t... I>
constexpr void store_bytes(T value, std::byte* p, std::index_sequence<I...>) noexcept {
    const std::uint64_t v = value;
    ((p[I] = static_cast<std::byte>((v >> byte_shift<Endian>(I, sizeof...(I))) & 0xFFu)), ...);
}

template <typename Endian, typename T>
constexpr T load(const std::byte* p) noexcept {
    return load_bytes<Endian, T>(p, std::make_index_sequence<sizeof(T)>{});
}

template <typename Endian, typename T>
constexpr void store(T value, std::byte* p) noexcept {
    store_bytes<Endian, T>(value, p, std::make_index_sequence<sizeof(T)>{});
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
