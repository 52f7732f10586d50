// SPDX-License-Identifier: MIT
#pragma once
/// event_loop: one thread's poller, timers, cross-thread post() and signals. One loop per thread,
/// no hidden threads; many cores = many loops.
///
/// Thread safety: post() and stop() may be called from any thread at any time while the loop
/// exists. Everything else (watch, timers, signals, run*) belongs to the thread that runs the
/// loop, or to any one thread while no thread runs it. Handles (io_watch, timer) must not
/// outlive their loop.

#include <sockframe/config.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/detail/atomic.hpp>
#include <sockframe/detail/event_loop_os.hpp>
#include <sockframe/detail/function.hpp>
#include <sockframe/detail/owned.hpp>
#include <sockframe/error.hpp>
#include <sockframe/poller.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <new>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

template <typename Poller, typename Os>
class basic_event_loop;

namespace detail {
/// One object that a layer over an event loop keeps for the loop's life (coro.hpp keeps the spare
/// receive buffers of its connections there): made on first use, destroyed with the loop. Only
/// one type ever lives in it.
class loop_attachment {
public:
    loop_attachment() noexcept = default;
    loop_attachment(const loop_attachment&) = delete;
    loop_attachment& operator=(const loop_attachment&) = delete;
    ~loop_attachment() {
        if (destroy_ != nullptr) destroy_(object_);
    }
    /// The object, made (default-constructed) by the first call. Throws std::bad_alloc only.
    template <typename T>
    T& get() {
        if (object_ == nullptr) {
            object_ = new T();
            destroy_ = [](void* p) { delete static_cast<T*>(p); };
        }
        return *static_cast<T*>(object_);
    }

private:
    void* object_ = nullptr;
    void (*destroy_)(void*) = nullptr;
};
}  // namespace detail

/// What a watch callback is told about its handle (flags as in poll_event, filtered by the
/// watch's current interest; hangup and error are reported whatever the interest).
struct io_event {
    bool readable;  ///< a read will not block (data, a pending connection, or end-of-stream)
    bool writable;  ///< a write will not block; after a non-blocking connect: the connect finished
    bool hangup;    ///< the peer closed (at least its sending side)
    bool error;     ///< the handle has a pending error
};

/// A registration made by event_loop::watch (use the alias `io_watch`). A plain handle: copying
/// it copies the reference, dropping it does not cancel. Cancel it before closing the watched
/// handle.
template <typename Loop>
class basic_io_watch {
public:
    /// A handle to nothing (active() is false).
    basic_io_watch() noexcept = default;

    /// Whether the registration is still in force.
    bool active() const noexcept { return loop_ != nullptr && loop_->watch_active(index_, generation_); }
    /// The same as active().
    explicit operator bool() const noexcept { return active(); }
    /// Changes what the registration waits for (errc::not_registered once cancelled).
    void modify(interest what) {
        std::error_code ec;
        modify(what, ec);
        detail::throw_if(ec, "sockframe: io_watch modify");
    }
    /// The same, never throwing.
    void modify(interest what, std::error_code& ec) noexcept {
        ec.clear();
        if (loop_ == nullptr)
            ec = errc::not_registered;
        else
            loop_->modify_watch(index_, generation_, what, ec);
    }
    /// Ends the registration; its callback is not called again, not even for an event already
    /// collected in the current batch. Returns false if it was not active. O(1).
    bool cancel() noexcept { return loop_ != nullptr && loop_->cancel_watch(index_, generation_); }

private:
    friend Loop;
    basic_io_watch(Loop* loop, std::uint32_t index, std::uint32_t generation) noexcept
        : loop_(loop), index_(index), generation_(generation) {}
    Loop* loop_ = nullptr;
    std::uint32_t index_ = 0;
    std::uint32_t generation_ = 0;
};

namespace detail {
/// Slots that never move once made (a callback may run from one while another is added), found
/// by index in two steps: a vector of fixed-size chunks. std::deque gives the same stability,
/// but its operator[] costs a division's worth of arithmetic on every event.
template <typename T>
class stable_slots {
public:
    /// How many slots there are.
    std::size_t size() const noexcept { return size_; }
    /// Slot `i` (< size()).
    T& operator[](std::size_t i) noexcept { return chunks_[i >> chunk_bits][i & chunk_mask]; }
    /// The same, read-only.
    const T& operator[](std::size_t i) const noexcept { return chunks_[i >> chunk_bits][i & chunk_mask]; }
    /// Adds a value-initialised slot at index size(). Throws std::bad_alloc only (nothing changes).
    void emplace_back() {
        if ((size_ >> chunk_bits) == chunks_.size()) {
            auto chunk = detail::make_owned_array<T>(chunk_size);
            chunks_.push_back(std::move(chunk));  // if this throws, the chunk is freed
        }
        ++size_;
    }

private:
    static constexpr std::size_t chunk_bits = 6;
    static constexpr std::size_t chunk_size = std::size_t{1} << chunk_bits;
    static constexpr std::size_t chunk_mask = chunk_size - 1;
    std::vector<detail::owned<T[]>> chunks_;
    std::size_t size_ = 0;
};

/// Removes the elements of `v` for which `remove(element)` holds; the others keep their order
/// (C++20's std::erase_if, without <algorithm>).
template <typename T, typename Remove>
void erase_if(std::vector<T>& v, Remove remove) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (remove(v[i])) continue;
        if (kept != i) v[kept] = std::move(v[i]);
        ++kept;
    }
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(kept), v.end());
}
}  // namespace detail

