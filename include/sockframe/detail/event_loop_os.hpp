#pragma once
/// The event loop's operating-system glue: the wake-up channel (eventfd on Linux, a pipe on other
/// POSIX systems, a loopback TCP pair on Windows) and signal delivery (signalfd on Linux, a
/// self-pipe written by a sigaction handler on other POSIX systems, none on Windows).
///
/// SOCKFRAME_EVENT_LOOP_USE_PIPES (Linux) selects the other POSIX systems' pipe paths, so that
/// they can be tested here; like every tunable, define it the same way in every translation unit.

#include <sockframe/config.hpp>
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
#if defined(SOCKFRAME_LINUX) && !defined(SOCKFRAME_EVENT_LOOP_USE_PIPES)
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#define SOCKFRAME_EVENT_LOOP_EVENTFD 1
#define SOCKFRAME_EVENT_LOOP_SIGNALFD 1
#else
#define SOCKFRAME_EVENT_LOOP_SELF_PIPE 1
#endif
#endif

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

using loop_handle = poller::native_handle_type;

#if defined(SOCKFRAME_POSIX)
inline std::error_code errno_error() noexcept { return {errno, std::system_category()}; }

/// Makes a descriptor non-blocking and close-on-exec.
inline std::error_code prepare_descriptor(int fd) noexcept {
    int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return errno_error();
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return errno_error();
    return {};
}

/// A non-blocking pipe: read end first.
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
#endif

/// Wakes a loop blocked in its poller from any thread. notify() may be called concurrently from
/// many threads; drain() only from the loop's thread.
class wakeup_channel {
public:
    wakeup_channel() noexcept = default;
    wakeup_channel(const wakeup_channel&) = delete;
    wakeup_channel& operator=(const wakeup_channel&) = delete;
    ~wakeup_channel() { close(); }

    void open(std::error_code& ec) noexcept {
#if defined(SOCKFRAME_EVENT_LOOP_EVENTFD)
        read_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        ec = read_fd_ < 0 ? errno_error() : std::error_code{};
#elif defined(SOCKFRAME_POSIX)
        int fds[2] = {-1, -1};
        ec = open_pipe(fds);
        read_fd_ = fds[0];
        write_fd_ = fds[1];
#else
        // Windows has no pipe that WSAPoll accepts: a connected loopback TCP pair.
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
            reader_.close();
            writer_.close();
        }
#endif
    }
    void close() noexcept {
#if defined(SOCKFRAME_POSIX)
        if (read_fd_ >= 0) ::close(std::exchange(read_fd_, -1));
        if (write_fd_ >= 0) ::close(std::exchange(write_fd_, -1));
#else
        reader_.close();
        writer_.close();
#endif
    }

    /// The handle the poller watches for reading.
    loop_handle handle() const noexcept {
#if defined(SOCKFRAME_POSIX)
        return read_fd_;
#else
        return reader_.native_handle();
#endif
    }

    /// Makes handle() readable. Safe from any thread; never blocks (a full channel is already
    /// readable, which is all that matters).
    void notify() noexcept {
#if defined(SOCKFRAME_EVENT_LOOP_EVENTFD)
        std::uint64_t one = 1;
        while (::write(read_fd_, &one, sizeof one) < 0 && errno == EINTR) {
        }
#elif defined(SOCKFRAME_POSIX)
        unsigned char one = 1;
        while (::write(write_fd_, &one, 1) < 0 && errno == EINTR) {
        }
#else
        unsigned char one = 1;
        std::error_code ec;
        writer_.write_some(const_buffer(&one, 1), ec);
#endif
    }

    /// Consumes every pending notification (the loop's thread).
    void drain() noexcept {
#if defined(SOCKFRAME_POSIX)
        drain_descriptor(read_fd_);
#else
        unsigned char buffer[64];
        std::error_code ec;
        for (;;) {
            std::size_t n = reader_.read_some(mutable_buffer(buffer, sizeof buffer), ec);
            if (ec || n == 0) return;
        }
#endif
    }

