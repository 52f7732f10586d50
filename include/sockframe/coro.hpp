// SPDX-License-Identifier: MIT
#pragma once
/// coro: C++20 coroutines on the event loop (optional; the header is empty below C++20).
///
/// task<T> is a lazy coroutine result: nothing runs until it is awaited or co_spawn()ed, and an
/// exception thrown inside it is rethrown to its awaiter. co_spawn(loop, task) starts a task on
/// a loop and detaches it. The awaitables (async_accept, async_connect, async_receive,
/// async_send, async_sleep, async_handshake, and async_framed's receive()/send()/handshake())
/// run on an event_loop's thread:
/// - each takes a deadline (a duration or a time point; the default deadline{} and
///   deadline::never() wait without limit) and then completes with std::errc::timed_out;
/// - each has a no-throw form taking a std::error_code& (set on failure, cleared on success)
///   and a throwing form (frame_error for framing errors, std::system_error otherwise);
/// - each takes an optional cancel_token: cancel_source::cancel() completes every operation
///   waiting with one of its tokens with std::errc::operation_canceled (resumed from the loop,
///   never from inside cancel()), and an operation started with a cancelled token completes
///   with it at once, without trying.
/// An operation that can finish at once does so without suspending (await_ready is true): a
/// frame already buffered, a send that fits, a pending connection.
///
/// Over a TLS stream (tls_stream over a non-blocking socket, <sockframe/tls.hpp>): async_handshake
/// or async_framed::handshake() first; receive and send then wait in the direction the stream asks
/// (wants_write(): a read may have to write first, a write to read first), and a receive never
/// waits for the socket while the stream holds decrypted input (pending_input()).
///
/// Lifetimes: the objects an operation uses (loop, listener, framed, payload, token) must live
/// until its co_await completes. A coroutine still suspended when its loop is destroyed is never
/// resumed nor destroyed (its frame is leaked): run the loop until spawned tasks finish.
///
/// Thread safety: everything here belongs to the loop's thread (co_spawn excepted: it posts,
/// and may be called from any thread). To cancel from another thread, post the cancel().

#include <sockframe/config.hpp>

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L

#include <sockframe/buffer.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/error.hpp>
#include <sockframe/event_loop.hpp>
#include <sockframe/framed.hpp>
#include <sockframe/listener.hpp>
#include <sockframe/socket.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

template <typename T = void>
class task;

namespace detail {

/// What every task promise holds: who awaits it, and the exception it ended with.
struct task_promise_base {
    /// Once the task's body is over: resumes the awaiter (symmetric transfer), unless the task
    /// finished inside the awaiter's await_suspend, which then resumes it by returning false.
    /// So a loop awaiting tasks that finish at once does not grow the stack, even where the
    /// compiler does not make symmetric transfer a tail call (g++ without optimisation).
    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <typename Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) const noexcept {
            task_promise_base& p = h.promise();
            if (p.starting) {
                p.finished_while_starting = true;
                return std::noop_coroutine();
            }
            return p.continuation;
        }
        void await_resume() const noexcept {}
    };
    std::suspend_always initial_suspend() const noexcept { return {}; }
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }
    void rethrow_if_failed() const {
        if (exception) std::rethrow_exception(exception);
    }

    std::coroutine_handle<> continuation = std::noop_coroutine();
    std::exception_ptr exception;
    bool starting = false;                 // inside the awaiter's await_suspend
    bool finished_while_starting = false;  // ... and the body ended there
};

template <typename T>
struct task_promise : task_promise_base {
    task<T> get_return_object() noexcept;
    template <typename U = T>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T take() {
        rethrow_if_failed();
        return std::move(*value);
    }
    std::optional<T> value;
};

template <>
struct task_promise<void> : task_promise_base {
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const { rethrow_if_failed(); }
};

}  // namespace detail

/// A lazy coroutine returning T: it starts when awaited (or co_spawn()ed), and `co_await t`
/// gives its co_return value or rethrows the exception that ended it. Move-only; destroying a
/// task that has not finished destroys its coroutine frame (with the objects in it).
template <typename T>
class task {
    static_assert(!std::is_reference_v<T>, "task<T>: T must not be a reference");

public:
    /// The coroutine's promise type.
    using promise_type = detail::task_promise<T>;
    /// What co_await gives.
    using value_type = T;

    /// A task with no coroutine (valid() is false); awaiting it is undefined.
    task() noexcept = default;
    /// Takes over `other`'s coroutine.
    task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    /// Destroys the coroutine held, then takes over `other`'s.
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    /// Destroys the coroutine frame (a task is never detached by accident).
    ~task() { destroy(); }

    /// Whether the task holds a coroutine.
    bool valid() const noexcept { return static_cast<bool>(handle_); }
    /// Whether the coroutine has run to its end.
    bool done() const noexcept { return handle_ && handle_.done(); }

    /// Awaiting a task starts it; the awaiter resumes when it is over.
    auto operator co_await() && noexcept { return awaiter{handle_}; }
    /// The same for a task named by an lvalue (it is run once; awaiting it again is undefined).
    auto operator co_await() & noexcept { return awaiter{handle_}; }

private:
    friend promise_type;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

    struct awaiter {
        std::coroutine_handle<promise_type> handle;
        bool await_ready() const noexcept { return handle.done(); }
        bool await_suspend(std::coroutine_handle<> caller) const noexcept {
            promise_type& p = handle.promise();
            p.continuation = caller;
            p.starting = true;
            handle.resume();
            p.starting = false;
            return !p.finished_while_starting;  // false: finished already, the caller goes on
        }
        T await_resume() const { return handle.promise().take(); }
    };

    void destroy() noexcept {
        if (handle_) std::exchange(handle_, {}).destroy();
    }

    std::coroutine_handle<promise_type> handle_;
};

namespace detail {

template <typename T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

/// The coroutine co_spawn runs: it awaits the task, then reports to the handler, then frees
/// itself.
struct detached_coroutine {
    struct promise_type {
        detached_coroutine get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }  // the handler threw
    };
    std::coroutine_handle<promise_type> handle;
};

template <typename T, typename Handler>
detached_coroutine run_detached(task<T> t, Handler handler) {
    std::exception_ptr error;
    try {
        co_await std::move(t);
    } catch (...) {
        error = std::current_exception();
    }
    handler(error);
}

/// One operation waiting on a cancel_source (an intrusive list node).
struct cancel_link {
    cancel_link* prev = nullptr;
    cancel_link* next = nullptr;
    void (*on_cancel)(void*) = nullptr;
    void* target = nullptr;
};

/// A cancel_source's state, shared with its tokens.
struct cancel_state {
    cancel_state() noexcept { head.prev = head.next = &head; }
    cancel_state(const cancel_state&) = delete;
    cancel_state& operator=(const cancel_state&) = delete;
    void link(cancel_link& l) noexcept {
        l.prev = head.prev;
        l.next = &head;
        head.prev->next = &l;
        head.prev = &l;
    }
    static void unlink(cancel_link& l) noexcept {
        if (l.next == nullptr) return;
        l.prev->next = l.next;
        l.next->prev = l.prev;
        l.prev = l.next = nullptr;
    }
    bool cancelled = false;
    cancel_link head;
    // Owners: the source and every token. Not atomic: sources and tokens belong to the loop's
    // thread, and an operation takes a token per call (a locked increment and decrement per
    // frame would cost more than the rest of a buffered receive).
    std::size_t refs = 1;

