// SPDX-License-Identifier: MIT
#pragma once
/// A small copyable type-erased callable (what the event loop and the framed server store), so
/// that their headers need neither <functional> nor <memory>; and a thread identity that needs no
/// <thread>.

#include <sockframe/config.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

template <typename Signature>
class function;

/// Holds any copyable callable with the signature R(Args...), like std::function: small ones
/// (up to three pointers, nothrow-movable) in place, others on the heap. Calling an empty one is
/// a precondition violation (check with operator bool first).
template <typename R, typename... Args>
class function<R(Args...)> {
public:
    /// Empty.
    function() noexcept = default;
    /// Empty.
    function(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): as std::function
    /// Holds a copy of `f` (empty if `f` is a null function pointer or an empty function-like).
    template <
        typename F, typename D = std::decay_t<F>,
        typename = std::enable_if_t<!std::is_same_v<D, function> && std::is_invocable_r_v<R, D&, Args...>>>
    function(F&& f) {  // NOLINT(google-explicit-constructor): as std::function
        if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D>) {
            if (f == nullptr) return;
        } else if constexpr (std::is_constructible_v<bool, const D&> &&
                             !std::is_convertible_v<const D&, bool>) {
            if (!static_cast<bool>(f)) return;  // an empty std::function, say
        }
        if constexpr (stored_in_place<D>) {
            ::new (static_cast<void*>(&buffer_)) D(std::forward<F>(f));
            ops_ = &in_place_ops<D>;
        } else {
            D* p = new D(std::forward<F>(f));
            ::new (static_cast<void*>(&buffer_)) D*(p);
            ops_ = &on_heap_ops<D>;
        }
    }
    /// A copy of `other`'s callable.
    function(const function& other) : ops_(nullptr) {
        if (other.ops_ != nullptr) {
            other.ops_->copy(&other.buffer_, &buffer_);
            ops_ = other.ops_;
        }
    }
    /// Takes `other`'s callable; `other` is left empty.
    function(function&& other) noexcept : ops_(other.ops_) {
        if (ops_ != nullptr) {
            ops_->move(&other.buffer_, &buffer_);
            other.ops_ = nullptr;
        }
    }
    /// Copy-assigns (strong guarantee).
    function& operator=(const function& other) {
        if (this != &other) function(other).swap(*this);
        return *this;
    }
    /// Move-assigns.
    function& operator=(function&& other) noexcept {
        if (this != &other) {
            reset();
            if (other.ops_ != nullptr) {
                other.ops_->move(&other.buffer_, &buffer_);
                ops_ = other.ops_;
                other.ops_ = nullptr;
            }
        }
        return *this;
    }
    /// Empties.
    function& operator=(std::nullptr_t) noexcept {
        reset();
        return *this;
    }
    /// Holds `f` instead.
    template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, function> &&
                                                      std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
    function& operator=(F&& f) {
        function(std::forward<F>(f)).swap(*this);
        return *this;
    }
    ~function() { reset(); }

    /// Exchanges the callables.
    void swap(function& other) noexcept {
        function tmp(std::move(other));
        other = std::move(*this);
        *this = std::move(tmp);
    }
    /// Whether it holds a callable.
    explicit operator bool() const noexcept { return ops_ != nullptr; }
    /// Calls the callable (which must be there).
    R operator()(Args... args) const { return ops_->call(&buffer_, std::forward<Args>(args)...); }

private:
    struct alignas(std::max_align_t) storage {
        unsigned char bytes[3 * sizeof(void*)];
    };
    struct operations {
        R (*call)(void*, Args&&...);
        void (*copy)(const void*, void*);
        void (*move)(void*, void*) noexcept;
        void (*destroy)(void*) noexcept;
    };
    template <typename D>
    static constexpr bool stored_in_place =
        sizeof(D) <= sizeof(storage) &&
        alignof(D) <= alignof(storage) && std::is_nothrow_move_constructible_v<D>;

    template <typename D>
    static R call_in_place(void* p, Args&&... args) {
        return static_cast<R>((*static_cast<D*>(p))(std::forward<Args>(args)...));
    }
    template <typename D>
    static void copy_in_place(const void* from, void* to) {
        ::new (to) D(*static_cast<const D*>(from));
    }
    template <typename D>
    static void move_in_place(void* from, void* to) noexcept {
        ::new (to) D(std::move(*static_cast<D*>(from)));
        static_cast<D*>(from)->~D();
    }
    template <typename D>
    static void destroy_in_place(void* p) noexcept {
        static_cast<D*>(p)->~D();
    }
    template <typename D>
    static R call_on_heap(void* p, Args&&... args) {
        return static_cast<R>((**static_cast<D**>(p))(std::forward<Args>(args)...));
    }
    template <typename D>
    static void copy_on_heap(const void* from, void* to) {
        ::new (to) D*(new D(**static_cast<D* const*>(from)));
    }
    template <typename D>
    static void move_on_heap(void* from, void* to) noexcept {
        ::new (to) D*(*static_cast<D**>(from));  // the pointer moves; the callable stays put
    }
    template <typename D>
    static void destroy_on_heap(void* p) noexcept {
        delete *static_cast<D**>(p);
    }
    template <typename D>
    static constexpr operations in_place_ops{&call_in_place<D>, &copy_in_place<D>, &move_in_place<D>,
                                             &destroy_in_place<D>};
    template <typename D>
    static constexpr operations on_heap_ops{&call_on_heap<D>, &copy_on_heap<D>, &move_on_heap<D>,
                                            &destroy_on_heap<D>};

    void reset() noexcept {
        if (ops_ != nullptr) {
            const operations* ops = ops_;
            ops_ = nullptr;
            ops->destroy(&buffer_);
        }
    }

    mutable storage buffer_;
    const operations* ops_ = nullptr;
};

/// An identity of the calling thread, distinct among the threads alive at once (the address of
/// a thread-local object), comparable where std::thread::id would need <thread>.
inline std::uintptr_t this_thread_token() noexcept {
    static thread_local char marker = 0;
    return reinterpret_cast<std::uintptr_t>(&marker);
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
