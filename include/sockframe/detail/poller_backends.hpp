// SPDX-License-Identifier: MIT
#pragma once
/// The poller's operating-system backends: epoll (Linux), kqueue (macOS, BSD), poll (POSIX
/// fallback) and WSAPoll (Windows). Each has the same members; basic_poller<Backend> adds the
/// public API. Every backend is level-triggered.
///
/// A handle closed while registered (not removed first) leaves a stale entry; every backend makes
/// it harmless for a later add() of a socket that gets the same number:
/// - epoll: the kernel drops a closed descriptor from the set; add() asks the kernel
///   (EPOLL_CTL_ADD, EEXIST only for a live registration) and replaces the stale entry. size()
///   counts the stale entry until then; remove() of it succeeds.
/// - kqueue: the kernel drops the closed descriptor's filters; add() compares the socket's
///   identity (fstat device and inode) with the one registered and replaces a stale entry.
/// - poll (POSIX): the same identity check on add(); a wait drops entries whose descriptor is
///   closed (POLLNVAL) without reporting them, so size() is right again after it.
/// - WSAPoll (Windows): no identity check (add() of a reused handle value is already_registered
///   until the next wait); a wait drops closed handles (POLLNVAL) without reporting them.

#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#if defined(SOCKFRAME_LINUX)
#include <sys/epoll.h>
#endif
#if defined(SOCKFRAME_BSD)
#include <sys/event.h>
#include <sys/time.h>
#endif

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

/// What a backend reports for one ready handle.
struct ready_event {
    native_handle_type handle;
    std::uint64_t key;
    bool readable, writable, hangup, error;
};

/// Which open socket a descriptor number names, to tell a live registration from a stale one
/// whose descriptor was closed and whose number was reused (POSIX: device and inode; a socket's
/// inode is unique while it is open). Unknown (all zero) where the system cannot tell.
struct handle_identity {
    std::uint64_t device = 0, inode = 0;
    bool known() const noexcept { return device != 0 || inode != 0; }
    friend bool operator==(const handle_identity& a, const handle_identity& b) noexcept {
        return a.device == b.device && a.inode == b.inode;
    }
};
inline handle_identity identity_of(native_handle_type h) noexcept {
    handle_identity id;
    std::uint64_t device = 0, inode = 0;
    if (file_identity(h, device, inode)) {
        id.device = device;
        id.inode = inode;
    }
    return id;
}

/// The memory of a backend allocation failure, as an error code.
inline std::error_code out_of_memory_error() noexcept {
    return std::make_error_code(std::errc::not_enough_memory);
}

#if defined(SOCKFRAME_POSIX)
/// Per-descriptor bookkeeping for the kernel-side backends: POSIX descriptors are small integers,
/// so a vector indexed by descriptor gives O(1) lookups without hashing.
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_descriptor_table {
public:
    struct slot {
        std::uint64_t key = 0;
        handle_identity identity{};  // kqueue: which open socket the registration was made for
        bool registered = false;
        std::uint32_t batch = 0;  // kqueue: the wait in which `index` was last set
        std::size_t index = 0;    // kqueue: where this descriptor's event is in that wait's output
    };
    slot* find(native_handle_type h) noexcept {
        if (h < 0 || static_cast<std::size_t>(h) >= slots_.size() ||
            !slots_[static_cast<std::size_t>(h)].registered)
            return nullptr;
        return &slots_[static_cast<std::size_t>(h)];
    }
    /// The slot for `h`, growing the table if needed; null if `h` is negative or memory runs out.
    slot* make(native_handle_type h) noexcept {
        if (h < 0) return nullptr;
        auto i = static_cast<std::size_t>(h);
        if (i >= slots_.size()) {
            try {
                slots_.resize(i + 1 < 64 ? 64 : (i + 1) * 3 / 2);
            } catch (...) {
                return nullptr;
            }
        }
        return &slots_[i];
    }

private:
    std::vector<slot> slots_;
};
/// The one instantiation.
using descriptor_table = basic_descriptor_table<>;
#endif