    // Always inlined (with the token's constructor and destructor): a coroutine body is large,
    // and the compiler would otherwise call them, at several times the cost of their work.
    SOCKFRAME_ALWAYS_INLINE static cancel_state* acquire(cancel_state* s) noexcept {
        if (s != nullptr) ++s->refs;
        return s;
    }
    SOCKFRAME_ALWAYS_INLINE static void release(cancel_state* s) noexcept {
        if (s != nullptr && --s->refs == 0) destroy(s);
    }
    // Out of line: a token made and dropped per call then costs an increment and a decrement.
    SOCKFRAME_NOINLINE static void destroy(cancel_state* s) noexcept { delete s; }
};

}  // namespace detail

/// Lets operations be cancelled: what an operation is given (by value) to watch a cancel_source.
/// A default-constructed token is never cancelled.
class cancel_token {
public:
    /// A token that is never cancelled.
    cancel_token() noexcept = default;
    /// Another token of the same source.
    cancel_token(const cancel_token& other) noexcept : state_(detail::cancel_state::acquire(other.state_)) {}
    /// Takes `other`'s place; `other` is left never cancelled.
    cancel_token(cancel_token&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    /// Becomes another token of `other`'s source.
    cancel_token& operator=(const cancel_token& other) noexcept {
        if (this != &other) {
            detail::cancel_state::release(state_);
            state_ = detail::cancel_state::acquire(other.state_);
        }
        return *this;
    }
    /// Takes `other`'s place; `other` is left never cancelled.
    cancel_token& operator=(cancel_token&& other) noexcept {
        if (this != &other) {
            detail::cancel_state::release(state_);
            state_ = std::exchange(other.state_, nullptr);
        }
        return *this;
    }
    SOCKFRAME_ALWAYS_INLINE ~cancel_token() { detail::cancel_state::release(state_); }

    /// Whether cancel() was called on the source.
    bool cancelled() const noexcept { return state_ != nullptr && state_->cancelled; }
    /// Whether a source can cancel this token.
    bool can_be_cancelled() const noexcept { return state_ != nullptr; }

private:
    friend class cancel_source;
    SOCKFRAME_ALWAYS_INLINE explicit cancel_token(detail::cancel_state* s) noexcept
        : state_(detail::cancel_state::acquire(s)) {}

public:
    /// (internal) The shared state; null for a token that is never cancelled.
    detail::cancel_state* state() const noexcept { return state_; }

private:
    detail::cancel_state* state_ = nullptr;
};

/// The owner of a cancellation: hands out tokens, and cancel() completes every operation that
/// waits with one of them (std::errc::operation_canceled). Cancelling is final (like
/// std::stop_source). Belongs to the loop's thread; its tokens may outlive it.
class cancel_source {
public:
    /// A source not yet cancelled. Throws std::bad_alloc only.
    cancel_source() : state_(new detail::cancel_state) {}
    cancel_source(const cancel_source&) = delete;
    cancel_source& operator=(const cancel_source&) = delete;
    /// Does not cancel: operations waiting with its tokens go on (until their deadline).
    ~cancel_source() { detail::cancel_state::release(state_); }

    /// A token to give to operations.
    SOCKFRAME_ALWAYS_INLINE cancel_token token() const noexcept { return cancel_token(state_); }
    /// Whether cancel() was called.
    bool cancelled() const noexcept { return state_->cancelled; }
    /// Cancels: every operation waiting with a token of this source completes with
    /// std::errc::operation_canceled, and so does every later one. The coroutines are resumed by
    /// the loop (posted), not from inside this call. Throws std::bad_alloc only (from post).
    void cancel() {
        state_->cancelled = true;
        detail::cancel_state& s = *state_;
        while (s.head.next != &s.head) {
            detail::cancel_link* l = s.head.next;
            detail::cancel_state::unlink(*l);
            l->on_cancel(l->target);
        }
    }

private:
    detail::cancel_state* state_;
};

/// Starts `t` on `loop` (in a later iteration, posted: thread-safe) and detaches it. When it is
/// over, `on_done(std::exception_ptr)` is called on the loop's thread, with the exception that
/// ended the task or a null pointer (the task's value is dropped). `on_done` must not throw
/// (std::terminate). Throws std::bad_alloc only.
template <typename Loop, typename T, typename Handler>
void co_spawn(Loop& loop, task<T> t, Handler on_done) {
    auto c = detail::run_detached(std::move(t), std::move(on_done));
    try {
        loop.post([h = c.handle] { h.resume(); });
    } catch (...) {
        c.handle.destroy();
        throw;
    }
}
/// The same with no handler: an exception that ends the task is rethrown from the loop's run*()
/// (as a callback's would be), by a callback posted when the task ends.
template <typename Loop, typename T>
void co_spawn(Loop& loop, task<T> t) {
    co_spawn(loop, std::move(t), [&loop](std::exception_ptr e) {
        if (e) loop.post([e] { std::rethrow_exception(e); });
    });
}

/// Runs `loop` on this thread (run_once() at a time) until `t` is over; returns its value or
/// rethrows its exception. For main() and tests; the loop must not be running already.
/// Exceptions thrown by other callbacks propagate out (the task goes on in later runs).
template <typename Loop, typename T>
T run_task(Loop& loop, task<T> t) {
    struct state {
        bool done = false;
        std::exception_ptr error;
        std::optional<std::conditional_t<std::is_void_v<T>, char, T>> value;
    };
    auto s = std::make_shared<state>();
    auto body = [](task<T> inner, std::shared_ptr<state> st) -> task<void> {
        if constexpr (std::is_void_v<T>)
            co_await std::move(inner);
        else
            st->value.emplace(co_await std::move(inner));
    };
    co_spawn(loop, body(std::move(t), s), [s](std::exception_ptr e) {
        s->error = e;
        s->done = true;
    });
    while (!s->done) loop.run_once();
    if (s->error) std::rethrow_exception(s->error);
    if constexpr (!std::is_void_v<T>) return std::move(*s->value);
}

namespace detail {

/// Whether `Endpoint` is a stream that keeps state above the socket (a TLS stream): it says which
/// readiness its last would-block call waits for (wants_write()) and holds decrypted bytes that
/// no readiness event announces (pending_input()).
template <typename Endpoint, typename = void>
struct is_layered_stream : std::false_type {};
template <typename Endpoint>
struct is_layered_stream<Endpoint, std::void_t<decltype(std::declval<const Endpoint&>().wants_write()),
                                               decltype(std::declval<const Endpoint&>().pending_input())>>
    : std::true_type {};

/// Whether the last call on `e` that would block waits for writability (a TLS read that must
/// write first); false for plain sockets, whose direction is the call's own.
template <typename Endpoint>
bool endpoint_waits_write(const Endpoint& e, bool own) noexcept {
    if constexpr (is_layered_stream<Endpoint>::value) {
        return e.wants_write();
    } else {
        (void)e;
        return own;
    }
}

/// Bytes `e` holds that no readiness event will announce (decrypted, not yet read); 0 for
/// plain sockets.
template <typename Endpoint>
std::size_t endpoint_pending_input(const Endpoint& e) noexcept {
    if constexpr (is_layered_stream<Endpoint>::value) {
        return e.pending_input();
    } else {
        (void)e;
        return 0;
    }
}

/// The spare receive buffers of one loop's async_framed connections. A connection that waits
/// for input with nothing buffered gives its buffer here, and takes one back when input comes:
/// a connection holds a receive buffer only while it has bytes in it, and the few buffers in
/// use are the same ones, warm in the cache, whatever the number of connections. At most
/// `limit` spares of at most `largest` bytes are kept (for the loop's life); others are freed.
class receive_buffer_pool {
public:
    static constexpr std::size_t limit = 8;
    static constexpr std::size_t largest = std::size_t{256} << 10;