/// A timer armed by event_loop::after, at or every (use the alias `timer`). A plain handle:
/// dropping it does not cancel.
template <typename Loop>
class basic_timer {
public:
    /// A handle to nothing (active() is false).
    basic_timer() noexcept = default;

    /// Whether the timer will still fire: false once a one-shot timer's callback has started,
    /// or once cancelled.
    bool active() const noexcept { return loop_ != nullptr && loop_->timer_active(index_, generation_); }
    /// The same as active().
    explicit operator bool() const noexcept { return active(); }
    /// Disarms the timer (a periodic one too, also from inside its own callback). Returns false
    /// if it was not active (fired already, cancelled, or empty). O(1).
    bool cancel() noexcept { return loop_ != nullptr && loop_->cancel_timer(index_, generation_); }

private:
    friend Loop;
    basic_timer(Loop* loop, std::uint32_t index, std::uint32_t generation) noexcept
        : loop_(loop), index_(index), generation_(generation) {}
    Loop* loop_ = nullptr;
    std::uint32_t index_ = 0;
    std::uint32_t generation_ = 0;
};

/// Blocks `signals` in the calling thread where the event loop receives signals through a
/// signalfd (Linux); does nothing elsewhere. Call it before starting other threads (they inherit
/// the mask): a signal that some thread does not block may be delivered to that thread, with its
/// default action, instead of to the loop.
inline void block_signals(std::initializer_list<int> signals, std::error_code& ec) noexcept {
    ec = detail::block_signals_in_thread(signals);
}
/// The same, throwing std::system_error. With no argument: SIGINT and SIGTERM.
inline void block_signals(std::initializer_list<int> signals = {SIGINT, SIGTERM}) {
    std::error_code ec;
    block_signals(signals, ec);
    detail::throw_if(ec, "sockframe: block signals");
}

/// One thread's event loop: I/O readiness callbacks over a poller, one-shot and periodic timers
/// on the steady clock, callbacks posted from any thread, and signals.
///
/// An iteration waits in the poller (until the earliest timer at most), then runs, in this order:
/// the I/O callbacks of the ready handles, the timers that are due, the callbacks posted before
/// the iteration began. Callbacks never run re-entrantly: one posted or armed by a callback runs
/// in a later iteration. An exception thrown by a callback propagates out of run*(); the loop
/// stays usable, and what that iteration did not get to runs in the next one (ready handles are
/// reported again, being level-triggered; posted callbacks keep their order).
///
/// Use the alias `event_loop` (over the platform's `poller` and wake-up and signal mechanisms);
/// basic_event_loop<Poller, Os> exists so that translation units choosing different poller
/// backends stay distinct types, and so that the portable POSIX mechanisms
/// (detail::posix_loop_os: a pipe and a sigaction self-pipe) can be used and tested on Linux.
template <typename Poller, typename Os = detail::default_loop_os>
class basic_event_loop {
public:
    /// The poller type underneath.
    using poller_type = Poller;
    /// The handle type returned by watch().
    using io_watch = basic_io_watch<basic_event_loop>;
    /// The handle type returned by after(), at() and every().
    using timer = basic_timer<basic_event_loop>;
    /// The clock of timers and deadlines.
    using clock = deadline::clock;
    /// A handle as the poller knows it (a descriptor, or a SOCKET on Windows).
    using native_handle_type = typename Poller::native_handle_type;

    /// Creates the poller and the wake-up channel; throws std::system_error on failure.
    basic_event_loop() {
        std::error_code ec;
        open(ec);
        detail::throw_if(ec, "sockframe: create event loop");
    }
    /// The same, never throwing; `ec` says what failed (the loop is then unusable).
    explicit basic_event_loop(std::error_code& ec) noexcept { open(ec); }

    basic_event_loop(const basic_event_loop&) = delete;
    basic_event_loop& operator=(const basic_event_loop&) = delete;
    /// Callbacks still posted are destroyed without running; signal dispositions and masks are
    /// restored (see on_signal).
    ~basic_event_loop() = default;