#if defined(SOCKFRAME_LINUX)
/// epoll: the kernel keeps the interest set; a wait costs O(ready), not O(registered).
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_epoll_backend {
public:
    static const char* name() noexcept { return "epoll"; }

    basic_epoll_backend() noexcept = default;
    basic_epoll_backend(basic_epoll_backend&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)),
          table_(std::move(o.table_)),
          ready_(std::move(o.ready_)),
          count_(std::exchange(o.count_, 0)) {}
    basic_epoll_backend& operator=(basic_epoll_backend&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            table_ = std::move(o.table_);
            ready_ = std::move(o.ready_);
            count_ = std::exchange(o.count_, 0);
        }
        return *this;
    }
    ~basic_epoll_backend() { close(); }

    void open(std::error_code& ec) noexcept {
        fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (fd_ < 0)
            ec = last_error();
        else
            ec.clear();
    }
    void close() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

    /// A descriptor this table still lists may have been closed (which takes it out of the
    /// epoll set) and its number reused: the kernel, not the table, decides. EPOLL_CTL_ADD fails
    /// with EEXIST only for a live registration; otherwise the stale entry is replaced.
    std::error_code add(native_handle_type h, bool read, bool write, std::uint64_t key) noexcept {
        if (h < 0) return std::make_error_code(std::errc::bad_file_descriptor);
        auto* s = table_.make(h);
        if (s == nullptr) return out_of_memory_error();
        ::epoll_event e = make_event(h, read, write);
        if (::epoll_ctl(fd_, EPOLL_CTL_ADD, h, &e) != 0) {
            if (errno == EEXIST) return errc::already_registered;
            return last_error();
        }
        s->key = key;
        if (!s->registered) {
            s->registered = true;
            ++count_;
        }
        return {};
    }
    std::error_code modify(native_handle_type h, bool read, bool write, std::uint64_t key) noexcept {
        auto* s = table_.find(h);
        if (s == nullptr) return errc::not_registered;
        ::epoll_event e = make_event(h, read, write);
        if (::epoll_ctl(fd_, EPOLL_CTL_MOD, h, &e) != 0) return last_error();
        s->key = key;
        return {};
    }
    std::error_code remove(native_handle_type h) noexcept {
        auto* s = table_.find(h);
        if (s == nullptr) return errc::not_registered;
        s->registered = false;
        --count_;
        // A descriptor closed while registered has already left the epoll set (ENOENT/EBADF):
        // forgetting it is all that is left to do.
        ::epoll_event e{};
        if (::epoll_ctl(fd_, EPOLL_CTL_DEL, h, &e) != 0 && errno != ENOENT && errno != EBADF)
            return last_error();
        return {};
    }
    std::size_t size() const noexcept { return count_; }

    /// One epoll_wait; calls emit(ready_event) per ready descriptor. Returns the number of
    /// events, or -1 with `ec` set (std::errc::interrupted on EINTR).
    template <typename Emit>
    int wait(int timeout_ms, std::size_t max_events, Emit&& emit, std::error_code& ec) noexcept {
        std::size_t want = count_ < max_events ? count_ : max_events;
        if (want == 0) want = 1;
        if (ready_.size() < want) {
            try {
                ready_.resize(want);
            } catch (...) {
                ec = out_of_memory_error();
                return -1;
            }
        }
        int n = ::epoll_wait(fd_, ready_.data(), static_cast<int>(want), timeout_ms);
        if (n < 0) {
            ec = last_error();
            return -1;
        }
        ec.clear();
        for (int i = 0; i < n; ++i) {
            const ::epoll_event& e = ready_[static_cast<std::size_t>(i)];
            native_handle_type h = e.data.fd;
            auto* s = table_.find(h);
            ready_event r{h,
                          s != nullptr ? s->key : 0,
                          (e.events & EPOLLIN) != 0,
                          (e.events & EPOLLOUT) != 0,
                          (e.events & (EPOLLHUP | EPOLLRDHUP)) != 0,
                          (e.events & EPOLLERR) != 0};
            emit(r);
        }
        return n;
    }

private:
    static ::epoll_event make_event(native_handle_type h, bool read, bool write) noexcept {
        ::epoll_event e{};
        // EPOLLRDHUP only with read interest: a half-closed peer would otherwise wake a
        // write-only registration on every (level-triggered) wait.
        e.events = (read ? EPOLLIN | EPOLLRDHUP : 0u) | (write ? EPOLLOUT : 0u);
        e.data.fd = h;
        return e;
    }

    int fd_ = -1;
    descriptor_table table_;
    std::vector<::epoll_event> ready_;
    std::size_t count_ = 0;
};
/// The one instantiation.
using epoll_backend = basic_epoll_backend<>;
#endif

#if defined(SOCKFRAME_BSD)
/// kqueue: one read and one write filter per descriptor, each enabled or disabled by interest.
/// A descriptor ready both ways comes back as two kevents, merged here into one event.
class kqueue_backend {
public:
    static const char* name() noexcept { return "kqueue"; }

