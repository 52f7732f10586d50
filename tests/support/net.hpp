#pragma once
// Helpers for the network tests: temporary Unix paths that clean up after themselves, and a
// thread that is always joined.

#include <sockframe/sockframe.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

#if !defined(_WIN32)
#include <unistd.h>
#endif

namespace test_support {

/// A fresh, unique directory for Unix socket paths; removed (with its files) on destruction.
class temp_dir {
public:
    temp_dir() {
#if defined(_WIN32)
        char base[MAX_PATH];
        ::GetTempPathA(MAX_PATH, base);
        static std::atomic<unsigned> counter{0};
        path_ = std::string(base) + "sockframe-" + std::to_string(::GetCurrentProcessId()) + "-" +
                std::to_string(counter++);
        ::CreateDirectoryA(path_.c_str(), nullptr);
#else
        char pattern[] = "/tmp/sockframe-test-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        if (made != nullptr) path_ = made;
#endif
    }
    ~temp_dir() {
        for (const auto& f : files_) std::remove(f.c_str());
#if defined(_WIN32)
        ::RemoveDirectoryA(path_.c_str());
#else
        ::rmdir(path_.c_str());
#endif
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    /// A path inside the directory, removed with it.
    std::string file(const std::string& name) {
        files_.push_back(path_ + "/" + name);
        return files_.back();
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::vector<std::string> files_;
};

/// A std::thread that joins when it goes out of scope (even when a test assertion throws).
class joining_thread {
public:
    template <typename F>
    explicit joining_thread(F&& f) : thread_(std::forward<F>(f)) {}
    joining_thread(joining_thread&&) = default;
    ~joining_thread() {
        if (thread_.joinable()) thread_.join();
    }
    void join() { thread_.join(); }
    std::thread::native_handle_type native_handle() { return thread_.native_handle(); }

private:
    std::thread thread_;
};

/// A unique abstract-socket name for this process.
inline std::string unique_name(const char* tag) {
    static std::atomic<unsigned> counter{0};
#if defined(_WIN32)
    unsigned long pid = ::GetCurrentProcessId();
#else
    long pid = static_cast<long>(::getpid());
#endif
    return std::string("sockframe-test-") + tag + "-" + std::to_string(pid) + "-" + std::to_string(counter++);
}

/// A test case that cannot run on this platform: it says so, and why, in the test output (every
/// skip is named: grep the output for "skipped:"), and checks nothing.
#define SOCKFRAME_SKIPPED_TEST_CASE(name, reason) \
    TEST_CASE(name) { MESSAGE("skipped: " name ", because " reason); }

#if defined(SOCKFRAME_HAS_AF_UNIX)
/// Whether this system can make Unix-domain sockets of type `Type` (Windows 10 1803+ has Unix
/// stream sockets only; wine has none; macOS has no seqpacket).
template <typename Type>
bool has_unix() {
    std::error_code ec;
    auto s = sockframe::basic_socket<sockframe::local, Type>::open(ec);
    if (ec == std::errc::address_family_not_supported || ec == std::errc::not_supported ||
        ec == std::errc::protocol_not_supported || ec == std::errc::operation_not_supported)
        return false;
    if (ec) throw std::system_error(ec, "probing for Unix-domain sockets");  // not a "no"
    return true;
}
#endif

/// Two connected stream sockets: a Unix socketpair on POSIX; on Windows, which has no socketpair,
/// a TCP loopback connection, so that the stream tests run there too.
#if defined(SOCKFRAME_POSIX)
using stream_pair_socket = sockframe::unix_stream;
inline std::pair<stream_pair_socket, stream_pair_socket> stream_pair() {
    return sockframe::socketpair<stream_pair_socket>();
}
#else
using stream_pair_socket = sockframe::tcp_stream;
inline std::pair<stream_pair_socket, stream_pair_socket> stream_pair() {
    sockframe::tcp_listener l(sockframe::ipv4_address::loopback(0));
    auto client = stream_pair_socket::connect(l.local_address(), std::chrono::seconds(5));
    auto server = std::move(l.accept(std::chrono::seconds(5)).socket);
    return {std::move(client), std::move(server)};
}
#endif

/// A loopback TCP port nothing listens on, for as long as this lives: a socket bound to it and
/// not listening. A connect to it is refused at once, and no other socket (of this process or
/// another) can take the port meanwhile, as it could once a released port is free again.
struct refused_port {
    sockframe::tcp_stream holder{sockframe::ipv4_address::loopback(0)};
    sockframe::ipv4_address address() const { return holder.local_address(); }
};

/// A connected TCP pair over 127.0.0.1: `client` connected to `server`, the accepted side.
struct tcp_pair {
    sockframe::tcp_stream client, server;
};
inline tcp_pair connected_tcp() {
    sockframe::tcp_listener l(sockframe::ipv4_address::loopback(0));
    tcp_pair p;
    p.client = sockframe::tcp_stream::connect(l.local_address(), std::chrono::seconds(5));
    p.server = std::move(l.accept(std::chrono::seconds(5)).socket);
    return p;
}

/// Whether ::1 can be bound here (some containers have IPv6 disabled).
inline bool has_ipv6_loopback() {
    std::error_code ec;
    sockframe::tcp6_listener l(sockframe::ipv6_address::loopback(0), ec);
    return !ec;
}

}  // namespace test_support
