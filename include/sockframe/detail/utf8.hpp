// SPDX-License-Identifier: MIT
#pragma once
/// An incremental UTF-8 validator (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF) that rejects a bad sequence at its first impossible byte, so that text split across
/// several pieces (WebSocket fragments) is checked as it arrives.

#include <sockframe/config.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

/// Validates UTF-8 piece by piece; one object per text.
class utf8_validator {
public:
    /// Checks the next `n` bytes; false at the first byte no valid text can contain (the object
    /// stays failed until reset()).
    bool feed(const std::byte* p, std::size_t n) noexcept {
        if (failed_) return false;
        std::size_t i = 0;
        while (i < n) {
            if (need_ == 0) {
                // ASCII runs, eight bytes at a time
                while (n - i >= 8) {
                    std::uint64_t word;
                    std::memcpy(&word, p + i, 8);
                    if ((word & 0x8080808080808080ull) != 0) break;
                    i += 8;
                }
                if (i == n) break;
                const auto b = static_cast<unsigned>(p[i]);
                ++i;
                if (b < 0x80) continue;
                if (b >= 0xC2 && b <= 0xDF) {
                    need_ = 1;
                } else if (b >= 0xE0 && b <= 0xEF) {
                    need_ = 2;
                    if (b == 0xE0)
                        lo_ = 0xA0;  // overlong below U+0800
                    else if (b == 0xED)
                        hi_ = 0x9F;  // surrogates U+D800..U+DFFF
                } else if (b >= 0xF0 && b <= 0xF4) {
                    need_ = 3;
                    if (b == 0xF0)
                        lo_ = 0x90;  // overlong below U+10000
                    else if (b == 0xF4)
                        hi_ = 0x8F;  // above U+10FFFF
                } else {
                    return fail();
                }
            } else {
                const auto b = static_cast<unsigned>(p[i]);
                if (b < lo_ || b > hi_) return fail();
                ++i;
                lo_ = 0x80;
                hi_ = 0xBF;
                --need_;
            }
        }
        return true;
    }
    /// True when no sequence is left unfinished (and nothing failed).
    bool complete() const noexcept { return !failed_ && need_ == 0; }
    /// Starts a new text.
    void reset() noexcept { *this = utf8_validator{}; }

private:
    bool fail() noexcept {
        failed_ = true;
        return false;
    }
    unsigned lo_ = 0x80;  // bounds of the next continuation byte
    unsigned hi_ = 0xBF;
    unsigned need_ = 0;  // continuation bytes still expected
    bool failed_ = false;
};

/// Whether `n` bytes at `p` are complete, valid UTF-8.
inline bool is_valid_utf8(const std::byte* p, std::size_t n) noexcept {
    // The common case first: an ASCII text, eight bytes at a time, then its tail; the validator
    // takes over at the first byte above 0x7F (a character boundary: everything before is ASCII).
    std::size_t i = 0;
    while (n - i >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p + i, 8);
        if ((word & 0x8080808080808080ull) != 0) break;
        i += 8;
    }
    while (i != n && static_cast<unsigned>(p[i]) < 0x80) ++i;
    if (i == n) return true;
    utf8_validator v;
    return v.feed(p + i, n - i) && v.complete();
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