    kqueue_backend() noexcept = default;
    kqueue_backend(kqueue_backend&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)),
          table_(std::move(o.table_)),
          ready_(std::move(o.ready_)),
          count_(std::exchange(o.count_, 0)),
          batch_(o.batch_) {}
    kqueue_backend& operator=(kqueue_backend&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            table_ = std::move(o.table_);
            ready_ = std::move(o.ready_);
            count_ = std::exchange(o.count_, 0);
            batch_ = o.batch_;
        }
        return *this;
    }
    ~kqueue_backend() { close(); }

    void open(std::error_code& ec) noexcept {
        fd_ = ::kqueue();
        if (fd_ < 0) {
            ec = last_error();
            return;
        }
        ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
        ec.clear();
    }
    void close() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

    /// A closed descriptor leaves the kqueue by itself; its entry here is recognised as stale
    /// when the same number comes back as another socket (a different identity) and replaced.
    std::error_code add(native_handle_type h, bool read, bool write, std::uint64_t key) noexcept {
        if (h < 0) return std::make_error_code(std::errc::bad_file_descriptor);
        handle_identity id = identity_of(h);
        if (auto* old = table_.find(h); old != nullptr && old->identity == id)
            return errc::already_registered;
        auto* s = table_.make(h);
        if (s == nullptr) return out_of_memory_error();
        if (auto ec = apply(h, read, write)) return ec;
        s->key = key;
        s->identity = id;
        s->batch = 0;
        if (!s->registered) {
            s->registered = true;
            ++count_;
        }
        return {};
    }
    std::error_code modify(native_handle_type h, bool read, bool write, std::uint64_t key) noexcept {
        auto* s = table_.find(h);
        if (s == nullptr) return errc::not_registered;
        if (auto ec = apply(h, read, write)) return ec;
        s->key = key;
        return {};
    }
    std::error_code remove(native_handle_type h) noexcept {
        auto* s = table_.find(h);
        if (s == nullptr) return errc::not_registered;
        s->registered = false;
        --count_;
        struct ::kevent changes[2];
        EV_SET(&changes[0], h, EVFILT_READ, EV_DELETE, 0, 0, 0);
        EV_SET(&changes[1], h, EVFILT_WRITE, EV_DELETE, 0, 0, 0);
        // A descriptor closed while registered has already left the kqueue (ENOENT/EBADF).
        if (::kevent(fd_, changes, 2, nullptr, 0, nullptr) != 0 && errno != ENOENT && errno != EBADF)
            return last_error();
        return {};
    }
    std::size_t size() const noexcept { return count_; }

    template <typename Emit>
    int wait(int timeout_ms, std::size_t max_events, Emit&& emit, std::error_code& ec) noexcept {
        // at most max_events kevents, so that the merged events never outnumber them
        std::size_t want = count_ < max_events ? count_ : max_events;
        if (want == 0) want = 1;
        if (ready_.size() < want) {
            try {
                ready_.resize(want);
                merged_.reserve(want);
            } catch (...) {
                ec = out_of_memory_error();
                return -1;
            }
        }
        ::timespec ts{};
        ::timespec* tp = nullptr;
        if (timeout_ms >= 0) {
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;
            tp = &ts;
        }
        int n = ::kevent(fd_, nullptr, 0, ready_.data(), static_cast<int>(want), tp);
        if (n < 0) {
            ec = last_error();
            return -1;
        }
        ec.clear();
        if (++batch_ == 0) batch_ = 1;
        merged_.clear();
        for (int i = 0; i < n; ++i) {
            const struct ::kevent& k = ready_[static_cast<std::size_t>(i)];
            auto h = static_cast<native_handle_type>(k.ident);
            auto* s = table_.find(h);
            if (s == nullptr) continue;
            if (s->batch != batch_) {
                s->batch = batch_;
                s->index = merged_.size();
                merged_.push_back(ready_event{h, s->key, false, false, false, false});  // capacity reserved
            }
            ready_event& r = merged_[s->index];
            if ((k.flags & EV_ERROR) != 0) {
                r.error = true;
                continue;
            }
            if (k.filter == EVFILT_READ) r.readable = true;
            if (k.filter == EVFILT_WRITE) r.writable = true;
            if ((k.flags & EV_EOF) != 0) {
                r.hangup = true;
                if (k.fflags != 0) r.error = true;  // the socket error, e.g. a refused connect
            }
        }
        for (const auto& r : merged_) emit(r);
        return static_cast<int>(merged_.size());
    }

