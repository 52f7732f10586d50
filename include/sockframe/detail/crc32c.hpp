#pragma once
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven slicing by 8.

#include <sockframe/config.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

using crc32c_tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr crc32c_tables make_crc32c_tables() noexcept {
    crc32c_tables t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t s = 1; s < 8; ++s)
        for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
    return t;
}

inline constexpr crc32c_tables crc32c_table = make_crc32c_tables();

/// Continues a CRC-32C: `crc` is the result for the bytes before (0 to start).
inline std::uint32_t crc32c_update(std::uint32_t crc, const std::byte* p, std::size_t n) noexcept {
    const auto& t = crc32c_table;
    std::uint32_t c = ~crc;
    auto at = [&p](std::size_t i) { return std::to_integer<std::uint32_t>(p[i]); };
    while (n >= 8) {
        const std::uint32_t lo = c ^ (at(0) | at(1) << 8 | at(2) << 16 | at(3) << 24);
        c = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
            t[3][at(4)] ^ t[2][at(5)] ^ t[1][at(6)] ^ t[0][at(7)];
        p += 8;
        n -= 8;
    }
    for (std::size_t i = 0; i < n; ++i) c = (c >> 8) ^ t[0][(c ^ at(i)) & 0xFFu];
    return ~c;
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