    // ---- running ----------------------------------------------------------------------------

    /// Runs iterations until stop() is called, then returns. It does not return when there is
    /// nothing to do: another thread may still post. Each stop() ends one run(); a stop() made
    /// before run() starts makes it return at once.
    void run() {
        std::error_code ec;
        run(ec);
        detail::throw_if(ec, "sockframe: event loop run");
    }
    /// The same; `ec` reports the loop's own failures (the poller, a re-entrant call:
    /// std::errc::resource_deadlock_would_occur). Exceptions from callbacks still propagate.
    void run(std::error_code& ec) {
        run_guard guard(*this, ec);
        if (ec) return;
        while (!stop_requested_.exchange(false)) {
            step(std::nullopt, ec);
            if (ec) return;
        }
    }

    /// Waits until something happens (a ready handle, a due timer, a post, a signal, a stop()),
    /// runs it, and returns the number of callbacks run (0 when woken by stop() alone).
    std::size_t run_once() {
        std::error_code ec;
        auto n = run_once(ec);
        detail::throw_if(ec, "sockframe: event loop run_once");
        return n;
    }
    /// The same, with the error reported in `ec`.
    std::size_t run_once(std::error_code& ec) {
        run_guard guard(*this, ec);
        if (ec) return 0;
        for (;;) {
            std::size_t n = step(std::nullopt, ec);
            if (n != 0 || ec || !events_.empty() || stop_requested_.load()) return n;
            // woken for a timer that is not quite due (the poller's millisecond rounding)
        }
    }

    /// Runs what is ready now without waiting; returns the number of callbacks run.
    std::size_t poll() {
        std::error_code ec;
        auto n = poll(ec);
        detail::throw_if(ec, "sockframe: event loop poll");
        return n;
    }
    /// The same, with the error reported in `ec`.
    std::size_t poll(std::error_code& ec) {
        run_guard guard(*this, ec);
        if (ec) return 0;
        return step(clock::now(), ec);
    }

    /// Runs iterations for `d` or until stop() (which it then consumes, as run() does); returns
    /// the number of callbacks run.
    template <typename Rep, typename Period>
    std::size_t run_for(std::chrono::duration<Rep, Period> d) {
        std::error_code ec;
        auto n = run_for(d, ec);
        detail::throw_if(ec, "sockframe: event loop run_for");
        return n;
    }
    /// The same, with the error reported in `ec`.
    template <typename Rep, typename Period>
    std::size_t run_for(std::chrono::duration<Rep, Period> d, std::error_code& ec) {
        return run_until(deadline::after(d), ec);
    }
    /// Runs iterations until `t` or until stop(); returns the number of callbacks run.
    std::size_t run_until(clock::time_point t) {
        std::error_code ec;
        auto n = run_until(t, ec);
        detail::throw_if(ec, "sockframe: event loop run_until");
        return n;
    }
    /// The same, with the error reported in `ec`.
    std::size_t run_until(clock::time_point t, std::error_code& ec) {
        run_guard guard(*this, ec);
        if (ec) return 0;
        std::size_t total = 0;
        while (!stop_requested_.exchange(false)) {
            total += step(t, ec);
            if (ec || clock::now() >= t) break;
        }
        return total;
    }

    /// Busy polling: after an iteration that ran callbacks, the next one looks at the poller
    /// again and again without sleeping, for up to `d`, before it blocks (0, the default: it
    /// blocks at once). A loop that is still awake when the next message arrives spares the
    /// sender's write the cost of waking a sleeping thread (on another CPU an inter-processor
    /// interrupt, in a virtual machine an exit to the hypervisor), and spares itself the wake-up
    /// latency: under a steady stream of requests both ends do less work per message. The price
    /// is CPU time: the thread spins for up to `d` after each burst of work (an idle loop does
    /// not spin). Timers, posts, signals and stop() are seen during the spin as during a wait; it
    /// ends at the earliest timer. A negative `d` is 0; one longer than a day is a day. Set it
    /// from the loop's thread, or before run().
    template <typename Rep, typename Period>
    void set_busy_poll(std::chrono::duration<Rep, Period> d) noexcept {
        if (!(d > std::chrono::duration<Rep, Period>::zero()))
            busy_poll_ = clock::duration::zero();
        else if (deadline::exceeds(d, std::chrono::hours(24)))
            busy_poll_ = std::chrono::hours(24);
        else
            busy_poll_ = std::chrono::duration_cast<clock::duration>(d);
    }
    /// The busy-polling window set by set_busy_poll (zero: off).
    clock::duration busy_poll() const noexcept { return busy_poll_; }

