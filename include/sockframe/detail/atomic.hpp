// SPDX-License-Identifier: MIT
#pragma once
/// A sequentially consistent atomic integer or bool, for the event loop's few flags. With GCC and
/// Clang it is the compiler's atomic built-ins, so that the event loop's header need not include
/// <atomic> (costly to compile); elsewhere it is std::atomic.

#include <sockframe/config.hpp>

#include <type_traits>

#if !defined(__GNUC__) && !defined(__clang__)
#include <atomic>
#endif

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

/// An integral or bool value read and written atomically, every operation sequentially
/// consistent except load_relaxed(). Lock-free, so usable from a signal handler.
template <typename T>
class atomic_value {
    static_assert(std::is_integral_v<T>, "atomic_value holds an integer or a bool");

public:
    /// Holds `v` (a constant initialisation: no static-initialisation order concerns).
    constexpr atomic_value(T v = T{}) noexcept : v_(v) {}  // NOLINT(google-explicit-constructor)
    atomic_value(const atomic_value&) = delete;
    atomic_value& operator=(const atomic_value&) = delete;

#if defined(__GNUC__) || defined(__clang__)
    /// The value.
    T load() const noexcept { return __atomic_load_n(&v_, __ATOMIC_SEQ_CST); }
    /// The value, with no ordering of the accesses around it.
    T load_relaxed() const noexcept { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }
    /// Sets the value.
    void store(T v) noexcept { __atomic_store_n(&v_, v, __ATOMIC_SEQ_CST); }
    /// Sets the value; returns the one before.
    T exchange(T v) noexcept { return __atomic_exchange_n(&v_, v, __ATOMIC_SEQ_CST); }
    /// Sets `desired` if the value is `expected`; else false with `expected` set to the value.
    bool compare_exchange(T& expected, T desired) noexcept {
        return __atomic_compare_exchange_n(&v_, &expected, desired, false, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST);
    }

private:
    T v_;
#else
    /// The value.
    T load() const noexcept { return v_.load(); }
    /// The value, with no ordering of the accesses around it.
    T load_relaxed() const noexcept { return v_.load(std::memory_order_relaxed); }
    /// Sets the value.
    void store(T v) noexcept { v_.store(v); }
    /// Sets the value; returns the one before.
    T exchange(T v) noexcept { return v_.exchange(v); }
    /// Sets `desired` if the value is `expected`; else false with `expected` set to the value.
    bool compare_exchange(T& expected, T desired) noexcept {
        return v_.compare_exchange_strong(expected, desired);
    }

private:
    std::atomic<T> v_;
#endif
};

}  // namespace detail
SOCKFRAME_NAMESPACE_END
