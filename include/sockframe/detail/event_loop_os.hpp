// SPDX-License-Identifier: MIT
#pragma once
/// The event loop's operating-system glue: wake-up channels (eventfd on Linux, a pipe on every
/// POSIX system, a loopback TCP pair on Windows) and signal sources (signalfd on Linux, a
/// self-pipe written by a sigaction handler on every POSIX system, none on Windows). Each pair is
/// bundled as a "loop OS" type, the second template parameter of basic_event_loop; the default is
/// the platform's best. On Linux the portable POSIX pair is compiled too, so that it is tested.
///
/// Every wake-up channel has open(ec), close(), handle(), notify() (any thread, never blocks)
/// and drain() (the loop's thread). Every signal source has handle(), contains(signo),
/// add(signo, ec), remove(signo), read(on) and close().

#include <sockframe/config.hpp>
#include <sockframe/detail/atomic.hpp>
#include <sockframe/detail/function.hpp>
#include <sockframe/error.hpp>
#include <sockframe/poller.hpp>

#if defined(SOCKFRAME_WINDOWS)
#include <sockframe/address.hpp>
#include <sockframe/listener.hpp>
#include <sockframe/policies.hpp>
#include <sockframe/socket.hpp>
#else
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <cerrno>
#if defined(SOCKFRAME_LINUX)
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#endif
#endif

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <system_error>
#include <utility>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

using loop_handle = native_handle_type;  // what the poller watches (poller::native_handle_type)

/// A plain mutex over the system's own (SRWLOCK, pthread_mutex_t), so that the loop's header
/// needs no <mutex>. lock() and unlock() never fail for the way the loop uses it.
class loop_mutex {
public:
    loop_mutex() noexcept = default;
    loop_mutex(const loop_mutex&) = delete;
    loop_mutex& operator=(const loop_mutex&) = delete;
#if defined(SOCKFRAME_WINDOWS)
    ~loop_mutex() = default;
    void lock() noexcept { ::AcquireSRWLockExclusive(&lock_); }
    void unlock() noexcept { ::ReleaseSRWLockExclusive(&lock_); }

private:
    ::SRWLOCK lock_ = SRWLOCK_INIT;
#else
    ~loop_mutex() { ::pthread_mutex_destroy(&lock_); }
    void lock() noexcept { ::pthread_mutex_lock(&lock_); }
    void unlock() noexcept { ::pthread_mutex_unlock(&lock_); }

private:
    ::pthread_mutex_t lock_ = PTHREAD_MUTEX_INITIALIZER;
#endif
};

/// Holds a loop_mutex for a scope.
class loop_lock {
public:
    explicit loop_lock(loop_mutex& m) noexcept : mutex_(m) { mutex_.lock(); }
    loop_lock(const loop_lock&) = delete;
    loop_lock& operator=(const loop_lock&) = delete;
    ~loop_lock() { mutex_.unlock(); }

private:
    loop_mutex& mutex_;
};

#if defined(SOCKFRAME_POSIX)
inline std::error_code errno_error() noexcept { return {errno, std::system_category()}; }

/// Makes a descriptor non-blocking and close-on-exec.
inline std::error_code prepare_descriptor(int fd) noexcept {
    int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return errno_error();
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return errno_error();
    return {};
}

/// A non-blocking, close-on-exec pipe: read end first.
inline std::error_code open_pipe(int (&fds)[2]) noexcept {
    if (::pipe(fds) != 0) return errno_error();
    for (int fd : fds) {
        if (auto ec = prepare_descriptor(fd)) {
            ::close(fds[0]);
            ::close(fds[1]);
            fds[0] = fds[1] = -1;
            return ec;
        }
    }
    return {};
}

/// Reads and discards everything a non-blocking descriptor holds.
inline void drain_descriptor(int fd) noexcept {
    unsigned char buffer[256];
    for (;;) {
        ::ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        return;
    }
}

