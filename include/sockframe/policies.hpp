// SPDX-License-Identifier: MIT
#pragma once
/// The policies a socket is made of: family (ipv4, ipv6, ip, any_family, local), type (stream, datagram,
/// seqpacket, raw) and mode (blocking, non_blocking). A user-written policy with the same members
/// plugs into basic_socket like these.

#include <sockframe/address.hpp>
#include <sockframe/detail/os.hpp>

#include <type_traits>

SOCKFRAME_NAMESPACE_BEGIN

/// Family: IPv4 (AF_INET).
struct ipv4 {
    /// The family's address type.
    using address_type = ipv4_address;
    /// The AF_ constant.
    static int domain() noexcept { return AF_INET; }
};
/// Family: IPv6 (AF_INET6).
struct ipv6 {
    /// The family's address type.
    using address_type = ipv6_address;
    /// The AF_ constant.
    static int domain() noexcept { return AF_INET6; }
};
/// Family: IPv4 or IPv6, chosen at run time from the address (a resolved name, a parsed text).
/// A socket opened without an address (open()) is IPv6; a listener bound to :: serves both
/// families (IPV6_V6ONLY off unless listen_options::v6_only says otherwise).
struct ip {
    /// The family's address type.
    using address_type = ip_address;
    /// The AF_ constant of a socket opened without an address.
    static int domain() noexcept { return AF_INET6; }
    /// What resolve<ip> asks getaddrinfo for: both families.
    static int resolve_domain() noexcept { return AF_UNSPEC; }
    /// Listeners bound to :: accept IPv4 peers too (IPV6_V6ONLY off).
    static constexpr bool dual_stack_by_default = true;
};
/// Family: any address family, chosen at run time (IPv4, IPv6, Unix domain): the family of
/// any_stream and of a listener that may be bound to a TCP or a Unix address. open() without an
/// address is not possible (address_family_not_supported): open_for(address) or connect.
struct any_family {
    /// The family's address type.
    using address_type = any_address;
    /// AF_UNSPEC: the family comes from the address.
    static int domain() noexcept { return AF_UNSPEC; }
    /// What resolve<any_family> asks getaddrinfo for: both IP families.
    static int resolve_domain() noexcept { return AF_UNSPEC; }
    /// Listeners bound to :: accept IPv4 peers too (IPV6_V6ONLY off).
    static constexpr bool dual_stack_by_default = true;
};

#if defined(SOCKFRAME_HAS_AF_UNIX)
/// Family: Unix domain (AF_UNIX), paths and Linux abstract names.
struct local {
    /// The family's address type.
    using address_type = local_address;
    /// The AF_ constant.
    static int domain() noexcept { return AF_UNIX; }
};
#endif

/// Type: a reliable byte stream (SOCK_STREAM); no message boundaries.
struct stream {
    /// The SOCK_ constant.
    static int value() noexcept { return SOCK_STREAM; }
    /// Whether each receive is one whole message.
    static constexpr bool message_oriented = false;
    /// Whether the socket connects to one peer (accept, end-of-stream).
    static constexpr bool connection_oriented = true;
};
/// Type: datagrams (SOCK_DGRAM); each send is one message, delivered whole or not at all.
struct datagram {
    /// The SOCK_ constant.
    static int value() noexcept { return SOCK_DGRAM; }
    /// Whether each receive is one whole message.
    static constexpr bool message_oriented = true;
    /// Whether the socket connects to one peer (accept, end-of-stream).
    static constexpr bool connection_oriented = false;
};
/// Type: reliable, ordered, connection-oriented messages (SOCK_SEQPACKET; Unix domain on Linux).
struct seqpacket {
#if defined(SOCK_SEQPACKET)
    /// The SOCK_ constant.
    static int value() noexcept { return SOCK_SEQPACKET; }
#else
    static int value() noexcept { return -1; }
#endif
    /// Whether each receive is one whole message.
    static constexpr bool message_oriented = true;
    /// Whether the socket connects to one peer (accept, end-of-stream).
    static constexpr bool connection_oriented = true;
};
/// Type: raw packets (SOCK_RAW); give the protocol when opening, usually needs privileges.
struct raw {
    /// The SOCK_ constant.
    static int value() noexcept { return SOCK_RAW; }
    /// Whether each receive is one whole message.
    static constexpr bool message_oriented = true;
    /// Whether the socket connects to one peer (accept, end-of-stream).
    static constexpr bool connection_oriented = false;
};

/// Mode: calls wait (up to the socket's timeout or the call's deadline).
struct blocking {
    /// Calls wait.
    static constexpr bool is_blocking = true;
};
/// Mode: calls never wait; "not now" is std::errc::operation_would_block.
struct non_blocking {
    /// Calls never wait.
    static constexpr bool is_blocking = false;
};

namespace detail {
template <typename Family, typename = void>
struct has_resolve_domain : std::false_type {};
template <typename Family>
struct has_resolve_domain<Family, std::void_t<decltype(Family::resolve_domain())>> : std::true_type {};
/// The address family resolve<Family> asks for: the family's optional resolve_domain(), else
/// its domain().
template <typename Family>
int resolve_domain() noexcept {
    if constexpr (has_resolve_domain<Family>::value)
        return Family::resolve_domain();
    else
        return Family::domain();
}

/// Whether addresses of `From` convert to those of `To` (ipv4 -> ip -> any_family, ...): a
/// socket of family `From` may then become one of family `To`.
template <typename From, typename To>
inline constexpr bool family_converts_v =
    !std::is_same_v<From, To> &&
    std::is_convertible_v<const typename From::address_type&, typename To::address_type>;

template <typename Family, typename = void>
struct has_dual_stack_default : std::false_type {};
template <typename Family>
struct has_dual_stack_default<Family, std::void_t<decltype(Family::dual_stack_by_default)>> : std::true_type {
};
/// Whether a listener of `Family` on an IPv6 address turns IPV6_V6ONLY off unless told otherwise
/// (a family's optional `dual_stack_by_default` member; false without it).
template <typename Family>
constexpr bool dual_stack_by_default() noexcept {
    if constexpr (has_dual_stack_default<Family>::value)
        return Family::dual_stack_by_default;
    else
        return false;
}
}  // namespace detail

SOCKFRAME_NAMESPACE_END