private:
#if defined(SOCKFRAME_POSIX)
    int read_fd_ = -1;
    int write_fd_ = -1;
#else
    using socket_type = basic_socket<ipv4, stream, non_blocking>;
    socket_type reader_;
    socket_type writer_;
#endif
};

#if defined(SOCKFRAME_EVENT_LOOP_SELF_PIPE)
/// The write end of each signal's self-pipe (-1: none). Process-global by nature: a signal
/// disposition belongs to the process, so one loop at a time may own a signal.
#if defined(NSIG)
inline constexpr int max_signal = NSIG;
#else
inline constexpr int max_signal = 65;
#endif
/// Stored as descriptor + 1, so that the zero-initialised table means "no pipe".
inline std::atomic<int> signal_pipe_write_end[max_signal] = {};

extern "C" inline void sockframe_signal_to_pipe(int signo) {
    int saved = errno;
    if (signo > 0 && signo < max_signal) {
        int fd = signal_pipe_write_end[signo].load(std::memory_order_relaxed) - 1;
        if (fd >= 0) {
            unsigned char byte = static_cast<unsigned char>(signo);
            (void)!::write(fd, &byte, 1);
        }
    }
    errno = saved;
}
#endif

/// The signals a loop handles, turned into a readable handle. Linux: a signalfd over signals
/// blocked in the owning thread. Other POSIX: a sigaction handler writing the signal number to
/// a pipe. Windows: not supported.
class signal_source {
public:
    signal_source() noexcept = default;
    signal_source(const signal_source&) = delete;
    signal_source& operator=(const signal_source&) = delete;
    ~signal_source() { close(); }

    /// Whether the source has a handle (the first add() makes it).
    bool is_open() const noexcept {
#if defined(SOCKFRAME_POSIX)
        return read_fd_ >= 0;
#else
        return false;
#endif
    }
    loop_handle handle() const noexcept {
#if defined(SOCKFRAME_POSIX)
        return read_fd_;
#else
        return poller::native_handle_type();
#endif
    }
    /// Whether `signo` is handled here.
    bool contains(int signo) const noexcept {
#if defined(SOCKFRAME_POSIX)
        for (const auto& e : entries_)
            if (e.signo == signo) return true;
#else
        (void)signo;
#endif
        return false;
    }

    /// Starts turning `signo` into readable bytes (nothing if it is handled already).
    void add(int signo, std::error_code& ec) noexcept {
        ec.clear();
        if (contains(signo)) return;
#if defined(SOCKFRAME_WINDOWS)
        (void)signo;
        ec = errc::not_supported;
#else
        if (signo <= 0 || signo >= max_signal_number()) {
            ec = errc::invalid_argument;
            return;
        }
        try {
            entries_.reserve(entries_.size() + 1);
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
        entry e{};
        e.signo = signo;
#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
        if (entries_.empty()) owner_ = std::this_thread::get_id();
        ::sigset_t one, previous;
        ::sigemptyset(&one);
        ::sigaddset(&one, signo);
        if (int r = ::pthread_sigmask(SIG_BLOCK, &one, &previous); r != 0) {
            ec = {r, std::system_category()};
            return;
        }
        e.was_blocked = ::sigismember(&previous, signo) == 1;
        ::sigset_t all = mask_with(signo);
        int fd = ::signalfd(read_fd_, &all, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0) {
            ec = errno_error();
            if (!e.was_blocked) ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
            return;
        }
        read_fd_ = fd;
#else
        if (read_fd_ < 0) {
            int fds[2] = {-1, -1};
            if ((ec = open_pipe(fds))) return;
            read_fd_ = fds[0];
            write_fd_ = fds[1];
        }
        int expected = 0;
        if (!signal_pipe_write_end[signo].compare_exchange_strong(expected, write_fd_ + 1)) {
            ec = std::make_error_code(std::errc::device_or_resource_busy);  // another loop owns it
            return;
        }
        struct ::sigaction action {};
        action.sa_handler = &sockframe_signal_to_pipe;
        ::sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        if (::sigaction(signo, &action, &e.previous) != 0) {
            ec = errno_error();
            signal_pipe_write_end[signo].store(0);
            return;
        }
#endif
        entries_.push_back(e);  // capacity reserved: no throw
#endif
    }

    /// Stops handling `signo` and restores what add() changed (see close()).
    void remove(int signo) noexcept {
#if defined(SOCKFRAME_POSIX)
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].signo != signo) continue;
            entry e = entries_[i];
            entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
            restore(e);
#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
            if (read_fd_ >= 0) {
                ::sigset_t all = mask_with(0);
                (void)::signalfd(read_fd_, &all, SFD_NONBLOCK | SFD_CLOEXEC);
            }
#endif
            return;
        }