    /// Makes run() / run_for() return once the current iteration is over. Thread-safe; wakes a
    /// waiting loop.
    void stop() noexcept {
        stop_requested_.store(true);
        wake();
    }
    /// Whether a stop() has not yet been consumed by run() / run_for().
    bool stop_requested() const noexcept { return stop_requested_.load(); }
    /// Whether the calling thread is inside this loop's run*() (so callbacks may be invoked
    /// directly instead of posted).
    bool running_in_this_thread() const noexcept {
        return running_.load() && thread_.load() == detail::this_thread_token();
    }

    /// Queues `f` (callable as f()) to run on the loop's thread in a later iteration and wakes
    /// the loop. Thread-safe. Callbacks run in the order posted. Throws only std::bad_alloc.
    template <typename F>
    void post(F&& f) {
        {
            detail::loop_lock lock(post_mutex_);
            posted_.emplace_back(std::forward<F>(f));
        }
        if (running_in_this_thread())
            local_posts_ = true;  // the loop looks at this before it waits: no system call needed
        else
            wake();
    }

    // ---- I/O --------------------------------------------------------------------------------

    /// Calls `f(io_event)` whenever `h` is ready for `what` (level-triggered: again and again
    /// while it stays ready). A handle can be watched once at a time (errc::already_registered).
    /// Cancel the watch before closing the handle.
    template <typename F>
    io_watch watch(native_handle_type h, interest what, F&& f) {
        std::error_code ec;
        auto w = watch(h, what, std::forward<F>(f), ec);
        detail::throw_if(ec, "sockframe: event loop watch");
        return w;
    }
    /// The same, never throwing (std::errc::not_enough_memory if the callback cannot be stored).
    template <typename F>
    io_watch watch(native_handle_type h, interest what, F&& f, std::error_code& ec) noexcept {
        std::uint32_t index = 0;
        try {
            reserve_free_list(free_watches_, watches_.size() + 1);
            if (free_watches_.empty()) {
                watches_.emplace_back();
                index = static_cast<std::uint32_t>(watches_.size() - 1);
            } else {
                index = free_watches_.back();
                free_watches_.pop_back();
            }
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return {};
        }
        watch_slot& slot = watches_[index];
        try {
            slot.fn = std::forward<F>(f);
        } catch (...) {
            release_watch(index);
            ec = std::make_error_code(std::errc::not_enough_memory);
            return {};
        }
        poller_.add(h, what, watch_key(index, slot.generation), ec);
        if (ec) {
            release_watch(index);
            return {};
        }
        slot.handle = h;
        slot.what = what;
        slot.active = true;
        ++watch_count_;
        return io_watch(this, index, slot.generation);
    }
    /// The same for anything with native_handle() (sockets, listeners).
    template <typename Socket, typename F, typename = decltype(std::declval<const Socket&>().native_handle())>
    io_watch watch(const Socket& s, interest what, F&& f) {
        return watch(s.native_handle(), what, std::forward<F>(f));
    }
    /// The same, never throwing.
    template <typename Socket, typename F, typename = decltype(std::declval<const Socket&>().native_handle())>
    io_watch watch(const Socket& s, interest what, F&& f, std::error_code& ec) noexcept {
        return watch(s.native_handle(), what, std::forward<F>(f), ec);
    }
    /// The number of active watches.
    std::size_t watch_count() const noexcept { return watch_count_; }

    // ---- timers -----------------------------------------------------------------------------

    /// Calls `f()` once, `d` from now (a zero or negative `d`: in the next iteration). Throws
    /// only std::bad_alloc.
    template <typename Rep, typename Period, typename F>
    timer after(std::chrono::duration<Rep, Period> d, F&& f) {
        return arm(deadline::after(d), clock::duration::zero(), std::forward<F>(f));
    }
    /// Calls `f()` once at `t` on the steady clock.
    template <typename F>
    timer at(clock::time_point t, F&& f) {
        return arm(t, clock::duration::zero(), std::forward<F>(f));
    }
    /// Calls `f()` every `period` (the first time one period from now) until cancelled. Ticks
    /// keep to the original schedule; when the loop falls more than a period behind, the missed
    /// ticks are skipped, not run in a burst. A period that is not positive is
    /// errc::invalid_argument (thrown).
    template <typename Rep, typename Period, typename F>
    timer every(std::chrono::duration<Rep, Period> period, F&& f) {
        auto p = std::chrono::ceil<clock::duration>(period);
        if (p <= clock::duration::zero())
            detail::throw_error(make_error_code(errc::invalid_argument), "sockframe: timer period");
        return arm(deadline::after(p), p, std::forward<F>(f));
    }
    /// The number of armed timers.
    std::size_t timer_count() const noexcept { return live_timers_; }

    // ---- signals ----------------------------------------------------------------------------

