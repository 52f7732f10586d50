// SPDX-License-Identifier: MIT
#pragma once
/// A growable array of plain values, for the core headers' internal lists (the addresses a name
/// resolves to, a connect race's attempts, descriptors passed beside a stream) without including
/// <vector>, which costs the core headers about a tenth of their compile time.

#include <sockframe/config.hpp>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

/// A std::vector reduced to what the internal lists use, for trivially copyable and trivially
/// destructible T: move-only, grows by doubling, throws std::bad_alloc when it cannot.
template <typename T>
class array_list {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "array_list holds plain values");

public:
    /// Empty; allocates nothing.
    array_list() noexcept = default;
    /// `n` value-initialised elements.
    explicit array_list(std::size_t n) { resize(n); }
    /// Takes `other`'s elements; `other` is left empty.
    array_list(array_list&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          capacity_(std::exchange(other.capacity_, 0)) {}
    /// Frees its own elements, then takes `other`'s.
    array_list& operator=(array_list&& other) noexcept {
        if (this != &other) {
            ::operator delete(data_);
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
            capacity_ = std::exchange(other.capacity_, 0);
        }
        return *this;
    }
    array_list(const array_list&) = delete;
    array_list& operator=(const array_list&) = delete;
    ~array_list() { ::operator delete(data_); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    T& back() noexcept { return data_[size_ - 1]; }

    /// Appends a copy of `value` (which may be one of the elements).
    void push_back(const T& value) {
        if (size_ == capacity_) {
            const T copy = value;  // `value` may live in the storage that grow() frees
            grow(size_ + 1);
            ::new (static_cast<void*>(data_ + size_)) T(copy);
        } else {
            ::new (static_cast<void*>(data_ + size_)) T(value);
        }
        ++size_;
    }
    /// `n` elements: the first ones kept, new ones copies of `value` (value-initialised by
    /// default).
    void resize(std::size_t n, const T& value = T()) {
        const T fill = value;  // `value` may live in the storage that grow() frees
        if (n > capacity_) grow(n);
        for (std::size_t i = size_; i < n; ++i) ::new (static_cast<void*>(data_ + i)) T(fill);
        size_ = n;
    }
    /// Removes the first `n` elements (n <= size()), keeping the order of the rest.
    void erase_front(std::size_t n) noexcept {
        for (std::size_t i = n; i < size_; ++i) data_[i - n] = data_[i];
        size_ -= n;
    }
    /// Removes every element; keeps the storage.
    void clear() noexcept { size_ = 0; }

private:
    void grow(std::size_t needed) {
        constexpr std::size_t most = static_cast<std::size_t>(-1) / sizeof(T);
        if (needed > most) throw std::bad_alloc();
        std::size_t capacity = capacity_ < 4 ? 4 : capacity_;
        while (capacity < needed) capacity = capacity > most / 2 ? most : 2 * capacity;
        T* fresh = static_cast<T*>(::operator new(capacity * sizeof(T)));
        for (std::size_t i = 0; i < size_; ++i) ::new (static_cast<void*>(fresh + i)) T(data_[i]);
        ::operator delete(data_);
        data_ = fresh;
        capacity_ = capacity;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace detail
SOCKFRAME_NAMESPACE_END
