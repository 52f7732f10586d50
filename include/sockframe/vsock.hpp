// SPDX-License-Identifier: MIT
#pragma once
/// vsock (Linux AF_VSOCK): sockets between a virtual machine and its host, addressed by a context
/// id (CID) and a port. A family policy like ipv4 or local: `basic_socket<vsock, stream>`
/// (vsock_stream), `basic_listener<vsock>` (vsock_listener), framed over them as over TCP.
/// Absent where the system has no AF_VSOCK (SOCKFRAME_HAS_VSOCK undefined).

#include <sockframe/detail/os.hpp>
#include <sockframe/listener.hpp>
#include <sockframe/socket.hpp>

#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <string>

#if defined(SOCKFRAME_HAS_VSOCK)

SOCKFRAME_NAMESPACE_BEGIN

/// A vsock address: a context id (who) and a port. Default: any CID, any port.
class vsock_address {
public:
    /// Any context id (bind: every one this machine has).
    static constexpr std::uint32_t any_cid = VMADDR_CID_ANY;
    /// The host, seen from a virtual machine.
    static constexpr std::uint32_t host_cid = VMADDR_CID_HOST;
    /// This machine itself, through the loopback transport (Linux 5.6+, vsock_loopback).
    static constexpr std::uint32_t local_cid = 1;  // VMADDR_CID_LOCAL
    /// Any port (bind: one the kernel picks).
    static constexpr std::uint32_t any_port = VMADDR_PORT_ANY;

    vsock_address() noexcept : vsock_address(any_cid, any_port) {}
    /// The address `cid`:`port`.
    vsock_address(std::uint32_t cid, std::uint32_t port) noexcept {
        storage_.svm_family = AF_VSOCK;
        storage_.svm_cid = cid;
        storage_.svm_port = port;
    }
    /// This machine through the loopback transport, at `port`.
    static vsock_address local(std::uint32_t port = any_port) noexcept { return {local_cid, port}; }

    /// The context id.
    std::uint32_t cid() const noexcept { return storage_.svm_cid; }
    /// The port.
    std::uint32_t port() const noexcept { return storage_.svm_port; }
    /// "vsock:CID:PORT".
    std::string to_string() const { return "vsock:" + std::to_string(cid()) + ":" + std::to_string(port()); }

    /// The native sockaddr.
    const ::sockaddr* data() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    /// The native sockaddr.
    ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&storage_); }
    /// The native length.
    detail::socklen_type size() const noexcept { return static_cast<detail::socklen_type>(sizeof storage_); }
    /// The most a native vsock address takes.
    static constexpr detail::socklen_type capacity() noexcept {
        return static_cast<detail::socklen_type>(sizeof(::sockaddr_vm));
    }
    /// Checks an address the OS filled in.
    bool assign_native(detail::socklen_type length) noexcept {
        return length >= static_cast<detail::socklen_type>(sizeof storage_) &&
               storage_.svm_family == AF_VSOCK;
    }

    /// Same CID and port.
    friend bool operator==(const vsock_address& a, const vsock_address& b) noexcept {
        return a.cid() == b.cid() && a.port() == b.port();
    }
    /// Not equal.
    friend bool operator!=(const vsock_address& a, const vsock_address& b) noexcept { return !(a == b); }
    /// Prints to_string().
    template <typename Char, typename Traits>
    friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os,
                                                        const vsock_address& a) {
        return os << a.to_string();
    }

private:
    ::sockaddr_vm storage_{};
};

/// Family: vsock (AF_VSOCK, Linux).
struct vsock {
    using address_type = vsock_address;
    static int domain() noexcept { return AF_VSOCK; }
};

/// A vsock stream socket.
using vsock_stream = basic_socket<vsock, stream>;
/// A listener for vsock streams.
using vsock_listener = basic_listener<vsock, stream>;

SOCKFRAME_NAMESPACE_END

#endif