private:
    std::error_code apply(native_handle_type h, bool read, bool write) noexcept {
        struct ::kevent changes[2];
        EV_SET(&changes[0], h, EVFILT_READ, EV_ADD | (read ? EV_ENABLE : EV_DISABLE), 0, 0, 0);
        EV_SET(&changes[1], h, EVFILT_WRITE, EV_ADD | (write ? EV_ENABLE : EV_DISABLE), 0, 0, 0);
        if (::kevent(fd_, changes, 2, nullptr, 0, nullptr) != 0) return last_error();
        return {};
    }

    int fd_ = -1;
    descriptor_table table_;
    std::vector<struct ::kevent> ready_;
    std::vector<ready_event> merged_;
    std::size_t count_ = 0;
    std::uint32_t batch_ = 0;
};
#endif

/// Where each registered handle sits in poll_backend's arrays: an open-addressing hash table
/// (linear probing, backward-shift erase), so that the header needs no <unordered_map>.
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_handle_index {
public:
    /// The position stored for `h`, or null.
    std::size_t* find(native_handle_type h) noexcept {
        if (slots_.empty()) return nullptr;
        for (std::size_t i = home(h);; i = (i + 1) & mask()) {
            if (!slots_[i].used) return nullptr;
            if (slots_[i].handle == h) return &slots_[i].position;
        }
    }
    /// Stores `position` for `h`, which must not be there yet. Throws std::bad_alloc.
    void insert(native_handle_type h, std::size_t position) {
        if (2 * (count_ + 1) > slots_.size()) grow();
        std::size_t i = home(h);
        while (slots_[i].used) i = (i + 1) & mask();
        slots_[i] = slot{h, position, true};
        ++count_;
    }
    /// Forgets `h` (which must be there).
    void erase(native_handle_type h) noexcept {
        std::size_t i = home(h);
        while (slots_[i].handle != h || !slots_[i].used) i = (i + 1) & mask();
        // Backward shift: pull later entries of the same probe run into the hole.
        for (std::size_t j = (i + 1) & mask(); slots_[j].used; j = (j + 1) & mask()) {
            const std::size_t k = home(slots_[j].handle);
            const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (stays) continue;
            slots_[i] = slots_[j];
            i = j;
        }
        slots_[i].used = false;
        --count_;
    }
    /// How many handles it holds.
    std::size_t size() const noexcept { return count_; }

private:
    struct slot {
        native_handle_type handle{};
        std::size_t position = 0;
        bool used = false;
    };
    std::size_t mask() const noexcept { return slots_.size() - 1; }
    std::size_t home(native_handle_type h) const noexcept {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &h, sizeof h < sizeof bits ? sizeof h : sizeof bits);
        return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ull) >> 32) & mask();
    }
    void grow() {
        std::vector<slot> old(slots_.size() < 16 ? 16 : 2 * slots_.size());
        old.swap(slots_);
        count_ = 0;
        for (const slot& e : old)
            if (e.used) insert(e.handle, e.position);
    }

    std::vector<slot> slots_;
    std::size_t count_ = 0;
};
/// The one instantiation.
using handle_index = basic_handle_index<>;

