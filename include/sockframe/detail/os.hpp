// SPDX-License-Identifier: MIT
#pragma once
/// Operating-system glue: the only place that includes socket headers. POSIX and Winsock.

#include <sockframe/detail/convert.hpp>
#include <sockframe/config.hpp>

#if defined(SOCKFRAME_WINDOWS)
// <winsock2.h> includes <windows.h>. If sockframe is the first to include it, it asks for the lean
// variant without the min/max macros and removes the one lowercase-free macro that still collides
// with ordinary C++ names (wingdi.h's ERROR); a later #include <windows.h> is then a no-op, so
// these macros never reach the user's code. If <windows.h> came first, its macros are the user's
// and are left alone (it must then come after <winsock2.h> or with WIN32_LEAN_AND_MEAN, as for
// every Winsock program: otherwise it pulls in the old <winsock.h>).
#if !defined(_INC_WINDOWS) && !defined(_WINDOWS_)
#define SOCKFRAME_OWNS_WINDOWS_H
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#define SOCKFRAME_UNDEF_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#define SOCKFRAME_UNDEF_NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <io.h>
#if __has_include(<afunix.h>)
#include <afunix.h>
#define SOCKFRAME_HAS_AF_UNIX 1
#endif
#ifdef SOCKFRAME_UNDEF_LEAN_AND_MEAN
#undef WIN32_LEAN_AND_MEAN
#undef SOCKFRAME_UNDEF_LEAN_AND_MEAN
#endif
#ifdef SOCKFRAME_UNDEF_NOMINMAX
#undef NOMINMAX
#undef SOCKFRAME_UNDEF_NOMINMAX
#endif
#ifdef SOCKFRAME_OWNS_WINDOWS_H
#undef ERROR
#undef SOCKFRAME_OWNS_WINDOWS_H
#endif
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/sendfile.h>
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define SOCKFRAME_HAS_GETRANDOM 1
#endif
#if __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#define SOCKFRAME_HAS_VSOCK 1
#endif
#endif
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <stdlib.h>
#include <unistd.h>
#include <cerrno>
#define SOCKFRAME_HAS_AF_UNIX 1
#endif

#include <sockframe/error.hpp>

#if defined(SOCKFRAME_WINDOWS)
#include <atomic>  // the Winsock extension functions, looked up once
#endif
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

#if defined(SOCKFRAME_WINDOWS)
using native_handle_type = SOCKET;
using socklen_type = int;
using io_size_type = int;
inline constexpr native_handle_type invalid_handle = INVALID_SOCKET;
using pollfd_type = WSAPOLLFD;
inline constexpr short poll_in = POLLRDNORM;
inline constexpr short poll_out = POLLWRNORM;
inline constexpr int send_flags = 0;
inline constexpr int dont_wait = 0;  // Winsock has no per-call flag: the socket is made non-blocking
#else
using native_handle_type = int;
using socklen_type = socklen_t;
using io_size_type = std::size_t;
inline constexpr native_handle_type invalid_handle = -1;
using pollfd_type = ::pollfd;
inline constexpr short poll_in = POLLIN;
inline constexpr short poll_out = POLLOUT;
inline constexpr int dont_wait = MSG_DONTWAIT;   // one call that does not wait, whatever the mode
#if defined(MSG_NOSIGNAL)
inline constexpr int send_flags = MSG_NOSIGNAL;  // never SIGPIPE on Linux and most BSDs
#else
inline constexpr int send_flags = 0;  // macOS: SO_NOSIGPIPE is set when the socket is made
#endif
#endif

#if defined(SOCKFRAME_WINDOWS)
/// Winsock error values mapped onto portable conditions (std::errc), so that the same comparisons
/// hold on every system.
class winsock_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "winsock"; }
    std::string message(int value) const override {
        char buffer[256] = {};
        DWORD n = ::FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                                   static_cast<DWORD>(value), 0, buffer, sizeof buffer, nullptr);
        while (n > 0 && (buffer[n - 1] == '\n' || buffer[n - 1] == '\r' || buffer[n - 1] == ' ' ||
                         buffer[n - 1] == '.'))
            --n;
        if (n > 0) return std::string(buffer, n);
        // Some systems (wine) have no text for socket errors: say at least what the code means.
        const char* text = fallback_text(value);
        return (text != nullptr ? std::string(text) + " (winsock error " : "winsock error (") +
               std::to_string(value) + ")";
    }
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (value) {
            case WSAEWOULDBLOCK: return std::errc::operation_would_block;
            case WSAEINPROGRESS: return std::errc::operation_in_progress;
            case WSAEALREADY: return std::errc::connection_already_in_progress;
            case WSAECONNREFUSED: return std::errc::connection_refused;
            case WSAECONNRESET: return std::errc::connection_reset;
            case WSAECONNABORTED: return std::errc::connection_aborted;
            case WSAETIMEDOUT: return std::errc::timed_out;
            case WSAEADDRINUSE: return std::errc::address_in_use;
            case WSAEADDRNOTAVAIL: return std::errc::address_not_available;
            case WSAEAFNOSUPPORT: return std::errc::address_family_not_supported;
            case WSAENOTCONN: return std::errc::not_connected;
            case WSAEISCONN: return std::errc::already_connected;
            case WSAENETUNREACH: return std::errc::network_unreachable;
            case WSAEHOSTUNREACH: return std::errc::host_unreachable;
            case WSAENETDOWN: return std::errc::network_down;
            case WSAENETRESET: return std::errc::network_reset;
            case WSAEMSGSIZE: return std::errc::message_size;
            case WSAENOTSOCK: return std::errc::not_a_socket;
            case WSAEBADF: return std::errc::bad_file_descriptor;
            case WSAEINVAL: return std::errc::invalid_argument;
            case WSAEFAULT: return std::errc::bad_address;
            case WSAEMFILE: return std::errc::too_many_files_open;
            case WSAENOBUFS: return std::errc::no_buffer_space;
            case WSAEACCES: return std::errc::permission_denied;
            case WSAEINTR: return std::errc::interrupted;
            case WSAEOPNOTSUPP: return std::errc::operation_not_supported;
            case WSAEPROTONOSUPPORT: return std::errc::protocol_not_supported;
            case WSAEPROTOTYPE: return std::errc::wrong_protocol_type;
            case WSAENOPROTOOPT: return std::errc::no_protocol_option;
            case WSAESHUTDOWN: return std::errc::broken_pipe;
            case WSAESOCKTNOSUPPORT: return std::errc::not_supported;
            case WSAEPFNOSUPPORT: return std::errc::address_family_not_supported;
            case WSAEDESTADDRREQ: return std::errc::destination_address_required;
            case WSAENAMETOOLONG: return std::errc::filename_too_long;
            case WSAEHOSTDOWN: return std::errc::host_unreachable;
            case WSA_NOT_ENOUGH_MEMORY: return std::errc::not_enough_memory;
            case WSA_INVALID_HANDLE: return std::errc::bad_file_descriptor;
            case WSA_INVALID_PARAMETER: return std::errc::invalid_argument;
            default: return {value, *this};
        }
    }

private:
    static const char* fallback_text(int value) noexcept {
        switch (value) {
            case WSAEWOULDBLOCK: return "operation would block";
            case WSAEINPROGRESS: return "operation in progress";
            case WSAEALREADY: return "connection already in progress";
            case WSAECONNREFUSED: return "connection refused";
            case WSAECONNRESET: return "connection reset by peer";
            case WSAECONNABORTED: return "connection aborted";
            case WSAETIMEDOUT: return "connection timed out";
            case WSAEADDRINUSE: return "address in use";
            case WSAEADDRNOTAVAIL: return "address not available";
            case WSAEAFNOSUPPORT: return "address family not supported";
            case WSAESOCKTNOSUPPORT: return "socket type not supported";
            case WSAENOTCONN: return "socket is not connected";
            case WSAEISCONN: return "socket is already connected";
            case WSAENETUNREACH: return "network unreachable";
            case WSAEHOSTUNREACH: return "host unreachable";
            case WSAEMSGSIZE: return "message too long";
            case WSAENOTSOCK: return "not a socket";
            case WSAEINVAL: return "invalid argument";
            case WSAEACCES: return "permission denied";
            case WSAENOPROTOOPT: return "protocol not available";
            case WSAESHUTDOWN: return "cannot send after socket shutdown";
            case WSANOTINITIALISED: return "Winsock not initialised";
            case WSAHOST_NOT_FOUND: return "host not found";
            case WSATRY_AGAIN: return "temporary failure in name resolution";
            case WSANO_RECOVERY: return "non-recoverable failure in name resolution";
            case WSANO_DATA: return "no address for this name";
            case WSATYPE_NOT_FOUND: return "service not found";
            default: return nullptr;
        }
    }
};
inline const std::error_category& winsock_category() noexcept {
    static const winsock_category_impl category;
    return category;
}
inline std::error_code error_from(int value) noexcept { return {value, winsock_category()}; }
inline std::error_code last_error() noexcept { return error_from(::WSAGetLastError()); }
inline bool last_was_interrupted() noexcept { return ::WSAGetLastError() == WSAEINTR; }
inline bool last_would_block() noexcept { return ::WSAGetLastError() == WSAEWOULDBLOCK; }
inline bool last_in_progress() noexcept {
    int e = ::WSAGetLastError();
    return e == WSAEWOULDBLOCK || e == WSAEINPROGRESS;
}

/// Starts Winsock once per process, lazily and thread-safely (a function-local static).
class winsock_init {
public:
    winsock_init() noexcept {
        WSADATA data;
        result_ = ::WSAStartup(MAKEWORD(2, 2), &data);
    }
    ~winsock_init() {
        if (result_ == 0) ::WSACleanup();
    }
    winsock_init(const winsock_init&) = delete;
    winsock_init& operator=(const winsock_init&) = delete;
    int result() const noexcept { return result_; }

private:
    int result_;
};
inline std::error_code ensure_started() noexcept {
    static const winsock_init init;
    return init.result() == 0 ? std::error_code{} : error_from(init.result());
}

/// A Winsock extension function (TransmitFile, WSARecvMsg, WSASendMsg: Microsoft asks for them to
/// be looked up at run time, so nothing links mswsock), asked of socket `h` with
/// SIO_GET_EXTENSION_FUNCTION_POINTER and kept in `slot`, one per function and process, for the
/// next call. A failed look-up is not kept: the next call on another socket asks again. Null
/// with ec set when the socket's provider has no such function.
template <typename Function>
Function extension_function(native_handle_type h, std::atomic<Function>& slot, GUID id,
                            std::error_code& ec) noexcept {
    Function f = slot.load(std::memory_order_acquire);
    if (f != nullptr) return f;
    DWORD returned = 0;
    if (::WSAIoctl(h, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &f, sizeof f, &returned, nullptr,
                   nullptr) != 0) {
        ec = last_error();
        return nullptr;
    }
    if (f == nullptr) {
        ec = std::make_error_code(std::errc::operation_not_supported);
        return nullptr;
    }
    slot.store(f, std::memory_order_release);  // racing threads store the same pointer
    return f;
}
/// WSARecvMsg: a receive with ancillary data (per-datagram metadata).
inline LPFN_WSARECVMSG recv_msg_function(native_handle_type h, std::error_code& ec) noexcept {
    static std::atomic<LPFN_WSARECVMSG> slot{nullptr};
    return extension_function(h, slot, GUID WSAID_WSARECVMSG, ec);
}
/// WSASendMsg: a send with ancillary data (a chosen source address).
inline LPFN_WSASENDMSG send_msg_function(native_handle_type h, std::error_code& ec) noexcept {
    static std::atomic<LPFN_WSASENDMSG> slot{nullptr};
    return extension_function(h, slot, GUID WSAID_WSASENDMSG, ec);
}
/// TransmitFile: a file range sent from the system's file cache (send_file).
inline LPFN_TRANSMITFILE transmit_file_function(native_handle_type h, std::error_code& ec) noexcept {
    static std::atomic<LPFN_TRANSMITFILE> slot{nullptr};
    return extension_function(h, slot, GUID WSAID_TRANSMITFILE, ec);
}
#else
inline std::error_code error_from(int value) noexcept { return {value, std::system_category()}; }
inline std::error_code last_error() noexcept {
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) return std::make_error_code(std::errc::operation_would_block);
    return error_from(e);
}
inline bool last_was_interrupted() noexcept { return errno == EINTR; }
inline bool last_would_block() noexcept { return errno == EAGAIN || errno == EWOULDBLOCK; }
inline bool last_in_progress() noexcept { return errno == EINPROGRESS; }
inline std::error_code ensure_started() noexcept { return {}; }
#endif

