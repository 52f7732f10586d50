// SPDX-License-Identifier: MIT
#pragma once
/// Single ownership of a heap object, for the headers that would otherwise include <memory> (one
/// of the standard library's costliest headers to compile) for std::unique_ptr alone.

#include <sockframe/config.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

/// Owns the object at a pointer made by `new` and deletes it, as std::unique_ptr<T> with the
/// default deleter: move-only, empty after a move.
template <typename T>
class owned {
public:
    /// Empty.
    owned() noexcept = default;
    /// Takes `p` (made by `new`, or null).
    explicit owned(T* p) noexcept : p_(p) {}
    /// Takes `other`'s object.
    owned(owned&& other) noexcept : p_(other.release()) {}
    /// Takes `other`'s object, of a type derived from T.
    template <typename U, typename = std::enable_if_t<std::is_convertible_v<U*, T*>>>
    owned(owned<U>&& other) noexcept : p_(other.release()) {}  // NOLINT(google-explicit-constructor)
    /// Deletes the object held, then takes `other`'s.
    owned& operator=(owned&& other) noexcept {
        reset(other.release());
        return *this;
    }
    owned(const owned&) = delete;
    owned& operator=(const owned&) = delete;
    ~owned() { delete p_; }

    /// The object (null if empty).
    T* get() const noexcept { return p_; }
    /// The object; the owner must not be empty.
    T& operator*() const noexcept { return *p_; }
    /// The object's members; the owner must not be empty.
    T* operator->() const noexcept { return p_; }
    /// Whether an object is held.
    explicit operator bool() const noexcept { return p_ != nullptr; }
    /// Gives the object up without deleting it.
    T* release() noexcept { return std::exchange(p_, nullptr); }
    /// Deletes the object held and takes `p`.
    void reset(T* p = nullptr) noexcept { delete std::exchange(p_, p); }

private:
    T* p_ = nullptr;
};

/// Owns an array made by `new T[n]` and deletes it with `delete[]`.
template <typename T>
class owned<T[]> {
public:
    /// Empty.
    owned() noexcept = default;
    /// Takes `p` (made by `new T[n]`, or null).
    explicit owned(T* p) noexcept : p_(p) {}
    /// Takes `other`'s array.
    owned(owned&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    /// Deletes the array held, then takes `other`'s.
    owned& operator=(owned&& other) noexcept {
        delete[] std::exchange(p_, std::exchange(other.p_, nullptr));
        return *this;
    }
    owned(const owned&) = delete;
    owned& operator=(const owned&) = delete;
    ~owned() { delete[] p_; }

    /// Element `i`.
    T& operator[](std::size_t i) const noexcept { return p_[i]; }

private:
    T* p_ = nullptr;
};

/// A new T made from `args` (as `new T(args...)`), owned.
template <typename T, typename... Args>
owned<T> make_owned(Args&&... args) {
    return owned<T>(new T(std::forward<Args>(args)...));
}

/// `n` value-initialised T, owned.
template <typename T>
owned<T[]> make_owned_array(std::size_t n) {
    return owned<T[]>(new T[n]());
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
