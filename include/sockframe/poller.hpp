// SPDX-License-Identifier: MIT
#pragma once
/// poller: waits until any of many non-blocking sockets is ready to read or write. Level-triggered:
/// a handle that is still ready is reported again by the next wait. epoll on Linux, kqueue on
/// macOS/BSD, WSAPoll on Windows; poll() everywhere with SOCKFRAME_POLLER_USE_POLL.
///
/// Thread safety: one poller is used by one thread at a time (add, modify, remove and wait
/// included). To wake a waiting poller from another thread, register one end of a socketpair and
/// write a byte to the other.

#include <sockframe/config.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/detail/poller_backends.hpp>
#include <sockframe/error.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

/// What a registration waits for; combine with `|`.
enum class interest : unsigned { none = 0, read = 1, write = 2 };

/// Both interests.
constexpr interest operator|(interest a, interest b) noexcept {
    return static_cast<interest>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
/// The interests in both.
constexpr interest operator&(interest a, interest b) noexcept {
    return static_cast<interest>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
/// The interests in one of the two only.
constexpr interest operator^(interest a, interest b) noexcept {
    return static_cast<interest>(static_cast<unsigned>(a) ^ static_cast<unsigned>(b));
}
/// Adds `b`.
constexpr interest& operator|=(interest& a, interest b) noexcept { return a = a | b; }
/// Keeps only what is also in `b`.
constexpr interest& operator&=(interest& a, interest b) noexcept { return a = a & b; }
/// Toggles `b`.
constexpr interest& operator^=(interest& a, interest b) noexcept { return a = a ^ b; }

/// One ready handle, as reported by poller::wait.
struct poll_event {
    detail::native_handle_type handle;  ///< the registered handle
    std::uint64_t key;                  ///< the key given to add()/modify()
    bool readable;  ///< a read will not block (data, a pending connection, or end-of-stream)
    bool writable;  ///< a write will not block; after a non-blocking connect: the connect finished
    bool hangup;    ///< the peer closed (at least its sending side): reads soon give end-of-stream
    bool error;     ///< the socket has a pending error (read it with connect_result() or a call)
};

/// The poller over a given backend; use the alias `poller`, which picks the platform's best.
template <typename Backend>
class basic_poller {
public:
    /// The OS handle type of the watched sockets.
    using native_handle_type = detail::native_handle_type;

    /// Creates the kernel object (epoll_create1(EPOLL_CLOEXEC), kqueue(); nothing for poll).
    basic_poller() {
        std::error_code ec;
        backend_.open(ec);
        detail::throw_if(ec, "sockframe: create poller");
    }
    /// Opens the OS poller, never throwing.
    explicit basic_poller(std::error_code& ec) noexcept { backend_.open(ec); }

    basic_poller(const basic_poller&) = delete;
    basic_poller& operator=(const basic_poller&) = delete;
    /// Takes `other`'s OS poller and registrations.
    basic_poller(basic_poller&&) noexcept = default;
    /// Closes this poller, then takes `other`'s.
    basic_poller& operator=(basic_poller&&) noexcept = default;
    ~basic_poller() = default;

    /// Registers `h` for `what`; each event for it carries `key`. Registering a handle twice is
    /// errc::already_registered. Remove a handle before closing it.
    void add(native_handle_type h, interest what, std::uint64_t key) {
        std::error_code ec;
        add(h, what, key, ec);
        detail::throw_if(ec, "sockframe: poller add");
    }
    /// add(h, what, key), never throwing.
    void add(native_handle_type h, interest what, std::uint64_t key, std::error_code& ec) noexcept {
        ec = backend_.add(h, wants_read(what), wants_write(what), key);
    }
    /// Changes the interest and key of a registered handle (errc::not_registered otherwise).
    void modify(native_handle_type h, interest what, std::uint64_t key) {
        std::error_code ec;
        modify(h, what, key, ec);
        detail::throw_if(ec, "sockframe: poller modify");
    }
    /// modify(h, what, key), never throwing.
    void modify(native_handle_type h, interest what, std::uint64_t key, std::error_code& ec) noexcept {
        ec = backend_.modify(h, wants_read(what), wants_write(what), key);
    }
    /// Unregisters `h` (errc::not_registered if it is not). Events already returned by a wait
    /// for it are stale: check the key, or process removals after the batch.
    void remove(native_handle_type h) {
        std::error_code ec;
        remove(h, ec);
        detail::throw_if(ec, "sockframe: poller remove");
    }
    /// remove(h), never throwing.
    void remove(native_handle_type h, std::error_code& ec) noexcept { ec = backend_.remove(h); }

    /// The same for anything with native_handle(): sockets, listeners.
    template <typename Socket, typename = decltype(std::declval<const Socket&>().native_handle())>
    void add(const Socket& s, interest what, std::uint64_t key) {
        add(s.native_handle(), what, key);
    }
    /// add(s, what, key), never throwing.
    template <typename Socket, typename = decltype(std::declval<const Socket&>().native_handle())>
    void add(const Socket& s, interest what, std::uint64_t key, std::error_code& ec) noexcept {
        add(s.native_handle(), what, key, ec);
    }
    /// modify(s.native_handle(), what, key).
    template <typename Socket, typename = decltype(std::declval<const Socket&>().native_handle())>
    void modify(const Socket& s, interest what, std::uint64_t key) {
        modify(s.native_handle(), what, key);
    }
    /// modify(s, what, key), never throwing.
    template <typename Socket, typename = decltype(std::declval<const Socket&>().native_handle())>
    void modify(const Socket& s, interest what, std::uint64_t key, std::error_code& ec) noexcept {
        modify(s.native_handle(), what, key, ec);
    }
    /// remove(s.native_handle()).
    template <typename Socket, typename = decltype(std::declval<const Socket&>().native_handle())>
    void remove(const Socket& s) {
        remove(s.native_handle());
    }
    /// remove(s), never throwing.
    template <typename Socket, typename = decltype(std::declval<const Socket&>().native_handle())>
    void remove(const Socket& s, std::error_code& ec) noexcept {
        remove(s.native_handle(), ec);
    }

    /// Waits until at least one registered handle is ready or `d` passes (default: no limit).
    /// Clears `events` and fills it (at most SOCKFRAME_POLLER_MAX_EVENTS; its capacity is reused,
    /// so a steady loop does not allocate). Returns the count; a timeout is 0 events, not an
    /// error. EINTR is retried with the time left.
    std::size_t wait(std::vector<poll_event>& events, deadline d = {}) {
        std::error_code ec;
        auto n = wait(events, d, ec);
        detail::throw_if(ec, "sockframe: poller wait");
        return n;
    }
    /// wait(events), never throwing.
    std::size_t wait(std::vector<poll_event>& events, std::error_code& ec) noexcept {
        return wait(events, deadline{}, ec);
    }
    /// wait(events, d), never throwing: 0 events when `d` passes first.
    std::size_t wait(std::vector<poll_event>& events, deadline d, std::error_code& ec) noexcept {
        events.clear();
        const std::size_t max_events = SOCKFRAME_POLLER_MAX_EVENTS;
        std::size_t want = backend_.size() < max_events ? backend_.size() : max_events;
        if (events.capacity() < want) {
            try {
                events.reserve(want);
            } catch (const std::bad_alloc&) {
                ec = detail::out_of_memory_error();
                return 0;
            }
        }
        auto when = d.resolve(std::nullopt);
        for (;;) {
            int n = backend_.wait(
                detail::poll_timeout_ms(when), max_events,
                [&](const detail::ready_event& r) {
                    // capacity reserved above: push_back does not allocate
                    events.push_back(poll_event{r.handle, r.key, r.readable, r.writable, r.hangup, r.error});
                },
                ec);
            if (n < 0) {
                if (ec == std::errc::interrupted) continue;
                return 0;
            }
            if (!events.empty()) return events.size();
            // nothing yet: timed out (0 events, no error), or woken early by rounding
            if (when && deadline::clock::now() >= *when) return 0;
        }
    }

    /// The number of registered handles.
    std::size_t size() const noexcept { return backend_.size(); }
    /// The mechanism in use: "epoll", "kqueue", "poll" or "wsapoll".
    static const char* backend() noexcept { return Backend::name(); }

private:
    static bool wants_read(interest what) noexcept { return (what & interest::read) != interest::none; }
    static bool wants_write(interest what) noexcept { return (what & interest::write) != interest::none; }

    Backend backend_;
};

/// The poller of this platform: epoll, kqueue or WSAPoll (poll() with SOCKFRAME_POLLER_USE_POLL).
/// A distinct type per backend, so translation units that choose differently can share a program.
using poller = basic_poller<detail::default_poller_backend>;

SOCKFRAME_NAMESPACE_END