/// getaddrinfo's EAI_* results as error codes, with gai_strerror's text.
class resolver_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "sockframe.resolver"; }
    std::string message(int value) const override {
#if defined(SOCKFRAME_WINDOWS)
        return winsock_category().message(value);
#else
        return ::gai_strerror(value);
#endif
    }
    std::error_condition default_error_condition(int value) const noexcept override {
        if (value == EAI_MEMORY) return std::errc::not_enough_memory;  // Windows: WSA_NOT_ENOUGH_MEMORY
        if (value == EAI_FAMILY) return std::errc::address_family_not_supported;  // WSAEAFNOSUPPORT
        return {value, *this};
    }
};
inline const std::error_category& resolver_error_category() noexcept {
    static const resolver_category_impl category;
    return category;
}

/// "No address for this name", as the resolver says it.
inline std::error_code no_such_host_error() noexcept {
#if defined(SOCKFRAME_WINDOWS)
    return {WSAHOST_NOT_FOUND, resolver_error_category()};
#else
    return {EAI_NONAME, resolver_error_category()};
#endif
}

/// getaddrinfo for `host` and `service` (null: none) in `domain` (AF_UNSPEC: IPv4 and IPv6),
/// calling found(sockaddr*, length) for each IPv4/IPv6 address in the system's order. Errors:
/// resolver codes, or the system error behind EAI_SYSTEM.
template <typename Found>
std::error_code resolve_names(const char* host, const char* service, int domain, bool passive,
                              Found&& found) {
    ::addrinfo hints{};
    hints.ai_family = domain;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
    hints.ai_flags = passive ? AI_PASSIVE : 0;
#if defined(AI_ADDRCONFIG)
    if (host != nullptr && std::strcmp(host, "localhost") != 0) hints.ai_flags |= AI_ADDRCONFIG;
#endif
    ::addrinfo* list = nullptr;
    int rc = ::getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
#if defined(SOCKFRAME_POSIX) && defined(EAI_SYSTEM)
        if (rc == EAI_SYSTEM) return error_from(errno);
#endif
        return {rc, resolver_error_category()};
    }
    struct list_owner {
        ::addrinfo* p;
        ~list_owner() { ::freeaddrinfo(p); }
    } owner{list};
    for (auto* p = list; p != nullptr; p = p->ai_next) {
        if (domain != AF_UNSPEC ? p->ai_family != domain
                                : p->ai_family != AF_INET && p->ai_family != AF_INET6)
            continue;
        found(static_cast<const ::sockaddr*>(p->ai_addr), convert<socklen_type>(p->ai_addrlen));
    }
    return {};
}

/// inet_pton on a string_view (copied to a bounded, NUL-terminated buffer).
inline bool text_to_binary(int family, std::string_view text, void* out) noexcept {
    char buffer[64];
    if (text.empty() || text.size() >= sizeof buffer) return false;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    return ::inet_pton(family, buffer, out) == 1;
}
/// inet_ntop into a string ("" if the OS refuses).
inline std::string binary_to_text(int family, const void* binary) {
    char buffer[64] = {};
    if (::inet_ntop(family, const_cast<void*>(binary), buffer, sizeof buffer) == nullptr) return {};
    return buffer;
}
/// htons / ntohs.
inline std::uint16_t to_network(std::uint16_t v) noexcept { return htons(v); }
inline std::uint16_t from_network(std::uint16_t v) noexcept { return ntohs(v); }
/// if_nametoindex for a name of at most 15 bytes (0: unknown, or not on this system).
SOCKFRAME_DECL std::uint32_t interface_index(std::string_view name) noexcept;

/// The portable "would block" code every non-blocking call reports.
inline std::error_code would_block_error() noexcept {
    return std::make_error_code(std::errc::operation_would_block);
}
inline std::error_code timed_out_error() noexcept { return std::make_error_code(std::errc::timed_out); }

/// close() (closesocket() on Windows), not retried on EINTR.
SOCKFRAME_DECL int close_handle(native_handle_type h) noexcept;

/// Sets or clears the descriptor's non-blocking flag.
SOCKFRAME_DECL std::error_code set_non_blocking(native_handle_type h, bool on) noexcept;

/// Makes a socket: close-on-exec, never SIGPIPE, and in the requested blocking mode.
SOCKFRAME_DECL native_handle_type open_socket(int domain, int type, int protocol, bool non_blocking,
                                              std::error_code& ec) noexcept;

/// The device and inode of an open descriptor (fstat), which tell two sockets apart even when
/// they had the same descriptor number at different times. False where unknown (Windows).
SOCKFRAME_DECL bool file_identity(native_handle_type h, std::uint64_t& device, std::uint64_t& inode) noexcept;

/// The address family (AF_INET, AF_INET6, AF_UNIX) of a socket address.
inline int domain_of(const ::sockaddr* address) noexcept { return static_cast<int>(address->sa_family); }

/// Makes an accepted or socketpair descriptor safe as open_socket does (close-on-exec, never
/// SIGPIPE) and sets its blocking mode.
SOCKFRAME_DECL std::error_code prepare_handle(native_handle_type h, bool non_blocking,
                                              bool cloexec_done) noexcept;

/// bind().
inline std::error_code bind_socket(native_handle_type h, const ::sockaddr* address,
                                   socklen_type length) noexcept {
    return ::bind(h, address, length) == 0 ? std::error_code{} : last_error();
}

/// listen().
inline std::error_code listen_socket(native_handle_type h, int backlog) noexcept {
    return ::listen(h, backlog) == 0 ? std::error_code{} : last_error();
}

/// accept(): the new descriptor close-on-exec, never SIGPIPE, in the requested blocking mode.
/// EINTR and connections reset before they were accepted (ECONNABORTED) are retried. Returns
/// invalid_handle with `ec` set on failure (operation_would_block: none pending).
SOCKFRAME_DECL native_handle_type accept_socket(native_handle_type listener, ::sockaddr* from,
                                                socklen_type* length, bool non_blocking,
                                                std::error_code& ec) noexcept;

/// connect(), first step: clear (connected at once), operation_in_progress (goes on in the
/// background; also after EINTR, when POSIX lets the connect go on), or the error.
SOCKFRAME_DECL std::error_code connect_socket(native_handle_type h, const ::sockaddr* address,
                                              socklen_type length) noexcept;

/// Which direction shutdown_socket closes: 0 receive, 1 send, 2 both.
SOCKFRAME_DECL std::error_code shutdown_socket(native_handle_type h, int what) noexcept;

/// setsockopt().
inline std::error_code set_socket_option(native_handle_type h, int level, int name, const void* value,
                                         std::size_t size) noexcept {
    if (::setsockopt(h, level, name, static_cast<const char*>(value), static_cast<socklen_type>(size)) != 0)
        return last_error();
    return {};
}

/// getsockopt(); `size` is the buffer's size on entry and the option's length on return.
inline std::error_code get_socket_option(native_handle_type h, int level, int name, void* value,
                                         std::size_t& size) noexcept {
    auto length = static_cast<socklen_type>(size);
    if (::getsockopt(h, level, name, static_cast<char*>(value), &length) != 0) return last_error();
    size = static_cast<std::size_t>(length);
    return {};
}

/// The pending error of a socket (SO_ERROR): a non-blocking connect's outcome.
inline std::error_code pending_error(native_handle_type h) noexcept {
    int value = 0;
    std::size_t size = sizeof value;
    if (auto ec = get_socket_option(h, SOL_SOCKET, SO_ERROR, &value, size)) return ec;
    return value == 0 ? std::error_code{} : error_from(value);
}

/// getsockname() / getpeername(); `length` is the capacity on entry, the length on return.
inline std::error_code local_name(native_handle_type h, ::sockaddr* out, socklen_type* length) noexcept {
    return ::getsockname(h, out, length) == 0 ? std::error_code{} : last_error();
}
inline std::error_code peer_name(native_handle_type h, ::sockaddr* out, socklen_type* length) noexcept {
    return ::getpeername(h, out, length) == 0 ? std::error_code{} : last_error();
}

/// socketpair(): both ends close-on-exec, never SIGPIPE, in the requested blocking mode.
/// Windows has none: errc::not_supported.
SOCKFRAME_DECL std::error_code make_socketpair(int domain, int type, bool non_blocking,
                                               native_handle_type (&out)[2]) noexcept;

/// sendto() of one datagram; never SIGPIPE; EINTR retried. Returns bytes sent or -1 with ec set.
inline std::ptrdiff_t send_to_once(native_handle_type h, const void* data, std::size_t size, int flags,
                                   const ::sockaddr* to, socklen_type to_length,
                                   std::error_code& ec) noexcept;

/// Removes a file (a Unix socket's path). False if it could not be removed.
inline bool remove_file(const char* path) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    return ::DeleteFileA(path) != 0;
#else
    return ::unlink(path) == 0;
#endif
}

#if !defined(SOCKFRAME_WINDOWS)
/// Fills `out` with `n` bytes from the system's random source: getrandom() on Linux (else
/// /dev/urandom), arc4random_buf() on the BSDs and macOS. False with `ec` set if there is none.
SOCKFRAME_DECL bool system_random(unsigned char* out, std::size_t n, std::error_code& ec) noexcept;
#endif

/// Whether `path` names a Unix socket file (POSIX: S_ISSOCK; Windows: the reparse point its
/// AF_UNIX sockets are). Its identity (device, inode; zero on Windows) goes to `device`/`inode`.
SOCKFRAME_DECL bool socket_file_identity(const char* path, std::uint64_t& device,
                                         std::uint64_t& inode) noexcept;

using clock = std::chrono::steady_clock;

/// Milliseconds left until `deadline` for poll(): -1 for none, rounded up, at most INT_MAX.
SOCKFRAME_DECL int poll_timeout_ms(const std::optional<clock::time_point>& deadline) noexcept;

/// One poll() (WSAPoll() on Windows) of `n` handles, until `deadline`. Returns how many are
/// ready, 0 when the time has passed or a signal interrupted the wait, or -1 with `ec` set.
SOCKFRAME_DECL int poll_handles(pollfd_type* fds, std::size_t n,
                                const std::optional<clock::time_point>& deadline,
                                std::error_code& ec) noexcept;

/// Waits until `h` is ready for `events` or the deadline passes (timed_out). EINTR is retried with
/// the remaining time. Errors and hang-ups count as ready: the next call reports them.
SOCKFRAME_DECL std::error_code wait_ready(native_handle_type h, short events,
                                          const std::optional<clock::time_point>& deadline) noexcept;

/// Waits until a non-blocking connect on `h` has finished, successfully or not, or the deadline
/// passes (timed_out); the outcome is then in SO_ERROR. Windows uses select(): WSAPoll does not
/// report a refused connect before Windows 10 2004, it waits for the whole deadline.
SOCKFRAME_DECL std::error_code wait_connected(native_handle_type h,
                                              const std::optional<clock::time_point>& deadline) noexcept;

