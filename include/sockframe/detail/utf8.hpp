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

/// Scans `n` bytes at `s` from the state (`need` continuation bytes still expected, the next
/// one within [`lo`, `hi`]) and leaves the state at the end of the bytes in the same variables;
/// false at the first byte no valid text can contain. The state lives in locals while scanning:
/// as members of an object it would be reloaded after every byte read (a byte pointer may point
/// at anything, the object included).
inline bool utf8_scan(const unsigned char* s, std::size_t n, unsigned& need_io, unsigned& lo_io,
                      unsigned& hi_io) noexcept {
    unsigned need = need_io, lo = lo_io, hi = hi_io;
    std::size_t i = 0;
    // The rest of a sequence begun before `s`. (The loop below checks continuation bytes the same
    // way; entering it here instead put that check in front of every byte of mixed text, 15 %
    // slower on 1 KiB of it.)
    for (; need != 0 && i < n; --need, ++i) {
        const unsigned b = s[i];
        if (b < lo || b > hi) return false;
        lo = 0x80;
        hi = 0xBF;
    }
    if (need != 0) {
        need_io = need, lo_io = lo, hi_io = hi;
        return true;
    }
    while (i < n) {
        // ASCII runs, eight bytes at a time
        while (n - i >= 8) {
            std::uint64_t word;
            std::memcpy(&word, s + i, 8);
            if ((word & 0x8080808080808080ull) != 0) break;
            i += 8;
        }
        if (i == n) break;
        const unsigned c = s[i++];
        if (c < 0x80) continue;
        unsigned length;
        lo = 0x80;
        hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            length = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 2;
            if (c == 0xE0)
                lo = 0xA0;  // overlong below U+0800
            else if (c == 0xED)
                hi = 0x9F;  // surrogates U+D800..U+DFFF
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 3;
            if (c == 0xF0)
                lo = 0x90;  // overlong below U+10000
            else if (c == 0xF4)
                hi = 0x8F;  // above U+10FFFF
        } else {
            return false;
        }
        // the continuation bytes that are here: all of them, but at the end of a piece
        const std::size_t here = n - i < length ? n - i : length;
        for (std::size_t k = 0; k < here; ++k) {
            const unsigned b = s[i + k];
            if (b < lo || b > hi) return false;
            lo = 0x80;
            hi = 0xBF;
        }
        i += here;
        if (here != length) {
            need_io = length - static_cast<unsigned>(here), lo_io = lo, hi_io = hi;
            return true;
        }
    }
    need_io = 0, lo_io = 0x80, hi_io = 0xBF;
    return true;
}

/// Validates UTF-8 piece by piece; one object per text.
class utf8_validator {
public:
    /// Checks the next `n` bytes; false at the first byte no valid text can contain (the object
    /// stays failed until reset()).
    bool feed(const std::byte* p, std::size_t n) noexcept {
        if (failed_) return false;
        if (!utf8_scan(reinterpret_cast<const unsigned char*>(p), n, need_, lo_, hi_)) failed_ = true;
        return !failed_;
    }
    /// True when no sequence is left unfinished (and nothing failed).
    bool complete() const noexcept { return !failed_ && need_ == 0; }
    /// Starts a new text.
    void reset() noexcept { *this = utf8_validator{}; }

private:
    unsigned lo_ = 0x80;  // bounds of the next continuation byte
    unsigned hi_ = 0xBF;
    unsigned need_ = 0;  // continuation bytes still expected
    bool failed_ = false;
};

/// Whether `n` bytes at `p` are complete, valid UTF-8.
inline bool is_valid_utf8(const std::byte* p, std::size_t n) noexcept {
    unsigned need = 0, lo = 0x80, hi = 0xBF;
    return utf8_scan(reinterpret_cast<const unsigned char*>(p), n, need, lo, hi) && need == 0;
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