/// poll() (POSIX) or WSAPoll() (Windows): the interest set lives here, in one pollfd array; a
/// wait costs O(registered). Portable, and fine up to a few thousand handles.
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_poll_backend {
public:
    static const char* name() noexcept {
#if defined(SOCKFRAME_WINDOWS)
        return "wsapoll";
#else
        return "poll";
#endif
    }

    void open(std::error_code& ec) noexcept { ec = ensure_started(); }
    void close() noexcept {}

    /// An entry whose handle was closed and whose number now names another socket (a different
    /// identity; POSIX) is stale: it is replaced. Entries of closed handles that nobody reuses are
    /// dropped by the next wait (poll reports them as POLLNVAL).
    std::error_code add(native_handle_type h, bool read, bool write, std::uint64_t key) noexcept {
        if (h == invalid_handle) return std::make_error_code(std::errc::bad_file_descriptor);
        handle_identity id = identity_of(h);
        if (std::size_t* at = index_.find(h)) {
            if (!id.known() || ids_[*at] == id) return errc::already_registered;
            fds_[*at] = make_pollfd(h, read, write);
            keys_[*at] = key;
            ids_[*at] = id;
            return {};
        }
        try {
            fds_.push_back(make_pollfd(h, read, write));
            keys_.push_back(key);
            ids_.push_back(id);
            index_.insert(h, fds_.size() - 1);
        } catch (...) {
            if (ids_.size() > index_.size()) ids_.pop_back();
            if (keys_.size() > index_.size()) keys_.pop_back();
            if (fds_.size() > index_.size()) fds_.pop_back();
            return out_of_memory_error();
        }
        return {};
    }
    std::error_code modify(native_handle_type h, bool read, bool write, std::uint64_t key) noexcept {
        std::size_t* at = index_.find(h);
        if (at == nullptr) return errc::not_registered;
        fds_[*at] = make_pollfd(h, read, write);
        keys_[*at] = key;
        return {};
    }
    std::error_code remove(native_handle_type h) noexcept {
        std::size_t* at = index_.find(h);
        if (at == nullptr) return errc::not_registered;
        std::size_t i = *at;
        index_.erase(h);
        std::size_t last = fds_.size() - 1;
        if (i != last) {  // move the last entry into the hole
            fds_[i] = fds_[last];
            keys_[i] = keys_[last];
            ids_[i] = ids_[last];
            *index_.find(fds_[i].fd) = i;  // exists
        }
        fds_.pop_back();
        keys_.pop_back();
        ids_.pop_back();
        return {};
    }
    std::size_t size() const noexcept { return fds_.size(); }

    template <typename Emit>
    int wait(int timeout_ms, std::size_t max_events, Emit&& emit, std::error_code& ec) noexcept {
#if defined(SOCKFRAME_WINDOWS)
        if (fds_.empty()) {  // WSAPoll rejects an empty set: just let the time pass
            ::Sleep(timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms));
            ec.clear();
            return 0;
        }
        int n = ::WSAPoll(fds_.data(), static_cast<ULONG>(fds_.size()), timeout_ms);
#else
        int n = ::poll(fds_.data(), convert<::nfds_t>(fds_.size()), timeout_ms);
#endif
        if (n < 0) {
            ec = last_error();
            return -1;
        }
        ec.clear();
        int emitted = 0;
        bool invalid = false;
        // Start where the previous wait stopped, so that a full batch cannot starve the rest.
        std::size_t count = fds_.size();
        if (start_ >= count) start_ = 0;
        for (std::size_t j = 0; j < count && n > 0 && static_cast<std::size_t>(emitted) < max_events; ++j) {
            std::size_t i = (start_ + j) % count;
            short r = fds_[i].revents;
            if (r == 0) continue;
            --n;
            if ((r & POLLNVAL) != 0) {  // closed while registered: dropped below, not reported
                invalid = true;
                continue;
            }
            bool hangup = (r & hangup_bits) != 0;
            // After a hang-up a read does not block (it reports end-of-stream): say so, as epoll
            // and kqueue do, also where WSAPoll reports POLLHUP alone.
            bool readable = (r & poll_in) != 0 || (hangup && (fds_[i].events & poll_in) != 0);
            ready_event e{fds_[i].fd, keys_[i], readable, (r & poll_out) != 0, hangup, (r & POLLERR) != 0};
            emit(e);
            ++emitted;
            if (static_cast<std::size_t>(emitted) == max_events) start_ = i + 1;
        }
        if (invalid) {
            for (std::size_t i = fds_.size(); i-- > 0;)
                if ((fds_[i].revents & POLLNVAL) != 0) remove(fds_[i].fd);
        }
        return emitted;
    }

private:
#if defined(POLLRDHUP)
    static constexpr short hangup_bits = POLLHUP | POLLRDHUP;
    static constexpr short read_bits = poll_in | POLLRDHUP;
#else
    static constexpr short hangup_bits = POLLHUP;
    static constexpr short read_bits = poll_in;
#endif
    static pollfd_type make_pollfd(native_handle_type h, bool read, bool write) noexcept {
        pollfd_type p{};
        p.fd = h;
        p.events = static_cast<short>((read ? read_bits : 0) | (write ? poll_out : 0));
        return p;
    }

    std::vector<pollfd_type> fds_;
    std::vector<std::uint64_t> keys_;
    std::vector<handle_identity> ids_;
    handle_index index_;
    std::size_t start_ = 0;
};
/// The one instantiation.
using poll_backend = basic_poll_backend<>;

#if defined(SOCKFRAME_POLLER_USE_POLL) || defined(SOCKFRAME_WINDOWS)
using default_poller_backend = poll_backend;
#elif defined(SOCKFRAME_LINUX)
using default_poller_backend = epoll_backend;
#elif defined(SOCKFRAME_BSD)
using default_poller_backend = kqueue_backend;
#else
using default_poller_backend = poll_backend;
#endif

}  // namespace detail
SOCKFRAME_NAMESPACE_END