#if defined(SOCKFRAME_WINDOWS)
using iovec_type = WSABUF;
inline void set_iovec(iovec_type& v, const void* data, std::size_t size) noexcept {
    v.buf = static_cast<CHAR*>(const_cast<void*>(data));
    v.len = static_cast<ULONG>(size);
}
inline std::size_t iovec_size(const iovec_type& v) noexcept { return v.len; }
inline const void* iovec_data(const iovec_type& v) noexcept { return v.buf; }
inline void advance_iovec(iovec_type& v, std::size_t n) noexcept {
    v.buf += n;
    v.len -= static_cast<ULONG>(n);
}
inline constexpr std::size_t max_iovecs = 1024;
#else
using iovec_type = ::iovec;
inline void set_iovec(iovec_type& v, const void* data, std::size_t size) noexcept {
    v.iov_base = const_cast<void*>(data);
    v.iov_len = size;
}
inline std::size_t iovec_size(const iovec_type& v) noexcept { return v.iov_len; }
inline const void* iovec_data(const iovec_type& v) noexcept { return v.iov_base; }
inline void advance_iovec(iovec_type& v, std::size_t n) noexcept {
    v.iov_base = static_cast<char*>(v.iov_base) + n;
    v.iov_len -= n;
}
#if defined(IOV_MAX)
inline constexpr std::size_t max_iovecs = IOV_MAX;
#else
inline constexpr std::size_t max_iovecs = 1024;
#endif
#endif

/// Makes one system call through `call` (which returns a count, or a negative value on failure)
/// and retries it while it is interrupted (EINTR). Returns the count with `ec` clear, or -1 with
/// `ec` set from the OS error.
template <typename Call>
std::ptrdiff_t retry_interrupted(std::error_code& ec, Call&& call) noexcept {
    for (;;) {
        const auto n = static_cast<std::ptrdiff_t>(call());
        if (n >= 0) {
            ec.clear();
            return n;
        }
        if (last_was_interrupted()) continue;
        ec = last_error();
        return -1;
    }
}

/// One send() of a contiguous buffer; never SIGPIPE. Returns bytes sent or -1 with ec set.
SOCKFRAME_DECL std::ptrdiff_t send_once(native_handle_type h, const void* data, std::size_t size, int flags,
                                        std::error_code& ec) noexcept;

SOCKFRAME_DECL std::ptrdiff_t send_to_once(native_handle_type h, const void* data, std::size_t size,
                                           int flags, const ::sockaddr* to, socklen_type to_length,
                                           std::error_code& ec) noexcept;

/// One gathered send of `count` iovecs (count <= max_iovecs); never SIGPIPE.
SOCKFRAME_DECL std::ptrdiff_t send_vector(native_handle_type h, iovec_type* vecs, std::size_t count,
                                          int flags, std::error_code& ec) noexcept;

/// One recv(); returns bytes (0 = orderly close on a stream) or -1 with ec set.
SOCKFRAME_DECL std::ptrdiff_t receive_once(native_handle_type h, void* data, std::size_t size, int flags,
                                           std::error_code& ec) noexcept;

/// One recvfrom()/recvmsg() of a message: reports truncation instead of silently cutting.
/// `from`/`from_len` may be null. Returns bytes copied, or -1 with ec set; `truncated` tells
/// whether the message was larger than `size`.
SOCKFRAME_DECL std::ptrdiff_t receive_message(native_handle_type h, void* data, std::size_t size, int flags,
                                              ::sockaddr* from, socklen_type* from_len, bool& truncated,
                                              std::error_code& ec) noexcept;

/// The whole size of the next queued message, leaving it queued. Linux: recv(MSG_PEEK |
/// MSG_TRUNC), exact. Elsewhere the message is first waited for with a one-byte peek (so that
/// "none yet" is would-block, as for a receive), then FIONREAD: the first datagram's size on
/// Windows, all queued bytes on BSD and macOS (an upper bound).
SOCKFRAME_DECL std::ptrdiff_t peek_message_size(native_handle_type h, int flags,
                                                std::error_code& ec) noexcept;

/// One record of a seqpacket socket, telling an empty record from end-of-stream (both read as 0
/// bytes): `end` is set only at end-of-stream. Linux: the receive is made with SO_PASSCRED on
/// (turned back off after, unless it was on), so a record carries a credentials message and
/// end-of-stream does not. Elsewhere 0 is taken as end-of-stream. Returns bytes, or -1 with ec.
SOCKFRAME_DECL std::ptrdiff_t receive_record(native_handle_type h, void* data, std::size_t size, int flags,
                                             bool& end, std::error_code& ec) noexcept;

/// Whether send_messages/receive_messages use one system call for many messages.
#if defined(SOCKFRAME_LINUX) || defined(__FreeBSD__) || defined(__NetBSD__)
#define SOCKFRAME_HAS_MMSG 1
inline constexpr bool batched_messages = true;
#else
inline constexpr bool batched_messages = false;
#endif

/// Sends `count` messages (`count` <= 64), message i from vecs[i]: one sendmmsg where the OS has
/// it, else one send per message. Returns how many left (>= 1: an error after the first ends the
/// batch, and the next call reports it), or -1 with ec set when none did.
SOCKFRAME_DECL std::ptrdiff_t send_messages(native_handle_type h, iovec_type* vecs, std::size_t count,
                                            int flags, std::error_code& ec) noexcept;

/// Receives up to `count` messages (`count` <= 64) into vecs[i], waiting (per `flags`) only for
/// the first: one recvmmsg where the OS has it; else one call per message, later ones not
/// waiting (Winsock, which has no per-call "don't wait": one message per call). sizes[i] and
/// truncated[i] describe message i. Returns how many arrived, or -1 with ec set when none did.
SOCKFRAME_DECL std::ptrdiff_t receive_messages(native_handle_type h, iovec_type* vecs, std::size_t count,
                                               int flags, std::size_t* sizes, bool* truncated,
                                               std::error_code& ec) noexcept;

// ---- messages with addresses and ancillary data ---------------------------------------------

/// One message of send_headers / receive_headers: its buffers, its peer address and its
/// ancillary data (POSIX control messages).
struct message_header {
    iovec_type* vecs = nullptr;      ///< the message's buffers
    std::size_t vec_count = 0;       ///< how many
    void* name = nullptr;            ///< the address to send to, or room for the sender's (may be null)
    socklen_type name_length = 0;    ///< bytes at `name`; after a receive, the sender's length
    void* control = nullptr;         ///< ancillary data to send, or room for what arrives (POSIX)
    std::size_t control_length = 0;  ///< bytes at `control`; after a receive, the bytes received
    std::size_t size = 0;            ///< after a receive: the message's bytes (its whole size when
                                     ///< the call asked for it and the OS can say: Linux); after a
                                     ///< send: the bytes sent
    bool truncated = false;          ///< after a receive: the message was larger than its buffers
    bool control_truncated = false;  ///< after a receive: ancillary data did not fit (MSG_CTRUNC)
};

/// Whether receive_headers can report a truncated datagram's whole size (Linux's MSG_TRUNC).
#if defined(SOCKFRAME_LINUX)
inline constexpr bool reports_whole_size = true;
#else
inline constexpr bool reports_whole_size = false;
#endif

#if defined(SOCKFRAME_POSIX)
SOCKFRAME_DECL void to_msghdr(const message_header& m, ::msghdr& msg) noexcept;
inline void from_msghdr(const ::msghdr& msg, std::size_t n, message_header& m) noexcept {
    m.size = n;
    if (m.name != nullptr) m.name_length = msg.msg_namelen;
    m.control_length = msg.msg_control != nullptr ? static_cast<std::size_t>(msg.msg_controllen) : 0;
    m.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    m.control_truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
}
/// Close-on-exec for descriptors received with SCM_RIGHTS, where the OS can set it in the call.
#if defined(MSG_CMSG_CLOEXEC)
inline constexpr int receive_cloexec = MSG_CMSG_CLOEXEC;
#else
inline constexpr int receive_cloexec = 0;
#endif
#endif

/// Sends `count` messages (`count` <= 64) described by `m`: one sendmmsg where the OS has it,
/// else one sendmsg (WSASendTo) each. Returns how many left (>= 1: an error after the first ends
/// the batch, and the next call reports it), or -1 with ec set when none did; each sent
/// message's `size` is then the bytes taken (a stream may take fewer than offered). Windows
/// sends ancillary data with WSASendMsg (datagram and raw sockets only).
SOCKFRAME_DECL std::ptrdiff_t send_headers(native_handle_type h, message_header* m, std::size_t count,
                                           int flags, std::error_code& ec) noexcept;

/// Receives up to `count` messages (`count` <= 64) into `m`, waiting (per `flags`) only for the
/// first: one recvmmsg where the OS has it, else one recvmsg each, later ones not waiting
/// (Windows: one message per call, with WSARecvMsg when `control` is set, else WSARecvFrom and
/// control_length comes back 0). With
/// `whole_size`, a truncated datagram's `size` is its whole size where the OS can say
/// (reports_whole_size); never use it on a stream (there MSG_TRUNC discards data). Returns how
/// many arrived, or -1 with ec set when none did.
SOCKFRAME_DECL std::ptrdiff_t receive_headers(native_handle_type h, message_header* m, std::size_t count,
                                              int flags, bool whole_size, std::error_code& ec) noexcept;

// ---- per-datagram metadata ------------------------------------------------------------------

/// What receive_headers' ancillary data said about one datagram (parse_datagram_control).
struct datagram_control {
    union {
        ::sockaddr_in v4;
        ::sockaddr_in6 v6;
    } destination{};                      ///< the address the datagram was sent to
    socklen_type destination_length = 0;  ///< 0: not reported
    std::uint32_t interface_index = 0;    ///< the interface it arrived on (0: not reported)
    int tos = -1;                         ///< IPv4 TOS / IPv6 traffic class byte (-1: not reported)
    int ttl = -1;                         ///< IPv4 TTL / IPv6 hop limit (-1: not reported)
    std::int64_t seconds = 0;             ///< kernel receive time, since the epoch
    std::int64_t nanoseconds = 0;         ///< its fraction
    bool has_timestamp = false;           ///< whether the two above were reported
    std::uint16_t segment_size = 0;       ///< GRO: the size of each coalesced datagram (0: none)
};

/// Room for the ancillary data a datagram can carry (addresses, TOS, TTL, timestamp, GRO).
inline constexpr std::size_t datagram_control_space = 256;

/// Which datagram metadata enable_datagram_info asks the kernel for (bits).
inline constexpr unsigned info_destination = 1, info_tos = 2, info_ttl = 4, info_timestamp = 8;

// The option that turns each kind of metadata on, per family (0: the system has none). On
// Windows, IP_PKTINFO / IPV6_PKTINFO, IP_RECVTOS / IPV6_RECVTCLASS (Windows 10 1903 and later)
// and IP_HOPLIMIT / IPV6_HOPLIMIT; no kernel receive timestamps.
#if defined(SOCKFRAME_WINDOWS)
inline constexpr int info_v4_destination = IP_PKTINFO, info_v6_destination = IPV6_PKTINFO;
#elif defined(IP_PKTINFO) && defined(IPV6_RECVPKTINFO)
inline constexpr int info_v4_destination = IP_PKTINFO, info_v6_destination = IPV6_RECVPKTINFO;
#else
inline constexpr int info_v4_destination = 0, info_v6_destination = 0;
#endif
#if defined(IP_RECVTOS) && defined(IPV6_RECVTCLASS)
inline constexpr int info_v4_tos = IP_RECVTOS, info_v6_tos = IPV6_RECVTCLASS;
#else
inline constexpr int info_v4_tos = 0, info_v6_tos = 0;
#endif
#if defined(SOCKFRAME_WINDOWS) && defined(IP_HOPLIMIT) && defined(IPV6_HOPLIMIT)
inline constexpr int info_v4_ttl = IP_HOPLIMIT, info_v6_ttl = IPV6_HOPLIMIT;
#elif defined(IP_RECVTTL) && defined(IPV6_RECVHOPLIMIT)
inline constexpr int info_v4_ttl = IP_RECVTTL, info_v6_ttl = IPV6_RECVHOPLIMIT;
#else
inline constexpr int info_v4_ttl = 0, info_v6_ttl = 0;
#endif