    /// The pool of `loop` (made by the first call), or nullptr for a loop type without one.
    /// Throws std::bad_alloc only.
    template <typename Loop>
    static receive_buffer_pool* of(Loop& loop) {
        if constexpr (has_attachment<Loop>::value) {
            return &loop.attachment().template get<receive_buffer_pool>();
        } else {
            (void)loop;
            return nullptr;
        }
    }

    /// Takes `conn`'s buffer if it holds no byte (nothing buffered, stream endpoints).
    template <typename Framed>
    void take_from(Framed& conn) noexcept {
        if constexpr (!endpoint_traits<typename Framed::endpoint_type>::message_oriented) {
            byte_buffer b = conn.take_receive_storage();
            if (b.capacity() != 0 && count_ < limit && b.capacity() <= largest)
                spare_[count_++] = std::move(b);
        }
    }
    /// Gives `conn` a spare buffer if it has none (one at least its initial capacity).
    template <typename Framed>
    void lend_to(Framed& conn) noexcept {
        if (count_ != 0 && conn.receive_capacity() == 0 && conn.adopt_receive_storage(spare_[count_ - 1])) {
            --count_;
        }
    }
    /// Spare buffers held now.
    std::size_t spares() const noexcept { return count_; }

private:
    template <typename Loop, typename = void>
    struct has_attachment : std::false_type {};
    template <typename Loop>
    struct has_attachment<Loop, std::void_t<decltype(std::declval<Loop&>().attachment())>> : std::true_type {
    };

    byte_buffer spare_[limit];
    std::size_t count_ = 0;
};

/// An operation that waits for readiness: told by io_waiter when its handle may be ready.
class io_target {
public:
    /// The handle may be ready for what this target waits for (or has an error, or hung up).
    virtual void ready() = 0;

protected:
    io_target() = default;
    io_target(const io_target&) = default;
    io_target& operator=(const io_target&) = default;
    ~io_target() = default;
};

/// One watch on one handle, shared by a reading and a writing operation. The interest follows
/// what is waited for, lazily: an interest nobody waits for any more is dropped when it next
/// fires, so a read after a read costs no system call. Neither copyable nor movable.
template <typename Loop>
class io_waiter {
public:
    using native_handle_type = typename Loop::native_handle_type;

    io_waiter(Loop& loop, native_handle_type h) noexcept : loop_(&loop), handle_(h) {}
    io_waiter(const io_waiter&) = delete;
    io_waiter& operator=(const io_waiter&) = delete;
    ~io_waiter() {
        if (alive_ != nullptr) *alive_ = false;
        watch_.cancel();
    }

    /// `t` is going away: it is forgotten wherever it waits.
    void forget_target(const io_target* t) noexcept {
        if (reader_ == t) reader_ = nullptr;
        if (writer_ == t) writer_ = nullptr;
    }
    /// Makes `t` the one target told when the handle is ready for writing (`write`) or
    /// reading. False (with `ec`) if the watch could not be made or changed, or if another
    /// target waits for the same direction (errc::already_registered).
    bool wait(bool write, io_target* t, std::error_code& ec) noexcept {
        ec.clear();
        io_target* current = write ? writer_ : reader_;
        if (current != nullptr && current != t) {  // a second reader (or writer) at the same time
            ec = errc::already_registered;
            return false;
        }
        const interest need = interest_ | (write ? interest::write : interest::read);
        if (!watch_.active()) {
            watch_ = loop_->watch(
                handle_, need, [this](io_event e) { on_event(e); }, ec);
            if (ec) return false;
            interest_ = need;
        } else if (need != interest_) {
            watch_.modify(need, ec);
            if (ec) return false;
            interest_ = need;
        }
        (write ? writer_ : reader_) = t;
        return true;
    }
    /// `t` no longer waits (its interest is dropped lazily).
    void forget(bool write) noexcept { (write ? writer_ : reader_) = nullptr; }
    /// Stops watching (before the handle is closed).
    void close() noexcept {
        watch_.cancel();
        interest_ = interest::none;
        reader_ = writer_ = nullptr;
    }

private:
    void on_event(io_event e) {
        bool alive = true;
        // The guard below takes the address back before `alive` goes out of scope; g++ 12 at
        // -O2 does not see that (-Wdangling-pointer).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
        alive_ = &alive;
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif
        struct reset {
            bool& alive;
            io_waiter* self;
            ~reset() {
                if (alive) self->alive_ = nullptr;
            }
        } guard{alive, this};
        const bool trouble = e.hangup || e.error;
        if (reader_ != nullptr && (e.readable || trouble)) {
            std::exchange(reader_, nullptr)->ready();  // may resume a coroutine that destroys us
            if (!alive) return;
        }
        if (writer_ != nullptr && (e.writable || trouble)) {
            std::exchange(writer_, nullptr)->ready();
            if (!alive) return;
        }
        if (reader_ == nullptr && writer_ == nullptr && trouble) {
            close();  // level-triggered: a hang-up nobody waits for would fire again and again
            return;
        }
        interest want = interest_;
        if (e.readable && reader_ == nullptr) want &= interest::write;
        if (e.writable && writer_ == nullptr) want &= interest::read;
        if (want != interest_) {
            std::error_code ignored;
            watch_.modify(want, ignored);
            if (!ignored) interest_ = want;
        }
    }

    Loop* loop_;
    native_handle_type handle_;
    typename Loop::io_watch watch_;
    interest interest_ = interest::none;
    io_target* reader_ = nullptr;
    io_target* writer_ = nullptr;
    bool* alive_ = nullptr;
};

/// What every awaitable shares: the loop, the deadline timer, the cancellation link, the error,
/// and the awaiting coroutine. Derived supplies attempt() (true: finished, ec_ set on failure)
/// and stop_waiting() (forget the readiness wait, if any).
template <typename Loop, typename Derived>
class coro_op {
public:
    coro_op(Loop& loop, deadline d, cancel_state* token, std::error_code* ec) noexcept
        : loop_(&loop),
          when_(d.is_socket_default() ? std::nullopt : d.resolve(std::nullopt)),
          cancel_(token),
          user_ec_(ec) {}
    coro_op(const coro_op&) = delete;
    coro_op& operator=(const coro_op&) = delete;
    ~coro_op() {
        if (waiting_) waiting_->disarm();
    }

protected:
    /// True (with ec_) if the token is cancelled: the operation is not even tried.
    bool cancelled_now() noexcept {
        if (cancel_ == nullptr || !cancel_->cancelled) return false;
        ec_ = std::make_error_code(std::errc::operation_canceled);
        return true;
    }
    /// True (with ec_) if the deadline has passed: the operation must not wait.
    bool expired_now() noexcept {
        if (when_ && deadline::clock::now() >= *when_) {
            ec_ = std::make_error_code(std::errc::timed_out);
            return true;
        }
        return false;
    }
    /// The timer and the cancellation link of a suspended operation; false (ec_ set) if the
    /// timer could not be armed.
    bool arm(std::coroutine_handle<> h) noexcept {
        waiting& w = waiting_.emplace();
        w.handle = h;
        if (when_ && *when_ != (deadline::clock::time_point::max)()) {
            try {
                w.timer = loop_->at(*when_, [this] { on_timeout(); });
                w.timed = true;
            } catch (...) {
                ec_ = std::make_error_code(std::errc::not_enough_memory);
                return false;
            }
        }
        if (cancel_state* s = cancel_) {
            w.cancel = cancel_state::acquire(s);  // kept while waiting: the source may go first
            w.link.on_cancel = [](void* self) { static_cast<coro_op*>(self)->on_cancel(); };
            w.link.target = this;
            s->link(w.link);
        }
        return true;
    }
    /// Finished while suspended (from a loop callback): disarm, then resume the coroutine.
    void complete() {
        waiting_->disarm();
        waiting_->handle.resume();  // last: the coroutine may destroy this operation
    }
    /// await_resume's error part: report ec_ to the caller's error_code, or throw it.
    void report(std::uint64_t size = 0) const {
        if (user_ec_ != nullptr) {
            *user_ec_ = ec_;
        } else if (ec_) {
            throw_framed(ec_, size, what());
        }
    }
    static const char* what() noexcept { return Derived::operation_name; }