    /// Calls `f(signo)` on the loop's thread when signal `signo` arrives (several callbacks for
    /// one signal run in the order added).
    ///
    /// Linux: the signal is blocked in the calling thread and read from a signalfd. It must be
    /// blocked in every thread of the process (block_signals() before starting threads), else
    /// the kernel may deliver it to a thread that does not block it. The loop's destructor (or
    /// cancel_signal) consumes a pending instance and unblocks the signal again if this thread
    /// blocked it and the destructor runs in this thread.
    /// Other POSIX systems: a process-wide handler (sigaction) writes to a pipe; the previous
    /// handler is restored by cancel_signal or the destructor. A signal has one such handler per
    /// process: one loop at a time may handle it (std::errc::device_or_resource_busy otherwise).
    /// Windows: errc::not_supported.
    /// Several arrivals of one signal before the loop reads them may count as one. If a signal
    /// callback throws, the signals read with it that were not yet delivered are lost.
    template <typename F>
    void on_signal(int signo, F&& f) {
        std::error_code ec;
        on_signal(signo, std::forward<F>(f), ec);
        detail::throw_if(ec, "sockframe: event loop on_signal");
    }
    /// The same, never throwing.
    template <typename F>
    void on_signal(int signo, F&& f, std::error_code& ec) noexcept {
        bool had = signals_.contains(signo);
        signals_.add(signo, ec);
        if (ec) return;
        if (!signals_registered_) {
            poller_.add(signals_.handle(), interest::read, signal_key, ec);
            if (ec) {
                signals_.remove(signo);
                return;
            }
            signals_registered_ = true;
        }
        try {
            signal_handlers_.push_back(
                signal_handler{signo, detail::function<void(int)>(std::forward<F>(f))});
        } catch (...) {
            if (!had) signals_.remove(signo);
            ec = std::make_error_code(std::errc::not_enough_memory);
        }
    }
    /// Removes every callback for `signo` and restores the signal's previous state (see
    /// on_signal).
    void cancel_signal(int signo) noexcept {
        detail::erase_if(signal_handlers_, [signo](const signal_handler& h) { return h.signo == signo; });
        signals_.remove(signo);
    }
    /// Makes SIGINT and SIGTERM call stop() (a graceful end of run()); see on_signal.
    void stop_on_signals() {
        std::error_code ec;
        stop_on_signals(ec);
        detail::throw_if(ec, "sockframe: event loop stop_on_signals");
    }
    /// The same, never throwing (errc::not_supported on Windows).
    void stop_on_signals(std::error_code& ec) noexcept {
        const bool had_sigint = signals_.contains(SIGINT);  // a callback of its own is kept
        on_signal(
            SIGINT, [this](int) { stop(); }, ec);
        if (ec) return;
        on_signal(
            SIGTERM, [this](int) { stop(); }, ec);
        if (ec) {  // undo the SIGINT callback just added, and only that
            signal_handlers_.pop_back();
            if (!had_sigint) signals_.remove(SIGINT);
        }
    }

    /// Internal: what a layer over the loop keeps for the loop's life (see detail::loop_attachment).
    detail::loop_attachment& attachment() noexcept { return attachment_; }

private:
    friend io_watch;
    friend timer;

    static constexpr std::uint32_t none = (std::numeric_limits<std::uint32_t>::max)();
    static constexpr std::uint64_t wake_key = (std::numeric_limits<std::uint64_t>::max)();
    static constexpr std::uint64_t signal_key = wake_key - 1;
    /// Below this many heap entries, cancelled timers are left for the heap to drop lazily.
    static constexpr std::size_t compact_threshold = 1024;

    struct watch_slot {
        detail::function<void(io_event)> fn;
        native_handle_type handle{};
        interest what = interest::none;
        std::uint32_t generation = 1;
        bool active = false;
    };
    struct timer_slot {
        detail::function<void()> fn;
        clock::duration period{};
        std::uint32_t generation = 1;
        bool armed = false;
    };
    struct heap_entry {
        clock::time_point due;
        std::uint64_t sequence;  // ties fire in the order armed
        std::uint32_t index;
        std::uint32_t generation;
    };
    /// Whether `a` fires after `b` (no two entries tie: each has its own sequence number).
    static bool fires_later(const heap_entry& a, const heap_entry& b) noexcept {
        return a.due > b.due || (a.due == b.due && a.sequence > b.sequence);
    }
    // The timer heap: a binary min-heap on (due, sequence) in heap_, the earliest at the front.
    /// Moves the last entry up to its place.
    void heap_sift_up() noexcept {
        std::size_t i = heap_.size() - 1;
        const heap_entry e = heap_[i];
        while (i > 0) {
            const std::size_t parent = (i - 1) / 2;
            if (!fires_later(heap_[parent], e)) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = e;
    }
    /// Moves the entry at `i` down to its place.
    void heap_sift_down(std::size_t i) noexcept {
        const std::size_t n = heap_.size();
        const heap_entry e = heap_[i];
        for (;;) {
            std::size_t child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && fires_later(heap_[child], heap_[child + 1])) ++child;
            if (!fires_later(e, heap_[child])) break;
            heap_[i] = heap_[child];
            i = child;
        }
        heap_[i] = e;
    }
    /// Room for every slot's index in a free list, so that freeing a slot never allocates;
    /// grown geometrically (reserve alone would reallocate for every new slot).
    static void reserve_free_list(std::vector<std::uint32_t>& list, std::size_t slots) {
        if (list.capacity() < slots) list.reserve(slots > 2 * list.capacity() ? slots : 2 * list.capacity());
    }
    static std::uint64_t watch_key(std::uint32_t index, std::uint32_t generation) noexcept {
        return (static_cast<std::uint64_t>(generation) << 32) | index;
    }