/// Turns the kernel's per-datagram metadata on or off for the bits in `what` (info_*): IPv4 and,
/// on an IPv6 socket, IPv6 options as well (IPv4 options there are best effort: they cover
/// IPv4-mapped traffic). A kind the system cannot report (kernel timestamps on Windows) is
/// errc::not_supported; the kinds before it in the order destination, TOS, TTL, timestamp are
/// then already switched. Non-IP sockets: errc::not_supported.
SOCKFRAME_DECL std::error_code enable_datagram_info(native_handle_type h, unsigned what, bool on) noexcept;

#if defined(SOCKFRAME_POSIX)
/// An int or a byte carried by a control message (TOS arrives as a byte on Linux IPv4, the
/// IPv6 values as ints).
SOCKFRAME_DECL int control_int(const ::cmsghdr* c) noexcept;
#endif

/// Reads the ancillary data of one received datagram into `out` (what is not there keeps its
/// "not reported" value). Unknown control messages are skipped; descriptors passed by mistake
/// (SCM_RIGHTS) are closed, never leaked.
SOCKFRAME_DECL void parse_datagram_control(void* control, std::size_t length, datagram_control& out) noexcept;

/// Writes into `buffer` the ancillary data that makes a datagram leave from `source` (an IPv4 or
/// IPv6 address, its port ignored) and/or interface `interface_index` (0: any): IP_PKTINFO /
/// IPV6_PKTINFO (Windows: the same, sent with WSASendMsg). Returns its length, or 0 where the
/// system cannot (BSD for IPv4) or `capacity` is too small.
SOCKFRAME_DECL std::size_t source_control(void* buffer, std::size_t capacity, const ::sockaddr* source,
                                          std::uint32_t interface_index) noexcept;

// ---- Unix-domain extras: descriptors, credentials ------------------------------------------

#if defined(SOCKFRAME_POSIX)
/// The most descriptors one message carries here (Linux's SCM_MAX_FD is 253).
inline constexpr std::size_t max_passed_descriptors = 64;
/// Bytes of ancillary data that carry `count` descriptors.
inline std::size_t rights_space(std::size_t count) noexcept { return CMSG_SPACE(count * sizeof(int)); }
/// Room for the ancillary data of max_passed_descriptors descriptors, suitably aligned.
struct rights_room {
    alignas(::cmsghdr) unsigned char bytes[CMSG_SPACE(sizeof(int) * max_passed_descriptors)];
};

/// Writes an SCM_RIGHTS control message carrying `fds` into `buffer`; returns its length (0 if
/// it does not fit or `count` is 0).
SOCKFRAME_DECL std::size_t rights_control(void* buffer, std::size_t capacity, const int* fds,
                                          std::size_t count) noexcept;

/// Takes the descriptors of every SCM_RIGHTS message in received ancillary data: the first
/// `capacity` go to `out` (`count` says how many), the rest are closed at once. Other control
/// messages are ignored. Returns how many were closed.
SOCKFRAME_DECL std::size_t take_rights(void* control, std::size_t length, int* out, std::size_t capacity,
                                       std::size_t& count) noexcept;
#endif

/// The peer of a connected Unix socket: process (-1 where the system cannot say), user and
/// group. Linux: SO_PEERCRED; BSD and macOS: getpeereid (no process id). Other sockets and
/// Windows: errc::not_supported.
SOCKFRAME_DECL std::error_code peer_credentials(native_handle_type h, long& pid, long& uid,
                                                long& gid) noexcept;

// ---- multicast ------------------------------------------------------------------------------

/// The address family a socket was opened with (AF_INET, AF_INET6, AF_UNIX), or -1 with ec.
SOCKFRAME_DECL int socket_domain(native_handle_type h, std::error_code& ec) noexcept;

/// Joins (or leaves) the multicast `group` on interface `interface_index` (0: the system's
/// choice): any-source, or with `source` non-null source-specific (SSM: only datagrams from
/// `source`). MCAST_JOIN_GROUP / MCAST_JOIN_SOURCE_GROUP and their leave forms, at the group's
/// IP level. Systems without them: errc::not_supported.
SOCKFRAME_DECL std::error_code multicast_membership(native_handle_type h, bool join, const ::sockaddr* group,
                                                    socklen_type group_length, const ::sockaddr* source,
                                                    socklen_type source_length,
                                                    std::uint32_t interface_index) noexcept;

/// Which multicast sending setting set_multicast changes.
enum class multicast_setting {
    outgoing_interface,
    hops,
    loopback
};  // not `interface`: a macro in <objbase.h>

/// Sets how this socket sends multicast: the outgoing interface (an index), the TTL / hop limit,
/// or whether its own host receives what it sends (loopback). IPv4 or IPv6 by the socket's
/// family (an IPv6 socket also sets the IPv4 form, best effort, for IPv4-mapped groups).
SOCKFRAME_DECL std::error_code set_multicast(native_handle_type h, multicast_setting what,
                                             std::uint32_t value) noexcept;

// ---- UDP segmentation offload ---------------------------------------------------------------

/// Whether this system has UDP GSO / GRO (Linux 4.18+ / 5.0+; the kernel may still refuse).
#if defined(SOCKFRAME_LINUX) && defined(UDP_SEGMENT) && defined(UDP_GRO)
inline constexpr bool has_udp_offload = true;
#else
inline constexpr bool has_udp_offload = false;
#endif

/// The most datagrams one GSO send may make (the kernel's UDP_MAX_SEGMENTS, 64 before 5.x).
inline constexpr std::size_t max_gso_segments = 64;

/// Writes the UDP_SEGMENT control message (segments of `size` bytes) into `buffer`; returns its
/// length, 0 where the system has none.
SOCKFRAME_DECL std::size_t segment_control(void* buffer, std::size_t capacity, std::uint16_t size) noexcept;

/// Turns UDP GRO on or off (UDP_GRO): the kernel may then hand over several datagrams of one
/// size from one sender in one buffer, with their size in a UDP_GRO control message. Elsewhere:
/// errc::not_supported.
SOCKFRAME_DECL std::error_code set_udp_gro(native_handle_type h, bool on) noexcept;

/// Whether a failed GSO send means "this kernel or path cannot segment" (send the datagrams one
/// by one instead) rather than a real error.
inline bool gso_refused(const std::error_code& ec) noexcept {
    return ec == std::errc::io_error || ec == std::errc::invalid_argument ||
           ec == std::errc::no_protocol_option || ec == std::errc::operation_not_supported;
}

// ---- file sends -----------------------------------------------------------------------------

/// Native file descriptor type for send_file: a POSIX descriptor; on Windows a C runtime
/// descriptor (_open, _fileno), whose HANDLE is _get_osfhandle's.
using file_handle_type = int;

#if defined(SOCKFRAME_WINDOWS)
/// The HANDLE behind C runtime descriptor `file`, or null with ec set (a negative descriptor is
/// refused before the runtime sees it).
SOCKFRAME_DECL HANDLE file_os_handle(file_handle_type file, std::error_code& ec) noexcept;
/// The calling thread's last Win32 error (GetLastError, not a Winsock code).
inline std::error_code last_system_error() noexcept {
    return {static_cast<int>(::GetLastError()), std::system_category()};
}
#endif

/// The size of an open file, or -1 with ec set.
SOCKFRAME_DECL std::int64_t file_size(file_handle_type file, std::error_code& ec) noexcept;

/// Sends up to `count` bytes of `file` from `offset` to a stream socket without copying them
/// through user space where the system can (Linux sendfile); elsewhere (other POSIX systems,
/// and Windows, whose TransmitFile cannot stop part-way: see send_file_waiting) one positioned
/// read into a bounce buffer and one send. Returns bytes sent (0: the file ended) or -1 with ec
/// set (would_block included).
SOCKFRAME_DECL std::ptrdiff_t send_file_once(native_handle_type h, file_handle_type file, std::int64_t offset,
                                             std::size_t count, int flags, std::error_code& ec) noexcept;

/// send_file_once for a call that may wait as long as the send takes (a blocking socket, no
/// deadline). Windows: TransmitFile, which sends the range from the system's file cache in one
/// call (at most 2^31 - 2 bytes per call; the range starts at `offset`, not at the file's
/// position, which Windows may move); without it, send_file_once. Elsewhere: send_file_once.
SOCKFRAME_DECL std::ptrdiff_t send_file_waiting(native_handle_type h, file_handle_type file,
                                                std::int64_t offset, std::size_t count,
                                                std::error_code& ec) noexcept;

#if SOCKFRAME_HEADER_BODIES
// The bodies of the calls declared above: compiled in every unit when header-only, and once, in
// src/sockframe.cpp, with SOCKFRAME_SEPARATE_COMPILATION (what a unit that includes the socket
// layer compiles is then its types, its templates and the few calls small enough to inline).

SOCKFRAME_DECL std::uint32_t interface_index(std::string_view name) noexcept {
#if defined(SOCKFRAME_POSIX)
    char text[16] = {};
    if (name.size() >= sizeof text) return 0;
    std::memcpy(text, name.data(), name.size());
    return ::if_nametoindex(text);
#else
    (void)name;
    return 0;
#endif
}

SOCKFRAME_DECL int close_handle(native_handle_type h) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    return ::closesocket(h);
#else
    // close() is not retried on EINTR: on Linux the descriptor is released either way.
    return ::close(h);
#endif
}

SOCKFRAME_DECL std::error_code set_non_blocking(native_handle_type h, bool on) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    u_long value = on ? 1 : 0;
    if (::ioctlsocket(h, FIONBIO, &value) != 0) return last_error();
#else
    int flags = ::fcntl(h, F_GETFL, 0);
    if (flags < 0) return last_error();
    int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && ::fcntl(h, F_SETFL, wanted) < 0) return last_error();
#endif
    return {};
}