    Loop* loop_;
    std::error_code ec_ = detail::no_error();

private:
    // What only a suspended operation has. Made when it first waits: an operation that completes
    // at once (a frame already buffered, a reply queued) never touches it.
    struct waiting {
        std::coroutine_handle<> handle;
        typename Loop::timer timer;
        bool timed = false;  // timer was armed (a deadline): only then is there one to cancel
        cancel_link link;
        cancel_state* cancel = nullptr;  // an owning reference, while linked

        waiting() = default;
        waiting(const waiting&) = delete;
        waiting& operator=(const waiting&) = delete;
        ~waiting() { cancel_state::release(cancel); }

        void disarm() noexcept {
            if (timed) timer.cancel();
            cancel_state::unlink(link);
        }
    };

    void on_timeout() {
        ec_ = std::make_error_code(std::errc::timed_out);
        cancel_state::unlink(waiting_->link);
        static_cast<Derived*>(this)->stop_waiting();
        waiting_->handle.resume();
    }
    void on_cancel() {
        ec_ = std::make_error_code(std::errc::operation_canceled);
        waiting_->timer.cancel();
        static_cast<Derived*>(this)->stop_waiting();
        loop_->post([h = waiting_->handle] { h.resume(); });
    }

    std::optional<deadline::clock::time_point> when_;
    // Not owned until the operation waits: the token it was given lives at least until the
    // awaitable is first awaited (the statement that makes it), and arm() takes a reference.
    cancel_state* cancel_;
    std::error_code* user_ec_;
    std::optional<waiting> waiting_;
};

/// An operation that retries a non-blocking call each time its handle turns ready. Derived
/// supplies attempt(), native() (the handle) and `writes` (waits for writability, else
/// readability). Waits through a shared io_waiter if given one, else through its own.
template <typename Loop, typename Derived>
class io_op : public coro_op<Loop, Derived>, public io_target {
    using base = coro_op<Loop, Derived>;

public:
    io_op(Loop& loop, io_waiter<Loop>* shared, deadline d, cancel_state* token, std::error_code* ec) noexcept
        : base(loop, d, token, ec), shared_(shared) {}
    io_op(const io_op&) = delete;
    io_op& operator=(const io_op&) = delete;
    /// An operation destroyed while it waits (its coroutine destroyed) stops waiting.
    ~io_op() {
        if (waiter_ != nullptr) waiter_->forget_target(this);
    }

    /// Tries at once: finished, failed, cancelled or past its deadline means no suspension.
    bool await_ready() {
        if (this->cancelled_now()) return true;
        if (derived().attempt()) return true;
        return this->expired_now();
    }
    /// Waits for readiness, the deadline, or cancellation (false: resume at once, ec_ set).
    bool await_suspend(std::coroutine_handle<> h) {
        waiter_ = shared_ != nullptr ? shared_ : &own_.emplace(*this->loop_, derived().native());
        if (!wait_for_readiness(this->ec_)) return false;
        if (!this->arm(h)) {
            waiter_->forget_target(this);
            return false;
        }
        return true;
    }

    /// The handle may be ready: try again; wait again if it was not.
    void ready() override {
        if (!derived().attempt()) {
            std::error_code ec = no_error();
            if (wait_for_readiness(ec)) return;
            this->ec_ = ec;
        }
        waiter_->forget_target(this);  // it may also wait in the other direction
        this->complete();
    }
    /// The deadline passed or the token was cancelled: no longer wait for readiness.
    void stop_waiting() noexcept {
        if (waiter_ != nullptr) waiter_->forget_target(this);
    }
    /// Whether the operation also waits in the other direction (a receive with replies still
    /// queued waits for writability too, to write them). By default it does not.
    bool also_waits_other_direction() const noexcept { return false; }
    /// The direction to wait in now: writability (true) or readability. By default the
    /// operation's own; a TLS stream's may be the other one (a read that must write first).
    bool waits_for_write() const noexcept { return Derived::writes; }

protected:
    /// Stops this operation's own watch (called by await_resume, before the handle is used).
    void release_waiter() noexcept {
        waiter_ = nullptr;
        own_.reset();
    }

private:
    Derived& derived() noexcept { return static_cast<Derived&>(*this); }

    /// Registers for the operation's direction, and for the other one if it asks; the other
    /// direction taken by another operation already is no failure (that one writes the queue).
    ///
    /// A TLS stream may ask for the other direction than the operation's own (a read that must
    /// write a record first). If another operation already waits in that direction, this one
    /// waits in its own instead: the other operation's call drives the same engine.
    bool wait_for_readiness(std::error_code& ec) noexcept {
        const bool write = derived().waits_for_write();
        if (!waiter_->wait(write, this, ec)) {
            if (write == Derived::writes || ec != errc::already_registered) return false;
            if (!waiter_->wait(Derived::writes, this, ec)) return false;
            return true;
        }
        if (derived().also_waits_other_direction()) {
            std::error_code ignored;
            waiter_->wait(!write, this, ignored);
        }
        return true;
    }

    io_waiter<Loop>* shared_;
    io_waiter<Loop>* waiter_ = nullptr;
    std::optional<io_waiter<Loop>> own_;
};

/// async_accept's awaitable.
template <typename Loop, typename Listener>
class accept_op : public io_op<Loop, accept_op<Loop, Listener>> {
    using base = io_op<Loop, accept_op<Loop, Listener>>;
    static_assert(!Listener::socket_type::mode_type::is_blocking,
                  "async_accept: use a non-blocking listener (tcp_listener_nb, unix_listener_nb, ...)");

public:
    static constexpr bool writes = false;
    static constexpr const char* operation_name = "sockframe: async_accept";
    using result_type = accepted<typename Listener::socket_type>;

    accept_op(Loop& loop, Listener& l, deadline d, cancel_state* t, std::error_code* ec) noexcept
        : base(loop, nullptr, d, t, ec), listener_(&l) {}

    /// The connection and the peer's address (an empty socket on failure, no-throw form).
    result_type await_resume() {
        this->release_waiter();
        this->report();
        return std::move(result_);
    }
    bool attempt() noexcept {
        std::error_code ec = no_error();
        result_ = listener_->accept(ec);
        if (is_would_block(ec)) return false;
        this->ec_ = ec;
        return true;
    }
    auto native() const noexcept { return listener_->native_handle(); }

private:
    Listener* listener_;
    result_type result_;
};

/// async_connect's awaitable.
template <typename Loop, typename Socket>
class connect_op : public io_op<Loop, connect_op<Loop, Socket>> {
    using base = io_op<Loop, connect_op<Loop, Socket>>;
    static_assert(!Socket::mode_type::is_blocking,
                  "async_connect: use a non-blocking socket type (tcp_stream_nb, unix_stream_nb, ...)");

public:
    static constexpr bool writes = true;
    static constexpr const char* operation_name = "sockframe: async_connect";
    using address_type = typename Socket::address_type;