    /// Marks the loop as running in this thread for the duration of a run*() call.
    class run_guard {
    public:
        run_guard(basic_event_loop& loop, std::error_code& ec) noexcept : loop_(loop) {
            ec.clear();
            if (loop_.open_error_) {
                ec = loop_.open_error_;
                return;
            }
            if (loop_.running_.exchange(true)) {
                ec = std::make_error_code(std::errc::resource_deadlock_would_occur);
                return;
            }
            owns_ = true;
            loop_.thread_.store(detail::this_thread_token());
        }
        run_guard(const run_guard&) = delete;
        run_guard& operator=(const run_guard&) = delete;
        ~run_guard() {
            if (!owns_) return;
            loop_.thread_.store(0);
            loop_.running_.store(false);
        }

    private:
        basic_event_loop& loop_;
        bool owns_ = false;
    };

    void open(std::error_code& ec) noexcept {
        ec = poller_error_;
        if (!ec) wakeup_.open(ec);
        if (!ec) poller_.add(wakeup_.handle(), interest::read, wake_key, ec);
        open_error_ = ec;
    }

    void wake() noexcept {
        if (!wake_pending_.exchange(true)) wakeup_.notify();
    }

    /// One iteration: wait (at most until `limit` and the earliest timer), then run callbacks.
    std::size_t step(std::optional<clock::time_point> limit, std::error_code& ec) {
        if (!running_posts_.empty()) requeue_posts(0);  // left over by a callback that threw
        bool take_posts = std::exchange(local_posts_, false);
        const std::uint64_t first_new_timer = sequence_;
        std::optional<clock::time_point> when = limit;
        if (take_posts)
            when = clock::time_point{};  // posted callbacks wait: do not block
        else if (auto t = earliest_timer(); t && (!when || *t < *when))
            when = t;
        const bool ready = std::exchange(spin_next_, false) && !take_posts && spin(when, ec);
        if (!ready && !ec) poller_.wait(events_, when ? deadline(*when) : deadline::never(), ec);
        if (ec) {
            local_posts_ = take_posts;
            return 0;
        }
        for (const poll_event& e : events_) {
            if (e.key == wake_key) {
                wakeup_.drain();
                wake_pending_.store(false);
                take_posts = true;
                break;
            }
        }
        if (take_posts) {
            // Taken before any callback runs: what this iteration's callbacks post waits for the
            // next iteration.
            detail::loop_lock lock(post_mutex_);
            running_posts_.swap(posted_);
        }
        std::size_t ran = 0;
        for (const poll_event& e : events_) {
            if (e.key == signal_key)
                ran += read_signals();
            else if (e.key != wake_key)
                ran += dispatch_io(e);
        }
        ran += run_due_timers(first_new_timer);
        if (!running_posts_.empty()) ran += run_posts();
        spin_next_ = ran != 0 && busy_poll_ != clock::duration::zero();
        return ran;
    }

    /// Busy polling (set_busy_poll): polls without waiting until something is ready, the window
    /// ends or `when` (the earliest timer, the caller's limit) comes. Polls at least once, so a
    /// window that a preemption used up still looks before the blocking wait; not at all when
    /// `when` has passed (the wait that follows does not block). Returns whether events_ holds
    /// something ready.
    bool spin(const std::optional<clock::time_point>& when, std::error_code& ec) noexcept {
        const auto now = clock::now();
        if (when && *when <= now) return false;
        auto until = now + busy_poll_;
        if (when && *when < until) until = *when;
        const deadline no_wait((clock::time_point::min)());
        do {
            poller_.wait(events_, no_wait, ec);
        } while (!ec && events_.empty() && clock::now() < until);
        return !ec && !events_.empty();
    }