SOCKFRAME_DECL native_handle_type open_socket(int domain, int type, int protocol, bool non_blocking,
                                              std::error_code& ec) noexcept {
    ec = ensure_started();
    if (ec) return invalid_handle;
#if defined(SOCKFRAME_WINDOWS)
    native_handle_type h = ::WSASocketW(domain, type, protocol, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (h == invalid_handle) {
        ec = last_error();
        return h;
    }
#elif defined(SOCK_CLOEXEC)
    native_handle_type h = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    if (h < 0) {
        ec = last_error();
        return invalid_handle;
    }
#else
    native_handle_type h = ::socket(domain, type, protocol);
    if (h < 0) {
        ec = last_error();
        return invalid_handle;
    }
    ::fcntl(h, F_SETFD, FD_CLOEXEC);
#endif
#if defined(SO_NOSIGPIPE)
    int one = 1;
    ::setsockopt(h, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
#if defined(SOCKFRAME_WINDOWS) && defined(SIO_UDP_CONNRESET)
    // By default Windows fails the next recvfrom with WSAECONNRESET when an earlier sendto drew an
    // ICMP "port unreachable": one vanished peer would break a UDP server. POSIX never reports it
    // on an unconnected socket; neither does sockframe.
    if (type == SOCK_DGRAM) {
        BOOL report = FALSE;
        DWORD returned = 0;
        ::WSAIoctl(h, SIO_UDP_CONNRESET, &report, sizeof report, nullptr, 0, &returned, nullptr, nullptr);
    }
#endif
    if (non_blocking) {
        ec = set_non_blocking(h, true);
        if (ec) {
            close_handle(h);
            return invalid_handle;
        }
    }
    return h;
}

SOCKFRAME_DECL bool file_identity(native_handle_type h, std::uint64_t& device,
                                  std::uint64_t& inode) noexcept {
#if defined(SOCKFRAME_POSIX)
    struct ::stat st {};
    if (::fstat(h, &st) != 0) return false;
    device = convert<std::uint64_t>(st.st_dev);
    inode = convert<std::uint64_t>(st.st_ino);
    return true;
#else
    (void)h;
    (void)device;
    (void)inode;
    return false;
#endif
}

SOCKFRAME_DECL std::error_code prepare_handle(native_handle_type h, bool non_blocking,
                                              bool cloexec_done) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    if (!cloexec_done)
        ::SetHandleInformation(reinterpret_cast<HANDLE>(h), HANDLE_FLAG_INHERIT, 0);  // not inherited
#else
    if (!cloexec_done) ::fcntl(h, F_SETFD, FD_CLOEXEC);
#endif
#if defined(SO_NOSIGPIPE)
    int one = 1;
    ::setsockopt(h, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return set_non_blocking(h, non_blocking);
}

SOCKFRAME_DECL native_handle_type accept_socket(native_handle_type listener, ::sockaddr* from,
                                                socklen_type* length, bool non_blocking,
                                                std::error_code& ec) noexcept {
    const socklen_type capacity = length != nullptr ? *length : 0;
    for (;;) {
        if (length != nullptr) *length = capacity;
#if defined(SOCKFRAME_LINUX) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
        native_handle_type h =
            ::accept4(listener, from, length, SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0));
        if (h >= 0) {
#if defined(SO_NOSIGPIPE)
            int one = 1;
            ::setsockopt(h, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
            ec.clear();
            return h;
        }
#else
        native_handle_type h = ::accept(listener, from, length);
        if (h != invalid_handle) {
            // accepted sockets may inherit the listener's flags here: set them all
            ec = prepare_handle(h, non_blocking, false);
            if (ec) {
                close_handle(h);
                return invalid_handle;
            }
            return h;
        }
#endif
        if (last_was_interrupted()) continue;
        ec = last_error();
        if (ec == std::errc::connection_aborted) continue;  // reset before accept: take the next one
        return invalid_handle;
    }
}

SOCKFRAME_DECL std::error_code connect_socket(native_handle_type h, const ::sockaddr* address,
                                              socklen_type length) noexcept {
    if (::connect(h, address, length) == 0) return {};
    if (last_in_progress()) return std::make_error_code(std::errc::operation_in_progress);
#if defined(SOCKFRAME_POSIX)
    if (last_was_interrupted()) return std::make_error_code(std::errc::operation_in_progress);
#endif
    return last_error();
}

SOCKFRAME_DECL std::error_code shutdown_socket(native_handle_type h, int what) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    int how = what == 0 ? SD_RECEIVE : what == 1 ? SD_SEND : SD_BOTH;
#else
    int how = what == 0 ? SHUT_RD : what == 1 ? SHUT_WR : SHUT_RDWR;
#endif
    return ::shutdown(h, how) == 0 ? std::error_code{} : last_error();
}

SOCKFRAME_DECL std::error_code make_socketpair(int domain, int type, bool non_blocking,
                                               native_handle_type (&out)[2]) noexcept {
    out[0] = out[1] = invalid_handle;
#if defined(SOCKFRAME_POSIX)
    int fds[2] = {-1, -1};
#if defined(SOCK_CLOEXEC)
    const bool cloexec_done = true;
    if (::socketpair(domain, type | SOCK_CLOEXEC, 0, fds) != 0) return last_error();
#else
    const bool cloexec_done = false;
    if (::socketpair(domain, type, 0, fds) != 0) return last_error();
#endif
    for (int fd : fds) {
        if (auto ec = prepare_handle(fd, non_blocking, cloexec_done)) {
            ::close(fds[0]);
            ::close(fds[1]);
            return ec;
        }
    }
    out[0] = fds[0];
    out[1] = fds[1];
    return {};
#else
    (void)domain;
    (void)type;
    (void)non_blocking;
    return errc::not_supported;
#endif
}

#if !defined(SOCKFRAME_WINDOWS)
SOCKFRAME_DECL bool system_random(unsigned char* out, std::size_t n, std::error_code& ec) noexcept {
#if defined(SOCKFRAME_BSD)
    ::arc4random_buf(out, n);
    (void)ec;
    return true;
#else
    std::size_t done = 0;
#if defined(SOCKFRAME_HAS_GETRANDOM)
    while (done < n) {
        const auto got = ::getrandom(out + done, n - done, 0);
        if (got > 0) {
            done += static_cast<std::size_t>(got);
        } else if (got < 0 && errno != EINTR) {
            break;
        }
    }
    if (done == n) return true;
#endif
    const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ec = last_error();
        return false;
    }
    while (done < n) {
        const auto got = ::read(fd, out + done, n - done);
        if (got > 0) {
            done += static_cast<std::size_t>(got);
        } else if (got == 0 || errno != EINTR) {
            ec = got == 0 ? std::make_error_code(std::errc::io_error) : last_error();
            break;
        }
    }
    ::close(fd);
    return done == n;
#endif
}
#endif

SOCKFRAME_DECL bool socket_file_identity(const char* path, std::uint64_t& device,
                                         std::uint64_t& inode) noexcept {
    device = inode = 0;
#if defined(SOCKFRAME_WINDOWS)
    DWORD attributes = ::GetFileAttributesA(path);
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
#else
    struct ::stat st {};
    if (::lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    device = convert<std::uint64_t>(st.st_dev);
    inode = convert<std::uint64_t>(st.st_ino);
    return true;
#endif
}

SOCKFRAME_DECL int poll_timeout_ms(const std::optional<clock::time_point>& deadline) noexcept {
    if (!deadline) return -1;
    auto now = clock::now();
    if (*deadline <= now) return 0;
    auto left = *deadline - now;
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(left + std::chrono::microseconds(999)).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

SOCKFRAME_DECL int poll_handles(pollfd_type* fds, std::size_t n,
                                const std::optional<clock::time_point>& deadline,
                                std::error_code& ec) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    int got = ::WSAPoll(fds, static_cast<ULONG>(n), poll_timeout_ms(deadline));
#else
    int got = ::poll(fds, convert<::nfds_t>(n), poll_timeout_ms(deadline));
#endif
    if (got >= 0) return got;
    if (last_was_interrupted()) return 0;
    ec = last_error();
    return -1;
}

SOCKFRAME_DECL std::error_code wait_ready(native_handle_type h, short events,
                                          const std::optional<clock::time_point>& deadline) noexcept {
    for (;;) {
        pollfd_type p{};
        p.fd = h;
        p.events = events;
        std::error_code ec;
        const int n = poll_handles(&p, 1, deadline, ec);
        if (n > 0) return {};
        if (n < 0) return ec;
        if (deadline && clock::now() >= *deadline) return timed_out_error();
    }
}

SOCKFRAME_DECL std::error_code wait_connected(native_handle_type h,
                                              const std::optional<clock::time_point>& deadline) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    for (;;) {
        fd_set writable, failed;
        FD_ZERO(&writable);
        FD_ZERO(&failed);
        FD_SET(h, &writable);
        FD_SET(h, &failed);
        int ms = poll_timeout_ms(deadline);
        ::timeval tv{ms / 1000, (ms % 1000) * 1000};
        int n = ::select(0, nullptr, &writable, &failed, ms < 0 ? nullptr : &tv);
        if (n > 0) return {};
        if (n == 0) {
            if (deadline && clock::now() >= *deadline) return timed_out_error();
            continue;
        }
        if (last_was_interrupted()) continue;
        return last_error();
    }
#else
    return wait_ready(h, poll_out, deadline);
#endif
}

SOCKFRAME_DECL std::ptrdiff_t send_once(native_handle_type h, const void* data, std::size_t size, int flags,
                                        std::error_code& ec) noexcept {
    return retry_interrupted(ec, [&] {
#if defined(SOCKFRAME_WINDOWS)
        return ::send(h, static_cast<const char*>(data), size > INT_MAX ? INT_MAX : static_cast<int>(size),
                      flags);
#else
        return ::send(h, data, size, flags | send_flags);
#endif
    });
}

SOCKFRAME_DECL std::ptrdiff_t send_to_once(native_handle_type h, const void* data, std::size_t size,
                                           int flags, const ::sockaddr* to, socklen_type to_length,
                                           std::error_code& ec) noexcept {
    return retry_interrupted(ec, [&] {
#if defined(SOCKFRAME_WINDOWS)
        return ::sendto(h, static_cast<const char*>(data), size > INT_MAX ? INT_MAX : static_cast<int>(size),
                        flags, to, to_length);
#else
        return ::sendto(h, data, size, flags | send_flags, to, to_length);
#endif
    });
}

SOCKFRAME_DECL std::ptrdiff_t send_vector(native_handle_type h, iovec_type* vecs, std::size_t count,
                                          int flags, std::error_code& ec) noexcept {
    return retry_interrupted(ec, [&]() -> std::ptrdiff_t {
#if defined(SOCKFRAME_WINDOWS)
        DWORD sent = 0;
        int r =
            ::WSASend(h, vecs, static_cast<DWORD>(count), &sent, static_cast<DWORD>(flags), nullptr, nullptr);
        return r == 0 ? static_cast<std::ptrdiff_t>(sent) : -1;
#else
        ::msghdr msg{};
        msg.msg_iov = vecs;
        msg.msg_iovlen = convert<decltype(msg.msg_iovlen)>(count);
        return ::sendmsg(h, &msg, flags | send_flags);
#endif
    });
}

SOCKFRAME_DECL std::ptrdiff_t receive_once(native_handle_type h, void* data, std::size_t size, int flags,
                                           std::error_code& ec) noexcept {
    return retry_interrupted(ec, [&] {
#if defined(SOCKFRAME_WINDOWS)
        return ::recv(h, static_cast<char*>(data), size > INT_MAX ? INT_MAX : static_cast<int>(size), flags);
#else
        return ::recv(h, data, size, flags);
#endif
    });
}

SOCKFRAME_DECL std::ptrdiff_t receive_message(native_handle_type h, void* data, std::size_t size, int flags,
                                              ::sockaddr* from, socklen_type* from_len, bool& truncated,
                                              std::error_code& ec) noexcept {
    truncated = false;
    return retry_interrupted(ec, [&]() -> std::ptrdiff_t {
#if defined(SOCKFRAME_WINDOWS)
        int n = ::recvfrom(h, static_cast<char*>(data), size > INT_MAX ? INT_MAX : static_cast<int>(size),
                           flags, from, from_len);
        if (n < 0 && ::WSAGetLastError() == WSAEMSGSIZE) {
            truncated = true;  // Winsock fills the buffer and reports the rest as an error
            return static_cast<std::ptrdiff_t>(size);
        }
        return n;
#else
        ::iovec v{data, size};
        ::msghdr msg{};
        msg.msg_name = from;
        msg.msg_namelen = from_len != nullptr ? *from_len : 0;
        msg.msg_iov = &v;
        msg.msg_iovlen = 1;
        ::ssize_t n = ::recvmsg(h, &msg, flags);
        if (n >= 0) {
            if (from_len != nullptr) *from_len = msg.msg_namelen;
            truncated = (msg.msg_flags & MSG_TRUNC) != 0;
        }
        return n;
#endif
    });
}

SOCKFRAME_DECL std::ptrdiff_t peek_message_size(native_handle_type h, int flags,
                                                std::error_code& ec) noexcept {
#if defined(SOCKFRAME_LINUX)
    return retry_interrupted(ec, [&] {
        char byte;
        return ::recv(h, &byte, 1, flags | MSG_PEEK | MSG_TRUNC);
    });
#else
    char byte;
    bool truncated = false;
    if (receive_message(h, &byte, 1, flags | MSG_PEEK, nullptr, nullptr, truncated, ec) < 0) return -1;
#if defined(SOCKFRAME_WINDOWS)
    u_long size = 0;
    if (::ioctlsocket(h, FIONREAD, &size) != 0) {
        ec = last_error();
        return -1;
    }
#else
    int size = 0;
    if (::ioctl(h, FIONREAD, &size) != 0) {
        ec = last_error();
        return -1;
    }
#endif
    ec.clear();
    return static_cast<std::ptrdiff_t>(size);
#endif
}