    connect_op(Loop& loop, const address_type& a, deadline d, cancel_state* t, std::error_code* ec)
        : base(loop, nullptr, d, t, ec), address_(a) {}

    /// The connected socket (closed on failure, no-throw form).
    Socket await_resume() {
        this->release_waiter();  // before the socket is closed or handed over
        if (this->ec_) socket_.close();
        this->report();
        return std::move(socket_);
    }
    bool attempt() noexcept {
        std::error_code ec = no_error();
        if (!started_) {
            started_ = true;
            socket_ = Socket::connect(address_, ec);
            if (ec == std::errc::operation_in_progress || is_would_block(ec)) return false;
        } else {
            ec = socket_.connect_result();  // told only once the socket is writable or failed
        }
        this->ec_ = ec;
        return true;
    }
    auto native() const noexcept { return socket_.native_handle(); }

private:
    address_type address_;
    Socket socket_;
    bool started_ = false;
};

/// The receive awaitable of async_receive and async_framed.
template <typename Loop, typename Framed>
class receive_op final : public io_op<Loop, receive_op<Loop, Framed>> {
    using base = io_op<Loop, receive_op<Loop, Framed>>;

public:
    static constexpr bool writes = false;
    static constexpr const char* operation_name = "sockframe: async_receive";

    receive_op(Loop& loop, Framed& conn, io_waiter<Loop>* shared, deadline d, cancel_state* t,
               std::error_code* ec, receive_buffer_pool* pool = nullptr) noexcept
        : base(loop, shared, d, t, ec), conn_(&conn), pool_(pool) {}

    /// The next frame (a view valid until the next receive), or nullopt: end-of-stream (no
    /// error) or, in the no-throw form, an error.
    std::optional<const_buffer> await_resume() {
        this->release_waiter();
        this->report(conn_->error_size());
        return frame_;
    }
    bool attempt() {
        std::error_code& ec = this->ec_;  // every path below sets it
        read_waits_write_ = false;
        if (first_attempt_ && conn_->buffered() == 0 &&
            (conn_->input_drained() || conn_->receive_capacity() == 0) && !conn_->at_end() &&
            endpoint_pending_input(conn_->endpoint()) == 0) {
            // The last read emptied the socket and nothing is buffered: a read now would most
            // likely find nothing (a wasted system call per frame in request-response
            // traffic). Wait for readability instead; a frame already there only costs the loop
            // one iteration. A connection not read from yet waits too, so that one that stays
            // idle never takes a receive buffer.
            ec = std::make_error_code(std::errc::operation_would_block);
        } else {
            if (pool_ != nullptr) pool_->lend_to(*conn_);
            frame_ = conn_->try_receive(ec);
            // a TLS read may have to write before it can read on
            if (is_would_block(ec)) read_waits_write_ = endpoint_waits_write(conn_->endpoint(), false);
        }
        first_attempt_ = false;
        if (is_would_block(ec)) {
            // Nothing to read: an empty receive buffer goes back to the loop's pool while this
            // connection waits. The replies that sends left queued (coalesced) leave now, before
            // waiting; what the socket does not take waits for writability along with the read.
            if (pool_ != nullptr) pool_->take_from(*conn_);
            write_queued_ = false;
            if (conn_->pending() == 0) return false;
            conn_->flush(ec);
            if (!ec) {
                write_queued_ = conn_->pending() > 0;
                return false;
            }
        }
        return true;
    }
    auto native() const noexcept { return conn_->endpoint().native_handle(); }
    bool also_waits_other_direction() const noexcept { return write_queued_; }
    bool waits_for_write() const noexcept { return read_waits_write_; }

private:
    Framed* conn_;
    receive_buffer_pool* pool_;  // the loop's spare receive buffers (async_framed), or nullptr
    std::optional<const_buffer> frame_;
    bool write_queued_ = false;
    bool first_attempt_ = true;
    bool read_waits_write_ = false;  // the endpoint's read waits for writability (TLS)
};

/// The send awaitable of async_send and async_framed.
template <typename Loop, typename Framed>
class send_op final : public io_op<Loop, send_op<Loop, Framed>> {
    using base = io_op<Loop, send_op<Loop, Framed>>;

public:
    static constexpr bool writes = true;
    static constexpr const char* operation_name = "sockframe: async_send";

    send_op(Loop& loop, Framed& conn, const_buffer payload, io_waiter<Loop>* shared, deadline d,
            cancel_state* t, std::error_code* ec, bool flush_only = false) noexcept
        : base(loop, shared, d, t, ec), conn_(&conn), payload_(payload), accepted_(flush_only) {}

    /// Returns once the frame and everything queued before it is written (or failed).
    void await_resume() {
        this->release_waiter();
        this->report(payload_.size());
    }
    bool attempt() {
        std::error_code& ec = this->ec_;  // every path below sets it
        if (!accepted_) {
            // More input waits in the receive buffer (pipelined requests): queue only
            const bool coalesce = !message_oriented && conn_->buffered() > 0;
            put(coalesce, ec);
            if (ec && ec == errc::buffer_full) {  // the queue is at its mark: make room, then retry
                conn_->flush(ec);
                if (!ec) put(coalesce, ec);
                if (ec && ec == errc::buffer_full) {
                    write_waits_write_ = endpoint_waits_write(conn_->endpoint(), true);
                    return false;
                }
            }
            if (ec) return true;
            accepted_ = true;
            if (coalesce && conn_->writable()) {
                // More input waits in the receive buffer: a reply to a pipelined frame. It stays
                // queued and leaves with the next send that finds the buffer empty, or before the
                // next receive waits: one write for a whole batch of replies.
                return true;
            }
        }
        const bool flushed = conn_->flush(ec);
        // a TLS write may have to read before it can write on
        write_waits_write_ = flushed || ec || endpoint_waits_write(conn_->endpoint(), true);
        return flushed || ec;
    }
    auto native() const noexcept { return conn_->endpoint().native_handle(); }
    bool waits_for_write() const noexcept { return write_waits_write_; }

private:
    static constexpr bool message_oriented =
        endpoint_traits<typename Framed::endpoint_type>::message_oriented;

    void put(bool queue_only, std::error_code& ec) {
        if constexpr (!message_oriented) {
            if (queue_only) return conn_->queue(payload_, ec);
        }
        conn_->send(payload_, ec);
    }

    Framed* conn_;
    const_buffer payload_;
    bool accepted_ = false;
    bool write_waits_write_ = true;  // false: the endpoint's write waits for readability (TLS)
};

/// async_handshake's awaitable: steps a stream's handshake (a TLS stream's) each time its handle
/// turns ready in the direction the stream asks for.
template <typename Loop, typename Stream>
class handshake_op : public io_op<Loop, handshake_op<Loop, Stream>> {
    using base = io_op<Loop, handshake_op<Loop, Stream>>;
    static_assert(!Stream::mode_type::is_blocking,
                  "async_handshake: use a stream over a non-blocking socket (tls_tcp_stream_nb, ...)");

public:
    static constexpr bool writes = false;
    static constexpr const char* operation_name = "sockframe: async_handshake";