    std::size_t dispatch_io(const poll_event& e) {
        auto index = static_cast<std::uint32_t>(e.key);
        auto generation = static_cast<std::uint32_t>(e.key >> 32);
        if (index >= watches_.size()) return 0;
        watch_slot& slot = watches_[index];
        // cancelled, or cancelled and reused, since the batch was collected: a stale event
        if (!slot.active || slot.generation != generation) return 0;
        io_event ev{e.readable && (slot.what & interest::read) != interest::none,
                    e.writable && (slot.what & interest::write) != interest::none, e.hangup, e.error};
        if (!ev.readable && !ev.writable && !ev.hangup && !ev.error) return 0;  // interest changed
        running_watch_ = index;
        struct after_call {
            basic_event_loop& loop;
            std::uint32_t index;
            ~after_call() {
                loop.running_watch_ = none;
                if (!loop.watches_[index].active) loop.release_watch(index);  // cancelled inside
            }
        } guard{*this, index};
        slot.fn(ev);
        return 1;
    }

    /// Frees a slot whose registration has ended. The free list's capacity was reserved when
    /// the slot was made, so this never allocates.
    void release_watch(std::uint32_t index) noexcept {
        watch_slot& slot = watches_[index];
        slot.fn = nullptr;
        slot.active = false;
        free_watches_.push_back(index);
    }

    bool cancel_watch(std::uint32_t index, std::uint32_t generation) noexcept {
        if (index >= watches_.size()) return false;
        watch_slot& slot = watches_[index];
        if (!slot.active || slot.generation != generation) return false;
        std::error_code ignored;  // a handle closed already has left the kernel's set
        poller_.remove(slot.handle, ignored);
        slot.active = false;
        ++slot.generation;
        --watch_count_;
        if (index != running_watch_) release_watch(index);  // else after its callback returns
        return true;
    }

    bool watch_active(std::uint32_t index, std::uint32_t generation) const noexcept {
        return index < watches_.size() && watches_[index].active && watches_[index].generation == generation;
    }

    void modify_watch(std::uint32_t index, std::uint32_t generation, interest what,
                      std::error_code& ec) noexcept {
        if (!watch_active(index, generation)) {
            ec = errc::not_registered;
            return;
        }
        watch_slot& slot = watches_[index];
        poller_.modify(slot.handle, what, watch_key(index, generation), ec);
        if (!ec) slot.what = what;
    }

    template <typename F>
    timer arm(clock::time_point due, clock::duration period, F&& f) {
        reserve_free_list(free_timers_, timers_.size() + 1);
        std::uint32_t index;
        if (free_timers_.empty()) {
            timers_.emplace_back();
            index = static_cast<std::uint32_t>(timers_.size() - 1);
        } else {
            index = free_timers_.back();
            free_timers_.pop_back();
        }
        timer_slot& slot = timers_[index];
        try {
            slot.fn = std::forward<F>(f);
            heap_.push_back(heap_entry{due, sequence_++, index, slot.generation});
        } catch (...) {
            release_timer(index);
            throw;
        }
        heap_sift_up();
        slot.period = period;
        slot.armed = true;
        ++live_timers_;
        return timer(this, index, slot.generation);
    }

    void release_timer(std::uint32_t index) noexcept {
        timers_[index].fn = nullptr;
        free_timers_.push_back(index);  // capacity reserved by arm()
    }

    bool stale(const heap_entry& e) const noexcept {
        const timer_slot& slot = timers_[e.index];
        return !slot.armed || slot.generation != e.generation;
    }

    bool timer_active(std::uint32_t index, std::uint32_t generation) const noexcept {
        return index < timers_.size() && timers_[index].armed && timers_[index].generation == generation;
    }

    bool cancel_timer(std::uint32_t index, std::uint32_t generation) noexcept {
        if (!timer_active(index, generation)) return false;
        timer_slot& slot = timers_[index];
        slot.armed = false;
        ++slot.generation;
        --live_timers_;
        if (index != running_timer_) release_timer(index);  // else after its callback returns
        // Lazy deletion: the heap entry stays until it reaches the front, unless cancelled
        // entries outnumber live ones; then they are dropped in one O(n) pass.
        if (heap_.size() >= compact_threshold && heap_.size() > 2 * live_timers_) {
            detail::erase_if(heap_, [this](const heap_entry& e) { return stale(e); });
            for (std::size_t i = heap_.size() / 2; i-- > 0;) heap_sift_down(i);
        }
        return true;
    }