SOCKFRAME_DECL std::ptrdiff_t receive_record(native_handle_type h, void* data, std::size_t size, int flags,
                                             bool& end, std::error_code& ec) noexcept {
    end = false;
#if defined(SOCKFRAME_LINUX)
    int was_on = 0;
    ::socklen_t length = sizeof was_on;
    if (::getsockopt(h, SOL_SOCKET, SO_PASSCRED, &was_on, &length) != 0) {
        ec = last_error();
        return -1;
    }
    const int on = 1;
    if (was_on == 0 && ::setsockopt(h, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
        ec = last_error();
        return -1;
    }
    alignas(::cmsghdr) char control[CMSG_SPACE(sizeof(::ucred))];
    ::iovec v{data, size};
    ::msghdr msg{};
    msg.msg_iov = &v;
    msg.msg_iovlen = 1;
    const std::ptrdiff_t n = retry_interrupted(ec, [&] {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        return ::recvmsg(h, &msg, flags);
    });
    if (was_on == 0) {
        const int off = 0;
        ::setsockopt(h, SOL_SOCKET, SO_PASSCRED, &off, sizeof off);
    }
    if (n == 0) end = msg.msg_controllen == 0;
    return n;
#else
    bool truncated = false;
    const std::ptrdiff_t n = receive_message(h, data, size, flags, nullptr, nullptr, truncated, ec);
    end = n == 0;
    return n;
#endif
}

SOCKFRAME_DECL std::ptrdiff_t send_messages(native_handle_type h, iovec_type* vecs, std::size_t count,
                                            int flags, std::error_code& ec) noexcept {
#if defined(SOCKFRAME_HAS_MMSG)
    ::mmsghdr messages[64];
    if (count > 64) count = 64;
    for (std::size_t i = 0; i < count; ++i) {
        messages[i] = ::mmsghdr{};
        messages[i].msg_hdr.msg_iov = &vecs[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    return retry_interrupted(
        ec, [&] { return ::sendmmsg(h, messages, static_cast<unsigned>(count), flags | send_flags); });
#else
    for (std::size_t i = 0; i < count; ++i) {
        if (send_vector(h, vecs + i, 1, flags, ec) < 0) {
            if (i == 0) return -1;
            ec.clear();
            return static_cast<std::ptrdiff_t>(i);
        }
    }
    ec.clear();
    return static_cast<std::ptrdiff_t>(count);
#endif
}

SOCKFRAME_DECL std::ptrdiff_t receive_messages(native_handle_type h, iovec_type* vecs, std::size_t count,
                                               int flags, std::size_t* sizes, bool* truncated,
                                               std::error_code& ec) noexcept {
#if defined(SOCKFRAME_HAS_MMSG)
    ::mmsghdr messages[64];
    if (count > 64) count = 64;
    for (std::size_t i = 0; i < count; ++i) {
        messages[i] = ::mmsghdr{};
        messages[i].msg_hdr.msg_iov = &vecs[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    const auto n = retry_interrupted(ec, [&] {
        return ::recvmmsg(h, messages, static_cast<unsigned>(count), flags | MSG_WAITFORONE, nullptr);
    });
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        sizes[i] = messages[i].msg_len;
        truncated[i] = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    }
    return n;
#else
    for (std::size_t i = 0; i < count; ++i) {
#if defined(SOCKFRAME_WINDOWS)
        if (i > 0) return static_cast<std::ptrdiff_t>(i);
        int f = flags;
        void* data = vecs[i].buf;
#else
        int f = i == 0 ? flags : flags | MSG_DONTWAIT;
        void* data = vecs[i].iov_base;
#endif
        bool cut = false;
        auto n = receive_message(h, data, iovec_size(vecs[i]), f, nullptr, nullptr, cut, ec);
        if (n < 0) {
            if (i == 0) return -1;
            ec.clear();
            return static_cast<std::ptrdiff_t>(i);
        }
        sizes[i] = static_cast<std::size_t>(n);
        truncated[i] = cut;
    }
    ec.clear();
    return static_cast<std::ptrdiff_t>(count);
#endif
}

#if defined(SOCKFRAME_POSIX)
SOCKFRAME_DECL void to_msghdr(const message_header& m, ::msghdr& msg) noexcept {
    msg = ::msghdr{};
    msg.msg_name = m.name;
    msg.msg_namelen = m.name != nullptr ? m.name_length : 0;
    msg.msg_iov = m.vecs;
    msg.msg_iovlen = convert<decltype(msg.msg_iovlen)>(m.vec_count);
    msg.msg_control = m.control_length > 0 ? m.control : nullptr;
    msg.msg_controllen = convert<decltype(msg.msg_controllen)>(m.control_length);
}
#endif

SOCKFRAME_DECL std::ptrdiff_t send_headers(native_handle_type h, message_header* m, std::size_t count,
                                           int flags, std::error_code& ec) noexcept {
    if (count > 64) count = 64;
#if defined(SOCKFRAME_HAS_MMSG)
    ::mmsghdr messages[64];
    for (std::size_t i = 0; i < count; ++i) {
        messages[i] = ::mmsghdr{};
        to_msghdr(m[i], messages[i].msg_hdr);
    }
    const auto sent = retry_interrupted(
        ec, [&] { return ::sendmmsg(h, messages, static_cast<unsigned>(count), flags | send_flags); });
    for (std::ptrdiff_t i = 0; i < sent; ++i) m[i].size = messages[i].msg_len;
    return sent;
#else
    for (std::size_t i = 0; i < count; ++i) {
        const auto n = retry_interrupted(ec, [&]() -> std::ptrdiff_t {
#if defined(SOCKFRAME_WINDOWS)
            DWORD sent = 0;
            if (m[i].control_length > 0) {  // ancillary data: WSASendMsg
                std::error_code lookup;
                LPFN_WSASENDMSG send_msg = send_msg_function(h, lookup);
                if (send_msg == nullptr) {
                    ::WSASetLastError(WSAEOPNOTSUPP);
                    return -1;
                }
                ::WSAMSG msg{};
                msg.name = static_cast<::sockaddr*>(m[i].name);
                msg.namelen = m[i].name != nullptr ? m[i].name_length : 0;
                msg.lpBuffers = m[i].vecs;
                msg.dwBufferCount = static_cast<DWORD>(m[i].vec_count);
                msg.Control.buf = static_cast<char*>(m[i].control);
                msg.Control.len = static_cast<ULONG>(m[i].control_length);
                const int r = send_msg(h, &msg, static_cast<DWORD>(flags), &sent, nullptr, nullptr);
                return r == 0 ? static_cast<std::ptrdiff_t>(sent) : -1;
            }
            int r = ::WSASendTo(h, m[i].vecs, static_cast<DWORD>(m[i].vec_count), &sent,
                                static_cast<DWORD>(flags), static_cast<const ::sockaddr*>(m[i].name),
                                m[i].name != nullptr ? m[i].name_length : 0, nullptr, nullptr);
            return r == 0 ? static_cast<std::ptrdiff_t>(sent) : -1;
#else
            ::msghdr msg;
            to_msghdr(m[i], msg);
            return ::sendmsg(h, &msg, flags | send_flags);
#endif
        });
        if (n < 0) {
            if (i == 0) return -1;
            ec.clear();
            return static_cast<std::ptrdiff_t>(i);
        }
        m[i].size = static_cast<std::size_t>(n);
    }
    ec.clear();
    return static_cast<std::ptrdiff_t>(count);
#endif
}

SOCKFRAME_DECL std::ptrdiff_t receive_headers(native_handle_type h, message_header* m, std::size_t count,
                                              int flags, bool whole_size, std::error_code& ec) noexcept {
    if (count > 64) count = 64;
#if defined(SOCKFRAME_LINUX)
    if (whole_size) flags |= MSG_TRUNC;
#else
    (void)whole_size;
#endif
#if defined(SOCKFRAME_HAS_MMSG)
    ::mmsghdr messages[64];
    for (std::size_t i = 0; i < count; ++i) {
        messages[i] = ::mmsghdr{};
        to_msghdr(m[i], messages[i].msg_hdr);
    }
    const auto n = retry_interrupted(ec, [&] {
        return ::recvmmsg(h, messages, static_cast<unsigned>(count), flags | receive_cloexec | MSG_WAITFORONE,
                          nullptr);
    });
    for (std::ptrdiff_t i = 0; i < n; ++i) from_msghdr(messages[i].msg_hdr, messages[i].msg_len, m[i]);
    return n;
#else
    for (std::size_t i = 0; i < count; ++i) {
        const auto n = retry_interrupted(ec, [&]() -> std::ptrdiff_t {
#if defined(SOCKFRAME_WINDOWS)
            if (i > 0) {  // Winsock has no per-call "don't wait"
                ::WSASetLastError(WSAEWOULDBLOCK);
                return -1;
            }
            DWORD received = 0, out_flags = static_cast<DWORD>(flags);
            int name_length = m[i].name != nullptr ? m[i].name_length : 0;
            std::error_code lookup;
            LPFN_WSARECVMSG recv_msg =
                m[i].control != nullptr && m[i].control_length > 0 ? recv_msg_function(h, lookup) : nullptr;
            int r = 0;
            if (recv_msg != nullptr) {  // ancillary data wanted: WSARecvMsg (datagram and raw sockets)
                ::WSAMSG msg{};
                msg.name = static_cast<::sockaddr*>(m[i].name);
                msg.namelen = name_length;
                msg.lpBuffers = m[i].vecs;
                msg.dwBufferCount = static_cast<DWORD>(m[i].vec_count);
                msg.Control.buf = static_cast<char*>(m[i].control);
                msg.Control.len = static_cast<ULONG>(m[i].control_length);
                msg.dwFlags = out_flags;
                r = recv_msg(h, &msg, &received, nullptr, nullptr);
                const bool oversized = r != 0 && ::WSAGetLastError() == WSAEMSGSIZE;
                if (r != 0 && !oversized) return -1;
                name_length = msg.namelen;
                m[i].control_length = msg.Control.len;
                m[i].control_truncated = (msg.dwFlags & MSG_CTRUNC) != 0;
                m[i].truncated = oversized || (msg.dwFlags & MSG_TRUNC) != 0;
                if (m[i].truncated) {  // Windows fills the buffers and says no more
                    received = 0;
                    for (std::size_t k = 0; k < m[i].vec_count; ++k) received += m[i].vecs[k].len;
                }
                if (m[i].name != nullptr) m[i].name_length = name_length;
                m[i].size = received;
                return static_cast<std::ptrdiff_t>(received);
            }
            r = ::WSARecvFrom(h, m[i].vecs, static_cast<DWORD>(m[i].vec_count), &received, &out_flags,
                              static_cast<::sockaddr*>(m[i].name),
                              m[i].name != nullptr ? &name_length : nullptr, nullptr, nullptr);
            m[i].control_length = 0;
            m[i].control_truncated = false;
            m[i].truncated = false;
            if (r != 0 && ::WSAGetLastError() == WSAEMSGSIZE) {
                m[i].truncated = true;
                received = 0;
                for (std::size_t k = 0; k < m[i].vec_count; ++k) received += m[i].vecs[k].len;
                r = 0;
            }
            if (r != 0) return -1;
            if (m[i].name != nullptr) m[i].name_length = name_length;
            m[i].size = received;
            return static_cast<std::ptrdiff_t>(received);
#else
            ::msghdr msg;
            to_msghdr(m[i], msg);
            const ::ssize_t got = ::recvmsg(h, &msg, (i == 0 ? flags : flags | MSG_DONTWAIT) | receive_cloexec);
            if (got >= 0) from_msghdr(msg, static_cast<std::size_t>(got), m[i]);
            return got;
#endif
        });
        if (n < 0) {
            if (i == 0) return -1;
            ec.clear();
            return static_cast<std::ptrdiff_t>(i);
        }
    }
    ec.clear();
    return static_cast<std::ptrdiff_t>(count);
#endif
}

SOCKFRAME_DECL std::error_code enable_datagram_info(native_handle_type h, unsigned what, bool on) noexcept {
    ::sockaddr_storage self{};
    socklen_type length = sizeof self;
    if (::getsockname(h, reinterpret_cast<::sockaddr*>(&self), &length) != 0) return last_error();
    const int domain = self.ss_family;
    if (domain != AF_INET && domain != AF_INET6) return errc::not_supported;
    const int value = on ? 1 : 0;
    auto set = [&](int level, int name) { return set_socket_option(h, level, name, &value, sizeof value); };
    auto both = [&](int v4_name, int v6_name) -> std::error_code {
        if (v4_name == 0 || v6_name == 0) return errc::not_supported;
        if (domain == AF_INET) return set(IPPROTO_IP, v4_name);
        if (auto ec = set(IPPROTO_IPV6, v6_name)) return ec;
        (void)set(IPPROTO_IP, v4_name);
        return {};
    };
    std::error_code ec;
    if ((what & info_destination) != 0 && (ec = both(info_v4_destination, info_v6_destination))) return ec;
    if ((what & info_tos) != 0 && (ec = both(info_v4_tos, info_v6_tos))) return ec;
    if ((what & info_ttl) != 0 && (ec = both(info_v4_ttl, info_v6_ttl))) return ec;
    if ((what & info_timestamp) != 0) {
#if defined(SOCKFRAME_POSIX) && defined(SO_TIMESTAMPNS)
        ec = set(SOL_SOCKET, SO_TIMESTAMPNS);
#elif defined(SOCKFRAME_POSIX) && defined(SO_TIMESTAMP)
        ec = set(SOL_SOCKET, SO_TIMESTAMP);
#else
        ec = errc::not_supported;
#endif
        if (ec) return ec;
    }
    return {};
}

#if defined(SOCKFRAME_POSIX)
SOCKFRAME_DECL int control_int(const ::cmsghdr* c) noexcept {
    const std::size_t length = c->cmsg_len - CMSG_LEN(0);
    if (length >= sizeof(int)) {
        int v;
        std::memcpy(&v, CMSG_DATA(c), sizeof v);
        return v;
    }
    if (length >= 1) return *CMSG_DATA(c);
    return -1;
}
#endif

SOCKFRAME_DECL void parse_datagram_control(void* control, std::size_t length,
                                           datagram_control& out) noexcept {
    out = datagram_control{};
#if defined(SOCKFRAME_POSIX)
    if (control == nullptr || length == 0) return;
    ::msghdr msg{};
    msg.msg_control = control;
    msg.msg_controllen = convert<decltype(msg.msg_controllen)>(length);
    for (::cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        const std::size_t data_length = c->cmsg_len - CMSG_LEN(0);
        if (c->cmsg_level == IPPROTO_IP) {
#if defined(IP_PKTINFO) && defined(SOCKFRAME_LINUX)
            if (c->cmsg_type == IP_PKTINFO && data_length >= sizeof(::in_pktinfo)) {
                ::in_pktinfo info;
                std::memcpy(&info, CMSG_DATA(c), sizeof info);
                out.destination.v4 = ::sockaddr_in{};
                out.destination.v4.sin_family = AF_INET;
                out.destination.v4.sin_addr = info.ipi_addr;
                out.destination_length = sizeof(::sockaddr_in);
                out.interface_index = convert<std::uint32_t>(info.ipi_ifindex);
            }
#endif
#if defined(IP_TOS)
            if (c->cmsg_type == IP_TOS) out.tos = control_int(c) & 0xff;
#endif
#if defined(IP_TTL)
            if (c->cmsg_type == IP_TTL) out.ttl = control_int(c);
#endif
#if defined(IP_RECVTTL) && !defined(SOCKFRAME_LINUX)
            if (c->cmsg_type == IP_RECVTTL) out.ttl = *CMSG_DATA(c);  // BSD: a byte
#endif
        } else if (c->cmsg_level == IPPROTO_IPV6) {
#if defined(IPV6_PKTINFO)
            if (c->cmsg_type == IPV6_PKTINFO && data_length >= sizeof(::in6_pktinfo)) {
                ::in6_pktinfo info;
                std::memcpy(&info, CMSG_DATA(c), sizeof info);
                out.destination.v6 = ::sockaddr_in6{};
                out.destination.v6.sin6_family = AF_INET6;
                out.destination.v6.sin6_addr = info.ipi6_addr;
                out.destination_length = sizeof(::sockaddr_in6);
                out.interface_index = convert<std::uint32_t>(info.ipi6_ifindex);
            }
#endif
#if defined(IPV6_TCLASS)
            if (c->cmsg_type == IPV6_TCLASS) out.tos = control_int(c) & 0xff;
#endif
#if defined(IPV6_HOPLIMIT)
            if (c->cmsg_type == IPV6_HOPLIMIT) out.ttl = control_int(c);
#endif
        } else if (c->cmsg_level == SOL_SOCKET) {
#if defined(SCM_TIMESTAMPNS)
            if (c->cmsg_type == SCM_TIMESTAMPNS && data_length >= sizeof(::timespec)) {
                ::timespec t;
                std::memcpy(&t, CMSG_DATA(c), sizeof t);
                out.seconds = t.tv_sec;
                out.nanoseconds = t.tv_nsec;
                out.has_timestamp = true;
            }
#endif
#if defined(SCM_TIMESTAMP)
            if (c->cmsg_type == SCM_TIMESTAMP && data_length >= sizeof(::timeval)) {
                ::timeval t;
                std::memcpy(&t, CMSG_DATA(c), sizeof t);
                out.seconds = t.tv_sec;
                out.nanoseconds = convert<std::int64_t>(t.tv_usec) * 1000;
                out.has_timestamp = true;
            }
#endif
            if (c->cmsg_type == SCM_RIGHTS) {
                const std::size_t n = data_length / sizeof(int);
                for (std::size_t i = 0; i < n; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    ::close(fd);
                }
            }
        }
#if defined(SOCKFRAME_LINUX) && defined(UDP_GRO)
        else if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
            const int size = control_int(c);
            if (size > 0 && size <= 65535) out.segment_size = static_cast<std::uint16_t>(size);
        }
#endif
    }
#elif defined(SOCKFRAME_WINDOWS)
    if (control == nullptr || length == 0) return;
    ::WSAMSG msg{};
    msg.Control.buf = static_cast<char*>(control);
    msg.Control.len = static_cast<ULONG>(length);
    for (::WSACMSGHDR* c = WSA_CMSG_FIRSTHDR(&msg); c != nullptr; c = WSA_CMSG_NXTHDR(&msg, c)) {
        const std::size_t data_length = c->cmsg_len - WSA_CMSG_LEN(0);
        auto number = [&]() -> int {  // TOS, traffic class and hop limits arrive as ints
            int v = -1;
            if (data_length >= sizeof v) std::memcpy(&v, WSA_CMSG_DATA(c), sizeof v);
            return v;
        };
        if (c->cmsg_level == IPPROTO_IP) {
            if (c->cmsg_type == IP_PKTINFO && data_length >= sizeof(::IN_PKTINFO)) {
                ::IN_PKTINFO info;
                std::memcpy(&info, WSA_CMSG_DATA(c), sizeof info);
                out.destination.v4 = ::sockaddr_in{};
                out.destination.v4.sin_family = AF_INET;
                out.destination.v4.sin_addr = info.ipi_addr;
                out.destination_length = sizeof(::sockaddr_in);
                out.interface_index = static_cast<std::uint32_t>(info.ipi_ifindex);
            } else if (c->cmsg_type == IP_TOS) {
                const int v = number();
                if (v >= 0) out.tos = v & 0xff;
            } else if (c->cmsg_type == IP_HOPLIMIT || c->cmsg_type == IP_TTL) {  // wine says IP_TTL
                out.ttl = number();
            }
        } else if (c->cmsg_level == IPPROTO_IPV6) {
            if (c->cmsg_type == IPV6_PKTINFO && data_length >= sizeof(::IN6_PKTINFO)) {
                ::IN6_PKTINFO info;
                std::memcpy(&info, WSA_CMSG_DATA(c), sizeof info);
                out.destination.v6 = ::sockaddr_in6{};
                out.destination.v6.sin6_family = AF_INET6;
                out.destination.v6.sin6_addr = info.ipi6_addr;
                out.destination_length = sizeof(::sockaddr_in6);
                out.interface_index = static_cast<std::uint32_t>(info.ipi6_ifindex);
            } else if (c->cmsg_type == IPV6_TCLASS) {
                const int v = number();
                if (v >= 0) out.tos = v & 0xff;
            } else if (c->cmsg_type == IPV6_HOPLIMIT) {
                out.ttl = number();
            }
        }
    }
#else
    (void)control;
    (void)length;
#endif
}

SOCKFRAME_DECL std::size_t source_control(void* buffer, std::size_t capacity, const ::sockaddr* source,
                                          std::uint32_t interface_index) noexcept {
#if defined(SOCKFRAME_POSIX)
    std::memset(buffer, 0, capacity);
    ::msghdr msg{};
    msg.msg_control = buffer;
    if (source->sa_family == AF_INET) {
#if defined(IP_PKTINFO) && defined(SOCKFRAME_LINUX)
        if (capacity < CMSG_SPACE(sizeof(::in_pktinfo))) return 0;
        msg.msg_controllen = CMSG_SPACE(sizeof(::in_pktinfo));
        ::cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(::in_pktinfo));
        ::in_pktinfo info{};
        ::sockaddr_in v4;
        std::memcpy(&v4, source, sizeof v4);
        info.ipi_spec_dst = v4.sin_addr;
        info.ipi_ifindex = static_cast<int>(interface_index);
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
        return CMSG_SPACE(sizeof(::in_pktinfo));
#else
        return 0;
#endif
    }
    if (source->sa_family == AF_INET6) {
#if defined(IPV6_PKTINFO)
        if (capacity < CMSG_SPACE(sizeof(::in6_pktinfo))) return 0;
        msg.msg_controllen = CMSG_SPACE(sizeof(::in6_pktinfo));
        ::cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(::in6_pktinfo));
        ::in6_pktinfo info{};
        ::sockaddr_in6 v6;
        std::memcpy(&v6, source, sizeof v6);
        info.ipi6_addr = v6.sin6_addr;
        info.ipi6_ifindex = interface_index;
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
        return CMSG_SPACE(sizeof(::in6_pktinfo));
#else
        return 0;
#endif
    }
    return 0;
#elif defined(SOCKFRAME_WINDOWS)
    std::memset(buffer, 0, capacity);
    ::WSAMSG msg{};
    msg.Control.buf = static_cast<char*>(buffer);
    auto put = [&](int level, int type, const void* data, std::size_t size) -> std::size_t {
        if (capacity < WSA_CMSG_SPACE(size)) return 0;
        msg.Control.len = static_cast<ULONG>(WSA_CMSG_SPACE(size));
        ::WSACMSGHDR* c = WSA_CMSG_FIRSTHDR(&msg);
        c->cmsg_level = level;
        c->cmsg_type = type;
        c->cmsg_len = WSA_CMSG_LEN(size);
        std::memcpy(WSA_CMSG_DATA(c), data, size);
        return WSA_CMSG_SPACE(size);
    };
    if (source->sa_family == AF_INET) {
        ::IN_PKTINFO info{};
        ::sockaddr_in v4;
        std::memcpy(&v4, source, sizeof v4);
        info.ipi_addr = v4.sin_addr;  // on a send: the source address
        info.ipi_ifindex = interface_index;
        return put(IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
    }
    if (source->sa_family == AF_INET6) {
        ::IN6_PKTINFO info{};
        ::sockaddr_in6 v6;
        std::memcpy(&v6, source, sizeof v6);
        info.ipi6_addr = v6.sin6_addr;
        info.ipi6_ifindex = interface_index;
        return put(IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof info);
    }
    return 0;
#else
    (void)buffer;
    (void)capacity;
    (void)source;
    (void)interface_index;
    return 0;
#endif
}

#if defined(SOCKFRAME_POSIX)
SOCKFRAME_DECL std::size_t rights_control(void* buffer, std::size_t capacity, const int* fds,
                                          std::size_t count) noexcept {
    if (count == 0 || count > max_passed_descriptors || CMSG_SPACE(count * sizeof(int)) > capacity) return 0;
    std::memset(buffer, 0, CMSG_SPACE(count * sizeof(int)));
    ::msghdr msg{};
    msg.msg_control = buffer;
    msg.msg_controllen = convert<decltype(msg.msg_controllen)>(CMSG_SPACE(count * sizeof(int)));
    ::cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = convert<decltype(c->cmsg_len)>(CMSG_LEN(count * sizeof(int)));
    std::memcpy(CMSG_DATA(c), fds, count * sizeof(int));
    return CMSG_SPACE(count * sizeof(int));
}
#endif

#if defined(SOCKFRAME_POSIX)
SOCKFRAME_DECL std::size_t take_rights(void* control, std::size_t length, int* out, std::size_t capacity,
                                       std::size_t& count) noexcept {
    std::size_t closed = 0;
    if (control == nullptr || length == 0) return 0;
    ::msghdr msg{};
    msg.msg_control = control;
    msg.msg_controllen = convert<decltype(msg.msg_controllen)>(length);
    for (::cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < n; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (count < capacity) {
                out[count++] = fd;
            } else {
                ::close(fd);
                ++closed;
            }
        }
    }
    return closed;
}
#endif

SOCKFRAME_DECL std::error_code peer_credentials(native_handle_type h, long& pid, long& uid,
                                                long& gid) noexcept {
    pid = uid = gid = -1;
#if defined(SOCKFRAME_POSIX)
    ::sockaddr_storage self{};
    socklen_type self_length = sizeof self;
    if (::getsockname(h, reinterpret_cast<::sockaddr*>(&self), &self_length) != 0) return last_error();
    if (self.ss_family != AF_UNIX) return errc::not_supported;  // only Unix sockets know their peer
#endif
#if defined(SOCKFRAME_LINUX) && defined(SO_PEERCRED)
    ::ucred cred{};
    ::socklen_t length = sizeof cred;
    if (::getsockopt(h, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return last_error();
    pid = cred.pid;
    uid = static_cast<long>(cred.uid);
    gid = static_cast<long>(cred.gid);
    return {};
#elif defined(SOCKFRAME_BSD)
    ::uid_t u;
    ::gid_t g;
    if (::getpeereid(h, &u, &g) != 0) return last_error();
    uid = static_cast<long>(u);
    gid = static_cast<long>(g);
    return {};
#else
    (void)h;
    return errc::not_supported;
#endif
}

SOCKFRAME_DECL int socket_domain(native_handle_type h, std::error_code& ec) noexcept {
    ::sockaddr_storage self{};
    socklen_type length = sizeof self;
    if (::getsockname(h, reinterpret_cast<::sockaddr*>(&self), &length) != 0) {
        ec = last_error();
        return -1;
    }
    ec.clear();
    return self.ss_family;
}

SOCKFRAME_DECL std::error_code multicast_membership(native_handle_type h, bool join, const ::sockaddr* group,
                                                    socklen_type group_length, const ::sockaddr* source,
                                                    socklen_type source_length,
                                                    std::uint32_t interface_index) noexcept {
#if defined(MCAST_JOIN_GROUP) && defined(MCAST_JOIN_SOURCE_GROUP)
    const int level = group->sa_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    if (group->sa_family != AF_INET && group->sa_family != AF_INET6) return errc::invalid_argument;
    if (source == nullptr) {
        ::group_req request{};
        request.gr_interface = interface_index;
        std::memcpy(&request.gr_group, group, static_cast<std::size_t>(group_length));
        return set_socket_option(h, level, join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP, &request,
                                 sizeof request);
    }
    if (source->sa_family != group->sa_family) return errc::invalid_argument;
    ::group_source_req request{};
    request.gsr_interface = interface_index;
    std::memcpy(&request.gsr_group, group, static_cast<std::size_t>(group_length));
    std::memcpy(&request.gsr_source, source, static_cast<std::size_t>(source_length));
    return set_socket_option(h, level, join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP, &request,
                             sizeof request);
#else
    (void)h;
    (void)join;
    (void)group;
    (void)group_length;
    (void)source;
    (void)source_length;
    (void)interface_index;
    return errc::not_supported;
#endif
}

SOCKFRAME_DECL std::error_code set_multicast(native_handle_type h, multicast_setting what,
                                             std::uint32_t value) noexcept {
    std::error_code ec;
    const int domain = socket_domain(h, ec);
    if (ec) return ec;
    if (domain != AF_INET && domain != AF_INET6) return errc::not_supported;
    auto v4 = [&]() -> std::error_code {
        switch (what) {
            case multicast_setting::outgoing_interface: {
#if defined(SOCKFRAME_LINUX) || defined(__FreeBSD__)
                ::ip_mreqn request{};
                request.imr_ifindex = static_cast<int>(value);
                return set_socket_option(h, IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof request);
#elif defined(SOCKFRAME_WINDOWS)
                const DWORD index = htonl(value);  // 0.x.y.z: an interface index
                return set_socket_option(h, IPPROTO_IP, IP_MULTICAST_IF, &index, sizeof index);
#elif defined(IP_MULTICAST_IFINDEX)
                const unsigned int index = value;
                return set_socket_option(h, IPPROTO_IP, IP_MULTICAST_IFINDEX, &index, sizeof index);
#else
                return errc::not_supported;
#endif
            }
            case multicast_setting::hops:
            case multicast_setting::loopback: {
                const int name = what == multicast_setting::hops ? IP_MULTICAST_TTL : IP_MULTICAST_LOOP;
#if defined(SOCKFRAME_BSD)
                const unsigned char byte = static_cast<unsigned char>(value);
                return set_socket_option(h, IPPROTO_IP, name, &byte, sizeof byte);
#else
                const int v = static_cast<int>(value);
                return set_socket_option(h, IPPROTO_IP, name, &v, sizeof v);
#endif
            }
        }
        return errc::invalid_argument;
    };
    if (domain == AF_INET) return v4();
    int name = 0;
    switch (what) {
        case multicast_setting::outgoing_interface: name = IPV6_MULTICAST_IF; break;
        case multicast_setting::hops: name = IPV6_MULTICAST_HOPS; break;
        case multicast_setting::loopback: name = IPV6_MULTICAST_LOOP; break;
    }
    const int v = static_cast<int>(value);
    if ((ec = set_socket_option(h, IPPROTO_IPV6, name, &v, sizeof v))) return ec;
    (void)v4();
    return {};
}

SOCKFRAME_DECL std::size_t segment_control(void* buffer, std::size_t capacity, std::uint16_t size) noexcept {
#if defined(SOCKFRAME_LINUX) && defined(UDP_SEGMENT)
    if (capacity < CMSG_SPACE(sizeof(std::uint16_t))) return 0;
    std::memset(buffer, 0, CMSG_SPACE(sizeof(std::uint16_t)));
    ::msghdr msg{};
    msg.msg_control = buffer;
    msg.msg_controllen = CMSG_SPACE(sizeof(std::uint16_t));
    ::cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_UDP;  // SOL_UDP
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    std::memcpy(CMSG_DATA(c), &size, sizeof size);
    return CMSG_SPACE(sizeof(std::uint16_t));
#else
    (void)buffer;
    (void)capacity;
    (void)size;
    return 0;
#endif
}

SOCKFRAME_DECL std::error_code set_udp_gro(native_handle_type h, bool on) noexcept {
#if defined(SOCKFRAME_LINUX) && defined(UDP_GRO)
    const int value = on ? 1 : 0;
    return set_socket_option(h, IPPROTO_UDP, UDP_GRO, &value, sizeof value);
#else
    (void)h;
    (void)on;
    return errc::not_supported;
#endif
}

#if defined(SOCKFRAME_WINDOWS)
SOCKFRAME_DECL HANDLE file_os_handle(file_handle_type file, std::error_code& ec) noexcept {
    const auto handle = file < 0 ? intptr_t{-1} : ::_get_osfhandle(file);
    if (handle == -1 || handle == -2) {  // -2: a descriptor with no stream (a GUI program's stdin)
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return nullptr;
    }
    return reinterpret_cast<HANDLE>(handle);
}
#endif

SOCKFRAME_DECL std::int64_t file_size(file_handle_type file, std::error_code& ec) noexcept {
#if defined(SOCKFRAME_POSIX)
    struct ::stat st {};
    if (::fstat(file, &st) != 0) {
        ec = last_error();
        return -1;
    }
    ec.clear();
    return convert<std::int64_t>(st.st_size);
#else
    ec.clear();
    const HANDLE handle = file_os_handle(file, ec);
    if (ec) return -1;
    ::LARGE_INTEGER size{};
    if (!::GetFileSizeEx(handle, &size)) {
        ec = last_system_error();
        return -1;
    }
    return size.QuadPart;
#endif
}

SOCKFRAME_DECL std::ptrdiff_t send_file_once(native_handle_type h, file_handle_type file, std::int64_t offset,
                                             std::size_t count, int flags, std::error_code& ec) noexcept {
#if defined(SOCKFRAME_LINUX)
    (void)flags;  // sendfile has no per-call flags: MSG_DONTWAIT is emulated by the caller's poll
    return retry_interrupted(ec, [&] {
        ::off_t at = convert<::off_t>(offset);
        return ::sendfile(h, file, &at, count > 0x7ffff000 ? 0x7ffff000 : count);
    });
#elif defined(SOCKFRAME_POSIX)
    char bounce[65536];
    const std::size_t want = count < sizeof bounce ? count : sizeof bounce;
    const auto got =
        retry_interrupted(ec, [&] { return ::pread(file, bounce, want, convert<::off_t>(offset)); });
    if (got <= 0) return got;
    return send_once(h, bounce, static_cast<std::size_t>(got), flags, ec);
#else
    const HANDLE handle = file_os_handle(file, ec);
    if (ec) return -1;
    char bounce[65536];
    const DWORD want = count < sizeof bounce ? static_cast<DWORD>(count) : static_cast<DWORD>(sizeof bounce);
    ::OVERLAPPED at{};  // on a handle opened without FILE_FLAG_OVERLAPPED: a positioned, waiting read
    at.Offset = static_cast<DWORD>(static_cast<std::uint64_t>(offset) & 0xffffffffu);
    at.OffsetHigh = static_cast<DWORD>(static_cast<std::uint64_t>(offset) >> 32);
    DWORD got = 0;
    if (!::ReadFile(handle, bounce, want, &got, &at)) {
        if (::GetLastError() == ERROR_HANDLE_EOF) return 0;
        ec = last_system_error();
        return -1;
    }
    if (got == 0) return 0;
    return send_once(h, bounce, got, flags, ec);
#endif
}

SOCKFRAME_DECL std::ptrdiff_t send_file_waiting(native_handle_type h, file_handle_type file,
                                                std::int64_t offset, std::size_t count,
                                                std::error_code& ec) noexcept {
#if defined(SOCKFRAME_WINDOWS)
    const HANDLE handle = file_os_handle(file, ec);
    if (ec) return -1;
    std::error_code lookup;
    LPFN_TRANSMITFILE transmit = count > 0 ? transmit_file_function(h, lookup) : nullptr;  // 0: whole file
    if (transmit == nullptr) return send_file_once(h, file, offset, count, 0, ec);
    const DWORD n = count > 0x7ffffffeu ? DWORD{0x7ffffffe} : static_cast<DWORD>(count);
    ::OVERLAPPED at{};  // the file offset; on an overlapped socket also the completion's event
    at.Offset = static_cast<DWORD>(static_cast<std::uint64_t>(offset) & 0xffffffffu);
    at.OffsetHigh = static_cast<DWORD>(static_cast<std::uint64_t>(offset) >> 32);
    at.hEvent = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (at.hEvent == nullptr) {
        ec = last_system_error();
        return -1;
    }
    DWORD sent = n;
    if (!transmit(h, handle, n, 0, &at, nullptr, 0)) {
        DWORD ignored = 0;
        if (::WSAGetLastError() != WSA_IO_PENDING ||
            !::WSAGetOverlappedResult(h, &at, &sent, TRUE, &ignored)) {
            ec = last_error();
            ::CloseHandle(at.hEvent);
            return -1;
        }
    }
    ::CloseHandle(at.hEvent);
    return static_cast<std::ptrdiff_t>(sent);
#else
    return send_file_once(h, file, offset, count, 0, ec);
#endif
}

#endif  // SOCKFRAME_HEADER_BODIES

}  // namespace detail
SOCKFRAME_NAMESPACE_END