/// Wake-up over a pipe: notify() writes a byte, drain() reads them all.
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_pipe_wakeup {
public:
    basic_pipe_wakeup() noexcept = default;
    basic_pipe_wakeup(const basic_pipe_wakeup&) = delete;
    basic_pipe_wakeup& operator=(const basic_pipe_wakeup&) = delete;
    ~basic_pipe_wakeup() { close(); }

    void open(std::error_code& ec) noexcept {
        int fds[2] = {-1, -1};
        ec = open_pipe(fds);
        read_fd_ = fds[0];
        write_fd_ = fds[1];
    }
    void close() noexcept {
        if (read_fd_ >= 0) ::close(std::exchange(read_fd_, -1));
        if (write_fd_ >= 0) ::close(std::exchange(write_fd_, -1));
    }
    loop_handle handle() const noexcept { return read_fd_; }
    /// A full pipe is already readable, which is all that matters: the write may fail then.
    void notify() noexcept {
        unsigned char one = 1;
        while (::write(write_fd_, &one, 1) < 0 && errno == EINTR) {
        }
    }
    void drain() noexcept { drain_descriptor(read_fd_); }

private:
    int read_fd_ = -1;
    int write_fd_ = -1;
};
/// The one instantiation.
using pipe_wakeup = basic_pipe_wakeup<>;

/// The write end of each signal's self-pipe, stored as descriptor + 1 so that the
/// zero-initialised table means "none". Process-global by nature: a signal's disposition belongs
/// to the process, so one loop at a time may own a signal.
#if defined(NSIG)
inline constexpr int max_signal = NSIG;
#else
inline constexpr int max_signal = 65;
#endif
inline atomic_value<int> signal_pipe_write_end[max_signal] = {};

/// The sigaction handler of self_pipe_signals: async-signal-safe (an atomic load and a write).
extern "C" inline void sockframe_signal_to_pipe(int signo) {
    int saved = errno;
    if (signo > 0 && signo < max_signal) {
        int fd = signal_pipe_write_end[signo].load_relaxed() - 1;
        if (fd >= 0) {
            unsigned char byte = static_cast<unsigned char>(signo);
            (void)!::write(fd, &byte, 1);
        }
    }
    errno = saved;
}

/// Signals through a handler installed with sigaction that writes the signal number to a pipe;
/// remove() and close() restore the previous handler.
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_self_pipe_signals {
public:
    basic_self_pipe_signals() noexcept = default;
    basic_self_pipe_signals(const basic_self_pipe_signals&) = delete;
    basic_self_pipe_signals& operator=(const basic_self_pipe_signals&) = delete;
    ~basic_self_pipe_signals() { close(); }

    loop_handle handle() const noexcept { return read_fd_; }
    bool contains(int signo) const noexcept {
        for (const auto& e : entries_)
            if (e.signo == signo) return true;
        return false;
    }
    void add(int signo, std::error_code& ec) noexcept {
        ec.clear();
        if (contains(signo)) return;
        if (signo <= 0 || signo >= max_signal) {
            ec = errc::invalid_argument;
            return;
        }
        try {
            entries_.reserve(entries_.size() + 1);
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
        if (read_fd_ < 0) {
            int fds[2] = {-1, -1};
            if ((ec = open_pipe(fds))) return;
            read_fd_ = fds[0];
            write_fd_ = fds[1];
        }
        int expected = 0;
        if (!signal_pipe_write_end[signo].compare_exchange(expected, write_fd_ + 1)) {
            ec = std::make_error_code(std::errc::device_or_resource_busy);  // another loop owns it
            return;
        }
        entry e{};
        e.signo = signo;
        struct ::sigaction action {};
        action.sa_handler = &sockframe_signal_to_pipe;
        ::sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        if (::sigaction(signo, &action, &e.previous) != 0) {
            ec = errno_error();
            signal_pipe_write_end[signo].store(0);
            return;
        }
        entries_.push_back(e);  // capacity reserved
    }
    void remove(int signo) noexcept {
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].signo != signo) continue;
            restore(entries_[i]);
            entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
    }
    template <typename On>
    void read(On&& on) {
        unsigned char bytes[64];
        for (;;) {
            ::ssize_t n = ::read(read_fd_, bytes, sizeof bytes);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            for (::ssize_t i = 0; i < n; ++i) on(static_cast<int>(bytes[i]));
        }
    }
    void close() noexcept {
        while (!entries_.empty()) {
            restore(entries_.back());
            entries_.pop_back();
        }
        if (read_fd_ >= 0) ::close(std::exchange(read_fd_, -1));
        if (write_fd_ >= 0) ::close(std::exchange(write_fd_, -1));
    }

private:
    struct entry {
        int signo;
        struct ::sigaction previous;
    };
    static void restore(const entry& e) noexcept {
        ::sigaction(e.signo, &e.previous, nullptr);
        signal_pipe_write_end[e.signo].store(0);
    }

    int read_fd_ = -1;
    int write_fd_ = -1;
    std::vector<entry> entries_;
};
/// The one instantiation.
using self_pipe_signals = basic_self_pipe_signals<>;