    void pop_timer() noexcept {
        heap_.front() = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) heap_sift_down(0);
    }

    std::optional<clock::time_point> earliest_timer() noexcept {
        while (!heap_.empty() && stale(heap_.front())) pop_timer();
        if (heap_.empty()) return std::nullopt;
        return heap_.front().due;
    }

    /// Runs the timers due now that were armed before this iteration (one armed by a callback,
    /// even for "now", waits for the next iteration).
    std::size_t run_due_timers(std::uint64_t first_new) {
        if (heap_.empty()) return 0;
        const auto now = clock::now();
        std::size_t ran = 0;
        while (!heap_.empty()) {
            const heap_entry e = heap_.front();
            if (stale(e)) {
                pop_timer();
                continue;
            }
            if (e.due > now || e.sequence >= first_new) break;
            pop_timer();
            fire(e, now);
            ++ran;
        }
        return ran;
    }

    void fire(const heap_entry& e, clock::time_point now) {
        timer_slot& slot = timers_[e.index];
        const bool periodic = slot.period != clock::duration::zero();
        if (!periodic) {  // a one-shot timer is over once its callback starts
            slot.armed = false;
            ++slot.generation;
            --live_timers_;
        }
        running_timer_ = e.index;
        struct after_call {
            basic_event_loop& loop;
            const heap_entry& e;
            clock::time_point now;
            ~after_call() {
                loop.running_timer_ = none;
                timer_slot& s = loop.timers_[e.index];
                if (!s.armed) {
                    loop.release_timer(e.index);
                    return;
                }
                auto next = e.due + s.period;
                if (next <= now) next = now + s.period;  // fell behind: skip the missed ticks
                try {
                    loop.heap_.push_back(heap_entry{next, loop.sequence_++, e.index, e.generation});
                    loop.heap_sift_up();
                } catch (...) {  // no memory to re-arm: the timer ends
                    s.armed = false;
                    ++s.generation;
                    --loop.live_timers_;
                    loop.release_timer(e.index);
                }
            }
        } guard{*this, e, now};
        slot.fn();
    }

    std::size_t read_signals() {
        std::size_t ran = 0;
        signals_.read([&](int signo) {
            // by index and by copy: a callback may add or cancel signal callbacks
            for (std::size_t i = 0; i < signal_handlers_.size(); ++i) {
                if (signal_handlers_[i].signo != signo) continue;
                auto f = signal_handlers_[i].fn;
                f(signo);
                ++ran;
            }
        });
        return ran;
    }

    std::size_t run_posts() {
        std::size_t i = 0;
        try {
            for (; i < running_posts_.size(); ++i) running_posts_[i]();
        } catch (...) {
            requeue_posts(i + 1);
            throw;
        }
        running_posts_.clear();
        return i;
    }

    /// After a posted callback threw: the ones after it go back to the front of the queue.
    void requeue_posts(std::size_t from) noexcept {
        try {
            detail::loop_lock lock(post_mutex_);
            posted_.insert(
                posted_.begin(),
                std::make_move_iterator(running_posts_.begin() + static_cast<std::ptrdiff_t>(from)),
                std::make_move_iterator(running_posts_.end()));
        } catch (...) {  // no memory: they are lost
        }
        running_posts_.clear();
        local_posts_ = true;
    }

    // Order matters: the poller's error is taken before the poller is made.
    std::error_code poller_error_;
    Poller poller_{poller_error_};
    std::error_code open_error_;
    typename Os::wakeup wakeup_;
    typename Os::signals signals_;
    bool signals_registered_ = false;
    std::vector<poll_event> events_;

    detail::stable_slots<watch_slot> watches_;  // slots never move while a callback runs
    std::vector<std::uint32_t> free_watches_;
    std::size_t watch_count_ = 0;
    std::uint32_t running_watch_ = none;

    detail::stable_slots<timer_slot> timers_;
    std::vector<std::uint32_t> free_timers_;
    std::vector<heap_entry> heap_;
    std::size_t live_timers_ = 0;
    std::uint64_t sequence_ = 0;
    std::uint32_t running_timer_ = none;

    struct signal_handler {
        int signo;
        detail::function<void(int)> fn;
    };
    std::vector<signal_handler> signal_handlers_;

    detail::loop_mutex post_mutex_;
    std::vector<detail::function<void()>> posted_;
    std::vector<detail::function<void()>> running_posts_;
    bool local_posts_ = false;     // posted from the loop's own thread since the last look
    clock::duration busy_poll_{};  // set_busy_poll
    bool spin_next_ = false;       // the last iteration ran callbacks: spin before blocking

    detail::atomic_value<bool> wake_pending_{false};
    detail::atomic_value<bool> stop_requested_{false};
    detail::atomic_value<bool> running_{false};
    detail::atomic_value<std::uintptr_t> thread_{0};
    detail::loop_attachment attachment_;
};

/// The event loop over the platform's poller.
using event_loop = basic_event_loop<poller>;
/// What event_loop::watch returns (event_loop::io_watch, named without instantiating the loop).
using io_watch = basic_io_watch<event_loop>;
/// What event_loop::after, at and every return (event_loop::timer).
using timer = basic_timer<event_loop>;

SOCKFRAME_NAMESPACE_END