#else
        (void)signo;
#endif
    }

    /// Calls on(signo) for each signal that arrived since the last call (the loop's thread).
    template <typename On>
    void read(On&& on) {
#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
        ::signalfd_siginfo info[8];
        for (;;) {
            ::ssize_t n = ::read(read_fd_, info, sizeof info);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            std::size_t count = static_cast<std::size_t>(n) / sizeof info[0];
            for (std::size_t i = 0; i < count; ++i) on(static_cast<int>(info[i].ssi_signo));
        }
#elif defined(SOCKFRAME_POSIX)
        unsigned char bytes[64];
        for (;;) {
            ::ssize_t n = ::read(read_fd_, bytes, sizeof bytes);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            for (::ssize_t i = 0; i < n; ++i) on(static_cast<int>(bytes[i]));
        }
#else
        (void)on;
#endif
    }

    /// Restores every signal's previous state and closes the handle. signalfd: signals that are
    /// pending are consumed, then the signals this source blocked are unblocked again, if this
    /// runs in the thread that blocked them (another thread's mask cannot be changed from here).
    void close() noexcept {
#if defined(SOCKFRAME_POSIX)
        while (!entries_.empty()) {
            entry e = entries_.back();
            entries_.pop_back();
            restore(e);
        }
        if (read_fd_ >= 0) ::close(std::exchange(read_fd_, -1));
        if (write_fd_ >= 0) ::close(std::exchange(write_fd_, -1));
#endif
    }

private:
#if defined(SOCKFRAME_POSIX)
    struct entry {
        int signo;
#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
        bool was_blocked;
#else
        struct ::sigaction previous;
#endif
    };

    static int max_signal_number() noexcept {
#if defined(NSIG)
        return NSIG;
#else
        return 65;
#endif
    }

#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
    ::sigset_t mask_with(int extra) const noexcept {
        ::sigset_t all;
        ::sigemptyset(&all);
        for (const auto& e : entries_) ::sigaddset(&all, e.signo);
        if (extra > 0) ::sigaddset(&all, extra);
        return all;
    }
#endif

    void restore(const entry& e) noexcept {
#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
        if (e.was_blocked || owner_ != std::this_thread::get_id()) return;
        ::sigset_t one;
        ::sigemptyset(&one);
        ::sigaddset(&one, e.signo);
        // Consume a pending instance first: unblocking it would run the default action (for
        // SIGTERM: end the process) for a signal this loop has taken responsibility for.
        ::timespec zero{};
        while (::sigtimedwait(&one, nullptr, &zero) > 0) {
        }
        ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
#else
        ::sigaction(e.signo, &e.previous, nullptr);
        signal_pipe_write_end[e.signo].store(0);
#endif
    }

    int read_fd_ = -1;
    int write_fd_ = -1;
#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
    std::thread::id owner_{};
#endif
    std::vector<entry> entries_;
#endif
};

/// block_signals' work: blocks `signals` in the calling thread where the loop reads them from a
/// signalfd; nothing elsewhere.
inline std::error_code block_signals_in_thread(std::initializer_list<int> signals) noexcept {
#if defined(SOCKFRAME_EVENT_LOOP_SIGNALFD)
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