/// The portable POSIX pair: a pipe and a self-pipe signal handler.
struct posix_loop_os {
    using wakeup = pipe_wakeup;
    using signals = self_pipe_signals;
};
#endif  // SOCKFRAME_POSIX

#if defined(SOCKFRAME_LINUX)
/// Wake-up over an eventfd: one descriptor, a counter instead of bytes.
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_eventfd_wakeup {
public:
    basic_eventfd_wakeup() noexcept = default;
    basic_eventfd_wakeup(const basic_eventfd_wakeup&) = delete;
    basic_eventfd_wakeup& operator=(const basic_eventfd_wakeup&) = delete;
    ~basic_eventfd_wakeup() { close(); }

    void open(std::error_code& ec) noexcept {
        fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        ec = fd_ < 0 ? errno_error() : std::error_code{};
    }
    void close() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }
    loop_handle handle() const noexcept { return fd_; }
    void notify() noexcept {
        std::uint64_t one = 1;
        while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }
    void drain() noexcept { drain_descriptor(fd_); }

private:
    int fd_ = -1;
};
/// The one instantiation.
using eventfd_wakeup = basic_eventfd_wakeup<>;

/// Signals read from a signalfd. add() blocks the signal in the calling thread (the signal must
/// be blocked in every thread for the loop to see it); remove() and close() consume a pending
/// instance and unblock the signals this source blocked, when they run in the thread that
/// blocked them (another thread's mask cannot be changed from here).
/// A template (on nothing): its bodies are compiled only where they are used.
template <typename = void>
class basic_signalfd_signals {
public:
    basic_signalfd_signals() noexcept = default;
    basic_signalfd_signals(const basic_signalfd_signals&) = delete;
    basic_signalfd_signals& operator=(const basic_signalfd_signals&) = delete;
    ~basic_signalfd_signals() { close(); }

    loop_handle handle() const noexcept { return fd_; }
    bool contains(int signo) const noexcept {
        for (const auto& e : entries_)
            if (e.signo == signo) return true;
        return false;
    }
    void add(int signo, std::error_code& ec) noexcept {
        ec.clear();
        if (contains(signo)) return;
        if (signo <= 0 || signo >= NSIG) {
            ec = errc::invalid_argument;
            return;
        }
        try {
            entries_.reserve(entries_.size() + 1);
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
        if (entries_.empty()) owner_ = this_thread_token();
        ::sigset_t one, previous;
        ::sigemptyset(&one);
        ::sigaddset(&one, signo);
        if (int r = ::pthread_sigmask(SIG_BLOCK, &one, &previous); r != 0) {
            ec = {r, std::system_category()};
            return;
        }
        entry e{signo, ::sigismember(&previous, signo) == 1};
        ::sigset_t all = mask_with(signo);
        int fd = ::signalfd(fd_, &all, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0) {
            ec = errno_error();
            if (!e.was_blocked) ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
            return;
        }
        fd_ = fd;
        entries_.push_back(e);  // capacity reserved
    }
    void remove(int signo) noexcept {
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].signo != signo) continue;
            entry e = entries_[i];
            entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
            if (fd_ >= 0) {
                ::sigset_t all = mask_with(0);
                (void)::signalfd(fd_, &all, SFD_NONBLOCK | SFD_CLOEXEC);
            }
            restore(e);
            return;
        }
    }
    template <typename On>
    void read(On&& on) {
        ::signalfd_siginfo info[8];
        for (;;) {
            ::ssize_t n = ::read(fd_, info, sizeof info);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            std::size_t count = static_cast<std::size_t>(n) / sizeof info[0];
            for (std::size_t i = 0; i < count; ++i) on(static_cast<int>(info[i].ssi_signo));
        }
    }
    void close() noexcept {
        while (!entries_.empty()) {
            restore(entries_.back());
            entries_.pop_back();
        }
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

private:
    struct entry {
        int signo;
        bool was_blocked;  // blocked before add(): left blocked
    };
    ::sigset_t mask_with(int extra) const noexcept {
        ::sigset_t all;
        ::sigemptyset(&all);
        for (const auto& e : entries_) ::sigaddset(&all, e.signo);
        if (extra > 0) ::sigaddset(&all, extra);
        return all;
    }
    void restore(const entry& e) const noexcept {
        if (e.was_blocked || owner_ != this_thread_token()) return;
        ::sigset_t one;
        ::sigemptyset(&one);
        ::sigaddset(&one, e.signo);
        // Consume a pending instance first: unblocking it would run the default action (for
        // SIGTERM: end the process) for a signal this loop has taken responsibility for.
        ::timespec zero{};
        while (::sigtimedwait(&one, nullptr, &zero) > 0) {
        }
        ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    }

    int fd_ = -1;
    std::uintptr_t owner_ = 0;
    std::vector<entry> entries_;
};
/// The one instantiation.
using signalfd_signals = basic_signalfd_signals<>;