    handshake_op(Loop& loop, Stream& s, io_waiter<Loop>* shared, deadline d, cancel_state* t,
                 std::error_code* ec) noexcept
        : base(loop, shared, d, t, ec), stream_(&s) {}

    /// Returns once the handshake is complete; a failed one (a certificate that does not verify,
    /// a peer that is not TLS, a reset) is its error code, thrown or reported.
    void await_resume() {
        this->release_waiter();
        this->report();
    }
    bool attempt() {
        std::error_code ec;
        stream_->handshake(ec);
        if (is_would_block(ec)) {
            waits_write_ = stream_->wants_write();
            return false;
        }
        this->ec_ = ec;
        return true;
    }
    auto native() const noexcept { return stream_->native_handle(); }
    bool waits_for_write() const noexcept { return waits_write_; }

private:
    Stream* stream_;
    bool waits_write_ = false;
};

/// async_sleep's awaitable.
template <typename Loop>
class sleep_op : public coro_op<Loop, sleep_op<Loop>> {
    using base = coro_op<Loop, sleep_op<Loop>>;

public:
    static constexpr const char* operation_name = "sockframe: async_sleep";

    sleep_op(Loop& loop, deadline::clock::time_point until, cancel_state* t, std::error_code* ec) noexcept
        : base(loop, deadline(until), t, ec) {}

    /// Only a cancelled token finishes at once: even a sleep of zero goes through the loop.
    bool await_ready() noexcept { return this->cancelled_now(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return this->arm(h); }
    /// Throws (or reports) only operation_canceled, or not_enough_memory.
    void await_resume() {
        if (this->ec_ == std::errc::timed_out) this->ec_ = no_error();  // the timer: the sleep is over
        this->report();
    }
    void stop_waiting() noexcept {}
};

/// The receive awaitable of async_receive and async_framed: a frame already whole in the buffer
/// is taken at once, without the machinery of a wait; anything else goes through receive_op.
template <typename Loop, typename Framed>
class framed_receive {
public:
    framed_receive(Loop& loop, Framed& conn, io_waiter<Loop>* shared, deadline d, cancel_state* t,
                   std::error_code* ec, receive_buffer_pool* pool = nullptr) noexcept
        : loop_(&loop), conn_(&conn), shared_(shared), pool_(pool), deadline_(d), cancel_(t), user_ec_(ec) {}
    framed_receive(const framed_receive&) = delete;
    framed_receive& operator=(const framed_receive&) = delete;

    /// True: finished without suspending (a buffered frame, an error, a cancelled token...).
    /// The fast paths (await_ready, await_resume) are always inlined: a coroutine body is large,
    /// and the compiler's growth limits would otherwise leave them, or what they call, as calls.
    SOCKFRAME_ALWAYS_INLINE bool await_ready() {
        if (cancel_ == nullptr || !cancel_->cancelled) {
            if ((frame_ = conn_->take_buffered())) return true;
        }
        return start();
    }
    /// Waits for readiness, the deadline or cancellation.
    bool await_suspend(std::coroutine_handle<> h) { return op_->await_suspend(h); }
    /// The frame (a view valid until the next receive), or nullopt: end-of-stream (no error) or,
    /// in the no-throw form, an error.
    SOCKFRAME_ALWAYS_INLINE std::optional<const_buffer> await_resume() {
        if (!op_) {
            if (user_ec_ != nullptr && *user_ec_) *user_ec_ = no_error();
            return frame_;
        }
        return op_->await_resume();
    }

private:
    // The general path, out of line so that the fast one inlines into the coroutine.
    SOCKFRAME_NOINLINE bool start() {
        op_.emplace(*loop_, *conn_, shared_, deadline_, cancel_, user_ec_, pool_);
        return op_->await_ready();
    }

    Loop* loop_;
    Framed* conn_;
    io_waiter<Loop>* shared_;
    receive_buffer_pool* pool_;
    deadline deadline_;
    cancel_state* cancel_;
    std::error_code* user_ec_;
    std::optional<const_buffer> frame_;
    std::optional<receive_op<Loop, Framed>> op_;
};

/// The send awaitable of async_send and async_framed: a reply to a pipelined frame that fits the
/// queue is queued at once (coalesced, see async_send); anything else goes through send_op.
template <typename Loop, typename Framed>
class framed_send {
public:
    framed_send(Loop& loop, Framed& conn, const_buffer payload, io_waiter<Loop>* shared, deadline d,
                cancel_state* t, std::error_code* ec) noexcept
        : loop_(&loop),
          conn_(&conn),
          payload_(payload),
          shared_(shared),
          deadline_(d),
          cancel_(t),
          user_ec_(ec) {}
    framed_send(const framed_send&) = delete;
    framed_send& operator=(const framed_send&) = delete;

    /// True: finished without suspending (queued or written, or failed).
    SOCKFRAME_ALWAYS_INLINE bool await_ready() {
        bool queued = false;
        if ((cancel_ == nullptr || !cancel_->cancelled) && conn_->buffered() > 0) {
            queued = conn_->try_queue(payload_);
            if (queued && conn_->writable()) return true;  // leaves with a later write
        }
        return start(queued);
    }
    /// Waits for writability, the deadline or cancellation.
    bool await_suspend(std::coroutine_handle<> h) { return op_->await_suspend(h); }
    /// Returns once the frame and everything queued before it is written (or failed).
    SOCKFRAME_ALWAYS_INLINE void await_resume() {
        if (!op_) {
            if (user_ec_ != nullptr && *user_ec_) *user_ec_ = no_error();
            return;
        }
        op_->await_resume();
    }

private:
    // The general path, out of line so that the fast one inlines into the coroutine. `queued`:
    // the frame was queued past the high-water mark, and what remains is to flush.
    SOCKFRAME_NOINLINE bool start(bool queued) {
        op_.emplace(*loop_, *conn_, payload_, shared_, deadline_, cancel_, user_ec_, queued);
        return op_->await_ready();
    }

