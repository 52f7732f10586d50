// SPDX-License-Identifier: MIT
#pragma once
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the SSE 4.2 crc32 instruction where the
/// processor has it (x86-64, g++ and clang++, checked at run time), else table-driven slicing by 8.

#include <sockframe/config.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define SOCKFRAME_CRC32C_HARDWARE 1
#endif

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

using crc32c_tables = std::array<std::array<std::uint32_t, 256>, 8>;

// The slicing-by-8 tables, made on first use: computed as a constant expression they cost every
// translation unit that includes this header about 0.1 s of compile time.
inline crc32c_tables make_crc32c_tables() noexcept {
    crc32c_tables t;
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t s = 1; s < 8; ++s)
        for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
    return t;
}

inline const crc32c_tables& crc32c_table() noexcept {
    static const crc32c_tables tables = make_crc32c_tables();
    return tables;
}

/// crc32c_update in software.
inline std::uint32_t crc32c_software(std::uint32_t crc, const std::byte* p, std::size_t n) noexcept {
    const auto& t = crc32c_table();
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

#if defined(SOCKFRAME_CRC32C_HARDWARE)
/// crc32c_update with the crc32 instruction (only called where the processor has SSE 4.2).
__attribute__((target("sse4.2"))) inline std::uint32_t crc32c_hardware(std::uint32_t crc, const std::byte* p,
                                                                       std::size_t n) noexcept {
    std::uint64_t c = ~crc;
    while (n >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<std::uint32_t>(c);
    for (std::size_t i = 0; i < n; ++i)
        c32 = __builtin_ia32_crc32qi(c32, std::to_integer<unsigned char>(p[i]));
    return ~c32;
}
#endif

/// Continues a CRC-32C: `crc` is the result for the bytes before (0 to start).
inline std::uint32_t crc32c_update(std::uint32_t crc, const std::byte* p, std::size_t n) noexcept {
#if defined(SOCKFRAME_CRC32C_HARDWARE)
    if (__builtin_cpu_supports("sse4.2")) return crc32c_hardware(crc, p, n);
#endif
    return crc32c_software(crc, p, n);
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