/// Linux: an eventfd and a signalfd.
struct linux_loop_os {
    using wakeup = eventfd_wakeup;
    using signals = signalfd_signals;
};
#endif  // SOCKFRAME_LINUX

#if defined(SOCKFRAME_WINDOWS)
/// Wake-up over a connected loopback TCP pair: Windows has no pipe that WSAPoll accepts.
class socket_pair_wakeup {
public:
    socket_pair_wakeup() noexcept = default;
    socket_pair_wakeup(const socket_pair_wakeup&) = delete;
    socket_pair_wakeup& operator=(const socket_pair_wakeup&) = delete;
    ~socket_pair_wakeup() = default;

    void open(std::error_code& ec) noexcept {
        basic_listener<ipv4, stream> listener(ipv4_address::loopback(0), ec);
        if (ec) return;
        auto address = listener.local_address(ec);
        if (ec) return;
        auto writer = basic_socket<ipv4, stream>::connect(address, std::chrono::seconds(10), ec);
        if (ec) return;
        auto mine = writer.local_address(ec);
        if (ec) return;
        basic_socket<ipv4, stream> reader;
        // Another local program may connect to the listener first: take only our own connection.
        for (int attempt = 0; attempt < 16; ++attempt) {
            auto a = listener.accept(std::chrono::seconds(10), ec);
            if (ec) return;
            if (a.from == mine) {
                reader = std::move(a.socket);
                break;
            }
        }
        if (!reader.is_open()) {
            ec = std::make_error_code(std::errc::connection_refused);
            return;
        }
        try {
            reader_ = socket_type(std::move(reader));
            writer_ = socket_type(std::move(writer));
        } catch (const std::system_error& e) {
            ec = e.code();
            close();
        }
    }
    void close() noexcept {
        reader_.close();
        writer_.close();
    }
    loop_handle handle() const noexcept { return reader_.native_handle(); }
    void notify() noexcept {
        unsigned char one = 1;
        std::error_code ec;
        writer_.write_some(const_buffer(&one, 1), ec);
    }
    void drain() noexcept {
        unsigned char buffer[64];
        std::error_code ec;
        for (;;) {
            std::size_t n = reader_.read_some(mutable_buffer(buffer, sizeof buffer), ec);
            if (ec || n == 0) return;
        }
    }

private:
    using socket_type = basic_socket<ipv4, stream, non_blocking>;
    socket_type reader_;
    socket_type writer_;
};

/// No signals: every add() is errc::not_supported.
class no_signals {
public:
    loop_handle handle() const noexcept { return loop_handle(); }
    bool contains(int) const noexcept { return false; }
    void add(int, std::error_code& ec) noexcept { ec = errc::not_supported; }
    void remove(int) noexcept {}
    template <typename On>
    void read(On&&) {}
    void close() noexcept {}
};

/// Windows: a loopback TCP pair and no signals.
struct windows_loop_os {
    using wakeup = socket_pair_wakeup;
    using signals = no_signals;
};
#endif  // SOCKFRAME_WINDOWS

/// The platform's best. SOCKFRAME_EVENT_LOOP_USE_PIPES picks the portable POSIX pair on Linux
/// (a distinct type, so translation units that differ here stay distinct event_loop types).
#if defined(SOCKFRAME_WINDOWS)
using default_loop_os = windows_loop_os;
#elif defined(SOCKFRAME_LINUX) && !defined(SOCKFRAME_EVENT_LOOP_USE_PIPES)
using default_loop_os = linux_loop_os;
#else
using default_loop_os = posix_loop_os;
#endif

/// block_signals' work: blocks `signals` in the calling thread where the default loop reads them
/// from a signalfd; nothing elsewhere.
inline std::error_code block_signals_in_thread(std::initializer_list<int> signals) noexcept {
#if defined(SOCKFRAME_LINUX) && !defined(SOCKFRAME_EVENT_LOOP_USE_PIPES)
    ::sigset_t set;
    ::sigemptyset(&set);
    for (int s : signals)
        if (::sigaddset(&set, s) != 0) return errc::invalid_argument;
    if (int r = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); r != 0) return {r, std::system_category()};
    return {};
#else
    (void)signals;
    return {};
#endif
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