    Loop* loop_;
    Framed* conn_;
    const_buffer payload_;
    io_waiter<Loop>* shared_;
    deadline deadline_;
    cancel_state* cancel_;
    std::error_code* user_ec_;
    std::optional<send_op<Loop, Framed>> op_;
};

}  // namespace detail

// ---- awaitable operations ----------------------------------------------------------------------

/// Accepts a connection on a non-blocking listener (tcp_listener_nb, ...): `auto [s, from] = co_await
/// async_accept(loop, listener)`. The socket is non-blocking too.
template <typename Loop, typename Listener>
detail::accept_op<Loop, Listener> async_accept(Loop& loop, Listener& listener, deadline d = {}) {
    return {loop, listener, d, nullptr, nullptr};
}
/// The same, never throwing: on failure `ec` is set and the socket is empty.
template <typename Loop, typename Listener>
detail::accept_op<Loop, Listener> async_accept(Loop& loop, Listener& listener, deadline d,
                                               std::error_code& ec) {
    return {loop, listener, d, nullptr, &ec};
}
/// The same, cancellable through `token`.
template <typename Loop, typename Listener>
detail::accept_op<Loop, Listener> async_accept(Loop& loop, Listener& listener, deadline d,
                                               const cancel_token& token) {
    return {loop, listener, d, token.state(), nullptr};
}
/// The same, cancellable and never throwing.
template <typename Loop, typename Listener>
detail::accept_op<Loop, Listener> async_accept(Loop& loop, Listener& listener, deadline d,
                                               const cancel_token& token, std::error_code& ec) {
    return {loop, listener, d, token.state(), &ec};
}

/// Connects a new non-blocking `Socket` (tcp_stream_nb unless named: `async_connect<unix_stream_nb>`)
/// to `address`; on failure, timeout or cancellation the socket is closed.
template <typename Socket = tcp_stream_nb, typename Loop>
detail::connect_op<Loop, Socket> async_connect(Loop& loop, const typename Socket::address_type& address,
                                               deadline d = {}) {
    return {loop, address, d, nullptr, nullptr};
}
/// The same, never throwing: on failure `ec` is set and the socket returned is closed.
template <typename Socket = tcp_stream_nb, typename Loop>
detail::connect_op<Loop, Socket> async_connect(Loop& loop, const typename Socket::address_type& address,
                                               deadline d, std::error_code& ec) {
    return {loop, address, d, nullptr, &ec};
}
/// The same, cancellable through `token`.
template <typename Socket = tcp_stream_nb, typename Loop>
detail::connect_op<Loop, Socket> async_connect(Loop& loop, const typename Socket::address_type& address,
                                               deadline d, const cancel_token& token) {
    return {loop, address, d, token.state(), nullptr};
}
/// The same, cancellable and never throwing.
template <typename Socket = tcp_stream_nb, typename Loop>
detail::connect_op<Loop, Socket> async_connect(Loop& loop, const typename Socket::address_type& address,
                                               deadline d, const cancel_token& token, std::error_code& ec) {
    return {loop, address, d, token.state(), &ec};
}

/// The next frame of a framed connection over a non-blocking endpoint, as framed::receive: a
/// view valid until the next receive, nullopt at end-of-stream. A frame already buffered is
/// returned without suspending. Each call registers and cancels its own watch; async_framed
/// keeps one per connection (and lets a receive and a send wait at the same time).
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_receive<Loop, framed<Endpoint, Codec>> async_receive(Loop& loop, framed<Endpoint, Codec>& conn,
                                                                    deadline d = {}) {
    return {loop, conn, nullptr, d, nullptr, nullptr};
}
/// The same, never throwing: nullopt with `ec` clear is end-of-stream, with `ec` set an error.
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_receive<Loop, framed<Endpoint, Codec>> async_receive(Loop& loop, framed<Endpoint, Codec>& conn,
                                                                    deadline d, std::error_code& ec) {
    return {loop, conn, nullptr, d, nullptr, &ec};
}
/// The same, cancellable through `token`.
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_receive<Loop, framed<Endpoint, Codec>> async_receive(Loop& loop, framed<Endpoint, Codec>& conn,
                                                                    deadline d, const cancel_token& token) {
    return {loop, conn, nullptr, d, token.state(), nullptr};
}
/// The same, cancellable and never throwing.
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_receive<Loop, framed<Endpoint, Codec>> async_receive(Loop& loop, framed<Endpoint, Codec>& conn,
                                                                    deadline d, const cancel_token& token,
                                                                    std::error_code& ec) {
    return {loop, conn, nullptr, d, token.state(), &ec};
}

/// Frames and sends `payload` on a framed connection over a non-blocking endpoint: the frame is
/// sent or queued (waiting for writability while the queue is at its high-water mark), then the
/// queue is flushed; completes when everything is written. A frame that fits completes without
/// suspending. `payload` must stay valid until then. After a timeout or cancellation what was
/// queued stays queued (the next send or flush carries on).
///
/// Coalescing: while received bytes wait in the connection's buffer (pipelined requests), a
/// send completes once its frame is queued (the payload is copied), without writing: the queue
/// leaves in one write with the next send that finds the receive buffer empty, or before the
/// next receive waits for the socket. So an echo loop answers a batch of pipelined frames with
/// one write. A coroutine that stops receiving after such a send co_awaits flush() (or
/// async_flush) to know the replies have left.
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_send<Loop, framed<Endpoint, Codec>> async_send(Loop& loop, framed<Endpoint, Codec>& conn,
                                                              const_buffer payload, deadline d = {}) {
    return {loop, conn, payload, nullptr, d, nullptr, nullptr};
}
/// The same, never throwing.
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_send<Loop, framed<Endpoint, Codec>> async_send(Loop& loop, framed<Endpoint, Codec>& conn,
                                                              const_buffer payload, deadline d,
                                                              std::error_code& ec) {
    return {loop, conn, payload, nullptr, d, nullptr, &ec};
}
/// The same, cancellable through `token`.
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_send<Loop, framed<Endpoint, Codec>> async_send(Loop& loop, framed<Endpoint, Codec>& conn,
                                                              const_buffer payload, deadline d,
                                                              const cancel_token& token) {
    return {loop, conn, payload, nullptr, d, token.state(), nullptr};
}
/// The same, cancellable and never throwing.
template <typename Loop, typename Endpoint, typename Codec>
detail::framed_send<Loop, framed<Endpoint, Codec>> async_send(Loop& loop, framed<Endpoint, Codec>& conn,
                                                              const_buffer payload, deadline d,
                                                              const cancel_token& token,
                                                              std::error_code& ec) {
    return {loop, conn, payload, nullptr, d, token.state(), &ec};
}

/// Writes what is queued on a framed connection (replies a coalesced send left queued);
/// completes once everything is written. Completes at once when nothing is queued.
template <typename Loop, typename Endpoint, typename Codec>
detail::send_op<Loop, framed<Endpoint, Codec>> async_flush(Loop& loop, framed<Endpoint, Codec>& conn,
                                                           deadline d = {}) {
    return {loop, conn, const_buffer{}, nullptr, d, nullptr, nullptr, true};
}
/// The same, never throwing.
template <typename Loop, typename Endpoint, typename Codec>
detail::send_op<Loop, framed<Endpoint, Codec>> async_flush(Loop& loop, framed<Endpoint, Codec>& conn,
                                                           deadline d, std::error_code& ec) {
    return {loop, conn, const_buffer{}, nullptr, d, nullptr, &ec, true};
}

/// Completes the handshake of a stream over a non-blocking socket (tls_stream<tcp_stream_nb, ...>):
/// each step waits for readability or writability as the stream asks (wants_write()). A
/// handshake that fails completes with its error (a verification failure is
/// is_tls_verify_error()). After a failure, timeout or cancellation the stream is left as it is
/// (abort() or close() it).
template <typename Loop, typename Stream>
detail::handshake_op<Loop, Stream> async_handshake(Loop& loop, Stream& stream, deadline d = {}) {
    return {loop, stream, nullptr, d, nullptr, nullptr};
}
/// The same, never throwing.
template <typename Loop, typename Stream>
detail::handshake_op<Loop, Stream> async_handshake(Loop& loop, Stream& stream, deadline d,
                                                   std::error_code& ec) {
    return {loop, stream, nullptr, d, nullptr, &ec};
}
/// The same, cancellable through `token`.
template <typename Loop, typename Stream>
detail::handshake_op<Loop, Stream> async_handshake(Loop& loop, Stream& stream, deadline d,
                                                   const cancel_token& token) {
    return {loop, stream, nullptr, d, token.state(), nullptr};
}
/// The same, cancellable and never throwing.
template <typename Loop, typename Stream>
detail::handshake_op<Loop, Stream> async_handshake(Loop& loop, Stream& stream, deadline d,
                                                   const cancel_token& token, std::error_code& ec) {
    return {loop, stream, nullptr, d, token.state(), &ec};
}

/// Resumes the coroutine `duration` from now, from the loop (a zero duration yields to the
/// loop for one iteration). Sleeps with equal ends resume in the order started.
template <typename Loop, typename Rep, typename Period>
detail::sleep_op<Loop> async_sleep(Loop& loop, std::chrono::duration<Rep, Period> duration) {
    return {loop, deadline::after(duration), nullptr, nullptr};
}
/// The same, cancellable: throws std::system_error(operation_canceled) when cancelled.
template <typename Loop, typename Rep, typename Period>
detail::sleep_op<Loop> async_sleep(Loop& loop, std::chrono::duration<Rep, Period> duration,
                                   const cancel_token& token) {
    return {loop, deadline::after(duration), token.state(), nullptr};
}
/// The same, cancellable and never throwing (`ec`: operation_canceled, or clear).
template <typename Loop, typename Rep, typename Period>
detail::sleep_op<Loop> async_sleep(Loop& loop, std::chrono::duration<Rep, Period> duration,
                                   const cancel_token& token, std::error_code& ec) {
    return {loop, deadline::after(duration), token.state(), &ec};
}

/// A framed connection bound to a loop, for coroutines: `co_await conn.receive()` and
/// `co_await conn.send(payload)` (the awaitables of async_receive and async_send). It keeps one
/// watch on its handle for its whole life, so that a receive after a receive costs no system
/// call, and a receive and a send (from two coroutines) may wait at the same time (one of each).
/// Movable while no operation waits on it. The endpoint must be non-blocking (tcp_stream_nb...).
template <typename Endpoint, typename Codec, typename Loop = event_loop>
class async_framed {
    static_assert(!Endpoint::mode_type::is_blocking,
                  "async_framed: use a non-blocking endpoint (tcp_stream_nb, unix_stream_nb, ...)");

public:
    /// The framed connection underneath.
    using framed_type = framed<Endpoint, Codec>;
    /// What receive() returns (co_await gives std::optional<const_buffer>).
    using receive_awaitable = detail::framed_receive<Loop, framed_type>;
    /// What send() returns (co_await gives nothing).
    using send_awaitable = detail::framed_send<Loop, framed_type>;
    /// What flush() returns (co_await gives nothing).
    using flush_awaitable = detail::send_op<Loop, framed_type>;

    /// Frames `endpoint` with `codec` on `loop`. Throws std::bad_alloc only.
    async_framed(Loop& loop, Endpoint endpoint, Codec codec = Codec{})
        : async_framed(loop, framed_type(std::move(endpoint), std::move(codec))) {}
    /// Binds an existing framed connection (what it has buffered is kept) to `loop`.
    async_framed(Loop& loop, framed_type conn)
        : loop_(&loop),
          conn_(std::move(conn)),
          waiter_(std::make_unique<detail::io_waiter<Loop>>(loop, conn_.endpoint().native_handle())),
          pool_(detail::receive_buffer_pool::of(loop)) {}

    /// The next frame (see async_receive).
    receive_awaitable receive(deadline d = {}) {
        return {*loop_, conn_, waiter_.get(), d, nullptr, nullptr, pool_};
    }
    /// The same, never throwing.
    receive_awaitable receive(deadline d, std::error_code& ec) {
        return {*loop_, conn_, waiter_.get(), d, nullptr, &ec, pool_};
    }
    /// The same, cancellable through `token`.
    receive_awaitable receive(deadline d, const cancel_token& token) {
        return {*loop_, conn_, waiter_.get(), d, token.state(), nullptr, pool_};
    }
    /// The same, cancellable and never throwing.
    receive_awaitable receive(deadline d, const cancel_token& token, std::error_code& ec) {
        return {*loop_, conn_, waiter_.get(), d, token.state(), &ec, pool_};
    }

    /// Frames and sends `payload` (see async_send).
    send_awaitable send(const_buffer payload, deadline d = {}) {
        return {*loop_, conn_, payload, waiter_.get(), d, nullptr, nullptr};
    }
    /// The same, never throwing.
    send_awaitable send(const_buffer payload, deadline d, std::error_code& ec) {
        return {*loop_, conn_, payload, waiter_.get(), d, nullptr, &ec};
    }
    /// The same, cancellable through `token`.
    send_awaitable send(const_buffer payload, deadline d, const cancel_token& token) {
        return {*loop_, conn_, payload, waiter_.get(), d, token.state(), nullptr};
    }
    /// The same, cancellable and never throwing.
    send_awaitable send(const_buffer payload, deadline d, const cancel_token& token, std::error_code& ec) {
        return {*loop_, conn_, payload, waiter_.get(), d, token.state(), &ec};
    }

    /// The handshake of a TLS endpoint (see async_handshake), through this connection's watch.
    /// Only for endpoints with a handshake (tls_stream).
    detail::handshake_op<Loop, Endpoint> handshake(deadline d = {}) {
        return {*loop_, conn_.endpoint(), waiter_.get(), d, nullptr, nullptr};
    }
    /// The same, never throwing.
    detail::handshake_op<Loop, Endpoint> handshake(deadline d, std::error_code& ec) {
        return {*loop_, conn_.endpoint(), waiter_.get(), d, nullptr, &ec};
    }
    /// The same, cancellable through `token`.
    detail::handshake_op<Loop, Endpoint> handshake(deadline d, const cancel_token& token) {
        return {*loop_, conn_.endpoint(), waiter_.get(), d, token.state(), nullptr};
    }
    /// The same, cancellable and never throwing.
    detail::handshake_op<Loop, Endpoint> handshake(deadline d, const cancel_token& token,
                                                   std::error_code& ec) {
        return {*loop_, conn_.endpoint(), waiter_.get(), d, token.state(), &ec};
    }

    /// Writes what is queued (see async_flush).
    flush_awaitable flush(deadline d = {}) {
        return {*loop_, conn_, const_buffer{}, waiter_.get(), d, nullptr, nullptr, true};
    }
    /// The same, never throwing.
    flush_awaitable flush(deadline d, std::error_code& ec) {
        return {*loop_, conn_, const_buffer{}, waiter_.get(), d, nullptr, &ec, true};
    }

    /// The framed connection (for its settings and state: high_water_mark, buffered, at_end...).
    framed_type& connection() noexcept { return conn_; }
    /// The same, read-only.
    const framed_type& connection() const noexcept { return conn_; }
    /// The loop it is bound to.
    Loop& loop() const noexcept { return *loop_; }
    /// Stops watching and closes the endpoint; no operation may be waiting. What is still queued
    /// is written first as far as the socket takes it without waiting (co_await flush() first
    /// to be sure every reply has left).
    void close() noexcept {
        std::error_code ignored;
        if (conn_.pending() > 0) conn_.flush(ignored);
        if (waiter_) waiter_->close();
        conn_.endpoint().close();
    }

private:
    Loop* loop_;
    framed_type conn_;
    std::unique_ptr<detail::io_waiter<Loop>> waiter_;  // after conn_: destroyed (unwatched) first
    detail::receive_buffer_pool* pool_;                // the loop's spare receive buffers, if any
};

/// Deduces async_framed's types from `async_framed{loop, std::move(socket), codec}`.
template <typename Loop, typename Endpoint, typename Codec>
async_framed(Loop&, Endpoint, Codec) -> async_framed<Endpoint, Codec, Loop>;
/// Deduces async_framed's types from `async_framed{loop, std::move(framed_connection)}`.
template <typename Loop, typename Endpoint, typename Codec>
async_framed(Loop&, framed<Endpoint, Codec>) -> async_framed<Endpoint, Codec, Loop>;

SOCKFRAME_NAMESPACE_END

#endif
